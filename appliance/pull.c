/*
 * pull.c — images pulled by the rack from an origin (rackctl publish),
 * through the HTTP caches of image_sources, on threads of its own (never
 * the event loop's):
 *
 *   BASE/manifests/<name>/<version>.json   the manifest (signature in it)
 *   BASE/chunks/<64 hex>                   one compressed chunk, immutable
 *
 * A pull fetches the manifest from the first source that answers (each
 * request fails over to the next source on an error or a timeout, every
 * timeout bounded), checks it as a push's manifest is checked (catalog.c's
 * trust, and pull_trust), records it as a pending push (push.c: garbage
 * collection keeps its chunks from then on), fetches only the chunks the
 * store lacks over PULL_STREAMS connections, each into a temporary file of
 * the store that store_adopt_chunk verifies against its hash before it is
 * renamed into place, and commits through push.c's commit, as a push does.
 * A pull cut short leaves its chunks and its pending record: the next pull
 * of the image fetches only what is still missing. A chunk that does not
 * match its hash on every source fails the pull, and its pending record
 * goes (the image never appears).
 *
 * image_subscribe: every image_subscribe_interval a thread of its own reads
 * BASE/manifests/<name>/index.json of each subscribed name (the same
 * failover) and starts, one at a time and only inside
 * image_subscribe_window, a pull of each matching version the rack lacks.
 * pull_rate caps every chunk download at its share of the rate.
 *
 * Each pull is a row of the database (db_pulls.c), written at each change
 * of state and at most every PULL_SAVE_MS as it goes, and published as a
 * "pull" event on /api/v1/events. At start (pull_recover) the last
 * PULLS_MAX are listed again, and a pull that rackd's stop or end cut
 * short is resumed under its id: its chunks and pending record are still
 * there, so it fetches only what is missing.
 *
 * The pure parts (URLs, the sources' order, the request, the index)
 * are pull_parse.c's. libcurl is named in this file only (make check).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "appliance/rackd.h"
#include "db/db.h"
#include "images/chunk.h"
#include "images/hash.h"
#include "images/manifest.h"
#include "images/store.h"

enum pull_state {
	PULL_QUEUED, PULL_MANIFEST, PULL_FETCHING, PULL_COMMITTING, PULL_DONE,
	PULL_FAILED, PULL_STATES
};

static const char *const state_names[PULL_STATES] = {
	"queued", "manifest", "fetching", "committing", "done", "failed",
};

struct pull {
	int64_t		 id;		/* 0: an unused entry */
	int		 live;		/* its thread has not ended */
	char		 name[IMAGE_NAME_MAX + 1];
	char		 version[IMAGE_NAME_MAX + 1];
	enum pull_state	 state;
	int		 present;	/* the rack had the image */
	uint64_t	 chunks;	/* distinct chunks of the image */
	uint64_t	 missing;	/* of those, the store lacked */
	uint64_t	 chunks_done;	/* fetched, or found stored meanwhile */
	uint64_t	 bytes_total;	/* compressed bytes missing */
	uint64_t	 bytes_done;
	uint64_t	 bytes_fetched;	/* every attempt counted */
	unsigned	 failovers;	/* requests sent on to another source */
	int64_t		 start_ms, end_ms;
	char		 source[URL_MAX];	/* the last that served */
	char		 error[ERR_MAX];
	/* the sources, as image_sources was when the pull began */
	size_t		 nsrc;
	char		*src[PULL_SOURCES_MAX];
	int64_t		 down_until[PULL_SOURCES_MAX];	/* ms */
	/* the chunks to fetch, taken in turn by the streams */
	struct push_need *need;
	size_t		 nneed, next;
	int		 bad;		/* a chunk failed everywhere */
	enum hash_alg	 alg;
	int64_t		 created;	/* ms since the epoch */
	int64_t		 saved_ms;	/* when last written (mono) */
	unsigned	 resumed;	/* times resumed after a restart */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static struct pull pulls[PULLS_MAX];
static int active;		/* pulls whose thread runs */
static int stopping;
static int streams;		/* chunk downloads running, all pulls */
static int sub_live;		/* the subscription thread runs */
static int64_t sub_next;	/* ms: when it runs next */
/* Held from a pull's snapshot to its write: rows and events in order. */
static pthread_mutex_t save_lock = PTHREAD_MUTEX_INITIALIZER;

static json_t *pull_json(const struct pull *p);

/* ---- HTTP -------------------------------------------------------------- */

/* Where a body goes: memory (the manifest) or a file (a chunk). */
struct sink {
	char		*buf;
	size_t		 len, cap;
	int		 fd;		/* -1: memory */
	uint64_t	 max;		/* a larger body is cut off */
	uint64_t	 got;
	int		 too_big;
	struct pull	*p;
	uint64_t	 rate;		/* pull_rate, bytes/s; 0: any */
};

/* pull_rate for all pulls together: each block received reserves its time
 * at the rate, and waits for its turn. CURLOPT_MAX_RECV_SPEED_LARGE alone
 * does not hold it: a chunk that arrives in one burst is read whole. */
static pthread_mutex_t pace_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t pace_next;	/* us, monotonic */

static void
pace(uint64_t rate, size_t n)
{
	struct timespec ts;
	int64_t now, t;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	pthread_mutex_lock(&pace_lock);
	t = pace_next > now ? pace_next : now;
	pace_next = t + (int64_t)((uint64_t)n * 1000000 / rate);
	pthread_mutex_unlock(&pace_lock);
	while (t > now && !__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
		usleep((useconds_t)(t - now > 100000 ? 100000 : t - now));
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	}
}

static size_t
sink_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb, left = n;

	if (s->got + n > s->max) {
		s->too_big = 1;
		return 0;
	}
	s->got += n;
	if (s->rate > 0)
		pace(s->rate, n);
	if (s->fd < 0) {
		if (s->len + n + 1 > s->cap) {
			size_t cap = (s->len + n + 1) * 2;
			char *b = realloc(s->buf, cap);
			if (b == NULL)
				return 0;
			s->buf = b;
			s->cap = cap;
		}
		memcpy(s->buf + s->len, data, n);
		s->len += n;
		s->buf[s->len] = '\0';
		return n;
	}
	while (left > 0) {
		ssize_t w = write(s->fd, data, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0;
		data += w;
		left -= (size_t)w;
	}
	return n;
}

static int
sink_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE) ? 1 : 0;
}

/* What one GET came to. */
enum fetch {
	FETCH_OK,
	FETCH_ABSENT,		/* 404: this source has no such file */
	FETCH_DOWN,		/* no answer, a timeout, a 5xx: fail over */
	FETCH_BAD,		/* an answer we cannot take (too big, 4xx) */
};

static enum fetch
get(CURL *c, const char *url, struct sink *s, char *err, size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	curl_off_t rate;
	int n = __atomic_load_n(&streams, __ATOMIC_ACQUIRE);

	conf_rdlock();
	rate = (curl_off_t)conf.pull_rate;
	conf_unlock();
	s->rate = (uint64_t)rate;
	curl_easy_reset(c);
	if (rate > 0) {
		/* pull_rate shared by the downloads running now */
		rate /= n > 1 ? n : 1;
		curl_easy_setopt(c, CURLOPT_MAX_RECV_SPEED_LARGE,
		    rate > 0 ? rate : (curl_off_t)1);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)PULL_CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)PULL_REQUEST_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)PULL_STALL_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, sink_progress);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "rackd/" RACKD_VERSION);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 0L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_WRITE_ERROR && s->too_big) {
		snprintf(err, errlen, "%s: more than %" PRIu64 " bytes", url,
		    s->max);
		return FETCH_BAD;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, cerr[0] != '\0' ? cerr :
		    curl_easy_strerror(rc));
		return FETCH_DOWN;
	}
	if (status == 200)
		return FETCH_OK;
	snprintf(err, errlen, "%s: HTTP %ld", url, status);
	if (status == 404 || status == 410)
		return FETCH_ABSENT;
	return status >= 500 || status == 429 || status == 408 ?
	    FETCH_DOWN : FETCH_BAD;
}

/* ---- one pull ------------------------------------------------------------ */

/* The pull as it is now into its row and onto /api/v1/events: at once
 * with force (a change of state), else at most every PULL_SAVE_MS. A pull
 * that fails once rackd is stopping is not written failed: its row keeps
 * its running state, and pull_recover resumes it at the next start. */
static void
record(struct pull *p, int force)
{
	struct db_pull d;
	int64_t now = mono_ms();
	json_t *ev;

	pthread_mutex_lock(&save_lock);
	pthread_mutex_lock(&lock);
	if ((!force && now - p->saved_ms < PULL_SAVE_MS) ||
	    (p->state == PULL_FAILED && stopping)) {
		pthread_mutex_unlock(&lock);
		pthread_mutex_unlock(&save_lock);
		return;
	}
	p->saved_ms = now;
	memset(&d, 0, sizeof(d));
	d.id = p->id;
	snprintf(d.state, sizeof(d.state), "%s", state_names[p->state]);
	d.present = p->present;
	d.chunks = (int64_t)p->chunks;
	d.missing = (int64_t)p->missing;
	d.chunks_done = (int64_t)p->chunks_done;
	d.bytes_total = (int64_t)p->bytes_total;
	d.bytes_done = (int64_t)p->bytes_done;
	d.bytes_fetched = (int64_t)p->bytes_fetched;
	d.failovers = p->failovers;
	d.resumed = p->resumed;
	d.run_ms = (p->end_ms ? p->end_ms : now) - p->start_ms;
	snprintf(d.source, sizeof(d.source), "%s", p->source);
	snprintf(d.error, sizeof(d.error), "%s", p->error);
	ev = pull_json(p);
	pthread_mutex_unlock(&lock);
	if (db_pull_save(&d) != DB_OK)
		log_warnx("pull %" PRId64 ": its record was not written", d.id);
	events_publish("pull", ev);
	pthread_mutex_unlock(&save_lock);
}

static void
set_state(struct pull *p, enum pull_state s)
{
	pthread_mutex_lock(&lock);
	p->state = s;
	if (s == PULL_DONE || s == PULL_FAILED)
		p->end_ms = mono_ms();
	pthread_mutex_unlock(&lock);
	record(p, 1);
}

static void
fail(struct pull *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(struct pull *p, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&lock);
	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	p->state = PULL_FAILED;
	p->end_ms = mono_ms();
	pthread_mutex_unlock(&lock);
	log_warnx("pull %s:%s failed: %s", p->name, p->version, p->error);
	record(p, 1);
}

static void
source_served(struct pull *p, size_t i)
{
	pthread_mutex_lock(&lock);
	snprintf(p->source, sizeof(p->source), "%s", p->src[i]);
	p->down_until[i] = 0;
	pthread_mutex_unlock(&lock);
}

static void
source_down(struct pull *p, size_t i, const char *why)
{
	pthread_mutex_lock(&lock);
	p->down_until[i] = mono_ms() + PULL_SOURCE_DOWN_MS;
	p->failovers++;
	pthread_mutex_unlock(&lock);
	log_warnx("pull %s:%s: %s; trying the next source", p->name,
	    p->version, why);
}

static size_t
sources(struct pull *p, size_t *order)
{
	size_t n;

	pthread_mutex_lock(&lock);
	n = pull_source_order(p->nsrc, p->down_until, mono_ms(), order);
	pthread_mutex_unlock(&lock);
	return n;
}

/* The manifest from the first source that has it; NULL with the pull
 * failed. */
static struct manifest *
fetch_manifest(struct pull *p, CURL *c)
{
	char path[URL_MAX], url[URL_MAX], err[ERR_MAX] = "no source";
	char why[ERR_MAX];
	size_t order[PULL_SOURCES_MAX], n = sources(p, order);
	struct manifest *m = NULL;

	snprintf(path, sizeof(path), "manifests/%s/%s.json", p->name,
	    p->version);
	for (size_t k = 0; k < n; k++) {
		struct sink s = { .fd = -1, .max = MANIFEST_MAX_BYTES, .p = p };
		size_t i = order[k];
		enum fetch f;

		if (pull_url_join(p->src[i], path, url, sizeof(url)) != 0) {
			snprintf(err, sizeof(err), "source %zu: URL too long",
			    i + 1);
			continue;
		}
		f = get(c, url, &s, err, sizeof(err));
		if (f == FETCH_OK) {
			int rc = pull_manifest_check(s.buf ? s.buf : "", s.len,
			    p->name, p->version, &m, why, sizeof(why));
			free(s.buf);
			if (rc == 0) {
				source_served(p, i);
				return m;
			}
			snprintf(err, sizeof(err), "%.200s: %.250s", url, why);
			fail(p, "%s", err);
			return NULL;
		}
		free(s.buf);
		if (f == FETCH_DOWN)
			source_down(p, i, err);
	}
	fail(p, "no source has %s:%s (last: %s)", p->name, p->version, err);
	return NULL;
}

/* One chunk from the sources in turn, verified into the store. 0, or -1
 * with err (and *bad when some source sent content that does not match:
 * a corrupt origin or cache). */
static int
fetch_chunk(struct pull *p, CURL *c, const struct push_need *nd, int *bad,
    char *err, size_t errlen)
{
	struct store *st = catalog_store();
	char path[STORE_PATH_MAX], rel[16 + HASH_HEX_LEN], url[URL_MAX];
	char e[ERR_MAX];
	size_t order[PULL_SOURCES_MAX], n = sources(p, order);
	int fd;
	bool added;

	snprintf(rel, sizeof(rel), "chunks/%s", nd->hash);
	snprintf(err, errlen, "no source");
	for (size_t k = 0; k < n; k++) {
		size_t i = order[k];
		struct sink s = { .max = chunk_compress_bound(nd->length),
		    .p = p };
		enum fetch f;

		if (store_has_chunk(st, nd->hash))
			return 0;	/* another pull or push brought it */
		if (pull_url_join(p->src[i], rel, url, sizeof(url)) != 0)
			continue;
		if (store_tmp_create(st, "pull", path, sizeof(path), &fd, err,
		    errlen) != 0)
			return -1;
		s.fd = fd;
		f = get(c, url, &s, err, errlen);
		pthread_mutex_lock(&lock);
		p->bytes_fetched += s.got;
		pthread_mutex_unlock(&lock);
		if (f == FETCH_OK && store_adopt_chunk(st, p->alg, nd->hash,
		    nd->length, path, fd, &added, e, sizeof(e)) == 0) {
			close(fd);
			source_served(p, i);
			return 0;
		}
		if (f == FETCH_OK && errno != EBADMSG) {
			/* This rack's trouble (a full disk), not the
			 * source's: no other source would do better. */
			snprintf(err, errlen, "%s", e);
			close(fd);
			unlink(path);
			return -1;
		}
		if (f == FETCH_OK) {
			snprintf(err, errlen, "%.200s: refused: %.250s", url,
			    e);
			log_warnx("pull %s:%s: chunk %s refused: %s", p->name,
			    p->version, url, e);
			*bad = 1;
		}
		close(fd);
		unlink(path);
		if (f == FETCH_DOWN)
			source_down(p, i, err);
	}
	return -1;
}

struct stream {
	struct pull	*p;
	pthread_t	 th;
	int		 started;
};

static void *
stream_run(void *arg)
{
	struct stream *sm = arg;
	struct pull *p = sm->p;
	CURL *c = curl_easy_init();
	char err[ERR_MAX];

	__atomic_add_fetch(&streams, 1, __ATOMIC_ACQ_REL);
	for (;;) {
		struct push_need *nd;
		int bad = 0, rc = -1;

		pthread_mutex_lock(&lock);
		if (c == NULL || p->state != PULL_FETCHING ||
		    p->next >= p->nneed || stopping) {
			pthread_mutex_unlock(&lock);
			break;
		}
		nd = &p->need[p->next++];
		pthread_mutex_unlock(&lock);
		for (int round = 0; round < PULL_ROUNDS && rc != 0 && !bad;
		    round++) {
			if (round > 0)
				usleep(PULL_RETRY_MS * 1000 * round);
			rc = fetch_chunk(p, c, nd, &bad, err, sizeof(err));
		}
		if (rc != 0) {
			pthread_mutex_lock(&lock);
			p->bad |= bad;
			pthread_mutex_unlock(&lock);
			fail(p, "chunk %.16s: %s", nd->hash, err);
			break;
		}
		pthread_mutex_lock(&lock);
		p->chunks_done++;
		p->bytes_done += nd->stored;
		pthread_mutex_unlock(&lock);
		record(p, 0);
		conf_rdlock();
		db_push_touch(nd->hash, conf.push_expiry >= 240 ? 60000 :
		    (int64_t)conf.push_expiry * 250);
		conf_unlock();
	}
	__atomic_sub_fetch(&streams, 1, __ATOMIC_ACQ_REL);
	if (c != NULL)
		curl_easy_cleanup(c);
	else
		fail(p, "libcurl failed to start");
	return NULL;
}

/* The chunks over PULL_STREAMS connections. 0 when all are in. */
static int
fetch_chunks(struct pull *p)
{
	struct stream sm[PULL_STREAMS];
	int n = 0, failed;

	memset(sm, 0, sizeof(sm));
	for (int i = 0; i < PULL_STREAMS && (size_t)i < p->nneed; i++) {
		sm[i].p = p;
		if (pthread_create(&sm[i].th, NULL, stream_run, &sm[i]) == 0) {
			sm[i].started = 1;
			n++;
		}
	}
	if (n == 0 && p->nneed > 0) {
		fail(p, "cannot start threads");
		return -1;
	}
	for (int i = 0; i < PULL_STREAMS; i++)
		if (sm[i].started)
			pthread_join(sm[i].th, NULL);
	pthread_mutex_lock(&lock);
	n = p->state == PULL_FETCHING && p->next >= p->nneed && !stopping;
	failed = p->state == PULL_FAILED;
	pthread_mutex_unlock(&lock);
	if (!n && !failed)
		fail(p, "rackd is stopping");
	return n ? 0 : -1;
}

/* pull_trust: a pulled image is taken only signed by a trusted key. */
static int
trusted(struct pull *p, const struct manifest *m)
{
	char err[ERR_MAX];
	int status, must, nkeys;

	conf_rdlock();
	must = conf.pull_trust;
	nkeys = conf.trusted_keys.n;
	status = push_trust(m, err, sizeof(err));
	conf_unlock();
	if (status != 0) {
		fail(p, "%s", err);
		return 0;
	}
	if (must && (nkeys == 0 || m->signature == NULL)) {
		fail(p, "pull_trust: %s", nkeys == 0 ? "no trusted_keys set, "
		    "so no pulled image can be trusted" :
		    "the image is not signed");
		return 0;
	}
	return 1;
}

static void
run(struct pull *p)
{
	CURL *c = curl_easy_init();
	struct manifest *m = NULL;
	struct catalog_freed f;
	size_t distinct;
	uint64_t need_bytes = 0;
	char err[ERR_MAX];
	json_t *body = NULL;
	int status;

	if (c == NULL) {
		fail(p, "libcurl failed to start");
		return;
	}
	set_state(p, PULL_MANIFEST);
	m = fetch_manifest(p, c);
	curl_easy_cleanup(c);
	if (m == NULL || !trusted(p, m))
		goto out;
	p->alg = m->hash;
	status = push_begin(m, &p->need, &p->nneed, &distinct, err,
	    sizeof(err));
	/* Resumed, missing and bytes_total stay the first run's (from its
	 * row), and what is in the store since counts as done. */
	for (size_t i = 0; i < p->nneed; i++)
		need_bytes += p->need[i].stored;
	pthread_mutex_lock(&lock);
	p->chunks = distinct;
	if (p->resumed == 0 || p->missing < p->nneed ||
	    p->bytes_total < need_bytes) {
		p->missing = p->nneed;
		p->bytes_total = need_bytes;
	}
	p->chunks_done = p->missing - p->nneed;
	p->bytes_done = p->bytes_total - need_bytes;
	pthread_mutex_unlock(&lock);
	if (status == 1) {
		pthread_mutex_lock(&lock);
		p->present = p->resumed == 0;	/* else: committed before */
		pthread_mutex_unlock(&lock);
		set_state(p, PULL_DONE);
		goto out;
	}
	if (status != 0) {
		fail(p, "%s", err);
		goto out;
	}
	log_info("pull %s:%s: %zu of %zu chunks missing (%" PRIu64 " bytes) "
	    "from %s", p->name, p->version, p->nneed, distinct, p->bytes_total,
	    p->source);
	set_state(p, PULL_FETCHING);
	if (fetch_chunks(p) != 0) {
		if (p->bad) {
			/* What the origin serves does not match what it
			 * signed: the pending record goes, and the chunks
			 * only it needed. */
			catalog_lock();
			catalog_push_drop(p->name, p->version, &f);
			catalog_unlock();
		}
		goto out;
	}
	set_state(p, PULL_COMMITTING);
	conf_rdlock();
	status = push_commit_pending(p->name, p->version, 0, &body, err,
	    sizeof(err));
	conf_unlock();
	json_decref(body);
	if (status == 200 || status == 201)
		set_state(p, PULL_DONE);
	else
		fail(p, "commit: %s", err);
out:
	manifest_free(m);
}

static void *
thread_main(void *arg)
{
	struct pull *p = arg;

	run(p);
	pthread_mutex_lock(&lock);
	free(p->need);
	p->need = NULL;
	for (size_t i = 0; i < p->nsrc; i++) {
		free(p->src[i]);
		p->src[i] = NULL;
	}
	p->live = 0;
	if (--active == 0)
		pthread_cond_broadcast(&idle);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* ---- what the API asks ----------------------------------------------- */

int
pull_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
pull_stop(void)
{
	pthread_mutex_lock(&lock);
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	while (active > 0 || sub_live)
		pthread_cond_wait(&idle, &lock);
	pthread_mutex_unlock(&lock);
}

static int
running(const struct pull *p)
{
	return p->live || (p->id != 0 && p->state != PULL_DONE &&
	    p->state != PULL_FAILED);
}

/* A thread for p, filled (lock held): 0, or -1 with p's sources freed. */
static int
launch(struct pull *p)
{
	pthread_attr_t attr;
	pthread_t th;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&th, &attr, thread_main, p);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		for (size_t i = 0; i < p->nsrc; i++) {
			free(p->src[i]);
			p->src[i] = NULL;
		}
		p->nsrc = 0;
		return -1;
	}
	p->live = 1;
	active++;
	return 0;
}

/* The sources as image_sources is now, strdup'd into src: how many. */
static size_t
sources_now(char **src)
{
	size_t n = 0;

	conf_rdlock();
	for (int i = 0; i < conf.image_sources.n && n < PULL_SOURCES_MAX; i++)
		if ((src[n] = strdup(conf.image_sources.v[i])) != NULL)
			n++;
	conf_unlock();
	return n;
}

int
pull_start(const char *name, const char *version, int64_t *id, char *why,
    size_t len)
{
	struct pull *p = NULL;
	char *src[PULL_SOURCES_MAX];
	int64_t created;
	size_t nsrc;
	int rc = 500;

	/* The sources as they are now, before the pulls' lock (a handler
	 * holds the configuration's read lock already). */
	nsrc = sources_now(src);
	pthread_mutex_lock(&lock);
	if (nsrc == 0) {
		snprintf(why, len, "no image_sources are configured");
		rc = 409;
		goto out;
	}
	if (stopping) {
		snprintf(why, len, "rackd is stopping");
		rc = 503;
		goto out;
	}
	for (size_t i = 0; i < PULLS_MAX; i++)
		if (running(&pulls[i]) && strcmp(pulls[i].name, name) == 0 &&
		    strcmp(pulls[i].version, version) == 0) {
			*id = pulls[i].id;	/* that one answers */
			rc = 0;
			goto out;
		}
	if (active >= PULLS_ACTIVE_MAX) {
		snprintf(why, len, "%d pulls run already; try again when one "
		    "ends", PULLS_ACTIVE_MAX);
		rc = 429;
		goto out;
	}
	/* A free entry, else the oldest finished one. */
	for (size_t i = 0; i < PULLS_MAX; i++)
		if (!running(&pulls[i]) && (p == NULL || pulls[i].id < p->id))
			p = &pulls[i];
	if (p == NULL) {
		snprintf(why, len, "too many pulls");
		rc = 429;
		goto out;
	}
	if (db_pull_create(name, version, id, &created) != DB_OK) {
		snprintf(why, len, "the pull could not be recorded (database)");
		goto out;
	}
	memset(p, 0, sizeof(*p));
	memcpy(p->src, src, nsrc * sizeof(src[0]));
	p->nsrc = nsrc;
	nsrc = 0;		/* the pull's now */
	p->id = *id;
	p->created = created;
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->version, sizeof(p->version), "%s", version);
	p->state = PULL_QUEUED;
	p->start_ms = mono_ms();
	if (launch(p) != 0) {
		snprintf(p->error, sizeof(p->error), "cannot start a thread");
		p->state = PULL_FAILED;
		p->end_ms = p->start_ms;
		pthread_mutex_unlock(&lock);
		record(p, 1);
		snprintf(why, len, "cannot start a thread");
		return 500;
	}
	rc = 0;
	log_info("pull %s:%s started (pull %" PRId64 ")", name, version, *id);
out:
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; i < nsrc; i++)
		free(src[i]);
	return rc;
}

/* ---- across restarts ------------------------------------------------- */

struct recover {
	size_t	 n;		/* entries filled */
	int	 resumed, failed;
};

static enum pull_state
state_of(const char *name)
{
	for (int i = 0; i < PULL_STATES; i++)
		if (strcmp(state_names[i], name) == 0)
			return (enum pull_state)i;
	return PULL_FAILED;
}

/* One row, newest first, into the next entry; one cut short resumed. */
static int
recover_one(const struct db_pull *d, void *arg)
{
	struct recover *rc = arg;
	struct pull *p = &pulls[rc->n++];
	int64_t now = mono_ms();

	memset(p, 0, sizeof(*p));
	p->id = d->id;
	snprintf(p->name, sizeof(p->name), "%.*s", IMAGE_NAME_MAX, d->name);
	snprintf(p->version, sizeof(p->version), "%.*s", IMAGE_NAME_MAX,
	    d->version);
	p->state = state_of(d->state);
	p->present = d->present;
	p->chunks = (uint64_t)d->chunks;
	p->missing = (uint64_t)d->missing;
	p->chunks_done = (uint64_t)d->chunks_done;
	p->bytes_total = (uint64_t)d->bytes_total;
	p->bytes_done = (uint64_t)d->bytes_done;
	p->bytes_fetched = (uint64_t)d->bytes_fetched;
	p->failovers = (unsigned)d->failovers;
	p->resumed = (unsigned)d->resumed;
	p->created = d->created;
	p->start_ms = now - d->run_ms;
	p->end_ms = now;
	snprintf(p->source, sizeof(p->source), "%s", d->source);
	snprintf(p->error, sizeof(p->error), "%s", d->error);
	if (p->state == PULL_DONE || p->state == PULL_FAILED)
		return rc->n >= PULLS_MAX;
	/* Cut short by a stop or a crash: on again, from its chunks. */
	p->end_ms = 0;
	p->resumed++;
	p->state = PULL_QUEUED;
	pthread_mutex_lock(&lock);
	p->nsrc = sources_now(p->src);
	if (p->nsrc == 0 || stopping || active >= PULLS_ACTIVE_MAX ||
	    launch(p) != 0) {
		for (size_t i = 0; i < PULL_SOURCES_MAX; i++) {
			free(p->src[i]);
			p->src[i] = NULL;
		}
		snprintf(p->error, sizeof(p->error), "rackd restarted during "
		    "the pull, and could not resume it: %s", p->nsrc == 0 ?
		    "no image_sources are configured" : "no thread");
		p->nsrc = 0;
		p->state = PULL_FAILED;
		p->end_ms = now;
		rc->failed++;
		pthread_mutex_unlock(&lock);
		log_warnx("pull %s:%s: %s", p->name, p->version, p->error);
		record(p, 1);
	} else {
		rc->resumed++;
		pthread_mutex_unlock(&lock);
		log_info("pull %s:%s (pull %" PRId64 ") resumed after a "
		    "restart", p->name, p->version, p->id);
		record(p, 1);
	}
	return rc->n >= PULLS_MAX;
}

int
pull_recover(void)
{
	struct recover rc = { 0, 0, 0 };

	if (db_pulls_each(recover_one, &rc) != DB_OK)
		return -1;
	if (rc.resumed + rc.failed > 0)
		log_info("pulls: %d resumed after a restart, %d could not be",
		    rc.resumed, rc.failed);
	return 0;
}

/* Call with lock held. */
static json_t *
pull_json(const struct pull *p)
{
	int64_t end = p->end_ms ? p->end_ms : mono_ms();
	double secs = (double)(end - p->start_ms) / 1000.0;
	double rate = secs > 0 ? (double)p->bytes_done / secs : 0;
	char ref[IMAGE_REF_MAX + 1], created[32] = "";
	time_t t = (time_t)(p->created / 1000);
	struct tm tm;
	json_t *o, *left = json_null();

	snprintf(ref, sizeof(ref), "%s:%s", p->name, p->version);
	if (p->created > 0 && gmtime_r(&t, &tm) != NULL)
		strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* At the rate so far (the resumed runs' bytes and time included). */
	if (p->state == PULL_FETCHING && rate > 0 &&
	    p->bytes_total >= p->bytes_done)
		left = json_real((double)(p->bytes_total - p->bytes_done) /
		    rate);
	o = json_pack("{s:I,s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
	    "s:f,s:o,s:I,s:s?,s:s?,s:s?}",
	    "id", (json_int_t)p->id, "image", ref, "state",
	    state_names[p->state], "present", p->present,
	    "chunks", (json_int_t)p->chunks, "missing",
	    (json_int_t)p->missing, "chunks_done", (json_int_t)p->chunks_done,
	    "bytes_total", (json_int_t)p->bytes_total,
	    "bytes_done", (json_int_t)p->bytes_done,
	    "bytes_fetched", (json_int_t)p->bytes_fetched,
	    "rate", (json_int_t)rate,
	    "failovers", (json_int_t)p->failovers, "seconds", secs,
	    "seconds_left", left, "resumed", (json_int_t)p->resumed,
	    "created", created[0] != '\0' ? created : NULL,
	    "source", p->source[0] != '\0' ? p->source : NULL,
	    "error", p->error[0] != '\0' ? p->error : NULL);
	return o;
}

json_t *
pull_list_json(void)
{
	json_t *a = json_array();
	const struct pull *order[PULLS_MAX];
	size_t n = 0;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < PULLS_MAX; i++)
		if (pulls[i].id != 0) {
			size_t j = n++;
			while (j > 0 && order[j - 1]->id < pulls[i].id) {
				order[j] = order[j - 1];
				j--;
			}
			order[j] = &pulls[i];
		}
	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, pull_json(order[i]));
	pthread_mutex_unlock(&lock);
	return a;
}

json_t *
pull_get_json(int64_t id)
{
	json_t *o = NULL;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < PULLS_MAX; i++)
		if (id > 0 && pulls[i].id == id)
			o = pull_json(&pulls[i]);
	pthread_mutex_unlock(&lock);
	return o;
}

/* ---- image_subscribe ------------------------------------------------- */

/* What a round of the subscription works from: the configuration as it
 * was when the round began. */
struct sub {
	char		*pat[SLOTS_MAX];
	size_t		 npat;
	char		*src[PULL_SOURCES_MAX];
	size_t		 nsrc;
};

/* Inside image_subscribe_window now (local time)? */
static int
window_open(void)
{
	struct tm tm;
	time_t t = time(NULL);
	int from, to, open = 1;

	conf_rdlock();
	if (conf.image_subscribe_window[0] != '\0' &&
	    config_parse_window(conf.image_subscribe_window, &from, &to) == 0 &&
	    localtime_r(&t, &tm) != NULL)
		open = config_window_open(from, to, tm.tm_hour * 60 +
		    tm.tm_min);
	conf_unlock();
	return open;
}

/* The versions name's index.json lists, from the first source that has
 * it; NULL (logged) if none. */
static json_t *
fetch_index(const struct sub *sb, CURL *c, const char *name)
{
	char path[URL_MAX], url[URL_MAX], err[ERR_MAX] = "no source";
	json_t *v = NULL;

	snprintf(path, sizeof(path), "manifests/%s/index.json", name);
	for (size_t i = 0; i < sb->nsrc && v == NULL; i++) {
		struct sink s = { .fd = -1, .max = MANIFEST_MAX_BYTES };

		if (pull_url_join(sb->src[i], path, url, sizeof(url)) == 0 &&
		    get(c, url, &s, err, sizeof(err)) == FETCH_OK)
			v = pull_index_parse(s.buf ? s.buf : "", s.len, name,
			    err, sizeof(err));
		free(s.buf);
	}
	if (v == NULL)
		log_warnx("image_subscribe %s: %s", name, err);
	return v;
}

/* The pull id ended (or rackd stops). */
static void
wait_pull(int64_t id)
{
	for (;;) {
		int run = 0;

		pthread_mutex_lock(&lock);
		for (size_t i = 0; i < PULLS_MAX; i++)
			if (pulls[i].id == id)
				run = running(&pulls[i]);
		run = run && !stopping;
		pthread_mutex_unlock(&lock);
		if (!run)
			return;
		usleep(200 * 1000);
	}
}

/* One version: pulled if it matches, the rack lacks it and the window is
 * open. 0 to go on, -1 to end the round. */
static int
subscribe_version(const struct sub *sb, const char *name, const char *ver)
{
	char ref[IMAGE_REF_MAX + 1], kind[16], why[ERR_MAX];
	int64_t id;
	int match = 0, rc;

	for (size_t i = 0; i < sb->npat; i++)
		match |= pull_pattern_match(sb->pat[i], name, ver);
	snprintf(ref, sizeof(ref), "%s:%s", name, ver);
	if (!match || catalog_image_kind(ref, kind, sizeof(kind)) == 0)
		return 0;
	if (!window_open())
		return -1;
	log_info("image_subscribe: %s is new", ref);
	rc = pull_start(name, ver, &id, why, sizeof(why));
	if (rc != 0) {
		log_warnx("image_subscribe: pull of %s: %s", ref, why);
		return -1;
	}
	wait_pull(id);
	return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE) ? -1 : 0;
}

static void *
subscribe_main(void *arg)
{
	struct sub *sb = arg;
	CURL *c = curl_easy_init();

	for (size_t i = 0; c != NULL && i < sb->npat && window_open(); i++) {
		char name[IMAGE_NAME_MAX + 1];
		size_t n = strcspn(sb->pat[i], ":"), k;
		json_t *v, *x;
		int seen = 0;

		snprintf(name, sizeof(name), "%.*s", (int)n, sb->pat[i]);
		for (size_t j = 0; j < i; j++)
			seen |= strncmp(sb->pat[j], name, n) == 0 &&
			    (sb->pat[j][n] == ':' || sb->pat[j][n] == '\0');
		if (seen || (v = fetch_index(sb, c, name)) == NULL)
			continue;	/* the name done already, no index */
		json_array_foreach(v, k, x)
			if (subscribe_version(sb, name,
			    json_string_value(x)) != 0)
				break;
		json_decref(v);
	}
	if (c != NULL)
		curl_easy_cleanup(c);
	for (size_t i = 0; i < sb->npat; i++)
		free(sb->pat[i]);
	for (size_t i = 0; i < sb->nsrc; i++)
		free(sb->src[i]);
	free(sb);
	pthread_mutex_lock(&lock);
	sub_live = 0;
	pthread_cond_broadcast(&idle);
	pthread_mutex_unlock(&lock);
	return NULL;
}

void
pull_subscribe_tick(void)
{
	struct sub *sb;
	pthread_attr_t attr;
	pthread_t th;
	int64_t now = mono_ms();
	int ok;

	pthread_mutex_lock(&lock);
	ok = !sub_live && !stopping && now >= sub_next;
	pthread_mutex_unlock(&lock);
	if (!ok || (sb = calloc(1, sizeof(*sb))) == NULL)
		return;
	conf_rdlock();
	for (int i = 0; i < conf.image_subscribe.n; i++)
		if ((sb->pat[sb->npat] = strdup(conf.image_subscribe.v[i])) !=
		    NULL)
			sb->npat++;
	for (int i = 0; i < conf.image_sources.n && sb->nsrc <
	    PULL_SOURCES_MAX; i++)
		if ((sb->src[sb->nsrc] = strdup(conf.image_sources.v[i])) !=
		    NULL)
			sb->nsrc++;
	now += (int64_t)conf.image_subscribe_interval * 1000;
	conf_unlock();
	pthread_mutex_lock(&lock);
	sub_next = now;
	ok = sb->npat > 0 && sb->nsrc > 0;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (ok && pthread_create(&th, &attr, subscribe_main, sb) == 0) {
		sub_live = 1;
		sb = NULL;	/* the thread's now */
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_unlock(&lock);
	if (sb != NULL) {
		for (size_t i = 0; i < sb->npat; i++)
			free(sb->pat[i]);
		for (size_t i = 0; i < sb->nsrc; i++)
			free(sb->src[i]);
		free(sb);
	}
}

