/* tests/unit/test_images_chunk.c — zstd chunk compression: round trip and
 * bounded, strict decompression of hostile frames; zero detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "images/chunk.h"
#include "tests/unit/unit.h"

#define N (256 * 1024)

static unsigned char *
sample(void)
{
	unsigned char *b = malloc(N);
	assert_non_null(b);
	for (size_t i = 0; i < N; i++) /* half text-like, half random */
		b[i] = i < N / 2 ? (unsigned char)("rackd chunk "[i % 12]) : 0;
	unit_random(b + N / 2, N / 2, 42);
	return b;
}

static void
test_round_trip(void **state)
{
	(void)state;
	char err[256];
	unsigned char *src = sample();
	size_t cap = chunk_compress_bound(N), clen, dlen;
	unsigned char *c = malloc(cap), *d = malloc(N);
	struct chunk_codec *codec = chunk_codec_new();
	assert_non_null(codec);
	const int levels[] = { 1, CHUNK_LEVEL_DEFAULT, 9, 19 };
	for (size_t l = 0; l < 4; l++) {
		for (int with = 0; with < 2; with++) {
			struct chunk_codec *cc = with ? codec : NULL;
			assert_int_equal(chunk_compress(cc, src, N, levels[l],
					     c, cap, &clen, err, sizeof err),
			    0);
			assert_true(clen < N);
			assert_int_equal(ZSTD_getFrameContentSize(c, clen), N);
			memset(d, 0xaa, N);
			assert_int_equal(chunk_decompress(cc, c, clen, d, N, N,
					     &dlen, err, sizeof err),
			    0);
			assert_int_equal(dlen, N);
			assert_memory_equal(src, d, N);
		}
	}
	/* verify: right hash passes, wrong hash / length fail */
	uint8_t h[HASH_LEN];
	hash_buffer(HASH_BLAKE2B_256, src, N, h);
	assert_int_equal(chunk_verify(codec, HASH_BLAKE2B_256, h, N, c, clen, d,
			     N, err, sizeof err),
	    0);
	assert_int_equal(chunk_verify(codec, HASH_SHA256, h, N, c, clen, d, N,
			     err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "hashes to"));
	assert_int_equal(chunk_verify(codec, HASH_BLAKE2B_256, h, N - 1, c,
			     clen, d, N, err, sizeof err),
	    -1);
	assert_int_equal(
	    chunk_compress(codec, src, N, 0, c, cap, &clen, err, sizeof err),
	    -1);
	assert_int_equal(
	    chunk_compress(codec, src, N, 20, c, cap, &clen, err, sizeof err),
	    -1);
	assert_int_equal(
	    chunk_compress(codec, src, N, 3, c, 10, &clen, err, sizeof err),
	    -1);
	chunk_codec_free(codec);
	free(src);
	free(c);
	free(d);
}

static void
test_hostile(void **state)
{
	(void)state;
	char err[256];
	unsigned char *src = sample();
	size_t cap = chunk_compress_bound(N) * 2 + 64, clen, dlen;
	unsigned char *c = malloc(cap), *d = malloc(N);

	/* a frame that does not declare its content size */
	ZSTD_CCtx *z = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(z, ZSTD_c_contentSizeFlag, 0);
	clen = ZSTD_compress2(z, c, cap, src, N);
	assert_false(ZSTD_isError(clen));
	assert_int_equal(
	    ZSTD_getFrameContentSize(c, clen), ZSTD_CONTENTSIZE_UNKNOWN);
	assert_int_equal(
	    chunk_decompress(NULL, c, clen, d, N, N, &dlen, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "does not declare its content size"));
	ZSTD_freeCCtx(z);

	/* content larger than the manifest's length (or the buffer) */
	assert_int_equal(
	    chunk_compress(NULL, src, N, 3, c, cap, &clen, err, sizeof err), 0);
	assert_int_equal(chunk_decompress(NULL, c, clen, d, N, N / 2, &dlen,
			     err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "exceeds the limit"));
	assert_int_equal(chunk_decompress(NULL, c, clen, d, N / 2, N, &dlen,
			     err, sizeof err),
	    -1);

	/* a frame four times the allowed length: refused before any work */
	unsigned char *big = calloc(1, 1 << 20);
	assert_non_null(big);
	z = ZSTD_createCCtx();
	ZSTD_CCtx_setPledgedSrcSize(z, (1ull << 20));
	clen = ZSTD_compress2(z, c, cap, big, 1 << 20);
	ZSTD_freeCCtx(z);
	assert_false(ZSTD_isError(clen));
	assert_int_equal(
	    chunk_decompress(NULL, c, clen, d, N, N, &dlen, err, sizeof err),
	    -1);
	free(big);

	/* trailing bytes and a second frame */
	assert_int_equal(
	    chunk_compress(NULL, src, 1000, 3, c, cap, &clen, err, sizeof err),
	    0);
	size_t one = clen;
	memcpy(c + one, c, one);
	assert_int_equal(
	    chunk_decompress(NULL, c, 2 * one, d, N, N, &dlen, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "after its zstd frame"));
	c[one] = 'x';
	assert_int_equal(
	    chunk_decompress(NULL, c, one + 1, d, N, N, &dlen, err, sizeof err),
	    -1);

	/* truncated, garbage, damaged body */
	assert_int_equal(
	    chunk_decompress(NULL, c, one - 3, d, N, N, &dlen, err, sizeof err),
	    -1);
	assert_int_equal(chunk_decompress(NULL, "hello world", 11, d, N, N,
			     &dlen, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "not a zstd frame"));
	assert_int_equal(
	    chunk_decompress(NULL, c, 0, d, N, N, &dlen, err, sizeof err), -1);
	assert_int_equal(
	    chunk_compress(NULL, src, N, 3, c, cap, &clen, err, sizeof err), 0);
	int failures = 0;
	for (size_t pos = 20; pos < clen;
	     pos += clen / 16) { /* flip bytes in the body */
		unsigned char keep = c[pos];
		c[pos] ^= 0x5a;
		if (chunk_decompress(
			NULL, c, clen, d, N, N, &dlen, err, sizeof err) < 0 ||
		    memcmp(d, src, N) != 0)
			failures++;
		c[pos] = keep;
	}
	assert_true(failures > 0);
	free(src);
	free(c);
	free(d);
}

static void
test_zero(void **state)
{
	(void)state;
	unsigned char *b = calloc(1, N);
	assert_non_null(b);
	assert_true(chunk_is_zero(b, N));
	assert_true(chunk_is_zero(b, 0));
	assert_true(chunk_is_zero(b, 1));
	assert_true(chunk_is_zero(b, 17));
	const size_t spots[] = { 0, 1, 15, 16, 17, 4095, N / 2, N - 2, N - 1 };
	for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
		b[spots[i]] = 1;
		assert_false(chunk_is_zero(b, N));
		b[spots[i]] = 0;
	}
	b[N - 1] = 0x80;
	assert_true(chunk_is_zero(b, N - 1));
	free(b);
}

/* A patch of a chunk with 8 bytes edited against its old content is tiny,
 * decompresses only with that base, and under the usual bounds. */
static void
test_patch(void **state)
{
	(void)state;
	char err[256];
	unsigned char *base = sample(), *src = sample(), *other = sample();
	size_t cap = chunk_compress_bound(N), plen, dlen, clen;
	unsigned char *p = malloc(cap), *d = malloc(N), *c = malloc(cap);
	struct chunk_codec *codec = chunk_codec_new();
	assert_non_null(codec);
	memcpy(src + N / 2 + 100, "v3v3v3v3", 8);
	unit_random(other + N / 2, N / 2, 7);
	for (int with = 0; with < 2; with++) {
		struct chunk_codec *cc = with ? codec : NULL;
		assert_int_equal(chunk_patch_make(cc, base, N, src, N, 3, p,
				     cap, &plen, err, sizeof err),
		    0);
		assert_true(plen < 200);
		memset(d, 0, N);
		assert_int_equal(chunk_patch_apply(cc, base, N, p, plen, d, N,
				     N, &dlen, err, sizeof err),
		    0);
		assert_int_equal(dlen, N);
		assert_memory_equal(d, src, N);
		/* another base: the random half comes out wrong (or not at
		 * all) */
		if (chunk_patch_apply(cc, other, N, p, plen, d, N, N, &dlen,
			err, sizeof err) == 0)
			assert_memory_not_equal(d, src, N);
		/* no base: not decompressible as a plain chunk */
		assert_int_equal(chunk_decompress(cc, p, plen, d, N, N, &dlen,
				     err, sizeof err),
		    -1);
		/* bounds as for chunks */
		assert_int_equal(chunk_patch_apply(cc, base, N, p, plen, d, N,
				     N - 1, &dlen, err, sizeof err),
		    -1);
		assert_non_null(strstr(err, "exceeds"));
		assert_int_equal(chunk_patch_apply(cc, base, N, p, plen - 1, d,
				     N, N, &dlen, err, sizeof err),
		    -1);
		/* the codec is clean after a patch: plain chunks still round
		 * trip */
		assert_int_equal(chunk_compress(cc, src, N, 3, c, cap, &clen,
				     err, sizeof err),
		    0);
		assert_int_equal(chunk_decompress(cc, c, clen, d, N, N, &dlen,
				     err, sizeof err),
		    0);
		assert_memory_equal(d, src, N);
	}
	assert_int_equal(chunk_patch_make(codec, base, N, src, N, 0, p, cap,
			     &plen, err, sizeof err),
	    -1);
	chunk_codec_free(codec);
	free(base);
	free(src);
	free(other);
	free(p);
	free(d);
	free(c);
}

static void
test_limits(void **state)
{
	(void)state;
	assert_true(chunk_size_valid(65536));
	assert_true(chunk_size_valid(1 << 20));
	assert_true(chunk_size_valid(64u << 20));
	assert_false(chunk_size_valid(32768));
	assert_false(chunk_size_valid(128u << 20));
	assert_false(chunk_size_valid(3u << 20));
	assert_false(chunk_size_valid(0));
	assert_true(chunk_size_valid(CHUNK_SIZE_DEFAULT));
	assert_true(chunk_level_valid(CHUNK_LEVEL_DEFAULT));
	assert_false(chunk_level_valid(0));
	assert_false(chunk_level_valid(CHUNK_LEVEL_MAX + 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_zero),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_patch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
