/*
 * auth.c — the API token (configured, or made once at first start into
 * STATE_DIR/api.token, mode 0600) and the random tokens handed to agents.
 * Comparisons are constant-time.
 */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "appliance/rackd.h"

#define TOKEN_FILE	"api.token"

static char api_token[CONFIG_VALUE_MAX + 1];
static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;

void
auth_random_hex(char out[TOKEN_HEX + 1])
{
	unsigned char raw[TOKEN_HEX / 2];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, TOKEN_HEX + 1, raw, sizeof(raw));
}

static void
make_token(char *out, size_t len)
{
	char hex[TOKEN_HEX + 1];

	auth_random_hex(hex);
	snprintf(out, len, "%s", hex);
	sodium_memzero(hex, sizeof(hex));
}

static int
load_token(char *err, size_t errlen)
{
	const struct statedir_secret sc = { "api_token", conf.api_token,
	    TOKEN_FILE, "token", "API token", TOKEN_MIN, make_token };
	char tok[CONFIG_VALUE_MAX + 1];

	if (statedir_secret(&sc, tok, sizeof(tok), err, errlen) != 0)
		return -1;
	pthread_mutex_lock(&token_lock);
	memcpy(api_token, tok, sizeof(api_token));
	pthread_mutex_unlock(&token_lock);
	sodium_memzero(tok, sizeof(tok));
	return 0;
}

int
auth_init(char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to start");
		return -1;
	}
	return load_token(err, errlen);
}

int
auth_reload(void)
{
	char err[ERR_MAX];

	if (load_token(err, sizeof(err)) != 0) {
		log_warnx("reload: %s; keeping the old token", err);
		return -1;
	}
	return 0;
}

const char *
auth_api_token(void)
{
	return api_token;
}

int
auth_token_equal(const char *a, const char *b)
{
	unsigned char ha[32], hb[32];

	/* Hash both so the comparison does not leak the length. */
	crypto_generichash(ha, sizeof(ha), (const unsigned char *)a, strlen(a),
	    NULL, 0);
	crypto_generichash(hb, sizeof(hb), (const unsigned char *)b, strlen(b),
	    NULL, 0);
	return sodium_memcmp(ha, hb, sizeof(ha)) == 0;
}

int
auth_check_api(const char *tok)
{
	int ok;

	pthread_mutex_lock(&token_lock);
	ok = api_token[0] != '\0' && auth_token_equal(tok, api_token);
	pthread_mutex_unlock(&token_lock);
	return ok;
}

void
auth_hash_hex(const void *data, size_t len, char out[TOKEN_HEX + 1])
{
	unsigned char h[TOKEN_HEX / 2];

	crypto_generichash(h, sizeof(h), data, len, NULL, 0);
	sodium_bin2hex(out, TOKEN_HEX + 1, h, sizeof(h));
}
