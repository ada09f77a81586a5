/*
 * session.c — the dashboard's sign-in. A password (the dashboard_password
 * option, or made once at first start into STATE_DIR/dashboard.password,
 * mode 0600) buys a session:
 *
 *   POST /api/v1/session {"password": "..."}  -> Set-Cookie rackd_session
 *        (HttpOnly, SameSite=Strict, Path=/) and {"csrf": "..."}
 *   GET /api/v1/session                       -> signed in or not, the CSRF
 *   DELETE /api/v1/session                    -> signed out
 *
 * Only a hash of the cookie value is stored (db/db_sessions.c), with the
 * CSRF token that every write made with the cookie must carry in the
 * X-CSRF-Token header. Sessions end session_ttl after sign-in; at most
 * SESSIONS_MAX live at once (the oldest go first). Failed sign-ins are
 * counted per client address (an IPv6 client by its /64) and for all
 * clients together; past the limit, sign-in answers 429 until the window
 * ends, without looking at the password. Comparisons are constant-time.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "appliance/rackd.h"
#include "db/db.h"

#define PASSWORD_GROUPS		4	/* generated: xxxxx-xxxxx-xxxxx-xxxxx */
#define PASSWORD_GROUP_LEN	5

static char password[CONFIG_VALUE_MAX + 1];
static pthread_mutex_t pw_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the password -------------------------------------------------------- */

/* 100 random bits in letters and digits that cannot be mistaken. */
static void
make_password(char *out, size_t len)
{
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
	size_t o = 0;

	for (int g = 0; g < PASSWORD_GROUPS; g++) {
		if (g > 0 && o + 1 < len)
			out[o++] = '-';
		for (int i = 0; i < PASSWORD_GROUP_LEN && o + 1 < len; i++)
			out[o++] = alphabet[randombytes_uniform(
			    sizeof(alphabet) - 1)];
	}
	out[o] = '\0';
}

static int
load_password(char *err, size_t errlen)
{
	const struct statedir_secret sc = { "dashboard_password",
	    conf.dashboard_password, PASSWORD_FILE, "password",
	    "dashboard password", PASSWORD_MIN, make_password };
	char pw[CONFIG_VALUE_MAX + 1];
	int changed;

	if (statedir_secret(&sc, pw, sizeof(pw), err, errlen) != 0)
		return -1;
	pthread_mutex_lock(&pw_lock);
	changed = password[0] != '\0' && strcmp(password, pw) != 0;
	memcpy(password, pw, sizeof(password));
	pthread_mutex_unlock(&pw_lock);
	sodium_memzero(pw, sizeof(pw));
	if (changed) {
		/* Whoever signed in with the old password is out. */
		db_sessions_clear();
		events_sessions_check();
		log_info("dashboard password changed: every session "
		    "signed out");
	}
	return 0;
}

int
session_init(char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to start");
		return -1;
	}
	return load_password(err, errlen);
}

int
session_reload(void)
{
	char err[ERR_MAX];

	if (load_password(err, sizeof(err)) != 0) {
		log_warnx("reload: %s; keeping the old dashboard "
		    "password", err);
		return -1;
	}
	return 0;
}

int
session_password_ok(const char *given)
{
	int ok;

	pthread_mutex_lock(&pw_lock);
	ok = password[0] != '\0' && auth_token_equal(given, password);
	pthread_mutex_unlock(&pw_lock);
	return ok;
}

/* ---- sessions ------------------------------------------------------------ */

int
session_cookie_valid(const char *v)
{
	size_t n = 0;

	if (v == NULL)
		return 0;
	for (; v[n] != '\0'; n++)
		if (n >= TOKEN_HEX || !((v[n] >= '0' && v[n] <= '9') ||
		    (v[n] >= 'a' && v[n] <= 'f')))
			return 0;
	return n == TOKEN_HEX;
}

int
session_create(int64_t now_ms, int ttl, char cookie[TOKEN_HEX + 1],
    char csrf[TOKEN_HEX + 1])
{
	char id[TOKEN_HEX + 1];

	auth_random_hex(cookie);
	auth_random_hex(csrf);
	auth_hash_hex(cookie, TOKEN_HEX, id);
	if (db_session_add(id, csrf, now_ms, now_ms + (int64_t)ttl * 1000,
	    SESSIONS_MAX) != DB_OK)
		return -1;
	return 0;
}

enum session_status
session_lookup(const char *cookie, const char *csrf, int write, int64_t now_ms,
    char *csrf_out, size_t len, int64_t *expires)
{
	char id[TOKEN_HEX + 1], want[DB_CSRF_MAX + 1];

	if (!session_cookie_valid(cookie))
		return SESSION_NONE;
	auth_hash_hex(cookie, TOKEN_HEX, id);
	if (db_session_get(id, now_ms, want, sizeof(want), expires) != DB_OK)
		return SESSION_NONE;
	if (csrf_out != NULL)
		snprintf(csrf_out, len, "%s", want);
	if (write && (csrf == NULL || want[0] == '\0' ||
	    !auth_token_equal(csrf, want)))
		return SESSION_BAD_CSRF;
	return SESSION_OK;
}

enum session_status
session_check(const char *cookie, const char *csrf, int write)
{
	return session_lookup(cookie, csrf, write, db_now_ms(), NULL, 0, NULL);
}

enum session_end
session_end(const char *cookie)
{
	char id[TOKEN_HEX + 1];
	int rc;

	if (!session_cookie_valid(cookie))
		return SESSION_END_NONE;
	auth_hash_hex(cookie, TOKEN_HEX, id);
	rc = db_session_delete(id);
	return rc == DB_OK ? SESSION_END_OK : rc == DB_NOTFOUND ?
	    SESSION_END_NONE : SESSION_END_ERROR;
}

/* ---- failed sign-ins ----------------------------------------------------- */

struct signin_client {
	char	 key[CLIENT_KEY_MAX];
	int	 fails;
	int64_t	 since;		/* start of its window, ms */
};

static pthread_mutex_t lim_lock = PTHREAD_MUTEX_INITIALIZER;
static struct signin_client lim[SIGNIN_CLIENTS_MAX];
static int all_fails;
static int64_t all_since;

#define WINDOW_MS ((int64_t)SIGNIN_WINDOW * 1000)

void
session_client_key(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char buf[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		struct in6_addr a =
		    ((const struct sockaddr_in6 *)ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&a)) {
			inet_ntop(AF_INET, &a.s6_addr[12], buf, sizeof(buf));
		} else {
			memset(&a.s6_addr[8], 0, 8);	/* the /64 */
			inet_ntop(AF_INET6, &a, buf, sizeof(buf));
		}
	} else if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    buf, sizeof(buf));
	} else
		snprintf(buf, sizeof(buf), "unknown");
	snprintf(out, len, "%s", buf);
}

static struct signin_client *
lim_find(const char *client)
{
	for (int i = 0; i < SIGNIN_CLIENTS_MAX; i++)
		if (lim[i].key[0] != '\0' && strcmp(lim[i].key, client) == 0)
			return &lim[i];
	return NULL;
}

int
signin_blocked(const char *client, int64_t now)
{
	struct signin_client *c;
	int64_t until = 0;

	pthread_mutex_lock(&lim_lock);
	if (all_fails >= SIGNIN_FAILS_ALL_MAX && now - all_since < WINDOW_MS)
		until = all_since + WINDOW_MS;
	if ((c = lim_find(client)) != NULL && c->fails >= SIGNIN_FAILS_MAX &&
	    now - c->since < WINDOW_MS && c->since + WINDOW_MS > until)
		until = c->since + WINDOW_MS;
	pthread_mutex_unlock(&lim_lock);
	if (until <= now)
		return 0;
	return (int)((until - now + 999) / 1000);
}

void
signin_failed(const char *client, int64_t now)
{
	struct signin_client *c;

	pthread_mutex_lock(&lim_lock);
	if (now - all_since >= WINDOW_MS) {
		all_since = now;
		all_fails = 0;
	}
	all_fails++;
	if ((c = lim_find(client)) == NULL) {
		/* A free place, or the one whose window began longest ago. */
		c = &lim[0];
		for (int i = 0; i < SIGNIN_CLIENTS_MAX; i++) {
			if (lim[i].key[0] == '\0') {
				c = &lim[i];
				break;
			}
			if (lim[i].since < c->since)
				c = &lim[i];
		}
		snprintf(c->key, sizeof(c->key), "%s", client);
		c->fails = 0;
		c->since = now;
	}
	if (now - c->since >= WINDOW_MS) {
		c->since = now;
		c->fails = 0;
	}
	c->fails++;
	pthread_mutex_unlock(&lim_lock);
}

void
signin_succeeded(const char *client)
{
	struct signin_client *c;

	pthread_mutex_lock(&lim_lock);
	if ((c = lim_find(client)) != NULL)
		memset(c, 0, sizeof(*c));
	pthread_mutex_unlock(&lim_lock);
}

void
signin_reset(void)
{
	pthread_mutex_lock(&lim_lock);
	memset(lim, 0, sizeof(lim));
	all_fails = 0;
	all_since = 0;
	pthread_mutex_unlock(&lim_lock);
}

/* ---- the routes ---------------------------------------------------------- */

static int
set_cookie(struct req *r, const char *value, int max_age)
{
	char h[REPLY_HEADER_MAX];

	snprintf(h, sizeof(h), "%s=%s; Path=/; Max-Age=%d; HttpOnly; "
	    "SameSite=Strict", SESSION_COOKIE, value, max_age);
	return http_add_header(r, "Set-Cookie", h);
}

static json_t *
iso_time(int64_t ms)
{
	char buf[32];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

void
session_signin(struct req *r)
{
	char client[CLIENT_KEY_MAX], cookie[TOKEN_HEX + 1], csrf[TOKEN_HEX + 1];
	struct sockaddr_storage ss;
	const char *given;
	int64_t now = db_now_ms();
	json_t *body;
	int wait;

	if (http_client_addr(r, &ss) != 0)
		memset(&ss, 0, sizeof(ss));
	session_client_key(&ss, client, sizeof(client));
	if ((wait = signin_blocked(client, now)) > 0) {
		char s[16];
		snprintf(s, sizeof(s), "%d", wait);
		http_add_header(r, "Retry-After", s);
		http_reply_error(r, 429, "too many failed sign-ins; try again "
		    "in %d s", wait);
		return;
	}
	if ((body = http_json_body(r)) == NULL)
		return;
	given = json_string_value(json_object_get(body, "password"));
	if (given == NULL || json_object_size(body) != 1 ||
	    strlen(given) > CONFIG_VALUE_MAX) {
		json_decref(body);
		http_reply_error(r, 400,
		    "body must be {\"password\": \"...\"}");
		return;
	}
	if (!session_password_ok(given)) {
		json_decref(body);
		signin_failed(client, now);
		log_warnx("dashboard: failed sign-in from %s", client);
		http_reply_error(r, 401, "wrong password");
		return;
	}
	json_decref(body);
	signin_succeeded(client);
	if (session_create(now, conf.session_ttl, cookie, csrf) != 0) {
		http_reply_error(r, 500, "cannot record the session");
		return;
	}
	set_cookie(r, cookie, conf.session_ttl);
	sodium_memzero(cookie, sizeof(cookie));
	log_info("dashboard: signed in from %s", client);
	http_reply_json(r, 200, json_pack("{s:b,s:s,s:o}", "signed_in", 1,
	    "csrf", csrf, "expires", iso_time(now +
	    (int64_t)conf.session_ttl * 1000)));
}

void
session_status(struct req *r)
{
	char csrf[DB_CSRF_MAX + 1];
	int64_t expires = 0;

	if (session_lookup(http_cookie(r, SESSION_COOKIE), NULL, 0, db_now_ms(),
	    csrf, sizeof(csrf), &expires) != SESSION_OK) {
		http_reply_json(r, 200, json_pack("{s:b}", "signed_in", 0));
		return;
	}
	http_reply_json(r, 200, json_pack("{s:b,s:s,s:o}", "signed_in", 1,
	    "csrf", csrf, "expires", iso_time(expires)));
}

void
session_signout(struct req *r)
{
	const char *cookie = http_cookie(r, SESSION_COOKIE);

	switch (session_lookup(cookie, http_header(r, CSRF_HEADER), 1,
	    db_now_ms(), NULL, 0, NULL)) {
	case SESSION_BAD_CSRF:
		http_reply_error(r, 403, "signing out needs the session's "
		    "%s header", CSRF_HEADER);
		return;
	case SESSION_OK:
		if (session_end(cookie) == SESSION_END_ERROR) {
			http_reply_error(r, 500, "cannot end the session");
			return;
		}
		log_info("dashboard: signed out");
		events_sessions_check();	/* its event streams end now */
		break;
	case SESSION_NONE:
		/* signed out already: say so, clear the cookie */
		break;
	}
	set_cookie(r, "", 0);
	http_reply_json(r, 200, json_pack("{s:b}", "signed_in", 0));
}
