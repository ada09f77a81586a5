/* db_images.c — the image catalogue: versions and their chunk lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

/* Binds the i-th chunk of an image (its row id first) to an insert. */
struct image_rows {
	int64_t				 id;
	const struct db_image		*im;
};

static void
bind_image_chunk(sqlite3_stmt *st, size_t i, void *arg)
{
	const struct image_rows *r = arg;

	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, (int64_t)i);
	sqlite3_bind_int64(st, 3, (int64_t)r->im->offsets[i]);
	sqlite3_bind_int64(st, 4, (int64_t)r->im->lengths[i]);
	sqlite3_bind_text(st, 5, r->im->hashes[i], -1, SQLITE_STATIC);
}

int
db_image_add(const struct db_image *im)
{
	struct image_rows r = { 0, im };
	int rc;

	pthread_mutex_lock(&db_lock);
	if ((rc = db_begin()) != DB_OK)
		goto out;
	rc = db_exec("INSERT INTO images (name, version, kind, size,"
	    " chunk_size, hash, chunk_count, stored, signed, created)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "sssiisiiii", im->name,
	    im->version, im->kind, (int64_t)im->size, (int64_t)im->chunk_size,
	    im->hash, (int64_t)im->nchunks, (int64_t)im->stored,
	    (int64_t)(im->is_signed != 0), db_now_ms());
	if (rc == DB_OK) {
		r.id = sqlite3_last_insert_rowid(db_conn);
		rc = db_exec_rows("image chunk", "INSERT INTO image_chunks"
		    " (image_id, idx, offset, length, hash)"
		    " VALUES (?, ?, ?, ?, ?)", im->nchunks, bind_image_chunk,
		    &r);
	}
	rc = db_finish(rc);
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
	int64_t size = 0;
	struct db_text_num r = { version_out, len, &size };
	int rc;

	if (version != NULL && version[0] != '\0')
		rc = db_one("image resolve", db_fill_text_num, &r,
		    "SELECT version, size FROM images"
		    " WHERE name = ? AND version = ?", "ss", name, version);
	else
		rc = db_one("image resolve", db_fill_text_num, &r,
		    "SELECT version, size FROM images WHERE name = ?"
		    " ORDER BY created DESC, id DESC LIMIT 1", "s", name);
	if (rc == DB_OK && size_out != NULL)
		*size_out = (uint64_t)size;
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
	" 'created', " ISO("v.created") "," \
	" 'captured', CASE WHEN v.captured_slot IS NULL THEN NULL ELSE" \
	" json_object('slot', v.captured_slot, 'job', v.captured_job," \
	" 'at', " ISO("v.captured_at") ") END))" \
	" FROM (SELECT * FROM images WHERE name = i.name" \
	" ORDER BY created DESC, id DESC) v) AS versions_json," \
	" (SELECT json_group_array(slot) FROM nodes" \
	"  WHERE image = i.name" \
	" OR substr(image, 1, length(i.name) + 1) = i.name || ':')" \
	" AS used_by_json"

json_t *
db_images_list(void)
{
	return db_select("SELECT i.name, " VERSIONS_JSON " FROM images i"
	    " GROUP BY i.name ORDER BY i.name", "");
}

json_t *
db_image_get(const char *name)
{
	return db_select_one("SELECT i.name, " VERSIONS_JSON " FROM images i"
	    " WHERE i.name = ? GROUP BY i.name", "s", name);
}
