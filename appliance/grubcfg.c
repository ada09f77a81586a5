/*
 * grubcfg.c — UEFI nodes boot their disk through Debian's network GRUB.
 * iPXE's `exit` hands a UEFI server back to its firmware, which with the
 * network first in its boot order stops in its boot manager instead of
 * starting the disk; so the local-boot script of a UEFI node chains
 * grubx64.efi (Debian's signed grubnetx64, which make pxe puts in pxe_dir
 * with SHA256SUMS) and GRUB, from its prefix /grub on the TFTP server,
 * reads grub/grub.cfg: rackd writes one per node that finds the disk's EFI
 * system partition and chainloads its loader.
 *
 * The loaders are checked against SHA256SUMS (from the bytes copied, so
 * what is checked is what is served) before they go into the TFTP dir; a
 * loader that is missing or does not match is not served (UEFI nodes then
 * `exit` to their firmware as before). A node's files are in a directory
 * of its own, tftp/if/IFNAME/NODE_ADDR/: dnsmasq's root for the link's
 * interface is tftp/if/IFNAME, and tftp-unique-root=ip adds the client's
 * address, so that only the slot's node, on its own link, gets them (the
 * rule of /boot/{slot}.ipxe). That rule is not a wall: dnsmasq serves a
 * client whose dir does not exist from tftp/if/IFNAME itself, where the
 * node's dir can be named, so grub.cfg holds nothing secret (no token:
 * the clone environment asks /boot/{slot}.cmdline for it, see boot.c).
 * The loaders are hard links to the shared copies of tftp/. A node's dir
 * is made while its link is there and removed (grubcfg_sweep) once no
 * present link has that interface and node address.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "appliance/rackd.h"
#include "db/db.h"

#define LOADER_MAX	(32 * 1024 * 1024)	/* bytes of one loader */
#define SUMS_MAX	4096			/* bytes of SHA256SUMS */

static const char *const loaders[] = { "grubx64.efi", "shimx64.efi" };
static const char *const kernel_files[] = { "vmlinuz", "initrd.img" };
static int have_grub, have_kernel;

/* The hex SHA-256 that SHA256SUMS (in text) gives name, or NULL. */
static const char *
sum_of(char *text, const char *name, char out[65])
{
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char hex[65], file[256];
		/* "HEX  NAME", or "HEX *NAME" (sha256sum -b). */
		if (sscanf(line, "%64[0-9a-f] %255s", hex, file) == 2 &&
		    strlen(hex) == 64 && strcmp(file + (file[0] == '*'),
		    name) == 0) {
			memcpy(out, hex, 65);
			return out;
		}
	}
	return NULL;
}

/* The whole of a regular file (not a link) of at most max bytes. */
static unsigned char *
read_all(const char *path, size_t max, size_t *lenp)
{
	unsigned char *buf;
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > max || (buf = malloc((size_t)st.st_size +
	    1)) == NULL) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	buf[got] = '\0';
	*lenp = got;
	return buf;
}

static int
write_all(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX_RACKD + 32];
	int fd;

	/* A temporary name of this thread's: two writers of one node's
	 * grub.cfg (a boot script, a job's change) do not mix. */
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path,
	    (long)syscall(SYS_gettid));
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len || fchmod(fd, 0644) != 0 ||
	    close(fd) != 0) {
		unlink(tmp);
		return -1;
	}
	return rename(tmp, path);
}

/* Copy one loader from pxe_dir into tftp_dir if SHA256SUMS vouches for
 * its bytes: 1 served, 0 not. */
static int
install_loader(const char *tftp_dir, const char *name, char *sums)
{
	char path[PATH_MAX_RACKD], want[65], got[65], text[SUMS_MAX];
	unsigned char h[crypto_hash_sha256_BYTES], *data;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", tftp_dir, name);
	unlink(path);		/* nothing stale is served */
	snprintf(text, sizeof(text), "%s", sums);
	if (sum_of(text, name, want) == NULL) {
		log_warnx("%s/SHA256SUMS names no %s: it is not served (make "
		    "pxe)", conf.pxe_dir, name);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s", conf.pxe_dir, name);
	if ((data = read_all(path, LOADER_MAX, &len)) == NULL) {
		log_warn("%s: not served", path);
		return 0;
	}
	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(got, sizeof(got), h, sizeof(h));
	if (strcmp(got, want) != 0) {
		log_warnx("%s: SHA-256 %s, but SHA256SUMS says %s: it is not "
		    "served", path, got, want);
		free(data);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s", tftp_dir, name);
	if (write_all(path, data, len) != 0) {
		log_warn("%s", path);
		free(data);
		return 0;
	}
	free(data);
	log_info("UEFI loader %s (SHA-256 %.16s...) served", name, got);
	return 1;
}

int
grubcfg_init(const char *tftp_dir)
{
	char path[PATH_MAX_RACKD];
	char *sums;
	size_t len;

	have_grub = 0;
	snprintf(path, sizeof(path), "%s/SHA256SUMS", conf.pxe_dir);
	if ((sums = (char *)read_all(path, SUMS_MAX - 1, &len)) == NULL) {
		log_warn("%s: no UEFI network loaders are served (make pxe "
		    "fetches them); UEFI nodes boot their disk by their "
		    "firmware's boot order", path);
		for (size_t i = 0; i < sizeof(loaders) / sizeof(loaders[0]);
		    i++) {
			snprintf(path, sizeof(path), "%s/%s", tftp_dir,
			    loaders[i]);
			unlink(path);
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++)
		if (install_loader(tftp_dir, loaders[i], sums) &&
		    strcmp(loaders[i], "grubx64.efi") == 0)
			have_grub = 1;
	free(sums);
	/* GRUB fetches the clone kernel and initramfs over TFTP. */
	have_kernel = 1;
	for (size_t i = 0; i < sizeof(kernel_files) / sizeof(kernel_files[0]);
	    i++) {
		unsigned char *data;
		size_t dlen;

		snprintf(path, sizeof(path), "%s/%s", conf.pxe_dir,
		    kernel_files[i]);
		if ((data = read_all(path, 4 * LOADER_MAX, &dlen)) == NULL) {
			have_kernel = 0;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", tftp_dir,
		    kernel_files[i]);
		if (write_all(path, data, dlen) != 0) {
			have_kernel = 0;
		} else {
			/* Secure Boot checks the kernel, not the initramfs:
			 * the log records what GRUB is given. */
			unsigned char h[crypto_hash_sha256_BYTES];
			char hex[65];

			crypto_hash_sha256(h, data, dlen);
			sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
			log_info("clone %s for GRUB: SHA-256 %s",
			    kernel_files[i], hex);
		}
		free(data);
	}
	return 0;
}

int
grubcfg_available(void)
{
	return have_grub;
}

/* An interface name or an address as a path component. */
static int
component_ok(const char *s)
{
	if (s[0] == '\0' || s[0] == '.' || strlen(s) > 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("._-:", *s) != NULL))
			return 0;
	return 1;
}

int
grubcfg_node_dir(const struct db_link *l, char *buf, size_t len)
{
	char sub[192];

	if (!component_ok(l->ifname) || !component_ok(l->node_addr))
		return -1;
	snprintf(sub, sizeof(sub), "%s/if/%s/%s", GRUBCFG_TFTP_DIR,
	    l->ifname, l->node_addr);
	return statedir_path(buf, len, sub);
}

static int
mkdir_p(const char *path)
{
	char p[PATH_MAX_RACKD];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = strchr(p + 1, '/'); ; s = strchr(s + 1, '/')) {
		if (s != NULL)
			*s = '\0';
		if (mkdir(p, 0755) == 0)
			chmod(p, 0755);	/* whatever the umask */
		else if (errno != EEXIST)
			return -1;
		if (s == NULL)
			return 0;
		*s = '/';
	}
}

/* Hard links in dir to the shared files of tftp/ (iPXE and the loaders). */
static int
link_shared(const char *dir)
{
	char tftp[PATH_MAX_RACKD], from[PATH_MAX_RACKD * 2];
	char to[PATH_MAX_RACKD * 2];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int rc = 0;

	statedir_path(tftp, sizeof(tftp), GRUBCFG_TFTP_DIR);
	if ((d = opendir(tftp)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp") != NULL)
			continue;
		snprintf(from, sizeof(from), "%s/%s", tftp, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", dir, e->d_name);
		if (lstat(from, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		unlink(to);
		if (link(from, to) != 0)
			rc = -1;
	}
	closedir(d);
	/* A loader no longer served goes from the node's dir too. */
	for (size_t i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++) {
		snprintf(from, sizeof(from), "%s/%s", tftp, loaders[i]);
		snprintf(to, sizeof(to), "%s/%s", dir, loaders[i]);
		if (access(from, F_OK) != 0)
			unlink(to);
	}
	return rc;
}

int
grubcfg_node(const struct db_link *l)
{
	char dir[PATH_MAX_RACKD];

	if (grubcfg_node_dir(l, dir, sizeof(dir)) != 0 || mkdir_p(dir) != 0 ||
	    link_shared(dir) != 0) {
		log_warn("slot %s: cannot make its TFTP dir", l->slot);
		return -1;
	}
	return grubcfg_local(l);
}

int
grubcfg_local_script(const char *slot, char *buf, size_t len)
{
	return snprintf(buf, len,
	    "echo \"rackd: slot %s: booting the local disk\"\n"
	    "insmod part_gpt\ninsmod part_msdos\ninsmod fat\ninsmod chain\n"
	    "for f in /EFI/BOOT/BOOTX64.EFI /EFI/debian/shimx64.efi "
	    "/EFI/debian/grubx64.efi; do\n"
	    "\tif search --no-floppy --file --set=root $f; then\n"
	    "\t\techo \"rackd: chainloading the disk's loader "
	    "($root)$f\"\n"
	    "\t\tchainloader $f\n\t\tboot\n\tfi\ndone\n"
	    "echo \"rackd: no EFI loader on the disks; back to the "
	    "firmware\"\n"
	    "sleep 5\nexit\n", slot);
}

/* The clone environment, for a reimage or a diskless boot (what says
 * which, on the console): the kernel and initramfs over TFTP from the
 * node's dir (GRUB has no HTTP). No job token: anyone may read this file
 * (see grubcfg_sweep's comment); the initramfs gets the rest of its
 * command line, token included, from GET /boot/SLOT.cmdline, which boot.c
 * answers only to the slot's node address. */
static int
net_script(const struct db_link *l, const char *what, char *buf,
    size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char err[ERR_MAX], bootif[40] = "";
	const char *mac;
	json_t *node = db_node_get(l->slot);
	int n, port = 0;

	if (config_parse_listen(conf.listen, &ss, &sl, err, sizeof(err)) == 0)
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	mac = json_string_value(json_object_get(node, "mac"));
	if (mac != NULL && strlen(mac) == 17) {
		snprintf(bootif, sizeof(bootif), "BOOTIF=01-%s ", mac);
		for (char *p = bootif; *p != '\0'; p++)
			if (*p == ':')
				*p = '-';
	}
	n = snprintf(buf, len,
	    "echo \"rackd: slot %s: %s\"\n"
	    "linux /vmlinuz rackd.url=http://%s:%d rackd.slot=%s "
	    "%sconsole=tty0 console=ttyS0,115200 panic=30\n"
	    "initrd /initrd.img\n"
	    "boot\n"
	    "echo \"rackd: the clone environment did not boot\"\n"
	    "sleep 10\nreboot\n", l->slot, what, l->board_addr, port, l->slot,
	    bootif);
	json_decref(node);
	return n;
}

int
grubcfg_local(const struct db_link *l)
{
	char dir[PATH_MAX_RACKD], path[PATH_MAX_RACKD + 32];
	char text[BOOT_SCRIPT_MAX], what[256];
	const char *mode, *image;
	struct db_job job;
	json_t *node;
	int n, rc;

	if (grubcfg_node_dir(l, dir, sizeof(dir)) != 0)
		return -1;
	/* An active job of the clone environment, or a diskless node with an
	 * image: the clone environment (boot.c decides again when it asks
	 * for its command line); else the disk. */
	rc = db_job_active(l->slot, &job);
	node = db_node_get(l->slot);
	mode = json_string_value(json_object_get(node, "boot_mode"));
	image = json_string_value(json_object_get(node, "image"));
	if (rc == DB_OK && job_action_clone(job.action) && have_kernel) {
		snprintf(what, sizeof(what), "%s%s%s (job %lld)", job.action,
		    job.image[0] ? " with " : "", job.image, (long long)job.id);
		n = net_script(l, what, text, sizeof(text));
	} else if (mode != NULL && strcmp(mode, "diskless") == 0 &&
	    image != NULL && have_kernel) {
		snprintf(what, sizeof(what), "diskless boot of %s", image);
		n = net_script(l, what, text, sizeof(text));
	} else
		n = grubcfg_local_script(l->slot, text, sizeof(text));
	json_decref(node);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -1;
	snprintf(path, sizeof(path), "%s/grub", dir);
	if (mkdir_p(path) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/grub/grub.cfg", dir);
	if (write_all(path, text, (size_t)n) != 0) {
		log_warn("slot %s: cannot write %s", l->slot, path);
		return -1;
	}
	return 0;
}

void
grubcfg_slot(const char *slot)
{
	struct db_link l;

	if (db_link_get(slot, &l) == DB_OK && l.ifname[0] != '\0' &&
	    l.node_addr[0] != '\0' && links_present(l.ifname))
		grubcfg_local(&l);
}

/* ---- stale node dirs ---------------------------------------------------- */

struct want {
	const char *ifname, *addr;
	int found;
};

static int
is_wanted(const struct db_link *l, void *arg)
{
	struct want *w = arg;

	if (strcmp(l->ifname, w->ifname) == 0 &&
	    strcmp(l->node_addr, w->addr) == 0 && links_present(l->ifname))
		w->found = 1;
	return 0;
}

/* Remove name in dfd and, if it is a directory, what is in it (at most
 * depth levels down; a node dir has grub/ in it). Links are not followed. */
static int
rm_tree(int dfd, const char *name, int depth)
{
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd, rc = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0);
	if (depth <= 0 || (fd = openat(dfd, name, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0 &&
		    rm_tree(dirfd(d), e->d_name, depth - 1) != 0)
			rc = -1;
	closedir(d);
	return rc == 0 ? unlinkat(dfd, name, AT_REMOVEDIR) : -1;
}

void
grubcfg_sweep(void)
{
	char top[PATH_MAX_RACKD];
	struct dirent *ei, *ea;
	DIR *di, *da;
	int fd;

	if (statedir_path(top, sizeof(top), GRUBCFG_TFTP_DIR "/if") != 0 ||
	    (di = opendir(top)) == NULL)
		return;
	while ((ei = readdir(di)) != NULL) {
		if (ei->d_name[0] == '.' || (fd = openat(dirfd(di), ei->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		if ((da = fdopendir(fd)) == NULL) {
			close(fd);
			continue;
		}
		while ((ea = readdir(da)) != NULL) {
			struct want w = { ei->d_name, ea->d_name, 0 };

			if (strcmp(ea->d_name, ".") == 0 ||
			    strcmp(ea->d_name, "..") == 0)
				continue;
			db_links_each(is_wanted, &w);
			if (w.found)
				continue;
			if (rm_tree(dirfd(da), ea->d_name, 3) == 0)
				log_info("TFTP dir if/%s/%s removed: no link "
				    "%s with node address %s now", ei->d_name,
				    ea->d_name, ei->d_name, ea->d_name);
			else
				log_warn("%s/%s/%s: cannot remove it", top,
				    ei->d_name, ea->d_name);
		}
		closedir(da);
		/* No node dir left: the interface's dir goes too. */
		unlinkat(dirfd(di), ei->d_name, AT_REMOVEDIR);
	}
	closedir(di);
}
