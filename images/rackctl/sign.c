/* images/rackctl/sign.c — "rackctl keygen" and "rackctl image sign":
 * ed25519 keys and signed manifests (images/sign.h). */
#include "images/rackctl/rackctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "images/sign.h"
#include "images/store.h"

static void
keygen_usage(FILE *f)
{
	fprintf(f,
	    "Usage: rackctl keygen --out FILE\n"
	    "\n"
	    "Make an ed25519 key pair for signing images: FILE holds the "
	    "secret key\n"
	    "(mode 0600; keep it on the central host), FILE.pub the public "
	    "key, which\n"
	    "racks list in their trusted_keys option. Each is one line of "
	    "base64.\n"
	    "Existing files are never replaced.\n"
	    "\n"
	    "  -o, --out FILE   where to write the key pair\n"
	    "\n"
	    "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

int
rackctl_cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	uint8_t pk[SIGN_PUBLIC_LEN], sk[SIGN_SECRET_LEN];
	char err[RACKCTL_ERR_MAX], pk64[SIGN_PUBLIC_B64 + 1];
	int o;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			keygen_usage(stdout);
			return RACKCTL_OK;
		default:
			return rackctl_bad_option("keygen", "keygen", o,
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return rackctl_usage(
		    "keygen", "keygen: unexpected argument '%s'", argv[optind]);
	if (!out)
		return rackctl_usage(
		    "keygen", "keygen: --out FILE is required");
	if (sign_keygen(pk, sk) < 0) {
		rackctl_error("libsodium failed to start");
		return RACKCTL_FAIL;
	}
	int r = sign_write_keypair(out, pk, sk, err, sizeof err);
	sodium_memzero(sk, sizeof sk);
	if (r < 0) {
		rackctl_error("%s", err);
		return RACKCTL_FAIL;
	}
	sign_to_base64(pk, sizeof pk, pk64, sizeof pk64);
	printf("secret key: %s\npublic key: %s.pub (%s)\n", out, out, pk64);
	return RACKCTL_OK;
}

int
rackctl_cmd_image_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *key = NULL, *storedir = NULL, *ref;
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1],
	    err[RACKCTL_ERR_MAX];
	char pk64[SIGN_PUBLIC_B64 + 1];
	uint8_t sk[SIGN_SECRET_LEN];
	struct store *st = NULL;
	struct manifest *m = NULL;
	int o, rc = RACKCTL_FAIL;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":k:s:h", opts, NULL)) != -1) {
		switch (o) {
		case 'k':
			key = optarg;
			break;
		case 's':
			storedir = optarg;
			break;
		case 'h':
			printf("Usage: rackctl image sign NAME[:VERSION] --key "
			       "FILE --store DIR\n"
			       "\n"
			       "Sign an image's manifest with the secret key "
			       "FILE (rackctl keygen),\n"
			       "replacing any signature it had. A rack with "
			       "trusted_keys takes only\n"
			       "images signed by one of its keys. Without "
			       "VERSION the highest version.\n"
			       "\n"
			       "  -k, --key FILE   the secret key (mode 0600)\n"
			       "  -s, --store DIR  the image store\n");
			return RACKCTL_OK;
		default:
			return rackctl_bad_option("image", "image sign", o,
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return rackctl_usage(
		    "image", "image sign: missing NAME[:VERSION]");
	ref = argv[optind++];
	if (optind < argc)
		return rackctl_usage("image",
		    "image sign: unexpected argument '%s'", argv[optind]);
	if (!key)
		return rackctl_usage(
		    "image", "image sign: --key FILE is required");
	if (!storedir)
		return rackctl_usage(
		    "image", "image sign: --store DIR is required");
	if (image_ref_parse(ref, name, version, err, sizeof err) < 0)
		return rackctl_usage("image", "%s", err);
	if (sign_load_secret(key, sk, err, sizeof err) < 0) {
		rackctl_error("%s", err);
		return RACKCTL_FAIL;
	}
	if (store_open(storedir, &st, err, sizeof err) < 0 ||
	    (!version[0] &&
		store_latest_version(st, name, version, err, sizeof err) < 0) ||
	    store_load_manifest(st, name, version, &m, err, sizeof err) < 0 ||
	    sign_manifest(m, sk, err, sizeof err) < 0 ||
	    store_replace_manifest(st, m, err, sizeof err) < 0) {
		rackctl_error("%s", err);
		goto out;
	}
	sign_manifest_key(m, pk64, sizeof pk64);
	printf("signed %s:%s with key %s\n", name, version, pk64);
	rc = RACKCTL_OK;
out:
	sodium_memzero(sk, sizeof sk);
	manifest_free(m);
	if (st)
		store_close(st);
	return rc;
}
