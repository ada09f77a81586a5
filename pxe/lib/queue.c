/*
 * queue.c — fetched chunks on their way from the fetch thread to the
 * workers. The byte limit covers every compressed buffer from the moment
 * the fetcher reserves it until a worker releases it (in flight, queued,
 * being decompressed), so it bounds that memory as a whole.
 */
#include <pthread.h>
#include <stdlib.h>

#include "pxe/lib/pxe.h"

struct qnode {
	struct qitem	*item;
	struct qnode	*next;
};

struct queue {
	pthread_mutex_t	 lock;
	pthread_cond_t	 room, ready;
	size_t		 max_bytes, max_items;
	size_t		 bytes, nres;	/* reserved, not yet released */
	size_t		 peak;
	struct qnode	*head, *tail;
	int		 closed, aborted;
};

struct queue *
queue_new(size_t max_bytes, size_t max_items)
{
	struct queue *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->room, NULL);
	pthread_cond_init(&q->ready, NULL);
	q->max_bytes = max_bytes;
	q->max_items = max_items > 0 ? max_items : 1;
	return q;
}

void
queue_free(struct queue *q)
{
	struct qnode *n, *next;

	if (q == NULL)
		return;
	for (n = q->head; n != NULL; n = next) {
		next = n->next;
		free(n->item->data);
		free(n->item);
		free(n);
	}
	pthread_cond_destroy(&q->room);
	pthread_cond_destroy(&q->ready);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

int
queue_reserve(struct queue *q, size_t cap)
{
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	while (!q->aborted && q->nres > 0 &&
	    (q->bytes + cap > q->max_bytes || q->nres >= q->max_items))
		pthread_cond_wait(&q->room, &q->lock);
	if (q->aborted)
		rc = -1;
	else {
		q->bytes += cap;
		q->nres++;
		if (q->bytes > q->peak)
			q->peak = q->bytes;
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void
queue_release(struct queue *q, size_t cap)
{
	pthread_mutex_lock(&q->lock);
	q->bytes -= cap < q->bytes ? cap : q->bytes;
	if (q->nres > 0)
		q->nres--;
	pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->lock);
}

void
queue_unreserve(struct queue *q, size_t cap)
{
	queue_release(q, cap);
}

void
queue_push(struct queue *q, struct qitem *it)
{
	struct qnode *n = malloc(sizeof(*n));

	pthread_mutex_lock(&q->lock);
	if (n == NULL || q->aborted) {
		/* No memory for a list node (tiny) or stopping: drop it and
		 * stop everything; the caller's stop flag explains. */
		q->aborted = 1;
		pthread_cond_broadcast(&q->ready);
		pthread_cond_broadcast(&q->room);
		pthread_mutex_unlock(&q->lock);
		free(n);
		free(it->data);
		free(it);
		return;
	}
	n->item = it;
	n->next = NULL;
	if (q->tail != NULL)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	pthread_cond_signal(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

struct qitem *
queue_pop(struct queue *q)
{
	struct qitem *it = NULL;
	struct qnode *n;

	pthread_mutex_lock(&q->lock);
	while (!q->aborted && q->head == NULL && !q->closed)
		pthread_cond_wait(&q->ready, &q->lock);
	if (!q->aborted && (n = q->head) != NULL) {
		q->head = n->next;
		if (q->head == NULL)
			q->tail = NULL;
		it = n->item;
		free(n);
	}
	pthread_mutex_unlock(&q->lock);
	return it;
}

void
queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->ready);
	pthread_mutex_unlock(&q->lock);
}

void
queue_abort(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->aborted = 1;
	pthread_cond_broadcast(&q->ready);
	pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->lock);
}

size_t
queue_peak_bytes(const struct queue *q)
{
	return q->peak;
}
