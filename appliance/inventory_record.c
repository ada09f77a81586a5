/*
 * inventory_record.c — a node's inventories kept: each one the agent
 * posted (checked by inventory.c) stored with its history, compared with
 * the one before, its changes made events of the job, an "inventory"
 * event and the node's flag; GET's answer; and enrolment, an inventory
 * job for a new server in a slot (its link came up and it has a power
 * method, or it boots the network and rackd knows nothing of it), and the
 * mark of a slot without a power method whose link went away and came
 * back (another server may be in it): its next network boot that would
 * boot the disk inventories it first (boot.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"

/* ---- records ------------------------------------------------------------- */

int
inventory_record(const char *slot, int64_t job, const json_t *inv)
{
	json_t *last = db_inventory_last(slot), *changes = json_array(), *ev;
	char *text = NULL, *ctext = NULL, line[JOB_MESSAGE_MAX];
	int n = 0, rc = -1;
	size_t i;
	json_t *c;

	if (changes == NULL)
		goto out;
	/* The agent's POST again (its answer was lost): recorded already. */
	if (last != NULL && json_integer_value(json_object_get(last, "job")) ==
	    job) {
		rc = 0;
		goto out;
	}
	if (last != NULL)
		n = inventory_compare(json_object_get(last, "inventory"), inv,
		    changes);
	if ((text = json_dumps(inv, JSON_COMPACT)) == NULL ||
	    (ctext = json_dumps(changes, JSON_COMPACT)) == NULL)
		goto out;
	if (db_inventory_add(slot, job, text, ctext, n > 0,
	    INVENTORY_HISTORY_MAX) != DB_OK)
		goto out;
	rc = 0;
	if (last == NULL)
		db_job_event(job, "inventory: the first of this slot");
	else if (n == 0)
		db_job_event(job, "inventory: the same hardware as before");
	json_array_foreach(changes, i, c) {
		snprintf(line, sizeof(line), "inventory changed: %s",
		    json_string_value(c));
		db_job_event(job, line);
		log_info("slot %s: inventory changed: %s", slot,
		    json_string_value(c));
	}
	ev = json_pack("{s:s,s:I,s:b,s:O}", "slot", slot, "job",
	    (json_int_t)job, "changed", n > 0, "changes", changes);
	if (ev != NULL)
		events_publish("inventory", ev);
	jobs_publish(job);
	nodes_publish(slot);
out:
	free(text);
	free(ctext);
	json_decref(changes);
	json_decref(last);
	return rc;
}

json_t *
inventory_json(const char *slot)
{
	json_t *o = db_inventory_last(slot), *h;

	if (o == NULL)
		return NULL;
	if ((h = db_inventory_history(slot, INVENTORY_HISTORY_MAX)) == NULL)
		h = json_array();
	json_object_set_new(o, "history", h);
	return o;
}

/* ---- enrolment ----------------------------------------------------------- */

int
inventory_node_new(const char *slot)
{
	json_t *jobs;
	int n, none;

	if ((n = db_inventory_count(slot)) < 0)
		return DB_ERROR;
	if (n > 0)
		return DB_NO;
	if ((jobs = db_jobs_list(slot, NULL, 1)) == NULL)
		return DB_ERROR;
	none = json_array_size(jobs) == 0;
	json_decref(jobs);
	return none ? DB_YES : DB_NO;
}

int
inventory_enrol(const char *slot, const char *why)
{
	json_t *s;
	unsigned caps;
	struct db_job job;
	char err[ERR_MAX];
	int64_t id;
	int rc;

	if (!conf.enrol)
		return 0;
	s = power_settings_get(slot);
	caps = power_caps(s);
	json_decref(s);
	if (!(caps & (POWER_CAN(POWER_ON) | POWER_CAN(POWER_CYCLE)))) {
		log_info("slot %s: %s; without a power method, %s", slot, why,
		    inventory_node_new(slot) == DB_YES ? "its inventory waits "
		    "for its next network boot" : "it is inventoried at a "
		    "network boot once its link went away and came back "
		    "(enrol_relink)");
		return 0;
	}
	if ((rc = db_job_active(slot, &job)) == DB_OK)
		return 0;		/* it is being worked on */
	if (rc != DB_NOTFOUND)
		return -1;
	rc = jobs_create_clone(slot, JOB_INVENTORY, NULL, NULL, &id, err,
	    sizeof(err));
	if (rc != JOB_OK) {
		log_warnx("slot %s: %s, but no inventory job: %s", slot, why,
		    err);
		return rc == JOB_BUSY ? 0 : -1;
	}
	snprintf(err, sizeof(err), "enrolment: %s", why);
	db_job_event(id, err);
	log_info("slot %s: %s: inventory job %lld", slot, why, (long long)id);
	return 1;
}

void
inventory_relinked(const char *slot, int64_t down_ms)
{
	struct db_job job;
	json_t *s;
	unsigned caps;

	if (!conf.enrol || down_ms < (int64_t)conf.enrol_relink * 1000)
		return;		/* a reboot's blink, not a server swapped */
	s = power_settings_get(slot);
	caps = power_caps(s);
	json_decref(s);
	if (caps & (POWER_CAN(POWER_ON) | POWER_CAN(POWER_CYCLE)))
		return;		/* its new MAC's lease enrols it (dnsmasq.c) */
	if (db_job_active(slot, &job) == DB_OK)
		return;		/* the job's own reboots */
	if (db_node_set_enrol_at_boot(slot, 1) != DB_OK)
		return;		/* marked already, or no node */
	log_info("slot %s: its link was down %llds and is back: another "
	    "server may be in it; its next network boot inventories it first",
	    slot, (long long)(down_ms / 1000));
	nodes_publish(slot);
}
