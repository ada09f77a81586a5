/*
 * progress.c — the rate (bytes settled per second, smoothed) and the
 * console's progress line.
 */
#include <inttypes.h>
#include <stdio.h>

#include "pxe/lib/pxe.h"

void
rate_init(struct rate *r, int64_t now, uint64_t bytes)
{
	r->last_ms = now;
	r->last_bytes = bytes;
	r->bps = 0;
}

uint64_t
rate_update(struct rate *r, int64_t now, uint64_t bytes)
{
	int64_t dt = now - r->last_ms;
	double inst;

	if (dt < RATE_MIN_INTERVAL_MS)
		return (uint64_t)r->bps;
	inst = bytes >= r->last_bytes ?
	    (double)(bytes - r->last_bytes) * 1000.0 / (double)dt : 0.0;
	r->bps = r->bps == 0 ? inst :
	    RATE_WEIGHT * inst + (1 - RATE_WEIGHT) * r->bps;
	r->last_ms = now;
	r->last_bytes = bytes;
	return (uint64_t)r->bps;
}

void
progress_line(const char *state, const struct progress *p, uint64_t total,
    uint64_t bps, char *buf, size_t len)
{
	uint64_t done = atomic_load(&p->bytes_done);
	char a[BYTES_STR_MAX], b[BYTES_STR_MAX], c[BYTES_STR_MAX];
	char d[BYTES_STR_MAX];
	unsigned pct;

	if (done > total)
		done = total;
	pct = total ? (unsigned)(done * 100 / total) : 100;
	snprintf(buf, len, "%-9s %3u%%  %s of %s  fetched %s  %s/s", state, pct,
	    fmt_bytes(done, a, sizeof(a)), fmt_bytes(total, b, sizeof(b)),
	    fmt_bytes(atomic_load(&p->bytes_fetched), c, sizeof(c)),
	    fmt_bytes(bps, d, sizeof(d)));
}
