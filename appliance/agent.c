/*
 * agent.c — the endpoints the clone agent calls. routes.c has already checked
 * that the bearer token is this job's own and the job is active.
 */
#include <stdio.h>
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"

void
agent_job_get(struct req *r)
{
	int64_t id = http_agent_job(r);
	json_t *job = db_job_json(id), *manifest;
	const char *image, *action;
	char why[ERR_MAX];

	if (job == NULL) {
		http_reply_error(r, 404, "no such job");
		return;
	}
	json_object_del(job, "events");
	action = json_string_value(json_object_get(job, "action"));
	/* Inventory, capture and erase write no image: the job and its
	 * params are all the agent needs. */
	if (action != NULL && job_action_clone(action) &&
	    strcmp(action, job_action_name(JOB_REIMAGE)) != 0) {
		db_job_seen(id);
		http_reply_json(r, 200, job);
		return;
	}
	image = json_string_value(json_object_get(job, "image"));
	/* trusted_keys may have been set since the job was queued. */
	switch (catalog_image_trusted(image, why, sizeof(why))) {
	case CATALOG_UNSIGNED:
	case CATALOG_UNTRUSTED:
	case CATALOG_ERROR:
		json_decref(job);
		jobs_report(id, job_state_name(JOB_FAILED), 0, 0, 0, why);
		http_reply_error(r, 403, "%s", why);
		return;
	default:
		break;		/* trusted, or not in the store: below */
	}
	manifest = catalog_manifest_json(image);
	if (manifest == NULL) {
		json_decref(job);
		http_reply_error(r, 404, "the job's image is not in the store");
		return;
	}
	json_object_set_new(job, "manifest", manifest);
	json_object_set_new(job, "chunks_url", json_string("/chunks/"));
	db_job_seen(id);
	http_reply_json(r, 200, job);
}

static int
get_count(json_t *body, const char *key, int64_t *out)
{
	json_t *v = json_object_get(body, key);

	if (v == NULL) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

void
agent_job_report(struct req *r)
{
	int64_t id = http_agent_job(r), done, fetched, rate, total;
	const char *state, *reason;
	struct db_job job;
	json_t *body;
	int rc;

	if ((body = http_json_body(r)) == NULL)
		return;
	state = json_string_value(json_object_get(body, "state"));
	reason = json_string_value(json_object_get(body, "reason"));
	if (state == NULL || get_count(body, "bytes_done", &done) != 0 ||
	    get_count(body, "bytes_fetched", &fetched) != 0 ||
	    get_count(body, "rate", &rate) != 0 ||
	    get_count(body, "bytes_total", &total) != 0 ||
	    (reason != NULL && strlen(reason) >= DB_REASON_MAX)) {
		json_decref(body);
		http_reply_error(r, 400, "body must be {\"state\": S, "
		    "\"bytes_done\": N, \"bytes_fetched\": N, \"rate\": N, "
		    "\"bytes_total\": N, \"reason\": \"...\"} with counts "
		    ">= 0");
		return;
	}
	/* A node that GRUB booted fetched /boot/SLOT.cmdline, which moved
	 * its job to booting; should that have been missed, its first
	 * report says it booted, too. */
	if (db_job_get(id, &job) == DB_OK &&
	    strcmp(job.state, job_state_name(JOB_QUEUED)) == 0)
		jobs_node_booting(job.slot);
	/* A job made without a size (an erase): the agent's measure. */
	if (total > 0)
		jobs_set_total(id, total);
	rc = jobs_report(id, state, done, fetched, rate, reason);
	/* The clone environment says whether it booted with Secure Boot. */
	if (rc == JOB_OK && json_is_boolean(json_object_get(body,
	    "secure_boot"))) {
		int on = json_is_true(json_object_get(body, "secure_boot"));
		if (db_job_get(id, &job) == DB_OK &&
		    db_node_set_booted_secure(job.slot, on) == DB_OK)
			nodes_publish(job.slot);
	}
	switch (rc) {
	case JOB_OK:
		http_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
		break;
	case JOB_BAD:
		http_reply_error(r, 400, "state must be a job state; failed "
		    "needs a reason");
		break;
	case JOB_ILLEGAL:
		http_reply_error(r, 409, "job %lld cannot go to %s from where "
		    "it is", (long long)id, state);
		break;
	case JOB_NO_JOB:
		http_reply_error(r, 404, "no such job");
		break;
	default:
		http_reply_error(r, 500, "cannot record the report");
		break;
	}
	json_decref(body);	/* after the replies: state points into it */
}

int
agent_parse_event(json_t *body, const char **message, char *why, size_t len)
{
	const char *m = json_string_value(json_object_get(body, "message"));
	size_t n;

	*message = NULL;
	if (!json_is_object(body) || json_object_size(body) != 1 ||
	    m == NULL) {
		snprintf(why, len, "body must be {\"message\": \"...\"}");
		return -1;
	}
	n = strlen(m);
	if (n == 0 || n >= JOB_MESSAGE_MAX ||
	    n != json_string_length(json_object_get(body, "message"))) {
		snprintf(why, len, "message: 1 to %d characters",
		    JOB_MESSAGE_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)m[i] < 0x20 || (unsigned char)m[i] >= 0x7f) {
			snprintf(why, len, "message: printable ASCII only "
			    "(byte %zu is 0x%02x)", i, (unsigned char)m[i]);
			return -1;
		}
	*message = m;
	return 0;
}

/* A note of the agent's for the job's event log: what an action does,
 * or, just after a cancel, what it left on the disk. */
void
agent_job_event(struct req *r)
{
	int64_t id = http_agent_job(r);
	const char *message;
	struct db_job job;
	char why[ERR_MAX], late[JOB_MESSAGE_MAX + 32];
	json_t *body;

	if ((body = http_json_body(r)) == NULL)
		return;
	if (agent_parse_event(body, &message, why, sizeof(why)) != 0) {
		json_decref(body);
		http_reply_error(r, 400, "%s", why);
		return;
	}
	/* A cancelled job's agent says what it left (cancel_note.c). */
	if (db_job_get(id, &job) == DB_OK && job_state_terminal(job.state)) {
		snprintf(late, sizeof(late), "the agent, after the cancel: %s",
		    message);
		message = late;
	}
	if (db_job_get(id, &job) != DB_OK ||
	    db_job_event(id, message) != DB_OK) {
		json_decref(body);
		http_reply_error(r, 500, "cannot record the event");
		return;
	}
	log_info("job %lld (%s of %s): %s", (long long)id, job.action,
	    job.slot, message);
	events_publish("job_event", json_pack("{s:I, s:s, s:s, s:s, s:s}",
	    "job", (json_int_t)id, "slot", job.slot, "action", job.action,
	    "state", job.state, "message", message));
	jobs_publish(id);
	json_decref(body);	/* after its last use: message points into it */
	http_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}
