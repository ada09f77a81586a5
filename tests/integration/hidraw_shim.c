/*
 * tests/integration/hidraw_shim.c — an LD_PRELOAD library that stands in
 * for the kernel's hidraw where there is no uhid to make a real device
 * (a kernel without CONFIG_UHID): an open() of $HIDRAW_SHIM_PATH connects
 * to relay_board's socket ($HIDRAW_SHIM_SOCKET) instead, and the hidraw
 * ioctls on that descriptor (HIDIOCGRDESCSIZE, HIDIOCGRAWINFO,
 * HIDIOCSFEATURE, HIDIOCGFEATURE) go to the board as the kernel would
 * hand them to the device: the whole buffer, its report number first.
 * No board listening is a missing device node (ENOENT), a board gone
 * after the open a removed device (ENODEV), as hidraw answers.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <linux/hidraw.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/relay_board.h"

#define SHIM_FDS	1024

static unsigned char shim_fd[SHIM_FDS];

int	 open(const char *, int, ...);
int	 open64(const char *, int, ...);
int	 ioctl(int, unsigned long, ...);
int	 close(int);

static int
shim_open(const char *path)
{
	const char *want = getenv("HIDRAW_SHIM_PATH");
	const char *sock = getenv("HIDRAW_SHIM_SOCKET");
	struct sockaddr_un sun;
	int fd;

	if (want == NULL || sock == NULL || strcmp(path, want) != 0)
		return -2;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    fd >= SHIM_FDS) {
		int (*real_close)(int) = (int (*)(int))dlsym(RTLD_NEXT,
		    "close");

		real_close(fd);
		errno = ENOENT;
		return -1;
	}
	shim_fd[fd] = 1;
	return fd;
}

int
open(const char *path, int flags, ...)
{
	int (*real)(const char *, int, ...) =
	    (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	mode_t mode = 0;
	va_list ap;
	int fd;

	if ((fd = shim_open(path)) != -2)
		return fd;
	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = va_arg(ap, mode_t);
	va_end(ap);
	return real(path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	int (*real)(const char *, int, ...) =
	    (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
	mode_t mode = 0;
	va_list ap;
	int fd;

	if ((fd = shim_open(path)) != -2)
		return fd;
	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = va_arg(ap, mode_t);
	va_end(ap);
	return real(path, flags, mode);
}

/* One report to the board and its answer. Its size, or -1. */
static int
shim_report(int fd, int op, unsigned char *buf, size_t len)
{
	struct board_msg m;
	ssize_t n;

	if (len > BOARD_MSG_MAX) {
		errno = EINVAL;
		return -1;
	}
	memset(&m, 0, sizeof(m));
	m.op = op;
	m.len = (uint32_t)len;
	memcpy(m.data, buf, len);
	if (send(fd, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m) ||
	    (n = recv(fd, &m, sizeof(m), 0)) != (ssize_t)sizeof(m)) {
		errno = ENODEV;
		return -1;
	}
	if (m.rc < 0) {
		errno = -m.rc;
		return -1;
	}
	if (op == BOARD_GET)
		memcpy(buf, m.data, m.rc < (int)len ? (size_t)m.rc : len);
	return m.rc;
}

int
ioctl(int fd, unsigned long req, ...)
{
	int (*real)(int, unsigned long, ...) =
	    (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd < 0 || fd >= SHIM_FDS || !shim_fd[fd])
		return real(fd, req, arg);
	if (req == HIDIOCGRDESCSIZE) {
		*(int *)arg = BOARD_RDESC_SIZE;
		return 0;
	}
	if (req == HIDIOCGRAWINFO) {
		struct hidraw_devinfo *info = arg;

		info->bustype = 3;	/* BUS_USB */
		info->vendor = 0x16c0;
		info->product = 0x05df;
		return 0;
	}
	if (_IOC_TYPE(req) == 'H' && _IOC_NR(req) == 0x06)
		return shim_report(fd, BOARD_SET, arg, _IOC_SIZE(req));
	if (_IOC_TYPE(req) == 'H' && _IOC_NR(req) == 0x07)
		return shim_report(fd, BOARD_GET, arg, _IOC_SIZE(req));
	errno = ENOTTY;
	return -1;
}

int
close(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "close");

	if (fd >= 0 && fd < SHIM_FDS)
		shim_fd[fd] = 0;
	return real(fd);
}
