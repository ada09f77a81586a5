/* db_jobs.c — jobs and their event logs. The rules of the state machine
 * live in appliance/jobs.c; this file records what it decides. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

#define JOB_COLUMNS \
	"j.id, j.slot, j.action, j.image, j.state, j.reason, j.bytes_total," \
	" j.bytes_done, j.bytes_fetched, j.rate, j.params AS params_json," \
	" " ISO("j.created") " AS created," \
	" " ISO("j.updated") " AS updated," \
	" CASE WHEN j.seen IS NULL THEN NULL" \
	" ELSE " ISO("j.seen") " END AS seen," \
	" CASE WHEN j.finished IS NULL THEN NULL ELSE " ISO("j.finished") \
	" END AS finished"

static int
add_event(int64_t id, const char *state, const char *message, int64_t now)
{
	return db_exec("INSERT INTO job_events (job_id, at, state, message,"
	    " bytes_done) SELECT id, ?, ?, ?, bytes_done FROM jobs"
	    " WHERE id = ?",
	    "issi", now, state, message, id);
}

int
db_job_create(const char *slot, const char *action, const char *image,
    const char *token, int64_t bytes_total, int64_t *id_out)
{
	return db_job_create_params(slot, action, image, NULL, token,
	    bytes_total, id_out);
}

int
db_job_create_params(const char *slot, const char *action, const char *image,
    const char *params, const char *token, int64_t bytes_total,
    int64_t *id_out)
{
	int64_t now = db_now_ms(), id;
	int rc;

	pthread_mutex_lock(&db_lock);
	if ((rc = db_begin()) != DB_OK)
		goto out;
	rc = db_exec("INSERT INTO jobs (slot, action, image, state, token,"
	    " bytes_total, created, updated)"
	    " VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)",
	    "ssssiii", slot, action, image, token, bytes_total, now, now);
	if (rc == DB_OK && params != NULL)
		rc = db_exec("UPDATE jobs SET params = ? WHERE rowid ="
		    " last_insert_rowid()", "s", params);
	if (rc != DB_OK) {
		db_rollback();
		goto out;
	}
	id = sqlite3_last_insert_rowid(db_conn);
	if ((rc = add_event(id, "queued", "job created", now)) != DB_OK ||
	    (rc = db_commit()) != DB_OK) {
		db_rollback();
		goto out;
	}
	*id_out = id;
out:
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
job_from_row(sqlite3_stmt *st, void *item)
{
	struct db_job *j = item;

	memset(j, 0, sizeof(*j));
	j->id = sqlite3_column_int64(st, 0);
	copy_col(j->slot, sizeof(j->slot), st, 1);
	copy_col(j->action, sizeof(j->action), st, 2);
	copy_col(j->image, sizeof(j->image), st, 3);
	copy_col(j->state, sizeof(j->state), st, 4);
	copy_col(j->reason, sizeof(j->reason), st, 5);
	copy_col(j->token, sizeof(j->token), st, 6);
	j->bytes_total = sqlite3_column_int64(st, 7);
	j->bytes_done = sqlite3_column_int64(st, 8);
	j->bytes_fetched = sqlite3_column_int64(st, 9);
	j->rate = sqlite3_column_int64(st, 10);
	j->created = sqlite3_column_int64(st, 11);
	j->updated = sqlite3_column_int64(st, 12);
	j->seen = sqlite3_column_int64(st, 13);
}

#define JOB_ROW "SELECT id, slot, action, image, state, reason, token," \
	" bytes_total, bytes_done, bytes_fetched, rate, created, updated," \
	" COALESCE(seen, 0) FROM jobs"

int
db_job_get(int64_t id, struct db_job *out)
{
	return db_one("job get", job_from_row, out, JOB_ROW " WHERE id = ?",
	    "i", id);
}

int
db_job_active(const char *slot, struct db_job *out)
{
	return db_one("active job", job_from_row, out,
	    JOB_ROW " WHERE slot = ? AND state NOT IN ('done', 'failed')",
	    "s", slot);
}

int
db_job_set_state(int64_t id, const char *from, const char *to,
    const char *reason, const char *message)
{
	int64_t now = db_now_ms();
	int terminal = strcmp(to, "done") == 0 || strcmp(to, "failed") == 0;
	int rc;

	pthread_mutex_lock(&db_lock);
	if ((rc = db_begin()) != DB_OK)
		goto out;
	rc = db_exec("UPDATE jobs SET state = ?, reason = COALESCE(?, reason),"
	    " updated = ?, finished = CASE WHEN ? THEN ? ELSE finished END"
	    " WHERE id = ? AND state = ?", "ssiiiis", to, reason, now,
	    (int64_t)terminal, now, id, from);
	if (rc == DB_OK && sqlite3_changes(db_conn) == 0)
		rc = DB_CONFLICT;
	if (rc == DB_OK)
		rc = add_event(id, to, message ? message : reason, now);
	if (rc == DB_OK && terminal)
		rc = db_exec("UPDATE nodes SET last_result = ?, updated = ?"
		    " WHERE slot = (SELECT slot FROM jobs WHERE id = ?)", "sii",
		    reason ? reason : to, now, id);
	rc = db_finish(rc);
out:
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_job_progress(int64_t id, int64_t done, int64_t fetched, int64_t rate)
{
	int64_t now = db_now_ms();
	return db_write("UPDATE jobs SET bytes_done = ?, bytes_fetched = ?,"
	    " rate = ?, updated = ?, seen = ? WHERE id = ?", "iiiiii", done,
	    fetched, rate, now, now, id);
}

int
db_job_set_total(int64_t id, int64_t total)
{
	return db_write("UPDATE jobs SET bytes_total = ? WHERE id = ? AND"
	    " bytes_total = 0", "ii", total, id);
}

int
db_job_event(int64_t id, const char *message)
{
	int rc;

	pthread_mutex_lock(&db_lock);
	rc = db_exec("INSERT INTO job_events (job_id, at, state, message,"
	    " bytes_done) SELECT id, ?, state, ?, bytes_done FROM jobs"
	    " WHERE id = ?", "isi", db_now_ms(), message, id);
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_job_seen(int64_t id)
{
	int rc;

	pthread_mutex_lock(&db_lock);
	rc = db_exec("UPDATE jobs SET seen = ? WHERE id = ?", "ii",
	    db_now_ms(), id);
	pthread_mutex_unlock(&db_lock);
	return rc;
}

struct job_cb {
	int	(*fn)(const struct db_job *, void *);
	void	*arg;
};

static int
call_job(const void *item, void *arg)
{
	const struct job_cb *cb = arg;

	return cb->fn(item, cb->arg);
}

int
db_jobs_active(int (*fn)(const struct db_job *, void *), void *arg)
{
	struct job_cb cb = { fn, arg };

	return db_each(JOB_ROW " WHERE state NOT IN ('done', 'failed')"
	    " ORDER BY id", sizeof(struct db_job), job_from_row, call_job, &cb);
}

json_t *
db_job_json(int64_t id)
{
	return db_select_one("SELECT " JOB_COLUMNS ", (SELECT json_group_array("
	    "json_object('at', " ISO("e.at") ", 'state', e.state, 'message',"
	    " e.message, 'bytes_done', e.bytes_done)) FROM (SELECT * FROM"
	    " job_events WHERE job_id = j.id ORDER BY id) e) AS events_json"
	    " FROM jobs j WHERE j.id = ?", "i", id);
}

json_t *
db_jobs_list(const char *slot, const char *state, int limit)
{
	return db_select("SELECT " JOB_COLUMNS " FROM jobs j"
	    " WHERE (?1 IS NULL OR j.slot = ?1)"
	    " AND (?2 IS NULL OR j.state = ?2)"
	    " ORDER BY j.id DESC LIMIT ?3", "ssi", slot, state, (int64_t)limit);
}

json_t *
db_job_counts(void)
{
	json_t *rows, *o;
	size_t i;
	json_t *row;

	rows = db_select("SELECT s.state, (SELECT count(*) FROM jobs j"
	    " WHERE j.state = s.state) AS n FROM (SELECT 'queued' AS state"
	    " UNION ALL SELECT 'booting' UNION ALL SELECT 'streaming'"
	    " UNION ALL SELECT 'verifying' UNION ALL SELECT 'done'"
	    " UNION ALL SELECT 'failed') s", "");
	if (rows == NULL)
		return NULL;
	o = json_object();
	json_array_foreach(rows, i, row)
		json_object_set(o, json_string_value(json_object_get(row,
		    "state")), json_object_get(row, "n"));
	json_decref(rows);
	return o;
}
