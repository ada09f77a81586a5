/*
 * main.c — rack-agent: flags, the job's flow, reboot.
 *
 *   job from rackd -> disk picked and opened -> "streaming" (pipeline:
 *   scan, fetch, write; progress every REPORT_INTERVAL_MS) -> fsync ->
 *   "verifying" (read back what was written) -> "done" -> reboot.
 *
 * Any failure is reported as "failed" with its reason. A 409 or 401 from
 * rackd once the job is under way means the job is no longer active
 * (cancelled, or failed by rackd): the agent stops without writing more.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "images/chunk.h"
#include "pxe/agent/agent.h"

#ifndef RACKD_VERSION
#define RACKD_VERSION "unknown"
#endif

volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: rack-agent [OPTIONS]\n"
"\n"
"Writes the image of a rackd reimage job to this server's disk: compares\n"
"the disk chunk by chunk, fetches only chunks that differ, verifies every\n"
"chunk, reports progress to rackd, and reboots. An erase job erases the\n"
"disk (auto: NVMe sanitize or format, ATA secure erase, discard, else\n"
"overwrite), checks samples across it and powers the server off.\n"
"\n"
"Settings come from the kernel command line (rackd.url=, rackd.job=,\n"
"rackd.token=, rackd.disk=); the flags override it.\n"
"  -u, --url URL        rackd's URL (http://ADDR:PORT)\n"
"  -j, --job ID         the job's number\n"
"  -t, --token HEX      the job's token\n"
"  -d, --disk RULE      largest (default), serial:XYZ,\n"
"                       path:/dev/disk/by-path/NAME, dev:/dev/NAME or\n"
"                       dev:/path/to/file\n"
"  -c, --cmdline FILE   read FILE instead of /proc/cmdline\n"
"  -n, --no-reboot      exit at the end instead of rebooting\n"
"      --deadline SEC   give up a network operation after SEC seconds\n"
"                       without progress (default %d)\n"
"      --workers N      decompress+verify+write threads, 1..%d (default:\n"
"                       one per CPU)\n"
"  -h, --help           show this help\n"
"  -V, --version        show the version\n"
"\n"
"Exit status: 0 done, 1 failed, 2 usage error, 3 job cancelled by rackd.\n",
	    RETRY_DEADLINE_MS / 1000, WORKERS_MAX);
}

enum report_rc
agent_report(struct agent *a, const char *state, const char *reason, int retry,
    int64_t deadline_ms)
{
	struct retry t;
	char err[ERR_OUTER_MAX];
	long status;
	int64_t delay;

	retry_start(&t, now_ms(), deadline_ms);
	for (;;) {
		int rc = net_report(a->net, a->job.id, state,
		    atomic_load(&a->pr.bytes_done),
		    atomic_load(&a->pr.bytes_fetched), a->bps, reason, &status,
		    err, sizeof(err));
		if (rc == 0 && status == 200)
			return REPORT_OK;
		if (rc == 0 && (status == 409 || status == 401 ||
		    status == 404)) {
			log_error("rackd: the job is no longer active "
			    "(HTTP %ld: %s)", status, err);
			a->gone = 1;
			atomic_store(&a->stop, 1);
			return REPORT_GONE;
		}
		if (rc == 0 && status >= 400 && status < 500) {
			log_error("rackd refused the report \"%s\" "
			    "(HTTP %ld: %s)", state, status, err);
			return REPORT_ERROR;
		}
		if (rc == 0)
			snprintf(err + strlen(err), sizeof(err) - strlen(err),
			    " (HTTP %ld)", status);
		if (!retry) {
			log_warn("progress report: %s", err);
			return REPORT_ERROR;
		}
		if (got_signal || !retry_next(&t, now_ms(), &delay)) {
			log_error("cannot report \"%s\" to rackd: %s", state,
			    err);
			return REPORT_ERROR;
		}
		log_warn("report \"%s\": %s; again in %" PRId64 " ms", state,
		    err, delay);
		retry_wait(delay, NULL);
	}
}

enum agent_exit
agent_fail(struct agent *a, const char *fmt, ...)
{
	char reason[REASON_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	log_error("%s", reason);
	if (a->gone)
		return AGENT_EXIT_CANCELLED;
	if (a->job.id > 0)
		agent_report(a, "failed", reason, 1, FAIL_REPORT_DEADLINE_MS);
	return a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
}

void
agent_tick(struct agent *a, const char *state, uint64_t total)
{
	int64_t now = now_ms();
	char line[CONSOLE_LINE_MAX];

	if (got_signal && !atomic_load(&a->stop)) {
		log_warn("signal %d: stopping", (int)got_signal);
		atomic_store(&a->stop, 1);
	}
	if (now >= a->next_report) {
		a->bps = rate_update(&a->rate, now,
		    atomic_load(&a->pr.bytes_done));
		if (!atomic_load(&a->stop))
			agent_report(a, state, NULL, 0, 0);
		a->next_report = now_ms() + REPORT_INTERVAL_MS;
	}
	if (now >= a->next_console) {
		if (strcmp(state, "verifying") == 0) {
			char v[BYTES_STR_MAX], t[BYTES_STR_MAX];
			log_info("verifying %s of %s",
			    fmt_bytes(atomic_load(&a->pr.bytes_verified), v,
			    sizeof(v)), fmt_bytes(total, t, sizeof(t)));
		} else {
			progress_line(state, &a->pr, total, a->bps, line,
			    sizeof(line));
			log_info("%s", line);
		}
		a->next_console = now + CONSOLE_INTERVAL_MS;
	}
}

/* Gets the job, retrying while rackd is unreachable. */
static int
get_job(struct agent *a)
{
	struct retry t;
	char err[ERR_OUTER_MAX], *body;
	size_t len;
	long status;
	int64_t delay;

	retry_start(&t, now_ms(), a->deadline_ms);
	for (;;) {
		int rc = net_get_job(a->net, a->conf.job, &status, &body, &len,
		    err, sizeof(err));
		if (rc == 0 && status == 200) {
			rc = job_parse(body, len, a->conf.url, &a->job, err,
			    sizeof(err));
			free(body);
			if (rc == 0)
				return 0;
			a->job.id = a->conf.job;	/* to report it */
			agent_fail(a, "%s", err);
			return -1;
		}
		if (rc == 0 && (status == 401 || status == 403)) {
			log_error("rackd refused the token for job %" PRId64
			    " (HTTP %ld: %s): the token is wrong or the job is "
			    "no longer active", a->conf.job, status, err);
			return -1;
		}
		if (rc == 0 && status >= 400 && status < 500) {
			log_error("rackd: job %" PRId64 ": HTTP %ld: %s",
			    a->conf.job, status, err);
			return -1;
		}
		if (rc == 0)
			snprintf(err + strlen(err), sizeof(err) - strlen(err),
			    " (HTTP %ld)", status);
		if (got_signal || !retry_next(&t, now_ms(), &delay)) {
			log_error("cannot get job %" PRId64 " from %s: %s",
			    a->conf.job, a->conf.url, err);
			return -1;
		}
		log_warn("getting the job: %s; again in %" PRId64 " ms", err,
		    delay);
		retry_wait(delay, NULL);
	}
}

static int
parse_flags(struct agent *a, int argc, char **argv, const char **cmdline)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "job", required_argument, NULL, 'j' },
		{ "token", required_argument, NULL, 't' },
		{ "disk", required_argument, NULL, 'd' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "no-reboot", no_argument, NULL, 'n' },
		{ "deadline", required_argument, NULL, 'D' },
		{ "workers", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *flag[4] = { NULL, NULL, NULL, NULL };
	static const char *const keys[4] = { "url", "job", "token", "disk" };
	char err[ERR_OUTER_MAX], *end;
	long v;
	int ch;

	while ((ch = getopt_long(argc, argv, "u:j:t:d:c:nhV", opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'u': flag[0] = optarg; break;
		case 'j': flag[1] = optarg; break;
		case 't': flag[2] = optarg; break;
		case 'd': flag[3] = optarg; break;
		case 'c': *cmdline = optarg; break;
		case 'n': a->no_reboot = 1; break;
		case 'D':
		case 'W':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 1 ||
			    v > (ch == 'D' ? 86400 : WORKERS_MAX)) {
				fprintf(stderr, "rack-agent: --%s: not a "
				    "number in range\n",
				    ch == 'D' ? "deadline" : "workers");
				return AGENT_EXIT_USAGE;
			}
			if (ch == 'D')
				a->deadline_ms = v * 1000;
			else
				a->workers = (int)v;
			break;
		case 'h':
			usage(stdout);
			exit(AGENT_EXIT_DONE);
		case 'V':
			printf("rack-agent %s\n", RACKD_VERSION);
			exit(AGENT_EXIT_DONE);
		default:
			usage(stderr);
			return AGENT_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rack-agent: unexpected argument %s\n",
		    argv[optind]);
		return AGENT_EXIT_USAGE;
	}
	if (cmdline_load(*cmdline, &a->conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "rack-agent: %s\n", err);
		return AGENT_EXIT_USAGE;
	}
	for (int i = 0; i < 4; i++)
		if (flag[i] != NULL && conf_set(&a->conf, keys[i], flag[i], err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "rack-agent: --%s: %s\n", keys[i], err);
			return AGENT_EXIT_USAGE;
		}
	if (conf_complete(&a->conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "rack-agent: %s\n", err);
		return AGENT_EXIT_USAGE;
	}
	return 0;
}

static void
say_image(const struct manifest *m)
{
	struct manifest_stats st;
	char a[BYTES_STR_MAX], b[BYTES_STR_MAX], c[BYTES_STR_MAX];
	char d[BYTES_STR_MAX];

	manifest_stats(m, &st);
	log_info("image %s:%s: %s, %" PRIu64 " chunks of %s (%s stored), "
	    "%" PRIu64 " holes (%s), hash %s", m->name, m->version,
	    fmt_bytes(m->size, a, sizeof(a)), st.chunks,
	    fmt_bytes(m->chunk_size, b, sizeof(b)),
	    fmt_bytes(st.stored_bytes, c, sizeof(c)), st.holes,
	    fmt_bytes(holes_total(m), d, sizeof(d)), hash_alg_name(m->hash));
}

enum agent_exit
agent_open_disk(struct agent *a, uint64_t need)
{
	struct disk_rule rule;
	char err[ERR_OUTER_MAX], what[160], sz[BYTES_STR_MAX];
	uint64_t size;

	if (disk_rule_parse(a->conf.disk, &rule, err, sizeof(err)) != 0)
		return agent_fail(a, "disk: %s", err);
	if (disk_select(&disk_env_real, &rule, a->disk_path,
	    sizeof(a->disk_path), err, sizeof(err)) != 0)
		return agent_fail(a, "disk: %s", err);
	disk_describe(a->disk_path, what, sizeof(what));
	if (disk_open(a->disk_path, need, &a->fd, &size,
	    &a->is_blockdev, err, sizeof(err)) != 0)
		return agent_fail(a, "disk: %s", err);
	log_info("disk %s (rule %s): %s, holds %s", a->disk_path,
	    a->conf.disk[0] ? a->conf.disk : "largest",
	    fmt_bytes(size, sz, sizeof(sz)), what[0] ? what : "unknown");
	return AGENT_EXIT_DONE;
}

/* A phase's threads stopped short: rackd ended the job, a signal came, or
 * err says what failed. */
static enum agent_exit
phase_failed(struct agent *a, const char *err)
{
	if (a->gone)
		return AGENT_EXIT_CANCELLED;
	if (got_signal)
		return agent_fail(a, "interrupted by signal %d",
		    (int)got_signal);
	return agent_fail(a, "%s", err);
}

static enum agent_exit
stream(struct agent *a, const char *state, struct pipeline **pp)
{
	const struct manifest *m = a->job.manifest;
	struct chunk_fetcher f = {
		.net = a->net, .deadline_ms = a->deadline_ms,
	};
	struct pipeline_conf pc = {
		.fd = a->fd, .is_blockdev = a->is_blockdev, .m = m,
		.workers = a->workers, .fetch = net_fetch_chunk,
		.fetch_ctx = &f, .progress = &a->pr, .stop = &a->stop,
	};
	char err[REASON_MAX + 1], x[6][BYTES_STR_MAX];
	int64_t ms;

	snprintf(f.base, sizeof(f.base), "%s", a->job.chunks_url);
	if (pipeline_start(&pc, pp, err, sizeof(err)) != 0)
		return agent_fail(a, "%s", err);
	log_info("streaming with %d worker(s), queue limit %s",
	    pipeline_workers(*pp), fmt_bytes(QUEUE_MAX_BYTES, x[0],
	    sizeof(x[0])));
	while (!pipeline_wait(*pp, WAIT_SLICE_MS))
		agent_tick(a, state, m->size);
	if (pipeline_join(*pp, err, sizeof(err)) != 0) {
		if (a->gone)	/* cancelled: what the disk holds now */
			agent_event_last(a, "stopped after %s of %s of %s:%s "
			    "compared or written (%s written): the disk holds "
			    "part of the image over what it held",
			    fmt_bytes(atomic_load(&a->pr.bytes_done), x[0],
			    sizeof(x[0])), fmt_bytes(m->size, x[1],
			    sizeof(x[1])), m->name, m->version,
			    fmt_bytes(atomic_load(&a->pr.bytes_written), x[2],
			    sizeof(x[2])));
		return phase_failed(a, err);
	}
	ms = now_ms() - a->t_start;
	log_info("written %s, already right %s (%" PRIu64 " chunks), fetched "
	    "%s in %" PRIu64 " chunks, holes zeroed %s; %.1f s; queue peak %s",
	    fmt_bytes(atomic_load(&a->pr.bytes_written), x[0], sizeof(x[0])),
	    fmt_bytes(atomic_load(&a->pr.bytes_skipped), x[1], sizeof(x[1])),
	    (uint64_t)atomic_load(&a->pr.chunks_skipped),
	    fmt_bytes(atomic_load(&a->pr.bytes_fetched), x[2], sizeof(x[2])),
	    (uint64_t)atomic_load(&a->pr.chunks_fetched),
	    fmt_bytes(atomic_load(&a->pr.bytes_zeroed), x[3], sizeof(x[3])),
	    (double)ms / 1000, fmt_bytes(pipeline_queue_peak(*pp), x[4],
	    sizeof(x[4])));
	return AGENT_EXIT_DONE;
}

static enum agent_exit
verify(struct agent *a, struct pipeline *p)
{
	struct verifier *v;
	char err[REASON_MAX + 1];
	uint64_t total = atomic_load(&a->pr.bytes_written);

	if (fsync(a->fd) != 0)
		return agent_fail(a, "fsync of %s: %s", a->disk_path,
		    strerror(errno));
	if (agent_report(a, "verifying", NULL, 1, a->deadline_ms) != REPORT_OK)
		return a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
	if (verify_start(a->fd, a->disk_path, a->job.manifest,
	    pipeline_written(p), pipeline_workers(p), &a->pr, &a->stop, &v,
	    err, sizeof(err)) != 0)
		return agent_fail(a, "%s", err);
	a->next_console = 0;
	while (!verify_wait(v, WAIT_SLICE_MS))
		agent_tick(a, "verifying", total);
	if (verify_join(v, err, sizeof(err)) != 0) {
		if (a->gone)
			agent_event_last(a, "stopped while checking: the image "
			    "was written in full, %" PRIu64 " bytes of it "
			    "checked", (uint64_t)atomic_load(
			    &a->pr.bytes_verified));
		return phase_failed(a, err);
	}
	log_info("verified %" PRIu64 " bytes from the disk",
	    (uint64_t)atomic_load(&a->pr.bytes_verified));
	/* For whoever looks before the reboot (or with --no-reboot). */
	if (a->is_blockdev && disk_reread_partitions(a->fd, err,
	    sizeof(err)) != 0)
		log_warn("%s: cannot re-read the partition table: %s",
		    a->disk_path, err);
	return AGENT_EXIT_DONE;
}

/* A reimage: the image's chunks onto the disk, verified. */
static enum agent_exit
reimage(struct agent *a)
{
	struct pipeline *p = NULL;
	const char *state;
	char err[ERR_OUTER_MAX];
	enum agent_exit rc;

	if (job_want_kind(&a->job, IMAGE_KIND_DISK, err, sizeof(err)) != 0)
		return agent_fail(a, "%s", err);
	say_image(a->job.manifest);
	if ((rc = agent_open_disk(a, a->job.manifest->size)) != AGENT_EXIT_DONE)
		return rc;
	/* An agent restarted during verification carries on in that state;
	 * rackd does not allow going back. */
	state = strcmp(a->job.state, "verifying") == 0 ? "verifying" :
	    "streaming";
	a->t_start = now_ms();
	rate_init(&a->rate, a->t_start, 0);
	if (agent_report(a, state, NULL, 1, a->deadline_ms) != REPORT_OK)
		return a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
	a->next_report = now_ms() + REPORT_INTERVAL_MS;
	if ((rc = stream(a, state, &p)) == AGENT_EXIT_DONE &&
	    (rc = verify(a, p)) == AGENT_EXIT_DONE) {
		a->bps = rate_update(&a->rate, now_ms(),
		    atomic_load(&a->pr.bytes_done));
		if (agent_report(a, "done", NULL, 1, a->deadline_ms) !=
		    REPORT_OK)
			rc = a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
		else
			log_info("done: %s:%s is on %s (%.1f s)",
			    a->job.manifest->name, a->job.manifest->version,
			    a->disk_path,
			    (double)(now_ms() - a->t_start) / 1000);
	}
	pipeline_free(p);
	return rc;
}

/* What rack-agent does for each action of rackd's jobs. */
static const struct {
	const char	*action;
	enum agent_exit	(*run)(struct agent *);
} actions[] = {
	{ "reimage", reimage },
	{ "erase", erase_run },
	{ "capture", capture_run },
	{ "inventory", inventory },
};

static enum agent_exit
run(struct agent *a)
{
	char err[ERR_OUTER_MAX];

	if (hash_lib_init() != 0) {
		log_error("the hash library failed to start");
		return AGENT_EXIT_FAILED;
	}
	if (net_new(a->conf.url, a->conf.token, &a->net, err,
	    sizeof(err)) != 0) {
		log_error("%s", err);
		return AGENT_EXIT_FAILED;
	}
	log_info("rack-agent %s: job %" PRId64 " from %s", RACKD_VERSION,
	    a->conf.job, a->conf.url);
	if (get_job(a) != 0)
		return a->gone ? AGENT_EXIT_CANCELLED : AGENT_EXIT_FAILED;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].action, a->job.action) == 0)
			return actions[i].run(a);
	return agent_fail(a, "rack-agent %s does not run %s jobs",
	    RACKD_VERSION, a->job.action);
}

int
main(int argc, char **argv)
{
	static struct agent a;
	const char *cmdline = "/proc/cmdline";
	struct sigaction sa;
	int rc;

	a.fd = -1;
	a.deadline_ms = RETRY_DEADLINE_MS;
	if ((rc = parse_flags(&a, argc, argv, &cmdline)) != 0)
		return rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	rc = run(&a);

	if (a.fd >= 0)
		close(a.fd);
	job_free(&a.job);
	net_free(a.net);
	if (rc == AGENT_EXIT_CANCELLED)
		log_warn("job cancelled by rackd");
	if (a.no_reboot || got_signal)
		return rc;
	if (rc != AGENT_EXIT_DONE) {
		log_info("rebooting in %d s", FAIL_REBOOT_DELAY_S);
		sleep_ms(FAIL_REBOOT_DELAY_S * 1000);
	} else
		log_info(a.power_off ? "powering off" : "rebooting");
	sync();
	if (reboot(rc == AGENT_EXIT_DONE && a.power_off ? RB_POWER_OFF :
	    RB_AUTOBOOT) != 0)
		log_error("reboot: %s", strerror(errno));
	return rc;
}
