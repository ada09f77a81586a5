/*
 * tests/fuzz/fuzz_appliance_erase.c — two small bodies, decoded as
 * http_json_body does (a JSON object, duplicate keys refused): POST
 * /api/v1/nodes/SLOT/erase (appliance/erase.c erase_parse_body: {} or
 * {"method": "auto"|"overwrite"}) and the agent's note, POST
 * /api/v1/agent/jobs/ID/event (appliance/agent.c agent_parse_event: one
 * "message" of 1 to JOB_MESSAGE_MAX - 1 printable ASCII characters).
 */
#include <string.h>

#include "appliance/rackd.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *method, *message;
	char why[ERR_MAX];
	json_error_t je;
	json_t *body;
	size_t n;

	FUZZ_SELFTEST_TRAP(data, size);
	body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    &je);
	if (body == NULL)
		return 0;
	if (!json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	why[0] = '\0';
	if (erase_parse_body(body, &method, why, sizeof(why)) == 0) {
		FUZZ_CHECK(method != NULL);
		FUZZ_CHECK(strcmp(method, "auto") == 0 ||
		    strcmp(method, "overwrite") == 0);
		FUZZ_CHECK(json_object_size(body) <= 1);
	} else
		FUZZ_CHECK(why[0] != '\0' && method == NULL);
	why[0] = '\0';
	if (agent_parse_event(body, &message, why, sizeof(why)) == 0) {
		FUZZ_CHECK(message != NULL);
		n = strlen(message);
		FUZZ_CHECK(n > 0 && n < JOB_MESSAGE_MAX);
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(message[i] >= 0x20 && message[i] < 0x7f);
		FUZZ_CHECK(json_object_size(body) == 1);
	} else
		FUZZ_CHECK(why[0] != '\0' && message == NULL);
	json_decref(body);
	return 0;
}
