/* db_pulls.c — image pulls (pull.c): one row each, its state and counters
 * as pull.c last wrote them, so that a restart lists what was pulled and
 * finds the pulls it cut short (state neither done nor failed). The newest
 * DB_PULLS_KEEP rows are kept. */
#include <stdio.h>
#include <string.h>

#include "db/db_int.h"

#define PULL_COLUMNS "id, name, version, state, present, chunks, missing," \
	" chunks_done, bytes_total, bytes_done, bytes_fetched, failovers," \
	" resumed, run_ms, source, error, created"

/* DB_PULLS_KEEP as SQL text. */
#define KEEP_STR_(n)	#n
#define KEEP_STR(n)	KEEP_STR_(n)

int
db_pull_create(const char *name, const char *version, int64_t *id_out,
    int64_t *created_out)
{
	int64_t now = db_now_ms();
	int rc;

	pthread_mutex_lock(&db_lock);
	if ((rc = db_begin()) != DB_OK)
		goto out;
	rc = db_exec("INSERT INTO pulls (name, version, state, created,"
	    " updated) VALUES (?, ?, 'queued', ?, ?)", "ssii", name, version,
	    now, now);
	if (rc == DB_OK) {
		*id_out = sqlite3_last_insert_rowid(db_conn);
		*created_out = now;
		rc = db_exec("DELETE FROM pulls WHERE id <= ? - "
		    KEEP_STR(DB_PULLS_KEEP), "i", *id_out);
	}
	rc = db_finish(rc);
out:
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_pull_save(const struct db_pull *p)
{
	int rc;

	pthread_mutex_lock(&db_lock);
	rc = db_exec("UPDATE pulls SET state = ?, present = ?, chunks = ?,"
	    " missing = ?, chunks_done = ?, bytes_total = ?, bytes_done = ?,"
	    " bytes_fetched = ?, failovers = ?, resumed = ?, run_ms = ?,"
	    " source = ?, error = ?, updated = ? WHERE id = ?",
	    "siiiiiiiiiissii", p->state, (int64_t)(p->present != 0), p->chunks,
	    p->missing, p->chunks_done, p->bytes_total, p->bytes_done,
	    p->bytes_fetched, p->failovers, p->resumed, p->run_ms,
	    p->source[0] != '\0' ? p->source : NULL,
	    p->error[0] != '\0' ? p->error : NULL, db_now_ms(), p->id);
	if (rc == DB_OK && sqlite3_changes(db_conn) == 0)
		rc = DB_NOTFOUND;
	pthread_mutex_unlock(&db_lock);
	return rc;
}

static void
copy_col(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(dst, len, "%s", s ? (const char *)s : "");
}

static void
pull_from_row(sqlite3_stmt *st, void *item)
{
	struct db_pull *p = item;
	int64_t *num[] = { &p->chunks, &p->missing, &p->chunks_done,
	    &p->bytes_total, &p->bytes_done, &p->bytes_fetched, &p->failovers,
	    &p->resumed, &p->run_ms };

	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(st, 0);
	copy_col(p->name, sizeof(p->name), st, 1);
	copy_col(p->version, sizeof(p->version), st, 2);
	copy_col(p->state, sizeof(p->state), st, 3);
	p->present = sqlite3_column_int(st, 4) != 0;
	for (size_t i = 0; i < sizeof(num) / sizeof(num[0]); i++)
		*num[i] = sqlite3_column_int64(st, 5 + (int)i);
	copy_col(p->source, sizeof(p->source), st, 14);
	copy_col(p->error, sizeof(p->error), st, 15);
	p->created = sqlite3_column_int64(st, 16);
}

struct pull_cb {
	int	(*fn)(const struct db_pull *, void *);
	void	*arg;
};

static int
call_pull(const void *item, void *arg)
{
	const struct pull_cb *cb = arg;

	return cb->fn(item, cb->arg);
}

int
db_pulls_each(int (*fn)(const struct db_pull *, void *), void *arg)
{
	struct pull_cb cb = { fn, arg };

	return db_each("SELECT " PULL_COLUMNS " FROM pulls ORDER BY id DESC",
	    sizeof(struct db_pull), pull_from_row, call_pull, &cb);
}
