/*
 * power_run.c — one power op of one slot, run on a work thread and never
 * on the event loop's or the HTTP thread: the target is made from the
 * slot's settings, link, MAC and BMC link (slot SLOT.bmc, whose node
 * address is the BMC's); the outcome goes to the cache
 * (power_poll.c), to the power job that asked for it, or to the event log
 * of the reimage job it serves. A reimage makes the server boot from the
 * network (boot_net, then cycle, or on if it is off; else cycle; else
 * on) and, once done, from its disk (boot_disk) where the method can.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"

enum run_kind { RUN_JOB, RUN_BOOT, RUN_BOOT_RETRY, RUN_BOOT_DISK };

struct run_work {
	struct work	 w;			/* first: the work's address */
	enum run_kind	 kind;
	enum power_op	 op;
	int64_t		 id;
	char		 slot[SLOT_NAME_MAX + 1];
};

int
power_run_now(const char *slot, enum power_op op, enum power_state *state,
    char *err, size_t errlen)
{
	const struct power_method *m;
	struct power_target t = { .slot = slot,
	    .timeout_ms = POWER_TIMEOUT_MS };
	enum power_state st = POWER_UNKNOWN;
	char can[ERR_MAX], mac[32] = "", bmc[SLOT_NAME_MAX + 8];
	struct db_link link, bmc_link;
	json_t *s, *node;
	int rc;

	if ((s = power_settings_get(slot)) == NULL) {
		snprintf(err, errlen, "no power method for slot %s: switch the "
		    "server on by hand now", slot);
		return -1;
	}
	m = power_method_find(power_setting_str(s, "method", NULL));
	if (m == NULL || !(m->caps & POWER_CAN(op))) {
		power_caps_text(m ? m->caps : 0, can, sizeof(can));
		snprintf(err, errlen, "the %s method of slot %s cannot %s; it "
		    "can: %s", m ? m->name : "?", slot, power_op_name(op), can);
		json_decref(s);
		return -1;
	}
	if (db_link_get(slot, &link) == DB_OK && link.ifname[0] != '\0')
		t.ifname = link.ifname;
	if ((node = db_node_get(slot)) != NULL) {
		const char *v = json_string_value(json_object_get(node, "mac"));
		if (v != NULL)
			snprintf(mac, sizeof(mac), "%s", v);
		json_decref(node);
	}
	t.mac = mac[0] ? mac : NULL;
	/* The node at the other end of the BMC link is the BMC. */
	if (snprintf(bmc, sizeof(bmc), "%s" SLOT_BMC_SUFFIX, slot) <
	    (int)sizeof(bmc) && db_link_get(bmc, &bmc_link) == DB_OK &&
	    bmc_link.node_addr[0] != '\0')
		t.bmc_addr = bmc_link.node_addr;
	t.settings = s;
	err[0] = '\0';
	rc = m->run(&t, op, &st, err, errlen);
	if (rc != 0 && err[0] == '\0')
		snprintf(err, errlen, "%s %s failed", m->name,
		    power_op_name(op));
	json_decref(s);
	if (rc != 0) {
		log_warnx("slot %s: power %s: %s", slot, power_op_name(op),
		    err);
	} else if (op != POWER_STATUS)
		log_info("slot %s: power %s done (%s)", slot,
		    power_op_name(op), m->name);
	if (state != NULL)
		*state = st;
	/* What a done op leaves, where a status call can tell it again (a
	 * Wake-on-LAN packet does not say that the server woke). */
	if (rc == 0 && op != POWER_STATUS &&
	    (m->caps & POWER_CAN(POWER_STATUS)))
		st = op == POWER_OFF ? POWER_IS_OFF : op == POWER_ON ||
		    op == POWER_CYCLE ? POWER_IS_ON : POWER_UNKNOWN;
	power_poll_note(slot, op, st, rc == 0 ? NULL : err);
	return rc == 0 ? 0 : -1;
}

static void
job_event(int64_t id, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
job_event(int64_t id, const char *fmt, ...)
{
	char msg[JOB_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	db_job_event(id, msg);
	jobs_publish(id);
}

/* One op for a reimage job; its failure is an event of the job. */
static int
boot_op(int64_t id, const char *slot, enum power_op op,
    enum power_state *st)
{
	char err[POWER_ERR_MAX];

	if (power_run_now(slot, op, st, err, sizeof(err)) == 0) {
		if (op != POWER_STATUS)
			job_event(id, "power %s", power_op_name(op));
		return 0;
	}
	job_event(id, "power %s failed: %s", power_op_name(op), err);
	return -1;
}

static void
boot_job(int64_t id, const char *slot, int retry)
{
	enum power_state st = POWER_UNKNOWN;
	json_t *s = power_settings_get(slot);
	unsigned caps = power_caps(s);

	json_decref(s);
	if (caps == 0) {	/* the node's power note says it */
		log_info("job %lld: no power method for slot %s: switch the "
		    "server on now", (long long)id, slot);
		return;
	}
	if (retry)
		job_event(id, "no boot within boot_timeout: power cycle once "
		    "more");
	if (caps & POWER_CAN(POWER_BOOT_NET))
		boot_op(id, slot, POWER_BOOT_NET, NULL);
	if ((caps & POWER_CAN(POWER_STATUS)) && (caps & POWER_CAN(POWER_ON)) &&
	    boot_op(id, slot, POWER_STATUS, &st) == 0 && st == POWER_IS_OFF) {
		boot_op(id, slot, POWER_ON, NULL);
		return;
	}
	if (caps & POWER_CAN(POWER_CYCLE))
		boot_op(id, slot, POWER_CYCLE, NULL);
	else if (caps & POWER_CAN(POWER_ON))
		boot_op(id, slot, POWER_ON, NULL);
	else
		job_event(id, "the power method of slot %s can neither cycle "
		    "nor switch on: switch the server on now", slot);
}

static void
run_one(struct work *w)
{
	struct run_work *rw = (struct run_work *)w;
	char err[POWER_ERR_MAX];

	switch (rw->kind) {
	case RUN_JOB:
		if (power_run_now(rw->slot, rw->op, NULL, err,
		    sizeof(err)) == 0)
			jobs_power_end(rw->id, NULL);
		else
			jobs_power_end(rw->id, err);
		break;
	case RUN_BOOT:
	case RUN_BOOT_RETRY:
		boot_job(rw->id, rw->slot, rw->kind == RUN_BOOT_RETRY);
		break;
	case RUN_BOOT_DISK:
		power_run_now(rw->slot, POWER_BOOT_DISK, NULL, err,
		    sizeof(err));
		break;
	}
	free(rw);
}

static void
submit(enum run_kind kind, int64_t id, const char *slot, enum power_op op)
{
	struct run_work *rw = calloc(1, sizeof(*rw));

	if (rw == NULL) {
		log_warnx("slot %s: out of memory for a power op", slot);
		if (kind == RUN_JOB)
			jobs_power_end(id, "out of memory");
		return;
	}
	rw->w.fn = run_one;
	rw->kind = kind;
	rw->op = op;
	rw->id = id;
	snprintf(rw->slot, sizeof(rw->slot), "%s", slot);
	work_submit(&rw->w);
}

void
power_job_start(int64_t id, const char *slot, enum power_op op)
{
	submit(RUN_JOB, id, slot, op);
}

void
power_boot_job(int64_t id, const char *slot, int retry)
{
	submit(retry ? RUN_BOOT_RETRY : RUN_BOOT, id, slot, POWER_CYCLE);
}

/* The server's next boot is its disk: called when the clone environment
 * first reports (the one network boot it was given is used) and again at
 * done. Setting it that early means a BMC holds it long before the agent
 * reboots, so that the reboot does not race the BMC and boot the network
 * again (a UEFI server with the network first would stop there). */
void
power_disk_next(const char *slot)
{
	json_t *s = power_settings_get(slot);
	unsigned caps = power_caps(s);

	json_decref(s);
	if (caps & POWER_CAN(POWER_BOOT_DISK))
		submit(RUN_BOOT_DISK, 0, slot, POWER_BOOT_DISK);
}
