/*
 * erase_verify.c — what an erase checks: samples spread across the whole
 * disk (the first and last MiB, and ERASE_SAMPLES evenly spread ones),
 * each read from the disk (not the page cache) and hashed before the
 * erase and judged after it: all zeros, or at least not what it held.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pxe/agent/agent.h"

size_t
erase_sample_offsets(uint64_t size, uint64_t *off, uint64_t *len)
{
	uint64_t piece = size < ERASE_SAMPLE_BYTES ? size : ERASE_SAMPLE_BYTES;
	uint64_t span = size - piece;
	size_t n = 0;

	*len = piece;
	if (size == 0)
		return 0;
	off[n++] = 0;
	for (uint64_t i = 1; i <= ERASE_SAMPLES; i++) {
		/* Evenly between the first and last, 4 KiB aligned. */
		uint64_t o = span / (ERASE_SAMPLES + 1) * i;
		off[n++] = o & ~(uint64_t)(VERIFY_IO_ALIGN - 1);
	}
	off[n++] = span;
	return n;
}

static uint64_t
fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	static const uint8_t z[4096];

	for (size_t i = 0; i < n; i += sizeof(z)) {
		size_t k = n - i < sizeof(z) ? n - i : sizeof(z);
		if (memcmp(p + i, z, k) != 0)
			return false;
	}
	return true;
}

int
erase_samples_read(int fd, uint64_t size, struct erase_samples *s,
    const atomic_int *stop, char *err, size_t errlen)
{
	uint8_t *buf;
	int rc = 0;

	s->n = erase_sample_offsets(size, s->off, &s->len);
	if ((buf = malloc(s->len ? s->len : 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* What an erase did under the kernel's feet: from the disk. */
	ioctl(fd, BLKFLSBUF, 0);
	drop_cache(fd, 0, size);
	for (size_t i = 0; i < s->n && rc == 0; i++) {
		if (stop != NULL && atomic_load(stop)) {
			snprintf(err, errlen, "stopped");
			rc = -1;
			break;
		}
		if ((rc = disk_read(fd, buf, s->len, s->off[i], err,
		    errlen)) != 0)
			break;
		s->hash[i] = fnv1a(buf, s->len);
		s->zero[i] = all_zero(buf, s->len);
	}
	free(buf);
	return rc;
}

void
erase_samples_judge(const struct erase_samples *before,
    const struct erase_samples *after, struct erase_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->first_bad = UINT64_MAX;
	v->bytes = (uint64_t)after->n * after->len;
	for (size_t i = 0; i < after->n; i++) {
		if (after->zero[i]) {
			v->zero++;
			continue;
		}
		/* Unchanged and not zero before: old data is still there. */
		if (before != NULL && i < before->n && !before->zero[i] &&
		    before->hash[i] == after->hash[i]) {
			v->unchanged++;
			if (v->first_bad == UINT64_MAX)
				v->first_bad = after->off[i];
		}
	}
	v->samples = after->n;
}
