/*
 * erase.c — an erase job: the disk of rackd.disk's rule (largest by
 * default) is erased and checked, and the server powers off.
 *
 *   "auto": NVMe Sanitize or Format NVM (user data erase), else ATA
 *   SECURITY ERASE UNIT, else a discard of the whole disk that reads back
 *   zeros, else an overwrite. "overwrite": zeros written over the whole
 *   disk. Then samples across the disk (erase_verify.c) are read back:
 *   zeros, or for a method whose result is not defined to be zero, none
 *   as it was before the erase.
 *
 * Every choice is a job event: which method ran, why the others did not,
 * what was checked. "streaming" is the erase, "verifying" the check.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxe/agent/agent.h"

#define OVERWRITE_IO		(4u * 1024 * 1024)
#define FORMAT_TIMEOUT_MS	(2u * 3600 * 1000)
#define ATA_DEFAULT_TIMEOUT_MS	(12u * 3600 * 1000)
#define ATA_MARGIN_MIN		30
#define SANITIZE_POLL_MS	1000
#define SANITIZE_MAX_MS		(24LL * 3600 * 1000)
#define WHY_MAX			(ERR_OUTER_MAX + 128)

enum step { STEP_DONE, STEP_SKIP, STEP_FAILED };

struct erase {
	struct agent	*a;
	uint64_t	 size;
	char		 name[DEVNAME_MAX];	/* in /sys/class/block */
	char		 why[WHY_MAX];		/* of a skip or failure */
	const char	*ran;			/* the method that ran */
	bool		 zero_defined;		/* its result reads zeros */
	struct erase_samples before, after;
};

/* ---- progress ---- */

static void
say_left(uint64_t left, uint64_t bps, char *buf, size_t len)
{
	uint64_t s;

	if (bps == 0) {
		snprintf(buf, len, "time left not known yet");
		return;
	}
	s = left / bps;
	snprintf(buf, len, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64 " left",
	    s / 3600, s / 60 % 60, s % 60);
}

/* Reports every REPORT_INTERVAL_MS, a console line with the rate and
 * the time left every CONSOLE_INTERVAL_MS. */
static void
tick(struct erase *e, const char *state, const char *what)
{
	struct agent *a = e->a;
	int64_t now = now_ms();
	uint64_t done = atomic_load(&a->pr.bytes_done);
	char x[3][BYTES_STR_MAX], left[64];

	if (got_signal && !atomic_load(&a->stop)) {
		log_warn("signal %d: stopping", (int)got_signal);
		atomic_store(&a->stop, 1);
	}
	if (now >= a->next_report) {
		a->bps = rate_update(&a->rate, now, done);
		if (!atomic_load(&a->stop))
			agent_report(a, state, NULL, 0, 0);
		a->next_report = now_ms() + REPORT_INTERVAL_MS;
	}
	if (now >= a->next_console) {
		say_left(e->size > done ? e->size - done : 0, a->bps, left,
		    sizeof(left));
		log_info("%s %3u%%  %s of %s  %s/s  %s", what,
		    e->size ? (unsigned)(done * 100 / e->size) : 100,
		    fmt_bytes(done, x[0], sizeof(x[0])),
		    fmt_bytes(e->size, x[1], sizeof(x[1])),
		    fmt_bytes(a->bps, x[2], sizeof(x[2])), left);
		a->next_console = now + CONSOLE_INTERVAL_MS;
	}
}

/* A command that blocks until the drive is done, on a thread of its
 * own while this one reports; est_ms (0: not known) paces bytes_done. */
struct blocking {
	int	(*fn)(struct blocking *);
	int	 fd, arg;
	uint32_t timeout_ms;
	const struct nvme_info *ni;
	atomic_int finished;
	int	 rc;
	char	 err[ERR_OUTER_MAX];
};

static void *
blocking_main(void *arg)
{
	struct blocking *b = arg;

	b->rc = b->fn(b);
	atomic_store(&b->finished, 1);
	return NULL;
}

static int
run_blocking(struct erase *e, struct blocking *b, const char *what,
    uint64_t est_ms)
{
	struct agent *a = e->a;
	int64_t t0 = now_ms();
	pthread_t t;

	atomic_store(&b->finished, 0);
	if (pthread_create(&t, NULL, blocking_main, b) != 0) {
		snprintf(e->why, sizeof(e->why), "cannot start a thread");
		return -1;
	}
	while (!atomic_load(&b->finished)) {
		uint64_t ms = (uint64_t)(now_ms() - t0);
		sleep_ms(WAIT_SLICE_MS);
		if (est_ms > 0)	/* the drive's estimate, up to 99% */
			atomic_store(&a->pr.bytes_done, ms >= est_ms ?
			    e->size / 100 * 99 :
			    (uint64_t)((double)e->size * ms / est_ms));
		tick(e, "streaming", what);
	}
	pthread_join(t, NULL);
	if (b->rc != 0)
		snprintf(e->why, sizeof(e->why), "%s", b->err);
	else
		atomic_store(&a->pr.bytes_done, e->size);
	return b->rc;
}

/* ---- NVMe ---- */

static int
do_format(struct blocking *b)
{
	return nvme_format(b->fd, b->ni, b->arg, b->timeout_ms, b->err,
	    sizeof(b->err));
}

static enum step
nvme_sanitize_run(struct erase *e, int sanact)
{
	struct agent *a = e->a;
	int64_t t0 = now_ms();
	unsigned sstat = 2, sprog = 0;
	char err[ERR_MAX];

	if (nvme_sanitize(a->fd, sanact, err, sizeof(err)) != 0) {
		snprintf(e->why, sizeof(e->why), "%s", err);
		return STEP_FAILED;
	}
	/* Sanitize runs in the background: its log page says how far. */
	while (now_ms() - t0 < SANITIZE_MAX_MS) {
		sleep_ms(SANITIZE_POLL_MS);
		if (nvme_sanitize_status(a->fd, &sstat, &sprog, err,
		    sizeof(err)) != 0) {
			snprintf(e->why, sizeof(e->why), "%s", err);
			return STEP_FAILED;
		}
		if (sstat != 2)
			break;
		atomic_store(&a->pr.bytes_done, e->size / 65536 * sprog);
		tick(e, "streaming", "sanitizing");
	}
	if (sstat == 1 || sstat == 4) {
		atomic_store(&a->pr.bytes_done, e->size);
		return STEP_DONE;
	}
	snprintf(e->why, sizeof(e->why), sstat == 3 ? "NVMe Sanitize "
	    "failed (sanitize status log)" : "NVMe Sanitize did not end in "
	    "%lld h", SANITIZE_MAX_MS / 3600000);
	return STEP_FAILED;
}

static enum step
try_nvme(struct erase *e)
{
	struct agent *a = e->a;
	struct nvme_info ni;
	struct blocking b;
	char err[ERR_MAX];
	int rc;

	if ((rc = nvme_probe(a->fd, &ni, err, sizeof(err))) == 0) {
		snprintf(e->why, sizeof(e->why), "not an NVMe disk");
		return STEP_SKIP;
	}
	if (rc < 0) {
		snprintf(e->why, sizeof(e->why), "%s", err);
		return STEP_SKIP;
	}
	agent_event(a, "NVMe %s (serial %s), namespace %" PRIu32 " of %"
	    PRIu32 ": OACS 0x%x, SANICAP 0x%" PRIx32 ", FNA 0x%x", ni.model,
	    ni.serial, ni.nsid, ni.nn, ni.oacs, ni.sanicap, ni.fna);
	/* A sanitize erases every namespace of the controller: only when
	 * this one is all it has. */
	if ((ni.sanicap & (NVME_SANICAP_BLOCK | NVME_SANICAP_CRYPTO)) &&
	    ni.nn == 1) {
		int block = (ni.sanicap & NVME_SANICAP_BLOCK) != 0;
		e->ran = block ? "NVMe Sanitize (block erase)" :
		    "NVMe Sanitize (crypto erase)";
		e->zero_defined = (ni.dlfeat & 7) == 1;
		agent_event(a, "auto: %s: the controller supports it "
		    "(SANICAP) and has one namespace", e->ran);
		return nvme_sanitize_run(e, block ? NVME_SANACT_BLOCK :
		    NVME_SANACT_CRYPTO);
	}
	if (!(ni.oacs & NVME_OACS_FORMAT)) {
		snprintf(e->why, sizeof(e->why), "the NVMe controller has "
		    "neither Sanitize (SANICAP) nor Format NVM (OACS)");
		return STEP_SKIP;
	}
	e->ran = "NVMe Format NVM (user data erase)";
	/* User data erase leaves the data indeterminate unless the
	 * namespace reads its deallocated blocks as zeros (DLFEAT). */
	e->zero_defined = false;
	agent_event(a, "auto: %s of %s: %s", e->ran, ni.fna & 3 ?
	    "all namespaces (FNA)" : "the namespace", ni.sanicap ?
	    "the controller has more than one namespace, so no Sanitize" :
	    "the controller has no Sanitize (SANICAP 0)");
	memset(&b, 0, sizeof(b));
	b.fn = do_format;
	b.fd = a->fd;
	b.arg = NVME_SES_USER_DATA;
	b.timeout_ms = FORMAT_TIMEOUT_MS;
	b.ni = &ni;
	return run_blocking(e, &b, "formatting", 0) == 0 ? STEP_DONE :
	    STEP_FAILED;
}

/* ---- ATA ---- */

static int
do_ata_erase(struct blocking *b)
{
	return ata_security_erase(b->fd, b->arg, b->timeout_ms, b->err,
	    sizeof(b->err));
}

static enum step
try_ata(struct erase *e)
{
	struct agent *a = e->a;
	struct ata_info ai;
	struct blocking b;
	char err[ERR_MAX];
	unsigned min;

	if (!a->is_blockdev || ata_probe(a->fd, &ai, err, sizeof(err)) != 1) {
		snprintf(e->why, sizeof(e->why), "not an ATA disk (no ATA "
		    "pass-through)");
		return STEP_SKIP;
	}
	snprintf(e->why, sizeof(e->why), "ATA %s: ", ai.model);
	if (!ai.supported)
		strcat(e->why, "the Security feature set is not supported");
	else if (ai.frozen)
		strcat(e->why, "security is frozen (the firmware froze it at "
		    "boot; a suspend and resume or a hot plug unfreezes it)");
	else if (ai.locked)
		strcat(e->why, "the drive is locked by a password");
	else if (ai.enabled)
		strcat(e->why, "a security password is already set");
	else
		e->why[0] = '\0';
	if (e->why[0] != '\0')
		return STEP_SKIP;
	e->ran = ai.enhanced ? "ATA SECURITY ERASE UNIT (enhanced)" :
	    "ATA SECURITY ERASE UNIT (normal)";
	/* A normal erase writes zeros; an enhanced one the maker's
	 * pattern, also over reallocated sectors. */
	e->zero_defined = !ai.enhanced;
	min = ai.enhanced ? ai.enhanced_min : ai.erase_min;
	agent_event(a, "auto: %s on %s: security supported, not frozen; "
	    "the drive estimates %u min", e->ran, ai.model, min);
	memset(&b, 0, sizeof(b));
	b.fn = do_ata_erase;
	b.fd = a->fd;
	b.arg = ai.enhanced;
	b.timeout_ms = min > 0 ? (min + ATA_MARGIN_MIN) * 60000u :
	    ATA_DEFAULT_TIMEOUT_MS;
	return run_blocking(e, &b, "erasing", (uint64_t)min * 60000) == 0 ?
	    STEP_DONE : STEP_FAILED;
}

/* ---- discard ---- */

static uint64_t
queue_attr(const struct erase *e, const char *attr)
{
	char path[AGENT_PATH_MAX], buf[64];
	FILE *f;
	unsigned long long v = 0;

	snprintf(path, sizeof(path), "/sys/class/block/%s/queue/%s", e->name,
	    attr);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) != NULL)
		v = strtoull(buf, NULL, 10);
	fclose(f);
	return v;
}

static int
do_discard(struct blocking *b)
{
	uint64_t range[2] = { 0, 0 };

	if (ioctl(b->fd, BLKGETSIZE64, &range[1]) != 0 ||
	    ioctl(b->fd, BLKDISCARD, range) != 0) {
		snprintf(b->err, sizeof(b->err), "BLKDISCARD: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

static enum step
try_discard(struct erase *e)
{
	struct agent *a = e->a;
	struct blocking b;
	uint64_t dmax;

	if (!a->is_blockdev) {
		snprintf(e->why, sizeof(e->why), "not a block device, no "
		    "discard");
		return STEP_SKIP;
	}
	if ((dmax = queue_attr(e, "discard_max_bytes")) == 0) {
		snprintf(e->why, sizeof(e->why), "the disk does not support "
		    "discard (queue/discard_max_bytes 0)");
		return STEP_SKIP;
	}
	e->ran = "discard (BLKDISCARD) of the whole disk";
	e->zero_defined = true;	/* checked below; else an overwrite */
	agent_event(a, "auto: %s: discard_max_bytes %" PRIu64 ", "
	    "write_zeroes_max_bytes %" PRIu64 "; it must read back zeros",
	    e->ran, dmax, queue_attr(e, "write_zeroes_max_bytes"));
	memset(&b, 0, sizeof(b));
	b.fn = do_discard;
	b.fd = a->fd;
	return run_blocking(e, &b, "discarding", 0) == 0 ? STEP_DONE :
	    STEP_FAILED;
}

/* ---- overwrite ---- */

static enum step
overwrite(struct erase *e)
{
	struct agent *a = e->a;
	uint8_t *buf;
	char err[ERR_MAX], x[2][BYTES_STR_MAX];
	uint64_t off = 0;

	e->ran = "overwrite with zeros";
	e->zero_defined = true;
	if ((buf = calloc(1, OVERWRITE_IO)) == NULL) {
		snprintf(e->why, sizeof(e->why), "out of memory");
		return STEP_FAILED;
	}
	atomic_store(&a->pr.bytes_done, 0);
	rate_init(&a->rate, now_ms(), 0);
	a->next_console = 0;
	/* Plain writes: a real overwrite on any disk (a Write Zeroes
	 * command may only unmap). */
	while (off < e->size && !atomic_load(&a->stop)) {
		size_t n = e->size - off < OVERWRITE_IO ?
		    (size_t)(e->size - off) : OVERWRITE_IO;
		if (disk_write(a->fd, buf, n, off, err, sizeof(err)) != 0) {
			snprintf(e->why, sizeof(e->why), "%s", err);
			break;
		}
		off += n;
		atomic_store(&a->pr.bytes_done, off);
		tick(e, "streaming", "overwriting");
	}
	free(buf);
	if (off < e->size) {
		/* Cancelled or failed midway: say what the disk holds (in
		 * the job's events too, rackd taking it after a cancel). */
		agent_event_last(a, "the disk is partly erased: zeros over "
		    "its first %s of %s (bytes 0 to %" PRIu64 "), the rest "
		    "untouched", fmt_bytes(off, x[0], sizeof(x[0])),
		    fmt_bytes(e->size, x[1], sizeof(x[1])), off);
		if (e->why[0] == '\0')
			snprintf(e->why, sizeof(e->why), "stopped");
		snprintf(e->why + strlen(e->why), sizeof(e->why) -
		    strlen(e->why), " after overwriting %s of %s: the disk "
		    "is partly erased", x[0], x[1]);
		return STEP_FAILED;
	}
	if (fdatasync(a->fd) != 0) {
		snprintf(e->why, sizeof(e->why), "fdatasync: %s",
		    strerror(errno));
		return STEP_FAILED;
	}
	return STEP_DONE;
}

/* ---- the flow ---- */

/* "auto": the first method that applies, each skip said. */
static enum step
erase_auto(struct erase *e)
{
	static enum step (*const tries[])(struct erase *) = {
		try_nvme, try_ata, try_discard,
	};
	static const char *const names[] = { "NVMe", "ATA", "discard" };

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		enum step s;
		e->why[0] = '\0';
		e->ran = NULL;
		if ((s = tries[i](e)) == STEP_DONE)
			return s;
		if (atomic_load(&e->a->stop))
			return STEP_FAILED;
		agent_event(e->a, "auto: %s %s: %s", e->ran ? e->ran : names[i],
		    s == STEP_SKIP ? "not used" : "failed, trying the next "
		    "method", e->why);
	}
	agent_event(e->a, "auto: overwriting with zeros: no faster method "
	    "applies");
	return overwrite(e);
}

/* The samples after the erase; -1 with e->why when the erase is not
 * shown. */
static int
check(struct erase *e, int quiet)
{
	struct agent *a = e->a;
	struct erase_verdict v;
	char err[ERR_OUTER_MAX], b[BYTES_STR_MAX];

	if (erase_samples_read(a->fd, e->size, &e->after, &a->stop, err,
	    sizeof(err)) != 0) {
		snprintf(e->why, sizeof(e->why), "reading the samples back: "
		    "%s", err);
		return -1;
	}
	erase_samples_judge(&e->before, &e->after, &v);
	fmt_bytes(v.bytes, b, sizeof(b));
	if (v.zero == v.samples) {
		if (quiet)	/* a check within the erase */
			return 0;
		agent_event(a, "verified: all %zu samples of %s (first and "
		    "last MiB, %d spread across the disk) read zeros",
		    v.samples, fmt_bytes(e->after.len, err, sizeof(err)),
		    ERASE_SAMPLES);
		return 0;
	}
	if (v.unchanged > 0) {
		snprintf(e->why, sizeof(e->why), "%zu of %zu samples still "
		    "hold what they held before the erase (the first at byte "
		    "%" PRIu64 ")", v.unchanged, v.samples, v.first_bad);
		return -1;
	}
	if (e->zero_defined) {
		snprintf(e->why, sizeof(e->why), "%zu of %zu samples are not "
		    "zero after %s", v.samples - v.zero, v.samples, e->ran);
		return -1;
	}
	agent_event(a, "verified: %zu of %zu samples (%s) read zeros; the "
	    "others differ from before: %s is not defined to leave zeros",
	    v.zero, v.samples, b, e->ran);
	return 0;
}

static void
disk_name(struct erase *e)
{
	char real[AGENT_PATH_MAX];

	if (realpath(e->a->disk_path, real) == NULL)
		snprintf(real, sizeof(real), "%s", e->a->disk_path);
	snprintf(e->name, sizeof(e->name), "%s", basename(real));
}

static uint64_t
fd_size(int fd)
{
	uint64_t n = 0;
	struct stat st;

	if (ioctl(fd, BLKGETSIZE64, &n) == 0)
		return n;
	return fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

enum agent_exit
erase_run(struct agent *a)
{
	static struct erase e;
	const char *method = json_string_value(json_object_get(a->job.params,
	    "method"));
	char x[BYTES_STR_MAX], err[ERR_OUTER_MAX];
	enum agent_exit rc;
	enum step s;

	memset(&e, 0, sizeof(e));
	e.a = a;
	if (method == NULL)
		method = "auto";
	if (strcmp(method, "auto") != 0 && strcmp(method, "overwrite") != 0)
		return agent_fail(a, "erase: method \"%.40s\" is not auto or "
		    "overwrite", method);
	if ((rc = agent_open_disk(a, 0)) != AGENT_EXIT_DONE)
		return rc;
	disk_name(&e);
	if ((e.size = fd_size(a->fd)) == 0)
		return agent_fail(a, "erase: %s has no size", a->disk_path);
	net_set_total(a->net, e.size);	/* rackd's job has no size */
	a->t_start = now_ms();
	rate_init(&a->rate, a->t_start, 0);
	if (agent_report(a, "streaming", NULL, 1, a->deadline_ms) != REPORT_OK)
		return a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
	a->next_report = now_ms() + REPORT_INTERVAL_MS;
	agent_event(a, "erase %s of %s (rule %s), method %s", a->disk_path,
	    fmt_bytes(e.size, x, sizeof(x)), a->conf.disk[0] ? a->conf.disk :
	    "largest", method);
	/* What the samples hold now: after the erase none may hold it. */
	if (erase_samples_read(a->fd, e.size, &e.before, &a->stop, err,
	    sizeof(err)) != 0)
		return agent_fail(a, "erase: reading the samples: %s", err);
	s = strcmp(method, "overwrite") == 0 ? overwrite(&e) : erase_auto(&e);
	if (a->gone) {
		/* A drive's own erase is not stopped: it ran to its end. */
		if (s == STEP_DONE && e.ran != NULL)
			agent_event_last(a, "%s ran to its end after the "
			    "cancel; the erase was not checked", e.ran);
		return AGENT_EXIT_CANCELLED;
	}
	if (s != STEP_DONE)
		return agent_fail(a, "erase: %s%s%s", e.ran ? e.ran : "",
		    e.ran ? ": " : "", e.why);
	/* A discard that does not read back zeros: an overwrite. */
	if (strncmp(e.ran, "discard", 7) == 0 && check(&e, 1) != 0) {
		agent_event(a, "auto: the discard does not read back zeros "
		    "(%s): overwriting", e.why);
		e.why[0] = '\0';
		if (overwrite(&e) != STEP_DONE)
			return a->gone ? AGENT_EXIT_CANCELLED :
			    agent_fail(a, "erase: %s: %s", e.ran, e.why);
	}
	agent_event(a, "%s of %s done in %.1f s", e.ran, x,
	    (double)(now_ms() - a->t_start) / 1000);
	if (agent_report(a, "verifying", NULL, 1, a->deadline_ms) != REPORT_OK)
		return a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
	if (check(&e, 0) != 0) {
		if (a->gone)
			agent_event_last(a, "erased by %s; cancelled while "
			    "checking, the check did not end", e.ran);
		return agent_fail(a, "erase: verification failed: %s", e.why);
	}
	atomic_store(&a->pr.bytes_done, e.size);
	a->bps = rate_update(&a->rate, now_ms(), e.size);
	a->power_off = 1;
	agent_event(a, "erased by %s; the server powers off", e.ran);
	if (agent_report(a, "done", NULL, 1, a->deadline_ms) != REPORT_OK)
		return a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
	return AGENT_EXIT_DONE;
}
