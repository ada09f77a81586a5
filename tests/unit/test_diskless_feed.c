/* tests/unit/test_diskless_feed.c — rack-diskless's feed
 * (pxe/diskless/feed.c): chunks checked against the manifest, holes,
 * order, sizes, and a reader that stops taking data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/hash.h"
#include "pxe/diskless/diskless.h"
#include "tests/unit/unit.h"

/* ---- feed ---- */

#define CS 65536u

struct fixture {
	struct manifest *m;
	uint8_t *data[3];
	int pipefd[2];
	char *outpath;
	int outfd;
	char *dir;
};

/* A manifest of 4 chunk slots: data, hole, data, short data tail. */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	static const size_t lens[3] = { CS, CS, 1000 };
	static const uint64_t offs[3] = { 0, 2 * CS, 3 * CS };
	char path[4200];

	f->m = manifest_new();
	f->m->kind = IMAGE_KIND_ROOTFS;
	f->m->chunk_size = CS;
	f->m->size = 3 * CS + 1000;
	for (int i = 0; i < 3; i++) {
		struct manifest_chunk c = { .offset = offs[i],
			.length = (uint32_t)lens[i],
			.stored = 10 };
		f->data[i] = malloc(lens[i]);
		memset(f->data[i], 'a' + i, lens[i]);
		hash_buffer(f->m->hash, f->data[i], lens[i], c.hash);
		manifest_add_chunk(f->m, &c);
	}
	f->dir = unit_mkdtemp();
	snprintf(path, sizeof path, "%s/out", f->dir);
	f->outpath = strdup(path);
	f->outfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	*state = f;
	return f->outfd >= 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 3; i++)
		free(f->data[i]);
	manifest_free(f->m);
	close(f->outfd);
	unit_rm_rf(f->dir);
	free(f->dir);
	free(f->outpath);
	free(f);
	return 0;
}

static void
test_feed_in_order(void **state)
{
	struct fixture *f = *state;
	struct feed fd;
	char err[256];
	assert_int_equal(feed_init(&fd, f->m, f->outfd, err, sizeof err), 0);
	assert_int_equal(feed_chunk(&fd, f->data[0], CS, err, sizeof err), 0);
	assert_int_equal(feed_chunk(&fd, f->data[1], CS, err, sizeof err), 0);
	assert_int_equal(feed_chunk(&fd, f->data[2], 1000, err, sizeof err), 0);
	assert_int_equal(feed_finish(&fd, err, sizeof err), 0);
	assert_int_equal(fd.written, 3 * CS + 1000);
	feed_free(&fd);
	size_t n = 0;
	char *got = unit_read_file(f->outpath, &n);
	assert_non_null(got);
	assert_int_equal(n, 3 * CS + 1000);
	for (size_t i = 0; i < n; i++) {
		char want = i < CS ? 'a'
		    : i < 2 * CS   ? 0
		    : i < 3 * CS   ? 'b'
				   : 'c';
		if (got[i] != want)
			fail_msg("byte %zu: %d, want %d", i, got[i], want);
	}
	free(got);
}

static void
test_feed_refuses(void **state)
{
	struct fixture *f = *state;
	struct feed fd;
	char err[256];
	assert_int_equal(feed_init(&fd, f->m, f->outfd, err, sizeof err), 0);
	/* the second chunk's data as the first: hash mismatch, nothing
	 * written */
	assert_int_equal(feed_chunk(&fd, f->data[1], CS, err, sizeof err), -1);
	assert_non_null(strstr(err, "hash mismatch"));
	assert_int_equal(fd.written, 0);
	/* a wrong length */
	assert_int_equal(
	    feed_chunk(&fd, f->data[0], CS - 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "bytes, the manifest says"));
	/* the end before the last chunk */
	assert_int_equal(feed_chunk(&fd, f->data[0], CS, err, sizeof err), 0);
	assert_int_equal(feed_finish(&fd, err, sizeof err), -1);
	assert_non_null(strstr(err, "1 of 3 chunks"));
	assert_int_equal(feed_chunk(&fd, f->data[1], CS, err, sizeof err), 0);
	assert_int_equal(feed_chunk(&fd, f->data[2], 1000, err, sizeof err), 0);
	/* one more than the manifest lists */
	assert_int_equal(
	    feed_chunk(&fd, f->data[2], 1000, err, sizeof err), -1);
	assert_non_null(strstr(err, "more chunks"));
	feed_free(&fd);
}

static void
test_feed_dead_reader(void **state)
{
	struct fixture *f = *state;
	struct feed fd;
	char err[256];
	int p[2];
	(void)f;
	assert_int_equal(pipe(p), 0);
	close(p[0]); /* cpio is gone */
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(feed_init(&fd, f->m, p[1], err, sizeof err), 0);
	assert_int_equal(feed_chunk(&fd, f->data[0], CS, err, sizeof err), -1);
	assert_non_null(strstr(err, "unpacking stopped taking data"));
	feed_free(&fd);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_feed_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_feed_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_feed_dead_reader, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
