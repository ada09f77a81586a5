/*
 * pxe.h — libpxe, the node side's rackd client: what each file offers.
 *
 * rack-agent (pxe/agent/) and rack-diskless (pxe/diskless/) run in the
 * clone initramfs on a server and talk to rackd the same way: the rackd.*
 * settings of the kernel command line, the job (GET
 * /api/v1/agent/jobs/ID, its manifest checked by the images library),
 * chunk fetches with keep-alive, resume and backoff, progress reports,
 * a bounded queue between a fetch thread and the rest, the rate and the
 * console's lines. This library is that shared part; each program keeps
 * only what it does with the image (write a disk, or unpack a root).
 *
 *	log.c		console messages (stderr), clocks, sleep
 *	cmdline.c	kernel command line (rackd.url, rackd.job, ...)
 *	disk_rule.c	the syntax of rackd.disk (the agent picks the disk)
 *	backoff.c	retry schedule, deadline and the wait between tries
 *	job.c		the job JSON from rackd: manifest through the library
 *	queue.c		bounded queue of fetched (compressed) chunks
 *	net.c		libcurl: job, chunks (keep-alive, resume), reports
 *	progress.c	counters, rate, console lines
 */
#ifndef RACK_PXE_H
#define RACK_PXE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "images/backoff.h"
#include "images/bytes.h"
#include "images/hash.h"
#include "images/manifest.h"

/* Limits. Every buffer and count has one; crossing it is a clean error. */
#define AGENT_URL_MAX		2048	/* rackd.url, bytes with the NUL */
#define AGENT_TOKEN_MAX		128	/* hex characters of rackd.token */
#define AGENT_RULE_MAX		512	/* rackd.disk, bytes with the NUL */
#define CMDLINE_MAX		(16 * 1024)	/* kernel command line file */
#define SERIAL_MAX		128	/* a disk's serial number */
#define REASON_MAX		240	/* failure reason sent to rackd */
#define JOB_STATE_MAX		16	/* a job's state name, with the NUL */
#define JOB_ACTION_MAX		16	/* a job's action name, with the NUL */
#define JOB_JSON_MAX		(MANIFEST_MAX_BYTES + 64 * 1024)
#define REPLY_MAX		(64 * 1024)	/* any other rackd reply */
#define ERRBODY_MAX		512	/* error text kept from a failed GET */
#define CHUNK_RX_BUFFER		(512 * 1024)	/* libcurl's buffer, chunks */
#define HEADER_LINE_MAX		256	/* a reply header we read */
#define ERR_MAX			256	/* an error message of one step */
#define ERR_OUTER_MAX		512	/* one that quotes an ERR_MAX one */
#define CONSOLE_LINE_MAX	160	/* a progress line on the console */
#define EVENT_MAX		160	/* a job event's note, with the NUL */

/* Times. */
#define REPORT_INTERVAL_MS	1000	/* progress to rackd (must be <= 2 s) */
#define CONSOLE_INTERVAL_MS	2000	/* progress line on the console */
#define RETRY_DEADLINE_MS	(10 * 60 * 1000) /* give up a network op */
#define BACKOFF_SLICE_MS	100	/* a wait looks at its stop flag */
#define CONNECT_TIMEOUT_S	10
#define STALL_TIMEOUT_S		20	/* no byte for this long: retry */
#define REPORT_TIMEOUT_S	5	/* one progress report */
#define JOB_TIMEOUT_S		300	/* one GET of the job (big manifests) */
#define NOT_FOUND_RETRIES	3	/* a chunk rackd says it lacks */
#define RATE_MIN_INTERVAL_MS	200	/* shorter gaps keep the last rate */
#define RATE_WEIGHT		0.5	/* of the newest interval, smoothing */

/* log.c */
void	 log_set_quiet(int quiet);
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
int64_t	 now_ms(void);			/* CLOCK_MONOTONIC */
void	 sleep_ms(int64_t ms);
/* The CLOCK_REALTIME time ms from now, for pthread_cond_timedwait. */
void	 deadline_in_ms(struct timespec *ts, int64_t ms);
/* Waits up to ms for *count (guarded by lock; cond is signalled when it
 * falls) to reach 0. True when it did. */
bool	 wait_zero(pthread_mutex_t *lock, pthread_cond_t *cond,
	    const int *count, int64_t ms);

/* cmdline.c: the kernel command line. Flags override what it says. */
struct agent_conf {
	char	 url[AGENT_URL_MAX];	/* without a trailing slash */
	int64_t	 job;			/* 0: not given */
	char	 token[AGENT_TOKEN_MAX + 1];
	char	 disk[AGENT_RULE_MAX];	/* "" means "largest" */
};
/* Parses text[0..len) (need not be NUL-terminated) like the kernel does:
 * words split on white space, double quotes group ("key=a b" and
 * key="a b"), the first '=' splits key and value. rackd.* keys fill c;
 * other keys are ignored, unknown rackd.* keys warned about. 0, or -1 with
 * err for a rackd.* key without a value, an unterminated quote in one, or
 * a value that is not valid. */
int	 cmdline_parse(const char *text, size_t len, struct agent_conf *c,
	    char *err, size_t errlen);
/* Sets one key from a flag or the command line ("url", "job", "token",
 * "disk"). 0, or -1 with err. */
int	 conf_set(struct agent_conf *c, const char *key, const char *value,
	    char *err, size_t errlen);
/* Everything needed is there: 0, or -1 with err naming what is missing. */
int	 conf_complete(const struct agent_conf *c, char *err, size_t errlen);
/* Reads a command line file (at most CMDLINE_MAX bytes) and parses it. */
int	 cmdline_load(const char *path, struct agent_conf *c, char *err,
	    size_t errlen);

/* disk_rule.c: rackd.disk, which disk rack-agent writes. */
#define DISK_BYPATH_DIR		"/disk/by-path/"	/* under /dev */
enum disk_rule_kind {
	DISK_LARGEST = 1,	/* largest non-removable, unused disk */
	DISK_SERIAL,		/* serial:XYZ */
	DISK_PATH,		/* path:/dev/disk/by-path/NAME */
	DISK_DEV,		/* dev:/dev/vdb or dev:/a/regular/file */
};
struct disk_rule {
	enum disk_rule_kind kind;
	char	 arg[AGENT_RULE_MAX];
};
int	 disk_rule_parse(const char *s, struct disk_rule *r, char *err,
	    size_t errlen);

/* backoff.c: retries (the schedule, backoff_delay_ms: images/backoff.h). */
/* The same with jitter: r in [0, 1) takes off up to a quarter. */
int64_t	 backoff_jitter_ms(unsigned attempt, double r);
struct retry {
	int64_t	 start_ms, deadline_ms;	/* deadline relative to start */
	unsigned attempt;
};
void	 retry_start(struct retry *t, int64_t now, int64_t deadline_ms);
/* After a failure at time now: the delay to wait before trying again in
 * *delay, true; or false once waiting would pass the deadline. */
bool	 retry_next(struct retry *t, int64_t now, int64_t *delay);
/* After progress (bytes moved): the deadline and schedule start again. */
void	 retry_progress(struct retry *t, int64_t now);
/* Waits delay (from retry_next) less a random part of up to a quarter, so
 * that many nodes retrying at once spread out; returns early once *stop
 * is set (stop may be NULL). */
void	 retry_wait(int64_t delay, const atomic_int *stop);

/* job.c: the job as rackd sends it. */
struct job {
	int64_t	 id;
	char	 action[JOB_ACTION_MAX];	/* "reimage" if none named */
	char	 state[JOB_STATE_MAX];
	char	 image[IMAGE_REF_MAX + 1];
	char	 chunks_url[AGENT_URL_MAX];	/* absolute, ends with '/' */
	struct manifest *manifest;	/* of reimage and diskless jobs */
	json_t	*params;		/* the action's; NULL none */
};
/* Parses the body of GET /api/v1/agent/jobs/ID; base is rackd's URL (for
 * a relative chunks_url). A reimage or diskless job must have its manifest
 * and chunks_url; the manifest goes through manifest_parse. Another
 * action's job has its "params" object, if any, in params. 0, or -1 with
 * err. Free with job_free. */
int	 job_parse(const char *body, size_t len, const char *base,
	    struct job *j, char *err, size_t errlen);
/* The job's image is of kind (rack-agent writes disk images, rack-diskless
 * boots rootfs images): 0, or -1 with err. */
int	 job_want_kind(const struct job *j, enum image_kind kind, char *err,
	    size_t errlen);
void	 job_free(struct job *j);

/* queue.c: fetched chunks waiting for a worker. Bounded by bytes (the
 * buffers' capacity) and by items; one item over the byte limit is
 * admitted when the queue is empty, so any chunk size makes progress. */
struct qitem {
	size_t	 index;		/* chunk in the manifest */
	uint8_t	*data;
	size_t	 len, cap;
};
struct queue;
struct queue *queue_new(size_t max_bytes, size_t max_items);
void	 queue_free(struct queue *q);	/* frees queued items too */
/* Waits for room for cap bytes; 0, or -1 if the queue was closed. */
int	 queue_reserve(struct queue *q, size_t cap);
void	 queue_unreserve(struct queue *q, size_t cap);
/* Adds an item whose room was reserved (takes it). */
void	 queue_push(struct queue *q, struct qitem *it);
/* Next item (caller frees data and item, then queue_release(cap)); NULL
 * when the queue is closed for input and empty, or aborted. */
struct qitem *queue_pop(struct queue *q);
void	 queue_release(struct queue *q, size_t cap);
void	 queue_close(struct queue *q);	/* no more input */
void	 queue_abort(struct queue *q);	/* wake everyone, stop */
size_t	 queue_peak_bytes(const struct queue *q);

/* net.c: rackd over HTTP (libcurl). */
struct net;
int	 net_new(const char *url, const char *token, struct net **out,
	    char *err, size_t errlen);
void	 net_free(struct net *n);
/* One GET of the job. 0 and status (body malloc'd when 200, at most
 * JOB_JSON_MAX; also the error text of a 4xx in err); -1 on a transport
 * error with err. */
int	 net_get_job(struct net *n, int64_t job, long *status, char **body,
	    size_t *len, char *err, size_t errlen);
/* One report POST (its own handle, REPORT_TIMEOUT_S). 0 and *status, or
 * -1 on a transport error. On a 4xx, err gets rackd's message. */
/* UEFI's SecureBoot variable, in efivarfs. */
#define NET_SECURE_BOOT_VAR	"/sys/firmware/efi/efivars/" \
	    "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
/* 1 Secure Boot on, 0 off, -1 not known; reports carry it. */
int	 net_secure_boot(const char *path);
int	 net_report(struct net *n, int64_t job, const char *state,
	    uint64_t done, uint64_t fetched, uint64_t rate, const char *reason,
	    long *status, char *err, size_t errlen);
/* A note for the job's event log (POST .../event {"message"}): what an
 * action does, for the operator. The message is cut to EVENT_MAX - 1
 * characters, each printable ASCII (others become spaces). 0 and
 * *status, or -1 on a transport error. */
int	 net_event(struct net *n, int64_t job, const char *message,
	    long *status, char *err, size_t errlen);
/* The job's size in bytes, sent as bytes_total with every report from
 * now on, for a job rackd made without one (an erase: the disk's size). */
void	 net_set_total(struct net *n, uint64_t total);
/* One POST of body (JSON text) to /api/v1/agent/jobs/JOB/WHAT (what:
 * "inventory"). 0 and *status, or -1 on a transport error; on a 4xx,
 * err gets rackd's message. */
int	 net_post(struct net *n, int64_t job, const char *what,
	    const char *body, long timeout_s, long *status, char *err,
	    size_t errlen);
/* GET chunks_url + hash into buf[0..cap): keep-alive, resumes a cut
 * transfer with Range, retries with backoff until deadline_ms passes
 * without progress. 0 and *len, or -1 with err (also when *stop is set).
 * Received bytes are added to *fetched as they come. ctx is a struct
 * chunk_fetcher; the signature is rack-agent's fetch_fn. */
struct chunk_fetcher {
	struct net	*net;
	char		 base[AGENT_URL_MAX];	/* chunks_url */
	int64_t		 deadline_ms;
};
int	 net_fetch_chunk(void *ctx, size_t index,
	    const struct manifest_chunk *c, const char *hex, uint8_t *buf,
	    size_t cap, size_t *len, _Atomic uint64_t *fetched,
	    const atomic_int *stop, char *err, size_t errlen);
/* "error" of a JSON error body, else the start of the text, printable. */
void	 net_error_text(const char *body, size_t len, char *out, size_t outlen);
/* The options every libcurl handle of a node takes (curl is a CURL *):
 * no signals, errbuf (CURL_ERROR_SIZE) for libcurl's text, connect and
 * stall timeouts, TCP keep-alive, the program's name as user agent, HTTP
 * and HTTPS only, no redirects. */
void	 net_curl_opts(void *curl, char *errbuf);
/* Ends a transfer of curl soon after *stop is set. */
void	 net_curl_stop(void *curl, const atomic_int *stop);

/* progress.c: what a node has done so far, its rate, its console line. */
struct progress {
	_Atomic uint64_t bytes_done;	/* image bytes settled */
	_Atomic uint64_t bytes_fetched;	/* compressed bytes received */
	_Atomic uint64_t bytes_written;	/* chunk bytes written */
	_Atomic uint64_t bytes_skipped;	/* chunk bytes already right */
	_Atomic uint64_t bytes_zeroed;	/* hole bytes that needed zeroing */
	_Atomic uint64_t chunks_fetched, chunks_skipped;
	_Atomic uint64_t bytes_verified;
};
struct rate {
	int64_t	 last_ms;
	uint64_t last_bytes;
	double	 bps;		/* smoothed */
};
void	 rate_init(struct rate *r, int64_t now, uint64_t bytes);
/* Feeds the counter's value at now; returns the smoothed bytes/s. */
uint64_t rate_update(struct rate *r, int64_t now, uint64_t bytes);
/* "streaming  45%  10.8/24.0 MiB  fetched 3.2 MiB  31.0 MiB/s" */
void	 progress_line(const char *state, const struct progress *p,
	    uint64_t total, uint64_t bps, char *buf, size_t len);

#endif
