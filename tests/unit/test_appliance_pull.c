/*
 * test_appliance_pull.c — the pure parts of a pull (pull_parse.c, and
 * config.c's options): a base URL and a path
 * joined by one slash (or refused when too long), the order sources are
 * tried in (those up as configured, then those marked down, soonest back
 * first, each once), the pull request's body, and a fetched manifest of
 * another image refused; image_sources and pull_trust as options; the
 * subscription's window (HH:MM-HH:MM, over midnight too), its patterns
 * (NAME, NAME:GLOB), an origin's index.json, and their options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "images/manifest.h"

static void
test_url_join(void **state)
{
	char out[64];

	assert_int_equal(pull_url_join("http://c:8080", "chunks/ab", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "http://c:8080/chunks/ab");
	assert_int_equal(pull_url_join("http://c/site//", "/manifests/a/1.json",
	    out, sizeof(out)), 0);
	assert_string_equal(out, "http://c/site/manifests/a/1.json");
	assert_int_equal(pull_url_join("http://c", "", out, sizeof(out)), 0);
	assert_string_equal(out, "http://c/");
	assert_int_equal(pull_url_join("http://a-long-host-name.example",
	    "chunks/0123456789abcdef0123456789", out, 40), -1);
}

static void
test_source_order(void **state)
{
	int64_t down[4] = { 0, 0, 0, 0 };
	size_t order[4];

	/* all up: as configured */
	assert_int_equal(pull_source_order(3, down, 1000, order), 3);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 2);
	/* the first down (the cache): the origin first, the cache last */
	down[0] = 5000;
	assert_int_equal(pull_source_order(3, down, 1000, order), 3);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 0);
	/* back once its time has passed */
	assert_int_equal(pull_source_order(3, down, 5000, order), 3);
	assert_int_equal(order[0], 0);
	/* all down: the soonest back first */
	down[0] = 9000;
	down[1] = 7000;
	down[2] = 8000;
	down[3] = 7500;
	assert_int_equal(pull_source_order(4, down, 1000, order), 4);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 3);
	assert_int_equal(order[2], 2);
	assert_int_equal(order[3], 0);
	/* one up among the down: it first, then the others by time */
	down[2] = 0;
	assert_int_equal(pull_source_order(4, down, 1000, order), 4);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 3);
	assert_int_equal(order[3], 0);
	assert_int_equal(pull_source_order(0, down, 1000, order), 0);
}

static void
test_request(void **state)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char err[ERR_MAX];
	const char *ok = "{\"image\": \"debian:12.5\"}";
	const char *bad[] = {
		"", "[]", "{}", "{\"image\": 3}", "{\"image\": \"debian\"}",
		"{\"image\": \"de bian:1\"}", "{\"image\": \"a:1\", \"x\": 1}",
		"{\"image\": \"a:1\", \"image\": \"b:1\"}",
		"{\"image\": \"a:1\"",
	};

	assert_int_equal(pull_parse_request(ok, strlen(ok), name, version, err,
	    sizeof(err)), 0);
	assert_string_equal(name, "debian");
	assert_string_equal(version, "12.5");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pull_parse_request(bad[i], strlen(bad[i]),
		    name, version, err, sizeof(err)), -1);
}

static void
test_manifest_check(void **state)
{
	struct manifest *m = manifest_new(), *out = NULL;
	char err[ERR_MAX], *text;

	assert_non_null(m);
	snprintf(m->name, sizeof(m->name), "app");
	snprintf(m->version, sizeof(m->version), "2");
	m->size = 0;
	text = manifest_to_json(m);
	assert_non_null(text);
	assert_int_equal(pull_manifest_check(text, strlen(text), "app", "2",
	    &out, err, sizeof(err)), 0);
	assert_non_null(out);
	manifest_free(out);
	out = NULL;
	assert_int_equal(pull_manifest_check(text, strlen(text), "app", "1",
	    &out, err, sizeof(err)), -1);
	assert_null(out);
	assert_non_null(strstr(err, "app:2"));
	assert_int_equal(pull_manifest_check("{", 1, "app", "2", &out, err,
	    sizeof(err)), -1);
	free(text);
	manifest_free(m);
}

static void
test_options(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	char a0[] = "rackd", a1[] = "--image-sources",
	    a2[] = "http://cache:3128/images,https://origin/x", a3[] =
	    "--pull-trust=yes";
	char b1[] = "--image-sources", b2[] = "ftp://x/";
	char *argv[] = { a0, a1, a2, a3, NULL };
	char *bad[] = { a0, b1, b2, NULL };

	assert_int_equal(config_load(&c, 4, argv, err, sizeof(err)), 0);
	assert_int_equal(c.image_sources.n, 2);
	assert_string_equal(c.image_sources.v[0], "http://cache:3128/images");
	assert_string_equal(c.image_sources.v[1], "https://origin/x");
	assert_int_equal(c.pull_trust, 1);
	config_free(&c);
	assert_int_equal(config_load(&c, 3, bad, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "http://"));
	config_free(&c);
}

static void
test_window(void **state)
{
	int from, to;
	const char *bad[] = { "", "2:00-06:00", "02:00-6:00", "24:00-01:00",
	    "01:60-02:00", "01:00-02:00x", "01:00 02:00", "+1:00-02:00",
	    "aa:bb-cc:dd", "01:00-02:0", " 1:00-02:00" };

	assert_int_equal(config_parse_window("02:00-06:30", &from, &to), 0);
	assert_int_equal(from, 120);
	assert_int_equal(to, 390);
	assert_true(config_window_open(from, to, 120));
	assert_true(config_window_open(from, to, 389));
	assert_false(config_window_open(from, to, 390));
	assert_false(config_window_open(from, to, 119));
	assert_false(config_window_open(from, to, 23 * 60));
	/* over midnight */
	assert_int_equal(config_parse_window("22:00-02:00", &from, &to), 0);
	assert_true(config_window_open(from, to, 23 * 60 + 59));
	assert_true(config_window_open(from, to, 0));
	assert_true(config_window_open(from, to, 22 * 60));
	assert_true(config_window_open(from, to, 119));
	assert_false(config_window_open(from, to, 120));
	assert_false(config_window_open(from, to, 12 * 60));
	/* the same ends: the whole day */
	assert_int_equal(config_parse_window("00:00-00:00", &from, &to), 0);
	assert_true(config_window_open(from, to, 0));
	assert_true(config_window_open(from, to, 1439));
	assert_int_equal(config_parse_window("23:59-00:00", &from, &to), 0);
	assert_true(config_window_open(from, to, 1439));
	assert_false(config_window_open(from, to, 0));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(config_parse_window(bad[i], &from, &to), -1);
}

static void
test_pattern(void **state)
{
	assert_true(pull_pattern_match("debian", "debian", "12.1"));
	assert_true(pull_pattern_match("debian:12.*", "debian", "12.1"));
	assert_false(pull_pattern_match("debian:12.*", "debian", "11.9"));
	assert_false(pull_pattern_match("debian:12.*", "debian", "112.1"));
	assert_false(pull_pattern_match("debian:12.*", "debian12", "12.1"));
	assert_false(pull_pattern_match("debian", "debia", "1"));
	assert_false(pull_pattern_match("debian", "debian-x", "1"));
	assert_true(pull_pattern_match("a:v[12]", "a", "v2"));
	assert_false(pull_pattern_match("a:v[12]", "a", "v3"));
	assert_true(pull_pattern_match("a:v?", "a", "v9"));
	assert_false(pull_pattern_match("a:v?", "a", "v10"));
}

static void
test_index(void **state)
{
	char err[ERR_MAX];
	const char *ok = "{\"name\": \"deb\", \"versions\": [\"1\", "
	    "\"12.2\"]}";
	const char *bad[] = {
		"[]", "{}", "{\"name\": \"deb\"}",
		"{\"name\": \"other\", \"versions\": []}",
		"{\"name\": \"deb\", \"versions\": [1]}",
		"{\"name\": \"deb\", \"versions\": [\"a/../b\"]}",
		"{\"name\": \"deb\", \"versions\": [\"\"]}",
		"{\"name\": \"deb\", \"versions\": [\"a:b\"]}",
		"{\"name\": \"deb\", \"versions\": {}}", "not json",
	};
	json_t *v = pull_index_parse(ok, strlen(ok), "deb", err, sizeof(err));

	assert_non_null(v);
	assert_int_equal(json_array_size(v), 2);
	assert_string_equal(json_string_value(json_array_get(v, 1)), "12.2");
	json_decref(v);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = pull_index_parse(bad[i], strlen(bad[i]), "deb", err,
		    sizeof(err));
		assert_null(v);
		assert_non_null(strstr(err, "index.json"));
	}
}

static void
test_subscribe_options(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	char a0[] = "rackd", a1[] = "--image-subscribe", a2[] =
	    "debian:12.*,alpine", a3[] = "--image-subscribe-window=22:00-04:00",
	    a4[] = "--pull-rate=200K", a5[] = "--image-subscribe-interval=10";
	char *argv[] = { a0, a1, a2, a3, a4, a5, NULL };
	const char *bad[] = { "--image-subscribe=deb*:1",
	    "--image-subscribe=:1",
	    "--image-subscribe=deb:", "--image-subscribe-window=22-04",
	    "--image-subscribe-interval=9", "--pull-rate=1T",
	    "--pull-rate=63K" };

	assert_int_equal(config_load(&c, 6, argv, err, sizeof(err)), 0);
	assert_int_equal(c.image_subscribe.n, 2);
	assert_string_equal(c.image_subscribe.v[0], "debian:12.*");
	assert_string_equal(c.image_subscribe_window, "22:00-04:00");
	assert_int_equal(c.pull_rate, 200 * 1024);
	assert_int_equal(c.image_subscribe_interval, 10);
	config_free(&c);
	char *none[] = { a0, NULL };
	assert_int_equal(config_load(&c, 1, none, err, sizeof(err)), 0);
	assert_int_equal(c.image_subscribe_interval, 600);
	assert_int_equal(c.pull_rate, 0);
	assert_string_equal(c.image_subscribe_window, "");
	config_free(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char b[64];
		snprintf(b, sizeof(b), "%s", bad[i]);
		char *args[] = { a0, b, NULL };
		assert_int_equal(config_load(&c, 2, args, err, sizeof(err)),
		    -1);
		config_free(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_join),
		cmocka_unit_test(test_source_order),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_manifest_check),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_subscribe_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
