/* db_push.c — pending image pushes (a manifest posted, its chunks on their
 * way) and the questions garbage collection asks: which chunks of an image
 * or a push does nothing else need, and is an image in use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

int
db_push_save(const char *name, const char *version, const char *manifest,
    const char *alg, int is_signed, size_t n, const char *const *hashes,
    const uint32_t *lengths, const uint32_t *stored)
{
	sqlite3_stmt *st = NULL;
	int64_t id;
	int rc;

	pthread_mutex_lock(&db_lock);
	if ((rc = db_begin()) != DB_OK)
		goto out;
	/* A new manifest for the same name and version replaces the old. */
	rc = db_exec("DELETE FROM pushes WHERE name = ? AND version = ?", "ss",
	    name, version);
	if (rc != DB_OK)
		goto fail;
	rc = db_exec("INSERT INTO pushes (name, version, manifest, chunk_count,"
	    " signed, created, active) VALUES (?, ?, ?, 0, ?, ?, ?)", "sssiii",
	    name, version, manifest, (int64_t)(is_signed != 0), db_now_ms(),
	    db_now_ms());
	if (rc != DB_OK)
		goto fail;
	id = sqlite3_last_insert_rowid(db_conn);
	st = db_prep("INSERT OR IGNORE INTO push_chunks (push_id, hash, length,"
	    " alg, stored) VALUES (?, ?, ?, ?, ?)", "");
	if (st == NULL) {
		rc = DB_ERROR;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, hashes[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (int64_t)lengths[i]);
		sqlite3_bind_text(st, 4, alg, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (int64_t)stored[i]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_fail("push chunk");
			rc = DB_ERROR;
			goto fail;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = db_exec("UPDATE pushes SET chunk_count = (SELECT count(*) FROM"
	    " push_chunks WHERE push_id = ?) WHERE id = ?", "ii", id, id);
	if (rc != DB_OK)
		goto fail;
	rc = db_commit();
	goto out;
fail:
	sqlite3_finalize(st);
	db_rollback();
out:
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_push_manifest(const char *name, const char *version, char **manifest)
{
	sqlite3_stmt *st;
	int rc = DB_ERROR;

	*manifest = NULL;
	pthread_mutex_lock(&db_lock);
	st = db_prep("SELECT manifest FROM pushes WHERE name = ? AND version = ?",
	    "ss", name, version);
	if (st != NULL) {
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(st, 0);
			*manifest = strdup(t ? t : "");
			rc = *manifest ? DB_OK : DB_ERROR;
		} else if (r == SQLITE_DONE)
			rc = DB_NOTFOUND;
		else
			db_fail("push manifest");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_push_remove(const char *name, const char *version)
{
	return db_write("DELETE FROM pushes WHERE name = ? AND version = ?",
	    "ss", name, version);
}

int
db_push_chunk_find(const char *hash, uint64_t *length, uint64_t *stored,
    char *alg, size_t alglen)
{
	sqlite3_stmt *st;
	int rc = DB_ERROR;

	pthread_mutex_lock(&db_lock);
	st = db_prep("SELECT length, alg, stored FROM push_chunks WHERE hash = ?"
	    " ORDER BY stored DESC LIMIT 1", "s", hash);
	if (st != NULL) {
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			*length = (uint64_t)sqlite3_column_int64(st, 0);
			snprintf(alg, alglen, "%s",
			    (const char *)sqlite3_column_text(st, 1));
			*stored = (uint64_t)sqlite3_column_int64(st, 2);
			rc = DB_OK;
		} else if (r == SQLITE_DONE)
			rc = DB_NOTFOUND;
		else
			db_fail("push chunk find");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_push_touch(const char *hash, int64_t every_ms)
{
	int64_t now = db_now_ms();

	/* At most one write per every_ms for a push that is busy anyway. */
	return db_write("UPDATE pushes SET active = ? WHERE active < ? AND id IN"
	    " (SELECT push_id FROM push_chunks WHERE hash = ?)", "iis", now,
	    now - every_ms, hash);
}

int
db_push_expired(int64_t idle_ms, char *name, char *version, size_t len)
{
	sqlite3_stmt *st;
	int rc = DB_ERROR;

	pthread_mutex_lock(&db_lock);
	st = db_prep("SELECT name, version FROM pushes WHERE active < ?"
	    " ORDER BY active LIMIT 1", "i", db_now_ms() - idle_ms);
	if (st != NULL) {
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			snprintf(name, len, "%s",
			    (const char *)sqlite3_column_text(st, 0));
			snprintf(version, len, "%s",
			    (const char *)sqlite3_column_text(st, 1));
			rc = DB_OK;
		} else if (r == SQLITE_DONE)
			rc = DB_NOTFOUND;
		else
			db_fail("expired pushes");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db_lock);
	return rc;
}

json_t *
db_pushes_list(void)
{
	json_t *rows;

	pthread_mutex_lock(&db_lock);
	rows = db_rows("SELECT name, version, chunk_count,"
	    " json(CASE signed WHEN 1 THEN 'true' ELSE 'false' END) AS signed_json,"
	    " " ISO("created") " AS created, " ISO("active") " AS active"
	    " FROM pushes ORDER BY name, version", "");
	pthread_mutex_unlock(&db_lock);
	return rows;
}

/* Hashes of a query's rows into a JSON array of strings. */
static json_t *
hash_rows(const char *sql, const char *name, const char *version)
{
	sqlite3_stmt *st;
	json_t *a;
	int r;

	if ((st = db_prep(sql, "ss", name, version)) == NULL)
		return NULL;
	a = json_array();
	while (a != NULL && (r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 0);
		if (json_array_append_new(a, json_string(h ? h : "")) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	if (a != NULL && r != SQLITE_DONE) {
		db_fail("chunk hashes");
		json_decref(a);
		a = NULL;
	}
	sqlite3_finalize(st);
	return a;
}

json_t *
db_image_unshared_chunks(const char *name, const char *version)
{
	json_t *a;

	pthread_mutex_lock(&db_lock);
	a = hash_rows("SELECT DISTINCT c.hash FROM image_chunks c"
	    " JOIN images i ON i.id = c.image_id"
	    " WHERE i.name = ? AND i.version = ?"
	    " AND NOT EXISTS (SELECT 1 FROM image_chunks c2"
	    "  WHERE c2.hash = c.hash AND c2.image_id <> c.image_id)"
	    " AND NOT EXISTS (SELECT 1 FROM push_chunks p WHERE p.hash = c.hash)",
	    name, version);
	pthread_mutex_unlock(&db_lock);
	return a;
}

json_t *
db_push_unshared_chunks(const char *name, const char *version)
{
	json_t *a;

	pthread_mutex_lock(&db_lock);
	a = hash_rows("SELECT pc.hash FROM push_chunks pc"
	    " JOIN pushes p ON p.id = pc.push_id"
	    " WHERE p.name = ? AND p.version = ?"
	    " AND NOT EXISTS (SELECT 1 FROM image_chunks c WHERE c.hash = pc.hash)"
	    " AND NOT EXISTS (SELECT 1 FROM push_chunks pc2"
	    "  WHERE pc2.hash = pc.hash AND pc2.push_id <> pc.push_id)",
	    name, version);
	pthread_mutex_unlock(&db_lock);
	return a;
}

int
db_image_busy(const char *name, const char *version, char *what, size_t len)
{
	char ref[DB_REF_MAX + 1];
	sqlite3_stmt *st;
	int rc = DB_ERROR, r;

	snprintf(ref, sizeof(ref), "%s:%s", name, version);
	pthread_mutex_lock(&db_lock);
	st = db_prep("SELECT 'job ' || id || ' on ' || slot || ' (' || state || ')'"
	    " FROM jobs WHERE image = ? AND state NOT IN ('done', 'failed')"
	    " UNION ALL SELECT 'node ' || slot || ', which boots it diskless'"
	    " FROM nodes WHERE image = ? AND boot_mode = 'diskless' LIMIT 1",
	    "ss", ref, ref);
	if (st != NULL) {
		r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			snprintf(what, len, "%s",
			    (const char *)sqlite3_column_text(st, 0));
			rc = 1;
		} else if (r == SQLITE_DONE)
			rc = 0;
		else
			db_fail("image busy");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db_lock);
	return rc;
}
