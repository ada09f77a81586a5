/*
 * api.c — /api/v1: nodes, images, jobs, health and metrics. Handlers read
 * the request through http.c and answer with one http_reply_* call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"
#include "images/manifest.h"

void
api_healthz(struct req *r)
{
	http_reply_text(r, 200, "text/plain; charset=utf-8", "ok\n");
}

void
api_metrics(struct req *r)
{
	char *text = metrics_render(events_clients());

	if (text == NULL) {
		http_reply_error(r, 500, "cannot render metrics");
		return;
	}
	http_reply_text(r, 200, "text/plain; version=0.0.4", text);
	free(text);
}

/* {slot} of the URL, or a 400/404 reply. */
static const char *
slot_param(struct req *r)
{
	const char *slot = http_param(r, 0);
	int rc;

	if (slot == NULL || !slot_name_valid(slot)) {
		http_reply_error(r, 400, "not a slot name");
		return NULL;
	}
	if ((rc = db_node_exists(slot)) != 1) {
		if (rc == 0)
			http_reply_error(r, 404, "no such node: %s", slot);
		else
			http_reply_error(r, 500, "database error");
		return NULL;
	}
	return slot;
}

/* ?limit=N of a list, from 1 to max (100 if not given), or a 400 reply. */
static int
limit_param(struct req *r, long max, long *limit)
{
	const char *lim = http_query(r, "limit");
	char *end;

	*limit = 100;
	if (lim == NULL)
		return 0;
	*limit = strtol(lim, &end, 10);
	if (*lim == '\0' || *end != '\0' || *limit < 1 || *limit > max) {
		http_reply_error(r, 400, "limit: 1 to %ld", max);
		return -1;
	}
	return 0;
}

static int
id_param(struct req *r, int64_t *id)
{
	const char *s = http_param(r, 0);
	char *end;

	errno = 0;
	*id = strtoll(s ? s : "", &end, 10);
	if (s == NULL || *s == '\0' || *end != '\0' || errno != 0 || *id <= 0) {
		http_reply_error(r, 400, "not a job id");
		return -1;
	}
	return 0;
}

void
api_nodes_list(struct req *r)
{
	json_t *a = db_nodes_list(), *n;
	size_t i;

	json_array_foreach(a, i, n) {
		power_node_json(n);
		console_node_json(n);
	}
	http_reply_json(r, 200, a);
}

/* The node as GET shows it: its row, its power and its console. */
static json_t *
node_json(const char *slot)
{
	json_t *n = db_node_get(slot);

	if (n != NULL) {
		power_node_json(n);
		console_node_json(n);
	}
	return n;
}

void
api_node_get(struct req *r)
{
	const char *slot = slot_param(r);

	if (slot != NULL)
		http_reply_json(r, 200, node_json(slot));
}

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int
api_parse_node_patch(json_t *body, const char **label, const char **image,
    const char **boot_mode, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	*label = *image = *boot_mode = NULL;
	json_object_foreach(body, key, v) {
		if (strcmp(key, "label") == 0) {
			if (!json_is_string(v) ||
			    json_string_length(v) > LABEL_MAX ||
			    !printable(json_string_value(v))) {
				snprintf(err, errlen, "label: a string of at "
				    "most %d printable characters", LABEL_MAX);
				return -1;
			}
			*label = json_string_value(v);
		} else if (strcmp(key, "image") == 0) {
			char n[IMAGE_NAME_MAX + 1], ver[IMAGE_NAME_MAX + 1];
			char why[ERR_MAX];
			if (json_is_null(v)) {
				*image = "";
				continue;
			}
			if (!json_is_string(v) || image_ref_parse(
			    json_string_value(v), n, ver, why, sizeof(why))) {
				snprintf(err, errlen, "image: %s",
				    json_is_string(v) ? why :
				    "a string \"name[:version]\" or null");
				return -1;
			}
			*image = json_string_value(v);
		} else if (strcmp(key, "boot_mode") == 0) {
			const char *m = json_string_value(v);
			if (m == NULL || (strcmp(m, "local") != 0 &&
			    strcmp(m, "diskless") != 0)) {
				snprintf(err, errlen,
				    "boot_mode: \"local\" or \"diskless\"");
				return -1;
			}
			*boot_mode = m;
		} else if (strcmp(key, "power") == 0) {
			if (!json_is_null(v) && !json_is_object(v)) {
				snprintf(err, errlen, "power: an object "
				    "{\"method\": ...} or null");
				return -1;
			}	/* power_settings_check judges the rest */
		} else {
			snprintf(err, errlen, "unknown field '%.64s' (label, "
			    "image, boot_mode, power, secure_boot)", key);
			return -1;
		}
	}
	if (*label == NULL && *image == NULL && *boot_mode == NULL &&
	    json_object_get(body, "power") == NULL) {
		snprintf(err, errlen, "nothing to change (label, image, "
		    "boot_mode, power)");
		return -1;
	}
	return 0;
}

/* The "secure_boot" of a PATCH body, taken out of it: 1 on, 0 off, -1
 * the rack's (null), -2 not given; -3 with err if not a boolean or null. */
int
api_parse_secure_boot(json_t *body, char *err, size_t errlen)
{
	json_t *v = json_object_get(body, "secure_boot");
	int on;

	if (v == NULL)
		return -2;
	if (!json_is_boolean(v) && !json_is_null(v)) {
		snprintf(err, errlen, "secure_boot: true, false or null (the "
		    "rack's setting)");
		return -3;
	}
	on = json_is_null(v) ? -1 : json_is_true(v);
	json_object_del(body, "secure_boot");
	return on;
}

/* A PATCH leaves a diskless node with an image it can run (a rootfs image
 * that fits in RAM, jobs.c's rule) or none: 0, or -1 with err. image or
 * mode NULL: unchanged. */
static int
patch_check(const char *slot, const char *image, const char *mode,
    char *err, size_t errlen)
{
	json_t *node = db_node_get(slot);
	const char *m = mode, *ref = image;
	int rc = 0;

	if (node == NULL)
		return 0;	/* the update says what is wrong */
	if (m == NULL)
		m = json_string_value(json_object_get(node, "boot_mode"));
	if (ref == NULL)
		ref = json_string_value(json_object_get(node, "image"));
	if (m != NULL && strcmp(m, "diskless") == 0 && ref != NULL &&
	    ref[0] != '\0') {
		rc = jobs_image_check(JOB_DISKLESS, ref, NULL, 0, NULL, err,
		    errlen);
		rc = rc == JOB_WRONG_KIND || rc == JOB_TOO_BIG ? -1 : 0;
	}
	json_decref(node);
	return rc;
}

/* Does this PATCH start a diskless boot? It makes the node diskless, or
 * gives a diskless node another image. */
static int
patch_boots(const char *slot, const char *image, const char *mode)
{
	json_t *node = db_node_get(slot);
	const char *m, *img;
	int diskless, boots = 0;

	if (node == NULL)
		return 0;
	m = json_string_value(json_object_get(node, "boot_mode"));
	img = json_string_value(json_object_get(node, "image"));
	diskless = m != NULL && strcmp(m, "diskless") == 0;
	if (mode != NULL && strcmp(mode, "diskless") == 0 && !diskless)
		boots = 1;
	else if ((mode == NULL || strcmp(mode, "diskless") == 0) &&
	    diskless && image != NULL && image[0] != '\0')
		boots = img == NULL || strcmp(image, img) != 0;
	json_decref(node);
	return boots;
}

/* A PATCH that failed after its power settings were written: the slot's
 * PATCHed settings as they were (was; NULL: none). */
static void
patch_power_undo(const char *slot, const json_t *was)
{
	char err[ERR_MAX];

	if (power_settings_set(slot, was, err, sizeof(err)) != 0)
		log_warnx("slot %s: the PATCH failed and its power settings "
		    "could not be put back: %s", slot, err);
	else
		log_info("slot %s: the PATCH failed; its power settings are "
		    "as they were", slot);
}

void
api_node_patch(struct req *r)
{
	const char *slot, *label, *image, *mode;
	char err[ERR_MAX];
	json_t *body, *power, *was;
	int64_t id;
	int rc, sb, boots;

	if ((slot = slot_param(r)) == NULL ||
	    (body = http_json_body(r)) == NULL)
		return;
	label = image = mode = NULL;
	if ((sb = api_parse_secure_boot(body, err, sizeof(err))) == -3 ||
	    ((sb == -2 || json_object_size(body) > 0) &&
	    api_parse_node_patch(body, &label, &image, &mode, err,
	    sizeof(err)) != 0)) {
		json_decref(body);
		http_reply_error(r, 400, "%s", err);
		return;
	}
	if (image != NULL && image[0] != '\0') {
		char n[IMAGE_NAME_MAX + 1], ver[IMAGE_NAME_MAX + 1];
		char why[ERR_MAX];
		image_ref_parse(image, n, ver, why, sizeof(why));
		if (!db_image_exists(n, ver)) {
			http_reply_error(r, 404, "no such image: %s", image);
			json_decref(body);
			return;
		}
	}
	if (patch_check(slot, image, mode, err, sizeof(err)) != 0) {
		json_decref(body);
		http_reply_error(r, 409, "%s", err);
		return;
	}
	power = json_object_get(body, "power");
	if (power != NULL && !json_is_null(power) &&
	    power_settings_check(power, err, sizeof(err)) != 0) {
		json_decref(body);
		http_reply_error(r, 400, "power: %s", err);
		return;
	}
	/* All or nothing: the settings are written first (a failure changes
	 * nothing) and put back if the database update fails. */
	was = power != NULL ? power_settings_patched(slot) : NULL;
	if (power != NULL && power_settings_set(slot, json_is_null(power) ?
	    NULL : power, err, sizeof(err)) != 0) {
		json_decref(was);
		json_decref(body);
		http_reply_error(r, 500, "power: %s", err);
		return;
	}
	boots = patch_boots(slot, image, mode);
	rc = label == NULL && image == NULL && mode == NULL ? DB_OK :
	    db_node_update(slot, label, image, mode);
	if (rc == DB_OK && sb >= -1 && (rc = db_node_set_secure_boot(slot,
	    sb)) == DB_OK)
		dnsmasq_changed();	/* the slot's UEFI loader */
	json_decref(body);
	if (rc != DB_OK && power != NULL)
		patch_power_undo(slot, was);
	json_decref(was);
	if (rc != DB_OK) {
		http_reply_error(r, rc == DB_NOTFOUND ? 404 : 500, "%s",
		    rc == DB_NOTFOUND ? "no such node" : "database error");
		return;
	}
	/* Diskless with a power method: the server is made to boot now. */
	if (boots && jobs_diskless_start(slot, &id, err, sizeof(err)) !=
	    JOB_OK)
		log_warnx("slot %s: diskless now, but no diskless boot was "
		    "started: %s", slot, err);
	nodes_publish(slot);
	if (image != NULL || mode != NULL)
		grubcfg_slot(slot);	/* GRUB's: a diskless boot or not */
	if (label != NULL)
		dnsmasq_changed();	/* the node's hostname */
	http_reply_json(r, 200, node_json(slot));
}

void
api_node_reimage(struct req *r)
{
	const char *slot, *ref;
	char why[ERR_MAX];
	json_t *body;
	int64_t id;
	int rc;

	if ((slot = slot_param(r)) == NULL ||
	    (body = http_json_body(r)) == NULL)
		return;
	ref = json_string_value(json_object_get(body, "image"));
	if (ref == NULL || json_object_size(body) != 1) {
		json_decref(body);
		http_reply_error(r, 400, "body must be {\"image\": "
		    "\"name[:version]\"}");
		return;
	}
	rc = jobs_create(slot, JOB_REIMAGE, ref, &id, why, sizeof(why));
	switch (rc) {
	case JOB_OK:
		http_reply_json(r, 202, db_job_json(id));
		break;
	case JOB_BAD:
		http_reply_error(r, 400,
		    "image: not a valid \"name[:version]\"");
		break;
	case JOB_NO_NODE:
		http_reply_error(r, 404, "no such node: %s", slot);
		break;
	case JOB_NO_IMAGE:
		http_reply_error(r, 404, "no such image: %s", ref);
		break;
	case JOB_BUSY:
	case JOB_WRONG_KIND:
	case JOB_BMC:
		http_reply_error(r, 409, "%s", why);
		break;
	case JOB_UNTRUSTED:
		http_reply_error(r, 403, "image %s is not signed by a trusted "
		    "key (trusted_keys): it is not installed", ref);
		break;
	default:
		http_reply_error(r, 500, "cannot create the job");
		break;
	}
	json_decref(body);	/* after the replies: ref points into it */
}

void
api_reply_clone_job(struct req *r, int rc, int64_t id, const char *slot,
    const char *why)
{
	switch (rc) {
	case JOB_OK:
		http_reply_json(r, 202, db_job_json(id));
		break;
	case JOB_NO_NODE:
		http_reply_error(r, 404, "no such node: %s", slot);
		break;
	case JOB_BUSY:
	case JOB_BMC:
		http_reply_error(r, 409, "%s", why);
		break;
	case JOB_BAD:
		http_reply_error(r, 400, "%s", why);
		break;
	default:
		http_reply_error(r, 500, "cannot create the job: %s", why);
		break;
	}
}

void
api_images_list(struct req *r)
{
	http_reply_json(r, 200, db_images_list());
}

void
api_image_get(struct req *r)
{
	const char *name = http_param(r, 0);
	json_t *o;

	if (!image_name_valid(name)) {
		http_reply_error(r, 400, "not an image name");
		return;
	}
	if ((o = db_image_get(name)) == NULL) {
		http_reply_error(r, 404, "no such image: %s", name);
		return;
	}
	http_reply_json(r, 200, o);
}

void
api_jobs_list(struct req *r)
{
	const char *node = http_query(r, "node");
	const char *state = http_query(r, "state");
	long limit;

	if (node != NULL && *node == '\0')
		node = NULL;
	if (state != NULL && *state == '\0')
		state = NULL;
	if (node != NULL && !slot_name_valid(node)) {
		http_reply_error(r, 400, "node: not a slot name");
		return;
	}
	if (state != NULL && !job_state_valid(state)) {
		char names[ERR_MAX];
		size_t used = 0;
		for (int i = 0; i < JOB_STATES && used < sizeof(names); i++)
			used += (size_t)snprintf(names + used, sizeof(names) -
			    used, "%s%s", i ? ", " : "", job_state_name(i));
		http_reply_error(r, 400, "state: one of %s", names);
		return;
	}
	if (limit_param(r, JOBS_LIST_MAX, &limit) != 0)
		return;
	http_reply_json(r, 200, db_jobs_list(node, state, (int)limit));
}

/* GET /api/v1/job-states: the states in order, with the dashboard's
 * words for each (jobs.c's table). */
void
api_job_states(struct req *r)
{
	json_t *a = jobs_states_json();

	if (a == NULL) {
		http_reply_error(r, 500, "out of memory");
		return;
	}
	http_reply_json(r, 200, a);
}

void
api_job_get(struct req *r)
{
	int64_t id;
	json_t *o;

	if (id_param(r, &id) != 0)
		return;
	if ((o = db_job_json(id)) == NULL) {
		http_reply_error(r, 404, "no such job: %lld", (long long)id);
		return;
	}
	http_reply_json(r, 200, o);
}

void
api_job_cancel(struct req *r)
{
	int64_t id;
	int rc;

	if (id_param(r, &id) != 0)
		return;
	rc = jobs_cancel(id, "operator");
	if (rc == JOB_OK)
		http_reply_json(r, 200, db_job_json(id));
	else if (rc == JOB_NO_JOB)
		http_reply_error(r, 404, "no such job: %lld", (long long)id);
	else if (rc == JOB_ILLEGAL)
		http_reply_error(r, 409, "job %lld has already ended",
		    (long long)id);
	else
		http_reply_error(r, 500, "cannot cancel the job");
}

/* GET /api/v1/nodes/{slot}/links?limit=N: the link's up and down times,
 * newest first. */
void
api_node_links(struct req *r)
{
	const char *slot = slot_param(r);
	long limit;

	if (slot == NULL || limit_param(r, LINK_HISTORY_MAX, &limit) != 0)
		return;
	http_reply_json(r, 200, db_link_history(slot, (int)limit));
}
