/*
 * capture.c — a node's disk becomes an image of this rack (issue 14):
 *
 *   POST /api/v1/nodes/{slot}/capture {"image": "name:version"}   the
 *        operator's: a capture job (jobs_create_clone); the version must
 *        not be on the rack yet
 *   POST /api/v1/agent/jobs/{id}/capture/start {"disk_bytes": N}   the
 *        agent's (its job token): the disk's size, the job's bytes_total
 *        (the progress of its reading)
 *   POST /api/v1/agent/jobs/{id}/capture/manifest   the agent's: the
 *        manifest it made of the disk; the answer lists the
 *        chunks the rack lacks (push.c's manifest step, unsigned)
 *   PUT  /api/v1/agent/jobs/{id}/capture/chunks/{hash}   one compressed
 *        chunk (push.c's chunk step: verified before it is visible)
 *   POST /api/v1/agent/jobs/{id}/capture/commit   on a work thread: every
 *        chunk of the image read back from the store and checked against
 *        its hash, then push.c's commit; the image is marked as captured
 *        from the job's slot (db_image_set_captured)
 *   GET  /api/v1/images/{name}/versions/{version}   the operator's (read
 *        access): the stored manifest as it is, signed or not, for
 *        rackctl pull (its chunks: GET /chunks/{hash}, open as for nodes)
 *
 * The protocol is the push protocol (docs/internals/push.md) with the
 * name and version taken from the job, not from the URL, so an agent can
 * only make the image its job names. A captured image is unsigned; where
 * trusted_keys is set catalog.c's trust rule is unchanged and keeps it
 * from jobs until it is signed centrally (rackctl pull, image sign, push).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"
#include "images/hash.h"
#include "images/manifest.h"
#include "images/store.h"

/* ---- the operator's request ---------------------------------------------- */

void
api_node_capture(struct req *r)
{
	const char *slot = http_param(r, 0), *ref;
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char why[ERR_MAX], full[2 * IMAGE_NAME_MAX + 2];
	json_t *body;
	int64_t id;
	int rc;

	if (slot == NULL || !slot_name_valid(slot)) {
		http_reply_error(r, 400, "not a slot name");
		return;
	}
	if ((body = http_json_body(r)) == NULL)
		return;
	ref = json_string_value(json_object_get(body, "image"));
	if (ref == NULL || json_object_size(body) != 1 ||
	    image_ref_parse(ref, name, version, why, sizeof(why)) != 0 ||
	    version[0] == '\0') {
		json_decref(body);
		http_reply_error(r, 400, "body must be {\"image\": "
		    "\"name:version\"} (the version the capture makes)");
		return;
	}
	json_decref(body);
	if (db_image_exists(name, version) ||
	    store_has_manifest(catalog_store(), name, version)) {
		http_reply_error(r, 409, "image %s:%s is already on this rack; "
		    "capture to another version", name, version);
		return;
	}
	snprintf(full, sizeof(full), "%s:%s", name, version);
	rc = jobs_create_clone(slot, JOB_CAPTURE, full, NULL, &id, why,
	    sizeof(why));
	api_reply_clone_job(r, rc, id, slot, why);
}

/* ---- the agent's side ---------------------------------------------------- */

/* The capture job the agent's token is for: its slot, and the name and
 * version it makes; or -1 with a reply queued. */
static int
capture_job(struct req *r, struct db_job *j, char *name, char *version)
{
	char err[ERR_MAX];

	if (db_job_get(http_agent_job(r), j) != DB_OK) {
		http_reply_error(r, 404, "no such job");
		return -1;
	}
	if (strcmp(j->action, job_action_name(JOB_CAPTURE)) != 0) {
		http_reply_error(r, 409, "job %lld is a %s, not a capture",
		    (long long)j->id, j->action);
		return -1;
	}
	if (image_ref_parse(j->image, name, version, err, sizeof(err)) != 0 ||
	    version[0] == '\0') {
		http_reply_error(r, 500, "job %lld: its image \"%s\" is not "
		    "name:version", (long long)j->id, j->image);
		return -1;
	}
	return 0;
}

void
capture_start(struct req *r)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	struct db_job j;
	json_t *body, *v;
	int64_t n;

	if (capture_job(r, &j, name, version) != 0 ||
	    (body = http_json_body(r)) == NULL)
		return;
	v = json_object_get(body, "disk_bytes");
	n = json_is_integer(v) ? json_integer_value(v) : -1;
	json_decref(body);
	if (n <= 0) {
		http_reply_error(r, 400, "body must be {\"disk_bytes\": N}");
		return;
	}
	if (jobs_set_total(j.id, n) != JOB_OK) {
		http_reply_error(r, 500, "database error");
		return;
	}
	jobs_publish(j.id);
	http_reply_json(r, 200, json_pack("{s:I}", "disk_bytes",
	    (json_int_t)n));
}

void
capture_manifest(struct req *r)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	struct db_job j;

	if (capture_job(r, &j, name, version) != 0)
		return;
	if (db_image_exists(name, version)) {
		http_reply_error(r, 409, "image %s:%s is already on this rack",
		    name, version);
		return;
	}
	push_manifest_take(r, name, version, PUSH_CAPTURED);
}

void
capture_chunk(struct req *r)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	struct db_job j;

	if (capture_job(r, &j, name, version) != 0)
		return;
	push_chunk_take(r, http_param(r, 1), capture_seen_add, j.id);
}

/* Reads every chunk of the pending manifest back from the store and
 * checks it, but those job's upload added (verified as they came in:
 * capture_seen.c): 0, or an HTTP status with err. */
static int
check_chunks(int64_t job, const char *name, const char *version, char *err,
    size_t errlen)
{
	struct manifest *m = NULL;
	char *text = NULL, hex[HASH_HEX_LEN + 1];
	size_t checked = 0;
	int status = 0;

	if (db_push_manifest(name, version, &text) != DB_OK) {
		snprintf(err, errlen, "no pending capture of %s:%s; post its "
		    "manifest first", name, version);
		return 404;
	}
	if (manifest_parse(text, strlen(text), &m, err, errlen) != 0) {
		free(text);
		return 500;
	}
	free(text);
	for (size_t i = 0; i < m->nchunks && status == 0; i++) {
		hash_to_hex(m->chunks[i].hash, hex);
		if (!store_has_chunk(catalog_store(), hex))
			break;		/* the commit names what is missing */
		if (capture_seen_has(job, m->chunks[i].hash))
			continue;
		checked++;
		if (store_check_chunk(catalog_store(), m->hash, hex,
		    m->chunks[i].length, err, errlen) != 0)
			status = 500;
	}
	if (status == 0)
		log_info("capture %s:%s: %zu of %zu chunks read back and "
		    "checked, the others verified as they came", name,
		    version, checked, m->nchunks);
	manifest_free(m);
	return status;
}

static void
commit_run(struct req *r, void *ctx)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char err[ERR_MAX];
	struct db_job j;
	json_t *body = NULL;
	int status;

	(void)ctx;
	if (capture_job(r, &j, name, version) != 0)
		return;
	if ((status = check_chunks(j.id, name, version, err, sizeof(err)))
	    == 0)
		status = push_commit_pending(name, version, PUSH_CAPTURED,
		    &body, err, sizeof(err));
	if (status == 201 || status == 200) {
		capture_seen_forget(j.id);
		if (db_image_set_captured(name, version, j.slot, j.id) !=
		    DB_OK)
			log_warnx("image %s:%s: cannot mark it as captured",
			    name, version);
		else
			log_info("image %s:%s captured from %s by job %lld",
			    name, version, j.slot, (long long)j.id);
		events_publish("image", db_image_get(name));
	}
	if (body != NULL)
		http_reply_json(r, status, body);
	else
		http_reply_error(r, status, "%s", err);
}

void
capture_commit(struct req *r)
{
	http_defer(r, commit_run, NULL);
}

/* ---- rackctl pull: the manifest of a version -------------------------- */

void
api_image_manifest(struct req *r)
{
	const char *name = http_param(r, 0), *version = http_param(r, 1);
	struct manifest *m;
	char err[ERR_MAX], *text;

	if (!image_name_valid(name) || !image_version_valid(version)) {
		http_reply_error(r, 400, "not an image name and version");
		return;
	}
	if (!store_has_manifest(catalog_store(), name, version)) {
		http_reply_error(r, 404, "no such image: %s:%s", name, version);
		return;
	}
	if (store_load_manifest(catalog_store(), name, version, &m, err,
	    sizeof(err)) != 0) {
		http_reply_error(r, 500, "%s", err);
		return;
	}
	text = manifest_to_json(m);
	manifest_free(m);
	if (text == NULL) {
		http_reply_error(r, 500, "out of memory");
		return;
	}
	http_reply_text(r, 200, "application/json", text);
	free(text);
}
