/* tests/unit/test_pxe_cmdline.c — rack-agent: the kernel command line
 * (words, quotes, missing values, unknown keys), the checks on each value,
 * flags over the command line, and reading the command line file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pxe/lib/pxe.h"
#include "tests/unit/unit.h"

#define TOK "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int
parse(const char *text, struct agent_conf *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	return cmdline_parse(text, strlen(text), c, err, errlen);
}

static void
test_basic(void **state)
{
	struct agent_conf c;
	char err[256];

	(void)state;
	assert_int_equal(parse("BOOT_IMAGE=/vmlinuz console=ttyS0,115200 "
	    "rackd.url=http://10.213.0.1:8080 rackd.job=42 rackd.token=" TOK
	    " quiet\n", &c, err, sizeof(err)), 0);
	assert_string_equal(c.url, "http://10.213.0.1:8080");
	assert_int_equal(c.job, 42);
	assert_string_equal(c.token, TOK);
	assert_string_equal(c.disk, "");
	assert_int_equal(conf_complete(&c, err, sizeof(err)), 0);
}

static void
test_whitespace_and_order(void **state)
{
	struct agent_conf c;
	char err[256];

	(void)state;
	/* tabs, several spaces, CR LF; the later value wins */
	assert_int_equal(parse("\t rackd.job=1\t\trackd.job=7  rackd.url="
	    "https://rack/ \r\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.job, 7);
	assert_string_equal(c.url, "https://rack");	/* slash dropped */
	/* empty and blank command lines are fine (nothing set) */
	assert_int_equal(parse("", &c, err, sizeof(err)), 0);
	assert_int_equal(parse("   \n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.job, 0);
}

static void
test_quotes(void **state)
{
	struct agent_conf c;
	char err[256];

	(void)state;
	/* value quoted */
	assert_int_equal(parse("rackd.disk=\"serial:WD 1234\" rackd.job=3", &c,
	    err, sizeof(err)), 0);
	assert_string_equal(c.disk, "serial:WD 1234");
	assert_int_equal(c.job, 3);
	/* whole word quoted, as the kernel also allows */
	assert_int_equal(parse("\"rackd.disk=serial:A B C\" x=\"y z\"", &c, err,
	    sizeof(err)), 0);
	assert_string_equal(c.disk, "serial:A B C");
	/* quotes around a plain value */
	assert_int_equal(parse("rackd.job=\"12\"", &c, err, sizeof(err)), 0);
	assert_int_equal(c.job, 12);
	/* an unterminated quote in another key is not ours to judge */
	assert_int_equal(parse("rackd.job=5 foo=\"bar", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.job, 5);
	/* ... but in a rackd key it is an error */
	assert_int_equal(parse("rackd.disk=\"serial:A B", &c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "unterminated quote"));
	assert_non_null(strstr(err, "rackd.disk"));
	/* a quoted space does not split the word */
	assert_int_equal(parse("rackd.url=\"http://a b\"", &c, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "spaces"));
}

static void
test_missing_values(void **state)
{
	static const char *const bad[] = {
		"rackd.url", "rackd.url=", "rackd.job", "rackd.job=",
		"rackd.token=", "rackd.disk", "rackd.disk=\"\"",
	};
	struct agent_conf c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &c, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "has no value"));
	}
}

static void
test_unknown_keys(void **state)
{
	struct agent_conf c;
	char err[256];

	(void)state;
	log_set_quiet(1);
	/* other subsystems' keys and unknown rackd.* keys are ignored */
	assert_int_equal(parse("rackd.colour=blue rackd rackd.=1 rackdx.job=9 "
	    "rackd.job=2 rackd.url.extra=1 root=/dev/sda1 ro", &c, err,
	    sizeof(err)), 0);
	log_set_quiet(0);
	assert_int_equal(c.job, 2);
	assert_string_equal(c.url, "");
	/* key names are case-sensitive, like the kernel's */
	assert_int_equal(parse("RACKD.JOB=3", &c, err, sizeof(err)), 0);
	assert_int_equal(c.job, 0);
}

static void
test_bad_values(void **state)
{
	static const struct { const char *text, *why; } bad[] = {
		{ "rackd.job=abc", "number" },
		{ "rackd.job=0", "at least 1" },
		{ "rackd.job=-3", "number" },
		{ "rackd.job=1234567890123456789", "18 digits" },
		{ "rackd.url=ftp://x", "http://" },
		{ "rackd.url=http://", "no host" },
		{ "rackd.url=10.0.0.1:8080", "http://" },
		{ "rackd.token=xyz", "hex" },
		{ "rackd.disk=biggest", "unknown disk rule" },
		{ "rackd.disk=dev:sda", "absolute" },
		{ "rackd.disk=serial:", "serial" },
	};
	struct agent_conf c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i].text, &c, err, sizeof(err)), -1);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"", bad[i].text,
			    err, bad[i].why);
	}
}

static void
test_limits(void **state)
{
	struct agent_conf c;
	char err[256], *big;
	size_t n = AGENT_URL_MAX + 32;

	(void)state;
	/* a URL longer than the limit */
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'a', n);
	memcpy(big, "rackd.url=http://", 17);
	big[n] = '\0';
	assert_int_equal(parse(big, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	free(big);
	/* a token longer than the limit */
	big = calloc(1, AGENT_TOKEN_MAX + 32);
	assert_non_null(big);
	strcpy(big, "rackd.token=");
	memset(big + 12, 'a', AGENT_TOKEN_MAX + 1);
	assert_int_equal(parse(big, &c, err, sizeof(err)), -1);
	free(big);
	/* a command line longer than CMDLINE_MAX */
	big = malloc(CMDLINE_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', CMDLINE_MAX + 1);
	big[CMDLINE_MAX + 1] = '\0';
	assert_int_equal(parse(big, &c, err, sizeof(err)), -1);
	free(big);
	/* a NUL ends the text */
	memset(&c, 0, sizeof(c));
	assert_int_equal(cmdline_parse("rackd.job=4\0rackd.job=x", 23, &c, err,
	    sizeof(err)), 0);
	assert_int_equal(c.job, 4);
}

static void
test_flags_and_complete(void **state)
{
	struct agent_conf c;
	char err[256];

	(void)state;
	assert_int_equal(parse("rackd.url=http://a:1 rackd.job=5", &c, err,
	    sizeof(err)), 0);
	assert_int_equal(conf_complete(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "rackd.token"));
	/* a flag overrides and completes */
	assert_int_equal(conf_set(&c, "token", "ABCdef", err, sizeof(err)), 0);
	assert_int_equal(conf_set(&c, "job", "6", err, sizeof(err)), 0);
	assert_int_equal(conf_set(&c, "disk", "dev:/tmp/x", err,
	    sizeof(err)), 0);
	assert_int_equal(conf_complete(&c, err, sizeof(err)), 0);
	assert_int_equal(c.job, 6);
	assert_string_equal(c.disk, "dev:/tmp/x");
	assert_int_equal(conf_set(&c, "colour", "x", err, sizeof(err)), -1);
	assert_int_equal(conf_set(&c, "job", NULL, err, sizeof(err)), -1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(conf_complete(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "rackd.url"));
	c.url[0] = 'h';
	assert_int_equal(conf_complete(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "rackd.job"));
}

static void
test_load(void **state)
{
	char path[256], err[256];
	struct agent_conf c;
	FILE *f;

	(void)state;
	unit_path(path, sizeof(path), "cmdline");
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "quiet rackd.url=http://127.0.0.1:9 rackd.job=77 "
	    "rackd.token=ab rackd.disk=largest\n");
	fclose(f);
	memset(&c, 0, sizeof(c));
	assert_int_equal(cmdline_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(c.job, 77);
	assert_string_equal(c.disk, "largest");
	/* too big a file */
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i <= CMDLINE_MAX / 8; i++)
		fputs("a=b c=d ", f);
	fclose(f);
	assert_int_equal(cmdline_load(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	unlink(path);
	assert_int_equal(cmdline_load(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_whitespace_and_order),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_missing_values),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_flags_and_complete),
		cmocka_unit_test_setup_teardown(test_load, unit_setup,
		    unit_teardown),
	};
	unit_watchdog(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
