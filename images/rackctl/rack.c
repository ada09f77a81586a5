/* images/rackctl/rack.c — driving a rack from a shell through its API:
 * "rackctl nodes RACK", "rackctl images RACK", "rackctl jobs RACK",
 * "rackctl reimage RACK SLOT IMAGE [--wait]" (a live progress bar from
 * /api/v1/events, and the job's result as the exit status). */
#include "images/rackctl/rackctl.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "images/manifest.h"

/* ---- shared ------------------------------------------------------------- */

struct rack_opts {
	const char *token_file;
	bool json;
	const char *node, *state; /* jobs */
	long limit;		  /* jobs */
	bool wait;		  /* reimage */
	long timeout;		  /* reimage --wait, seconds, 0 none */
};

static void
rack_usage(FILE *f)
{
	fprintf(f,
	    "Usage: rackctl nodes RACK [--json]\n"
	    "       rackctl images RACK [--json]\n"
	    "       rackctl jobs RACK [--node SLOT] [--state STATE] [--limit "
	    "N] [--json]\n"
	    "       rackctl reimage RACK SLOT IMAGE [--wait [--timeout "
	    "SECONDS]] [--json]\n"
	    "\n"
	    "Drive a rack through its rackd API. RACK is its URL "
	    "(http://rack12:8080);\n"
	    "the API token comes from RACKD_TOKEN or --token-file FILE.\n"
	    "\n"
	    "nodes    the rack's nodes: slot, label, state, link, address, "
	    "image, job\n"
	    "images   the rack's images and their versions\n"
	    "jobs     recent jobs, newest first\n"
	    "reimage  queue a reimage of the node in SLOT with IMAGE "
	    "(NAME[:VERSION]);\n"
	    "         prints the job. With --wait, follows the job live (a "
	    "progress bar\n"
	    "         on a terminal, a line per step otherwise) and exits 0 "
	    "when it is\n"
	    "         done, 1 when it failed or --timeout passed first.\n"
	    "\n"
	    "  -t, --token-file FILE  the API token (first line of FILE)\n"
	    "      --json             JSON as the rack sends it\n"
	    "  -n, --node SLOT        (jobs) only this node's\n"
	    "      --state STATE      (jobs) queued, booting, streaming, "
	    "verifying, done, failed\n"
	    "      --limit N          (jobs) at most N (1..%d, default %d)\n"
	    "  -w, --wait             (reimage) follow the job to its end\n"
	    "      --timeout SECONDS  (reimage --wait) give up waiting after "
	    "this long\n"
	    "\n"
	    "Exit status: 0 success, 1 failure, 2 usage error.\n",
	    JOBS_LIMIT_MAX, JOBS_LIMIT_DEFAULT);
}

/* Parses the options and the positional arguments (want of them): 0,
 * RACKCTL_HELP (--help printed) or RACKCTL_USAGE (the error printed). */
static int
parse(int argc, char **argv, const char *cmd, int want, const char **pos,
    struct rack_opts *ro)
{
	static const struct option opts[] = {
		{ "token-file", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'J' },
		{ "node", required_argument, NULL, 'n' },
		{ "state", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'L' },
		{ "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o, npos = 0;
	bool jobs = strcmp(cmd, "jobs") == 0,
	     reimage = strcmp(cmd, "reimage") == 0;

	memset(ro, 0, sizeof *ro);
	ro->limit = JOBS_LIMIT_DEFAULT;
	optind = 0;
	opterr = 0;
	/* "-" first: positional arguments may come between options */
	while ((o = getopt_long(argc, argv, "-:t:n:wh", opts, NULL)) != -1) {
		switch (o) {
		case 1:
			if (npos == want)
				return rackctl_usage(cmd,
				    "%s: unexpected argument '%s'", cmd,
				    optarg);
			pos[npos++] = optarg;
			break;
		case 't':
			ro->token_file = optarg;
			break;
		case 'J':
			ro->json = true;
			break;
		case 'n':
		case 'S':
		case 'L':
			if (!jobs)
				return rackctl_usage(cmd,
				    "%s: unknown option '%s'", cmd,
				    argv[optind - 1]);
			if (o == 'n')
				ro->node = optarg;
			else if (o == 'S')
				ro->state = optarg;
			else if (!rackctl_parse_long(
				     optarg, 1, JOBS_LIMIT_MAX, &ro->limit))
				return rackctl_usage(cmd,
				    "--limit %s: a number from 1 to %d", optarg,
				    JOBS_LIMIT_MAX);
			break;
		case 'w':
		case 'T':
			if (!reimage)
				return rackctl_usage(cmd,
				    "%s: unknown option '%s'", cmd,
				    argv[optind - 1]);
			if (o == 'w')
				ro->wait = true;
			else if (!rackctl_parse_long(
				     optarg, 0, WAIT_TIMEOUT_MAX, &ro->timeout))
				return rackctl_usage(cmd,
				    "--timeout %s: seconds, 0 to %d", optarg,
				    WAIT_TIMEOUT_MAX);
			break;
		case 'h':
			rack_usage(stdout);
			return RACKCTL_HELP;
		default:
			return rackctl_bad_option(cmd, cmd, o,
			    argv[optind - 1]);
		}
	}
	if (npos < want)
		return rackctl_usage(cmd, "%s: missing %s", cmd,
		    npos == 0	    ? "RACK"
			: npos == 1 ? "SLOT"
				    : "IMAGE");
	return 0;
}

/* GET path; the JSON reply or NULL (error printed). */
static json_t *
get_json(const struct rack *rk, const char *path)
{
	struct http_reply r;
	char e[RACKCTL_ERR_MAX];
	json_t *o = NULL;

	if (rackctl_request(rk, "GET", path, NULL, NULL, 0,
		RACKCTL_RETRIES_DEFAULT, &r) < 0 ||
	    r.status != 200)
		rackctl_error("%s%s: %s", rk->url, path,
		    rackctl_reply_error(&r, e, sizeof e));
	else if (!(o = rackctl_reply_json(&r)))
		rackctl_error("%s%s: the reply is not JSON", rk->url, path);
	rackctl_reply_free(&r);
	return o;
}

static void
print_json(json_t *o)
{
	progress_json(stdout, o, 2);
}

/* A string field, or "-". */
static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : "-";
}

/* Common start of the listing commands: the rack and the options. 0,
 * RACKCTL_HELP, or an exit status (the error printed). */
static int
start(int argc, char **argv, const char *cmd, int want, const char **pos,
    struct rack_opts *ro, struct rack *rk)
{
	int r = parse(argc, argv, cmd, want, pos, ro);
	if (r)
		return r;
	if (rackctl_http_init() < 0) {
		rackctl_error("libcurl failed to start");
		return RACKCTL_FAIL;
	}
	return rackctl_rack_arg(pos[0], ro->token_file, rk);
}

#define START(cmd, want)                                              \
	do {                                                          \
		int r_ = start(argc, argv, cmd, want, pos, &ro, &rk); \
		if (r_)                                               \
			return r_ == RACKCTL_HELP ? RACKCTL_OK : r_;  \
	} while (0)

/* ---- nodes, images, jobs -------------------------------------------- */

int
rackctl_cmd_nodes(int argc, char **argv)
{
	const char *pos[1];
	struct rack_opts ro;
	struct rack rk;
	json_t *a, *n;
	size_t i;

	START("nodes", 1);
	if (!(a = get_json(&rk, "/api/v1/nodes")))
		return RACKCTL_FAIL;
	if (ro.json) {
		print_json(a);
	} else {
		printf("%-12s %-12s %-10s %-5s %-15s %-24s %-8s %s\n", "SLOT",
		    "LABEL", "STATE", "LINK", "ADDRESS", "IMAGE", "BOOT",
		    "LAST JOB");
		json_array_foreach(a, i, n)
		{
			json_t *job = json_object_get(n, "job");
			char last[160] = "-";
			if (json_is_object(job))
				snprintf(last, sizeof last,
				    "%" JSON_INTEGER_FORMAT " %s%s%s",
				    json_integer_value(
					json_object_get(job, "id")),
				    str(job, "state"),
				    json_string_value(
					json_object_get(job, "reason"))
					? ": " : "",
				    json_string_value(
					json_object_get(job, "reason"))
					? json_string_value(
					      json_object_get(job, "reason"))
					: "");
			printf("%-12s %-12s %-10s %-5s %-15s %-24s %-8s %s\n",
			    str(n, "slot"), str(n, "label"), str(n, "state"),
			    str(json_object_get(n, "link"), "state"),
			    str(n, "address"), str(n, "image"),
			    str(n, "boot_mode"), last);
		}
	}
	json_decref(a);
	return RACKCTL_OK;
}

int
rackctl_cmd_images(int argc, char **argv)
{
	const char *pos[1];
	struct rack_opts ro;
	struct rack rk;
	json_t *a, *img, *v;
	size_t i, j;
	char h1[HUMAN_MAX], h2[HUMAN_MAX];

	START("images", 1);
	if (!(a = get_json(&rk, "/api/v1/images")))
		return RACKCTL_FAIL;
	if (ro.json) {
		print_json(a);
	} else {
		printf("%-24s %-20s %-6s %10s %8s %10s %-6s %s\n", "NAME",
		    "VERSION", "KIND", "SIZE", "CHUNKS", "STORED", "SIGNED",
		    "CREATED");
		json_array_foreach(a, i, img)
		{
			json_array_foreach(
			    json_object_get(img, "versions"), j, v)
			{
				printf("%-24s %-20s %-6s %10s "
				       "%8" JSON_INTEGER_FORMAT
				       " %10s %-6s %s\n",
				    str(img, "name"), str(v, "version"),
				    str(v, "kind"),
				    fmt_bytes(
					(uint64_t)json_integer_value(
					    json_object_get(v, "size")),
					h1, sizeof h1),
				    json_integer_value(
					json_object_get(v, "chunk_count")),
				    fmt_bytes(
					(uint64_t)json_integer_value(
					    json_object_get(v, "stored")),
					h2, sizeof h2),
				    json_is_true(json_object_get(v, "signed"))
					? "yes" : "no",
				    str(v, "created"));
			}
		}
	}
	json_decref(a);
	return RACKCTL_OK;
}

/* Query values: only characters that need no escaping. */
static bool
query_safe(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
			*s == '-'))
			return false;
	return true;
}

int
rackctl_cmd_jobs(int argc, char **argv)
{
	const char *pos[1];
	struct rack_opts ro;
	struct rack rk;
	char path[URL_PATH_MAX], h1[HUMAN_MAX], h2[HUMAN_MAX];
	json_t *a, *j;
	size_t i;

	START("jobs", 1);
	if ((ro.node && !query_safe(ro.node)) ||
	    (ro.state && !query_safe(ro.state)))
		return rackctl_usage("jobs",
		    "jobs: --node and --state take letters, digits, '.', '_', "
		    "'-'");
	snprintf(path, sizeof path, "/api/v1/jobs?limit=%ld%s%s%s%s", ro.limit,
	    ro.node ? "&node=" : "", ro.node ? ro.node : "",
	    ro.state ? "&state=" : "", ro.state ? ro.state : "");
	if (!(a = get_json(&rk, path)))
		return RACKCTL_FAIL;
	if (ro.json) {
		print_json(a);
	} else {
		printf("%-6s %-12s %-8s %-28s %-10s %21s  %-24s %s\n", "ID",
		    "SLOT", "ACTION", "IMAGE", "STATE", "PROGRESS", "CREATED",
		    "REASON");
		json_array_foreach(a, i, j)
		{
			char prog[48];
			snprintf(prog, sizeof prog, "%s/%s",
			    fmt_bytes((uint64_t)json_integer_value(
					      json_object_get(j, "bytes_done")),
				h1, sizeof h1),
			    fmt_bytes(
				(uint64_t)json_integer_value(
				    json_object_get(j, "bytes_total")),
				h2, sizeof h2));
			printf("%-6" JSON_INTEGER_FORMAT
			       " %-12s %-8s %-28s %-10s %21s  %-24s %s\n",
			    json_integer_value(json_object_get(j, "id")),
			    str(j, "slot"), str(j, "action"), str(j, "image"),
			    str(j, "state"), prog, str(j, "created"),
			    str(j, "reason"));
		}
	}
	json_decref(a);
	return RACKCTL_OK;
}

/* ---- reimage, --wait ------------------------------------------------ */

struct waiter {
	json_int_t job; /* 0 until the job is known */
	char line[SSE_LINE_MAX];
	size_t linelen;
	bool overlong;
	char event[32];
	char *data; /* the event's data lines */
	size_t datalen;
	char last_id[32];
	bool connected; /* bytes came on this connection */
	double last_byte;
	json_t *early; /* job events before the job was known */
	/* the job as last seen */
	char state[16];
	char reason[RACKCTL_REASON_MAX];
	json_int_t done, total, rate;
	bool ended;
	struct progress pg; /* a bar on a terminal, else a line per step */
	char shown_state[16];
};

/* The job as last seen: the bar redrawn on a terminal, a line at each new
 * state otherwise (progress.c). */
static void
show(struct waiter *w)
{
	char label[48], sizes[3 * HUMAN_MAX + 16];
	char h1[HUMAN_MAX], h2[HUMAN_MAX];
	uint64_t done = w->done > 0 ? (uint64_t)w->done : 0;
	uint64_t total = w->total > 0 ? (uint64_t)w->total : 0;
	int pc = total > 0 ? progress_pct(done, total) : 0;

	if (strcmp(w->state, "done") == 0)
		pc = 100;
	snprintf(label, sizeof(label), "job %" JSON_INTEGER_FORMAT, w->job);
	progress_bar(&w->pg, label, pc, "%-9s %s", w->state,
	    progress_sizes(done, total, (double)w->rate, sizes, sizeof(sizes)));
	if (w->pg.mode == PROGRESS_LINES &&
	    strcmp(w->state, w->shown_state) != 0) {
		progress_line(&w->pg,
		    "job %" JSON_INTEGER_FORMAT ": %s%s%s (%s of %s)", w->job,
		    w->state, w->reason[0] ? ": " : "", w->reason,
		    fmt_bytes(done, h1, sizeof(h1)),
		    fmt_bytes(total, h2, sizeof(h2)));
		snprintf(
		    w->shown_state, sizeof(w->shown_state), "%s", w->state);
	}
}

/* A job object (from an event or GET /api/v1/jobs/ID). */
static void
job_seen(struct waiter *w, json_t *j)
{
	const char *s = json_string_value(json_object_get(j, "state"));
	const char *reason = json_string_value(json_object_get(j, "reason"));

	if (!s || json_integer_value(json_object_get(j, "id")) != w->job)
		return;
	snprintf(w->state, sizeof w->state, "%s", s);
	snprintf(w->reason, sizeof w->reason, "%s", reason ? reason : "");
	w->done = json_integer_value(json_object_get(j, "bytes_done"));
	w->total = json_integer_value(json_object_get(j, "bytes_total"));
	w->rate = json_integer_value(json_object_get(j, "rate"));
	w->ended = strcmp(s, "done") == 0 || strcmp(s, "failed") == 0;
	show(w);
}

static void
dispatch(struct waiter *w)
{
	if (strcmp(w->event, "job") == 0 && w->data) {
		json_t *j = json_loadb(w->data, w->datalen, 0, NULL);
		if (j && w->job == 0) {
			if (json_array_size(w->early) < WAIT_EARLY_MAX)
				json_array_append(w->early, j);
		} else if (j) {
			job_seen(w, j);
		}
		json_decref(j);
	}
	w->event[0] = '\0';
	free(w->data);
	w->data = NULL;
	w->datalen = 0;
}

static void
sse_line(struct waiter *w, const char *l, size_t n)
{
	if (n == 0) {
		dispatch(w);
		return;
	}
	if (l[0] == ':')
		return;
	const char *colon = memchr(l, ':', n);
	size_t fl = colon ? (size_t)(colon - l) : n;
	const char *v = colon ? colon + 1 : l + n;
	size_t vl = colon ? n - fl - 1 : 0;
	if (vl && *v == ' ') {
		v++;
		vl--;
	}
	if (fl == 5 && memcmp(l, "event", 5) == 0) {
		snprintf(w->event, sizeof w->event, "%.*s", (int)vl, v);
	} else if (fl == 4 && memcmp(l, "data", 4) == 0) {
		char *nd = realloc(w->data, w->datalen + vl + 2);
		if (!nd)
			return;
		w->data = nd;
		if (w->datalen)
			w->data[w->datalen++] = '\n';
		memcpy(w->data + w->datalen, v, vl);
		w->datalen += vl;
		w->data[w->datalen] = '\0';
	} else if (fl == 2 && memcmp(l, "id", 2) == 0 &&
	    vl < sizeof w->last_id) {
		snprintf(w->last_id, sizeof w->last_id, "%.*s", (int)vl, v);
	}
}

static size_t
sse_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct waiter *w = arg;
	size_t n = size * nmemb;

	w->connected = true;
	w->last_byte = rackctl_now();
	for (size_t i = 0; i < n; i++) {
		char c = data[i];
		if (c == '\n') {
			if (!w->overlong) {
				size_t l = w->linelen;
				if (l && w->line[l - 1] == '\r')
					l--;
				sse_line(w, w->line, l);
			}
			w->linelen = 0;
			w->overlong = false;
		} else if (w->linelen + 1 < sizeof w->line) {
			w->line[w->linelen++] = c;
		} else {
			w->overlong = true; /* dropped, not cut */
		}
	}
	return n;
}

/* The SSE connection, made (again). */
static CURL *
sse_open(const struct rack *rk, struct waiter *w, struct curl_slist **hdrs)
{
	char url[RACK_URL_MAX + 32], h[64];
	CURL *c = curl_easy_init();

	curl_slist_free_all(*hdrs);
	*hdrs = rackctl_auth_headers(rk, NULL);
	if (!c || !*hdrs) {
		if (c)
			curl_easy_cleanup(c);
		return NULL;
	}
	curl_slist_append(*hdrs, "Accept: text/event-stream");
	if (w->last_id[0]) {
		snprintf(h, sizeof h, "Last-Event-ID: %s", w->last_id);
		curl_slist_append(*hdrs, h);
	}
	snprintf(url, sizeof url, "%s/api/v1/events", rk->url);
	rackctl_curl_common(c);
	/* rackd sends a comment every 15 s; our own idle check replaces
	 * libcurl's speed limit, which a quiet stream would trip. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 0L);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sse_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	w->connected = false;
	w->linelen = 0;
	w->last_byte = rackctl_now();
	return c;
}

/* GET the job (catching up after a (re)connection). */
static void
job_refresh(const struct rack *rk, struct waiter *w)
{
	char path[64];
	snprintf(
	    path, sizeof path, "/api/v1/jobs/%" JSON_INTEGER_FORMAT, w->job);
	json_t *j = get_json(rk, path);
	if (j)
		job_seen(w, j);
	json_decref(j);
}

/* POST the reimage. The job's JSON, or NULL (error printed). */
static json_t *
post_reimage(const struct rack *rk, const char *slot, const char *image)
{
	struct http_reply r;
	char path[URL_PATH_MAX], e[RACKCTL_ERR_MAX];
	json_t *body = json_pack("{s:s}", "image", image), *o = NULL;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	snprintf(path, sizeof path, "/api/v1/nodes/%s/reimage", slot);
	/* Not retried: a lost reply must not queue a second job. */
	if (!text ||
	    rackctl_request(rk, "POST", path, "application/json", text,
		strlen(text), 0, &r) < 0 ||
	    r.status != 202)
		rackctl_error("reimage %s with %s: %s", slot, image,
		    rackctl_reply_error(&r, e, sizeof e));
	else if (!(o = rackctl_reply_json(&r)))
		rackctl_error("reimage: the reply is not JSON");
	free(text);
	rackctl_reply_free(&r);
	return o;
}

static int
wait_job(const struct rack *rk, const char *slot, const char *image,
    struct rack_opts *ro)
{
	struct waiter *w = calloc(1, sizeof *w);
	struct curl_slist *hdrs = NULL;
	CURLM *multi = curl_multi_init();
	CURL *sse = NULL;
	json_t *job = NULL;
	int rc = RACKCTL_FAIL, reconnects = 0;
	double t0 = rackctl_now();

	if (!w || !multi || !(w->early = json_array())) {
		rackctl_error("out of memory");
		goto out;
	}
	progress_init(
	    &w->pg, progress_mode_for(false, ro->json), WAIT_BAR, 0, 0);
	/* Listen first, then ask: no event of the job can be missed. */
	if (!(sse = sse_open(rk, w, &hdrs)) ||
	    curl_multi_add_handle(multi, sse) != CURLM_OK) {
		rackctl_error("out of memory");
		goto out;
	}
	while (!w->ended) {
		int running;
		curl_multi_poll(multi, NULL, 0, WAIT_POLL_MS, NULL);
		curl_multi_perform(multi, &running);
		CURLMsg *msg;
		int left;
		bool dropped = false;
		while ((msg = curl_multi_info_read(multi, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE)
				dropped = true;
		double now = rackctl_now();
		if (!dropped && now - w->last_byte > SSE_IDLE_MAX)
			dropped = true;
		if (dropped) {
			if (w->job == 0 || ++reconnects > SSE_RECONNECTS) {
				rackctl_error(
				    "%s/api/v1/events: the event stream ended",
				    rk->url);
				goto out;
			}
			curl_multi_remove_handle(multi, sse);
			curl_easy_cleanup(sse);
			rackctl_sleep_ms(rackctl_backoff_ms(
			    reconnects < 5 ? reconnects : 5));
			if (!(sse = sse_open(rk, w, &hdrs)) ||
			    curl_multi_add_handle(multi, sse) != CURLM_OK) {
				rackctl_error("out of memory");
				goto out;
			}
			job_refresh(rk, w);
			continue;
		}
		if (w->job == 0 && w->connected) {
			if (!(job = post_reimage(rk, slot, image)))
				goto out;
			w->job = json_integer_value(json_object_get(job, "id"));
			if (!ro->json)
				fprintf(stderr,
				    "job %" JSON_INTEGER_FORMAT
				    ": reimage %s with %s\n",
				    w->job, slot, str(job, "image"));
			job_seen(w, job);
			size_t i;
			json_t *e;
			json_array_foreach(w->early, i, e) job_seen(w, e);
		}
		if (ro->timeout > 0 && now - t0 > (double)ro->timeout) {
			progress_end(&w->pg, true);
			rackctl_error("job %" JSON_INTEGER_FORMAT
				      " is still %s after %ld s; it goes on",
			    w->job, w->state[0] ? w->state : "queued",
			    ro->timeout);
			goto out;
		}
	}
	progress_end(&w->pg, true);
	if (ro->json) {
		char path[64];
		snprintf(path, sizeof path,
		    "/api/v1/jobs/%" JSON_INTEGER_FORMAT, w->job);
		json_t *j = get_json(rk, path);
		if (j)
			print_json(j);
		json_decref(j);
	}
	if (strcmp(w->state, "done") == 0) {
		if (!ro->json)
			printf("job %" JSON_INTEGER_FORMAT ": done in %.0f s\n",
			    w->job, rackctl_now() - t0);
		rc = RACKCTL_OK;
	} else {
		rackctl_error("job %" JSON_INTEGER_FORMAT " failed: %s", w->job,
		    w->reason[0] ? w->reason : "?");
	}
out:
	if (sse) {
		curl_multi_remove_handle(multi, sse);
		curl_easy_cleanup(sse);
	}
	if (multi)
		curl_multi_cleanup(multi);
	curl_slist_free_all(hdrs);
	json_decref(job);
	if (w) {
		json_decref(w->early);
		free(w->data);
	}
	free(w);
	return rc;
}

int
rackctl_cmd_reimage(int argc, char **argv)
{
	const char *pos[3];
	struct rack_opts ro;
	struct rack rk;
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1],
	    err[RACKCTL_ERR_MAX];

	START("reimage", 3);
	if (!query_safe(pos[1]))
		return rackctl_usage(
		    "reimage", "reimage: '%s' is not a slot name", pos[1]);
	if (image_ref_parse(pos[2], name, version, err, sizeof err) < 0)
		return rackctl_usage("reimage", "%s", err);
	if (ro.wait)
		return wait_job(&rk, pos[1], pos[2], &ro);
	json_t *job = post_reimage(&rk, pos[1], pos[2]);
	if (!job)
		return RACKCTL_FAIL;
	if (ro.json)
		print_json(job);
	else
		printf("job %" JSON_INTEGER_FORMAT ": reimage %s with %s: %s\n",
		    json_integer_value(json_object_get(job, "id")), pos[1],
		    str(job, "image"), str(job, "state"));
	json_decref(job);
	return RACKCTL_OK;
}
