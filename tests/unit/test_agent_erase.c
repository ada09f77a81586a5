/* tests/unit/test_agent_erase.c — rack-agent's erase check
 * (pxe/agent/erase_verify.c): where the samples are (the first and last
 * MiB, 256 spread between, 4 KiB aligned, a disk smaller than a sample),
 * and the verdict on a file: all zeros; old data left in one sample; a
 * pattern that is not zero but not the old data either. */
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

#define MIB	(1024u * 1024)

static void
test_offsets(void **state)
{
	uint64_t off[ERASE_SAMPLES_ALL], len;
	size_t n;

	(void)state;
	n = erase_sample_offsets(1024ull * MIB, off, &len);
	assert_int_equal(n, ERASE_SAMPLES_ALL);
	assert_int_equal(len, MIB);
	assert_int_equal(off[0], 0);
	assert_int_equal(off[n - 1], 1023ull * MIB);
	for (size_t i = 1; i < n; i++) {
		assert_true(off[i] > off[i - 1]);
		assert_int_equal(off[i] % 4096, 0);
		assert_true(off[i] + len <= 1024ull * MIB);
	}
	/* Evenly spread: the middle sample near the middle. */
	assert_true(off[n / 2] > 500ull * MIB && off[n / 2] < 524ull * MIB);
	/* A disk smaller than a sample: it is read whole. */
	n = erase_sample_offsets(8192, off, &len);
	assert_int_equal(len, 8192);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(off[i], 0);
	assert_int_equal(erase_sample_offsets(0, off, &len), 0);
}

static void
fill(int fd, uint64_t size, uint64_t seed)
{
	uint8_t *b = malloc(MIB);
	char err[256];

	assert_non_null(b);
	for (uint64_t o = 0; o < size; o += MIB) {
		unit_random(b, MIB, seed + o);
		assert_int_equal(disk_write(fd, b, MIB, o, err, sizeof(err)),
		    0);
	}
	free(b);
}

static void
test_judge(void **state)
{
	static struct erase_samples before, after;
	struct erase_verdict v;
	uint64_t size = 64ull * MIB;
	char path[128], err[256];
	uint8_t *z = calloc(1, MIB);
	int fd;

	(void)state;
	assert_non_null(z);
	snprintf(path, sizeof(path), "%s/disk", unit_dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	fill(fd, size, 1);
	assert_int_equal(erase_samples_read(fd, size, &before, NULL, err,
	    sizeof(err)), 0);
	for (size_t i = 0; i < before.n; i++)
		assert_false(before.zero[i]);

	/* Zeros everywhere: every sample zero. */
	for (uint64_t o = 0; o < size; o += MIB)
		assert_int_equal(disk_write(fd, z, MIB, o, err, sizeof(err)),
		    0);
	assert_int_equal(erase_samples_read(fd, size, &after, NULL, err,
	    sizeof(err)), 0);
	erase_samples_judge(&before, &after, &v);
	assert_int_equal(v.samples, ERASE_SAMPLES_ALL);
	assert_int_equal(v.zero, v.samples);
	assert_int_equal(v.unchanged, 0);
	assert_int_equal(v.bytes, (uint64_t)ERASE_SAMPLES_ALL * MIB);

	/* Another pattern: not zero, but none as before. */
	fill(fd, size, 99);
	assert_int_equal(erase_samples_read(fd, size, &after, NULL, err,
	    sizeof(err)), 0);
	erase_samples_judge(&before, &after, &v);
	assert_int_equal(v.zero, 0);
	assert_int_equal(v.unchanged, 0);

	/* The old data back in the last MiB: found, and where. */
	{
		uint8_t *b = malloc(MIB);
		assert_non_null(b);
		unit_random(b, MIB, 1 + size - MIB);
		assert_int_equal(disk_write(fd, b, MIB, size - MIB, err,
		    sizeof(err)), 0);
		free(b);
	}
	assert_int_equal(erase_samples_read(fd, size, &after, NULL, err,
	    sizeof(err)), 0);
	erase_samples_judge(&before, &after, &v);
	assert_int_equal(v.unchanged, 1);
	assert_int_equal(v.first_bad, size - MIB);
	close(fd);
	free(z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets),
		cmocka_unit_test_setup_teardown(test_judge, unit_setup,
		    unit_teardown),
	};
	unit_watchdog(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
