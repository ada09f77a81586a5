/*
 * tests/fuzz/fuzz_appliance_inventory.c — the inventory a node posts
 * (POST /api/v1/agent/jobs/ID/inventory: appliance/inventory.c
 * inventory_parse) and the comparison of what it accepts with itself and
 * with a known record (inventory_compare). What it accepts is an object
 * of the contract's fields alone; compared with itself it has no change;
 * the changes with another are bounded in count and length.
 */
#include <string.h>

#include "appliance/rackd.h"
#include "tests/fuzz/fuzz.h"

static const char known[] =
    "{\"system\":{\"vendor\":\"V\",\"model\":\"M\",\"serial\":\"S1\","
    "\"uuid\":\"u\"},\"cpus\":{\"model\":\"c\",\"sockets\":1,\"cores\":2,"
    "\"threads\":4},\"memory_bytes\":1073741824,\"disks\":[{\"name\":"
    "\"vda\",\"path\":\"/dev/vda\",\"model\":\"\",\"serial\":\"D1\","
    "\"size_bytes\":100,\"rotational\":false,\"smart\":\"unknown\"}],"
    "\"nics\":[{\"name\":\"eth0\",\"mac\":\"52:54:00:00:00:01\",\"driver\":"
    "\"virtio_net\",\"speed_mbps\":null}],\"firmware\":{\"mode\":\"bios\","
    "\"secure_boot\":false}}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *inv = NULL, *base = NULL, *changes, *c;
	char err[ERR_MAX];
	size_t i;

	FUZZ_SELFTEST_TRAP(data, size);
	err[0] = '\0';
	if (inventory_parse((const char *)data, size, &inv, err,
	    sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0' && inv == NULL);
		return 0;
	}
	FUZZ_CHECK(json_is_object(inv) && json_object_size(inv) == 6);
	FUZZ_CHECK(json_array_size(json_object_get(inv, "disks")) <=
	    INVENTORY_DISKS_MAX);
	changes = json_array();
	FUZZ_CHECK(inventory_compare(inv, inv, changes) == 0);
	FUZZ_CHECK(json_array_size(changes) == 0);
	FUZZ_CHECK(inventory_parse(known, strlen(known), &base, err,
	    sizeof(err)) == 0);
	FUZZ_CHECK((size_t)inventory_compare(base, inv, changes) ==
	    json_array_size(changes));
	FUZZ_CHECK(json_array_size(changes) <= INVENTORY_CHANGES_MAX);
	json_array_foreach(changes, i, c)
		FUZZ_CHECK(strlen(json_string_value(c)) < INVENTORY_CHANGE_MAX);
	json_decref(changes);
	json_decref(base);
	json_decref(inv);
	return 0;
}
