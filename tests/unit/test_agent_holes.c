/* tests/unit/test_agent_holes.c — rack-agent: where an image's holes are
 * (start, middle, end, unaligned tail, no chunks, no holes) and zeroing
 * them on a file full of old data: only pieces that are not zero are
 * zeroed, by punching holes or by writing zeros, nothing outside the range
 * is touched, and a stop request is honoured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pxe/agent/agent.h"
#include "tests/unit/unit.h"

#define CS	(64u * 1024)	/* CHUNK_SIZE_MIN */

static struct manifest *
mk(uint64_t size, const uint64_t *offsets, size_t n)
{
	struct manifest *m = manifest_new();
	char err[256];

	assert_non_null(m);
	m->size = size;
	m->chunk_size = CS;
	snprintf(m->name, sizeof(m->name), "t");
	snprintf(m->version, sizeof(m->version), "1");
	for (size_t i = 0; i < n; i++) {
		struct manifest_chunk c = {
			.offset = offsets[i],
			.stored = 10
		};
		c.length = (uint32_t)(size - offsets[i] < CS ?
		    size - offsets[i] : CS);
		c.hash[0] = (uint8_t)(i + 1);
		assert_int_equal(manifest_add_chunk(m, &c), 0);
	}
	if (manifest_validate(m, err, sizeof(err)) != 0)
		fail_msg("test manifest: %s", err);
	return m;
}

static void
expect_hole(const struct manifest *m, size_t k, uint64_t off, uint64_t len)
{
	uint64_t o, l;

	hole_before(m, k, &o, &l);
	assert_int_equal(l, len);
	if (len > 0)
		assert_int_equal(o, off);
}

static void
test_hole_positions(void **state)
{
	struct manifest *m;
	uint64_t size = 10 * CS + 123;	/* 11 slots, unaligned tail */

	(void)state;
	/* chunks in slots 2, 3, 7: holes 0-1, 4-6, 8-10 (with the tail) */
	m = mk(size, (const uint64_t[]){ 2 * CS, 3 * CS, 7 * CS }, 3);
	expect_hole(m, 0, 0, 2 * CS);
	expect_hole(m, 1, 0, 0);
	expect_hole(m, 2, 4 * CS, 3 * CS);
	expect_hole(m, 3, 8 * CS, size - 8 * CS);
	assert_int_equal(holes_total(m), 2 * CS + 3 * CS + size - 8 * CS);
	manifest_free(m);
	/* the tail slot is a chunk: no hole after it */
	m = mk(size, (const uint64_t[]){ 0, 10 * CS }, 2);
	expect_hole(m, 0, 0, 0);
	expect_hole(m, 1, CS, 9 * CS);
	expect_hole(m, 2, 0, 0);
	assert_int_equal(holes_total(m), 9 * CS);
	manifest_free(m);
	/* no chunks: all hole */
	m = mk(size, NULL, 0);
	expect_hole(m, 0, 0, size);
	assert_int_equal(holes_total(m), size);
	manifest_free(m);
	/* every slot a chunk: no holes */
	m = mk(3 * CS, (const uint64_t[]){ 0, CS, 2 * CS }, 3);
	for (size_t k = 0; k <= 3; k++)
		expect_hole(m, k, 0, 0);
	assert_int_equal(holes_total(m), 0);
	manifest_free(m);
	/* an empty image */
	m = mk(0, NULL, 0);
	expect_hole(m, 0, 0, 0);
	manifest_free(m);
}

#define FILE_SIZE	(3 * ZERO_IO_MAX + 5000)

static uint8_t *old;	/* the file's first content */
static char path[256];
static int fd = -1;

static int
file_setup(void **state)
{
	if (unit_setup(state) != 0)
		return -1;
	old = malloc(FILE_SIZE);
	if (old == NULL)
		return -1;
	unit_random(old, FILE_SIZE, 99);
	/* a zero stretch inside: [ZERO_IO_MAX, 2 * ZERO_IO_MAX) */
	memset(old + ZERO_IO_MAX, 0, ZERO_IO_MAX);
	unit_path(path, sizeof(path), "disk.img");
	unit_write(path, old, FILE_SIZE);
	fd = open(path, O_RDWR);
	return fd >= 0 ? 0 : -1;
}

static int
file_teardown(void **state)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
	free(old);
	old = NULL;
	return unit_teardown(state);
}

/* The file equals old outside [off, off+len) and is zero inside. */
static void
check_file(uint64_t off, uint64_t len)
{
	uint8_t *now = malloc(FILE_SIZE);
	char err[256];

	assert_non_null(now);
	assert_int_equal(disk_read(fd, now, FILE_SIZE, 0, err, sizeof(err)), 0);
	assert_memory_equal(now, old, off);
	assert_true(chunk_is_zero(now + off, len));
	assert_memory_equal(now + off + len, old + off + len,
	    FILE_SIZE - off - len);
	free(now);
}

static void
run_zero(bool punch, uint64_t off, uint64_t len, uint64_t want_zeroed)
{
	_Atomic uint64_t done = 0;
	struct zeroer z;
	char err[256];

	assert_int_equal(zeroer_init(&z, fd, false), 0);
	z.try_punch = punch;
	z.done = &done;
	if (zero_range(&z, off, len, NULL, err, sizeof(err)) != ZERO_DONE)
		fail_msg("zero_range: %s", err);
	assert_int_equal(z.zeroed, want_zeroed);
	assert_int_equal(z.checked + z.zeroed, len);
	assert_int_equal(atomic_load(&done), len);
	zeroer_free(&z);
	check_file(off, len);
}

static void
test_zero_punch(void **state)
{
	(void)state;
	/* from an unaligned start across the zero stretch to an unaligned
	 * end: the zero stretch is read, not written */
	run_zero(true, 1000, 2 * ZERO_IO_MAX + 3000,
	    2 * ZERO_IO_MAX + 3000 - ZERO_IO_MAX);
}

static void
test_zero_write(void **state)
{
	(void)state;
	run_zero(false, 0, FILE_SIZE, FILE_SIZE - ZERO_IO_MAX);
}

static void
test_zero_already(void **state)
{
	_Atomic uint64_t done = 0;
	struct zeroer z;
	char err[256];
	struct stat before, after;

	(void)state;
	assert_int_equal(fstat(fd, &before), 0);
	assert_int_equal(zeroer_init(&z, fd, false), 0);
	z.done = &done;
	assert_int_equal(zero_range(&z, ZERO_IO_MAX, ZERO_IO_MAX, NULL, err,
	    sizeof(err)), ZERO_DONE);
	assert_int_equal(z.zeroed, 0);
	assert_int_equal(z.checked, ZERO_IO_MAX);
	assert_int_equal(fstat(fd, &after), 0);
	/* nothing written: the modification time did not move */
	assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
	/* zero length: nothing at all */
	assert_int_equal(zero_range(&z, 5, 0, NULL, err, sizeof(err)),
	    ZERO_DONE);
	zeroer_free(&z);
	check_file(ZERO_IO_MAX, ZERO_IO_MAX);
}

static void
test_zero_stop_and_errors(void **state)
{
	atomic_int stop = 1;
	struct zeroer z;
	char err[256];

	(void)state;
	assert_int_equal(zeroer_init(&z, fd, false), 0);
	assert_int_equal(zero_range(&z, 0, FILE_SIZE, &stop, err, sizeof(err)),
	    ZERO_STOPPED);
	assert_int_equal(z.zeroed + z.checked, 0);
	check_file(0, 0);
	/* past the end of the disk: an error, not a silent short zero */
	assert_int_equal(zero_range(&z, FILE_SIZE - 10, 20, NULL, err,
	    sizeof(err)), ZERO_ERROR);
	assert_non_null(strstr(err, "end of disk"));
	zeroer_free(&z);
	/* a read-only descriptor cannot be zeroed: a clean error */
	close(fd);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(zeroer_init(&z, fd, false), 0);
	assert_int_equal(zero_range(&z, 0, 100, NULL, err, sizeof(err)),
	    ZERO_ERROR);
	assert_non_null(strstr(err, "byte 0"));
	zeroer_free(&z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hole_positions),
		cmocka_unit_test_setup_teardown(test_zero_punch, file_setup,
		    file_teardown),
		cmocka_unit_test_setup_teardown(test_zero_write, file_setup,
		    file_teardown),
		cmocka_unit_test_setup_teardown(test_zero_already, file_setup,
		    file_teardown),
		cmocka_unit_test_setup_teardown(test_zero_stop_and_errors,
		    file_setup, file_teardown),
	};
	unit_watchdog(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
