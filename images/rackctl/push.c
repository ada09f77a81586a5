/* images/rackctl/push.c — "rackctl push NAME[:VERSION] RACK...": an image
 * of the local store to many racks at once.
 *
 * For each rack: post the manifest (the rack answers the chunks it lacks),
 * upload those chunks over a few parallel streams, then commit. Racks go
 * in parallel (--jobs), chunks of a rack too (--streams). Nothing the rack
 * has is sent again, so running the same push after any interruption goes
 * on where it stopped. Network errors are retried with backoff (--retries
 * times per request), after which that rack fails and the others go on.
 *
 * This file is the command: its options and the image. The racks and
 * the push itself are push_run.c (racks, threads, the result),
 * push_proto.c (one rack's rounds), push_xfer.c (uploads) and
 * push_show.c (what is shown).
 */
#include "images/rackctl/rackctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/chunk.h"
#include "images/hash.h"
#include "images/manifest.h"
#include "images/store.h"

static void
push_usage(FILE *f)
{
	fprintf(f,
	    "Usage: rackctl push NAME[:VERSION] RACK... --store DIR [OPTIONS]\n"
	    "       rackctl push NAME[:VERSION] --racks FILE --store DIR "
	    "[OPTIONS]\n"
	    "\n"
	    "Push an image of the local store to racks. RACK is a rackd URL\n"
	    "(http://rack12:8080); its API token comes from RACKD_TOKEN or "
	    "--token-file.\n"
	    "A racks FILE has one \"URL TOKEN\" per line (# comments), each "
	    "rack its own token.\n"
	    "Each rack gets the manifest, answers the chunks it lacks, gets "
	    "only those,\n"
	    "checks each against its hash, and commits the image. Running the "
	    "same push\n"
	    "again after an interruption sends nothing the rack already has.\n"
	    "\n"
	    "  -s, --store DIR       the local image store\n"
	    "  -r, --racks FILE      racks and their tokens, one \"URL TOKEN\" "
	    "per line\n"
	    "  -t, --token-file FILE the token of the racks given as "
	    "arguments\n"
	    "  -j, --jobs N          racks pushed at once (1..%d, default %d)\n"
	    "  -S, --streams N       chunk uploads at once per rack (1..%d, "
	    "default %d)\n"
	    "      --retries N       retries of a request after a network "
	    "error, with\n"
	    "                        growing delays (0..%d, default %d)\n"
	    "      --no-patch        send every chunk whole (by default a "
	    "chunk that is a\n"
	    "                        version the rack holds with a few bytes "
	    "edited goes\n"
	    "                        as a patch against it)\n"
	    "      --level N         the zstd level the image was imported "
	    "with, at which\n"
	    "                        the rack compresses a patched chunk again "
	    "(%d..%d;\n"
	    "                        by default found from the chunks, %d "
	    "first)\n"
	    "      --json            the result as JSON on standard output\n"
	    "  -q, --quiet           no progress (a bar per rack on a "
	    "terminal, plain\n"
	    "                        lines otherwise)\n"
	    "\n"
	    "At the end a table: rack, result, bytes sent, time. Without "
	    "VERSION the\n"
	    "highest version in the store. Exit status: 0 every rack has the "
	    "image,\n"
	    "1 a rack failed, 2 usage error.\n",
	    PUSH_JOBS_MAX, PUSH_JOBS_DEFAULT, PUSH_STREAMS_MAX,
	    PUSH_STREAMS_DEFAULT, PUSH_RETRIES_MAX, RACKCTL_RETRIES_DEFAULT,
	    CHUNK_LEVEL_MIN, CHUNK_LEVEL_MAX, CHUNK_LEVEL_DEFAULT);
}

static int
cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, HASH_LEN);
}

/* Every chunk of the image is in the local store; counts the distinct. */
static int
check_local(struct push *p)
{
	char hex[HASH_HEX_LEN + 1];
	uint8_t(*h)[HASH_LEN] =
	    calloc(p->m->nchunks ? p->m->nchunks : 1, HASH_LEN);

	if (!h) {
		rackctl_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < p->m->nchunks; i++)
		memcpy(h[i], p->m->chunks[i].hash, HASH_LEN);
	qsort(h, p->m->nchunks, HASH_LEN, cmp_hash);
	for (size_t i = 0; i < p->m->nchunks; i++)
		if (i == 0 || memcmp(h[i], h[i - 1], HASH_LEN) != 0)
			p->distinct++;
	free(h);
	for (size_t i = 0; i < p->m->nchunks; i++) {
		hash_to_hex(p->m->chunks[i].hash, hex);
		if (!store_has_chunk(p->st, hex)) {
			rackctl_error("%s:%s: chunks[%zu] (%s) is missing from "
				      "the local store",
			    p->m->name, p->m->version, i, hex);
			return -1;
		}
	}
	return 0;
}

int
rackctl_cmd_push(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "racks", required_argument, NULL, 'r' },
		{ "token-file", required_argument, NULL, 't' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "streams", required_argument, NULL, 'S' },
		{ "retries", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'J' },
		{ "no-patch", no_argument, NULL, 'P' },
		{ "level", required_argument, NULL, 'L' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct push p = { 0 };
	const char *storedir = NULL, *racksfile = NULL, *tokfile = NULL, *ref;
	long jobs = PUSH_JOBS_DEFAULT, l;
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1],
	    err[RACKCTL_ERR_MAX];
	int o, rc = RACKCTL_FAIL;
	bool quiet = false;

	p.streams = PUSH_STREAMS_DEFAULT;
	p.retries = RACKCTL_RETRIES_DEFAULT;
	p.level = 0; /* found from the chunks */
	p.patch = true;
	optind = 0;
	opterr = 0;
	while (
	    (o = getopt_long(argc, argv, ":s:r:t:j:S:qh", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			storedir = optarg;
			break;
		case 'r':
			racksfile = optarg;
			break;
		case 't':
			tokfile = optarg;
			break;
		case 'j':
			if (!rackctl_parse_long(
				optarg, 1, PUSH_JOBS_MAX, &jobs))
				return rackctl_usage("push",
				    "--jobs %s: a number from 1 to %d", optarg,
				    PUSH_JOBS_MAX);
			break;
		case 'S':
			if (!rackctl_parse_long(
				optarg, 1, PUSH_STREAMS_MAX, &l))
				return rackctl_usage("push",
				    "--streams %s: a number from 1 to %d",
				    optarg, PUSH_STREAMS_MAX);
			p.streams = (int)l;
			break;
		case 'R':
			if (!rackctl_parse_long(
				optarg, 0, PUSH_RETRIES_MAX, &l))
				return rackctl_usage("push",
				    "--retries %s: a number from 0 to %d",
				    optarg, PUSH_RETRIES_MAX);
			p.retries = (int)l;
			break;
		case 'J':
			p.json = true;
			break;
		case 'P':
			p.patch = false;
			break;
		case 'L':
			if (!rackctl_parse_long(
				optarg, CHUNK_LEVEL_MIN, CHUNK_LEVEL_MAX, &l))
				return rackctl_usage("push",
				    "--level %s: a number from %d to %d",
				    optarg, CHUNK_LEVEL_MIN, CHUNK_LEVEL_MAX);
			p.level = (int)l;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			push_usage(stdout);
			return RACKCTL_OK;
		default:
			return rackctl_bad_option("push", "push", o,
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return rackctl_usage("push", "push: missing NAME[:VERSION]");
	ref = argv[optind++];
	if (!storedir)
		return rackctl_usage("push", "push: --store DIR is required");
	if (image_ref_parse(ref, name, version, err, sizeof err) < 0)
		return rackctl_usage("push", "%s", err);
	if ((o = push_racks("push", racksfile, tokfile, argv + optind,
	    argc - optind, &p.t, &p.n)) != RACKCTL_OK)
		return o;
	if (rackctl_http_init() < 0) {
		rackctl_error("libcurl failed to start");
		free(p.t);
		return RACKCTL_FAIL;
	}

	if (store_open(storedir, &p.st, err, sizeof err) < 0) {
		rackctl_error("%s", err);
		goto out;
	}
	if ((!version[0] &&
		store_latest_version(p.st, name, version, err, sizeof err) <
		    0) ||
	    store_load_manifest(p.st, name, version, &p.m, err, sizeof err) <
		0) {
		rackctl_error("%s", err);
		goto out;
	}
	if (check_local(&p) < 0)
		goto out;
	if (!(p.manifest_json = manifest_to_json(p.m))) {
		rackctl_error("out of memory");
		goto out;
	}
	p.manifest_len = strlen(p.manifest_json);
	snprintf(p.api_path, sizeof p.api_path, "/api/v1/images/%s/versions/%s",
	    name, version);
	for (size_t i = 0; i < p.n; i++)
		p.t[i].chunks = p.distinct;
	rc = push_run(&p, (size_t)jobs, quiet);
out:
	free(p.manifest_json);
	manifest_free(p.m);
	if (p.st)
		store_close(p.st);
	if (p.t)
		memset(p.t, 0, p.n * sizeof *p.t); /* tokens */
	free(p.t);
	return rc;
}
