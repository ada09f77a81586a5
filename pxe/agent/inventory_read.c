/*
 * inventory_read.c — what the server is, read in C from sysfs, procfs and
 * the SMBIOS table (no tools in the initramfs): system vendor, model,
 * serial and UUID; CPUs; memory installed; every disk (model, serial,
 * size, rotational, SMART health: inventory_disk.c); every NIC (MAC,
 * driver, link speed); the firmware (BIOS or UEFI, Secure Boot). The
 * object is the "inventory" of docs/design.md's contract.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "pxe/agent/agent.h"

/* A sysfs attribute's first line, trimmed, into out ("" if absent). */
static int
read_attr(const char *root, const char *path, char *out, size_t len)
{
	char p[AGENT_PATH_MAX];
	ssize_t n;
	int fd;

	out[0] = '\0';
	snprintf(p, sizeof(p), "%s/%s", root, path);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, out, len - 1);
	close(fd);
	if (n < 0) {
		out[0] = '\0';
		return -1;
	}
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	for (char *c = out; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	while (n > 0 && out[0] != '\0' && out[strlen(out) - 1] == ' ')
		out[strlen(out) - 1] = '\0';
	return 0;
}

/* A whole file (at most max bytes) malloc'd, or NULL. */
static uint8_t *
read_file(const char *root, const char *path, size_t max, size_t *len)
{
	char p[AGENT_PATH_MAX];
	uint8_t *buf;
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, path);
	*len = 0;
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if ((buf = malloc(max + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (*len < max && (n = read(fd, buf + *len, max - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	buf[*len] = '\0';
	return buf;
}

static json_t *
system_json(const struct disk_env *env, struct inv_dmi *dmi)
{
	char v[INV_TEXT_MAX], m[INV_TEXT_MAX], s[INV_TEXT_MAX], u[INV_TEXT_MAX];

	read_attr(env->sys, "class/dmi/id/sys_vendor", v, sizeof(v));
	read_attr(env->sys, "class/dmi/id/product_name", m, sizeof(m));
	read_attr(env->sys, "class/dmi/id/product_serial", s, sizeof(s));
	read_attr(env->sys, "class/dmi/id/product_uuid", u, sizeof(u));
	for (char *c = u; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	/* What dmi/id lacks, the table may have. */
	return json_pack("{s:s,s:s,s:s,s:s}", "vendor", v[0] ? v : dmi->vendor,
	    "model", m[0] ? m : dmi->model, "serial", s[0] ? s : dmi->serial,
	    "uuid", u[0] ? u : dmi->uuid);
}

static json_t *
cpus_json(const struct disk_env *env)
{
	char p[AGENT_PATH_MAX], line[INV_LINE_MAX], model[INV_TEXT_MAX] = "";
	int threads = 0, sockets = 0, cores = 0, cores_here = 0;
	int seen[INV_SOCKETS_MAX] = { 0 }, phys = -1;
	FILE *f;

	snprintf(p, sizeof(p), "%s/cpuinfo", env->proc);
	if ((f = fopen(p, "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			char *val = strchr(line, ':');
			/* A processor's block ends: count its socket once. */
			if (line[0] == '\n') {
				if (phys >= 0 && phys < INV_SOCKETS_MAX &&
				    !seen[phys]) {
					seen[phys] = 1;
					sockets++;
					cores += cores_here;
				}
				phys = -1;
				continue;
			}
			if (val == NULL)
				continue;
			val++;
			val += strspn(val, " \t");
			val[strcspn(val, "\n")] = '\0';
			if (strncmp(line, "processor", 9) == 0)
				threads++;
			else if (strncmp(line, "model name", 10) == 0 &&
			    model[0] == '\0')
				snprintf(model, sizeof(model), "%s", val);
			else if (strncmp(line, "physical id", 11) == 0)
				phys = atoi(val);
			else if (strncmp(line, "cpu cores", 9) == 0)
				cores_here = atoi(val);
		}
		fclose(f);
	}
	if (phys >= 0 && phys < INV_SOCKETS_MAX && !seen[phys]) {
		sockets++;
		cores += cores_here;
	}
	if (sockets == 0 && threads > 0) {
		sockets = 1;
		cores = cores_here > 0 ? cores_here : threads;
	}
	for (char *c = model; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return json_pack("{s:s,s:i,s:i,s:i}", "model", model, "sockets",
	    sockets, "cores", cores, "threads", threads);
}

/* Memory installed: the SMBIOS memory devices, else the online memory
 * blocks of sysfs, else MemTotal. */
static uint64_t
memory_bytes(const struct disk_env *env, const struct inv_dmi *dmi)
{
	char p[AGENT_PATH_MAX], v[INV_TEXT_MAX];
	uint64_t block = 0, total = 0;
	struct dirent *e;
	DIR *d;

	if (dmi->memory_bytes > 0)
		return dmi->memory_bytes;
	if (read_attr(env->sys, "devices/system/memory/block_size_bytes", v,
	    sizeof(v)) == 0)
		block = strtoull(v, NULL, 16);
	snprintf(p, sizeof(p), "%s/devices/system/memory", env->sys);
	if (block > 0 && (d = opendir(p)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			char a[AGENT_PATH_MAX];
			if (strncmp(e->d_name, "memory", 6) != 0 ||
			    !isdigit((unsigned char)e->d_name[6]))
				continue;
			snprintf(a, sizeof(a),
			    "devices/system/memory/%s/online", e->d_name);
			if (read_attr(env->sys, a, v, sizeof(v)) == 0 &&
			    strcmp(v, "1") == 0)
				total += block;
		}
		closedir(d);
		if (total > 0)
			return total;
	}
	if (read_attr(env->proc, "meminfo", v, sizeof(v)) == 0 &&
	    strncmp(v, "MemTotal:", 9) == 0)
		return strtoull(v + 9, NULL, 10) * 1024;
	return 0;
}

/* Block devices that are not disks of the server. */
static int
not_a_disk(const char *name)
{
	static const char *const skip[] = { "loop", "ram", "zram", "dm-", "md",
	    "sr", "fd", "nbd", NULL };

	for (int i = 0; skip[i] != NULL; i++)
		if (strncmp(name, skip[i], strlen(skip[i])) == 0)
			return 1;
	return name[0] == '.';
}

/* The serial of the VPD page 0x80 sysfs keeps (4 bytes of header). */
static void
vpd_serial(const struct disk_env *env, const char *name, char *out,
    size_t len)
{
	char a[AGENT_PATH_MAX];
	uint8_t *b;
	size_t n, k = 0;

	snprintf(a, sizeof(a), "block/%s/device/vpd_pg80", name);
	if ((b = read_file(env->sys, a, INV_VPD_LEN, &n)) == NULL)
		return;
	for (size_t i = 4; n > 4 && i < n && i < 4u + b[3] && k + 1 < len; i++)
		if (b[i] != ' ' || k > 0)
			out[k++] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] :
			    '?';
	while (k > 0 && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
	free(b);
}

static json_t *
disk_json(const struct disk_env *env, const char *name, int probe)
{
	char a[AGENT_PATH_MAX], dev[AGENT_PATH_MAX], v[INV_TEXT_MAX];
	char model[INV_TEXT_MAX], serial[INV_TEXT_MAX];
	int nvme = strncmp(name, "nvme", 4) == 0;
	uint64_t sectors = 0;
	int rot = 0;

	snprintf(dev, sizeof(dev), "%s/%s", env->dev, name);
	snprintf(a, sizeof(a), "block/%s/size", name);
	if (read_attr(env->sys, a, v, sizeof(v)) == 0)
		sectors = strtoull(v, NULL, 10);
	snprintf(a, sizeof(a), "block/%s/queue/rotational", name);
	if (read_attr(env->sys, a, v, sizeof(v)) == 0)
		rot = strcmp(v, "1") == 0;
	snprintf(a, sizeof(a), "block/%s/device/model", name);
	read_attr(env->sys, a, model, sizeof(model));
	/* virtio-blk keeps its serial on the disk, NVMe and others on the
	 * device; SCSI in its VPD page. */
	snprintf(a, sizeof(a), "block/%s/serial", name);
	read_attr(env->sys, a, serial, sizeof(serial));
	if (serial[0] == '\0') {
		snprintf(a, sizeof(a), "block/%s/device/serial", name);
		read_attr(env->sys, a, serial, sizeof(serial));
	}
	if (serial[0] == '\0')
		vpd_serial(env, name, serial, sizeof(serial));
	if (probe && (serial[0] == '\0' || model[0] == '\0'))
		inventory_disk_ids(dev, nvme, serial, sizeof(serial), model,
		    sizeof(model));
	snprintf(dev, sizeof(dev), "/dev/%s", name);
	return json_pack("{s:s,s:s,s:s,s:s,s:I,s:b,s:s}", "name", name, "path",
	    dev, "model", model, "serial", serial, "size_bytes",
	    (json_int_t)(sectors * SECTOR_BYTES), "rotational", rot, "smart",
	    probe ? inventory_disk_smart(dev, nvme) : "unknown");
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir that keep(name) takes, sorted: a count, names[i]
 * malloc'd. */
static size_t
list_dir(const char *dir, int (*skip)(const char *), char **names,
    size_t max)
{
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max)
		if (!skip(e->d_name) && (names[n] = strdup(e->d_name)) != NULL)
			n++;
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	return n;
}

static int
not_a_nic(const char *name)
{
	return name[0] == '.' || strcmp(name, "lo") == 0;
}

static json_t *
nic_json(const struct disk_env *env, const char *name)
{
	char a[AGENT_PATH_MAX], l[AGENT_PATH_MAX], mac[INV_TEXT_MAX];
	char v[INV_TEXT_MAX];
	const char *driver = "";
	json_t *speed = json_null();
	ssize_t n;

	snprintf(a, sizeof(a), "class/net/%s/address", name);
	read_attr(env->sys, a, mac, sizeof(mac));
	for (char *c = mac; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	if (strlen(mac) != 17)
		mac[0] = '\0';	/* not an Ethernet address */
	snprintf(a, sizeof(a), "%s/class/net/%s/device/driver", env->sys, name);
	if ((n = readlink(a, l, sizeof(l) - 1)) > 0) {
		l[n] = '\0';
		driver = strrchr(l, '/') ? strrchr(l, '/') + 1 : l;
	}
	snprintf(a, sizeof(a), "class/net/%s/speed", name);
	if (read_attr(env->sys, a, v, sizeof(v)) == 0 && isdigit(
	    (unsigned char)v[0]))
		speed = json_integer(strtoll(v, NULL, 10));
	return json_pack("{s:s,s:s,s:s,s:o}", "name", name, "mac", mac,
	    "driver", driver, "speed_mbps", speed);
}

static json_t *
firmware_json(const struct disk_env *env)
{
	char p[AGENT_PATH_MAX];
	struct stat st;
	int sb;

	snprintf(p, sizeof(p), "%s/firmware/efi", env->sys);
	if (stat(p, &st) != 0)
		return json_pack("{s:s,s:b}", "mode", "bios", "secure_boot", 0);
	snprintf(p, sizeof(p), "%s/firmware/efi/efivars/%s", env->sys,
	    strrchr(NET_SECURE_BOOT_VAR, '/') + 1);
	sb = net_secure_boot(p);
	return json_pack("{s:s,s:o}", "mode", "uefi", "secure_boot", sb < 0 ?
	    json_null() : json_boolean(sb));
}

json_t *
inventory_read(const struct disk_env *env, int probe)
{
	char dir[AGENT_PATH_MAX], *names[INV_ITEMS_MAX];
	json_t *o, *disks = json_array(), *nics = json_array();
	struct inv_dmi dmi;
	uint8_t *table;
	size_t n, len;

	memset(&dmi, 0, sizeof(dmi));
	table = read_file(env->sys, "firmware/dmi/tables/DMI", INV_DMI_MAX,
	    &len);
	if (table != NULL && inventory_dmi_parse(table, len, &dmi) != 0)
		memset(&dmi, 0, sizeof(dmi));
	free(table);
	snprintf(dir, sizeof(dir), "%s/block", env->sys);
	n = list_dir(dir, not_a_disk, names, INV_ITEMS_MAX);
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(disks, disk_json(env, names[i], probe));
		free(names[i]);
	}
	snprintf(dir, sizeof(dir), "%s/class/net", env->sys);
	n = list_dir(dir, not_a_nic, names, INV_ITEMS_MAX);
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(nics, nic_json(env, names[i]));
		free(names[i]);
	}
	o = json_pack("{s:o,s:o,s:I,s:o,s:o,s:o}", "system",
	    system_json(env, &dmi), "cpus", cpus_json(env), "memory_bytes",
	    (json_int_t)memory_bytes(env, &dmi), "disks", disks, "nics", nics,
	    "firmware", firmware_json(env));
	return o;
}

