/* images/file.c — reading a small file whole (see images/file.h). */
#include "images/file.h"

#include <errno.h>
#include <unistd.h>

size_t
read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}
