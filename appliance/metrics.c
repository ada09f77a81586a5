/*
 * metrics.c — counters for GET /metrics in the Prometheus text format:
 * requests by route and status, bytes streamed, jobs by state, links up,
 * event stream clients. A base file: the server and the domain files
 * count here, and it calls none of them (the caller of metrics_render
 * hands it what it needs from above: the event clients).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"

struct row {
	const char	*route;		/* static, from the route table */
	int		 status;
	uint64_t	 count;
};

static pthread_mutex_t m_lock = PTHREAD_MUTEX_INITIALIZER;
static struct row rows[METRIC_ROWS_MAX];
static int nrows;
static uint64_t streamed;
static uint64_t push_bytes, push_stored, push_patched, push_present;
static uint64_t push_rejected;

void
metrics_request(const char *route, int status)
{
	pthread_mutex_lock(&m_lock);
	for (int i = 0; i < nrows; i++)
		if (rows[i].status == status &&
		    strcmp(rows[i].route, route) == 0) {
			rows[i].count++;
			pthread_mutex_unlock(&m_lock);
			return;
		}
	if (nrows < METRIC_ROWS_MAX)
		rows[nrows++] = (struct row){ route, status, 1 };
	pthread_mutex_unlock(&m_lock);
}

void
metrics_streamed(uint64_t bytes)
{
	pthread_mutex_lock(&m_lock);
	streamed += bytes;
	pthread_mutex_unlock(&m_lock);
}

void
metrics_push_chunk(uint64_t bytes, const char *result)
{
	pthread_mutex_lock(&m_lock);
	push_bytes += bytes;
	if (strcmp(result, "stored") == 0)
		push_stored++;
	else if (strcmp(result, "patched") == 0)
		push_patched++;
	else if (strcmp(result, "present") == 0)
		push_present++;
	else
		push_rejected++;
	pthread_mutex_unlock(&m_lock);
}

char *
metrics_render(int event_clients)
{
	json_t *counts = db_job_counts(), *v;
	const char *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL) {
		json_decref(counts);
		return NULL;
	}
	fprintf(fp, "# HELP rackd_http_requests_total HTTP requests by route "
	    "and status.\n# TYPE rackd_http_requests_total counter\n");
	pthread_mutex_lock(&m_lock);
	for (int i = 0; i < nrows; i++)
		fprintf(fp, "rackd_http_requests_total{route=\"%s\","
		    "status=\"%d\"} %llu\n", rows[i].route, rows[i].status,
		    (unsigned long long)rows[i].count);
	fprintf(fp, "# HELP rackd_streamed_bytes_total Bytes of chunks sent."
	    "\n# TYPE rackd_streamed_bytes_total counter\n"
	    "rackd_streamed_bytes_total %llu\n", (unsigned long long)streamed);
	fprintf(fp, "# HELP rackd_push_received_bytes_total Bytes of pushed "
	    "chunk bodies received.\n# TYPE rackd_push_received_bytes_total "
	    "counter\nrackd_push_received_bytes_total %llu\n"
	    "# HELP rackd_push_chunks_total Pushed chunks by result.\n"
	    "# TYPE rackd_push_chunks_total counter\n"
	    "rackd_push_chunks_total{result=\"stored\"} %llu\n"
	    "rackd_push_chunks_total{result=\"patched\"} %llu\n"
	    "rackd_push_chunks_total{result=\"present\"} %llu\n"
	    "rackd_push_chunks_total{result=\"rejected\"} %llu\n",
	    (unsigned long long)push_bytes, (unsigned long long)push_stored,
	    (unsigned long long)push_patched, (unsigned long long)push_present,
	    (unsigned long long)push_rejected);
	pthread_mutex_unlock(&m_lock);
	fprintf(fp, "# HELP rackd_jobs Jobs by state.\n"
	    "# TYPE rackd_jobs gauge\n");
	json_object_foreach(counts, state, v)
		fprintf(fp, "rackd_jobs{state=\"%s\"} %lld\n", state,
		    (long long)json_integer_value(v));
	fprintf(fp, "# HELP rackd_links_up Management links up.\n"
	    "# TYPE rackd_links_up gauge\nrackd_links_up %d\n", db_links_up());
	fprintf(fp, "# HELP rackd_event_clients Open event streams.\n"
	    "# TYPE rackd_event_clients gauge\nrackd_event_clients %d\n",
	    event_clients);
	json_decref(counts);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
