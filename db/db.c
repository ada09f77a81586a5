/*
 * db.c — the SQLite connection, its migrations and the query helpers the
 * other files of db/ share.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db_int.h"

/* From build/gen/schema_sql.c, made of db/schema.sql by the Makefile. */
extern unsigned char schema_sql[];
extern unsigned int schema_sql_len;

#define MIGRATION_MARK	"-- migration "

sqlite3 *db_conn;
pthread_mutex_t db_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*error_hook)(const char *);

void
db_set_error_hook(void (*hook)(const char *))
{
	error_hook = hook;
}

void
db_fail(const char *what)
{
	char msg[DB_ERR_MAX];

	snprintf(msg, sizeof(msg), "database: %s: %s", what,
	    db_conn ? sqlite3_errmsg(db_conn) : "not open");
	if (error_hook)
		error_hook(msg);
}

int64_t
db_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Migration n's text: from its mark to the next mark (or the end). */
struct migration {
	const char	*sql;
	size_t		 len;
};

static int
split_migrations(char *text, struct migration *m, int max)
{
	int n = 0;
	char *p = text;

	while ((p = strstr(p, MIGRATION_MARK)) != NULL) {
		int num;
		if ((p != text && p[-1] != '\n') ||
		    !isdigit((unsigned char)p[strlen(MIGRATION_MARK)])) {
			p += strlen(MIGRATION_MARK);
			continue;	/* a mention, not a mark */
		}
		num = atoi(p + strlen(MIGRATION_MARK));
		if (num != n + 1 || n >= max)
			return -1;	/* numbered 1, 2, 3... in order */
		m[n].sql = p;
		if (n > 0)
			m[n - 1].len = (size_t)(p - m[n - 1].sql);
		n++;
		p += strlen(MIGRATION_MARK);
	}
	if (n > 0)
		m[n - 1].len = strlen(m[n - 1].sql);
	return n;
}

static int
schema_migrations(struct migration *m, char **textp)
{
	char *text = malloc(schema_sql_len + 1);
	int n;

	if (text == NULL)
		return -1;
	memcpy(text, schema_sql, schema_sql_len);
	text[schema_sql_len] = '\0';
	n = split_migrations(text, m, DB_MIGRATIONS_MAX);
	*textp = text;
	return n;
}

int
db_schema_latest(void)
{
	struct migration m[DB_MIGRATIONS_MAX];
	char *text;
	int n = schema_migrations(m, &text);

	free(text);
	return n;
}

static int
user_version(void)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db_conn, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
db_schema_version(void)
{
	int v;

	pthread_mutex_lock(&db_lock);
	v = user_version();
	pthread_mutex_unlock(&db_lock);
	return v;
}

static int
migrate(int target, char *err, size_t errlen)
{
	struct migration m[DB_MIGRATIONS_MAX];
	char *text, *sql, *emsg = NULL, pragma[64];
	int n, cur, rc = -1;

	if ((n = schema_migrations(m, &text)) <= 0) {
		snprintf(err, errlen, "schema.sql has no numbered migrations");
		free(text);
		return -1;
	}
	if (target <= 0 || target > n)
		target = n;
	if ((cur = user_version()) < 0) {
		snprintf(err, errlen, "cannot read the schema version: %s",
		    sqlite3_errmsg(db_conn));
		goto out;
	}
	if (cur > n) {
		snprintf(err, errlen, "the database has schema version %d, "
		    "newer than this rackd knows (%d)", cur, n);
		goto out;
	}
	for (int v = cur + 1; v <= target; v++) {
		sql = strndup(m[v - 1].sql, m[v - 1].len);
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v);
		if (sql == NULL ||
		    sqlite3_exec(db_conn, "BEGIN IMMEDIATE", NULL, NULL,
		    &emsg) != SQLITE_OK ||
		    sqlite3_exec(db_conn, sql, NULL, NULL,
		    &emsg) != SQLITE_OK ||
		    sqlite3_exec(db_conn, pragma, NULL, NULL,
		    &emsg) != SQLITE_OK ||
		    sqlite3_exec(db_conn, "COMMIT", NULL, NULL,
		    &emsg) != SQLITE_OK) {
			snprintf(err, errlen, "migration %d: %s", v,
			    emsg ? emsg : "out of memory");
			sqlite3_free(emsg);
			sqlite3_exec(db_conn, "ROLLBACK", NULL, NULL, NULL);
			free(sql);
			goto out;
		}
		free(sql);
	}
	rc = 0;
out:
	free(text);
	return rc;
}

int
db_open(const char *path, int target_version, char *err, size_t errlen)
{
	static const char *pragmas =
	    "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = NORMAL;"
	    "PRAGMA foreign_keys = ON;";
	char *emsg = NULL;
	int rc;

	pthread_mutex_lock(&db_lock);
	if (db_conn != NULL) {
		snprintf(err, errlen, "database already open");
		goto fail;
	}
	rc = sqlite3_open_v2(path, &db_conn, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db_conn ?
		    sqlite3_errmsg(db_conn) : sqlite3_errstr(rc));
		goto fail_close;
	}
	sqlite3_busy_timeout(db_conn, 5000);
	sqlite3_extended_result_codes(db_conn, 1);
	if (sqlite3_exec(db_conn, pragmas, NULL, NULL, &emsg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, emsg);
		sqlite3_free(emsg);
		goto fail_close;
	}
	if (migrate(target_version, err, errlen) != 0)
		goto fail_close;
	pthread_mutex_unlock(&db_lock);
	return 0;
fail_close:
	sqlite3_close(db_conn);
	db_conn = NULL;
fail:
	pthread_mutex_unlock(&db_lock);
	return -1;
}

void
db_close(void)
{
	pthread_mutex_lock(&db_lock);
	if (db_conn != NULL)
		sqlite3_close(db_conn);
	db_conn = NULL;
	pthread_mutex_unlock(&db_lock);
}

sqlite3_stmt *
db_vprep(const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt *st;
	int i = 1, rc = SQLITE_OK;

	if (db_conn == NULL) {
		db_fail("prepare");
		return NULL;
	}
	if (sqlite3_prepare_v2(db_conn, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail("prepare");
		return NULL;
	}
	for (const char *t = types; *t != '\0' && rc == SQLITE_OK; t++, i++) {
		if (*t == 's') {
			const char *s = va_arg(ap, const char *);
			rc = s ? sqlite3_bind_text(st, i, s, -1,
			    SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
		} else if (*t == 'i')
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
		else
			rc = SQLITE_MISUSE;
	}
	if (rc != SQLITE_OK) {
		db_fail("bind");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

sqlite3_stmt *
db_prep(const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = db_vprep(sql, types, ap);
	va_end(ap);
	return st;
}

/* Step a statement that returns no rows, and finalize it. */
static int
run(sqlite3_stmt *st)
{
	int rc;

	if (st == NULL)
		return DB_ERROR;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return DB_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return DB_CONFLICT;
	db_fail("step");
	return DB_ERROR;
}

int
db_exec(const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = db_vprep(sql, types, ap);
	va_end(ap);
	return run(st);
}

int
db_exec_rows(const char *what, const char *sql, size_t n,
    void (*bind)(sqlite3_stmt *, size_t, void *), void *arg)
{
	sqlite3_stmt *st;
	int rc = DB_OK;

	if ((st = db_prep(sql, "")) == NULL)
		return DB_ERROR;
	for (size_t i = 0; i < n && rc == DB_OK; i++) {
		sqlite3_reset(st);
		bind(st, i, arg);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_fail(what);
			rc = DB_ERROR;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

int
db_write(const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	pthread_mutex_lock(&db_lock);
	va_start(ap, types);
	st = db_vprep(sql, types, ap);
	va_end(ap);
	rc = run(st);
	if (rc == DB_OK && sqlite3_changes(db_conn) == 0)
		rc = DB_NOTFOUND;
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_one(const char *what, void (*fill)(sqlite3_stmt *, void *), void *out,
    const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc = DB_ERROR, r;

	pthread_mutex_lock(&db_lock);
	va_start(ap, types);
	st = db_vprep(sql, types, ap);
	va_end(ap);
	if (st != NULL) {
		r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			if (fill != NULL)
				fill(st, out);
			rc = DB_OK;
		} else if (r == SQLITE_DONE)
			rc = DB_NOTFOUND;
		else
			db_fail(what);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db_lock);
	return rc;
}

void
db_fill_int(sqlite3_stmt *st, void *out)
{
	*(int *)out = sqlite3_column_int(st, 0);
}

void
db_fill_texts(sqlite3_stmt *st, void *out)
{
	struct db_text *t = out;

	for (int i = 0; t[i].buf != NULL; i++) {
		const unsigned char *s = sqlite3_column_text(st, i);
		snprintf(t[i].buf, t[i].len, "%s", s ? (const char *)s : "");
	}
}

void
db_fill_text_num(sqlite3_stmt *st, void *out)
{
	struct db_text_num *t = out;
	const unsigned char *s = sqlite3_column_text(st, 0);

	if (t->buf != NULL)
		snprintf(t->buf, t->len, "%s", s ? (const char *)s : "");
	if (t->num != NULL)
		*t->num = sqlite3_column_int64(st, 1);
}

/* A row as an object keyed by column name (see db_select). */
static json_t *
db_row_object(sqlite3_stmt *st)
{
	json_t *o = json_object();
	int n = sqlite3_column_count(st);

	for (int i = 0; i < n && o != NULL; i++) {
		const char *name = sqlite3_column_name(st, i);
		size_t nl = strlen(name);
		int is_json = nl > 5 && strcmp(name + nl - 5, "_json") == 0;
		json_t *v;

		if (is_json)
			nl -= 5;

		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			v = json_integer(sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT:
			v = json_real(sqlite3_column_double(st, i));
			break;
		case SQLITE_NULL:
			v = json_null();
			break;
		default: {
			const char *s =
			    (const char *)sqlite3_column_text(st, i);
			if (is_json)
				v = json_loads(s ? s : "null",
				    JSON_DECODE_ANY, NULL);
			else
				v = json_string(s ? s : "");
			break;
		}
		}
		if (v == NULL || json_object_setn_new_nocheck(o, name, nl, v)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* A row's first column as a JSON string. */
static json_t *
row_text(sqlite3_stmt *st)
{
	const char *s = (const char *)sqlite3_column_text(st, 0);

	return json_string(s ? s : "");
}

/* Each row of sql made a JSON value by row, into an array (under the
 * lock). */
static json_t *
vrows(json_t *(*row)(sqlite3_stmt *), const char *sql, const char *types,
    va_list ap)
{
	sqlite3_stmt *st;
	json_t *rows;
	int rc;

	pthread_mutex_lock(&db_lock);
	st = db_vprep(sql, types, ap);
	if (st == NULL) {
		pthread_mutex_unlock(&db_lock);
		return NULL;
	}
	rows = json_array();
	while (rows != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = row(st);
		if (o == NULL || json_array_append_new(rows, o) != 0) {
			json_decref(rows);
			rows = NULL;
			break;
		}
	}
	if (rows != NULL && rc != SQLITE_DONE) {
		db_fail("step");
		json_decref(rows);
		rows = NULL;
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db_lock);
	return rows;
}

json_t *
db_select(const char *sql, const char *types, ...)
{
	json_t *rows;
	va_list ap;

	va_start(ap, types);
	rows = vrows(db_row_object, sql, types, ap);
	va_end(ap);
	return rows;
}

json_t *
db_select_texts(const char *sql, const char *types, ...)
{
	json_t *rows;
	va_list ap;

	va_start(ap, types);
	rows = vrows(row_text, sql, types, ap);
	va_end(ap);
	return rows;
}

json_t *
db_select_one(const char *sql, const char *types, ...)
{
	json_t *rows, *o = NULL;
	va_list ap;

	va_start(ap, types);
	rows = vrows(db_row_object, sql, types, ap);
	va_end(ap);
	if (rows != NULL && json_array_size(rows) == 1)
		o = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return o;
}

int
db_each(const char *sql, size_t size, void (*fill)(sqlite3_stmt *, void *),
    int (*fn)(const void *, void *), void *arg)
{
	char *items = NULL, *grown;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	int rc = DB_OK, r = SQLITE_DONE;

	/* Collect under the lock, call after: fn may use the database. */
	pthread_mutex_lock(&db_lock);
	if ((st = db_prep(sql, "")) == NULL)
		rc = DB_ERROR;
	while (st != NULL && (r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((grown = realloc(items, cap * size)) == NULL) {
				rc = DB_ERROR;
				break;
			}
			items = grown;
		}
		fill(st, items + n++ * size);
	}
	if (st != NULL && rc == DB_OK && r != SQLITE_DONE) {
		db_fail("rows");
		rc = DB_ERROR;
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db_lock);
	for (size_t i = 0; rc == DB_OK && i < n; i++)
		if (fn(items + i * size, arg) != 0)
			break;
	free(items);
	return rc;
}

int
db_begin(void)
{
	return db_exec("BEGIN IMMEDIATE", "");
}

int
db_commit(void)
{
	return db_exec("COMMIT", "");
}

void
db_rollback(void)
{
	sqlite3_exec(db_conn, "ROLLBACK", NULL, NULL, NULL);
}

int
db_finish(int rc)
{
	if (rc == DB_OK)
		rc = db_commit();
	if (rc != DB_OK)
		db_rollback();
	return rc;
}
