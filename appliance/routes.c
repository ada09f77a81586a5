/*
 * routes.c — what rackd serves and to whom: the route table (method, path
 * pattern, who may call it, how its body is read, its handler), the
 * authorization of each request before its handler runs, and the fallback
 * to the dashboard's files. http.c gets all of it through rackd_routes and
 * names no handler itself, so the server sits below everything it serves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "appliance/rackd.h"

/* Who may call a route (struct route's access). */
enum route_access {
	ACCESS_NONE,	/* chunks, boot files, health, the dashboard's files */
	ACCESS_READ,	/* token or session, unless api_open_reads */
	ACCESS_WRITE,	/* token, or session and its CSRF token */
	ACCESS_AGENT,	/* the job's own token */
	ACCESS_NOTE,	/* the same, or for a while after a cancel */
};

#define NONE	ACCESS_NONE
#define READ	ACCESS_READ
#define WRITE	ACCESS_WRITE
#define AGENT	ACCESS_AGENT
#define NOTE	ACCESS_NOTE
#define B_NONE	HTTP_BODY_NONE
#define B_JSON	HTTP_BODY_JSON
#define B_STRM	HTTP_BODY_STREAM

static const struct route table[] = {
	{ "GET", "/healthz", NONE, B_NONE, api_healthz, "healthz" },
	{ "GET", "/metrics", NONE, B_NONE, api_metrics, "metrics" },
	{ "GET", "/api/v1/nodes", READ, B_NONE, api_nodes_list, "nodes" },
	{ "GET", "/api/v1/nodes/*", READ, B_NONE, api_node_get, "node" },
	{ "PATCH", "/api/v1/nodes/*", WRITE, B_JSON, api_node_patch,
	  "node_patch" },
	{ "POST", "/api/v1/nodes/*/reimage", WRITE, B_JSON, api_node_reimage,
	  "node_reimage" },
	{ "POST", "/api/v1/nodes/*/erase", WRITE, B_JSON, api_node_erase,
	  "node_erase" },
	{ "POST", "/api/v1/nodes/*/capture", WRITE, B_JSON, api_node_capture,
	  "node_capture" },
	{ "GET", "/api/v1/nodes/*/links", READ, B_NONE, api_node_links,
	  "node_links" },
	{ "GET", "/api/v1/nodes/*/console", READ, B_NONE, console_api_stream,
	  "console" },
	{ "POST", "/api/v1/nodes/*/console", WRITE, B_JSON, console_api_input,
	  "console_input" },
	{ "POST", "/api/v1/nodes/*/power", WRITE, B_JSON, api_node_power,
	  "node_power" },
	{ "GET", "/api/v1/nodes/*/inventory", READ, B_NONE,
	  inventory_api_get, "node_inventory" },
	{ "POST", "/api/v1/nodes/*/inventory", WRITE, B_JSON,
	  inventory_api_start, "node_inventory_start" },
	{ "POST", "/api/v1/nodes/*/inventory/ack", WRITE, B_JSON,
	  inventory_api_ack, "node_inventory_ack" },
	{ "POST", "/api/v1/session", NONE, B_JSON, session_signin,
	  "session_signin" },
	{ "GET", "/api/v1/session", NONE, B_NONE, session_status, "session" },
	{ "DELETE", "/api/v1/session", NONE, B_NONE, session_signout,
	  "session_signout" },
	{ "GET", "/api/v1/images", READ, B_NONE, api_images_list, "images" },
	{ "GET", "/api/v1/images/*", READ, B_NONE, api_image_get, "image" },
	{ "GET", "/api/v1/images/*/versions/*", READ, B_NONE,
	  api_image_manifest, "image_manifest" },
	{ "POST", "/api/v1/images/*/versions/*", WRITE, B_STRM, push_manifest,
	  "push_manifest" },
	{ "POST", "/api/v1/images/*/versions/*/commit", WRITE, B_NONE,
	  push_commit, "push_commit" },
	{ "DELETE", "/api/v1/images/*/versions/*", WRITE, B_NONE, push_delete,
	  "image_delete" },
	{ "GET", "/api/v1/pushes", READ, B_NONE, push_list, "pushes" },
	{ "POST", "/api/v1/images/pull", WRITE, B_JSON, pull_api_start,
	  "pull_start" },
	{ "GET", "/api/v1/pulls", READ, B_NONE, pull_api_list, "pulls" },
	{ "GET", "/api/v1/pulls/*", READ, B_NONE, pull_api_get, "pull" },
	{ "PUT", "/api/v1/chunks/*", WRITE, B_STRM, push_chunk, "push_chunk" },
	{ "GET", "/api/v1/jobs", READ, B_NONE, api_jobs_list, "jobs" },
	{ "GET", "/api/v1/jobs/*", READ, B_NONE, api_job_get, "job" },
	{ "GET", "/api/v1/jobs/*/console", READ, B_NONE, console_api_job_log,
	  "job_console" },
	{ "GET", "/api/v1/job-states", READ, B_NONE, api_job_states,
	  "job_states" },
	{ "POST", "/api/v1/jobs/*/cancel", WRITE, B_JSON, api_job_cancel,
	  "job_cancel" },
	{ "GET", "/api/v1/events", READ, B_NONE, events_stream, "events" },
	{ "GET", "/api/v1/agent/jobs/*", AGENT, B_NONE, agent_job_get,
	  "agent_job" },
	{ "POST", "/api/v1/agent/jobs/*/report", AGENT, B_JSON,
	  agent_job_report, "agent_report" },
	{ "POST", "/api/v1/agent/jobs/*/event", NOTE, B_JSON,
	  agent_job_event, "agent_event" },
	{ "POST", "/api/v1/agent/jobs/*/capture/start", AGENT, B_JSON,
	  capture_start, "capture_start" },
	{ "POST", "/api/v1/agent/jobs/*/capture/manifest", AGENT, B_STRM,
	  capture_manifest, "capture_manifest" },
	{ "PUT", "/api/v1/agent/jobs/*/capture/chunks/*", AGENT, B_STRM,
	  capture_chunk, "capture_chunk" },
	{ "POST", "/api/v1/agent/jobs/*/capture/commit", AGENT, B_NONE,
	  capture_commit, "capture_commit" },
	{ "POST", "/api/v1/agent/jobs/*/inventory", AGENT, B_JSON,
	  inventory_api_agent, "agent_inventory" },
	{ "GET", "/chunks/*", NONE, B_NONE, chunks_serve, "chunk" },
	{ "GET", "/boot/*", NONE, B_NONE, boot_script, "boot" },
	{ "GET", "/boot/*/overlay", NONE, B_NONE, diskless_overlay,
	  "diskless_overlay" },
	{ "GET", "/boot/*/rootfs", NONE, B_NONE, diskless_stream,
	  "diskless_rootfs" },
	{ "GET", "/pxe/*", NONE, B_NONE, boot_file, "pxe" },
};
#undef NONE
#undef READ
#undef WRITE
#undef AGENT
#undef NOTE
#undef B_NONE
#undef B_JSON
#undef B_STRM

static const char *
bearer(struct req *r)
{
	const char *h = http_header(r, "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

/* The API token, or the dashboard's session (and its CSRF token for a
 * write). */
static enum http_verdict
authorize_operator(struct req *r, int write)
{
	const char *cookie = http_cookie(r, SESSION_COOKIE);
	const char *tok = bearer(r);

	if (tok == NULL && cookie != NULL) {
		switch (session_check(cookie, http_header(r, CSRF_HEADER),
		    write)) {
		case SESSION_OK:
			return HTTP_ALLOW;
		case SESSION_BAD_CSRF:
			http_reply_error(r, 403, "a write with the dashboard's "
			    "session needs its %s header", CSRF_HEADER);
			return HTTP_REFUSED;
		case SESSION_NONE:
			break;
		}
		http_reply_error(r, 401, "the dashboard session has ended; "
		    "sign in again");
		return HTTP_REFUSED;
	}
	if (tok != NULL && auth_check_api(tok))
		return HTTP_ALLOW;
	http_reply_error(r, 401, tok ? "invalid token" :
	    "this needs Authorization: Bearer TOKEN");
	return HTTP_REFUSED;
}

/* The token of the job named by the route's first parameter, while the
 * job is active; for a note, also for a while after a cancel
 * (cancel_note.c). */
static enum http_verdict
authorize_agent(struct req *r, int note)
{
	const char *tok = bearer(r), *param = http_param(r, 0);
	int64_t id;
	int rc;
	char *end;

	errno = 0;
	id = param != NULL ? strtoll(param, &end, 10) : 0;
	if (tok == NULL || id <= 0 || *end != '\0' || errno != 0 ||
	    (rc = (note ? cancel_note_check : jobs_token_check)(id, tok)) ==
	    JOB_BAD ||
	    rc == JOB_NO_JOB || rc == JOB_ERROR) {
		http_reply_error(r, 401, "this needs the job's own token");
		return HTTP_REFUSED;
	}
	if (rc == JOB_ILLEGAL) {
		http_reply_error(r, 409, "job %lld has ended", (long long)id);
		return HTTP_REFUSED;
	}
	http_set_agent_job(r, id);
	return HTTP_ALLOW;
}

/* Runs with the configuration read-locked. A management link serves what
 * nodes fetch (boot files, chunks, the agent's endpoints), not the
 * operator's API or dashboard. */
static enum http_verdict
authorize(struct req *r, const struct route *rt)
{
	switch ((enum route_access)rt->access) {
	case ACCESS_NONE:
		return HTTP_ALLOW;
	case ACCESS_READ:
		if (http_node_side(r))
			return HTTP_NOT_ON_LINK;
		if (conf.api_open_reads)
			return HTTP_ALLOW;
		return authorize_operator(r, 0);
	case ACCESS_WRITE:
		if (http_node_side(r))
			return HTTP_NOT_ON_LINK;
		return authorize_operator(r, 1);
	case ACCESS_AGENT:
	case ACCESS_NOTE:
		return authorize_agent(r, rt->access == ACCESS_NOTE);
	}
	http_reply_error(r, 500, "internal error: a route without access");
	return HTTP_REFUSED;
}

const struct http_routes rackd_routes = {
	.v = table,
	.n = sizeof(table) / sizeof(table[0]),
	.authorize = authorize,
	.fallback = static_file,
	.no_fallback = "/api/",
};
