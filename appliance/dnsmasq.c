/*
 * dnsmasq.c — DHCP and TFTP on the management links, by Debian's dnsmasq
 * run as rackd's child in the foreground. rackd writes its configuration
 * (one one-address range per slot, so the address a node gets says which
 * slot it is in; iPXE binaries by client architecture over TFTP; iPXE
 * clients get the slot's boot script over HTTP) and its options file
 * (hostnames: the slot labels) into STATE_DIR/dnsmasq, restarts it with
 * backoff if it exits, reloads it (SIGHUP) when only labels change and
 * restarts it when links change. dnsmasq runs only while there is a
 * management link, and serves only those links: never the uplink.
 *
 * A lease is tied to the client's MAC, so a new server on a slot would be
 * refused the slot's one address until the old lease ran out: when a link
 * loses its carrier or goes away, the slot's lease is dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "appliance/rackd.h"
#include "db/db.h"

#define DNSMASQ_DIR	"dnsmasq"
#define TFTP_DIR	GRUBCFG_TFTP_DIR

static const char *const ipxe_files[] = {
	"undionly.kpxe", "snponly.efi", "ipxe.efi",
};

static pid_t child;
static int child_fd = -1;		/* pidfd */
static int64_t child_started;
static int backoff_ms = 1000;
static int timer = -1, restart_timer = -1, lease_timer = -1, inotify_fd = -1;
static int lease_watch = -1;		/* on priv.c's run dir */
static int stopping;
static char forget[DNSMASQ_FORGET_MAX][16];
static int nforget;
static char last_conf_hash[65];

static void apply(void *arg);
static void restart(void *arg);

static int
dir_path(char *buf, size_t len, const char *name)
{
	char sub[64];

	snprintf(sub, sizeof(sub), "%s/%s", DNSMASQ_DIR, name);
	return statedir_path(buf, len, sub);
}

/* Write a whole file through a temporary one; mode 0644. */
static int
write_file(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX_RACKD + 8];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, 0644) != 0 ||
	    close(fd) != 0) {
		unlink(tmp);
		return -1;
	}
	return rename(tmp, path);
}

static int
copy_file(const char *from, const char *to)
{
	char buf[65536], tmp[PATH_MAX_RACKD + 8];
	int in, out, rc = -1;
	ssize_t n;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", to);
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
	if (n == 0 && fchmod(out, 0644) == 0 && close(out) == 0) {
		out = -1;
		rc = rename(tmp, to);
	}
	if (out >= 0)
		close(out);
	close(in);
	if (rc != 0)
		unlink(tmp);
	return rc;
}

static int
access_tftp(const char *name)
{
	char path[PATH_MAX_RACKD], sub[64];

	snprintf(sub, sizeof(sub), "%s/%s", TFTP_DIR, name);
	return statedir_path(path, sizeof(path), sub) == 0 &&
	    access(path, R_OK) == 0;
}

/* ---- configuration ------------------------------------------------------ */

struct gen {
	FILE	*conf, *opts;
	int	 n;
	int	 port;
	const char *tftp;
	const char *efi;		/* iPXE's EFI binary */
};

static int
gen_link(const struct db_link *l, void *arg)
{
	struct gen *g = arg;
	uint32_t mask = l->prefix >= 32 ? 0xffffffffu :
	    ~(0xffffffffu >> l->prefix);
	struct in_addr m = { htonl(mask) };
	char label[LABEL_MAX + 1] = "";
	json_t *node, *sb;

	if (l->ifname[0] == '\0' || l->node_addr[0] == '\0')
		return 0;
	fprintf(g->conf, "\n# slot %s\ninterface=%s\n"
	    "dhcp-range=set:s%d,%s,%s,%s,%ds\n"
	    "dhcp-boot=tag:ipxe,tag:s%d,http://%s:%d/boot/%s.ipxe\n"
	    /* UEFI HTTP boot: iPXE over HTTP, no TFTP at all. */
	    "dhcp-boot=tag:!ipxe,tag:httpboot,tag:s%d,"
	    "http://%s:%d/pxe/%s\n"
	    /* Router advertisements with a lifetime of 0 (not a router):
	     * iPXE stops waiting for one and boots at once. */
	    "dhcp-range=::,constructor:%s,ra-only\nra-param=%s,0,0\n",
	    l->slot, l->ifname, g->n, l->node_addr, l->node_addr,
	    inet_ntoa(m), conf.dhcp_lease, g->n, l->board_addr, g->port,
	    l->slot, g->n, l->board_addr, g->port, g->efi, l->ifname,
	    l->ifname);
	/* The node's own TFTP dir (grubcfg.c): dnsmasq's root on this
	 * interface, with the client's address added (tftp-unique-root). */
	if (links_present(l->ifname) && grubcfg_node(l) == 0)
		fprintf(g->conf, "tftp-root=%s/if/%s,%s\n", g->tftp, l->ifname,
		    l->ifname);
	node = db_node_get(l->slot);
	/* Secure Boot (the slot's setting, or the rack's): UEFI firmware
	 * gets Debian's signed shim, which loads the signed GRUB beside it. */
	sb = json_object_get(node, "secure_boot");
	if ((json_is_boolean(sb) ? json_is_true(sb) : conf.secure_boot) &&
	    grubcfg_available() && access_tftp("shimx64.efi"))
		fprintf(g->conf, "tag-if=set:sb,tag:s%d\n", g->n);
	if (node != NULL && json_string_value(json_object_get(node, "label")))
		snprintf(label, sizeof(label), "%s", json_string_value(
		    json_object_get(node, "label")));
	json_decref(node);
	if (label[0] == '\0')
		snprintf(label, sizeof(label), "%s", l->slot);
	/* A hostname: letters, digits and '-' only. */
	for (char *p = label; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9')))
			*p = '-';
	fprintf(g->opts, "tag:s%d,12,%s\n", g->n, label);
	g->n++;
	return 0;
}

static const char *
dnsmasq_user(void)
{
	return getpwnam("dnsmasq") != NULL ? "dnsmasq" : "nobody";
}

/* Write dnsmasq.conf and options; the number of links served. */
static int
generate(char *conf_text, size_t *conf_len, char *opts_text, size_t *opts_len)
{
	char tftp[PATH_MAX_RACKD], run[PATH_MAX_RACKD];
	char leases[PATH_MAX_RACKD + 16], opts[PATH_MAX_RACKD + 16];
	struct sockaddr_storage ss;
	socklen_t sl;
	char err[ERR_MAX];
	struct gen g = { 0 };

	if (config_parse_listen(conf.listen, &ss, &sl, err, sizeof(err)) != 0)
		return -1;
	g.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	statedir_path(tftp, sizeof(tftp), TFTP_DIR);
	g.tftp = tftp;
	g.efi = access_tftp("snponly.efi") ? "snponly.efi" : "ipxe.efi";
	/* Read by dnsmasq from root's run dir, which priv.c fills. */
	if (dnsmasq_run_dir(run, sizeof(run)) != 0)
		return -1;
	snprintf(opts, sizeof(opts), "%s/options", run);
	snprintf(leases, sizeof(leases), "%s/leases", run);
	g.conf = fmemopen(conf_text, DNSMASQ_CONF_MAX, "w");
	g.opts = fmemopen(opts_text, DNSMASQ_CONF_MAX, "w");
	if (g.conf == NULL || g.opts == NULL) {
		if (g.conf)
			fclose(g.conf);
		if (g.opts)
			fclose(g.opts);
		return -1;
	}
	fprintf(g.conf, "# Written by rackd; changes here are lost.\n"
	    "port=0\nbind-dynamic\nexcept-interface=lo\n"
	    "dhcp-authoritative\nno-ping\nenable-ra\n"
	    "dhcp-leasefile=%s\ndhcp-optsfile=%s\n"
	    "user=%s\npid-file=\n%s"
	    "enable-tftp\ntftp-root=%s\ntftp-unique-root=ip\n"
	    "tftp-no-blocksize\n"
	    "dhcp-match=set:ipxe,175\n"
	    "dhcp-match=set:efi64,option:client-arch,7\n"
	    "dhcp-match=set:efi64,option:client-arch,9\n"
	    "dhcp-match=set:httpboot,option:client-arch,16\n"
	    "dhcp-option-force=tag:httpboot,60,HTTPClient\n"
	    "dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe\n"
	    "dhcp-boot=tag:!ipxe,tag:efi64,tag:!sb,%s\n"
	    "dhcp-boot=tag:!ipxe,tag:efi64,tag:sb,shimx64.efi\n",
	    leases, opts, dnsmasq_user(),
	    conf.foreground ? "log-facility=-\n" : "", tftp,
	    access_tftp("snponly.efi") ? "snponly.efi" : "ipxe.efi");
	for (int i = 0; i < conf.uplink.n; i++)
		if (strpbrk(conf.uplink.v[i], "*?[") == NULL)
			fprintf(g.conf, "no-dhcp-interface=%s\n",
			    conf.uplink.v[i]);
	db_links_each(gen_link, &g);
	grubcfg_sweep();	/* the dirs of links gone or readdressed */
	fputc('\0', g.conf);
	fputc('\0', g.opts);
	if (ferror(g.conf) || ferror(g.opts)) {
		fclose(g.conf);
		fclose(g.opts);
		log_warnx("dnsmasq: configuration larger than %d bytes",
		    DNSMASQ_CONF_MAX);
		return -1;
	}
	fclose(g.conf);
	fclose(g.opts);
	*conf_len = strlen(conf_text);
	*opts_len = strlen(opts_text);
	return g.n;
}

/* ---- the child (under its keeper, from priv.c) ------------------------- */

static void on_child_exit(int fd, uint32_t events, void *arg);
static void on_lease_change(int fd, uint32_t events, void *arg);

static int
start(void)
{
	char run[PATH_MAX_RACKD];
	pid_t pid;

	if ((pid = priv_dnsmasq_start()) <= 0) {
		log_warnx("dnsmasq not started; trying again in %d ms",
		    backoff_ms);
		loop_timer_arm(restart_timer, backoff_ms);
		backoff_ms = backoff_ms * 2 > DNSMASQ_BACKOFF_MAX_MS ?
		    DNSMASQ_BACKOFF_MAX_MS : backoff_ms * 2;
		return -1;
	}
	child = pid;
	child_started = db_now_ms();
	child_fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (child_fd < 0 || loop_add_fd(child_fd, EPOLLIN, on_child_exit,
	    NULL) != 0) {
		log_warn("dnsmasq: cannot watch process %d", (int)pid);
		if (child_fd >= 0)
			close(child_fd);
		child_fd = -1;
	}
	/* The leases, in the run dir that exists from now on. */
	if (lease_watch < 0 && dnsmasq_run_dir(run, sizeof(run)) == 0 &&
	    (lease_watch = inotify_add_watch(inotify_fd, run, IN_CLOSE_WRITE |
	    IN_MODIFY | IN_MOVED_TO)) < 0)
		log_warn("dnsmasq: cannot watch %s", run);
	log_info("dnsmasq started (keeper pid %d)", (int)pid);
	return 0;
}

static void
reap(int status)
{
	if (child_fd >= 0) {
		loop_del_fd(child_fd);
		close(child_fd);
		child_fd = -1;
	}
	child = 0;
	(void)status;
}

static void
on_child_exit(int fd, uint32_t events, void *arg)
{
	int status = 0;
	pid_t pid = child;

	if (pid <= 0 || priv_dnsmasq_reap(&status) != 1)
		return;
	reap(status);
	if (stopping)
		return;
	if (db_now_ms() - child_started > 60000)
		backoff_ms = 1000;	/* it ran a while: start afresh */
	if (WIFEXITED(status) && WEXITSTATUS(status) > 128)
		log_warnx("dnsmasq killed by signal %d; restarting in %d ms",
		    WEXITSTATUS(status) - 128, backoff_ms);
	else if (WIFEXITED(status))
		log_warnx("dnsmasq exited with status %d; restarting in %d ms",
		    WEXITSTATUS(status), backoff_ms);
	else
		log_warnx("dnsmasq's keeper killed by signal %d; restarting "
		    "in %d ms", WTERMSIG(status), backoff_ms);
	loop_timer_arm(restart_timer, backoff_ms);
	backoff_ms = backoff_ms * 2 > DNSMASQ_BACKOFF_MAX_MS ?
	    DNSMASQ_BACKOFF_MAX_MS : backoff_ms * 2;
}

/* Stop the child and wait for it (bounded). */
static void
stop_child(void)
{
	if (child <= 0)
		return;
	reap(priv_dnsmasq_stop());
}

/* Drop the leases of the addresses in forget[] (dnsmasq stopped). */
static void
drop_leases(void)
{
	for (int i = 0; i < nforget; i++)
		if (priv_drop_lease(forget[i]) != 0)
			log_warn("dnsmasq: cannot drop the lease of %s",
			    forget[i]);
	nforget = 0;
}

static void
restart(void *arg)
{
	if (child <= 0 && !stopping)
		apply(NULL);
}

/* Bring dnsmasq in line with the links: write, then start, reload,
 * restart or stop it. */
static void
apply(void *arg)
{
	static char conf_text[DNSMASQ_CONF_MAX], opts_text[DNSMASQ_CONF_MAX];
	char path[PATH_MAX_RACKD], hash[65];
	size_t clen, olen;
	int n, conf_changed;

	if (stopping)
		return;
	conf_rdlock();
	n = generate(conf_text, &clen, opts_text, &olen);
	conf_unlock();
	if (n < 0)
		return;
	auth_hash_hex(conf_text, clen, hash);
	conf_changed = strcmp(hash, last_conf_hash) != 0;
	dir_path(path, sizeof(path), "options");
	if (write_file(path, opts_text, olen) != 0)
		log_warn("dnsmasq: cannot write %s", path);
	dir_path(path, sizeof(path), "dnsmasq.conf");
	if (conf_changed && write_file(path, conf_text, clen) != 0) {
		log_warn("dnsmasq: cannot write %s", path);
		return;
	}
	memcpy(last_conf_hash, hash, sizeof(hash));
	if (n == 0) {			/* no management link: no dnsmasq */
		stop_child();
		drop_leases();
		return;
	}
	if (child > 0 && !conf_changed && nforget == 0) {
		priv_dnsmasq_hup();	/* rereads the options file */
		return;
	}
	stop_child();
	drop_leases();
	start();
}

void
dnsmasq_changed(void)
{
	if (timer >= 0)
		loop_timer_arm(timer, DNSMASQ_DEBOUNCE_MS);
}

void
dnsmasq_forget(const char *node_addr)
{
	if (node_addr == NULL || node_addr[0] == '\0')
		return;
	for (int i = 0; i < nforget; i++)
		if (strcmp(forget[i], node_addr) == 0)
			return;
	if (nforget < DNSMASQ_FORGET_MAX)
		snprintf(forget[nforget++], sizeof(forget[0]), "%s", node_addr);
	dnsmasq_changed();
}

int
dnsmasq_pid(void)
{
	return (int)child;
}

/* ---- leases: which MAC each slot's node has ----------------------------- */

static int
mac_for_link(const struct db_link *l, void *arg)
{
	const char **lease = arg;	/* { ip, mac } */
	char why[JOB_MESSAGE_MAX];
	const char *was;
	json_t *n;

	if (strcmp(l->node_addr, lease[0]) != 0)
		return 0;
	n = db_node_get(l->slot);
	was = json_string_value(json_object_get(n, "mac"));
	snprintf(why, sizeof(why), "another server in the slot (MAC %s, "
	    "was %s)", lease[1], was ? was : "");
	if (db_node_set_mac(l->slot, lease[1]) == 1) {
		nodes_publish(l->slot);
		if (was != NULL)	/* the server was replaced */
			inventory_enrol(l->slot, why);
	}
	json_decref(n);
	return 0;
}

static void
on_lease_change(int fd, uint32_t events, void *arg)
{
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	loop_timer_arm(lease_timer, DNSMASQ_DEBOUNCE_MS);
}

static void
read_leases(void *arg)
{
	char path[PATH_MAX_RACKD], *line = NULL;
	size_t linecap = 0;
	FILE *fp;

	if (dnsmasq_run_dir(path, sizeof(path)) != 0)
		return;
	strncat(path, "/leases", sizeof(path) - strlen(path) - 1);
	if ((fp = fopen(path, "re")) == NULL)
		return;
	/* Whole lines (a line cut in two would read as two leases). */
	for (int i = 0; i < DNSMASQ_LEASES_MAX &&
	    getline(&line, &linecap, fp) != -1; i++) {
		char mac[32], ip[64];
		if (sscanf(line, "%*s %31s %63s", mac, ip) == 2) {
			const char *lease[2] = { ip, mac };
			db_links_each(mac_for_link, (void *)lease);
		}
	}
	free(line);
	fclose(fp);
}

/* dnsmasq drops to an unprivileged user: it must be able to pass through
 * every directory above the state dir. */
static int
reachable(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX_RACKD], *slash;
	struct stat st;

	snprintf(path, sizeof(path), "%s", dir);
	for (;;) {
		if (stat(path[0] ? path : "/", &st) == 0 &&
		    !(st.st_mode & S_IXOTH)) {
			snprintf(err, errlen, "dnsmasq runs as user %s and "
			    "cannot pass through %s (chmod o+x it, or choose "
			    "another state_dir)", dnsmasq_user(),
			    path[0] ? path : "/");
			return -1;
		}
		if ((slash = strrchr(path, '/')) == NULL || slash == path)
			break;
		*slash = '\0';
	}
	return 0;
}

int
dnsmasq_init(char *err, size_t errlen)
{
	char dir[PATH_MAX_RACKD], from[PATH_MAX_RACKD], to[PATH_MAX_RACKD];
	int copied = 0;

	if (!conf.manage_links)
		return 0;
	if (access(conf.dnsmasq, X_OK) != 0) {
		snprintf(err, errlen, "dnsmasq: %s: %s (install Debian's "
		    "dnsmasq-base)", conf.dnsmasq, strerror(errno));
		return -1;
	}
	statedir_path(dir, sizeof(dir), DNSMASQ_DIR);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		goto fail;
	chmod(dir, 0755);
	if (reachable(dir, err, errlen) != 0)
		return -1;
	statedir_path(dir, sizeof(dir), TFTP_DIR);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		goto fail;
	chmod(dir, 0755);
	for (size_t i = 0; i < sizeof(ipxe_files) / sizeof(ipxe_files[0]);
	    i++) {
		snprintf(from, sizeof(from), "%s/%s", conf.ipxe_dir,
		    ipxe_files[i]);
		if (snprintf(to, sizeof(to), "%s/%s", dir, ipxe_files[i]) >=
		    (int)sizeof(to))
			goto fail;
		if (copy_file(from, to) == 0)
			copied++;
	}
	if (copied == 0) {
		snprintf(err, errlen, "no iPXE binaries in %s (install "
		    "Debian's ipxe)", conf.ipxe_dir);
		return -1;
	}
	grubcfg_init(dir);		/* UEFI loaders, if make pxe got them */
	if ((timer = loop_timer_new(apply, NULL)) < 0 ||
	    (restart_timer = loop_timer_new(restart, NULL)) < 0)
		goto fail;
	if ((inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 ||
	    (lease_timer = loop_timer_new(read_leases, NULL)) < 0 ||
	    loop_add_fd(inotify_fd, EPOLLIN, on_lease_change, NULL) != 0)
		goto fail;
	dnsmasq_changed();
	return 0;
fail:
	snprintf(err, errlen, "dnsmasq: %s", strerror(errno));
	return -1;
}

void
dnsmasq_stop(void)
{
	stopping = 1;
	stop_child();
}
