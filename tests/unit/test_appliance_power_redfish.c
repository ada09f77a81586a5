/*
 * tests/unit/test_appliance_power_redfish.c — the redfish power method's
 * settings check (keys, https only, unknown keys, yes/no given as
 * strings or booleans) and its pure parts: the ResetType picked from a
 * system's AllowableValues, PowerState, the first member of a collection
 * and a ComputerSystem's reply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "tests/unit/unit_appliance.h"

#define PIN "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static int
check(const char *json, char *err, size_t errlen)
{
	return unit_power_check(&power_redfish, json, err, errlen);
}

static void
test_check(void **state)
{
	char err[POWER_ERR_MAX];

	(void)state;
	assert_int_equal(check("{\"method\": \"redfish\", \"url\": "
	    "\"https://10.0.0.5\"}", err, sizeof(err)), 0);
	assert_int_equal(check("{\"method\": \"redfish\", \"url\": "
	    "\"https://bmc1:8443/\", \"user\": \"admin\", \"password\": \"x\","
	    " \"system\": \"/redfish/v1/Systems/1\", \"ca_file\": "
	    "\"/etc/rackd/bmc.pem\", \"insecure\": \"no\"}", err,
	    sizeof(err)), 0);
	assert_int_equal(check("{\"url\": \"https://b\", \"pin\": \"" PIN
	    "\"}", err, sizeof(err)), 0);
	assert_int_equal(check("{\"url\": \"https://b\", \"insecure\": true}",
	    err, sizeof(err)), 0);
	assert_int_equal(check("{\"url\": \"https://b\", \"insecure\": "
	    "\"yes\"}", err, sizeof(err)), 0);
	assert_int_equal(check("{\"url\": \"https://b\", \"insecure\": 0}",
	    err, sizeof(err)), 0);

	assert_int_equal(check("{\"method\": \"redfish\"}", err, sizeof(err)),
	    -1);
	assert_string_equal(err, "redfish: url is required "
	    "(https://HOST[:PORT] of the BMC)");
	assert_int_equal(check("{\"url\": \"http://10.0.0.5\"}", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "https"));
	assert_int_equal(check("{\"url\": \"https://10.0.0.5/redfish\"}", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "without a path"));
	assert_int_equal(check("{\"url\": \"https://u:p@10.0.0.5\"}", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "user or password"));
	assert_null(strstr(err, "u:p"));
	assert_int_equal(check("{\"url\": \"https://\"}", err, sizeof(err)),
	    -1);
	assert_int_equal(check("{\"url\": \"https://b\", \"port\": 1}", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown key port"));
	assert_int_equal(check("{\"url\": 5}", err, sizeof(err)), -1);
	assert_string_equal(err, "redfish: url must be a string");
	assert_int_equal(check("{\"url\": \"https://b\", \"insecure\": "
	    "\"maybe\"}", err, sizeof(err)), -1);
	assert_string_equal(err, "redfish: insecure must be yes or no");
	assert_int_equal(check("{\"url\": \"https://b\", \"insecure\": 2}",
	    err, sizeof(err)), -1);
	assert_int_equal(check("{\"url\": \"https://b\", \"password\": "
	    "\"x\"}", err, sizeof(err)), -1);
	assert_int_equal(check("{\"url\": \"https://b\", \"system\": "
	    "\"Systems/1\"}", err, sizeof(err)), -1);
	assert_int_equal(check("{\"url\": \"https://b\", \"ca_file\": "
	    "\"bmc.pem\"}", err, sizeof(err)), -1);
	assert_int_equal(check("{\"url\": \"https://b\", \"pin\": "
	    "\"md5//abc\"}", err, sizeof(err)), -1);
	assert_int_equal(check("{\"url\": \"https://b\", \"insecure\": "
	    "\"yes\", \"pin\": \"" PIN "\"}", err, sizeof(err)), -1);
	assert_int_equal(check("[1]", err, sizeof(err)), -1);
}

static void
test_caps(void **state)
{
	(void)state;
	assert_string_equal(power_redfish.name, "redfish");
	for (int op = 0; op < POWER_OPS; op++)
		assert_true(power_redfish.caps & POWER_CAN(op));
	assert_string_equal(power_redfish.secrets[0], "password");
	assert_null(power_redfish.secrets[1]);
}

#define BIT(r)	(1u << (r))

static void
test_reset_type(void **state)
{
	(void)state;
	/* Nothing listed: the standard values. */
	assert_string_equal(redfish_reset_type(POWER_ON, 0), "On");
	assert_string_equal(redfish_reset_type(POWER_OFF, 0), "ForceOff");
	assert_string_equal(redfish_reset_type(POWER_CYCLE, 0),
	    "ForceRestart");
	assert_null(redfish_reset_type(POWER_STATUS, 0));
	/* Off: GracefulShutdown when ForceOff is not offered. */
	assert_string_equal(redfish_reset_type(POWER_OFF,
	    BIT(RF_RESET_ON) | BIT(RF_RESET_FORCE_OFF) |
	    BIT(RF_RESET_GRACEFUL_SHUTDOWN)), "ForceOff");
	assert_string_equal(redfish_reset_type(POWER_OFF,
	    BIT(RF_RESET_ON) | BIT(RF_RESET_GRACEFUL_SHUTDOWN)),
	    "GracefulShutdown");
	assert_null(redfish_reset_type(POWER_OFF, BIT(RF_RESET_ON)));
	/* Cycle: PowerCycle, then ForceRestart, then GracefulRestart. */
	assert_string_equal(redfish_reset_type(POWER_CYCLE,
	    BIT(RF_RESET_POWER_CYCLE) | BIT(RF_RESET_FORCE_RESTART)),
	    "PowerCycle");
	assert_string_equal(redfish_reset_type(POWER_CYCLE,
	    BIT(RF_RESET_FORCE_RESTART) | BIT(RF_RESET_GRACEFUL_RESTART)),
	    "ForceRestart");
	assert_string_equal(redfish_reset_type(POWER_CYCLE,
	    BIT(RF_RESET_GRACEFUL_RESTART)), "GracefulRestart");
	/* On: On, ForceOn, PushPowerButton. */
	assert_string_equal(redfish_reset_type(POWER_ON,
	    BIT(RF_RESET_FORCE_ON) | BIT(RF_RESET_PUSH_POWER_BUTTON)),
	    "ForceOn");
	assert_string_equal(redfish_reset_type(POWER_ON,
	    BIT(RF_RESET_PUSH_POWER_BUTTON)), "PushPowerButton");
	assert_null(redfish_reset_type(POWER_ON, BIT(RF_RESET_NMI)));
	assert_string_equal(redfish_reset_name(RF_RESET_NMI), "Nmi");
}

static void
test_power_state(void **state)
{
	(void)state;
	assert_int_equal(redfish_power_state("On"), POWER_IS_ON);
	assert_int_equal(redfish_power_state("Off"), POWER_IS_OFF);
	assert_int_equal(redfish_power_state("PoweringOn"), POWER_UNKNOWN);
	assert_int_equal(redfish_power_state("on"), POWER_UNKNOWN);
	assert_int_equal(redfish_power_state(NULL), POWER_UNKNOWN);
}

static int
members(const char *json, char *path, size_t len, char *err)
{
	return redfish_first_member(json, strlen(json), path, len, err,
	    POWER_ERR_MAX);
}

static void
test_first_member(void **state)
{
	char path[REDFISH_PATH_MAX], err[POWER_ERR_MAX];

	(void)state;
	assert_int_equal(members("{\"Members\": [{\"@odata.id\": "
	    "\"/redfish/v1/Systems/437XR1138R2\"}, {\"@odata.id\": "
	    "\"/redfish/v1/Systems/2\"}]}", path, sizeof(path), err), 0);
	assert_string_equal(path, "/redfish/v1/Systems/437XR1138R2");
	assert_int_equal(members("{\"Members\": []}", path, sizeof(path),
	    err), -1);
	assert_string_equal(err, "the collection has no members");
	assert_int_equal(members("{\"Members\": [{\"@odata.id\": "
	    "\"/a b\"}]}", path, sizeof(path), err), -1);
	assert_int_equal(members("{\"Members\": [{\"@odata.id\": 5}]}", path,
	    sizeof(path), err), -1);
	assert_int_equal(members("{\"Members\": [{\"@odata.id\": "
	    "\"/redfish/v1/Systems/1\"}]}", path, 8, err), -1);
	assert_int_equal(members("[]", path, sizeof(path), err), -1);
	assert_int_equal(members("{\"Members\": ", path, sizeof(path), err),
	    -1);
	assert_non_null(strstr(err, "not JSON"));
}

static int
parse_sys(const char *json, struct redfish_system *sys, char *err)
{
	return redfish_parse_system(json, strlen(json), sys, err,
	    POWER_ERR_MAX);
}

static void
test_parse_system(void **state)
{
	const char *full = "{\"@odata.id\": \"/redfish/v1/Systems/1\", "
	    "\"@odata.etag\": \"W/\\\"12\\\"\", \"PowerState\": \"On\", "
	    "\"Boot\": {\"BootSourceOverrideTarget@Redfish.AllowableValues\": "
	    "[\"None\", \"Pxe\", \"Cd\"]}, \"Actions\": "
	    "{\"#ComputerSystem.Reset\": {\"target\": "
	    "\"/redfish/v1/Systems/1/Actions/ComputerSystem.Reset\", "
	    "\"ResetType@Redfish.AllowableValues\": [\"On\", "
	    "\"GracefulShutdown\", \"PowerCycle\", \"Suspend\"]}}}";
	struct redfish_system sys;
	char err[POWER_ERR_MAX];

	(void)state;
	assert_int_equal(redfish_parse_system(full, strlen(full), &sys, err,
	    sizeof(err)), 0);
	assert_int_equal(sys.state, POWER_IS_ON);
	assert_string_equal(sys.etag, "W/\"12\"");
	assert_string_equal(sys.reset_target,
	    "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset");
	assert_true(sys.resets_listed);
	assert_int_equal(sys.resets, BIT(RF_RESET_ON) |
	    BIT(RF_RESET_GRACEFUL_SHUTDOWN) | BIT(RF_RESET_POWER_CYCLE));
	assert_true(sys.boots_listed);
	assert_int_equal(sys.boots, BIT(RF_BOOT_NONE) | BIT(RF_BOOT_PXE));
	assert_string_equal(redfish_reset_type(POWER_OFF, sys.resets),
	    "GracefulShutdown");

	assert_int_equal(parse_sys("{\"PowerState\": \"Off\"}", &sys, err),
	    0);
	assert_int_equal(sys.state, POWER_IS_OFF);
	assert_string_equal(sys.etag, "");
	assert_string_equal(sys.reset_target, "");
	assert_false(sys.resets_listed);
	assert_false(sys.boots_listed);

	assert_int_equal(parse_sys("{\"Actions\": {\"#ComputerSystem.Reset\": "
	    "{\"target\": \"http://x/y\"}}}", &sys, err), -1);
	assert_int_equal(parse_sys("{\"@odata.etag\": \"a\\r\\nb\"}", &sys,
	    err), -1);
	assert_int_equal(parse_sys("\"On\"", &sys, err), -1);
	assert_int_equal(redfish_parse_system("{}", REDFISH_REPLY_MAX + 1,
	    &sys, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_reset_type),
		cmocka_unit_test(test_power_state),
		cmocka_unit_test(test_first_member),
		cmocka_unit_test(test_parse_system),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
