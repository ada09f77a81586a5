/*
 * work.c — a few threads for slow work that the HTTP thread hands off:
 * a pushed chunk's verification (decompress, hash, fsync, rename), a
 * manifest's bookkeeping, garbage collection. Serving chunks and boot
 * files to nodes, and the dashboard, never wait behind it, and a board
 * with several cores verifies several chunks at once.
 *
 * The queue is a list threaded through the items themselves (each request
 * holds its own), so it needs no memory and is bounded by the number of
 * HTTP connections.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appliance/rackd.h"

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct work *q_head, *q_tail;
static int stopping;
static pthread_t threads[WORK_THREADS_MAX];
static int nthreads;

static void *
worker(void *arg)
{
	struct work *w;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&q_lock);
		while (q_head == NULL && !stopping)
			pthread_cond_wait(&q_cond, &q_lock);
		if ((w = q_head) == NULL) {	/* stopping, and drained */
			pthread_mutex_unlock(&q_lock);
			return NULL;
		}
		if ((q_head = w->next) == NULL)
			q_tail = NULL;
		pthread_mutex_unlock(&q_lock);
		w->next = NULL;
		w->fn(w);
	}
}

int
work_threads_default(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > WORK_THREADS_MAX ? WORK_THREADS_MAX : (int)n;
}

int
work_start(int n, char *err, size_t errlen)
{
	int e;

	if (n <= 0)
		n = work_threads_default();
	if (n > WORK_THREADS_MAX)
		n = WORK_THREADS_MAX;
	stopping = 0;
	for (nthreads = 0; nthreads < n; nthreads++) {
		if ((e = pthread_create(&threads[nthreads], NULL, worker,
		    NULL)) != 0) {
			snprintf(err, errlen, "cannot start a work thread: %s",
			    strerror(e));
			work_stop();
			return -1;
		}
	}
	log_debug("work: %d threads", nthreads);
	return 0;
}

void
work_submit(struct work *w)
{
	w->next = NULL;
	pthread_mutex_lock(&q_lock);
	if (nthreads == 0 || stopping) {	/* not started, or stopping */
		pthread_mutex_unlock(&q_lock);
		w->fn(w);
		return;
	}
	if (q_tail != NULL)
		q_tail->next = w;
	else
		q_head = w;
	q_tail = w;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
}

void
work_stop(void)
{
	pthread_mutex_lock(&q_lock);
	stopping = 1;
	pthread_cond_broadcast(&q_cond);
	pthread_mutex_unlock(&q_lock);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_lock(&q_lock);
	nthreads = 0;
	pthread_mutex_unlock(&q_lock);
}
