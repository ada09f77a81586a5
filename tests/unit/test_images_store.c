/* tests/unit/test_images_store.c — the content-addressed store: layout,
 * chunks, manifests, listing, and atomicity under kill -9. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>

#include "images/chunk.h"
#include "images/store.h"
#include "tests/unit/unit.h"

#define KILL_TRIES 40 /* bounded kill -9 attempts */
#define KILL_HITS  5  /* stop after this many mid-write kills */
#define BIG	   (8u << 20)

/* Compresses data and stores it; the hex name goes to hex. */
static void
put(struct unit_store *f, const void *data, size_t len, char *hex, bool *added)
{
	uint8_t h[HASH_LEN];
	size_t cap = chunk_compress_bound(len), clen;
	char err[256];
	void *c = malloc(cap);
	assert_non_null(c);
	hash_buffer(HASH_BLAKE2B_256, data, len, h);
	hash_to_hex(h, hex);
	assert_int_equal(
	    chunk_compress(NULL, data, len, 1, c, cap, &clen, err, sizeof err),
	    0);
	assert_int_equal(
	    store_put_chunk(f->st, hex, c, clen, added, err, sizeof err), 0);
	free(c);
}

static struct manifest *
one_chunk_manifest(const char *name, const char *version, const char *hex,
    uint32_t len, uint32_t stored)
{
	struct manifest *m = manifest_new();
	assert_non_null(m);
	snprintf(m->name, sizeof m->name, "%s", name);
	snprintf(m->version, sizeof m->version, "%s", version);
	m->chunk_size = CHUNK_SIZE_MIN;
	m->size = len;
	struct manifest_chunk c = {
		.offset = 0, .length = len, .stored = stored
	};
	assert_int_equal(hash_from_hex(hex, c.hash), 0);
	assert_int_equal(manifest_add_chunk(m, &c), 0);
	return m;
}

static void
test_layout_and_paths(void **state)
{
	struct unit_store *f = *state;
	char path[4400], want[4400], sub[4400];
	static const char *const subs[] = { "chunks", "manifests", "tmp" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(sub, sizeof sub, "%s/%s", f->storedir, subs[i]);
		assert_int_equal(unit_count_dir(sub), 0);
	}
	const char *hex =
	    "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";
	assert_int_equal(store_chunk_path(f->st, hex, path, sizeof path), 0);
	snprintf(want, sizeof want, "%s/chunks/ab/%s", f->storedir, hex);
	assert_string_equal(path, want);
	/* too small */
	assert_int_equal(store_chunk_path(f->st, hex, path, 20), -1);
	static const char *const bad[] = {
		"",
		"ab",
		"../../../../etc/passwd",
		"AB0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
		"cd",
		"ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
		"c",
		"ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
		"cd0",
		"ab/"
		"123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(
		    store_chunk_path(f->st, bad[i], path, sizeof path), -1);
		assert_false(store_has_chunk(f->st, bad[i]));
	}
	assert_int_equal(store_chunk_path(f->st, NULL, path, sizeof path), -1);
	assert_int_equal(
	    store_manifest_path(f->st, "debian", "12.5", path, sizeof path), 0);
	snprintf(
	    want, sizeof want, "%s/manifests/debian/12.5.json", f->storedir);
	assert_string_equal(path, want);
	assert_int_equal(
	    store_manifest_path(f->st, "..", "1", path, sizeof path), -1);
	assert_int_equal(
	    store_manifest_path(f->st, "a", "../b", path, sizeof path), -1);
	assert_string_equal(store_dir(f->st), f->storedir);

	/* opening a file as a store fails cleanly */
	struct store *st2;
	char err[256];
	snprintf(path, sizeof path, "%s/file", f->dir);
	assert_int_equal(unit_write_file(path, "x", 1), 0);
	assert_int_equal(store_open(path, &st2, err, sizeof err), -1);
	assert_null(st2);
	assert_true(err[0] != '\0');
}

static void
test_chunks(void **state)
{
	struct unit_store *f = *state;
	char hex[HASH_HEX_LEN + 1], err[256];
	bool added;
	unsigned char data[5000];
	unit_random(data, sizeof data, 5);
	put(f, data, sizeof data, hex, &added);
	assert_true(added);
	assert_true(store_has_chunk(f->st, hex));
	put(f, data, sizeof data, hex, &added);
	assert_false(added); /* present: no-op */
	uint64_t size;
	assert_int_equal(store_chunk_size(f->st, hex, &size), 0);
	assert_true(size > 0);
	assert_int_equal(store_check_chunk(f->st, HASH_BLAKE2B_256, hex,
			     sizeof data, err, sizeof err),
	    0);
	assert_int_equal(store_check_chunk(f->st, HASH_SHA256, hex, sizeof data,
			     err, sizeof err),
	    -1);
	assert_int_equal(store_check_chunk(f->st, HASH_BLAKE2B_256, hex,
			     sizeof data - 1, err, sizeof err),
	    -1);
	void *back;
	size_t blen;
	assert_int_equal(store_read_chunk(f->st, hex, 1 << 20, &back, &blen,
			     err, sizeof err),
	    0);
	assert_int_equal(blen, size);
	free(back);
	assert_int_equal(
	    store_read_chunk(f->st, hex, 10, &back, &blen, err, sizeof err),
	    -1);
	/* its content, in a buffer of its size */
	assert_int_equal(
	    store_read_content(f->st, hex, &back, &blen, err, sizeof err), 0);
	assert_int_equal(blen, sizeof data);
	assert_memory_equal(back, data, sizeof data);
	free(back);
	char absent[HASH_HEX_LEN + 1];
	memset(absent, 'a', HASH_HEX_LEN);
	absent[HASH_HEX_LEN] = '\0';
	assert_int_equal(
	    store_read_content(f->st, absent, &back, &blen, err, sizeof err),
	    -1);
	/* a damaged chunk on disk is caught by the check */
	char path[4400];
	store_chunk_path(f->st, hex, path, sizeof path);
	assert_int_equal(unit_write_file(path, "garbage", 7), 0);
	assert_int_equal(store_check_chunk(f->st, HASH_BLAKE2B_256, hex,
			     sizeof data, err, sizeof err),
	    -1);
	assert_int_equal(
	    store_read_content(f->st, hex, &back, &blen, err, sizeof err), -1);
	/* invalid put */
	assert_int_equal(
	    store_put_chunk(f->st, "xyz", "a", 1, &added, err, sizeof err), -1);
	assert_int_equal(
	    store_put_chunk(f->st, hex, "a", 0, &added, err, sizeof err), -1);
	const char *missing =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	assert_false(store_has_chunk(f->st, missing));
	assert_int_equal(store_check_chunk(f->st, HASH_BLAKE2B_256, missing, 10,
			     err, sizeof err),
	    -1);
}

static int
collect(const char *name, const char *version, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);
	snprintf(out + n, 1024 - n, "%s:%s ", name, version);
	return 0;
}

static int
stop_early(const char *name, const char *version, void *arg)
{
	(void)name;
	(void)version;
	(*(int *)arg)++;
	return 7;
}

static void
test_manifests(void **state)
{
	struct unit_store *f = *state;
	char hex[HASH_HEX_LEN + 1], err[512], list[1024] = "";
	bool added;
	unsigned char data[3000];
	uint64_t stored;
	unit_random(data, sizeof data, 6);

	/* a manifest whose chunk is missing is refused */
	uint8_t h[HASH_LEN];
	hash_buffer(HASH_BLAKE2B_256, data, sizeof data, h);
	hash_to_hex(h, hex);
	struct manifest *m =
	    one_chunk_manifest("deb", "1.2", hex, sizeof data, 100);
	assert_int_equal(store_put_manifest(f->st, m, err, sizeof err), -1);
	assert_non_null(strstr(err, "missing from the store"));
	assert_false(store_has_manifest(f->st, "deb", "1.2"));

	put(f, data, sizeof data, hex, &added);
	assert_int_equal(store_chunk_size(f->st, hex, &stored), 0);
	m->chunks[0].stored = (uint32_t)stored;
	assert_int_equal(store_put_manifest(f->st, m, err, sizeof err), 0);
	assert_true(store_has_manifest(f->st, "deb", "1.2"));
	/* same bytes: fine */
	assert_int_equal(store_put_manifest(f->st, m, err, sizeof err), 0);
	struct manifest *other = one_chunk_manifest(
	    "deb", "1.2", hex, sizeof data, (uint32_t)stored);
	strcpy(other->created, "2001-01-01T00:00:00Z");
	errno = 0;
	assert_int_equal(store_put_manifest(f->st, other, err, sizeof err), -1);
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(err, "already exists"));
	manifest_free(other);
	/* an invalid manifest is refused */
	strcpy(m->version, "bad/version");
	assert_int_equal(store_put_manifest(f->st, m, err, sizeof err), -1);

	static const char *const versions[] = { "1.10", "1.9", "2", "1.2" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(m->version, sizeof m->version, "%s", versions[i]);
		assert_int_equal(
		    store_put_manifest(f->st, m, err, sizeof err), 0);
	}
	strcpy(m->name, "alpine");
	strcpy(m->version, "3");
	assert_int_equal(store_put_manifest(f->st, m, err, sizeof err), 0);
	/* junk in the manifests tree is skipped by the listing */
	char junk[4400];
	snprintf(junk, sizeof junk, "%s/manifests/deb/notes.txt", f->storedir);
	assert_int_equal(unit_write_file(junk, "x", 1), 0);
	snprintf(junk, sizeof junk, "%s/manifests/.hidden", f->storedir);
	assert_int_equal(mkdir(junk, 0755), 0);

	assert_int_equal(
	    store_list_manifests(f->st, collect, list, err, sizeof err), 0);
	assert_string_equal(list, "alpine:3 deb:1.2 deb:1.9 deb:1.10 deb:2 ");
	int calls = 0;
	assert_int_equal(
	    store_list_manifests(f->st, stop_early, &calls, err, sizeof err),
	    7);
	assert_int_equal(calls, 1);

	char latest[IMAGE_NAME_MAX + 1];
	assert_int_equal(
	    store_latest_version(f->st, "deb", latest, err, sizeof err), 0);
	assert_string_equal(latest, "2");
	assert_int_equal(
	    store_latest_version(f->st, "nope", latest, err, sizeof err), -1);
	assert_non_null(strstr(err, "not in the store"));

	struct manifest *back;
	assert_int_equal(
	    store_load_manifest(f->st, "deb", "1.10", &back, err, sizeof err),
	    0);
	assert_string_equal(back->version, "1.10");
	assert_int_equal(back->nchunks, 1);
	manifest_free(back);
	assert_int_equal(
	    store_load_manifest(f->st, "deb", "7", &back, err, sizeof err), -1);
	assert_non_null(strstr(err, "not in the store"));
	assert_null(back);
	/* a manifest filed under the wrong name is refused */
	char src[4400], dst[4400];
	store_manifest_path(f->st, "deb", "2", src, sizeof src);
	store_manifest_path(f->st, "deb", "9", dst, sizeof dst);
	assert_int_equal(link(src, dst), 0);
	assert_int_equal(
	    store_load_manifest(f->st, "deb", "9", &back, err, sizeof err), -1);
	assert_non_null(strstr(err, "names image deb:2"));

	assert_int_equal(
	    store_remove_manifest(f->st, "deb", "9", err, sizeof err), 0);
	assert_int_equal(
	    store_remove_manifest(f->st, "deb", "9", err, sizeof err), -1);
	assert_int_equal(
	    store_remove_manifest(f->st, "alpine", "3", err, sizeof err), 0);
	assert_false(store_has_manifest(f->st, "alpine", "3"));
	snprintf(junk, sizeof junk, "%s/manifests/alpine", f->storedir);
	/* the empty name directory went too */
	assert_int_equal(unit_count_dir(junk), -1);
	assert_true(store_has_chunk(f->st, hex)); /* chunks stay */
	list[0] = '\0';
	assert_int_equal(
	    store_list_manifests(f->st, collect, list, err, sizeof err), 0);
	assert_string_equal(list, "deb:1.2 deb:1.9 deb:1.10 deb:2 ");
	manifest_free(m);
}

static void
test_open_cleans_tmp(void **state)
{
	struct unit_store *f = *state;
	char path[4500], tmp[4400], err[256];
	snprintf(tmp, sizeof tmp, "%s/tmp", f->storedir);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/chunk.stale%d", tmp, i);
		assert_int_equal(unit_write_file(path, "partial", 7), 0);
	}
	/* a live writer's file: held with an flock by another process */
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	snprintf(path, sizeof path, "%s/chunk.live", tmp);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_CREAT | O_WRONLY, 0600);
		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			_exit(1);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char c;
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	struct store *st2;
	assert_int_equal(store_open(f->storedir, &st2, err, sizeof err), 0);
	store_close(st2);
	assert_int_equal(unit_count_dir(tmp), 1);
	assert_int_equal(access(path, F_OK), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(pipefd[0]);
	close(pipefd[1]);
	assert_int_equal(store_open(f->storedir, &st2, err, sizeof err), 0);
	store_close(st2);
	assert_int_equal(unit_count_dir(tmp), 0);
}

/* Chunks the writer stores over and over: prepared once by the parent
 * before forking, so a writer spends its time in the store's I/O (where a
 * kill must not tear anything) rather than in hashing and compressing. */
#define NPREP 3
struct prepared {
	char hex[HASH_HEX_LEN + 1];
	uint8_t hash[HASH_LEN];
	unsigned char *data;
	size_t len;
};
static struct prepared prep[NPREP];

static void
prepare(void)
{
	char err[256];
	unsigned char *raw = malloc(BIG);
	assert_non_null(raw);
	for (int i = 0; i < NPREP; i++) {
		unit_random(raw, BIG, 1000 + (uint64_t)i);
		hash_buffer(HASH_BLAKE2B_256, raw, BIG, prep[i].hash);
		hash_to_hex(prep[i].hash, prep[i].hex);
		size_t cap = chunk_compress_bound(BIG);
		prep[i].data = malloc(cap);
		assert_non_null(prep[i].data);
		assert_int_equal(chunk_compress(NULL, raw, BIG, 1, prep[i].data,
				     cap, &prep[i].len, err, sizeof err),
		    0);
	}
	free(raw);
}

static void
unprepare(void)
{
	for (int i = 0; i < NPREP; i++) {
		free(prep[i].data);
		prep[i].data = NULL;
	}
}

/* The child: stores a chunk, then a manifest naming it, then removes both
 * (manifest first), round and round until killed. One byte on ready after
 * the first round. */
static void
writer(const char *storedir, int ready)
{
	struct store *st;
	char err[256], path[4400], name[32], version[32];
	if (store_open(storedir, &st, err, sizeof err) < 0)
		_exit(2);
	snprintf(name, sizeof name, "w%d", (int)getpid());
	for (unsigned n = 0; n < 100000; n++) {
		const struct prepared *p = &prep[n % NPREP];
		snprintf(version, sizeof version, "%u", n);
		if (store_put_chunk(
			st, p->hex, p->data, p->len, NULL, err, sizeof err) < 0)
			_exit(3);
		struct manifest *m = manifest_new();
		if (!m)
			_exit(4);
		snprintf(m->name, sizeof m->name, "%s", name);
		snprintf(m->version, sizeof m->version, "%s", version);
		m->chunk_size = BIG;
		m->size = BIG;
		struct manifest_chunk ch = {
			.offset = 0, .length = BIG, .stored = (uint32_t)p->len
		};
		memcpy(ch.hash, p->hash, HASH_LEN);
		if (manifest_add_chunk(m, &ch) < 0 ||
		    store_put_manifest(st, m, err, sizeof err) < 0)
			_exit(5);
		manifest_free(m);
		/* take both away again (manifest first, as a collector
		 * would) so the next round writes the chunk anew */
		if (store_remove_manifest(st, name, version, err,
		    sizeof err) < 0 ||
		    store_chunk_path(st, p->hex, path, sizeof path) < 0 ||
		    unlink(path) < 0)
			_exit(6);
		if (n == 0 && write(ready, "r", 1) != 1)
			_exit(7);
	}
	_exit(0);
}

/* A file two levels below a store folder: top/parent/name, in dir. */
typedef void visit_fn(struct unit_store *f, const char *parent,
    const char *dir, const char *name, int *n);

/* Calls fn for each file two levels below top, dot files left out. */
static void
walk2(struct unit_store *f, const char *top, visit_fn *fn, int *n)
{
	char sub[UNIT_PATH_MAX + 300];
	struct dirent *e, *e2;
	DIR *d, *d2;

	d = opendir(top);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", top, e->d_name);
		d2 = opendir(sub);
		assert_non_null(d2);
		while ((e2 = readdir(d2)) != NULL)
			if (e2->d_name[0] != '.')
				fn(f, e->d_name, sub, e2->d_name, n);
		closedir(d2);
	}
	closedir(d);
}

/* A chunk is named for its hash, under its first two digits, and checks. */
static void
visible_chunk(struct unit_store *f, const char *parent, const char *dir,
    const char *name, int *n)
{
	char err[256];
	int r;

	assert_true(hash_hex_valid(name));
	assert_int_equal(strncmp(name, parent, 2), 0);
	r = store_check_chunk(f->st, HASH_BLAKE2B_256, name, BIG, err,
	    sizeof(err));
	if (r != 0)
		print_error("chunk %s: %s\n", name, err);
	assert_int_equal(r, 0);
	(*n)++;
}

/* A manifest parses and its first chunk is present. */
static void
visible_manifest(struct unit_store *f, const char *parent, const char *dir,
    const char *name, int *n)
{
	char mp[UNIT_PATH_MAX + 600], hex[HASH_HEX_LEN + 1], err[256];
	struct manifest *m;
	int r;

	snprintf(mp, sizeof(mp), "%s/%s", dir, name);
	r = manifest_load(mp, &m, err, sizeof(err));
	if (r != 0)
		print_error("%s\n", err);
	assert_int_equal(r, 0);
	hash_to_hex(m->chunks[0].hash, hex);
	assert_true(store_has_chunk(f->st, hex));
	manifest_free(m);
}

/* Every visible chunk decompresses and hashes to its name; every visible
 * manifest parses and its chunks are present. Returns the chunk count. */
static int
check_visible(struct unit_store *f)
{
	char path[UNIT_PATH_MAX + 20];
	int chunks = 0;

	snprintf(path, sizeof(path), "%s/chunks", f->storedir);
	walk2(f, path, visible_chunk, &chunks);
	snprintf(path, sizeof(path), "%s/manifests", f->storedir);
	walk2(f, path, visible_manifest, NULL);
	return chunks;
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_kill_atomicity(void **state)
{
	struct unit_store *f = *state;
	char tmp[4400], err[256];
	unsigned seed = 12345;
	int hits = 0, tries = 0;
	snprintf(tmp, sizeof tmp, "%s/tmp", f->storedir);
	prepare();
	for (tries = 0; tries < KILL_TRIES && hits < KILL_HITS; tries++) {
		int pfd[2];
		assert_int_equal(pipe(pfd), 0);
		double t0 = now();
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			writer(f->storedir, pfd[1]);
		}
		close(pfd[1]);
		/* wait for one full round (bounded), then kill somewhere in the
		 * next two rounds' time */
		struct pollfd pw = { .fd = pfd[0], .events = POLLIN };
		int pr = poll(&pw, 1, 120000);
		char c;
		bool ready = pr == 1 && read(pfd[0], &c, 1) == 1;
		close(pfd[0]);
		double round = now() - t0;
		struct timespec ts = { 0, 0 };
		if (ready) {
			double d = round * 2.0 *
			    (double)(rand_r(&seed) % 1000) / 1000.0;
			ts.tv_sec = (time_t)d;
			ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
		}
		nanosleep(&ts, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status))
			print_error(
			    "writer exited with %d\n", WEXITSTATUS(status));
		assert_true(WIFSIGNALED(status));
		assert_true(ready);
		if (unit_count_dir(tmp) > 0)
			hits++; /* killed mid-write: a temporary file is left */
		check_visible(f);
		/* Start the next writer on an empty store: its "collector" step
		 * would otherwise unlink a chunk that this writer's leftover
		 * manifest still names (the chunks repeat across writers). */
		char cmd[9000];
		snprintf(cmd, sizeof cmd,
		    "rm -rf '%s/manifests/'* '%s/chunks/'*", f->storedir,
		    f->storedir);
		assert_int_equal(system(cmd), 0);
	}
	unprepare();
	print_message("kill -9: %d tries, %d mid-write\n", tries, hits);
	assert_true(hits > 0); /* the test did exercise a torn write */
	struct store *st2;
	assert_int_equal(store_open(f->storedir, &st2, err, sizeof err), 0);
	store_close(st2);
	assert_int_equal(unit_count_dir(tmp), 0);
	check_visible(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout_and_paths,
		    unit_store_setup, unit_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_chunks, unit_store_setup, unit_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_manifests, unit_store_setup, unit_store_teardown),
		cmocka_unit_test_setup_teardown(test_open_cleans_tmp,
		    unit_store_setup, unit_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_kill_atomicity, unit_store_setup, unit_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
