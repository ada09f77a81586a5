/*
 * gadget.c — the board itself as a USB device to one server: a composite
 * gadget (CDC-NCM, CDC-ECM and/or RNDIS) written under configfs and bound
 * to the USB device controller. The configfs root is an option, so the
 * tree can be written into an ordinary directory for tests. The usb0
 * that appears is then an ordinary management link.
 *
 * Teardown works on configfs (where rmdir removes a directory with its
 * attributes) and on an ordinary directory (where the files written here
 * are removed first).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance/rackd.h"

#define GADGET		"usb_gadget/rackd"
#define CONFIG		"configs/c.1"
#define STRINGS		"strings/0x409"

static const struct { const char *name, *file, *dir; } gfuncs[] = {
	{ "ncm", "ncm.usb0", NULL },
	{ "ecm", "ecm.usb0", NULL },
	{ "rndis", "rndis.usb0", NULL },
};

/* Attributes written, in order; teardown removes them in reverse. */
static const char *const attrs[] = {
	"idVendor", "idProduct", "bcdDevice", "bcdUSB",
	STRINGS "/serialnumber", STRINGS "/manufacturer", STRINGS "/product",
	CONFIG "/" STRINGS "/configuration", CONFIG "/MaxPower",
};

static int
gpath(char *buf, size_t len, const char *root, const char *rel)
{
	if (snprintf(buf, len, "%s/%s%s%s", root, GADGET, rel[0] ? "/" : "",
	    rel) >= (int)len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
gmkdir(const char *root, const char *rel)
{
	char path[PATH_MAX_RACKD];

	if (gpath(path, sizeof(path), root, rel) != 0)
		return -1;
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static int
gwrite(const char *root, const char *rel, const char *value)
{
	char path[PATH_MAX_RACKD];
	size_t n = strlen(value);
	int fd, rc = -1;

	if (gpath(path, sizeof(path), root, rel) != 0)
		return -1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0)
		return -1;
	if (write(fd, value, n) == (ssize_t)n)
		rc = 0;
	if (close(fd) != 0)
		rc = -1;
	return rc;
}

/* The first controller under /sys/class/udc. */
static int
first_udc(char *out, size_t len)
{
	DIR *d = opendir("/sys/class/udc");
	struct dirent *e;
	int rc = -1;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' &&
		    snprintf(out, len, "%s", e->d_name) < (int)len) {
			rc = 0;
			break;
		}
	closedir(d);
	return rc;
}

int
gadget_setup(const char *root, const struct strlist *funcs, const char *udc,
    char *err, size_t errlen)
{
	char serial[32], target[PATH_MAX_RACKD], link[PATH_MAX_RACKD];
	char udcname[128], rel[64], ghost[PATH_MAX_RACKD];
	const char *values[] = {
		"0x1d6b", "0x0104", "0x0100", "0x0200", serial, "rackd",
		"rackd management link", "rackd", "250",
	};

	snprintf(ghost, sizeof(ghost), "%s/usb_gadget", root);
	if (access(ghost, F_OK) != 0) {
		snprintf(err, errlen, "%s: %s (is configfs mounted, and "
		    "libcomposite loaded?)", ghost, strerror(errno));
		return -1;
	}
	snprintf(serial, sizeof(serial), "rackd-%ld", (long)gethostid());
	if (gmkdir(root, "") != 0 || gmkdir(root, "strings") != 0 ||
	    gmkdir(root, STRINGS) != 0 || gmkdir(root, "configs") != 0 ||
	    gmkdir(root, CONFIG) != 0 || gmkdir(root, CONFIG "/strings") != 0 ||
	    gmkdir(root, CONFIG "/" STRINGS) != 0 ||
	    gmkdir(root, "functions") != 0)
		goto fail;
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (gwrite(root, attrs[i], values[i]) != 0)
			goto fail;
	for (int f = 0; f < funcs->n; f++)
		for (size_t i = 0; i < sizeof(gfuncs) / sizeof(gfuncs[0]);
		    i++) {
			if (strcmp(funcs->v[f], gfuncs[i].name) != 0)
				continue;
			snprintf(rel, sizeof(rel), "functions/%s",
			    gfuncs[i].file);
			if (gmkdir(root, rel) != 0 ||
			    gpath(target, sizeof(target), root, rel) != 0)
				goto fail;
			snprintf(rel, sizeof(rel), CONFIG "/%s",
			    gfuncs[i].file);
			if (gpath(link, sizeof(link), root, rel) != 0 ||
			    (symlink(target, link) != 0 && errno != EEXIST))
				goto fail;
		}
	if (udc[0] != '\0')
		snprintf(udcname, sizeof(udcname), "%s", udc);
	else if (first_udc(udcname, sizeof(udcname)) != 0) {
		snprintf(err, errlen, "no USB device controller in "
		    "/sys/class/udc (set gadget_udc)");
		gadget_teardown(root);
		return -1;
	}
	if (gwrite(root, "UDC", udcname) != 0)
		goto fail;
	log_info("USB gadget bound to %s", udcname);
	return 0;
fail:
	snprintf(err, errlen, "%s/%s: %s", root, GADGET, strerror(errno));
	gadget_teardown(root);
	return -1;
}

static void
gremove(const char *root, const char *rel, int isdir)
{
	char path[PATH_MAX_RACKD];

	if (gpath(path, sizeof(path), root, rel) != 0)
		return;
	if (isdir)
		rmdir(path);
	else
		unlink(path);	/* fails on configfs attributes: harmless */
}

int
gadget_teardown(const char *root)
{
	char rel[64], path[PATH_MAX_RACKD];

	if (gpath(path, sizeof(path), root, "") != 0 || access(path, F_OK) != 0)
		return 0;
	gwrite(root, "UDC", "\n");	/* unbind first */
	gremove(root, "UDC", 0);
	for (size_t i = 0; i < sizeof(gfuncs) / sizeof(gfuncs[0]); i++) {
		snprintf(rel, sizeof(rel), CONFIG "/%s", gfuncs[i].file);
		gremove(root, rel, 0);
		snprintf(rel, sizeof(rel), "functions/%s", gfuncs[i].file);
		gremove(root, rel, 1);
	}
	for (size_t i = sizeof(attrs) / sizeof(attrs[0]); i-- > 0;)
		gremove(root, attrs[i], 0);
	gremove(root, CONFIG "/" STRINGS, 1);
	gremove(root, CONFIG "/strings", 1);
	gremove(root, CONFIG, 1);
	gremove(root, "configs", 1);
	gremove(root, STRINGS, 1);
	gremove(root, "strings", 1);
	gremove(root, "functions", 1);
	gremove(root, "", 1);
	if (access(path, F_OK) == 0) {
		log_warnx("gadget: %s is still there after teardown", path);
		return -1;
	}
	return 0;
}
