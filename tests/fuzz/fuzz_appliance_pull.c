/*
 * tests/fuzz/fuzz_appliance_pull.c — what a pull takes from outside
 * (appliance/pull_parse.c): the body of POST /api/v1/images/pull, and a
 * manifest as fetched from an image source (an origin or a cache in
 * front of it, neither trusted) checked against the image asked for, and
 * an origin's manifests/<name>/index.json (image_subscribe). The first
 * byte picks which (odd: a request, 2: an index, other even: a manifest);
 * the rest is the input. Accepted, a request names a valid image and
 * version, a manifest is of the image asked, and an index lists valid
 * versions.
 */
#include <string.h>

#include "appliance/rackd.h"
#include "images/manifest.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char err[ERR_MAX];
	struct manifest *m = NULL;

	FUZZ_SELFTEST_TRAP(data, size);
	if (size == 0)
		return 0;
	if (data[0] & 1) {
		if (pull_parse_request((const char *)data + 1, size - 1, name,
		    version, err, sizeof(err)) == 0) {
			FUZZ_CHECK(image_name_valid(name));
			FUZZ_CHECK(image_version_valid(version));
		} else
			FUZZ_CHECK(err[0] != '\0');
		return 0;
	}
	if (data[0] == 2) {
		json_t *v = pull_index_parse((const char *)data + 1, size - 1,
		    "debian", err, sizeof(err));
		size_t i;
		json_t *x;

		if (v == NULL) {
			FUZZ_CHECK(err[0] != '\0');
			return 0;
		}
		json_array_foreach(v, i, x)
			FUZZ_CHECK(image_version_valid(json_string_value(x)));
		json_decref(v);
		return 0;
	}
	if (pull_manifest_check((const char *)data + 1, size - 1, "debian",
	    "12.5", &m, err, sizeof(err)) == 0) {
		FUZZ_CHECK(m != NULL);
		FUZZ_CHECK(strcmp(m->name, "debian") == 0);
		FUZZ_CHECK(strcmp(m->version, "12.5") == 0);
		FUZZ_CHECK(manifest_validate(m, err, sizeof(err)) == 0);
		manifest_free(m);
	} else {
		FUZZ_CHECK(m == NULL);
		FUZZ_CHECK(err[0] != '\0');
	}
	return 0;
}
