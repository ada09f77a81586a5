/*
 * jobs.c — the job state machine of DESIGN.md:
 *
 *	queued -> booting -> streaming -> verifying -> done
 *	   any state but done -> failed (with a reason)
 *
 * One active job per node (the database enforces it too). Every transition
 * is a row in the job's event log. Jobs outlive a restart of rackd; a node
 * that does not call in within boot_timeout, or an agent silent for
 * agent_timeout, fails its job with a reason.
 */
#include <stdio.h>
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"
#include "images/manifest.h"

static const char *const states[] = {
	"queued", "booting", "streaming", "verifying", "done", "failed",
};
#define NSTATES (sizeof(states) / sizeof(states[0]))

/* allowed[from][to] */
static const unsigned char allowed[NSTATES][NSTATES] = {
	/*               q  b  s  v  d  f */
	/* queued    */ { 0, 1, 0, 0, 0, 1 },
	/* booting   */ { 0, 0, 1, 0, 0, 1 },
	/* streaming */ { 0, 0, 0, 1, 0, 1 },
	/* verifying */ { 0, 0, 0, 0, 1, 1 },
	/* done      */ { 0, 0, 0, 0, 0, 0 },
	/* failed    */ { 0, 0, 0, 0, 0, 0 },
};

static int64_t started_ms;

static int
state_index(const char *s)
{
	for (size_t i = 0; s != NULL && i < NSTATES; i++)
		if (strcmp(states[i], s) == 0)
			return (int)i;
	return -1;
}

int
job_state_valid(const char *state)
{
	return state_index(state) >= 0;
}

int
job_state_terminal(const char *state)
{
	return state != NULL &&
	    (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0);
}

int
job_transition_allowed(const char *from, const char *to)
{
	int f = state_index(from), t = state_index(to);

	return f >= 0 && t >= 0 && allowed[f][t];
}

void
jobs_publish(int64_t id)
{
	json_t *j = db_job_json(id);

	if (j == NULL)
		return;
	json_object_del(j, "events");
	events_publish("job", j);
}

void
nodes_publish(const char *slot)
{
	json_t *n = db_node_get(slot);

	if (n != NULL)
		events_publish("node", n);
}

static int
job_error(int rc)
{
	switch (rc) {
	case DB_NOTFOUND:
		return JOB_NO_JOB;
	case DB_CONFLICT:
		return JOB_ILLEGAL;
	default:
		return JOB_ERROR;
	}
}

/* Move a job on and tell the listeners. */
static int
transition(const struct db_job *j, const char *to, const char *reason,
    const char *message)
{
	int rc;

	if (!job_transition_allowed(j->state, to))
		return JOB_ILLEGAL;
	rc = db_job_set_state(j->id, j->state, to, reason, message);
	if (rc != DB_OK)
		return job_error(rc);
	log_info("job %lld (%s %s): %s -> %s%s%s", (long long)j->id, j->action,
	    j->slot, j->state, to, reason ? ": " : "", reason ? reason : "");
	if (strcmp(to, "done") == 0 && strcmp(j->action, "reimage") == 0)
		db_node_update(j->slot, NULL, j->image, "local");
	jobs_publish(j->id);
	nodes_publish(j->slot);
	return JOB_OK;
}

int
jobs_reimage(const char *slot, const char *ref, int64_t *id)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char resolved[IMAGE_NAME_MAX + 1], image[IMAGE_REF_MAX + 1];
	char token[TOKEN_HEX + 1], why[256];
	uint64_t size;
	int rc;

	if (image_ref_parse(ref, name, version, why, sizeof(why)) != 0)
		return JOB_BAD;
	if ((rc = db_node_exists(slot)) != 1)
		return rc == 0 ? JOB_NO_NODE : JOB_ERROR;
	rc = db_image_resolve(name, version, resolved, sizeof(resolved), &size);
	if (rc != DB_OK)
		return rc == DB_NOTFOUND ? JOB_NO_IMAGE : JOB_ERROR;
	snprintf(image, sizeof(image), "%s:%s", name, resolved);
	if ((rc = catalog_image_trusted(image, why, sizeof(why))) != 1) {
		if (rc == 0)
			log_warnx("reimage of %s refused: %s", slot, why);
		return rc == 0 ? JOB_UNTRUSTED : JOB_NO_IMAGE;
	}
	auth_random_hex(token);
	rc = db_job_create(slot, "reimage", image, token, (int64_t)size, id);
	if (rc != DB_OK)
		return rc == DB_CONFLICT ? JOB_BUSY : JOB_ERROR;
	log_info("job %lld: reimage %s with %s queued", (long long)*id, slot,
	    image);
	jobs_publish(*id);
	nodes_publish(slot);
	return JOB_OK;
}

int
jobs_cancel(int64_t id, const char *who)
{
	struct db_job j;
	char reason[96];
	int rc;

	if ((rc = db_job_get(id, &j)) != DB_OK)
		return job_error(rc);
	if (job_state_terminal(j.state))
		return JOB_ILLEGAL;
	snprintf(reason, sizeof(reason), "cancelled by %s", who);
	return transition(&j, "failed", reason, NULL);
}

int
jobs_token_check(int64_t id, const char *token)
{
	struct db_job j;
	int rc;

	if ((rc = db_job_get(id, &j)) != DB_OK)
		return job_error(rc);
	if (!auth_token_equal(token, j.token))
		return JOB_BAD;
	return job_state_terminal(j.state) ? JOB_ILLEGAL : JOB_OK;
}

int
jobs_report(int64_t id, const char *state, int64_t done, int64_t fetched,
    int64_t rate, const char *reason)
{
	struct db_job j;
	char msg[160];
	int rc;

	if (!job_state_valid(state) || done < 0 || fetched < 0 || rate < 0)
		return JOB_BAD;
	if (strcmp(state, "failed") == 0 && (reason == NULL || *reason == '\0'))
		return JOB_BAD;
	if ((rc = db_job_get(id, &j)) != DB_OK)
		return job_error(rc);
	if (job_state_terminal(j.state) || (strcmp(state, j.state) != 0 &&
	    !job_transition_allowed(j.state, state) &&
	    !(strcmp(j.state, "queued") == 0 &&
	    job_transition_allowed("booting", state))))
		return JOB_ILLEGAL;	/* checked before anything is written */
	/* An agent that calls in has booted, whether or not rackd saw the
	 * boot script fetched (it may have restarted in between). */
	if (strcmp(j.state, "queued") == 0 && strcmp(state, "queued") != 0 &&
	    strcmp(state, "booting") != 0 && strcmp(state, "failed") != 0) {
		/* Refuse before moving: a refused report changes nothing. */
		if (!job_transition_allowed("booting", state))
			return JOB_ILLEGAL;
		if ((rc = transition(&j, "booting", NULL, "agent called in")) !=
		    JOB_OK)
			return rc;
		snprintf(j.state, sizeof(j.state), "booting");
	}
	if ((rc = db_job_progress(id, done, fetched, rate)) != DB_OK)
		return job_error(rc);
	if (strcmp(state, j.state) == 0) {
		jobs_publish(id);
		return JOB_OK;
	}
	snprintf(msg, sizeof(msg), "%s: %lld bytes written, %lld fetched",
	    state, (long long)done, (long long)fetched);
	return transition(&j, state, strcmp(state, "failed") == 0 ? reason :
	    NULL, strcmp(state, "failed") == 0 ? reason : msg);
}

int
jobs_node_booting(const char *slot)
{
	json_t *list = db_jobs_list(slot, "queued", 1);
	struct db_job j;
	int rc = JOB_NO_JOB;

	if (list != NULL && json_array_size(list) == 1) {
		int64_t id = json_integer_value(json_object_get(
		    json_array_get(list, 0), "id"));
		if (db_job_get(id, &j) == DB_OK) {
			db_job_seen(id);
			rc = transition(&j, "booting", NULL, "boot script fetched");
		}
	}
	json_decref(list);
	return rc;
}

static int
recover_one(const struct db_job *j, void *arg)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1], why[128];

	if (strcmp(j->action, "reimage") == 0 &&
	    (image_ref_parse(j->image, name, version, why, sizeof(why)) != 0 ||
	    !db_image_exists(name, version))) {
		transition(j, "failed", "image no longer on this rack", NULL);
		return 0;
	}
	db_job_event(j->id, "rackd restarted; the job goes on");
	log_info("job %lld (%s %s) resumed in state %s", (long long)j->id,
	    j->action, j->slot, j->state);
	return 0;
}

void
jobs_recover(void)
{
	started_ms = db_now_ms();
	db_jobs_active(recover_one, NULL);
}

static int
check_timeout(const struct db_job *j, void *arg)
{
	int64_t now = *(int64_t *)arg, last = j->created;
	char reason[128];

	if (j->seen > last)
		last = j->seen;
	if (started_ms > last)
		last = started_ms;
	if (strcmp(j->state, "queued") == 0 ||
	    strcmp(j->state, "booting") == 0) {
		if (now - last < (int64_t)conf.boot_timeout * 1000)
			return 0;
		snprintf(reason, sizeof(reason), "no boot: the node did not "
		    "call in within %ds", conf.boot_timeout);
	} else {
		if (now - last < (int64_t)conf.agent_timeout * 1000)
			return 0;
		snprintf(reason, sizeof(reason), "agent silent for %ds",
		    conf.agent_timeout);
	}
	transition(j, "failed", reason, NULL);
	return 0;
}

void
jobs_tick(void)
{
	int64_t now = db_now_ms();

	conf_rdlock();
	db_jobs_active(check_timeout, &now);
	conf_unlock();
}
