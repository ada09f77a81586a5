/* images/chunk.h — chunk compression (zstd) and zero detection.
 *
 * A stored chunk is exactly one zstd frame whose header carries the content
 * size. Decompression is bounded by the caller's buffer and by the length the
 * manifest promises, so a hostile chunk cannot make us allocate or write
 * more than that.
 */
#ifndef RACKD_IMAGES_CHUNK_H
#define RACKD_IMAGES_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/hash.h"

#define CHUNK_LEVEL_MIN	1
#define CHUNK_LEVEL_MAX	19
/* Chosen from tests/bench/zstdbench.c on an ext4 image of system files: the
 * level with the least transfer time at 40 MB/s while import stays above
 * 20 MB/s on one core (12: ratio 2.98, ~45 MB/s; 13 drops to ~19 MB/s for
 * no gain; 3 is 7x faster for 5% more bytes). */
#define CHUNK_LEVEL_DEFAULT	12

#define CHUNK_SIZE_MIN		(64u * 1024)	/* 64 KiB */
#define CHUNK_SIZE_MAX		(64u * 1024 * 1024)	/* 64 MiB */
#define CHUNK_SIZE_DEFAULT	(1024u * 1024)	/* 1 MiB */

/* Power of two in [CHUNK_SIZE_MIN, CHUNK_SIZE_MAX]. */
bool	 chunk_size_valid(uint64_t size);
bool	 chunk_level_valid(long level);

/* Largest compressed size of a chunk of len bytes (one frame). */
size_t	 chunk_compress_bound(size_t len);

/* Reusable compression/decompression state; avoids reallocating zstd's
 * tables per chunk. One per thread. */
struct chunk_codec;
struct chunk_codec *chunk_codec_new(void);
void	 chunk_codec_free(struct chunk_codec *codec);

/* Compresses src[0..len) at level into dst (dstcap >= chunk_compress_bound(len)
 * is always enough) as one frame with its content size. codec may be NULL.
 * 0 and *outlen set, or -1 with err filled. */
int	 chunk_compress(struct chunk_codec *codec, const void *src, size_t len,
	    int level, void *dst, size_t dstcap, size_t *outlen, char *err,
	    size_t errlen);

/* Decompresses one stored chunk into dst. Rejects: not exactly one zstd
 * frame, a frame without its content size, a content size above max_len or
 * dstcap, and any corrupt data. 0 and *outlen set, or -1 with err filled.
 * codec may be NULL. */
int	 chunk_decompress(struct chunk_codec *codec, const void *src,
	    size_t srclen, void *dst, size_t dstcap, uint64_t max_len,
	    size_t *outlen, char *err, size_t errlen);

/* The content size a stored chunk's frame declares, or -1 if src does not
 * start with a zstd frame that declares one. */
int64_t	 chunk_content_size(const void *src, size_t srclen);

/* Patches: a chunk compressed with another chunk's content (its base) as
 * the zstd prefix, so that what the two share costs almost nothing. A
 * patch is one zstd frame with its content size, like a stored chunk, and
 * is decompressed under the same bounds; only the base makes it readable.
 * Both 0 and *outlen set, or -1 with err filled; codec may be NULL. */
int	 chunk_patch_make(struct chunk_codec *codec, const void *base,
	    size_t baselen, const void *src, size_t len, int level, void *dst,
	    size_t dstcap, size_t *outlen, char *err, size_t errlen);
int	 chunk_patch_apply(struct chunk_codec *codec, const void *base,
	    size_t baselen, const void *patch, size_t patchlen, void *dst,
	    size_t dstcap, uint64_t max_len, size_t *outlen, char *err,
	    size_t errlen);

/* Decompresses into scratch (scratchcap >= expected_len) and checks that the
 * content is exactly expected_len bytes hashing to expected under alg.
 * 0 if good, -1 with err filled. */
int	 chunk_verify(struct chunk_codec *codec, enum hash_alg alg,
	    const uint8_t expected[HASH_LEN], uint64_t expected_len,
	    const void *src, size_t srclen, void *scratch, size_t scratchcap,
	    char *err, size_t errlen);

/* True if every byte of buf[0..len) is zero (true for len 0). */
bool	 chunk_is_zero(const void *buf, size_t len);

#endif
