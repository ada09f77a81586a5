/*
 * backoff.c — when to try a network operation again: exponential backoff
 * from BACKOFF_BASE_MS up to BACKOFF_MAX_MS, until a deadline passes with
 * no progress. A transfer that moves bytes starts the schedule again, so
 * a link that comes back resumes where it stopped.
 */
#include "pxe/agent/agent.h"

int64_t
backoff_delay_ms(unsigned attempt)
{
	int64_t d = BACKOFF_BASE_MS;

	for (unsigned i = 0; i < attempt && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	return d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS;
}

int64_t
backoff_jitter_ms(unsigned attempt, double r)
{
	int64_t d = backoff_delay_ms(attempt);

	if (!(r >= 0.0))	/* also NaN */
		r = 0.0;
	if (r >= 1.0)
		r = 0.999;
	return d - (int64_t)((double)d * r / 4.0);
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
