/*
 * console.c — each slot's serial console. A server's COM port is cabled
 * to a USB serial adapter on the board (ttyUSB*, ttyACM*); the adapter
 * belongs to a slot by its USB port path, as a network link does
 * (console_slots maps PORTPATH=SLOT; unmapped, the port path is the slot),
 * or by a device path (/dev/ttyUSB0, a pty) for simple setups and tests.
 * Adapters are found in /sys/class/tty, again on every tty uevent
 * (NETLINK_KOBJECT_UEVENT) and every CONSOLE_RESCAN_MS, so that one
 * unplugged and plugged back comes back to its slot. Each tty is opened
 * raw and read in the event loop (its own epoll set, one descriptor of the
 * loop's) into a ring of the last console_ring bytes, and, while the slot
 * has an active job, appended to STATE_DIR/jobs/ID.console (rotated once
 * to .1 past console_log_max). Streams (GET .../console) send the ring,
 * then live output, base64 in JSON; a stream that falls further behind
 * than the ring skips ahead with a "lost" event, so that a console that
 * floods costs the ring's memory and no more. A stream opened with a
 * dashboard session ends within a second of the session's end. At a
 * SIGHUP (console_reload) every console_* option applies: a console whose
 * key console_slots no longer maps to its slot is retired (its streams
 * end), new items are added, rings are resized keeping their newest bytes,
 * and ttys open at another console_speed are opened again.
 *
 * A slot whose ipmi power settings set "sol" has a console over IPMI
 * Serial-over-LAN instead (console_sol.c), added, followed and retired on
 * each tick from the power settings (a PATCH applies within a second, as
 * a SIGHUP's [power.SLOT] does); its session's descriptor is read and
 * written here like a tty's. A tty that console_slots gives the same slot
 * wins: the slot keeps the tty, and the log says so once. At a SIGHUP a
 * sol console waiting to try again tries at once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <sodium.h>

#include "appliance/rackd.h"
#include "db/db.h"

#define CONSOLE_READ_BLOCK	4096	/* one read of a tty */
#define CONSOLE_READS_MAX	64	/* reads of one tty per wake */
#define CONSOLE_UEVENT_BUF	8192	/* one uevent message */
#define CONSOLE_DEBOUNCE_MS	200	/* uevents gathered into one rescan */

struct cclient;

struct console {
	int		 used;
	char		 slot[SLOT_NAME_MAX + 1];
	char		 key[CONSOLE_KEY_MAX];	/* port path or device path */
	char		 dev[PATH_MAX_RACKD];	/* "" until found */
	dev_t		 rdev;
	int		 fd;			/* -1: not open */
	int		 warned;		/* open failure logged */
	int		 speed;			/* baud it was opened at */
	int		 retired;		/* unmapped: freed streamless */
	struct sol	*sol;			/* a SOL console, or NULL */
	json_t		*status;		/* sol_json, for the API */
	int		 sol_shadowed;		/* a tty has it; logged */
	struct console_ring ring;
	int64_t		 job;			/* active job, 0 none */
	int		 logfd;
	uint64_t	 logged;
	struct cclient	*clients;
};

struct cclient {
	struct console	*c;
	struct http_pull *pull;
	uint64_t	 pos;
	int		 hello;
	int		 suspended;
	int		 ended;		/* its session ended: close */
	char		 cookie[TOKEN_HEX + 1];	/* "": not by session */
	struct cclient	*prev, *next;
};

/* Guards the rings, the streams and each console's fd against the HTTP
 * threads; the main thread alone opens, closes and reads. */
static pthread_mutex_t cons_lock = PTHREAD_MUTEX_INITIALIZER;
static struct console consoles[CONSOLES_MAX];
static int nclients;
static int closing;
static int cep = -1;			/* the ttys' epoll set */
static struct mnl_socket *uev;
static int debounce = -1;
static int started;

static void retired_sweep(void);
static void console_retire(struct console *, const char *why);

/* ---- the ring ---------------------------------------------------------- */

int
console_ring_init(struct console_ring *r, size_t size)
{
	memset(r, 0, sizeof(*r));
	if (size == 0 || (r->buf = malloc(size)) == NULL)
		return -1;
	r->size = size;
	return 0;
}

void
console_ring_free(struct console_ring *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

void
console_ring_put(struct console_ring *r, const void *data, size_t n)
{
	const unsigned char *p = data;

	if (r->size == 0)
		return;
	if (n > r->size) {		/* only the last size bytes stay */
		r->total += n - r->size;
		p += n - r->size;
		n = r->size;
	}
	while (n > 0) {
		size_t at = (size_t)(r->total % r->size);
		size_t k = r->size - at < n ? r->size - at : n;
		memcpy(r->buf + at, p, k);
		r->total += k;
		p += k;
		n -= k;
	}
}

size_t
console_ring_get(const struct console_ring *r, uint64_t *pos, void *out,
    size_t max)
{
	unsigned char *o = out;
	size_t used = 0;

	if (r->size == 0)
		return 0;
	if (*pos > r->total)
		*pos = r->total;
	if (r->total > r->size && *pos < r->total - r->size)
		*pos = r->total - r->size;
	while (used < max && *pos < r->total) {
		size_t at = (size_t)(*pos % r->size);
		size_t k = r->size - at;
		if (k > max - used)
			k = max - used;
		if (k > r->total - *pos)
			k = (size_t)(r->total - *pos);
		memcpy(o + used, r->buf + at, k);
		used += k;
		*pos += k;
	}
	return used;
}

int
console_ring_resize(struct console_ring *r, size_t size)
{
	struct console_ring n;
	unsigned char block[CONSOLE_READ_BLOCK];
	uint64_t pos;
	size_t keep;

	if (r->size == size)
		return 0;
	if (console_ring_init(&n, size) != 0)
		return -1;
	keep = r->total < r->size ? (size_t)r->total : r->size;
	if (keep > size)
		keep = size;
	/* The same positions: a stream's place in the old ring holds. */
	pos = n.total = r->total - keep;
	while (pos < r->total) {
		size_t got = console_ring_get(r, &pos, block, sizeof(block));
		if (got == 0)
			break;
		console_ring_put(&n, block, got);
	}
	console_ring_free(r);
	*r = n;
	return 0;
}

/* ---- consoles ---------------------------------------------------------- */

static struct console *
by_slot(const char *slot)
{
	for (int i = 0; i < CONSOLES_MAX; i++)
		if (consoles[i].used && !consoles[i].retired &&
		    strcmp(consoles[i].slot, slot) == 0)
			return &consoles[i];
	return NULL;
}

static struct console *
by_key(const char *key)
{
	for (int i = 0; i < CONSOLES_MAX; i++)
		if (consoles[i].used && strcmp(consoles[i].key, key) == 0)
			return &consoles[i];
	return NULL;
}

/* A console for slot (keyed by key), new if need be; NULL when full. */
static struct console *
console_add(const char *slot, const char *key)
{
	struct console *c = by_key(key);

	if (c != NULL)
		return c;
	if ((c = by_slot(slot)) != NULL && c->sol != NULL &&
	    strncmp(key, "sol:", 4) != 0)
		console_retire(c, "a tty is given to the slot: it has the "
		    "console, not Serial-over-LAN");
	if (by_slot(slot) != NULL) {
		log_warnx("console %s: slot %s has a console already", key,
		    slot);
		return NULL;
	}
	for (int i = 0; i < CONSOLES_MAX; i++) {
		if (consoles[i].used)
			continue;
		c = &consoles[i];
		memset(c, 0, sizeof(*c));
		if (console_ring_init(&c->ring, conf.console_ring) != 0) {
			log_warnx("console of slot %s: out of memory", slot);
			return NULL;
		}
		snprintf(c->slot, sizeof(c->slot), "%s", slot);
		snprintf(c->key, sizeof(c->key), "%s", key);
		c->fd = -1;
		c->logfd = -1;
		pthread_mutex_lock(&cons_lock);
		c->used = 1;
		pthread_mutex_unlock(&cons_lock);
		return c;
	}
	log_warnx("console %s: more than %d consoles", key, CONSOLES_MAX);
	return NULL;
}

/* The slot console_slots maps key to, or NULL. */
static const char *
mapped_slot(const char *key)
{
	for (int i = 0; i < conf.console_slots.n; i++) {
		const char *m = conf.console_slots.v[i];
		const char *eq = strrchr(m, '=');
		if (eq != NULL && (size_t)(eq - m) == strlen(key) &&
		    strncmp(m, key, strlen(key)) == 0)
			return eq + 1;
	}
	return NULL;
}

static void
wake(struct console *c)
{
	for (struct cclient *k = c->clients; k != NULL; k = k->next)
		if (k->suspended) {
			k->suspended = 0;
			http_pull_resume(k->pull);
		}
}

static void
tty_close(struct console *c, const char *why)
{
	if (c->fd < 0)
		return;
	log_info("console of slot %s (%s): %s", c->slot, c->dev, why);
	epoll_ctl(cep, EPOLL_CTL_DEL, c->fd, NULL);
	pthread_mutex_lock(&cons_lock);
	close(c->fd);
	c->fd = -1;
	pthread_mutex_unlock(&cons_lock);
	if (c->sol != NULL)
		sol_closed(c->sol);
}

static void
tty_open(struct console *c, const struct stat *st)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct termios t;
	speed_t sp = (speed_t)config_tty_speed(conf.console_speed);
	int fd;

	if ((fd = open(c->dev, O_RDWR | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC)) < 0) {
		if (!c->warned)
			log_warn("console of slot %s: %s", c->slot, c->dev);
		c->warned = 1;
		return;
	}
	if (!isatty(fd) || tcgetattr(fd, &t) != 0) {
		if (!c->warned)
			log_warnx("console of slot %s: %s is not a tty",
			    c->slot, c->dev);
		c->warned = 1;
		close(fd);
		return;
	}
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, sp) != 0 || cfsetospeed(&t, sp) != 0 ||
	    tcsetattr(fd, TCSANOW, &t) != 0)
		log_warn("console of slot %s: %s: cannot set %d baud raw",
		    c->slot, c->dev, conf.console_speed);
	ev.data.ptr = c;
	if (epoll_ctl(cep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		log_warn("console of slot %s: epoll", c->slot);
		close(fd);
		return;
	}
	pthread_mutex_lock(&cons_lock);
	c->fd = fd;
	pthread_mutex_unlock(&cons_lock);
	c->rdev = st->st_rdev;
	c->warned = 0;
	c->speed = conf.console_speed;
	log_info("console of slot %s: %s open at %d baud", c->slot, c->dev,
	    conf.console_speed);
}

/* dev is (again) where c's tty is: open it unless it is open already. */
static void
tty_found(struct console *c, const char *dev)
{
	struct stat st;

	if (stat(dev, &st) != 0 || !S_ISCHR(st.st_mode)) {
		tty_close(c, "gone");
		return;
	}
	if (c->fd >= 0 && strcmp(c->dev, dev) == 0 && st.st_rdev == c->rdev)
		return;
	tty_close(c, "replaced");
	snprintf(c->dev, sizeof(c->dev), "%s", dev);
	tty_open(c, &st);
}

/* ---- the job's log ----------------------------------------------------- */

int
console_log_path(int64_t id, int older, char *buf, size_t len)
{
	char name[64];

	snprintf(name, sizeof(name), "jobs/%lld.console%s", (long long)id,
	    older ? ".1" : "");
	return statedir_path(buf, len, name);
}

static int
log_open(struct console *c)
{
	char path[PATH_MAX_RACKD];
	struct stat st;

	if (console_log_path(c->job, 0, path, sizeof(path)) != 0)
		return -1;
	c->logfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (c->logfd < 0) {
		log_warn("console of slot %s: %s", c->slot, path);
		return -1;
	}
	c->logged = fstat(c->logfd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

static void
log_write(struct console *c, const char *p, size_t n)
{
	char path[PATH_MAX_RACKD], old[PATH_MAX_RACKD];

	if (c->logfd < 0)
		return;
	if (c->logged + n > conf.console_log_max) {
		close(c->logfd);
		c->logfd = -1;
		if (console_log_path(c->job, 0, path, sizeof(path)) != 0 ||
		    console_log_path(c->job, 1, old, sizeof(old)) != 0 ||
		    rename(path, old) != 0) {
			log_warn("console log of job %lld: rotate",
			    (long long)c->job);
			return;
		}
		if (log_open(c) != 0)
			return;
	}
	while (n > 0) {
		ssize_t w = write(c->logfd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn("console log of job %lld", (long long)c->job);
			close(c->logfd);
			c->logfd = -1;
			return;
		}
		c->logged += (uint64_t)w;
		p += w;
		n -= (size_t)w;
	}
}

/* Follow each slot's active job: its log opens when a job starts and
 * closes when it ends. */
static void
jobs_follow(void)
{
	struct db_job j;

	for (int i = 0; i < CONSOLES_MAX; i++) {
		struct console *c = &consoles[i];
		int64_t id;

		if (!c->used || c->retired)
			continue;
		id = db_job_active(c->slot, &j) == DB_OK ? j.id : 0;
		if (id == c->job)
			continue;
		if (c->logfd >= 0)
			close(c->logfd);
		c->logfd = -1;
		c->job = id;
		if (id != 0)
			log_open(c);
	}
}

/* ---- reading ----------------------------------------------------------- */

static void
tty_read(struct console *c, uint32_t events)
{
	char buf[CONSOLE_READ_BLOCK];
	ssize_t n = 0;

	for (int i = 0; i < CONSOLE_READS_MAX && c->fd >= 0; i++) {
		n = read(c->fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		pthread_mutex_lock(&cons_lock);
		console_ring_put(&c->ring, buf, (size_t)n);
		wake(c);
		pthread_mutex_unlock(&cons_lock);
		log_write(c, buf, (size_t)n);
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
	    ((events & (EPOLLHUP | EPOLLERR)) && n < 0 && errno == EAGAIN))
		tty_close(c, c->sol != NULL ? "the SOL session ended" :
		    "unplugged");
}

static void
on_ttys(int fd, uint32_t events, void *arg)
{
	struct epoll_event evs[CONSOLES_MAX];
	int n = epoll_wait(cep, evs, CONSOLES_MAX, 0);

	for (int i = 0; i < n; i++)
		tty_read(evs[i].data.ptr, evs[i].events);
}

/* ---- finding ttys ------------------------------------------------------ */

/* The USB port path ("1-1.4") of a tty, from its sysfs device. */
static int
tty_usb_port(const char *name, char *out, size_t len)
{
	char path[PATH_MAX_RACKD], real[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/class/tty/%s/device", name);
	if (realpath(path, real) == NULL)
		return -1;
	/* ttyACM: .../1-1.4/1-1.4:1.0; ttyUSB: .../1-1.4:1.0/ttyUSB0. */
	for (int i = 0; i < 4; i++) {
		char *slash;
		if (usb_port_from_devpath(real, out, len) == 0)
			return 0;
		if ((slash = strrchr(real, '/')) == NULL || slash == real)
			break;
		*slash = '\0';
	}
	return -1;
}

static void
scan_sysfs(void)
{
	struct dirent *d;
	DIR *dir;
	int seen = 0;

	if ((dir = opendir("/sys/class/tty")) == NULL)
		return;
	while ((d = readdir(dir)) != NULL && seen++ < CONSOLE_SCAN_MAX) {
		char port[USB_PORT_MAX], dev[PATH_MAX_RACKD];
		const char *slot;
		struct console *c;

		if (strncmp(d->d_name, "ttyUSB", 6) != 0 &&
		    strncmp(d->d_name, "ttyACM", 6) != 0)
			continue;
		if (tty_usb_port(d->d_name, port, sizeof(port)) != 0)
			continue;
		if ((slot = mapped_slot(port)) == NULL)
			slot = port;
		if (!slot_name_valid(slot))
			continue;
		if ((c = console_add(slot, port)) == NULL)
			continue;
		snprintf(dev, sizeof(dev), "/dev/%s", d->d_name);
		tty_found(c, dev);
	}
	closedir(dir);
}

void
console_rescan(void)
{
	if (!started)
		return;
	/* Device paths first: they name their device themselves. */
	for (int i = 0; i < CONSOLES_MAX; i++)
		if (consoles[i].used && !consoles[i].retired &&
		    consoles[i].key[0] == '/')
			tty_found(&consoles[i], consoles[i].key);
	/* A USB console's tty that went away, until sysfs names it again. */
	for (int i = 0; i < CONSOLES_MAX; i++) {
		struct stat st;
		struct console *c = &consoles[i];
		if (c->used && c->sol == NULL && c->key[0] != '/' &&
		    c->fd >= 0 &&
		    (stat(c->dev, &st) != 0 || st.st_rdev != c->rdev))
			tty_close(c, "gone");
	}
	scan_sysfs();
}

/* ---- Serial-over-LAN consoles ----------------------------------------- */

static void
sol_add(const char *slot)
{
	char key[CONSOLE_KEY_MAX];
	struct console *c;
	struct sol *s;

	snprintf(key, sizeof(key), "sol:%s", slot);
	if ((s = sol_new(slot)) == NULL) {
		log_warnx("console of slot %s: more than %d SOL consoles",
		    slot, CONSOLES_MAX);
		return;
	}
	if ((c = console_add(slot, key)) == NULL) {
		sol_free(s);
		return;
	}
	snprintf(c->dev, sizeof(c->dev), "SOL");
	c->sol = s;
	log_info("console of slot %s: Serial-over-LAN through its BMC", slot);
}

static void
sol_open(struct console *c, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	ev.data.ptr = c;
	if (epoll_ctl(cep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		log_warn("console of slot %s: epoll", c->slot);
		close(fd);
		sol_closed(c->sol);
		return;
	}
	pthread_mutex_lock(&cons_lock);
	c->fd = fd;
	pthread_mutex_unlock(&cons_lock);
}

/* Has a SOL console's state changed, but for the time to its next try? */
static int
status_changed(const json_t *was, const json_t *now)
{
	static const char *const keys[] = { "state", "error", "attempts",
	    "bmc" };

	if (was == NULL || now == NULL)
		return was != now;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_equal(json_object_get(was, keys[i]),
		    json_object_get(now, keys[i])) &&
		    (json_object_get(was, keys[i]) != NULL ||
		    json_object_get(now, keys[i]) != NULL))
			return 1;
	return 0;
}

/* The slots whose power settings ask for SOL get a console (unless a tty
 * has the slot), the others lose theirs; each session takes its step. */
static void
sols_follow(void)
{
	json_t *all = power_settings_all(), *set;
	const char *slot;

	for (int i = 0; i < CONSOLES_MAX; i++) {
		struct console *c = &consoles[i];
		if (c->used && !c->retired && c->sol != NULL &&
		    !console_sol_wanted(json_object_get(all, c->slot)))
			console_retire(c, "its power settings no longer ask "
			    "for Serial-over-LAN");
	}
	json_object_foreach(all, slot, set) {
		struct console *c;
		if (!console_sol_wanted(set) || !slot_name_valid(slot))
			continue;
		if ((c = by_slot(slot)) == NULL)
			sol_add(slot);
		else if (c->sol == NULL && !c->sol_shadowed) {
			c->sol_shadowed = 1;
			log_warnx("console of slot %s: its tty (%s) is its "
			    "console; \"sol\" in its power settings is not "
			    "used", slot, c->key);
		}
	}
	for (int i = 0; i < CONSOLES_MAX; i++) {
		struct console *c = &consoles[i];
		json_t *st;
		int fd = -1, changed;
		if (!c->used || c->retired || c->sol == NULL)
			continue;
		set = json_object_get(all, c->slot);
		switch (sol_step(c->sol, set, &fd)) {
		case SOL_STEP_OPEN:
			sol_open(c, fd);
			break;
		case SOL_STEP_CLOSE:
			tty_close(c, "the SOL session is over");
			break;
		}
		st = sol_json(c->sol);
		changed = status_changed(c->status, st);
		pthread_mutex_lock(&cons_lock);
		json_decref(c->status);
		c->status = st;
		pthread_mutex_unlock(&cons_lock);
		if (changed)	/* the dashboard hears of it at once */
			nodes_publish(c->slot);
	}
	json_decref(all);
}

/* End the streams whose dashboard session has ended (signed out, or
 * past session_ttl), as events.c does for its own. */
static void
sessions_check(void)
{
	pthread_mutex_lock(&cons_lock);
	for (int i = 0; i < CONSOLES_MAX; i++)
		for (struct cclient *k = consoles[i].clients; k != NULL;
		    k = k->next) {
			if (k->cookie[0] == '\0' || k->ended ||
			    session_check(k->cookie, NULL, 0) == SESSION_OK)
				continue;
			k->ended = 1;
			if (k->suspended) {
				k->suspended = 0;
				http_pull_resume(k->pull);
			}
		}
	pthread_mutex_unlock(&cons_lock);
}

static void
on_tick(void *arg)
{
	console_rescan();
	sols_follow();
	jobs_follow();
	sessions_check();
	retired_sweep();
}

static void
on_debounce(void *arg)
{
	console_rescan();
}

/* Kernel uevents: any of the tty subsystem rescans (soon, once). */
static void
on_uevent(int fd, uint32_t events, void *arg)
{
	char buf[CONSOLE_UEVENT_BUF];
	int tty = 0;

	for (int i = 0; i < 64; i++) {
		ssize_t n = mnl_socket_recvfrom(uev, buf, sizeof(buf) - 1);
		if (n < 0) {
			if (errno == ENOBUFS) {
				tty = 1;
				continue;
			}
			break;
		}
		if (memmem(buf, (size_t)n, "SUBSYSTEM=tty", 14) != NULL)
			tty = 1;
	}
	if (tty)
		loop_timer_arm(debounce, CONSOLE_DEBOUNCE_MS);
}

/* A console for each console_slots item (the USB ones wait for sysfs to
 * name their tty): 0, or -1 with err. */
static int
add_mapped(char *err, size_t errlen)
{
	for (int i = 0; i < conf.console_slots.n; i++) {
		const char *m = conf.console_slots.v[i];
		const char *eq = strrchr(m, '=');
		char key[CONSOLE_KEY_MAX];

		if (eq == NULL || (size_t)(eq - m) >= sizeof(key))
			continue;
		memcpy(key, m, (size_t)(eq - m));
		key[eq - m] = '\0';
		if (console_add(eq + 1, key) == NULL) {
			snprintf(err, errlen, "console_slots: %s: cannot "
			    "keep its console", m);
			return -1;
		}
	}
	return 0;
}

/* Consoles retired at a reload, freed once their last stream is gone. */
static void
retired_sweep(void)
{
	pthread_mutex_lock(&cons_lock);
	for (int i = 0; i < CONSOLES_MAX; i++) {
		struct console *c = &consoles[i];
		if (c->used && c->retired && c->clients == NULL) {
			console_ring_free(&c->ring);
			c->used = c->retired = 0;
		}
	}
	pthread_mutex_unlock(&cons_lock);
}

/* c's key no longer maps to its slot: its tty and log close, its streams
 * end, and the entry goes once they have (retired_sweep). */
static void
console_retire(struct console *c, const char *why)
{
	struct sol *s = c->sol;

	log_info("console of slot %s (%s): %s", c->slot, c->key, why);
	c->sol = NULL;		/* its session goes with it, not retried */
	tty_close(c, "closed");
	sol_free(s);
	if (c->logfd >= 0)
		close(c->logfd);
	c->logfd = -1;
	c->job = 0;
	pthread_mutex_lock(&cons_lock);
	json_decref(c->status);
	c->status = NULL;
	c->retired = 1;
	c->key[0] = '\0';
	for (struct cclient *k = c->clients; k != NULL; k = k->next)
		k->ended = 1;
	wake(c);
	pthread_mutex_unlock(&cons_lock);
	retired_sweep();
}

void
console_reload(void)
{
	char err[ERR_MAX];

	if (!started)
		return;
	for (int i = 0; i < CONSOLES_MAX; i++) {
		struct console *c = &consoles[i];
		const char *want;
		int rc;

		if (!c->used || c->retired)
			continue;
		if (c->sol != NULL) {
			sol_retry_now(c->sol);
			want = c->slot;	/* sols_follow decides */
		} else if ((want = mapped_slot(c->key)) == NULL &&
		    c->key[0] != '/')
			want = c->key;	/* an unmapped USB port: its path */
		if (want == NULL || strcmp(want, c->slot) != 0) {
			console_retire(c, want == NULL ? "no longer in "
			    "console_slots" : "console_slots maps it to "
			    "another slot");
			continue;
		}
		pthread_mutex_lock(&cons_lock);
		rc = console_ring_resize(&c->ring, conf.console_ring);
		pthread_mutex_unlock(&cons_lock);
		if (rc != 0)
			log_warnx("console of slot %s: out of memory for a "
			    "%zu-byte ring; it keeps %zu", c->slot,
			    conf.console_ring, c->ring.size);
		if (c->sol == NULL && c->fd >= 0 &&
		    c->speed != conf.console_speed)
			tty_close(c, "console_speed changed");
	}
	if (add_mapped(err, sizeof(err)) != 0)
		log_warnx("reload: %s", err);
	console_rescan();	/* opens at the new speed, finds new ports */
	sols_follow();
	jobs_follow();
}

int
console_init(char *err, size_t errlen)
{
	char path[PATH_MAX_RACKD];

	if (statedir_path(path, sizeof(path), "jobs") != 0 ||
	    (mkdir(path, 0750) != 0 && errno != EEXIST)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (add_mapped(err, errlen) != 0)
		return -1;
	if ((cep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    loop_add_fd(cep, EPOLLIN, on_ttys, NULL) != 0 ||
	    loop_every(CONSOLE_RESCAN_MS, on_tick, NULL) != 0 ||
	    (debounce = loop_timer_new(on_debounce, NULL)) < 0) {
		snprintf(err, errlen, "console: event loop: %s",
		    strerror(errno));
		return -1;
	}
	/* Without uevents (a container) the periodic rescan still works. */
	if ((uev = mnl_socket_open2(NETLINK_KOBJECT_UEVENT, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == NULL || mnl_socket_bind(uev, 1,
	    MNL_SOCKET_AUTOPID) < 0 || loop_add_fd(mnl_socket_get_fd(uev),
	    EPOLLIN, on_uevent, NULL) != 0) {
		log_warn("console: no uevents; ttys are looked for every "
		    "%d ms", CONSOLE_RESCAN_MS);
		if (uev != NULL)
			mnl_socket_close(uev);
		uev = NULL;
	}
	started = 1;
	console_rescan();
	sols_follow();
	jobs_follow();
	return 0;
}

void
console_shutdown(void)
{
	pthread_mutex_lock(&cons_lock);
	closing = 1;
	for (int i = 0; i < CONSOLES_MAX; i++)
		if (consoles[i].used)
			wake(&consoles[i]);
	pthread_mutex_unlock(&cons_lock);
}

/* After http_stop: no stream is left. */
void
console_close(void)
{
	if (uev != NULL) {
		loop_del_fd(mnl_socket_get_fd(uev));
		mnl_socket_close(uev);
	}
	uev = NULL;
	for (int i = 0; i < CONSOLES_MAX; i++) {
		struct console *c = &consoles[i];
		if (!c->used)
			continue;
		c->sol = NULL;	/* sol_close_all ends the sessions */
		tty_close(c, "closed");
		if (c->logfd >= 0)
			close(c->logfd);
		console_ring_free(&c->ring);
		json_decref(c->status);
		c->status = NULL;
		c->sol = NULL;
		c->used = 0;
	}
	sol_close_all();
	if (cep >= 0) {
		loop_del_fd(cep);
		close(cep);
	}
	cep = -1;
	started = 0;
}

int
console_exists(const char *slot)
{
	int yes;

	pthread_mutex_lock(&cons_lock);
	yes = by_slot(slot) != NULL;
	pthread_mutex_unlock(&cons_lock);
	return yes;
}

void
console_node_json(json_t *node)
{
	const char *slot = json_string_value(json_object_get(node, "slot"));
	struct console *c;
	json_t *o = NULL;

	if (slot == NULL)
		return;
	pthread_mutex_lock(&cons_lock);
	if ((c = by_slot(slot)) != NULL && c->sol != NULL)
		o = c->status != NULL ? json_deep_copy(c->status) :
		    json_pack("{s:s,s:s}", "source", "sol", "state",
		    "connecting");
	else if (c != NULL)
		o = json_pack("{s:s,s:s,s:s}", "source", "tty", "device",
		    c->dev[0] != '\0' ? c->dev : c->key, "state", c->fd >= 0 ?
		    "connected" : "waiting");
	pthread_mutex_unlock(&cons_lock);
	json_object_set_new(node, "console", o != NULL ? o : json_null());
}

/* ---- writing ----------------------------------------------------------- */

ssize_t
console_write(const char *slot, const void *data, size_t n)
{
	struct console *c;
	ssize_t w;

	pthread_mutex_lock(&cons_lock);
	if ((c = by_slot(slot)) == NULL || c->fd < 0) {
		pthread_mutex_unlock(&cons_lock);
		errno = c == NULL ? ENOENT : ENODEV;
		return -1;
	}
	do
		w = write(c->fd, data, n);
	while (w < 0 && errno == EINTR);
	if (w < 0 && errno == EAGAIN)
		w = 0;
	pthread_mutex_unlock(&cons_lock);
	return w;
}

/* ---- streams ----------------------------------------------------------- */

static ssize_t
reader(void *ctx, char *buf, size_t max)
{
	static const char hello[] = "retry: 3000\n\n";
	static const char head[] = "event: output\ndata: {\"data\":\"";
	static const char tail[] = "\"}\n\n";
	struct cclient *k = ctx;
	unsigned char raw[CONSOLE_READ_BLOCK];
	size_t used = 0, room, n;
	uint64_t was;

	pthread_mutex_lock(&cons_lock);
	if (closing || k->ended) {
		pthread_mutex_unlock(&cons_lock);
		return HTTP_PULL_END;
	}
	if (!k->hello) {
		if (max < sizeof(hello)) {
			pthread_mutex_unlock(&cons_lock);
			return HTTP_PULL_ERROR;
		}
		memcpy(buf, hello, sizeof(hello) - 1);
		used = sizeof(hello) - 1;
		k->hello = 1;
	}
	was = k->pos;
	if (k->c->ring.total > k->c->ring.size &&
	    k->pos < k->c->ring.total - k->c->ring.size) {
		char lost[96];
		int len;
		uint64_t now = k->c->ring.total - k->c->ring.size;
		len = snprintf(lost, sizeof(lost), "event: lost\ndata: "
		    "{\"bytes\":%llu}\n\n", (unsigned long long)(now - was));
		if ((size_t)len >= max - used)
			goto out;
		k->pos = now;
		memcpy(buf + used, lost, (size_t)len);
		used += (size_t)len;
	}
	/* Base64 of n bytes takes 4 * ceil(n / 3), and its NUL. */
	room = max - used;
	if (room > sizeof(head) + sizeof(tail) + 8) {
		n = (room - sizeof(head) - sizeof(tail) - 4) / 4 * 3;
		if (n > sizeof(raw))
			n = sizeof(raw);
		n = console_ring_get(&k->c->ring, &k->pos, raw, n);
		if (n > 0) {
			char *p = buf + used;
			memcpy(p, head, sizeof(head) - 1);
			p += sizeof(head) - 1;
			sodium_bin2base64(p, max - (size_t)(p - buf), raw, n,
			    sodium_base64_VARIANT_ORIGINAL);
			p += strlen(p);
			memcpy(p, tail, sizeof(tail) - 1);
			p += sizeof(tail) - 1;
			used = (size_t)(p - buf);
		}
	}
out:
	if (used == 0) {
		k->suspended = 1;
		http_pull_suspend(k->pull);
	}
	pthread_mutex_unlock(&cons_lock);
	return (ssize_t)used;
}

static void
client_free(void *ctx)
{
	struct cclient *k = ctx;

	pthread_mutex_lock(&cons_lock);
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		k->c->clients = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	nclients--;
	pthread_mutex_unlock(&cons_lock);
	free(k);
}

int
console_stream_reply(struct req *r, const char *slot)
{
	struct http_pull *p;
	struct cclient *k;
	struct console *c;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		http_reply_error(r, 500, "out of memory");
		return -1;
	}
	/* Let in by its session cookie (routes.c takes a Bearer first)? */
	if (!conf.api_open_reads && http_header(r, "Authorization") == NULL &&
	    session_cookie_valid(http_cookie(r, SESSION_COOKIE)))
		snprintf(k->cookie, sizeof(k->cookie), "%s",
		    http_cookie(r, SESSION_COOKIE));
	pthread_mutex_lock(&cons_lock);
	if ((c = by_slot(slot)) == NULL) {
		pthread_mutex_unlock(&cons_lock);
		free(k);
		http_reply_error(r, 404, "slot %s has no console "
		    "(console_slots)", slot);
		return -1;
	}
	if (nclients >= CONSOLE_CLIENTS_MAX || closing) {
		pthread_mutex_unlock(&cons_lock);
		free(k);
		http_reply_error(r, 503, "too many console streams (%d)",
		    CONSOLE_CLIENTS_MAX);
		return -1;
	}
	k->c = c;
	/* The ring first: from the oldest byte kept. */
	k->pos = c->ring.total > c->ring.size ? c->ring.total - c->ring.size :
	    0;
	k->next = c->clients;
	if (c->clients != NULL)
		c->clients->prev = k;
	c->clients = k;
	nclients++;
	pthread_mutex_unlock(&cons_lock);
	http_add_header(r, "Cache-Control", "no-store");
	http_add_header(r, "X-Accel-Buffering", "no");
	p = http_reply_pull(r, 200, "text/event-stream", HTTP_SIZE_UNKNOWN,
	    EVENTS_BLOCK, reader, client_free, k);
	if (p == NULL)
		return -1;
	pthread_mutex_lock(&cons_lock);
	k->pull = p;
	pthread_mutex_unlock(&cons_lock);
	return 0;
}
