/*
 * tests/unit/test_appliance_console.c — the console's ring buffer
 * (appliance/console.c): what is kept, wrapping, a reader that falls
 * behind and skips to the oldest byte kept, a put larger than the ring,
 * a resize (a SIGHUP's console_ring);
 * and the POST body of appliance/console_api.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "appliance/rackd.h"

static void
test_ring_basic(void **state)
{
	struct console_ring r;
	char out[16];
	uint64_t pos = 0;

	(void)state;
	assert_int_equal(console_ring_init(&r, 8), 0);
	assert_int_equal(console_ring_get(&r, &pos, out, sizeof(out)), 0);
	console_ring_put(&r, "abc", 3);
	assert_int_equal(console_ring_get(&r, &pos, out, sizeof(out)), 3);
	assert_memory_equal(out, "abc", 3);
	assert_int_equal(pos, 3);
	/* nothing new: nothing read, the place kept */
	assert_int_equal(console_ring_get(&r, &pos, out, sizeof(out)), 0);
	assert_int_equal(pos, 3);
	/* wraps: 3 + 7 = 10 bytes put, 8 kept, the reader at 3 of them */
	console_ring_put(&r, "defghij", 7);
	assert_int_equal(console_ring_get(&r, &pos, out, sizeof(out)), 7);
	assert_memory_equal(out, "defghij", 7);
	/* a reader from the start gets the last 8 only, in order */
	pos = 0;
	assert_int_equal(console_ring_get(&r, &pos, out, sizeof(out)), 8);
	assert_memory_equal(out, "cdefghij", 8);
	assert_int_equal(pos, 10);
	/* read in small pieces across the wrap */
	pos = 2;
	assert_int_equal(console_ring_get(&r, &pos, out, 3), 3);
	assert_memory_equal(out, "cde", 3);
	assert_int_equal(console_ring_get(&r, &pos, out, 3), 3);
	assert_memory_equal(out, "fgh", 3);
	assert_int_equal(console_ring_get(&r, &pos, out, 3), 2);
	assert_memory_equal(out, "ij", 2);
	/* a place past the end is the end */
	pos = 99;
	assert_int_equal(console_ring_get(&r, &pos, out, sizeof(out)), 0);
	assert_int_equal(pos, 10);
	console_ring_free(&r);
}

static void
test_ring_flood(void **state)
{
	struct console_ring r;
	char big[1000], out[64];
	uint64_t pos = 5;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('A' + i % 26);
	assert_int_equal(console_ring_init(&r, 32), 0);
	/* one put larger than the ring: its last 32 bytes stay */
	console_ring_put(&r, big, sizeof(big));
	assert_int_equal(r.total, 1000);
	assert_int_equal(console_ring_get(&r, &pos, out, sizeof(out)), 32);
	assert_memory_equal(out, big + 1000 - 32, 32);
	/* many puts: memory stays the ring's, the newest bytes kept */
	for (int i = 0; i < 10000; i++)
		console_ring_put(&r, big + i % 900, 7);
	pos = 0;
	assert_int_equal(console_ring_get(&r, &pos, out, sizeof(out)), 32);
	assert_int_equal(pos, 1000 + 70000);
	assert_memory_equal(out + 25, big + 9999 % 900, 7);
	console_ring_free(&r);
	/* a zero-sized ring is refused */
	assert_int_equal(console_ring_init(&r, 0), -1);
}

static void
parse(const char *json, int want, size_t want_n, const char *want_data)
{
	unsigned char out[CONSOLE_INPUT_MAX];
	char err[ERR_MAX] = "";
	json_error_t je;
	json_t *body = json_loads(json, 0, &je);
	size_t n = 0;

	assert_non_null(body);
	assert_int_equal(console_parse_input(body, out, sizeof(out), &n, err,
	    sizeof(err)), want);
	if (want == 0) {
		assert_int_equal(n, want_n);
		assert_memory_equal(out, want_data, want_n);
	} else
		assert_true(err[0] != '\0');
	json_decref(body);
}

/* A reload's new console_ring: the newest bytes stay, at their places. */
static void
test_ring_resize(void **state)
{
	struct console_ring r;
	char out[32];
	uint64_t pos;

	(void)state;
	assert_int_equal(console_ring_init(&r, 8), 0);
	console_ring_put(&r, "abcdefghij", 10);	/* "cdefghij" kept */
	assert_int_equal(console_ring_resize(&r, 4), 0);
	assert_int_equal(r.size, 4);
	assert_int_equal(r.total, 10);
	pos = 0;
	assert_int_equal(console_ring_get(&r, &pos, out, sizeof(out)), 4);
	assert_memory_equal(out, "ghij", 4);
	/* a reader's place holds: from 8, "ij" */
	pos = 8;
	assert_int_equal(console_ring_get(&r, &pos, out, sizeof(out)), 2);
	assert_memory_equal(out, "ij", 2);
	/* larger: what there was, then room for more without loss */
	assert_int_equal(console_ring_resize(&r, 16), 0);
	console_ring_put(&r, "klmnopqrstuv", 12);
	pos = 0;
	assert_int_equal(console_ring_get(&r, &pos, out, sizeof(out)), 16);
	assert_memory_equal(out, "ghijklmnopqrstuv", 16);
	assert_int_equal(pos, 22);
	/* the same size: nothing moves */
	assert_int_equal(console_ring_resize(&r, 16), 0);
	assert_int_equal(r.total, 22);
	console_ring_free(&r);
	/* a ring not yet full keeps all it has */
	assert_int_equal(console_ring_init(&r, 8), 0);
	console_ring_put(&r, "xyz", 3);
	assert_int_equal(console_ring_resize(&r, 5000), 0);
	pos = 0;
	assert_int_equal(console_ring_get(&r, &pos, out, sizeof(out)), 3);
	assert_memory_equal(out, "xyz", 3);
	console_ring_free(&r);
}

static void
test_parse_input(void **state)
{
	char big[8000];

	(void)state;
	parse("{\"data\":\"cm9vdA0=\"}", 0, 5, "root\r");
	parse("{\"data\":\"AA==\"}", 0, 1, "");
	parse("{}", -1, 0, NULL);
	parse("{\"data\":5}", -1, 0, NULL);
	parse("{\"data\":\"\"}", -1, 0, NULL);
	parse("{\"data\":\"!!\"}", -1, 0, NULL);
	parse("{\"data\":\"cm9vdA0\"}", -1, 0, NULL);	/* no padding */
	parse("{\"data\":\"eA==\",\"more\":1}", -1, 0, NULL);
	parse("[1]", -1, 0, NULL);
	/* 4097 bytes is one too many */
	snprintf(big, sizeof(big), "{\"data\":\"");
	for (size_t i = strlen(big); i < 9 + 5464; i++)
		big[i] = 'A';
	snprintf(big + 9 + 5464, sizeof(big) - 9 - 5464, "\"}");
	parse(big, -1, 0, NULL);
}

static void
test_speed(void **state)
{
	(void)state;
	assert_true(config_tty_speed(115200) != 0);
	assert_true(config_tty_speed(9600) != 0);
	assert_int_equal(config_tty_speed(12345), 0);
	assert_int_equal(config_tty_speed(0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_basic),
		cmocka_unit_test(test_ring_flood),
		cmocka_unit_test(test_ring_resize),
		cmocka_unit_test(test_parse_input),
		cmocka_unit_test(test_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
