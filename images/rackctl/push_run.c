/* images/rackctl/push_run.c — the per-rack threads of rackctl push.
 *
 * --jobs threads take the racks in turn, each pushing one rack at a time
 * (push_proto.c); the main thread redraws the progress until the last
 * rack finishes, at once when one does. What the threads share (the
 * racks' states and counters) changes under the push's lock.
 */
#include "images/rackctl/rackctl.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

void
push_set_state(struct push *p, struct push_target *t, enum push_state s)
{
	pthread_mutex_lock(&p->lock);
	t->state = s;
	pthread_mutex_unlock(&p->lock);
}

enum push_step
push_fail(struct push *p, struct push_target *t, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&p->lock);
	va_start(ap, fmt);
	vsnprintf(t->error, sizeof t->error, fmt, ap);
	va_end(ap);
	for (char *c = t->error; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	t->state = PUSH_FAILED;
	pthread_mutex_unlock(&p->lock);
	return PUSH_STEP_FAILED;
}

static void *
worker(void *arg)
{
	struct push *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			return NULL;
		(p->rack_fn != NULL ? p->rack_fn : push_rack)(p, &p->t[i]);
	}
}

int
push_run(struct push *p, size_t jobs)
{
	size_t nth = jobs < p->n ? jobs : p->n, started = 0;
	pthread_t *th = calloc(nth ? nth : 1, sizeof(*th));

	if (!th) {
		rackctl_error("out of memory");
		return -1;
	}
	for (; started < nth; started++)
		if (pthread_create(&th[started], NULL, worker, p) != 0)
			break;
	if (started == 0) {
		rackctl_error("cannot start threads");
		free(th);
		return -1;
	}
	for (;;) {
		struct timespec until;
		size_t had;
		bool all;

		pthread_mutex_lock(&p->lock);
		all = p->finished == p->n;
		pthread_mutex_unlock(&p->lock);
		push_show_progress(p);
		if (all)
			break;
		/* Until the next redraw, or at once when a rack finishes. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += PUSH_DRAW_INTERVAL_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&p->lock);
		had = p->finished;
		while (p->finished == had &&
		    pthread_cond_timedwait(&p->finish, &p->lock, &until) == 0)
			;
		pthread_mutex_unlock(&p->lock);
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	return 0;
}
