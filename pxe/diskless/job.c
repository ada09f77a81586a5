/*
 * job.c — the diskless job as GET /api/v1/agent/jobs/ID returns it: its
 * id, image, chunks_url and the manifest (parsed by the images library,
 * so every rule of the format is checked there), which must be a rootfs
 * image. (rack-agent's job.c takes disk images only.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pxe/diskless/diskless.h"

static int
url_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strstr(s, "..") != NULL)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == '"' || *s == '\\')
			return 0;
	return 1;
}

int
dl_job_parse(const char *body, size_t len, const char *base, struct job *j,
    char *err, size_t errlen)
{
	json_t *root, *v, *mo;
	json_error_t je;
	const char *s, *cu;
	char *text = NULL, why[256];
	int n;

	memset(j, 0, sizeof(*j));
	if (len > JOB_JSON_MAX) {
		snprintf(err, errlen, "job reply larger than %u bytes",
		    JOB_JSON_MAX);
		return -1;
	}
	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		snprintf(err, errlen, "job reply is not JSON: %s", je.text);
		return -1;
	}
	v = json_object_get(root, "id");
	cu = json_string_value(json_object_get(root, "chunks_url"));
	mo = json_object_get(root, "manifest");
	if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
	    !url_ok(cu) || !json_is_object(mo)) {
		snprintf(err, errlen, "job reply: no valid id, chunks_url and "
		    "manifest");
		goto fail;
	}
	j->id = json_integer_value(v);
	if ((s = json_string_value(json_object_get(root, "state"))) != NULL)
		snprintf(j->state, sizeof(j->state), "%s", s);
	if ((s = json_string_value(json_object_get(root, "image"))) != NULL)
		snprintf(j->image, sizeof(j->image), "%s", s);
	n = snprintf(j->chunks_url, sizeof(j->chunks_url), "%s%s",
	    cu[0] == '/' ? base : "", cu);
	if (n < 0 || (size_t)n + 2 > sizeof(j->chunks_url) ||
	    (cu[0] != '/' && strncmp(cu, "http://", 7) != 0 &&
	    strncmp(cu, "https://", 8) != 0)) {
		snprintf(err, errlen, "job reply: chunks_url is not usable");
		goto fail;
	}
	if (j->chunks_url[n - 1] != '/')
		strcat(j->chunks_url, "/");
	if ((text = json_dumps(mo, JSON_COMPACT)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	n = manifest_parse(text, strlen(text), &j->manifest, why, sizeof(why));
	free(text);
	if (n != 0) {
		snprintf(err, errlen, "the job's manifest is not valid: %s", why);
		goto fail;
	}
	if (j->manifest->kind != IMAGE_KIND_ROOTFS) {
		snprintf(err, errlen, "image %s is of kind %s, not a rootfs "
		    "image", j->image, image_kind_name(j->manifest->kind));
		goto fail;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	if (j->manifest != NULL)
		manifest_free(j->manifest);
	j->manifest = NULL;
	return -1;
}
