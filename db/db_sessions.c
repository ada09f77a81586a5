/*
 * db_sessions.c — dashboard sessions. A row's id is a hash of the cookie
 * value (the value itself is never stored); the CSRF token the page sends
 * with each write is kept beside it. Rows past their expiry are dropped
 * whenever a session is added, and never count as signed in.
 */
#include <stdio.h>
#include <string.h>

#include "db/db_int.h"

int
db_session_add(const char *id, const char *csrf, int64_t created,
    int64_t expires, int max)
{
	int rc;

	if (max < 1)
		return DB_ERROR;
	pthread_mutex_lock(&db_lock);
	if ((rc = db_begin()) != DB_OK)
		goto out;
	rc = db_exec("DELETE FROM sessions WHERE expires <= ?", "i", created);
	/* Make room: the oldest go first, so that signing in always works. */
	if (rc == DB_OK)
		rc = db_exec("DELETE FROM sessions WHERE id IN (SELECT id FROM"
		    " sessions ORDER BY created DESC, rowid DESC LIMIT -1"
		    " OFFSET ?)", "i", (int64_t)(max - 1));
	if (rc == DB_OK)
		rc = db_exec("INSERT INTO sessions (id, csrf, created, expires)"
		    " VALUES (?, ?, ?, ?)", "ssii", id, csrf, created, expires);
	rc = db_finish(rc);
out:
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_session_get(const char *id, int64_t now, char *csrf, size_t len,
    int64_t *expires)
{
	struct db_text_num s = { csrf, len, expires };

	return db_one("session get", db_fill_text_num, &s,
	    "SELECT csrf, expires FROM sessions WHERE id = ? AND expires > ?",
	    "si", id, now);
}

int
db_session_delete(const char *id)
{
	return db_write("DELETE FROM sessions WHERE id = ?", "s", id);
}

int
db_sessions_clear(void)
{
	int rc;

	pthread_mutex_lock(&db_lock);
	rc = db_exec("DELETE FROM sessions", "");
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_sessions_count(int64_t now)
{
	int n;

	if (db_one("sessions count", db_fill_int, &n,
	    "SELECT count(*) FROM sessions WHERE expires > ?", "i",
	    now) != DB_OK)
		return DB_ERROR;
	return n;
}
