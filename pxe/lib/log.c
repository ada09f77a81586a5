/*
 * log.c — console messages. rack-agent and rack-diskless run on a
 * server's console, so everything goes to stderr, one line each, with the
 * program's name and the time since start. The clocks live here too:
 * monotonic milliseconds for intervals, a realtime deadline for the
 * threads' condition waits, and the bounded wait for a count of running
 * threads to reach zero.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "pxe/lib/pxe.h"

static int quiet;
static int64_t t0;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_set_quiet(int q)
{
	quiet = q;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
deadline_in_ms(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

bool
wait_zero(pthread_mutex_t *lock, pthread_cond_t *cond, const int *count,
    int64_t ms)
{
	struct timespec ts;
	bool zero;

	deadline_in_ms(&ts, ms);
	pthread_mutex_lock(lock);
	while (*count > 0)
		if (pthread_cond_timedwait(cond, lock, &ts) != 0)
			break;
	zero = *count == 0;
	pthread_mutex_unlock(lock);
	return zero;
}

static void
vlog(const char *level, const char *fmt, va_list ap)
{
	int64_t t;

	if (quiet)
		return;
	pthread_mutex_lock(&log_lock);
	if (t0 == 0)
		t0 = now_ms();
	t = now_ms() - t0;
	fprintf(stderr, "%s [%4" PRId64 ".%01" PRId64 "] %s",
	    program_invocation_short_name, t / 1000, (t % 1000) / 100, level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("ERROR: ", fmt, ap);
	va_end(ap);
}
