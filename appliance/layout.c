/*
 * layout.c — where rackd's own files are by default: in the source tree
 * (./var, ./webui, ./build/pxe, as `make` leaves them) or where `make
 * install` and the Debian package put them (PREFIX/share/rackd/webui,
 * PREFIX/share/rackd/pxe, /var/lib/rackd). The installed defaults apply
 * when the running program is PREFIX/sbin/rackd itself, PREFIX being the
 * one it was built with (build/gen/prefix.h); any other copy, such as
 * build/rackd or a test binary, keeps the source tree's. One rule, no
 * search: a setting in the config file or on the command line wins over
 * both, as for every option.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "prefix.h"		/* RACKD_PREFIX, written by the Makefile */

static const struct {
	const char	*name;
	const char	*installed;
} installed_defaults[] = {
	{ "state_dir",	"/var/lib/rackd" },
	{ "webui_dir",	RACKD_PREFIX "/share/rackd/webui" },
	{ "pxe_dir",	RACKD_PREFIX "/share/rackd/pxe" },
};
#define NINSTALLED (sizeof(installed_defaults) / sizeof(installed_defaults[0]))

int
layout_installed(void)
{
	static int installed = -1;
	char exe[PATH_MAX];

	if (installed >= 0)
		return installed;
	installed = realpath("/proc/self/exe", exe) != NULL &&
	    strcmp(exe, RACKD_PREFIX "/sbin/rackd") == 0;
	return installed;
}

const char *
layout_installed_default(const char *name)
{
	for (size_t i = 0; i < NINSTALLED; i++)
		if (strcmp(installed_defaults[i].name, name) == 0)
			return installed_defaults[i].installed;
	return NULL;
}

const char *
layout_default(const char *name, const char *tree_default)
{
	const char *inst;

	if (layout_installed() && (inst = layout_installed_default(name)))
		return inst;
	return tree_default;
}
