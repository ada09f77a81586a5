/*
 * tests/fuzz/fuzz_images_chunk.c — applying a zstd patch to a stored
 * chunk (images/chunk.c chunk_patch_apply; store_patch.c rebuilds pushed
 * patches with it). The patch comes from the network, the base from the
 * store. Input: one flag byte, two bytes of base length (little endian),
 * the base, then the patch. Checked: the bounds hold, a reused codec gives
 * what a fresh one gives (no state left from the last frame), and with
 * flag bit 0 the rest is also made into a patch and must come back
 * exactly.
 */
#include <string.h>

#include "images/chunk.h"
#include "tests/fuzz/fuzz.h"

#define OUT_MAX	(256u * 1024)

static uint8_t out1[OUT_MAX], out2[OUT_MAX], made[OUT_MAX + OUT_MAX / 64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct chunk_codec *codec;
	const uint8_t *base, *patch;
	size_t baselen, patchlen, n1 = 0, n2 = 0, nm = 0;
	uint64_t max_len;
	char err[256];
	int r1, r2;

	FUZZ_SELFTEST_TRAP(data, size);
	if (codec == NULL && (codec = chunk_codec_new()) == NULL)
		abort();
	if (size < 3)
		return 0;
	baselen = (size_t)data[1] | (size_t)data[2] << 8;
	if (baselen > size - 3)
		baselen = size - 3;
	base = data + 3;
	patch = base + baselen;
	patchlen = size - 3 - baselen;
	/* the bound the caller sets: its own length, or the buffer */
	max_len = (data[0] & 2) ? (uint64_t)(data[0] >> 2) * 1024 : OUT_MAX;

	r1 = chunk_patch_apply(NULL, base, baselen, patch, patchlen, out1,
	    sizeof(out1), max_len, &n1, err, sizeof(err));
	r2 = chunk_patch_apply(codec, base, baselen, patch, patchlen, out2,
	    sizeof(out2), max_len, &n2, err, sizeof(err));
	FUZZ_CHECK(r1 == r2);
	if (r1 == 0) {
		FUZZ_CHECK(n1 == n2 && n1 <= max_len && n1 <= sizeof(out1));
		FUZZ_CHECK(memcmp(out1, out2, n1) == 0);
	}
	/* without its base a patch is a plain chunk: same bounds */
	if (chunk_decompress(codec, patch, patchlen, out2, sizeof(out2),
	    max_len, &n2, err, sizeof(err)) == 0)
		FUZZ_CHECK(n2 <= max_len && n2 <= sizeof(out2));

	if ((data[0] & 1) && patchlen <= OUT_MAX) {
		FUZZ_CHECK(chunk_patch_make(codec, base, baselen, patch,
		    patchlen, CHUNK_LEVEL_MIN, made, sizeof(made), &nm, err,
		    sizeof(err)) == 0);
		FUZZ_CHECK(chunk_patch_apply(codec, base, baselen, made, nm,
		    out1, sizeof(out1), OUT_MAX, &n1, err, sizeof(err)) == 0);
		FUZZ_CHECK(n1 == patchlen && memcmp(out1, patch, n1) == 0);
	}
	return 0;
}
