/*
 * test_rackctl_publish.c — the origin's paths of rackctl publish: a
 * chunk at chunks/<hash> (only for 64 lowercase hex, so that nothing
 * else can name a file), a manifest at manifests/<name>/<version>.json
 * (only for valid names), and buffers too small refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "images/rackctl/rackctl.h"

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_chunk_path(void **state)
{
	char buf[128];

	assert_int_equal(origin_chunk_path(HEX, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "chunks/" HEX);
	assert_int_equal(origin_chunk_path("../../etc/passwd", buf,
	    sizeof(buf)), -1);
	assert_int_equal(origin_chunk_path("0123456789ABCDEF0123456789abcdef"
	    "0123456789abcdef0123456789abcdef", buf, sizeof(buf)), -1);
	assert_int_equal(origin_chunk_path(HEX "0", buf, sizeof(buf)), -1);
	assert_int_equal(origin_chunk_path(HEX, buf, 71), -1);
	assert_int_equal(origin_chunk_path(HEX, buf, 72), 0);
}

static void
test_manifest_path(void **state)
{
	char buf[64];

	assert_int_equal(origin_manifest_path("debian", "12.5", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "manifests/debian/12.5.json");
	assert_int_equal(origin_manifest_path("..", "1", buf, sizeof(buf)),
	    -1);
	assert_int_equal(origin_manifest_path("a/b", "1", buf, sizeof(buf)),
	    -1);
	assert_int_equal(origin_manifest_path("a", "", buf, sizeof(buf)), -1);
	assert_int_equal(origin_manifest_path("debian", "12.5", buf, 10), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_path),
		cmocka_unit_test(test_manifest_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
