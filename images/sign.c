/* images/sign.c — ed25519 manifest signatures and key files (libsodium). */
#include "images/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "images/err.h"
#include "images/fail.h"
#include "images/file.h"

#define SIGN_TMP_SUFFIX ".tmp"

static int
lib_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

int
sign_keygen(uint8_t pk[SIGN_PUBLIC_LEN], uint8_t sk[SIGN_SECRET_LEN])
{
	if (lib_init() < 0)
		return -1;
	return crypto_sign_keypair(pk, sk) == 0 ? 0 : -1;
}

void
sign_to_base64(const uint8_t *bin, size_t len, char *out, size_t outlen)
{
	if (outlen <
	    sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL)) {
		if (outlen)
			out[0] = '\0';
		return;
	}
	sodium_bin2base64(out, outlen, bin, len,
	    sodium_base64_VARIANT_ORIGINAL);
}

/* Exactly want bytes from base64 text[0..len), white space around allowed. */
static int
from_base64(const char *text, size_t len, uint8_t *out, size_t want)
{
	uint8_t buf[SIGN_SECRET_LEN + 8];
	size_t got = 0;
	const char *end = NULL;

	while (len &&
	    (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')) {
		text++;
		len--;
	}
	while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' ||
	    text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len == 0 || want > sizeof buf ||
	    len != sodium_base64_ENCODED_LEN(want,
	    sodium_base64_VARIANT_ORIGINAL) - 1)
		return -1;
	if (sodium_base642bin(buf, sizeof buf, text, len, NULL, &got, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got != want || end != text + len) {
		sodium_memzero(buf, sizeof buf);
		return -1;
	}
	memcpy(out, buf, want);
	sodium_memzero(buf, sizeof buf);
	return 0;
}

int
sign_parse_public(const char *text, size_t len, uint8_t pk[SIGN_PUBLIC_LEN])
{
	return from_base64(text, len, pk, SIGN_PUBLIC_LEN);
}

/* Reads a small key file (at most SIGN_KEY_FILE_MAX bytes) into buf. */
static int
read_key_file(const char *path, char *buf, size_t buflen, size_t *len,
    mode_t *mode, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		FAIL("%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (size_t)st.st_size >= buflen) {
		close(fd);
		FAIL("%s: not a key file (a regular file of at most %zu bytes)",
		    path, buflen - 1);
	}
	size_t got = read_full(fd, buf, (size_t)st.st_size);
	close(fd);
	if (got != (size_t)st.st_size)
		FAIL("%s: short read", path);
	buf[got] = '\0';
	*len = got;
	if (mode)
		*mode = st.st_mode;
	return 0;
}

int
sign_load_public(const char *spec, uint8_t pk[SIGN_PUBLIC_LEN], char *err,
    size_t errlen)
{
	char buf[SIGN_KEY_FILE_MAX + 1], e2[IMG_ERR_MAX];
	size_t len;

	if (!spec || !*spec)
		FAIL("empty public key");
	if (sign_parse_public(spec, strlen(spec), pk) == 0)
		return 0;
	if (read_key_file(spec, buf, sizeof buf, &len, NULL, e2, sizeof e2) <
	    0) {
		if (strchr(spec, '/') == NULL && access(spec, F_OK) < 0)
			FAIL("'%.80s' is neither a base64 ed25519 public key "
			    "(%d characters) nor a key file",
			    spec, SIGN_PUBLIC_B64);
		FAIL("%s", e2);
	}
	if (sign_parse_public(buf, len, pk) < 0) {
		sodium_memzero(buf, sizeof buf);
		FAIL("%s: not an ed25519 public key (one line of %d "
		    "base64 characters)", spec, SIGN_PUBLIC_B64);
	}
	return 0;
}

int
sign_load_secret(const char *path, uint8_t sk[SIGN_SECRET_LEN], char *err,
    size_t errlen)
{
	char buf[SIGN_KEY_FILE_MAX + 1];
	size_t len;
	mode_t mode;

	if (lib_init() < 0)
		FAIL("libsodium failed to start");
	if (read_key_file(path, buf, sizeof buf, &len, &mode, err, errlen) < 0)
		return -1;
	if (mode & 077) {
		sodium_memzero(buf, sizeof buf);
		FAIL("%s: secret key readable by others (mode %03o); "
		    "chmod 600 it", path, (unsigned)(mode & 0777));
	}
	int r = from_base64(buf, len, sk, SIGN_SECRET_LEN);
	sodium_memzero(buf, sizeof buf);
	if (r < 0)
		FAIL("%s: not an ed25519 secret key (one line of %d "
		    "base64 characters)", path, SIGN_SECRET_B64);
	/* The public half is inside the secret key: check they belong. */
	uint8_t pk[SIGN_PUBLIC_LEN];
	if (crypto_sign_ed25519_sk_to_pk(pk, sk) != 0 ||
	    memcmp(pk, sk + SIGN_SECRET_LEN - SIGN_PUBLIC_LEN,
	    SIGN_PUBLIC_LEN) != 0) {
		sodium_memzero(sk, SIGN_SECRET_LEN);
		FAIL("%s: damaged secret key", path);
	}
	return 0;
}

/* Writes text to path through path.tmp (exclusive) and a link, so an
 * existing path is never replaced and a failure leaves nothing. */
static int
write_new(const char *path, const char *text, mode_t mode, char *err,
    size_t errlen)
{
	char tmp[4096];
	size_t len = strlen(text);

	if (snprintf(tmp, sizeof tmp, "%s" SIGN_TMP_SUFFIX, path) >=
	    (int)sizeof tmp)
		FAIL("%s: path too long", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	if (fd < 0)
		FAIL("%s: %s", tmp, strerror(errno));
	if (fchmod(fd, mode) < 0 || write(fd, text, len) != (ssize_t)len ||
	    fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		FAIL("%s: %s", tmp, strerror(e ? e : EIO));
	}
	close(fd);
	if (link(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		FAIL("%s: %s", path,
		    e == EEXIST ? "already exists (not replaced)" :
		    strerror(e));
	}
	unlink(tmp);
	return 0;
}

int
sign_write_keypair(const char *path, const uint8_t pk[SIGN_PUBLIC_LEN],
    const uint8_t sk[SIGN_SECRET_LEN], char *err, size_t errlen)
{
	char pub[4096], text[SIGN_SECRET_B64 + 8];

	if (snprintf(pub, sizeof pub, "%s.pub", path) >= (int)sizeof pub)
		FAIL("%s: path too long", path);
	if (access(path, F_OK) == 0)
		FAIL("%s: already exists (not replaced)", path);
	if (access(pub, F_OK) == 0)
		FAIL("%s: already exists (not replaced)", pub);
	sign_to_base64(sk, SIGN_SECRET_LEN, text, sizeof text);
	strcat(text, "\n");
	int r = write_new(path, text, 0600, err, errlen);
	sodium_memzero(text, sizeof text);
	if (r < 0)
		return -1;
	sign_to_base64(pk, SIGN_PUBLIC_LEN, text, sizeof text);
	strcat(text, "\n");
	if (write_new(pub, text, 0644, err, errlen) < 0) {
		unlink(path);
		return -1;
	}
	return 0;
}

int
sign_keys_add(struct sign_keys *keys, const uint8_t pk[SIGN_PUBLIC_LEN])
{
	for (size_t i = 0; i < keys->n; i++)
		if (memcmp(keys->key[i], pk, SIGN_PUBLIC_LEN) == 0)
			return 0;
	if (keys->n >= SIGN_KEYS_MAX)
		return -1;
	memcpy(keys->key[keys->n++], pk, SIGN_PUBLIC_LEN);
	return 0;
}

/* manifest_to_json of m without its signature (malloc'd), or NULL. */
static char *
payload(const struct manifest *m)
{
	struct manifest copy = *m;
	copy.signature = NULL;
	return manifest_to_json(&copy);
}

int
sign_manifest(struct manifest *m, const uint8_t sk[SIGN_SECRET_LEN], char *err,
    size_t errlen)
{
	uint8_t sig[SIGN_SIG_LEN], pk[SIGN_PUBLIC_LEN];
	char sig64[SIGN_SIG_B64 + 1], pk64[SIGN_PUBLIC_B64 + 1],
	    verr[IMG_ERR_MAX];

	if (lib_init() < 0)
		FAIL("libsodium failed to start");
	if (manifest_validate(m, verr, sizeof verr) < 0)
		FAIL("manifest %s:%s: %s", m->name, m->version, verr);
	char *text = payload(m);
	if (!text)
		FAIL("out of memory");
	crypto_sign_detached(sig, NULL, (const unsigned char *)text,
	    strlen(text), sk);
	free(text);
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	sign_to_base64(sig, sizeof sig, sig64, sizeof sig64);
	sign_to_base64(pk, sizeof pk, pk64, sizeof pk64);
	json_t *o = json_pack("{s:s,s:s,s:s}", "alg", SIGN_ALG, "key", pk64,
	    "sig", sig64);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENSURE_ASCII) : NULL;
	json_decref(o);
	if (!s)
		FAIL("out of memory");
	free(m->signature);
	m->signature = s;
	return 0;
}

/* The signature object's fields: SIGN_OK, SIGN_UNSIGNED or SIGN_MALFORMED. */
static enum sign_status
read_signature(const struct manifest *m, uint8_t pk[SIGN_PUBLIC_LEN],
    uint8_t sig[SIGN_SIG_LEN], char *err, size_t errlen)
{
	if (!m->signature) {
		snprintf(err, errlen, "image %s:%s is not signed", m->name,
		    m->version);
		return SIGN_UNSIGNED;
	}
	json_t *o = json_loads(m->signature, JSON_REJECT_DUPLICATES, NULL);
	const char *alg = json_string_value(json_object_get(o, "alg"));
	const char *key = json_string_value(json_object_get(o, "key"));
	const char *s = json_string_value(json_object_get(o, "sig"));
	enum sign_status r = SIGN_OK;
	if (!json_is_object(o) || json_object_size(o) != 3 || !alg || !key ||
	    !s) {
		snprintf(err, errlen,
		    "signature: must be {\"alg\": \"%s\", \"key\": ..., "
		    "\"sig\": ...}",
		    SIGN_ALG);
		r = SIGN_MALFORMED;
	} else if (strcmp(alg, SIGN_ALG) != 0) {
		snprintf(err, errlen,
		    "signature: algorithm \"%.32s\" is not \"%s\"", alg,
		    SIGN_ALG);
		r = SIGN_MALFORMED;
	} else if (sign_parse_public(key, strlen(key), pk) < 0) {
		snprintf(err, errlen,
		    "signature: key is not a base64 ed25519 public key");
		r = SIGN_MALFORMED;
	} else if (from_base64(s, strlen(s), sig, SIGN_SIG_LEN) < 0) {
		snprintf(err, errlen,
		    "signature: sig is not %d base64 characters", SIGN_SIG_B64);
		r = SIGN_MALFORMED;
	}
	json_decref(o);
	return r;
}

int
sign_manifest_key(const struct manifest *m, char *out, size_t outlen)
{
	uint8_t pk[SIGN_PUBLIC_LEN], sig[SIGN_SIG_LEN];
	char err[IMG_ERR_MAX];

	if (read_signature(m, pk, sig, err, sizeof err) != 0 ||
	    outlen < SIGN_PUBLIC_B64 + 1)
		return -1;
	sign_to_base64(pk, sizeof pk, out, outlen);
	return 0;
}

enum sign_status
sign_verify_manifest(const struct manifest *m, const struct sign_keys *keys,
    char *err, size_t errlen)
{
	uint8_t pk[SIGN_PUBLIC_LEN], sig[SIGN_SIG_LEN];
	char pk64[SIGN_PUBLIC_B64 + 1];
	enum sign_status st;
	int r;

	if (lib_init() < 0) {
		snprintf(err, errlen, "libsodium failed to start");
		return SIGN_ERROR;
	}
	if ((st = read_signature(m, pk, sig, err, errlen)) != SIGN_OK)
		return st;
	size_t i;
	for (i = 0; i < keys->n; i++)
		if (sodium_memcmp(keys->key[i], pk, SIGN_PUBLIC_LEN) == 0)
			break;
	sign_to_base64(pk, sizeof pk, pk64, sizeof pk64);
	if (i == keys->n) {
		snprintf(err, errlen,
		    "image %s:%s is signed by key %s, which is not trusted "
		    "here",
		    m->name, m->version, pk64);
		return SIGN_UNTRUSTED;
	}
	char *text = payload(m);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return SIGN_ERROR;
	}
	r = crypto_sign_verify_detached(sig, (const unsigned char *)text,
	    strlen(text), pk);
	free(text);
	if (r != 0) {
		snprintf(err, errlen,
		    "image %s:%s: the signature by key %s does not match the "
		    "manifest (altered or wrongly signed)",
		    m->name, m->version, pk64);
		return SIGN_BAD;
	}
	return SIGN_OK;
}
