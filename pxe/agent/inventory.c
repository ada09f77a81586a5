/*
 * inventory.c — rack-agent's "inventory" action: the hardware as
 * inventory_read.c reads it, posted to rackd (POST
 * /api/v1/agent/jobs/ID/inventory), then the job is done. Its states:
 * streaming while it reads, verifying while rackd checks and stores it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pxe/agent/agent.h"

/* POST it, retried as reports are. */
static enum agent_exit
post(struct agent *a, const char *text)
{
	char err[ERR_OUTER_MAX];
	struct retry t;
	int64_t delay;
	long status;

	retry_start(&t, now_ms(), a->deadline_ms);
	for (;;) {
		int rc = net_post(a->net, a->job.id, "inventory", text,
		    INV_POST_TIMEOUT_S, &status, err, sizeof(err));
		if (rc == 0 && status == 200)
			return AGENT_EXIT_DONE;
		if (rc == 0 && status >= 400 && status < 500)
			return agent_fail(a, "rackd refused the inventory "
			    "(HTTP %ld): %s", status, err);
		if (rc == 0)
			snprintf(err + strlen(err), sizeof(err) - strlen(err),
			    " (HTTP %ld)", status);
		if (got_signal || !retry_next(&t, now_ms(), &delay))
			return agent_fail(a, "cannot send the inventory: %s",
			    err);
		log_warn("inventory: %s; again in %" PRId64 " ms", err, delay);
		retry_wait(delay, NULL);
	}
}

enum agent_exit
inventory(struct agent *a)
{
	json_t *o, *d;
	char *text;
	enum agent_exit rc;
	size_t i;

	if (agent_report(a, "streaming", NULL, 1, a->deadline_ms) != REPORT_OK)
		return a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
	if ((o = inventory_read(&disk_env_real, 1)) == NULL ||
	    (text = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		return agent_fail(a, "out of memory for the inventory");
	}
	log_info("inventory: %s %s, serial %s; %" JSON_INTEGER_FORMAT " bytes "
	    "of memory; %zu disk(s), %zu NIC(s)",
	    json_string_value(json_object_get(json_object_get(o, "system"),
	    "vendor")), json_string_value(json_object_get(json_object_get(o,
	    "system"), "model")), json_string_value(json_object_get(
	    json_object_get(o, "system"), "serial")),
	    json_integer_value(json_object_get(o, "memory_bytes")),
	    json_array_size(json_object_get(o, "disks")),
	    json_array_size(json_object_get(o, "nics")));
	json_array_foreach(json_object_get(o, "disks"), i, d)
		log_info("disk %s: %s, serial %s, SMART %s",
		    json_string_value(json_object_get(d, "name")),
		    json_string_value(json_object_get(d, "model")),
		    json_string_value(json_object_get(d, "serial")),
		    json_string_value(json_object_get(d, "smart")));
	json_decref(o);
	if (agent_report(a, "verifying", NULL, 1, a->deadline_ms) != REPORT_OK)
		rc = a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
	else
		rc = post(a, text);
	free(text);
	if (rc != AGENT_EXIT_DONE)
		return rc;
	if (agent_report(a, "done", NULL, 1, a->deadline_ms) != REPORT_OK)
		return a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
	log_info("done: the inventory is with rackd");
	return AGENT_EXIT_DONE;
}
