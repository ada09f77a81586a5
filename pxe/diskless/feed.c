/*
 * feed.c — the image out to cpio in manifest order: each chunk is checked
 * (length, hash) before any byte of it is written; holes between chunks
 * and after the last are written as zeros.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/hash.h"
#include "pxe/diskless/diskless.h"

int
write_all(int fd, const void *buf, size_t len, char *err, size_t errlen)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen,
			    "unpacking stopped taking data: %s",
			    n < 0 ? strerror(errno) : "short write");
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
feed_init(struct feed *f, const struct manifest *m, int fd, char *err,
    size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->m = m;
	f->fd = fd;
	if ((f->zero = calloc(1, m->chunk_size)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void
feed_free(struct feed *f)
{
	free(f->zero);
	f->zero = NULL;
}

/* Zeros up to offset end. */
static int
hole_to(struct feed *f, uint64_t end, char *err, size_t errlen)
{
	while (f->written < end) {
		uint64_t n = end - f->written;
		if (n > f->m->chunk_size)
			n = f->m->chunk_size;
		if (write_all(f->fd, f->zero, (size_t)n, err, errlen) != 0)
			return -1;
		f->written += n;
	}
	return 0;
}

int
feed_chunk(struct feed *f, const uint8_t *data, size_t len, char *err,
    size_t errlen)
{
	const struct manifest_chunk *c;
	uint8_t got[HASH_LEN];

	if (f->next >= f->m->nchunks) {
		snprintf(err, errlen, "more chunks than the manifest lists");
		return -1;
	}
	c = &f->m->chunks[f->next];
	if (len != c->length) {
		snprintf(err, errlen, "chunk %zu: %zu bytes, the manifest says "
		    "%" PRIu32, f->next, len, c->length);
		return -1;
	}
	if (hash_buffer(f->m->hash, data, len, got) != 0 ||
	    memcmp(got, c->hash, HASH_LEN) != 0) {
		snprintf(err, errlen, "chunk %zu: hash mismatch (the data is "
		    "not the image's)", f->next);
		return -1;
	}
	if (hole_to(f, c->offset, err, errlen) != 0 ||
	    write_all(f->fd, data, len, err, errlen) != 0)
		return -1;
	f->written += len;
	f->next++;
	if (f->tick != NULL)
		f->tick(f->arg);
	return 0;
}

int
feed_finish(struct feed *f, char *err, size_t errlen)
{
	if (f->next != f->m->nchunks) {
		snprintf(err, errlen, "%zu of %zu chunks arrived", f->next,
		    f->m->nchunks);
		return -1;
	}
	if (hole_to(f, f->m->size, err, errlen) != 0)
		return -1;
	if (f->written != f->m->size) {
		snprintf(err, errlen, "%" PRIu64 " bytes out, the image has %"
		    PRIu64, f->written, f->m->size);
		return -1;
	}
	return 0;
}
