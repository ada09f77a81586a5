/*
 * capture.c — a capture job: this server's disk becomes a disk image of
 * the rack (issue 14), made as rackctl import makes one (the images
 * library: the same chunk size, hash, zstd level and manifest), pushed
 * with the push protocol (docs/internals/push.md) through the job's own
 * endpoints (capture_net.c):
 *
 *   disk opened -> its file systems' free space (capture_fs.c) ->
 *   "streaming": every chunk read, free blocks zeroed, all-zero chunks
 *   holes, the others hashed (a chunk's hash is of its content: nothing
 *   is compressed in this pass) -> the manifest posted, rackd answers
 *   which chunks it lacks -> only those read again, checked against
 *   their hash, compressed and uploaded by parallel senders
 *   (capture_send.c) -> "verifying": rackd checks the chunks it did not
 *   take in this push, writes every chunk's stored size and commits ->
 *   "done".
 *
 * Progress: bytes_done is the disk read, bytes_fetched the bytes uploaded.
 * A 409 of a chunk (the pending push went) or of the commit (chunks
 * missing) starts another round, at most CAPTURE_ROUNDS.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "images/chunk.h"
#include "pxe/agent/agent.h"

#define CAPTURE_ROUNDS		3

struct capture {
	struct agent	*a;
	struct manifest	*m;
	size_t		*byhash;	/* chunk indices sorted by hash */
	struct fsmap	 map;
	uint64_t	 disk_size;
	uint8_t		*buf;
	struct capnet	*net;
	uint64_t	 sent_chunks, sent_bytes;
	const char	*state;		/* reported: streaming, verifying */
};

static void
capture_free(struct capture *c)
{
	free(c->byhash);
	manifest_free(c->m);
	fsmap_free(&c->map);
	free(c->buf);
	capnet_free(c->net);
}

/*
 * Pass 1: the manifest. Only hashes: a chunk's hash is of its content,
 * not of its compressed form, so nothing is compressed here. The stored
 * size each chunk gets is its length, a bound the format allows, until
 * rackd, which holds every chunk at the commit, writes the real ones.
 */
static enum agent_exit
scan(struct capture *c)
{
	struct agent *a = c->a;
	struct manifest *m = c->m;
	char err[ERR_OUTER_MAX];

	for (uint64_t off = 0; off < c->disk_size; off += m->chunk_size) {
		size_t n = c->disk_size - off < m->chunk_size ?
		    (size_t)(c->disk_size - off) : m->chunk_size;
		struct manifest_chunk ch = { .offset = off,
		    .length = (uint32_t)n, .stored = (uint32_t)n };
		if (atomic_load(&a->stop))
			return a->gone ? AGENT_EXIT_CANCELLED :
			    agent_fail(a, "interrupted");
		if (capture_read_slot(a->fd, &c->map, c->disk_size, c->buf,
		    off, n, err, sizeof(err)) != 0)
			return agent_fail(a, "%s", err);
		atomic_fetch_add(&a->pr.bytes_done, n);
		agent_tick(a, c->state, c->disk_size);
		if (chunk_is_zero(c->buf, n))
			continue;
		if (hash_buffer(m->hash, c->buf, n, ch.hash) != 0)
			return agent_fail(a, "hash failed");
		if (manifest_add_chunk(m, &ch) != 0)
			return agent_fail(a, "chunk at %" PRIu64 ": %s", off,
			    errno == E2BIG ? "too many chunks" :
			    "out of memory");
	}
	m->size = c->disk_size;
	return AGENT_EXIT_DONE;
}

static const struct manifest *sort_m;	/* qsort's: the capture thread */

static int
cmp_idx(const void *x, const void *y)
{
	return memcmp(sort_m->chunks[*(const size_t *)x].hash,
	    sort_m->chunks[*(const size_t *)y].hash, HASH_LEN);
}

static int
cmp_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	return a < b ? -1 : a > b;
}

static int
index_chunks(struct capture *c)
{
	if (c->m->nchunks == 0)
		return 0;
	if ((c->byhash = calloc(c->m->nchunks, sizeof(size_t))) == NULL)
		return -1;
	for (size_t i = 0; i < c->m->nchunks; i++)
		c->byhash[i] = i;
	sort_m = c->m;
	qsort(c->byhash, c->m->nchunks, sizeof(size_t), cmp_idx);
	return 0;
}

/* The chunk of hash hex (any one of those with it). */
static int
find_chunk(const struct capture *c, const char *hex, size_t *k)
{
	uint8_t h[HASH_LEN];
	size_t lo = 0, hi = c->m->nchunks;

	if (hash_from_hex(hex, h) != 0)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = memcmp(c->m->chunks[c->byhash[mid]].hash, h, HASH_LEN);
		if (d == 0) {
			*k = c->byhash[mid];
			return 0;
		}
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The missing chunks (the manifest's reply) up by capture_send.c's
 * senders, in disk order: 0 all sent, 1 another round, -1 failed. */
static int
send_missing(struct capture *c, json_t *missing)
{
	struct agent *a = c->a;
	struct capsend_conf sc = { .fd = a->fd, .disk_size = c->disk_size,
	    .map = &c->map, .m = c->m, .url = a->conf.url,
	    .token = a->conf.token, .job = a->job.id,
	    .deadline_ms = a->deadline_ms, .pr = &a->pr };
	char err[ERR_OUTER_MAX];
	struct capsend *s;
	enum capsend_rc rc;
	uint64_t chunks, bytes;
	size_t *idx, i, k;
	json_t *v;

	if (json_array_size(missing) == 0)
		return 0;
	if ((idx = calloc(json_array_size(missing), sizeof(*idx))) == NULL) {
		agent_fail(a, "out of memory");
		return -1;
	}
	json_array_foreach(missing, i, v) {
		const char *hex = json_string_value(v);
		if (hex == NULL || find_chunk(c, hex, &k) != 0) {
			free(idx);
			agent_fail(a, "rackd asked for a chunk the image does "
			    "not have");
			return -1;
		}
		idx[i] = k;
	}
	qsort(idx, json_array_size(missing), sizeof(*idx), cmp_size);
	sc.idx = idx;
	sc.n = json_array_size(missing);
	if (capsend_start(&sc, &s, err, sizeof(err)) != 0) {
		free(idx);
		agent_fail(a, "%s", err);
		return -1;
	}
	log_info("uploading %zu chunks with %d senders", sc.n,
	    capsend_senders(s));
	while (!capsend_wait(s, WAIT_SLICE_MS)) {
		agent_tick(a, c->state, c->disk_size);
		if (atomic_load(&a->stop))
			capsend_stop(s);
	}
	rc = capsend_join(s, err, sizeof(err), &chunks, &bytes);
	capsend_free(s);
	free(idx);
	c->sent_chunks += chunks;
	c->sent_bytes += bytes;
	switch (rc) {
	case CAPSEND_DONE:
		if (!atomic_load(&a->stop))
			return 0;
		if (!a->gone)
			agent_fail(a, "interrupted");
		return -1;
	case CAPSEND_AGAIN:
		log_warn("%s: another round", err);
		return 1;
	case CAPSEND_GONE:
		a->gone = 1;
		atomic_store(&a->stop, 1);
		return -1;
	case CAPSEND_FAILED:
		break;
	}
	agent_fail(a, "%s", err);
	return -1;
}

/* POST what (manifest text, or NULL: commit), retried like a chunk: 0 and
 * *status, *o (the JSON reply, may be NULL), or -1 (reported). */
static int
post(struct capture *c, const char *what, const char *text, long *status,
    json_t **o)
{
	struct agent *a = c->a;
	char err[ERR_OUTER_MAX], *body;
	struct retry t;
	int64_t delay;

	*o = NULL;
	retry_start(&t, now_ms(), a->deadline_ms);
	for (;;) {
		int rc = capnet_post(c->net, what, text, status, &body, err,
		    sizeof(err));
		if (rc == 0 && *status < 500) {
			if (body != NULL)
				*o = json_loads(body, 0, NULL);
			free(body);
			if (*status == 401) {
				a->gone = 1;
				atomic_store(&a->stop, 1);
				return -1;
			}
			if (*status >= 400 && *status != 409) {
				agent_fail(a, "%s: HTTP %ld: %s", what,
				    *status, err);
				json_decref(*o);
				*o = NULL;
				return -1;
			}
			return 0;
		}
		free(body);
		if (got_signal || atomic_load(&a->stop) ||
		    !retry_next(&t, now_ms(), &delay)) {
			agent_fail(a, "%s: %s (HTTP %ld)", what, err, *status);
			return -1;
		}
		log_warn("%s: %s (HTTP %ld); again in %" PRId64 " ms", what,
		    err, *status, delay);
		retry_wait(delay, &a->stop);
	}
}

/* One round: the manifest, the missing chunks. 0 all sent, 1 another
 * round, 2 committed already, -1 failed. */
static int
round_send(struct capture *c, const char *text)
{
	struct agent *a = c->a;
	json_t *o, *missing;
	const char *state;
	long status;
	int rc;

	if (post(c, "manifest", text, &status, &o) != 0)
		return -1;
	if (status == 409 || o == NULL) {
		agent_fail(a, "manifest: HTTP %ld: %s", status, o != NULL ?
		    json_string_value(json_object_get(o, "error")) : "");
		json_decref(o);
		return -1;
	}
	state = json_string_value(json_object_get(o, "state"));
	missing = json_object_get(o, "missing");
	if (state != NULL && strcmp(state, "committed") == 0) {
		json_decref(o);
		return 2;
	}
	log_info("rackd lacks %zu of %" PRId64 " chunks (%" PRId64 " bytes)",
	    json_array_size(missing),
	    (int64_t)json_integer_value(json_object_get(o, "chunks")),
	    (int64_t)json_integer_value(json_object_get(o, "missing_bytes")));
	rc = send_missing(c, missing);
	json_decref(o);
	return rc;
}

/* rackd learns the disk's size (the job's bytes_total). 0, or -1. */
static int
start(struct capture *c)
{
	char text[64];
	json_t *o;
	long status;

	snprintf(text, sizeof(text), "{\"disk_bytes\":%" PRIu64 "}",
	    c->disk_size);
	if (post(c, "start", text, &status, &o) != 0)
		return -1;
	json_decref(o);
	return 0;
}

static enum agent_exit
push(struct capture *c)
{
	struct agent *a = c->a;
	char *text = manifest_to_json(c->m), x[2][BYTES_STR_MAX];
	json_t *o;
	long status;
	int rc = -1;

	if (text == NULL || index_chunks(c) != 0) {
		free(text);
		return agent_fail(a, "out of memory");
	}
	for (int r = 0; r < CAPTURE_ROUNDS; r++) {
		if ((rc = round_send(c, text)) < 0)
			break;
		if (rc == 1)
			continue;
		if (rc == 0) {
			log_info("uploaded %" PRIu64 " chunks, %s; rackd "
			    "checks the image", c->sent_chunks, fmt_bytes(
			    c->sent_bytes, x[0], sizeof(x[0])));
			if (strcmp(c->state, "verifying") != 0 &&
			    agent_report(a, "verifying", NULL, 1,
			    a->deadline_ms) != REPORT_OK) {
				rc = -1;
				break;
			}
			c->state = "verifying";
			if (post(c, "commit", NULL, &status, &o) != 0) {
				rc = -1;
				break;
			}
			json_decref(o);
			if (status == 409) {
				rc = 1;		/* chunks went missing */
				continue;
			}
		}
		rc = 2;
		break;
	}
	free(text);
	if (rc == 1)
		return agent_fail(a, "rackd still lacks chunks after %d rounds",
		    CAPTURE_ROUNDS);
	if (rc < 0)
		return a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
	log_info("image %s:%s committed: %s read, %s uploaded",
	    c->m->name, c->m->version, fmt_bytes(c->disk_size, x[0],
	    sizeof(x[0])), fmt_bytes(c->sent_bytes, x[1], sizeof(x[1])));
	return AGENT_EXIT_DONE;
}

enum agent_exit
capture_run(struct agent *a)
{
	/* An agent restarted while rackd checked the image carries on in
	 * that state: rackd does not allow going back. */
	struct capture c = { .a = a, .state =
	    strcmp(a->job.state, "verifying") == 0 ? "verifying" :
	    "streaming" };
	struct manifest_stats st;
	char err[ERR_OUTER_MAX], x[3][BYTES_STR_MAX];
	enum agent_exit rc;
	off_t end;

	if ((rc = agent_open_disk(a, 0)) != AGENT_EXIT_DONE)
		return rc;
	if ((end = lseek(a->fd, 0, SEEK_END)) <= 0)
		return agent_fail(a, "%s: cannot tell its size", a->disk_path);
	c.disk_size = (uint64_t)end;
	c.m = manifest_new();
	c.buf = malloc(CHUNK_SIZE_DEFAULT);
	if (c.m == NULL || c.buf == NULL) {
		capture_free(&c);
		return agent_fail(a, "out of memory");
	}
	if (image_ref_parse(a->job.image, c.m->name, c.m->version, err,
	    sizeof(err)) != 0 || c.m->version[0] == '\0') {
		capture_free(&c);
		return agent_fail(a, "the job's image \"%s\" is not "
		    "name:version", a->job.image);
	}
	/* As rackctl import makes a disk image (import_options_init). */
	c.m->kind = IMAGE_KIND_DISK;
	c.m->chunk_size = CHUNK_SIZE_DEFAULT;
	c.m->hash = HASH_ALG_DEFAULT;
	manifest_format_time(time(NULL), c.m->created, sizeof(c.m->created));
	if (capnet_new(a->conf.url, a->conf.token, a->job.id, &c.net, err,
	    sizeof(err)) != 0) {
		capture_free(&c);
		return agent_fail(a, "%s", err);
	}
	if (start(&c) != 0) {
		capture_free(&c);
		return a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
	}
	fsmap_build(a->fd, a->disk_path, c.disk_size, &c.map);
	log_info("capture of %s (%s) as %s:%s; %s unused by its file systems",
	    a->disk_path, fmt_bytes(c.disk_size, x[0], sizeof(x[0])),
	    c.m->name, c.m->version, fmt_bytes(c.map.free_bytes, x[1],
	    sizeof(x[1])));
	a->t_start = now_ms();
	rate_init(&a->rate, a->t_start, 0);
	if (agent_report(a, c.state, NULL, 1, a->deadline_ms) != REPORT_OK) {
		capture_free(&c);
		return a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
	}
	a->next_report = now_ms() + REPORT_INTERVAL_MS;
	if ((rc = scan(&c)) == AGENT_EXIT_DONE) {
		manifest_stats(c.m, &st);
		log_info("read %s: %" PRIu64 " chunks (%s), %" PRIu64
		    " holes", fmt_bytes(c.disk_size, x[0], sizeof(x[0])),
		    st.chunks, fmt_bytes(st.data_bytes, x[1], sizeof(x[1])),
		    st.holes);
		rc = push(&c);
	}
	if (rc == AGENT_EXIT_DONE) {
		if (agent_report(a, "done", NULL, 1, a->deadline_ms) !=
		    REPORT_OK)
			rc = a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
		else
			log_info("done: %s is %s:%s (%.1f s)", a->disk_path,
			    c.m->name, c.m->version,
			    (double)(now_ms() - a->t_start) / 1000);
	}
	capture_free(&c);
	return rc;
}
