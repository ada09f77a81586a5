/* images/rackctl/rackctl.h — rackctl, the operator's command line on the
 * central host: what each file offers. It is built on the image library
 * (the headers in images/) and is the only part of images/ that talks to
 * racks, so libcurl enters here and not in the library.
 *
 * main.c       main, the command table, --help and --version
 * util.c       helpers every command shares (errors, tables, sizes)
 * image.c      "rackctl image ...": import, list, show, verify
 * sign.c       "rackctl keygen", "rackctl image sign"
 * http.c       talking to racks (libcurl): URLs, tokens, retries
 * rack.c       "rackctl nodes|images|jobs|reimage RACK": a rack's API
 * progress.c   bars, plain lines, the closing table and JSON of a command
 *              that takes a while (push, reimage --wait, image import)
 * push.c       "rackctl push": options, the image
 * push_run.c   push: the racks, the per-rack threads and the state they
 *              share, the result (pull-to's too)
 * push_proto.c push: one rack's rounds of manifest, chunks and commit
 * push_xfer.c  push: the transfer engine, a rack's chunk uploads
 * push_show.c  push: what the operator sees, through progress.c
 * patch.c      push: chunks sent as patches against a version the rack
 *              holds
 * console.c    "rackctl console RACK SLOT": a node's serial console
 * publish.c    "rackctl publish": an image to an origin racks pull from
 *              (a directory or S3)
 * s3_list.c    publish: an S3 listing (ListObjectsV2) read
 * pull_to.c    "rackctl pull-to": racks asked to pull, followed as a push
 *              is; "rackctl fleet status"
 * pull.c       "rackctl pull": an image of a rack (a capture) into a
 *              central store, only the chunks it lacks
 *
 * Exit codes: 0 ok, 1 failure, 2 usage. Errors go to stderr as
 * "rackctl: what is wrong".
 */
#ifndef RACKD_IMAGES_RACKCTL_RACKCTL_H
#define RACKD_IMAGES_RACKCTL_RACKCTL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "images/backoff.h"
#include "images/bytes.h"
#include "images/err.h"
#include "images/hash.h"

enum {
	/* not an exit status: --help was printed, exit 0 */
	RACKCTL_HELP = -1,
	RACKCTL_OK = 0,
	RACKCTL_FAIL = 1,
	RACKCTL_USAGE = 2,
};

/* ---- limits ------------------------------------------------------------ */

/* Messages. */
/* One error: a library's (IMG_ERR_MAX) and what it was about. */
#define RACKCTL_ERR_MAX		(2 * IMG_ERR_MAX)
#define HUMAN_MAX		BYTES_STR_MAX	/* fmt_bytes' "1023.9 PiB" */
#define RACKCTL_REASON_MAX	256	/* a job's reason, as --wait shows it */
#define REPLY_ERR_MAX		256	/* why a request had no reply */

/* http.c: racks and requests. */
#define RACK_URL_MAX		1024	/* a rack's URL and its NUL */
#define RACK_TOKEN_MAX		256	/* an API token and its NUL */
#define RACKS_MAX		1024	/* racks of one push */
#define URL_PATH_MAX		512	/* the API path after the URL */
#define RACKCTL_REPLY_MAX	(64u << 20)	/* largest reply body read */
#define RACKCTL_CONNECT_TIMEOUT	10	/* seconds */
#define RACKCTL_STALL_TIMEOUT	60	/* seconds without a byte */
#define RACKCTL_RETRIES_DEFAULT	5	/* retries of a request */
/* A line of a racks file: "URL TOKEN" and a comment's start. */
#define RACKS_LINE_MAX		(RACK_URL_MAX + RACK_TOKEN_MAX + 16)

/* image.c: import. */
#define IMPORT_DRAW_INTERVAL	0.2	/* seconds between redraws of the bar */
#define IMPORT_BAR		24	/* characters of the bar */
#define WARNINGS_SHOWN		50	/* rootfs warnings printed, then a
					 * count */

/* patch.c */
#define PATCH_WORTH_PCT		50	/* a patch is sent only when it is at
					 * most this share of the chunk */
#define PATCH_LEVEL		3	/* fast; what a patch saves is the
					 * prefix */
#define PATCH_BASES_MAX		3	/* versions the rack holds tried, newest
					 * first */
/* Disks are edited in place: a chunk worth patching has many blocks equal
 * to its base's at the same place. Fewer than PATCH_SAME_PCT percent of
 * its PATCH_BLOCK blocks: not tried. */
#define PATCH_BLOCK		4096
#define PATCH_SAME_PCT		25

/* push*.c */
#define PUSH_JOBS_DEFAULT	4	/* racks pushed at once */
#define PUSH_JOBS_MAX		64	/* --jobs */
#define PUSH_STREAMS_DEFAULT	4	/* uploads at once per rack */
#define PUSH_STREAMS_MAX	32	/* --streams */
#define PUSH_RETRIES_MAX	100	/* --retries */
#define PUSH_ROUNDS_MAX		3	/* manifest, chunks, commit: again while
					 * chunks go missing */
#define PUSH_PATCH_REFUSED_MAX	3	/* patches sent back whole: then no
					 * more patches to that rack */
#define PUSH_POLL_MS		100	/* longest wait for the uploads'
					 * sockets */
#define PUSH_DRAW_INTERVAL_MS	200	/* between redraws of the bars */
#define PUSH_BAR		20	/* characters of a rack's bar */
#define PUSH_LABEL		32	/* characters of a rack's URL by its
					 * bar */
#define PUSH_ERROR_SHOWN	60	/* characters of an error by a bar */
#define PUSH_PLAIN_STEP		25	/* percent between plain progress
					 * lines */

/* publish.c */
#define PATH_MAX_PUBLISH	4096	/* a file of a directory origin */
#define S3_SECRET_MAX		256	/* an S3 key id or secret and its NUL */
#define S3_KEY_MAX		1024	/* an object key (S3's limit) */
#define S3_TOKEN_MAX		1024	/* a continuation token and its NUL */
#define S3_LIST_PAGE_MAX	1000	/* keys in one listing page (S3's) */
#define S3_LIST_PAGES_MAX	1000	/* pages publish reads of one name */

/* pull_to.c */
#define PULL_POLL_MS		300	/* between looks at a rack's pull */
#define PULL_WAIT_MAX		(24 * 3600)	/* seconds, one rack's pull */

/* rack.c */
#define JOBS_LIMIT_DEFAULT	20	/* rackctl jobs --limit */
#define JOBS_LIMIT_MAX		500	/* rackctl jobs --limit */
#define WAIT_TIMEOUT_MAX	(7 * 86400)	/* reimage --timeout, seconds */
#define WAIT_BAR		24	/* characters of the --wait bar */
#define WAIT_POLL_MS		200	/* longest wait for the event stream */
#define WAIT_EARLY_MAX		256	/* job events kept before the job is
					 * known */
#define SSE_LINE_MAX		(128 * 1024)	/* longest event line kept */
#define SSE_IDLE_MAX		45	/* seconds without a byte (rackd sends
					 * a comment every 15) */
#define SSE_RECONNECTS		20	/* reconnections of one --wait */

/* One entry of a command table: "rackctl NAME ..." or "rackctl image NAME". */
struct rackctl_cmd {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command's name */
	const char *summary;               /* one line for --help */
};

/* util.c */
void rackctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the error and "Try 'rackctl HELP --help'." then returns
 * RACKCTL_USAGE. */
int rackctl_usage(const char *help_for, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The usage error of getopt_long's answer o for option arg of command
 * cmd: "needs a value" for ':', else "unknown option". RACKCTL_USAGE. */
int rackctl_bad_option(const char *help_for, const char *cmd, int o,
    const char *arg);
/* Runs the entry of table named argv[0]; unknown names are usage errors. */
int rackctl_dispatch(const char *where, const struct rackctl_cmd *table,
    size_t n, int argc, char **argv);
/* Prints the table as "  name   summary" lines. */
void rackctl_print_commands(FILE *f, const struct rackctl_cmd *table, size_t n);
/* "1048576", "1024K", "1M", "1MiB" (binary units). true on success. */
bool rackctl_parse_size(const char *s, uint64_t *out);
/* A decimal integer in [min, max]. true on success. */
bool rackctl_parse_long(const char *s, long min, long max, long *out);

/* image.c */
int rackctl_cmd_image(int argc, char **argv);

/* power.c: "rackctl power RACK SLOT on|off|cycle|status". */
int rackctl_cmd_power(int argc, char **argv);

/* erase.c: "rackctl erase RACK SLOT [--method M] [--yes]". */
int rackctl_cmd_erase(int argc, char **argv);

/* sign.c */
int rackctl_cmd_keygen(int argc, char **argv);
int rackctl_cmd_image_sign(int argc, char **argv);	/* "image sign" */

/* http.c: racks and requests. */
struct rack {
	char url[RACK_URL_MAX];     /* no trailing slash */
	char token[RACK_TOKEN_MAX];
};
struct http_reply {
	long status;                /* 0: no reply */
	char *body;                 /* NUL terminated, or NULL */
	size_t len, cap;
	char err[REPLY_ERR_MAX];    /* why there was no reply */
};
int rackctl_http_init(void);
/* A rack from a URL and its token. 0, or -1 with err. */
int rackctl_rack_set(struct rack *rk, const char *url, const char *token,
    char *err, size_t errlen);
/* The rack of a command's RACK argument: token from token_file (may be
 * NULL) or RACKD_TOKEN. RACKCTL_OK, or an exit status (error printed). */
int rackctl_rack_arg(const char *url, const char *token_file, struct rack *rk);
/* The first line of a token file. */
int rackctl_token_file(const char *path, char *token, size_t len, char *err,
    size_t errlen);
/* A racks file: one "URL TOKEN" per line, # comments, blank lines. */
int rackctl_racks_file(const char *path, struct rack **racks, size_t *n,
    char *err, size_t errlen);
/* One request with the rack's token; network errors and 502/503/504 are
 * retried with backoff, at most retries times. 0 when a reply came (any
 * status: out->status), -1 when none did (out->err). Free with
 * rackctl_reply_free. */
int rackctl_request(const struct rack *rk, const char *method,
    const char *path, const char *ctype, const void *body, size_t len,
    int retries, struct http_reply *out);
void rackctl_reply_free(struct http_reply *r);
json_t *rackctl_reply_json(const struct http_reply *r);
/* The reply's {"error"} (or status, or network error) as one line. */
const char *rackctl_reply_error(const struct http_reply *r, char *buf,
    size_t len);
/* Delay before retry number attempt (0, 1, ...): exponential with jitter. */
long rackctl_backoff_ms(int attempt);
void rackctl_sleep_ms(long ms);
double rackctl_now(void);                    /* monotonic seconds */
/* libcurl glue shared by the commands (void * is a CURL *). */
size_t rackctl_collect_cb(char *data, size_t size, size_t nmemb, void *reply);
struct curl_slist;
struct curl_slist *rackctl_auth_headers(const struct rack *rk,
    const char *ctype);
void rackctl_curl_common(void *easy);


/* ---- progress.c ------------------------------------------------------- */

/* How a command shows its progress. */
enum progress_mode {
	PROGRESS_QUIET,		/* nothing while it runs */
	/* bars redrawn in place on stderr, a terminal */
	PROGRESS_BAR,
	PROGRESS_LINES,		/* a plain line per step on stderr, for logs */
	PROGRESS_JSON,		/* nothing while it runs, JSON at the end */
};
#define PROGRESS_BAR_MAX	64	/* widest bar, in characters */

struct progress {
	enum progress_mode mode;
	int width;		/* characters of a bar */
	int label_width;	/* a label padded and cut to this; 0 as is */
	double interval;	/* seconds between redraws (progress_due) */
	double last;		/* the last redraw, -1 none yet */
	size_t rows;		/* rows of bars drawn, redrawn in place */
	bool open;		/* a bar is on the current line */
};

/* JSON with json, QUIET with quiet, else BAR on a terminal, LINES not. */
enum progress_mode progress_mode_for(bool quiet, bool json);
void progress_init(struct progress *pg, enum progress_mode mode, int width,
    int label_width, double interval);
/* Whether interval has passed since the last redraw (always with force);
 * when true, now is the last redraw. */
bool progress_due(struct progress *pg, bool force);
/* done of total, 0 to 100 (total 0: 100 once anything is done). */
int progress_pct(uint64_t done, uint64_t total);
/* "  1.0 MiB of 4.0 MiB    512.0 KiB/s" into buf. */
const char *progress_sizes(uint64_t done, uint64_t total, double rate,
    char *buf, size_t len);
/* BAR mode only: "LABEL [####....] NN%  TEXT" on the current line, over
 * what was there (pct < 0: no bar; label may be NULL). progress_end ends
 * it: kept with a newline, or erased. */
void progress_bar(struct progress *pg, const char *label, int pct,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void progress_end(struct progress *pg, bool keep);
/* BAR mode only: rows of bars redrawn together: begin goes back over
 * the rows drawn last time, each row draws one, end flushes. */
void progress_rows_begin(struct progress *pg);
void progress_row(struct progress *pg, const char *label, int pct,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void progress_rows_end(struct progress *pg);
/* LINES mode only: one plain line. */
void progress_line(struct progress *pg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Any mode: a line on stderr (a warning) above a bar being drawn. */
void progress_note(struct progress *pg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The closing table: a column's header, width (> 0 right aligned, < 0
 * left aligned and cut, 0 as is) and the spaces before it. */
struct progress_col {
	const char *head;
	int width;
	int gap;
};
/* One row of cells (NULL: the header row) and a newline. */
void progress_table_row(FILE *f, const struct progress_col *cols, size_t n,
    const char *const *cells);
/* o as indented JSON and a newline. 0, or -1 if o is NULL or no memory. */
int progress_json(FILE *f, const json_t *o, size_t indent);

/* patch.c: chunks sent as patches against the chunk at the same
 * offset of a version the rack already holds. */
struct store;
struct manifest;
struct patch_base;
/* The newest versions of m's image the rack holds that the store has too
 * (NULL: none, nothing to patch against). level: the store's zstd level
 * (0: found from the first compressible chunk patched). */
struct patch_base *patch_base_find(struct store *st, const struct rack *rack,
    const struct manifest *m, int level, int retries);
void patch_base_free(struct patch_base *b);
int patch_base_level(const struct patch_base *b);
/* What patch_make made. */
enum patch_result {
	PATCH_FAILED = -1,	/* the store could not be read */
	PATCH_WHOLE = 0,	/* no base, or not worth it: send it whole */
	PATCH_MADE = 1,		/* *body, *len and base_hex are the patch */
};
/* A patch of chunk hex (stored bytes) if one is at most PATCH_WORTH_PCT
 * percent of its size: *body is malloc'd. */
enum patch_result patch_make(struct patch_base *b, struct store *st,
    const char *hex, uint64_t stored, void **body, size_t *len,
    char base_hex[HASH_HEX_LEN + 1]);

/* ---- push*.c: "rackctl push" ------------------------------------------ */

int rackctl_cmd_push(int argc, char **argv);

/* Where a rack's push is. push_state_name() names each for the bars. */
enum push_state {
	PUSH_WAIT,		/* its turn has not come */
	PUSH_MANIFEST,		/* posting the manifest */
	PUSH_UPLOAD,		/* uploading the chunks it lacks */
	PUSH_COMMIT,		/* asking it to commit */
	PUSH_DONE,		/* it has the image */
	PUSH_FAILED,		/* it failed: error says why */
};

/* What a step of a rack's push leads to. */
enum push_step {
	PUSH_STEP_FAILED,	/* the rack failed (its error says why) */
	PUSH_STEP_NEXT,		/* on to the next step */
	/* post the manifest again: chunks went missing */
	PUSH_STEP_AGAIN,
	PUSH_STEP_COMMITTED,	/* the rack has the image */
};

/* One rack of a push. Counters change under the push's lock. */
struct push_target {
	struct rack rack;
	enum push_state state;
	bool already;		/* the rack had the image */
	bool counted;		/* missing is the first answer's */
	uint64_t chunks;	/* distinct chunks of the image */
	uint64_t missing;	/* the rack lacked (first answer) */
	uint64_t chunks_sent;	/* uploads the rack took */
	uint64_t chunks_patched; /* of those, sent as patches */
	struct patch_base *base; /* what to patch against (NULL: none) */
	bool base_looked;	/* the rack was asked for it */
	unsigned patch_refused;	/* patches the rack asked to have whole */
	uint64_t bytes_total;	/* compressed bytes the rack lacked */
	uint64_t bytes_done;	/* of those, uploaded and taken */
	uint64_t bytes_flight;	/* of uploads under way */
	uint64_t bytes_sent;	/* chunk bodies sent, every attempt counted */
	uint64_t manifest_bytes; /* manifest bodies sent */
	unsigned retries;	/* requests retried */
	double start, end;
	enum push_state shown;	/* the state last shown as a plain line */
	int plain_pct;		/* last percent shown as a plain line */
	char error[RACKCTL_ERR_MAX];
};

/* One chunk to upload. */
struct push_item {
	char hash[HASH_HEX_LEN + 1];
	uint64_t size;
	int attempts;
	double not_before;
	bool whole;		/* not as a patch */
};

/* A push: the image, its racks, and what the threads share. */
struct push {
	struct store *st;
	struct manifest *m;
	char *manifest_json;
	size_t manifest_len;
	char api_path[URL_PATH_MAX];
	struct push_target *t;
	size_t n, next, finished;
	uint64_t distinct;	/* distinct chunks of the image */
	int streams, retries;
	int level;		/* the store's zstd level (patches) */
	bool json, patch;
	bool pull;		/* rackctl pull-to: the racks fetch */
	struct progress pg;	/* what the operator sees */
	/* what a worker does with one rack: push_rack, or pull_rack for
	 * rackctl pull-to (NULL: push_rack) */
	void (*rack_fn)(struct push *p, struct push_target *t);
	pthread_mutex_t lock;
	pthread_cond_t finish;	/* signalled as each rack finishes */
};

/* push_run.c */
/* Pushes to every rack (p->rack_fn), jobs racks at once, showing the
 * progress until the last finishes, then the result. RACKCTL_OK when
 * every rack has the image, else RACKCTL_FAIL (printed). */
int push_run(struct push *p, size_t jobs, bool quiet);
/* The racks of command cmd: --racks FILE or the arguments (nargs of
 * args), each named once; *out is calloc'd. RACKCTL_OK, or the exit
 * status (printed). */
int push_racks(const char *cmd, const char *racksfile, const char *tokfile,
    char **args, int nargs, struct push_target **out, size_t *n);
void push_set_state(struct push *p, struct push_target *t, enum push_state s);
/* Fails the rack with the message (one line); PUSH_STEP_FAILED. */
enum push_step push_fail(struct push *p, struct push_target *t,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* push_proto.c */
/* The whole push to one rack, in rounds of manifest, chunks and commit;
 * it ends in PUSH_DONE or PUSH_FAILED. */
void push_rack(struct push *p, struct push_target *t);

/* push_xfer.c */
/* Uploads items over p->streams parallel uploads: PUSH_STEP_NEXT when
 * the rack took them all, PUSH_STEP_AGAIN when it stopped waiting for
 * one (post the manifest again), PUSH_STEP_FAILED. */
enum push_step push_upload(struct push *p, struct push_target *t,
    struct push_item *items, size_t n);

/* push_show.c */
const char *push_state_name(enum push_state s);
/* The racks' progress: bars on a terminal, milestones as plain lines. */
void push_show_progress(struct push *p);
/* The result on stdout: the table, or JSON with --json. */
void push_show_result(struct push *p, bool ok);

/* publish.c */
int rackctl_cmd_publish(int argc, char **argv);
/* "chunks/<hash>" and "manifests/<name>/<version>.json" of an origin, for
 * a valid hash, name and version. 0, or -1. */
int origin_chunk_path(const char *hash_hex, char *buf, size_t len);
int origin_manifest_path(const char *name, const char *version, char *buf,
    size_t len);

/* s3_list.c: one page of a ListObjectsV2 answer, its keys appended to
 * l->keys (so pages add up); truncated and next (the continuation token)
 * say whether another page follows. 0, or -1 with err (an <Error> answer
 * gives its Code and Message). */
struct s3_list {
	char	**keys;
	size_t	  n, cap;
	bool	  truncated;
	char	  next[S3_TOKEN_MAX];
};
int s3_list_parse(const char *xml, size_t len, struct s3_list *l, char *err,
    size_t errlen);
void s3_list_free(struct s3_list *l);
/* An S3 <Error> answer as "Code: Message", with a hint for a refused
 * signature or key id. */
void s3_error_text(const char *xml, size_t len, char *out, size_t outlen);
/* 1 and the version if key is DIR<version>.json of a valid version (not
 * "index"), else 0. */
int s3_index_version(const char *key, const char *dir, char *version,
    size_t len);

/* pull_to.c */
int rackctl_cmd_pull_to(int argc, char **argv);
/* pull.c */
int rackctl_cmd_pull(int argc, char **argv);
int rackctl_cmd_fleet(int argc, char **argv);
/* One rack's pull, as a worker of push_run (struct push's rack_fn). */
void pull_rack(struct push *p, struct push_target *t);

/* rack.c */
int rackctl_cmd_nodes(int argc, char **argv);
int rackctl_cmd_images(int argc, char **argv);
int rackctl_cmd_jobs(int argc, char **argv);
int rackctl_cmd_reimage(int argc, char **argv);

/* console.c */
int rackctl_cmd_console(int argc, char **argv);
/* The ssh-like escape of what is typed: "~." at the start of a line
 * leaves, "~~" sends "~"; a "~" before anything else is sent with it. */
struct console_escape {
	bool line_start;
	bool tilde;	/* a "~" at a line's start, held */
};
void console_escape_init(struct console_escape *e);
/* What of in[n] to send into out (room for 2 * n bytes), its count in
 * *outn; true when "~." was typed (what came before it is in out). */
bool console_escape_feed(struct console_escape *e, const char *in, size_t n,
    char *out, size_t *outn);

#endif
