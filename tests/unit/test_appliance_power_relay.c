/*
 * tests/unit/test_appliance_power_relay.c — the relay power method's
 * settings check: the device (a hidraw path or serial:XXXXX), the
 * channel 1-8, press and long press lengths in their ranges, given as
 * numbers or strings, a cycle that fits an operation's bound, unknown
 * keys refused; and what it offers (on, off, cycle; no status). A run
 * on a device that is no HID device fails with the reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "tests/unit/unit_appliance.h"

static int
check(const char *json, char *err)
{
	return unit_power_check(&power_relay, json, err, POWER_ERR_MAX);
}

static void
test_check(void **state)
{
	char err[POWER_ERR_MAX];

	(void)state;
	assert_int_equal(check("{\"method\": \"relay\", \"device\": "
	    "\"/dev/hidraw3\", \"channel\": 1}", err), 0);
	assert_int_equal(check("{\"device\": \"serial:QWERT\", \"channel\": "
	    "\"8\", \"press_ms\": \"50\", \"long_press_ms\": 10000}", err), 0);
	assert_int_equal(check("{\"device\": \"/dev/hidraw0\", \"channel\": 2,"
	    " \"press_ms\": 5000, \"long_press_ms\": \"7000\"}", err), 0);

	assert_int_equal(check("{\"channel\": 1}", err), -1);
	assert_non_null(strstr(err, "device is required"));
	assert_int_equal(check("{\"device\": \"/dev/hidraw3\"}", err), -1);
	assert_string_equal(err, "relay: channel is required (1-8)");
	assert_int_equal(check("{\"device\": \"/dev/hidraw3\", \"channel\": 9}",
	    err), -1);
	assert_string_equal(err, "relay: channel must be a number from 1 to "
	    "8");
	assert_int_equal(check("{\"device\": \"/dev/hidraw3\", \"channel\": 0}",
	    err), -1);
	assert_int_equal(check("{\"device\": \"/dev/hidraw3\", \"channel\": "
	    "\"1x\"}", err), -1);
	assert_int_equal(check("{\"device\": \"/dev/hidraw3\", \"channel\": "
	    "\"-1\"}", err), -1);
	assert_int_equal(check("{\"device\": \"/dev/hidraw3\", \"channel\": "
	    "1.5}", err), -1);
	assert_int_equal(check("{\"device\": \"hidraw3\", \"channel\": 1}",
	    err), -1);
	assert_int_equal(check("{\"device\": \"serial:\", \"channel\": 1}",
	    err), -1);
	assert_int_equal(check("{\"device\": \"serial:TOOLONG\", \"channel\": "
	    "1}", err), -1);
	assert_int_equal(check("{\"device\": \"/dev/hidraw3\", \"channel\": 1,"
	    " \"press_ms\": 49}", err), -1);
	assert_string_equal(err, "relay: press_ms must be a number from 50 to "
	    "5000");
	assert_int_equal(check("{\"device\": \"/dev/hidraw3\", \"channel\": 1,"
	    " \"long_press_ms\": 20001}", err), -1);
	/* long press not longer than the press */
	assert_int_equal(check("{\"device\": \"/dev/hidraw3\", \"channel\": 1,"
	    " \"press_ms\": 2000, \"long_press_ms\": 1500}", err), -1);
	assert_non_null(strstr(err, "longer than press_ms"));
	/* a cycle over POWER_TIMEOUT_MS: 12000 + 2000 + 500 + slack */
	assert_int_equal(check("{\"device\": \"/dev/hidraw3\", \"channel\": 1,"
	    " \"long_press_ms\": 12000}", err), -1);
	assert_non_null(strstr(err, "must stay under 15000 ms"));
	assert_int_equal(check("{\"device\": \"/dev/hidraw3\", \"channel\": 1,"
	    " \"relay\": 1}", err), -1);
	assert_non_null(strstr(err, "unknown key relay"));
	assert_int_equal(check("\"x\"", err), -1);
}

static void
test_caps(void **state)
{
	(void)state;
	assert_string_equal(power_relay.name, "relay");
	assert_int_equal(power_relay.caps, POWER_CAN(POWER_ON) |
	    POWER_CAN(POWER_OFF) | POWER_CAN(POWER_CYCLE));
	assert_null(power_relay.secrets[0]);
}

static void
test_run_errors(void **state)
{
	struct power_target t;
	enum power_state st = POWER_IS_ON;
	char err[POWER_ERR_MAX];
	json_t *s;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.slot = "s1";
	t.timeout_ms = POWER_TIMEOUT_MS;
	s = json_pack("{s:s, s:s, s:i}", "method", "relay", "device",
	    "/dev/null", "channel", 1);
	t.settings = s;
	assert_int_equal(power_relay.run(&t, POWER_STATUS, &st, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no status"));
	/* /dev/null opens but is no hidraw device */
	assert_int_equal(power_relay.run(&t, POWER_ON, &st, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "relay /dev/null: cannot open the board"));
	json_decref(s);
	s = json_pack("{s:s, s:i}", "device", "/dev/nonexistent-hidraw",
	    "channel", 1);
	t.settings = s;
	assert_int_equal(power_relay.run(&t, POWER_OFF, &st, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "cannot open the board"));
	/* a bound too short for the long press */
	t.timeout_ms = 3000;
	assert_int_equal(power_relay.run(&t, POWER_OFF, &st, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "do not fit"));
	json_decref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_run_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
