/*
 * main.c — rack-diskless: flags and the boot's flow.
 *
 *   job from rackd (the rootfs image's manifest) -> "streaming": cpio
 *   started in the new root, the image fetched (stream or chunks), every
 *   chunk verified, fed to cpio; progress every REPORT_INTERVAL_MS ->
 *   "verifying": sizes checked, cpio's result, the overlay written ->
 *   "done". The init script then switches into the new root.
 *
 * Any failure is reported as "failed" with its reason and the exit status
 * is 1 (the init script reboots, and the next boot tries again).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pxe/diskless/diskless.h"

#ifndef RACKD_VERSION
#define RACKD_VERSION "unknown"
#endif

struct dl {
	struct agent_conf conf;
	char		 slot[DL_SLOT_MAX + 1];
	char		 root[DL_PATH_MAX];
	int		 stream;		/* 1 stream, 0 chunks */
	struct net	*net;
	struct job	 job;
	struct feed	 feed;
	atomic_int	 stop;
	int		 gone;
	struct rate	 rate;
	uint64_t	 bps;
	int64_t		 t_start, next_report, next_console;
};

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: rack-diskless --url URL --job ID --token HEX --slot SLOT --root DIR\n"
"                     [--fetch stream|chunks]\n"
"\n"
"Boots a server diskless from rackd: fetches the rootfs image of the job,\n"
"verifies every chunk, unpacks it with cpio into DIR (a tmpfs), writes the\n"
"node's overlay (hostname, SSH keys, cloud-init seed) inside DIR, and\n"
"reports progress and the result to rackd. The caller then switches root.\n"
"  -u, --url URL        rackd's URL (http://ADDR:PORT)\n"
"  -j, --job ID         the diskless job's number\n"
"  -t, --token HEX      the job's token\n"
"  -s, --slot SLOT      this node's slot (for the stream and the overlay)\n"
"  -r, --root DIR       the new root, an empty mounted tmpfs\n"
"  -f, --fetch MODE     stream (default): the image as one stream;\n"
"                       chunks: chunk by chunk\n"
"  -V, --version\n"
"Exit status: 0 done, 1 failed, 2 usage, 3 the boot was ended by rackd.\n");
}

static int
report(struct dl *d, const char *state, const char *reason)
{
	char err[ERR_MAX];
	long status = 0;

	if (net_report(d->net, d->conf.job, state, d->feed.written,
	    atomic_load(&d->feed.fetched), d->bps, reason, &status, err,
	    sizeof(err)) != 0) {
		log_warn("report %s: %s", state, err);
		return -1;
	}
	if (status == 401 || status == 409 || status == 404) {
		log_warn("rackd ended this boot's job (HTTP %ld: %s)", status,
		    err);
		d->gone = 1;
		atomic_store(&d->stop, 1);
		return -1;
	}
	if (status != 200)
		log_warn("report %s: HTTP %ld: %s", state, status, err);
	return 0;
}

/* After each chunk: progress to rackd and the console, now and then. */
static void
tick(void *arg)
{
	struct dl *d = arg;
	int64_t now = now_ms();
	char line[CONSOLE_LINE_MAX];

	if (now < d->next_report)
		return;
	d->bps = rate_update(&d->rate, now, d->feed.written);
	d->next_report = now + REPORT_INTERVAL_MS;
	report(d, "streaming", NULL);
	if (now >= d->next_console) {
		struct progress p = { 0 };
		atomic_store(&p.bytes_done, d->feed.written);
		atomic_store(&p.bytes_fetched, atomic_load(&d->feed.fetched));
		progress_line("streaming", &p, d->job.manifest->size, d->bps,
		    line, sizeof(line));
		log_info("%s", line);
		d->next_console = now + CONSOLE_INTERVAL_MS;
	}
}

static int
get_job(struct dl *d, char *err, size_t errlen)
{
	struct retry t;
	int64_t delay;

	retry_start(&t, now_ms(), DL_JOB_DEADLINE_MS);
	for (;;) {
		char *body = NULL;
		size_t len = 0;
		long status = 0;
		int rc = net_get_job(d->net, d->conf.job, &status, &body, &len,
		    err, errlen);
		if (rc == 0 && status == 200) {
			rc = job_parse(body, len, d->conf.url, &d->job, err,
			    errlen);
			free(body);
			if (rc == 0)
				rc = job_want_kind(&d->job, IMAGE_KIND_ROOTFS,
				    err, errlen);
			return rc;
		}
		free(body);
		if (rc == 0 && (status == 401 || status == 404 ||
		    status == 409)) {
			d->gone = 1;
			return -1;
		}
		if (!retry_next(&t, now_ms(), &delay))
			return -1;
		log_warn("job %" PRId64 ": %s; again in %" PRId64 " ms",
		    d->conf.job, rc == 0 ? "rackd answered with an error" : err,
		    delay);
		retry_wait(delay, NULL);
	}
}

/* KiB of memory the kernel says is available (0 if unknown). */
static uint64_t
mem_available_kib(void)
{
	char line[DL_MEMINFO_LINE];
	uint64_t v = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemAvailable: %" SCNu64, &v) == 1)
			break;
	fclose(f);
	return v;
}

static int
run(struct dl *d, char *err, size_t errlen)
{
	struct overlay ov;
	struct rusage self, kids;
	pid_t pid;
	int fd, rc, cloud;
	int64_t t_fetch, t_done;
	char a[BYTES_STR_MAX], b[BYTES_STR_MAX], c[BYTES_STR_MAX];

	if (net_new(d->conf.url, d->conf.token, &d->net, err, errlen) != 0 ||
	    get_job(d, err, errlen) != 0)
		return -1;
	log_info("job %" PRId64 ": %s, %s in %zu chunks, by %s", d->job.id,
	    d->job.image, fmt_bytes(d->job.manifest->size, a, sizeof(a)),
	    d->job.manifest->nchunks, d->stream ? "one stream" : "chunks");
	rate_init(&d->rate, now_ms(), 0);
	if (feed_init(&d->feed, d->job.manifest, -1, err, errlen) != 0)
		return -1;
	d->feed.tick = tick;
	d->feed.arg = d;
	report(d, "streaming", NULL);
	if (d->gone)
		return -1;
	if (unpack_start(d->root, &pid, &fd, err, errlen) != 0)
		return -1;
	d->feed.fd = fd;
	t_fetch = now_ms();
	if (d->stream)
		rc = stream_fetch(d->conf.url, d->slot, &d->feed, &d->stop,
		    &d->gone, err, errlen);
	else
		rc = chunks_fetch(d->net, d->job.chunks_url, &d->feed, &d->stop,
		    err, errlen);
	if (rc == 0)
		rc = feed_finish(&d->feed, err, errlen);
	if (rc != 0) {
		char ignored[64];
		unpack_finish(pid, fd, ignored, sizeof(ignored));
		return -1;
	}
	if (unpack_finish(pid, fd, err, errlen) != 0)
		return -1;
	t_done = now_ms();
	d->bps = t_done > t_fetch ? (uint64_t)((double)d->feed.written *
	    1000.0 / (double)(t_done - t_fetch)) : 0;
	report(d, "verifying", NULL);
	if (d->gone)
		return -1;
	cloud = root_has_cloud_init(d->root);
	if (overlay_fetch(d->conf.url, d->slot, cloud, &ov, err, errlen) != 0)
		return -1;
	rc = overlay_apply(d->root, &ov, err, errlen);
	if (rc == 0)
		rc = overlay_set_hostname(&ov, err, errlen);
	log_info("overlay: hostname %s, %zu files%s", ov.hostname, ov.nfiles,
	    cloud ? " (cloud-init seed)" : "");
	overlay_free(&ov);
	if (rc != 0)
		return -1;
	if (report(d, "done", NULL) != 0 && d->gone)
		return -1;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	log_info("done: %s (%s fetched) unpacked in %.1f s, %s/s; peak memory "
	    "%ld KiB (cpio %ld KiB); MemAvailable %" PRIu64 " KiB",
	    fmt_bytes(d->feed.written, a, sizeof(a)),
	    fmt_bytes(atomic_load(&d->feed.fetched), b, sizeof(b)),
	    (double)(t_done - t_fetch) / 1000.0,
	    fmt_bytes(d->bps, c, sizeof(c)),
	    self.ru_maxrss, kids.ru_maxrss, mem_available_kib());
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "job", required_argument, NULL, 'j' },
		{ "token", required_argument, NULL, 't' },
		{ "slot", required_argument, NULL, 's' },
		{ "root", required_argument, NULL, 'r' },
		{ "fetch", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct dl d;
	char err[ERR_OUTER_MAX] = "", why[ERR_MAX];
	int o;

	d.stream = 1;
	while ((o = getopt_long(argc, argv, "u:j:t:s:r:f:hV", opts,
	    NULL)) != -1) {
		const char *key = o == 'u' ? "url" : o == 'j' ? "job" :
		    o == 't' ? "token" : NULL;
		if (key != NULL) {
			if (conf_set(&d.conf, key, optarg, why,
			    sizeof(why)) != 0) {
				fprintf(stderr, "rack-diskless: --%s: %s\n",
				    key, why);
				return DL_EXIT_USAGE;
			}
			continue;
		}
		switch (o) {
		case 's':
			if (strlen(optarg) == 0 ||
			    strlen(optarg) > DL_SLOT_MAX ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
			    strlen(optarg)) {
				fprintf(stderr, "rack-diskless: --slot: not a "
				    "slot name\n");
				return DL_EXIT_USAGE;
			}
			snprintf(d.slot, sizeof(d.slot), "%s", optarg);
			break;
		case 'r':
			if (strlen(optarg) >= sizeof(d.root)) {
				fprintf(stderr,
				    "rack-diskless: --root: too long\n");
				return DL_EXIT_USAGE;
			}
			snprintf(d.root, sizeof(d.root), "%s", optarg);
			break;
		case 'f':
			if (strcmp(optarg, "stream") == 0)
				d.stream = 1;
			else if (strcmp(optarg, "chunks") == 0)
				d.stream = 0;
			else {
				fprintf(stderr, "rack-diskless: --fetch: "
				    "stream or chunks\n");
				return DL_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return DL_EXIT_DONE;
		case 'V':
			printf("rack-diskless %s\n", RACKD_VERSION);
			return DL_EXIT_DONE;
		default:
			usage(stderr);
			return DL_EXIT_USAGE;
		}
	}
	if (optind < argc || conf_complete(&d.conf, why, sizeof(why)) != 0 ||
	    d.slot[0] == '\0' || d.root[0] == '\0') {
		fprintf(stderr, "rack-diskless: %s\n", optind < argc ?
		    "unexpected argument" :
		    d.slot[0] == '\0' ? "--slot is required" :
		    d.root[0] == '\0' ? "--root is required" : why);
		usage(stderr);
		return DL_EXIT_USAGE;
	}
	d.t_start = now_ms();
	if (run(&d, err, sizeof(err)) == 0)
		return DL_EXIT_DONE;
	if (d.gone) {
		log_error("rackd ended this boot: %s",
		    err[0] ? err : "job over");
		return DL_EXIT_GONE;
	}
	log_error("%s", err[0] ? err : "failed");
	if (d.net != NULL)
		report(&d, "failed", err[0] ? err : "failed");
	return DL_EXIT_FAILED;
}
