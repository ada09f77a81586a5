/*
 * net.c — rackd over HTTP with libcurl. Two easy handles, each used by one
 * thread and each keeping its connection alive: "api" (the main thread:
 * the job, reports; carries the job token) and "chunks" (the fetch thread:
 * GET /chunks/HASH, no token). Every reply is read into a buffer with a
 * named limit.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "pxe/lib/pxe.h"

struct net {
	char		 base[AGENT_URL_MAX];
	CURL		*api, *chunks;
	struct curl_slist *api_headers, *json_headers;
	char		 api_err[CURL_ERROR_SIZE], chunks_err[CURL_ERROR_SIZE];
	pthread_mutex_t	 api_lock;
	uint64_t	 total;		/* bytes_total of reports (0: none) */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* A reply body, bounded by max. */
struct membuf {
	char	*data;
	size_t	 len, cap, max;
	int	 overflow;
};

static size_t
membuf_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct membuf *b = arg;
	size_t n = size * nmemb;

	if (n > b->max - b->len) {
		b->overflow = 1;
		return 0;	/* curl stops: CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > b->max + 1)
			cap = b->max + 1;
		if ((d = realloc(b->data, cap)) == NULL) {
			b->overflow = 1;
			return 0;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

void
net_curl_opts(void *curl, char *errbuf)
{
	CURL *h = curl;


	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)STALL_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 10L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 5L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, program_invocation_short_name);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
}

int
net_new(const char *url, const char *token, struct net **out, char *err,
    size_t errlen)
{
	struct net *n;
	char auth[AGENT_TOKEN_MAX + 32];

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		snprintf(err, errlen, "libcurl failed to start: %s",
		    curl_easy_strerror(curl_init_rc));
		return -1;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&n->api_lock, NULL);
	snprintf(n->base, sizeof(n->base), "%s", url);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	n->api = curl_easy_init();
	n->chunks = curl_easy_init();
	n->api_headers = curl_slist_append(NULL, auth);
	n->json_headers = n->api_headers == NULL ? NULL :
	    curl_slist_append(curl_slist_append(NULL, auth),
	    "Content-Type: application/json");
	if (n->api == NULL || n->chunks == NULL || n->api_headers == NULL ||
	    n->json_headers == NULL) {
		net_free(n);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	net_curl_opts(n->api, n->api_err);
	net_curl_opts(n->chunks, n->chunks_err);
	/* A chunk is ~1 MiB: read it in a few large pieces, not 16 KiB ones
	 * (libcurl's default), so fewer syscalls and callbacks per chunk. */
	curl_easy_setopt(n->chunks, CURLOPT_BUFFERSIZE, (long)CHUNK_RX_BUFFER);
	*out = n;
	return 0;
}

void
net_free(struct net *n)
{
	if (n == NULL)
		return;
	if (n->api != NULL)
		curl_easy_cleanup(n->api);
	if (n->chunks != NULL)
		curl_easy_cleanup(n->chunks);
	curl_slist_free_all(n->api_headers);
	curl_slist_free_all(n->json_headers);
	pthread_mutex_destroy(&n->api_lock);
	free(n);
}

void
net_error_text(const char *body, size_t len, char *out, size_t outlen)
{
	json_t *o = body != NULL && len > 0 ? json_loadb(body, len, 0, NULL) :
	    NULL;
	const char *e = json_string_value(json_object_get(o, "error"));
	size_t j = 0;

	if (outlen == 0)
		return;
	if (e != NULL) {
		body = e;
		len = strlen(e);
	}
	for (size_t i = 0; body != NULL && i < len && j + 1 < outlen; i++) {
		unsigned char ch = (unsigned char)body[i];
		if (ch == '\n' || ch == '\r' || ch == '\t')
			ch = ' ';
		out[j++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	while (j > 0 && out[j - 1] == ' ')
		j--;
	out[j] = '\0';
	json_decref(o);
}

/* One request on the api handle: the body in b (bounded), the status. */
static int
api_call(struct net *n, const char *url, const char *post, long timeout_s,
    struct membuf *b, long *status, char *err, size_t errlen)
{
	CURLcode rc;

	pthread_mutex_lock(&n->api_lock);
	n->api_err[0] = '\0';
	curl_easy_setopt(n->api, CURLOPT_URL, url);
	curl_easy_setopt(n->api, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(n->api, CURLOPT_WRITEFUNCTION, membuf_write);
	curl_easy_setopt(n->api, CURLOPT_WRITEDATA, b);
	if (post != NULL) {
		curl_easy_setopt(n->api, CURLOPT_HTTPHEADER, n->json_headers);
		curl_easy_setopt(n->api, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(n->api, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(post));
	} else {
		curl_easy_setopt(n->api, CURLOPT_HTTPHEADER, n->api_headers);
		curl_easy_setopt(n->api, CURLOPT_HTTPGET, 1L);
	}
	rc = curl_easy_perform(n->api);
	*status = 0;
	curl_easy_getinfo(n->api, CURLINFO_RESPONSE_CODE, status);
	if (rc != CURLE_OK) {
		if (b->overflow)
			snprintf(err, errlen, "reply larger than %zu bytes",
			    b->max);
		else
			snprintf(err, errlen, "%s", n->api_err[0] ? n->api_err :
			    curl_easy_strerror(rc));
	}
	pthread_mutex_unlock(&n->api_lock);
	return rc == CURLE_OK ? 0 : -1;
}

int
net_get_job(struct net *n, int64_t job, long *status, char **body,
    size_t *len, char *err, size_t errlen)
{
	char url[AGENT_URL_MAX + 64];
	struct membuf b = { .max = JOB_JSON_MAX };

	*body = NULL;
	*len = 0;
	snprintf(url, sizeof(url), "%s/api/v1/agent/jobs/%" PRId64, n->base,
	    job);
	if (api_call(n, url, NULL, JOB_TIMEOUT_S, &b, status, err,
	    errlen) != 0) {
		free(b.data);
		return -1;
	}
	if (*status == 200 && b.data != NULL) {
		*body = b.data;
		*len = b.len;
		return 0;
	}
	net_error_text(b.data, b.len, err, errlen);
	free(b.data);
	return 0;
}

/* UEFI's SecureBoot variable (efivarfs: 4 bytes of attributes, then the
 * value): 1 on, 0 off, -1 not known (no UEFI, or efivarfs not mounted). */
int
net_secure_boot(const char *path)
{
	unsigned char b[8];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, b, sizeof(b));
	close(fd);
	return n == 5 ? b[4] == 1 : -1;
}

int
net_report(struct net *n, int64_t job, const char *state, uint64_t done,
    uint64_t fetched, uint64_t rate, const char *reason, long *status,
    char *err, size_t errlen)
{
	char url[AGENT_URL_MAX + 64], *text;
	struct membuf b = { .max = REPLY_MAX };
	json_t *o;
	int rc, sb;

	snprintf(url, sizeof(url), "%s/api/v1/agent/jobs/%" PRId64 "/report",
	    n->base, job);
	o = json_pack("{s:s, s:I, s:I, s:I}", "state", state,
	    "bytes_done", (json_int_t)done, "bytes_fetched",
	    (json_int_t)fetched, "rate", (json_int_t)rate);
	if (o != NULL && n->total > 0)
		json_object_set_new(o, "bytes_total", json_integer(
		    (json_int_t)n->total));
	/* What the firmware says of Secure Boot, with every report. */
	sb = net_secure_boot(NET_SECURE_BOOT_VAR);
	if (o != NULL && sb >= 0)
		json_object_set_new(o, "secure_boot", json_boolean(sb));
	if (o != NULL && reason != NULL) {
		char r[REASON_MAX + 1];
		net_error_text(reason, strlen(reason), r, sizeof(r));
		json_object_set_new(o, "reason", json_string(r));
	}
	if (o == NULL || (text = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_decref(o);
	rc = api_call(n, url, text, REPORT_TIMEOUT_S, &b, status, err, errlen);
	free(text);
	if (rc == 0 && *status != 200)
		net_error_text(b.data, b.len, err, errlen);
	free(b.data);
	return rc;
}

void
net_set_total(struct net *n, uint64_t total)
{
	n->total = total;
}

int
net_event(struct net *n, int64_t job, const char *message, long *status,
    char *err, size_t errlen)
{
	char *text, m[EVENT_MAX];
	size_t j = 0;
	json_t *o;
	int rc;

	/* Printable, bounded: what rackd accepts. */
	for (const char *p = message; *p != '\0' && j + 1 < sizeof(m); p++)
		m[j++] = *p >= 0x20 && *p < 0x7f ? *p : ' ';
	m[j] = '\0';
	o = json_pack("{s:s}", "message", m);
	if (o == NULL || (text = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_decref(o);
	rc = net_post(n, job, "event", text, REPORT_TIMEOUT_S, status, err,
	    errlen);
	free(text);
	return rc;
}

int
net_post(struct net *n, int64_t job, const char *what, const char *body,
    long timeout_s, long *status, char *err, size_t errlen)
{
	char url[AGENT_URL_MAX + 96];
	struct membuf b = { .max = REPLY_MAX };
	int rc;

	snprintf(url, sizeof(url), "%s/api/v1/agent/jobs/%" PRId64 "/%s",
	    n->base, job, what);
	rc = api_call(n, url, body, timeout_s, &b, status, err, errlen);
	if (rc == 0 && *status != 200)
		net_error_text(b.data, b.len, err, errlen);
	free(b.data);
	return rc;
}

/* ---- chunks ---- */

struct rx {
	uint8_t		*buf;
	size_t		 cap, len;	/* len: bytes of the chunk we hold */
	long		 status;	/* of the current reply */
	int64_t		 range_start;	/* Content-Range start, -1 none */
	int		 first;		/* no body byte seen yet */
	int		 overflow, bad_range;
	char		 errbody[ERRBODY_MAX];
	size_t		 errlen;
	_Atomic uint64_t *fetched;
};

static size_t
rx_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct rx *r = arg;
	size_t n = size * nmemb;
	char line[HEADER_LINE_MAX];

	if (n >= sizeof(line))
		return n;	/* long headers are not ours to read */
	memcpy(line, ptr, n);
	line[n] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		const char *sp = strchr(line, ' ');
		r->status = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
		r->range_start = -1;
		r->first = 1;
	} else if (strncasecmp(line, "Content-Range:", 14) == 0) {
		const char *p = line + 14;
		while (*p == ' ')
			p++;
		if (strncmp(p, "bytes ", 6) == 0 &&
		    isdigit((unsigned char)p[6]))
			r->range_start = strtoll(p + 6, NULL, 10);
	}
	return n;
}

static size_t
rx_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct rx *r = arg;
	size_t n = size * nmemb;

	if (r->status != 200 && r->status != 206) {
		size_t k = n < sizeof(r->errbody) - r->errlen ? n :
		    sizeof(r->errbody) - r->errlen;
		memcpy(r->errbody + r->errlen, ptr, k);
		r->errlen += k;
		return n;
	}
	if (r->first) {
		r->first = 0;
		if (r->status == 200)
			r->len = 0;	/* the whole chunk again */
		else if (r->range_start != (int64_t)r->len) {
			r->bad_range = 1;
			return 0;
		}
	}
	if (n > r->cap - r->len) {
		r->overflow = 1;
		return 0;
	}
	atomic_fetch_add(r->fetched, n);
	memcpy(r->buf + r->len, ptr, n);
	r->len += n;
	return n;
}

/* libcurl's progress callback: a non-zero answer ends the transfer. */
static int
stop_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	const atomic_int *stop = arg;

	return atomic_load(stop) ? 1 : 0;
}

void
net_curl_stop(void *curl, const atomic_int *stop)
{
	CURL *h = curl;

	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, stop_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)stop);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
}

int
net_fetch_chunk(void *ctx, size_t index, const struct manifest_chunk *c,
    const char *hex, uint8_t *buf, size_t cap, size_t *len,
    _Atomic uint64_t *fetched, const atomic_int *stop, char *err,
    size_t errlen)
{
	struct chunk_fetcher *f = ctx;
	CURL *h = f->net->chunks;
	char url[AGENT_URL_MAX + HASH_HEX_LEN + 8], range[48];
	char last[ERR_MAX] = "";
	struct rx r = { .buf = buf, .cap = cap, .fetched = fetched };
	struct retry t;
	int notfound = 0;
	int64_t delay;

	snprintf(url, sizeof(url), "%s%s", f->base, hex);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, rx_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, rx_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
	net_curl_stop(h, stop);
	retry_start(&t, now_ms(), f->deadline_ms);
	for (;;) {
		size_t before = r.len;
		CURLcode rc;
		long status = 0;

		if (atomic_load(stop)) {
			snprintf(err, errlen, "stopped");
			return -1;
		}
		if (r.len > 0) {	/* resume a cut transfer */
			snprintf(range, sizeof(range), "%zu-", r.len);
			curl_easy_setopt(h, CURLOPT_RANGE, range);
		} else
			curl_easy_setopt(h, CURLOPT_RANGE, NULL);
		r.status = 0;
		r.errlen = 0;
		r.overflow = r.bad_range = 0;
		f->net->chunks_err[0] = '\0';
		rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (rc == CURLE_OK && (status == 200 || status == 206)) {
			*len = r.len;
			curl_easy_setopt(h, CURLOPT_RANGE, NULL);
			return 0;
		}
		if (r.overflow) {
			snprintf(err, errlen, "rackd sent more than %zu bytes, "
			    "the most a chunk of %" PRIu32 " bytes can take",
			    cap, c->length);
			return -1;
		}
		if (rc == CURLE_ABORTED_BY_CALLBACK || atomic_load(stop)) {
			snprintf(err, errlen, "stopped");
			return -1;
		}
		if (rc == CURLE_OK && status == 404) {
			net_error_text(r.errbody, r.errlen, last, sizeof(last));
			if (++notfound > NOT_FOUND_RETRIES) {
				snprintf(err, errlen, "rackd does not have it "
				    "(HTTP 404: %s)", last);
				return -1;
			}
		} else if (rc == CURLE_OK && status == 416) {
			r.len = 0; /* our resume point is off: start over */
			snprintf(last, sizeof(last), "HTTP 416");
		} else if (rc == CURLE_OK && status >= 400 && status < 500) {
			net_error_text(r.errbody, r.errlen, last, sizeof(last));
			snprintf(err, errlen, "HTTP %ld: %s", status, last);
			return -1;
		} else if (rc == CURLE_OK) {
			net_error_text(r.errbody, r.errlen, last, sizeof(last));
			snprintf(last + strlen(last),
			    sizeof(last) - strlen(last), " (HTTP %ld)", status);
		} else {
			if (r.bad_range)
				r.len = 0;
			snprintf(last, sizeof(last), "%s",
			    f->net->chunks_err[0] ? f->net->chunks_err :
			    curl_easy_strerror(rc));
		}
		if (r.len > before)
			retry_progress(&t, now_ms());
		if (!retry_next(&t, now_ms(), &delay)) {
			snprintf(err, errlen,
			    "no progress for %" PRId64 " s: %s",
			    f->deadline_ms / 1000, last);
			return -1;
		}
		log_warn("chunk %zu: %s; again in %" PRId64 " ms%s", index,
		    last, delay, r.len ? " (resuming)" : "");
		retry_wait(delay, stop);
	}
}
