/*
 * power_poll.c — each slot's power state as the API and the dashboard show
 * it: a cache that status calls on work threads fill, at most
 * POWER_POLLS_PER_SECOND calls a second for all slots together and one a
 * slot each POWER_POLL_SECONDS. A slot whose status fails POWER_FAILS_MAX
 * times in a row is not asked again until its settings change or an op on
 * it succeeds (a wrong BMC password is not retried for ever); its error
 * is shown. At most POWER_POLLS_RUNNING_MAX calls run at once, so that
 * slow BMCs never hold every work thread (pushed chunks are verified
 * there too). A change of state or error is a node event.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "appliance/rackd.h"
#include "db/db.h"

struct entry {
	char			 slot[SLOT_NAME_MAX + 1];
	char			*dump;		/* the settings polled with */
	enum power_state	 state;
	int64_t			 checked;	/* unix seconds; 0 never */
	char			 err[POWER_ERR_MAX];
	struct power_poll	 poll;
};

struct poll_work {
	struct work	 w;			/* first: the work's address */
	char		 slot[SLOT_NAME_MAX + 1];
};

static pthread_mutex_t c_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry cache[SLOTS_MAX];
static int ncache;
static struct power_rate rate;
static int running;		/* status calls on work threads now */

int
power_rate_take(struct power_rate *r, int64_t now_ms)
{
	int64_t sec = now_ms / 1000;

	if (sec != r->second) {
		r->second = sec;
		r->used = 0;
	}
	if (r->used >= POWER_POLLS_PER_SECOND)
		return 0;
	r->used++;
	return 1;
}

int
power_poll_due(const struct power_poll *p, int64_t now_ms)
{
	if (p->busy || p->fails >= POWER_FAILS_MAX)
		return 0;
	return p->last_ms == 0 || now_ms - p->last_ms >=
	    POWER_POLL_SECONDS * 1000;
}

/* The slot's entry, made if missing (NULL: the cache is full). Call with
 * c_lock held. */
static struct entry *
entry_get(const char *slot)
{
	struct entry *e;

	for (int i = 0; i < ncache; i++)
		if (strcmp(cache[i].slot, slot) == 0)
			return &cache[i];
	if (ncache >= SLOTS_MAX)
		return NULL;
	e = &cache[ncache++];
	memset(e, 0, sizeof(*e));
	snprintf(e->slot, sizeof(e->slot), "%s", slot);
	return e;
}

/* Settings that differ from those last polled with start afresh. Call
 * with c_lock held. */
static void
entry_settings(struct entry *e, const json_t *settings)
{
	char *dump = json_dumps(settings, JSON_SORT_KEYS | JSON_COMPACT);

	if (dump == NULL || (e->dump != NULL && strcmp(dump, e->dump) == 0)) {
		free(dump);
		return;
	}
	free(e->dump);
	e->dump = dump;
	e->state = POWER_UNKNOWN;
	e->checked = 0;
	e->err[0] = '\0';
	e->poll.fails = 0;
	e->poll.last_ms = 0;
}

static void
poll_one(struct work *w)
{
	struct poll_work *pw = (struct poll_work *)w;
	enum power_state st = POWER_UNKNOWN;
	char err[POWER_ERR_MAX];
	struct entry *e;

	power_run_now(pw->slot, POWER_STATUS, &st, err, sizeof(err));
	pthread_mutex_lock(&c_lock);
	if ((e = entry_get(pw->slot)) != NULL)
		e->poll.busy = 0;
	running--;
	pthread_mutex_unlock(&c_lock);
	free(pw);
}

void
power_poll_tick(void)
{
	int64_t now = db_now_ms();
	const char *slot;
	json_t *all, *s;

	if ((all = power_settings_all()) == NULL)
		return;
	json_object_foreach(all, slot, s) {
		struct poll_work *pw;
		struct entry *e;
		int go = 0;

		if (!(power_caps(s) & POWER_CAN(POWER_STATUS)))
			continue;
		pthread_mutex_lock(&c_lock);
		if ((e = entry_get(slot)) != NULL) {
			entry_settings(e, s);
			if (running < POWER_POLLS_RUNNING_MAX &&
			    power_poll_due(&e->poll, now) &&
			    power_rate_take(&rate, now)) {
				e->poll.busy = go = 1;
				e->poll.last_ms = now;
				running++;
			}
		}
		pthread_mutex_unlock(&c_lock);
		if (!go)
			continue;
		if ((pw = calloc(1, sizeof(*pw))) == NULL) {
			pthread_mutex_lock(&c_lock);
			e->poll.busy = 0;
			running--;
			pthread_mutex_unlock(&c_lock);
			continue;
		}
		pw->w.fn = poll_one;
		snprintf(pw->slot, sizeof(pw->slot), "%s", slot);
		work_submit(&pw->w);
	}
	json_decref(all);
}

void
power_poll_note(const char *slot, enum power_op op, enum power_state state,
    const char *err)
{
	enum power_state was;
	char old[POWER_ERR_MAX];
	struct entry *e;
	int changed;

	pthread_mutex_lock(&c_lock);
	if ((e = entry_get(slot)) == NULL) {
		pthread_mutex_unlock(&c_lock);
		return;
	}
	was = e->state;
	snprintf(old, sizeof(old), "%s", e->err);
	if (err == NULL) {
		e->err[0] = '\0';
		e->poll.fails = 0;
		if (op == POWER_STATUS || state != POWER_UNKNOWN)
			e->state = state;
	} else {
		snprintf(e->err, sizeof(e->err), "%s", err);
		if (op == POWER_STATUS) {
			e->poll.fails++;
			e->state = POWER_UNKNOWN;
		}
	}
	if (op == POWER_STATUS)
		e->checked = (int64_t)time(NULL);
	changed = was != e->state || strcmp(old, e->err) != 0;
	pthread_mutex_unlock(&c_lock);
	if (changed)
		nodes_publish(slot);
}

/* A BMC link's node says whose BMC it is ("bmc_of"); a slot with a BMC
 * link says where its BMC is ("bmc": its slot, address and link state). */
static void
bmc_json(json_t *node, const char *slot)
{
	char owner[SLOT_NAME_MAX + 1], bmc[SLOT_NAME_MAX + 8];
	struct db_link l;

	if (slot_bmc_of(slot, owner, sizeof(owner)) == 0) {
		json_object_set_new(node, "bmc_of", json_string(owner));
		return;
	}
	if (snprintf(bmc, sizeof(bmc), "%s" SLOT_BMC_SUFFIX, slot) <
	    (int)sizeof(bmc) && db_link_get(bmc, &l) == DB_OK)
		json_object_set_new(node, "bmc", json_pack("{s:s,s:s,s:s}",
		    "slot", bmc, "address", l.node_addr, "link", l.state));
}

void
power_node_json(json_t *node)
{
	const char *slot = json_string_value(json_object_get(node, "slot"));
	json_t *s, *p, *can;
	const char *method, *note, *of;
	char bmc_note[2 * SLOT_NAME_MAX + 64];
	struct entry *e;
	unsigned caps;

	if (slot == NULL)
		return;
	bmc_json(node, slot);
	s = power_settings_get(slot);
	if (s == NULL && (of = json_string_value(json_object_get(node,
	    "bmc_of"))) != NULL) {
		/* A BMC is not a server: its own power is its server's. */
		snprintf(bmc_note, sizeof(bmc_note), "the BMC of slot %s: "
		    "power the server through slot %s", of, of);
		json_object_set_new(node, "power", json_pack("{s:n,s:s,s:n,"
		    "s:n,s:[],s:s}", "method", "state", "unknown", "checked",
		    "error", "can", "note", bmc_note));
		return;
	}
	if (s == NULL) {
		json_object_set_new(node, "power", json_pack("{s:n,s:s,s:n,"
		    "s:n,s:[],s:s}", "method", "state", "unknown", "checked",
		    "error", "can", "note", "no power method: switch the "
		    "server on now (by hand)"));
		return;
	}
	method = power_setting_str(s, "method", "");
	caps = power_caps(s);
	if ((can = json_array()) != NULL)
		for (int op = 0; op < POWER_OPS; op++)
			if (caps & POWER_CAN(op))
				json_array_append_new(can, json_string(
				    power_op_name(op)));
	p = json_pack("{s:s,s:o*,s:o*}", "method", method, "settings",
	    power_settings_public(s), "can", can);
	note = power_method_note(method);
	pthread_mutex_lock(&c_lock);
	e = entry_get(slot);
	if (p != NULL && e != NULL) {
		json_object_set_new(p, "state", json_string(
		    power_state_name(e->state)));
		json_object_set_new(p, "checked", e->checked ?
		    json_integer(e->checked) : json_null());
		json_object_set_new(p, "error", e->err[0] ?
		    json_string(e->err) : json_null());
		if (e->poll.fails >= POWER_FAILS_MAX)
			note = "status failed 3 times in a row: not asked "
			    "again until the settings change or an op "
			    "succeeds";
	}
	pthread_mutex_unlock(&c_lock);
	if (p != NULL && note != NULL)
		json_object_set_new(p, "note", json_string(note));
	json_decref(s);
	json_object_set_new(node, "power", p);
}
