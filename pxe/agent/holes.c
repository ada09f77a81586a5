/*
 * holes.c — the holes of an image (chunk slots without a chunk, which are
 * all zero) and making the disk read back zeros there. The disk is read
 * first and only pieces that are not zero already are zeroed: with
 * BLKZEROOUT on a block device, by punching a hole in a regular file, or
 * by writing zeros where neither works. Old data never stays in a hole.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/fs.h>

#include "images/chunk.h"
#include "pxe/agent/agent.h"

void
hole_before(const struct manifest *m, size_t k, uint64_t *off, uint64_t *len)
{
	uint64_t start = 0, end = m->size;

	if (k > 0 && k <= m->nchunks)
		start = m->chunks[k - 1].offset + m->chunks[k - 1].length;
	if (k < m->nchunks)
		end = m->chunks[k].offset;
	*off = start;
	*len = end > start ? end - start : 0;
}

uint64_t
holes_total(const struct manifest *m)
{
	uint64_t sum = 0, off, len;

	for (size_t k = 0; k <= m->nchunks; k++) {
		hole_before(m, k, &off, &len);
		sum += len;
	}
	return sum;
}

int
zeroer_init(struct zeroer *z, int fd, bool is_blockdev)
{
	memset(z, 0, sizeof(*z));
	z->fd = fd;
	z->is_blockdev = is_blockdev;
	z->try_zeroout = is_blockdev;
	z->try_punch = !is_blockdev;
	if ((z->buf = malloc(ZERO_IO_MAX)) == NULL)
		return -1;
	return 0;
}

void
zeroer_free(struct zeroer *z)
{
	free(z->buf);
	z->buf = NULL;
}

static int
unsupported(int e)
{
	return e == EOPNOTSUPP || e == ENOTTY || e == ENOSYS || e == EINVAL;
}

/* After a failed zeroing call: 0 when that way is not supported (it is
 * not tried again, the next one is), else -1 with err. */
static int
zero_failed(bool *try, uint64_t off, char *err, size_t errlen)
{
	if (unsupported(errno)) {
		*try = false;
		return 0;
	}
	snprintf(err, errlen, "cannot zero the disk at byte %" PRIu64 ": %s",
	    off, strerror(errno));
	return -1;
}

/* Zero one piece known not to be zero. */
static int
zero_piece(struct zeroer *z, uint64_t off, size_t len, char *err,
    size_t errlen)
{
	if (z->try_zeroout && off % SECTOR_BYTES == 0 &&
	    len % SECTOR_BYTES == 0) {
		uint64_t range[2] = { off, len };
		if (ioctl(z->fd, BLKZEROOUT, range) == 0)
			return 0;
		if (zero_failed(&z->try_zeroout, off, err, errlen) < 0)
			return -1;
	}
	if (z->try_punch) {
		if (fallocate(z->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		    (off_t)off, (off_t)len) == 0)
			return 0;
		if (zero_failed(&z->try_punch, off, err, errlen) < 0)
			return -1;
	}
	memset(z->buf, 0, len);
	return disk_write(z->fd, z->buf, len, off, err, errlen);
}

enum zero_rc
zero_range(struct zeroer *z, uint64_t off, uint64_t len, const atomic_int *stop,
    char *err, size_t errlen)
{
	while (len > 0) {
		/* Pieces end on ZERO_IO_MAX boundaries: aligned for
		 * BLKZEROOUT, and an all-zero stretch is seen as such. */
		uint64_t room = ZERO_IO_MAX - off % ZERO_IO_MAX;
		size_t piece = (size_t)(len < room ? len : room);

		if (stop != NULL && atomic_load(stop))
			return ZERO_STOPPED;
		if (disk_read(z->fd, z->buf, piece, off, err, errlen) != 0)
			return ZERO_ERROR;
		if (chunk_is_zero(z->buf, piece))
			z->checked += piece;
		else {
			if (zero_piece(z, off, piece, err, errlen) != 0)
				return ZERO_ERROR;
			z->zeroed += piece;
		}
		if (z->done != NULL)
			atomic_fetch_add(z->done, piece);
		off += piece;
		len -= piece;
	}
	return ZERO_DONE;
}
