/*
 * tests/unit/test_rackctl_console.c — the escape of "rackctl console"
 * (images/rackctl/console.c): "~." at a line's start leaves, "~~" sends
 * one "~", a "~" elsewhere or before another character is sent as typed,
 * and a "~" held at the end of one read waits for the next.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "images/rackctl/rackctl.h"

/* Feed s in one read: what is sent, and whether it left. */
static bool
feed(struct console_escape *e, const char *s, char *out, size_t *n)
{
	bool left = console_escape_feed(e, s, strlen(s), out, n);

	out[*n] = '\0';
	return left;
}

static void
test_leave(void **state)
{
	struct console_escape e;
	char out[64];
	size_t n;

	(void)state;
	console_escape_init(&e);
	/* at the very start */
	assert_true(feed(&e, "~.", out, &n));
	assert_int_equal(n, 0);
	/* after a line: what came before is sent */
	console_escape_init(&e);
	assert_true(feed(&e, "ls\r~.rest", out, &n));
	assert_string_equal(out, "ls\r");
	console_escape_init(&e);
	assert_true(feed(&e, "a\n~.", out, &n));
	assert_string_equal(out, "a\n");
	/* not at a line's start: sent as typed */
	console_escape_init(&e);
	assert_false(feed(&e, "a~.", out, &n));
	assert_string_equal(out, "a~.");
}

static void
test_tilde(void **state)
{
	struct console_escape e;
	char out[64];
	size_t n;

	(void)state;
	console_escape_init(&e);
	/* ~~ sends one ~, and the line has started: ~. then is typed */
	assert_false(feed(&e, "~~.", out, &n));
	assert_string_equal(out, "~.");
	/* ~ then another character: both sent */
	console_escape_init(&e);
	assert_false(feed(&e, "~x", out, &n));
	assert_string_equal(out, "~x");
	/* ~ then return: both sent, and a new line starts */
	console_escape_init(&e);
	assert_true(feed(&e, "~\r~.", out, &n));
	assert_string_equal(out, "~\r");
}

static void
test_split(void **state)
{
	struct console_escape e;
	char out[64];
	size_t n;

	(void)state;
	/* the ~ held across reads */
	console_escape_init(&e);
	assert_false(feed(&e, "ab\r~", out, &n));
	assert_string_equal(out, "ab\r");
	assert_true(feed(&e, ".", out, &n));
	assert_int_equal(n, 0);
	console_escape_init(&e);
	assert_false(feed(&e, "~", out, &n));
	assert_int_equal(n, 0);
	assert_false(feed(&e, "~", out, &n));
	assert_string_equal(out, "~");
	/* typed one byte at a time, as a terminal sends them */
	console_escape_init(&e);
	assert_false(feed(&e, "x", out, &n));
	assert_false(feed(&e, "\r", out, &n));
	assert_false(feed(&e, "~", out, &n));
	assert_true(feed(&e, ".", out, &n));
	/* every other byte passes untouched, NUL and control ones too */
	console_escape_init(&e);
	assert_false(console_escape_feed(&e, "a\0\x03\x1b[A", 6, out, &n));
	assert_int_equal(n, 6);
	assert_memory_equal(out, "a\0\x03\x1b[A", 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leave),
		cmocka_unit_test(test_tilde),
		cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
