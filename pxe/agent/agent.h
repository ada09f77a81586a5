/*
 * agent.h — rack-agent: what each file offers.
 *
 * rack-agent runs inside the clone initramfs on a server. It reads the
 * job from rackd, picks the target disk, compares it chunk by chunk with
 * the image, fetches and writes only what differs, zeroes the holes,
 * verifies everything it wrote, reports progress and the result to rackd,
 * and reboots.
 *
 *	main.c		flags, the job's flow, reboot
 *	cmdline.c	kernel command line (rackd.url, rackd.job, ...)
 *	disk.c		disk rules, picking and opening the target disk
 *	holes.c		holes of an image, zeroing where the disk is not zero
 *	backoff.c	retry schedule and deadline
 *	job.c		the job JSON from rackd: manifest through the library
 *	queue.c		bounded queue of fetched (compressed) chunks
 *	pipeline.c	scan, hole, fetch and write threads
 *	verify.c	re-read written chunks from the disk and check them
 *	net.c		libcurl: job, chunks (keep-alive, resume), reports
 *	progress.c	counters, rate, console lines
 *	log.c		console messages (stderr)
 */
#ifndef RACK_AGENT_H
#define RACK_AGENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/hash.h"
#include "images/manifest.h"

/* Limits. Every buffer and count has one; crossing it is a clean error. */
#define AGENT_URL_MAX		2048	/* rackd.url, bytes with the NUL */
#define AGENT_TOKEN_MAX		128	/* hex characters of rackd.token */
#define AGENT_RULE_MAX		512	/* rackd.disk, bytes with the NUL */
#define AGENT_PATH_MAX		1024	/* device and sysfs paths */
#define CMDLINE_MAX		(16 * 1024)	/* kernel command line file */
#define REASON_MAX		240	/* failure reason sent to rackd */
#define JOB_JSON_MAX		(MANIFEST_MAX_BYTES + 64 * 1024)
#define REPLY_MAX		(64 * 1024)	/* any other rackd reply */
#define QUEUE_MAX_BYTES		(64u * 1024 * 1024)	/* fetched, not written */
#define QUEUE_MAX_ITEMS		256
#define WORKERS_MAX		4	/* decompress+verify+write threads */
#define WORKER_MEM_MAX		(64u * 1024 * 1024)	/* their buffers, all */
#define ZERO_IO_MAX		(1024u * 1024)	/* hole read/zero piece */
#define VERIFY_IO_ALIGN		4096	/* O_DIRECT alignment */
#define DISKS_MAX		256	/* block devices looked at */
#define SERIAL_MAX		128

/* Times. */
#define REPORT_INTERVAL_MS	1000	/* progress to rackd (must be <= 2 s) */
#define CONSOLE_INTERVAL_MS	2000	/* progress line on the console */
#define RETRY_DEADLINE_MS	(10 * 60 * 1000) /* give up a network op */
#define BACKOFF_BASE_MS		250
#define BACKOFF_MAX_MS		8000
#define CONNECT_TIMEOUT_S	10
#define STALL_TIMEOUT_S		20	/* no byte for this long: retry */
#define REPORT_TIMEOUT_S	5	/* one progress report */
#define NOT_FOUND_RETRIES	3	/* a chunk rackd says it lacks */
#define FAIL_REBOOT_DELAY_S	15	/* time to read the console */

/* log.c */
void	 log_set_quiet(int quiet);
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
int64_t	 now_ms(void);			/* CLOCK_MONOTONIC */
void	 sleep_ms(int64_t ms);
/* "12.3 MiB" style into buf. */
const char *fmt_bytes(uint64_t n, char *buf, size_t len);

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

/* disk.c: which disk to write. */
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
/* Where to look: "/sys", "/proc", "/dev" normally; tests use a fake tree. */
struct disk_env {
	const char *sys, *proc, *dev;
};
extern const struct disk_env disk_env_real;
/* Picks the device for rule r into path (AGENT_PATH_MAX). 0, or -1 with
 * err saying why nothing fits. */
int	 disk_select(const struct disk_env *env, const struct disk_rule *r,
	    char *path, size_t pathlen, char *err, size_t errlen);
/* Opens path read-write (block devices exclusively, so a mounted disk is
 * refused by the kernel) and checks it holds at least need bytes. A
 * regular file is accepted as a disk. 0 and *fd, *size, *is_blockdev; or
 * -1 with err. */
int	 disk_open(const char *path, uint64_t need, int *fd, uint64_t *size,
	    bool *is_blockdev, char *err, size_t errlen);
/* Exactly len bytes at off (pread/pwrite, EINTR and short counts
 * handled). 0, or -1 with err. */
int	 disk_read(int fd, void *buf, size_t len, uint64_t off, char *err,
	    size_t errlen);
int	 disk_write(int fd, const void *buf, size_t len, uint64_t off,
	    char *err, size_t errlen);
/* Asks the kernel to read the new partition table (block devices). */
int	 disk_reread_partitions(int fd, char *err, size_t errlen);
/* One line about what the disk holds now (libblkid), or "" if unknown. */
void	 disk_describe(const char *path, char *buf, size_t len);

/* holes.c: regions of the image not covered by chunks. */
/* The hole before chunk k (k == m->nchunks: after the last chunk, up to
 * size): *off and *len (0 when there is none). */
void	 hole_before(const struct manifest *m, size_t k, uint64_t *off,
	    uint64_t *len);
/* Sum of all holes. */
uint64_t holes_total(const struct manifest *m);
struct zeroer {
	int	 fd;
	bool	 is_blockdev;
	bool	 try_zeroout;		/* BLKZEROOUT, block devices */
	bool	 try_punch;		/* fallocate PUNCH_HOLE, files */
	uint8_t	*buf;			/* ZERO_IO_MAX bytes */
	_Atomic uint64_t *done;		/* += bytes settled (may be NULL) */
	uint64_t checked;		/* bytes read and found zero */
	uint64_t zeroed;		/* bytes that were not zero */
};
int	 zeroer_init(struct zeroer *z, int fd, bool is_blockdev);
void	 zeroer_free(struct zeroer *z);
/* Makes [off, off+len) read back as zeros, writing only the pieces that
 * are not zero already. Stops early (returns 1) when *stop is set. 0, 1,
 * or -1 with err. */
int	 zero_range(struct zeroer *z, uint64_t off, uint64_t len,
	    const atomic_int *stop, char *err, size_t errlen);

/* backoff.c: retries. */
/* Delay before retry number attempt (0-based): BACKOFF_BASE_MS doubled
 * each time, at most BACKOFF_MAX_MS. */
int64_t	 backoff_delay_ms(unsigned attempt);
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

/* job.c: the job as rackd sends it. */
struct job {
	int64_t	 id;
	char	 state[16];
	char	 image[IMAGE_REF_MAX + 1];
	char	 chunks_url[AGENT_URL_MAX];	/* absolute, ends with '/' */
	struct manifest *manifest;
};
/* Parses the body of GET /api/v1/agent/jobs/ID; base is rackd's URL (for
 * a relative chunks_url). The manifest goes through manifest_parse. 0, or
 * -1 with err. Free with job_free. */
int	 job_parse(const char *body, size_t len, const char *base,
	    struct job *j, char *err, size_t errlen);
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

/* pipeline.c: scan the disk, zero the holes, fetch what differs, write
 * it. */
struct progress {
	_Atomic uint64_t bytes_done;	/* image bytes settled */
	_Atomic uint64_t bytes_fetched;	/* compressed bytes received */
	_Atomic uint64_t bytes_written;	/* chunk bytes written */
	_Atomic uint64_t bytes_skipped;	/* chunk bytes already right */
	_Atomic uint64_t bytes_zeroed;	/* hole bytes that needed zeroing */
	_Atomic uint64_t chunks_fetched, chunks_skipped;
	_Atomic uint64_t bytes_verified;
};
/* Fetches chunk index (its manifest entry c, its hash in hex) into
 * buf[0..cap): 0 and *len, or -1 with err. Adds received bytes to
 * *fetched as they come (retried bytes too). Returns early with -1 when
 * *stop is set. */
typedef int (*fetch_fn)(void *ctx, size_t index, const struct manifest_chunk *c,
    const char *hex, uint8_t *buf, size_t cap, size_t *len,
    _Atomic uint64_t *fetched, const atomic_int *stop, char *err,
    size_t errlen);
struct pipeline_conf {
	int		 fd;
	bool		 is_blockdev;
	const struct manifest *m;
	size_t		 queue_max_bytes;	/* 0: QUEUE_MAX_BYTES */
	int		 workers;		/* 0: from the CPUs */
	fetch_fn	 fetch;
	void		*fetch_ctx;
	struct progress	*progress;
	atomic_int	*stop;		/* set by anyone: everything stops */
};
struct pipeline;
int	 pipeline_start(const struct pipeline_conf *pc, struct pipeline **out,
	    char *err, size_t errlen);
/* Waits up to ms for the pipeline to finish: true once it has. */
bool	 pipeline_wait(struct pipeline *p, int64_t ms);
/* Joins the threads. 0, or -1 with the first failure's reason. */
int	 pipeline_join(struct pipeline *p, char *reason, size_t len);
/* Per chunk: 1 if it was written (valid after join). */
const uint8_t *pipeline_written(const struct pipeline *p);
size_t	 pipeline_queue_peak(const struct pipeline *p);
int	 pipeline_workers(const struct pipeline *p);
void	 pipeline_free(struct pipeline *p);

/* verify.c: after fsync, read back every written chunk and hash it. */
struct verifier;
/* Starts threads (1..WORKERS_MAX); written[k] != 0 marks the chunks to
 * check. */
int	 verify_start(int fd, const char *path, const struct manifest *m,
	    const uint8_t *written, int threads, struct progress *pr,
	    atomic_int *stop, struct verifier **out, char *err,
	    size_t errlen);
bool	 verify_wait(struct verifier *v, int64_t ms);
int	 verify_join(struct verifier *v, char *reason, size_t len);
/* Drops the cached pages of [off, off+len) so a read goes to the disk. */
void	 drop_cache(int fd, uint64_t off, uint64_t len);

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
int	 net_report(struct net *n, int64_t job, const char *state,
	    uint64_t done, uint64_t fetched, uint64_t rate, const char *reason,
	    long *status, char *err, size_t errlen);
/* A fetch_fn for GET chunks_url + hash: keep-alive, resumes a cut
 * transfer with Range, retries with backoff until deadline_ms passes
 * without progress. ctx is a struct chunk_fetcher. */
struct chunk_fetcher {
	struct net	*net;
	char		 base[AGENT_URL_MAX];	/* chunks_url */
	int64_t		 deadline_ms;
};
int	 net_fetch_chunk(void *ctx, size_t index, const struct manifest_chunk *c,
	    const char *hex, uint8_t *buf, size_t cap, size_t *len,
	    _Atomic uint64_t *fetched, const atomic_int *stop, char *err,
	    size_t errlen);
/* "error" of a JSON error body, else the start of the text, printable. */
void	 net_error_text(const char *body, size_t len, char *out, size_t outlen);

/* progress.c */
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
