/*
 * tests/integration/relay_board.c — a USB HID relay board (16c0:05df
 * "USBRelayN") made with the kernel's uhid, for the relay power test:
 *
 *	relay_board SERIAL CHANNELS LOG
 *
 * It creates a hidraw device with the board's report descriptor (one
 * vendor-defined feature report of 8 bytes), answers a GET_REPORT with
 * the serial (bytes 0-4) and the relays' state (byte 7), and applies a
 * SET_REPORT of 0xFF CH (relay CH on) or 0xFD CH (off). Each report goes
 * to LOG as "MS set|get ... state=0xNN", MS a monotonic time in ms, so
 * that the test can measure the presses. Prints the hidraw device's
 * name ("ready") on stdout once the kernel has started it; stops on
 * SIGTERM (the board unplugged).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/uhid.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BOARD_REPORT_LEN	8
#define BOARD_SERIAL_LEN	5
#define BOARD_STATE_BYTE	7

/* The descriptor of the boards' V-USB firmware. */
static const unsigned char rdesc[] = {
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

static int
send_ev(int fd, const struct uhid_event *ev)
{
	return write(fd, ev, sizeof(*ev)) == (ssize_t)sizeof(*ev) ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct uhid_event ev;
	unsigned state = 0;
	int fd, channels;
	FILE *log;

	if (argc != 4 || strlen(argv[1]) != BOARD_SERIAL_LEN) {
		fprintf(stderr, "usage: relay_board SERIAL(5) CHANNELS LOG\n");
		return 2;
	}
	channels = atoi(argv[2]);
	if ((log = fopen(argv[3], "a")) == NULL) {
		perror(argv[3]);
		return 1;
	}
	if ((fd = open("/dev/uhid", O_RDWR | O_CLOEXEC)) < 0) {
		perror("/dev/uhid");
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	memset(&ev, 0, sizeof(ev));
	ev.type = UHID_CREATE2;
	snprintf((char *)ev.u.create2.name, sizeof(ev.u.create2.name),
	    "www.dcttech.com USBRelay%d", channels);
	snprintf((char *)ev.u.create2.uniq, sizeof(ev.u.create2.uniq), "%s",
	    argv[1]);
	ev.u.create2.rd_size = sizeof(rdesc);
	ev.u.create2.bus = 0x03;	/* BUS_USB */
	ev.u.create2.vendor = 0x16c0;
	ev.u.create2.product = 0x05df;
	memcpy(ev.u.create2.rd_data, rdesc, sizeof(rdesc));
	if (send_ev(fd, &ev) != 0) {
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
		switch (in.type) {
		case UHID_START:
			printf("ready\n");
			fflush(stdout);
			break;
		case UHID_GET_REPORT:
			out.type = UHID_GET_REPORT_REPLY;
			out.u.get_report_reply.id = in.u.get_report.id;
			out.u.get_report_reply.size = BOARD_REPORT_LEN;
			memcpy(out.u.get_report_reply.data, argv[1],
			    BOARD_SERIAL_LEN);
			out.u.get_report_reply.data[BOARD_STATE_BYTE] = state;
			fprintf(log, "%ld get state=0x%02x\n", now_ms(), state);
			fflush(log);
			send_ev(fd, &out);
			break;
		case UHID_SET_REPORT: {
			const unsigned char *d = in.u.set_report.data;
			int ch = in.u.set_report.size >= 3 ? d[2] : 0;

			out.type = UHID_SET_REPORT_REPLY;
			out.u.set_report_reply.id = in.u.set_report.id;
			/* data[0] is the report number (0). */
			if (ch >= 1 && ch <= channels && d[1] == 0xff)
				state |= 1u << (ch - 1);
			else if (ch >= 1 && ch <= channels && d[1] == 0xfd)
				state &= ~(1u << (ch - 1));
			else
				out.u.set_report_reply.err = EINVAL;
			fprintf(log, "%ld set cmd=0x%02x ch=%d state=0x%02x\n",
			    now_ms(), d[1], ch, state);
			fflush(log);
			send_ev(fd, &out);
			break;
		}
		default:
			break;
		}
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = UHID_DESTROY;
	send_ev(fd, &ev);
	close(fd);
	return 0;
}
