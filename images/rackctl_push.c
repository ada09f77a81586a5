/* images/rackctl_push.c — "rackctl push NAME[:VERSION] RACK...": an image
 * of the local store to many racks at once.
 *
 * For each rack: post the manifest (the rack answers the chunks it lacks),
 * upload those chunks over a few parallel streams, then commit. Racks go
 * in parallel (--jobs), chunks of a rack too (--streams). Nothing the rack
 * has is sent again, so running the same push after any interruption goes
 * on where it stopped. Network errors are retried with backoff (--retries
 * times per request), after which that rack fails and the others go on.
 */
#include "images/rackctl.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "images/chunk.h"
#include "images/hash.h"
#include "images/manifest.h"
#include "images/store.h"

#define ERRLEN               512
#define PUSH_JOBS_DEFAULT    4
#define PUSH_JOBS_MAX        64
#define PUSH_STREAMS_DEFAULT 4
#define PUSH_STREAMS_MAX     32
#define PUSH_RETRIES_MAX     100
#define PUSH_ROUNDS_MAX      3      /* manifest, chunks, commit: again while chunks go missing */
#define DRAW_INTERVAL_MS     200
#define PLAIN_STEP           25     /* percent between plain progress lines */
#define BAR_WIDTH            20
#define POLL_MS              100
#define PATCH_REFUSED_MAX    3      /* patches sent back whole: then no more */

enum tstate { T_WAIT, T_MANIFEST, T_UPLOAD, T_COMMIT, T_DONE, T_FAILED };
static const char *const tstate_name[] = { "waiting", "manifest", "uploading", "committing", "done",
					   "failed" };

struct target {
	struct rack rack;
	enum tstate state;
	bool already;            /* the rack had the image */
	bool counted;            /* missing is the first answer's */
	uint64_t chunks;         /* distinct chunks of the image */
	uint64_t missing;        /* the rack lacked (first answer) */
	uint64_t chunks_sent;    /* uploads the rack took */
	uint64_t chunks_patched; /* of those, sent as patches */
	struct patch_base *base; /* what to patch against (NULL: none) */
	bool base_looked;        /* the rack was asked for it */
	unsigned patch_refused;  /* patches the rack asked to have whole */
	uint64_t bytes_total;    /* compressed bytes the rack lacked */
	uint64_t bytes_done;     /* of those, uploaded and taken */
	uint64_t bytes_flight;   /* of uploads under way */
	uint64_t bytes_sent;     /* chunk bodies sent, every attempt counted */
	uint64_t manifest_bytes; /* manifest bodies sent */
	unsigned retries;        /* requests retried */
	double start, end;
	int plain_pct;           /* last percent printed as a plain line */
	char error[ERRLEN];
};

struct push {
	struct store *st;
	struct manifest *m;
	char *manifest_json;
	size_t manifest_len;
	char api_path[URL_PATH_MAX];
	struct target *t;
	size_t n, next, finished;
	uint64_t distinct;       /* distinct chunks of the image */
	int streams, retries;
	int level;               /* the store's zstd level (patches) */
	bool json, tty, quiet, patch;
	pthread_mutex_t lock;
	pthread_cond_t finish;   /* signalled as each rack finishes */
};

/* One chunk to upload. */
struct item {
	char hash[HASH_HEX_LEN + 1];
	uint64_t size;
	int attempts;
	double not_before;
	bool whole;              /* not as a patch */
};

/* One upload under way. */
struct xfer {
	CURL *easy;
	struct curl_slist *hdrs;
	FILE *f;
	void *patch;             /* the body, when a patch */
	size_t item;
	curl_off_t shown;        /* bytes counted into bytes_flight */
	struct http_reply reply;
	char ebuf[CURL_ERROR_SIZE];
	struct push *p;
	struct target *t;
	bool busy;
};

static void set_state(struct push *p, struct target *t, enum tstate s)
{
	pthread_mutex_lock(&p->lock);
	t->state = s;
	pthread_mutex_unlock(&p->lock);
}

static int fail(struct push *p, struct target *t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct push *p, struct target *t, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&p->lock);
	va_start(ap, fmt);
	vsnprintf(t->error, sizeof t->error, fmt, ap);
	va_end(ap);
	for (char *c = t->error; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	t->state = T_FAILED;
	pthread_mutex_unlock(&p->lock);
	return -1;
}

/* ---- the manifest ------------------------------------------------------- */

/* Posts the manifest. 0 with the missing chunks in *items (*n of them),
 * 1 if the rack has the image already, -1 failed. */
static int post_manifest(struct push *p, struct target *t, struct item **items, size_t *n)
{
	struct http_reply r;
	char e[ERRLEN];
	json_t *o = NULL, *missing, *h;
	size_t i;

	*items = NULL;
	*n = 0;
	set_state(p, t, T_MANIFEST);
	if (rackctl_request(&t->rack, "POST", p->api_path, "application/json", p->manifest_json,
			    p->manifest_len, p->retries, &r) < 0) {
		rackctl_reply_free(&r);
		return fail(p, t, "%s", rackctl_reply_error(&r, e, sizeof e));
	}
	pthread_mutex_lock(&p->lock);
	t->manifest_bytes += p->manifest_len;
	pthread_mutex_unlock(&p->lock);
	if (r.status != 200) {
		fail(p, t, "manifest refused: %s", rackctl_reply_error(&r, e, sizeof e));
		rackctl_reply_free(&r);
		return -1;
	}
	o = rackctl_reply_json(&r);
	rackctl_reply_free(&r);
	const char *state = json_string_value(json_object_get(o, "state"));
	missing = json_object_get(o, "missing");
	if (!state || !json_is_array(missing)) {
		json_decref(o);
		return fail(p, t, "the rack's answer to the manifest is not understood");
	}
	if (strcmp(state, "committed") == 0) {
		json_decref(o);
		return 1;
	}
	size_t cnt = json_array_size(missing);
	if (cnt > p->m->nchunks) {
		json_decref(o);
		return fail(p, t, "the rack asks for more chunks than the image has");
	}
	*items = calloc(cnt ? cnt : 1, sizeof **items);
	if (!*items) {
		json_decref(o);
		return fail(p, t, "out of memory");
	}
	json_array_foreach(missing, i, h) {
		const char *hex = json_string_value(h);
		struct item *it = &(*items)[*n];
		if (!hex || !hash_hex_valid(hex)) {
			json_decref(o);
			return fail(p, t, "the rack asks for a chunk that is not a hash");
		}
		if (store_chunk_size(p->st, hex, &it->size) < 0) {
			json_decref(o);
			return fail(p, t, "chunk %s is not in the local store (rackctl image verify)", hex);
		}
		memcpy(it->hash, hex, HASH_HEX_LEN + 1);
		(*n)++;
	}
	pthread_mutex_lock(&p->lock);
	if (t->state != T_FAILED && !t->counted) {
		t->missing = cnt;
		t->counted = true;
	}
	t->bytes_total = t->bytes_done;
	for (i = 0; i < *n; i++)
		t->bytes_total += (*items)[i].size;
	pthread_mutex_unlock(&p->lock);
	json_decref(o);
	return 0;
}

/* ---- the chunks ------------------------------------------------------- */

static int xferinfo(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = arg;
	if (ulnow > x->shown) {
		pthread_mutex_lock(&x->p->lock);
		x->t->bytes_flight += (uint64_t)(ulnow - x->shown);
		pthread_mutex_unlock(&x->p->lock);
		x->shown = ulnow;
	}
	return 0;
}

/* Starts uploading items[i] on x. 0, or -1 (the target failed). */
static int xfer_start(struct push *p, struct target *t, CURLM *multi, struct xfer *x, struct item *items,
		      size_t i)
{
	char url[RACK_URL_MAX + URL_PATH_MAX + 100], path[STORE_PATH_MAX], base[HASH_HEX_LEN + 1];
	struct item *it = &items[i];
	uint64_t size = it->size;
	size_t plen = 0;

	x->f = NULL;
	x->patch = NULL;
	if (t->base && !it->whole && t->patch_refused < PATCH_REFUSED_MAX &&
	    patch_make(t->base, p->st, it->hash, it->size, &x->patch, &plen, base) == 1) {
		if ((x->f = fmemopen(x->patch, plen, "rb")) != NULL) {
			size = plen;
			snprintf(url, sizeof url, "%s/api/v1/chunks/%s?base=%s&level=%d", t->rack.url, it->hash,
				 base, patch_base_level(t->base));
		} else {
			free(x->patch);
			x->patch = NULL;
		}
	}
	if (!x->f) {
		if (store_chunk_path(p->st, it->hash, path, sizeof path) < 0 || !(x->f = fopen(path, "rbe")))
			return fail(p, t, "chunk %s: cannot read it from the local store: %s", it->hash,
				    strerror(errno));
		snprintf(url, sizeof url, "%s/api/v1/chunks/%s", t->rack.url, it->hash);
	}
	curl_easy_reset(x->easy);
	rackctl_curl_common(x->easy);
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->easy, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(x->easy, CURLOPT_READDATA, x->f);
	curl_easy_setopt(x->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, rackctl_collect_cb);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, &x->reply);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->ebuf);
	curl_easy_setopt(x->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(x->easy, CURLOPT_XFERINFOFUNCTION, xferinfo);
	curl_easy_setopt(x->easy, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	x->ebuf[0] = '\0';
	x->reply.len = 0;
	x->reply.status = 0;
	x->reply.err[0] = '\0';
	x->item = i;
	x->shown = 0;
	x->busy = true;
	if (curl_multi_add_handle(multi, x->easy) != CURLM_OK) {
		fclose(x->f);
		x->f = NULL;
		free(x->patch);
		x->patch = NULL;
		x->busy = false;
		return fail(p, t, "out of memory");
	}
	return 0;
}

/* What became of an upload. */
enum outcome { UP_OK, UP_RETRY, UP_WHOLE, UP_RESTART, UP_FATAL };

static enum outcome xfer_end(struct push *p, struct target *t, CURLM *multi, struct xfer *x, CURLcode cr,
			     struct item *it, char *why, size_t whylen)
{
	curl_off_t ul = 0;
	long st = 0;

	curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &ul);
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
	curl_multi_remove_handle(multi, x->easy);
	fclose(x->f);
	x->f = NULL;
	bool patched = x->patch != NULL;
	free(x->patch);
	x->patch = NULL;
	x->busy = false;
	pthread_mutex_lock(&p->lock);
	t->bytes_flight -= (uint64_t)x->shown;
	t->bytes_sent += (uint64_t)ul;
	pthread_mutex_unlock(&p->lock);
	x->reply.status = cr == CURLE_OK ? st : 0;
	if (cr != CURLE_OK) {
		snprintf(why, whylen, "chunk %.16s: %s", it->hash, x->ebuf[0] ? x->ebuf : curl_easy_strerror(cr));
		return UP_RETRY;
	}
	if (st == 200 || st == 201) {
		pthread_mutex_lock(&p->lock);
		t->bytes_done += it->size;
		if (st == 201)
			t->chunks_sent++;
		if (st == 201 && patched)
			t->chunks_patched++;
		pthread_mutex_unlock(&p->lock);
		return UP_OK;
	}
	char e[ERRLEN];
	rackctl_reply_error(&x->reply, e, sizeof e);
	snprintf(why, whylen, "chunk %s: %.400s", it->hash, e);
	if (patched && st != 401 && st != 403) {
		/* The rack cannot take it as a patch: send it whole. */
		it->whole = true;
		pthread_mutex_lock(&p->lock);
		t->patch_refused++;
		pthread_mutex_unlock(&p->lock);
		return UP_WHOLE;
	}
	if (st == 409)
		return UP_RESTART;	/* the rack no longer waits for it: post again */
	if (st == 500 || st == 502 || st == 503 || st == 504)
		return UP_RETRY;
	return UP_FATAL;
}

/* Uploads items. 0 all taken, 1 post the manifest again, -1 failed. */
static int upload(struct push *p, struct target *t, struct item *items, size_t n)
{
	struct xfer *xs = calloc((size_t)p->streams, sizeof *xs);
	size_t *queue = calloc(n ? n : 1, sizeof *queue), head = 0, tail = 0, done = 0;
	CURLM *multi = curl_multi_init();
	int rc = -1, active = 0;
	char why[ERRLEN] = "";
	bool restart = false;

	if (!xs || !queue || !multi) {
		fail(p, t, "out of memory");
		goto out;
	}
	for (int i = 0; i < p->streams; i++) {
		xs[i].p = p;
		xs[i].t = t;
		if (!(xs[i].easy = curl_easy_init()) || !(xs[i].hdrs = rackctl_auth_headers(&t->rack,
											     "application/zstd"))) {
			fail(p, t, "out of memory");
			goto out;
		}
	}
	/* A queue of item indices (a ring of n): retries go to its end. */
	for (size_t i = 0; i < n; i++)
		queue[tail++ % n] = i;
	set_state(p, t, T_UPLOAD);
	while (done < n && !restart) {
		double now = rackctl_now();
		long wait = POLL_MS;
		/* Start what may start. */
		while (active < p->streams && head != tail) {
			struct item *it = &items[queue[head % n]];
			if (it->not_before > now) {
				long ms = (long)((it->not_before - now) * 1000) + 1;
				if (ms < wait)
					wait = ms;
				break;
			}
			struct xfer *x = NULL;
			for (int i = 0; i < p->streams && !x; i++)
				if (!xs[i].busy)
					x = &xs[i];
			if (xfer_start(p, t, multi, x, items, queue[head % n]) < 0)
				goto out;
			head++;
			active++;
		}
		int running;
		curl_multi_poll(multi, NULL, 0, (int)wait, NULL);
		curl_multi_perform(multi, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct xfer *x;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			struct item *it = &items[x->item];
			CURLcode cr = msg->data.result;
			active--;
			switch (xfer_end(p, t, multi, x, cr, it, why, sizeof why)) {
			case UP_OK:
				done++;
				break;
			case UP_RETRY:
				if (it->attempts >= p->retries) {
					fail(p, t, "%s (after %d retries)", why, it->attempts);
					goto out;
				}
				it->not_before = rackctl_now() + (double)rackctl_backoff_ms(it->attempts) / 1000;
				it->attempts++;
				pthread_mutex_lock(&p->lock);
				t->retries++;
				pthread_mutex_unlock(&p->lock);
				queue[tail++ % n] = x->item;
				break;
			case UP_WHOLE:
				queue[tail++ % n] = x->item;
				break;
			case UP_RESTART:
				restart = true;
				break;
			case UP_FATAL:
				fail(p, t, "%s", why);
				goto out;
			}
		}
	}
	rc = restart ? 1 : 0;
out:
	for (int i = 0; xs && i < p->streams; i++) {
		if (xs[i].busy) {
			curl_multi_remove_handle(multi, xs[i].easy);
			fclose(xs[i].f);
			free(xs[i].patch);
			pthread_mutex_lock(&p->lock);
			t->bytes_flight -= (uint64_t)xs[i].shown;
			pthread_mutex_unlock(&p->lock);
		}
		if (xs[i].easy)
			curl_easy_cleanup(xs[i].easy);
		curl_slist_free_all(xs[i].hdrs);
		rackctl_reply_free(&xs[i].reply);
	}
	if (multi)
		curl_multi_cleanup(multi);
	free(xs);
	free(queue);
	return rc;
}

/* ---- commit ------------------------------------------------------------ */

/* 0 committed, 1 chunks went missing (go round again), -1 failed. */
static int commit(struct push *p, struct target *t)
{
	struct http_reply r;
	char path[URL_PATH_MAX + 16], e[ERRLEN];

	set_state(p, t, T_COMMIT);
	snprintf(path, sizeof path, "%s/commit", p->api_path);
	if (rackctl_request(&t->rack, "POST", path, NULL, NULL, 0, p->retries, &r) < 0) {
		rackctl_reply_free(&r);
		return fail(p, t, "commit: %s", rackctl_reply_error(&r, e, sizeof e));
	}
	int rc = 0;
	if (r.status == 409) {
		json_t *o = rackctl_reply_json(&r);
		rc = json_is_array(json_object_get(o, "missing")) ? 1 :
		     fail(p, t, "commit refused: %s", rackctl_reply_error(&r, e, sizeof e));
		json_decref(o);
	} else if (r.status != 200 && r.status != 201)
		rc = fail(p, t, "commit refused: %s", rackctl_reply_error(&r, e, sizeof e));
	rackctl_reply_free(&r);
	return rc;
}

static void push_one(struct push *p, struct target *t)
{
	pthread_mutex_lock(&p->lock);
	t->start = rackctl_now();
	pthread_mutex_unlock(&p->lock);
	for (int round = 0;; round++) {
		struct item *items;
		size_t n;
		if (round == PUSH_ROUNDS_MAX) {
			fail(p, t, "chunks kept going missing on the rack after %d rounds", PUSH_ROUNDS_MAX);
			break;
		}
		int r = post_manifest(p, t, &items, &n);
		if (r == 1) {
			pthread_mutex_lock(&p->lock);
			t->already = round == 0;
			t->state = T_DONE;
			pthread_mutex_unlock(&p->lock);
			break;
		}
		if (r < 0) {
			free(items);
			break;
		}
		if (n && p->patch && !t->base_looked) {
			t->base = patch_base_find(p->st, &t->rack, p->m, p->level, p->retries);
			t->base_looked = true;
		}
		r = n ? upload(p, t, items, n) : 0;
		free(items);
		if (r == 1)
			continue;
		if (r < 0)
			break;
		r = commit(p, t);
		if (r == 0) {
			set_state(p, t, T_DONE);
			break;
		}
		if (r < 0)
			break;
	}
	patch_base_free(t->base);
	t->base = NULL;
	pthread_mutex_lock(&p->lock);
	t->end = rackctl_now();
	p->finished++;
	pthread_cond_signal(&p->finish);
	pthread_mutex_unlock(&p->lock);
}

static void *worker(void *arg)
{
	struct push *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			return NULL;
		push_one(p, &p->t[i]);
	}
}

/* ---- progress ----------------------------------------------------------- */

static int pct(uint64_t done, uint64_t total)
{
	if (total == 0)
		return done ? 100 : 0;
	return done >= total ? 100 : (int)(done * 100 / total);
}

static void bar_line(FILE *f, const char *label, enum tstate s, bool already, uint64_t done, uint64_t total,
		     double secs, const char *error)
{
	char bar[BAR_WIDTH + 1], h1[32], h2[32], h3[32];
	int pc = s == T_DONE ? 100 : pct(done, total);
	int fill = pc * BAR_WIDTH / 100;

	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	double rate = secs > 0 ? (double)done / secs : 0;
	fprintf(f, "\r\033[K%-32.32s [%s] %3d%%  %9s of %-9s %9s/s  %s%s%.60s\n", label, bar, pc,
		rackctl_human(done, h1, sizeof h1), rackctl_human(total, h2, sizeof h2),
		rackctl_human((uint64_t)rate, h3, sizeof h3), already ? "had it" : tstate_name[s],
		error && *error ? ": " : "", error ? error : "");
}

static void draw(struct push *p, bool first)
{
	uint64_t done = 0, total = 0;
	double now = rackctl_now(), start = 0;

	pthread_mutex_lock(&p->lock);
	if (!first)
		fprintf(stderr, "\033[%zuA", p->n + 1);
	for (size_t i = 0; i < p->n; i++) {
		struct target *t = &p->t[i];
		uint64_t d = t->bytes_done + t->bytes_flight;
		double secs = t->start ? (t->end ? t->end : now) - t->start : 0;
		bar_line(stderr, t->rack.url, t->state, t->already, d, t->bytes_total, secs,
			 t->state == T_FAILED ? t->error : NULL);
		done += d;
		total += t->bytes_total;
		if (t->start && (start == 0 || t->start < start))
			start = t->start;
	}
	bar_line(stderr, "all racks", p->finished == p->n ? T_DONE : T_UPLOAD, false, done, total,
		 start ? now - start : 0, NULL);
	pthread_mutex_unlock(&p->lock);
	fflush(stderr);
}

/* Plain lines, for logs: a rack's milestones. */
static void plain(struct push *p, int *seen)
{
	char h1[32], h2[32];

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n; i++) {
		struct target *t = &p->t[i];
		int s = (int)t->state;
		if (t->state == T_UPLOAD && seen[i] < (int)T_UPLOAD) {
			fprintf(stderr, "%s: %" PRIu64 " of %" PRIu64 " chunks missing (%s)\n", t->rack.url, t->missing,
				t->chunks, rackctl_human(t->bytes_total, h1, sizeof h1));
			t->plain_pct = 0;
		}
		if (t->state == T_UPLOAD) {
			int pc = pct(t->bytes_done, t->bytes_total);
			if (pc >= t->plain_pct + PLAIN_STEP && pc < 100) {
				t->plain_pct = pc - pc % PLAIN_STEP;
				fprintf(stderr, "%s: %d%% (%s of %s)\n", t->rack.url, pc,
					rackctl_human(t->bytes_done, h1, sizeof h1),
					rackctl_human(t->bytes_total, h2, sizeof h2));
			}
		}
		if (s != seen[i] && t->state == T_DONE)
			fprintf(stderr, "%s: %s (%s sent in %.1f s)\n", t->rack.url,
				t->already ? "had the image already" : "committed",
				rackctl_human(t->bytes_sent, h1, sizeof h1), t->end - t->start);
		if (s != seen[i] && t->state == T_FAILED)
			fprintf(stderr, "%s: failed: %s\n", t->rack.url, t->error);
		seen[i] = s;
	}
	pthread_mutex_unlock(&p->lock);
	fflush(stderr);
}

/* ---- the command ---------------------------------------------------- */

static void push_usage(FILE *f)
{
	fprintf(f,
		"Usage: rackctl push NAME[:VERSION] RACK... --store DIR [OPTIONS]\n"
		"       rackctl push NAME[:VERSION] --racks FILE --store DIR [OPTIONS]\n"
		"\n"
		"Push an image of the local store to racks. RACK is a rackd URL\n"
		"(http://rack12:8080); its API token comes from RACKD_TOKEN or --token-file.\n"
		"A racks FILE has one \"URL TOKEN\" per line (# comments), each rack its own token.\n"
		"Each rack gets the manifest, answers the chunks it lacks, gets only those,\n"
		"checks each against its hash, and commits the image. Running the same push\n"
		"again after an interruption sends nothing the rack already has.\n"
		"\n"
		"  -s, --store DIR       the local image store\n"
		"  -r, --racks FILE      racks and their tokens, one \"URL TOKEN\" per line\n"
		"  -t, --token-file FILE the token of the racks given as arguments\n"
		"  -j, --jobs N          racks pushed at once (1..%d, default %d)\n"
		"  -S, --streams N       chunk uploads at once per rack (1..%d, default %d)\n"
		"      --retries N       retries of a request after a network error, with\n"
		"                        growing delays (0..%d, default %d)\n"
		"      --no-patch        send every chunk whole (by default a chunk that is a\n"
		"                        version the rack holds with a few bytes edited goes\n"
		"                        as a patch against it)\n"
		"      --level N         the zstd level the image was imported with, at which\n"
		"                        the rack compresses a patched chunk again (%d..%d;\n"
		"                        by default found from the chunks, %d first)\n"
		"      --json            the result as JSON on standard output\n"
		"  -q, --quiet           no progress (a bar per rack on a terminal, plain\n"
		"                        lines otherwise)\n"
		"\n"
		"At the end a table: rack, result, bytes sent, time. Without VERSION the\n"
		"highest version in the store. Exit status: 0 every rack has the image,\n"
		"1 a rack failed, 2 usage error.\n",
		PUSH_JOBS_MAX, PUSH_JOBS_DEFAULT, PUSH_STREAMS_MAX, PUSH_STREAMS_DEFAULT, PUSH_RETRIES_MAX,
		RACKCTL_RETRIES_DEFAULT, CHUNK_LEVEL_MIN, CHUNK_LEVEL_MAX, CHUNK_LEVEL_DEFAULT);
}

static void print_table(struct push *p)
{
	char h[32];

	printf("%-40s %-10s %12s %9s  %s\n", "RACK", "RESULT", "SENT", "TIME", "");
	for (size_t i = 0; i < p->n; i++) {
		struct target *t = &p->t[i];
		const char *res = t->state == T_DONE ? (t->already ? "present" : "ok") : "failed";
		printf("%-40.40s %-10s %12s %8.1fs  %s\n", t->rack.url, res,
		       rackctl_human(t->bytes_sent + t->manifest_bytes, h, sizeof h), t->end - t->start,
		       t->state == T_FAILED ? t->error : "");
	}
}

static void print_json(struct push *p, bool ok)
{
	json_t *a = json_array(), *o;
	for (size_t i = 0; i < p->n; i++) {
		struct target *t = &p->t[i];
		json_array_append_new(a, json_pack("{s:s,s:s,s:s?,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}",
			"rack", t->rack.url,
			"result", t->state == T_DONE ? (t->already ? "present" : "ok") : "failed",
			"error", t->state == T_FAILED ? t->error : NULL,
			"chunks", (json_int_t)t->chunks, "missing", (json_int_t)t->missing,
			"chunks_sent", (json_int_t)t->chunks_sent, "chunks_patched", (json_int_t)t->chunks_patched,
			"bytes_sent", (json_int_t)t->bytes_sent,
			"manifest_bytes", (json_int_t)t->manifest_bytes,
			"bytes_missing", (json_int_t)t->bytes_total, "retries", (json_int_t)t->retries,
			"seconds", t->end - t->start));
	}
	char ref[IMAGE_REF_MAX + 1];
	snprintf(ref, sizeof ref, "%s:%s", p->m->name, p->m->version);
	o = json_pack("{s:s,s:b,s:o}", "image", ref, "ok", ok, "racks", a);
	char *s = o ? json_dumps(o, JSON_INDENT(1)) : NULL;
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

static int cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, HASH_LEN);
}

/* Every chunk of the image is in the local store; counts the distinct. */
static int check_local(struct push *p)
{
	char hex[HASH_HEX_LEN + 1];
	uint8_t (*h)[HASH_LEN] = calloc(p->m->nchunks ? p->m->nchunks : 1, HASH_LEN);

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
			rackctl_error("%s:%s: chunks[%zu] (%s) is missing from the local store", p->m->name,
				      p->m->version, i, hex);
			return -1;
		}
	}
	return 0;
}

int rackctl_cmd_push(int argc, char **argv)
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
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1], err[ERRLEN];
	int o, rc = RACKCTL_FAIL;

	p.streams = PUSH_STREAMS_DEFAULT;
	p.retries = RACKCTL_RETRIES_DEFAULT;
	p.level = 0;	/* found from the chunks */
	p.patch = true;
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":s:r:t:j:S:qh", opts, NULL)) != -1) {
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
			if (!rackctl_parse_long(optarg, 1, PUSH_JOBS_MAX, &jobs))
				return rackctl_usage("push", "--jobs %s: a number from 1 to %d", optarg, PUSH_JOBS_MAX);
			break;
		case 'S':
			if (!rackctl_parse_long(optarg, 1, PUSH_STREAMS_MAX, &l))
				return rackctl_usage("push", "--streams %s: a number from 1 to %d", optarg,
						     PUSH_STREAMS_MAX);
			p.streams = (int)l;
			break;
		case 'R':
			if (!rackctl_parse_long(optarg, 0, PUSH_RETRIES_MAX, &l))
				return rackctl_usage("push", "--retries %s: a number from 0 to %d", optarg,
						     PUSH_RETRIES_MAX);
			p.retries = (int)l;
			break;
		case 'J':
			p.json = true;
			break;
		case 'P':
			p.patch = false;
			break;
		case 'L':
			if (!rackctl_parse_long(optarg, CHUNK_LEVEL_MIN, CHUNK_LEVEL_MAX, &l))
				return rackctl_usage("push", "--level %s: a number from %d to %d", optarg,
						     CHUNK_LEVEL_MIN, CHUNK_LEVEL_MAX);
			p.level = (int)l;
			break;
		case 'q':
			p.quiet = true;
			break;
		case 'h':
			push_usage(stdout);
			return RACKCTL_OK;
		case ':':
			return rackctl_usage("push", "push: option '%s' needs a value", argv[optind - 1]);
		default:
			return rackctl_usage("push", "push: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return rackctl_usage("push", "push: missing NAME[:VERSION]");
	ref = argv[optind++];
	if (!storedir)
		return rackctl_usage("push", "push: --store DIR is required");
	if (image_ref_parse(ref, name, version, err, sizeof err) < 0)
		return rackctl_usage("push", "%s", err);
	if (racksfile && optind < argc)
		return rackctl_usage("push", "push: racks come from --racks FILE or the arguments, not both");
	if (!racksfile && optind >= argc)
		return rackctl_usage("push", "push: no racks (RACK... or --racks FILE)");
	if (!racksfile && argc - optind > RACKS_MAX)
		return rackctl_usage("push", "push: more than %d racks", RACKS_MAX);
	if (rackctl_http_init() < 0) {
		rackctl_error("libcurl failed to start");
		return RACKCTL_FAIL;
	}
	if (racksfile) {
		struct rack *rs;
		if (rackctl_racks_file(racksfile, &rs, &p.n, err, sizeof err) < 0) {
			rackctl_error("%s", err);
			return RACKCTL_FAIL;
		}
		p.t = calloc(p.n, sizeof *p.t);
		for (size_t i = 0; p.t && i < p.n; i++)
			p.t[i].rack = rs[i];
		free(rs);
	} else {
		p.n = (size_t)(argc - optind);
		p.t = calloc(p.n, sizeof *p.t);
		for (size_t i = 0; p.t && i < p.n; i++)
			if ((o = rackctl_rack_arg(argv[optind + (int)i], tokfile, &p.t[i].rack)) != RACKCTL_OK) {
				free(p.t);
				return o;
			}
	}
	if (!p.t) {
		rackctl_error("out of memory");
		return RACKCTL_FAIL;
	}
	for (size_t i = 0; i < p.n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(p.t[i].rack.url, p.t[j].rack.url) == 0) {
				o = rackctl_usage("push", "push: rack %s is named twice", p.t[i].rack.url);
				free(p.t);
				return o;
			}

	if (store_open(storedir, &p.st, err, sizeof err) < 0) {
		rackctl_error("%s", err);
		goto out;
	}
	if ((!version[0] && store_latest_version(p.st, name, version, err, sizeof err) < 0) ||
	    store_load_manifest(p.st, name, version, &p.m, err, sizeof err) < 0) {
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
	snprintf(p.api_path, sizeof p.api_path, "/api/v1/images/%s/versions/%s", name, version);
	p.tty = !p.json && !p.quiet && isatty(STDERR_FILENO);
	for (size_t i = 0; i < p.n; i++)
		p.t[i].chunks = p.distinct;
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.finish, NULL);

	size_t nth = (size_t)jobs < p.n ? (size_t)jobs : p.n;
	pthread_t *th = calloc(nth, sizeof *th);
	size_t started = 0;
	if (!th) {
		rackctl_error("out of memory");
		goto out;
	}
	for (; started < nth; started++)
		if (pthread_create(&th[started], NULL, worker, &p) != 0)
			break;
	if (started == 0) {
		rackctl_error("cannot start threads");
		free(th);
		goto out;
	}
	int *seen = calloc(p.n, sizeof *seen);
	for (bool first = true;; first = false) {
		pthread_mutex_lock(&p.lock);
		bool all = p.finished == p.n;
		pthread_mutex_unlock(&p.lock);
		if (p.tty)
			draw(&p, first);
		else if (!p.json && !p.quiet && seen)
			plain(&p, seen);
		if (all)
			break;
		/* Until the next redraw, or at once when a rack finishes. */
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += DRAW_INTERVAL_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&p.lock);
		size_t had = p.finished;
		while (p.finished == had &&
		       pthread_cond_timedwait(&p.finish, &p.lock, &until) == 0)
			;
		pthread_mutex_unlock(&p.lock);
	}
	free(seen);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);

	bool ok = true;
	for (size_t i = 0; i < p.n; i++)
		if (p.t[i].state != T_DONE)
			ok = false;
	if (p.json)
		print_json(&p, ok);
	else
		print_table(&p);
	rc = ok ? RACKCTL_OK : RACKCTL_FAIL;
	pthread_mutex_destroy(&p.lock);
	pthread_cond_destroy(&p.finish);
out:
	free(p.manifest_json);
	manifest_free(p.m);
	if (p.st)
		store_close(p.st);
	if (p.t)
		memset(p.t, 0, p.n * sizeof *p.t);	/* tokens */
	free(p.t);
	return rc;
}
