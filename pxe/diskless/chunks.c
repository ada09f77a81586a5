/*
 * chunks.c — the image chunk by chunk: a fetch thread gets each chunk in
 * manifest order with libpxe's fetcher (one keep-alive connection,
 * resume, backoff) into a bounded queue; the caller's thread
 * decompresses each and hands it to the feed (which checks it).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/hash.h"
#include "pxe/diskless/diskless.h"

struct fetcher {
	struct chunk_fetcher cf;
	struct queue	*q;
	struct feed	*f;
	atomic_int	*stop;
	char		 err[ERR_MAX];
	int		 failed;
};

static void *
fetch_main(void *arg)
{
	struct fetcher *x = arg;
	const struct manifest *m = x->f->m;
	char hex[HASH_HEX_LEN + 1];

	for (size_t k = 0; k < m->nchunks && !atomic_load(x->stop); k++) {
		const struct manifest_chunk *c = &m->chunks[k];
		size_t cap = chunk_compress_bound(c->length), len = 0;
		struct qitem *it;
		uint8_t *buf;

		if (queue_reserve(x->q, cap) != 0)
			break;
		if ((buf = malloc(cap)) == NULL ||
		    (it = calloc(1, sizeof(*it))) == NULL) {
			free(buf);
			queue_unreserve(x->q, cap);
			snprintf(x->err, sizeof(x->err), "out of memory");
			x->failed = 1;
			break;
		}
		hash_to_hex(c->hash, hex);
		if (net_fetch_chunk(&x->cf, k, c, hex, buf, cap, &len,
		    &x->f->fetched, x->stop, x->err, sizeof(x->err)) != 0) {
			free(buf);
			free(it);
			queue_unreserve(x->q, cap);
			x->failed = 1;
			break;
		}
		*it = (struct qitem){ .index = k, .data = buf, .len = len,
		    .cap = cap };
		queue_push(x->q, it);
	}
	if (x->failed)
		atomic_store(x->stop, 1);
	queue_close(x->q);
	return NULL;
}

int
chunks_fetch(struct net *n, const char *chunks_url, struct feed *f,
    atomic_int *stop, char *err, size_t errlen)
{
	struct fetcher x = { .f = f, .stop = stop };
	struct chunk_codec *codec = chunk_codec_new();
	uint8_t *out = malloc(f->m->chunk_size);
	struct qitem *it;
	pthread_t th;
	int rc = 0;

	x.cf.net = n;
	x.cf.deadline_ms = RETRY_DEADLINE_MS;
	snprintf(x.cf.base, sizeof(x.cf.base), "%s", chunks_url);
	x.q = queue_new(DL_QUEUE_BYTES, DL_QUEUE_ITEMS);
	if (codec == NULL || out == NULL || x.q == NULL ||
	    pthread_create(&th, NULL, fetch_main, &x) != 0) {
		chunk_codec_free(codec);
		free(out);
		queue_free(x.q);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while ((it = queue_pop(x.q)) != NULL) {
		const struct manifest_chunk *c = &f->m->chunks[it->index];
		size_t len;
		if (rc == 0 && (it->index != f->next ||
		    chunk_decompress(codec, it->data, it->len, out,
		    f->m->chunk_size, c->length, &len, err, errlen) != 0 ||
		    feed_chunk(f, out, len, err, errlen) != 0)) {
			if (it->index != f->next)
				snprintf(err, errlen,
				    "chunk %zu came out of order", it->index);
			rc = -1;
			atomic_store(stop, 1);
			queue_abort(x.q);
		}
		free(it->data);
		queue_release(x.q, it->cap);
		free(it);
	}
	pthread_join(th, NULL);
	if (rc == 0 && x.failed) {
		snprintf(err, errlen, "%s", x.err);
		rc = -1;
	}
	if (rc == 0 && f->next != f->m->nchunks) {
		snprintf(err, errlen, "stopped");
		rc = -1;
	}
	queue_free(x.q);
	chunk_codec_free(codec);
	free(out);
	return rc;
}
