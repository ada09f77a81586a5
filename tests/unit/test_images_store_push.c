/* tests/unit/test_images_store_push.c — the store functions a push uses: a
 * chunk streamed into a temporary file and adopted only when its content
 * matches its name (never visible otherwise), a stale temporary file of a
 * dead writer removed, chunk removal, and replacing a manifest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "images/chunk.h"
#include "images/sign.h"
#include "images/store.h"
#include "tests/unit/unit.h"

#define LEN (64u * 1024)

struct fx {
	char *dir;
	char storedir[4200], tmpdir[4300];
	struct store *st;
	uint8_t data[LEN];
	uint8_t *z;
	size_t zlen;
	char hex[HASH_HEX_LEN + 1];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];
	uint8_t h[HASH_LEN];
	if (!f || !(f->dir = unit_mkdtemp())) {
		free(f);
		return -1;
	}
	snprintf(f->storedir, sizeof f->storedir, "%s/store", f->dir);
	snprintf(f->tmpdir, sizeof f->tmpdir, "%s/tmp", f->storedir);
	if (store_open(f->storedir, &f->st, err, sizeof err) < 0)
		return -1;
	unit_random(f->data, LEN, 42);
	f->z = malloc(chunk_compress_bound(LEN));
	if (!f->z ||
	    chunk_compress(NULL, f->data, LEN, 3, f->z,
		chunk_compress_bound(LEN), &f->zlen, err, sizeof err) < 0)
		return -1;
	hash_buffer(HASH_BLAKE2B_256, f->data, LEN, h);
	hash_to_hex(h, f->hex);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->st);
	unit_rm_rf(f->dir);
	free(f->z);
	free(f->dir);
	free(f);
	return 0;
}

/* A temporary file holding buf; its path and fd. */
static void
spool(struct fx *f, const void *buf, size_t len, char *path, int *fd)
{
	char err[256];
	assert_int_equal(store_tmp_create(f->st, "push", path, STORE_PATH_MAX,
			     fd, err, sizeof err),
	    0);
	assert_int_equal(write(*fd, buf, len), (ssize_t)len);
}

static void
test_adopt_good(void **state)
{
	struct fx *f = *state;
	char path[STORE_PATH_MAX], err[256];
	bool added;
	int fd;

	spool(f, f->z, f->zlen, path, &fd);
	assert_false(store_has_chunk(f->st, f->hex));
	assert_int_equal(store_adopt_chunk(f->st, HASH_BLAKE2B_256, f->hex, LEN,
			     path, fd, &added, err, sizeof err),
	    0);
	close(fd);
	assert_true(added);
	assert_true(store_has_chunk(f->st, f->hex));
	assert_int_equal(access(path, F_OK), -1); /* renamed, not copied */
	assert_int_equal(unit_count_dir(f->tmpdir), 0);
	assert_int_equal(store_check_chunk(f->st, HASH_BLAKE2B_256, f->hex, LEN,
			     err, sizeof err),
	    0);

	/* Again: the store has it; the second file just goes. */
	spool(f, f->z, f->zlen, path, &fd);
	assert_int_equal(store_adopt_chunk(f->st, HASH_BLAKE2B_256, f->hex, LEN,
			     path, fd, &added, err, sizeof err),
	    0);
	close(fd);
	assert_false(added);
	assert_int_equal(unit_count_dir(f->tmpdir), 0);

	/* Removal (garbage collection), twice. */
	assert_int_equal(store_remove_chunk(f->st, f->hex, err, sizeof err), 0);
	assert_false(store_has_chunk(f->st, f->hex));
	assert_int_equal(store_remove_chunk(f->st, f->hex, err, sizeof err), 0);
	assert_int_equal(
	    store_remove_chunk(f->st, "../../etc/passwd", err, sizeof err), -1);
}

static void
test_adopt_bad(void **state)
{
	struct fx *f = *state;
	char path[STORE_PATH_MAX], err[256], other[HASH_HEX_LEN + 1];
	uint8_t h[HASH_LEN];
	bool added;
	int fd;

	/* Content that hashes to something else: refused, not visible. */
	memset(h, 0xab, sizeof h);
	hash_to_hex(h, other);
	spool(f, f->z, f->zlen, path, &fd);
	errno = 0;
	assert_int_equal(store_adopt_chunk(f->st, HASH_BLAKE2B_256, other, LEN,
			     path, fd, &added, err, sizeof err),
	    -1);
	assert_int_equal(errno, EBADMSG);
	assert_non_null(strstr(err, "not to its name"));
	assert_false(store_has_chunk(f->st, other));
	assert_int_equal(access(path, F_OK), 0); /* the caller removes it */
	close(fd);
	unlink(path);

	/* The wrong algorithm, the wrong length, truncated, garbage, empty. */
	struct {
		const void *buf;
		size_t len;
		enum hash_alg alg;
		uint64_t want;
	} cases[] = {
		{ f->z, f->zlen, HASH_SHA256, LEN },
		{ f->z, f->zlen, HASH_BLAKE2B_256, LEN / 2 },
		{ f->z, f->zlen - 10, HASH_BLAKE2B_256, LEN },
		{ f->data, 4096, HASH_BLAKE2B_256, LEN },
		{ "", 0, HASH_BLAKE2B_256, LEN },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		spool(f, cases[i].buf, cases[i].len, path, &fd);
		errno = 0;
		assert_int_equal(
		    store_adopt_chunk(f->st, cases[i].alg, f->hex,
			cases[i].want, path, fd, &added, err, sizeof err),
		    -1);
		assert_int_equal(errno, EBADMSG);
		assert_false(store_has_chunk(f->st, f->hex));
		close(fd);
		unlink(path);
	}
	/* Bigger than any chunk of that length can be, compressed. */
	size_t big = chunk_compress_bound(LEN) + 1;
	uint8_t *junk = calloc(1, big);
	spool(f, junk, big, path, &fd);
	assert_int_equal(store_adopt_chunk(f->st, HASH_BLAKE2B_256, f->hex, LEN,
			     path, fd, &added, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "cannot be a compressed chunk"));
	close(fd);
	unlink(path);
	free(junk);
	assert_int_equal(unit_count_dir(f->tmpdir), 0);
}

/* A writer killed mid-upload leaves its temporary file; the next
 * store_open removes it, a live writer's stays. */
static void
test_stale_tmp(void **state)
{
	struct fx *f = *state;
	char path[STORE_PATH_MAX], livepath[STORE_PATH_MAX], err[256];
	struct store *st2;
	int fd, livefd, pipefd[2];

	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		if (store_tmp_create(f->st, "push", path, sizeof path, &fd, err,
			sizeof err) < 0 ||
		    write(fd, f->z, f->zlen / 2) < 0)
			_exit(1);
		ssize_t w = write(pipefd[1], "x", 1);
		(void)w;
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	char c;
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	spool(f, f->z, f->zlen, livepath, &livefd);
	assert_int_equal(unit_count_dir(f->tmpdir), 2);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(store_open(f->storedir, &st2, err, sizeof err), 0);
	store_close(st2);
	assert_int_equal(unit_count_dir(f->tmpdir), 1); /* the live one */
	assert_int_equal(access(livepath, F_OK), 0);
	assert_false(store_has_chunk(f->st, f->hex));
	close(livefd);
	unlink(livepath);
}

static void
test_replace_manifest(void **state)
{
	struct fx *f = *state;
	char err[256];
	bool added;
	struct manifest *m = manifest_new(), *back;
	uint8_t pk[SIGN_PUBLIC_LEN], sk[SIGN_SECRET_LEN];

	snprintf(m->name, sizeof m->name, "img");
	snprintf(m->version, sizeof m->version, "1");
	m->chunk_size = LEN;
	m->size = LEN;
	struct manifest_chunk c = {
		.offset = 0, .length = LEN, .stored = (uint32_t)f->zlen
	};
	hash_from_hex(f->hex, c.hash);
	manifest_add_chunk(m, &c);
	/* Not there yet: nothing to replace. */
	assert_int_equal(store_replace_manifest(f->st, m, err, sizeof err), -1);
	assert_int_equal(store_put_chunk(f->st, f->hex, f->z, f->zlen, &added,
			     err, sizeof err),
	    0);
	assert_int_equal(store_put_manifest(f->st, m, err, sizeof err), 0);
	assert_int_equal(sign_keygen(pk, sk), 0);
	assert_int_equal(sign_manifest(m, sk, err, sizeof err), 0);
	/* put refuses different content; replace takes it. */
	assert_int_equal(store_put_manifest(f->st, m, err, sizeof err), -1);
	assert_int_equal(store_replace_manifest(f->st, m, err, sizeof err), 0);
	assert_int_equal(
	    store_load_manifest(f->st, "img", "1", &back, err, sizeof err), 0);
	assert_non_null(back->signature);
	assert_string_equal(back->signature, m->signature);
	manifest_free(back);
	manifest_free(m);
	assert_int_equal(unit_count_dir(f->tmpdir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_adopt_good, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_adopt_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_stale_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_replace_manifest, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
