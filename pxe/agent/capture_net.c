/*
 * capture_net.c — a capture's push to rackd over HTTP (libcurl), with the
 * job's token: the manifest, the chunks rackd lacks, the commit
 * (/api/v1/agent/jobs/ID/capture/..., appliance/capture.c). One handle,
 * kept alive, used by the capture's thread only; every reply is read into
 * a buffer with a named limit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "pxe/agent/agent.h"

#define CAPNET_REPLY_MAX	(16u * 1024 * 1024)	/* a missing list */
#define CAPNET_TIMEOUT_S	600	/* a commit checks every chunk */

struct capnet {
	char		 base[AGENT_URL_MAX + 64];	/* .../capture/ */
	CURL		*h;
	struct curl_slist *json, *zstd;
	char		 errbuf[CURL_ERROR_SIZE];
};

struct reply {
	char		*data;
	size_t		 len, max;
	int		 overflow;
};

static size_t
reply_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct reply *b = arg;
	size_t n = size * nmemb;
	char *p;

	if (n > b->max - b->len) {
		b->overflow = 1;
		return 0;
	}
	if ((p = realloc(b->data, b->len + n + 1)) == NULL)
		return 0;
	memcpy(p + b->len, ptr, n);
	b->data = p;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

int
capnet_new(const char *url, const char *token, int64_t job,
    struct capnet **out, char *err, size_t errlen)
{
	struct capnet *n = calloc(1, sizeof(*n));
	char auth[AGENT_TOKEN_MAX + 32];

	*out = NULL;
	if (n == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(n->base, sizeof(n->base), "%s/api/v1/agent/jobs/%" PRId64
	    "/capture/", url, job);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	n->h = curl_easy_init();
	n->json = curl_slist_append(curl_slist_append(NULL, auth),
	    "Content-Type: application/json");
	n->zstd = curl_slist_append(curl_slist_append(NULL, auth),
	    "Content-Type: application/zstd");
	if (n->h == NULL || n->json == NULL || n->zstd == NULL) {
		capnet_free(n);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	net_curl_opts(n->h, n->errbuf);
	*out = n;
	return 0;
}

void
capnet_free(struct capnet *n)
{
	if (n == NULL)
		return;
	if (n->h != NULL)
		curl_easy_cleanup(n->h);
	curl_slist_free_all(n->json);
	curl_slist_free_all(n->zstd);
	free(n);
}

static int
call(struct capnet *n, const char *path, const char *method,
    struct curl_slist *hdr, const void *data, size_t len, struct reply *b,
    long *status, char *err, size_t errlen)
{
	char url[sizeof(n->base) + HASH_HEX_LEN + 16];
	CURLcode rc;

	snprintf(url, sizeof(url), "%s%s", n->base, path);
	n->errbuf[0] = '\0';
	curl_easy_setopt(n->h, CURLOPT_URL, url);
	curl_easy_setopt(n->h, CURLOPT_TIMEOUT, (long)CAPNET_TIMEOUT_S);
	curl_easy_setopt(n->h, CURLOPT_WRITEFUNCTION, reply_write);
	curl_easy_setopt(n->h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(n->h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(n->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(n->h, CURLOPT_POSTFIELDS, data != NULL ? data : "");
	curl_easy_setopt(n->h, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)(data != NULL ? len : 0));
	rc = curl_easy_perform(n->h);
	*status = 0;
	curl_easy_getinfo(n->h, CURLINFO_RESPONSE_CODE, status);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", b->overflow ? "reply too large" :
		    n->errbuf[0] ? n->errbuf : curl_easy_strerror(rc));
		return -1;
	}
	if (*status >= 400)
		net_error_text(b->data, b->len, err, errlen);
	return 0;
}

int
capnet_post(struct capnet *n, const char *what, const char *text,
    long *status, char **body, char *err, size_t errlen)
{
	struct reply b = { .max = CAPNET_REPLY_MAX };
	int rc = call(n, what, "POST", n->json, text, text ? strlen(text) : 0,
	    &b, status, err, errlen);

	*body = NULL;
	if (rc == 0)
		*body = b.data;
	else
		free(b.data);
	return rc;
}

int
capnet_put_chunk(struct capnet *n, const char *hex, const void *data,
    size_t len, long *status, char *err, size_t errlen)
{
	struct reply b = { .max = REPLY_MAX };
	char path[HASH_HEX_LEN + 16];
	int rc;

	snprintf(path, sizeof(path), "chunks/%s", hex);
	rc = call(n, path, "PUT", n->zstd, data, len, &b, status, err, errlen);
	free(b.data);
	return rc;
}
