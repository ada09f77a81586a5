/* tests/unit/test_pxe_backoff.c — libpxe: the retry schedule
 * (doubling from BACKOFF_BASE_MS, capped at BACKOFF_MAX_MS, no overflow),
 * jitter bounds, the deadline without progress and its restart after
 * progress, the wait between tries; the smoothed rate and the console's
 * progress line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "pxe/lib/pxe.h"
#include "tests/unit/unit.h"

static void
test_schedule(void **state)
{
	static const int64_t want[] = { 250, 500, 1000, 2000, 4000, 8000, 8000,
	    8000 };

	(void)state;
	assert_int_equal(BACKOFF_BASE_MS, 250);
	assert_int_equal(BACKOFF_MAX_MS, 8000);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(backoff_delay_ms(i), want[i]);
	/* huge attempt numbers stay at the cap */
	assert_int_equal(backoff_delay_ms(63), BACKOFF_MAX_MS);
	assert_int_equal(backoff_delay_ms(64), BACKOFF_MAX_MS);
	assert_int_equal(backoff_delay_ms(~0u), BACKOFF_MAX_MS);
	/* never decreasing */
	for (unsigned i = 1; i < 100; i++)
		assert_true(backoff_delay_ms(i) >= backoff_delay_ms(i - 1));
}

static void
test_jitter(void **state)
{
	(void)state;
	for (unsigned a = 0; a < 10; a++) {
		int64_t d = backoff_delay_ms(a);
		for (double r = 0; r < 1.0; r += 0.125) {
			int64_t j = backoff_jitter_ms(a, r);
			assert_true(j <= d);
			assert_true(j >= d - d / 4);
		}
		assert_int_equal(backoff_jitter_ms(a, 0.0), d);
		/* out-of-range r is clamped */
		assert_true(backoff_jitter_ms(a, -5) == d);
		assert_true(backoff_jitter_ms(a, 7) >= d - d / 4);
		assert_true(backoff_jitter_ms(a, NAN) == d);
	}
}

static void
test_deadline(void **state)
{
	struct retry t;
	int64_t now = 1000000, delay, waited = 0;
	int tries = 0;

	(void)state;
	retry_start(&t, now, 20000);
	/* failures back to back: 250, 500, 1000, 2000, 4000, 8000, then the
	 * rest up to the deadline, then no more */
	while (retry_next(&t, now, &delay)) {
		assert_true(delay > 0);
		if (tries < 6)
			assert_int_equal(delay,
			    backoff_delay_ms((unsigned)tries));
		now += delay;
		waited += delay;
		tries++;
		assert_true(tries < 100);
	}
	/* the last try at the deadline */
	assert_int_equal(waited, 20000);
	assert_int_equal(tries, 7);
	assert_false(retry_next(&t, now, &delay));
	/* progress starts the schedule and the deadline again */
	retry_progress(&t, now);
	assert_true(retry_next(&t, now, &delay));
	assert_int_equal(delay, BACKOFF_BASE_MS);
	assert_true(retry_next(&t, now + 19999, &delay));
	assert_int_equal(delay, 1);
	assert_false(retry_next(&t, now + 20000, &delay));
	/* a zero deadline: no retry at all */
	retry_start(&t, now, 0);
	assert_false(retry_next(&t, now, &delay));
}

/* The wait between tries: the delay less at most a quarter, cut short by
 * the stop flag. */
static void
test_wait(void **state)
{
	atomic_int stop = 0;
	int64_t t, took;

	(void)state;
	for (int i = 0; i < 3; i++) {
		t = now_ms();
		retry_wait(400, i == 0 ? NULL : &stop);
		took = now_ms() - t;
		assert_true(took >= 300);
		assert_true(took < 1000);
	}
	atomic_store(&stop, 1);
	t = now_ms();
	retry_wait(60000, &stop);
	assert_true(now_ms() - t < BACKOFF_SLICE_MS);
	t = now_ms();
	retry_wait(0, NULL);
	retry_wait(-5, NULL);
	assert_true(now_ms() - t < BACKOFF_SLICE_MS);
}

static void
test_rate(void **state)
{
	struct rate r;

	(void)state;
	rate_init(&r, 0, 0);
	/* too soon: no estimate yet */
	assert_int_equal(rate_update(&r, 100, 1000), 0);
	/* 1 MB in 1 s */
	assert_int_equal(rate_update(&r, 1000, 1000000), 1000000);
	/* then 3 MB/s: smoothed halfway */
	assert_int_equal(rate_update(&r, 2000, 4000000), 2000000);
	/* a stall pulls it down, never below zero */
	assert_int_equal(rate_update(&r, 3000, 4000000), 1000000);
	/* a counter going backwards counts as nothing */
	assert_int_equal(rate_update(&r, 4000, 10), 500000);
}

static void
test_progress_line(void **state)
{
	struct progress p;
	char line[160], b[32];

	(void)state;
	memset(&p, 0, sizeof(p));
	atomic_store(&p.bytes_done, 12 * 1048576);
	atomic_store(&p.bytes_fetched, 3 * 1048576 + 1048576 / 2);
	progress_line("streaming", &p, 24 * 1048576, 31 * 1048576, line,
	    sizeof(line));
	assert_string_equal(line, "streaming  50%  12.0 MiB of 24.0 MiB  "
	    "fetched 3.5 MiB  31.0 MiB/s");
	/* an empty image is complete */
	progress_line("verifying", &p, 0, 0, line, sizeof(line));
	assert_non_null(strstr(line, "100%"));
	assert_string_equal(fmt_bytes(0, b, sizeof(b)), "0 B");
	assert_string_equal(fmt_bytes(1023, b, sizeof(b)), "1023 B");
	assert_string_equal(fmt_bytes(1536, b, sizeof(b)), "1.5 KiB");
	assert_string_equal(fmt_bytes(UINT64_MAX, b, sizeof(b)), "16384.0 PiB");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_progress_line),
	};
	unit_watchdog(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
