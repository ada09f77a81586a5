/*
 * notify.c — telling systemd how rackd is doing. Under a unit of
 * Type=notify systemd waits for READY=1 before it counts rackd as started
 * (and before `systemctl start` returns), and is told STOPPING=1 when
 * rackd begins to shut down. Outside systemd NOTIFY_SOCKET is unset and
 * these do nothing. notify_journal says whether stderr is the journal
 * (systemd sets JOURNAL_STREAM to its device and inode), so that log.c
 * writes lines the journal takes with their priority and its own time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <systemd/sd-daemon.h>

#include "appliance/rackd.h"

void
notify_ready(const char *version)
{
	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	if (sd_notifyf(0, "READY=1\nSTATUS=rackd %s ready", version) < 0)
		log_warnx("cannot tell systemd that rackd is ready");
}

void
notify_stopping(void)
{
	if (getenv("NOTIFY_SOCKET") != NULL)
		sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

int
notify_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(2, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}
