/*
 * tests/unit/unit.h — what the unit tests share, so that no test carries
 * its own copy: scratch directories (removed in teardown, and by a
 * watchdog when a test hangs), whole-file reads and writes, deterministic
 * bytes, a store in a scratch directory, test images cut into chunks the
 * way rackctl cuts them, and the assertions cmocka lacks.
 *
 * Header-only and every helper static inline: a test binary links only
 * the library of the folder it tests, and a helper it does not call
 * costs it nothing (the store and image helpers need images/, which
 * only the tests that call them link).
 */
#ifndef RACKD_TESTS_UNIT_H
#define RACKD_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/chunk.h"
#include "images/manifest.h"
#include "images/store.h"

#define UNIT_PATH_MAX	4096	/* a scratch path: the directory and a name */
#define UNIT_ERR_MAX	256	/* an error message from the code under test */

/* Fails the test unless hay contains needle. */
#define assert_contains(hay, needle) do {				\
	const char *h_ = (hay), *n_ = (needle);				\
	if (h_ == NULL || strstr(h_, n_) == NULL) {			\
		print_error("'%s' does not contain '%s'\n",		\
		    h_ ? h_ : "(null)", n_);				\
		fail();							\
	}								\
} while (0)

/* A 64-character string of c (a string of one character): a made-up
 * chunk hash in hex. */
#define UNIT_HEX64(c) \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

/* ---- files --------------------------------------------------------- */

static inline int
unit_rm_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes a directory tree (a scratch directory). */
static inline void
unit_rm_rf(const char *dir)
{
	nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh scratch directory under $TMPDIR or /tmp; the caller frees. */
static inline char *
unit_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[UNIT_PATH_MAX], *d;

	snprintf(tmpl, sizeof(tmpl), "%s/rackd-test-XXXXXX",
	    base && *base ? base : "/tmp");
	d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

/* Writes a whole file: 0, or -1 on any failure. */
static inline int
unit_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *p = data;

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}

/* Writes a whole file or aborts the test program (for fixtures). */
static inline void
unit_write(const char *path, const void *data, size_t len)
{
	if (unit_write_file(path, data, len) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		abort();
	}
}

/* Reads a whole file (malloc'd, a NUL added). NULL on error. */
static inline char *
unit_read_file(const char *path, size_t *len)
{
	struct stat sb;
	size_t n, got = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return NULL;
	}
	n = (size_t)sb.st_size;
	buf = malloc(n + 1);
	while (buf && got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!buf || got != n) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* Entries (not . or ..) in a directory; -1 if it cannot be read. */
static inline int
unit_count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Deterministic bytes (xorshift64): the same for the same seed. */
static inline void
unit_random(void *buf, size_t len, uint64_t seed)
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

/* ---- one scratch directory per test, in unit_dir --------------------- */

static char unit_dir[64];

/* A cmocka setup: a fresh unit_dir. */
static inline int
unit_setup(void **state)
{
	(void)state;
	snprintf(unit_dir, sizeof(unit_dir), "/tmp/rackd-unit.XXXXXX");
	return mkdtemp(unit_dir) != NULL ? 0 : -1;
}

/* A cmocka teardown: unit_dir removed, also after a failed test. */
static inline int
unit_teardown(void **state)
{
	(void)state;
	if (unit_dir[0] != '\0')
		unit_rm_rf(unit_dir);
	unit_dir[0] = '\0';
	return 0;
}

static inline void
unit_timeout(int sig)
{
	static const char msg[] = "test timed out\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	if (unit_dir[0] != '\0')	/* best effort, we are going down */
		unit_rm_rf(unit_dir);
	_exit(1);
}

/* A test program that hangs fails after seconds, its files removed. */
static inline void
unit_watchdog(unsigned seconds)
{
	signal(SIGALRM, unit_timeout);
	alarm(seconds);
}

/* unit_dir/name into buf. */
static inline const char *
unit_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", unit_dir, name);
	return buf;
}

/* ---- a store in a scratch directory ---------------------------------- */

struct unit_store {
	char		*dir;
	char		 storedir[UNIT_PATH_MAX + 8];
	struct store	*st;
};

/* A cmocka setup: *state a struct unit_store, its store open in dir/store. */
static inline int
unit_store_setup(void **state)
{
	struct unit_store *f = calloc(1, sizeof(*f));
	char err[UNIT_ERR_MAX];

	if (!f || !(f->dir = unit_mkdtemp())) {
		free(f);
		return -1;
	}
	snprintf(f->storedir, sizeof(f->storedir), "%s/store", f->dir);
	if (store_open(f->storedir, &f->st, err, sizeof(err)) < 0) {
		print_error("%s\n", err);
		unit_rm_rf(f->dir);
		free(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int
unit_store_teardown(void **state)
{
	struct unit_store *f = *state;

	store_close(f->st);
	unit_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* ---- test images ------------------------------------------------------ */

/* An image cut into chunks the way rackctl does: all-zero slots are holes.
 * stored[k] / stored_len[k] hold each chunk's zstd frame. */
struct unit_image {
	uint8_t		*data;
	uint64_t	 size;
	struct manifest	*m;
	uint8_t		**stored;
	size_t		*stored_len;
};

static inline void
unit_image_build(struct unit_image *im, uint8_t *data, uint64_t size,
    uint32_t chunk_size)
{
	char err[UNIT_ERR_MAX];

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

static inline void
unit_image_free(struct unit_image *im)
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
