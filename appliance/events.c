/*
 * events.c — Server-Sent Events on /api/v1/events. Every node, job, image
 * and link change is published once into a ring of the last EVENTS_RING
 * events; each client keeps its place in the ring. A client with nothing to
 * read is suspended (http_pull_suspend: the server stops polling it) and
 * resumed when an event arrives. A client that falls further behind than
 * the ring gets a "resync" event and goes on from the oldest kept.
 * Last-Event-ID resumes a reconnecting client where it left off. A stream
 * opened with a dashboard session (no Bearer token) ends when that session
 * does: checked at each heartbeat, and at once on sign-out
 * (events_sessions_check).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"

struct event {
	uint64_t	 id;
	char		*text;		/* "id: N\nevent: T\ndata: {...}\n\n" */
	size_t		 len;
};

struct client {
	struct http_pull	*pull;		/* its reply; NULL until made */
	uint64_t		 next;		/* id of the next one to send */
	size_t			 off;		/* sent of it so far */
	int			 suspended;
	int			 hello;		/* retry: line sent */
	int			 ended;		/* its session ended: close */
	char			 cookie[TOKEN_HEX + 1];	/* "": not by session */
	struct client		*prev, *nextc;
};

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct event ring[EVENTS_RING];
static uint64_t next_id = 1;		/* id the next event gets */
static struct client *clients;
static int nclients;
static int closing;

int
events_init(void)
{
	memset(ring, 0, sizeof(ring));
	return 0;
}

static uint64_t
oldest_id(void)
{
	return next_id > EVENTS_RING ? next_id - EVENTS_RING : 1;
}

static void
wake_all(void)
{
	for (struct client *c = clients; c != NULL; c = c->nextc)
		if (c->suspended) {
			c->suspended = 0;
			http_pull_resume(c->pull);
		}
}

static void
push(char *text, size_t len)
{
	struct event *e;

	pthread_mutex_lock(&ev_lock);
	e = &ring[next_id % EVENTS_RING];
	free(e->text);
	e->id = next_id++;
	e->text = text;
	e->len = len;
	wake_all();
	pthread_mutex_unlock(&ev_lock);
}

void
events_publish(const char *type, json_t *data)
{
	char *body, *text;
	int n;

	if (data == NULL)
		return;
	body = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (body == NULL)
		return;
	if (strlen(body) > EVENT_MAX) {
		log_warnx("events: %s event of %zu bytes dropped", type,
		    strlen(body));
		free(body);
		return;
	}
	/* The id is filled in under the lock: format with a placeholder. */
	pthread_mutex_lock(&ev_lock);
	n = asprintf(&text, "id: %llu\nevent: %s\ndata: %s\n\n",
	    (unsigned long long)next_id, type, body);
	free(body);
	if (n < 0) {
		pthread_mutex_unlock(&ev_lock);
		return;
	}
	struct event *e = &ring[next_id % EVENTS_RING];
	free(e->text);
	e->id = next_id++;
	e->text = text;
	e->len = (size_t)n;
	wake_all();
	pthread_mutex_unlock(&ev_lock);
}

/* A node's state, as GET /api/v1/nodes/{slot} gives it, for every file
 * that changes one (links, jobs, dnsmasq's leases, the API). */
void
nodes_publish(const char *slot)
{
	json_t *n = db_node_get(slot);

	if (n != NULL) {
		power_node_json(n);
		console_node_json(n);
		events_publish("node", n);
	}
}

/* End the streams whose dashboard session has ended. */
void
events_sessions_check(void)
{
	pthread_mutex_lock(&ev_lock);
	for (struct client *c = clients; c != NULL; c = c->nextc) {
		if (c->cookie[0] == '\0' || c->ended ||
		    session_check(c->cookie, NULL, 0) == SESSION_OK)
			continue;
		c->ended = 1;
		if (c->suspended) {
			c->suspended = 0;
			http_pull_resume(c->pull);
		}
	}
	pthread_mutex_unlock(&ev_lock);
}

void
events_heartbeat(void)
{
	char *text = strdup(": keep-alive\n\n");

	events_sessions_check();

	if (text != NULL)
		push(text, strlen(text));
}

void
events_shutdown(void)
{
	pthread_mutex_lock(&ev_lock);
	closing = 1;
	wake_all();
	pthread_mutex_unlock(&ev_lock);
}

int
events_clients(void)
{
	int n;

	pthread_mutex_lock(&ev_lock);
	n = nclients;
	pthread_mutex_unlock(&ev_lock);
	return n;
}

static ssize_t
reader(void *cls, char *buf, size_t max)
{
	struct client *c = cls;
	size_t used = 0;

	pthread_mutex_lock(&ev_lock);
	if (closing || c->ended) {
		pthread_mutex_unlock(&ev_lock);
		return HTTP_PULL_END;
	}
	if (!c->hello) {
		static const char hello[] = "retry: 3000\n\n";
		if (max < sizeof(hello)) {
			pthread_mutex_unlock(&ev_lock);
			return HTTP_PULL_ERROR;
		}
		memcpy(buf, hello, sizeof(hello) - 1);
		used = sizeof(hello) - 1;
		c->hello = 1;
	}
	if (c->next < oldest_id()) {
		static const char resync[] = "event: resync\ndata: {}\n\n";
		if (max - used < sizeof(resync))
			goto out;
		memcpy(buf + used, resync, sizeof(resync) - 1);
		used += sizeof(resync) - 1;
		c->next = oldest_id();
		c->off = 0;
	}
	while (c->next < next_id && used < max) {
		struct event *e = &ring[c->next % EVENTS_RING];
		size_t n = e->len - c->off;
		if (n > max - used)
			n = max - used;
		memcpy(buf + used, e->text + c->off, n);
		used += n;
		c->off += n;
		if (c->off == e->len) {
			c->next++;
			c->off = 0;
		}
	}
out:
	if (used == 0) {
		/* Nothing to send: stop polling until the next event. */
		c->suspended = 1;
		http_pull_suspend(c->pull);
	}
	pthread_mutex_unlock(&ev_lock);
	return (ssize_t)used;
}

static void
client_free(void *cls)
{
	struct client *c = cls;

	pthread_mutex_lock(&ev_lock);
	if (c->prev)
		c->prev->nextc = c->nextc;
	else
		clients = c->nextc;
	if (c->nextc)
		c->nextc->prev = c->prev;
	nclients--;
	pthread_mutex_unlock(&ev_lock);
	free(c);
}

void
events_stream(struct req *r)
{
	const char *last = http_header(r, "Last-Event-ID");
	struct http_pull *p;
	struct client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		http_reply_error(r, 500, "out of memory");
		return;
	}
	/* Let in by its session cookie (routes.c takes a Bearer first)? */
	if (!conf.api_open_reads && http_header(r, "Authorization") == NULL &&
	    session_cookie_valid(http_cookie(r, SESSION_COOKIE)))
		snprintf(c->cookie, sizeof(c->cookie), "%s",
		    http_cookie(r, SESSION_COOKIE));
	pthread_mutex_lock(&ev_lock);
	if (nclients >= EVENTS_CLIENTS_MAX || closing) {
		pthread_mutex_unlock(&ev_lock);
		free(c);
		http_reply_error(r, 503, "too many event streams (%d)",
		    EVENTS_CLIENTS_MAX);
		return;
	}
	c->next = next_id;
	if (last != NULL) {
		char *end;
		unsigned long long id = strtoull(last, &end, 10);
		if (*last != '\0' && *end == '\0' && id < next_id)
			c->next = id + 1;	/* below the ring: resync */
	}
	c->nextc = clients;
	if (clients)
		clients->prev = c;
	clients = c;
	nclients++;
	pthread_mutex_unlock(&ev_lock);

	/* c is the reply's from here on (client_free runs when it ends);
	 * reader runs on this thread once the handler has returned, so c has
	 * its pull before it can be suspended. */
	http_add_header(r, "Cache-Control", "no-store");
	http_add_header(r, "X-Accel-Buffering", "no");
	p = http_reply_pull(r, 200, "text/event-stream", HTTP_SIZE_UNKNOWN,
	    EVENTS_BLOCK, reader, client_free, c);
	if (p == NULL)
		return;
	pthread_mutex_lock(&ev_lock);
	c->pull = p;
	pthread_mutex_unlock(&ev_lock);
}
