/* tests/unit/test_images_sign.c — ed25519 manifest signatures and key
 * files: keygen and its files' modes, loading keys (files, inline, bad
 * ones), signing, verifying (good, unsigned, untrusted, altered, malformed),
 * and that a signature survives the manifest's JSON round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "images/manifest.h"
#include "images/sign.h"
#include "tests/unit/unit.h"

struct fx {
	char *dir;
	char key[4200], pub[4300];
	uint8_t pk[SIGN_PUBLIC_LEN], sk[SIGN_SECRET_LEN];
};

static int
teardown(void **state)
{
	struct fx *f = *state;
	unit_rm_rf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256];
	if (!f || !(f->dir = unit_mkdtemp())) {
		free(f);
		return -1;
	}
	*state = f;
	snprintf(f->key, sizeof f->key, "%s/k", f->dir);
	snprintf(f->pub, sizeof f->pub, "%s/k.pub", f->dir);
	if (sign_keygen(f->pk, f->sk) < 0 ||
	    sign_write_keypair(f->key, f->pk, f->sk, err, sizeof err) < 0) {
		print_error("%s\n", err);
		teardown(state);
		return -1;
	}
	return 0;
}

/* A small valid manifest: 3 chunks of 64 KiB, one hole. */
static struct manifest *
sample(void)
{
	struct manifest *m = manifest_new();
	assert_non_null(m);
	snprintf(m->name, sizeof m->name, "deb");
	snprintf(m->version, sizeof m->version, "12.5");
	m->chunk_size = 65536;
	m->size = 4 * 65536;
	for (int i = 0; i < 3; i++) {
		struct manifest_chunk c = {
			.offset = (uint64_t)(i == 2 ? 3 : i) * 65536,
			.length = 65536,
			.stored = 1000
		};
		unit_random(c.hash, HASH_LEN, (uint64_t)i + 1);
		assert_int_equal(manifest_add_chunk(m, &c), 0);
	}
	return m;
}

static void
test_keygen_files(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char err[256];
	size_t len;

	assert_int_equal(stat(f->key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(f->pub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	char *text = unit_read_file(f->pub, &len);
	assert_non_null(text);
	assert_int_equal(len, SIGN_PUBLIC_B64 + 1); /* one line */
	free(text);
	/* Never replaced. */
	assert_int_equal(
	    sign_write_keypair(f->key, f->pk, f->sk, err, sizeof err), -1);
	assert_non_null(strstr(err, "already exists"));
	/* No temporary files left. */
	assert_int_equal(unit_count_dir(f->dir), 2);
}

static void
test_load_keys(void **state)
{
	struct fx *f = *state;
	uint8_t pk[SIGN_PUBLIC_LEN], sk[SIGN_SECRET_LEN];
	char err[256], b64[SIGN_PUBLIC_B64 + 1], path[4300];

	assert_int_equal(sign_load_public(f->pub, pk, err, sizeof err), 0);
	assert_memory_equal(pk, f->pk, SIGN_PUBLIC_LEN);
	sign_to_base64(f->pk, SIGN_PUBLIC_LEN, b64, sizeof b64);
	assert_int_equal(strlen(b64), SIGN_PUBLIC_B64);
	memset(pk, 0, sizeof pk);
	assert_int_equal(sign_load_public(b64, pk, err, sizeof err), 0);
	assert_memory_equal(pk, f->pk, SIGN_PUBLIC_LEN);
	assert_int_equal(sign_load_secret(f->key, sk, err, sizeof err), 0);
	assert_memory_equal(sk, f->sk, SIGN_SECRET_LEN);

	/* Bad ones: a clear error each. */
	assert_int_equal(
	    sign_load_public("not-a-key", pk, err, sizeof err), -1);
	assert_non_null(strstr(err, "neither"));
	assert_int_equal(sign_load_public("", pk, err, sizeof err), -1);
	b64[10] = '!';
	assert_int_equal(sign_load_public(b64, pk, err, sizeof err), -1);
	snprintf(path, sizeof path, "%s/garbage", f->dir);
	assert_int_equal(unit_write_file(path, "hello\n", 6), 0);
	assert_int_equal(sign_load_public(path, pk, err, sizeof err), -1);
	assert_non_null(strstr(err, "not an ed25519 public key"));
	chmod(path, 0600);
	assert_int_equal(sign_load_secret(path, sk, err, sizeof err), -1);
	assert_non_null(strstr(err, "not an ed25519 secret key"));
	/* The public file is not a secret key, and a readable secret is
	 * refused. */
	assert_int_equal(sign_load_secret(f->pub, sk, err, sizeof err), -1);
	chmod(f->key, 0644);
	assert_int_equal(sign_load_secret(f->key, sk, err, sizeof err), -1);
	assert_non_null(strstr(err, "readable by others"));
	chmod(f->key, 0600);
	snprintf(path, sizeof path, "%s/missing", f->dir);
	assert_int_equal(sign_load_secret(path, sk, err, sizeof err), -1);
}

static void
test_sign_verify(void **state)
{
	struct fx *f = *state;
	struct sign_keys keys = { 0 }, other = { 0 };
	uint8_t pk2[SIGN_PUBLIC_LEN], sk2[SIGN_SECRET_LEN];
	char err[512];
	struct manifest *m = sample();

	assert_int_equal(sign_keys_add(&keys, f->pk), 0);
	assert_int_equal(sign_keys_add(&keys, f->pk), 0);
	assert_int_equal(keys.n, 1);
	assert_int_equal(sign_keygen(pk2, sk2), 0);
	assert_int_equal(sign_keys_add(&other, pk2), 0);

	assert_int_equal(
	    sign_verify_manifest(m, &keys, err, sizeof err), SIGN_UNSIGNED);
	assert_non_null(strstr(err, "not signed"));
	assert_int_equal(sign_manifest(m, f->sk, err, sizeof err), 0);
	assert_non_null(m->signature);
	assert_int_equal(
	    sign_verify_manifest(m, &keys, err, sizeof err), SIGN_OK);
	assert_int_equal(
	    sign_verify_manifest(m, &other, err, sizeof err), SIGN_UNTRUSTED);
	assert_non_null(strstr(err, "not trusted"));

	/* Through JSON and back: still good. */
	char *json = manifest_to_json(m);
	struct manifest *m2;
	assert_int_equal(
	    manifest_parse(json, strlen(json), &m2, err, sizeof err), 0);
	assert_int_equal(
	    sign_verify_manifest(m2, &keys, err, sizeof err), SIGN_OK);
	char key64[SIGN_PUBLIC_B64 + 1], want[SIGN_PUBLIC_B64 + 1];
	assert_int_equal(sign_manifest_key(m2, key64, sizeof key64), 0);
	sign_to_base64(f->pk, SIGN_PUBLIC_LEN, want, sizeof want);
	assert_string_equal(key64, want);

	/* Altered after signing: any field. */
	m2->chunks[1].hash[0] ^= 1;
	assert_int_equal(
	    sign_verify_manifest(m2, &keys, err, sizeof err), SIGN_BAD);
	assert_non_null(strstr(err, "does not match"));
	m2->chunks[1].hash[0] ^= 1;
	m2->size += 1;
	assert_int_equal(
	    sign_verify_manifest(m2, &keys, err, sizeof err), SIGN_BAD);
	m2->size -= 1;
	snprintf(m2->version, sizeof m2->version, "12.6");
	assert_int_equal(
	    sign_verify_manifest(m2, &keys, err, sizeof err), SIGN_BAD);
	manifest_free(m2);
	free(json);

	/* Re-signing with another key replaces the signature. */
	assert_int_equal(sign_manifest(m, sk2, err, sizeof err), 0);
	assert_int_equal(
	    sign_verify_manifest(m, &keys, err, sizeof err), SIGN_UNTRUSTED);
	assert_int_equal(
	    sign_verify_manifest(m, &other, err, sizeof err), SIGN_OK);
	manifest_free(m);
}

static void
test_malformed(void **state)
{
	struct fx *f = *state;
	struct sign_keys keys = { 0 };
	char err[512], pk64[SIGN_PUBLIC_B64 + 1], sig[600];
	struct manifest *m = sample();
	static const char *const bad[] = {
		"{}",
		"{\"alg\":\"rsa\",\"key\":\"KEY\",\"sig\":\"AAAA\"}",
		"{\"alg\":\"ed25519\",\"key\":\"short\",\"sig\":\"AAAA\"}",
		"{\"alg\":\"ed25519\",\"key\":\"KEY\",\"sig\":\"AAAA\"}",
		"{\"alg\":\"ed25519\",\"key\":\"KEY\",\"sig\":5}",
		"{\"alg\":\"ed25519\",\"key\":\"KEY\",\"sig\":\"AAAA\",\"x\":"
		"1}",
	};

	sign_keys_add(&keys, f->pk);
	sign_to_base64(f->pk, SIGN_PUBLIC_LEN, pk64, sizeof pk64);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *k = strstr(bad[i], "KEY");
		if (k)
			snprintf(sig, sizeof sig, "%.*s%s%s", (int)(k - bad[i]),
			    bad[i], pk64, k + 3);
		else
			snprintf(sig, sizeof sig, "%s", bad[i]);
		free(m->signature);
		m->signature = strdup(sig);
		assert_int_equal(
		    sign_verify_manifest(m, &keys, err, sizeof err),
		    SIGN_MALFORMED);
		assert_true(strlen(err) > 0);
	}
	/* A valid-looking signature of other bytes. */
	char zeros[SIGN_SIG_B64 + 1];
	uint8_t z[SIGN_SIG_LEN] = { 0 };
	sign_to_base64(z, sizeof z, zeros, sizeof zeros);
	snprintf(sig, sizeof sig,
	    "{\"alg\":\"ed25519\",\"key\":\"%s\",\"sig\":\"%s\"}", pk64, zeros);
	free(m->signature);
	m->signature = strdup(sig);
	assert_int_equal(
	    sign_verify_manifest(m, &keys, err, sizeof err), SIGN_BAD);
	manifest_free(m);
}

static void
test_keys_limit(void **state)
{
	struct sign_keys keys = { 0 };
	uint8_t pk[SIGN_PUBLIC_LEN];

	(void)state;
	for (int i = 0; i < SIGN_KEYS_MAX; i++) {
		unit_random(pk, sizeof pk, (uint64_t)i + 7);
		assert_int_equal(sign_keys_add(&keys, pk), 0);
	}
	unit_random(pk, sizeof pk, 999);
	assert_int_equal(sign_keys_add(&keys, pk), -1);
	assert_int_equal(keys.n, SIGN_KEYS_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_keygen_files, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_load_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_sign_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_malformed, setup, teardown),
		cmocka_unit_test(test_keys_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
