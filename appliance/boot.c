/*
 * boot.c — what a node boots. GET /boot/{slot}.ipxe answers an iPXE script
 * from the node's state: the clone environment for an active reimage job,
 * a diskless boot for a diskless node (diskless.c), else the local disk.
 * Only the node of that slot may fetch it (boot_node_check): the
 * request must come from the slot's node address (403 otherwise), which
 * also keeps the job's token from other nodes. GET /pxe/{file} serves the
 * clone kernel and initramfs from pxe_dir.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance/rackd.h"
#include "db/db.h"

#define SCRIPT_MAX	4096

/* The client's IPv4 address as text (IPv4-mapped IPv6 too). */
static int
client_ipv4(struct req *r, char *out, size_t len)
{
	struct sockaddr_storage ss;

	if (http_client_addr(r, &ss) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
		    out, (socklen_t)len) ? 0 : -1;
	if (ss.ss_family == AF_INET6) {
		struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			return inet_ntop(AF_INET, &a->s6_addr[12], out,
			    (socklen_t)len) ? 0 : -1;
	}
	return -1;
}

int
boot_render(const char *slot, const char *host, char *buf, size_t len)
{
	struct db_job job;
	int n, rc;

	rc = db_job_active(slot, &job);
	if (rc == DB_OK && strcmp(job.action, "reimage") == 0) {
		n = snprintf(buf, len, "#!ipxe\n"
		    "echo rackd: slot %s: reimage with %s (job %lld)\n"
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
		    slot, job.image, (long long)job.id, host, host,
		    (long long)job.id, job.token, host, host, slot);
		return n > 0 && (size_t)n < len ? 1 : -1;
	}
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return -1;
	if ((n = diskless_render(slot, host, buf, len)) != 0)
		return n;	/* 2: diskless, -1: error */
	n = snprintf(buf, len, "#!ipxe\n"
	    "echo rackd: slot %s: booting the local disk\n"
	    "iseq ${platform} efi && exit ||\n"
	    "sanboot --no-describe --drive 0x80 || exit\n", slot);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

int
boot_node_check(struct req *r, const char *slot, struct db_link *link)
{
	char addr[INET_ADDRSTRLEN];

	if (slot == NULL || !slot_name_valid(slot) ||
	    db_link_get(slot, link) != DB_OK) {
		http_reply_error(r, 404, "no such slot: %s", slot ? slot : "");
		return -1;
	}
	if (client_ipv4(r, addr, sizeof(addr)) != 0 ||
	    strcmp(addr, link->node_addr) != 0) {
		log_warnx("%s for slot %s asked for from %s: refused",
		    http_url(r), slot, client_ipv4(r, addr, sizeof(addr)) == 0 ?
		    addr : "?");
		http_reply_error(r, 403, "only the node of slot %s may fetch "
		    "its boot files", slot);
		return -1;
	}
	return 0;
}

void
boot_script(struct req *r)
{
	const char *param = http_param(r, 0), *host = http_header(r, "Host");
	char slot[SLOT_NAME_MAX + 1], script[SCRIPT_MAX];
	struct db_link link;
	size_t n = param ? strlen(param) : 0;
	int kind;

	if (n <= 5 || n - 5 > SLOT_NAME_MAX ||
	    strcmp(param + n - 5, ".ipxe") != 0) {
		http_reply_error(r, 404, "not a boot script name");
		return;
	}
	memcpy(slot, param, n - 5);
	slot[n - 5] = '\0';
	if (boot_node_check(r, slot, &link) != 0)
		return;
	if (host == NULL || strlen(host) > 64 || strpbrk(host, " \t\"'\\") ||
	    strchr(host, '\n'))
		host = link.board_addr;	/* a sane Host, or the board's */
	kind = boot_render(slot, host, script, sizeof(script));
	if (kind < 0) {
		http_reply_error(r, 500, "cannot make the boot script");
		return;
	}
	log_info("slot %s fetched its boot script (%s)", slot,
	    kind == 1 ? "clone" : kind == 2 ? "diskless" : "local disk");
	if (kind == 1 || kind == 2)
		jobs_node_booting(slot);
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
