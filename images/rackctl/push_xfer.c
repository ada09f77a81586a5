/* images/rackctl/push_xfer.c — the transfer engine of rackctl push: the
 * chunks one rack lacks, uploaded over a few parallel streams (libcurl
 * multi) as whole chunks or as patches (patch.c).
 *
 * A chunk whose upload fails on the network or with a 5xx is queued again
 * after a backoff, at most --retries times; a patch the rack cannot take
 * goes again whole; a 409 means the rack no longer waits for the chunk,
 * and the manifest is posted again (push_proto.c). Bytes under way count
 * into the rack's progress as they go.
 */
#include "images/rackctl/rackctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "images/store.h"

/* One upload under way. */
struct xfer {
	CURL *easy;
	struct curl_slist *hdrs;
	FILE *f;
	void *patch; /* the body, when a patch */
	size_t item;
	curl_off_t shown; /* bytes counted into bytes_flight */
	struct http_reply reply;
	char ebuf[CURL_ERROR_SIZE];
	struct push *p;
	struct push_target *t;
	bool busy;
};

static int
xferinfo(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
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
static int
xfer_start(struct push *p, struct push_target *t, CURLM *multi, struct xfer *x,
    struct push_item *items, size_t i)
{
	char url[RACK_URL_MAX + URL_PATH_MAX + 100], path[STORE_PATH_MAX],
	    base[HASH_HEX_LEN + 1];
	struct push_item *it = &items[i];
	uint64_t size = it->size;
	size_t plen = 0;

	x->f = NULL;
	x->patch = NULL;
	if (t->base && !it->whole &&
	    t->patch_refused < PUSH_PATCH_REFUSED_MAX &&
	    patch_make(t->base, p->st, it->hash, it->size, &x->patch, &plen,
		base) == PATCH_MADE) {
		if ((x->f = fmemopen(x->patch, plen, "rb")) != NULL) {
			size = plen;
			snprintf(url, sizeof url,
			    "%s/api/v1/chunks/%s?base=%s&level=%d", t->rack.url,
			    it->hash, base, patch_base_level(t->base));
		} else {
			free(x->patch);
			x->patch = NULL;
		}
	}
	if (!x->f) {
		if (store_chunk_path(p->st, it->hash, path, sizeof path) < 0 ||
		    !(x->f = fopen(path, "rbe"))) {
			push_fail(p, t,
			    "chunk %s: cannot read it from the local store: %s",
			    it->hash, strerror(errno));
			return -1;
		}
		snprintf(url, sizeof url, "%s/api/v1/chunks/%s", t->rack.url,
		    it->hash);
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
		push_fail(p, t, "out of memory");
		return -1;
	}
	return 0;
}

/* What became of an upload. */
enum outcome {
	UP_OK,
	UP_RETRY,
	UP_WHOLE,
	UP_RESTART,
	UP_FATAL
};

static enum outcome
xfer_end(struct push *p, struct push_target *t, CURLM *multi, struct xfer *x,
    CURLcode cr, struct push_item *it, char *why, size_t whylen)
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
		snprintf(why, whylen, "chunk %.16s: %s", it->hash,
		    x->ebuf[0] ? x->ebuf : curl_easy_strerror(cr));
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
	char e[RACKCTL_ERR_MAX];
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
	/* 409: the rack no longer waits for it, post again. */
	if (st == 409)
		return UP_RESTART;
	if (st == 500 || st == 502 || st == 503 || st == 504)
		return UP_RETRY;
	return UP_FATAL;
}

enum push_step
push_upload(
    struct push *p, struct push_target *t, struct push_item *items, size_t n)
{
	struct xfer *xs = calloc((size_t)p->streams, sizeof *xs);
	size_t *queue = calloc(n ? n : 1, sizeof *queue), head = 0, tail = 0,
	       done = 0;
	CURLM *multi = curl_multi_init();
	enum push_step rc = PUSH_STEP_FAILED;
	int active = 0;
	char why[RACKCTL_ERR_MAX] = "";
	bool restart = false;

	if (!xs || !queue || !multi) {
		push_fail(p, t, "out of memory");
		goto out;
	}
	for (int i = 0; i < p->streams; i++) {
		xs[i].p = p;
		xs[i].t = t;
		if (!(xs[i].easy = curl_easy_init()) ||
		    !(xs[i].hdrs = rackctl_auth_headers(
			  &t->rack, "application/zstd"))) {
			push_fail(p, t, "out of memory");
			goto out;
		}
	}
	/* A queue of item indices (a ring of n): retries go to its end. */
	for (size_t i = 0; i < n; i++)
		queue[tail++ % n] = i;
	push_set_state(p, t, PUSH_UPLOAD);
	while (done < n && !restart) {
		double now = rackctl_now();
		long wait = PUSH_POLL_MS;
		/* Start what may start. */
		while (active < p->streams && head != tail) {
			struct push_item *it = &items[queue[head % n]];
			if (it->not_before > now) {
				long ms =
				    (long)((it->not_before - now) * 1000) + 1;
				if (ms < wait)
					wait = ms;
				break;
			}
			struct xfer *x = NULL;
			for (int i = 0; i < p->streams && !x; i++)
				if (!xs[i].busy)
					x = &xs[i];
			if (xfer_start(p, t, multi, x, items, queue[head % n]) <
			    0)
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
			curl_easy_getinfo(
			    msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			struct push_item *it = &items[x->item];
			CURLcode cr = msg->data.result;
			active--;
			switch (
			    xfer_end(p, t, multi, x, cr, it, why, sizeof why)) {
			case UP_OK:
				done++;
				break;
			case UP_RETRY:
				if (it->attempts >= p->retries) {
					push_fail(p, t, "%s (after %d retries)",
					    why, it->attempts);
					goto out;
				}
				it->not_before = rackctl_now() +
				    (double)rackctl_backoff_ms(it->attempts) /
					1000;
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
				push_fail(p, t, "%s", why);
				goto out;
			}
		}
	}
	rc = restart ? PUSH_STEP_AGAIN : PUSH_STEP_NEXT;
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
