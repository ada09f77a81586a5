/*
 * disk.c — the target disk: picking a disk by its rule (rackd.disk, read
 * by pxe/lib/disk_rule.c) from sysfs, and opening it.
 *
 * Rules: "largest" (the default) takes the largest disk that is not
 * removable, not on USB, not read-only and not in use (mounted, swap, or
 * held by RAID/LVM); "serial:XYZ" and "path:/dev/disk/by-path/NAME" name
 * one disk, which must not be removable or in use either; "dev:PATH" names
 * a device node or a regular file and skips those checks (the kernel still
 * refuses to open a mounted block device exclusively).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <blkid/blkid.h>
#include <linux/fs.h>

#include "images/file.h"
#include "pxe/agent/agent.h"

const struct disk_env disk_env_real = { "/sys", "/proc", "/dev" };

/* ---- sysfs ---- */

/* dir/name into buf: 0, or -1 if it does not fit. */
static int
pjoin(char *buf, size_t len, const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);

	if (a + 1 + b + 1 > len) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	memcpy(buf, dir, a);
	buf[a] = '/';
	memcpy(buf + a + 1, name, b + 1);
	return 0;
}

/* Copies src into dst, truncating. */
static void
copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* realpath into dst (len bytes): realpath's own buffer, as it may write up
 * to PATH_MAX; NULL (ENAMETOOLONG) when the result does not fit. */
static char *
realpath_in(const char *path, char *dst, size_t len)
{
	char *real = realpath(path, NULL);

	if (real == NULL)
		return NULL;
	if (strlen(real) >= len) {
		free(real);
		errno = ENAMETOOLONG;
		return NULL;
	}
	copy_str(dst, len, real);
	free(real);
	return dst;
}


struct disk_info {
	char	 name[DEVNAME_MAX];
	char	 real[AGENT_PATH_MAX];	/* realpath of sys/block/NAME */
	uint64_t size;
	int	 has_device, removable, ro, usb;
	char	 inuse[64];		/* why it is in use, "" if not */
	char	 serial[SERIAL_MAX + 1];
};

static int
attr_int(const char *dir, const char *name)
{
	char path[AGENT_PATH_MAX], v[32];

	if (pjoin(path, sizeof(path), dir, name) != 0 ||
	    read_small_file(path, v, sizeof(v)) <= 0)
		return 0;
	return atoi(v);
}

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int
dir_nonempty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0;
}

static int
name_safe(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= DEVNAME_MAX || s[0] == '.')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    *s != '.' && *s != ':' && *s != '!')
			return 0;
	return 1;
}

/* Serial from the places kernels keep one: device/serial (NVMe, some
 * SCSI), serial (virtio), device/vpd_pg80 (SCSI unit serial page). */
static void
read_serial(const char *dir, char *out, size_t outlen)
{
	static const char *const files[] = { "device/serial", "serial" };
	char path[AGENT_PATH_MAX], raw[SYSFS_VALUE_MAX];
	int fd;
	ssize_t n;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		pjoin(path, sizeof(path), dir, files[i]);
		if (read_small_file(path, raw, sizeof(raw)) > 0) {
			copy_str(out, outlen, raw);
			return;
		}
	}
	pjoin(path, sizeof(path), dir, "device/vpd_pg80");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, raw, sizeof(raw) - 1);
	close(fd);
	if (n > 4) {	/* 4-byte header, then the serial (ASCII) */
		size_t len = ((size_t)(unsigned char)raw[2] << 8) |
		    (unsigned char)raw[3], j = 0;
		if (len > (size_t)n - 4)
			len = (size_t)n - 4;
		for (size_t k = 0; k < len && j + 1 < outlen; k++)
			if (raw[4 + k] > 0x20 && raw[4 + k] < 0x7f)
				out[j++] = raw[4 + k];
			else if (raw[4 + k] == ' ' && j > 0)
				out[j++] = ' ';
		while (j > 0 && out[j - 1] == ' ')
			j--;
		out[j] = '\0';
	}
}

/* "maj:min" appears as the device of a mount in mountinfo. */
static int
mounted(const char *mountinfo, const char *devno)
{
	size_t dl = strlen(devno);

	for (const char *line = mountinfo; line != NULL && *line != '\0';) {
		/* id parent maj:min root ... : the third field */
		const char *p = line;
		for (int f = 0; f < 2 && p != NULL; f++) {
			p = strchr(p, ' ');
			if (p != NULL)
				p++;
		}
		if (p != NULL && strncmp(p, devno, dl) == 0 && p[dl] == ' ')
			return 1;
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return 0;
}

/* /dev/NAME listed in /proc/swaps. */
static int
swapping(const char *swaps, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = swaps; p != NULL && (p = strstr(p, name)) != NULL;
	    p += nl)
		if (p > swaps && p[-1] == '/' &&
		    (p[nl] == ' ' || p[nl] == '\t'))
			return 1;
	return 0;
}

/* The whole of a /proc file (st_size says 0 there) of at most max bytes,
 * or "" if it does not exist. NULL with errno when it cannot be read whole
 * (EFBIG: longer than max): a disk then cannot be judged free. */
static char *
read_text(const char *path, size_t max)
{
	char *buf = malloc(max + 1);
	size_t len;
	int fd, e;

	if (buf == NULL)
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT) {
			free(buf);
			return NULL;
		}
		buf[0] = '\0';
		return buf;
	}
	errno = 0;
	len = read_full(fd, buf, max + 1);
	e = len > max ? EFBIG : errno;
	close(fd);
	if (e != 0) {
		free(buf);
		errno = e;
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* Is the disk or one of its partitions mounted, swap, or held? */
static void
check_inuse(struct disk_info *d, const char *dir, const char *mountinfo,
    const char *swaps)
{
	char path[AGENT_PATH_MAX], devno[32];
	DIR *dd;
	struct dirent *e;
	int parts = 0;

	d->inuse[0] = '\0';
	pjoin(path, sizeof(path), dir, "dev");
	if (read_small_file(path, devno, sizeof(devno)) > 0 &&
	    mounted(mountinfo, devno)) {
		snprintf(d->inuse, sizeof(d->inuse), "mounted");
		return;
	}
	if (swapping(swaps, d->name)) {
		snprintf(d->inuse, sizeof(d->inuse), "swap");
		return;
	}
	pjoin(path, sizeof(path), dir, "holders");
	if (dir_nonempty(path)) {
		snprintf(d->inuse, sizeof(d->inuse), "held by RAID/LVM");
		return;
	}
	if ((dd = opendir(dir)) == NULL)
		return;
	while ((e = readdir(dd)) != NULL && parts < PARTS_MAX) {
		char pdir[AGENT_PATH_MAX];
		if (strncmp(e->d_name, d->name, strlen(d->name)) != 0 ||
		    !name_safe(e->d_name))
			continue;
		if (pjoin(pdir, sizeof(pdir), dir, e->d_name) != 0)
			continue;
		pjoin(path, sizeof(path), pdir, "partition");
		if (!exists(path))
			continue;
		parts++;
		pjoin(path, sizeof(path), pdir, "dev");
		if (read_small_file(path, devno, sizeof(devno)) > 0 &&
		    mounted(mountinfo, devno)) {
			snprintf(d->inuse, sizeof(d->inuse), "%.40s mounted",
			    e->d_name);
			break;
		}
		if (swapping(swaps, e->d_name)) {
			snprintf(d->inuse, sizeof(d->inuse), "%.40s is swap",
			    e->d_name);
			break;
		}
		pjoin(path, sizeof(path), pdir, "holders");
		if (dir_nonempty(path)) {
			snprintf(d->inuse, sizeof(d->inuse), "%.40s held by "
			    "RAID/LVM", e->d_name);
			break;
		}
	}
	closedir(dd);
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct disk_info *)a)->name,
	    ((const struct disk_info *)b)->name);
}

/* All of sys/block, sorted by name. Count, or -1 with err. */
static int
list_disks(const struct disk_env *env, struct disk_info *out, int max,
    char *err, size_t errlen)
{
	char dir[AGENT_PATH_MAX], path[AGENT_PATH_MAX], v[64];
	char *mountinfo, *swaps = NULL;
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/block", env->sys);
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/self/mountinfo", env->proc);
	if ((mountinfo = read_text(path, MOUNTINFO_MAX)) != NULL) {
		snprintf(path, sizeof(path), "%s/swaps", env->proc);
		swaps = read_text(path, MOUNTINFO_MAX);
	}
	if (mountinfo == NULL || swaps == NULL) {
		snprintf(err, errlen, "%s: %s (which disks are in use is "
		    "not known)", path, strerror(errno));
		free(mountinfo);
		closedir(d);
		return -1;
	}
	while ((e = readdir(d)) != NULL && n < max) {
		struct disk_info *di = &out[n];
		char bdir[AGENT_PATH_MAX];

		if (!name_safe(e->d_name))
			continue;
		memset(di, 0, sizeof(*di));
		copy_str(di->name, sizeof(di->name), e->d_name);
		if (pjoin(bdir, sizeof(bdir), dir, e->d_name) != 0)
			continue;
		if (realpath_in(bdir, di->real, sizeof(di->real)) == NULL)
			copy_str(di->real, sizeof(di->real), bdir);
		pjoin(path, sizeof(path), bdir, "device");
		di->has_device = exists(path);
		pjoin(path, sizeof(path), bdir, "size");
		if (read_small_file(path, v, sizeof(v)) > 0)
			di->size = strtoull(v, NULL, 10) * 512;
		di->removable = attr_int(bdir, "removable");
		di->ro = attr_int(bdir, "ro");
		di->usb = strstr(di->real, "/usb") != NULL;
		read_serial(bdir, di->serial, sizeof(di->serial));
		check_inuse(di, bdir, mountinfo, swaps);
		n++;
	}
	closedir(d);
	free(mountinfo);
	free(swaps);
	qsort(out, (size_t)n, sizeof(out[0]), cmp_name);
	return n;
}

/* Why a disk may not be written by a rule other than dev:, or NULL. */
static const char *
unfit(const struct disk_info *d, char *buf, size_t len)
{
	if (!d->has_device)
		return "not a hardware disk";
	if (d->removable)
		return "removable";
	if (d->usb)
		return "on USB";
	if (d->ro)
		return "read-only";
	if (d->size == 0)
		return "empty (no medium)";
	if (d->inuse[0] != '\0') {
		snprintf(buf, len, "in use: %s", d->inuse);
		return buf;
	}
	return NULL;
}

/* The last PCI address (DDDD:BB:DD.F) in a sysfs path, or "". */
static void
pci_of(const char *real, char *out, size_t outlen)
{
	out[0] = '\0';
	for (const char *p = real; (p = strchr(p, '/')) != NULL; p++) {
		const char *c = p + 1;
		if (strlen(c) >= 12 && isxdigit((unsigned char)c[0]) &&
		    c[4] == ':' && c[7] == ':' && c[10] == '.' &&
		    (c[12] == '/' || c[12] == '\0'))
			snprintf(out, outlen, "%.12s", c);
	}
}

/* path: without udev's links: match the PCI address of the by-path name
 * (and the NVMe namespace) against sysfs. */
static int
match_bypath(const char *name, struct disk_info *disks, int n, int *found,
    char *err, size_t errlen)
{
	char want[16], pci[16];
	const char *ns;
	long nsid = -1;
	int hits = 0;

	if (strncmp(name, "pci-", 4) != 0 || strlen(name) < 16) {
		snprintf(err, errlen, "no /dev/disk/by-path/%s, and without "
		    "udev only pci-... names can be matched", name);
		return -1;
	}
	snprintf(want, sizeof(want), "%.12s", name + 4);
	if ((ns = strstr(name, "-nvme-")) != NULL)
		nsid = strtol(ns + 6, NULL, 10);
	for (int i = 0; i < n; i++) {
		pci_of(disks[i].real, pci, sizeof(pci));
		if (!disks[i].has_device || strcmp(pci, want) != 0)
			continue;
		if (nsid >= 0) {
			const char *nn = strrchr(disks[i].name, 'n');
			if (strncmp(disks[i].name, "nvme", 4) != 0 ||
			    nn == NULL || strtol(nn + 1, NULL, 10) != nsid)
				continue;
		}
		*found = i;
		hits++;
	}
	if (hits == 1)
		return 0;
	snprintf(err, errlen, hits == 0 ? "no disk at %s" :
	    "%s matches several disks (without udev's by-path links only "
	    "the PCI address is known)", name);
	return -1;
}

int
disk_select(const struct disk_env *env, const struct disk_rule *r, char *path,
    size_t pathlen, char *err, size_t errlen)
{
	struct disk_info *disks;
	char why[96], link[AGENT_PATH_MAX], real[AGENT_PATH_MAX];
	const char *bad;
	int n, found = -1, rc = -1;

	if (r->kind == DISK_DEV) {
		if (snprintf(path, pathlen, "%s", r->arg) >= (int)pathlen) {
			snprintf(err, errlen, "device path too long");
			return -1;
		}
		return 0;
	}
	if ((disks = calloc(DISKS_MAX, sizeof(*disks))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((n = list_disks(env, disks, DISKS_MAX, err, errlen)) < 0)
		goto out;
	switch (r->kind) {
	case DISK_LARGEST: {
		char skipped[DISK_SKIPPED_MAX] = "";
		size_t used = 0;
		for (int i = 0; i < n; i++) {
			if (!disks[i].has_device)
				continue;	/* loop, ram, dm, md: quietly */
			if ((bad = unfit(&disks[i], why,
			    sizeof(why))) != NULL) {
				if (used < sizeof(skipped))
					used += (size_t)snprintf(skipped + used,
					    sizeof(skipped) - used, "%s%s %s",
					    used ? ", " : "", disks[i].name,
					    bad);
				continue;
			}
			if (found < 0 || disks[i].size > disks[found].size)
				found = i;
		}
		if (found < 0) {
			snprintf(err, errlen, "no disk fits rule largest%s%s",
			    skipped[0] ? ": " : " (no disks found)", skipped);
			goto out;
		}
		break;
	}
	case DISK_SERIAL: {
		int hits = 0;
		for (int i = 0; i < n; i++)
			if (disks[i].serial[0] != '\0' &&
			    strcmp(disks[i].serial, r->arg) == 0) {
				found = i;
				hits++;
			}
		if (hits != 1) {
			snprintf(err, errlen, hits == 0 ? "no disk has serial "
			    "\"%.128s\"" : "several disks have serial "
			    "\"%.128s\"", r->arg);
			found = -1;
			goto out;
		}
		break;
	}
	case DISK_PATH: {
		const char *base;
		snprintf(link, sizeof(link), "%s" DISK_BYPATH_DIR "%s",
		    env->dev, r->arg);
		if (realpath_in(link, real, sizeof(real)) != NULL) {
			base = strrchr(real, '/') ?
			    strrchr(real, '/') + 1 : real;
			for (int i = 0; i < n; i++)
				if (strcmp(disks[i].name, base) == 0)
					found = i;
			if (found < 0) {
				snprintf(err, errlen, "%s is %s, which is "
				    "not a whole disk", link, real);
				goto out;
			}
		} else if (match_bypath(r->arg, disks, n, &found, err,
		    errlen) != 0)
			goto out;
		break;
	}
	default:
		snprintf(err, errlen, "bad disk rule");
		goto out;
	}
	if ((bad = unfit(&disks[found], why, sizeof(why))) != NULL) {
		snprintf(err, errlen, "disk %s is %s; name it with dev:%s/%s "
		    "to write it anyway", disks[found].name, bad, env->dev,
		    disks[found].name);
		goto out;
	}
	if (snprintf(path, pathlen, "%s/%s", env->dev, disks[found].name) >=
	    (int)pathlen) {
		snprintf(err, errlen, "device path too long");
		goto out;
	}
	rc = 0;
out:
	free(disks);
	return rc;
}

int
disk_open(const char *path, uint64_t need, int *fdp, uint64_t *sizep,
    bool *blockp, char *err, size_t errlen)
{
	struct stat st;
	uint64_t size;
	char a[32], b[32];
	int fd, ro = 0;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISBLK(st.st_mode)) {
		fd = open(path, O_RDWR | O_EXCL | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", path, errno == EBUSY ?
			    "in use (mounted, swap, or held by RAID/LVM)" :
			    strerror(errno));
			return -1;
		}
		if (ioctl(fd, BLKGETSIZE64, &size) != 0) {
			snprintf(err, errlen, "%s: cannot get the size: %s",
			    path, strerror(errno));
			close(fd);
			return -1;
		}
		if (ioctl(fd, BLKROGET, &ro) == 0 && ro) {
			snprintf(err, errlen, "%s is read-only", path);
			close(fd);
			return -1;
		}
		*blockp = true;
	} else if (S_ISREG(st.st_mode)) {
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (fstat(fd, &st) != 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		size = (uint64_t)st.st_size;
		*blockp = false;
	} else {
		snprintf(err, errlen, "%s is neither a block device nor a "
		    "regular file", path);
		return -1;
	}
	if (size < need) {
		snprintf(err, errlen, "%s holds %s (%" PRIu64 " bytes); the "
		    "image needs %s (%" PRIu64 " bytes)", path,
		    fmt_bytes(size, a, sizeof(a)), size,
		    fmt_bytes(need, b, sizeof(b)), need);
		close(fd);
		return -1;
	}
	*fdp = fd;
	*sizep = size;
	return 0;
}

void
disk_describe(const char *path, char *buf, size_t len)
{
	blkid_probe pr;
	const char *type = NULL, *label = NULL, *what = "";

	buf[0] = '\0';
	if ((pr = blkid_new_probe_from_filename(path)) == NULL)
		return;
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
	    BLKID_SUBLKS_LABEL);
	if (blkid_do_safeprobe(pr) == 0) {
		if (blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL) == 0)
			what = "partition table";
		else if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0)
			what = "file system";
		blkid_probe_lookup_value(pr, "LABEL", &label, NULL);
	}
	if (type != NULL)
		snprintf(buf, len, "%s %.32s%s%.64s%s", what, type,
		    label ? " \"" : "", label ? label : "", label ? "\"" : "");
	else
		snprintf(buf, len, "nothing recognised");
	blkid_free_probe(pr);
}

int
disk_read(int fd, void *buf, size_t len, uint64_t off, char *err,
    size_t errlen)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (uint8_t *)buf + got, len - got,
		    (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot read the disk at byte %"
			    PRIu64 ": %s", off + got, n == 0 ? "end of disk" :
			    strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

int
disk_write(int fd, const void *buf, size_t len, uint64_t off, char *err,
    size_t errlen)
{
	size_t put = 0;

	while (put < len) {
		ssize_t n = pwrite(fd, (const uint8_t *)buf + put, len - put,
		    (off_t)(off + put));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot write the disk at byte %"
			    PRIu64 ": %s", off + put, n == 0 ? "no space" :
			    strerror(errno));
			return -1;
		}
		put += (size_t)n;
	}
	return 0;
}

int
disk_reread_partitions(int fd, char *err, size_t errlen)
{
	/* EINVAL: a device without partitions (a loop device, say). */
	if (ioctl(fd, BLKRRPART) != 0 && errno != EINVAL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	return 0;
}
