/* images/rackctl/pull.c — "rackctl pull RACK NAME:VERSION --store DIR": an
 * image of a rack (one captured there, typically) into a central store,
 * the store format of import and push (images/store.c):
 *
 *   GET /api/v1/images/NAME/versions/VERSION   the manifest (read access:
 *        the API token)
 *   GET /chunks/HASH                           each chunk the store lacks
 *
 * Every chunk is checked (one zstd frame of the manifest's length hashing
 * to its name) before the store takes it, and stored as it comes, so a
 * pull cut short goes on where it stopped when run again; the manifest is
 * written last: the image appears only whole. */
#include "images/rackctl/rackctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "images/chunk.h"
#include "images/manifest.h"
#include "images/store.h"

#define PULL_LINE_INTERVAL	1.0	/* seconds between progress lines */

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: rackctl pull RACK NAME:VERSION --store DIR [OPTIONS]\n"
	    "\n"
	    "Brings an image from a rack (one captured there from a node's\n"
	    "disk, say) into the central store DIR: the manifest, then only\n"
	    "the chunks DIR lacks, each checked against its hash. Run again\n"
	    "after an interruption, it fetches only what is still missing.\n"
	    "The API token comes from RACKD_TOKEN or --token-file FILE.\n"
	    "\n"
	    "  -s, --store DIR        the central store (made if missing)\n"
	    "  -t, --token-file FILE  the API token (first line of FILE)\n"
	    "  -q, --quiet            no progress lines\n"
	    "  -h, --help             show this help\n");
}

struct pull {
	struct rack	 rk;
	struct store	*st;
	struct manifest	*m;
	bool		 quiet;
	uint64_t	 fetched, fetched_bytes, had, distinct;
	double		 t0, last;
};

/* The rack's manifest, parsed; its text in *text. 0, or -1 (printed). */
static int
get_manifest(struct pull *p, const char *name, const char *version,
    char **text)
{
	char path[URL_PATH_MAX], e[RACKCTL_ERR_MAX];
	struct http_reply r;

	snprintf(path, sizeof path, "/api/v1/images/%s/versions/%s", name,
	    version);
	if (rackctl_request(&p->rk, "GET", path, NULL, NULL, 0,
		RACKCTL_RETRIES_DEFAULT, &r) < 0 || r.status != 200) {
		rackctl_error("%s: %s:%s: %s", p->rk.url, name, version,
		    rackctl_reply_error(&r, e, sizeof e));
		rackctl_reply_free(&r);
		return -1;
	}
	if (manifest_parse(r.body, r.len, &p->m, e, sizeof e) < 0) {
		rackctl_error("%s: the manifest of %s:%s: %s", p->rk.url, name,
		    version, e);
		rackctl_reply_free(&r);
		return -1;
	}
	*text = r.body;		/* taken */
	if (strcmp(p->m->name, name) != 0 ||
	    strcmp(p->m->version, version) != 0) {
		rackctl_error("%s: asked for %s:%s, got %s:%s", p->rk.url,
		    name, version, p->m->name, p->m->version);
		return -1;
	}
	return 0;
}

static void
show(struct pull *p, bool last)
{
	char a[HUMAN_MAX], b[HUMAN_MAX];
	double now = rackctl_now(), dt = now - p->t0;

	if (p->quiet || (!last && now - p->last < PULL_LINE_INTERVAL))
		return;
	p->last = now;
	fprintf(stderr, "%s:%s: %llu of %llu chunks, %s fetched, %s/s\n",
	    p->m->name, p->m->version,
	    (unsigned long long)(p->fetched + p->had),
	    (unsigned long long)p->distinct,
	    fmt_bytes(p->fetched_bytes, a, sizeof a),
	    fmt_bytes(dt > 0 ? (uint64_t)((double)p->fetched_bytes / dt) : 0,
	    b, sizeof b));
}

/* Chunk c from the rack into the store, checked. 0, or -1 (printed). */
static int
fetch(struct pull *p, const struct manifest_chunk *c, const char *hex,
    struct chunk_codec *codec, void *scratch)
{
	char path[URL_PATH_MAX], e[RACKCTL_ERR_MAX];
	struct http_reply r;
	int rc = -1;

	snprintf(path, sizeof path, "/chunks/%s", hex);
	if (rackctl_request(&p->rk, "GET", path, NULL, NULL, 0,
		RACKCTL_RETRIES_DEFAULT, &r) < 0 || r.status != 200) {
		rackctl_error("%s: chunk %s: %s", p->rk.url, hex,
		    rackctl_reply_error(&r, e, sizeof e));
		goto out;
	}
	if (r.len > chunk_compress_bound(c->length)) {
		rackctl_error("%s: chunk %s is larger than it can be",
		    p->rk.url, hex);
		goto out;
	}
	if (chunk_verify(codec, p->m->hash, c->hash, c->length, r.body,
	    r.len, scratch, c->length, e, sizeof e) < 0) {
		rackctl_error("%s: chunk %s does not match its hash: %s",
		    p->rk.url, hex, e);
		goto out;
	}
	if (store_put_chunk(p->st, hex, r.body, r.len, NULL, e, sizeof e) < 0) {
		rackctl_error("%s", e);
		goto out;
	}
	p->fetched++;
	p->fetched_bytes += r.len;
	rc = 0;
out:
	rackctl_reply_free(&r);
	return rc;
}

static int
cmp_chunk_hash(const void *a, const void *b)
{
	return memcmp(((const struct manifest_chunk *)a)->hash,
	    ((const struct manifest_chunk *)b)->hash, HASH_LEN);
}

static int
run(struct pull *p, const char *name, const char *version)
{
	char *text = NULL, e[RACKCTL_ERR_MAX], hex[HASH_HEX_LEN + 1];
	struct manifest_chunk *v = NULL;
	struct chunk_codec *codec = chunk_codec_new();
	void *scratch = malloc(CHUNK_SIZE_MAX);
	char a[HUMAN_MAX];
	int rc = RACKCTL_FAIL;
	size_t n = 0;

	if (codec == NULL || scratch == NULL) {
		rackctl_error("out of memory");
		goto out;
	}
	if (get_manifest(p, name, version, &text) < 0)
		goto out;
	if (store_has_manifest(p->st, name, version)) {
		struct manifest *old;
		char *oldtext = NULL;
		if (store_load_manifest(p->st, name, version, &old, e,
		    sizeof e) == 0) {
			oldtext = manifest_to_json(old);
			manifest_free(old);
		}
		char *newtext = manifest_to_json(p->m);
		bool same = oldtext && newtext && strcmp(oldtext, newtext) == 0;
		free(oldtext);
		free(newtext);
		if (!same) {
			rackctl_error("%s:%s is in %s with other content; "
			    "remove it first", name, version, store_dir(p->st));
			goto out;
		}
	}
	/* The distinct chunks, once each. */
	if (p->m->nchunks > 0 &&
	    (v = malloc(p->m->nchunks * sizeof(*v))) == NULL) {
		rackctl_error("out of memory");
		goto out;
	}
	if (v != NULL) {
		memcpy(v, p->m->chunks, p->m->nchunks * sizeof(*v));
		qsort(v, p->m->nchunks, sizeof(*v), cmp_chunk_hash);
	}
	for (size_t i = 0; i < p->m->nchunks; i++)
		if (n == 0 || memcmp(v[n - 1].hash, v[i].hash, HASH_LEN) != 0)
			v[n++] = v[i];
	p->distinct = n;
	p->t0 = p->last = rackctl_now();
	for (size_t i = 0; i < n; i++) {
		hash_to_hex(v[i].hash, hex);
		if (store_has_chunk(p->st, hex))
			p->had++;
		else if (fetch(p, &v[i], hex, codec, scratch) < 0)
			goto out;
		show(p, false);
	}
	if (store_put_manifest(p->st, p->m, e, sizeof e) < 0) {
		rackctl_error("%s", e);
		goto out;
	}
	show(p, true);
	printf("%s:%s: fetched %llu chunks (%s), %llu already in %s\n", name,
	    version, (unsigned long long)p->fetched,
	    fmt_bytes(p->fetched_bytes, a, sizeof a),
	    (unsigned long long)p->had, store_dir(p->st));
	rc = RACKCTL_OK;
out:
	free(v);
	free(text);
	free(scratch);
	chunk_codec_free(codec);
	return rc;
}

int
rackctl_cmd_pull(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "token-file", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = NULL, *token_file = NULL, *pos[2];
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char e[RACKCTL_ERR_MAX];
	struct pull p = { 0 };
	int o, npos = 0, rc;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "-:s:t:qh", opts, NULL)) != -1) {
		switch (o) {
		case 1:
			if (npos == 2)
				return rackctl_usage("pull", "pull: unexpected "
				    "argument '%s'", optarg);
			pos[npos++] = optarg;
			break;
		case 's': store = optarg; break;
		case 't': token_file = optarg; break;
		case 'q': p.quiet = true; break;
		case 'h':
			usage(stdout);
			return RACKCTL_OK;
		default:
			return rackctl_bad_option("pull", "pull", o,
			    argv[optind - 1]);
		}
	}
	if (npos < 2)
		return rackctl_usage("pull", "pull: missing %s",
		    npos == 0 ? "RACK" : "NAME:VERSION");
	if (store == NULL)
		return rackctl_usage("pull", "pull: --store DIR is needed");
	if (image_ref_parse(pos[1], name, version, e, sizeof e) < 0 ||
	    version[0] == '\0')
		return rackctl_usage("pull", "pull: '%s': not NAME:VERSION",
		    pos[1]);
	if (rackctl_http_init() < 0 || hash_lib_init() < 0) {
		rackctl_error("libcurl or the hash library failed to start");
		return RACKCTL_FAIL;
	}
	if ((rc = rackctl_rack_arg(pos[0], token_file, &p.rk)) != RACKCTL_OK)
		return rc;
	if (store_open(store, &p.st, e, sizeof e) < 0) {
		rackctl_error("%s", e);
		return RACKCTL_FAIL;
	}
	rc = run(&p, name, version);
	manifest_free(p.m);
	store_close(p.st);
	return rc;
}
