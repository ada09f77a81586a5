/* db_links.c — management links: one per slot, its subnet, its history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

#define LINK_ROW "SELECT slot, COALESCE(ifname, ''), COALESCE(kind, '')," \
	" state, COALESCE(board_addr, ''), COALESCE(node_addr, '')," \
	" COALESCE(prefix, 0) FROM links"

static void
link_from_row(sqlite3_stmt *st, void *item)
{
	struct db_link *l = item;

	memset(l, 0, sizeof(*l));
	snprintf(l->slot, sizeof(l->slot), "%s", sqlite3_column_text(st, 0));
	snprintf(l->ifname, sizeof(l->ifname), "%s",
	    sqlite3_column_text(st, 1));
	snprintf(l->kind, sizeof(l->kind), "%s", sqlite3_column_text(st, 2));
	snprintf(l->state, sizeof(l->state), "%s", sqlite3_column_text(st, 3));
	snprintf(l->board_addr, sizeof(l->board_addr), "%s",
	    sqlite3_column_text(st, 4));
	snprintf(l->node_addr, sizeof(l->node_addr), "%s",
	    sqlite3_column_text(st, 5));
	l->prefix = sqlite3_column_int(st, 6);
}

int
db_link_get(const char *slot, struct db_link *out)
{
	return db_one("link get", link_from_row, out,
	    LINK_ROW " WHERE slot = ?", "s", slot);
}

int
db_link_save(const struct db_link *l)
{
	int64_t now = db_now_ms();
	int rc;

	pthread_mutex_lock(&db_lock);
	if ((rc = db_begin()) != DB_OK)
		goto out;
	rc = db_exec("INSERT INTO nodes (slot, created, updated)"
	    " VALUES (?, ?, ?) ON CONFLICT (slot) DO NOTHING", "sii", l->slot,
	    now, now);
	if (rc == DB_OK)
		rc = db_exec("INSERT INTO links (slot, ifname, kind, state,"
		    " board_addr, node_addr, prefix, changed)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
		    " ON CONFLICT (slot) DO UPDATE SET ifname = ?2, kind = ?3,"
		    " board_addr = ?5, node_addr = ?6, prefix = ?7",
		    "ssssssii", l->slot, l->ifname, l->kind,
		    l->state[0] ? l->state : "down", l->board_addr,
		    l->node_addr, (int64_t)l->prefix, now);
	rc = db_finish(rc);
out:
	pthread_mutex_unlock(&db_lock);
	return rc;
}

int
db_link_set_state(const char *slot, const char *state)
{
	int64_t now = db_now_ms();
	int rc, changed = DB_UNCHANGED;

	pthread_mutex_lock(&db_lock);
	if ((rc = db_begin()) != DB_OK)
		goto out;
	rc = db_exec("UPDATE links SET state = ?, changed = ? WHERE slot = ?"
	    " AND state IS NOT ?", "siss", state, now, slot, state);
	if (rc == DB_OK && sqlite3_changes(db_conn) > 0) {
		changed = DB_CHANGED;
		rc = db_exec("INSERT INTO link_events (slot, state, at)"
		    " VALUES (?, ?, ?)", "ssi", slot, state, now);
	}
	rc = db_finish(rc);
out:
	pthread_mutex_unlock(&db_lock);
	return rc == DB_OK ? changed : rc;
}

int
db_link_down_since(const char *slot, int64_t *since)
{
	char state[DB_LINKSTATE_MAX] = "";
	struct db_text_num tn = { state, sizeof(state), since };
	int rc;

	*since = 0;
	rc = db_one("link down since", db_fill_text_num, &tn, "SELECT state,"
	    " changed FROM links WHERE slot = ?", "s", slot);
	if (rc != DB_OK)
		return rc;
	return strcmp(state, "down") == 0 ? DB_OK : DB_NOTFOUND;
}

struct link_cb {
	int	(*fn)(const struct db_link *, void *);
	void	*arg;
};

static int
call_link(const void *item, void *arg)
{
	const struct link_cb *cb = arg;

	return cb->fn(item, cb->arg);
}

int
db_links_each(int (*fn)(const struct db_link *, void *), void *arg)
{
	struct link_cb cb = { fn, arg };

	return db_each(LINK_ROW " ORDER BY slot", sizeof(struct db_link),
	    link_from_row, call_link, &cb);
}

json_t *
db_link_history(const char *slot, int limit)
{
	return db_select("SELECT state, " ISO("at") " AS at FROM link_events"
	    " WHERE slot = ? ORDER BY id DESC LIMIT ?", "si", slot,
	    (int64_t)limit);
}
