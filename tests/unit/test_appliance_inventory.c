/*
 * tests/unit/test_appliance_inventory.c — appliance/inventory.c: the
 * strict check of a posted inventory (every field, its type and bounds,
 * nothing else) and what a comparison of two records calls a change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "appliance/rackd.h"

#define GOOD \
	"{\"system\":{\"vendor\":\"V\",\"model\":\"M\",\"serial\":\"S1\"," \
	"\"uuid\":\"u1\"},\"cpus\":{\"model\":\"c\",\"sockets\":1," \
	"\"cores\":2,\"threads\":4},\"memory_bytes\":%s,\"disks\":[" \
	"{\"name\":\"vda\",\"path\":\"/dev/vda\",\"model\":\"\"," \
	"\"serial\":\"%s\",\"size_bytes\":100,\"rotational\":false," \
	"\"smart\":\"%s\"}],\"nics\":[{\"name\":\"eth0\",\"mac\":\"%s\"," \
	"\"driver\":\"virtio_net\",\"speed_mbps\":%s}],\"firmware\":" \
	"{\"mode\":\"%s\",\"secure_boot\":%s}%s}"

static json_t *
parse(const char *mem, const char *serial, const char *smart,
    const char *mac, const char *speed, const char *mode, const char *sb,
    const char *extra, char *err, size_t errlen)
{
	char text[4096];
	json_t *o = NULL;

	snprintf(text, sizeof(text), GOOD, mem, serial, smart, mac, speed,
	    mode, sb, extra);
	if (inventory_parse(text, strlen(text), &o, err, errlen) != 0)
		return NULL;
	return o;
}

static json_t *
good(const char *mem, const char *serial, const char *mac)
{
	char err[ERR_MAX];
	json_t *o = parse(mem, serial, "passed", mac, "1000", "uefi", "null",
	    "", err, sizeof(err));

	if (o == NULL)
		fail_msg("refused: %s", err);
	return o;
}

static void
test_parse(void **state)
{
	char err[ERR_MAX];
	json_t *o;

	(void)state;
	o = good("1024", "D1", "52:54:00:12:34:56");
	json_decref(o);
	o = parse("0", "", "unknown", "", "null", "bios", "false", "", err,
	    sizeof(err));
	assert_non_null(o);
	json_decref(o);
	/* Each wrong field is named. */
	assert_null(parse("-1", "D1", "passed", "", "1", "bios", "true", "",
	    err, sizeof(err)));
	assert_non_null(strstr(err, "memory_bytes"));
	assert_null(parse("1", "D1", "ok", "", "1", "bios", "true", "", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "disks[0].smart"));
	assert_null(parse("1", "D1", "passed", "52:54:00:12:34:5G", "1", "bios",
	    "true", "", err, sizeof(err)));
	assert_non_null(strstr(err, "nics[0].mac"));
	assert_null(parse("1", "D1", "passed", "52:54:00:12:34:5A", "1", "bios",
	    "true", "", err, sizeof(err)));
	assert_null(parse("1", "D1", "passed", "", "\"fast\"", "bios", "true",
	    "", err, sizeof(err)));
	assert_non_null(strstr(err, "nics[0].speed_mbps"));
	assert_null(parse("1", "D1", "passed", "", "1", "efi", "true", "", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "firmware.mode"));
	assert_null(parse("1", "D1", "passed", "", "1", "bios", "1", "", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "firmware.secure_boot"));
	assert_null(parse("1", "D1", "passed", "", "1", "bios", "true",
	    ",\"owner\":\"x\"", err, sizeof(err)));
	assert_non_null(strstr(err, "owner: not a field"));
	assert_null(parse("1", "a\\tb", "passed", "", "1", "bios", "true", "",
	    err, sizeof(err)));
	assert_non_null(strstr(err, "disks[0].serial"));
	assert_null(parse("1.5", "D1", "passed", "", "1", "bios", "true", "",
	    err, sizeof(err)));
	assert_int_equal(inventory_parse("{}", 2, &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "system: missing"));
	assert_int_equal(inventory_parse("[1]", 3, &o, err, sizeof(err)), -1);
	assert_int_equal(inventory_parse("{\"a\":1,\"a\":2}", 13, &o, err,
	    sizeof(err)), -1);
}

static void
test_long(void **state)
{
	char serial[INVENTORY_TEXT_MAX + 2], err[ERR_MAX];
	json_t *o;

	(void)state;
	memset(serial, 'x', sizeof(serial) - 1);
	serial[sizeof(serial) - 1] = '\0';
	assert_null(parse("1", serial, "passed", "", "1", "bios", "true", "",
	    err, sizeof(err)));
	serial[INVENTORY_TEXT_MAX] = '\0';
	o = parse("1", serial, "passed", "", "1", "bios", "true", "", err,
	    sizeof(err));
	assert_non_null(o);
	json_decref(o);
}

static void
test_compare(void **state)
{
	json_t *a = good("2048", "D1", "52:54:00:12:34:56");
	json_t *same = good("2048", "D1", "52:54:00:12:34:56");
	json_t *b = good("1024", "D2", "52:54:00:12:34:57");
	json_t *ch = json_array();

	(void)state;
	assert_int_equal(inventory_compare(a, same, ch), 0);
	assert_int_equal(json_array_size(ch), 0);
	/* less memory, a disk gone and one new, a NIC gone and one new */
	assert_int_equal(inventory_compare(a, b, ch), 5);
	assert_string_equal(json_string_value(json_array_get(ch, 0)),
	    "less memory: 1024 bytes (was 2048)");
	assert_string_equal(json_string_value(json_array_get(ch, 1)),
	    "disk serial D1 (vda) is gone");
	assert_string_equal(json_string_value(json_array_get(ch, 2)),
	    "disk serial D2 (vda) is new");
	assert_non_null(strstr(json_string_value(json_array_get(ch, 4)),
	    "NIC mac 52:54:00:12:34:57 (eth0) is new"));
	json_array_clear(ch);
	/* another machine */
	json_object_set_new(json_object_get(b, "system"), "serial",
	    json_string("S2"));
	assert_true(inventory_compare(same, b, ch) > 0);
	assert_non_null(strstr(json_string_value(json_array_get(ch, 0)),
	    "a different machine: system serial S2"));
	json_decref(a);
	json_decref(same);
	json_decref(b);
	json_decref(ch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
