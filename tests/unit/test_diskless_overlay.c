/* tests/unit/test_diskless_overlay.c — rack-diskless's overlay
 * (pxe/diskless/overlay.c): its rules (paths, hostname, limits) and
 * writing it inside a root whose symlinks point out of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	char *dir = unit_mkdtemp(), root[2048], outside[2048], p[4400];
	char err[256];
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
	assert_int_equal(unit_write_file(p, "keep", 4), 0);
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
	assert_non_null(got = unit_read_file(p, &n));
	assert_string_equal(got, "n1\n");
	free(got);
	/* ../../../outside from root/ climbs no higher than the root, where
	 * nothing is: the dangling link becomes the directory */
	snprintf(p, sizeof p, "%s/root/.ssh/authorized_keys", root);
	assert_non_null(got = unit_read_file(p, &n));
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
	assert_non_null(got = unit_read_file(victim, &n));
	assert_string_equal(got, "keep");
	free(got);
	snprintf(p, sizeof p, "%s/motd", root);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unit_rm_rf(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlay_parse_ok),
		cmocka_unit_test(test_overlay_parse_bad),
		cmocka_unit_test(test_overlay_apply_in_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
