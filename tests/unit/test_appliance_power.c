/*
 * tests/unit/test_appliance_power.c — per-slot power settings
 * (appliance/power.c): the coercion of text from the configuration file
 * and JSON values from the API, the checks of settings and of [power.SLOT]
 * sections, secrets hidden, PATCHed settings kept 0600 and winning over
 * the file's; and the polling's rules (power_poll.c): the rate limiter,
 * a slot's interval, and no status call after three failures in a row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>

#include "tests/unit/unit_appliance.h"

static char tmpdir[] = "/tmp/rackd-power-XXXXXX";

static int
group_setup(void **state)
{
	char err[ERR_MAX];

	(void)state;
	if (unit_appliance_setup(tmpdir) != 0 ||
	    unit_appliance_db_open(tmpdir) != 0)
		return -1;
	if (power_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "power_init: %s\n", err);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	db_close();
	return unit_appliance_teardown(tmpdir);
}

static json_t *
js(const char *text)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

	assert_non_null(j);
	return j;
}

static void
test_int(void **state)
{
	json_t *s = js("{\"a\": \"5\", \"b\": 7, \"c\": \"5x\", \"d\": \"\","
	    "\"e\": 99, \"f\": true, \"g\": \"-3\", \"h\": \" 5\"}");
	char err[ERR_MAX];
	int v;

	(void)state;
	assert_int_equal(power_setting_int(s, "a", 1, 1, 60, &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, 5);
	assert_int_equal(power_setting_int(s, "b", 1, 1, 60, &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, 7);
	assert_int_equal(power_setting_int(s, "none", 15, 1, 60, &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, 15);
	assert_int_equal(power_setting_int(s, "c", 1, 1, 60, &v, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "c: a whole number from 1 to 60");
	assert_int_equal(power_setting_int(s, "d", 1, 1, 60, &v, err,
	    sizeof(err)), -1);
	assert_int_equal(power_setting_int(s, "e", 1, 1, 60, &v, err,
	    sizeof(err)), -1);
	assert_int_equal(power_setting_int(s, "f", 1, 1, 60, &v, err,
	    sizeof(err)), -1);
	assert_int_equal(power_setting_int(s, "g", 1, 1, 60, &v, err,
	    sizeof(err)), -1);
	assert_int_equal(power_setting_int(s, "h", 1, 1, 60, &v, err,
	    sizeof(err)), -1);
	json_decref(s);
}

static void
test_bool(void **state)
{
	json_t *s = js("{\"a\": \"yes\", \"b\": \"no\", \"c\": true, "
	    "\"d\": false, \"e\": \"maybe\", \"f\": \"TRUE\", \"g\": 2, "
	    "\"h\": 1, \"i\": null}");
	char err[ERR_MAX];
	int v;

	(void)state;
	assert_int_equal(power_setting_bool(s, "a", 0, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, 1);
	assert_int_equal(power_setting_bool(s, "b", 1, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, 0);
	assert_int_equal(power_setting_bool(s, "c", 0, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, 1);
	assert_int_equal(power_setting_bool(s, "d", 1, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, 0);
	assert_int_equal(power_setting_bool(s, "f", 0, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, 1);
	assert_int_equal(power_setting_bool(s, "none", 1, &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v, 1);
	assert_int_equal(power_setting_bool(s, "e", 0, &v, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "e: yes or no (true or false)");
	assert_int_equal(power_setting_bool(s, "g", 0, &v, err, sizeof(err)),
	    -1);
	assert_int_equal(power_setting_bool(s, "h", 0, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, 1);
	assert_int_equal(power_setting_bool(s, "i", 1, &v, err, sizeof(err)),
	    0);
	assert_int_equal(v, 1);
	assert_string_equal(power_setting_str(s, "a", NULL), "yes");
	assert_null(power_setting_str(s, "c", "x"));
	assert_string_equal(power_setting_str(s, "none", "x"), "x");
	json_decref(s);
}

static void
settings_case(const char *text, const char *want)
{
	json_t *s = js(text);
	char err[ERR_MAX] = "";
	int rc = power_settings_check(s, err, sizeof(err));

	if (want == NULL) {
		if (rc != 0)
			fail_msg("%s refused: %s", text, err);
	} else {
		if (rc == 0)
			fail_msg("%s taken", text);
		if (strstr(err, want) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", text, err, want);
	}
	json_decref(s);
}

static void
test_check(void **state)
{
	(void)state;
	settings_case("{\"method\": \"command\", \"program\": \"/bin/sh\"}",
	    NULL);
	settings_case("{\"method\": \"command\", \"program\": \"/bin/sh\", "
	    "\"timeout\": \"60\", \"password\": \"x\"}", NULL);
	settings_case("{\"method\": \"command\", \"program\": \"/bin/sh\", "
	    "\"timeout\": 61}", "timeout: a whole number from 1 to 60");
	settings_case("{\"method\": \"command\", \"program\": \"sh\"}",
	    "program: the absolute path");
	settings_case("{\"method\": \"command\", "
	    "\"program\": \"/nonexistent\"}",
	    "No such file");
	settings_case("{\"method\": \"command\", \"program\": \"/bin/sh\", "
	    "\"user\": \"x\"}", "unknown key 'user'");
	settings_case("{\"method\": \"wol\"}", NULL);
	settings_case("{\"method\": \"wol\", \"port\": \"9\", "
	    "\"broadcast\": \"10.0.0.255\"}", NULL);
	settings_case("{\"method\": \"wol\", \"broadcast\": \"x\"}",
	    "broadcast: an IPv4 address");
	settings_case("{\"method\": \"wol\", \"port\": 70000}", "port:");
	settings_case("{\"method\": \"teleport\"}", "method: one of");
	settings_case("{}", "method: one of");
	settings_case("[]", "an object");
	settings_case("{\"method\": \"wol\", \"port\": [9]}",
	    "port: a string, a whole number or true/false");
	settings_case("{\"method\": \"wol\", \"Port\": 9}", "not a key name");
	settings_case("{\"method\": \"wol\", \"port\": \"9\\u0000\"}",
	    "holds a NUL");
	settings_case("{\"method\": \"wol\", \"a\":1, \"b\":1, \"c\":1, "
	    "\"d\":1, \"e\":1, \"f\":1, \"g\":1, \"h\":1, \"i\":1, \"j\":1, "
	    "\"k\":1, \"l\":1, \"m\":1, \"n\":1, \"o\":1, \"p\":1}",
	    "more than 16 keys");
}

static void
test_secrets(void **state)
{
	json_t *s = js("{\"method\": \"command\", \"program\": \"/bin/sh\", "
	    "\"password\": \"hunter2\"}");
	json_t *p = power_settings_public(s);
	char *text = json_dumps(p, 0);

	(void)state;
	assert_non_null(text);
	assert_null(strstr(text, "hunter2"));
	assert_true(json_is_true(json_object_get(json_object_get(p,
	    "password"), "set")));
	assert_string_equal(power_setting_str(p, "program", NULL), "/bin/sh");
	/* the original keeps its secret, for the method */
	assert_string_equal(power_setting_str(s, "password", NULL), "hunter2");
	free(text);
	json_decref(p);
	json_decref(s);
}

static void
test_config_sections(void **state)
{
	char path[UNIT_PATH_MAX], err[CONFIG_ERR_MAX];
	struct config cfg;
	const char *good = "[rackd]\nslots = n1\n[power.n1]\nmethod = "
	    "command\nprogram = /bin/sh\ntimeout = 5\n";
	const char *bad = "[power.n1]\nmethod = command\nprogram = /bin/sh\n"
	    "timeout = 0\n";
	const char *twice = "[power.n1]\nmethod = wol\nmethod = wol\n";
	const char *badslot = "[power.a/b]\nmethod = wol\n";

	(void)state;
	snprintf(path, sizeof(path), "%s/rackd.conf", tmpdir);
	memset(&cfg, 0, sizeof(cfg));
	unit_write(path, good, strlen(good));
	assert_int_equal(config_read_file(&cfg, path, err, sizeof(err)), 0);
	assert_string_equal(power_setting_str(json_object_get(cfg.power,
	    "n1"), "timeout", NULL), "5");
	assert_int_equal(power_config_check(&cfg, err, sizeof(err)), 0);
	config_free(&cfg);

	memset(&cfg, 0, sizeof(cfg));
	unit_write(path, bad, strlen(bad));
	assert_int_equal(config_read_file(&cfg, path, err, sizeof(err)), 0);
	assert_int_equal(power_config_check(&cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "[power.n1] timeout: a whole number"));
	config_free(&cfg);

	memset(&cfg, 0, sizeof(cfg));
	unit_write(path, twice, strlen(twice));
	assert_int_equal(config_read_file(&cfg, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "[power.n1] method: given twice"));
	config_free(&cfg);

	memset(&cfg, 0, sizeof(cfg));
	unit_write(path, badslot, strlen(badslot));
	assert_int_equal(config_read_file(&cfg, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a slot name"));
	config_free(&cfg);
}

static void
test_patched_wins(void **state)
{
	json_t *file = js("{\"n1\": {\"method\": \"wol\", \"port\": \"7\"}}");
	json_t *patch = js("{\"method\": \"command\", \"program\": "
	    "\"/bin/sh\", \"password\": \"pw\"}");
	char err[ERR_MAX], path[UNIT_PATH_MAX];
	struct stat st;
	json_t *s;

	(void)state;
	power_config_use(file);
	s = power_settings_get("n1");
	assert_string_equal(power_setting_str(s, "method", NULL), "wol");
	json_decref(s);
	assert_null(power_settings_get("n2"));

	assert_int_equal(power_settings_set("n1", patch, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/power/n1.json", tmpdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	s = power_settings_get("n1");
	assert_string_equal(power_setting_str(s, "method", NULL), "command");
	assert_int_equal(power_caps(s), POWER_CAN(POWER_ON) |
	    POWER_CAN(POWER_OFF) | POWER_CAN(POWER_CYCLE) |
	    POWER_CAN(POWER_STATUS));
	json_decref(s);

	/* bad settings are refused, and the good ones stay */
	json_object_set_new(patch, "timeout", json_string("0"));
	assert_int_equal(power_settings_set("n1", patch, err, sizeof(err)),
	    -1);
	s = power_settings_get("n1");
	assert_null(json_object_get(s, "timeout"));
	json_decref(s);

	assert_int_equal(power_settings_set("n1", NULL, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), -1);
	s = power_settings_get("n1");
	assert_string_equal(power_setting_str(s, "method", NULL), "wol");
	json_decref(s);
	power_config_use(NULL);
	json_decref(patch);
	json_decref(file);
}

static void
test_caps_text(void **state)
{
	char buf[ERR_MAX];

	(void)state;
	power_caps_text(POWER_CAN(POWER_ON), buf, sizeof(buf));
	assert_string_equal(buf, "on");
	power_caps_text(POWER_CAN(POWER_ON) | POWER_CAN(POWER_CYCLE) |
	    POWER_CAN(POWER_BOOT_NET), buf, sizeof(buf));
	assert_string_equal(buf, "on, cycle, boot_net");
	power_caps_text(0, buf, sizeof(buf));
	assert_string_equal(buf, "nothing");
	assert_string_equal(power_op_name(POWER_BOOT_DISK), "boot_disk");
	assert_string_equal(power_state_name(POWER_IS_OFF), "off");
	assert_string_equal(power_method_note("wol"),
	    "Wake-on-LAN can only switch on");
	assert_null(power_method_note("command"));
}

static void
test_rate(void **state)
{
	struct power_rate r = { 0, 0 };
	int got = 0;

	(void)state;
	for (int i = 0; i < 10; i++)
		got += power_rate_take(&r, 5000 + i * 10);
	assert_int_equal(got, POWER_POLLS_PER_SECOND);
	assert_int_equal(power_rate_take(&r, 5999), 0);
	assert_int_equal(power_rate_take(&r, 6000), 1);	/* a new second */
	got = 1;
	for (int i = 0; i < 10; i++)
		got += power_rate_take(&r, 6500);
	assert_int_equal(got, POWER_POLLS_PER_SECOND);
}

static void
test_due(void **state)
{
	struct power_poll p = { 0, 0, 0 };

	(void)state;
	assert_true(power_poll_due(&p, 1000));		/* never asked */
	p.last_ms = 1000;
	assert_false(power_poll_due(&p, 1000 + 9999));
	assert_true(power_poll_due(&p, 1000 + POWER_POLL_SECONDS * 1000));
	p.busy = 1;
	assert_false(power_poll_due(&p, 100000));	/* one at a time */
	p.busy = 0;
	p.fails = POWER_FAILS_MAX - 1;
	assert_true(power_poll_due(&p, 100000));
	p.fails = POWER_FAILS_MAX;
	assert_false(power_poll_due(&p, 1000000));	/* stopped */
}

/* Three failures in a row stop a slot's polling and show the error; a
 * success starts it again. */
static void
test_stop_after_failures(void **state)
{
	json_t *file = js("{\"n3\": {\"method\": \"command\", \"program\": "
	    "\"/bin/false\", \"password\": \"pw\"}}");
	json_t *node = js("{\"slot\": \"n3\"}"), *p;
	char *text;

	(void)state;
	power_config_use(file);
	for (int i = 0; i < POWER_FAILS_MAX; i++)
		power_poll_note("n3", POWER_STATUS, POWER_UNKNOWN,
		    "BMC: wrong password");
	power_node_json(node);
	p = json_object_get(node, "power");
	assert_string_equal(power_setting_str(p, "error", NULL),
	    "BMC: wrong password");
	assert_string_equal(power_setting_str(p, "state", NULL), "unknown");
	assert_non_null(strstr(power_setting_str(p, "note", ""), "3 times"));
	text = json_dumps(p, 0);
	assert_non_null(text);
	assert_null(strstr(text, "\"pw\""));
	free(text);

	power_poll_note("n3", POWER_ON, POWER_IS_ON, NULL);
	power_node_json(node);
	p = json_object_get(node, "power");
	assert_true(json_is_null(json_object_get(p, "error")));
	assert_string_equal(power_setting_str(p, "state", NULL), "on");
	assert_null(json_object_get(p, "note"));
	power_config_use(NULL);
	json_decref(node);
	json_decref(file);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_config_sections),
		cmocka_unit_test(test_patched_wins),
		cmocka_unit_test(test_caps_text),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_stop_after_failures),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
