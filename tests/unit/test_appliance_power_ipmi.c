/*
 * tests/unit/test_appliance_power_ipmi.c — the settings of the ipmi power
 * method (appliance/power_ipmi.c check()): the keys it knows and refuses,
 * the ranges of port and cipher suite, strings and numbers alike (the
 * configuration file gives "623", the API 623), and run() refusing before
 * any packet what it cannot do. The method against a BMC is
 * tests/integration/ipmi_qemu.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "tests/unit/unit_appliance.h"

/* check() of the JSON text js: its result, its error in err. */
static int
check(const char *js, char *err, size_t errlen)
{
	return unit_power_check(&power_ipmi, js, err, errlen);
}

#define GOOD(js) do {							\
	char e_[POWER_ERR_MAX];						\
	if (check((js), e_, sizeof(e_)) != 0) {				\
		print_error("%s: refused: %s\n", (js), e_);		\
		fail();							\
	}								\
} while (0)

#define BAD(js, why) do {						\
	char e_[POWER_ERR_MAX];						\
	assert_int_equal(check((js), e_, sizeof(e_)), -1);		\
	assert_contains(e_, (why));					\
} while (0)

static void
test_method(void **state)
{
	(void)state;
	assert_string_equal(power_ipmi.name, "ipmi");
	for (int op = 0; op < POWER_OPS; op++)
		assert_true(power_ipmi.caps & POWER_CAN(op));
	assert_string_equal(power_ipmi.secrets[0], "password");
	assert_null(power_ipmi.secrets[1]);
}

static void
test_keys(void **state)
{
	(void)state;
	GOOD("{}");
	GOOD("{\"method\": \"ipmi\"}");
	GOOD("{\"method\": \"ipmi\", \"address\": \"10.0.0.5\", \"port\": 623,"
	    " \"user\": \"admin\", \"password\": \"secret\", \"protocol\":"
	    " \"lanplus\", \"cipher_suite\": 17, \"privilege\": \"operator\","
	    " \"boot_type\": \"efi\"}");
	GOOD("{\"address\": \"bmc-3.rack.example\"}");
	GOOD("{\"address\": null, \"user\": \"\"}");
	BAD("{\"pasword\": \"x\"}", "unknown key \"pasword\"");
	BAD("{\"address\": \"10.0.0.5\", \"Port\": 623}", "unknown key");
	BAD("{\"method\": \"redfish\"}", "\"method\" is not \"ipmi\"");
	BAD("[]", "must be an object");
	BAD("{\"address\": 10}", "\"address\" must be a string");
	BAD("{\"address\": \"\"}", "\"address\" must be a host name");
	BAD("{\"address\": \"10.0.0.5:623\"}", "without a port");
	BAD("{\"address\": \"fe80::1\"}", "IPv4");
	BAD("{\"address\": \"a b\"}", "host name");
	BAD("{\"address\": \"-x\"}", "host name");
	BAD("{\"address\": \"a\\u0000b\"}", "NUL");
	BAD("{\"address\": \"" UNIT_HEX64("a") "a\"}", "longer than 64");
	BAD("{\"user\": \"seventeen-chars-x\"}", "\"user\" is longer than 16");
	GOOD("{\"user\": \"sixteen-chars-xx\"}");
	BAD("{\"password\": \"twenty-one-characters\"}", "longer than 20");
	GOOD("{\"password\": \"twenty-characters-xx\"}");
	/* IPMI 1.5 passwords are 16 at most */
	BAD("{\"password\": \"twenty-characters-xx\", \"protocol\": \"lan\"}",
	    "too long for \"protocol\": \"lan\"");
	GOOD("{\"password\": \"sixteen-chars-xx\", \"protocol\": \"lan\"}");
	BAD("{\"protocol\": \"ipmi2\"}",
	    "\"protocol\" must be \"lan\" or \"lanplus\"");
	BAD("{\"privilege\": \"user\"}",
	    "\"privilege\" must be \"operator\" or \"admin\"");
	BAD("{\"boot_type\": \"uefi\"}", "\"bios\" or \"efi\"");
	BAD("{\"boot_type\": 1}", "\"boot_type\" must be");
	/* words in any case */
	GOOD("{\"protocol\": \"LAN\", \"privilege\": \"Admin\","
	    " \"boot_type\": \"EFI\"}");
}

static void
test_numbers(void **state)
{
	(void)state;
	/* strings (the configuration file) and numbers (the API) alike */
	GOOD("{\"port\": 623}");
	GOOD("{\"port\": \"623\"}");
	GOOD("{\"port\": 1}");
	GOOD("{\"port\": \"65535\"}");
	BAD("{\"port\": 0}", "\"port\" must be from 1 to 65535");
	BAD("{\"port\": \"0\"}", "from 1 to 65535");
	BAD("{\"port\": 65536}", "from 1 to 65535");
	BAD("{\"port\": -1}", "from 1 to 65535");
	BAD("{\"port\": \"99999999999999999999999\"}", "from 1 to 65535");
	BAD("{\"port\": \"623 \"}", "\"port\" must be a whole number");
	BAD("{\"port\": \" 623\"}", "whole number");
	BAD("{\"port\": \"+623\"}", "whole number");
	BAD("{\"port\": \"0x26f\"}", "whole number");
	BAD("{\"port\": \"\"}", "whole number");
	BAD("{\"port\": 623.0}", "whole number");
	BAD("{\"port\": true}", "whole number");
	GOOD("{\"cipher_suite\": 3}");
	GOOD("{\"cipher_suite\": \"0\"}");
	GOOD("{\"cipher_suite\": \"17\"}");
	GOOD("{\"cipher_suite\": 12}");
	BAD("{\"cipher_suite\": 4}", "\"cipher_suite\" 4 is not one");
	BAD("{\"cipher_suite\": \"13\"}", "13 is not one");
	BAD("{\"cipher_suite\": 20}", "\"cipher_suite\" must be from 0");
	BAD("{\"cipher_suite\": -3}", "must be from 0");
}

static void
test_run_refuses(void **state)
{
	struct power_target t;
	enum power_state st = POWER_UNKNOWN;
	char err[POWER_ERR_MAX];
	json_t *s = json_pack("{s:s}", "user", "admin");

	(void)state;
	memset(&t, 0, sizeof(t));
	t.slot = "usb3";
	t.settings = s;
	t.timeout_ms = POWER_TIMEOUT_MS;
	/* no "address" and no BMC link: nothing is sent */
	assert_int_equal(power_ipmi.run(&t, POWER_STATUS, &st, err,
	    sizeof(err)), -1);
	assert_contains(err, "no BMC address");
	assert_contains(err, "slot usb3");
	/* a lease that is no IPv4 */
	t.bmc_addr = "fe80::1";
	assert_int_equal(power_ipmi.run(&t, POWER_STATUS, &st, err,
	    sizeof(err)), -1);
	assert_contains(err, "is not a host name or an IPv4 address");
	/* bad settings are refused by run() too */
	json_object_set_new(s, "port", json_string("x"));
	t.bmc_addr = "10.0.0.5";
	assert_int_equal(power_ipmi.run(&t, POWER_ON, &st, err, sizeof(err)),
	    -1);
	assert_contains(err, "\"port\" must be a whole number");
	assert_int_equal(st, POWER_UNKNOWN);
	json_decref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_method),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_run_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
