/*
 * capture_send.c — a capture's upload: the chunks rackd lacks, in disk
 * order, by CAPTURE_SENDERS threads. Each thread takes the next chunk,
 * reads it again (free blocks zeroed), checks it against the hash of the
 * manifest rackd has (the disk must not have changed), compresses it at
 * the images' level and PUTs it on its own kept-alive connection, so one
 * thread compresses while others upload and rackd checks what came. The
 * link stays busy behind rackd's per-chunk work (spool, decompress, hash,
 * fsync) without the agent holding more than a chunk and its compressed
 * copy per thread (agent.h: CAPTURE_SENDERS).
 *
 * The first failure stops every thread (its reason kept for the job);
 * a 409 (rackd no longer waits for a chunk) ends the round for another.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "images/chunk.h"
#include "pxe/agent/agent.h"

struct sender {
	struct capsend	*s;
	pthread_t	 thr;
	int		 started;
	struct capnet	*net;
	struct chunk_codec *codec;
	uint8_t		*buf, *cbuf;
	size_t		 cbufcap;
};

struct capsend {
	struct capsend_conf c;
	struct sender	 snd[CAPTURE_SENDERS_MAX];
	int		 nsenders;
	_Atomic size_t	 next;		/* the next of c.idx to take */
	atomic_int	 halt;		/* any thread: everyone stops */
	pthread_mutex_t	 lock;
	pthread_cond_t	 done_cond;
	int		 running;
	enum capsend_rc	 rc;		/* the first failure's */
	char		 reason[REASON_MAX + 1];
	_Atomic uint64_t sent_chunks, sent_bytes;
};

int
capture_read_slot(int fd, const struct fsmap *map, uint64_t disk_size,
    uint8_t *buf, uint64_t off, size_t n, char *err, size_t len)
{
	off_t end;

	if (disk_read(fd, buf, n, off, err, len) != 0) {
		/* A disk that ends short of what it claimed: say so. */
		end = lseek(fd, 0, SEEK_END);
		if (end >= 0 && (uint64_t)end < disk_size)
			snprintf(err, len, "the disk shrank under the capture: "
			    "%" PRIu64 " bytes, not the %" PRIu64 " it had; "
			    "nothing is committed", (uint64_t)end, disk_size);
		return -1;
	}
	fsmap_apply(map, off, buf, n);
	return 0;
}

/* The first outcome that is not "done" is kept; every thread stops. */
static void
halt(struct capsend *s, enum capsend_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
halt(struct capsend *s, enum capsend_rc rc, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->lock);
	if (s->rc == CAPSEND_DONE) {
		s->rc = rc;
		va_start(ap, fmt);
		vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&s->lock);
	atomic_store(&s->halt, 1);
}

/* Chunk k read, checked and compressed into t->cbuf: 0 and *clen. */
static int
compress_chunk(struct sender *t, size_t k, size_t *clen, char *err,
    size_t len)
{
	const struct capsend_conf *c = &t->s->c;
	const struct manifest_chunk *ch = &c->m->chunks[k];
	uint8_t h[HASH_LEN];

	if (capture_read_slot(c->fd, c->map, c->disk_size, t->buf, ch->offset,
	    ch->length, err, len) != 0)
		return -1;
	if (hash_buffer(c->m->hash, t->buf, ch->length, h) != 0 ||
	    memcmp(h, ch->hash, HASH_LEN) != 0) {
		snprintf(err, len, "the disk changed under the capture at "
		    "offset %" PRIu64 "; nothing is committed", ch->offset);
		return -1;
	}
	return chunk_compress(t->codec, t->buf, ch->length,
	    CHUNK_LEVEL_DEFAULT, t->cbuf, t->cbufcap, clen, err, len);
}

/* One chunk up, retried on transport errors and 5xx until the deadline:
 * 0 sent (or rackd has it), or -1 with the round halted. */
static int
send_chunk(struct sender *t, size_t k)
{
	struct capsend *s = t->s;
	char err[ERR_OUTER_MAX], hex[HASH_HEX_LEN + 1];
	struct retry r;
	size_t clen;
	long status;
	int64_t delay;

	if (compress_chunk(t, k, &clen, err, sizeof(err)) != 0) {
		halt(s, CAPSEND_FAILED, "%s", err);
		return -1;
	}
	hash_to_hex(s->c.m->chunks[k].hash, hex);
	retry_start(&r, now_ms(), s->c.deadline_ms);
	for (;;) {
		int rc = capnet_put_chunk(t->net, hex, t->cbuf, clen, &status,
		    err, sizeof(err));
		if (rc == 0 && (status == 200 || status == 201)) {
			atomic_fetch_add(&s->c.pr->bytes_fetched, clen);
			atomic_fetch_add(&s->sent_chunks, 1);
			atomic_fetch_add(&s->sent_bytes, clen);
			return 0;
		}
		if (rc == 0 && status == 409) {
			halt(s, CAPSEND_AGAIN, "chunk %.16s: rackd no longer "
			    "waits for it", hex);
			return -1;
		}
		if (rc == 0 && status == 401) {
			halt(s, CAPSEND_GONE, "the job is over");
			return -1;
		}
		if (rc == 0 && status < 500) {
			halt(s, CAPSEND_FAILED, "chunk %.16s: HTTP %ld: %s",
			    hex, status, err);
			return -1;
		}
		if (atomic_load(&s->halt) || !retry_next(&r, now_ms(),
		    &delay)) {
			halt(s, CAPSEND_FAILED, "chunk %.16s: %s (HTTP %ld)",
			    hex, err, status);
			return -1;
		}
		log_warn("chunk %.16s: %s (HTTP %ld); again in %" PRId64 " ms",
		    hex, err, status, delay);
		retry_wait(delay, &s->halt);
	}
}

static void *
sender_main(void *arg)
{
	struct sender *t = arg;
	struct capsend *s = t->s;

	while (!atomic_load(&s->halt)) {
		size_t i = atomic_fetch_add(&s->next, 1);
		if (i >= s->c.n)
			break;
		if (send_chunk(t, s->c.idx[i]) != 0)
			break;
	}
	pthread_mutex_lock(&s->lock);
	s->running--;
	pthread_cond_broadcast(&s->done_cond);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int
sender_init(struct capsend *s, struct sender *t, char *err, size_t errlen)
{
	t->s = s;
	t->cbufcap = chunk_compress_bound(s->c.m->chunk_size);
	t->buf = malloc(s->c.m->chunk_size);
	t->cbuf = malloc(t->cbufcap);
	t->codec = chunk_codec_new();
	if (t->buf == NULL || t->cbuf == NULL || t->codec == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return capnet_new(s->c.url, s->c.token, s->c.job, &t->net, err,
	    errlen);
}

int
capsend_start(const struct capsend_conf *c, struct capsend **out, char *err,
    size_t errlen)
{
	struct capsend *s = calloc(1, sizeof(*s));
	int n = c->senders;

	*out = NULL;
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->c = *c;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->done_cond, NULL);
	if (n < 1 || n > CAPTURE_SENDERS_MAX)
		n = CAPTURE_SENDERS;
	if ((size_t)n > c->n && c->n > 0)
		n = (int)c->n;
	for (int i = 0; i < n; i++)
		if (sender_init(s, &s->snd[s->nsenders++], err, errlen) != 0) {
			capsend_free(s);
			return -1;
		}
	for (int i = 0; i < s->nsenders; i++) {
		pthread_mutex_lock(&s->lock);
		s->running++;
		pthread_mutex_unlock(&s->lock);
		if (pthread_create(&s->snd[i].thr, NULL, sender_main,
		    &s->snd[i]) != 0) {
			pthread_mutex_lock(&s->lock);
			s->running--;
			pthread_mutex_unlock(&s->lock);
			halt(s, CAPSEND_FAILED, "cannot start a sender thread");
			break;
		}
		s->snd[i].started = 1;
	}
	*out = s;
	return 0;
}

void
capsend_stop(struct capsend *s)
{
	atomic_store(&s->halt, 1);
}

bool
capsend_wait(struct capsend *s, int64_t ms)
{
	struct timespec ts;
	bool done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->lock);
	if (s->running > 0)
		pthread_cond_timedwait(&s->done_cond, &s->lock, &ts);
	done = s->running == 0;
	pthread_mutex_unlock(&s->lock);
	return done;
}

enum capsend_rc
capsend_join(struct capsend *s, char *reason, size_t len, uint64_t *chunks,
    uint64_t *bytes)
{
	for (int i = 0; i < s->nsenders; i++)
		if (s->snd[i].started) {
			pthread_join(s->snd[i].thr, NULL);
			s->snd[i].started = 0;
		}
	snprintf(reason, len, "%s", s->reason);
	*chunks = atomic_load(&s->sent_chunks);
	*bytes = atomic_load(&s->sent_bytes);
	return s->rc;
}

int
capsend_senders(const struct capsend *s)
{
	return s->nsenders;
}

void
capsend_free(struct capsend *s)
{
	if (s == NULL)
		return;
	capsend_stop(s);
	for (int i = 0; i < s->nsenders; i++) {
		struct sender *t = &s->snd[i];
		if (t->started)
			pthread_join(t->thr, NULL);
		capnet_free(t->net);
		chunk_codec_free(t->codec);
		free(t->buf);
		free(t->cbuf);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->done_cond);
	free(s);
}
