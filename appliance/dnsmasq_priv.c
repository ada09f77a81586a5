/*
 * dnsmasq_priv.c — the root side of dnsmasq, for priv.c's helper (or for
 * rackd itself when there is no helper). rackd writes dnsmasq's
 * configuration and options files into its state dir (dnsmasq.c); here,
 * as root, each is read whole, checked line by line against what rackd
 * writes (dnsmasq_conf_line_ok, dnsmasq_opts_line_ok: no dhcp-script, no
 * other files), and kept: the configuration in a sealed memory file that
 * dnsmasq reads from fd 3, the options in a run dir of root's outside the
 * state dir (/run/rackd/DEV-INODE), where the leases are too. dnsmasq
 * runs under a keeper process; leases are edited here while it is
 * stopped. priv.c keeps the protocol and the generic checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "appliance/rackd.h"

#define RUN_ROOT	"/run/rackd"

static pid_t keeper_pid;	/* the keeper of dnsmasq, 0: none runs */
static int leases_fresh;	/* this process removed old leases */

/* ---- the checks ------------------------------------------------------- */

/* One line of dnsmasq's configuration as rackd writes it (dnsmasq.c):
 * only these options, and files only where they belong. */
int
dnsmasq_conf_line_ok(const char *line, const char *run_dir,
    const char *tftp_dir)
{
	static const char *const plain[] = {
		"port=0", "bind-dynamic", "except-interface=lo",
		"dhcp-authoritative", "no-ping", "enable-ra", "enable-tftp",
		"tftp-no-blocksize", "tftp-unique-root=ip", "pid-file=",
		"dhcp-option-force=tag:httpboot,60,HTTPClient",
		"log-facility=-",
		"user=dnsmasq", "user=nobody",
	};
	static const char *const valued[] = {
		"interface=", "no-dhcp-interface=", "dhcp-range=", "ra-param=",
		"dhcp-boot=", "dhcp-match=", "tag-if=",
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
	if (strcmp(line, path) == 0)
		return 1;
	/* A link's own root: tftp-root=TFTP/if/NAME,NAME (grubcfg.c). */
	snprintf(path, sizeof(path), "tftp-root=%s/if/", tftp_dir);
	if (strncmp(line, path, strlen(path)) != 0)
		return 0;
	const char *name = line + strlen(path), *comma = strchr(name, ',');
	if (comma == NULL || comma == name || name[0] == '.' ||
	    strncmp(comma + 1, name, (size_t)(comma - name)) != 0 ||
	    comma[1 + (comma - name)] != '\0')
		return 0;
	for (const char *p = name; p < comma; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._-", *p) != NULL))
			return 0;
	return 1;
}

/* dnsmasq's options file: "tag:sN,12,HOSTNAME" lines. */
int
dnsmasq_opts_line_ok(const char *line)
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

/* ---- files ------------------------------------------------------------ */

int
dnsmasq_run_dir(char *buf, size_t len)
{
	struct stat st;

	/* Without a helper and without root: rackd's own, in the state dir. */
	if (!priv_separated() && getuid() != 0)
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
		snprintf(msg, msglen, "%s: not a file of at most %zu bytes",
		    path, max);
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
			snprintf(msg, msglen, "%s: a line rackd does not "
			    "write: refused", path);
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

	return dnsmasq_conf_line_ok(line, d->run, d->tftp);
}

static int
opts_ok(const char *line, void *arg)
{
	return dnsmasq_opts_line_ok(line);
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

	if (dnsmasq_run_dir(dir, len) != 0)
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
	if ((text = read_checked(path, DNSMASQ_OPTS_MAX, opts_ok, NULL, msg,
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
	 * dir's lock, which a new rackd must get as soon as this one is
	 * gone. */
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

int
dnsmasq_priv_start(pid_t *started, char *msg, size_t msglen)
{
	struct conf_dirs d;
	char path[PATH_MAX_RACKD], *text;
	pid_t pid;
	int fd;

	if (keeper_pid > 0) {
		snprintf(msg, msglen, "dnsmasq runs already");
		return -EBUSY;
	}
	if (ensure_run_dir(d.run, sizeof(d.run)) != 0 ||
	    statedir_path(d.tftp, sizeof(d.tftp), "tftp") != 0 ||
	    statedir_path(path, sizeof(path), "dnsmasq/dnsmasq.conf") != 0) {
		snprintf(msg, msglen, "dnsmasq's run dir: %s",
		    strerror(errno));
		return -errno;
	}
	/* Leases are not kept across a start of rackd (a slot keeps its
	 * addresses in the database). A leases file left by a rackd killed
	 * with its helper, or by a state dir that had this inode before,
	 * would hold a slot's one address for a MAC no longer there. */
	if (!leases_fresh) {
		char leases[PATH_MAX_RACKD];

		if (snprintf(leases, sizeof(leases), "%s/leases", d.run) >=
		    (int)sizeof(leases))
			errno = ENAMETOOLONG;
		else if (unlink(leases) == 0 || errno == ENOENT)
			errno = 0;
		if (errno != 0) {
			snprintf(msg, msglen, "%s: %s", leases,
			    strerror(errno));
			return -errno;
		}
		leases_fresh = 1;
	}
	if (copy_opts(d.run, msg, msglen) != 0)
		return -EINVAL;
	if ((text = read_checked(path, DNSMASQ_CONF_MAX, conf_ok, &d, msg,
	    msglen)) == NULL)
		return -EINVAL;
	fd = memfd_create("dnsmasq.conf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW |
	    F_SEAL_SHRINK | F_SEAL_SEAL) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
		snprintf(msg, msglen, "dnsmasq's configuration: "
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
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		return -EAGAIN;
	}
	if (pid == 0)
		keeper(self, fd);
	close(fd);
	keeper_pid = pid;
	*started = pid;
	return 0;
}

int
dnsmasq_priv_hup(char *msg, size_t msglen)
{
	char run[PATH_MAX_RACKD];

	if (keeper_pid <= 0)
		return 0;
	if (ensure_run_dir(run, sizeof(run)) != 0 ||
	    copy_opts(run, msg, msglen) != 0)
		return -EINVAL;
	kill(keeper_pid, SIGHUP);	/* rereads the options file */
	return 0;
}

int
dnsmasq_priv_stop(int *status)
{
	*status = 0;
	if (keeper_pid <= 0)
		return 0;
	kill(keeper_pid, SIGTERM);
	for (int i = 0; i < DNSMASQ_STOP_WAIT_MS / 10; i++) {
		if (waitpid(keeper_pid, status, WNOHANG) == keeper_pid) {
			keeper_pid = 0;
			return 1;
		}
		usleep(10000);
	}
	log_warnx("dnsmasq did not stop in %d ms; killing it",
	    DNSMASQ_STOP_WAIT_MS);
	kill(-keeper_pid, SIGKILL);	/* the keeper's group: both of them */
	kill(keeper_pid, SIGKILL);
	waitpid(keeper_pid, status, 0);
	keeper_pid = 0;
	return 1;
}

int
dnsmasq_priv_reap(int *status)
{
	if (keeper_pid <= 0)
		return 0;
	if (waitpid(keeper_pid, status, WNOHANG) != keeper_pid)
		return 0;
	keeper_pid = 0;
	return 1;
}

int
dnsmasq_priv_drop_lease(const char *addr)
{
	char dir[PATH_MAX_RACKD], path[PATH_MAX_RACKD + 16];
	char *out = NULL, *line = NULL;
	size_t outlen = 0, linecap = 0;
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
	/* Whole lines, however long: a line cut in two would be read as two
	 * leases, its tail perhaps dropped or written back broken. */
	while (getline(&line, &linecap, in) != -1) {
		char ip[64] = "";
		if (sscanf(line, "%*s %*s %63s", ip) == 1 &&
		    strcmp(ip, addr) == 0) {
			log_info("dnsmasq: lease of %s dropped", ip);
			continue;
		}
		fputs(line, mem);
	}
	free(line);
	fclose(in);
	fclose(mem);
	rc = write_small(dir, "leases", out ? out : "");
	free(out);
	return rc;
}

void
dnsmasq_priv_cleanup(void)
{
	char dir[PATH_MAX_RACKD], path[PATH_MAX_RACKD + 16];
	static const char *const names[] = { "leases", "options", "options.tmp",
	    "leases.tmp" };

	if (dnsmasq_run_dir(dir, sizeof(dir)) != 0 ||
	    strncmp(dir, RUN_ROOT "/", strlen(RUN_ROOT) + 1) != 0)
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

