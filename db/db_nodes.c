/* db_nodes.c — slots (nodes) and the state of their links. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

#define NODE_SELECT \
	"SELECT n.slot, n.label, n.image, n.boot_mode, n.mac," \
	" l.node_addr AS address, n.last_result," \
	" CASE WHEN n.secure_boot IS NULL THEN 'null'" \
	"  WHEN n.secure_boot THEN 'true' ELSE 'false' END" \
	" AS secure_boot_json," \
	" CASE WHEN n.booted_secure IS NULL THEN 'null'" \
	"  WHEN n.booted_secure THEN 'true' ELSE 'false' END" \
	" AS booted_secure_json," \
	" CASE WHEN l.slot IS NULL THEN NULL ELSE json_object(" \
	"  'state', l.state, 'ifname', l.ifname, 'kind', l.kind," \
	"  'board_addr', l.board_addr, 'node_addr', l.node_addr," \
	"  'prefix', l.prefix, 'changed', " ISO("l.changed") ")" \
	" END AS link_json," \
	" (SELECT json_object('id', j.id, 'action', j.action," \
	" 'image', j.image," \
	"  'state', j.state, 'reason', j.reason," \
	" 'bytes_total', j.bytes_total," \
	"  'bytes_done', j.bytes_done, 'bytes_fetched', j.bytes_fetched," \
	"  'rate', j.rate, 'created', " ISO("j.created") ")" \
	"  FROM jobs j WHERE j.slot = n.slot ORDER BY j.id DESC LIMIT 1)" \
	" AS job_json," \
	" CASE WHEN n.inventory_changed THEN 'true' ELSE 'false' END" \
	" AS inventory_changed_json," \
	" CASE WHEN n.enrol_at_boot THEN 'true' ELSE 'false' END" \
	" AS enrol_at_boot_json," \
	" (SELECT json_object('at', " ISO("i.at") "," \
	"  'vendor', json_extract(i.json, '$.system.vendor')," \
	"  'model', json_extract(i.json, '$.system.model')," \
	"  'memory_bytes', json_extract(i.json, '$.memory_bytes')," \
	"  'disks', json_array_length(i.json, '$.disks')," \
	"  'nics', json_array_length(i.json, '$.nics'))" \
	"  FROM inventories i WHERE i.slot = n.slot ORDER BY i.id DESC" \
	"  LIMIT 1) AS inventory_json," \
	" COALESCE((SELECT j.state FROM jobs j WHERE j.slot = n.slot" \
	"  AND j.state NOT IN ('done', 'failed')), 'idle') AS state," \
	" " ISO("n.updated") " AS updated" \
	" FROM nodes n LEFT JOIN links l ON l.slot = n.slot"

int
db_node_ensure(const char *slot)
{
	int64_t now = db_now_ms();
	int rc;

	pthread_mutex_lock(&db_lock);
	rc = db_exec("INSERT INTO nodes (slot, created, updated)"
	    " VALUES (?, ?, ?) ON CONFLICT (slot) DO NOTHING", "sii", slot,
	    now, now);
	if (rc == DB_OK)
		rc = sqlite3_changes(db_conn) > 0 ? DB_CHANGED : DB_UNCHANGED;
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_node_exists(const char *slot)
{
	int rc = db_one("node exists", NULL, NULL,
	    "SELECT 1 FROM nodes WHERE slot = ?", "s", slot);

	return rc == DB_OK ? DB_YES : rc == DB_NOTFOUND ? DB_NO : rc;
}

json_t *
db_node_get(const char *slot)
{
	return db_select_one(NODE_SELECT " WHERE n.slot = ?", "s", slot);
}

json_t *
db_nodes_list(void)
{
	return db_select(NODE_SELECT " ORDER BY n.slot", "");
}

int
db_node_update(const char *slot, const char *label, const char *image,
    const char *boot_mode)
{
	return db_write("UPDATE nodes SET"
	    " label = CASE WHEN ?1 IS NULL THEN label WHEN ?1 = '' THEN NULL"
	    "  ELSE ?1 END,"
	    " image = CASE WHEN ?2 IS NULL THEN image WHEN ?2 = '' THEN NULL"
	    "  ELSE ?2 END,"
	    " boot_mode = COALESCE(?3, boot_mode), updated = ?4"
	    " WHERE slot = ?5", "sssis", label, image, boot_mode, db_now_ms(),
	    slot);
}

int
db_node_set_secure_boot(const char *slot, int on)
{
	if (on < 0)
		return db_write("UPDATE nodes SET secure_boot = NULL,"
		    " updated = ? WHERE slot = ?", "is", db_now_ms(), slot);
	return db_write("UPDATE nodes SET secure_boot = ?, updated = ?"
	    " WHERE slot = ?", "iis", (int64_t)(on != 0), db_now_ms(), slot);
}

int
db_node_set_enrol_at_boot(const char *slot, int on)
{
	return db_write("UPDATE nodes SET enrol_at_boot = ?, updated = ?"
	    " WHERE slot = ? AND enrol_at_boot IS NOT ?", "iisi",
	    (int64_t)(on != 0), db_now_ms(), slot, (int64_t)(on != 0));
}

int
db_node_enrol_at_boot(const char *slot)
{
	int n = 0;

	if (db_one("node enrol_at_boot", db_fill_int, &n, "SELECT"
	    " enrol_at_boot FROM nodes WHERE slot = ?", "s", slot) == DB_ERROR)
		return DB_ERROR;
	return n != 0;
}

int
db_node_set_booted_secure(const char *slot, int on)
{
	return db_write("UPDATE nodes SET booted_secure = ?, updated = ?"
	    " WHERE slot = ?", "iis", (int64_t)(on != 0), db_now_ms(), slot);
}

int
db_node_set_result(const char *slot, const char *result)
{
	int rc;

	pthread_mutex_lock(&db_lock);
	rc = db_exec("UPDATE nodes SET last_result = ?, updated = ?"
	    " WHERE slot = ?", "sis", result, db_now_ms(), slot);
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_links_up(void)
{
	int n;

	if (db_one("links up", db_fill_int, &n,
	    "SELECT count(*) FROM links WHERE state = 'up'", "") != DB_OK)
		return DB_ERROR;
	return n;
}

int
db_node_set_mac(const char *slot, const char *mac)
{
	int rc;

	pthread_mutex_lock(&db_lock);
	rc = db_exec("UPDATE nodes SET mac = ?, updated = ? WHERE slot = ?"
	    " AND mac IS NOT ?", "siss", mac, db_now_ms(), slot, mac);
	if (rc == DB_OK)
		rc = sqlite3_changes(db_conn) > 0 ? DB_CHANGED : DB_UNCHANGED;
	pthread_mutex_unlock(&db_lock);
	return rc;
}
