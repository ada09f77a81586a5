/*
 * boot.c — what a node boots, decided here alone. GET /boot/{slot}.ipxe
 * answers an iPXE script from the node's state: the clone environment for
 * an active reimage job; for a diskless node, a diskless boot with a new
 * diskless job (jobs_create applies the rules; diskless.c renders the
 * script; a diskless job still queued, made by a PATCH that switched the
 * server on, is taken instead); else the local disk. A diskless boot that
 * did not finish ends with the node's next boot (jobs_cancel). Only the
 * node of that slot may fetch it (links_node_check): the request must
 * come from the slot's node address (403 otherwise), which also keeps the
 * job's token from other nodes. A UEFI node's local boot chains Debian's
 * network GRUB, whose configuration (grubcfg.c) is written again here.
 * GET /pxe/{file} serves the clone kernel and initramfs from pxe_dir, and
 * iPXE's EFI binaries from ipxe_dir to UEFI HTTP boot. GET
 * /boot/{slot}.cmdline is the same decision for a node that GRUB booted
 * (Secure Boot): the words its clone environment adds to its kernel
 * command line, token included.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance/rackd.h"
#include "db/db.h"

static const char *const kind_names[] = {
	[BOOT_LOCAL] = "local disk",
	[BOOT_CLONE] = "clone",
	[BOOT_DISKLESS] = "diskless",
};

/* Enrolment at a network boot: a node that would boot its disk and that
 * rackd knows nothing of (no inventory, never a job), or whose slot is
 * marked (its link went away and came back, inventory_relinked), gets an
 * inventory job and boots the clone environment instead. The mark goes
 * when the inventory job ends (jobs.c), so once per re-appearance. */
static enum boot_kind
enrol(const char *slot, struct db_job *job)
{
	char why[ERR_MAX];
	int64_t id;
	int marked;

	if (!conf.enrol)
		return BOOT_LOCAL;
	marked = db_node_enrol_at_boot(slot) == 1;
	if (!marked && inventory_node_new(slot) != DB_YES)
		return BOOT_LOCAL;
	if (jobs_create_clone(slot, JOB_INVENTORY, NULL, NULL, &id, why,
	    sizeof(why)) != JOB_OK) {
		log_warnx("slot %s: a new node, but no inventory job: %s",
		    slot, why);
		return BOOT_LOCAL;
	}
	db_job_event(id, marked ? "enrolment: the node booted the network "
	    "after its link went away and came back (another server?)" :
	    "enrolment: a new node booted the network");
	log_info("slot %s: %s booted the network: inventory job %lld", slot,
	    marked ? "a node whose link came back" : "a new node",
	    (long long)id);
	return db_job_get(id, job) == DB_OK ? BOOT_CLONE : BOOT_ERROR;
}

/* What slot's node boots and, unless the local disk, its job. */
static enum boot_kind
boot_decide(const char *slot, struct db_job *job)
{
	enum boot_kind kind = BOOT_LOCAL;
	char why[ERR_MAX];
	const char *mode, *ref;
	json_t *node;
	int64_t id;
	int rc;

	rc = db_job_active(slot, job);
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return BOOT_ERROR;
	if (rc == DB_OK && job_action_clone(job->action))
		return BOOT_CLONE;
	if (rc == DB_OK && job_action_power(job->action))
		rc = DB_NOTFOUND;	/* a power op's job: no boot's */
	if ((node = db_node_get(slot)) == NULL)
		return BOOT_ERROR;
	mode = json_string_value(json_object_get(node, "boot_mode"));
	ref = json_string_value(json_object_get(node, "image"));
	/* A diskless job still queued was made for this boot (a PATCH's,
	 * jobs_diskless_start, which switched the server on). */
	if (rc == DB_OK && strcmp(job->action, job_action_name(JOB_DISKLESS))
	    == 0 && job_state_from_name(job->state) == JOB_QUEUED &&
	    mode != NULL && strcmp(mode, "diskless") == 0) {
		json_decref(node);
		return BOOT_DISKLESS;
	}
	/* A diskless boot that did not finish ends with this new boot. */
	if (rc == DB_OK)
		jobs_cancel(job->id, "a new boot of the node");
	if (mode == NULL || strcmp(mode, "diskless") != 0) {
		kind = enrol(slot, job);
		goto out;
	}
	if (ref == NULL) {
		log_warnx("slot %s is diskless but has no image: it boots its "
		    "local disk", slot);
		goto out;
	}
	rc = jobs_create(slot, JOB_DISKLESS, ref, &id, why, sizeof(why));
	if (rc == JOB_OK && db_job_get(id, job) == DB_OK)
		kind = BOOT_DISKLESS;
	else if (rc == JOB_OK || rc == JOB_ERROR || rc == JOB_BUSY)
		kind = BOOT_ERROR;
	else
		log_warnx("slot %s is diskless but %s: it boots its local disk",
		    slot, why);
out:
	json_decref(node);
	return kind;
}

enum boot_kind
boot_render(const char *slot, const char *host, char *buf, size_t len)
{
	struct db_job job;
	enum boot_kind kind;
	int n;

	switch ((kind = boot_decide(slot, &job))) {
	case BOOT_CLONE:
		n = snprintf(buf, len, "#!ipxe\n"
		    "echo rackd: slot %s: %s%s%s (job %lld)\n"
		    "kernel http://%s/pxe/vmlinuz initrd=initrd.img "
		    "rackd.url=http://%s rackd.job=%lld rackd.token=%s "
		    "BOOTIF=01-${netX/mac:hexhyp} console=tty0 "
		    "console=ttyS0,115200 panic=30\n"
		    "initrd http://%s/pxe/initrd.img\n"
		    "boot || goto failed\n"
		    ":failed\n"
		    "echo rackd: the clone environment did not boot; retrying\n"
		    "sleep 10\n"
		    "chain http://%s/boot/%s.ipxe\n",
		    slot, job.action, job.image[0] ? " with " : "", job.image,
		    (long long)job.id, host, host,
		    (long long)job.id, job.token, host, host, slot);
		break;
	case BOOT_DISKLESS:
		n = diskless_script(slot, host, &job, buf, len);
		break;
	case BOOT_LOCAL:
		/* UEFI: iPXE's exit would leave a firmware with the network
		 * first in its boot manager; GRUB (grubcfg.c) starts the
		 * disk's loader instead. */
		n = snprintf(buf, len, "#!ipxe\n"
		    "echo rackd: slot %s: booting the local disk\n"
		    "iseq ${platform} efi || goto bios\n"
		    "%s"
		    "exit\n"
		    ":bios\n"
		    "sanboot --no-describe --drive 0x80 || exit\n", slot,
		    grubcfg_available() ? "echo rackd: through GRUB, to the "
		    "disk's EFI loader\n"
		    "chain tftp://${next-server}/grubx64.efi ||\n" : "");
		break;
	default:
		return BOOT_ERROR;
	}
	return n > 0 && (size_t)n < len ? kind : BOOT_ERROR;
}

/* GET /boot/{slot}.cmdline: what a clone environment that GRUB booted
 * (grubcfg.c: its grub.cfg, readable over TFTP, holds no token) adds to
 * its kernel command line, decided like the iPXE script and given under
 * the same rule (only to the slot's node address). */
static void
boot_cmdline(struct req *r, const char *slot, struct db_link *link)
{
	char words[BOOT_SCRIPT_MAX];
	struct db_job job;
	enum boot_kind kind;
	int n;

	switch ((kind = boot_decide(slot, &job))) {
	case BOOT_CLONE:
		n = snprintf(words, sizeof(words), "rackd.job=%lld "
		    "rackd.token=%s\n", (long long)job.id, job.token);
		break;
	case BOOT_DISKLESS:
		n = diskless_cmdline(slot, &job, words, sizeof(words));
		break;
	case BOOT_LOCAL:
		/* The node's grub.cfg was older than its state. */
		if (grubcfg_available())
			grubcfg_local(link);
		log_info("slot %s asked for its command line, but it boots "
		    "its local disk", slot);
		http_reply_error(r, 409, "slot %s boots its local disk now",
		    slot);
		return;
	default:
		http_reply_error(r, 500, "cannot decide the node's boot");
		return;
	}
	if (n < 0 || (size_t)n >= sizeof(words)) {
		http_reply_error(r, 500, "cannot make the command line");
		return;
	}
	log_info("slot %s fetched its command line (%s)", slot,
	    kind_names[kind]);
	jobs_node_booting(slot);
	http_reply_text(r, 200, "text/plain; charset=utf-8", words);
}

void
boot_script(struct req *r)
{
	const char *param = http_param(r, 0), *host = http_header(r, "Host");
	char slot[SLOT_NAME_MAX + 1], script[BOOT_SCRIPT_MAX];
	struct db_link link;
	size_t n = param ? strlen(param) : 0, sfx;
	enum boot_kind kind;

	if (n > 8 && strcmp(param + n - 8, ".cmdline") == 0)
		sfx = 8;
	else if (n > 5 && strcmp(param + n - 5, ".ipxe") == 0)
		sfx = 5;
	else
		sfx = 0;
	if (sfx == 0 || n - sfx > SLOT_NAME_MAX) {
		http_reply_error(r, 404, "not a boot script name");
		return;
	}
	memcpy(slot, param, n - sfx);
	slot[n - sfx] = '\0';
	if (links_node_check(r, slot, &link) != 0)
		return;
	if (sfx == 8) {
		boot_cmdline(r, slot, &link);
		return;
	}
	if (host == NULL || strlen(host) > 64 || strpbrk(host, " \t\"'\\") ||
	    strchr(host, '\n'))
		host = link.board_addr;	/* a sane Host, or the board's */
	kind = boot_render(slot, host, script, sizeof(script));
	if (kind == BOOT_ERROR) {
		http_reply_error(r, 500, "cannot make the boot script");
		return;
	}
	log_info("slot %s fetched its boot script (%s)", slot,
	    kind_names[kind]);
	if (kind != BOOT_LOCAL)
		jobs_node_booting(slot);
	else if (grubcfg_available() && grubcfg_local(&link) != 0)
		log_warnx("slot %s: no GRUB configuration for a UEFI local "
		    "boot", slot);
	http_reply_text(r, 200, "text/plain; charset=utf-8", script);
}

void
boot_file(struct req *r)
{
	const char *name = http_param(r, 0);
	struct stat st;
	int fd, dfd;

	for (const char *p = name; p && *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("._-", *p) == NULL)
			name = NULL;
	if (name == NULL || name[0] == '.') {
		http_reply_error(r, 404, "no such file");
		return;
	}
	fd = (dfd = served_dir(conf.pxe_dir)) < 0 ? -1 :
	    openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	/* UEFI HTTP boot fetches iPXE itself here (dnsmasq.c). */
	if (fd < 0 && name != NULL && (strcmp(name, "snponly.efi") == 0 ||
	    strcmp(name, "ipxe.efi") == 0) &&
	    (dfd = served_dir(conf.ipxe_dir)) >= 0)
		fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		http_reply_error(r, 404, "no such file: %s (make pxe builds "
		    "the clone kernel and initramfs)", name);
		return;
	}
	http_stream_add(r, (uint64_t)st.st_size);
	http_reply_file(r, 200, fd, 0, (uint64_t)st.st_size,
	    "application/octet-stream");
}
