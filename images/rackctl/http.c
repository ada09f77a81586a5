/* images/rackctl/http.c — rackctl talking to racks (libcurl): rack URLs
 * and their tokens, one request with retries and backoff, reply bodies. */
#include "images/rackctl/rackctl.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

int
rackctl_http_init(void)
{
	static int done;
	if (done)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    sodium_init() < 0)
		return -1;
	done = 1;
	return 0;
}

static bool
token_ok(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n >= RACK_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)t[i]))
			return false;
	return true;
}

int
rackctl_rack_set(struct rack *rk, const char *url, const char *token, char *err,
    size_t errlen)
{
	size_t n = strlen(url);

	memset(rk, 0, sizeof *rk);
	if (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0) {
		snprintf(err, errlen,
		    "rack '%.80s': not an http:// or https:// URL", url);
		return -1;
	}
	while (n > 8 && url[n - 1] == '/')
		n--;
	if (n >= RACK_URL_MAX) {
		snprintf(err, errlen,
		    "rack '%.80s...': URL longer than %d bytes", url,
		    RACK_URL_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)url[i])) {
			snprintf(err, errlen,
			    "rack '%.80s': URL with a space or control "
			    "character",
			    url);
			return -1;
		}
	memcpy(rk->url, url, n);
	rk->url[n] = '\0';
	if (token == NULL || *token == '\0') {
		snprintf(err, errlen,
		    "rack %s: no token (RACKD_TOKEN, --token-file, or a "
		    "--racks file "
		    "with \"URL TOKEN\" lines)",
		    rk->url);
		return -1;
	}
	if (!token_ok(token)) {
		snprintf(err, errlen,
		    "rack %s: the token must be 1 to %d printable characters "
		    "without spaces",
		    rk->url, RACK_TOKEN_MAX - 1);
		return -1;
	}
	snprintf(rk->token, sizeof rk->token, "%s", token);
	return 0;
}

int
rackctl_token_file(
    const char *path, char *token, size_t len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[RACK_TOKEN_MAX + 2];

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof line, f)) {
		fclose(f);
		snprintf(err, errlen, "%s: empty", path);
		return -1;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	if (!token_ok(line) || strlen(line) >= len) {
		snprintf(err, errlen,
		    "%s: the first line must be the token (at most %d "
		    "printable characters)",
		    path, RACK_TOKEN_MAX - 1);
		return -1;
	}
	snprintf(token, len, "%s", line);
	sodium_memzero(line, sizeof line);
	return 0;
}

int
rackctl_racks_file(
    const char *path, struct rack **out, size_t *n, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[RACKS_LINE_MAX], e2[RACKCTL_ERR_MAX];
	struct rack *v = NULL;
	size_t cnt = 0, cap = 0;
	int lineno = 0;

	*out = NULL;
	*n = 0;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen,
			    "%s:%d: line longer than %d bytes", path, lineno,
			    RACKS_LINE_MAX - 2);
			goto fail;
		}
		char *save = NULL, *url = strtok_r(line, " \t\r\n", &save);
		if (!url || url[0] == '#')
			continue;
		char *tok = strtok_r(NULL, " \t\r\n", &save),
		     *extra = strtok_r(NULL, " \t\r\n", &save);
		if (!tok || (extra && extra[0] != '#')) {
			snprintf(err, errlen, "%s:%d: expected \"URL TOKEN\"",
			    path, lineno);
			goto fail;
		}
		if (cnt == RACKS_MAX) {
			snprintf(err, errlen, "%s:%d: more than %d racks", path,
			    lineno, RACKS_MAX);
			goto fail;
		}
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct rack *nv = realloc(v, ncap * sizeof *nv);
			if (!nv) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			v = nv;
			cap = ncap;
		}
		if (rackctl_rack_set(&v[cnt], url, tok, e2, sizeof e2) < 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, e2);
			goto fail;
		}
		cnt++;
	}
	fclose(f);
	if (cnt == 0) {
		free(v);
		snprintf(err, errlen, "%s: no racks in it", path);
		return -1;
	}
	*out = v;
	*n = cnt;
	return 0;
fail:
	fclose(f);
	if (v)
		sodium_memzero(v, cap * sizeof *v);
	free(v);
	return -1;
}

long
rackctl_backoff_ms(int attempt)
{
	long d = (long)backoff_delay_ms(attempt > 0 ? (unsigned)attempt : 0);

	/* +-25% jitter, so that many clients do not come back at once */
	long j = d / 2 ? (long)randombytes_uniform((uint32_t)(d / 2)) : 0;
	return d - d / 4 + j;
}

void
rackctl_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

double
rackctl_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

size_t
rackctl_collect_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_reply *r = arg;
	size_t n = size * nmemb;

	if (r->len + n > RACKCTL_REPLY_MAX) {
		snprintf(r->err, sizeof r->err, "reply larger than %u bytes",
		    RACKCTL_REPLY_MAX);
		return 0; /* aborts the transfer */
	}
	if (r->len + n + 1 > r->cap) {
		size_t ncap = r->cap ? r->cap : 4096;
		while (ncap < r->len + n + 1)
			ncap *= 2;
		char *nb = realloc(r->body, ncap);
		if (!nb)
			return 0;
		r->body = nb;
		r->cap = ncap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

struct curl_slist *
rackctl_auth_headers(const struct rack *rk, const char *ctype)
{
	char h[RACK_TOKEN_MAX + 32];
	struct curl_slist *l = NULL, *t;

	snprintf(h, sizeof h, "Authorization: Bearer %s", rk->token);
	if (!(t = curl_slist_append(l, h)))
		goto fail;
	l = t;
	sodium_memzero(h, sizeof h);
	if (!(t = curl_slist_append(l, "Expect:")))
		goto fail;
	l = t;
	if (ctype) {
		snprintf(h, sizeof h, "Content-Type: %s", ctype);
		if (!(t = curl_slist_append(l, h)))
			goto fail;
		l = t;
	}
	return l;
fail:
	curl_slist_free_all(l);
	return NULL;
}

void
rackctl_curl_common(void *easy)
{
	CURL *c = easy;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(
	    c, CURLOPT_CONNECTTIMEOUT, (long)RACKCTL_CONNECT_TIMEOUT);
	/* A stalled transfer (a dead link) ends instead of hanging. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(
	    c, CURLOPT_LOW_SPEED_TIME, (long)RACKCTL_STALL_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "rackctl");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
}

/* Retry on network errors and on the statuses a busy or restarting
 * server answers. */
static bool
retryable_status(long st)
{
	return st == 502 || st == 503 || st == 504;
}

int
rackctl_request(const struct rack *rk, const char *method, const char *path,
    const char *ctype, const void *body, size_t len, int retries,
    struct http_reply *out)
{
	char url[RACK_URL_MAX + URL_PATH_MAX];
	CURL *c = NULL;
	struct curl_slist *hdrs = NULL;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (snprintf(url, sizeof url, "%s%s", rk->url, path) >=
	    (int)sizeof url) {
		snprintf(out->err, sizeof out->err, "URL too long");
		return -1;
	}
	if (!(c = curl_easy_init()) ||
	    !(hdrs = rackctl_auth_headers(rk, ctype))) {
		snprintf(out->err, sizeof out->err, "out of memory");
		goto out;
	}
	for (int attempt = 0;; attempt++) {
		char ebuf[CURL_ERROR_SIZE] = "";
		curl_easy_reset(c);
		rackctl_curl_common(c);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
		if (body || strcmp(method, "POST") == 0) {
			curl_easy_setopt(
			    c, CURLOPT_POSTFIELDS, body ? body : "");
			curl_easy_setopt(
			    c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		}
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rackctl_collect_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
		out->len = 0;
		out->err[0] = '\0';
		CURLcode cr = curl_easy_perform(c);
		if (cr == CURLE_OK) {
			curl_easy_getinfo(
			    c, CURLINFO_RESPONSE_CODE, &out->status);
			if (!retryable_status(out->status) ||
			    attempt >= retries) {
				rc = 0;
				break;
			}
		} else {
			if (!out->err[0])
				snprintf(out->err, sizeof out->err,
				    "%.120s: %.120s", rk->url,
				    ebuf[0] ? ebuf : curl_easy_strerror(cr));
			out->status = 0;
			if (cr == CURLE_WRITE_ERROR || attempt >= retries)
				break;
		}
		rackctl_sleep_ms(rackctl_backoff_ms(attempt));
	}
out:
	curl_slist_free_all(hdrs);
	if (c)
		curl_easy_cleanup(c);
	return rc;
}

void
rackctl_reply_free(struct http_reply *r)
{
	free(r->body);
	r->body = NULL;
	r->len = r->cap = 0;
}

json_t *
rackctl_reply_json(const struct http_reply *r)
{
	if (!r->body)
		return NULL;
	return json_loadb(r->body, r->len, 0, NULL);
}

const char *
rackctl_reply_error(const struct http_reply *r, char *buf, size_t len)
{
	json_t *o = rackctl_reply_json(r);
	const char *e = json_string_value(json_object_get(o, "error"));

	if (e)
		snprintf(buf, len, "%s (HTTP %ld)", e, r->status);
	else if (r->status)
		snprintf(buf, len, "HTTP %ld", r->status);
	else
		snprintf(buf, len, "%s", r->err[0] ? r->err : "no reply");
	/* one line, printable */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	json_decref(o);
	return buf;
}

int
rackctl_rack_arg(const char *url, const char *token_file, struct rack *rk)
{
	char err[RACKCTL_ERR_MAX], tok[RACK_TOKEN_MAX];
	const char *t = getenv("RACKD_TOKEN");

	if (token_file) {
		if (rackctl_token_file(
			token_file, tok, sizeof tok, err, sizeof err) < 0) {
			rackctl_error("%s", err);
			return RACKCTL_FAIL;
		}
		t = tok;
	}
	int r = rackctl_rack_set(rk, url, t, err, sizeof err);
	sodium_memzero(tok, sizeof tok);
	if (r < 0) {
		rackctl_error("%s", err);
		return RACKCTL_USAGE;
	}
	return RACKCTL_OK;
}
