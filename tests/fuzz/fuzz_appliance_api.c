/*
 * tests/fuzz/fuzz_appliance_api.c — the body of PATCH /api/v1/nodes/SLOT
 * (appliance/api.c api_parse_node_patch), decoded as http_json_body does
 * (a JSON object, duplicate keys refused). What it accepts is a printable
 * label within LABEL_MAX, an image reference or "" (null), a known boot
 * mode, power settings (an object or null: fuzz_appliance_power.c judges
 * them), and at least one of them.
 */
#include <string.h>

#include "appliance/rackd.h"
#include "images/manifest.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *label, *image, *mode;
	char err[160], n[IMAGE_NAME_MAX + 1], v[IMAGE_NAME_MAX + 1];
	char why[128];
	json_error_t je;
	json_t *body;

	FUZZ_SELFTEST_TRAP(data, size);
	body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    &je);
	if (body == NULL)
		return 0;
	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	err[0] = '\0';
	if (api_parse_node_patch(body, &label, &image, &mode, err,
	    sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		json_decref(body);
		return 0;
	}
	FUZZ_CHECK(label != NULL || image != NULL || mode != NULL ||
	    json_object_get(body, "power") != NULL);
	if (label != NULL) {
		FUZZ_CHECK(strlen(label) <= LABEL_MAX);
		for (const char *p = label; *p != '\0'; p++)
			FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
	}
	if (image != NULL && *image != '\0')
		FUZZ_CHECK(image_ref_parse(image, n, v, why, sizeof(why)) == 0);
	if (mode != NULL)
		FUZZ_CHECK(strcmp(mode, "local") == 0 ||
		    strcmp(mode, "diskless") == 0);
	json_decref(body);
	return 0;
}
