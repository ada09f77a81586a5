/*
 * tests/integration/relay_board.c — a USB HID relay board (16c0:05df
 * "USBRelayN") for the relay power test:
 *
 *	relay_board [--stuck] [--socket PATH] SERIAL CHANNELS LOG
 *
 * With the kernel's uhid (/dev/uhid) it creates a hidraw device with the
 * board's report descriptor (one vendor-defined feature report of 8
 * bytes) and prints "ready hidrawN"-like "ready" once the kernel started
 * it. With --socket (a kernel without uhid) it answers hidraw_shim's
 * reports on a SOCK_SEQPACKET socket at PATH instead; the reports are
 * the same. Either way a GET_REPORT is answered with the serial (bytes
 * 0-4) and the relays' state (byte 7), and a SET_REPORT of 0xFF CH
 * (relay CH on) or 0xFD CH (off) is applied, unless --stuck (a board
 * whose relays never move). Each report goes to LOG as "MS set cmd=0xNN
 * ch=N state=0xNN" or "MS get state=0xNN", MS a monotonic time in ms, so
 * that the test can measure the presses. SIGTERM stops it (the board
 * unplugged).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <linux/uhid.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/relay_board.h"

/* The descriptor of the boards' V-USB firmware. */
static const unsigned char rdesc[BOARD_RDESC_SIZE] = {
	0x06, 0x00, 0xff,	/* usage page (vendor defined 0xff00) */
	0x09, 0x01,		/* usage (vendor usage 1) */
	0xa1, 0x01,		/* collection (application) */
	0x15, 0x00,		/* logical minimum (0) */
	0x26, 0xff, 0x00,	/* logical maximum (255) */
	0x75, 0x08,		/* report size (8) */
	0x95, BOARD_REPORT_LEN,	/* report count (8) */
	0x09, 0x00,		/* usage (undefined) */
	0xb2, 0x02, 0x01,	/* feature (data, var, abs, buf) */
	0xc0,			/* end collection */
};

static volatile sig_atomic_t stop;
static const char *serial;
static int channels, stuck;
static unsigned state;
static FILE *boardlog;

static void
on_term(int sig)
{
	stop = 1;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A GET_REPORT: the 8 bytes of the report into out. Its size. */
static int
board_get(unsigned char *out)
{
	memset(out, 0, BOARD_REPORT_LEN);
	memcpy(out, serial, BOARD_SERIAL_LEN);
	out[BOARD_STATE_BYTE] = (unsigned char)state;
	fprintf(boardlog, "%ld get state=0x%02x\n", now_ms(), state);
	fflush(boardlog);
	return BOARD_REPORT_LEN;
}

/* A SET_REPORT, d[0] its report number (0). 0, or -errno. */
static int
board_set(const unsigned char *d, size_t len)
{
	int ch = len >= 3 ? d[2] : 0, rc = 0;

	if (len < 3 || ch < 1 || ch > channels ||
	    (d[1] != 0xff && d[1] != 0xfd))
		rc = -EINVAL;
	else if (!stuck && d[1] == 0xff)
		state |= 1u << (ch - 1);
	else if (!stuck)
		state &= ~(1u << (ch - 1));
	fprintf(boardlog, "%ld set cmd=0x%02x ch=%d state=0x%02x\n", now_ms(),
	    len >= 2 ? d[1] : 0, ch, state);
	fflush(boardlog);
	return rc;
}

static int
run_uhid(void)
{
	struct uhid_event ev;
	int fd;

	if ((fd = open("/dev/uhid", O_RDWR | O_CLOEXEC)) < 0) {
		perror("/dev/uhid");
		return 1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = UHID_CREATE2;
	snprintf((char *)ev.u.create2.name, sizeof(ev.u.create2.name),
	    "www.dcttech.com USBRelay%d", channels);
	snprintf((char *)ev.u.create2.uniq, sizeof(ev.u.create2.uniq), "%s",
	    serial);
	ev.u.create2.rd_size = sizeof(rdesc);
	ev.u.create2.bus = 0x03;	/* BUS_USB */
	ev.u.create2.vendor = 0x16c0;
	ev.u.create2.product = 0x05df;
	memcpy(ev.u.create2.rd_data, rdesc, sizeof(rdesc));
	if (write(fd, &ev, sizeof(ev)) != (ssize_t)sizeof(ev)) {
		perror("UHID_CREATE2");
		return 1;
	}
	while (!stop) {
		struct pollfd p = { fd, POLLIN, 0 };
		struct uhid_event in, out;

		if (poll(&p, 1, 200) <= 0)
			continue;
		if (read(fd, &in, sizeof(in)) <= 0)
			break;
		memset(&out, 0, sizeof(out));
		if (in.type == UHID_START) {
			printf("ready\n");
			fflush(stdout);
		} else if (in.type == UHID_GET_REPORT) {
			out.type = UHID_GET_REPORT_REPLY;
			out.u.get_report_reply.id = in.u.get_report.id;
			out.u.get_report_reply.size =
			    board_get(out.u.get_report_reply.data);
			if (write(fd, &out, sizeof(out)) < 0)
				break;
		} else if (in.type == UHID_SET_REPORT) {
			out.type = UHID_SET_REPORT_REPLY;
			out.u.set_report_reply.id = in.u.set_report.id;
			out.u.set_report_reply.err = -board_set(
			    in.u.set_report.data, in.u.set_report.size);
			if (write(fd, &out, sizeof(out)) < 0)
				break;
		}
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = UHID_DESTROY;
	if (write(fd, &ev, sizeof(ev)) < 0)
		perror("UHID_DESTROY");
	close(fd);
	return 0;
}

static int
run_socket(const char *path)
{
	struct sockaddr_un sun;
	int lfd, cfd = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	if ((lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(lfd, 4) != 0) {
		perror(path);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p = { cfd >= 0 ? cfd : lfd, POLLIN, 0 };
		struct board_msg m;
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		if (cfd < 0) {
			cfd = accept(lfd, NULL, NULL);
			continue;
		}
		n = recv(cfd, &m, sizeof(m), 0);
		if (n != (ssize_t)sizeof(m) || m.len > BOARD_MSG_MAX) {
			close(cfd);	/* the other end closed the device */
			cfd = -1;
			continue;
		}
		if (m.op == BOARD_GET && m.len >= BOARD_REPORT_LEN) {
			unsigned char r[BOARD_REPORT_LEN];

			m.rc = board_get(r);
			memcpy(m.data, r, sizeof(r));
		} else if (m.op == BOARD_SET)
			m.rc = board_set(m.data, m.len) == 0 ? (int)m.len :
			    -EINVAL;
		else
			m.rc = -EINVAL;
		if (send(cfd, &m, sizeof(m), MSG_NOSIGNAL) < 0) {
			close(cfd);
			cfd = -1;
		}
	}
	unlink(path);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *sock = NULL;
	int i = 1;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++)
		if (strcmp(argv[i], "--stuck") == 0)
			stuck = 1;
		else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			sock = argv[++i];
	if (argc - i != 3 || strlen(argv[i]) != BOARD_SERIAL_LEN) {
		fprintf(stderr, "usage: relay_board [--stuck] [--socket PATH] "
		    "SERIAL(5) CHANNELS LOG\n");
		return 2;
	}
	serial = argv[i];
	channels = atoi(argv[i + 1]);
	if ((boardlog = fopen(argv[i + 2], "a")) == NULL) {
		perror(argv[i + 2]);
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	return sock != NULL ? run_socket(sock) : run_uhid();
}
