/*
 * stream.c — the image as one stream: GET url/boot/SLOT/rootfs?from=K
 * sends the stored chunks K.. back to back, each one zstd frame. Frames
 * are decompressed as they come and each is handed to the feed as its
 * chunk (checked there against the manifest). A cut stream is asked for
 * again from the first chunk not yet fed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <zstd.h>

#include "pxe/diskless/diskless.h"

#define STREAM_RECV_BUFFER	(512L * 1024)	/* curl's receive buffer */
#define ERRBODY_MAX		512

struct sx {
	struct feed	*f;
	ZSTD_DCtx	*dctx;
	uint8_t		*out;
	size_t		 cap, len;	/* the frame being decompressed */
	long		 status;
	char		 errbody[ERRBODY_MAX];
	size_t		 errlen;
	char		 err[256];	/* a verification failure: final */
	const atomic_int *stop;
};

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
	ZSTD_inBuffer in = { ptr, n, 0 };

	if (s->status != 200) {
		size_t k = n < sizeof(s->errbody) - s->errlen ? n :
		    sizeof(s->errbody) - s->errlen;
		memcpy(s->errbody + s->errlen, ptr, k);
		s->errlen += k;
		return n;
	}
	atomic_fetch_add(&s->f->fetched, n);
	while (in.pos < in.size) {
		ZSTD_outBuffer ob = { s->out, s->cap, s->len };
		size_t r = ZSTD_decompressStream(s->dctx, &ob, &in);
		if (ZSTD_isError(r)) {
			snprintf(s->err, sizeof(s->err), "chunk %zu: the stream "
			    "does not decompress: %s", s->f->next,
			    ZSTD_getErrorName(r));
			return 0;
		}
		s->len = ob.pos;
		if (r == 0) {		/* a frame, that is a chunk, is whole */
			if (feed_chunk(s->f, s->out, s->len, s->err,
			    sizeof(s->err)) != 0)
				return 0;
			s->len = 0;
		} else if (s->len == s->cap) {
			snprintf(s->err, sizeof(s->err), "chunk %zu: larger "
			    "than a chunk", s->f->next);
			return 0;
		}
	}
	return n;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct sx *s = arg;

	return atomic_load(s->stop) ? 1 : 0;
}

int
stream_fetch(const char *url, const char *slot, struct feed *f,
    const atomic_int *stop, int *gone, char *err, size_t errlen)
{
	char u[AGENT_URL_MAX + DL_SLOT_MAX + 64], curl_err[CURL_ERROR_SIZE];
	char last[300] = "";
	struct sx s = { .f = f, .stop = stop };
	struct retry t;
	CURL *h = NULL;
	int rc = -1;

	*gone = 0;
	s.cap = (size_t)f->m->chunk_size + 1;
	if ((s.out = malloc(s.cap)) == NULL ||
	    (s.dctx = ZSTD_createDCtx()) == NULL || (h = curl_easy_init()) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)STALL_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "rack-diskless");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, STREAM_RECV_BUFFER);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	retry_start(&t, now_ms(), DL_STREAM_DEADLINE_MS);
	while (f->next < f->m->nchunks) {
		size_t before = f->next;
		int64_t delay;
		CURLcode cr;

		snprintf(u, sizeof(u), "%s/boot/%s/rootfs?from=%zu", url, slot,
		    f->next);
		curl_easy_setopt(h, CURLOPT_URL, u);
		ZSTD_DCtx_reset(s.dctx, ZSTD_reset_session_only);
		s.len = 0;
		s.status = 0;
		s.errlen = 0;
		curl_err[0] = '\0';
		cr = curl_easy_perform(h);
		if (s.err[0] != '\0') {		/* the data is wrong: no retry */
			snprintf(err, errlen, "%s", s.err);
			goto out;
		}
		if (atomic_load(stop)) {
			snprintf(err, errlen, "stopped");
			goto out;
		}
		if (cr == CURLE_OK && s.status == 200 &&
		    f->next == f->m->nchunks)
			break;
		if (cr == CURLE_OK && s.status >= 400 && s.status < 500 &&
		    s.status != 429) {
			net_error_text(s.errbody, s.errlen, last, sizeof(last));
			*gone = s.status == 409;
			snprintf(err, errlen, "rootfs stream: HTTP %ld: %s",
			    s.status, last);
			goto out;
		}
		if (cr == CURLE_OK && s.status != 200) {
			net_error_text(s.errbody, s.errlen, last, sizeof(last));
			snprintf(last + strlen(last), sizeof(last) - strlen(last),
			    " (HTTP %ld)", s.status);
		} else if (cr == CURLE_OK)
			snprintf(last, sizeof(last), "the stream ended at chunk "
			    "%zu of %zu", f->next, f->m->nchunks);
		else
			snprintf(last, sizeof(last), "%s", curl_err[0] ?
			    curl_err : curl_easy_strerror(cr));
		if (f->next > before)
			retry_progress(&t, now_ms());
		if (!retry_next(&t, now_ms(), &delay)) {
			snprintf(err, errlen, "no progress for %d s: %s",
			    DL_STREAM_DEADLINE_MS / 1000, last);
			goto out;
		}
		log_warn("rootfs stream: %s; again from chunk %zu in %" PRId64
		    " ms", last, f->next, delay);
		sleep_ms(delay);
	}
	rc = 0;
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	ZSTD_freeDCtx(s.dctx);
	free(s.out);
	return rc;
}
