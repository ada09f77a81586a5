/*
 * backoff.c — when to try a network operation again: exponential backoff
 * from BACKOFF_BASE_MS up to BACKOFF_MAX_MS, until a deadline passes with
 * no progress. A transfer that moves bytes starts the schedule again, so
 * a link that comes back resumes where it stopped. The wait takes off a
 * random part, so that the nodes of a rack that lost rackd at once do not
 * all come back in the same millisecond. rack-agent and rack-diskless
 * (job, reports, chunks, the rootfs stream) all retry through here.
 * The schedule itself (backoff_delay_ms) is images/backoff.c's, shared
 * with rackctl.
 */
#include <sodium.h>

#include "pxe/lib/pxe.h"

/* d less r (in [0, 1)) of a quarter of it. */
static int64_t
jitter(int64_t d, double r)
{
	if (!(r >= 0.0))	/* also NaN */
		r = 0.0;
	if (r >= 1.0)
		r = 0.999;
	return d - (int64_t)((double)d * r / 4.0);
}

int64_t
backoff_jitter_ms(unsigned attempt, double r)
{
	return jitter(backoff_delay_ms(attempt), r);
}

void
retry_start(struct retry *t, int64_t now, int64_t deadline_ms)
{
	t->start_ms = now;
	t->deadline_ms = deadline_ms;
	t->attempt = 0;
}

bool
retry_next(struct retry *t, int64_t now, int64_t *delay)
{
	int64_t left = t->start_ms + t->deadline_ms - now, d;

	if (left <= 0)
		return false;
	d = backoff_delay_ms(t->attempt);
	if (d > left)
		d = left;	/* one last try at the deadline */
	if (t->attempt < 64)
		t->attempt++;
	*delay = d;
	return true;
}

void
retry_progress(struct retry *t, int64_t now)
{
	t->start_ms = now;
	t->attempt = 0;
}

void
retry_wait(int64_t delay, const atomic_int *stop)
{
	double r = (double)randombytes_uniform(1u << 20) / (double)(1u << 20);
	int64_t end = now_ms() + jitter(delay, r), left;

	while ((stop == NULL || !atomic_load(stop)) &&
	    (left = end - now_ms()) > 0)
		sleep_ms(left < BACKOFF_SLICE_MS ? left : BACKOFF_SLICE_MS);
}
