/* tests/unit/test_images_rootfs_path.c — the rules each name of a root
 * file system tarball goes through (images/rootfs_path.c): name
 * normalisation, symlink targets, prefixes and the printable form. */
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
