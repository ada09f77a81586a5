/*
 * disk_rule.c — the syntax of rackd.disk (and rack-agent's --disk), read
 * with the rest of the kernel command line so that a wrong rule is a
 * usage error before anything is fetched: "largest" (or nothing),
 * "serial:XYZ", "path:/dev/disk/by-path/NAME" (or NAME), "dev:PATH".
 * Which disk a rule picks is rack-agent's (pxe/agent/disk.c).
 */
#include <stdio.h>
#include <string.h>

#include "pxe/lib/pxe.h"

static const char rules_help[] = "use largest, serial:XYZ, "
    "path:/dev/disk/by-path/NAME or dev:/dev/NAME";

int
disk_rule_parse(const char *s, struct disk_rule *r, char *err, size_t errlen)
{
	const char *arg;

	memset(r, 0, sizeof(*r));
	if (s == NULL || *s == '\0' || strcmp(s, "largest") == 0) {
		r->kind = DISK_LARGEST;
		return 0;
	}
	if (strlen(s) >= AGENT_RULE_MAX) {
		snprintf(err, errlen, "disk rule longer than %d bytes",
		    AGENT_RULE_MAX - 1);
		return -1;
	}
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f) {
			snprintf(err, errlen, "disk rule holds control "
			    "characters");
			return -1;
		}
	if (strncmp(s, "serial:", 7) == 0) {
		r->kind = DISK_SERIAL;
		arg = s + 7;
		if (*arg == '\0' || strlen(arg) > SERIAL_MAX) {
			snprintf(err, errlen, "serial: needs a serial number "
			    "of 1 to %d characters", SERIAL_MAX);
			return -1;
		}
	} else if (strncmp(s, "path:", 5) == 0) {
		r->kind = DISK_PATH;
		arg = s + 5;
		if (strncmp(arg, "/dev" DISK_BYPATH_DIR,
		    strlen("/dev" DISK_BYPATH_DIR)) == 0)
			arg += strlen("/dev" DISK_BYPATH_DIR);
		if (*arg == '\0' || strchr(arg, '/') != NULL ||
		    strcmp(arg, ".") == 0 || strcmp(arg, "..") == 0) {
			snprintf(err, errlen, "path: needs "
			    "/dev/disk/by-path/NAME (or NAME)");
			return -1;
		}
	} else if (strncmp(s, "dev:", 4) == 0) {
		r->kind = DISK_DEV;
		arg = s + 4;
		if (arg[0] != '/' || arg[1] == '\0') {
			snprintf(err, errlen, "dev: needs an absolute path, "
			    "such as dev:/dev/sda");
			return -1;
		}
	} else {
		snprintf(err, errlen, "unknown disk rule \"%.60s\": %s", s,
		    rules_help);
		return -1;
	}
	snprintf(r->arg, sizeof(r->arg), "%s", arg);
	return 0;
}
