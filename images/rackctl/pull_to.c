/* images/rackctl/pull_to.c — many racks at once, from one host, without
 * sending them the image:
 *
 *   rackctl pull-to RACK... NAME:VERSION   each rack is asked to pull the
 *        image from its image_sources (POST /api/v1/images/pull), and its
 *        pull is followed (GET /api/v1/pulls/{id}) with the bars, lines
 *        and closing table of rackctl push (push_run.c, push_show.c)
 *   rackctl fleet status --racks FILE      each rack's images and the
 *        nodes that are given each (GET /api/v1/images, /api/v1/nodes)
 */
#include "images/rackctl/rackctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "images/manifest.h"

/* ---- pull-to ------------------------------------------------------------ */

static void
update(struct push *p, struct push_target *t, json_t *o)
{
	const char *state = json_string_value(json_object_get(o, "state"));

	pthread_mutex_lock(&p->lock);
	t->chunks = (uint64_t)json_integer_value(json_object_get(o, "chunks"));
	t->missing = (uint64_t)json_integer_value(json_object_get(o,
	    "missing"));
	t->chunks_sent = (uint64_t)json_integer_value(json_object_get(o,
	    "chunks_done"));
	t->bytes_total = (uint64_t)json_integer_value(json_object_get(o,
	    "bytes_total"));
	t->bytes_done = (uint64_t)json_integer_value(json_object_get(o,
	    "bytes_done"));
	t->bytes_sent = (uint64_t)json_integer_value(json_object_get(o,
	    "bytes_fetched"));
	t->retries = (unsigned)json_integer_value(json_object_get(o,
	    "failovers"));
	t->already = json_is_true(json_object_get(o, "present"));
	if (state != NULL && strcmp(state, "fetching") == 0)
		t->state = PUSH_UPLOAD;
	else if (state != NULL && strcmp(state, "committing") == 0)
		t->state = PUSH_COMMIT;
	else if (state != NULL && (strcmp(state, "manifest") == 0 ||
	    strcmp(state, "queued") == 0))
		t->state = PUSH_MANIFEST;
	pthread_mutex_unlock(&p->lock);
}

void
pull_rack(struct push *p, struct push_target *t)
{
	char body[IMAGE_REF_MAX + 32], path[URL_PATH_MAX], e[RACKCTL_ERR_MAX];
	struct http_reply r;
	json_t *o;
	json_int_t id;
	double until;

	push_set_state(p, t, PUSH_MANIFEST);
	snprintf(body, sizeof(body), "{\"image\": \"%s:%s\"}", p->m->name,
	    p->m->version);
	if (rackctl_request(&t->rack, "POST", "/api/v1/images/pull",
	    "application/json", body, strlen(body), p->retries, &r) < 0 ||
	    r.status != 202) {
		push_fail(p, t, "pull refused: %s",
		    rackctl_reply_error(&r, e, sizeof(e)));
		rackctl_reply_free(&r);
		return;
	}
	o = rackctl_reply_json(&r);
	rackctl_reply_free(&r);
	id = json_integer_value(json_object_get(o, "id"));
	json_decref(o);
	if (id <= 0) {
		push_fail(p, t, "the rack's answer to the pull is not "
		    "understood");
		return;
	}
	snprintf(path, sizeof(path), "/api/v1/pulls/%" JSON_INTEGER_FORMAT,
	    id);
	until = rackctl_now() + PULL_WAIT_MAX;
	while (rackctl_now() < until) {
		const char *state, *err;

		if (rackctl_request(&t->rack, "GET", path, NULL, NULL, 0,
		    p->retries, &r) < 0 || r.status != 200) {
			push_fail(p, t, "pull %" JSON_INTEGER_FORMAT ": %s", id,
			    rackctl_reply_error(&r, e, sizeof(e)));
			rackctl_reply_free(&r);
			return;
		}
		o = rackctl_reply_json(&r);
		rackctl_reply_free(&r);
		update(p, t, o);
		state = json_string_value(json_object_get(o, "state"));
		err = json_string_value(json_object_get(o, "error"));
		if (state != NULL && strcmp(state, "done") == 0) {
			push_set_state(p, t, PUSH_DONE);
			json_decref(o);
			return;
		}
		if (state == NULL || strcmp(state, "failed") == 0) {
			push_fail(p, t, "%s", err != NULL ? err :
			    "the rack's pull is not understood");
			json_decref(o);
			return;
		}
		json_decref(o);
		rackctl_sleep_ms(PULL_POLL_MS);
	}
	push_fail(p, t, "the pull did not end in %d s", PULL_WAIT_MAX);
}

static void
pull_to_usage(FILE *f)
{
	fprintf(f,
	    "Usage: rackctl pull-to RACK... NAME:VERSION [OPTIONS]\n"
	    "       rackctl pull-to --racks FILE NAME:VERSION [OPTIONS]\n"
	    "\n"
	    "Ask racks to pull an image from their image_sources (an origin "
	    "made with\n"
	    "rackctl publish, through HTTP caches) and follow each pull. RACK "
	    "and its\n"
	    "token are given as to rackctl push.\n"
	    "\n"
	    "  -r, --racks FILE      racks and their tokens, one \"URL TOKEN\" "
	    "per line\n"
	    "  -t, --token-file FILE the token of the racks given as "
	    "arguments\n"
	    "  -j, --jobs N          racks followed at once (1..%d, default "
	    "8)\n"
	    "      --retries N       retries of a request (0..%d, default %d)\n"
	    "      --json            the result as JSON on standard output\n"
	    "  -q, --quiet           no progress\n"
	    "\n"
	    "At the end a table: rack, result, bytes the rack fetched, time. "
	    "Exit\n"
	    "status: 0 every rack has the image, 1 a rack failed, 2 usage "
	    "error.\n",
	    PUSH_JOBS_MAX, PUSH_RETRIES_MAX, RACKCTL_RETRIES_DEFAULT);
}

int
rackctl_cmd_pull_to(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "racks", required_argument, NULL, 'r' },
		{ "token-file", required_argument, NULL, 't' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "retries", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct push p = { 0 };
	const char *racksfile = NULL, *tokfile = NULL;
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char err[RACKCTL_ERR_MAX];
	long jobs = 8, l;
	bool quiet = false;
	int o, rc;

	p.retries = RACKCTL_RETRIES_DEFAULT;
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":r:t:j:qh", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			racksfile = optarg;
			break;
		case 't':
			tokfile = optarg;
			break;
		case 'j':
			if (!rackctl_parse_long(optarg, 1, PUSH_JOBS_MAX,
			    &jobs))
				return rackctl_usage("pull-to", "--jobs %s: a "
				    "number from 1 to %d", optarg,
				    PUSH_JOBS_MAX);
			break;
		case 'R':
			if (!rackctl_parse_long(optarg, 0, PUSH_RETRIES_MAX,
			    &l))
				return rackctl_usage("pull-to", "--retries %s: "
				    "a number from 0 to %d", optarg,
				    PUSH_RETRIES_MAX);
			p.retries = (int)l;
			break;
		case 'J':
			p.json = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			pull_to_usage(stdout);
			return RACKCTL_OK;
		default:
			return rackctl_bad_option("pull-to", "pull-to", o,
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return rackctl_usage("pull-to", "pull-to: missing "
		    "NAME:VERSION");
	/* The image is the last argument; the racks come before it. */
	if (image_ref_parse(argv[argc - 1], name, version, err,
	    sizeof(err)) < 0)
		return rackctl_usage("pull-to", "%s", err);
	if (version[0] == '\0')
		return rackctl_usage("pull-to", "pull-to: NAME:VERSION (a "
		    "version is needed)");
	if ((rc = push_racks("pull-to", racksfile, tokfile, argv + optind,
	    argc - 1 - optind, &p.t, &p.n)) != RACKCTL_OK)
		return rc;
	if (rackctl_http_init() < 0) {
		rackctl_error("libcurl failed to start");
		free(p.t);
		return RACKCTL_FAIL;
	}
	if ((p.m = manifest_new()) == NULL) {
		rackctl_error("out of memory");
		free(p.t);
		return RACKCTL_FAIL;
	}
	snprintf(p.m->name, sizeof(p.m->name), "%s", name);
	snprintf(p.m->version, sizeof(p.m->version), "%s", version);
	p.rack_fn = pull_rack;
	p.pull = true;
	rc = push_run(&p, (size_t)jobs, quiet);
	manifest_free(p.m);
	memset(p.t, 0, p.n * sizeof(*p.t));	/* tokens */
	free(p.t);
	return rc;
}

/* ---- fleet status ------------------------------------------------------ */

static json_t *
get_json(const struct rack *rk, const char *path, int retries, char *err,
    size_t errlen)
{
	struct http_reply r;
	json_t *o = NULL;

	if (rackctl_request(rk, "GET", path, NULL, NULL, 0, retries, &r) ==
	    0 && r.status == 200)
		o = rackctl_reply_json(&r);
	if (o == NULL)
		rackctl_reply_error(&r, err, errlen);
	rackctl_reply_free(&r);
	return o;
}

/* Does a node given image (name or name:version) run name:version, the
 * newest version of name being latest? */
static bool
node_runs(const char *image, const char *name, const char *version,
    const char *latest)
{
	size_t n = strlen(name);

	if (image == NULL || strncmp(image, name, n) != 0)
		return false;
	if (image[n] == '\0')
		return latest != NULL && strcmp(version, latest) == 0;
	return image[n] == ':' && strcmp(image + n + 1, version) == 0;
}

/* {"rack", "ok", "error", "images": [{"image", "signed", "nodes"}]} */
static json_t *
rack_status(const struct rack *rk, int retries)
{
	char err[RACKCTL_ERR_MAX] = "";
	json_t *imgs, *nodes = NULL, *out = json_array(), *img, *v, *nd;
	size_t i, j, k;

	if ((imgs = get_json(rk, "/api/v1/images", retries, err,
	    sizeof(err))) == NULL || (nodes = get_json(rk, "/api/v1/nodes",
	    retries, err, sizeof(err))) == NULL) {
		json_decref(imgs);
		json_decref(out);
		return json_pack("{s:s,s:b,s:s}", "rack", rk->url, "ok", 0,
		    "error", err);
	}
	json_array_foreach(imgs, i, img) {
		const char *name = json_string_value(json_object_get(img,
		    "name"));
		const char *latest = NULL;
		json_t *vs = json_object_get(img, "versions");

		if (name == NULL)
			continue;
		json_array_foreach(vs, j, v) {
			const char *ver = json_string_value(json_object_get(v,
			    "version"));
			if (ver != NULL && (latest == NULL ||
			    strverscmp(ver, latest) > 0))
				latest = ver;
		}
		json_array_foreach(vs, j, v) {
			const char *ver = json_string_value(json_object_get(v,
			    "version"));
			char ref[IMAGE_REF_MAX + 1];
			json_t *slots = json_array();

			if (ver == NULL)
				continue;
			json_array_foreach(nodes, k, nd)
				if (node_runs(json_string_value(
				    json_object_get(nd, "image")), name, ver,
				    latest))
					json_array_append(slots,
					    json_object_get(nd, "slot"));
			snprintf(ref, sizeof(ref), "%s:%s", name, ver);
			json_array_append_new(out, json_pack("{s:s,s:b,s:o}",
			    "image", ref, "signed", json_is_true(
			    json_object_get(v, "signed")), "nodes", slots));
		}
	}
	json_decref(imgs);
	json_decref(nodes);
	return json_pack("{s:s,s:b,s:o}", "rack", rk->url, "ok", 1, "images",
	    out);
}

static void
fleet_usage(FILE *f)
{
	fprintf(f,
	    "Usage: rackctl fleet status --racks FILE [--json]\n"
	    "       rackctl fleet status RACK... [--json]\n"
	    "\n"
	    "Each rack's images, and the nodes given each (a node given NAME "
	    "alone runs\n"
	    "its newest version). A rack that does not answer is shown so and "
	    "makes\n"
	    "the exit status 1.\n"
	    "\n"
	    "  -r, --racks FILE      racks and their tokens, one \"URL TOKEN\" "
	    "per line\n"
	    "  -t, --token-file FILE the token of the racks given as "
	    "arguments\n"
	    "      --json            JSON on standard output\n");
}

int
rackctl_cmd_fleet(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "racks", required_argument, NULL, 'r' },
		{ "token-file", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct progress_col cols[] = {
		{ "RACK", -40, 0 }, { "IMAGE", -30, 1 }, { "SIGNED", -6, 1 },
		{ "NODES", 0, 1 },
	};
	const char *racksfile = NULL, *tokfile = NULL;
	struct push_target *t = NULL;
	size_t n;
	bool json = false, ok = true;
	json_t *all;
	int o, rc;

	if (argc < 2 || strcmp(argv[1], "status") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)) {
			fleet_usage(stdout);
			return RACKCTL_OK;
		}
		return rackctl_usage("fleet", "fleet: status is its one "
		    "command");
	}
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":r:t:h", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			racksfile = optarg;
			break;
		case 't':
			tokfile = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			fleet_usage(stdout);
			return RACKCTL_OK;
		default:
			return rackctl_bad_option("fleet", "fleet status", o,
			    argv[optind - 1]);
		}
	}
	if ((rc = push_racks("fleet", racksfile, tokfile, argv + optind,
	    argc - optind, &t, &n)) != RACKCTL_OK)
		return rc;
	if (rackctl_http_init() < 0) {
		rackctl_error("libcurl failed to start");
		free(t);
		return RACKCTL_FAIL;
	}
	all = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *r = rack_status(&t[i].rack, RACKCTL_RETRIES_DEFAULT);
		if (!json_is_true(json_object_get(r, "ok")))
			ok = false;
		json_array_append_new(all, r);
	}
	if (json) {
		progress_json(stdout, all, 1);
	} else {
		size_t i, j, k;
		json_t *r, *img, *s;

		progress_table_row(stdout, cols, 4, NULL);
		json_array_foreach(all, i, r) {
			const char *url = json_string_value(json_object_get(r,
			    "rack"));
			if (!json_is_true(json_object_get(r, "ok"))) {
				const char *cells[4] = { url, "(no answer)",
				    "", json_string_value(json_object_get(r,
				    "error")) };
				progress_table_row(stdout, cols, 4, cells);
				continue;
			}
			if (json_array_size(json_object_get(r, "images")) ==
			    0) {
				const char *cells[4] = { url, "(no images)",
				    "", "" };
				progress_table_row(stdout, cols, 4, cells);
			}
			json_array_foreach(json_object_get(r, "images"), j,
			    img) {
				char slots[1024] = "";
				size_t used = 0;
				const char *cells[4];

				json_array_foreach(json_object_get(img,
				    "nodes"), k, s)
					if (used < sizeof(slots))
						used += (size_t)snprintf(slots +
						    used, sizeof(slots) - used,
						    "%s%s", used ? "," : "",
						    json_string_value(s));
				cells[0] = url;
				cells[1] = json_string_value(json_object_get(
				    img, "image"));
				cells[2] = json_is_true(json_object_get(img,
				    "signed")) ? "yes" : "no";
				cells[3] = used ? slots : "-";
				progress_table_row(stdout, cols, 4, cells);
			}
		}
	}
	json_decref(all);
	memset(t, 0, n * sizeof(*t));
	free(t);
	return ok ? RACKCTL_OK : RACKCTL_FAIL;
}
