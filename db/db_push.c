/* db_push.c — pending image pushes (a manifest posted, its chunks on their
 * way) and the questions garbage collection asks: which chunks of an image
 * or a push does nothing else need, and is an image in use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

/* Binds the i-th distinct chunk of a push (its row id first) to an
 * insert. */
struct push_rows {
	int64_t			 id;
	const char		*alg;
	const char *const	*hashes;
	const uint32_t		*lengths, *stored;
};

static void
bind_push_chunk(sqlite3_stmt *st, size_t i, void *arg)
{
	const struct push_rows *r = arg;

	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_text(st, 2, r->hashes[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)r->lengths[i]);
	sqlite3_bind_text(st, 4, r->alg, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)r->stored[i]);
}

int
db_push_save(const char *name, const char *version, const char *manifest,
    const char *alg, int is_signed, size_t n, const char *const *hashes,
    const uint32_t *lengths, const uint32_t *stored)
{
	struct push_rows r = { 0, alg, hashes, lengths, stored };
	int rc;

	pthread_mutex_lock(&db_lock);
	if ((rc = db_begin()) != DB_OK)
		goto out;
	/* A new manifest for the same name and version replaces the old. */
	rc = db_exec("DELETE FROM pushes WHERE name = ? AND version = ?", "ss",
	    name, version);
	if (rc == DB_OK)
		rc = db_exec("INSERT INTO pushes (name, version, manifest,"
		    " chunk_count, signed, created, active)"
		    " VALUES (?, ?, ?, 0, ?, ?, ?)", "sssiii", name, version,
		    manifest, (int64_t)(is_signed != 0), db_now_ms(),
		    db_now_ms());
	if (rc == DB_OK) {
		r.id = sqlite3_last_insert_rowid(db_conn);
		rc = db_exec_rows("push chunk", "INSERT OR IGNORE INTO"
		    " push_chunks (push_id, hash, length, alg, stored)"
		    " VALUES (?, ?, ?, ?, ?)", n, bind_push_chunk, &r);
	}
	if (rc == DB_OK)
		rc = db_exec("UPDATE pushes SET chunk_count = (SELECT count(*)"
		    " FROM push_chunks WHERE push_id = ?) WHERE id = ?", "ii",
		    r.id, r.id);
	rc = db_finish(rc);
out:
	pthread_mutex_unlock(&db_lock);
	return rc;
}

/* Column 0's text, strdup'd into the char * at out (NULL if out of
 * memory). */
static void
text_from_row(sqlite3_stmt *st, void *out)
{
	const char *t = (const char *)sqlite3_column_text(st, 0);

	*(char **)out = strdup(t ? t : "");
}

int
db_push_manifest(const char *name, const char *version, char **manifest)
{
	int rc;

	*manifest = NULL;
	rc = db_one("push manifest", text_from_row, manifest,
	    "SELECT manifest FROM pushes WHERE name = ? AND version = ?",
	    "ss", name, version);
	return rc == DB_OK && *manifest == NULL ? DB_ERROR : rc;
}

int
db_push_remove(const char *name, const char *version)
{
	return db_write("DELETE FROM pushes WHERE name = ? AND version = ?",
	    "ss", name, version);
}

/* Where db_push_chunk_find's row goes. */
struct push_chunk {
	uint64_t	*length, *stored;
	char		*alg;
	size_t		 alglen;
};

static void
push_chunk_from_row(sqlite3_stmt *st, void *item)
{
	struct push_chunk *c = item;

	*c->length = (uint64_t)sqlite3_column_int64(st, 0);
	snprintf(c->alg, c->alglen, "%s",
	    (const char *)sqlite3_column_text(st, 1));
	*c->stored = (uint64_t)sqlite3_column_int64(st, 2);
}

int
db_push_chunk_find(const char *hash, uint64_t *length, uint64_t *stored,
    char *alg, size_t alglen)
{
	struct push_chunk c = { length, stored, alg, alglen };

	return db_one("push chunk find", push_chunk_from_row, &c,
	    "SELECT length, alg, stored FROM push_chunks WHERE hash = ?"
	    " ORDER BY stored DESC LIMIT 1", "s", hash);
}

int
db_push_touch(const char *hash, int64_t every_ms)
{
	int64_t now = db_now_ms();

	/* At most one write per every_ms for a push that is busy anyway. */
	return db_write("UPDATE pushes SET active = ? WHERE active < ?"
	    " AND id IN (SELECT push_id FROM push_chunks WHERE hash = ?)",
	    "iis", now, now - every_ms, hash);
}

int
db_push_expired(int64_t idle_ms, char *name, char *version, size_t len)
{
	struct db_text t[] = { { name, len }, { version, len }, { NULL, 0 } };

	return db_one("expired pushes", db_fill_texts, t,
	    "SELECT name, version FROM pushes WHERE active < ?"
	    " ORDER BY active LIMIT 1", "i", db_now_ms() - idle_ms);
}

json_t *
db_pushes_list(void)
{
	return db_select("SELECT name, version, chunk_count,"
	    " json(CASE signed WHEN 1 THEN 'true' ELSE 'false' END)"
	    " AS signed_json,"
	    " " ISO("created") " AS created, " ISO("active") " AS active"
	    " FROM pushes ORDER BY name, version", "");
}

json_t *
db_image_unshared_chunks(const char *name, const char *version)
{
	return db_select_texts("SELECT DISTINCT c.hash FROM image_chunks c"
	    " JOIN images i ON i.id = c.image_id"
	    " WHERE i.name = ? AND i.version = ?"
	    " AND NOT EXISTS (SELECT 1 FROM image_chunks c2"
	    "  WHERE c2.hash = c.hash AND c2.image_id <> c.image_id)"
	    " AND NOT EXISTS (SELECT 1 FROM push_chunks p"
	    " WHERE p.hash = c.hash)",
	    "ss", name, version);
}

json_t *
db_push_unshared_chunks(const char *name, const char *version)
{
	return db_select_texts("SELECT pc.hash FROM push_chunks pc"
	    " JOIN pushes p ON p.id = pc.push_id"
	    " WHERE p.name = ? AND p.version = ?"
	    " AND NOT EXISTS (SELECT 1 FROM image_chunks c"
	    " WHERE c.hash = pc.hash)"
	    " AND NOT EXISTS (SELECT 1 FROM push_chunks pc2"
	    "  WHERE pc2.hash = pc.hash AND pc2.push_id <> pc.push_id)",
	    "ss", name, version);
}

int
db_image_busy(const char *name, const char *version, char *what, size_t len)
{
	char ref[DB_REF_MAX + 1];
	struct db_text t[] = { { what, len }, { NULL, 0 } };
	int rc;

	snprintf(ref, sizeof(ref), "%s:%s", name, version);
	rc = db_one("image busy", db_fill_texts, t,
	    "SELECT 'job ' || id || ' on ' || slot || ' (' || state || ')'"
	    " FROM jobs WHERE image = ? AND state NOT IN ('done', 'failed')"
	    " UNION ALL SELECT 'node ' || slot || ', which boots it diskless'"
	    " FROM nodes WHERE image = ? AND boot_mode = 'diskless' LIMIT 1",
	    "ss", ref, ref);
	return rc == DB_OK ? DB_YES : rc == DB_NOTFOUND ? DB_NO : rc;
}
