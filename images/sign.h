/* images/sign.h — ed25519 signatures on image manifests (libsodium).
 *
 * Keys are text files of one line, standard base64 (with padding):
 *   public key  32 bytes -> 44 characters (the FILE.pub of rackctl keygen)
 *   secret key  64 bytes -> 88 characters (FILE, mode 0600)
 * A public key may also be given inline as its 44 base64 characters (the
 * form rackd's trusted_keys option accepts besides a file name).
 *
 * The signed payload is manifest_to_json() of the manifest without its
 * signature (manifest.h: the writer is deterministic). The signature is the
 * manifest's "signature" object:
 *   {"alg": "ed25519", "key": "<base64 public key>",
 *    "sig": "<base64 64 bytes>"}
 * "key" names the signer; a verifier trusts it only if it is one of its own
 * trusted keys, and checks the signature with that key.
 */
#ifndef RACKD_IMAGES_SIGN_H
#define RACKD_IMAGES_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/manifest.h"

#define SIGN_PUBLIC_LEN		32	/* crypto_sign_PUBLICKEYBYTES */
#define SIGN_SECRET_LEN		64	/* crypto_sign_SECRETKEYBYTES */
#define SIGN_SIG_LEN		64	/* crypto_sign_BYTES */
#define SIGN_PUBLIC_B64		44	/* base64 characters, no NUL */
#define SIGN_SECRET_B64		88
#define SIGN_SIG_B64		88
#define SIGN_KEY_FILE_MAX	4096	/* largest key file read */
#define SIGN_KEYS_MAX		32	/* trusted keys of one verifier */
#define SIGN_ALG		"ed25519"

/* Results of sign_verify_manifest. */
enum sign_status {
	SIGN_OK = 0,
	SIGN_UNSIGNED = -1,  /* no signature object */
	SIGN_MALFORMED = -2, /* a signature object that is not ours to read */
	SIGN_UNTRUSTED = -3, /* signed by a key that is not trusted */
	SIGN_BAD = -4,	     /* signed by a trusted key, but does not verify */
	SIGN_ERROR = -5,     /* out of memory, library failure */
};

struct sign_keys {
	size_t n;
	uint8_t key[SIGN_KEYS_MAX][SIGN_PUBLIC_LEN];
};

/* A new key pair. 0, or -1 if libsodium cannot start. */
int	 sign_keygen(uint8_t pk[SIGN_PUBLIC_LEN], uint8_t sk[SIGN_SECRET_LEN]);

/* Base64 text of a key (outlen >= 2 * len, NUL terminated). */
void	 sign_to_base64(const uint8_t *bin, size_t len, char *out,
	    size_t outlen);

/* Writes the key pair: path (secret, mode 0600, must not exist) and
 * path.pub (public, 0644, must not exist), each written to a temporary
 * file and renamed, so a failure leaves neither half-written. 0, or -1
 * with err. */
int	 sign_write_keypair(const char *path, const uint8_t pk[SIGN_PUBLIC_LEN],
	    const uint8_t sk[SIGN_SECRET_LEN], char *err, size_t errlen);

/* Parses 44 base64 characters (surrounding white space allowed) into a
 * public key. 0, or -1. */
int	 sign_parse_public(const char *text, size_t len,
	    uint8_t pk[SIGN_PUBLIC_LEN]);

/* A public key from "spec": inline base64, or a file holding one. 0, or -1
 * with err naming what is wrong. */
int	 sign_load_public(const char *spec, uint8_t pk[SIGN_PUBLIC_LEN],
	    char *err, size_t errlen);

/* A secret key from a file (rackctl keygen's). Refuses a file others can
 * read or write. 0, or -1 with err. The caller wipes sk after use. */
int	 sign_load_secret(const char *path, uint8_t sk[SIGN_SECRET_LEN],
	    char *err, size_t errlen);

/* Adds a key to keys (duplicates are dropped). 0, or -1 if full. */
int	 sign_keys_add(struct sign_keys *keys,
	    const uint8_t pk[SIGN_PUBLIC_LEN]);

/* Signs m with sk, replacing any signature m had. 0, or -1 with err. */
int	 sign_manifest(struct manifest *m, const uint8_t sk[SIGN_SECRET_LEN],
	    char *err, size_t errlen);

/* Checks m's signature against keys. SIGN_OK, or a status from the enum
 * above with err saying what is wrong in one line. */
enum sign_status sign_verify_manifest(const struct manifest *m,
	    const struct sign_keys *keys, char *err, size_t errlen);

/* The public key a manifest's signature names, as base64 (out >=
 * SIGN_PUBLIC_B64 + 1). 0, or -1 if unsigned or malformed. */
int	 sign_manifest_key(const struct manifest *m, char *out, size_t outlen);

#endif
