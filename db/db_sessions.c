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
	if (rc == DB_OK)
		rc = db_commit();
	if (rc != DB_OK)
		db_rollback();
out:
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_session_get(const char *id, int64_t now, char *csrf, size_t len,
    int64_t *expires)
{
	sqlite3_stmt *st;
	int rc = DB_ERROR;

	pthread_mutex_lock(&db_lock);
	st = db_prep("SELECT csrf, expires FROM sessions WHERE id = ?"
	    " AND expires > ?", "si", id, now);
	if (st != NULL) {
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			const unsigned char *c = sqlite3_column_text(st, 0);
			if (csrf != NULL)
				snprintf(csrf, len, "%s", c ? (const char *)c : "");
			if (expires != NULL)
				*expires = sqlite3_column_int64(st, 1);
			rc = DB_OK;
		} else if (r == SQLITE_DONE)
			rc = DB_NOTFOUND;
		else
			db_fail("session get");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db_lock);
	return rc;
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
	sqlite3_stmt *st;
	int n = DB_ERROR;

	pthread_mutex_lock(&db_lock);
	st = db_prep("SELECT count(*) FROM sessions WHERE expires > ?", "i", now);
	if (st != NULL) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
		else
			db_fail("sessions count");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db_lock);
	return n;
}
