/* db_int.h — helpers shared by the files of db/ (not for the rest). */
#ifndef RACKD_DB_INT_H
#define RACKD_DB_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "db/db.h"

extern sqlite3 *db_conn;
extern pthread_mutex_t db_lock;

/* An ISO 8601 UTC time from a column of ms since the epoch. */
#define ISO(col) "strftime('%Y-%m-%dT%H:%M:%fZ', " col " / 1000.0, 'unixepoch')"

void	 db_fail(const char *what);
/* Prepare sql and bind args by types: 's' text (NULL binds NULL),
 * 'i' int64_t. NULL on failure (logged). */
sqlite3_stmt *db_prep(const char *sql, const char *types, ...);
sqlite3_stmt *db_vprep(const char *sql, const char *types, va_list ap);
/* Run a statement that returns no rows; DB_OK, DB_CONFLICT on a
 * constraint, DB_ERROR otherwise. */
int	 db_exec(const char *sql, const char *types, ...);
/* Lock, run one statement, unlock: DB_NOTFOUND if it changed no row. */
int	 db_write(const char *sql, const char *types, ...);
/* Rows as an array of objects keyed by column name. A column named
 * "x_json" holds JSON text and becomes key "x". NULL on failure. */
json_t	*db_rows(const char *sql, const char *types, ...);
json_t	*db_row_object(sqlite3_stmt *st);
/* Each row of sql (no parameters) filled into an item of size bytes by
 * fill, then fn called on each with the lock released; stops when fn
 * returns non-zero. */
int	 db_each(const char *sql, size_t size,
	    void (*fill)(sqlite3_stmt *, void *),
	    int (*fn)(const void *, void *), void *arg);
int	 db_begin(void);
int	 db_commit(void);
void	 db_rollback(void);

#endif
