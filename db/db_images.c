/* db_images.c — the image catalogue: versions and their chunk lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

int
db_image_add(const struct db_image *im)
{
	sqlite3_stmt *st = NULL;
	int64_t id;
	int rc;

	pthread_mutex_lock(&db_lock);
	if ((rc = db_begin()) != DB_OK)
		goto out;
	rc = db_exec("INSERT INTO images (name, version, kind, size, chunk_size,"
	    " hash, chunk_count, stored, signed, created)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "sssiisiiii", im->name,
	    im->version, im->kind, (int64_t)im->size, (int64_t)im->chunk_size,
	    im->hash, (int64_t)im->nchunks, (int64_t)im->stored,
	    (int64_t)(im->is_signed != 0), db_now_ms());
	if (rc != DB_OK)
		goto fail;
	id = sqlite3_last_insert_rowid(db_conn);
	st = db_prep("INSERT INTO image_chunks (image_id, idx, offset, length,"
	    " hash) VALUES (?, ?, ?, ?, ?)", "");
	if (st == NULL) {
		rc = DB_ERROR;
		goto fail;
	}
	for (size_t i = 0; i < im->nchunks; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		sqlite3_bind_int64(st, 3, (int64_t)im->offsets[i]);
		sqlite3_bind_int64(st, 4, (int64_t)im->lengths[i]);
		sqlite3_bind_text(st, 5, im->hashes[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			db_fail("image chunk");
			rc = DB_ERROR;
			goto fail;
		}
	}
	sqlite3_finalize(st);
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
db_image_exists(const char *name, const char *version)
{
	return db_image_resolve(name, version, NULL, 0, NULL) == DB_OK;
}

int
db_image_resolve(const char *name, const char *version, char *version_out,
    size_t len, uint64_t *size_out)
{
	sqlite3_stmt *st;
	int rc = DB_ERROR;

	pthread_mutex_lock(&db_lock);
	if (version != NULL && version[0] != '\0')
		st = db_prep("SELECT version, size FROM images"
		    " WHERE name = ? AND version = ?", "ss", name, version);
	else
		st = db_prep("SELECT version, size FROM images WHERE name = ?"
		    " ORDER BY created DESC, id DESC LIMIT 1", "s", name);
	if (st != NULL) {
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			if (version_out != NULL)
				snprintf(version_out, len, "%s",
				    (const char *)sqlite3_column_text(st, 0));
			if (size_out != NULL)
				*size_out = (uint64_t)sqlite3_column_int64(st, 1);
			rc = DB_OK;
		} else if (r == SQLITE_DONE)
			rc = DB_NOTFOUND;
		else
			db_fail("image resolve");
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_image_remove(const char *name, const char *version)
{
	return db_write("DELETE FROM images WHERE name = ? AND version = ?",
	    "ss", name, version);
}

#define VERSIONS_JSON \
	"(SELECT json_group_array(json_object('version', v.version," \
	" 'kind', v.kind, 'size', v.size, 'chunk_size', v.chunk_size," \
	" 'chunk_count', v.chunk_count, 'stored', v.stored, 'hash', v.hash," \
	" 'signed', json(CASE v.signed WHEN 1 THEN 'true' ELSE 'false' END)," \
	" 'created', " ISO("v.created") "))" \
	" FROM (SELECT * FROM images WHERE name = i.name" \
	" ORDER BY created DESC, id DESC) v) AS versions_json," \
	" (SELECT json_group_array(slot) FROM nodes" \
	"  WHERE image = i.name OR substr(image, 1, length(i.name) + 1) = i.name || ':') AS used_by_json"

json_t *
db_images_list(void)
{
	json_t *rows;

	pthread_mutex_lock(&db_lock);
	rows = db_rows("SELECT i.name, " VERSIONS_JSON " FROM images i"
	    " GROUP BY i.name ORDER BY i.name", "");
	pthread_mutex_unlock(&db_lock);
	return rows;
}

json_t *
db_image_get(const char *name)
{
	json_t *rows, *o = NULL;

	pthread_mutex_lock(&db_lock);
	rows = db_rows("SELECT i.name, " VERSIONS_JSON " FROM images i"
	    " WHERE i.name = ? GROUP BY i.name", "s", name);
	pthread_mutex_unlock(&db_lock);
	if (rows != NULL && json_array_size(rows) == 1)
		o = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return o;
}
