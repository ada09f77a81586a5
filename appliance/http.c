/*
 * http.c — the HTTP server (libmicrohttpd, polled in its own thread or a
 * pool): request limits, dispatch by the route table it is given
 * (routes.c's, with its authorize and fallback callbacks), deferral to
 * the work threads, and the reply helpers every handler uses: JSON, text,
 * files (sendfile) and bodies made in pieces by a callback. It is the
 * only file that calls libmicrohttpd, and it names no handler: what is
 * served, and to whom, is routes.c's. Errors are JSON {"error": "..."}
 * with the right status.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "appliance/rackd.h"

struct req {
	struct MHD_Connection	*conn;
	const char		*method;
	const char		*url;
	const struct route	*route;
	const char		*route_name;
	char			 pbuf[URL_MAX];
	const char		*params[ROUTE_PARAMS_MAX];
	char			*body;
	size_t			 body_len;
	size_t			 body_max;
	int			 status;	/* 0 until a reply is queued */
	int			 overflow;
	int			 stream_stopped;
	int64_t			 agent_job;
	uint64_t		 streamed;	/* bytes of a file reply */
	int			 node_side;	/* on a management link */
	struct http_stream	 stream;	/* a streamed body's taker */
	uint64_t		 discarded;	/* body bytes past the limit */
	struct work		 work;		/* http_defer's queue link */
	void			(*defer_fn)(struct req *, void *);
	void			*defer_ctx;
	int			 defer_unlocked;	/* no conf_rdlock */
	int			 in_worker;	/* replies held, not queued */
	struct MHD_Response	*held;		/* queued once resumed */
	int			 held_status;
	int			 nxh;		/* extra reply headers */
	char			 xh_name[REPLY_HEADERS_MAX][REPLY_NAME_MAX];
	char			 xh_value[REPLY_HEADERS_MAX][REPLY_HEADER_MAX];
};

/* A body made in pieces (http_reply_pull): the caller's reader and the
 * connection it may suspend, freed with the response. */
struct http_pull {
	struct MHD_Connection	*conn;
	http_pull_fn		 read;
	void			(*release)(void *);
	void			*ctx;
};

static struct MHD_Daemon *daemon_h;
static const struct http_routes *served;	/* http_start's */

/* ---- replies ---------------------------------------------------------- */

static void
add_common_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
}

/* Queue resp (or hold it, on a work thread) with the extra headers. */
static int
reply_response(struct req *r, int status, struct MHD_Response *resp)
{
	int rc = 0;

	if (r->status != 0) {
		log_warnx("http: %s %s: second reply dropped", r->method,
		    r->url);
		MHD_destroy_response(resp);
		return -1;
	}
	add_common_headers(resp);
	for (int i = 0; i < r->nxh; i++)
		MHD_add_response_header(resp, r->xh_name[i], r->xh_value[i]);
	r->status = status;
	if (r->in_worker) {
		/* The connection is suspended: the HTTP thread queues this
		 * when it takes the connection back. */
		r->held = resp;
		r->held_status = status;
		return 0;
	}
	if (MHD_queue_response(r->conn, (unsigned int)status, resp) !=
	    MHD_YES) {
		log_warnx("http: %s %s: cannot queue reply", r->method, r->url);
		rc = -1;
	}
	MHD_destroy_response(resp);	/* a reply not queued is freed here */
	return rc;
}

static void
reply_buffer(struct req *r, int status, const char *ctype, char *buf,
    size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(buf);
		return;
	}
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	reply_response(r, status, resp);
}

void
http_reply_json(struct req *r, int status, json_t *body)
{
	char *text;

	if (body == NULL) {
		http_reply_error(r, 500, "internal error (see the log)");
		return;
	}
	text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(body);
	if (text == NULL) {
		http_reply_error(r, 500, "out of memory");
		return;
	}
	size_t n = strlen(text);
	char *withnl = realloc(text, n + 2);
	if (withnl == NULL) {
		free(text);
		http_reply_error(r, 500, "out of memory");
		return;
	}
	withnl[n] = '\n';
	withnl[n + 1] = '\0';
	reply_buffer(r, status, "application/json", withnl, n + 1);
}

void
http_reply_error(struct req *r, int status, const char *fmt, ...)
{
	char msg[HTTP_ERROR_MAX];
	json_t *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (status >= 500)
		log_warnx("http: %s %s: %d %s", r->method, r->url, status, msg);
	o = json_pack("{s:s}", "error", msg);
	if (o == NULL) {
		static char oom[] = "{\"error\":\"out of memory\"}\n";
		struct MHD_Response *resp = MHD_create_response_from_buffer(
		    sizeof(oom) - 1, oom, MHD_RESPMEM_PERSISTENT);
		if (resp != NULL)
			reply_response(r, 500, resp);
		return;
	}
	http_reply_json(r, status, o);
}

void
http_reply_text(struct req *r, int status, const char *ctype,
    const char *text)
{
	char *copy = strdup(text);

	if (copy == NULL) {
		http_reply_error(r, 500, "out of memory");
		return;
	}
	reply_buffer(r, status, ctype, copy, strlen(copy));
}

void
http_reply_empty(struct req *r, int status)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (resp != NULL)
		reply_response(r, status, resp);
}

void
http_reply_file(struct req *r, int status, int fd, uint64_t off,
    uint64_t len, const char *ctype)
{
	struct MHD_Response *resp;

	/* fd responses go out with sendfile; MHD closes fd when done. */
	resp = MHD_create_response_from_fd_at_offset64(len, fd, (int64_t)off);
	if (resp == NULL) {
		close(fd);
		http_reply_error(r, 500, "cannot send the file");
		return;
	}
	if (ctype != NULL)
		MHD_add_response_header(resp, "Content-Type", ctype);
	reply_response(r, status, resp);
}

static ssize_t
pull_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_pull *p = cls;
	ssize_t n;

	(void)pos;
	n = p->read(p->ctx, buf, max);
	if (n == HTTP_PULL_END)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n;
}

static void
pull_free(void *cls)
{
	struct http_pull *p = cls;

	if (p->release != NULL)
		p->release(p->ctx);
	free(p);
}

struct http_pull *
http_reply_pull(struct req *r, int status, const char *ctype, uint64_t size,
    size_t block, http_pull_fn read, void (*release)(void *), void *ctx)
{
	struct MHD_Response *resp;
	struct http_pull *p;

	if (r->status != 0) {		/* p would be gone at once */
		log_warnx("http: %s %s: second reply dropped", r->method,
		    r->url);
		if (release != NULL)
			release(ctx);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		if (release != NULL)
			release(ctx);
		http_reply_error(r, 500, "out of memory");
		return NULL;
	}
	p->conn = r->conn;
	p->read = read;
	p->release = release;
	p->ctx = ctx;
	resp = MHD_create_response_from_callback(size == HTTP_SIZE_UNKNOWN ?
	    MHD_SIZE_UNKNOWN : size, block, pull_read, p, pull_free);
	if (resp == NULL) {
		pull_free(p);
		http_reply_error(r, 500, "out of memory");
		return NULL;
	}
	if (ctype != NULL)
		MHD_add_response_header(resp, "Content-Type", ctype);
	/* Not queued: the response is gone, and with it p (release ran). */
	return reply_response(r, status, resp) == 0 ? p : NULL;
}

void
http_pull_suspend(struct http_pull *p)
{
	MHD_suspend_connection(p->conn);
}

void
http_pull_resume(struct http_pull *p)
{
	MHD_resume_connection(p->conn);
}

/* ---- request accessors ------------------------------------------------ */

const char *
http_param(struct req *r, int i)
{
	return i >= 0 && i < ROUTE_PARAMS_MAX ? r->params[i] : NULL;
}

const char *
http_query(struct req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *
http_header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
http_method(struct req *r)
{
	return r->method;
}

const char *
http_url(struct req *r)
{
	return r->url;
}

const char *
http_body(struct req *r, size_t *len)
{
	*len = r->body_len;
	return r->body ? r->body : "";
}

int
http_node_side(struct req *r)
{
	return r->node_side;
}

const char *
http_cookie(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

int
http_add_header(struct req *r, const char *name, const char *value)
{
	if (r->nxh >= REPLY_HEADERS_MAX ||
	    strlen(name) >= sizeof(r->xh_name[0]) ||
	    strlen(value) >= sizeof(r->xh_value[0])) {
		log_warnx("http: %s %s: reply header %s dropped", r->method,
		    r->url, name);
		return -1;
	}
	snprintf(r->xh_name[r->nxh], sizeof(r->xh_name[0]), "%s", name);
	snprintf(r->xh_value[r->nxh], sizeof(r->xh_value[0]), "%s", value);
	r->nxh++;
	return 0;
}

int64_t
http_agent_job(struct req *r)
{
	return r->agent_job;
}

void
http_set_agent_job(struct req *r, int64_t id)
{
	r->agent_job = id;
}

int
http_client_addr(struct req *r, struct sockaddr_storage *ss)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return -1;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, ci->client_addr, ci->client_addr->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	return 0;
}

void
http_stream_add(struct req *r, uint64_t bytes)
{
	r->streamed += bytes;
}

/* 0 if the Content-Length, when sent, is within r->body_max; else a 413. */
static int
length_within(struct req *r)
{
	const char *cl = http_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;

	if (cl == NULL)
		return 0;
	errno = 0;
	n = strtoull(cl, &end, 10);
	if (errno != 0 || *end != '\0' || n > r->body_max) {
		http_reply_error(r, 413, "request body over %zu bytes",
		    r->body_max);
		return -1;
	}
	return 0;
}

int
http_stream_body(struct req *r, const struct http_stream *s)
{
	if (r->route == NULL || r->route->body != HTTP_BODY_STREAM ||
	    s->done == NULL || r->status != 0) {
		http_reply_error(r, 500, "internal error: no body to stream");
		return -1;
	}
	r->stream = *s;		/* release runs from here on */
	r->body_max = s->max;
	return length_within(r);
}

int
http_defer(struct req *r, void (*fn)(struct req *, void *ctx), void *ctx)
{
	if (r->status != 0 || r->defer_fn != NULL || r->in_worker) {
		http_reply_error(r, 500, "internal error: cannot defer");
		return -1;
	}
	r->defer_fn = fn;
	r->defer_ctx = ctx;
	return 0;
}

int
http_defer_unlocked(struct req *r, void (*fn)(struct req *, void *ctx),
    void *ctx)
{
	if (http_defer(r, fn, ctx) != 0)
		return -1;
	r->defer_unlocked = 1;
	return 0;
}

/* On a work thread: the deferred part, then the connection back to the
 * HTTP thread (access_cb queues the held reply). */
static void
deferred_run(struct work *w)
{
	struct req *r = (struct req *)((char *)w - offsetof(struct req, work));

	if (!r->defer_unlocked)
		conf_rdlock();
	r->in_worker = 1;
	r->defer_fn(r, r->defer_ctx);
	if (r->status == 0)
		http_reply_error(r, 500, "no reply from handler");
	r->in_worker = 0;
	if (!r->defer_unlocked)
		conf_unlock();
	MHD_resume_connection(r->conn);
}

/* After a handler: hand a deferred request to the work threads. */
static void
maybe_defer(struct req *r)
{
	if (r->defer_fn == NULL || r->status != 0 || r->work.fn != NULL)
		return;
	MHD_suspend_connection(r->conn);	/* before it can be resumed */
	r->work.fn = deferred_run;
	work_submit(&r->work);
}

/* A piece of a streamed body. -1: close the connection. */
static int
stream_piece(struct req *r, const char *data, size_t n)
{
	if (r->overflow || n > r->stream.max - r->body_len) {
		/* Past the limit: discard (413 at the end), but not forever. */
		r->overflow = 1;
		r->discarded += n;
		return r->discarded > r->stream.max ? -1 : 0;
	}
	r->body_len += n;
	if (!r->stream_stopped && r->stream.data != NULL &&
	    r->stream.data(r, r->stream.ctx, data, n) != 0)
		r->stream_stopped = 1;	/* the rest is discarded */
	return 0;
}

json_t *
http_json_body(struct req *r)
{
	json_error_t jerr;
	json_t *o;

	if (r->body_len == 0) {
		http_reply_error(r, 400, "a JSON object body is required");
		return NULL;
	}
	o = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		http_reply_error(r, 400, "body is not JSON: %s (line %d)",
		    jerr.text, jerr.line);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		http_reply_error(r, 400, "body must be a JSON object");
		return NULL;
	}
	return o;
}

/* ---- routing ---------------------------------------------------------- */

/* Match path against pattern; captured segments go to r->params. */
static int
route_match(const char *pattern, const char *path, struct req *r)
{
	const char *p = pattern, *u = path;
	char *out = r->pbuf, *end = r->pbuf + sizeof(r->pbuf);
	int np = 0;

	while (*p != '\0' && *u != '\0') {
		if (*p == '*') {
			const char *seg_end = strchr(u, '/');
			size_t n = seg_end ? (size_t)(seg_end - u) : strlen(u);
			if (n == 0 || np >= ROUTE_PARAMS_MAX ||
			    out + n + 1 > end)
				return 0;
			memcpy(out, u, n);
			out[n] = '\0';
			r->params[np++] = out;
			out += n + 1;
			u += n;
			p++;
			continue;
		}
		if (*p != *u)
			return 0;
		p++;
		u++;
	}
	return *p == '\0' && *u == '\0';
}

static int
method_matches(const char *want, const char *have)
{
	if (strcmp(want, have) == 0)
		return 1;
	return strcmp(want, "GET") == 0 && strcmp(have, "HEAD") == 0;
}

/* Find the route; *allowed lists methods of a path matched by another. */
static const struct route *
route_find(struct req *r, char *allowed, size_t alen, int *path_known)
{
	const struct route *found = NULL;

	*path_known = 0;
	allowed[0] = '\0';
	for (size_t i = 0; i < served->n; i++) {
		const struct route *rt = &served->v[i];
		if (!route_match(rt->pattern, r->url, r))
			continue;
		*path_known = 1;
		if (strstr(allowed, rt->method) == NULL) {
			size_t used = strlen(allowed);
			snprintf(allowed + used, alen - used, "%s%s",
			    used ? ", " : "", rt->method);
			if (strcmp(rt->method, "GET") == 0 &&
			    strlen(allowed) + 6 < alen)
				strcat(allowed, ", HEAD");
		}
		if (found == NULL && method_matches(rt->method, r->method))
			found = rt;
	}
	if (found != NULL)	/* match again: params of the route found */
		route_match(found->pattern, r->url, r);
	return found;
}

struct head_size {
	int	 n;		/* header fields */
	size_t	 bytes;		/* "key: value\r\n" of each */
};

static int
count_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct head_size *hs = cls;

	hs->n++;
	hs->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

/* Not served on a management link's listener: 404. */
static int
not_on_link(struct req *r)
{
	r->route_name = "node_side";
	http_reply_error(r, 404, "not served on a management link: %s", r->url);
	return 0;
}

/* First call for a request: limits, route, authorize. 1: read the body. */
static int
request_start(struct req *r)
{
	char allowed[HTTP_ALLOW_MAX];
	struct head_size hs = { 0, 0 };
	int path_known;

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND,
	    (MHD_KeyValueIterator)count_header, &hs);
	if (hs.n > conf.max_headers) {
		r->route_name = "limits";
		http_reply_error(r, 431, "more than %d header fields",
		    conf.max_headers);
		return 0;
	}
	if (hs.bytes + strlen(r->url) > conf.max_header_bytes) {
		r->route_name = "limits";
		http_reply_error(r, 431, "request head over %zu bytes",
		    conf.max_header_bytes);
		return 0;
	}
	if (strlen(r->url) >= URL_MAX) {
		r->route_name = "limits";
		http_reply_error(r, 414, "URL longer than %d bytes", URL_MAX);
		return 0;
	}
	r->route = route_find(r, allowed, sizeof(allowed), &path_known);
	if (r->route == NULL) {
		/* A management link's listener serves routes only. */
		if (r->node_side)
			return not_on_link(r);
		if (!path_known && (served->no_fallback == NULL ||
		    strncmp(r->url, served->no_fallback,
		    strlen(served->no_fallback)) != 0) &&
		    (strcmp(r->method, "GET") == 0 ||
		    strcmp(r->method, "HEAD") == 0)) {
			r->route_name = "static";
			return 1;	/* the dashboard's files */
		}
		r->route_name = path_known ? "method" : "unknown";
		if (path_known) {
			http_add_header(r, "Allow", allowed);
			http_reply_error(r, 405, "%s is not allowed here; "
			    "allowed: %s", r->method, allowed);
		} else
			http_reply_error(r, 404, "no such resource: %s",
			    r->url);
		return 0;
	}
	r->route_name = r->route->name;
	switch (served->authorize(r, r->route)) {
	case HTTP_ALLOW:
		break;
	case HTTP_NOT_ON_LINK:
		return not_on_link(r);
	case HTTP_REFUSED:
		if (r->status == 0)
			http_reply_error(r, 500, "refused without a reply");
		return 0;
	}
	if (r->route->body == HTTP_BODY_STREAM) {
		r->route->fn(r);	/* replies at once or takes the body */
		if (r->status == 0 && r->stream.done == NULL &&
		    r->defer_fn == NULL)
			http_reply_error(r, 500, "no reply from handler");
		return r->status == 0;
	}
	r->body_max = r->route->body == HTTP_BODY_JSON ? conf.max_body : 0;
	return length_within(r) == 0;
}

static int
body_append(struct req *r, const char *data, size_t n)
{
	if (n > r->body_max - r->body_len) {
		r->overflow = 1;
		return 0;
	}
	if (r->body == NULL && (r->body = malloc(r->body_max + 1)) == NULL)
		return -1;
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return 0;
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **con_cls)
{
	struct req *r = *con_cls;

	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		r->conn = conn;
		r->method = method;
		r->url = url;
		r->node_side = cls != NULL;
		*con_cls = r;
		conf_rdlock();
		if (!request_start(r)) {
			conf_unlock();
			return r->status ? MHD_YES : MHD_NO;
		}
		conf_unlock();
		return MHD_YES;
	}
	if (r->held != NULL) {		/* back from a work thread */
		if (MHD_queue_response(conn, (unsigned int)r->held_status,
		    r->held) != MHD_YES)
			log_warnx("http: %s %s: cannot queue reply", r->method,
			    r->url);
		MHD_destroy_response(r->held);
		r->held = NULL;
		return MHD_YES;
	}
	if (r->work.fn != NULL && r->status == 0)	/* deferred, no reply */
		return MHD_NO;
	if (r->status != 0) {		/* replied early: drop any body */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		if (r->stream.done != NULL) {
			if (stream_piece(r, upload_data, *upload_size) != 0)
				return MHD_NO;
		} else if (body_append(r, upload_data, *upload_size) != 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->overflow) {
		http_reply_error(r, 413, "request body over %zu bytes",
		    r->body_max);
		return MHD_YES;
	}
	conf_rdlock();
	if (r->stream.done != NULL)
		r->stream.done(r, r->stream.ctx);
	else if (r->route != NULL)
		r->route->fn(r);
	else
		served->fallback(r);	/* the dashboard's files */
	conf_unlock();
	if (r->defer_fn != NULL)
		maybe_defer(r);
	else if (r->status == 0)
		http_reply_error(r, 500, "no reply from handler");
	return MHD_YES;
}

static void
completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	if (r == NULL)
		return;
	metrics_request(r->route_name ? r->route_name : "unknown",
	    r->status ? r->status : 0);
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && r->streamed)
		metrics_streamed(r->streamed);
	if (r->stream.release != NULL)
		r->stream.release(r->stream.ctx);
	if (r->held != NULL)
		MHD_destroy_response(r->held);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug("http: %s", msg);
}

static struct MHD_Daemon *
start_daemon(const struct sockaddr_storage *ss, int fd, int node_side,
    int threads)
{
	/* poll(2), not epoll: under heavy load libmicrohttpd 0.9.75's
	 * edge-triggered epoll mode was seen to leave complete keep-alive
	 * requests unread for the whole idle timeout (3 runs in 70 of the
	 * 200-client test); level-triggered poll cannot miss them, and costs
	 * nothing measurable at a rack's few hundred connections. Turbo:
	 * read and write before asking poll, which a sendfile stream cut in
	 * libmicrohttpd's 128 KiB pieces gains from (1 client: 0.88 -> 0.96
	 * of nginx's rate in tests/bench/chunks.sh). */
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    MHD_USE_TURBO |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	/* The connection's memory pool holds the request head and the
	 * write buffer; the head limit is what the option names. */
	size_t memlimit = conf.max_header_bytes + HTTP_WRITE_BUFFER;

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(flags, 0, NULL, NULL, access_cb,
	    node_side ? (void *)1 : NULL,
	    fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_SOCK_ADDR,
	    fd >= 0 ? (void *)(intptr_t)fd : (void *)ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)conf.max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)conf.idle_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, memlimit,
	    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)HTTP_BACKLOG,
	    MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned int)(threads > 1 ? threads : 0),
	    MHD_OPTION_END);
}

int
http_start(const struct http_routes *routes, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	served = routes;
	if (config_parse_listen(conf.listen, &ss, &sl, err, errlen) != 0)
		return -1;
	if (work_start(conf.work_threads, err, errlen) != 0)
		return -1;
	daemon_h = start_daemon(&ss, -1, 0, conf.http_threads);
	if (daemon_h == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s%s", conf.listen,
		    errno ? strerror(errno) : "libmicrohttpd failed",
		    errno == EACCES && geteuid() != 0 ? " (rackd runs as "
		    "its user: take a port from 1024 up)" : "");
		return -1;
	}
	log_info("listening on http://%s/", conf.listen);
	return 0;
}

/* Listeners on the board's address of each management link, when the
 * main one does not already cover it (IPv4 0.0.0.0, or that very
 * address; an IPv6 listen address never covers it). */
static struct {
	char			 addr[INET_ADDRSTRLEN];
	struct MHD_Daemon	*d;
} node_listeners[SLOTS_MAX];
static int nnode_listeners;

int
http_listen_node(const char *addr)
{
	struct sockaddr_storage main_ss, ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	char err[ERR_MAX], host[INET6_ADDRSTRLEN];
	socklen_t sl;
	int fd, one = 1;

	if (config_parse_listen(conf.listen, &main_ss, &sl, err,
	    sizeof(err)) != 0)
		return -1;
	if (main_ss.ss_family == AF_INET) {
		struct in_addr *m = &((struct sockaddr_in *)&main_ss)->sin_addr;
		inet_ntop(AF_INET, m, host, sizeof(host));
		if (m->s_addr == htonl(INADDR_ANY) || strcmp(host, addr) == 0)
			return 0;
	}
	for (int i = 0; i < nnode_listeners; i++)
		if (strcmp(node_listeners[i].addr, addr) == 0)
			return 0;
	if (nnode_listeners >= SLOTS_MAX)
		return -1;
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = main_ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&main_ss)->sin6_port :
	    ((struct sockaddr_in *)&main_ss)->sin_port;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
		return -1;
	/* IP_FREEBIND: the address may not be on its link quite yet. */
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)sin, sizeof(*sin)) != 0 ||
	    listen(fd, HTTP_NODE_BACKLOG) != 0) {
		log_warn("http: cannot listen on %s:%d", addr,
		    ntohs(sin->sin_port));
		close(fd);
		return -1;
	}
	node_listeners[nnode_listeners].d = start_daemon(&ss, fd, 1, 1);
	if (node_listeners[nnode_listeners].d == NULL) {
		close(fd);
		return -1;
	}
	snprintf(node_listeners[nnode_listeners].addr, INET_ADDRSTRLEN, "%s",
	    addr);
	nnode_listeners++;
	log_info("listening for nodes on http://%s:%d/", addr,
	    ntohs(sin->sin_port));
	return 0;
}

void
http_stop(void)
{
	if (daemon_h == NULL)
		return;
	work_stop();		/* deferred requests get their replies */
	for (int i = 0; i < nnode_listeners; i++)
		MHD_stop_daemon(node_listeners[i].d);
	nnode_listeners = 0;
	MHD_stop_daemon(daemon_h);
	daemon_h = NULL;
}
