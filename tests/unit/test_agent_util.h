/* tests/unit/test_agent_util.h — helpers for the rack-agent unit tests: a
 * scratch directory removed in teardown (also when a test fails), files,
 * deterministic data, and test images with their manifest and chunks. */
#ifndef TEST_AGENT_UTIL_H
#define TEST_AGENT_UTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/chunk.h"
#include "images/manifest.h"
#include "pxe/agent/agent.h"

static char ta_dir[64];

static int
ta_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

__attribute__((unused)) static int
ta_setup(void **state)
{
	(void)state;
	snprintf(ta_dir, sizeof(ta_dir), "/tmp/rack-agent-test.XXXXXX");
	return mkdtemp(ta_dir) != NULL ? 0 : -1;
}

__attribute__((unused)) static int
ta_teardown(void **state)
{
	(void)state;
	if (ta_dir[0] != '\0')
		nftw(ta_dir, ta_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	ta_dir[0] = '\0';
	return 0;
}

static void
ta_timeout(int sig)
{
	static const char msg[] = "test timed out\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	if (ta_dir[0] != '\0')	/* best effort, we are going down */
		nftw(ta_dir, ta_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	_exit(1);
}

/* A test program that hangs fails after seconds, its files removed. */
__attribute__((unused)) static void
ta_watchdog(unsigned seconds)
{
	signal(SIGALRM, ta_timeout);
	alarm(seconds);
}

/* ta_dir/name into buf. */
__attribute__((unused)) static const char *
ta_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", ta_dir, name);
	return buf;
}

__attribute__((unused)) static void
ta_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || (len > 0 && write(fd, data, len) != (ssize_t)len)) {
		fprintf(stderr, "cannot write %s\n", path);
		abort();
	}
	close(fd);
}

/* xorshift: the same bytes for the same seed. */
__attribute__((unused)) static void
ta_random(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 24);
	}
}

/* An image cut into chunks the way rackctl does: all-zero slots are holes.
 * stored[k] / stored_len[k] hold each chunk's zstd frame. */
struct ta_image {
	uint8_t		*data;
	uint64_t	 size;
	struct manifest	*m;
	uint8_t		**stored;
	size_t		*stored_len;
};

__attribute__((unused)) static void
ta_image_build(struct ta_image *im, uint8_t *data, uint64_t size,
    uint32_t chunk_size)
{
	char err[256];

	im->data = data;
	im->size = size;
	im->m = manifest_new();
	if (im->m == NULL)
		abort();
	im->m->size = size;
	im->m->chunk_size = chunk_size;
	snprintf(im->m->name, sizeof(im->m->name), "t");
	snprintf(im->m->version, sizeof(im->m->version), "1");
	im->stored = calloc(size / chunk_size + 2, sizeof(*im->stored));
	im->stored_len = calloc(size / chunk_size + 2, sizeof(*im->stored_len));
	for (uint64_t off = 0; off < size; off += chunk_size) {
		struct manifest_chunk c = { .offset = off };
		size_t k = im->m->nchunks, cap, clen;
		c.length = (uint32_t)(size - off < chunk_size ? size - off :
		    chunk_size);
		if (chunk_is_zero(data + off, c.length))
			continue;
		hash_buffer(im->m->hash, data + off, c.length, c.hash);
		cap = chunk_compress_bound(c.length);
		im->stored[k] = malloc(cap);
		if (chunk_compress(NULL, data + off, c.length, 1, im->stored[k],
		    cap, &clen, err, sizeof(err)) != 0)
			abort();
		im->stored_len[k] = clen;
		c.stored = (uint32_t)clen;
		if (manifest_add_chunk(im->m, &c) != 0)
			abort();
	}
	if (manifest_validate(im->m, err, sizeof(err)) != 0) {
		fprintf(stderr, "test manifest: %s\n", err);
		abort();
	}
}

__attribute__((unused)) static void
ta_image_free(struct ta_image *im)
{
	if (im->m != NULL) {
		for (size_t k = 0; k < im->m->nchunks; k++)
			free(im->stored[k]);
		manifest_free(im->m);
	}
	free(im->stored);
	free(im->stored_len);
	memset(im, 0, sizeof(*im));
}

#endif
