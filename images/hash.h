/* images/hash.h — chunk hashing (libsodium): SHA-256 and BLAKE2b-256.
 *
 * A chunk is named by the 32-byte hash of its uncompressed content, written
 * as 64 lowercase hex characters. Both algorithms stay verifiable; new
 * manifests use HASH_ALG_DEFAULT (the faster one on the measured hardware,
 * see tests/bench/hashbench.c).
 */
#ifndef RACKD_IMAGES_HASH_H
#define RACKD_IMAGES_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define HASH_LEN	32	/* digest bytes, both algorithms */
#define HASH_HEX_LEN	64	/* hex characters, without the NUL */
#define HASH_NAME_MAX	16	/* longest algorithm name plus NUL */

enum hash_alg {
	HASH_SHA256 = 1, /* "sha256": crypto_hash_sha256 */
	/* "blake2b-256": crypto_generichash, 32 bytes, no key */
	HASH_BLAKE2B_256 = 2,
};

/* BLAKE2b-256 measured ~2x faster than SHA-256 (tests/bench/hashbench.c). */
#define HASH_ALG_DEFAULT	HASH_BLAKE2B_256

struct hash_ctx {
	enum hash_alg alg;
	union {
		crypto_hash_sha256_state sha256;
		crypto_generichash_state blake2b;
	} u;
};

/* Initialises libsodium once (picks the CPU's fastest code); idempotent and
 * thread-safe. Every function below calls it; returns 0, or -1 on failure. */
int	 hash_lib_init(void);

/* "sha256" / "blake2b-256"; NULL for an unknown value. */
const char *hash_alg_name(enum hash_alg alg);
/* 0 and *out set, or -1 if name is not a known algorithm (exact match). */
int	 hash_alg_from_name(const char *name, enum hash_alg *out);
bool	 hash_alg_valid(int alg);

/* Incremental: init, update any number of times, final once. */
int	 hash_init(struct hash_ctx *ctx, enum hash_alg alg);
void	 hash_update(struct hash_ctx *ctx, const void *data, size_t len);
void	 hash_final(struct hash_ctx *ctx, uint8_t out[HASH_LEN]);

/* One shot. 0, or -1 for an unknown algorithm. */
int	 hash_buffer(enum hash_alg alg, const void *data, size_t len,
	    uint8_t out[HASH_LEN]);

/* 64 lowercase hex characters plus NUL into hex[HASH_HEX_LEN + 1]. */
void	 hash_to_hex(const uint8_t digest[HASH_LEN],
	    char hex[HASH_HEX_LEN + 1]);
/* Strict: exactly 64 lowercase hex characters then NUL. 0, or -1. */
int	 hash_from_hex(const char *hex, uint8_t digest[HASH_LEN]);
/* True if s is exactly 64 lowercase hex characters (NUL-terminated). Safe
 * for untrusted input such as URL paths; NULL is false. */
bool	 hash_hex_valid(const char *s);
/* Same on a counted string (no NUL needed): len must be 64. */
bool	 hash_hex_valid_n(const char *s, size_t len);

#endif
