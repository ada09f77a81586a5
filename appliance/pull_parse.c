/*
 * pull_parse.c — the pure parts of a pull (no thread, no network, no
 * state), for pull.c's files, the unit tests and the fuzzer: a source's
 * URL joined to a path, the order the sources are tried in, the body of
 * POST /api/v1/images/pull, a fetched manifest checked to be of the image
 * asked for, an image_subscribe pattern, and an origin's index.json.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "appliance/rackd.h"
#include "images/manifest.h"

int
pull_url_join(const char *base, const char *path, char *out, size_t len)
{
	size_t n = strlen(base);
	int w;

	while (n > 0 && base[n - 1] == '/')
		n--;
	while (*path == '/')
		path++;
	w = snprintf(out, len, "%.*s/%s", (int)n, base, path);
	return w < 0 || (size_t)w >= len ? -1 : 0;
}

size_t
pull_source_order(size_t n, const int64_t *down_until, int64_t now,
    size_t *order)
{
	size_t k = 0;

	/* Those that are up in their configured order, then those marked
	 * down, soonest back first: every source is tried once. */
	for (size_t i = 0; i < n; i++)
		if (down_until[i] <= now)
			order[k++] = i;
	for (size_t i = 0; i < n; i++) {
		if (down_until[i] <= now)
			continue;
		size_t j = k++;
		while (j > 0 && down_until[order[j - 1]] > down_until[i] &&
		    down_until[order[j - 1]] > now) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	return k;
}

int
pull_parse_request(const char *body, size_t len, char *name, char *version,
    char *err, size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	const char *key, *ref = NULL;
	json_t *v;
	int rc = -1;

	if (!json_is_object(o)) {
		snprintf(err, errlen, "the body must be a JSON object "
		    "{\"image\": \"name:version\"}");
		goto out;
	}
	json_object_foreach(o, key, v) {
		if (strcmp(key, "image") != 0) {
			snprintf(err, errlen, "unknown field '%.40s'", key);
			goto out;
		}
		ref = json_string_value(v);
	}
	if (ref == NULL) {
		snprintf(err, errlen, "image: a string \"name:version\"");
		goto out;
	}
	if (image_ref_parse(ref, name, version, err, errlen) != 0)
		goto out;
	if (version[0] == '\0') {
		snprintf(err, errlen, "image: name:version (the origin has no "
		    "latest)");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

int
pull_manifest_check(const char *buf, size_t len, const char *name,
    const char *version, struct manifest **out, char *err, size_t errlen)
{
	char e[ERR_MAX];

	if (manifest_parse(buf, len, out, e, sizeof(e)) != 0) {
		snprintf(err, errlen, "manifest: %s", e);
		return -1;
	}
	if (strcmp((*out)->name, name) != 0 ||
	    strcmp((*out)->version, version) != 0) {
		snprintf(err, errlen, "the origin's manifest is of %s:%s, not "
		    "%s:%s", (*out)->name, (*out)->version, name, version);
		manifest_free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int
pull_pattern_match(const char *pattern, const char *name,
    const char *version)
{
	size_t n = strcspn(pattern, ":");

	if (strlen(name) != n || strncmp(pattern, name, n) != 0)
		return 0;
	return pattern[n] == '\0' || fnmatch(pattern + n + 1, version, 0) == 0;
}

json_t *
pull_index_parse(const char *buf, size_t len, const char *name, char *err,
    size_t errlen)
{
	char ref[IMAGE_REF_MAX + 1], n[IMAGE_NAME_MAX + 1];
	char v[IMAGE_NAME_MAX + 1], e[ERR_MAX];
	json_error_t je;
	json_t *o = json_loadb(buf, len, 0, &je), *a, *out = NULL, *x;
	size_t i;

	a = json_object_get(o, "versions");
	if (!json_is_object(o) || !json_is_array(a) ||
	    !json_is_string(json_object_get(o, "name")) ||
	    strcmp(json_string_value(json_object_get(o, "name")), name) != 0) {
		snprintf(err, errlen, "index.json: not {\"name\": \"%s\", "
		    "\"versions\": [...]}", name);
		goto out;
	}
	if ((out = json_array()) == NULL)
		goto out;
	json_array_foreach(a, i, x) {
		const char *ver = json_string_value(x);
		if (ver == NULL || (size_t)snprintf(ref, sizeof(ref), "%s:%s",
		    name, ver) >= sizeof(ref) || image_ref_parse(ref, n, v, e,
		    sizeof(e)) != 0 || strcmp(n, name) != 0 ||
		    strcmp(v, ver) != 0) {
			snprintf(err, errlen, "index.json: version %zu is "
			    "not a version of %s", i + 1, name);
			json_decref(out);
			out = NULL;
			goto out;
		}
		json_array_append(out, x);
	}
out:
	json_decref(o);
	return out;
}
