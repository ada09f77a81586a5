/* tests/unit/test_images_rootfs.c — the rules a root file system tarball
 * goes through (images/rootfs.h): name normalisation, symlink targets,
 * and the whole-archive rules of the tree (replaced names, members under
 * a non-directory, hard links, added parents, strict mode, the plan of
 * the cpio stream). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/rootfs.h"

/* ---- names ---- */

static void
norm_ok(const char *in, const char *want, unsigned want_notes)
{
	char out[ROOTFS_PATH_MAX + 1], why[256];
	unsigned notes = 99;
	enum rootfs_name rc =
	    rootfs_path_normalise(in, out, sizeof out, &notes, why, sizeof why);
	if (rc != ROOTFS_NAME_OK)
		fail_msg("'%s': rc %d (%s)", in, rc, why);
	assert_string_equal(out, want);
	assert_int_equal(notes, want_notes);
}

static void
norm_bad(const char *in, const char *why_part)
{
	char out[ROOTFS_PATH_MAX + 1], why[256] = "";
	enum rootfs_name rc =
	    rootfs_path_normalise(in, out, sizeof out, NULL, why, sizeof why);
	if (rc != ROOTFS_NAME_DROP)
		fail_msg("'%s': rc %d, want -1", in, rc);
	if (!strstr(why, why_part))
		fail_msg("'%s': why '%s' lacks '%s'", in, why, why_part);
}

static void
test_normalise_plain(void **state)
{
	(void)state;
	norm_ok("etc/passwd", "etc/passwd", 0);
	norm_ok("./etc/passwd", "etc/passwd", 0);
	norm_ok("etc//passwd", "etc/passwd", 0);
	norm_ok("etc/./passwd", "etc/passwd", 0);
	norm_ok("usr/lib/", "usr/lib", 0);
	norm_ok("./usr/./lib/.//x", "usr/lib/x", 0);
	norm_ok("...", "...", 0); /* a name, not a parent */
	norm_ok("a/..b/c..", "a/..b/c..", 0);
	/* bytes over 0x7f are names */
	norm_ok("caf\xc3\xa9", "caf\xc3\xa9", 0);
}

static void
test_normalise_absolute(void **state)
{
	(void)state;
	norm_ok("/etc/shadow", "etc/shadow", ROOTFS_NOTE_ABSOLUTE);
	norm_ok("///etc//shadow", "etc/shadow", ROOTFS_NOTE_ABSOLUTE);
	norm_ok("/./bin/sh", "bin/sh", ROOTFS_NOTE_ABSOLUTE);
}

static void
test_normalise_root(void **state)
{
	char out[16], why[64];
	(void)state;
	assert_int_equal(
	    rootfs_path_normalise(".", out, sizeof out, NULL, why, sizeof why),
	    ROOTFS_NAME_ROOT);
	assert_int_equal(
	    rootfs_path_normalise("./", out, sizeof out, NULL, why, sizeof why),
	    ROOTFS_NAME_ROOT);
	assert_int_equal(
	    rootfs_path_normalise("/", out, sizeof out, NULL, why, sizeof why),
	    ROOTFS_NAME_ROOT);
	assert_int_equal(rootfs_path_normalise(
			     "//./", out, sizeof out, NULL, why, sizeof why),
	    ROOTFS_NAME_ROOT);
}

static void
test_normalise_dotdot(void **state)
{
	(void)state;
	norm_bad("..", "'..'");
	norm_bad("../etc/passwd", "'..'");
	norm_bad("a/../b", "'..'"); /* even when it stays inside */
	norm_bad("/../../etc/shadow", "'..'");
	norm_bad("a/b/..", "'..'");
	norm_bad("./..", "'..'");
}

static void
test_normalise_limits(void **state)
{
	char name[ROOTFS_PATH_MAX + 64], out[ROOTFS_PATH_MAX + 1], why[128];
	(void)state;
	norm_bad("", "empty");
	norm_bad(NULL, "empty");
	norm_bad("a\nb", "control");
	norm_bad("a/b\x7f", "control");
	norm_bad("tab\there", "control");
	/* one component of 255 bytes is fine, 256 is not */
	memset(name, 'x', 255);
	name[255] = '\0';
	assert_int_equal(
	    rootfs_path_normalise(name, out, sizeof out, NULL, why, sizeof why),
	    ROOTFS_NAME_OK);
	memset(name, 'x', 256);
	name[256] = '\0';
	norm_bad(name, "component longer");
	/* a whole name of ROOTFS_PATH_MAX bytes is fine, one more is not */
	size_t n = 0;
	while (n + 101 <= ROOTFS_PATH_MAX) {
		memset(name + n, 'y', 100);
		name[n + 100] = '/';
		n += 101;
	}
	memset(name + n, 'z', ROOTFS_PATH_MAX - n);
	name[ROOTFS_PATH_MAX] = '\0';
	assert_int_equal(
	    rootfs_path_normalise(name, out, sizeof out, NULL, why, sizeof why),
	    ROOTFS_NAME_OK);
	assert_int_equal(strlen(out), ROOTFS_PATH_MAX);
	name[ROOTFS_PATH_MAX] = 'z';
	name[ROOTFS_PATH_MAX + 1] = '\0';
	norm_bad(name, "longer than");
	/* the caller's buffer is a limit too */
	assert_int_equal(
	    rootfs_path_normalise("abcdef", out, 4, NULL, why, sizeof why),
	    ROOTFS_NAME_DROP);
}

/* ---- symlinks ---- */

static void
test_symlinks(void **state)
{
	char why[128];
	(void)state;
	assert_int_equal(
	    rootfs_symlink_check("bin", "usr/bin", why, sizeof why), 0);
	assert_int_equal(
	    rootfs_symlink_check("etc/alt/x", "/usr/bin/x", why, sizeof why),
	    0);
	assert_int_equal(
	    rootfs_symlink_check("usr/lib/a/l", "../../b", why, sizeof why), 0);
	assert_int_equal(rootfs_symlink_check(
			     "usr/lib/a/l", "../../../etc/x", why, sizeof why),
	    0);
	assert_int_equal(rootfs_symlink_check("usr/lib/a/l",
			     "../../../../etc/x", why, sizeof why),
	    -1);
	assert_non_null(strstr(why, "out of the root"));
	assert_int_equal(rootfs_symlink_check("l", "..", why, sizeof why), -1);
	assert_int_equal(rootfs_symlink_check("l", ".", why, sizeof why), 0);
	/* down then up: never above the root on the way */
	assert_int_equal(
	    rootfs_symlink_check("a/l", "b/../../x", why, sizeof why), 0);
	assert_int_equal(
	    rootfs_symlink_check("a/l", "../../x/b", why, sizeof why), -1);
	assert_int_equal(
	    rootfs_symlink_check("a/l", ".//./../x", why, sizeof why), 0);
	assert_int_equal(rootfs_symlink_check("a/l", "", why, sizeof why), -1);
	assert_int_equal(
	    rootfs_symlink_check("a/l", NULL, why, sizeof why), -1);
	assert_int_equal(
	    rootfs_symlink_check("a/l", "x\ny", why, sizeof why), -1);
	char big[ROOTFS_LINK_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(rootfs_symlink_check("a/l", big, why, sizeof why), -1);
	big[ROOTFS_LINK_MAX] = '\0';
	assert_int_equal(rootfs_symlink_check("a/l", big, why, sizeof why), 0);
}

static void
test_prefix_printable(void **state)
{
	char out[8];
	(void)state;
	assert_int_equal(rootfs_path_prefix("a/bb/c", 6, 1), 1);
	assert_int_equal(rootfs_path_prefix("a/bb/c", 6, 2), 4);
	assert_int_equal(rootfs_path_prefix("a/bb/c", 6, 3), 0);
	assert_int_equal(rootfs_path_prefix("abc", 3, 1), 0);
	assert_string_equal(rootfs_printable("a\nb", out, sizeof out), "a?b");
	assert_string_equal(
	    rootfs_printable("abcdefghij", out, sizeof out), "abcd...");
	assert_string_equal(rootfs_printable(NULL, out, sizeof out), "(none)");
}

/* ---- the tree ---- */

struct got {
	char lines[64][300];
	int n;
	char warnings[32][300];
	int nwarn;
};

static void
on_warn(const char *msg, void *arg)
{
	struct got *g = arg;
	if (g->nwarn < 32)
		snprintf(
		    g->warnings[g->nwarn++], sizeof g->warnings[0], "%s", msg);
}

static int
on_emit(const struct rootfs_emit *e, void *arg)
{
	struct got *g = arg;
	static const char types[] = "?fdlhpDo";
	if (g->n < 64)
		snprintf(g->lines[g->n++], sizeof g->lines[0],
		    "%c %s%s%s ino=%u nlink=%u%s", types[e->meta.type], e->path,
		    e->symlink ? " -> " : "", e->symlink ? e->symlink : "",
		    e->ino, e->nlink, e->data ? " data" : "");
	return 0;
}

static void
add(struct rootfs_tree *t, const char *name, enum rootfs_type type,
    const char *link)
{
	struct rootfs_meta m = {
		.type = type, .perm = 0644, .size = type == ROOTFS_REG ? 5 : 0
	};
	char err[256];
	if (rootfs_tree_add(t, name, &m, link, err, sizeof err) != 0)
		fail_msg("add %s: %s", name, err);
}

static void
plan_all(struct rootfs_tree *t, struct got *g)
{
	char err[256];
	assert_int_equal(rootfs_tree_resolve(t, err, sizeof err), 0);
	for (size_t i = 0; i < rootfs_tree_members(t); i++)
		assert_int_equal(rootfs_tree_plan(t, i, on_emit, g), 0);
}

static bool
has_warning(const struct got *g, const char *part)
{
	for (int i = 0; i < g->nwarn; i++)
		if (strstr(g->warnings[i], part))
			return true;
	return false;
}

static void
test_tree_hostile(void **state)
{
	struct got g = { 0 };
	struct rootfs_tree *t = rootfs_tree_new(on_warn, &g);
	(void)state;
	assert_non_null(t);
	add(t, "./", ROOTFS_DIR, NULL);
	add(t, "/abs/file", ROOTFS_REG, NULL);
	add(t, "../../canary/x", ROOTFS_REG, NULL);
	add(t, "esc", ROOTFS_SYMLINK, "../../canary");
	add(t, "esc/through", ROOTFS_REG, NULL);
	/* kept: resolves inside the root */
	add(t, "lnk", ROOTFS_SYMLINK, "/etc");
	/* but nothing goes through it */
	add(t, "lnk/passwd", ROOTFS_REG, NULL);
	add(t, "file", ROOTFS_REG, NULL);
	add(t, "file/under", ROOTFS_REG, NULL);
	add(t, "hl-out", ROOTFS_HARDLINK, "../etc/passwd");
	add(t, "hl-missing", ROOTFS_HARDLINK, "/etc/shadow");
	add(t, "hl-ok", ROOTFS_HARDLINK, "/abs/file");
	add(t, "hl-dir", ROOTFS_HARDLINK, "abs");
	add(t, "dev/sda", ROOTFS_DEVICE, NULL);
	add(t, "dev/sda/x", ROOTFS_REG, NULL);
	add(t, "sock", ROOTFS_OTHER, NULL);
	add(t, "pipe", ROOTFS_FIFO, NULL);
	plan_all(t, &g);
	const char *want[] = {
		"d abs ino=18 nlink=1",
		"f abs/file ino=2 nlink=2 data",
		"l lnk -> /etc ino=6 nlink=1",
		"f file ino=8 nlink=1 data",
		"f hl-ok ino=2 nlink=2",
		"p pipe ino=17 nlink=1",
	};
	for (int i = 0; i < g.n; i++)
		print_message("emit: %s\n", g.lines[i]);
	assert_int_equal(g.n, (int)(sizeof want / sizeof want[0]));
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_string_equal(g.lines[i], want[i]);
	assert_true(has_warning(
	    &g, "'/abs/file' is an absolute name: stored as 'abs/file'"));
	assert_true(
	    has_warning(&g, "'../../canary/x' left out: has a '..' component"));
	assert_true(has_warning(
	    &g, "'esc' left out: a symlink pointing out of the root"));
	assert_true(has_warning(
	    &g, "'esc/through' left out: is under 'esc', which is a symlink"));
	assert_true(has_warning(
	    &g, "'lnk/passwd' left out: is under 'lnk', which is a symlink"));
	assert_true(has_warning(
	    &g, "'file/under' left out: is under 'file', which is a file"));
	assert_true(has_warning(
	    &g, "'hl-out' left out: is a hard link out of the root"));
	assert_true(has_warning(&g,
	    "'hl-missing' left out: is a hard link to '/etc/shadow', which is "
	    "not earlier"));
	assert_true(has_warning(&g,
	    "'hl-dir' left out: is a hard link to 'abs', which is not "
	    "earlier"));
	assert_true(has_warning(&g, "'dev/sda' left out: is a device node"));
	assert_true(has_warning(&g,
	    "'dev/sda/x' left out: is under 'dev/sda', which is a device "
	    "node"));
	assert_true(has_warning(&g, "'sock' left out: is a socket"));
	const struct rootfs_stats *s = rootfs_tree_stats(t);
	assert_int_equal(s->members, 17);
	assert_int_equal(s->kept, 5);
	assert_int_equal(s->dropped, 11);
	assert_int_equal(s->normalised, 1);
	assert_int_equal(s->dirs_added, 1);
	assert_int_equal(s->hardlinks, 1);
	rootfs_tree_free(t);
}

static void
test_tree_order_and_replace(void **state)
{
	struct got g = { 0 };
	struct rootfs_tree *t = rootfs_tree_new(on_warn, &g);
	(void)state;
	/* a child before its directory; the directory then comes later */
	add(t, "a/b/c", ROOTFS_REG, NULL);
	add(t, "a/b", ROOTFS_DIR, NULL);
	add(t, "x", ROOTFS_REG, NULL);
	add(t, "y", ROOTFS_HARDLINK, "x");
	/* replaces x: y's file is gone */
	add(t, "x", ROOTFS_SYMLINK, "target");
	add(t, "d", ROOTFS_DIR, NULL);
	add(t, "d", ROOTFS_DIR, NULL); /* a directory twice: no warning */
	plan_all(t, &g);
	const char *want[] = {
		"d a ino=8 nlink=1",
		"d a/b ino=2 nlink=1",
		"f a/b/c ino=1 nlink=1 data",
		"l x -> target ino=5 nlink=1",
		"d d ino=7 nlink=1",
	};
	for (int i = 0; i < g.n; i++)
		print_message("emit: %s\n", g.lines[i]);
	assert_int_equal(g.n, (int)(sizeof want / sizeof want[0]));
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_string_equal(g.lines[i], want[i]);
	assert_true(has_warning(
	    &g, "'x' appears again in the archive: the later member wins"));
	assert_true(has_warning(&g,
	    "'y' left out: is a hard link to 'x', which is replaced later"));
	assert_false(has_warning(&g, "'d' appears again"));
	rootfs_tree_free(t);
}

static void
test_tree_hardlink_chain(void **state)
{
	struct got g = { 0 };
	struct rootfs_tree *t = rootfs_tree_new(on_warn, &g);
	(void)state;
	add(t, "f", ROOTFS_REG, NULL);
	add(t, "l1", ROOTFS_HARDLINK, "f");
	/* a link to a link: the same file */
	add(t, "l2", ROOTFS_HARDLINK, "./l1");
	plan_all(t, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.lines[0], "f f ino=1 nlink=3 data");
	assert_string_equal(g.lines[1], "f l1 ino=1 nlink=3");
	assert_string_equal(g.lines[2], "f l2 ino=1 nlink=3");
	assert_int_equal(g.nwarn, 0);
	rootfs_tree_free(t);
}

static void
test_tree_strict(void **state)
{
	struct got g = { 0 };
	struct rootfs_tree *t = rootfs_tree_new(on_warn, &g);
	struct rootfs_meta m = { .type = ROOTFS_REG };
	char err[256];
	(void)state;
	rootfs_tree_set_strict(t, true);
	assert_int_equal(rootfs_tree_add(t, "/abs", &m, NULL, err, sizeof err),
	    0); /* a note, fine */
	assert_int_equal(
	    rootfs_tree_add(t, "a/../b", &m, NULL, err, sizeof err), -1);
	assert_non_null(
	    strstr(err, "refused (strict): 'a/../b': has a '..' component"));
	rootfs_tree_free(t);

	/* a rule of the whole archive refuses in resolve */
	t = rootfs_tree_new(on_warn, &g);
	rootfs_tree_set_strict(t, true);
	m.type = ROOTFS_SYMLINK;
	assert_int_equal(
	    rootfs_tree_add(t, "l", &m, "/etc", err, sizeof err), 0);
	m.type = ROOTFS_REG;
	assert_int_equal(
	    rootfs_tree_add(t, "l/x", &m, NULL, err, sizeof err), 0);
	assert_int_equal(rootfs_tree_resolve(t, err, sizeof err), -1);
	assert_non_null(strstr(err, "'l/x': is under 'l', which is a symlink"));
	rootfs_tree_free(t);
}

static void
test_tree_limits(void **state)
{
	struct got g = { 0 };
	struct rootfs_tree *t = rootfs_tree_new(on_warn, &g);
	struct rootfs_meta m = { .type = ROOTFS_REG,
		.size = ROOTFS_FILE_MAX + 1 };
	char err[256];
	enum rootfs_type type;
	uint64_t size;
	(void)state;
	assert_int_equal(
	    rootfs_tree_add(t, "huge", &m, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "larger than"));
	m.size = 7;
	m.type = ROOTFS_DIR; /* size of a non-file is not kept */
	assert_int_equal(rootfs_tree_add(t, "d", &m, NULL, err, sizeof err), 0);
	assert_int_equal(rootfs_tree_member(t, 1, &type, &size), 0);
	assert_int_equal(type, ROOTFS_DIR);
	assert_int_equal(size, 0);
	assert_int_equal(rootfs_tree_member(t, 2, &type, &size), -1);
	assert_int_equal(rootfs_tree_resolve(t, err, sizeof err), 0);
	/* once */
	assert_int_equal(rootfs_tree_resolve(t, err, sizeof err), -1);
	assert_int_equal(
	    rootfs_tree_add(t, "late", &m, NULL, err, sizeof err), -1);
	assert_int_equal(rootfs_tree_plan(t, 99, on_emit, &g), -1);
	rootfs_tree_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise_plain),
		cmocka_unit_test(test_normalise_absolute),
		cmocka_unit_test(test_normalise_root),
		cmocka_unit_test(test_normalise_dotdot),
		cmocka_unit_test(test_normalise_limits),
		cmocka_unit_test(test_symlinks),
		cmocka_unit_test(test_prefix_printable),
		cmocka_unit_test(test_tree_hostile),
		cmocka_unit_test(test_tree_order_and_replace),
		cmocka_unit_test(test_tree_hardlink_chain),
		cmocka_unit_test(test_tree_strict),
		cmocka_unit_test(test_tree_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
