/*
 * tests/unit/test_agent_inventory.c — rack-agent's inventory read from a
 * fake sysfs/proc/dev tree (dmi/id, cpuinfo, memory blocks, two disks
 * with serials where virtio-blk and NVMe keep them, a NIC, BIOS), and
 * the SMBIOS table's parser (type 1's strings and UUID, type 17's sizes,
 * a malformed table refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxe/agent/agent.h"
#include "tests/unit/unit.h"

static char root[256];

static void
put(const char *path, const char *text)
{
	char p[1024], *s;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, path);
	for (s = p + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
}

static void
link_to(const char *path, const char *target)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", root, path);
	assert_int_equal(symlink(target, p), 0);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/test_agent_inventory.XXXXXX");
	assert_non_null(mkdtemp(root));
	put("sys/class/dmi/id/sys_vendor", "RackTest Inc\n");
	put("sys/class/dmi/id/product_name", "RT-1000  \n");
	put("sys/class/dmi/id/product_serial", "SN-4242\n");
	put("sys/class/dmi/id/product_uuid",
	    "5E1F4C2A-0B3D-4C6E-8F70-91A2B3C4D5E6\n");
	put("proc/cpuinfo",
	    "processor\t: 0\nmodel name\t: Test CPU\nphysical id\t: 0\n"
	    "cpu cores\t: 2\n\nprocessor\t: 1\nmodel name\t: Test CPU\n"
	    "physical id\t: 0\ncpu cores\t: 2\n\nprocessor\t: 2\n"
	    "model name\t: Test CPU\nphysical id\t: 1\ncpu cores\t: 2\n\n");
	put("proc/meminfo", "MemTotal:       1000000 kB\n");
	put("sys/devices/system/memory/block_size_bytes", "8000000\n");
	put("sys/devices/system/memory/memory0/online", "1\n");
	put("sys/devices/system/memory/memory1/online", "1\n");
	put("sys/devices/system/memory/memory2/online", "0\n");
	put("sys/block/vda/size", "196608\n");
	put("sys/block/vda/serial", "VBLK-0001\n");
	put("sys/block/vda/queue/rotational", "1\n");
	put("sys/block/nvme0n1/size", "131072\n");
	put("sys/block/nvme0n1/queue/rotational", "0\n");
	put("sys/block/nvme0n1/device/serial", "NVME-0001   \n");
	put("sys/block/nvme0n1/device/model", "QEMU NVMe Ctrl\n");
	put("sys/block/loop0/size", "8\n");
	put("sys/class/net/lo/address", "00:00:00:00:00:00\n");
	put("sys/class/net/eth0/address", "52:54:00:AB:CD:EF\n");
	put("sys/class/net/eth0/speed", "1000\n");
	put("sys/bus/virtio/drivers/virtio_net/.keep", "");
	{
		char p[1024];
		snprintf(p, sizeof(p), "%s/sys/class/net/eth0/device", root);
		mkdir(p, 0755);
	}
	link_to("sys/class/net/eth0/device/driver",
	    "../../../../bus/virtio/drivers/virtio_net");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *
s(json_t *o, const char *obj, const char *key)
{
	return json_string_value(json_object_get(obj ? json_object_get(o, obj) :
	    o, key));
}

static void
test_read(void **state)
{
	char sys[300], proc[300], dev[300];
	struct disk_env env = { sys, proc, dev };
	json_t *o, *d;

	(void)state;
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(dev, sizeof(dev), "%s/dev", root);
	assert_non_null(o = inventory_read(&env, 0));
	assert_string_equal(s(o, "system", "vendor"), "RackTest Inc");
	assert_string_equal(s(o, "system", "model"), "RT-1000");
	assert_string_equal(s(o, "system", "serial"), "SN-4242");
	assert_string_equal(s(o, "system", "uuid"),
	    "5e1f4c2a-0b3d-4c6e-8f70-91a2b3c4d5e6");
	assert_string_equal(s(o, "cpus", "model"), "Test CPU");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o,
	    "cpus"), "sockets")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o,
	    "cpus"), "cores")), 4);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o,
	    "cpus"), "threads")), 3);
	/* two online blocks of 128 MiB, not MemTotal */
	assert_int_equal(json_integer_value(json_object_get(o,
	    "memory_bytes")), 2 * 0x8000000);
	/* sorted by name, loop0 left out */
	assert_int_equal(json_array_size(json_object_get(o, "disks")), 2);
	d = json_array_get(json_object_get(o, "disks"), 0);
	assert_string_equal(s(d, NULL, "name"), "nvme0n1");
	assert_string_equal(s(d, NULL, "serial"), "NVME-0001");
	assert_string_equal(s(d, NULL, "model"), "QEMU NVMe Ctrl");
	assert_string_equal(s(d, NULL, "path"), "/dev/nvme0n1");
	assert_int_equal(json_integer_value(json_object_get(d, "size_bytes")),
	    131072 * 512);
	assert_true(json_is_false(json_object_get(d, "rotational")));
	assert_string_equal(s(d, NULL, "smart"), "unknown");
	d = json_array_get(json_object_get(o, "disks"), 1);
	assert_string_equal(s(d, NULL, "serial"), "VBLK-0001");
	assert_true(json_is_true(json_object_get(d, "rotational")));
	/* lo left out; the MAC in lower case; the driver's name */
	assert_int_equal(json_array_size(json_object_get(o, "nics")), 1);
	d = json_array_get(json_object_get(o, "nics"), 0);
	assert_string_equal(s(d, NULL, "mac"), "52:54:00:ab:cd:ef");
	assert_string_equal(s(d, NULL, "driver"), "virtio_net");
	assert_int_equal(json_integer_value(json_object_get(d, "speed_mbps")),
	    1000);
	assert_string_equal(s(o, "firmware", "mode"), "bios");
	json_decref(o);
}

static void
test_dmi(void **state)
{
	/* type 1 (27 bytes formatted), two type 17 (512 MiB, 2048 KiB), end */
	static const uint8_t t1[] = {
		1, 27, 0x01, 0x00, 1, 2, 0, 3,
		0x2a, 0x4c, 0x1f, 0x5e, 0x3d, 0x0b, 0x6e, 0x4c,
		0x8f, 0x70, 0x91, 0xa2, 0xb3, 0xc4, 0xd5, 0xe6,
		6, 0, 0,
		'V', 'e', 'n', 'd', ' ', 0, 'M', 0, 'S', '1', 0, 0,
	};
	uint8_t t[256], m17[0x22];
	struct inv_dmi d;
	size_t n = 0;

	(void)state;
	memcpy(t, t1, sizeof(t1));
	n = sizeof(t1);
	for (int k = 0; k < 2; k++) {
		memset(m17, 0, sizeof(m17));
		m17[0] = 17;
		m17[1] = sizeof(m17);
		m17[0x0c] = k == 0 ? 0x00 : 0x02;	/* 512 MB; 2 KB */
		m17[0x0d] = k == 0 ? 0x02 : 0x80;
		memcpy(t + n, m17, sizeof(m17));
		n += sizeof(m17);
		t[n++] = 0;
		t[n++] = 0;
	}
	t[n++] = 127;
	t[n++] = 4;
	t[n++] = 0;
	t[n++] = 0;
	t[n++] = 0;
	t[n++] = 0;
	assert_int_equal(inventory_dmi_parse(t, n, &d), 0);
	assert_string_equal(d.vendor, "Vend");
	assert_string_equal(d.model, "M");
	assert_string_equal(d.serial, "S1");
	assert_string_equal(d.uuid, "5e1f4c2a-0b3d-4c6e-8f70-91a2b3c4d5e6");
	assert_true(d.memory_bytes == (512ull << 20) + 2048);
	/* cut in the middle of a structure, or a length under 4 */
	assert_int_equal(inventory_dmi_parse(t, 20, &d), -1);
	t[1] = 2;
	assert_int_equal(inventory_dmi_parse(t, n, &d), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test(test_dmi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
