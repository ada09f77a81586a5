/*
 * db_inventory.c — each node's hardware inventories (what the clone
 * environment read of it), kept with what changed from the one before,
 * and the node's flag that a change waits for an operator's look.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

int
db_inventory_add(const char *slot, int64_t job, const char *json,
    const char *changes, int flag, int keep)
{
	int64_t now = db_now_ms();
	int rc;

	pthread_mutex_lock(&db_lock);
	if ((rc = db_begin()) != DB_OK)
		goto out;
	rc = db_exec("INSERT INTO inventories (slot, job, at, json, changes)"
	    " VALUES (?, ?, ?, ?, ?)", "siiss", slot, job, now, json,
	    changes != NULL ? changes : "[]");
	if (rc == DB_OK && flag)
		rc = db_exec("UPDATE nodes SET inventory_changed = 1,"
		    " updated = ? WHERE slot = ?", "is", now, slot);
	/* The history is bounded: the oldest rows of the slot go. */
	if (rc == DB_OK)
		rc = db_exec("DELETE FROM inventories WHERE slot = ?1 AND id"
		    " NOT IN (SELECT id FROM inventories WHERE slot = ?1"
		    " ORDER BY id DESC LIMIT ?2)", "si", slot, (int64_t)keep);
	rc = db_finish(rc);
out:
	pthread_mutex_unlock(&db_lock);
	return rc;
}

json_t *
db_inventory_last(const char *slot)
{
	return db_select_one("SELECT i.slot, " ISO("i.at") " AS at, i.job,"
	    " CASE WHEN n.inventory_changed THEN 'true' ELSE 'false' END"
	    " AS changed_json, i.json AS inventory_json"
	    " FROM inventories i JOIN nodes n ON n.slot = i.slot"
	    " WHERE i.slot = ? ORDER BY i.id DESC LIMIT 1", "s", slot);
}

json_t *
db_inventory_history(const char *slot, int limit)
{
	return db_select("SELECT " ISO("at") " AS at, job,"
	    " changes AS changes_json FROM inventories WHERE slot = ?"
	    " ORDER BY id DESC LIMIT ?", "si", slot, (int64_t)limit);
}

int
db_inventory_count(const char *slot)
{
	int n = 0;

	if (db_one("inventory count", db_fill_int, &n, "SELECT count(*) FROM"
	    " inventories WHERE slot = ?", "s", slot) != DB_OK)
		return DB_ERROR;
	return n;
}

int
db_inventory_ack(const char *slot)
{
	return db_write("UPDATE nodes SET inventory_changed = 0, updated = ?"
	    " WHERE slot = ? AND inventory_changed != 0", "is", db_now_ms(),
	    slot);
}
