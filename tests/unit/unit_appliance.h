/*
 * tests/unit/unit_appliance.h — the fixture the tests of rackd's own files
 * (test_appliance_*.c) share: rackd set up the way main() sets it up
 * before it serves (the default configuration in conf, a state directory,
 * auth), in a scratch directory, and a new empty database for each test.
 *
 * Apart from unit.h because only the test_appliance_*.c binaries link
 * appliance/ and db/; static inline like unit.h.
 */
#ifndef RACKD_TESTS_UNIT_APPLIANCE_H
#define RACKD_TESTS_UNIT_APPLIANCE_H

#include "appliance/rackd.h"
#include "db/db.h"
#include "tests/unit/unit.h"

/*
 * Makes tmpdir (a mkdtemp(3) template) and sets rackd up in it. For a
 * cmocka group setup: 0, or -1 with the reason on stderr.
 */
static inline int
unit_appliance_setup(char *tmpdir)
{
	char *argv[] = { (char *)"rackd", NULL };
	char err[CONFIG_ERR_MAX];

	if (mkdtemp(tmpdir) == NULL)
		return -1;
	if (config_load(&conf, 1, argv, err, sizeof(err)) != 0 ||
	    statedir_open(tmpdir, err, sizeof(err)) != 0 ||
	    auth_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	return 0;
}

/* Undoes unit_appliance_setup: the configuration and tmpdir go. */
static inline int
unit_appliance_teardown(const char *tmpdir)
{
	config_free(&conf);
	unit_rm_rf(tmpdir);
	return 0;
}

/*
 * Opens a new database in tmpdir, a file of its own each call, so that
 * each test starts from an empty one. 0, or -1 with the reason on stderr.
 */
static inline int
unit_appliance_db_open(const char *tmpdir)
{
	static int n;
	char path[UNIT_PATH_MAX], err[UNIT_ERR_MAX];

	snprintf(path, sizeof(path), "%s/test%d.db", tmpdir, ++n);
	if (db_open(path, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "db_open: %s\n", err);
		return -1;
	}
	return 0;
}

/* m's check() of the JSON text js (any JSON value, NULs allowed in its
 * strings): its result, its error in err ("" when none). */
static inline int
unit_power_check(const struct power_method *m, const char *js, char *err,
    size_t errlen)
{
	json_t *s = json_loads(js, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	int rc;

	assert_non_null(s);
	err[0] = '\0';
	rc = m->check(s, err, errlen);
	json_decref(s);
	return rc;
}

#endif
