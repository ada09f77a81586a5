/* tests/unit/test_images_rootfs_tree.c — the whole-archive rules of a
 * root file system tarball (images/rootfs_tree.c): replaced names, members
 * under a non-directory, hard links, added parents, strict mode, the plan
 * of the cpio stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/rootfs.h"

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

/* The plan is the lines want, in order (all printed first, to compare). */
static void
expect_plan(const struct got *g, const char *const *want, size_t n)
{
	for (int i = 0; i < g->n; i++)
		print_message("emit: %s\n", g->lines[i]);
	assert_int_equal(g->n, (int)n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(g->lines[i], want[i]);
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
	expect_plan(&g, want, sizeof want / sizeof want[0]);
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
	expect_plan(&g, want, sizeof want / sizeof want[0]);
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
	const char *want[] = {
		"f f ino=1 nlink=3 data",
		"f l1 ino=1 nlink=3",
		"f l2 ino=1 nlink=3",
	};
	expect_plan(&g, want, sizeof want / sizeof want[0]);
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
		cmocka_unit_test(test_tree_hostile),
		cmocka_unit_test(test_tree_order_and_replace),
		cmocka_unit_test(test_tree_hardlink_chain),
		cmocka_unit_test(test_tree_strict),
		cmocka_unit_test(test_tree_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
