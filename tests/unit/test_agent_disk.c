/* tests/unit/test_agent_disk.c — rack-agent: disk rules, picking a disk
 * from a fake sysfs/proc/dev tree (largest, serial, by-path with and
 * without udev's links, what is refused and why), and opening the disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxe/agent/agent.h"
#include "tests/unit/unit.h"

static void
test_rule_parse(void **state)
{
	static const struct {
		const char *s;
		int kind;
		const char *arg;
	} good[] = {
		{ "", DISK_LARGEST, "" },
		{ "largest", DISK_LARGEST, "" },
		{ "serial:S3Z9NB0K123", DISK_SERIAL, "S3Z9NB0K123" },
		{ "serial:WD WCC 1", DISK_SERIAL, "WD WCC 1" },
		{ "path:/dev/disk/by-path/pci-0000:00:1f.2-ata-1", DISK_PATH,
		  "pci-0000:00:1f.2-ata-1" },
		{ "path:pci-0000:00:05.0", DISK_PATH, "pci-0000:00:05.0" },
		{ "dev:/dev/vdb", DISK_DEV, "/dev/vdb" },
		{ "dev:/tmp/disk.img", DISK_DEV, "/tmp/disk.img" },
	};
	static const char *const bad[] = {
		"Largest", "smallest", "serial:", "path:", "path:/dev/sda",
		"path:/dev/disk/by-path/", "path:a/b", "path:..", "dev:",
		"dev:sda", "dev:/", "serial:a\tb", "/dev/sda",
	};
	struct disk_rule r;
	char err[256], *big;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(disk_rule_parse(good[i].s, &r, err,
		    sizeof(err)), 0);
		assert_int_equal(r.kind, good[i].kind);
		assert_string_equal(r.arg, good[i].arg);
	}
	assert_int_equal(disk_rule_parse(NULL, &r, err, sizeof(err)), 0);
	assert_int_equal(r.kind, DISK_LARGEST);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (disk_rule_parse(bad[i], &r, err, sizeof(err)) == 0)
			fail_msg("rule \"%s\" accepted", bad[i]);
	big = malloc(AGENT_RULE_MAX + 8);
	assert_non_null(big);
	memcpy(big, "dev:/", 5);
	memset(big + 5, 'a', AGENT_RULE_MAX);
	big[AGENT_RULE_MAX + 5] = '\0';
	assert_int_equal(disk_rule_parse(big, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	free(big);
}

/* ---- a fake machine ---- */

static void
mkdirs(const char *rel)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", unit_dir, rel);
	for (char *p = path + strlen(unit_dir) + 1; *p != '\0'; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	mkdir(path, 0755);
}

static void
put(const char *rel, const char *text)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", unit_dir, rel);
	unit_write(path, text, strlen(text));
}

static void
link_to(const char *target, const char *rel)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", unit_dir, rel);
	assert_int_equal(symlink(target, path), 0);
}

/* A disk in sys/devices/DEVPATH/block/NAME, linked from sys/block. */
static void
disk(const char *devpath, const char *name, const char *sectors,
    const char *devno, int removable, int has_device)
{
	char d[512], f[600], target[600];

	snprintf(d, sizeof(d), "sys/devices/%s/block/%s", devpath, name);
	mkdirs(d);
	snprintf(f, sizeof(f), "%s/size", d);
	put(f, sectors);
	snprintf(f, sizeof(f), "%s/dev", d);
	put(f, devno);
	snprintf(f, sizeof(f), "%s/removable", d);
	put(f, removable ? "1\n" : "0\n");
	snprintf(f, sizeof(f), "%s/ro", d);
	put(f, "0\n");
	snprintf(f, sizeof(f), "%s/holders", d);
	mkdirs(f);
	if (has_device) {
		snprintf(f, sizeof(f), "%s/device", d);
		mkdirs(f);
	}
	snprintf(target, sizeof(target), "../devices/%s/block/%s", devpath,
	    name);
	snprintf(f, sizeof(f), "sys/block/%s", name);
	link_to(target, f);
	snprintf(f, sizeof(f), "dev/%s", name);
	put(f, "");
}

static void
partition(const char *devpath, const char *disk_name, const char *name,
    const char *devno)
{
	char d[512], f[600];

	snprintf(d, sizeof(d), "sys/devices/%s/block/%s/%s", devpath, disk_name,
	    name);
	mkdirs(d);
	snprintf(f, sizeof(f), "%s/partition", d);
	put(f, "1\n");
	snprintf(f, sizeof(f), "%s/dev", d);
	put(f, devno);
	snprintf(f, sizeof(f), "%s/holders", d);
	mkdirs(f);
}

#define SATA	"pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0"
#define SATA2	"pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0"
#define SATA3	"pci0000:00/0000:00:1f.2/ata3/host2/target2:0:0/2:0:0:0"
#define SATA4	"pci0000:00/0000:00:1f.2/ata4/host3/target3:0:0/3:0:0:0"
#define SATA5	"pci0000:00/0000:00:1f.2/ata5/host4/target4:0:0/4:0:0:0"
#define SATA6	"pci0000:00/0000:00:1f.2/ata6/host5/target5:0:0/5:0:0:0"
#define USB	"pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/" \
	"target6:0:0/6:0:0:0"
#define VIRTIO	"pci0000:00/0000:00:05.0/virtio2"
#define NVME	"pci0000:00/0000:00:04.0/nvme/nvme0"

static struct disk_env env;
static char env_sys[256], env_proc[256], env_dev[256];

static int
machine_setup(void **state)
{
	static const char pg80[] = { 0, (char)0x80, 0, 10, 'S', 'D', 'A', 'S',
	    'E', 'R', 'I', 'A', 'L', ' ' };
	char f[600];

	if (unit_setup(state) != 0)
		return -1;
	mkdirs("sys/block");
	mkdirs("proc/self");
	mkdirs("dev/disk/by-path");
	/* the one to pick by default: largest of the fit ones */
	disk(VIRTIO, "vda", "3000\n", "254:0\n", 0, 1);
	put("sys/devices/" VIRTIO "/block/vda/serial", "VIRT123\n");
	disk(NVME, "nvme0n1", "2000\n", "259:0\n", 0, 1);
	put("sys/devices/" NVME "/block/nvme0n1/device/serial",
	    "  NVME-SN  \n");
	disk(SATA, "sda", "1000\n", "8:0\n", 0, 1);
	partition(SATA, "sda", "sda1", "8:1\n");
	snprintf(f, sizeof(f), "%s/sys/devices/" SATA "/block/sda/device/"
	    "vpd_pg80", unit_dir);
	unit_write(f, pg80, sizeof(pg80));
	/* bigger, but each unfit */
	disk(SATA2, "sdb", "900000\n", "8:16\n", 1, 1);	/* removable */
	put("sys/devices/" SATA2 "/block/sdb/device/serial", "STICK\n");
	disk(USB, "sdc", "900000\n", "8:32\n", 0, 1);	/* on USB */
	put("sys/devices/" USB "/block/sdc/device/serial", "USBDISK\n");
	disk(SATA3, "sdd", "900000\n", "8:48\n", 0, 1);	/* sdd1 mounted */
	partition(SATA3, "sdd", "sdd1", "8:49\n");
	put("sys/devices/" SATA3 "/block/sdd/device/serial", "MOUNTED\n");
	disk(SATA4, "sde", "900000\n", "8:64\n", 0, 1);	/* read-only */
	put("sys/devices/" SATA4 "/block/sde/ro", "1\n");
	disk(SATA5, "sdf", "900000\n", "8:80\n", 0, 1);	/* RAID member */
	put("sys/devices/" SATA5 "/block/sdf/holders/md0", "");
	disk(SATA6, "sdg", "900000\n", "8:96\n", 0, 1);	/* swap on sdg2 */
	partition(SATA6, "sdg", "sdg2", "8:98\n");
	disk("virtual", "loop0", "9000000\n", "7:0\n", 0, 0);	/* no device */
	put("proc/self/mountinfo",
	    "22 1 0:21 / /proc rw - proc proc rw\n"
	    "36 35 8:49 / /mnt rw,relatime shared:1 - ext4 /dev/sdd1 rw\n");
	put("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n"
	    "/dev/sdg2                               partition\t1000\t0\t-2\n");
	link_to("../../sda", "dev/disk/by-path/pci-0000:00:1f.2-ata-1");
	put("dev/sda1", "");
	link_to("../../sda1", "dev/disk/by-path/pci-0000:00:1f.2-ata-1-part1");
	snprintf(env_sys, sizeof(env_sys), "%s/sys", unit_dir);
	snprintf(env_proc, sizeof(env_proc), "%s/proc", unit_dir);
	snprintf(env_dev, sizeof(env_dev), "%s/dev", unit_dir);
	env.sys = env_sys;
	env.proc = env_proc;
	env.dev = env_dev;
	return 0;
}

/* Picks by rule text: 0 and the device name (after dev/), or -1 and err. */
static int
pick(const char *rule, char *name, size_t namelen, char *err, size_t errlen)
{
	struct disk_rule r;
	char path[AGENT_PATH_MAX];

	assert_int_equal(disk_rule_parse(rule, &r, err, errlen), 0);
	if (disk_select(&env, &r, path, sizeof(path), err, errlen) != 0)
		return -1;
	if (strncmp(path, env_dev, strlen(env_dev)) == 0)
		snprintf(name, namelen, "%s", path + strlen(env_dev) + 1);
	else
		snprintf(name, namelen, "%s", path);
	return 0;
}

static void
expect_pick(const char *rule, const char *want)
{
	char name[AGENT_PATH_MAX], err[512];

	if (pick(rule, name, sizeof(name), err, sizeof(err)) != 0)
		fail_msg("rule %s: %s", rule, err);
	if (strcmp(name, want) != 0)
		fail_msg("rule %s picked %s, not %s", rule, name, want);
}

static void
expect_refused(const char *rule, const char *why)
{
	char name[AGENT_PATH_MAX], err[512];

	if (pick(rule, name, sizeof(name), err, sizeof(err)) == 0)
		fail_msg("rule %s picked %s", rule, name);
	if (strstr(err, why) == NULL)
		fail_msg("rule %s: error \"%s\" lacks \"%s\"", rule, err, why);
}

static void
test_largest(void **state)
{
	(void)state;
	expect_pick("largest", "vda");
	expect_pick("", "vda");
	/* vda in use now: next largest */
	put("sys/devices/" VIRTIO "/block/vda/holders/dm-0", "");
	expect_pick("largest", "nvme0n1");
}

static void
test_largest_none(void **state)
{
	char err[512], name[AGENT_PATH_MAX];

	(void)state;
	put("sys/devices/" VIRTIO "/block/vda/removable", "1\n");
	put("sys/devices/" NVME "/block/nvme0n1/size", "0\n");
	put("proc/self/mountinfo", "36 35 8:1 / / rw - ext4 /dev/sda1 rw\n"
	    "37 36 8:49 / /mnt rw - ext4 /dev/sdd1 rw\n");
	assert_int_equal(pick("largest", name, sizeof(name), err,
	    sizeof(err)), -1);
	/* every reason is named */
	assert_non_null(strstr(err, "vda removable"));
	assert_non_null(strstr(err, "nvme0n1 empty"));
	assert_non_null(strstr(err, "sda in use: sda1 mounted"));
	assert_non_null(strstr(err, "sdb removable"));
	assert_non_null(strstr(err, "sdc on USB"));
	assert_non_null(strstr(err, "sdd in use: sdd1 mounted"));
	assert_non_null(strstr(err, "sde read-only"));
	assert_non_null(strstr(err, "sdf in use: held by RAID/LVM"));
	assert_non_null(strstr(err, "sdg in use: sdg2 is swap"));
	assert_null(strstr(err, "loop0"));
}

static void
test_no_disks(void **state)
{
	char err[512], name[64], path[600];

	(void)state;
	snprintf(path, sizeof(path), "%s/empty/block", unit_dir);
	mkdirs("empty/block");
	snprintf(path, sizeof(path), "%s/empty", unit_dir);
	env.sys = path;
	assert_int_equal(pick("largest", name, sizeof(name), err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no disks found"));
	snprintf(path, sizeof(path), "%s/nothing", unit_dir);
	assert_int_equal(pick("largest", name, sizeof(name), err,
	    sizeof(err)), -1);
	env.sys = env_sys;
}

static void
test_serial(void **state)
{
	(void)state;
	expect_pick("serial:VIRT123", "vda");	/* virtio: block/serial */
	expect_pick("serial:NVME-SN", "nvme0n1");	/* trimmed */
	expect_pick("serial:SDASERIAL", "sda");	/* SCSI VPD page 0x80 */
	expect_refused("serial:NOPE", "no disk has serial");
	expect_refused("serial:VIRT12", "no disk has serial");
	expect_refused("serial:STICK", "removable; name it with dev:");
	expect_refused("serial:USBDISK", "on USB");
	expect_refused("serial:MOUNTED", "sdd1 mounted");
	/* two disks with one serial: ambiguous */
	put("sys/devices/" SATA4 "/block/sde/device/serial", "VIRT123\n");
	expect_refused("serial:VIRT123", "several disks");
}

static void
test_path(void **state)
{
	(void)state;
	/* udev's link */
	expect_pick("path:/dev/disk/by-path/pci-0000:00:1f.2-ata-1", "sda");
	expect_pick("path:pci-0000:00:1f.2-ata-1", "sda");
	expect_refused("path:pci-0000:00:1f.2-ata-1-part1", "not a whole disk");
	/* no link (no udev in the initramfs): the PCI address decides */
	expect_pick("path:/dev/disk/by-path/pci-0000:00:05.0", "vda");
	expect_pick("path:pci-0000:00:04.0-nvme-1", "nvme0n1");
	expect_refused("path:pci-0000:00:04.0-nvme-2", "no disk at");
	expect_refused("path:pci-0000:00:09.0", "no disk at");
	expect_refused("path:pci-0000:00:1f.2-ata-3", "several disks");
	expect_refused("path:pci-0000:00:14.0-usb-0:1:1.0-scsi-0:0:0:0",
	    "on USB");
	expect_refused("path:platform-3f980000.usb", "only pci-");
}

static void
test_dev(void **state)
{
	(void)state;
	/* dev: is taken as given: no sysfs checks */
	expect_pick("dev:/dev/sdb", "/dev/sdb");
	expect_pick("dev:/srv/disk.img", "/srv/disk.img");
}

static void
test_open(void **state)
{
	char path[600], err[512];
	uint64_t size;
	bool blk;
	int fd;
	uint8_t buf[4096];

	(void)state;
	unit_path(path, sizeof(path), "disk.img");
	memset(buf, 0xab, sizeof(buf));
	unit_write(path, buf, sizeof(buf));
	assert_int_equal(disk_open(path, 4096, &fd, &size, &blk, err,
	    sizeof(err)), 0);
	assert_int_equal(size, 4096);
	assert_false(blk);
	close(fd);
	assert_int_equal(disk_open(path, 4097, &fd, &size, &blk, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "the image needs"));
	assert_int_equal(disk_open(unit_dir, 1, &fd, &size, &blk, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "neither a block device nor"));
	unit_path(path, sizeof(path), "missing");
	assert_int_equal(disk_open(path, 1, &fd, &size, &blk, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

static void
test_describe(void **state)
{
	char path[600], what[160];
	uint8_t mbr[64 * 1024];

	(void)state;
	unit_path(path, sizeof(path), "mbr.img");
	memset(mbr, 0, sizeof(mbr));
	unit_write(path, mbr, sizeof(mbr));
	disk_describe(path, what, sizeof(what));
	assert_string_equal(what, "nothing recognised");
	/* one DOS partition: type 0x83, from sector 1, 64 sectors */
	mbr[446 + 4] = 0x83;
	mbr[446 + 8] = 1;
	mbr[446 + 12] = 64;
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	unit_write(path, mbr, sizeof(mbr));
	disk_describe(path, what, sizeof(what));
	assert_string_equal(what, "partition table dos");
	unit_path(path, sizeof(path), "missing");
	disk_describe(path, what, sizeof(what));
	assert_string_equal(what, "");
}

static void
test_io(void **state)
{
	char path[600], err[256];
	uint8_t buf[100], back[100];
	bool blk;
	uint64_t size;
	int fd;

	(void)state;
	unit_path(path, sizeof(path), "io.img");
	unit_write(path, "", 0);
	assert_int_equal(truncate(path, 1000), 0);
	assert_int_equal(disk_open(path, 1000, &fd, &size, &blk, err,
	    sizeof(err)), 0);
	unit_random(buf, sizeof(buf), 3);
	assert_int_equal(disk_write(fd, buf, sizeof(buf), 900, err,
	    sizeof(err)), 0);
	assert_int_equal(disk_read(fd, back, sizeof(back), 900, err,
	    sizeof(err)), 0);
	assert_memory_equal(buf, back, sizeof(buf));
	/* reading past the end is an error, not a short read */
	assert_int_equal(disk_read(fd, back, sizeof(back), 950, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "end of disk"));
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_parse),
		cmocka_unit_test_setup_teardown(test_largest, machine_setup,
		    unit_teardown),
		cmocka_unit_test_setup_teardown(test_largest_none,
		    machine_setup, unit_teardown),
		cmocka_unit_test_setup_teardown(test_no_disks, machine_setup,
		    unit_teardown),
		cmocka_unit_test_setup_teardown(test_serial, machine_setup,
		    unit_teardown),
		cmocka_unit_test_setup_teardown(test_path, machine_setup,
		    unit_teardown),
		cmocka_unit_test_setup_teardown(test_dev, machine_setup,
		    unit_teardown),
		cmocka_unit_test_setup_teardown(test_open, unit_setup,
		    unit_teardown),
		cmocka_unit_test_setup_teardown(test_describe, unit_setup,
		    unit_teardown),
		cmocka_unit_test_setup_teardown(test_io, unit_setup,
		    unit_teardown),
	};
	unit_watchdog(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
