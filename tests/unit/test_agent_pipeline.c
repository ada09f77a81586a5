/* tests/unit/test_agent_pipeline.c — rack-agent: the scan/fetch/write
 * pipeline against a file, with chunks served from memory: a full write
 * over old data, a delta (only changed chunks fetched, a stale hole
 * zeroed), a blank disk, bad chunks (other content, corrupt, oversized:
 * never written), fetch errors, a stop from outside, the queue's byte
 * limit, several workers; the bounded queue itself; verification from
 * the disk, and its failure when the disk does not hold what was written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/chunk.h"
#include "pxe/agent/agent.h"
#include "tests/unit/unit.h"

#define CS	(64u * 1024)
#define SLOTS	40
#define SIZE	((uint64_t)SLOTS * CS + 1000)	/* unaligned tail */
#define EXTRA	(3 * CS)			/* disk past the image */
#define DEADLINE_MS	20000			/* any one pipeline */

static struct unit_image im;
static uint8_t *image, *garbage;
static char path[256];
static int fd = -1;

enum serve { SERVE_OK, SERVE_OTHER, SERVE_CORRUPT, SERVE_OVERSIZE,
    SERVE_ERROR, SERVE_STOP };

struct mem_fetcher {
	size_t		 bad_index;	/* the chunk that misbehaves */
	enum serve	 how;
	atomic_int	 calls;
	uint8_t		 fetched_flags[SLOTS + 1];
};

static int
mem_fetch(void *ctx, size_t index, const struct manifest_chunk *c,
    const char *hex, uint8_t *buf, size_t cap, size_t *len,
    _Atomic uint64_t *fetched, const atomic_int *stop, char *err,
    size_t errlen)
{
	struct mem_fetcher *f = ctx;
	const uint8_t *src = im.stored[index];
	size_t n = im.stored_len[index];
	uint8_t *other = NULL;
	char why[256];

	atomic_fetch_add(&f->calls, 1);
	assert_true(index < im.m->nchunks);
	assert_int_equal(c->offset, im.m->chunks[index].offset);
	assert_int_equal(strlen(hex), HASH_HEX_LEN);
	f->fetched_flags[index] = 1;
	if (index == f->bad_index) {
		switch (f->how) {
		case SERVE_OK:
			break;
		case SERVE_OTHER:	/* a valid frame, other content */
		case SERVE_OVERSIZE: {	/* a valid frame, longer content */
			size_t l = f->how == SERVE_OTHER ? c->length :
			    2 * (size_t)c->length;
			uint8_t *raw = malloc(l);
			other = malloc(chunk_compress_bound(l));
			assert_non_null(raw);
			assert_non_null(other);
			if (f->how == SERVE_OTHER)
				unit_random(raw, l, 4242);
			else	/* compressible: it fits, and lies */
				memset(raw, 'r', l);
			assert_int_equal(chunk_compress(NULL, raw, l, 1, other,
			    chunk_compress_bound(l), &n, why, sizeof(why)), 0);
			free(raw);
			src = other;
			break;
		}
		case SERVE_CORRUPT:
			other = malloc(n);
			assert_non_null(other);
			memcpy(other, src, n);
			for (size_t i = n / 2; i < n; i++)
				other[i] ^= 0x5a;
			src = other;
			break;
		case SERVE_ERROR:
			snprintf(err, errlen, "boom");
			return -1;
		case SERVE_STOP:
			atomic_store((atomic_int *)stop, 1);
			snprintf(err, errlen, "stopped");
			return -1;
		}
	}
	if (n > cap) {
		free(other);
		snprintf(err, errlen, "more than %zu bytes", cap);
		return -1;
	}
	memcpy(buf, src, n);
	*len = n;
	atomic_fetch_add(fetched, n);
	free(other);
	return 0;
}

static int
group_setup(void **state)
{
	(void)state;
	image = calloc(1, SIZE);
	garbage = malloc(SIZE + EXTRA);
	if (image == NULL || garbage == NULL)
		return -1;
	for (size_t s = 0; s < SLOTS; s++) {
		if (s == 0 || (s >= 5 && s <= 9) || s == 20)
			continue;	/* holes */
		if (s % 4 == 1) {	/* compressible */
			for (size_t i = 0; i < CS; i++)
				image[s * CS + i] = (uint8_t)("rackd "[i % 6]);
			continue;
		}
		unit_random(image + s * CS, s == 12 ? CS / 2 : CS, s);
	}
	unit_random(image + (uint64_t)SLOTS * CS, 1000, 77);
	unit_random(garbage, SIZE + EXTRA, 1234);
	unit_image_build(&im, image, SIZE, CS);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	unit_image_free(&im);
	free(image);
	free(garbage);
	return 0;
}

/* A disk file holding content (SIZE + EXTRA bytes). */
static int
disk_setup(void **state)
{
	if (unit_setup(state) != 0)
		return -1;
	unit_path(path, sizeof(path), "disk.img");
	unit_write(path, garbage, SIZE + EXTRA);
	fd = open(path, O_RDWR);
	return fd >= 0 ? 0 : -1;
}

static int
disk_teardown(void **state)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
	return unit_teardown(state);
}

static void
disk_put(uint64_t off, const void *data, size_t len)
{
	char err[256];

	assert_int_equal(disk_write(fd, data, len, off, err, sizeof(err)), 0);
}

/* Runs the pipeline to its end (bounded): 0 or -1, the reason, progress. */
static int
run(struct mem_fetcher *f, int workers, size_t queue_max, struct progress *pr,
    char *reason, size_t len, struct pipeline **out)
{
	atomic_int stop = 0;
	struct pipeline_conf pc = {
		.fd = fd, .m = im.m, .queue_max_bytes = queue_max,
		.workers = workers, .fetch = mem_fetch, .fetch_ctx = f,
		.progress = pr, .stop = &stop,
	};
	struct pipeline *p;
	char err[256];
	int64_t end = now_ms() + DEADLINE_MS;
	int rc;

	memset(pr, 0, sizeof(*pr));
	assert_int_equal(pipeline_start(&pc, &p, err, sizeof(err)), 0);
	while (!pipeline_wait(p, 100))
		if (now_ms() > end) {
			atomic_store(&stop, 1);
			fail_msg("pipeline still running after %d ms",
			    DEADLINE_MS);
		}
	rc = pipeline_join(p, reason, len);
	if (out != NULL)
		*out = p;
	else
		pipeline_free(p);
	return rc;
}

static void
check_disk_is_image(void)
{
	uint8_t *now = malloc(SIZE + EXTRA);
	char err[256];

	assert_non_null(now);
	assert_int_equal(disk_read(fd, now, SIZE + EXTRA, 0, err, sizeof(err)),
	    0);
	for (uint64_t off = 0; off < SIZE; off += CS)
		if (memcmp(now + off, image + off,
		    SIZE - off < CS ? SIZE - off : CS) != 0)
			fail_msg("slot at %llu differs",
			    (unsigned long long)off);
	/* nothing past the image */
	assert_memory_equal(now + SIZE, garbage + SIZE, EXTRA);
	free(now);
}

static uint64_t
sum_stored(void)
{
	uint64_t s = 0;

	for (size_t k = 0; k < im.m->nchunks; k++)
		s += im.stored_len[k];
	return s;
}

static void
full(int workers)
{
	struct mem_fetcher f = { .bad_index = (size_t)-1 };
	struct progress pr;
	struct pipeline *p;
	struct verifier *v;
	atomic_int stop = 0;
	char reason[REASON_MAX + 1], err[256];
	uint64_t data = 0;

	if (run(&f, workers, 0, &pr, reason, sizeof(reason), &p) != 0)
		fail_msg("pipeline: %s", reason);
	check_disk_is_image();
	assert_int_equal(atomic_load(&f.calls), im.m->nchunks);
	assert_int_equal(atomic_load(&pr.bytes_done), SIZE);
	assert_int_equal(atomic_load(&pr.bytes_fetched), sum_stored());
	assert_int_equal(atomic_load(&pr.chunks_fetched), im.m->nchunks);
	assert_int_equal(atomic_load(&pr.chunks_skipped), 0);
	for (size_t k = 0; k < im.m->nchunks; k++) {
		assert_int_equal(pipeline_written(p)[k], 1);
		data += im.m->chunks[k].length;
	}
	assert_int_equal(atomic_load(&pr.bytes_written), data);
	assert_int_equal(atomic_load(&pr.bytes_zeroed), SIZE - data);
	assert_true(pipeline_queue_peak(p) <= QUEUE_MAX_BYTES);
	/* verification from the disk passes */
	assert_int_equal(fsync(fd), 0);
	assert_int_equal(verify_start(fd, path, im.m, pipeline_written(p),
	    workers, &pr, &stop, &v, err, sizeof(err)), 0);
	while (!verify_wait(v, 100))
		;
	if (verify_join(v, reason, sizeof(reason)) != 0)
		fail_msg("verify: %s", reason);
	assert_int_equal(atomic_load(&pr.bytes_verified), data);
	/* and fails when the disk does not hold what was written */
	disk_put(im.m->chunks[3].offset + 100, "X", 1);
	assert_int_equal(fsync(fd), 0);
	assert_int_equal(verify_start(fd, path, im.m, pipeline_written(p),
	    workers, &pr, &stop, &v, err, sizeof(err)), 0);
	assert_int_equal(verify_join(v, reason, sizeof(reason)), -1);
	assert_non_null(strstr(reason, "chunk 3"));
	assert_non_null(strstr(reason, "reads back different"));
	pipeline_free(p);
}

static void
test_full(void **state)
{
	(void)state;
	full(1);
}

static void
test_full_workers(void **state)
{
	(void)state;
	full(WORKERS_MAX);
}

static void
test_delta(void **state)
{
	struct mem_fetcher f = { .bad_index = (size_t)-1 };
	struct progress pr;
	char reason[REASON_MAX + 1];
	size_t changed[] = { 2, 9, im.m->nchunks - 1 };	/* tail too */
	uint64_t want = 0;

	(void)state;
	/* the disk holds the image, but for three chunks and one hole */
	disk_put(0, image, SIZE);
	for (size_t i = 0; i < 3; i++) {
		const struct manifest_chunk *c = &im.m->chunks[changed[i]];
		disk_put(c->offset + c->length - 1, "!", 1);
		want += im.stored_len[changed[i]];
	}
	disk_put(7 * CS + 4000, "stale", 5);
	if (run(&f, 0, 0, &pr, reason, sizeof(reason), NULL) != 0)
		fail_msg("pipeline: %s", reason);
	check_disk_is_image();
	assert_int_equal(atomic_load(&f.calls), 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(f.fetched_flags[changed[i]], 1);
	assert_int_equal(atomic_load(&pr.bytes_fetched), want);
	assert_int_equal(atomic_load(&pr.chunks_skipped), im.m->nchunks - 3);
	/* the stale hole's piece: slots 5..9, within one ZERO_IO_MAX */
	assert_int_equal(atomic_load(&pr.bytes_zeroed), 5 * CS);
	assert_int_equal(atomic_load(&pr.bytes_done), SIZE);
	/* again: nothing to do at all */
	if (run(&f, 0, 0, &pr, reason, sizeof(reason), NULL) != 0)
		fail_msg("pipeline: %s", reason);
	assert_int_equal(atomic_load(&f.calls), 3);
	assert_int_equal(atomic_load(&pr.bytes_fetched), 0);
	assert_int_equal(atomic_load(&pr.bytes_zeroed), 0);
}

static void
test_blank_disk(void **state)
{
	struct mem_fetcher f = { .bad_index = (size_t)-1 };
	struct progress pr;
	char reason[REASON_MAX + 1];
	uint8_t *zero = calloc(1, SIZE);

	(void)state;
	assert_non_null(zero);
	disk_put(0, zero, SIZE);
	free(zero);
	if (run(&f, 0, 0, &pr, reason, sizeof(reason), NULL) != 0)
		fail_msg("pipeline: %s", reason);
	check_disk_is_image();
	assert_int_equal(atomic_load(&f.calls), im.m->nchunks);
	assert_int_equal(atomic_load(&pr.bytes_zeroed), 0);
}

/* A misbehaving chunk: the job fails with want in the reason, and the
 * chunk's slot on the disk is untouched. */
static void
bad_chunk(enum serve how, const char *want)
{
	size_t k = 4;
	struct mem_fetcher f = { .bad_index = k, .how = how };
	const struct manifest_chunk *c = &im.m->chunks[k];
	struct progress pr;
	char reason[REASON_MAX + 1], hex[HASH_HEX_LEN + 1], err[256];
	uint8_t *now = malloc(c->length);

	assert_non_null(now);
	assert_int_equal(run(&f, 1, 0, &pr, reason, sizeof(reason), NULL), -1);
	if (strstr(reason, want) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", reason, want);
	hash_to_hex(c->hash, hex);
	if (how != SERVE_STOP)
		assert_non_null(strstr(reason, hex));
	assert_int_equal(disk_read(fd, now, c->length, c->offset, err,
	    sizeof(err)), 0);
	assert_memory_equal(now, garbage + c->offset, c->length);
	free(now);
}

static void
test_hash_mismatch(void **state)
{
	(void)state;
	bad_chunk(SERVE_OTHER, "hash mismatch for chunk 4 (");
}

static void
test_corrupt(void **state)
{
	(void)state;
	bad_chunk(SERVE_CORRUPT, "chunk 4 (");
}

static void
test_oversize(void **state)
{
	(void)state;
	bad_chunk(SERVE_OVERSIZE, "exceeds the limit");
}

static void
test_fetch_error(void **state)
{
	(void)state;
	bad_chunk(SERVE_ERROR, "): boom");
}

static void
test_stop(void **state)
{
	(void)state;
	bad_chunk(SERVE_STOP, "stopped");
}

static void
test_queue_limit(void **state)
{
	struct mem_fetcher f = { .bad_index = (size_t)-1 };
	struct progress pr;
	struct pipeline *p;
	char reason[REASON_MAX + 1];
	size_t one = chunk_compress_bound(CS);

	(void)state;
	/* below one chunk: one at a time, still complete */
	if (run(&f, 2, 1, &pr, reason, sizeof(reason), &p) != 0)
		fail_msg("pipeline: %s", reason);
	assert_int_equal(pipeline_queue_peak(p), one);
	pipeline_free(p);
	check_disk_is_image();
	/* three chunks' worth */
	disk_put(0, garbage, SIZE);
	if (run(&f, 1, 3 * one, &pr, reason, sizeof(reason), &p) != 0)
		fail_msg("pipeline: %s", reason);
	assert_true(pipeline_queue_peak(p) <= 3 * one);
	pipeline_free(p);
	check_disk_is_image();
}

/* ---- the queue alone ---- */

static struct queue *tq;
static atomic_int reserved;

static void *
reserver(void *arg)
{
	size_t cap = *(size_t *)arg;

	atomic_store(&reserved, queue_reserve(tq, cap) == 0 ? 1 : -1);
	return NULL;
}

static void
test_queue(void **state)
{
	struct qitem *it;
	pthread_t t;
	size_t big = 500;

	(void)state;
	tq = queue_new(100, 2);
	assert_non_null(tq);
	/* an item over the limit is admitted into an empty queue */
	assert_int_equal(queue_reserve(tq, big), 0);
	/* then the next waits until it is released */
	atomic_store(&reserved, 0);
	assert_int_equal(pthread_create(&t, NULL, reserver, &big), 0);
	sleep_ms(100);
	assert_int_equal(atomic_load(&reserved), 0);
	it = calloc(1, sizeof(*it));
	assert_non_null(it);
	it->index = 7;
	it->cap = big;
	queue_push(tq, it);
	it = queue_pop(tq);
	assert_non_null(it);
	assert_int_equal(it->index, 7);
	free(it);
	queue_release(tq, big);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&reserved), 1);
	assert_int_equal(queue_peak_bytes(tq), big);
	queue_release(tq, big);
	/* the item count limit: two reserved, a third waits; abort wakes it */
	assert_int_equal(queue_reserve(tq, 1), 0);
	assert_int_equal(queue_reserve(tq, 1), 0);
	big = 1;
	atomic_store(&reserved, 0);
	assert_int_equal(pthread_create(&t, NULL, reserver, &big), 0);
	sleep_ms(100);
	assert_int_equal(atomic_load(&reserved), 0);
	queue_abort(tq);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&reserved), -1);
	assert_null(queue_pop(tq));
	queue_free(tq);
	/* closed and drained: pop returns NULL; items left are freed */
	tq = queue_new(100, 10);
	assert_int_equal(queue_reserve(tq, 10), 0);
	it = calloc(1, sizeof(*it));
	assert_non_null(it);
	it->data = malloc(10);
	queue_push(tq, it);
	assert_int_equal(queue_reserve(tq, 10), 0);
	it = calloc(1, sizeof(*it));
	assert_non_null(it);
	it->data = malloc(10);
	queue_push(tq, it);
	queue_close(tq);
	it = queue_pop(tq);
	assert_non_null(it);
	free(it->data);
	free(it);
	queue_free(tq);	/* frees the second */
	tq = queue_new(100, 10);
	queue_close(tq);
	assert_null(queue_pop(tq));
	queue_free(tq);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, disk_setup, disk_teardown)
	const struct CMUnitTest tests[] = {
		T(test_full),
		T(test_full_workers),
		T(test_delta),
		T(test_blank_disk),
		T(test_hash_mismatch),
		T(test_corrupt),
		T(test_oversize),
		T(test_fetch_error),
		T(test_stop),
		T(test_queue_limit),
		cmocka_unit_test(test_queue),
	};
	unit_watchdog(120);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
