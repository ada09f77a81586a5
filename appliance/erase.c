/*
 * erase.c — POST /api/v1/nodes/{slot}/erase {"method": "auto"|
 * "overwrite"}: a job of the clone environment (jobs_create_clone) whose
 * agent erases the disk of rackd.disk's rule and checks it
 * (pxe/agent/erase.c). "auto" picks the fastest method that truly erases
 * (NVMe sanitize or format, ATA secure erase, a discard that reads back
 * zeros) and falls back to "overwrite", zeros over the whole disk.
 */
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"

static const char *const methods[] = { "auto", "overwrite" };

int
erase_parse_body(json_t *body, const char **method, char *why, size_t len)
{
	json_t *m = json_object_get(body, "method");
	const char *s;

	*method = NULL;
	if (!json_is_object(body) || json_object_size(body) >
	    (m != NULL ? 1u : 0u)) {
		snprintf(why, len, "body must be {\"method\": \"auto\"} or "
		    "{\"method\": \"overwrite\"}");
		return -1;
	}
	if (m == NULL) {
		*method = methods[0];
		return 0;
	}
	if ((s = json_string_value(m)) != NULL)
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]);
		    i++)
			if (strcmp(s, methods[i]) == 0) {
				*method = methods[i];
				return 0;
			}
	snprintf(why, len, "method must be \"auto\" (NVMe sanitize or "
	    "format, ATA secure erase, discard, else overwrite) or "
	    "\"overwrite\" (zeros over the whole disk)");
	return -1;
}

void
api_node_erase(struct req *r)
{
	const char *slot = http_param(r, 0), *method;
	char why[ERR_MAX];
	json_t *body, *params;
	int64_t id;
	int rc;

	if (slot == NULL || !slot_name_valid(slot)) {
		http_reply_error(r, 400, "not a slot name");
		return;
	}
	if ((body = http_json_body(r)) == NULL)
		return;
	if (erase_parse_body(body, &method, why, sizeof(why)) != 0) {
		json_decref(body);
		http_reply_error(r, 400, "%s", why);
		return;
	}
	json_decref(body);	/* method is one of ours */
	if ((params = json_pack("{s:s}", "method", method)) == NULL) {
		http_reply_error(r, 500, "out of memory");
		return;
	}
	rc = jobs_create_clone(slot, JOB_ERASE, NULL, params, &id, why,
	    sizeof(why));
	json_decref(params);
	api_reply_clone_job(r, rc, id, slot, why);
}
