/*
 * catalog.c — the image store (STATE_DIR/store, images/ library), its
 * index in the database, which images are trusted, and what leaves the
 * store. At start and on SIGHUP every manifest in the store is indexed,
 * and index rows whose manifest is gone are dropped, so that `rackctl
 * image import --store STATE_DIR/store` followed by SIGHUP makes an image
 * appear.
 *
 * Trust has one rule and one place: with trusted_keys set, only a manifest
 * signed by one of those keys is indexed, taken from a push, or given to
 * a node (catalog_trust). The keys are loaded at start and on SIGHUP, not
 * at each use; a check that finds trusted_keys changed since they were
 * loaded loads them first, so that no request sees the new option with
 * the old keys.
 *
 * Removal is here too: an image (refused while a job uses it), a pending
 * push, and the chunks nothing else needs (garbage collection). Chunks
 * enter the store only verified; catalog_lock serialises whatever decides
 * on the set of chunks (a push's manifest and commit, a delete, an
 * expiry), so garbage collection never takes a chunk that an image or a
 * pending push needs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"
#include "images/hash.h"
#include "images/manifest.h"
#include "images/sign.h"
#include "images/store.h"

static struct store *store;
static pthread_mutex_t scan_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t chunks_lock = PTHREAD_MUTEX_INITIALIZER;

/* trusted_keys as loaded, and the option they were loaded from. */
static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sign_keys keys;
static struct strlist keys_from;
static int keys_loaded;
static char keys_err[ERR_MAX];		/* "" once they are loaded */

int
catalog_open(char *err, size_t errlen)
{
	char dir[PATH_MAX_RACKD];

	if (hash_lib_init() != 0) {
		snprintf(err, errlen, "hash library failed to start");
		return -1;
	}
	if (statedir_path(dir, sizeof(dir), "store") != 0) {
		snprintf(err, errlen, "state dir path too long");
		return -1;
	}
	if (store_open(dir, &store, err, errlen) != 0)
		return -1;
	return 0;	/* the keys: catalog_scan, or the first trust check */
}

void
catalog_close(void)
{
	if (store != NULL)
		store_close(store);
	store = NULL;
	pthread_mutex_lock(&keys_lock);
	strlist_clear(&keys_from);
	keys_loaded = 0;
	pthread_mutex_unlock(&keys_lock);
}

struct store *
catalog_store(void)
{
	return store;
}

int
catalog_chunk_path(const char *hash, char *buf, size_t len)
{
	return store_chunk_path(store, hash, buf, len);
}

/* ---- trust ------------------------------------------------------------ */

/* Load the keys of trusted_keys. Call with keys_lock held and the
 * configuration read-locked. */
static int
keys_load_locked(void)
{
	uint8_t pk[SIGN_PUBLIC_LEN];
	char err[ERR_MAX];

	strlist_clear(&keys_from);
	memset(&keys, 0, sizeof(keys));
	keys_loaded = 1;
	keys_err[0] = '\0';
	for (int i = 0; i < conf.trusted_keys.n; i++) {
		if ((keys_from.v[i] = strdup(conf.trusted_keys.v[i])) == NULL) {
			snprintf(keys_err, sizeof(keys_err), "out of memory");
			break;
		}
		keys_from.n++;
		if (keys_err[0] != '\0')
			continue;
		if (sign_load_public(conf.trusted_keys.v[i], pk, err,
		    sizeof(err)) != 0)
			snprintf(keys_err, sizeof(keys_err),
			    "trusted_keys: %.*s", (int)sizeof(keys_err) - 16,
			    err);
		else if (sign_keys_add(&keys, pk) != 0)
			snprintf(keys_err, sizeof(keys_err),
			    "trusted_keys: more than %d keys", SIGN_KEYS_MAX);
	}
	if (keys_err[0] != '\0') {
		log_warnx("%s; no image is trusted until it is fixed",
		    keys_err);
		return -1;
	}
	return 0;
}

int
catalog_keys_load(void)
{
	int rc;

	pthread_mutex_lock(&keys_lock);
	rc = keys_load_locked();
	pthread_mutex_unlock(&keys_lock);
	return rc;
}

enum catalog_result
catalog_trust(const struct manifest *m, char *why, size_t len)
{
	struct sign_keys k;
	int rc;

	pthread_mutex_lock(&keys_lock);
	if (!keys_loaded || !strlist_equal(&keys_from, &conf.trusted_keys))
		keys_load_locked();
	if (keys_err[0] != '\0') {
		snprintf(why, len, "%s", keys_err);
		pthread_mutex_unlock(&keys_lock);
		return CATALOG_ERROR;
	}
	k = keys;
	pthread_mutex_unlock(&keys_lock);
	if (k.n == 0)
		return CATALOG_OK;
	switch ((rc = sign_verify_manifest(m, &k, why, len))) {
	case SIGN_OK:
		return CATALOG_OK;
	case SIGN_UNSIGNED:
		return CATALOG_UNSIGNED;
	case SIGN_ERROR:
		return CATALOG_ERROR;
	default:
		return CATALOG_UNTRUSTED;
	}
}

enum index_result {
	INDEX_ADDED,
	INDEX_PRESENT,		/* indexed already */
	INDEX_FAILED,		/* unreadable, untrusted, database; logged */
};

/* Add one manifest to the index. */
static enum index_result
index_manifest(const char *name, const char *version, int captured)
{
	struct manifest *m;
	struct manifest_stats stats;
	struct db_image im;
	uint64_t *offsets = NULL, *lengths = NULL;
	char (*hex)[HASH_HEX_LEN + 1] = NULL;
	const char **hashes = NULL;
	char err[ERR_MAX];
	enum index_result rc = INDEX_FAILED;

	if (db_image_exists(name, version))
		return INDEX_PRESENT;
	if (store_load_manifest(store, name, version, &m, err,
	    sizeof(err)) != 0) {
		log_warnx("image %s:%s: %s; not indexed", name, version, err);
		return INDEX_FAILED;
	}
	/* A capture of this rack is indexed unsigned: catalog_image_trusted
	 * still keeps it from jobs while trusted_keys is set. */
	if (!captured && catalog_trust(m, err, sizeof(err)) != CATALOG_OK) {
		log_warnx("image %s:%s: %s; not indexed", name, version, err);
		manifest_free(m);
		return INDEX_FAILED;
	}
	manifest_stats(m, &stats);
	if (m->nchunks > 0) {
		offsets = calloc(m->nchunks, sizeof(*offsets));
		lengths = calloc(m->nchunks, sizeof(*lengths));
		hex = calloc(m->nchunks, sizeof(*hex));
		hashes = calloc(m->nchunks, sizeof(*hashes));
		if (!offsets || !lengths || !hex || !hashes)
			goto out;
	}
	for (size_t i = 0; i < m->nchunks; i++) {
		offsets[i] = m->chunks[i].offset;
		lengths[i] = m->chunks[i].length;
		hash_to_hex(m->chunks[i].hash, hex[i]);
		hashes[i] = hex[i];
	}
	im = (struct db_image){
		.name = m->name, .version = m->version,
		.kind = image_kind_name(m->kind),
		.hash = hash_alg_name(m->hash),
		.size = m->size, .chunk_size = m->chunk_size,
		.stored = stats.stored_bytes, .is_signed = m->signature != NULL,
		.nchunks = m->nchunks, .offsets = offsets, .lengths = lengths,
		.hashes = hashes,
	};
	if (db_image_add(&im) == DB_OK) {
		log_info("image %s:%s indexed (%zu chunks)", name, version,
		    m->nchunks);
		rc = INDEX_ADDED;
	}
out:
	free(offsets);
	free(lengths);
	free(hex);
	free(hashes);
	manifest_free(m);
	return rc;
}

int
catalog_add(const char *name, const char *version)
{
	return catalog_add_flags(name, version, 0);
}

int
catalog_add_flags(const char *name, const char *version, int captured)
{
	enum index_result rc;

	pthread_mutex_lock(&scan_lock);
	rc = index_manifest(name, version, captured);
	pthread_mutex_unlock(&scan_lock);
	if (rc == INDEX_ADDED)
		events_publish("image", db_image_get(name));
	return rc == INDEX_FAILED ? -1 : 0;
}

static int
scan_one(const char *name, const char *version, void *arg)
{
	int *added = arg;

	if (index_manifest(name, version, 0) == INDEX_ADDED) {
		(*added)++;
		events_publish("image", db_image_get(name));
	}
	return 0;
}

/* Drop index rows whose manifest left the store. */
static void
prune(void)
{
	json_t *list = db_images_list(), *img, *ver;
	size_t i, j;

	json_array_foreach(list, i, img) {
		const char *name =
		    json_string_value(json_object_get(img, "name"));
		json_array_foreach(json_object_get(img, "versions"), j, ver) {
			const char *v = json_string_value(json_object_get(ver,
			    "version"));
			if (name && v && !store_has_manifest(store, name, v) &&
			    db_image_remove(name, v) == DB_OK) {
				log_info("image %s:%s left the store", name, v);
				events_publish("image",
				    json_pack("{s:s,s:s,s:b}", "name", name,
				    "version", v, "removed", 1));
			}
		}
	}
	json_decref(list);
}

int
catalog_scan(void)
{
	char err[ERR_MAX];
	int added = 0;

	catalog_keys_load();
	pthread_mutex_lock(&scan_lock);
	if (store_list_manifests(store, scan_one, &added, err,
	    sizeof(err)) != 0)
		log_warnx("image store: %s", err);
	prune();
	pthread_mutex_unlock(&scan_lock);
	return added;
}

enum catalog_result
catalog_image_trusted(const char *ref, char *why, size_t len)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char resolved[IMAGE_NAME_MAX + 1], err[ERR_MAX];
	struct manifest *m;
	int rc;

	if (conf.trusted_keys.n == 0)
		return CATALOG_OK;
	if (ref == NULL || image_ref_parse(ref, name, version, err,
	    sizeof(err)) != 0 ||
	    db_image_resolve(name, version, resolved, sizeof(resolved),
	    NULL) != DB_OK ||
	    store_load_manifest(store, name, resolved, &m, err,
	    sizeof(err)) != 0) {
		snprintf(why, len, "image %s is not on this rack",
		    ref ? ref : "");
		return CATALOG_NO_IMAGE;
	}
	rc = catalog_trust(m, err, sizeof(err));
	manifest_free(m);
	if (rc != CATALOG_OK)
		snprintf(why, len, "image %s is not signed by a trusted key "
		    "(trusted_keys): %s", ref, err);
	return rc;
}

int
catalog_image_kind(const char *ref, char *kind, size_t len)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char why[ERR_MAX];
	json_t *img, *v;
	size_t i;
	int rc = -1;

	if (ref == NULL || image_ref_parse(ref, name, version, why,
	    sizeof(why)) != 0 || (img = db_image_get(name)) == NULL)
		return -1;
	/* versions come newest first, as db_image_resolve picks them */
	json_array_foreach(json_object_get(img, "versions"), i, v) {
		const char *ver = json_string_value(json_object_get(v,
		    "version"));
		const char *k = json_string_value(json_object_get(v, "kind"));
		if (k != NULL && ver != NULL && (version[0] == '\0' ||
		    strcmp(ver, version) == 0)) {
			snprintf(kind, len, "%s", k);
			rc = 0;
			break;
		}
	}
	json_decref(img);
	return rc;
}

json_t *
catalog_manifest_json(const char *ref)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char err[ERR_MAX];
	struct manifest *m;
	json_t *o;
	char *text;

	if (ref == NULL || image_ref_parse(ref, name, version, err,
	    sizeof(err)) != 0 || version[0] == '\0')
		return NULL;
	if (store_load_manifest(store, name, version, &m, err,
	    sizeof(err)) != 0) {
		log_warnx("image %s: %s", ref, err);
		return NULL;
	}
	/* trusted_keys may have been set after the image was indexed. */
	if (catalog_trust(m, err, sizeof(err)) != CATALOG_OK) {
		log_warnx("image %s: %s; not given to nodes", ref, err);
		manifest_free(m);
		return NULL;
	}
	text = manifest_to_json(m);
	manifest_free(m);
	if (text == NULL)
		return NULL;
	o = json_loads(text, 0, NULL);
	free(text);
	return o;
}

/* ---- removal and garbage collection ------------------------------------ */

void
catalog_lock(void)
{
	pthread_mutex_lock(&chunks_lock);
}

void
catalog_unlock(void)
{
	pthread_mutex_unlock(&chunks_lock);
}

/* Removes the chunks listed (hashes) from the store. */
static void
collect(json_t *hashes, struct catalog_freed *freed)
{
	char err[ERR_MAX];
	json_t *h;
	size_t i;
	uint64_t size;

	json_array_foreach(hashes, i, h) {
		const char *hex = json_string_value(h);
		if (hex == NULL || store_chunk_size(store, hex, &size) != 0)
			continue;
		if (store_remove_chunk(store, hex, err, sizeof(err)) != 0) {
			log_warnx("garbage collection: %s", err);
			continue;
		}
		freed->chunks++;
		freed->bytes += size;
	}
}

int
catalog_push_drop(const char *name, const char *version,
    struct catalog_freed *freed)
{
	json_t *pend;

	if ((pend = db_push_unshared_chunks(name, version)) == NULL ||
	    db_push_remove(name, version) != DB_OK) {
		json_decref(pend);
		return -1;
	}
	collect(pend, freed);
	json_decref(pend);
	return 0;
}

enum catalog_result
catalog_delete(const char *name, const char *version,
    struct catalog_freed *freed, char *why, size_t len)
{
	char err[ERR_MAX], *text = NULL;
	json_t *img = NULL;
	int rc;
	enum catalog_result res = CATALOG_ERROR;

	memset(freed, 0, sizeof(*freed));
	catalog_lock();
	freed->image = db_image_exists(name, version) ||
	    store_has_manifest(store, name, version);
	rc = db_push_manifest(name, version, &text);
	free(text);
	freed->pending = rc == DB_OK;
	if (!freed->image && !freed->pending) {
		snprintf(why, len, "%s", rc == DB_NOTFOUND ?
		    "no such image version" : "database error");
		res = rc == DB_NOTFOUND ? CATALOG_NO_IMAGE : CATALOG_ERROR;
		goto out;
	}
	if (freed->image) {
		rc = db_image_busy(name, version, err, sizeof(err));
		if (rc != 0) {
			if (rc == 1) {
				snprintf(why, len, "image %s:%s is in use "
				    "by %s", name, version, err);
				res = CATALOG_IN_USE;
			} else
				snprintf(why, len, "database error");
			goto out;
		}
		/* What only this image needs, decided before it goes. */
		if ((img = db_image_unshared_chunks(name, version)) == NULL) {
			snprintf(why, len, "database error");
			goto out;
		}
		if (store_has_manifest(store, name, version) &&
		    store_remove_manifest(store, name, version, err,
		    sizeof(err)) != 0) {
			snprintf(why, len, "%s", err);
			goto out;
		}
		rc = db_image_remove(name, version);
		if (rc != DB_OK && rc != DB_NOTFOUND) {
			snprintf(why, len, "database error");
			goto out;
		}
		events_publish("image", json_pack("{s:s,s:s,s:b}", "name",
		    name, "version", version, "removed", 1));
	}
	if (freed->pending && catalog_push_drop(name, version, freed) != 0) {
		snprintf(why, len, "database error");
		goto out;
	}
	collect(img, freed);
	log_info("image %s:%s deleted%s; %zu chunks (%llu bytes) freed", name,
	    version, freed->pending ? " (with its pending push)" : "",
	    freed->chunks, (unsigned long long)freed->bytes);
	res = CATALOG_OK;
out:
	catalog_unlock();
	json_decref(img);
	return res;
}
