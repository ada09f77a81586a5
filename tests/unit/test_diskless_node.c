/* tests/unit/test_diskless_node.c — rack-diskless's parts that need no
 * network: the overlay's rules (paths, hostname, limits), writing it inside
 * a root whose symlinks point out of it, and the feed (chunks checked
 * against the manifest, holes, order, sizes). */
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
#include <sys/stat.h>
#include <unistd.h>

#include "images/hash.h"
#include "pxe/diskless/diskless.h"
#include "tests/unit/unit.h"

/* ---- overlay_parse ---- */

static int
parse(const char *json, struct overlay *o, char *err, size_t errlen)
{
	return overlay_parse(json, strlen(json), o, err, errlen);
}

static void
test_overlay_parse_ok(void **state)
{
	struct overlay o;
	char err[256];
	(void)state;
	assert_int_equal(
	    parse("{\"hostname\":\"U12\",\"files\":["
		  "{\"path\":\"etc/"
		  "hostname\",\"type\":\"file\",\"mode\":420,\"content\":"
		  "\"U12\\n\"},"
		  "{\"path\":\"root/.ssh\",\"type\":\"dir\",\"mode\":448}]}",
		&o, err, sizeof err),
	    0);
	assert_string_equal(o.hostname, "U12");
	assert_int_equal(o.nfiles, 2);
	assert_string_equal(o.files[0].path, "etc/hostname");
	assert_false(o.files[0].dir);
	assert_int_equal(o.files[0].mode, 0644);
	assert_string_equal(o.files[0].content, "U12\n");
	assert_true(o.files[1].dir);
	assert_int_equal(o.files[1].mode, 0700);
	overlay_free(&o);
}

static void
test_overlay_parse_bad(void **state)
{
	static const char *const bad[] = {
		"not json",
		"{\"files\":[]}",			/* no hostname */
		"{\"hostname\":\"\",\"files\":[]}",
		"{\"hostname\":\"a.b\",\"files\":[]}",	/* not one label */
		"{\"hostname\":\"a b\",\"files\":[]}",
		"{\"hostname\":\"h\"}",			/* no files */
		"{\"hostname\":\"h\",\"files\":[{\"path\":\"../etc/x\","
		    "\"type\":\"file\",\"mode\":420,\"content\":\"\"}]}",
		"{\"hostname\":\"h\",\"files\":[{\"path\":\"/etc/x\","
		    "\"type\":\"file\",\"mode\":420,\"content\":\"\"}]}",
		"{\"hostname\":\"h\",\"files\":[{\"path\":\"etc/../x\","
		    "\"type\":\"file\",\"mode\":420,\"content\":\"\"}]}",
		"{\"hostname\":\"h\",\"files\":[{\"path\":\"etc//x\","
		    "\"type\":\"file\",\"mode\":420,\"content\":\"\"}]}",
		"{\"hostname\":\"h\",\"files\":[{\"path\":\"etc/./x\","
		    "\"type\":\"file\",\"mode\":420,\"content\":\"\"}]}",
		"{\"hostname\":\"h\",\"files\":[{\"path\":\"etc/x/\","
		    "\"type\":\"file\",\"mode\":420,\"content\":\"\"}]}",
		"{\"hostname\":\"h\",\"files\":[{\"path\":\"etc/x\","
		    "\"type\":\"file\",\"mode\":420}]}",
		"{\"hostname\":\"h\",\"files\":[{\"path\":\"etc/x\","
		    "\"type\":\"link\",\"mode\":420,\"content\":\"\"}]}",
		"{\"hostname\":\"h\",\"files\":[{\"path\":\"etc/x\","
		    "\"type\":\"file\",\"mode\":4096,\"content\":\"\"}]}",
		"{\"hostname\":\"h\",\"files\":[{\"path\":\"etc/x\","
		    "\"type\":\"file\",\"mode\":-1,\"content\":\"\"}]}",
		"{\"hostname\":\"h\",\"files\":[{\"path\":\"e\\ntc\","
		    "\"type\":\"dir\",\"mode\":493}]}",
		/* duplicate key */
		"{\"hostname\":\"h\",\"hostname\":\"i\",\"files\":[]}",
	};
	char err[256];
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct overlay o;
		if (parse(bad[i], &o, err, sizeof err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(o.nfiles, 0);
	}
	/* more files than the limit */
	char big[8192] = "{\"hostname\":\"h\",\"files\":[";
	for (int i = 0; i <= DL_OVERLAY_FILES_MAX; i++)
		strcat(big,
		    i ? ",{\"path\":\"d\",\"type\":\"dir\",\"mode\":493}"
		      : "{\"path\":\"d\",\"type\":\"dir\",\"mode\":493}");
	strcat(big, "]}");
	struct overlay o;
	assert_int_equal(parse(big, &o, err, sizeof err), -1);
	assert_non_null(strstr(err, "at most"));
}

/* ---- overlay_apply inside a hostile root ---- */

static void
test_overlay_apply_in_root(void **state)
{
	char *dir = tu_mkdtemp(), root[2048], outside[2048], p[4400], err[256];
	struct overlay o;
	(void)state;
	assert_non_null(dir);
	snprintf(root, sizeof root, "%s/root", dir);
	snprintf(outside, sizeof outside, "%s/outside", dir);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	/* the image: etc is an absolute symlink, root/.ssh a relative one out,
	 * var/lib a symlink to the outside folder by its absolute path */
	snprintf(p, sizeof p, "%s/etc", root);
	assert_int_equal(symlink("/target", p), 0);
	snprintf(p, sizeof p, "%s/target", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/root", root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/root/.ssh", root);
	assert_int_equal(symlink("../../../outside", p), 0);
	snprintf(p, sizeof p, "%s/var", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/var/lib", root);
	assert_int_equal(symlink(outside, p), 0);
	/* a file that is a symlink out: replaced, its target untouched */
	snprintf(p, sizeof p, "%s/victim", outside);
	assert_int_equal(tu_write_file(p, "keep", 4), 0);
	snprintf(p, sizeof p, "%s/motd", root);
	char victim[4300];
	snprintf(victim, sizeof victim, "%s/victim", outside);
	assert_int_equal(symlink(victim, p), 0);

	assert_int_equal(parse("{\"hostname\":\"n1\",\"files\":["
			       "{\"path\":\"etc/"
			       "hostname\",\"type\":\"file\",\"mode\":420,"
			       "\"content\":\"n1\\n\"},"
			       "{\"path\":\"root/.ssh/"
			       "authorized_keys\",\"type\":\"file\",\"mode\":"
			       "384,\"content\":\"k\\n\"},"
			       "{\"path\":\"var/lib/cloud/"
			       "seed\",\"type\":\"dir\",\"mode\":493},"
			       "{\"path\":\"motd\",\"type\":\"file\",\"mode\":"
			       "420,\"content\":\"hi\\n\"}]}",
			     &o, err, sizeof err),
	    0);
	if (overlay_apply(root, &o, err, sizeof err) != 0)
		fail_msg("apply: %s", err);
	overlay_free(&o);

	size_t n;
	char *got;
	/* etc -> /target, inside */
	snprintf(p, sizeof p, "%s/target/hostname", root);
	assert_non_null(got = tu_read_file(p, &n));
	assert_string_equal(got, "n1\n");
	free(got);
	/* ../../../outside from root/ climbs no higher than the root, where
	 * nothing is: the dangling link becomes the directory */
	snprintf(p, sizeof p, "%s/root/.ssh/authorized_keys", root);
	assert_non_null(got = tu_read_file(p, &n));
	assert_string_equal(got, "k\n");
	free(got);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* the absolute var/lib -> OUTSIDE resolves inside the root, where it
	 * dangles: it becomes a directory of the root */
	snprintf(p, sizeof p, "%s/var/lib/cloud/seed", root);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	snprintf(p, sizeof p, "%s/var/lib", root);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* nothing in the real outside folder but the victim, unchanged */
	snprintf(p, sizeof p, "%s/authorized_keys", outside);
	assert_int_not_equal(access(p, F_OK), 0);
	snprintf(p, sizeof p, "%s/cloud", outside);
	assert_int_not_equal(access(p, F_OK), 0);
	assert_non_null(got = tu_read_file(victim, &n));
	assert_string_equal(got, "keep");
	free(got);
	snprintf(p, sizeof p, "%s/motd", root);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	tu_rm_rf(dir);
	free(dir);
}

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
	f->dir = tu_mkdtemp();
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
	tu_rm_rf(f->dir);
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
	char *got = tu_read_file(f->outpath, &n);
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
		cmocka_unit_test(test_overlay_parse_ok),
		cmocka_unit_test(test_overlay_parse_bad),
		cmocka_unit_test(test_overlay_apply_in_root),
		cmocka_unit_test_setup_teardown(
		    test_feed_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_feed_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_feed_dead_reader, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
