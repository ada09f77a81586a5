/*
 * priv.c — privilege separation, and the work that needs root.
 *
 * At start rackd forks a small helper that stays root; the rest of rackd
 * (HTTP, database, jobs, the links watcher) gives up root for the `user`
 * option's account. The helper does the few things that need root, asked
 * over a socketpair with fixed-size messages, and checks each request
 * itself, so that a compromised rackd gains little:
 *   - a link up, an address on a link: a management link (never one
 *     matching `uplink`), an address of link_subnet_pool or of rackd's
 *     IPv6 prefix;
 *   - dnsmasq: started under a keeper process with a configuration the
 *     helper has read, checked option by option and kept in memory (no
 *     dhcp-script, no other files); its leases and options files live in
 *     a directory of the helper's own, outside the state dir; signalled,
 *     stopped, reaped, a lease dropped;
 *   - the USB gadget: set up and torn down, from the helper's own copy of
 *     the configuration.
 * The helper exits when rackd closes the socket (stopping dnsmasq and the
 * gadget), and dies with rackd. With user = root (or rackd not started as
 * root) there is no helper and the same functions run in rackd itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <net/if.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "appliance/rackd.h"

#define PRIV_CONF_MAX	(256 * 1024)	/* dnsmasq's configuration */
#define PRIV_OPTS_MAX	(64 * 1024)	/* its options file */
#define STOP_WAIT_MS	3000
#define RUN_ROOT	"/run/rackd"

enum priv_op {
	PRIV_LINK_UP = 1, PRIV_ADDR, PRIV_DNSMASQ_START, PRIV_DNSMASQ_HUP,
	PRIV_DNSMASQ_STOP, PRIV_DNSMASQ_REAP, PRIV_DROP_LEASE,
	PRIV_GADGET_SETUP, PRIV_GADGET_TEARDOWN,
};

struct priv_req {
	int32_t	 op, a, b;
	char	 s[INET6_ADDRSTRLEN + 1];
};

struct priv_rep {
	int32_t	 rc;		/* 0, or -1 with err (errno) and msg */
	int32_t	 err;
	int32_t	 val;
	char	 msg[256];
};

static int priv_fd = -1;		/* rackd's end; -1: no helper */
static pthread_mutex_t priv_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t helper;
static uid_t run_uid;
static gid_t run_gid;

/* Where dnsmasq is kept (the helper's, or rackd's when there is none). */
static pid_t keeper_pid;
static int gadget_up;

/* ---- the checks ------------------------------------------------------- */

/* A link rackd may configure: a management link (links.c's rule), never
 * the loopback or an uplink. */
int
priv_link_allowed(const char *ifname)
{
	const char *kind;

	return ifname[0] != '\0' && strcmp(ifname, "lo") != 0 &&
	    links_is_management(&conf, ifname, &kind);
}

/* An address rackd gives its side of a link: in link_subnet_pool, or in
 * its own IPv6 prefix. */
int
priv_addr_allowed(const char *addr, int prefix)
{
	struct in_addr a;
	uint32_t net;
	int plen;

	if (strchr(addr, ':') != NULL) {
		struct in6_addr a6;
		return inet_pton(AF_INET6, addr, &a6) == 1 && prefix == 64 &&
		    strncmp(addr, ULA_PREFIX, strlen(ULA_PREFIX)) == 0;
	}
	if (inet_pton(AF_INET, addr, &a) != 1 || prefix < 8 || prefix > 32 ||
	    config_parse_cidr(conf.link_subnet_pool, &net, &plen) != 0 ||
	    prefix < plen)
		return 0;
	return plen == 0 || ((ntohl(a.s_addr) ^ net) >> (32 - plen)) == 0;
}

/* One line of dnsmasq's configuration as rackd writes it (dnsmasq.c):
 * only these options, and files only where they belong. */
int
priv_conf_line_ok(const char *line, const char *run_dir, const char *tftp_dir)
{
	static const char *const plain[] = {
		"port=0", "bind-dynamic", "except-interface=lo",
		"dhcp-authoritative", "no-ping", "enable-ra", "enable-tftp",
		"tftp-no-blocksize", "pid-file=", "log-facility=-",
		"user=dnsmasq", "user=nobody",
	};
	static const char *const valued[] = {
		"interface=", "no-dhcp-interface=", "dhcp-range=", "ra-param=",
		"dhcp-boot=", "dhcp-match=",
	};
	char path[PATH_MAX_RACKD + 32];

	if (line[0] == '\0' || line[0] == '#')
		return 1;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (strcmp(line, plain[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(valued) / sizeof(valued[0]); i++)
		if (strncmp(line, valued[i], strlen(valued[i])) == 0)
			return strchr(line, '/') == NULL ||
			    strncmp(line, "dhcp-boot=", 10) == 0;
	snprintf(path, sizeof(path), "dhcp-leasefile=%s/leases", run_dir);
	if (strcmp(line, path) == 0)
		return 1;
	snprintf(path, sizeof(path), "dhcp-optsfile=%s/options", run_dir);
	if (strcmp(line, path) == 0)
		return 1;
	snprintf(path, sizeof(path), "tftp-root=%s", tftp_dir);
	return strcmp(line, path) == 0;
}

/* dnsmasq's options file: "tag:sN,12,HOSTNAME" lines. */
int
priv_opts_line_ok(const char *line)
{
	const char *p = line;

	if (strncmp(p, "tag:s", 5) != 0)
		return 0;
	for (p += 5; *p >= '0' && *p <= '9'; p++)
		;
	if (p == line + 5 || strncmp(p, ",12,", 4) != 0)
		return 0;
	const char *name = p + 4;
	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
	return p > name;
}

/* ---- files ------------------------------------------------------------- */

int
priv_run_dir(char *buf, size_t len)
{
	struct stat st;

	if (priv_fd < 0 && helper == 0 && getuid() != 0)
		return statedir_path(buf, len, "dnsmasq");
	if (stat(conf.state_dir, &st) != 0)
		return -1;
	/* One per state dir; root's, so that rackd cannot put a link there
	 * for dnsmasq (root when it opens them) to follow. */
	snprintf(buf, len, "%s/%llx-%llx", RUN_ROOT,
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	return 0;
}

/* The whole of a small regular file of rackd's (not a link), checked line
 * by line; malloc'd, NUL-terminated. */
static char *
read_checked(const char *path, size_t max, int (*ok)(const char *, void *),
    void *arg, char *msg, size_t msglen)
{
	char *text, *line, *save;
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		snprintf(msg, msglen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size >= max || (text = malloc(max)) == NULL) {
		close(fd);
		snprintf(msg, msglen, "%s: not a file of at most %zu bytes", path,
		    max);
		return NULL;
	}
	n = read(fd, text, max - 1);
	close(fd);
	if (n < 0) {
		free(text);
		snprintf(msg, msglen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	text[n] = '\0';
	if (strlen(text) != (size_t)n) {
		free(text);
		snprintf(msg, msglen, "%s: a NUL byte", path);
		return NULL;
	}
	char *copy = strdup(text);
	if (copy == NULL) {
		free(text);
		snprintf(msg, msglen, "out of memory");
		return NULL;
	}
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (!ok(line, arg)) {
			/* Not the line itself: the file may not be rackd's. */
			snprintf(msg, msglen, "%s: a line rackd does not write: "
			    "refused", path);
			free(copy);
			free(text);
			return NULL;
		}
	free(copy);
	return text;
}

struct conf_dirs {
	char	 run[PATH_MAX_RACKD];
	char	 tftp[PATH_MAX_RACKD];
};

static int
conf_ok(const char *line, void *arg)
{
	struct conf_dirs *d = arg;

	return priv_conf_line_ok(line, d->run, d->tftp);
}

static int
opts_ok(const char *line, void *arg)
{
	return priv_opts_line_ok(line);
}

/* Write text to path atomically (root's directory). */
static int
write_small(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX_RACKD + 64], tmp[PATH_MAX_RACKD + 72];
	size_t len = strlen(text);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len || close(fd) != 0) {
		unlink(tmp);
		return -1;
	}
	return rename(tmp, path);
}

static int
ensure_run_dir(char *dir, size_t len)
{
	struct stat st;

	if (priv_run_dir(dir, len) != 0)
		return -1;
	if (strncmp(dir, RUN_ROOT "/", strlen(RUN_ROOT) + 1) != 0)
		return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -1;
	if ((mkdir(RUN_ROOT, 0755) != 0 && errno != EEXIST) ||
	    (mkdir(dir, 0755) != 0 && errno != EEXIST))
		return -1;
	/* Root's and not a link, or nothing of it is trusted. */
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* The options file, checked, into the run dir. */
static int
copy_opts(const char *run, char *msg, size_t msglen)
{
	char path[PATH_MAX_RACKD], *text;
	int rc;

	if (statedir_path(path, sizeof(path), "dnsmasq/options") != 0)
		return -1;
	if ((text = read_checked(path, PRIV_OPTS_MAX, opts_ok, NULL, msg,
	    msglen)) == NULL)
		return -1;
	rc = write_small(run, "options", text);
	if (rc != 0)
		snprintf(msg, msglen, "%s/options: %s", run, strerror(errno));
	free(text);
	return rc;
}

/* ---- dnsmasq under its keeper ------------------------------------------ */

/*
 * dnsmasq gives up root and with it the parent-death signal, so it would
 * outlive a rackd that is killed. A small keeper process (a fork that
 * stays root) sits between them: it dies with its parent (PR_SET_PDEATHSIG)
 * and takes dnsmasq with it, passes SIGHUP on, and exits when dnsmasq
 * does, with its status. dnsmasq reads its configuration from fd 3, a
 * sealed copy in memory of what was checked.
 */
static volatile sig_atomic_t keeper_child;

static void
keeper_forward(int sig)
{
	if (keeper_child > 0)
		kill(keeper_child, sig == SIGHUP ? SIGHUP : SIGTERM);
}

static void __attribute__((noreturn))
keeper(pid_t parent, int conf_fd)
{
	struct sigaction sa = { .sa_handler = keeper_forward };
	sigset_t none;
	pid_t pid;
	int status;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);
	/* Nothing of rackd's but the configuration: above all not the state
	 * dir's lock, which a new rackd must get as soon as this one is gone. */
	if (dup2(conf_fd, 3) != 3)
		_exit(126);
	close_range(4, ~0U, 0);
	setpgid(0, 0);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_DFL);
	if ((pid = fork()) < 0)
		_exit(126);
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execl(conf.dnsmasq, "dnsmasq", "--keep-in-foreground",
		    "--conf-file=/dev/fd/3", (char *)NULL);
		{	/* only async-signal-safe calls after a fork */
			static const char msg[] = "rackd: cannot run dnsmasq\n";
			ssize_t w = write(2, msg, sizeof(msg) - 1);
			(void)w;
		}
		_exit(127);
	}
	close(3);
	keeper_child = pid;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);	/* signals from here on */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}

static int
do_dnsmasq_start(struct priv_rep *rep)
{
	struct conf_dirs d;
	char path[PATH_MAX_RACKD], *text;
	pid_t pid;
	int fd;

	if (keeper_pid > 0) {
		snprintf(rep->msg, sizeof(rep->msg), "dnsmasq runs already");
		return -EBUSY;
	}
	if (ensure_run_dir(d.run, sizeof(d.run)) != 0 ||
	    statedir_path(d.tftp, sizeof(d.tftp), "tftp") != 0 ||
	    statedir_path(path, sizeof(path), "dnsmasq/dnsmasq.conf") != 0) {
		snprintf(rep->msg, sizeof(rep->msg), "dnsmasq's run dir: %s",
		    strerror(errno));
		return -errno;
	}
	if (copy_opts(d.run, rep->msg, sizeof(rep->msg)) != 0)
		return -EINVAL;
	if ((text = read_checked(path, PRIV_CONF_MAX, conf_ok, &d, rep->msg,
	    sizeof(rep->msg))) == NULL)
		return -EINVAL;
	fd = memfd_create("dnsmasq.conf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW |
	    F_SEAL_SHRINK | F_SEAL_SEAL) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		snprintf(rep->msg, sizeof(rep->msg), "dnsmasq's configuration: "
		    "%s", strerror(errno));
		free(text);
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	free(text);
	pid_t self = getpid();
	if ((pid = fork()) < 0) {
		close(fd);
		snprintf(rep->msg, sizeof(rep->msg), "fork: %s", strerror(errno));
		return -EAGAIN;
	}
	if (pid == 0)
		keeper(self, fd);
	close(fd);
	keeper_pid = pid;
	rep->val = pid;
	return 0;
}

/* Stop the keeper and wait for it (bounded); its status in *status. */
static int
do_dnsmasq_stop(int *status)
{
	*status = 0;
	if (keeper_pid <= 0)
		return 0;
	kill(keeper_pid, SIGTERM);
	for (int i = 0; i < STOP_WAIT_MS / 10; i++) {
		if (waitpid(keeper_pid, status, WNOHANG) == keeper_pid) {
			keeper_pid = 0;
			return 1;
		}
		usleep(10000);
	}
	log_warnx("dnsmasq did not stop in %d ms; killing it", STOP_WAIT_MS);
	kill(-keeper_pid, SIGKILL);	/* the keeper's group: both of them */
	kill(keeper_pid, SIGKILL);
	waitpid(keeper_pid, status, 0);
	keeper_pid = 0;
	return 1;
}

/* 1 and *status when the keeper has exited, 0 while it runs. */
static int
do_dnsmasq_reap(int *status)
{
	if (keeper_pid <= 0)
		return 0;
	if (waitpid(keeper_pid, status, WNOHANG) != keeper_pid)
		return 0;
	keeper_pid = 0;
	return 1;
}

/* Drop the lease of addr from the leases file (dnsmasq stopped). */
static int
do_drop_lease(const char *addr)
{
	char dir[PATH_MAX_RACKD], path[PATH_MAX_RACKD + 16], line[512];
	char *out = NULL;
	size_t outlen = 0;
	FILE *in, *mem;
	int rc;

	if (keeper_pid > 0) {
		errno = EBUSY;
		return -1;
	}
	if (ensure_run_dir(dir, sizeof(dir)) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/leases", dir);
	if ((in = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : -1;
	if ((mem = open_memstream(&out, &outlen)) == NULL) {
		fclose(in);
		return -1;
	}
	while (fgets(line, sizeof(line), in) != NULL) {
		char ip[64] = "";
		if (sscanf(line, "%*s %*s %63s", ip) == 1 &&
		    strcmp(ip, addr) == 0) {
			log_info("dnsmasq: lease of %s dropped", ip);
			continue;
		}
		fputs(line, mem);
	}
	fclose(in);
	fclose(mem);
	rc = write_small(dir, "leases", out ? out : "");
	free(out);
	return rc;
}

/* At a clean stop: the run dir goes (a tmpfs; leases are not kept). */
static void
run_dir_remove(void)
{
	char dir[PATH_MAX_RACKD], path[PATH_MAX_RACKD + 16];
	static const char *const names[] = { "leases", "options", "options.tmp",
	    "leases.tmp" };

	if (priv_run_dir(dir, sizeof(dir)) != 0 ||
	    strncmp(dir, RUN_ROOT "/", strlen(RUN_ROOT) + 1) != 0)
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* ---- one request, here or in the helper ------------------------------- */

static void
handle(const struct priv_req *q, struct priv_rep *rep)
{
	char ifname[IF_NAMESIZE], err[CONFIG_ERR_MAX];
	int rc = 0, status;

	memset(rep, 0, sizeof(*rep));
	switch (q->op) {
	case PRIV_LINK_UP:
	case PRIV_ADDR:
		if (if_indextoname((unsigned int)q->a, ifname) == NULL ||
		    !priv_link_allowed(ifname)) {
			rc = -EPERM;
			snprintf(rep->msg, sizeof(rep->msg), "link %d is not a "
			    "management link", q->a);
			break;
		}
		if (q->op == PRIV_ADDR && !priv_addr_allowed(q->s, q->b)) {
			rc = -EPERM;
			snprintf(rep->msg, sizeof(rep->msg), "%.60s/%d is not "
			    "rackd's to give", q->s, q->b);
			break;
		}
		if ((q->op == PRIV_LINK_UP ? linkconf_up(q->a) :
		    linkconf_addr(q->a, q->s, q->b)) != 0)
			rc = -(errno ? errno : EIO);
		break;
	case PRIV_DNSMASQ_START:
		rc = do_dnsmasq_start(rep);
		break;
	case PRIV_DNSMASQ_HUP: {
		char run[PATH_MAX_RACKD];
		if (keeper_pid <= 0)
			break;
		if (ensure_run_dir(run, sizeof(run)) != 0 ||
		    copy_opts(run, rep->msg, sizeof(rep->msg)) != 0) {
			rc = -EINVAL;
			break;
		}
		kill(keeper_pid, SIGHUP);	/* rereads the options file */
		break;
	}
	case PRIV_DNSMASQ_STOP:
		rep->val = do_dnsmasq_stop(&status) ? status : -1;
		break;
	case PRIV_DNSMASQ_REAP:
		rep->val = do_dnsmasq_reap(&status) ? status : -1;
		break;
	case PRIV_DROP_LEASE:
		if (do_drop_lease(q->s) != 0)
			rc = -(errno ? errno : EIO);
		break;
	case PRIV_GADGET_SETUP:
		if (gadget_setup(conf.gadget_configfs, &conf.gadget,
		    conf.gadget_udc, err, sizeof(err)) != 0) {
			rc = -EIO;
			snprintf(rep->msg, sizeof(rep->msg), "%.255s", err);
		} else
			gadget_up = 1;
		break;
	case PRIV_GADGET_TEARDOWN:
		if (gadget_up)
			gadget_teardown(conf.gadget_configfs);
		gadget_up = 0;
		break;
	default:
		rc = -EINVAL;
		snprintf(rep->msg, sizeof(rep->msg), "unknown request %d", q->op);
	}
	rep->rc = rc < 0 ? -1 : 0;
	rep->err = rc < 0 ? -rc : 0;
}

/* ---- the helper ------------------------------------------------------- */

static void __attribute__((noreturn))
helper_main(int fd, pid_t parent)
{
	struct priv_req q;
	struct priv_rep rep;
	sigset_t none;
	int status;
	ssize_t n;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	/* Nothing of rackd's but the socket: not its event loop, not the
	 * state dir's lock (a new rackd must get it once this one is gone). */
	if (fd != 3 && dup2(fd, 3) != 3)
		_exit(1);
	fd = 3;
	close_range(4, ~0U, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "rackd-priv");
	umask(022);			/* dnsmasq's leases: rackd reads them */
	signal(SIGTERM, SIG_IGN);	/* it goes when rackd does */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		n = recv(fd, &q, sizeof(q), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* rackd is gone */
		if ((size_t)n != sizeof(q)) {
			memset(&rep, 0, sizeof(rep));
			rep.rc = -1;
			rep.err = EINVAL;
		} else {
			q.s[sizeof(q.s) - 1] = '\0';
			handle(&q, &rep);
		}
		if (send(fd, &rep, sizeof(rep), 0) < 0)
			break;
	}
	do_dnsmasq_stop(&status);
	run_dir_remove();
	if (gadget_up)
		gadget_teardown(conf.gadget_configfs);
	linkconf_close();
	_exit(0);
}

int
priv_separated(void)
{
	return priv_fd >= 0;
}

int
priv_start(char *err, size_t errlen)
{
	struct passwd *pw;
	int sv[2];
	pid_t parent = getpid();

	if (conf.user[0] == '\0' || strcmp(conf.user, "root") == 0 ||
	    geteuid() != 0)
		return 0;
	if ((pw = getpwnam(conf.user)) == NULL || pw->pw_uid == 0) {
		snprintf(err, errlen, "user %s: %s (create it: useradd --system "
		    "--no-create-home %s; or set user = root to run without "
		    "privilege separation)", conf.user, pw ? "is root" :
		    "no such user", conf.user);
		return -1;
	}
	run_uid = pw->pw_uid;
	run_gid = pw->pw_gid;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	if ((helper = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (helper == 0) {
		close(sv[0]);
		helper_main(sv[1], parent);
	}
	close(sv[1]);
	priv_fd = sv[0];
	return 0;
}

/* The helper died: rackd cannot keep the rack's links and DHCP going
 * without it, so it stops (and its supervisor starts it again). */
static void
on_helper_exit(int fd, uint32_t events, void *arg)
{
	fatalx("the privileged helper (pid %d) is gone", (int)helper);
}

static int
chown_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	if (lchown(path, run_uid, run_gid) != 0)
		log_warn("cannot give %s to user %s", path, conf.user);
	return 0;
}

int
priv_drop(char *err, size_t errlen)
{
	if (priv_fd < 0)
		return 0;
	/* The state dir is the user's: the database, the store, tokens. */
	if (nftw(conf.state_dir, chown_one, 32, FTW_PHYS) != 0) {
		snprintf(err, errlen, "%s: %s", conf.state_dir, strerror(errno));
		return -1;
	}
	if (setgroups(1, &run_gid) != 0 || setresgid(run_gid, run_gid,
	    run_gid) != 0 || setresuid(run_uid, run_uid, run_uid) != 0) {
		snprintf(err, errlen, "cannot become user %s: %s", conf.user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "still root after becoming %s", conf.user);
		return -1;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);	/* nothing it runs gains any */
	int pfd = (int)syscall(SYS_pidfd_open, helper, 0);
	if (pfd < 0 || loop_add_fd(pfd, EPOLLIN, on_helper_exit, NULL) != 0) {
		snprintf(err, errlen, "cannot watch the helper: %s",
		    strerror(errno));
		return -1;
	}
	char dot[PATH_MAX_RACKD];
	if (statedir_path(dot, sizeof(dot), ".") != 0 ||
	    access(dot, R_OK | W_OK | X_OK) != 0) {
		snprintf(err, errlen, "user %s cannot use the state dir %s: %s "
		    "(every folder above it must let others pass: chmod o+x)",
		    conf.user, conf.state_dir, strerror(errno));
		return -1;
	}
	log_info("running as user %s; root work goes through a helper "
	    "(pid %d)", conf.user, (int)helper);
	return 0;
}

void
priv_stop(void)
{
	int status;

	if (priv_fd < 0) {
		do_dnsmasq_stop(&status);
		if (helper == 0 && geteuid() == 0)
			run_dir_remove();
		if (gadget_up)
			gadget_teardown(conf.gadget_configfs);
		gadget_up = 0;
		return;
	}
	close(priv_fd);		/* the helper stops dnsmasq and the gadget */
	priv_fd = -1;
	while (waitpid(helper, &status, 0) < 0 && errno == EINTR)
		;
}

/* ---- requests --------------------------------------------------------- */

static int
ask(int op, int a, int b, const char *s, struct priv_rep *rep)
{
	struct priv_req q = { .op = op, .a = a, .b = b };

	if (s != NULL)
		snprintf(q.s, sizeof(q.s), "%s", s);
	if (priv_fd < 0) {
		handle(&q, rep);
	} else {
		pthread_mutex_lock(&priv_lock);
		/* Without its helper rackd cannot keep the rack's links
		 * and DHCP going: it stops, and its supervisor starts it. */
		if (send(priv_fd, &q, sizeof(q), 0) != (ssize_t)sizeof(q) ||
		    recv(priv_fd, rep, sizeof(*rep), 0) != (ssize_t)sizeof(*rep))
			fatalx("the privileged helper is gone");
		pthread_mutex_unlock(&priv_lock);
	}
	rep->msg[sizeof(rep->msg) - 1] = '\0';
	if (rep->rc != 0) {
		if (rep->msg[0] != '\0')
			log_warnx("%s", rep->msg);
		errno = rep->err;
		return -1;
	}
	return 0;
}

int
priv_link_up(int ifindex)
{
	struct priv_rep rep;

	return ask(PRIV_LINK_UP, ifindex, 0, NULL, &rep);
}

int
priv_addr(int ifindex, const char *addr, int prefix)
{
	struct priv_rep rep;

	return ask(PRIV_ADDR, ifindex, prefix, addr, &rep);
}

pid_t
priv_dnsmasq_start(void)
{
	struct priv_rep rep;

	return ask(PRIV_DNSMASQ_START, 0, 0, NULL, &rep) == 0 ? rep.val : -1;
}

int
priv_dnsmasq_hup(void)
{
	struct priv_rep rep;

	return ask(PRIV_DNSMASQ_HUP, 0, 0, NULL, &rep);
}

/* The keeper's wait status if it was running (-1 if not). */
int
priv_dnsmasq_stop(void)
{
	struct priv_rep rep;

	return ask(PRIV_DNSMASQ_STOP, 0, 0, NULL, &rep) == 0 ? rep.val : -1;
}

int
priv_dnsmasq_reap(int *status)
{
	struct priv_rep rep;

	if (ask(PRIV_DNSMASQ_REAP, 0, 0, NULL, &rep) != 0 || rep.val < 0)
		return 0;
	*status = rep.val;
	return 1;
}

int
priv_drop_lease(const char *addr)
{
	struct priv_rep rep;

	return ask(PRIV_DROP_LEASE, 0, 0, addr, &rep);
}

int
priv_gadget_setup(char *err, size_t errlen)
{
	struct priv_rep rep;

	if (ask(PRIV_GADGET_SETUP, 0, 0, NULL, &rep) != 0) {
		snprintf(err, errlen, "%.255s", rep.msg);
		return -1;
	}
	return 0;
}

void
priv_gadget_teardown(void)
{
	struct priv_rep rep;

	ask(PRIV_GADGET_TEARDOWN, 0, 0, NULL, &rep);
}
