/*
 * tests/fuzz/fuzz_appliance_power_redfish.c — the replies of a BMC's
 * Redfish service (appliance/power_redfish.c): a Systems collection
 * (redfish_first_member) and a ComputerSystem (redfish_parse_system:
 * PowerState, the Reset action's target and AllowableValues, the Boot
 * AllowableValues, @odata.etag). The BMC is outside rackd: whatever it
 * answers must give a clean error or a result that keeps the header's
 * promises (a path that can go into a URL, an ETag of one line).
 */
#include <stdio.h>
#include <string.h>

#include "appliance/rackd.h"
#include "tests/fuzz/fuzz.h"

static void
check_path(const char *p)
{
	FUZZ_CHECK(p[0] == '/' && strlen(p) < REDFISH_PATH_MAX);
	for (; *p != '\0'; p++)
		FUZZ_CHECK((unsigned char)*p > ' ' && (unsigned char)*p < 0x7f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[REDFISH_PATH_MAX], err[POWER_ERR_MAX];
	struct redfish_system sys;
	const char *body = (const char *)data;

	FUZZ_SELFTEST_TRAP(data, size);
	err[0] = '\0';
	if (redfish_first_member(body, size, path, sizeof(path), err,
	    sizeof(err)) == 0)
		check_path(path);
	else
		FUZZ_CHECK(err[0] != '\0');
	err[0] = '\0';
	if (redfish_parse_system(body, size, &sys, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(sys.state == POWER_UNKNOWN || sys.state == POWER_IS_ON ||
	    sys.state == POWER_IS_OFF);
	FUZZ_CHECK(strlen(sys.etag) < REDFISH_ETAG_MAX &&
	    strpbrk(sys.etag, "\r\n") == NULL);
	if (sys.reset_target[0] != '\0')
		check_path(sys.reset_target);
	FUZZ_CHECK(sys.resets < (1u << RF_RESETS));
	FUZZ_CHECK(sys.boots < (1u << RF_BOOTS));
	FUZZ_CHECK(sys.resets == 0 || sys.resets_listed);
	for (int op = POWER_ON; op <= POWER_CYCLE; op++) {
		const char *t = redfish_reset_type(op, sys.resets);

		FUZZ_CHECK(sys.resets != 0 || t != NULL);
	}
	return 0;
}
