/*
 * pull_fetch.c — a pull's fetching, from its sources in turn (image_sources
 * as it was when the pull began): each request fails over to the next
 * source on an error, a timeout or a 5xx (a source that failed is tried
 * last for PULL_SOURCE_DOWN_MS), and on a 404. The manifest from the first
 * source that has it, checked to be of the image asked for; the chunks the
 * store lacks over PULL_STREAMS connections, each into a temporary file of
 * the store that store_adopt_chunk verifies against its hash before it is
 * renamed into place (a chunk that matches on no source fails the pull,
 * marked bad).
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appliance/pull_int.h"
#include "db/db.h"
#include "images/chunk.h"
#include "images/manifest.h"
#include "images/store.h"

static void
source_served(struct pull *p, size_t i)
{
	pthread_mutex_lock(&pull_lock);
	snprintf(p->source, sizeof(p->source), "%s", p->src[i]);
	p->down_until[i] = 0;
	pthread_mutex_unlock(&pull_lock);
}

static void
source_down(struct pull *p, size_t i, const char *why)
{
	pthread_mutex_lock(&pull_lock);
	p->down_until[i] = mono_ms() + PULL_SOURCE_DOWN_MS;
	p->failovers++;
	pthread_mutex_unlock(&pull_lock);
	log_warnx("pull %s:%s: %s; trying the next source", p->name,
	    p->version, why);
}

static size_t
sources(struct pull *p, size_t *order)
{
	size_t n;

	pthread_mutex_lock(&pull_lock);
	n = pull_source_order(p->nsrc, p->down_until, mono_ms(), order);
	pthread_mutex_unlock(&pull_lock);
	return n;
}

/* The manifest from the first source that has it; NULL with the pull
 * failed. */
struct manifest *
pull_fetch_manifest(struct pull *p, struct pull_conn *c)
{
	char path[URL_MAX], url[URL_MAX], err[ERR_MAX] = "no source";
	char why[ERR_MAX];
	size_t order[PULL_SOURCES_MAX], n = sources(p, order);
	struct manifest *m = NULL;

	snprintf(path, sizeof(path), "manifests/%s/%s.json", p->name,
	    p->version);
	for (size_t k = 0; k < n; k++) {
		struct pull_sink s = { .fd = -1, .max = MANIFEST_MAX_BYTES };
		size_t i = order[k];
		enum pull_fetch f;

		if (pull_url_join(p->src[i], path, url, sizeof(url)) != 0) {
			snprintf(err, sizeof(err), "source %zu: URL too long",
			    i + 1);
			continue;
		}
		f = pull_get(c, url, &s, err, sizeof(err));
		if (f == PULL_FETCH_OK) {
			int rc = pull_manifest_check(s.buf ? s.buf : "", s.len,
			    p->name, p->version, &m, why, sizeof(why));
			free(s.buf);
			if (rc == 0) {
				source_served(p, i);
				return m;
			}
			snprintf(err, sizeof(err), "%.200s: %.250s", url, why);
			pull_fail(p, "%s", err);
			return NULL;
		}
		free(s.buf);
		if (f == PULL_FETCH_DOWN)
			source_down(p, i, err);
	}
	pull_fail(p, "no source has %s:%s (last: %s)", p->name, p->version,
	    err);
	return NULL;
}

/* One chunk from the sources in turn, verified into the store. 0, or -1
 * with err (and *bad when some source sent content that does not match:
 * a corrupt origin or cache). */
static int
fetch_chunk(struct pull *p, struct pull_conn *c, const struct push_need *nd,
    int *bad, char *err, size_t errlen)
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
		struct pull_sink s = {
			.max = chunk_compress_bound(nd->length)
		};
		enum pull_fetch f;

		if (store_has_chunk(st, nd->hash))
			return 0;	/* another pull or push brought it */
		if (pull_url_join(p->src[i], rel, url, sizeof(url)) != 0)
			continue;
		if (store_tmp_create(st, "pull", path, sizeof(path), &fd, err,
		    errlen) != 0)
			return -1;
		s.fd = fd;
		f = pull_get(c, url, &s, err, errlen);
		pthread_mutex_lock(&pull_lock);
		p->bytes_fetched += s.got;
		pthread_mutex_unlock(&pull_lock);
		if (f == PULL_FETCH_OK && store_adopt_chunk(st, p->alg,
		    nd->hash, nd->length, path, fd, &added, e,
		    sizeof(e)) == 0) {
			close(fd);
			source_served(p, i);
			return 0;
		}
		if (f == PULL_FETCH_OK && errno != EBADMSG) {
			/* This rack's trouble (a full disk), not the
			 * source's: no other source would do better. */
			snprintf(err, errlen, "%s", e);
			close(fd);
			unlink(path);
			return -1;
		}
		if (f == PULL_FETCH_OK) {
			snprintf(err, errlen, "%.200s: refused: %.250s", url,
			    e);
			log_warnx("pull %s:%s: chunk %s refused: %s", p->name,
			    p->version, url, e);
			*bad = 1;
		}
		close(fd);
		unlink(path);
		if (f == PULL_FETCH_DOWN)
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
	struct pull_conn *c = pull_conn_new();
	char err[ERR_MAX];

	__atomic_add_fetch(&pull_streams, 1, __ATOMIC_ACQ_REL);
	for (;;) {
		struct push_need *nd;
		int bad = 0, rc = -1;

		pthread_mutex_lock(&pull_lock);
		if (c == NULL || p->state != PULL_FETCHING ||
		    p->next >= p->nneed || pull_stopping) {
			pthread_mutex_unlock(&pull_lock);
			break;
		}
		nd = &p->need[p->next++];
		pthread_mutex_unlock(&pull_lock);
		for (int round = 0; round < PULL_ROUNDS && rc != 0 && !bad;
		    round++) {
			if (round > 0)
				usleep(PULL_RETRY_MS * 1000 * round);
			rc = fetch_chunk(p, c, nd, &bad, err, sizeof(err));
		}
		if (rc != 0) {
			pthread_mutex_lock(&pull_lock);
			p->bad |= bad;
			pthread_mutex_unlock(&pull_lock);
			pull_fail(p, "chunk %.16s: %s", nd->hash, err);
			break;
		}
		pthread_mutex_lock(&pull_lock);
		p->chunks_done++;
		p->bytes_done += nd->stored;
		pthread_mutex_unlock(&pull_lock);
		pull_record(p, 0);
		conf_rdlock();
		db_push_touch(nd->hash, conf.push_expiry >= 240 ? 60000 :
		    (int64_t)conf.push_expiry * 250);
		conf_unlock();
	}
	__atomic_sub_fetch(&pull_streams, 1, __ATOMIC_ACQ_REL);
	if (c != NULL)
		pull_conn_free(c);
	else
		pull_fail(p, "libcurl failed to start");
	return NULL;
}

/* The chunks over PULL_STREAMS connections. 0 when all are in. */
int
pull_fetch_chunks(struct pull *p)
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
		pull_fail(p, "cannot start threads");
		return -1;
	}
	for (int i = 0; i < PULL_STREAMS; i++)
		if (sm[i].started)
			pthread_join(sm[i].th, NULL);
	pthread_mutex_lock(&pull_lock);
	n = p->state == PULL_FETCHING && p->next >= p->nneed && !pull_stopping;
	failed = p->state == PULL_FAILED;
	pthread_mutex_unlock(&pull_lock);
	if (!n && !failed)
		pull_fail(p, "rackd is stopping");
	return n ? 0 : -1;
}
