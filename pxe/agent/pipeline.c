/*
 * pipeline.c — the reimage itself, in four kinds of threads:
 *
 *   scanner   walks the chunks in order, reads the disk under each and
 *             hashes it; a chunk whose bytes already match is skipped
 *             (delta reimage), the others are marked for fetching;
 *   holes     walks the holes and zeroes them where the disk is not zero
 *             (apart from the scanner, so that long holes do not hold up
 *             the fetching);
 *   fetcher   fetches the marked chunks in order (compressed) into the
 *             bounded queue (QUEUE_MAX_BYTES of compressed buffers);
 *   workers   (1..WORKERS_MAX, within WORKER_MEM_MAX of chunk buffers)
 *             decompress a chunk, bounded by its manifest length, hash it,
 *             and only if the hash matches write it with pwrite.
 *
 * Scanning, zeroing, fetching and writing overlap; chunks and holes are
 * disjoint, so everyone writes in any order. The first failure sets the
 * stop flag and its reason; everything else winds down.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/chunk.h"
#include "pxe/agent/agent.h"

enum { NEED_UNKNOWN = 0, NEED_FETCH = 1, NEED_SKIP = 2 };

struct pipeline {
	struct pipeline_conf c;
	const struct manifest *m;
	struct queue	*q;
	uint8_t		*need;		/* per chunk, set by the scanner */
	uint8_t		*written;	/* per chunk, set by its worker */
	pthread_mutex_t	 lock;
	pthread_cond_t	 scanned_cond, done_cond;
	size_t		 scanned;	/* need[k] is known for k < scanned */
	int		 scan_over;
	int		 holes_done;	/* every hole zeroed */
	int		 running;	/* threads not finished */
	int		 failed;
	char		 reason[REASON_MAX + 1];
	pthread_t	 thr[3 + WORKERS_MAX];
	int		 nthreads, nworkers, joined;
};

static void
fail(struct pipeline *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(struct pipeline *p, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&p->lock);
	if (!p->failed && !atomic_load(p->c.stop)) {
		p->failed = 1;
		va_start(ap, fmt);
		vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
		va_end(ap);
	}
	atomic_store(p->c.stop, 1);
	pthread_cond_broadcast(&p->scanned_cond);
	pthread_mutex_unlock(&p->lock);
	queue_abort(p->q);
}

static void
thread_done(struct pipeline *p)
{
	pthread_mutex_lock(&p->lock);
	p->running--;
	pthread_cond_broadcast(&p->done_cond);
	pthread_mutex_unlock(&p->lock);
}

static void
mark(struct pipeline *p, size_t k, int need)
{
	pthread_mutex_lock(&p->lock);
	p->need[k] = (uint8_t)need;
	p->scanned = k + 1;
	pthread_cond_broadcast(&p->scanned_cond);
	pthread_mutex_unlock(&p->lock);
}

static void *
scanner(void *arg)
{
	struct pipeline *p = arg;
	const struct manifest *m = p->m;
	struct progress *pr = p->c.progress;
	uint8_t *buf = malloc(m->chunk_size), d[HASH_LEN], zhash[HASH_LEN];
	size_t zlen = 0;
	char err[ERR_MAX];

	if (buf == NULL) {
		fail(p, "out of memory for the disk scan");
		goto out;
	}
	for (size_t k = 0; k < m->nchunks && !atomic_load(p->c.stop); k++) {
		const struct manifest_chunk *c = &m->chunks[k];
		int match;

		if (disk_read(p->c.fd, buf, c->length, c->offset, err,
		    sizeof(err)) != 0) {
			fail(p, "%s", err);
			break;
		}
		if (chunk_is_zero(buf, c->length)) {
			/* A blank disk: hash zeros once per length. */
			if (zlen != c->length) {
				hash_buffer(m->hash, buf, c->length, zhash);
				zlen = c->length;
			}
			match = memcmp(zhash, c->hash, HASH_LEN) == 0;
		} else {
			hash_buffer(m->hash, buf, c->length, d);
			match = memcmp(d, c->hash, HASH_LEN) == 0;
		}
		if (match) {
			atomic_fetch_add(&pr->bytes_skipped, c->length);
			atomic_fetch_add(&pr->chunks_skipped, 1);
			atomic_fetch_add(&pr->bytes_done, c->length);
		}
		mark(p, k, match ? NEED_SKIP : NEED_FETCH);
	}
out:
	pthread_mutex_lock(&p->lock);
	p->scan_over = 1;
	pthread_cond_broadcast(&p->scanned_cond);
	pthread_mutex_unlock(&p->lock);
	free(buf);
	thread_done(p);
	return NULL;
}

static void *
holes(void *arg)
{
	struct pipeline *p = arg;
	const struct manifest *m = p->m;
	struct progress *pr = p->c.progress;
	struct zeroer z;
	uint64_t off, len;
	char err[ERR_MAX];

	if (zeroer_init(&z, p->c.fd, p->c.is_blockdev) != 0) {
		fail(p, "out of memory for zeroing holes");
		goto out;
	}
	z.done = &pr->bytes_done;
	for (size_t k = 0; k <= m->nchunks; k++) {
		enum zero_rc rc;

		hole_before(m, k, &off, &len);
		if (len == 0)
			continue;
		rc = zero_range(&z, off, len, p->c.stop, err, sizeof(err));
		if (rc == ZERO_ERROR)
			fail(p, "zeroing the hole at byte %" PRIu64 ": %s", off,
			    err);
		if (rc != ZERO_DONE)
			break;
	}
	atomic_fetch_add(&pr->bytes_zeroed, z.zeroed);
	p->holes_done = !atomic_load(p->c.stop);
out:
	zeroer_free(&z);
	thread_done(p);
	return NULL;
}

static void *
fetcher(void *arg)
{
	struct pipeline *p = arg;
	const struct manifest *m = p->m;
	char hex[HASH_HEX_LEN + 1], err[ERR_MAX];

	for (size_t k = 0; k < m->nchunks; k++) {
		const struct manifest_chunk *c = &m->chunks[k];
		struct qitem *it;
		size_t cap, len = 0;
		uint8_t *data;
		int need;

		pthread_mutex_lock(&p->lock);
		while (p->scanned <= k && !p->scan_over &&
		    !atomic_load(p->c.stop))
			pthread_cond_wait(&p->scanned_cond, &p->lock);
		need = p->scanned > k ? p->need[k] : NEED_UNKNOWN;
		pthread_mutex_unlock(&p->lock);
		if (atomic_load(p->c.stop) || need == NEED_UNKNOWN)
			break;
		if (need != NEED_FETCH)
			continue;
		/* The manifest bounds stored by this, so any honest chunk
		 * fits; a bigger reply is refused by the fetcher. */
		cap = chunk_compress_bound(c->length);
		if (queue_reserve(p->q, cap) != 0)
			break;
		if ((data = malloc(cap)) == NULL ||
		    (it = malloc(sizeof(*it))) == NULL) {
			free(data);
			queue_release(p->q, cap);
			fail(p, "out of memory for chunk %zu", k);
			break;
		}
		hash_to_hex(c->hash, hex);
		if (p->c.fetch(p->c.fetch_ctx, k, c, hex, data, cap, &len,
		    &p->c.progress->bytes_fetched, p->c.stop, err,
		    sizeof(err)) != 0) {
			free(data);
			free(it);
			queue_release(p->q, cap);
			if (!atomic_load(p->c.stop))
				fail(p, "chunk %zu (%s): %s", k, hex, err);
			break;
		}
		atomic_fetch_add(&p->c.progress->chunks_fetched, 1);
		it->index = k;
		it->data = data;
		it->len = len;
		it->cap = cap;
		queue_push(p->q, it);
	}
	queue_close(p->q);
	thread_done(p);
	return NULL;
}

static void *
worker(void *arg)
{
	struct pipeline *p = arg;
	const struct manifest *m = p->m;
	struct progress *pr = p->c.progress;
	struct chunk_codec *codec = chunk_codec_new();
	uint8_t *out = malloc(m->chunk_size), d[HASH_LEN];
	char hex[HASH_HEX_LEN + 1], err[ERR_MAX];
	struct qitem *it;

	if (codec == NULL || out == NULL) {
		fail(p, "out of memory for a worker");
		goto out;
	}
	while ((it = queue_pop(p->q)) != NULL) {
		const struct manifest_chunk *c = &m->chunks[it->index];
		size_t k = it->index, n = 0;
		int rc;

		if (atomic_load(p->c.stop)) {
			free(it->data);
			queue_release(p->q, it->cap);
			free(it);
			continue;
		}
		hash_to_hex(c->hash, hex);
		rc = chunk_decompress(codec, it->data, it->len, out,
		    m->chunk_size, c->length, &n, err, sizeof(err));
		free(it->data);
		queue_release(p->q, it->cap);
		free(it);
		if (rc != 0) {
			fail(p, "chunk %zu (%s) is corrupt: %s", k, hex, err);
			break;
		}
		if (n != c->length) {
			fail(p, "hash mismatch for chunk %zu (%s): it holds "
			    "%zu bytes, the manifest says %" PRIu32, k, hex, n,
			    c->length);
			break;
		}
		hash_buffer(m->hash, out, n, d);
		if (memcmp(d, c->hash, HASH_LEN) != 0) {
			fail(p, "hash mismatch for chunk %zu (%s)", k, hex);
			break;
		}
		/* Offsets and lengths were checked against the image size by
		 * the manifest parser, and the size against the disk's. */
		if (disk_write(p->c.fd, out, n, c->offset, err,
		    sizeof(err)) != 0) {
			fail(p, "chunk %zu: %s", k, err);
			break;
		}
		p->written[k] = 1;
		atomic_fetch_add(&pr->bytes_written, n);
		atomic_fetch_add(&pr->bytes_done, n);
	}
out:
	chunk_codec_free(codec);
	free(out);
	thread_done(p);
	return NULL;
}

static int
auto_workers(uint32_t chunk_size)
{
	/* The fetcher mostly waits in the kernel, and hashing is the cost:
	 * one worker per CPU. */
	long w = sysconf(_SC_NPROCESSORS_ONLN);
	long mem = (long)(WORKER_MEM_MAX / chunk_size);

	if (w > WORKERS_MAX)
		w = WORKERS_MAX;
	if (w > mem)
		w = mem;
	return w < 1 ? 1 : (int)w;
}

int
pipeline_start(const struct pipeline_conf *pc, struct pipeline **out,
    char *err, size_t errlen)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	size_t n = pc->m->nchunks;

	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->c = *pc;
	p->m = pc->m;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->scanned_cond, NULL);
	pthread_cond_init(&p->done_cond, NULL);
	p->nworkers = pc->workers > 0 ? pc->workers :
	    auto_workers(pc->m->chunk_size);
	if (p->nworkers > WORKERS_MAX)
		p->nworkers = WORKERS_MAX;
	p->q = queue_new(pc->queue_max_bytes ? pc->queue_max_bytes :
	    QUEUE_MAX_BYTES, QUEUE_MAX_ITEMS);
	p->need = calloc(n ? n : 1, 1);
	p->written = calloc(n ? n : 1, 1);
	if (p->q == NULL || p->need == NULL || p->written == NULL) {
		snprintf(err, errlen, "out of memory");
		pipeline_free(p);
		return -1;
	}
	{
		void *(*fns[3 + WORKERS_MAX])(void *) = { scanner, holes,
		    fetcher };
		int nt = 3 + p->nworkers;
		for (int i = 3; i < nt; i++)
			fns[i] = worker;
		pthread_mutex_lock(&p->lock);
		p->running = nt;
		pthread_mutex_unlock(&p->lock);
		for (int i = 0; i < nt; i++) {
			if (pthread_create(&p->thr[i], NULL, fns[i], p) != 0) {
				pthread_mutex_lock(&p->lock);
				p->running -= nt - i;
				pthread_cond_broadcast(&p->done_cond);
				pthread_mutex_unlock(&p->lock);
				fail(p, "cannot start a thread");
				break;
			}
			p->nthreads++;
		}
		if (p->nthreads == 0) {
			snprintf(err, errlen, "cannot start a thread");
			pipeline_free(p);
			return -1;
		}
	}
	*out = p;
	return 0;
}

bool
pipeline_wait(struct pipeline *p, int64_t ms)
{
	if (atomic_load(p->c.stop)) {
		/* Stopped from outside (signal, cancel): wake everyone. */
		queue_abort(p->q);
		pthread_mutex_lock(&p->lock);
		pthread_cond_broadcast(&p->scanned_cond);
		pthread_mutex_unlock(&p->lock);
	}
	return wait_zero(&p->lock, &p->done_cond, &p->running, ms);
}

int
pipeline_join(struct pipeline *p, char *reason, size_t len)
{
	if (!p->joined) {
		for (int i = 0; i < p->nthreads; i++)
			pthread_join(p->thr[i], NULL);
		p->joined = 1;
	}
	if (p->failed) {
		snprintf(reason, len, "%s", p->reason);
		return -1;
	}
	if (atomic_load(p->c.stop)) {
		snprintf(reason, len, "stopped");
		return -1;
	}
	if (!p->holes_done) {
		snprintf(reason, len, "the holes were not all zeroed");
		return -1;
	}
	for (size_t k = 0; k < p->m->nchunks; k++)
		if (!(p->need[k] == NEED_SKIP ||
		    (p->need[k] == NEED_FETCH && p->written[k]))) {
			snprintf(reason, len, "chunk %zu was neither written "
			    "nor found on the disk", k);
			return -1;
		}
	return 0;
}

const uint8_t *
pipeline_written(const struct pipeline *p)
{
	return p->written;
}

size_t
pipeline_queue_peak(const struct pipeline *p)
{
	return queue_peak_bytes(p->q);
}

int
pipeline_workers(const struct pipeline *p)
{
	return p->nworkers;
}

void
pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	if (p->nthreads > 0 && !p->joined) {
		char r[8];
		atomic_store(p->c.stop, 1);
		queue_abort(p->q);
		pthread_mutex_lock(&p->lock);
		pthread_cond_broadcast(&p->scanned_cond);
		pthread_mutex_unlock(&p->lock);
		pipeline_join(p, r, sizeof(r));
	}
	queue_free(p->q);
	free(p->need);
	free(p->written);
	pthread_cond_destroy(&p->scanned_cond);
	pthread_cond_destroy(&p->done_cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
