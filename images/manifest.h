/* images/manifest.h — the image manifest, format version 1 (jansson).
 *
 *   { "format": 1, "name": "debian", "version": "12.5", "kind": "disk",
 *     "size": 8589934592, "chunk_size": 1048576, "hash": "blake2b-256",
 *     "compression": "zstd", "created": "2024-03-01T12:00:00Z",
 *     "chunks": [ {"offset": 0, "length": 1048576, "hash": "<64 hex>",
 *                  "stored": 123456}, ... ],
 *     "signature": { ... } }
 *
 * Rules (manifest_validate checks them all, manifest_parse also types):
 * - every field above is required except "signature", no other field is
 *   allowed, none may appear twice;
 * - name and version match [A-Za-z0-9][A-Za-z0-9._+-]{0,63};
 * - kind is "disk" (a raw disk image) or "rootfs" (a root file system);
 * - size <= MANIFEST_MAX_SIZE; chunk_size a power of two in
 *   [CHUNK_SIZE_MIN, CHUNK_SIZE_MAX]; "created" is YYYY-MM-DDTHH:MM:SSZ;
 * - chunks are ordered by offset, at most MANIFEST_MAX_CHUNKS; each offset
 *   is a multiple of chunk_size below size, and each length is exactly
 *   min(chunk_size, size - offset): chunks never overlap and always cover a
 *   whole chunk slot; a slot without a chunk is a hole (all zero);
 * - hash is the chunk's uncompressed content hash, 64 lowercase hex;
 *   stored (the compressed size) is in [1, chunk_compress_bound(length)].
 *
 * Signature (reserved, not implemented yet): an optional "signature" object,
 * kept verbatim and written last. The signed payload will be the output of
 * manifest_to_json() for the same manifest with no signature, so the JSON
 * writer is deterministic: fixed field order, one chunk per line, no
 * floating point.
 */
#ifndef RACKD_IMAGES_MANIFEST_H
#define RACKD_IMAGES_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "images/hash.h"

#define MANIFEST_FORMAT		1
/* 256 GiB of data at 1 MiB chunks */
#define MANIFEST_MAX_CHUNKS	(256u * 1024)
#define MANIFEST_MAX_SIZE	(UINT64_C(1) << 50)	/* 1 PiB */
/* largest manifest file we read */
#define MANIFEST_MAX_BYTES	(64u * 1024 * 1024)
#define MANIFEST_MAX_SIGNATURE	(64u * 1024) /* serialised signature object */
#define IMAGE_NAME_MAX		64	/* characters, name and version */
#define IMAGE_REF_MAX		(2 * IMAGE_NAME_MAX + 1) /* "name:version" */
#define MANIFEST_TIME_LEN	20	/* "YYYY-MM-DDTHH:MM:SSZ" */
/* characters of an offending value quoted in an error */
#define MANIFEST_SHOW_MAX	40

enum image_kind {
	IMAGE_KIND_DISK = 1, /* "disk": raw disk image */
	/* "rootfs": root file system for diskless boot */
	IMAGE_KIND_ROOTFS = 2,
};

enum image_compression {
	IMAGE_COMPRESSION_ZSTD = 1, /* "zstd": one frame per chunk */
};

struct manifest_chunk {
	uint64_t offset;	/* multiple of chunk_size */
	uint32_t length;	/* uncompressed bytes */
	uint32_t stored;	/* compressed bytes in the store */
	uint8_t hash[HASH_LEN]; /* of the uncompressed content */
};

struct manifest {
	int format; /* MANIFEST_FORMAT */
	char name[IMAGE_NAME_MAX + 1];
	char version[IMAGE_NAME_MAX + 1];
	enum image_kind kind;
	uint64_t size; /* image bytes, holes included */
	uint32_t chunk_size;
	enum hash_alg hash;
	enum image_compression compression;
	char created[MANIFEST_TIME_LEN + 1]; /* ISO 8601 UTC */
	size_t nchunks;
	size_t cap; /* allocated entries in chunks */
	struct manifest_chunk *chunks;
	char *signature; /* reserved: compact JSON object or NULL */
};

struct manifest_stats {
	uint64_t slots;	       /* ceil(size / chunk_size) */
	uint64_t chunks;       /* data chunks listed */
	uint64_t holes;	       /* slots - chunks */
	uint64_t data_bytes;   /* sum of lengths */
	uint64_t stored_bytes; /* sum of stored */
};

/* Name/version rules: [A-Za-z0-9][A-Za-z0-9._+-]{0,63}. NULL is invalid. */
bool	 image_name_valid(const char *name);
bool	 image_version_valid(const char *version);

/* Parses "name" or "name:version". name/version buffers hold
 * IMAGE_NAME_MAX + 1; version becomes "" when absent. 0, or -1 with err. */
int	 image_ref_parse(const char *ref, char *name, char *version, char *err,
	    size_t errlen);

const char *image_kind_name(enum image_kind kind);
int	 image_kind_from_name(const char *s, enum image_kind *out);

/* "YYYY-MM-DDTHH:MM:SSZ" of t into buf (>= MANIFEST_TIME_LEN + 1). */
void	 manifest_format_time(time_t t, char *buf, size_t buflen);
/* Strict check of that form, with calendar ranges. */
bool	 manifest_time_valid(const char *s);

/* A new empty manifest: format 1, zstd, HASH_ALG_DEFAULT,
 * CHUNK_SIZE_DEFAULT, kind disk, created now. NULL on no memory. */
struct manifest *manifest_new(void);
/* Appends a chunk (no validation; manifest_validate checks). 0, or -1 when
 * out of memory or past MANIFEST_MAX_CHUNKS. */
int	 manifest_add_chunk(struct manifest *m, const struct manifest_chunk *c);

/* Checks every rule above. 0, or -1 with a one-line err naming the field
 * and the chunk index. */
int	 manifest_validate(const struct manifest *m, char *err, size_t errlen);

/* Parses and validates a manifest from buf[0..len) (no NUL needed). 0 and
 * *out (free with manifest_free), or -1 with err. */
int	 manifest_parse(const char *buf, size_t len, struct manifest **out,
	    char *err, size_t errlen);
/* Reads path (at most MANIFEST_MAX_BYTES) and parses it. */
int	 manifest_load(const char *path, struct manifest **out, char *err,
	    size_t errlen);

/* Deterministic JSON text (malloc'd, ends with a newline), or NULL when out
 * of memory. Does not validate: call manifest_validate first. */
char	*manifest_to_json(const struct manifest *m);

void	 manifest_stats(const struct manifest *m, struct manifest_stats *st);
void	 manifest_free(struct manifest *m);

#endif
