/*
 * catalog.c — the image store (STATE_DIR/store, images/ library) and its
 * index in the database. At start and on SIGHUP every manifest in the store
 * is indexed, and index rows whose manifest is gone are dropped, so that
 * `rackctl image import --store STATE_DIR/store` followed by SIGHUP makes
 * an image appear.
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
	return store_open(dir, &store, err, errlen);
}

void
catalog_close(void)
{
	if (store != NULL)
		store_close(store);
	store = NULL;
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

/* With trusted_keys configured, only images signed by one of them. */
static int
signature_ok(const struct manifest *m, char *err, size_t errlen)
{
	struct sign_keys keys;
	int n = push_trusted_keys(&keys, err, errlen);

	return n == 0 || (n > 0 &&
	    sign_verify_manifest(m, &keys, err, errlen) == SIGN_OK);
}

/* Add one manifest to the index. 1 added, 0 already there, -1 error. */
static int
index_manifest(const char *name, const char *version)
{
	struct manifest *m;
	struct manifest_stats stats;
	struct db_image im;
	uint64_t *offsets = NULL, *lengths = NULL;
	char (*hex)[HASH_HEX_LEN + 1] = NULL;
	const char **hashes = NULL;
	char err[256];
	int rc = -1;

	if (db_image_exists(name, version))
		return 0;
	if (store_load_manifest(store, name, version, &m, err,
	    sizeof(err)) != 0) {
		log_warnx("image %s:%s: %s; not indexed", name, version, err);
		return -1;
	}
	if (!signature_ok(m, err, sizeof(err))) {
		log_warnx("image %s:%s: %s; not indexed", name, version, err);
		manifest_free(m);
		return -1;
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
		.kind = image_kind_name(m->kind), .hash = hash_alg_name(m->hash),
		.size = m->size, .chunk_size = m->chunk_size,
		.stored = stats.stored_bytes, .is_signed = m->signature != NULL,
		.nchunks = m->nchunks, .offsets = offsets, .lengths = lengths,
		.hashes = hashes,
	};
	if (db_image_add(&im) == DB_OK) {
		log_info("image %s:%s indexed (%zu chunks)", name, version,
		    m->nchunks);
		rc = 1;
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
	int rc;

	pthread_mutex_lock(&scan_lock);
	rc = index_manifest(name, version);
	pthread_mutex_unlock(&scan_lock);
	if (rc == 1)
		events_publish("image", db_image_get(name));
	return rc < 0 ? -1 : 0;
}

static int
scan_one(const char *name, const char *version, void *arg)
{
	int *added = arg;

	if (index_manifest(name, version) == 1) {
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
		const char *name = json_string_value(json_object_get(img, "name"));
		json_array_foreach(json_object_get(img, "versions"), j, ver) {
			const char *v = json_string_value(json_object_get(ver,
			    "version"));
			if (name && v && !store_has_manifest(store, name, v) &&
			    db_image_remove(name, v) == DB_OK) {
				log_info("image %s:%s left the store", name, v);
				events_publish("image", json_pack("{s:s,s:s,s:b}",
				    "name", name, "version", v, "removed", 1));
			}
		}
	}
	json_decref(list);
}

int
catalog_scan(void)
{
	char err[256];
	int added = 0;

	pthread_mutex_lock(&scan_lock);
	if (store_list_manifests(store, scan_one, &added, err,
	    sizeof(err)) != 0)
		log_warnx("image store: %s", err);
	prune();
	pthread_mutex_unlock(&scan_lock);
	return added;
}

int
catalog_image_trusted(const char *ref, char *why, size_t len)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1], err[256];
	char resolved[IMAGE_NAME_MAX + 1];
	struct manifest *m;
	int ok;

	if (conf.trusted_keys.n == 0)
		return 1;
	if (ref == NULL || image_ref_parse(ref, name, version, err,
	    sizeof(err)) != 0 ||
	    db_image_resolve(name, version, resolved, sizeof(resolved),
	    NULL) != DB_OK ||
	    store_load_manifest(store, name, resolved, &m, err,
	    sizeof(err)) != 0) {
		snprintf(why, len, "image %s is not on this rack", ref ? ref : "");
		return -1;
	}
	ok = signature_ok(m, err, sizeof(err));
	manifest_free(m);
	if (!ok)
		snprintf(why, len, "image %s is not signed by a trusted key "
		    "(trusted_keys): %s", ref, err);
	return ok;
}

json_t *
catalog_manifest_json(const char *ref)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1], err[256];
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
	if (!signature_ok(m, err, sizeof(err))) {
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
