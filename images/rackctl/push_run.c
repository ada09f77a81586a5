/* images/rackctl/push_run.c — the per-rack threads of rackctl push.
 *
 * --jobs threads take the racks in turn, each pushing one rack at a time
 * (push_proto.c); the main thread redraws the progress until the last
 * rack finishes, at once when one does. What the threads share (the
 * racks' states and counters) changes under the push's lock. rackctl
 * pull-to runs its racks the same way, and push_racks() reads the racks
 * of push, pull-to and fleet status.
 */
#include "images/rackctl/rackctl.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
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
		pthread_mutex_lock(&p->lock);
		p->t[i].start = rackctl_now();
		pthread_mutex_unlock(&p->lock);
		(p->rack_fn != NULL ? p->rack_fn : push_rack)(p, &p->t[i]);
		pthread_mutex_lock(&p->lock);
		p->t[i].end = rackctl_now();
		p->finished++;
		pthread_cond_signal(&p->finish);
		pthread_mutex_unlock(&p->lock);
	}
}

static int
run(struct push *p, size_t jobs)
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

int
push_run(struct push *p, size_t jobs, bool quiet)
{
	bool ok = true;

	progress_init(&p->pg, progress_mode_for(quiet, p->json), PUSH_BAR,
	    PUSH_LABEL, 0);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->finish, NULL);
	if (run(p, jobs) < 0) {
		ok = false;
	} else {
		for (size_t i = 0; i < p->n; i++)
			if (p->t[i].state != PUSH_DONE)
				ok = false;
		push_show_result(p, ok);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->finish);
	return ok ? RACKCTL_OK : RACKCTL_FAIL;
}

int
push_racks(const char *cmd, const char *racksfile, const char *tokfile,
    char **args, int nargs, struct push_target **out, size_t *n)
{
	char err[RACKCTL_ERR_MAX];
	struct rack *rs = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (racksfile != NULL && nargs > 0)
		return rackctl_usage(cmd, "%s: racks come from --racks FILE or "
		    "the arguments, not both", cmd);
	if (racksfile == NULL && nargs == 0)
		return rackctl_usage(cmd, "%s: no racks (RACK... or --racks "
		    "FILE)", cmd);
	if (nargs > RACKS_MAX)
		return rackctl_usage(cmd, "%s: more than %d racks", cmd,
		    RACKS_MAX);
	if (racksfile != NULL) {
		if (rackctl_racks_file(racksfile, &rs, n, err, sizeof(err)) <
		    0) {
			rackctl_error("%s", err);
			return RACKCTL_FAIL;
		}
	} else {
		*n = (size_t)nargs;
		if ((rs = calloc(*n, sizeof(*rs))) == NULL) {
			rackctl_error("out of memory");
			return RACKCTL_FAIL;
		}
		for (size_t i = 0; i < *n; i++)
			if ((rc = rackctl_rack_arg(args[i], tokfile, &rs[i])) !=
			    RACKCTL_OK) {
				free(rs);
				return rc;
			}
	}
	for (size_t i = 0; i < *n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(rs[i].url, rs[j].url) == 0) {
				rc = rackctl_usage(cmd, "%s: rack %s is named "
				    "twice", cmd, rs[i].url);
				free(rs);
				return rc;
			}
	if ((*out = calloc(*n ? *n : 1, sizeof(**out))) == NULL) {
		free(rs);
		rackctl_error("out of memory");
		return RACKCTL_FAIL;
	}
	for (size_t i = 0; i < *n; i++)
		(*out)[i].rack = rs[i];
	memset(rs, 0, *n * sizeof(*rs));
	free(rs);
	return RACKCTL_OK;
}
