/* images/file.h — reading a small file whole.
 *
 * Manifests, key files and chunk files are read in one piece into memory;
 * read(2) may return less than asked (or fail with EINTR), so each of them
 * loops. That loop lives here once.
 */
#ifndef RACKD_IMAGES_FILE_H
#define RACKD_IMAGES_FILE_H

#include <stddef.h>

/* Reads from fd into buf until len bytes, end of file or an error (EINTR
 * is retried). Returns the bytes read: len unless the file was short or
 * read(2) failed (then errno tells). */
size_t	 read_full(int fd, void *buf, size_t len);

#endif
