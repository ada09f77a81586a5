/*
 * jobs.c — the job state machine of docs/design.md, and the only creator
 * of jobs:
 *
 *	queued -> booting -> streaming -> verifying -> done
 *	   any state but done -> failed (with a reason)
 *
 * The states are an enum that indexes the transition matrix and the one
 * table of their names and words (the API's state strings, and the
 * dashboard's text through GET /api/v1/job-states). Each action (reimage,
 * diskless) has its rules in one table: the image kind it takes and
 * whether the image must fit in RAM (rootfs_max_size); jobs_create applies
 * them, and catalog.c's trust rule, before a job is recorded.
 *
 * One active job per node (the database enforces it too). Every transition
 * is a row in the job's event log. Jobs outlive a restart of rackd; a node
 * that does not call in within boot_timeout, or an agent silent for
 * agent_timeout, fails its job with a reason; a reimage's server with a
 * power method is first power-cycled once more (power_run.c).
 *
 * The power actions (power_on, power_off, power_cycle) take no image and
 * go from queued to done or failed once their op ran on a work thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"
#include "images/manifest.h"

static const struct {
	const char	*name;		/* in the database and the API */
	const char	*text;		/* the dashboard's words for it */
} states[JOB_STATES] = {
	[JOB_QUEUED] = { "queued",
	    "Queued: waiting for the server to boot from the network" },
	[JOB_BOOTING] = { "booting", "Booting the clone environment" },
	[JOB_STREAMING] = { "streaming", "Writing the image" },
	[JOB_VERIFYING] = { "verifying", "Verifying what was written" },
	[JOB_DONE] = { "done", "Done" },
	[JOB_FAILED] = { "failed", "Failed" },
};

/* The words of a state for an action whose work is not writing an image
 * (the table above says what a reimage does); GET /api/v1/job-states
 * gives them as each state's "actions". */
static const struct {
	enum job_action	 action;
	enum job_state	 state;
	const char	*text;
} action_words[] = {
	{ JOB_CAPTURE, JOB_STREAMING,
	    "Reading the disk and uploading what the rack lacks" },
	{ JOB_CAPTURE, JOB_VERIFYING, "The rack checks the captured image" },
	{ JOB_ERASE, JOB_STREAMING, "Erasing the disk" },
	{ JOB_ERASE, JOB_VERIFYING, "Checking the erased disk" },
	{ JOB_INVENTORY, JOB_STREAMING, "Reading the server's hardware" },
	{ JOB_INVENTORY, JOB_VERIFYING, "Storing the inventory" },
};

/* allowed[from][to] */
static const unsigned char allowed[JOB_STATES][JOB_STATES] = {
	/*               q  b  s  v  d  f */
	/* queued    */ { 0, 1, 0, 0, 0, 1 },
	/* booting   */ { 0, 0, 1, 0, 0, 1 },
	/* streaming */ { 0, 0, 0, 1, 0, 1 },
	/* verifying */ { 0, 0, 0, 0, 1, 1 },
	/* done      */ { 0, 0, 0, 0, 0, 0 },
	/* failed    */ { 0, 0, 0, 0, 0, 0 },
};

/* What each action takes. A power action (kind NULL) takes no image:
 * its job goes from queued to done or failed once power_run.c ran it. */
static const struct {
	const char	*name;		/* in the database and the API */
	const char	*kind;		/* the image kind it runs */
	int		 in_ram;	/* the image must fit rootfs_max_size */
	const char	*other;		/* why another kind is refused */
	enum power_op	 op;		/* of a power action */
	int		 clone;		/* runs rack-agent in the clone env */
} actions[JOB_ACTIONS] = {
	[JOB_REIMAGE] = { "reimage", "disk", 0, "it is not written to disks "
	    "but booted diskless (PATCH the node's image and boot_mode)", 0,
	    1 },
	[JOB_DISKLESS] = { "diskless", "rootfs", 1, "a diskless node runs a "
	    "rootfs image (or set boot_mode local)", 0, 0 },
	[JOB_POWER_ON] = { "power_on", NULL, 0, NULL, POWER_ON, 0 },
	[JOB_POWER_OFF] = { "power_off", NULL, 0, NULL, POWER_OFF, 0 },
	[JOB_POWER_CYCLE] = { "power_cycle", NULL, 0, NULL, POWER_CYCLE, 0 },
	[JOB_INVENTORY] = { "inventory", NULL, 0, NULL, 0, 1 },
	[JOB_CAPTURE] = { "capture", NULL, 0, NULL, 0, 1 },
	[JOB_ERASE] = { "erase", NULL, 0, NULL, 0, 1 },
};

/* A power op's job that has not ended within this long never will
 * (rackd's own work queue lost it): failed. */
#define POWER_JOB_LOST_MS	(3 * 60 * 1000)

/* Jobs cycled once more for want of a boot (jobs_tick's thread only). */
static struct {
	int64_t	 id;
	int64_t	 at;		/* ms */
} retried[SLOTS_MAX];

static int64_t started_ms;

int
job_action_power(const char *action)
{
	for (int i = 0; action != NULL && i < JOB_ACTIONS; i++)
		if (actions[i].kind == NULL && !actions[i].clone &&
		    strcmp(actions[i].name, action) == 0)
			return 1;
	return 0;
}

int
job_action_clone(const char *action)
{
	for (int i = 0; action != NULL && i < JOB_ACTIONS; i++)
		if (actions[i].clone && strcmp(actions[i].name, action) == 0)
			return 1;
	return 0;
}

int
job_state_from_name(const char *s)
{
	for (int i = 0; s != NULL && i < JOB_STATES; i++)
		if (strcmp(states[i].name, s) == 0)
			return i;
	return -1;
}

const char *
job_state_name(enum job_state st)
{
	return st >= 0 && st < JOB_STATES ? states[st].name : NULL;
}

int
job_state_valid(const char *state)
{
	return job_state_from_name(state) >= 0;
}

static int
allowed_from(int f, int t)
{
	return f >= 0 && t >= 0 && allowed[f][t];
}

/* A state the matrix leaves no way out of. */
static int
terminal(int st)
{
	if (st < 0)
		return 0;
	for (int t = 0; t < JOB_STATES; t++)
		if (allowed[st][t])
			return 0;
	return 1;
}

int
job_state_terminal(const char *state)
{
	return terminal(job_state_from_name(state));
}

int
job_transition_allowed(const char *from, const char *to)
{
	return allowed_from(job_state_from_name(from),
	    job_state_from_name(to));
}

json_t *
jobs_states_json(void)
{
	json_t *a = json_array(), *o;

	for (int i = 0; a != NULL && i < JOB_STATES; i++) {
		o = json_pack("{s:s,s:s,s:b,s:{}}", "name", states[i].name,
		    "text", states[i].text, "terminal", terminal(i), "actions");
		for (size_t k = 0; o != NULL && k < sizeof(action_words) /
		    sizeof(action_words[0]); k++)
			if (action_words[k].state == (enum job_state)i)
				json_object_set_new(json_object_get(o,
				    "actions"),
				    actions[action_words[k].action].name,
				    json_string(action_words[k].text));
		if (o == NULL || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
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
transition(const struct db_job *j, enum job_state to, const char *reason,
    const char *message)
{
	int rc;

	if (!allowed_from(job_state_from_name(j->state), to) &&
	    !(job_action_power(j->action) && to == JOB_DONE &&
	    job_state_from_name(j->state) == JOB_QUEUED))
		return JOB_ILLEGAL;
	rc = db_job_set_state(j->id, j->state, states[to].name, reason,
	    message);
	if (rc != DB_OK)
		return job_error(rc);
	log_info("job %lld (%s %s): %s -> %s%s%s", (long long)j->id, j->action,
	    j->slot, j->state, states[to].name, reason ? ": " : "",
	    reason ? reason : "");
	if (to == JOB_DONE &&
	    strcmp(j->action, actions[JOB_REIMAGE].name) == 0)
		db_node_update(j->slot, NULL, j->image, "local");
	/* Its disk next: at the clone environment's first report (the
	 * network boot is used; see power_disk_next) and at done. */
	if ((to == JOB_STREAMING || to == JOB_DONE) &&
	    job_action_clone(j->action))
		power_disk_next(j->slot);
	/* Inventoried: a mark of boot.c's enrolment is used up. */
	if (terminal(to) && strcmp(j->action, actions[JOB_INVENTORY].name) ==
	    0)
		db_node_set_enrol_at_boot(j->slot, 0);
	jobs_publish(j->id);
	nodes_publish(j->slot);
	grubcfg_slot(j->slot);		/* what its GRUB boots */
	return JOB_OK;
}

const char *
job_action_name(enum job_action a)
{
	return a >= 0 && a < JOB_ACTIONS ? actions[a].name : NULL;
}

int
jobs_image_check(enum job_action action, const char *ref, char *image,
    size_t imagelen, uint64_t *size, char *why, size_t len)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char resolved[IMAGE_NAME_MAX + 1], full[IMAGE_REF_MAX + 1];
	char kind[IMAGE_KIND_MAX] = "", err[ERR_MAX];
	uint64_t sz;
	int rc;

	if (action < 0 || action >= JOB_ACTIONS || ref == NULL ||
	    actions[action].kind == NULL ||
	    image_ref_parse(ref, name, version, err, sizeof(err)) != 0) {
		snprintf(why, len, "image: not a valid \"name[:version]\"");
		return JOB_BAD;
	}
	rc = db_image_resolve(name, version, resolved, sizeof(resolved), &sz);
	if (rc != DB_OK) {
		snprintf(why, len, "image %s is not on this rack", ref);
		return rc == DB_NOTFOUND ? JOB_NO_IMAGE : JOB_ERROR;
	}
	snprintf(full, sizeof(full), "%s:%s", name, resolved);
	if (catalog_image_kind(full, kind, sizeof(kind)) != 0) {
		snprintf(why, len, "image %s is not on this rack", ref);
		return JOB_NO_IMAGE;
	}
	if (strcmp(kind, actions[action].kind) != 0) {
		snprintf(why, len, "image %s is a %s image: %s", ref, kind,
		    actions[action].other);
		return JOB_WRONG_KIND;
	}
	if (actions[action].in_ram && sz > (uint64_t)conf.rootfs_max_size) {
		snprintf(why, len, "image %s holds %llu bytes, more than "
		    "rootfs_max_size (%llu): a diskless node runs it from RAM",
		    ref, (unsigned long long)sz,
		    (unsigned long long)conf.rootfs_max_size);
		return JOB_TOO_BIG;
	}
	if (image != NULL)
		snprintf(image, imagelen, "%s", full);
	if (size != NULL)
		*size = sz;
	return JOB_OK;
}

int
jobs_create(const char *slot, enum job_action action, const char *ref,
    int64_t *id, char *why, size_t len)
{
	char image[IMAGE_REF_MAX + 1], token[TOKEN_HEX + 1];
	char owner[SLOT_NAME_MAX + 1];
	uint64_t size;
	int rc;

	/* A bad ref is JOB_BAD from jobs_image_check, after the node. */
	if ((rc = db_node_exists(slot)) != 1) {
		snprintf(why, len, "no such node: %s", slot);
		return rc == 0 ? JOB_NO_NODE : JOB_ERROR;
	}
	if (slot_bmc_of(slot, owner, sizeof(owner)) == 0) {
		snprintf(why, len, "slot %s is the BMC of slot %s: it boots "
		    "nothing (reimage slot %s)", slot, owner, owner);
		return JOB_BMC;
	}
	if ((rc = jobs_image_check(action, ref, image, sizeof(image), &size,
	    why, len)) != JOB_OK)
		return rc;
	switch (catalog_image_trusted(image, why, len)) {
	case CATALOG_OK:
		break;
	case CATALOG_UNSIGNED:
	case CATALOG_UNTRUSTED:
		log_warnx("%s of %s refused: %s", actions[action].name, slot,
		    why);
		return JOB_UNTRUSTED;
	case CATALOG_NO_IMAGE:
		return JOB_NO_IMAGE;
	default:
		log_warnx("%s of %s refused: %s", actions[action].name, slot,
		    why);
		return JOB_ERROR;
	}
	auth_random_hex(token);
	rc = db_job_create(slot, actions[action].name, image, token,
	    (int64_t)size, id);
	if (rc != DB_OK) {
		snprintf(why, len, rc == DB_CONFLICT ? "node %s already has an "
		    "active job" : "cannot create the job", slot);
		return rc == DB_CONFLICT ? JOB_BUSY : JOB_ERROR;
	}
	log_info("job %lld: %s of %s with %s queued", (long long)*id,
	    actions[action].name, slot, image);
	/* A diskless job is made by the node's own boot: it is up. */
	if (action == JOB_REIMAGE)
		power_boot_job(*id, slot, 0);
	jobs_publish(*id);
	nodes_publish(slot);
	grubcfg_slot(slot);		/* what its GRUB boots */
	return JOB_OK;
}

static unsigned
power_caps_of(const char *slot)
{
	json_t *s = power_settings_get(slot);
	unsigned caps = power_caps(s);

	json_decref(s);
	return caps;
}

int
jobs_diskless_start(const char *slot, int64_t *id, char *why, size_t len)
{
	struct db_job j;
	json_t *node;
	char ref[IMAGE_REF_MAX + 1] = "";
	int rc;

	*id = 0;
	if (power_caps_of(slot) == 0)
		return JOB_OK;	/* it boots diskless when switched on */
	if ((node = db_node_get(slot)) == NULL) {
		snprintf(why, len, "no such node: %s", slot);
		return JOB_NO_NODE;
	}
	snprintf(ref, sizeof(ref), "%s", json_string_value(json_object_get(
	    node, "image")) ? json_string_value(json_object_get(node,
	    "image")) : "");
	json_decref(node);
	if (ref[0] == '\0')
		return JOB_OK;	/* no image: it boots its local disk */
	/* A diskless boot not begun yet gives way to this one. */
	if (db_job_active(slot, &j) == DB_OK && strcmp(j.action,
	    actions[JOB_DISKLESS].name) == 0 &&
	    job_state_from_name(j.state) == JOB_QUEUED)
		jobs_cancel(j.id, "a new diskless boot");
	if ((rc = jobs_create(slot, JOB_DISKLESS, ref, id, why, len)) !=
	    JOB_OK)
		return rc;
	power_boot_job(*id, slot, 0);
	return JOB_OK;
}

int
jobs_create_power(const char *slot, enum job_action action, int64_t *id,
    char *why, size_t len)
{
	char token[TOKEN_HEX + 1];
	int rc;

	if (action < 0 || action >= JOB_ACTIONS ||
	    actions[action].kind != NULL) {
		snprintf(why, len, "not a power action");
		return JOB_BAD;
	}
	if ((rc = db_node_exists(slot)) != 1) {
		snprintf(why, len, "no such node: %s", slot);
		return rc == 0 ? JOB_NO_NODE : JOB_ERROR;
	}
	auth_random_hex(token);
	rc = db_job_create(slot, actions[action].name, NULL, token, 0, id);
	if (rc != DB_OK) {
		snprintf(why, len, rc == DB_CONFLICT ? "node %s already has an "
		    "active job" : "cannot create the job", slot);
		return rc == DB_CONFLICT ? JOB_BUSY : JOB_ERROR;
	}
	log_info("job %lld: %s of %s queued", (long long)*id,
	    actions[action].name, slot);
	jobs_publish(*id);
	nodes_publish(slot);
	power_job_start(*id, slot, actions[action].op);
	return JOB_OK;
}

int
jobs_create_clone(const char *slot, enum job_action action, const char *image,
    json_t *params, int64_t *id, char *why, size_t len)
{
	char token[TOKEN_HEX + 1], owner[SLOT_NAME_MAX + 1], *text = NULL;
	int rc;

	if (action < 0 || action >= JOB_ACTIONS || !actions[action].clone ||
	    actions[action].kind != NULL) {
		snprintf(why, len, "not an action of the clone environment");
		return JOB_BAD;
	}
	if ((rc = db_node_exists(slot)) != 1) {
		snprintf(why, len, "no such node: %s", slot);
		return rc == 0 ? JOB_NO_NODE : JOB_ERROR;
	}
	if (slot_bmc_of(slot, owner, sizeof(owner)) == 0) {
		snprintf(why, len, "slot %s is the BMC of slot %s: it has no "
		    "disk of its own (ask slot %s)", slot, owner, owner);
		return JOB_BMC;
	}
	if (params != NULL && (!json_is_object(params) ||
	    (text = json_dumps(params, JSON_COMPACT)) == NULL)) {
		snprintf(why, len, "the action's parameters are not an object");
		return JOB_BAD;
	}
	auth_random_hex(token);
	rc = db_job_create_params(slot, actions[action].name, image, text,
	    token, 0, id);
	free(text);
	if (rc != DB_OK) {
		snprintf(why, len, rc == DB_CONFLICT ? "node %s already has an "
		    "active job" : "cannot create the job", slot);
		return rc == DB_CONFLICT ? JOB_BUSY : JOB_ERROR;
	}
	log_info("job %lld: %s of %s%s%s queued", (long long)*id,
	    actions[action].name, slot, image ? " as " : "",
	    image ? image : "");
	power_boot_job(*id, slot, 0);
	jobs_publish(*id);
	nodes_publish(slot);
	grubcfg_slot(slot);		/* what its GRUB boots */
	return JOB_OK;
}

int
jobs_power_end(int64_t id, const char *reason)
{
	struct db_job j;
	int rc;

	if ((rc = db_job_get(id, &j)) != DB_OK)
		return job_error(rc);
	if (!job_action_power(j.action))
		return JOB_ILLEGAL;
	if (reason == NULL)
		return transition(&j, JOB_DONE, NULL, "power op done");
	return transition(&j, JOB_FAILED, reason, NULL);
}

int
jobs_cancel(int64_t id, const char *who)
{
	struct db_job j;
	char reason[JOB_REASON_MAX];
	json_t *before;
	int rc;

	if ((rc = db_job_get(id, &j)) != DB_OK)
		return job_error(rc);
	if (job_state_terminal(j.state))
		return JOB_ILLEGAL;
	before = db_job_json(id);	/* its state and progress: the note */
	snprintf(reason, sizeof(reason), "cancelled by %s", who);
	if ((rc = transition(&j, JOB_FAILED, reason, NULL)) == JOB_OK &&
	    before != NULL)
		cancel_note_write(before);	/* what the disk holds */
	json_decref(before);
	return rc;
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
	char msg[JOB_MESSAGE_MAX];
	int rc, to = job_state_from_name(state), from;

	if (to < 0 || done < 0 || fetched < 0 || rate < 0)
		return JOB_BAD;
	if (to == JOB_FAILED && (reason == NULL || *reason == '\0'))
		return JOB_BAD;
	if ((rc = db_job_get(id, &j)) != DB_OK)
		return job_error(rc);
	from = job_state_from_name(j.state);
	if (from < 0 || terminal(from) ||
	    (to != from && !allowed_from(from, to) &&
	    !(from == JOB_QUEUED && allowed_from(JOB_BOOTING, to))))
		return JOB_ILLEGAL;	/* checked before anything is written */
	/* An agent that calls in has booted, whether or not rackd saw the
	 * boot script fetched (it may have restarted in between). */
	if (from == JOB_QUEUED && to != JOB_QUEUED && to != JOB_BOOTING &&
	    to != JOB_FAILED) {
		rc = transition(&j, JOB_BOOTING, NULL, "agent called in");
		if (rc != JOB_OK)
			return rc;
		snprintf(j.state, sizeof(j.state), "%s",
		    states[JOB_BOOTING].name);
		from = JOB_BOOTING;
	}
	if ((rc = db_job_progress(id, done, fetched, rate)) != DB_OK)
		return job_error(rc);
	if (to == from) {
		jobs_publish(id);
		return JOB_OK;
	}
	snprintf(msg, sizeof(msg), "%s: %lld bytes written, %lld fetched",
	    state, (long long)done, (long long)fetched);
	return transition(&j, to, to == JOB_FAILED ? reason : NULL,
	    to == JOB_FAILED ? reason : msg);
}

int
jobs_set_total(int64_t id, int64_t total)
{
	if (total <= 0)
		return JOB_BAD;
	return db_job_set_total(id, total) == DB_OK ? JOB_OK : JOB_ERROR;
}

int
jobs_node_booting(const char *slot)
{
	json_t *list = db_jobs_list(slot, states[JOB_QUEUED].name, 1);
	struct db_job j;
	int rc = JOB_NO_JOB;

	if (list != NULL && json_array_size(list) == 1) {
		int64_t id = json_integer_value(json_object_get(
		    json_array_get(list, 0), "id"));
		if (db_job_get(id, &j) == DB_OK &&
		    !job_action_power(j.action)) {
			db_job_seen(id);
			rc = transition(&j, JOB_BOOTING, NULL,
			    "boot script fetched");
		}
	}
	json_decref(list);
	return rc;
}

static int
recover_one(const struct db_job *j, void *arg)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char why[ERR_MAX];

	if (job_action_power(j->action)) {
		transition(j, JOB_FAILED, "rackd restarted before the power op "
		    "ended", NULL);
		return 0;
	}
	if (strcmp(j->action, actions[JOB_REIMAGE].name) == 0 &&
	    (image_ref_parse(j->image, name, version, why, sizeof(why)) != 0 ||
	    !db_image_exists(name, version))) {
		transition(j, JOB_FAILED, "image no longer on this rack", NULL);
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

/* When the job was cycled once more for want of a boot; 0 never. */
static int64_t
retry_at(int64_t id)
{
	for (size_t i = 0; i < SLOTS_MAX; i++)
		if (retried[i].id == id)
			return retried[i].at;
	return 0;
}

static void
retry_mark(int64_t id, int64_t now)
{
	size_t oldest = 0;

	for (size_t i = 0; i < SLOTS_MAX; i++)
		if (retried[i].at < retried[oldest].at)
			oldest = i;
	retried[oldest].id = id;
	retried[oldest].at = now;
}

static int
check_timeout(const struct db_job *j, void *arg)
{
	int64_t now = *(int64_t *)arg, last = j->created;
	char reason[JOB_REASON_MAX];
	int st = job_state_from_name(j->state);

	if (job_action_power(j->action)) {
		if (now - j->created >= POWER_JOB_LOST_MS)
			transition(j, JOB_FAILED, "the power op did not end",
			    NULL);
		return 0;
	}
	if (j->seen > last)
		last = j->seen;
	if (started_ms > last)
		last = started_ms;
	if (st == JOB_QUEUED || st == JOB_BOOTING) {
		if (retry_at(j->id) > last)
			last = retry_at(j->id);
		if (now - last < (int64_t)conf.boot_timeout * 1000)
			return 0;
		if (retry_at(j->id) == 0 && power_caps_of(j->slot) != 0) {
			retry_mark(j->id, now);
			power_boot_job(j->id, j->slot, 1);
			return 0;
		}
		snprintf(reason, sizeof(reason), "no boot: the node did not "
		    "call in within %ds", conf.boot_timeout);
	} else {
		if (now - last < (int64_t)conf.agent_timeout * 1000)
			return 0;
		snprintf(reason, sizeof(reason), "agent silent for %ds",
		    conf.agent_timeout);
	}
	transition(j, JOB_FAILED, reason, NULL);
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
