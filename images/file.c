/* images/file.c — reading a small file whole (see images/file.h). */
#include "images/file.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/fail.h"

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

int
read_whole_file(const char *path, size_t max_len, void **data, size_t *len,
    char *err, size_t errlen)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		FAIL("%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		close(fd);
		FAIL("%s: %s", path, strerror(e));
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		FAIL("%s: not a regular file", path);
	}
	if ((uint64_t)sb.st_size > max_len) {
		close(fd);
		FAIL("%s: %lld bytes, more than the limit of %zu", path,
		    (long long)sb.st_size, max_len);
	}
	size_t n = (size_t)sb.st_size;
	char *buf = malloc(n ? n : 1);
	if (!buf) {
		close(fd);
		FAIL("%s: out of memory", path);
	}
	size_t got = read_full(fd, buf, n);
	close(fd);
	if (got != n) {
		free(buf);
		FAIL("%s: short read", path);
	}
	*data = buf;
	*len = n;
	return 0;
}

/* After a full buffer: 0 if only white space follows (a token's newline),
 * else EFBIG (the value would be cut) or read's errno. */
static int
more_than_space(int fd)
{
	char rest[SMALL_FILE_SLACK];
	size_t n;

	errno = 0;
	n = read_full(fd, rest, sizeof(rest));
	if (n == sizeof(rest))
		return EFBIG;
	if (errno != 0)
		return errno;
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)rest[i]))
			return EFBIG;
	return 0;
}

int
read_small_file(const char *path, char *buf, size_t len)
{
	size_t n, a = 0;
	int fd, e;

	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	errno = 0;
	n = read_full(fd, buf, len - 1);
	e = n < len - 1 ? errno : more_than_space(fd);
	close(fd);
	if (e != 0) {
		errno = e;
		return -1;
	}
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	while (a < n && isspace((unsigned char)buf[a]))
		a++;
	memmove(buf, buf + a, n - a + 1);
	return (int)(n - a);
}
