/*
 * pull.c — images pulled by the rack from an origin (rackctl publish),
 * through the HTTP caches of image_sources, on threads of its own (never
 * the event loop's):
 *
 *   BASE/manifests/<name>/<version>.json   the manifest (signature in it)
 *   BASE/chunks/<64 hex>                   one compressed chunk, immutable
 *
 * This file is a pull's life: its entry in the table (the last PULLS_MAX,
 * at most PULLS_ACTIVE_MAX running), its thread and its states. A pull
 * fetches the manifest (pull_fetch.c: from the first source that answers,
 * each request failing over to the next), checks it as a push's manifest
 * is checked (catalog.c's trust, and pull_trust), records it as a pending
 * push (push.c: garbage collection keeps its chunks from then on), fetches
 * only the chunks the store lacks (pull_fetch.c, each verified before it is
 * visible) and commits through push.c's commit, as a push does. A pull cut
 * short leaves its chunks and its pending record: the next pull of the
 * image fetches only what is still missing. A chunk that does not match
 * its hash on every source fails the pull, and its pending record goes
 * (the image never appears).
 *
 * Each pull is a row of the database (db_pulls.c), written at each change
 * of state and at most every PULL_SAVE_MS as it goes, and published as a
 * "pull" event on /api/v1/events; pull_recover.c resumes at start those
 * that rackd's stop or end cut short. The other files of a pull:
 * pull_http.c (one GET, pull_rate; libcurl there only), pull_parse.c (the
 * pure parts), pull_subscribe.c (image_subscribe); pull_int.h is what they
 * share.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "appliance/pull_int.h"
#include "db/db.h"
#include "images/manifest.h"

const char *const pull_state_names[PULL_STATES] = {
	"queued", "manifest", "fetching", "committing", "done", "failed",
};

pthread_mutex_t pull_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t pull_idle = PTHREAD_COND_INITIALIZER;
struct pull pull_entries[PULLS_MAX];
int pull_active;
int pull_stopping;
int pull_streams;
int pull_sub_live;
/* Held from a pull's snapshot to its write: rows and events in order. */
static pthread_mutex_t save_lock = PTHREAD_MUTEX_INITIALIZER;

/* The pull as it is now into its row and onto /api/v1/events: at once
 * with force (a change of state), else at most every PULL_SAVE_MS. A pull
 * that fails once rackd is stopping is not written failed: its row keeps
 * its running state, and pull_recover resumes it at the next start. */
void
pull_record(struct pull *p, int force)
{
	struct db_pull d;
	int64_t now = mono_ms();
	json_t *ev;

	pthread_mutex_lock(&save_lock);
	pthread_mutex_lock(&pull_lock);
	if ((!force && now - p->saved_ms < PULL_SAVE_MS) ||
	    (p->state == PULL_FAILED && pull_stopping)) {
		pthread_mutex_unlock(&pull_lock);
		pthread_mutex_unlock(&save_lock);
		return;
	}
	p->saved_ms = now;
	memset(&d, 0, sizeof(d));
	d.id = p->id;
	snprintf(d.state, sizeof(d.state), "%s", pull_state_names[p->state]);
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
	pthread_mutex_unlock(&pull_lock);
	if (db_pull_save(&d) != DB_OK)
		log_warnx("pull %" PRId64 ": its record was not written", d.id);
	events_publish("pull", ev);
	pthread_mutex_unlock(&save_lock);
}

void
pull_set_state(struct pull *p, enum pull_state s)
{
	pthread_mutex_lock(&pull_lock);
	p->state = s;
	if (s == PULL_DONE || s == PULL_FAILED)
		p->end_ms = mono_ms();
	pthread_mutex_unlock(&pull_lock);
	pull_record(p, 1);
}

void
pull_fail(struct pull *p, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&pull_lock);
	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	p->state = PULL_FAILED;
	p->end_ms = mono_ms();
	pthread_mutex_unlock(&pull_lock);
	log_warnx("pull %s:%s failed: %s", p->name, p->version, p->error);
	pull_record(p, 1);
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
		pull_fail(p, "%s", err);
		return 0;
	}
	if (must && (nkeys == 0 || m->signature == NULL)) {
		pull_fail(p, "pull_trust: %s", nkeys == 0 ? "no trusted_keys "
		    "set, so no pulled image can be trusted" :
		    "the image is not signed");
		return 0;
	}
	return 1;
}

static void
run(struct pull *p)
{
	struct pull_conn *c = pull_conn_new();
	struct manifest *m = NULL;
	struct catalog_freed f;
	size_t distinct;
	uint64_t need_bytes = 0;
	char err[ERR_MAX];
	json_t *body = NULL;
	int status;

	if (c == NULL) {
		pull_fail(p, "libcurl failed to start");
		return;
	}
	pull_set_state(p, PULL_MANIFEST);
	m = pull_fetch_manifest(p, c);
	pull_conn_free(c);
	if (m == NULL || !trusted(p, m))
		goto out;
	p->alg = m->hash;
	status = push_begin(m, &p->need, &p->nneed, &distinct, err,
	    sizeof(err));
	/* Resumed, missing and bytes_total stay the first run's (from its
	 * row), and what is in the store since counts as done. */
	for (size_t i = 0; i < p->nneed; i++)
		need_bytes += p->need[i].stored;
	pthread_mutex_lock(&pull_lock);
	p->chunks = distinct;
	if (p->resumed == 0 || p->missing < p->nneed ||
	    p->bytes_total < need_bytes) {
		p->missing = p->nneed;
		p->bytes_total = need_bytes;
	}
	p->chunks_done = p->missing - p->nneed;
	p->bytes_done = p->bytes_total - need_bytes;
	pthread_mutex_unlock(&pull_lock);
	if (status == 1) {
		pthread_mutex_lock(&pull_lock);
		p->present = p->resumed == 0;	/* else: committed before */
		pthread_mutex_unlock(&pull_lock);
		pull_set_state(p, PULL_DONE);
		goto out;
	}
	if (status != 0) {
		pull_fail(p, "%s", err);
		goto out;
	}
	log_info("pull %s:%s: %zu of %zu chunks missing (%" PRIu64 " bytes) "
	    "from %s", p->name, p->version, p->nneed, distinct, p->bytes_total,
	    p->source);
	pull_set_state(p, PULL_FETCHING);
	if (pull_fetch_chunks(p) != 0) {
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
	pull_set_state(p, PULL_COMMITTING);
	conf_rdlock();
	status = push_commit_pending(p->name, p->version, 0, &body, err,
	    sizeof(err));
	conf_unlock();
	json_decref(body);
	if (status == 200 || status == 201)
		pull_set_state(p, PULL_DONE);
	else
		pull_fail(p, "commit: %s", err);
out:
	manifest_free(m);
}

static void *
thread_main(void *arg)
{
	struct pull *p = arg;

	run(p);
	pthread_mutex_lock(&pull_lock);
	free(p->need);
	p->need = NULL;
	for (size_t i = 0; i < p->nsrc; i++) {
		free(p->src[i]);
		p->src[i] = NULL;
	}
	p->live = 0;
	if (--pull_active == 0)
		pthread_cond_broadcast(&pull_idle);
	pthread_mutex_unlock(&pull_lock);
	return NULL;
}

/* ---- what the API asks ----------------------------------------------- */

void
pull_stop(void)
{
	pthread_mutex_lock(&pull_lock);
	__atomic_store_n(&pull_stopping, 1, __ATOMIC_RELEASE);
	while (pull_active > 0 || pull_sub_live)
		pthread_cond_wait(&pull_idle, &pull_lock);
	pthread_mutex_unlock(&pull_lock);
}

int
pull_running(const struct pull *p)
{
	return p->live || (p->id != 0 && p->state != PULL_DONE &&
	    p->state != PULL_FAILED);
}

/* A thread for p, filled (lock held): 0, or -1 with p's sources freed. */
int
pull_launch(struct pull *p)
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
	pull_active++;
	return 0;
}

/* The sources as image_sources is now, strdup'd into src: how many. */
size_t
pull_sources_now(char **src)
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
	nsrc = pull_sources_now(src);
	pthread_mutex_lock(&pull_lock);
	if (nsrc == 0) {
		snprintf(why, len, "no image_sources are configured");
		rc = 409;
		goto out;
	}
	if (pull_stopping) {
		snprintf(why, len, "rackd is stopping");
		rc = 503;
		goto out;
	}
	for (size_t i = 0; i < PULLS_MAX; i++) {
		struct pull *q = &pull_entries[i];

		if (pull_running(q) && strcmp(q->name, name) == 0 &&
		    strcmp(q->version, version) == 0) {
			*id = q->id;	/* that one answers */
			rc = 0;
			goto out;
		}
	}
	if (pull_active >= PULLS_ACTIVE_MAX) {
		snprintf(why, len, "%d pulls run already; try again when one "
		    "ends", PULLS_ACTIVE_MAX);
		rc = 429;
		goto out;
	}
	/* A free entry, else the oldest finished one. */
	for (size_t i = 0; i < PULLS_MAX; i++)
		if (!pull_running(&pull_entries[i]) &&
		    (p == NULL || pull_entries[i].id < p->id))
			p = &pull_entries[i];
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
	if (pull_launch(p) != 0) {
		snprintf(p->error, sizeof(p->error), "cannot start a thread");
		p->state = PULL_FAILED;
		p->end_ms = p->start_ms;
		pthread_mutex_unlock(&pull_lock);
		pull_record(p, 1);
		snprintf(why, len, "cannot start a thread");
		return 500;
	}
	rc = 0;
	log_info("pull %s:%s started (pull %" PRId64 ")", name, version, *id);
out:
	pthread_mutex_unlock(&pull_lock);
	for (size_t i = 0; i < nsrc; i++)
		free(src[i]);
	return rc;
}

/* Call with lock held. */
json_t *
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
	    pull_state_names[p->state], "present", p->present,
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

	pthread_mutex_lock(&pull_lock);
	for (size_t i = 0; i < PULLS_MAX; i++)
		if (pull_entries[i].id != 0) {
			size_t j = n++;
			while (j > 0 && order[j - 1]->id < pull_entries[i].id) {
				order[j] = order[j - 1];
				j--;
			}
			order[j] = &pull_entries[i];
		}
	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, pull_json(order[i]));
	pthread_mutex_unlock(&pull_lock);
	return a;
}

json_t *
pull_get_json(int64_t id)
{
	json_t *o = NULL;

	pthread_mutex_lock(&pull_lock);
	for (size_t i = 0; i < PULLS_MAX; i++)
		if (id > 0 && pull_entries[i].id == id)
			o = pull_json(&pull_entries[i]);
	pthread_mutex_unlock(&pull_lock);
	return o;
}
