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
 *     stopped, reaped, a lease dropped (dnsmasq_priv.c does all that);
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
	char	 msg[PRIV_MSG_MAX];
};

static int priv_fd = -1;		/* rackd's end; -1: no helper */
static pthread_mutex_t priv_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t helper;
static uid_t run_uid;
static gid_t run_gid;

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
	case PRIV_DNSMASQ_START: {
		pid_t pid = -1;
		rc = dnsmasq_priv_start(&pid, rep->msg, sizeof(rep->msg));
		rep->val = pid;
		break;
	}
	case PRIV_DNSMASQ_HUP:
		rc = dnsmasq_priv_hup(rep->msg, sizeof(rep->msg));
		break;
	case PRIV_DNSMASQ_STOP:
		rep->val = dnsmasq_priv_stop(&status) ? status : -1;
		break;
	case PRIV_DNSMASQ_REAP:
		rep->val = dnsmasq_priv_reap(&status) ? status : -1;
		break;
	case PRIV_DROP_LEASE:
		if (dnsmasq_priv_drop_lease(q->s) != 0)
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
		snprintf(rep->msg, sizeof(rep->msg), "unknown request %d",
		    q->op);
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
	dnsmasq_priv_stop(&status);
	dnsmasq_priv_cleanup();
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
		snprintf(err, errlen, "user %s: %s (create it: useradd "
		    "--system --no-create-home %s; or set user = root to run "
		    "without privilege separation)", conf.user, pw ? "is root" :
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
		snprintf(err, errlen, "%s: %s", conf.state_dir,
		    strerror(errno));
		return -1;
	}
	/* The user's groups too: dialout opens the serial consoles. */
	if (initgroups(conf.user, run_gid) != 0 || setresgid(run_gid, run_gid,
	    run_gid) != 0 || setresuid(run_uid, run_uid, run_uid) != 0) {
		snprintf(err, errlen, "cannot become user %s: %s", conf.user,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "still root after becoming %s",
		    conf.user);
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
		dnsmasq_priv_stop(&status);
		if (helper == 0 && geteuid() == 0)
			dnsmasq_priv_cleanup();
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
		    recv(priv_fd, rep, sizeof(*rep), 0) !=
		    (ssize_t)sizeof(*rep))
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
