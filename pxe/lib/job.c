/*
 * job.c — the job as GET /api/v1/agent/jobs/ID returns it: its id, state,
 * image, chunks_url (made absolute against rackd's URL) and the manifest.
 * The manifest object is written back to text and parsed by the images
 * library, so every rule of the format is checked in one place. One
 * parser for both programs; each then says which kind of image it takes
 * (job_want_kind).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pxe/lib/pxe.h"

static int
url_chars_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == '"' || *s == '\\')
			return 0;
	return 1;
}

int
job_parse(const char *body, size_t len, const char *base, struct job *j,
    char *err, size_t errlen)
{
	json_t *root, *v, *mo;
	json_error_t je;
	const char *s, *cu;
	char *text, why[ERR_MAX];
	int n;

	memset(j, 0, sizeof(*j));
	if (len > JOB_JSON_MAX) {
		snprintf(err, errlen, "job reply larger than %u bytes",
		    JOB_JSON_MAX);
		return -1;
	}
	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES,
	    &je)) == NULL) {
		snprintf(err, errlen, "job reply is not JSON: %s (line %d)",
		    je.text, je.line);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "job reply is not a JSON object");
		goto fail;
	}
	v = json_object_get(root, "id");
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		snprintf(err, errlen, "job reply: \"id\" is not a positive "
		    "integer");
		goto fail;
	}
	j->id = json_integer_value(v);
	s = json_string_value(json_object_get(root, "state"));
	if (s != NULL)
		snprintf(j->state, sizeof(j->state), "%s", s);
	s = json_string_value(json_object_get(root, "image"));
	if (s != NULL)
		snprintf(j->image, sizeof(j->image), "%s", s);
	v = json_object_get(root, "action");
	s = v != NULL ? json_string_value(v) : "reimage";
	if (s == NULL || *s == '\0' || strlen(s) >= sizeof(j->action)) {
		snprintf(err, errlen, "job reply: \"action\" is not a short "
		    "string");
		goto fail;
	}
	snprintf(j->action, sizeof(j->action), "%s", s);
	if (strcmp(j->action, "reimage") != 0 &&
	    strcmp(j->action, "diskless") != 0) {
		/* No image to fetch: the action's parameters instead. */
		v = json_object_get(root, "params");
		if (v != NULL && !json_is_null(v) && !json_is_object(v)) {
			snprintf(err, errlen, "job reply: \"params\" is not "
			    "an object");
			goto fail;
		}
		if (json_is_object(v))
			j->params = json_incref(v);
		json_decref(root);
		return 0;
	}
	cu = json_string_value(json_object_get(root, "chunks_url"));
	if (cu == NULL || *cu == '\0' || !url_chars_ok(cu) ||
	    strstr(cu, "..") != NULL) {
		snprintf(err, errlen, "job reply: no valid \"chunks_url\"");
		goto fail;
	}
	if (strncmp(cu, "http://", 7) == 0 || strncmp(cu, "https://", 8) == 0)
		n = snprintf(j->chunks_url, sizeof(j->chunks_url), "%s", cu);
	else if (cu[0] == '/')
		n = snprintf(j->chunks_url, sizeof(j->chunks_url), "%s%s", base,
		    cu);
	else {
		snprintf(err, errlen, "job reply: \"chunks_url\" must be "
		    "absolute or start with /");
		goto fail;
	}
	if (n < 0 || (size_t)n + 2 > sizeof(j->chunks_url)) {
		snprintf(err, errlen, "job reply: \"chunks_url\" too long");
		goto fail;
	}
	if (j->chunks_url[n - 1] != '/')
		strcat(j->chunks_url, "/");
	mo = json_object_get(root, "manifest");
	if (!json_is_object(mo)) {
		snprintf(err, errlen, "job reply has no \"manifest\" object");
		goto fail;
	}
	if ((text = json_dumps(mo, JSON_COMPACT)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	n = manifest_parse(text, strlen(text), &j->manifest, why, sizeof(why));
	free(text);
	if (n != 0) {
		snprintf(err, errlen, "the job's manifest is not valid: %s",
		    why);
		goto fail;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	job_free(j);
	return -1;
}

int
job_want_kind(const struct job *j, enum image_kind kind, char *err,
    size_t errlen)
{
	if (j->manifest != NULL && j->manifest->kind == kind)
		return 0;
	if (j->manifest == NULL)
		snprintf(err, errlen, "job %" PRId64 " has no manifest", j->id);
	else
		snprintf(err, errlen, "image %s:%s is of kind %s, not a %s "
		    "image", j->manifest->name, j->manifest->version,
		    image_kind_name(j->manifest->kind), image_kind_name(kind));
	return -1;
}

void
job_free(struct job *j)
{
	if (j->manifest != NULL)
		manifest_free(j->manifest);
	j->manifest = NULL;
	json_decref(j->params);
	j->params = NULL;
}
