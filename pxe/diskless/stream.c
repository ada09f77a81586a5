/*
 * stream.c — the image as one stream: GET url/boot/SLOT/rootfs?from=K
 * sends the stored chunks K.. back to back, each one zstd frame. A
 * receiver thread reads the stream into a bounded queue (so the link keeps
 * flowing while this thread works); the caller's thread decompresses the
 * frames as they come and hands each to the feed as its chunk (checked
 * there against the manifest). After a cut the receiver marks the queue;
 * once this side has used everything before the mark it says from which
 * chunk to ask again (the first one not yet fed).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <zstd.h>

#include "pxe/diskless/diskless.h"

#define MARK_CUT	((size_t)-2)	/* queue item: the stream broke */
#define MARK_END	((size_t)-1)	/* queue item: no more */

struct sx {
	struct feed	*f;
	const char	*url, *slot;
	struct queue	*q;
	atomic_int	*stop;
	/* the receiver's current reply */
	long		 status;
	char		 errbody[ERRBODY_MAX];
	size_t		 errlen;
	/* hand-over after a cut: where to ask again from */
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	size_t		 resume_from;
	int		 resume_set;
	/* the receiver's outcome */
	int		 failed, gone;
	char		 err[ERR_OUTER_MAX];
};

static int
push_mark(struct sx *s, size_t mark)
{
	struct qitem *it = calloc(1, sizeof(*it));

	if (it == NULL || queue_reserve(s->q, 0) != 0) {
		free(it);
		return -1;
	}
	it->index = mark;
	queue_push(s->q, it);
	return 0;
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sx *s = arg;
	size_t n = size * nmemb;

	if (n > 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		const char *sp = memchr(ptr, ' ', n);
		s->status = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
	}
	return n;
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sx *s = arg;
	size_t n = size * nmemb;
	struct qitem *it;

	if (s->status != 200) {
		size_t k = n < sizeof(s->errbody) - s->errlen ? n :
		    sizeof(s->errbody) - s->errlen;
		memcpy(s->errbody + s->errlen, ptr, k);
		s->errlen += k;
		return n;
	}
	if (queue_reserve(s->q, n) != 0)
		return 0;			/* stopping */
	if ((it = calloc(1, sizeof(*it))) == NULL ||
	    (it->data = malloc(n)) == NULL) {
		free(it);
		queue_unreserve(s->q, n);
		return 0;
	}
	memcpy(it->data, ptr, n);
	it->len = it->cap = n;
	atomic_fetch_add(&s->f->fetched, n);
	queue_push(s->q, it);
	return n;
}

/* The other side's answer after a cut: the first chunk it lacks. */
static int
wait_resume(struct sx *s, size_t *from)
{
	pthread_mutex_lock(&s->lock);
	while (!s->resume_set && !atomic_load(s->stop))
		pthread_cond_wait(&s->cond, &s->lock);
	*from = s->resume_from;
	s->resume_set = 0;
	pthread_mutex_unlock(&s->lock);
	return atomic_load(s->stop) ? -1 : 0;
}

static void *
receiver(void *arg)
{
	struct sx *s = arg;
	char u[AGENT_URL_MAX + DL_SLOT_MAX + 64], curl_err[CURL_ERROR_SIZE];
	char last[ERR_MAX] = "";
	size_t from = 0, nchunks = s->f->m->nchunks;
	struct retry t;
	CURL *h = curl_easy_init();

	if (h == NULL) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		s->failed = 1;
		push_mark(s, MARK_END);
		return NULL;
	}
	net_curl_opts(h, curl_err);
	net_curl_stop(h, s->stop);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, DL_STREAM_RECV_BUFFER);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	retry_start(&t, now_ms(), DL_STREAM_DEADLINE_MS);
	while (!atomic_load(s->stop)) {
		size_t before = from;
		int64_t delay;
		CURLcode cr;

		snprintf(u, sizeof(u), "%s/boot/%s/rootfs?from=%zu", s->url,
		    s->slot, from);
		curl_easy_setopt(h, CURLOPT_URL, u);
		s->status = 0;
		s->errlen = 0;
		curl_err[0] = '\0';
		cr = curl_easy_perform(h);
		if (atomic_load(s->stop))
			break;
		if (cr == CURLE_OK && s->status == 200)
			break;			/* the whole rest was sent */
		if (cr == CURLE_OK && s->status >= 400 && s->status < 500 &&
		    s->status != 429) {
			net_error_text(s->errbody, s->errlen, last,
			    sizeof(last));
			s->gone = s->status == 409;
			snprintf(s->err, sizeof(s->err), "rootfs stream: "
			    "HTTP %ld: %s", s->status, last);
			s->failed = 1;
			break;
		}
		if (cr == CURLE_OK) {
			net_error_text(s->errbody, s->errlen, last,
			    sizeof(last));
			snprintf(last + strlen(last),
			    sizeof(last) - strlen(last), " (HTTP %ld)",
			    s->status);
		} else
			snprintf(last, sizeof(last), "%s", curl_err[0] ?
			    curl_err : curl_easy_strerror(cr));
		/* everything before the cut is used first; then ask again */
		if (push_mark(s, MARK_CUT) != 0 || wait_resume(s, &from) != 0)
			break;
		if (from >= nchunks)
			break;
		if (from > before)
			retry_progress(&t, now_ms());
		if (!retry_next(&t, now_ms(), &delay)) {
			snprintf(s->err, sizeof(s->err),
			    "no progress for %d s: %s",
			    DL_STREAM_DEADLINE_MS / 1000, last);
			s->failed = 1;
			break;
		}
		log_warn("rootfs stream: %s; again from chunk %zu in %" PRId64
		    " ms", last, from, delay);
		retry_wait(delay, s->stop);
	}
	curl_easy_cleanup(h);
	push_mark(s, MARK_END);
	return NULL;
}

int
stream_fetch(const char *url, const char *slot, struct feed *f,
    atomic_int *stop, int *gone, char *err, size_t errlen)
{
	struct sx s = { .f = f, .url = url, .slot = slot, .stop = stop };
	size_t cap = (size_t)f->m->chunk_size + 1, len = 0;
	uint8_t *out = malloc(cap);
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	struct qitem *it;
	pthread_t th;
	int rc = 0;

	*gone = 0;
	err[0] = '\0';
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	s.q = queue_new(DL_STREAM_QUEUE_BYTES, DL_STREAM_QUEUE_ITEMS);
	if (out == NULL || dctx == NULL || s.q == NULL ||
	    pthread_create(&th, NULL, receiver, &s) != 0) {
		snprintf(err, errlen, "out of memory");
		queue_free(s.q);
		ZSTD_freeDCtx(dctx);
		free(out);
		return -1;
	}
	while ((it = queue_pop(s.q)) != NULL) {
		size_t idx = it->index;
		if (idx == MARK_END) {
			free(it);
			break;
		}
		if (idx == MARK_CUT) {	/* a partial frame is dropped */
			ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
			len = 0;
			pthread_mutex_lock(&s.lock);
			s.resume_from = f->next;
			s.resume_set = 1;
			pthread_cond_signal(&s.cond);
			pthread_mutex_unlock(&s.lock);
			free(it);
			continue;
		}
		ZSTD_inBuffer in = { it->data, it->len, 0 };
		while (rc == 0 && in.pos < in.size) {
			ZSTD_outBuffer ob = { out, cap, len };
			size_t r = ZSTD_decompressStream(dctx, &ob, &in);
			if (ZSTD_isError(r)) {
				snprintf(err, errlen, "chunk %zu: the stream "
				    "does not decompress: %s", f->next,
				    ZSTD_getErrorName(r));
				rc = -1;
				break;
			}
			len = ob.pos;
			if (r == 0) {	/* a frame, that is a chunk, is whole */
				if (feed_chunk(f, out, len, err, errlen) != 0)
					rc = -1;
				len = 0;
			} else if (len == cap) {
				snprintf(err, errlen, "chunk %zu: larger than "
				    "a chunk", f->next);
				rc = -1;
			}
		}
		free(it->data);
		queue_release(s.q, it->cap);
		free(it);
		if (rc != 0) {
			atomic_store(stop, 1);
			queue_abort(s.q);
			pthread_mutex_lock(&s.lock);
			pthread_cond_signal(&s.cond);
			pthread_mutex_unlock(&s.lock);
			break;
		}
	}
	pthread_join(th, NULL);
	if (rc == 0 && s.failed) {
		snprintf(err, errlen, "%s", s.err);
		*gone = s.gone;
		rc = -1;
	}
	if (rc == 0 && (f->next != f->m->nchunks || len != 0)) {
		snprintf(err, errlen, "%s", atomic_load(stop) ? "stopped" :
		    "the stream ended before the last chunk");
		rc = -1;
	}
	queue_free(s.q);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.lock);
	ZSTD_freeDCtx(dctx);
	free(out);
	return rc;
}
