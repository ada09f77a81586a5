/*
 * push.c — images pushed from a central host (rackctl push):
 *
 *   POST   /api/v1/images/{name}/versions/{version}   the manifest (body):
 *          validated, its signature checked where trusted_keys asks for
 *          one, remembered as a pending push; the answer lists the chunks
 *          this rack lacks
 *   PUT    /api/v1/chunks/{hash}    one compressed chunk a pending push
 *          waits for: streamed into a temporary file of the store, then
 *          decompressed (bounded by the manifest's length), hashed, and
 *          renamed into place; content that does not match is refused (422)
 *          and never visible; a chunk the rack has is answered at once
 *   POST   /api/v1/images/{name}/versions/{version}/commit   every chunk
 *          present (409 naming the missing ones otherwise) and the signature
 *          good: the manifest is stored and indexed, the image appears
 *   DELETE /api/v1/images/{name}/versions/{version}   an image (refused
 *          while a job uses it) or a pending push, and the chunks nothing
 *          else needs (catalog_delete: garbage collection is catalog.c's)
 *   GET    /api/v1/pushes           the pending pushes
 *
 * Chunks enter the store only verified (here or by import), so "present"
 * means "present and verified". catalog_lock serialises what decides on
 * the set of chunks (manifest, commit, delete, expiry): garbage collection
 * never removes a chunk that an image or a pending push needs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "appliance/rackd.h"
#include "db/db.h"
#include "images/chunk.h"
#include "images/hash.h"
#include "images/manifest.h"
#include "images/store.h"

/* ---- trust (catalog.c's rule) ---------------------------------------- */

int
push_trust(const struct manifest *m, char *err, size_t errlen)
{
	enum catalog_result rc = catalog_trust(m, err, errlen);
	size_t used;

	if (rc == CATALOG_OK)
		return 0;
	if (rc == CATALOG_ERROR)
		return 500;
	used = strlen(err);
	if (rc == CATALOG_UNSIGNED && used < errlen)
		snprintf(err + used, errlen - used, " (this rack takes only "
		    "images signed by a trusted key: rackctl image sign)");
	return 403;
}

/* 1 if m may be taken; otherwise a reply (403 or 500) is queued. */
static int
signature_allowed(struct req *r, const struct manifest *m)
{
	char err[ERR_MAX];
	int status = push_trust(m, err, sizeof(err));

	if (status == 0)
		return 1;
	http_reply_error(r, status, "%s", err);
	return 0;
}

/* ---- the body of a request, spooled into the store's tmp ------------- */

struct spool {
	int		 fd;
	char		 path[STORE_PATH_MAX];
	uint64_t	 bytes;
	int		 werr;		/* errno of a failed write */
	/* PUT /api/v1/chunks/{hash}[?base=HASH&level=N] */
	char		 hash[HASH_HEX_LEN + 1];
	uint64_t	 length;
	uint64_t	 stored;	/* the manifest's compressed size */
	enum hash_alg	 alg;
	char		 base[HASH_HEX_LEN + 1];	/* "": not a patch */
	int		 level;
	push_added_fn	 added;		/* told of a chunk added */
	int64_t		 tag;
	/* POST .../versions/{version} */
	char		 name[IMAGE_NAME_MAX + 1];
	char		 version[IMAGE_NAME_MAX + 1];
	int		 flags;		/* PUSH_CAPTURED */
};

static int
spool_data(struct req *r, void *ctx, const char *data, size_t len)
{
	struct spool *s = ctx;

	while (len > 0) {
		ssize_t n = write(s->fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			s->werr = n < 0 ? errno : EIO;
			return -1;
		}
		data += n;
		len -= (size_t)n;
		s->bytes += (uint64_t)n;
	}
	return 0;
}

static void
spool_release(void *ctx)
{
	struct spool *s = ctx;

	if (s->fd >= 0)
		close(s->fd);
	if (s->path[0] != '\0')
		unlink(s->path);	/* not adopted into the store */
	free(s);
}

/* A spool with its temporary file, or NULL with a 500 queued. */
static struct spool *
spool_new(struct req *r, const char *prefix)
{
	struct spool *s = calloc(1, sizeof(*s));
	char err[ERR_MAX];

	if (s == NULL) {
		http_reply_error(r, 500, "out of memory");
		return NULL;
	}
	if (store_tmp_create(catalog_store(), prefix, s->path, sizeof(s->path),
	    &s->fd, err, sizeof(err)) != 0) {
		free(s);
		http_reply_error(r, 500, "%s", err);
		return NULL;
	}
	return s;
}

/* 1 if the body arrived whole; otherwise a reply is queued. */
static int
spool_ok(struct req *r, struct spool *s)
{
	if (s->werr != 0) {
		http_reply_error(r, s->werr == ENOSPC ? 507 : 500,
		    "cannot write the upload: %s", strerror(s->werr));
		return 0;
	}
	return 1;
}

/* Spool the request body, at most max bytes; done runs once it is in. */
static void
spool_take(struct req *r, struct spool *s, uint64_t max,
    void (*done)(struct req *, void *))
{
	const struct http_stream hs = {
		.max = max,
		.data = spool_data,
		.done = done,
		.release = spool_release,
		.ctx = s,
	};

	http_stream_body(r, &hs);
}

/* ---- helpers ------------------------------------------------------------ */

/* {name} and {version} of the URL, or a 400 reply. */
static int
name_version(struct req *r, char *name, char *version)
{
	const char *n = http_param(r, 0), *v = http_param(r, 1);

	if (!image_name_valid(n) || !image_version_valid(v)) {
		http_reply_error(r, 400, "not an image name and version "
		    "([A-Za-z0-9][A-Za-z0-9._+-]{0,63} each)");
		return -1;
	}
	snprintf(name, IMAGE_NAME_MAX + 1, "%s", n);
	snprintf(version, IMAGE_NAME_MAX + 1, "%s", v);
	return 0;
}

static int
cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, HASH_LEN);
}

/* The distinct chunks of m (sorted by hash) with their lengths, and which
 * of them the store lacks. */
struct chunkset {
	size_t		 n;
	struct entry {
		uint8_t	 hash[HASH_LEN];
		uint32_t length;
		uint32_t stored;
		int	 missing;
	}		*e;
	size_t		 nmissing;
	uint64_t	 missing_bytes;
};

static int
chunkset_make(const struct manifest *m, struct chunkset *cs)
{
	char hex[HASH_HEX_LEN + 1];
	struct store *st = catalog_store();

	memset(cs, 0, sizeof(*cs));
	if (m->nchunks == 0)
		return 0;
	if ((cs->e = calloc(m->nchunks, sizeof(*cs->e))) == NULL)
		return -1;
	for (size_t i = 0; i < m->nchunks; i++) {
		memcpy(cs->e[i].hash, m->chunks[i].hash, HASH_LEN);
		cs->e[i].length = m->chunks[i].length;
		cs->e[i].stored = m->chunks[i].stored;
	}
	qsort(cs->e, m->nchunks, sizeof(*cs->e), cmp_hash);
	for (size_t i = 0; i < m->nchunks; i++)
		if (cs->n == 0 || memcmp(cs->e[cs->n - 1].hash, cs->e[i].hash,
		    HASH_LEN) != 0)
			cs->e[cs->n++] = cs->e[i];
	for (size_t i = 0; i < cs->n; i++) {
		hash_to_hex(cs->e[i].hash, hex);
		if (!store_has_chunk(st, hex)) {
			cs->e[i].missing = 1;
			cs->nmissing++;
			cs->missing_bytes += cs->e[i].stored;
		}
	}
	return 0;
}

static json_t *
chunkset_missing(const struct chunkset *cs)
{
	char hex[HASH_HEX_LEN + 1];
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < cs->n; i++) {
		if (!cs->e[i].missing)
			continue;
		hash_to_hex(cs->e[i].hash, hex);
		if (json_array_append_new(a, json_string(hex)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Remember m as pending (its distinct chunks with it). DB_OK or error. */
static int
pending_save(const struct manifest *m, const char *text,
    const struct chunkset *cs)
{
	char (*hex)[HASH_HEX_LEN + 1] = NULL;
	const char **hashes = NULL;
	uint32_t *lengths = NULL, *stored = NULL;
	int rc = DB_ERROR;

	if (cs->n > 0) {
		hex = calloc(cs->n, sizeof(*hex));
		hashes = calloc(cs->n, sizeof(*hashes));
		lengths = calloc(cs->n, sizeof(*lengths));
		stored = calloc(cs->n, sizeof(*stored));
		if (hex == NULL || hashes == NULL || lengths == NULL ||
		    stored == NULL)
			goto out;
	}
	for (size_t i = 0; i < cs->n; i++) {
		hash_to_hex(cs->e[i].hash, hex[i]);
		hashes[i] = hex[i];
		lengths[i] = cs->e[i].length;
		stored[i] = cs->e[i].stored;
	}
	rc = db_push_save(m->name, m->version, text, hash_alg_name(m->hash),
	    m->signature != NULL, cs->n, (const char *const *)hashes, lengths,
	    stored);
out:
	free(hex);
	free(hashes);
	free(lengths);
	free(stored);
	return rc;
}

enum stored {
	STORED_NOT,		/* not on this rack */
	STORED_SAME,		/* stored with the same content */
	STORED_OTHER,		/* stored with other content (409), or an
				 * error (500): err says which */
	STORED_ERROR,
};

/* Is the image already stored? */
static enum stored
already_stored(const struct manifest *m, const char *text, char *err,
    size_t errlen)
{
	struct manifest *old;
	char *oldtext;
	int same;

	if (!store_has_manifest(catalog_store(), m->name, m->version))
		return STORED_NOT;
	if (store_load_manifest(catalog_store(), m->name, m->version, &old,
	    err, errlen) != 0)
		return STORED_ERROR;
	oldtext = manifest_to_json(old);
	manifest_free(old);
	same = oldtext != NULL && strcmp(oldtext, text) == 0;
	free(oldtext);
	if (!same) {
		snprintf(err, errlen, "image %s:%s is on this rack with "
		    "different content; delete it first", m->name, m->version);
		return STORED_OTHER;
	}
	return STORED_SAME;
}

/*
 * The start of a push (or a pull): with catalog_lock held, m (its text)
 * is either stored already (1), or recorded as pending with its distinct
 * chunks in cs (0), saved before the store is asked, so that no garbage
 * collection can take a chunk between the answer and the commit; or an
 * HTTP status (409, 500) with err.
 */
static int
begin_locked(const struct manifest *m, const char *text,
    struct chunkset *cs, char *err, size_t errlen)
{
	switch (already_stored(m, text, err, errlen)) {
	case STORED_SAME:
		db_push_remove(m->name, m->version);
		return 1;
	case STORED_OTHER:
		return 409;
	case STORED_ERROR:
		return 500;
	case STORED_NOT:
		break;
	}
	if (chunkset_make(m, cs) != 0 || pending_save(m, text, cs) != DB_OK) {
		snprintf(err, errlen, "cannot record the push");
		return 500;
	}
	return 0;
}

int
push_begin(const struct manifest *m, struct push_need **need, size_t *n,
    size_t *distinct, char *err, size_t errlen)
{
	struct chunkset cs = { 0 };
	char *text;
	int rc;

	*need = NULL;
	*n = *distinct = 0;
	if ((text = manifest_to_json(m)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return 500;
	}
	catalog_lock();
	rc = begin_locked(m, text, &cs, err, errlen);
	catalog_unlock();
	free(text);
	if (rc != 0)
		goto out;
	*distinct = cs.n;
	if (cs.nmissing > 0 &&
	    (*need = calloc(cs.nmissing, sizeof(**need))) == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = 500;
		goto out;
	}
	for (size_t i = 0; i < cs.n; i++) {
		if (!cs.e[i].missing)
			continue;
		hash_to_hex(cs.e[i].hash, (*need)[*n].hash);
		(*need)[*n].length = cs.e[i].length;
		(*need)[*n].stored = cs.e[i].stored;
		(*n)++;
	}
out:
	free(cs.e);
	return rc;
}

static json_t *
state_reply(const struct manifest *m, const char *state)
{
	return json_pack("{s:s,s:s,s:s}", "name", m->name, "version",
	    m->version, "state", state);
}

/* ---- POST /api/v1/images/{name}/versions/{version} -------------------- */

static void
manifest_take(struct req *r, void *ctx)
{
	struct spool *s = ctx;
	struct manifest *m = NULL;
	struct chunkset cs = { 0 };
	char err[ERR_MAX], *text = NULL;
	void *map;
	json_t *o, *missing;
	int rc;

	if (!spool_ok(r, s))
		return;
	if (s->bytes == 0) {
		http_reply_error(r, 400,
		    "the body must be the image's manifest");
		return;
	}
	map = mmap(NULL, (size_t)s->bytes, PROT_READ, MAP_PRIVATE, s->fd, 0);
	if (map == MAP_FAILED) {
		http_reply_error(r, 500, "cannot read the upload: %s",
		    strerror(errno));
		return;
	}
	rc = manifest_parse(map, (size_t)s->bytes, &m, err, sizeof(err));
	munmap(map, (size_t)s->bytes);
	if (rc != 0) {
		http_reply_error(r, 400, "manifest: %s", err);
		return;
	}
	if (strcmp(m->name, s->name) != 0 || strcmp(m->version, s->version)
	    != 0) {
		http_reply_error(r, 400, "the manifest is of %s:%s, the URL "
		    "names %s:%s", m->name, m->version, s->name, s->version);
		goto out;
	}
	/* A capture is made on this rack: unsigned until signed centrally
	 * (catalog_image_trusted keeps it from jobs where trusted_keys is
	 * set). */
	if (!(s->flags & PUSH_CAPTURED) && !signature_allowed(r, m))
		goto out;
	if ((text = manifest_to_json(m)) == NULL) {
		http_reply_error(r, 500, "out of memory");
		goto out;
	}
	catalog_lock();
	rc = begin_locked(m, text, &cs, err, sizeof(err));
	catalog_unlock();
	if (rc == 1) {
		o = state_reply(m, "committed");
		json_object_set_new(o, "missing", json_array());
		http_reply_json(r, 200, o);
		goto out;
	}
	if (rc != 0) {
		http_reply_error(r, rc, "%s", err);
		goto out;
	}
	if ((missing = chunkset_missing(&cs)) == NULL) {
		http_reply_error(r, 500, "out of memory");
		goto out;
	}
	log_info("push %s:%s: manifest of %zu chunks, %zu missing (%llu "
	    "bytes)", m->name, m->version, cs.n, cs.nmissing,
	    (unsigned long long)cs.missing_bytes);
	o = state_reply(m, "pending");
	json_object_set_new(o, "chunks", json_integer((json_int_t)cs.n));
	json_object_set_new(o, "missing_bytes",
	    json_integer((json_int_t)cs.missing_bytes));
	json_object_set_new(o, "signed", json_boolean(m->signature != NULL));
	json_object_set_new(o, "missing", missing);
	http_reply_json(r, 200, o);
out:
	free(cs.e);
	free(text);
	manifest_free(m);
}

/* Parsing, checking the store for each chunk and recording them all is
 * work for a work thread on a large image. */
static void
manifest_done(struct req *r, void *ctx)
{
	http_defer(r, manifest_take, ctx);
}

void
push_manifest_take(struct req *r, const char *name, const char *version,
    int flags)
{
	struct spool *s;

	if ((s = spool_new(r, "manifest")) == NULL)
		return;
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->version, sizeof(s->version), "%s", version);
	s->flags = flags;
	spool_take(r, s, MANIFEST_MAX_BYTES, manifest_done);
}

void
push_manifest(struct req *r)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];

	if (name_version(r, name, version) != 0)
		return;
	push_manifest_take(r, name, version, 0);
}

/* ---- PUT /api/v1/chunks/{hash} ---------------------------------------- */

/* On a work thread: decompress, hash, fsync, rename. */
static void
chunk_adopt(struct req *r, void *ctx)
{
	struct spool *s = ctx;
	char err[ERR_MAX];
	bool added;

	int rc = s->base[0] == '\0' ?
	    store_adopt_chunk(catalog_store(), s->alg, s->hash, s->length,
	    s->path, s->fd, &added, err, sizeof(err)) :
	    store_adopt_patch(catalog_store(), s->alg, s->hash, s->length,
	    s->stored, s->level, s->base, s->fd, &added, err, sizeof(err));

	if (rc != 0) {
		metrics_push_chunk(s->bytes, "rejected");
		if (errno == EBADMSG) {
			log_warnx("push: chunk refused: %s", err);
			http_reply_error(r, 422, "%s", err);
		} else if (s->base[0] != '\0' && (errno == ERANGE ||
		    errno == ENOENT)) {
			/* The pusher sends it whole instead. */
			http_reply_json(r, 409, json_pack("{s:s,s:b}", "error",
			    err, "send_whole", 1));
		} else
			http_reply_error(r, 500, "%s", err);
		return;
	}
	if (s->base[0] == '\0')
		s->path[0] = '\0';	/* the store has it now */
	if (added && s->base[0] == '\0' && s->added != NULL)
		s->added(s->tag, s->hash);
	/* A quarter of the expiry at most between notes: a push that goes
	 * on never expires, and a busy one costs a write a minute. */
	db_push_touch(s->hash, conf.push_expiry >= 240 ? 60000 :
	    (int64_t)conf.push_expiry * 250);
	metrics_push_chunk(s->bytes, s->base[0] != '\0' ? "patched" : "stored");
	http_reply_json(r, 201, json_pack("{s:s,s:b,s:I}", "hash", s->hash,
	    "stored", 1, "bytes", (json_int_t)s->bytes));
}

static void
chunk_done(struct req *r, void *ctx)
{
	struct spool *s = ctx;

	if (!spool_ok(r, s)) {
		metrics_push_chunk(s->bytes, "rejected");
		return;
	}
	if (s->bytes == 0) {
		metrics_push_chunk(0, "rejected");
		http_reply_error(r, 400,
		    "the body must be the compressed chunk");
		return;
	}
	http_defer(r, chunk_adopt, s);
}

void
push_chunk(struct req *r)
{
	push_chunk_take(r, http_param(r, 0), NULL, 0);
}

void
push_chunk_take(struct req *r, const char *hash, push_added_fn added,
    int64_t tag)
{
	const char *base = http_query(r, "base");
	const char *lv = http_query(r, "level");
	char alg[HASH_NAME_MAX], *end;
	struct spool *s;
	uint64_t length, stored;
	enum hash_alg a;
	long level = CHUNK_LEVEL_DEFAULT;
	int rc;

	if (hash == NULL || !hash_hex_valid(hash)) {
		http_reply_error(r, 400, "not a chunk hash (64 lowercase hex)");
		return;
	}
	if (base != NULL && !hash_hex_valid(base)) {
		http_reply_error(r, 400,
		    "base: not a chunk hash (64 lowercase hex)");
		return;
	}
	if (lv != NULL && (base == NULL || (errno = 0, level = strtol(lv, &end,
	    10), errno != 0 || *end != '\0' || !chunk_level_valid(level)))) {
		http_reply_error(r, 400, "level: a zstd level from %d to %d, "
		    "with base", CHUNK_LEVEL_MIN, CHUNK_LEVEL_MAX);
		return;
	}
	/* Had already: answered before any body is read. */
	if (store_has_chunk(catalog_store(), hash)) {
		metrics_push_chunk(0, "present");
		http_reply_json(r, 200, json_pack("{s:s,s:b}", "hash", hash,
		    "stored", 0));
		return;
	}
	rc = db_push_chunk_find(hash, &length, &stored, alg, sizeof(alg));
	if (rc == DB_NOTFOUND) {
		http_reply_error(r, 409, "no pending push needs chunk %s; post "
		    "the image's manifest first", hash);
		return;
	}
	if (rc != DB_OK || hash_alg_from_name(alg, &a) != 0 || length == 0 ||
	    length > CHUNK_SIZE_MAX) {
		http_reply_error(r, 500, "cannot look up chunk %s", hash);
		return;
	}
	/* A patch needs its base here, and the size to compress back to. */
	if (base != NULL && (stored == 0 || !store_has_chunk(catalog_store(),
	    base))) {
		metrics_push_chunk(0, "rejected");
		http_reply_json(r, 409, json_pack("{s:s,s:b}", "error",
		    stored == 0 ?
		    "this push cannot take patches (post its manifest again)" :
		    "the patch's base chunk is not on this rack",
		    "send_whole", 1));
		return;
	}
	if ((s = spool_new(r, "push")) == NULL)
		return;
	snprintf(s->hash, sizeof(s->hash), "%s", hash);
	snprintf(s->base, sizeof(s->base), "%s", base ? base : "");
	s->length = length;
	s->stored = stored;
	s->level = (int)level;
	s->alg = a;
	s->added = added;
	s->tag = tag;
	spool_take(r, s, chunk_compress_bound((size_t)length), chunk_done);
}

/* ---- POST .../commit ---------------------------------------------------- */

/* {"error": ..., "missing": [...]} of a commit that lacks chunks. */
static json_t *
missing_body(const struct manifest *m, const struct chunkset *cs)
{
	char msg[ERR_MAX], hex[HASH_HEX_LEN + 1];
	size_t shown = 0, used;

	used = (size_t)snprintf(msg, sizeof(msg), "image %s:%s: %zu of %zu "
	    "chunks missing:", m->name, m->version, cs->nmissing, cs->n);
	for (size_t i = 0; i < cs->n && shown < PUSH_MISSING_SHOWN; i++) {
		if (!cs->e[i].missing)
			continue;
		hash_to_hex(cs->e[i].hash, hex);
		if (used < sizeof(msg))
			used += (size_t)snprintf(msg + used, sizeof(msg) - used,
			    " %.16s", hex);
		shown++;
	}
	if (cs->nmissing > shown && used < sizeof(msg))
		snprintf(msg + used, sizeof(msg) - used, " ...");
	return json_pack("{s:s,s:o}", "error", msg, "missing",
	    chunkset_missing(cs));
}

/*
 * A capture's agent posts its manifest before it compresses anything, so
 * each chunk's stored size is only a bound (its length); the store holds
 * every chunk now: the sizes written are those of its files, which is
 * what a node or rackctl pull is sent. 0, or -1 with err.
 */
static int
stored_sizes(struct manifest *m, char *err, size_t errlen)
{
	char hex[HASH_HEX_LEN + 1];
	uint64_t size;

	for (size_t i = 0; i < m->nchunks; i++) {
		struct manifest_chunk *c = &m->chunks[i];
		hash_to_hex(c->hash, hex);
		if (store_chunk_size(catalog_store(), hex, &size) != 0 ||
		    size == 0 || size > chunk_compress_bound(c->length)) {
			snprintf(err, errlen, "chunk %s: cannot tell its "
			    "stored size", hex);
			return -1;
		}
		c->stored = (uint32_t)size;
	}
	return 0;
}

int
push_commit_pending(const char *name, const char *version, int flags,
    json_t **body, char *err, size_t errlen)
{
	char *text = NULL;
	struct manifest *m = NULL;
	struct chunkset cs = { 0 };
	int rc, status = 500;

	*body = NULL;
	catalog_lock();
	rc = db_push_manifest(name, version, &text);
	if (rc == DB_NOTFOUND) {
		if (db_image_exists(name, version)) {
			*body = json_pack("{s:s,s:s,s:s}", "name", name,
			    "version", version, "state", "committed");
			status = 200;
		} else {
			snprintf(err, errlen, "no pending push of %s:%s; post "
			    "its manifest first", name, version);
			status = 404;
		}
		goto out;
	}
	if (rc != DB_OK) {
		snprintf(err, errlen, "database error");
		goto out;
	}
	if (manifest_parse(text, strlen(text), &m, err, errlen) != 0) {
		snprintf(err, errlen, "the pending manifest cannot be read");
		goto out;
	}
	/* Again here: trusted_keys may have changed since the manifest came.
	 * A capture of this rack is taken unsigned (PUSH_CAPTURED). */
	if (!(flags & PUSH_CAPTURED) &&
	    (status = push_trust(m, err, errlen)) != 0)
		goto out;
	status = 500;
	if (chunkset_make(m, &cs) != 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (cs.nmissing > 0) {
		*body = missing_body(m, &cs);
		snprintf(err, errlen, "image %s:%s: %zu of %zu chunks missing",
		    name, version, cs.nmissing, cs.n);
		status = 409;
		goto out;
	}
	if ((flags & PUSH_CAPTURED) && stored_sizes(m, err, errlen) != 0)
		goto out;
	if (store_put_manifest(catalog_store(), m, err, errlen) != 0) {
		status = errno == EEXIST ? 409 : 500;
		goto out;
	}
	if (catalog_add_flags(name, version, flags & PUSH_CAPTURED) != 0) {
		snprintf(err, errlen, "image %s:%s is stored but could not be "
		    "indexed (see the log)", name, version);
		goto out;
	}
	db_push_remove(name, version);
	log_info("image %s:%s committed (%zu chunks)", name, version, cs.n);
	if ((*body = db_image_get(name)) == NULL)
		*body = json_object();
	json_object_set_new(*body, "version", json_string(version));
	json_object_set_new(*body, "state", json_string("committed"));
	status = 201;
out:
	catalog_unlock();
	free(cs.e);
	free(text);
	manifest_free(m);
	return status;
}

static void
commit_run(struct req *r, void *ctx)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char err[ERR_MAX];
	json_t *body;
	int status;

	if (name_version(r, name, version) != 0)
		return;
	status = push_commit_pending(name, version, 0, &body, err,
	    sizeof(err));
	if (body != NULL)
		http_reply_json(r, status, body);
	else
		http_reply_error(r, status, "%s", err);
}

/* ---- DELETE /api/v1/images/{name}/versions/{version} ------------------ */

static void
delete_run(struct req *r, void *ctx)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char why[ERR_MAX];
	struct catalog_freed f;

	if (name_version(r, name, version) != 0)
		return;
	switch (catalog_delete(name, version, &f, why, sizeof(why))) {
	case CATALOG_OK:
		http_reply_json(r, 200, json_pack("{s:s,s:s,s:b,s:b,s:I,s:I}",
		    "name", name, "version", version, "image", f.image,
		    "pending", f.pending, "chunks_freed", (json_int_t)f.chunks,
		    "bytes_freed", (json_int_t)f.bytes));
		break;
	case CATALOG_NO_IMAGE:
		http_reply_error(r, 404, "%s", why);
		break;
	case CATALOG_IN_USE:
		http_reply_error(r, 409, "%s", why);
		break;
	default:
		http_reply_error(r, 500, "%s", why);
		break;
	}
}

/* Both look at every chunk of an image: on a work thread. */
void
push_commit(struct req *r)
{
	http_defer(r, commit_run, NULL);
}

void
push_delete(struct req *r)
{
	http_defer(r, delete_run, NULL);
}

/* ---- pending pushes nobody finishes -------------------------------------- */

/* A push's chunks are kept from garbage collection until it is committed
 * or deleted; one that nobody resumes for push_expiry is dropped (a rerun
 * of rackctl push posts its manifest again and starts afresh). */
static struct work expire_work;
static int expire_busy;		/* the sweep is queued or running */

static void
expire_run(struct work *w)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	struct catalog_freed f;
	int64_t idle;

	conf_rdlock();
	idle = (int64_t)conf.push_expiry * 1000;
	conf_unlock();
	for (int i = 0; i < PUSH_EXPIRE_BATCH; i++) {
		memset(&f, 0, sizeof(f));
		catalog_lock();
		if (db_push_expired(idle, name, version,
		    sizeof(name)) != DB_OK) {
			catalog_unlock();
			break;
		}
		if (catalog_push_drop(name, version, &f) != 0) {
			catalog_unlock();
			log_warnx("push %s:%s: cannot expire it "
			    "(database error)", name, version);
			break;
		}
		catalog_unlock();
		log_info("push %s:%s expired: no chunk or manifest for %ds; "
		    "%zu chunks (%llu bytes) freed", name, version,
		    (int)(idle / 1000), f.chunks, (unsigned long long)f.bytes);
	}
	__atomic_store_n(&expire_busy, 0, __ATOMIC_RELEASE);
}

void
push_expire(void)
{
	if (__atomic_exchange_n(&expire_busy, 1, __ATOMIC_ACQ_REL))
		return;
	expire_work.fn = expire_run;
	work_submit(&expire_work);
}

/* ---- GET /api/v1/pushes ------------------------------------------------- */

void
push_list(struct req *r)
{
	http_reply_json(r, 200, db_pushes_list());
}
