/*
 * pull_http.c — the HTTP of a pull, and the only file of appliance/'s
 * pulls that names libcurl (make check): one GET of a URL into memory or
 * a file, every timeout bounded (PULL_CONNECT_TIMEOUT, PULL_STALL_TIMEOUT,
 * PULL_REQUEST_TIMEOUT), its body cut off beyond its bound, its outcome
 * one of enum pull_fetch (pull_fetch.c fails over on it), and pull_rate
 * held for all pulls together.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "appliance/pull_int.h"

struct pull_conn {
	CURL		*curl;
};

/* libcurl's global state, before any thread starts. */
int
pull_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

struct pull_conn *
pull_conn_new(void)
{
	struct pull_conn *c = malloc(sizeof(*c));

	if (c != NULL && (c->curl = curl_easy_init()) == NULL) {
		free(c);
		c = NULL;
	}
	return c;
}

void
pull_conn_free(struct pull_conn *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

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
	while (t > now && !__atomic_load_n(&pull_stopping, __ATOMIC_ACQUIRE)) {
		usleep((useconds_t)(t - now > 100000 ? 100000 : t - now));
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	}
}

static size_t
sink_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct pull_sink *s = arg;
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
	return __atomic_load_n(&pull_stopping, __ATOMIC_ACQUIRE) ? 1 : 0;
}

enum pull_fetch
pull_get(struct pull_conn *conn, const char *url, struct pull_sink *s,
    char *err, size_t errlen)
{
	CURL *c = conn->curl;
	char cerr[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	curl_off_t rate;
	int n = __atomic_load_n(&pull_streams, __ATOMIC_ACQUIRE);

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
		return PULL_FETCH_BAD;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, cerr[0] != '\0' ? cerr :
		    curl_easy_strerror(rc));
		return PULL_FETCH_DOWN;
	}
	if (status == 200)
		return PULL_FETCH_OK;
	snprintf(err, errlen, "%s: HTTP %ld", url, status);
	if (status == 404 || status == 410)
		return PULL_FETCH_ABSENT;
	return status >= 500 || status == 429 || status == 408 ?
	    PULL_FETCH_DOWN : PULL_FETCH_BAD;
}
