/* tests/unit/test_images_hash.c — chunk hashing: known vectors, incremental
 * equals one-shot, hex encoding and its strict validator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "images/hash.h"

static void
check(enum hash_alg alg, const char *msg, const char *want)
{
	uint8_t d[HASH_LEN];
	char hex[HASH_HEX_LEN + 1];
	assert_int_equal(hash_buffer(alg, msg, strlen(msg), d), 0);
	hash_to_hex(d, hex);
	assert_string_equal(hex, want);
}

static void
test_vectors(void **state)
{
	(void)state;
	check(HASH_SHA256, "abc",
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check(HASH_SHA256, "",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check(HASH_BLAKE2B_256, "abc",
	    "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
	check(HASH_BLAKE2B_256, "",
	    "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

static void
test_incremental(void **state)
{
	(void)state;
	static unsigned char buf[100000];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 7 + i / 251);
	const enum hash_alg algs[] = { HASH_SHA256, HASH_BLAKE2B_256 };
	for (size_t a = 0; a < 2; a++) {
		uint8_t one[HASH_LEN], inc[HASH_LEN];
		struct hash_ctx ctx;
		assert_int_equal(hash_buffer(algs[a], buf, sizeof buf, one), 0);
		assert_int_equal(hash_init(&ctx, algs[a]), 0);
		size_t off = 0, step = 1;
		while (off < sizeof buf) { /* uneven pieces */
			size_t n =
			    sizeof buf - off < step ? sizeof buf - off : step;
			hash_update(&ctx, buf + off, n);
			off += n;
			step = step * 3 + 1;
		}
		hash_final(&ctx, inc);
		assert_memory_equal(one, inc, HASH_LEN);
	}
	uint8_t s[HASH_LEN], b[HASH_LEN];
	hash_buffer(HASH_SHA256, buf, sizeof buf, s);
	hash_buffer(HASH_BLAKE2B_256, buf, sizeof buf, b);
	assert_memory_not_equal(s, b, HASH_LEN);
}

static void
test_names(void **state)
{
	(void)state;
	enum hash_alg alg;
	assert_string_equal(hash_alg_name(HASH_SHA256), "sha256");
	assert_string_equal(hash_alg_name(HASH_BLAKE2B_256), "blake2b-256");
	assert_null(hash_alg_name((enum hash_alg)0));
	assert_int_equal(hash_alg_from_name("sha256", &alg), 0);
	assert_int_equal(alg, HASH_SHA256);
	assert_int_equal(hash_alg_from_name("blake2b-256", &alg), 0);
	assert_int_equal(alg, HASH_BLAKE2B_256);
	assert_int_equal(hash_alg_from_name("SHA256", &alg), -1);
	assert_int_equal(hash_alg_from_name("blake2b", &alg), -1);
	assert_int_equal(hash_alg_from_name("", &alg), -1);
	assert_int_equal(hash_alg_from_name(NULL, &alg), -1);
	assert_true(hash_alg_valid(HASH_ALG_DEFAULT));
	assert_false(hash_alg_valid(0));
	assert_int_equal(
	    hash_init(&(struct hash_ctx){ 0 }, (enum hash_alg)9), -1);
	uint8_t d[HASH_LEN];
	assert_int_equal(hash_buffer((enum hash_alg)9, "", 0, d), -1);
}

static void
test_hex(void **state)
{
	(void)state;
	uint8_t d[HASH_LEN], back[HASH_LEN];
	char hex[HASH_HEX_LEN + 1];
	for (int i = 0; i < HASH_LEN; i++)
		d[i] = (uint8_t)(i * 8 + 1);
	hash_to_hex(d, hex);
	assert_int_equal(strlen(hex), 64);
	assert_true(hash_hex_valid(hex));
	assert_int_equal(hash_from_hex(hex, back), 0);
	assert_memory_equal(d, back, HASH_LEN);

	const char *good =
	    "00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff";
	assert_true(hash_hex_valid(good));
	assert_true(hash_hex_valid_n(good, 64));
	assert_false(hash_hex_valid_n(good, 63));
	assert_true(hash_hex_valid_n("00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff0"
				     "0ff00ff00ff00ff00ff00ff/rest",
	    64));
	assert_false(hash_hex_valid(NULL));
	assert_false(hash_hex_valid(""));
	assert_false(hash_hex_valid("00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00"
				    "ff00ff00ff00ff00ff00f")); /* 63 */
	assert_false(hash_hex_valid("00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00"
				    "ff00ff00ff00ff00ff00ff0")); /* 65 */
	assert_false(hash_hex_valid("00FF00ff00ff00ff00ff00ff00ff00ff00ff00ff00"
				    "ff00ff00ff00ff00ff00ff")); /* upper */
	assert_false(hash_hex_valid("00gf00ff00ff00ff00ff00ff00ff00ff00ff00ff00"
				    "ff00ff00ff00ff00ff00ff"));
	assert_false(hash_hex_valid(
	    "../"
	    "ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff"));
	assert_false(hash_hex_valid("00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00"
				    "ff00ff00ff00ff00ff00f "));
	assert_int_equal(hash_from_hex("00FF00ff00ff00ff00ff00ff00ff00ff00ff00f"
				       "f00ff00ff00ff00ff00ff00ff",
			     back),
	    -1);
	assert_int_equal(hash_from_hex(NULL, back), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
