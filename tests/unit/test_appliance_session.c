/*
 * tests/unit/test_appliance_session.c — the dashboard's sessions
 * (appliance/session.c and db/db_sessions.c) on a real temporary database, with
 * the time given: expiry, sign-out, the CSRF check, the bound on live sessions,
 * only the cookie's hash stored; the failed sign-in limiter (per client, all
 * clients, the window, eviction); client keys; the password (configured,
 * generated into dashboard.password mode 0600, changed on reload: every session
 * signed out).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/unit_appliance.h"

static char tmpdir[] = "/tmp/rackd-session.XXXXXX";

#define T0	1700000000000LL		/* ms */
#define TTL	3600			/* s */

/* ---- fixtures ------------------------------------------------------ */

static int
group_setup(void **state)
{
	return unit_appliance_setup(tmpdir);
}

static int
group_teardown(void **state)
{
	return unit_appliance_teardown(tmpdir);
}

static int
setup_db(void **state)
{
	if (unit_appliance_db_open(tmpdir) != 0)
		return -1;
	signin_reset();
	return 0;
}

static int
teardown_db(void **state)
{
	db_close();
	return 0;
}

/* ---- sessions ------------------------------------------------------ */

static void
test_session_lives_until_expiry(void **state)
{
	char cookie[TOKEN_HEX + 1], csrf[TOKEN_HEX + 1], got[DB_CSRF_MAX + 1];
	int64_t expires = 0;

	assert_int_equal(session_create(T0, TTL, cookie, csrf), 0);
	assert_true(session_cookie_valid(cookie));
	assert_int_equal(strlen(csrf), TOKEN_HEX);
	assert_string_not_equal(cookie, csrf);
	assert_int_equal(session_lookup(cookie, NULL, 0, T0, got, sizeof(got),
	    &expires), SESSION_OK);
	assert_string_equal(got, csrf);
	assert_int_equal(expires, T0 + TTL * 1000LL);
	assert_int_equal(session_lookup(cookie, NULL, 0, T0 + TTL * 1000LL - 1,
	    NULL, 0, NULL), SESSION_OK);
	/* At its expiry and after it: no session, for reads and writes. */
	assert_int_equal(session_lookup(cookie, NULL, 0, T0 + TTL * 1000LL,
	    NULL, 0, NULL), SESSION_NONE);
	assert_int_equal(session_lookup(cookie, csrf, 1, T0 + TTL * 2000LL,
	    NULL, 0, NULL), SESSION_NONE);
	/* A new session purges the expired one. */
	assert_int_equal(db_sessions_count(T0), 1);
	assert_int_equal(session_create(T0 + TTL * 1000LL, TTL, cookie, csrf),
	    0);
	assert_int_equal(db_sessions_count(0), 1);
}

static void
test_signout_ends_only_that_session(void **state)
{
	char c1[TOKEN_HEX + 1], x1[TOKEN_HEX + 1];
	char c2[TOKEN_HEX + 1], x2[TOKEN_HEX + 1];

	assert_int_equal(session_create(T0, TTL, c1, x1), 0);
	assert_int_equal(session_create(T0, TTL, c2, x2), 0);
	assert_int_equal(session_end(c1), SESSION_END_OK);
	assert_int_equal(session_lookup(c1, x1, 1, T0, NULL, 0, NULL),
	    SESSION_NONE);
	assert_int_equal(session_lookup(c2, x2, 1, T0, NULL, 0, NULL),
	    SESSION_OK);
	/* already out */
	assert_int_equal(session_end(c1), SESSION_END_NONE);
	assert_int_equal(session_end("garbage"), SESSION_END_NONE);
	assert_int_equal(session_end(NULL), SESSION_END_NONE);
}

static void
test_csrf_check(void **state)
{
	char cookie[TOKEN_HEX + 1], csrf[TOKEN_HEX + 1], other[TOKEN_HEX + 1];
	char c2[TOKEN_HEX + 1];

	assert_int_equal(session_create(T0, TTL, cookie, csrf), 0);
	assert_int_equal(session_create(T0, TTL, c2, other), 0);
	/* Reads need no CSRF token; writes need this session's own. */
	assert_int_equal(session_lookup(cookie, NULL, 0, T0, NULL, 0, NULL),
	    SESSION_OK);
	assert_int_equal(session_lookup(cookie, NULL, 1, T0, NULL, 0, NULL),
	    SESSION_BAD_CSRF);
	assert_int_equal(session_lookup(cookie, "", 1, T0, NULL, 0, NULL),
	    SESSION_BAD_CSRF);
	assert_int_equal(session_lookup(cookie, other, 1, T0, NULL, 0, NULL),
	    SESSION_BAD_CSRF);
	csrf[10] = csrf[10] == 'a' ? 'b' : 'a';
	assert_int_equal(session_lookup(cookie, csrf, 1, T0, NULL, 0, NULL),
	    SESSION_BAD_CSRF);
	csrf[10] = '\0';			/* a prefix */
	assert_int_equal(session_lookup(cookie, csrf, 1, T0, NULL, 0, NULL),
	    SESSION_BAD_CSRF);
	assert_int_equal(session_lookup(c2, other, 1, T0, NULL, 0, NULL),
	    SESSION_OK);
	/* The CSRF token is no cookie. */
	assert_int_equal(session_lookup(other, other, 1, T0, NULL, 0, NULL),
	    SESSION_NONE);
}

static void
test_cookie_values(void **state)
{
	char hex[TOKEN_HEX + 2];

	memset(hex, 'a', sizeof(hex));
	hex[TOKEN_HEX] = '\0';
	assert_true(session_cookie_valid(hex));
	hex[TOKEN_HEX - 1] = '\0';
	assert_false(session_cookie_valid(hex));	/* short */
	hex[TOKEN_HEX - 1] = 'a';
	hex[TOKEN_HEX] = 'a';
	hex[TOKEN_HEX + 1] = '\0';
	assert_false(session_cookie_valid(hex));	/* long */
	hex[TOKEN_HEX] = '\0';
	hex[3] = 'A';
	assert_false(session_cookie_valid(hex));	/* upper case */
	hex[3] = 'g';
	assert_false(session_cookie_valid(hex));
	hex[3] = '\'';
	assert_false(session_cookie_valid(hex));
	assert_false(session_cookie_valid(""));
	assert_false(session_cookie_valid(NULL));
	assert_int_equal(session_lookup(hex, NULL, 0, T0, NULL, 0, NULL),
	    SESSION_NONE);
}

static void
test_only_the_hash_is_stored(void **state)
{
	char cookie[TOKEN_HEX + 1], csrf[TOKEN_HEX + 1], id[TOKEN_HEX + 1];

	assert_int_equal(session_create(T0, TTL, cookie, csrf), 0);
	assert_int_equal(db_session_get(cookie, T0, NULL, 0, NULL),
	    DB_NOTFOUND);
	auth_hash_hex(cookie, strlen(cookie), id);
	assert_int_equal(db_session_get(id, T0, NULL, 0, NULL), DB_OK);
}

static void
test_sessions_are_bounded(void **state)
{
	char first[TOKEN_HEX + 1], last[TOKEN_HEX + 1], cookie[TOKEN_HEX + 1];
	char csrf[TOKEN_HEX + 1];

	assert_int_equal(session_create(T0, TTL, first, csrf), 0);
	for (int i = 1; i < SESSIONS_MAX + 10; i++)
		assert_int_equal(session_create(T0 + i, TTL, cookie, csrf), 0);
	assert_int_equal(session_create(T0 + 1000, TTL, last, csrf), 0);
	assert_int_equal(db_sessions_count(T0), SESSIONS_MAX);
	/* The oldest went; the newest is there. */
	assert_int_equal(session_lookup(first, NULL, 0, T0 + 2000, NULL, 0,
	    NULL), SESSION_NONE);
	assert_int_equal(session_lookup(last, csrf, 1, T0 + 2000, NULL, 0,
	    NULL), SESSION_OK);
	assert_int_equal(db_sessions_clear(), DB_OK);
	assert_int_equal(db_sessions_count(T0), 0);
}

/* ---- failed sign-ins ------------------------------------------------- */

static void
test_signin_limit_per_client(void **state)
{
	const char *a = "192.0.2.1", *b = "192.0.2.2";

	for (int i = 0; i < SIGNIN_FAILS_MAX; i++) {
		assert_int_equal(signin_blocked(a, T0 + i), 0);
		signin_failed(a, T0 + i);
	}
	assert_int_equal(signin_blocked(a, T0 + 10), SIGNIN_WINDOW);
	assert_int_equal(signin_blocked(a, T0 + 30500), SIGNIN_WINDOW - 30);
	/* others go on */
	assert_int_equal(signin_blocked(b, T0 + 10), 0);
	/* The window ends: a may try again, and has a new window. */
	assert_int_equal(signin_blocked(a, T0 + SIGNIN_WINDOW * 1000LL), 0);
	signin_failed(a, T0 + SIGNIN_WINDOW * 1000LL);
	assert_int_equal(signin_blocked(a, T0 + SIGNIN_WINDOW * 1000LL + 1), 0);
	/* A success forgets the failures. */
	for (int i = 0; i < SIGNIN_FAILS_MAX - 2; i++)
		signin_failed(b, T0 + 100);
	signin_succeeded(b);
	for (int i = 0; i < SIGNIN_FAILS_MAX - 1; i++)
		signin_failed(b, T0 + 200);
	assert_int_equal(signin_blocked(b, T0 + 300), 0);
	signin_failed(b, T0 + 300);
	assert_true(signin_blocked(b, T0 + 400) > 0);
}

static void
test_signin_limit_all_clients(void **state)
{
	char client[CLIENT_KEY_MAX];

	/* Many addresses, each below its own limit, still hit the total. */
	for (int i = 0; i < SIGNIN_FAILS_ALL_MAX; i++) {
		snprintf(client, sizeof(client), "198.51.100.%d", i);
		assert_int_equal(signin_blocked(client, T0 + i), 0);
		signin_failed(client, T0 + i);
	}
	assert_true(signin_blocked("203.0.113.9", T0 + 100) > 0);
	assert_int_equal(signin_blocked("203.0.113.9",
	    T0 + SIGNIN_WINDOW * 1000LL), 0);
}

static void
test_signin_limit_table_is_bounded(void **state)
{
	char client[CLIENT_KEY_MAX];

	for (int i = 0; i < SIGNIN_FAILS_MAX; i++)
		signin_failed("10.9.9.9", T0);
	assert_true(signin_blocked("10.9.9.9", T0 + 1) > 0);
	/* More clients than places, over several windows (the total limit
	 * must not be what blocks): the oldest place is taken, never a
	 * crash. */
	for (int i = 0; i < SIGNIN_CLIENTS_MAX + 5; i++) {
		snprintf(client, sizeof(client), "fd00::%x", i);
		signin_failed(client, T0 + 1 + i * 1000LL);
	}
	assert_int_equal(signin_blocked("fd00::1",
	    T0 + (SIGNIN_CLIENTS_MAX + 6) * 1000LL), 0);
	/* The newest client is still counted after the evictions. */
	snprintf(client, sizeof(client), "fd00::%x", SIGNIN_CLIENTS_MAX + 4);
	for (int i = 1; i < SIGNIN_FAILS_MAX; i++)
		signin_failed(client,
		    T0 + (SIGNIN_CLIENTS_MAX + 4) * 1000LL + 2);
	assert_true(signin_blocked(client,
	    T0 + (SIGNIN_CLIENTS_MAX + 4) * 1000LL + 3) > 0);
}

static void
test_client_keys(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	char key[CLIENT_KEY_MAX], key2[CLIENT_KEY_MAX];

	memset(&ss, 0, sizeof(ss));
	in->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &in->sin_addr);
	session_client_key(&ss, key, sizeof(key));
	assert_string_equal(key, "127.0.0.1");

	memset(&ss, 0, sizeof(ss));
	in6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1:2:aaaa:bbbb:cccc:dddd",
	    &in6->sin6_addr);
	session_client_key(&ss, key, sizeof(key));
	assert_string_equal(key, "2001:db8:1:2::");
	inet_pton(AF_INET6, "2001:db8:1:2::1", &in6->sin6_addr);
	session_client_key(&ss, key2, sizeof(key2));
	assert_string_equal(key, key2);			/* the same /64 */
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &in6->sin6_addr);
	session_client_key(&ss, key, sizeof(key));
	assert_string_equal(key, "192.0.2.7");

	memset(&ss, 0, sizeof(ss));
	session_client_key(&ss, key, sizeof(key));
	assert_string_equal(key, "unknown");
}

/* ---- the password ---------------------------------------------------- */

static void
set_password(const char *pw)
{
	free(conf.dashboard_password);
	conf.dashboard_password = strdup(pw);
}

static void
test_password_configured(void **state)
{
	char err[256];

	set_password("correct horse battery");
	assert_int_equal(session_init(err, sizeof(err)), 0);
	assert_true(session_password_ok("correct horse battery"));
	assert_false(session_password_ok("correct horse"));
	assert_false(session_password_ok("correct horse battery "));
	assert_false(session_password_ok(""));
	set_password("short");
	assert_int_equal(session_init(err, sizeof(err)), -1);
	assert_non_null(strstr(err, "shorter"));
	/* The old password stays when a new one is refused. */
	assert_true(session_password_ok("correct horse battery"));
}

static void
test_password_generated(void **state)
{
	char path[800], pw[128], err[256];
	struct stat st;
	FILE *f;

	set_password("");
	assert_int_equal(session_init(err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, PASSWORD_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(pw, sizeof(pw), f));
	fclose(f);
	/* xxxxx-xxxxx-xxxxx-xxxxx */
	assert_int_equal(strlen(pw), 23);
	assert_int_equal(pw[5], '-');
	assert_true(session_password_ok(pw));
	/* The second start reads the same password. */
	assert_int_equal(session_init(err, sizeof(err)), 0);
	assert_true(session_password_ok(pw));
}

static void
test_password_change_signs_everyone_out(void **state)
{
	char cookie[TOKEN_HEX + 1], csrf[TOKEN_HEX + 1], err[256];

	set_password("first password");
	assert_int_equal(session_init(err, sizeof(err)), 0);
	assert_int_equal(session_create(T0, TTL, cookie, csrf), 0);
	assert_int_equal(session_reload(), 0);		/* unchanged */
	assert_int_equal(session_lookup(cookie, csrf, 1, T0, NULL, 0, NULL),
	    SESSION_OK);
	set_password("second password");
	assert_int_equal(session_reload(), 0);
	assert_int_equal(session_lookup(cookie, csrf, 1, T0, NULL, 0, NULL),
	    SESSION_NONE);
	assert_false(session_password_ok("first password"));
	assert_true(session_password_ok("second password"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_db, teardown_db)
		T(test_session_lives_until_expiry),
		T(test_signout_ends_only_that_session),
		T(test_csrf_check),
		T(test_cookie_values),
		T(test_only_the_hash_is_stored),
		T(test_sessions_are_bounded),
		T(test_signin_limit_per_client),
		T(test_signin_limit_all_clients),
		T(test_signin_limit_table_is_bounded),
		T(test_client_keys),
		T(test_password_configured),
		T(test_password_generated),
		T(test_password_change_signs_everyone_out),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
