/*
 * power_api.c — POST /api/v1/nodes/{slot}/power {"action": "on" | "off" |
 * "cycle" | "status"}. on, off and cycle make a power job (202 and the
 * job; power_run.c runs it on a work thread); status asks the method at
 * once, on a work thread, and answers 200 with the state. That call
 * holds no configuration lock (http_defer_unlocked: a BMC that does not
 * answer keeps it for up to POWER_TIMEOUT_MS, and a SIGHUP's reload must
 * not wait for it), and at most POWER_ASKS_RUNNING_MAX run at once; more
 * are 503 (GET /api/v1/nodes/{slot} has the cached state). A slot without
 * a method, or whose method cannot do it, is 409.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "appliance/rackd.h"
#include "db/db.h"

static const struct {
	const char	*name;
	enum power_op	 op;
	enum job_action	 action;
} actions[] = {
	{ "on", POWER_ON, JOB_POWER_ON },
	{ "off", POWER_OFF, JOB_POWER_OFF },
	{ "cycle", POWER_CYCLE, JOB_POWER_CYCLE },
	{ "status", POWER_STATUS, JOB_ACTIONS },
};

struct status_ctx {
	char	 slot[SLOT_NAME_MAX + 1];
};

static pthread_mutex_t a_lock = PTHREAD_MUTEX_INITIALIZER;
static int asking;	/* status calls of POST .../power running */

/* One more status call may start: 1 (counted), or 0. */
static int
ask_take(void)
{
	int ok;

	pthread_mutex_lock(&a_lock);
	if ((ok = asking < POWER_ASKS_RUNNING_MAX))
		asking++;
	pthread_mutex_unlock(&a_lock);
	return ok;
}

static void
ask_done(void)
{
	pthread_mutex_lock(&a_lock);
	asking--;
	pthread_mutex_unlock(&a_lock);
}

static void
status_deferred(struct req *r, void *arg)
{
	struct status_ctx *c = arg;
	enum power_state st = POWER_UNKNOWN;
	char err[POWER_ERR_MAX];

	if (power_run_now(c->slot, POWER_STATUS, &st, err, sizeof(err)) != 0)
		http_reply_error(r, 502, "%s", err);
	else
		http_reply_json(r, 200, json_pack("{s:s,s:s,s:I}", "slot",
		    c->slot, "state", power_state_name(st), "checked",
		    (json_int_t)time(NULL)));
	free(c);
	ask_done();
}

/* 0 when slot's method can op; else a 409 reply and -1. */
static int
can_check(struct req *r, const char *slot, enum power_op op)
{
	json_t *s = power_settings_get(slot);
	const char *method = power_setting_str(s, "method", "?");
	const char *note = power_method_note(method);
	unsigned caps = power_caps(s);
	char can[ERR_MAX], owner[SLOT_NAME_MAX + 1];

	if (s == NULL && slot_bmc_of(slot, owner, sizeof(owner)) == 0) {
		http_reply_error(r, 409, "slot %s is the BMC of slot %s: power "
		    "the server through slot %s", slot, owner, owner);
		return -1;
	}
	if (s == NULL) {
		http_reply_error(r, 409, "no power method for slot %s: switch "
		    "the server on by hand now", slot);
		return -1;
	}
	if (!(caps & POWER_CAN(op))) {
		power_caps_text(caps, can, sizeof(can));
		http_reply_error(r, 409, "the %s method of slot %s cannot %s; "
		    "it can: %s%s%s%s", method, slot, power_op_name(op), can,
		    note ? " (" : "", note ? note : "", note ? ")" : "");
		json_decref(s);
		return -1;
	}
	json_decref(s);
	return 0;
}

void
api_node_power(struct req *r)
{
	const char *slot = http_param(r, 0), *name;
	struct status_ctx *c;
	char why[ERR_MAX];
	json_t *body;
	size_t i, n = sizeof(actions) / sizeof(actions[0]);
	int64_t id;
	int rc;

	if (slot == NULL || !slot_name_valid(slot)) {
		http_reply_error(r, 400, "not a slot name");
		return;
	}
	if ((rc = db_node_exists(slot)) != 1) {
		http_reply_error(r, rc == 0 ? 404 : 500, rc == 0 ?
		    "no such node: %s" : "database error (%s)", slot);
		return;
	}
	if ((body = http_json_body(r)) == NULL)
		return;
	name = json_string_value(json_object_get(body, "action"));
	for (i = 0; name != NULL && i < n; i++)
		if (strcmp(actions[i].name, name) == 0)
			break;
	json_decref(body);
	if (name == NULL || i == n) {
		http_reply_error(r, 400, "body must be {\"action\": \"on\", "
		    "\"off\", \"cycle\" or \"status\"}");
		return;
	}
	if (can_check(r, slot, actions[i].op) != 0)
		return;
	if (actions[i].op == POWER_STATUS) {
		if (!ask_take()) {
			http_add_header(r, "Retry-After", "5");
			http_reply_error(r, 503, "%d power status calls run "
			    "already: try again, or read the cached state in "
			    "GET /api/v1/nodes/%s", POWER_ASKS_RUNNING_MAX,
			    slot);
			return;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			ask_done();
			http_reply_error(r, 500, "out of memory");
			return;
		}
		snprintf(c->slot, sizeof(c->slot), "%s", slot);
		if (http_defer_unlocked(r, status_deferred, c) != 0) {
			free(c);	/* http_defer has replied */
			ask_done();
		}
		return;
	}
	rc = jobs_create_power(slot, actions[i].action, &id, why, sizeof(why));
	if (rc == JOB_OK)
		http_reply_json(r, 202, db_job_json(id));
	else if (rc == JOB_BUSY)
		http_reply_error(r, 409, "%s", why);
	else if (rc == JOB_NO_NODE)
		http_reply_error(r, 404, "%s", why);
	else
		http_reply_error(r, 500, "cannot create the power job");
}
