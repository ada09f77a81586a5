/* images/chunk.c — chunk compression (zstd) and zero detection. */
#include "images/chunk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

struct chunk_codec {
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
};

bool
chunk_size_valid(uint64_t size)
{
	return size >= CHUNK_SIZE_MIN && size <= CHUNK_SIZE_MAX &&
	    (size & (size - 1)) == 0;
}

bool
chunk_level_valid(long level)
{
	return level >= CHUNK_LEVEL_MIN && level <= CHUNK_LEVEL_MAX;
}

size_t
chunk_compress_bound(size_t len)
{
	return ZSTD_compressBound(len);
}

struct chunk_codec *
chunk_codec_new(void)
{
	struct chunk_codec *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->cctx = ZSTD_createCCtx();
	c->dctx = ZSTD_createDCtx();
	if (!c->cctx || !c->dctx) {
		chunk_codec_free(c);
		return NULL;
	}
	return c;
}

void
chunk_codec_free(struct chunk_codec *codec)
{
	if (!codec)
		return;
	ZSTD_freeCCtx(codec->cctx);
	ZSTD_freeDCtx(codec->dctx);
	free(codec);
}

/* The codec's compressor (or a new one) for level; NULL with err. */
static ZSTD_CCtx *
cctx_for(struct chunk_codec *codec, int level, char *err, size_t errlen)
{
	if (!chunk_level_valid(level)) {
		snprintf(err, errlen, "compression level %d is outside %d..%d",
		    level, CHUNK_LEVEL_MIN, CHUNK_LEVEL_MAX);
		return NULL;
	}
	ZSTD_CCtx *cctx = codec ? codec->cctx : ZSTD_createCCtx();
	if (!cctx)
		snprintf(err, errlen, "out of memory for the compressor");
	return cctx;
}

int
chunk_compress(struct chunk_codec *codec, const void *src, size_t len,
    int level, void *dst, size_t dstcap, size_t *outlen, char *err,
    size_t errlen)
{
	ZSTD_CCtx *cctx = cctx_for(codec, level, err, errlen);
	if (!cctx)
		return -1;
	/* ZSTD_compressCCtx writes one frame with the content size (the
	 * default contentSizeFlag) and a checksum-less body: the chunk's own
	 * hash is the integrity check. */
	size_t r = ZSTD_compressCCtx(cctx, dst, dstcap, src, len, level);
	if (!codec)
		ZSTD_freeCCtx(cctx);
	if (ZSTD_isError(r)) {
		snprintf(err, errlen, "zstd compression failed: %s",
		    ZSTD_getErrorName(r));
		return -1;
	}
	*outlen = r;
	return 0;
}

int64_t
chunk_content_size(const void *src, size_t srclen)
{
	unsigned long long n = ZSTD_getFrameContentSize(src, srclen);

	return n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN ||
	    n > INT64_MAX ? -1 : (int64_t)n;
}

/* One zstd frame of src into dst, with base (may be NULL) as its prefix. */
static int
decompress_frame(struct chunk_codec *codec, const void *base, size_t baselen,
    const void *src, size_t srclen, void *dst, size_t dstcap, uint64_t max_len,
    size_t *outlen, char *err, size_t errlen)
{
	unsigned long long csize = ZSTD_getFrameContentSize(src, srclen);
	if (csize == ZSTD_CONTENTSIZE_ERROR) {
		snprintf(err, errlen, "chunk is not a zstd frame");
		return -1;
	}
	if (csize == ZSTD_CONTENTSIZE_UNKNOWN) {
		snprintf(err, errlen,
		    "chunk's zstd frame does not declare its content size");
		return -1;
	}
	if (csize > max_len || csize > dstcap) {
		snprintf(err, errlen,
		    "chunk's content size %llu exceeds the limit of %llu bytes",
		    csize,
		    (unsigned long long)(max_len < dstcap ? max_len : dstcap));
		return -1;
	}
	size_t fsize = ZSTD_findFrameCompressedSize(src, srclen);
	if (ZSTD_isError(fsize)) {
		snprintf(err, errlen, "chunk's zstd frame is damaged: %s",
		    ZSTD_getErrorName(fsize));
		return -1;
	}
	if (fsize != srclen) {
		snprintf(err, errlen,
		    "chunk holds %zu bytes after its zstd frame",
		    srclen - fsize);
		return -1;
	}
	ZSTD_DCtx *dctx = codec ? codec->dctx : ZSTD_createDCtx();
	if (!dctx) {
		snprintf(err, errlen, "out of memory for the decompressor");
		return -1;
	}
	size_t r = 0;
	if (base) /* used for this frame only */
		r = ZSTD_DCtx_refPrefix(dctx, base, baselen);
	/* Output is bounded by csize: the buffer we pass is no bigger. */
	if (!ZSTD_isError(r))
		r = ZSTD_decompressDCtx(dctx, dst, (size_t)csize, src, srclen);
	if (!codec)
		ZSTD_freeDCtx(dctx);
	else if (base)
		ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
	if (ZSTD_isError(r)) {
		snprintf(err, errlen, "chunk does not decompress: %s",
		    ZSTD_getErrorName(r));
		return -1;
	}
	if (r != csize) {
		snprintf(err, errlen,
		    "chunk decompressed to %zu bytes, its frame says %llu", r,
		    csize);
		return -1;
	}
	*outlen = r;
	return 0;
}

int
chunk_decompress(struct chunk_codec *codec, const void *src, size_t srclen,
    void *dst, size_t dstcap, uint64_t max_len, size_t *outlen, char *err,
    size_t errlen)
{
	return decompress_frame(codec, NULL, 0, src, srclen, dst, dstcap,
	    max_len, outlen, err, errlen);
}

int
chunk_patch_make(struct chunk_codec *codec, const void *base, size_t baselen,
    const void *src, size_t len, int level, void *dst, size_t dstcap,
    size_t *outlen, char *err, size_t errlen)
{
	ZSTD_CCtx *cctx = cctx_for(codec, level, err, errlen);
	if (!cctx)
		return -1;
	size_t r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_refPrefix(cctx, base, baselen);
	if (!ZSTD_isError(r))
		r = ZSTD_compress2(cctx, dst, dstcap, src, len);
	if (!codec)
		ZSTD_freeCCtx(cctx);
	else
		ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
	if (ZSTD_isError(r)) {
		snprintf(err, errlen, "zstd compression failed: %s",
		    ZSTD_getErrorName(r));
		return -1;
	}
	*outlen = r;
	return 0;
}

int
chunk_patch_apply(struct chunk_codec *codec, const void *base, size_t baselen,
    const void *patch, size_t patchlen, void *dst, size_t dstcap,
    uint64_t max_len, size_t *outlen, char *err, size_t errlen)
{
	return decompress_frame(codec, base, baselen, patch, patchlen, dst,
	    dstcap, max_len, outlen, err, errlen);
}

int
chunk_verify(struct chunk_codec *codec, enum hash_alg alg,
    const uint8_t expected[HASH_LEN], uint64_t expected_len, const void *src,
    size_t srclen, void *scratch, size_t scratchcap, char *err, size_t errlen)
{
	size_t n;
	uint8_t d[HASH_LEN];

	if (chunk_decompress(codec, src, srclen, scratch, scratchcap,
	    expected_len, &n, err, errlen) < 0)
		return -1;
	if (n != expected_len) {
		snprintf(err, errlen, "chunk holds %zu bytes, expected %llu", n,
		    (unsigned long long)expected_len);
		return -1;
	}
	if (hash_buffer(alg, scratch, n, d) < 0) {
		snprintf(err, errlen, "unknown hash algorithm");
		return -1;
	}
	if (sodium_memcmp(d, expected, HASH_LEN) != 0) {
		char hex[HASH_HEX_LEN + 1];
		hash_to_hex(d, hex);
		snprintf(err, errlen,
		    "chunk content hashes to %s, not to its name", hex);
		return -1;
	}
	return 0;
}

bool
chunk_is_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (len == 0)
		return true;
	/* Most data chunks fail on the first bytes; check a short head
	 * before the full scan. */
	size_t head = len < 16 ? len : 16;
	for (size_t i = 0; i < head; i++)
		if (p[i])
			return false;
	if (len == head)
		return true;
	/* p[0..head) is zero, so the buffer is all zero exactly when it
	 * equals itself shifted by one byte; memcmp is vectorised. */
	return memcmp(p, p + 1, len - 1) == 0;
}
