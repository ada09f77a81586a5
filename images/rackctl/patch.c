/* images/rackctl/patch.c — chunks sent as patches by rackctl push.
 *
 * When a rack holds an earlier version of the image being pushed, a chunk
 * it lacks is often the chunk at the same offset of that version with a
 * few bytes edited (a file system's metadata, a log, a configuration
 * file). Such a chunk goes as a zstd patch against the old one — the new
 * content compressed with the old as its prefix — which is a few bytes
 * instead of the whole compressed chunk. The rack rebuilds the chunk,
 * checks its hash, compresses it again at the store's level and keeps it
 * only if that gives the manifest's size (store_adopt_patch); otherwise
 * the chunk is sent whole.
 */
#include "images/rackctl/rackctl.h"

#include <stdlib.h>
#include <string.h>

#include "images/chunk.h"
#include "images/hash.h"
#include "images/manifest.h"
#include "images/store.h"

struct patch_base {
	struct manifest *old[PATCH_BASES_MAX]; /* versions the rack holds */
	size_t nold;
	const struct manifest *m;
	size_t *by_hash; /* indices of m's chunks, sorted by hash */
	struct chunk_codec *codec;
	int level; /* the store's level, for the rack; 0 unknown */
	bool level_given;
};

static int
cmp_by_hash(const void *a, const void *b, void *arg)
{
	const struct manifest *m = arg;
	return memcmp(m->chunks[*(const size_t *)a].hash,
	    m->chunks[*(const size_t *)b].hash, HASH_LEN);
}

void
patch_base_free(struct patch_base *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nold; i++)
		manifest_free(b->old[i]);
	free(b->by_hash);
	chunk_codec_free(b->codec);
	free(b);
}

/* The newest versions of m's image the rack lists that the store has too,
 * of the same kind and chunk size, into b->old. */
static void
rack_versions(struct patch_base *b, struct store *st, const struct rack *rack,
    const struct manifest *m, int retries)
{
	char path[URL_PATH_MAX], e[RACKCTL_ERR_MAX];
	struct http_reply r;
	struct manifest *old;
	json_t *o, *v;
	size_t i;

	snprintf(path, sizeof path, "/api/v1/images/%s", m->name);
	if (rackctl_request(rack, "GET", path, NULL, NULL, 0, retries, &r) <
		0 ||
	    r.status != 200) {
		rackctl_reply_free(&r);
		return;
	}
	o = rackctl_reply_json(&r);
	rackctl_reply_free(&r);
	json_array_foreach(json_object_get(o, "versions"), i, v)
	{ /* newest first */
		const char *ver =
		    json_string_value(json_object_get(v, "version"));
		if (b->nold == PATCH_BASES_MAX)
			break;
		if (!ver || strcmp(ver, m->version) == 0 ||
		    !image_version_valid(ver) ||
		    !store_has_manifest(st, m->name, ver) ||
		    store_load_manifest(st, m->name, ver, &old, e, sizeof e) <
			0)
			continue;
		if (old->kind == m->kind && old->chunk_size == m->chunk_size)
			b->old[b->nold++] = old;
		else
			manifest_free(old);
	}
	json_decref(o);
}

struct patch_base *
patch_base_find(struct store *st, const struct rack *rack,
    const struct manifest *m, int level, int retries)
{
	struct patch_base *b = calloc(1, sizeof *b);

	if (b && m->nchunks > 0)
		rack_versions(b, st, rack, m, retries);
	if (!b || b->nold == 0 ||
	    !(b->by_hash = calloc(m->nchunks, sizeof *b->by_hash)) ||
	    !(b->codec = chunk_codec_new())) {
		patch_base_free(b);
		return NULL;
	}
	b->m = m;
	b->level = level;
	b->level_given = level != 0;
	for (size_t i = 0; i < m->nchunks; i++)
		b->by_hash[i] = i;
	qsort_r(
	    b->by_hash, m->nchunks, sizeof *b->by_hash, cmp_by_hash, (void *)m);
	return b;
}

int
patch_base_level(const struct patch_base *b)
{
	return b->level ? b->level : CHUNK_LEVEL_DEFAULT;
}

/* The level the store compressed a chunk at: the one that gives back its
 * stored size (the default first, then the others). Only a chunk that
 * compresses tells; an incompressible one is the same at every level. */
static void
find_level(struct patch_base *b, const void *raw, size_t rawlen,
    uint64_t stored, void *buf)
{
	char e[RACKCTL_ERR_MAX];
	size_t n;

	if (stored * 10 > (uint64_t)rawlen * 9)
		return;
	for (int i = 0; i <= CHUNK_LEVEL_MAX; i++) {
		int l = i == 0 ? CHUNK_LEVEL_DEFAULT : i;
		if ((i == 0 || l != CHUNK_LEVEL_DEFAULT) &&
		    chunk_compress(b->codec, raw, rawlen, l, buf,
			chunk_compress_bound(rawlen), &n, e, sizeof e) == 0 &&
		    n == stored) {
			b->level = l;
			return;
		}
	}
	b->level = -1; /* none: patches would come back; do not send them */
}

/* The old version's chunk at offset, or NULL. Chunks are in offset order. */
static const struct manifest_chunk *
old_at(const struct manifest *old, uint64_t offset)
{
	size_t lo = 0, hi = old->nchunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (old->chunks[mid].offset == offset)
			return &old->chunks[mid];
		if (old->chunks[mid].offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Enough blocks of a and b the same at the same place? */
static bool
alike(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen, same = 0, blocks = 0;

	for (size_t off = 0; off < n; off += PATCH_BLOCK, blocks++) {
		size_t len = n - off < PATCH_BLOCK ? n - off : PATCH_BLOCK;
		same += memcmp(a + off, b + off, len) == 0;
	}
	return blocks > 0 && same * 100 >= blocks * PATCH_SAME_PCT;
}

enum patch_result
patch_make(struct patch_base *b, struct store *st, const char *hex,
    uint64_t stored, void **body, size_t *len, char base_hex[HASH_HEX_LEN + 1])
{
	uint8_t want[HASH_LEN], tried[PATCH_BASES_MAX][HASH_LEN];
	const struct manifest_chunk *c = NULL;
	void *raw = NULL, *base = NULL, *out = NULL;
	size_t lo = 0, hi = b->m->nchunks, rawlen = 0, baselen, outlen,
	       ntried = 0;
	char e[RACKCTL_ERR_MAX];
	enum patch_result rc = PATCH_WHOLE;

	*body = NULL;
	if (hash_from_hex(hex, want) < 0)
		return PATCH_WHOLE;
	/* Where the chunk is in m (its first place will do). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(b->m->chunks[b->by_hash[mid]].hash, want, HASH_LEN) <
		    0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == b->m->nchunks ||
	    memcmp(b->m->chunks[b->by_hash[lo]].hash, want, HASH_LEN) != 0)
		return PATCH_WHOLE;
	c = &b->m->chunks[b->by_hash[lo]];
	/* The chunk at that offset in each version the rack holds, newest
	 * first, until a patch is worth sending. */
	for (size_t v = 0; v < b->nold && rc == PATCH_WHOLE; v++) {
		const struct manifest_chunk *oc = old_at(b->old[v], c->offset);
		bool seen = false;
		if (!oc)
			continue;
		for (size_t k = 0; k < ntried; k++)
			seen |= memcmp(tried[k], oc->hash, HASH_LEN) == 0;
		if (seen)
			continue;
		memcpy(tried[ntried++], oc->hash, HASH_LEN);
		hash_to_hex(oc->hash, base_hex);
		free(base);
		if ((!raw &&
			store_read_content(
			    st, hex, &raw, &rawlen, e, sizeof e) < 0) ||
		    (!out && !(out = malloc(chunk_compress_bound(rawlen))))) {
			rc = PATCH_FAILED;
			break;
		}
		if (!b->level_given && b->level == 0)
			find_level(b, raw, rawlen, stored, out);
		if (b->level < 0)
			break;
		if (store_read_content(
			st, base_hex, &base, &baselen, e, sizeof e) < 0) {
			rc = PATCH_FAILED;
			break;
		}
		if (!alike(raw, rawlen, base, baselen))
			continue;
		if (chunk_patch_make(b->codec, base, baselen, raw, rawlen,
			PATCH_LEVEL, out, chunk_compress_bound(rawlen), &outlen,
			e, sizeof e) < 0) {
			rc = PATCH_FAILED;
			break;
		}
		if (outlen * 100 <= stored * PATCH_WORTH_PCT) {
			*body = out;
			*len = outlen;
			out = NULL;
			rc = PATCH_MADE;
		}
	}
	free(raw);
	free(base);
	free(out);
	return rc;
}
