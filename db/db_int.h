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
/* Run sql (no rows back) n times, bind(st, i, arg) binding its parameters
 * for the i-th: DB_OK, or DB_ERROR (logged as what) at the first failure.
 * For the caller's transaction: the lock is not taken here. */
int	 db_exec_rows(const char *what, const char *sql, size_t n,
	    void (*bind)(sqlite3_stmt *, size_t, void *), void *arg);
/* Lock, run one statement, unlock: DB_NOTFOUND if it changed no row. */
int	 db_write(const char *sql, const char *types, ...);
/* Lock, run sql and read its first row into out with fill (as db_each's;
 * NULL: only whether there is one), unlock: DB_OK, DB_NOTFOUND if there
 * is no row, or DB_ERROR (logged as what). */
int	 db_one(const char *what, void (*fill)(sqlite3_stmt *, void *),
	    void *out, const char *sql, const char *types, ...);
/* Fills for db_one. db_fill_int: column 0 into the int at out (a count).
 * db_fill_texts: column i as text into out[i], an array of struct
 * db_text ended by one whose buf is NULL. db_fill_text_num: column 0 as
 * text and column 1 as a number into a struct db_text_num (either
 * pointer NULL: not wanted). */
struct db_text {
	char	*buf;
	size_t	 len;
};
struct db_text_num {
	char	*buf;
	size_t	 len;
	int64_t	*num;
};
void	 db_fill_int(sqlite3_stmt *st, void *out);
void	 db_fill_texts(sqlite3_stmt *st, void *out);
void	 db_fill_text_num(sqlite3_stmt *st, void *out);
/* Lock, run sql, unlock: its rows as an array of objects keyed by column
 * name (a column named "x_json" holds JSON text and becomes key "x"), or
 * NULL on failure. db_select_one: the one row as an object, NULL if there
 * is none or on failure. db_select_texts: the first column of each row,
 * as an array of strings. */
json_t	*db_select(const char *sql, const char *types, ...);
json_t	*db_select_one(const char *sql, const char *types, ...);
json_t	*db_select_texts(const char *sql, const char *types, ...);
/* Each row of sql (no parameters) filled into an item of size bytes by
 * fill, then fn called on each with the lock released; stops when fn
 * returns non-zero. */
int	 db_each(const char *sql, size_t size,
	    void (*fill)(sqlite3_stmt *, void *),
	    int (*fn)(const void *, void *), void *arg);
int	 db_begin(void);
int	 db_commit(void);
void	 db_rollback(void);
/* End a transaction: commit if rc is DB_OK, else roll back; its result. */
int	 db_finish(int rc);

#endif
