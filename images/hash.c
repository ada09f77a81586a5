/* images/hash.c — chunk hashing through libsodium. */
#include "images/hash.h"

#include <string.h>

int
hash_lib_init(void)
{
	/* sodium_init() is thread-safe; 1 means it was already done. */
	return sodium_init() < 0 ? -1 : 0;
}

const char *
hash_alg_name(enum hash_alg alg)
{
	switch (alg) {
	case HASH_SHA256:
		return "sha256";
	case HASH_BLAKE2B_256:
		return "blake2b-256";
	}
	return NULL;
}

bool
hash_alg_valid(int alg)
{
	return alg == HASH_SHA256 || alg == HASH_BLAKE2B_256;
}

int
hash_alg_from_name(const char *name, enum hash_alg *out)
{
	if (!name)
		return -1;
	if (strcmp(name, "sha256") == 0) {
		*out = HASH_SHA256;
		return 0;
	}
	if (strcmp(name, "blake2b-256") == 0) {
		*out = HASH_BLAKE2B_256;
		return 0;
	}
	return -1;
}

int
hash_init(struct hash_ctx *ctx, enum hash_alg alg)
{
	if (hash_lib_init() < 0)
		return -1;
	ctx->alg = alg;
	switch (alg) {
	case HASH_SHA256:
		crypto_hash_sha256_init(&ctx->u.sha256);
		return 0;
	case HASH_BLAKE2B_256:
		crypto_generichash_init(&ctx->u.blake2b, NULL, 0, HASH_LEN);
		return 0;
	}
	return -1;
}

void
hash_update(struct hash_ctx *ctx, const void *data, size_t len)
{
	if (ctx->alg == HASH_SHA256)
		crypto_hash_sha256_update(&ctx->u.sha256, data, len);
	else
		crypto_generichash_update(&ctx->u.blake2b, data, len);
}

void
hash_final(struct hash_ctx *ctx, uint8_t out[HASH_LEN])
{
	if (ctx->alg == HASH_SHA256)
		crypto_hash_sha256_final(&ctx->u.sha256, out);
	else
		crypto_generichash_final(&ctx->u.blake2b, out, HASH_LEN);
	sodium_memzero(&ctx->u, sizeof ctx->u);
}

int
hash_buffer(enum hash_alg alg, const void *data, size_t len,
    uint8_t out[HASH_LEN])
{
	if (hash_lib_init() < 0)
		return -1;
	switch (alg) {
	case HASH_SHA256:
		crypto_hash_sha256(out, data, len);
		return 0;
	case HASH_BLAKE2B_256:
		crypto_generichash(out, HASH_LEN, data, len, NULL, 0);
		return 0;
	}
	return -1;
}

void
hash_to_hex(const uint8_t digest[HASH_LEN], char hex[HASH_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < HASH_LEN; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 0x0f];
	}
	hex[HASH_HEX_LEN] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* uppercase is not accepted: one name per chunk */
}

bool
hash_hex_valid_n(const char *s, size_t len)
{
	if (!s || len != HASH_HEX_LEN)
		return false;
	for (size_t i = 0; i < HASH_HEX_LEN; i++)
		if (hexval(s[i]) < 0)
			return false;
	return true;
}

bool
hash_hex_valid(const char *s)
{
	if (!s)
		return false;
	/* strnlen bounds the scan of a possibly long untrusted string. */
	return strnlen(s, HASH_HEX_LEN + 1) == HASH_HEX_LEN &&
	    hash_hex_valid_n(s, HASH_HEX_LEN);
}

int
hash_from_hex(const char *hex, uint8_t digest[HASH_LEN])
{
	if (!hash_hex_valid(hex))
		return -1;
	for (size_t i = 0; i < HASH_LEN; i++)
		digest[i] =
		    (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
	return 0;
}
