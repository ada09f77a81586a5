/* images/file.h — reading a small file whole.
 *
 * Manifests, key files and chunk files are read in one piece into memory;
 * read(2) may return less than asked (or fail with EINTR), so each of them
 * loops. That loop, the open-check-read of a whole file, and the read of
 * a small text file that rackd and rack-agent both make, live here once.
 */
#ifndef RACKD_IMAGES_FILE_H
#define RACKD_IMAGES_FILE_H

#include <stddef.h>

/* Reads from fd into buf until len bytes, end of file or an error (EINTR
 * is retried). Returns the bytes read: len unless the file was short or
 * read(2) failed (then errno tells). */
size_t	 read_full(int fd, void *buf, size_t len);

/* The regular file at path, of at most max_len bytes, into *data (malloc'd,
 * free it) and *len. 0, or -1 with err (a missing file: the strerror text
 * of ENOENT). */
int	 read_whole_file(const char *path, size_t max_len, void **data,
	    size_t *len, char *err, size_t errlen);

/* A small text file (a sysfs attribute, a token) into buf, at most len - 1
 * bytes, NUL-terminated, with the white space at both ends trimmed.
 * Returns its length, or -1 with errno set (EFBIG: more than len - 1
 * bytes before the trailing white space, which may be at most
 * SMALL_FILE_SLACK bytes). */
#define SMALL_FILE_SLACK	64
int	 read_small_file(const char *path, char *buf, size_t len);

#endif
