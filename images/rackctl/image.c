/* images/rackctl/image.c — "rackctl image": import, list, show, verify. */
#include "images/rackctl/rackctl.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "images/chunk.h"
#include "images/import.h"
#include "images/manifest.h"
#include "images/rootfs.h"
#include "images/store.h"

static int cmd_import(int argc, char **argv);
static int cmd_list(int argc, char **argv);
static int cmd_show(int argc, char **argv);
static int cmd_verify(int argc, char **argv);

static const struct rackctl_cmd image_commands[] = {
	{ "import", cmd_import,
	    "import a disk image or a root file system tarball into the "
	    "store" },
	{ "list", cmd_list, "list the images in the store" },
	{ "show", cmd_show, "show an image's manifest summary" },
	{ "verify", cmd_verify,
	    "check that every chunk of an image is present and intact" },
	{ "sign", rackctl_cmd_image_sign,
	    "sign an image's manifest (ed25519; rackctl keygen)" },
};
#define NIMAGE (sizeof image_commands / sizeof image_commands[0])

static void
image_usage(FILE *f)
{
	fprintf(f,
	    "Usage: rackctl image import FILE --name NAME[:VERSION] --store "
	    "DIR [OPTIONS]\n"
	    "       rackctl image import FILE.tar[.gz|.xz|.zst] --kind rootfs "
	    "--name NAME[:VERSION] --store DIR\n"
	    "       rackctl image list --store DIR\n"
	    "       rackctl image show NAME[:VERSION] --store DIR [--json]\n"
	    "       rackctl image verify NAME[:VERSION] --store DIR\n"
	    "       rackctl image sign NAME[:VERSION] --key FILE --store DIR\n"
	    "\n"
	    "Commands:\n");
	rackctl_print_commands(f, image_commands, NIMAGE);
	fprintf(f,
	    "\n"
	    "An image is a manifest plus content-addressed chunks in a store "
	    "directory:\n"
	    "DIR/chunks/ (zstd, named by content hash), "
	    "DIR/manifests/NAME/VERSION.json.\n"
	    "\n"
	    "import FILE: a raw disk image, plain or compressed (.gz, .xz, "
	    ".zst, .bz2, ...;\n"
	    "  detected from the content); '-' reads standard input. All-zero "
	    "chunks are\n"
	    "  holes and take no space; a chunk already in the store is not "
	    "stored again.\n"
	    "  -n, --name NAME[:VERSION]  image name; VERSION defaults to the "
	    "UTC time\n"
	    "                             YYYYMMDD-HHMMSS. Both match\n"
	    "                             [A-Za-z0-9][A-Za-z0-9._+-]{0,63}\n"
	    "  -s, --store DIR            the store (created if missing)\n"
	    "  -c, --chunk-size N         chunk size, a power of two from 64K "
	    "to 64M\n"
	    "                             (suffix K or M; default %uK)\n"
	    "  -l, --level N              zstd level %d..%d (default %d)\n"
	    "  -H, --hash ALG             blake2b-256 or sha256 (default %s)\n"
	    "  -k, --kind KIND            disk (default) or rootfs: FILE is a "
	    "root file\n"
	    "                             system tarball (.tar, .tar.gz, "
	    ".tar.xz, .tar.zst,\n"
	    "                             ...) for diskless boot, stored as a "
	    "cpio stream.\n"
	    "                             Absolute names are made relative; "
	    "members with\n"
	    "                             '..', symlinks out of the root, hard "
	    "links out of\n"
	    "                             the root, device nodes and members "
	    "under a\n"
	    "                             symlink are left out with a warning\n"
	    "  -m, --max-size SIZE        rootfs: refuse a tarball, its "
	    "unpacked stream or\n"
	    "                             the image over SIZE (default %lluG)\n"
	    "  -S, --strict               rootfs: refuse the tarball instead "
	    "of leaving\n"
	    "                             members out\n"
	    "  -q, --quiet                no progress bar (shown only when "
	    "stderr is a\n"
	    "                             terminal)\n"
	    "  Prints one summary line at the end. Fails, storing no manifest, "
	    "on a\n"
	    "  truncated or corrupt input or if NAME:VERSION already exists.\n"
	    "\n"
	    "list: one line per image: name, version, kind, size, chunks, "
	    "holes,\n"
	    "  stored bytes, creation time.\n"
	    "  -s, --store DIR\n"
	    "\n"
	    "show NAME[:VERSION]: the manifest summary; without VERSION the "
	    "highest\n"
	    "  version (in version order).\n"
	    "  -s, --store DIR\n"
	    "  -j, --json                 print the manifest itself\n"
	    "\n"
	    "verify NAME[:VERSION]: decompress and hash every chunk of the "
	    "image.\n"
	    "  -s, --store DIR\n"
	    "\n"
	    "sign NAME[:VERSION]: sign the manifest with an ed25519 secret key "
	    "(rackctl\n"
	    "  keygen), replacing any signature; racks with trusted_keys need "
	    "it.\n"
	    "  -k, --key FILE             the secret key (mode 0600)\n"
	    "  -s, --store DIR\n"
	    "\n"
	    "Exit status: 0 success, 1 failure, 2 usage error.\n",
	    CHUNK_SIZE_DEFAULT / 1024, CHUNK_LEVEL_MIN, CHUNK_LEVEL_MAX,
	    CHUNK_LEVEL_DEFAULT, hash_alg_name(HASH_ALG_DEFAULT),
	    (unsigned long long)(ROOTFS_MAX_SIZE_DEFAULT >> 30));
}

int
rackctl_cmd_image(int argc, char **argv)
{
	if (argc < 2) {
		image_usage(stderr);
		return RACKCTL_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		image_usage(stdout);
		return RACKCTL_OK;
	}
	if (argv[1][0] == '-')
		return rackctl_usage("image", "unknown option '%s'", argv[1]);
	return rackctl_dispatch(
	    "image", image_commands, NIMAGE, argc - 1, argv + 1);
}

/* Common: "--store DIR" and one optional positional argument. */
struct common {
	const char *store;
	const char *arg;
	bool json;
};

/* 0, RACKCTL_HELP (--help printed) or RACKCTL_USAGE (the error printed). */
static int
parse_common(int argc, char **argv, const char *what, bool want_arg,
    bool allow_json, struct common *c)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char cmd[32];
	int o;

	memset(c, 0, sizeof *c);
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":s:jh", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			c->store = optarg;
			break;
		case 'j':
			if (!allow_json)
				return rackctl_usage("image",
				    "image %s: unknown option '--json'", what);
			c->json = true;
			break;
		case 'h':
			image_usage(stdout);
			return RACKCTL_HELP;
		default:
			snprintf(cmd, sizeof cmd, "image %s", what);
			return rackctl_bad_option("image", cmd, o,
			    argv[optind - 1]);
		}
	}
	if (want_arg) {
		if (optind >= argc)
			return rackctl_usage(
			    "image", "image %s: missing NAME[:VERSION]", what);
		c->arg = argv[optind++];
	}
	if (optind < argc)
		return rackctl_usage("image",
		    "image %s: unexpected argument '%s'", what, argv[optind]);
	if (!c->store)
		return rackctl_usage(
		    "image", "image %s: --store DIR is required", what);
	return 0;
}

/* ---- import ---- */

struct import_result {
	struct progress pg; /* the bar, on a terminal */
	double start;
	struct import_progress last;
	unsigned warnings; /* rootfs: warnings so far */
};

static int
on_progress(const struct import_progress *p, void *arg)
{
	struct import_result *r = arg;
	char h1[HUMAN_MAX], h2[HUMAN_MAX];
	double el, rate;

	r->last = *p;
	if (r->pg.mode != PROGRESS_BAR || !progress_due(&r->pg, p->done))
		return 0;
	if (p->done) {
		progress_end(&r->pg, false);
		return 0;
	}
	el = rackctl_now() - r->start;
	rate = el > 0 ? (double)p->bytes_read / el : 0;
	fmt_bytes(p->bytes_read, h1, sizeof(h1));
	fmt_bytes((uint64_t)rate, h2, sizeof(h2));
	progress_bar(&r->pg, NULL,
	    p->input_size ? progress_pct(p->input_read, p->input_size) : -1,
	    "%s read  %s/s  %" PRIu64 " chunks  %" PRIu64 " holes", h1, h2,
	    p->chunks, p->holes);
	return 0;
}

/* rootfs import warnings: the first WARNINGS_SHOWN, then a count. */
static void
on_warning(const char *msg, void *arg)
{
	struct import_result *r = arg;

	if (++r->warnings <= WARNINGS_SHOWN)
		progress_note(&r->pg, "rackctl: warning: %s", msg);
}

static int
cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "store", required_argument, NULL, 's' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "level", required_argument, NULL, 'l' },
		{ "hash", required_argument, NULL, 'H' },
		{ "kind", required_argument, NULL, 'k' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "strict", no_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct import_options opt;
	struct rootfs_options ro;
	struct rootfs_stats rs;
	const char *ref = NULL, *storedir = NULL, *file = NULL;
	bool quiet = false;
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1],
	    err[RACKCTL_ERR_MAX];
	uint64_t v;
	long l;
	int o;

	import_options_init(&opt);
	rootfs_options_init(&ro);
	struct import_result res = { 0 };
	ro.warn = on_warning;
	ro.warn_arg = &res;
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(
		    argc, argv, ":n:s:c:l:H:k:m:Sqh", opts, NULL)) != -1) {
		switch (o) {
		case 'n':
			ref = optarg;
			break;
		case 's':
			storedir = optarg;
			break;
		case 'c':
			if (!rackctl_parse_size(optarg, &v) ||
			    !chunk_size_valid(v))
				return rackctl_usage("image",
				    "--chunk-size %s: must be a power of two "
				    "from 64K to 64M",
				    optarg);
			opt.chunk_size = (uint32_t)v;
			break;
		case 'l':
			if (!rackctl_parse_long(
				optarg, CHUNK_LEVEL_MIN, CHUNK_LEVEL_MAX, &l))
				return rackctl_usage("image",
				    "--level %s: must be a number from %d to "
				    "%d",
				    optarg, CHUNK_LEVEL_MIN, CHUNK_LEVEL_MAX);
			opt.level = (int)l;
			break;
		case 'H':
			if (hash_alg_from_name(optarg, &opt.hash) < 0)
				return rackctl_usage("image",
				    "--hash %s: must be blake2b-256 or sha256",
				    optarg);
			break;
		case 'k':
			if (image_kind_from_name(optarg, &opt.kind) < 0)
				return rackctl_usage("image",
				    "--kind %s: must be disk or rootfs",
				    optarg);
			break;
		case 'm':
			if (!rackctl_parse_size(optarg, &v) || v == 0)
				return rackctl_usage("image",
				    "--max-size %s: must be a size such as "
				    "512M or 4G",
				    optarg);
			ro.max_size = v;
			break;
		case 'S':
			ro.strict = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			image_usage(stdout);
			return RACKCTL_OK;
		default:
			return rackctl_bad_option("image", "image import", o,
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return rackctl_usage("image", "image import: missing FILE");
	file = argv[optind++];
	if (optind < argc)
		return rackctl_usage("image",
		    "image import: unexpected argument '%s'", argv[optind]);
	if (!ref)
		return rackctl_usage(
		    "image", "image import: --name NAME[:VERSION] is required");
	if (!storedir)
		return rackctl_usage(
		    "image", "image import: --store DIR is required");
	if (image_ref_parse(ref, name, version, err, sizeof err) < 0)
		return rackctl_usage("image", "--name: %s", err);
	if (!version[0]) {
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(version, sizeof version, "%Y%m%d-%H%M%S", &tm);
	}

	struct store *st;
	if (store_open(storedir, &st, err, sizeof err) < 0) {
		rackctl_error("%s", err);
		return RACKCTL_FAIL;
	}
	progress_init(&res.pg, progress_mode_for(quiet, false), IMPORT_BAR, 0,
	    IMPORT_DRAW_INTERVAL);
	res.start = rackctl_now();
	struct manifest *m;
	int r;
	if (opt.kind == IMAGE_KIND_ROOTFS)
		r = import_rootfs(st, file, name, version, &opt, &ro,
		    on_progress, &res, &rs, &m, err, sizeof err);
	else
		r = import_disk_image(st, file, name, version, &opt,
		    on_progress, &res, &m, err, sizeof err);
	double el = rackctl_now() - res.start;
	if (r < 0)
		progress_end(&res.pg, false);
	store_close(st);
	if (res.warnings > WARNINGS_SHOWN)
		rackctl_error("warning: %u more warnings not shown",
		    res.warnings - WARNINGS_SHOWN);
	if (r < 0) {
		rackctl_error("%s", err);
		return RACKCTL_FAIL;
	}
	if (opt.kind == IMAGE_KIND_ROOTFS)
		printf("rootfs: %" PRIu64 " members, %" PRIu64 " kept, %" PRIu64
		       " left out, %" PRIu64
		       " absolute names made relative, %" PRIu64
		       " directories added, %" PRIu64 " hard links\n",
		    rs.members, rs.kept, rs.dropped, rs.normalised,
		    rs.dirs_added, rs.hardlinks);
	struct manifest_stats s;
	char h1[HUMAN_MAX], h2[HUMAN_MAX], h3[HUMAN_MAX];
	manifest_stats(m, &s);
	printf("imported %s:%s: %s (%" PRIu64 " bytes), %" PRIu64
	       " chunks, %" PRIu64 " holes, "
	       "stored %s (%" PRIu64 " bytes), %" PRIu64
	       " new chunks (%s), %.1f s\n",
	    m->name, m->version, fmt_bytes(m->size, h1, sizeof h1), m->size,
	    s.chunks, s.holes, fmt_bytes(s.stored_bytes, h2, sizeof h2),
	    s.stored_bytes, res.last.new_chunks,
	    fmt_bytes(res.last.new_bytes, h3, sizeof h3), el);
	manifest_free(m);
	return RACKCTL_OK;
}

/* ---- list ---- */

struct list_ctx {
	struct store *st;
	int failures;
	bool header;
};

static int
list_one(const char *name, const char *version, void *arg)
{
	struct list_ctx *c = arg;
	struct manifest *m;
	struct manifest_stats s;
	char err[RACKCTL_ERR_MAX], h1[HUMAN_MAX], h2[HUMAN_MAX];

	if (store_load_manifest(c->st, name, version, &m, err, sizeof err) <
	    0) {
		rackctl_error("%s", err);
		c->failures++;
		return 0;
	}
	if (!c->header) {
		printf("%-24s %-20s %-6s %10s %8s %8s %10s  %s\n", "NAME",
		    "VERSION", "KIND", "SIZE", "CHUNKS", "HOLES", "STORED",
		    "CREATED");
		c->header = true;
	}
	manifest_stats(m, &s);
	printf("%-24s %-20s %-6s %10s %8" PRIu64 " %8" PRIu64 " %10s  %s\n",
	    m->name, m->version, image_kind_name(m->kind),
	    fmt_bytes(m->size, h1, sizeof h1), s.chunks, s.holes,
	    fmt_bytes(s.stored_bytes, h2, sizeof h2), m->created);
	manifest_free(m);
	return 0;
}

static int
cmd_list(int argc, char **argv)
{
	struct common c;
	char err[RACKCTL_ERR_MAX];
	int r = parse_common(argc, argv, "list", false, false, &c);
	if (r)
		return r == RACKCTL_HELP ? RACKCTL_OK : r;
	struct list_ctx lc = { 0 };
	if (store_open(c.store, &lc.st, err, sizeof err) < 0) {
		rackctl_error("%s", err);
		return RACKCTL_FAIL;
	}
	r = store_list_manifests(lc.st, list_one, &lc, err, sizeof err);
	store_close(lc.st);
	if (r < 0) {
		rackctl_error("%s", err);
		return RACKCTL_FAIL;
	}
	return lc.failures ? RACKCTL_FAIL : RACKCTL_OK;
}

/* ---- show, verify ---- */

/* Opens the store and loads NAME[:VERSION] (the latest version if none). */
static int
load_ref(const struct common *c, struct store **st, struct manifest **m)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1],
	    err[RACKCTL_ERR_MAX];

	if (image_ref_parse(c->arg, name, version, err, sizeof err) < 0)
		return rackctl_usage("image", "%s", err);
	if (store_open(c->store, st, err, sizeof err) < 0) {
		rackctl_error("%s", err);
		return RACKCTL_FAIL;
	}
	if ((!version[0] &&
		store_latest_version(*st, name, version, err, sizeof err) <
		    0) ||
	    store_load_manifest(*st, name, version, m, err, sizeof err) < 0) {
		rackctl_error("%s", err);
		store_close(*st);
		return RACKCTL_FAIL;
	}
	return RACKCTL_OK;
}

static int
cmd_show(int argc, char **argv)
{
	struct common c;
	struct store *st;
	struct manifest *m;
	int r = parse_common(argc, argv, "show", true, true, &c);
	if (r)
		return r == RACKCTL_HELP ? RACKCTL_OK : r;
	if ((r = load_ref(&c, &st, &m)) != RACKCTL_OK)
		return r;
	if (c.json) {
		char *json = manifest_to_json(m);
		if (json)
			fputs(json, stdout);
		else
			rackctl_error("out of memory");
		free(json);
		r = json ? RACKCTL_OK : RACKCTL_FAIL;
	} else {
		struct manifest_stats s;
		char h1[HUMAN_MAX], h2[HUMAN_MAX], h3[HUMAN_MAX], h4[HUMAN_MAX];
		manifest_stats(m, &s);
		printf("image:        %s:%s\n", m->name, m->version);
		printf("kind:         %s\n", image_kind_name(m->kind));
		printf("size:         %s (%" PRIu64 " bytes)\n",
		    fmt_bytes(m->size, h1, sizeof h1), m->size);
		printf("chunk size:   %s (%" PRIu32 " bytes)\n",
		    fmt_bytes(m->chunk_size, h2, sizeof h2), m->chunk_size);
		printf("chunks:       %" PRIu64 " (%" PRIu64
		       " holes of %" PRIu64 " slots)\n",
		    s.chunks, s.holes, s.slots);
		printf("data:         %s (%" PRIu64 " bytes)\n",
		    fmt_bytes(s.data_bytes, h3, sizeof h3), s.data_bytes);
		printf("stored:       %s (%" PRIu64 " bytes, ratio %.2f)\n",
		    fmt_bytes(s.stored_bytes, h4, sizeof h4),
		    s.stored_bytes,
		    s.stored_bytes
			? (double)s.data_bytes / (double)s.stored_bytes : 0.0);
		printf("hash:         %s\n", hash_alg_name(m->hash));
		printf("compression:  zstd\n");
		printf("created:      %s\n", m->created);
		printf("signature:    %s\n",
		    m->signature ? "present (not verified)" : "none");
		r = RACKCTL_OK;
	}
	manifest_free(m);
	store_close(st);
	return r;
}

static int
cmd_verify(int argc, char **argv)
{
	struct common c;
	struct store *st;
	struct manifest *m;
	char hex[HASH_HEX_LEN + 1], err[RACKCTL_ERR_MAX];
	size_t bad = 0;
	int r = parse_common(argc, argv, "verify", true, false, &c);
	if (r)
		return r == RACKCTL_HELP ? RACKCTL_OK : r;
	if ((r = load_ref(&c, &st, &m)) != RACKCTL_OK)
		return r;
	for (size_t i = 0; i < m->nchunks; i++) {
		hash_to_hex(m->chunks[i].hash, hex);
		if (store_check_chunk(st, m->hash, hex, m->chunks[i].length,
			err, sizeof err) < 0) {
			rackctl_error("%s:%s: chunks[%zu] at offset %" PRIu64
				      ": %s",
			    m->name, m->version, i, m->chunks[i].offset, err);
			bad++;
		}
	}
	if (bad == 0)
		printf("%s:%s: %zu chunks verified\n", m->name, m->version,
		    m->nchunks);
	else
		rackctl_error("%s:%s: %zu of %zu chunks missing or damaged",
		    m->name, m->version, bad, m->nchunks);
	manifest_free(m);
	store_close(st);
	return bad ? RACKCTL_FAIL : RACKCTL_OK;
}
