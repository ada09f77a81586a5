/*
 * inventory_api.c — the inventory's endpoints: GET
 * /api/v1/nodes/{slot}/inventory (the newest record and the history),
 * POST .../inventory (an inventory job), POST .../inventory/ack (the
 * operator has seen the change), and the agent's POST
 * /api/v1/agent/jobs/ID/inventory with what it read.
 */
#include <stdio.h>
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"

/* {slot} of the URL naming a node, or a 400/404 reply and NULL. */
static const char *
node_param(struct req *r)
{
	const char *slot = http_param(r, 0);
	int rc;

	if (slot == NULL || !slot_name_valid(slot)) {
		http_reply_error(r, 400, "not a slot name");
		return NULL;
	}
	if ((rc = db_node_exists(slot)) != DB_YES) {
		http_reply_error(r, rc == DB_NO ? 404 : 500, rc == DB_NO ?
		    "no such node: %s" : "database error (%s)", slot);
		return NULL;
	}
	return slot;
}

void
inventory_api_get(struct req *r)
{
	const char *slot = node_param(r);
	json_t *o;

	if (slot == NULL)
		return;
	if ((o = inventory_json(slot)) == NULL) {
		http_reply_error(r, 404, "slot %s has no inventory yet (POST "
		    "/api/v1/nodes/%s/inventory reads it)", slot, slot);
		return;
	}
	http_reply_json(r, 200, o);
}

void
inventory_api_start(struct req *r)
{
	const char *slot = node_param(r);
	char why[ERR_MAX];
	size_t len;
	int64_t id;
	int rc;

	if (slot == NULL)
		return;
	/* No parameters: an empty body or {}. */
	if (http_body(r, &len) != NULL && len > 0) {
		json_t *body = http_json_body(r);
		size_t n;
		if (body == NULL)
			return;
		n = json_object_size(body);
		json_decref(body);
		if (n != 0) {
			http_reply_error(r, 400, "an inventory takes no "
			    "parameters: no body, or {}");
			return;
		}
	}
	rc = jobs_create_clone(slot, JOB_INVENTORY, NULL, NULL, &id, why,
	    sizeof(why));
	api_reply_clone_job(r, rc, id, slot, why);
}

void
inventory_api_ack(struct req *r)
{
	const char *slot = node_param(r);
	int rc;

	if (slot == NULL)
		return;
	rc = db_inventory_ack(slot);
	if (rc != DB_OK && rc != DB_NOTFOUND) {
		http_reply_error(r, 500, "database error");
		return;
	}
	if (rc == DB_OK) {
		log_info("slot %s: inventory change acknowledged", slot);
		nodes_publish(slot);
	}
	http_reply_json(r, 200, json_pack("{s:s,s:b,s:b}", "slot", slot,
	    "changed", 0, "was_changed", rc == DB_OK));
}

void
inventory_api_agent(struct req *r)
{
	int64_t id = http_agent_job(r);
	char err[ERR_MAX];
	struct db_job job;
	const char *body;
	json_t *inv;
	size_t len;

	if (db_job_get(id, &job) != DB_OK) {
		http_reply_error(r, 404, "no such job");
		return;
	}
	if (strcmp(job.action, job_action_name(JOB_INVENTORY)) != 0) {
		http_reply_error(r, 409, "job %lld is a %s job, not an "
		    "inventory", (long long)id, job.action);
		return;
	}
	if ((body = http_body(r, &len)) == NULL || len == 0) {
		http_reply_error(r, 400, "the body must be the inventory");
		return;
	}
	if (inventory_parse(body, len, &inv, err, sizeof(err)) != 0) {
		log_warnx("job %lld: slot %s: an inventory refused: %s",
		    (long long)id, job.slot, err);
		http_reply_error(r, 400, "inventory refused: %s", err);
		return;
	}
	if (inventory_record(job.slot, id, inv) != 0) {
		json_decref(inv);
		http_reply_error(r, 500, "cannot store the inventory");
		return;
	}
	json_decref(inv);
	http_reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}
