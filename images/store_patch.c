/* images/store_patch.c — a chunk that arrives as a patch against a chunk
 * the store has (rackctl push: a chunk with a few bytes edited travels as
 * a few bytes). Rebuilt, checked against its hash, compressed again at the
 * level the pusher names, and stored only if that gives back the very size
 * the manifest records: what a node is sent is then the same bytes as
 * from the central store. */
#include "images/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <sodium.h>

#include "images/chunk.h"
#include "images/hash.h"

#define FAIL(e, ...)                                \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		errno = (e);                        \
		goto out;                           \
	} while (0)

int
store_adopt_patch(struct store *st, enum hash_alg alg, const char *hash_hex,
    uint64_t expected_len, uint64_t expected_stored, int level,
    const char *base_hex, int fd, bool *added, char *err, size_t errlen)
{
	uint8_t want[HASH_LEN], got[HASH_LEN];
	void *map = MAP_FAILED, *base = NULL, *raw = NULL, *out = NULL;
	size_t baselen, rawlen, outlen;
	char e2[200];
	struct stat sb;
	int rc = -1;

	if (added)
		*added = false;
	if (hash_from_hex(hash_hex, want) < 0 || !hash_hex_valid(base_hex))
		FAIL(EINVAL, "chunk \"%.64s\" or its base: not a valid hash",
		    hash_hex ? hash_hex : "");
	if (expected_len == 0 || expected_len > CHUNK_SIZE_MAX ||
	    expected_stored == 0 ||
	    expected_stored > chunk_compress_bound((size_t)expected_len))
		FAIL(EINVAL,
		    "chunk %s: expected sizes %llu/%llu are out of range",
		    hash_hex, (unsigned long long)expected_len,
		    (unsigned long long)expected_stored);
	if (!chunk_level_valid(level))
		FAIL(EINVAL, "chunk %s: level %d is outside %d..%d", hash_hex,
		    level, CHUNK_LEVEL_MIN, CHUNK_LEVEL_MAX);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    (uint64_t)sb.st_size > chunk_compress_bound((size_t)expected_len))
		FAIL(EBADMSG, "chunk %s: not a patch of a chunk of %llu bytes",
		    hash_hex, (unsigned long long)expected_len);
	if ((map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd,
	    0)) == MAP_FAILED)
		FAIL(EIO, "chunk %s: %s", hash_hex, strerror(errno));
	/* The base: a stored chunk, verified when it came in. */
	if (store_read_content(st, base_hex, &base, &baselen, e2, sizeof e2) <
	    0) {
		int missing = errno == ENOENT; /* the rack has no such base */
		FAIL(missing ? ENOENT : EIO, "base chunk %s", e2);
	}
	if (!(raw = malloc((size_t)expected_len)) ||
	    !(out = malloc(chunk_compress_bound((size_t)expected_len))))
		FAIL(ENOMEM, "chunk %s: out of memory", hash_hex);
	if (chunk_patch_apply(NULL, base, baselen, map, (size_t)sb.st_size, raw,
	    (size_t)expected_len, expected_len, &rawlen, e2, sizeof e2) < 0)
		FAIL(EBADMSG, "chunk %s: the patch: %s", hash_hex, e2);
	if (rawlen != expected_len)
		FAIL(EBADMSG, "chunk %s: the patch gives %zu bytes, not %llu",
		    hash_hex, rawlen, (unsigned long long)expected_len);
	if (hash_buffer(alg, raw, rawlen, got) < 0 ||
	    sodium_memcmp(got, want, HASH_LEN) != 0)
		FAIL(EBADMSG,
		    "chunk %s: the patched content hashes to something else",
		    hash_hex);
	if (chunk_compress(NULL, raw, rawlen, level, out,
	    chunk_compress_bound(rawlen), &outlen, e2, sizeof e2) < 0)
		FAIL(EIO, "chunk %s: %s", hash_hex, e2);
	if (outlen != expected_stored)
		FAIL(ERANGE,
		    "chunk %s: compressed again at level %d it is %zu bytes, "
		    "the manifest says "
		    "%llu (another level or zstd version): send it whole",
		    hash_hex, level, outlen,
		    (unsigned long long)expected_stored);
	if (store_put_chunk(st, hash_hex, out, outlen, added, e2, sizeof e2) <
	    0)
		FAIL(EIO, "%s", e2);
	rc = 0;
out:
	if (map != MAP_FAILED)
		munmap(map, (size_t)sb.st_size);
	free(base);
	free(raw);
	free(out);
	return rc;
}
