/*
 * rackd.h — what each file of rackd offers. One header for the program;
 * libmicrohttpd stays inside http.c, SQLite inside db/, libarchive inside
 * images/.
 */
#ifndef RACKD_H
#define RACKD_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>

/* Limits. Every buffer and count has one; crossing it is a clean error. */
#define LOG_LINE_MAX		1024
#define ERR_MAX			512	/* an error message handed back */
#define LOOP_FDS_MAX		32	/* descriptors the event loop watches */
#define CONFIG_WHY_MAX		256	/* why an option's value is refused */
#define PRIV_MSG_MAX		256	/* the helper's error in a reply */
#define OPTION_NAME_MAX		40	/* --name of an option, for messages */
#define USAGE_LEFT_MAX		80	/* --help: an option and its metavar */
#define TOKEN_MIN		16	/* the API token's least length */
#define CONFIG_VALUE_MAX	1024
#define CONFIG_ERR_MAX		512
#define SLOT_NAME_MAX		32
#define SLOTS_MAX		256
#define LABEL_MAX		64
#define PATH_MAX_RACKD		1024
#define ROUTE_PARAMS_MAX	3
#define URL_MAX			2048
#define HTTP_ERROR_MAX		512	/* the message of an error reply */
#define HTTP_ALLOW_MAX		64	/* Allow: the methods of one path */
#define HTTP_BACKLOG		1024	/* pending connections, main listener */
#define HTTP_NODE_BACKLOG	128	/* pending, each management link's */
#define HTTP_WRITE_BUFFER	(16 * 1024)	/* per connection, past head */
#define CONTENT_RANGE_MAX	96	/* "bytes A-B/SIZE" of a chunk reply */
#define SERVED_DIRS_MAX		4	/* folders kept open to serve from */
#define ROOTFS_STREAM_BLOCK	(256 * 1024)	/* rootfs stream, one read */
#define FROM_DIGITS_MAX		9	/* ?from=K of the rootfs stream */
#define EVENTS_BLOCK		(16 * 1024)	/* an event stream's read */
#define METRIC_ROWS_MAX		256	/* route and status pairs counted */
#define EVENTS_RING		1024	/* events kept for reconnects */
#define EVENTS_CLIENTS_MAX	128	/* concurrent /api/v1/events streams */
#define EVENT_MAX		(64 * 1024)
#define JOBS_LIST_MAX		500
/* The domain's limits (slots, links, jobs, catalog, push, diskless). */
#define IFACES_MAX		256	/* network links links.c follows */
#define LINKS_NL_BUF		32768	/* a netlink message never spans more */
#define DRIVER_NAME_MAX		64	/* a link's driver name, from sysfs */
#define USB_PORT_MAX		64	/* a USB port path, "1-1.4" */
#define LINK_SLOTS_KEY_MAX	80	/* the NAME of a link_slots NAME=SLOT */
#define IMAGE_KIND_MAX		16	/* "disk", "rootfs" */
#define BOOT_SCRIPT_MAX		4096	/* an iPXE script rackd renders */
#define SCRIPT_LINE_MAX		512	/* one line of it, a reason in it */
#define SSH_KEYS_FILE_MAX	(64 * 1024)	/* the ssh_keys file */
#define SSH_KEY_LINE_MAX	8192	/* one authorized_keys line of it */
#define SSH_KEYS_MAX		64	/* keys handed to a diskless node */
#define PUSH_EXPIRE_BATCH	16	/* expired pushes dropped per sweep */
#define JOB_REASON_MAX		128	/* a reason rackd gives a job */
#define JOB_MESSAGE_MAX		160	/* a line of a job's event log */
#define TOKEN_HEX		64	/* 32 random bytes */
#define HEARTBEAT_SECONDS	15
#define HOSTNAME_MAX		63	/* a node's hostname */
#define LINK_HISTORY_MAX	1000	/* rows of GET .../nodes/{slot}/links */
#define CONSOLES_MAX		64	/* serial consoles console.c follows */
#define CONSOLE_KEY_MAX		80	/* KEY of a console_slots KEY=SLOT */
#define CONSOLE_INPUT_MAX	4096	/* bytes of one POST .../console */
#define CONSOLE_CLIENTS_MAX	64	/* concurrent console streams */
#define CONSOLE_RESCAN_MS	1000	/* ttys and active jobs looked at */
#define CONSOLE_SCAN_MAX	512	/* /sys/class/tty entries per rescan */
#define CONSOLE_AUDIT_MAX	256	/* (who, slot) pairs logged once */

/* log.c */
void	 log_init(int foreground, int verbose, const char *ident);
void	 log_set_verbose(int verbose);
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* config.c: the option table, config file, command line, --help, and the
 * running configuration. */
struct strlist {
	int	 n;
	char	*v[SLOTS_MAX];
};
struct config {
	char		*config_file;
	int		 foreground;
	int		 check_only;
	int		 verbose;
	char		*state_dir;
	char		*user;			/* "root": no separation */
	char		*listen;
	char		*webui_dir;
	char		*api_token;
	int		 api_open_reads;
	char		*dashboard_password;
	int		 session_ttl;		/* seconds */
	struct strlist	 slots;
	int		 boot_timeout;		/* seconds */
	int		 agent_timeout;		/* seconds */
	size_t		 max_body;
	int		 max_headers;
	size_t		 max_header_bytes;
	int		 max_connections;
	int		 idle_timeout;		/* seconds */
	int		 http_threads;
	int		 work_threads;		/* 0: one per CPU */
	int		 manage_links;
	struct strlist	 links;			/* name globs */
	struct strlist	 link_drivers;
	struct strlist	 uplink;		/* name globs, never managed */
	struct strlist	 link_slots;		/* NAME=SLOT */
	char		*link_subnet_pool;	/* CIDR */
	int		 link_prefix;		/* 30 or 31 */
	char		*dnsmasq;
	int		 dhcp_lease;		/* seconds */
	int		 secure_boot;		/* the rack's; a slot's wins */
	char		*ipxe_dir;
	char		*pxe_dir;
	struct strlist	 gadget;		/* ncm, ecm, rndis */
	char		*gadget_configfs;
	char		*gadget_udc;
	struct strlist	 trusted_keys;		/* files or base64 keys */
	int		 push_expiry;		/* seconds */
	struct strlist	 image_sources;		/* base URLs, in order */
	int		 pull_trust;		/* pulls: signed by a key */
	struct strlist	 image_subscribe;	/* NAME or NAME:GLOB */
	int		 image_subscribe_interval;	/* seconds */
	char		*image_subscribe_window;	/* HH:MM-HH:MM or "" */
	size_t		 pull_rate;		/* bytes/s, all pulls; 0: any */
	char		*ssh_keys;		/* file for diskless nodes */
	int		 diskless_stream;	/* rootfs as one stream */
	int		 enrol;			/* inventory new servers */
	int		 enrol_relink;		/* seconds a link is down */
	size_t		 rootfs_max_size;	/* bytes, for diskless nodes */
	struct strlist	 console_slots;		/* PORTPATH=SLOT, DEV=SLOT */
	int		 console_speed;		/* baud, a termios speed */
	size_t		 console_ring;		/* bytes kept per slot */
	size_t		 console_log_max;	/* bytes of a job's log */
	json_t		*power;		/* [power.SLOT]: {SLOT: {KEY: "V"}} */
	/* set by the command line, not options */
	int		 show_help;
	int		 show_version;
};
int	 config_load(struct config *, int argc, char **argv, char *err,
	    size_t errlen);
int	 config_read_file(struct config *, const char *path, char *err,
	    size_t errlen);
void	 config_apply_reload(struct config *cur, struct config *next);
void	 config_free(struct config *);
void	 config_usage(FILE *, const char *prog);
int	 config_parse_listen(const char *, struct sockaddr_storage *,
	    socklen_t *, char *err, size_t errlen);
void	 strlist_clear(struct strlist *);
int	 strlist_equal(const struct strlist *, const struct strlist *);
int	 config_parse_cidr(const char *, uint32_t *net, int *prefix);
/* image_subscribe_window: "HH:MM-HH:MM" as minutes of the day. 0, or -1.
 * config_window_open: minute (of the day) inside [from, to), which may
 * wrap midnight (from == to: the whole day). */
int	 config_parse_window(const char *, int *from, int *to);
int	 config_window_open(int from, int to, int minute);
/* The termios speed (B115200) of a baud rate, or 0 if termios has none. */
unsigned int config_tty_speed(int baud);

/* The running configuration: HTTP and work threads read it under
 * conf_rdlock; the main thread applies a reload under conf_wrlock. */
extern struct config conf;
void	 conf_rdlock(void);
void	 conf_wrlock(void);
void	 conf_unlock(void);

/* loop.c: the main thread's event loop (epoll, signalfd, timers). */
typedef void (*loop_fd_fn)(int fd, uint32_t events, void *arg);
typedef void (*loop_timer_fn)(void *arg);
int	 loop_init(void);
int	 loop_add_fd(int fd, uint32_t events, loop_fd_fn, void *arg);
void	 loop_del_fd(int fd);
int	 loop_every(int ms, loop_timer_fn, void *arg);
int	 loop_timer_new(loop_timer_fn, void *arg);	/* one-shot; handle */
void	 loop_timer_arm(int timer, int ms);	/* (re)start it */
int	 loop_run(void);		/* until loop_stop() */
void	 loop_stop(void);
int64_t	 mono_ms(void);	/* CLOCK_MONOTONIC in ms: for bounds and rates */

/* statedir.c: the state directory, its lock and the files in it. */
int	 statedir_open(const char *dir, char *err, size_t errlen);
int	 statedir_path(char *buf, size_t len, const char *name);
int	 statedir_write_secret(const char *name, const char *text);
int	 statedir_read_small(const char *name, char *buf, size_t len);
/*
 * A secret rackd checks callers against (the API token, the dashboard
 * password): its option's value when set, else its file in the state
 * directory, made once with make at first start. Each must be min long.
 */
struct statedir_secret {
	const char	*option;	/* "api_token" */
	const char	*value;		/* its value; NULL or "": unset */
	const char	*file;		/* "api.token" */
	const char	*noun;		/* "token": errors about the file */
	const char	*what;		/* "API token": logged once made */
	int		 min;
	void		(*make)(char *, size_t);
};
int	 statedir_secret(const struct statedir_secret *, char *out,
	    size_t outlen, char *err, size_t errlen);

/* auth.c: the API token and per-job agent tokens. */
int	 auth_init(char *err, size_t errlen);	/* api.token */
int	 auth_reload(void);
int	 auth_check_api(const char *authorization);	/* 1 ok */
int	 auth_token_equal(const char *a, const char *b);
void	 auth_random_hex(char out[TOKEN_HEX + 1]);
const char *auth_api_token(void);
void	 auth_hash_hex(const void *data, size_t len, char out[TOKEN_HEX + 1]);

/* http.c: the HTTP server (the only file that calls libmicrohttpd),
 * request limits, dispatch by a route table it is given, replies. */
struct req;
/* How a route's body is read. HTTP_BODY_STREAM: the handler runs as soon
 * as the head is in and takes the body piece by piece (http_stream_body),
 * never held whole in memory. */
enum http_body { HTTP_BODY_NONE, HTTP_BODY_JSON, HTTP_BODY_STREAM };
struct route {
	const char	*method;	/* "GET" also answers HEAD */
	const char	*pattern;	/* segments; "*" captures one */
	int		 access;	/* who may call it (routes.c's) */
	enum http_body	 body;
	void		(*fn)(struct req *);
	const char	*name;		/* for /metrics */
};
/* What the authorize callback makes of a request, before its body. */
enum http_verdict {
	HTTP_ALLOW,		/* the handler runs */
	HTTP_REFUSED,		/* refused; the callback has replied */
	HTTP_NOT_ON_LINK,	/* not served on a management link: 404 */
};
/* What http_start serves; routes.c has the one table. The management
 * links' listeners serve the routes only, never the fallback. */
struct http_routes {
	const struct route	 *v;
	size_t			  n;
	enum http_verdict	(*authorize)(struct req *,
				    const struct route *);
	/* GET or HEAD of a path no route has (outside no_fallback). */
	void			(*fallback)(struct req *);
	const char		 *no_fallback;	/* a path prefix: 404 there */
};
int	 http_start(const struct http_routes *, char *err, size_t errlen);
void	 http_stop(void);	/* after events_shutdown: streams end */
int	 http_listen_node(const char *board_addr);	/* a link's listener */
const char *http_param(struct req *, int i);	/* {slot}, {id}, ... */
const char *http_query(struct req *, const char *key);
const char *http_header(struct req *, const char *name);
const char *http_method(struct req *);
const char *http_url(struct req *);
const char *http_body(struct req *, size_t *len);
int	 http_client_addr(struct req *, struct sockaddr_storage *);
int	 http_node_side(struct req *);	/* came in on a management link */
int64_t	 http_agent_job(struct req *);	/* job id the agent token is for */
void	 http_set_agent_job(struct req *, int64_t id);	/* authorize's */
void	 http_stream_add(struct req *, uint64_t bytes);	/* for /metrics */
void	 http_reply_json(struct req *, int status, json_t *body);
void	 http_reply_error(struct req *, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 http_reply_text(struct req *, int status, const char *ctype,
	    const char *text);
void	 http_reply_empty(struct req *, int status);	/* no body: 304 */
/* len bytes of the open file fd from off, sent with sendfile (no copy).
 * The reply owns fd: closed once sent, or at once with a 500 if the reply
 * cannot be made. ctype NULL: no Content-Type. */
void	 http_reply_file(struct req *, int status, int fd, uint64_t off,
	    uint64_t len, const char *ctype);
/* A body made in pieces: read runs on the HTTP thread whenever the
 * connection can take more, fills up to max bytes of buf and returns how
 * many, or HTTP_PULL_END (the body is complete) or HTTP_PULL_ERROR (cut
 * the connection). With nothing to send yet it calls http_pull_suspend
 * and returns 0; anyone then calls http_pull_resume once there is more.
 * release(ctx) runs once when the reply is done with, however it ends,
 * also when it cannot be made (NULL returned: ctx is gone, a 500 sent or
 * the reply not queued). size may be HTTP_SIZE_UNKNOWN; block: bytes
 * asked of read at a time. */
#define HTTP_SIZE_UNKNOWN	UINT64_MAX
enum http_pull_end { HTTP_PULL_END = -1, HTTP_PULL_ERROR = -2 };
typedef ssize_t (*http_pull_fn)(void *ctx, char *buf, size_t max);
struct http_pull;
struct http_pull *http_reply_pull(struct req *, int status, const char *ctype,
	    uint64_t size, size_t block, http_pull_fn read,
	    void (*release)(void *ctx), void *ctx);
void	 http_pull_suspend(struct http_pull *);	/* from its read only */
void	 http_pull_resume(struct http_pull *);	/* once, after a suspend */
const char *http_cookie(struct req *, const char *name);
/* An extra header for the reply to come (Set-Cookie, ETag, Retry-After);
 * at most REPLY_HEADERS_MAX of REPLY_HEADER_MAX bytes. 0 or -1. */
#define REPLY_HEADERS_MAX	6
#define REPLY_NAME_MAX		32
#define REPLY_HEADER_MAX	256
int	 http_add_header(struct req *, const char *name, const char *value);
/* Parse the request body as a JSON object; on error replies 400, NULL. */
json_t	*http_json_body(struct req *);
/* Streaming bodies (routes of HTTP_BODY_STREAM). The route's handler runs
 * when the request head is in, before any body: it replies at once (the
 * body is then not read, and the connection closes after the reply), or
 * takes the body with http_stream_body. data gets each piece in order (a
 * non-zero return discards the rest); done runs when the body is complete
 * and replies; release runs once when the request ends however it ends
 * (a dropped connection, a refusal, too) and frees ctx. A Content-Length
 * over max gets 413 at once (-1 returned); a body growing past max ends
 * with 413 without done. */
struct http_stream {
	uint64_t	  max;
	int		(*data)(struct req *, void *ctx, const char *, size_t);
	void		(*done)(struct req *, void *ctx);
	void		(*release)(void *ctx);
	void		 *ctx;
};
int	 http_stream_body(struct req *, const struct http_stream *);
/* Finish the request on a work thread (work.c): fn runs there with the
 * configuration read-locked and replies as any handler would; the
 * connection waits, suspended, and the HTTP thread goes on serving
 * others. Call from a handler or a stream's done, before any reply. */
int	 http_defer(struct req *, void (*fn)(struct req *, void *ctx),
	    void *ctx);
/* The same for fn that reads no configuration and may wait long (a BMC
 * that does not answer): it runs without conf_rdlock, so that a SIGHUP's
 * reload never waits for it. */
int	 http_defer_unlocked(struct req *, void (*fn)(struct req *,
	    void *ctx), void *ctx);

/* work.c: threads for slow work handed off by the HTTP thread. */
#define WORK_THREADS_MAX	64
struct work {
	void		(*fn)(struct work *);
	struct work	 *next;
};
int	 work_threads_default(void);	/* one per CPU */
int	 work_start(int threads, char *err, size_t errlen);	/* 0: default */
void	 work_submit(struct work *);	/* runs fn on a work thread */
void	 work_stop(void);		/* what was submitted runs, then join */

/* session.c: the dashboard's password, sign-in and sessions: a cookie
 * (only its hash is stored) and a CSRF token that every write from the
 * page carries in X-CSRF-Token. Failed sign-ins are rate limited. */
#define SESSION_COOKIE		"rackd_session"
#define CSRF_HEADER		"X-CSRF-Token"
#define SESSIONS_MAX		64	/* live sessions; the oldest go first */
#define PASSWORD_MIN		8
#define PASSWORD_FILE		"dashboard.password"
#define SIGNIN_WINDOW		60	/* seconds */
#define SIGNIN_FAILS_MAX	5	/* per client address and window */
#define SIGNIN_FAILS_ALL_MAX	60	/* all clients together, per window */
#define SIGNIN_CLIENTS_MAX	256	/* client addresses remembered */
#define CLIENT_KEY_MAX		48
enum session_status { SESSION_NONE, SESSION_OK, SESSION_BAD_CSRF };
int	 session_init(char *err, size_t errlen);
int	 session_reload(void);
/* May this request go on? cookie: the session cookie's value (or NULL);
 * csrf: the X-CSRF-Token header (or NULL), needed when write is set. */
enum session_status session_check(const char *cookie, const char *csrf,
	    int write);
void	 session_signin(struct req *);		/* POST /api/v1/session */
void	 session_status(struct req *);		/* GET */
void	 session_signout(struct req *);		/* DELETE */
/* The parts below take the time as an argument, for the unit tests. */
int	 session_create(int64_t now_ms, int ttl, char cookie[TOKEN_HEX + 1],
	    char csrf[TOKEN_HEX + 1]);
enum session_status session_lookup(const char *cookie, const char *csrf,
	    int write, int64_t now_ms, char *csrf_out, size_t len,
	    int64_t *expires);
enum session_end {
	SESSION_END_OK,		/* the session was there and has ended */
	SESSION_END_NONE,	/* no such session (or not a cookie) */
	SESSION_END_ERROR,	/* the database failed; logged */
};
enum session_end session_end(const char *cookie);
int	 session_password_ok(const char *given);
int	 session_cookie_valid(const char *value);
void	 session_client_key(const struct sockaddr_storage *, char *out,
	    size_t len);			/* IPv6: its /64 */
int	 signin_blocked(const char *client, int64_t now_ms);	/* s to wait */
void	 signin_failed(const char *client, int64_t now_ms);
void	 signin_succeeded(const char *client);
void	 signin_reset(void);

/* api.c: /api/v1 nodes, images, jobs. */
void	 api_nodes_list(struct req *);
void	 api_node_get(struct req *);
void	 api_node_patch(struct req *);
void	 api_node_reimage(struct req *);
void	 api_node_links(struct req *);		/* the link's history */
/* The reply to a request that made a job of the clone environment
 * (jobs_create_clone's rc, the job's id or why not). */
void	 api_reply_clone_job(struct req *r, int rc, int64_t id,
	    const char *slot, const char *why);
void	 api_images_list(struct req *);
void	 api_image_get(struct req *);
void	 api_jobs_list(struct req *);
void	 api_job_get(struct req *);
void	 api_job_cancel(struct req *);
void	 api_job_states(struct req *);		/* GET /api/v1/job-states */
/* Validate a PATCH body; fills the fields (NULL: not given). 0 or -1. */
int	 api_parse_node_patch(json_t *body, const char **label,
	    const char **image, const char **boot_mode, char *err,
	    size_t errlen);
/* A PATCH body's "secure_boot" (taken out): 1, 0, -1 null (the rack's),
 * -2 absent, -3 wrong (err). */
int	 api_parse_secure_boot(json_t *body, char *err, size_t errlen);

/* power_api.c: POST /api/v1/nodes/{slot}/power {"action": ...}. */
void	 api_node_power(struct req *);

/* agent.c: the endpoints the clone agent calls with its job token. */
void	 agent_job_get(struct req *);
void	 agent_job_report(struct req *);
/* POST /api/v1/agent/jobs/ID/event {"message"}: a job event row and a
 * "job_event" on /api/v1/events. */
void	 agent_job_event(struct req *);
/* Its body: one "message" of 1 to JOB_MESSAGE_MAX - 1 printable ASCII
 * characters. 0 and *message (into body), or -1 with why. */
int	 agent_parse_event(json_t *body, const char **message, char *why,
	    size_t len);
/* erase.c: POST /api/v1/nodes/{slot}/erase {"method"}. */
void	 api_node_erase(struct req *);
/* Its body: {} or {"method": "auto"|"overwrite"}; 0 and *method ("auto"
 * when not given; a static string), or -1 with why. */
int	 erase_parse_body(json_t *body, const char **method, char *why,
	    size_t len);

/* capture.c: a node's disk becomes an image (the capture job; its agent's
 * push through push.c), and the manifest of a version for rackctl pull. */
void	 api_node_capture(struct req *);	/* POST .../nodes/S/capture */
void	 capture_start(struct req *);	/* .../capture/start */
void	 capture_manifest(struct req *);	/* .../capture/manifest */
void	 capture_chunk(struct req *);		/* .../capture/chunks/H */
void	 capture_commit(struct req *);		/* .../capture/commit */
void	 api_image_manifest(struct req *);	/* GET .../versions/V */
/* capture_seen.c: the chunks a capture job's upload added to the store,
 * verified on the way in, which its commit need not read back (bounded;
 * what is not here is checked). */
void	 capture_seen_add(int64_t job, const char *hex);
int	 capture_seen_has(int64_t job, const uint8_t *hash);
void	 capture_seen_forget(int64_t job);

/* chunks.c: GET/HEAD /chunks/{hash}, sendfile with single ranges. */
void	 chunks_serve(struct req *);
/* What a Range header asks of a body of size bytes. */
enum chunks_range {
	CHUNKS_WHOLE,		/* none, another unit, or several: all of it */
	CHUNKS_PART,		/* *start and *len */
	CHUNKS_UNSATISFIABLE,	/* 416 */
};
enum chunks_range chunks_parse_range(const char *hdr, uint64_t size,
	    uint64_t *start, uint64_t *len);

/* static.c: the dashboard's files under webui_dir. */
void	 static_file(struct req *);
/* A folder files are served from, opened once and kept (-1: cannot). */
int	 served_dir(const char *path);
int	 static_path_ok(const char *urlpath);

/* events.c: Server-Sent Events to the dashboard and rackctl. */
int	 events_init(void);
void	 events_publish(const char *type, json_t *data);	/* steals */
void	 nodes_publish(const char *slot);	/* a "node" event: its state */
void	 events_heartbeat(void);	/* also ends ended sessions' streams */
void	 events_sessions_check(void);
void	 events_shutdown(void);
void	 events_stream(struct req *);
int	 events_clients(void);

/* console.c: each slot's serial console: USB serial adapters (ttyUSB,
 * ttyACM) found in sysfs and by uevents, given a slot by their USB port
 * path (console_slots), read raw in the event loop into a ring of the
 * last console_ring bytes, and into STATE_DIR/jobs/ID.console while the
 * slot has an active job. */
struct console_ring {
	unsigned char	*buf;
	size_t		 size;
	uint64_t	 total;		/* bytes ever put */
};
int	 console_ring_init(struct console_ring *, size_t size);
void	 console_ring_free(struct console_ring *);
void	 console_ring_put(struct console_ring *, const void *, size_t);
/* Up to max bytes from *pos on into out; *pos moves past them (first to
 * the oldest byte kept if it is older). The count copied. */
size_t	 console_ring_get(const struct console_ring *, uint64_t *pos,
	    void *out, size_t max);
/* size bytes, keeping the newest and every position: 0, or -1 (as it
 * was). */
int	 console_ring_resize(struct console_ring *, size_t size);
int	 console_init(char *err, size_t errlen);
/* After a SIGHUP's config_apply_reload, on the main thread. */
void	 console_reload(void);
void	 console_rescan(void);
void	 console_shutdown(void);	/* the streams end; before http_stop */
void	 console_close(void);
/* Does slot have a console (seen or mapped)? */
int	 console_exists(const char *slot);
/* The ring's contents, then live output, as Server-Sent Events. 0, or
 * -1 (a reply has been sent). */
int	 console_stream_reply(struct req *, const char *slot);
/* Write n bytes to slot's tty: the count written (0: it takes no more
 * now), or -1 with errno (ENOENT no console, ENODEV not connected). */
ssize_t	 console_write(const char *slot, const void *, size_t n);
/* STATE_DIR/jobs/ID.console (".1" when older): 0, or -1. */
int	 console_log_path(int64_t id, int older, char *buf, size_t len);

/* The node's "console": {"source": "tty", "device", "state": "connected"
 * or "waiting"}, or console_sol.c's, or null; for GET /api/v1/nodes. */
void	 console_node_json(json_t *node);

/* console_sol.c: IPMI Serial-over-LAN (libipmiconsole) as a console's
 * source, for a slot whose ipmi power settings set "sol"; console.c's
 * tick calls sol_step, which makes the session on a work thread and
 * hands console.c its descriptor (SOL_STEP_OPEN), or asks for it to be
 * closed (SOL_STEP_CLOSE: the session failed, or the settings changed);
 * console.c tells sol_closed when it has closed it (read EOF, too). */
#define SOL_ERR_MAX		224	/* a session's error, for the API */
#define SOL_WORKAROUNDS_MAX	256	/* "sol_workarounds", as text */
enum sol_state { SOL_CONNECTING, SOL_CONNECTED, SOL_ERROR };
enum { SOL_STEP_NONE, SOL_STEP_OPEN, SOL_STEP_CLOSE };
struct sol;
/* FreeIPMI's workaround names ("opensesspriv,solpayloadsize"), comma or
 * space separated, into libipmiconsole's flags: 0, or -1 with why. */
int	 console_sol_workarounds(const char *list, unsigned *flags,
	    char *err, size_t errlen);
/* Do these power settings ask for a sol console (ipmi, "sol" yes)? */
int	 console_sol_wanted(const json_t *settings);
struct sol *sol_new(const char *slot);	/* NULL: CONSOLES_MAX in use */
int	 sol_step(struct sol *, const json_t *settings, int *fd);
void	 sol_closed(struct sol *);
void	 sol_retry_now(struct sol *);	/* SIGHUP: no more waiting */
void	 sol_free(struct sol *);
void	 sol_close_all(void);		/* after work_stop */
const char *sol_state_name(enum sol_state);
/* {"source": "sol", "state", "bmc", "error", "attempts", "retry_in_ms"} */
json_t	*sol_json(const struct sol *);

/* console_api.c: GET and POST /api/v1/nodes/{slot}/console, GET
 * /api/v1/jobs/{id}/console. */
void	 console_api_stream(struct req *);
void	 console_api_input(struct req *);
void	 console_api_job_log(struct req *);
/* The bytes of a POST body {"data": "BASE64"}: 0 and *n (at most max),
 * or -1 with why. */
int	 console_parse_input(const json_t *body, unsigned char *out,
	    size_t max, size_t *n, char *err, size_t errlen);

/* jobs.c: the job state machine, and the only creator of jobs. */
enum job_result {
	JOB_OK = 0,
	JOB_ERROR = -1,		/* internal; logged */
	JOB_NO_NODE = -2,
	JOB_NO_IMAGE = -3,
	JOB_BUSY = -4,		/* the node already has an active job */
	JOB_ILLEGAL = -5,	/* not allowed from the job's state */
	JOB_NO_JOB = -6,
	JOB_BAD = -7,		/* malformed request */
	JOB_UNTRUSTED = -8,	/* the image is not signed by a trusted key */
	JOB_WRONG_KIND = -9,	/* a disk image for diskless, or the reverse */
	JOB_TOO_BIG = -10,	/* over rootfs_max_size, for a diskless boot */
	JOB_BMC = -11,		/* the slot is a BMC link: no server to boot */
};
/* The states, in the order of the transition matrix; their names are the
 * API's and the database's (job_state_name), their words the dashboard's
 * (jobs_states_json). */
enum job_state {
	JOB_QUEUED, JOB_BOOTING, JOB_STREAMING, JOB_VERIFYING, JOB_DONE,
	JOB_FAILED,
	JOB_STATES
};
enum job_action {
	JOB_REIMAGE, JOB_DISKLESS,
	JOB_POWER_ON, JOB_POWER_OFF, JOB_POWER_CYCLE,	/* queued -> done */
	JOB_INVENTORY, JOB_CAPTURE, JOB_ERASE,	/* the clone environment's */
	JOB_ACTIONS
};
int	 job_state_from_name(const char *);	/* enum job_state, or -1 */
const char *job_state_name(enum job_state);
const char *job_action_name(enum job_action);
int	 job_transition_allowed(const char *from, const char *to);
int	 job_state_valid(const char *state);
int	 job_state_terminal(const char *state);
/* [{"name", "text", "terminal", "actions"}] of every state, in order;
 * actions: {ACTION: TEXT}, an action's own words for the state. */
json_t	*jobs_states_json(void);
/* May action run image ref (resolved, kind, size; not trust)? JOB_OK and
 * the resolved "name:version" in image (NULL: not wanted) and its size;
 * else JOB_BAD, _NO_IMAGE, _WRONG_KIND or _TOO_BIG with why. Call with the
 * configuration read-locked. */
int	 jobs_image_check(enum job_action, const char *ref, char *image,
	    size_t imagelen, uint64_t *size, char *why, size_t len);
/* A new job: the node exists and has no active job, jobs_image_check and
 * catalog.c's trust allow the image. JOB_OK and *id, or a JOB_* with why.
 * Call with the configuration read-locked. */
int	 jobs_create(const char *slot, enum job_action, const char *ref,
	    int64_t *id, char *why, size_t len);
/* A PATCH made slot diskless (or gave it another image): with a power
 * method, a diskless job for the node's image is made queued (one not
 * begun yet is cancelled) and the server is made to boot from the network
 * as for a reimage (power_boot_job, boot_timeout's second try, then "no
 * boot"). JOB_OK and *id (0: no method or no image, nothing done), or a
 * JOB_* of jobs_create with why. Call with the configuration read-locked. */
int	 jobs_diskless_start(const char *slot, int64_t *id, char *why,
	    size_t len);
/* A power job (JOB_POWER_*) of slot, queued for power_job_start: JOB_OK
 * and *id, or JOB_NO_NODE, JOB_BUSY with why. */
int	 jobs_create_power(const char *slot, enum job_action, int64_t *id,
	    char *why, size_t len);
/* The power job's end: done (reason NULL) or failed with reason. */
int	 jobs_power_end(int64_t id, const char *reason);
int	 job_action_power(const char *action);	/* a power_* action */
/* A job of a server in the clone environment without an image to write
 * (JOB_INVENTORY, JOB_CAPTURE, JOB_ERASE): the node exists and has no
 * active job; params (may be NULL; not stolen) is the action's JSON object,
 * given to the agent with the job; image, if not NULL, names the job's
 * image (a capture's "name:version" to be). The server is made to boot
 * from the network as for a reimage. JOB_OK and *id, or a JOB_* with why.
 * Call with the configuration read-locked. */
int	 jobs_create_clone(const char *slot, enum job_action, const char *image,
	    json_t *params, int64_t *id, char *why, size_t len);
/* Does the action's server run rack-agent in the clone environment
 * (reimage, inventory, capture, erase)? */
int	 job_action_clone(const char *action);
int	 jobs_cancel(int64_t id, const char *who);
int	 jobs_report(int64_t id, const char *state, int64_t done,
	    int64_t fetched, int64_t rate, const char *reason);
/* The job's size in bytes when it was made without one (a clone job
 * whose agent measures its disk): set once, then kept. */
int	 jobs_set_total(int64_t id, int64_t total);
int	 jobs_node_booting(const char *slot);	/* boot script fetched */
/* JOB_OK: the job is active and the token is its own */
int	 jobs_token_check(int64_t id, const char *token);
void	 jobs_recover(void);			/* at start */
void	 jobs_tick(void);			/* timeouts, from the loop */
void	 jobs_publish(int64_t id);

/* cancel_note.c: what a cancelled job left on the disk, in its events. */
#define CANCEL_GRACE_MS		(120 * 1000)	/* the agent's last word */
#define CANCEL_GRACE_NOTES	3		/* ... this many notes */
/* rackd's note for job (db_job_json's, as it was before the cancel):
 * 1 and the text in buf, 0 nothing to say (a job that writes no disk). */
int	 cancel_note_text(const json_t *job, char *buf, size_t len);
/* At the cancel (jobs_cancel): the note made an event, and the agent's
 * notes taken for the grace. */
void	 cancel_note_write(const json_t *before);
/* jobs_token_check for the agent's notes: JOB_OK also for a cancelled
 * job within its grace (one note of it used). */
int	 cancel_note_check(int64_t id, const char *token);

/* catalog.c: the image store, its index in the database, which images
 * are trusted, and what leaves the store (delete, garbage collection). */
enum catalog_result {
	CATALOG_OK = 0,
	CATALOG_ERROR = -1,	/* database, store or trusted_keys; see why */
	CATALOG_NO_IMAGE = -2,	/* not on this rack */
	CATALOG_IN_USE = -3,	/* a job uses the image */
	CATALOG_UNSIGNED = -4,	/* trusted_keys is set, the image unsigned */
	CATALOG_UNTRUSTED = -5,	/* not signed by a trusted key, or altered */
};
int	 catalog_open(char *err, size_t errlen);	/* and loads the keys */
int	 catalog_scan(void);		/* keys reloaded; images added */
int	 catalog_chunk_path(const char *hash, char *buf, size_t len);
/* (Re)load trusted_keys: at start and on SIGHUP (catalog_scan). 0, or -1
 * (logged; no image is trusted until the keys load). Call with the
 * configuration read-locked, or from the main thread. */
int	 catalog_keys_load(void);
struct manifest;
/* The one trust rule: CATALOG_OK when trusted_keys is empty or m is signed
 * by one of its keys; else CATALOG_UNSIGNED, _UNTRUSTED or _ERROR, with
 * why. Call with the configuration read-locked. */
enum catalog_result catalog_trust(const struct manifest *m, char *why,
	    size_t len);
/* catalog_trust of a stored image "name[:version]", or CATALOG_NO_IMAGE;
 * why names the image. Call with the configuration read-locked. */
enum catalog_result catalog_image_trusted(const char *image_ref, char *why,
	    size_t len);
/* "disk" or "rootfs" of an image "name[:version]" into kind; 0 or -1. */
int	 catalog_image_kind(const char *ref, char *kind, size_t len);
/* The manifest given to nodes: NULL when the image is not in the store or
 * is not trusted (catalog_trust). */
json_t	*catalog_manifest_json(const char *image_ref);
struct store *catalog_store(void);
/* Index a manifest the store holds and announce it. 0, or -1 (logged). */
int	 catalog_add(const char *name, const char *version);
/* The same; captured: an image captured on this rack, indexed even
 * unsigned where trusted_keys is set (jobs still refuse it). */
int	 catalog_add_flags(const char *name, const char *version, int captured);
void	 catalog_close(void);
/* What a delete or an expiry took away. */
struct catalog_freed {
	int		 image;		/* an image was deleted */
	int		 pending;	/* a pending push was dropped */
	size_t		 chunks;	/* chunks collected */
	uint64_t	 bytes;
};
/* Held by whatever decides on the set of chunks (push manifest, commit,
 * delete, expiry), so that garbage collection never takes a chunk an
 * image or a pending push needs. */
void	 catalog_lock(void);
void	 catalog_unlock(void);
/* DELETE an image version and its pending push, and collect the chunks
 * nothing else needs: CATALOG_OK, _NO_IMAGE, _IN_USE (why names the job)
 * or _ERROR (why). Takes catalog_lock. */
enum catalog_result catalog_delete(const char *name, const char *version,
	    struct catalog_freed *, char *why, size_t len);
/* Forget a pending push and collect the chunks only it needed. Call with
 * catalog_lock held. 0, or -1 (a database error). */
int	 catalog_push_drop(const char *name, const char *version,
	    struct catalog_freed *);

/* push.c: images pushed from a central host (rackctl push): the manifest
 * (a pending push; the answer lists the chunks this rack lacks), chunks
 * streamed into the store and verified, commit; delete and garbage
 * collection are catalog.c's. */
#define PUSH_MISSING_SHOWN	8	/* missing chunks named in a message */
void	 push_manifest(struct req *);	/* POST /api/v1/images/N/versions/V */
void	 push_chunk(struct req *);	/* PUT /api/v1/chunks/{hash} */
void	 push_commit(struct req *);	/* POST .../commit */
void	 push_delete(struct req *);	/* DELETE /api/v1/images/N/versions/V */
void	 push_list(struct req *);	/* GET /api/v1/pushes */
void	 push_expire(void);	/* drop pushes unused for push_expiry */
/* The handlers' bodies for other routes (capture.c's): the manifest of
 * name:version (flags: PUSH_CAPTURED takes it unsigned), one chunk. */
#define PUSH_CAPTURED		1	/* made on this rack by a capture job */
void	 push_manifest_take(struct req *, const char *name,
	    const char *version, int flags);
/* added (may be NULL) is called with tag and the hash of each whole chunk
 * this request verified and added to the store. */
typedef void (*push_added_fn)(int64_t tag, const char *hex);
void	 push_chunk_take(struct req *, const char *hash, push_added_fn added,
	    int64_t tag);
/* What a push and a pull share (with the configuration read-locked). */
struct manifest;
/* catalog_trust of m as an HTTP status: 0 taken, 403 (err says why, how
 * to sign), 500. */
int	 push_trust(const struct manifest *m, char *err, size_t errlen);
/* A chunk the rack lacks: hex hash, uncompressed and stored bytes. */
struct push_need {
	char		 hash[64 + 1];	/* HASH_HEX_LEN and its NUL */
	uint32_t	 length;
	uint32_t	 stored;
};
/* m becomes a pending push (its chunks kept from garbage collection from
 * then on): 0 and the chunks the store lacks in *need (malloc'd, *n of
 * them, of *distinct); 1 if the rack has the same image committed; or an
 * HTTP status (409 other content under that name, 500) with err. */
int	 push_begin(const struct manifest *m, struct push_need **need,
	    size_t *n, size_t *distinct, char *err, size_t errlen);
/* Commits the pending push of name:version: every chunk present and the
 * signature trusted, the manifest is stored and indexed. Returns an HTTP
 * status: 201 committed, 200 committed before, 404 nothing pending, 403,
 * 409 (chunks missing: *body says which), 500; *body (may be NULL) is the
 * reply, err the message otherwise. */
int	 push_commit_pending(const char *name, const char *version, int flags,
	    json_t **body, char *err, size_t errlen);

/* pull.c: images pulled from image_sources (rackctl publish's origin, or
 * an HTTP cache in front of it) on threads of its own: the manifest from
 * the first source that answers, only the chunks the store lacks, each
 * verified before it is visible, committed through push.c. Its files
 * (pull_fetch.c, pull_http.c, pull_recover.c, pull_subscribe.c) share
 * appliance/pull_int.h; what the rest of rackd calls is here. */
#define PULLS_MAX		64	/* pulls remembered, running or ended */
#define PULLS_ACTIVE_MAX	8	/* pulls running at once */
#define PULL_SOURCES_MAX	16	/* image_sources used */
#define PULL_STREAMS		4	/* chunk downloads at once per pull */
#define PULL_CONNECT_TIMEOUT	5	/* seconds */
#define PULL_STALL_TIMEOUT	10	/* seconds without a byte */
#define PULL_REQUEST_TIMEOUT	300	/* seconds, one request at most */
#define PULL_SOURCE_DOWN_MS	30000	/* a failed source is tried last */
#define PULL_ROUNDS		3	/* of every source, for one chunk */
#define PULL_RETRY_MS		1000	/* between rounds, times the round */
#define PULL_SAVE_MS		1000	/* a pull's record written at most */
int	 pull_init(void);		/* before any thread starts */
void	 pull_stop(void);		/* running pulls end; their rows stay */
/* After the database and events_init: the pulls recorded listed again,
 * those cut short by a stop or a crash resumed (or failed, logged). */
int	 pull_recover(void);
/* A pull of name:version: 0 and *id (a pull of the same image that runs
 * already is that one), or an HTTP status (409 no image_sources, 429 too
 * many, 503) with why. */
int	 pull_start(const char *name, const char *version, int64_t *id,
	    char *why, size_t len);
json_t	*pull_list_json(void);		/* newest first */
/* image_subscribe: from the loop every second; every
 * image_subscribe_interval a thread reads each subscribed name's
 * index.json and pulls what matches and the rack lacks, one at a time. */
void	 pull_subscribe_tick(void);
json_t	*pull_get_json(int64_t id);	/* NULL: no such pull */
/* pull_api.c: their routes. */
void	 pull_api_start(struct req *);	/* POST /api/v1/images/pull */
void	 pull_api_list(struct req *);	/* GET /api/v1/pulls */
void	 pull_api_get(struct req *);	/* GET /api/v1/pulls/{id} */
/* pull_parse.c: the pure parts of a pull, for the tests and the fuzzer. */
/* base and path joined by one '/'. 0, or -1 if it does not fit. */
int	 pull_url_join(const char *base, const char *path, char *out,
	    size_t len);
/* The order sources are tried in: those not marked down (down_until <=
 * now) as configured, then the others, soonest back first. Returns n. */
size_t	 pull_source_order(size_t n, const int64_t *down_until, int64_t now,
	    size_t *order);
/* {"image": "name:version"} of POST /api/v1/images/pull. 0, or -1. */
int	 pull_parse_request(const char *body, size_t len, char *name,
	    char *version, char *err, size_t errlen);
/* An image_subscribe pattern NAME or NAME:GLOB matches name:version. */
int	 pull_pattern_match(const char *pattern, const char *name,
	    const char *version);
/* An origin's manifests/<name>/index.json {"name": name, "versions":
 * [...]}: the versions (a new array of strings, each a valid version), or
 * NULL with err. */
json_t	*pull_index_parse(const char *buf, size_t len, const char *name,
	    char *err, size_t errlen);
/* A fetched manifest, parsed and of name:version. 0 and *out, or -1. */
int	 pull_manifest_check(const char *buf, size_t len, const char *name,
	    const char *version, struct manifest **out, char *err,
	    size_t errlen);

/* slots.c: the rules of identity by slot (names, management links, the
 * slot of a link, a slot's subnet and IPv6 prefix), from the configuration
 * given (the running one read-locked, or a test's). */
#define ULA_PREFIX	"fd72:6163:6b64:"	/* then the slot's index */
int	 slot_name_valid(const char *);
/* A USB network driver of link_drivers or a name in `links`, and not an
 * `uplink`. Sets *kind (usb, ether, virtual). */
int	 links_is_management(const struct config *, const char *ifname,
	    const char **kind);
/* The slot of a link: its USB port path, or its name, as link_slots maps
 * it. 0, or -1 if that is not a valid slot name. */
int	 slot_for_link(const struct config *, const char *ifname, char *slot,
	    size_t len);
/* A link_slots value: SLOT, or SLOT/bmc for the BMC link of SLOT, whose
 * own slot is SLOT.bmc. 0 and the link's slot, or -1 if not valid. */
#define SLOT_BMC_SUFFIX	".bmc"
int	 slot_map_value(const char *value, char *slot, size_t len);
/* The slot whose BMC link slot is (SLOT of SLOT.bmc) into owner (NULL:
 * only tell). 0 if slot is a BMC link's slot, else -1. */
int	 slot_bmc_of(const char *slot, char *owner, size_t len);
/* The index'th subnet of /slot_len in the pool net/pool_len: the board's
 * and the node's address. 0, or -1 if there is no such subnet. */
int	 subnet_addrs(uint32_t net, int pool_len, int slot_len, uint32_t index,
	    char *board, char *node);	/* 16 bytes each */
int	 usb_port_from_devpath(const char *path, char *out, size_t len);
struct db_link;
/* The slot's IPv6 prefix (ULA): ULA_PREFIX, then the index of its IPv4
 * subnet in the pool; the board is ::1. */
int	 slot_ula(const struct config *, const struct db_link *, char *out,
	    size_t len);

/* links.c: the link manager (netlink watcher, a subnet for each slot). */
int	 links_init(char *err, size_t errlen);
void	 links_rescan(void);
void	 links_close(void);
/* The request comes from slot's node (the other end of the slot's link):
 * 0 and *link, or -1 (404 or 403 sent). */
int	 links_node_check(struct req *, const char *slot, struct db_link *link);
/* 1: the management link IFNAME is there now (or links are not managed). */
int	 links_present(const char *ifname);

/* priv.c: privilege separation. priv_start forks the helper that keeps
 * root (none with user = root); priv_drop then makes rackd the user. The
 * rest ask the helper (or, without one, do it here). */
int	 priv_start(char *err, size_t errlen);
int	 priv_drop(char *err, size_t errlen);	/* after the state dir */
void	 priv_stop(void);		/* dnsmasq and the gadget go too */
int	 priv_separated(void);
int	 priv_link_up(int ifindex);
int	 priv_addr(int ifindex, const char *addr, int prefix);
pid_t	 priv_dnsmasq_start(void);	/* the keeper's pid, or -1 */
int	 priv_dnsmasq_hup(void);	/* reread the options */
int	 priv_dnsmasq_stop(void);	/* its wait status, -1 none ran */
int	 priv_dnsmasq_reap(int *status);	/* 1 it has exited */
int	 priv_drop_lease(const char *addr);	/* dnsmasq stopped */
int	 priv_gadget_setup(char *err, size_t errlen);
void	 priv_gadget_teardown(void);
/* The helper's checks, for the unit tests. */
int	 priv_link_allowed(const char *ifname);
int	 priv_addr_allowed(const char *addr, int prefix);

/* dnsmasq_priv.c: dnsmasq's root side, run by priv.c's helper (or by rackd
 * without one): its checked configuration, its keeper, its leases. */
#define DNSMASQ_CONF_MAX	(256 * 1024)	/* dnsmasq's configuration */
#define DNSMASQ_OPTS_MAX	(64 * 1024)	/* its options file */
#define DNSMASQ_LEASES_MAX	4096	/* lines of its leases file read */
#define DNSMASQ_STOP_WAIT_MS	3000	/* SIGTERM, then SIGKILL */
#define DNSMASQ_FORGET_MAX	64	/* leases to drop at its next stop */
#define DNSMASQ_BACKOFF_MAX_MS	30000	/* between tries to start it */
#define DNSMASQ_DEBOUNCE_MS	150	/* changes gathered into one rewrite */
/* dnsmasq's leases and options (root's: /run/rackd/DEV-INODE). */
int	 dnsmasq_run_dir(char *buf, size_t len);
/* One line of the configuration as dnsmasq.c writes it: only its options,
 * files only where they belong. 1 ok, 0 refused. */
int	 dnsmasq_conf_line_ok(const char *line, const char *run_dir,
	    const char *tftp_dir);
int	 dnsmasq_opts_line_ok(const char *line);	/* "tag:sN,12,NAME" */
/* Start dnsmasq under its keeper with the checked configuration: 0 and
 * *pid, or -errno with msg. */
int	 dnsmasq_priv_start(pid_t *pid, char *msg, size_t msglen);
/* Copy the checked options file again and SIGHUP dnsmasq: 0 or -errno. */
int	 dnsmasq_priv_hup(char *msg, size_t msglen);
/* Stop the keeper and wait (bounded): 1 and its status, 0 none ran. */
int	 dnsmasq_priv_stop(int *status);
/* 1 and *status when the keeper has exited, 0 while it runs (or none). */
int	 dnsmasq_priv_reap(int *status);
/* Drop addr's lease from the leases file (dnsmasq stopped): 0 or -1. */
int	 dnsmasq_priv_drop_lease(const char *addr);
/* At a clean stop: the run dir goes (a tmpfs; leases are not kept). */
void	 dnsmasq_priv_cleanup(void);

/* linkconf.c: the privileged part: link up, board address (rtnetlink). */
int	 linkconf_up(int ifindex);
int	 linkconf_addr(int ifindex, const char *addr, int prefix);
void	 linkconf_close(void);

/* dnsmasq.c: dnsmasq's configuration, the child process, its leases. */
int	 dnsmasq_init(char *err, size_t errlen);
void	 dnsmasq_changed(void);		/* links or labels changed */
void	 dnsmasq_forget(const char *node_addr);	/* drop that lease */
void	 dnsmasq_stop(void);
int	 dnsmasq_pid(void);

/* grubcfg.c: UEFI nodes boot their disk through Debian's network GRUB
 * (chained by the local-boot script), which reads a per-node grub.cfg from
 * the node's own TFTP dir. */
#define GRUBCFG_TFTP_DIR	"tftp"	/* in the state dir */
struct db_link;
/* Copy the loaders SHA256SUMS vouches for from pxe_dir into tftp_dir. */
int	 grubcfg_init(const char *tftp_dir);
int	 grubcfg_available(void);	/* 1: grubx64.efi is served */
/* STATE/tftp/if/IFNAME/NODE_ADDR, dnsmasq's root for that node: 0 or -1. */
int	 grubcfg_node_dir(const struct db_link *l, char *buf, size_t len);
/* Make the node's TFTP dir (links to the shared loaders) and its
 * local-boot grub.cfg: 0 or -1. */
int	 grubcfg_node(const struct db_link *l);
/* Write the node's grub/grub.cfg: the clone environment for an active
 * reimage (kernel and initramfs over TFTP), else chainload the disk's EFI
 * loader. */
int	 grubcfg_local(const struct db_link *l);
void	 grubcfg_slot(const char *slot);	/* its job or node changed */
/* Remove the node dirs of tftp/if/ that no present link has (the link is
 * gone, or its node address changed). */
void	 grubcfg_sweep(void);
/* The GRUB commands that chainload the disk's EFI loader: snprintf's. */
int	 grubcfg_local_script(const char *slot, char *buf, size_t len);

/* boot.c: what a node boots (/boot/{slot}.ipxe), and the clone kernel and
 * initramfs. */
enum boot_kind {
	BOOT_ERROR = -1,
	BOOT_LOCAL = 0,		/* the local disk */
	BOOT_CLONE = 1,		/* the clone environment, for a reimage */
	BOOT_DISKLESS = 2,	/* a diskless boot, with a new job */
};
void	 boot_script(struct req *);
void	 boot_file(struct req *);
/* Decide what slot's node boots (creating or ending its diskless job)
 * and render that script into buf. */
enum boot_kind boot_render(const char *slot, const char *host, char *buf,
	    size_t len);

/* diskless.c: the diskless boot script and the per-node overlay. */
struct db_job;
/* The iPXE script of job, a diskless job of slot: snprintf's count. */
int	 diskless_script(const char *slot, const char *host,
	    const struct db_job *job, char *buf, size_t len);
/* The same boot's kernel command line words, for a node GRUB booted. */
int	 diskless_cmdline(const char *slot, const struct db_job *job, char *buf,
	    size_t len);
int	 diskless_hostname(const char *slot, char *out, size_t len);
json_t	*diskless_overlay_json(const char *slot, int cloud_init);
void	 diskless_overlay(struct req *);	/* GET /boot/{slot}/overlay */

/* diskless_stream.c: GET /boot/{slot}/rootfs?from=K, the image of the
 * slot's diskless job as one zstd stream (its stored chunks in order). */
void	 diskless_stream(struct req *);

/* power.c: each slot's power method, from the configuration's
 * [power.SLOT] sections or PATCH /api/v1/nodes/{slot} {"power": {...}}
 * (kept in STATE_DIR/power/SLOT.json, 0600); the power jobs; each node's
 * cached power state. power_*.c: one file a method, each behind a struct
 * power_method and nothing else: power.c is the only caller. */
enum power_op {
	POWER_ON, POWER_OFF, POWER_CYCLE, POWER_STATUS,
	POWER_BOOT_NET,		/* the next boot (only) from the network */
	POWER_BOOT_DISK,	/* boots from the disk from now on */
	POWER_OPS
};
enum power_state { POWER_UNKNOWN, POWER_IS_ON, POWER_IS_OFF };
/* What a method can do: struct power_method's caps, a bit per op. */
#define POWER_CAN(op)		(1u << (op))
#define POWER_TIMEOUT_MS	15000	/* one op of a method, at most */
#define POWER_ERR_MAX		256
/* What a method is given for one op of one slot. */
struct power_target {
	const char	 *slot;
	const json_t	 *settings;	/* the method's keys, secrets too */
	const char	 *ifname;	/* the slot's link, or NULL */
	const char	 *mac;		/* the node's MAC (aa:bb:..), or NULL */
	const char	 *bmc_addr;	/* its BMC link's lease, or NULL */
	int		  timeout_ms;	/* the op's bound */
};
struct power_method {
	const char	 *name;		/* "ipmi", the settings' "method" */
	unsigned	  caps;		/* POWER_CAN(op) of the ops it does */
	const char *const *secrets;	/* keys never shown; NULL-ended */
	/* Are these settings (an object with "method" and the method's
	 * keys) good? 0, or -1 with why in err (an operator's words). */
	int		(*check)(const json_t *settings, char *err,
			    size_t errlen);
	/* Do op, within t->timeout_ms. POWER_STATUS sets *state. 0, or -1
	 * with why in err ("BMC 10.0.0.2: wrong password"). Runs on a
	 * work thread; must not keep state between calls but its own. */
	int		(*run)(const struct power_target *t, enum power_op op,
			    enum power_state *state, char *err,
			    size_t errlen);
};
extern const struct power_method power_ipmi, power_wol, power_command,
	power_redfish, power_relay;
const char *power_op_name(enum power_op);	/* "on", "boot_net", ... */
const char *power_state_name(enum power_state);	/* "on", "off", "unknown" */
#define POWER_KEYS_MAX		16	/* keys of one slot's settings */
#define POWER_VALUE_MAX		512	/* a setting's value, as text */
#define POWER_SETTINGS_MAX	8192	/* STATE_DIR/power/SLOT.json */
/* A method's keys, for its check and run: a value from the configuration
 * file is a string ("5", "yes"), one from the API may be a number or a
 * boolean; both are taken (a number as a string is digits alone; a
 * yes/no may be 1 or 0 too). Absent or null: def. 0, or -1 with
 * "KEY: why" in err (a method that words its errors its own way writes
 * over it). */
/* An integer key as it is given: 1 with *n, 0 when absent or null, -1
 * when not a whole number. */
int	 power_setting_number(const json_t *settings, const char *key,
	    long long *n);
int	 power_setting_int(const json_t *settings, const char *key, int def,
	    int min, int max, int *out, char *err, size_t errlen);
int	 power_setting_bool(const json_t *settings, const char *key, int def,
	    int *out, char *err, size_t errlen);
/* A string key: its value, def when absent, NULL when not a string. */
const char *power_setting_str(const json_t *settings, const char *key,
	    const char *def);
const struct power_method *power_method_find(const char *name);
/* Settings as the API or a [power.SLOT] section gives them: an object
 * with a known "method", at most POWER_KEYS_MAX keys of strings, numbers
 * or booleans, and the method's check. 0, or -1 with why in err. */
int	 power_settings_check(const json_t *settings, char *err,
	    size_t errlen);
/* A copy fit to show: each secret set is {"set": true}. */
json_t	*power_settings_public(const json_t *settings);
/* Every [power.SLOT] of cfg (cfg->power) checked: "[power.n1] KEY: why". */
int	 power_config_check(const struct config *cfg, char *err,
	    size_t errlen);
int	 power_init(char *err, size_t errlen);	/* STATE_DIR/power */
void	 power_config_use(const json_t *sections);	/* start, SIGHUP */
/* The slot's settings in force (a PATCH's, else the file's): a new
 * reference, or NULL when the slot has none. Any thread. */
json_t	*power_settings_get(const char *slot);
json_t	*power_settings_all(void);	/* {SLOT: settings}, a copy */
/* The slot's PATCHed settings alone (a new reference), or NULL: what a
 * failed PATCH puts back with power_settings_set. */
json_t	*power_settings_patched(const char *slot);
/* PATCH {"power": settings}; NULL removes. 0, or -1 with err. */
int	 power_settings_set(const char *slot, const json_t *settings,
	    char *err, size_t errlen);
/* What the method of these settings can do (0: none or no method). */
unsigned power_caps(const json_t *settings);
/* "on, off, cycle": the ops of caps, for messages. */
void	 power_caps_text(unsigned caps, char *buf, size_t len);
/* An operator's words about the method: "Wake-on-LAN can only switch
 * on", or NULL. */
const char *power_method_note(const char *method);

/* power_run.c: one op of one slot on a work thread, and what reimage and
 * diskless jobs ask of it. */
/* Run op for slot now, on this thread (a work thread): 0, or -1 and err.
 * POWER_STATUS sets *state. The cache (power_poll.c) learns the outcome. */
int	 power_run_now(const char *slot, enum power_op op,
	    enum power_state *state, char *err, size_t errlen);
/* The power job id (power_on, power_off, power_cycle) runs on a work
 * thread and ends done or failed. */
void	 power_job_start(int64_t id, const char *slot, enum power_op op);
/* A reimage job was made: the server is made to boot from the network
 * (boot_net then cycle, or cycle, or on), or told to be switched on by
 * hand (an event of the job). retry: the boot_timeout's second try. */
void	 power_boot_job(int64_t id, const char *slot, int retry);
void	 power_disk_next(const char *slot);	/* boot_disk, if it can */

/* power_poll.c: each slot's cached power state, polled on work threads
 * at a bounded rate; a slot failing POWER_FAILS_MAX times in a row is
 * left alone until its settings change or an op succeeds. */
#define POWER_POLL_SECONDS	10	/* a slot's status at most this often */
#define POWER_POLLS_PER_SECOND	4	/* status calls of all slots */
#define POWER_FAILS_MAX		3
#define POWER_POLLS_RUNNING_MAX	2	/* status calls at once, all slots */
#define POWER_ASKS_RUNNING_MAX	2	/* POST .../power status at once */
struct power_rate {
	int64_t	 second;	/* the second counted (ms / 1000) */
	int	 used;
};
/* May one more status call start at now_ms? 1 (counted) or 0. */
int	 power_rate_take(struct power_rate *, int64_t now_ms);
struct power_poll {
	int64_t	 last_ms;	/* the last call started; 0 never */
	int	 fails;		/* failures in a row */
	int	 busy;		/* a call runs */
};
/* Is the slot's next status call due at now_ms? */
int	 power_poll_due(const struct power_poll *, int64_t now_ms);
void	 power_poll_tick(void);		/* from the loop, each second */
/* An op's or status's outcome (err NULL: success); state: what status
 * told, or what a done op left (POWER_UNKNOWN: unchanged). */
void	 power_poll_note(const char *slot, enum power_op op,
	    enum power_state state, const char *err);
/* Add "power": {...} to node, an object of db_node_get, and "bmc_of"
 * (a BMC link's node) or "bmc": {slot, address, link} (its server's). */
void	 power_node_json(json_t *node);

/* power_ipmi.c: the "ipmi" method, a BMC over IPMI LAN (libfreeipmi). */
#define POWER_IPMI_PORT		623	/* the "port" when none is given */
#define POWER_IPMI_CIPHER	3	/* RMCP+ cipher suite: SHA1, AES-128 */
#define POWER_IPMI_HOST_MAX	64	/* "address": a name or an IPv4 */
#define POWER_IPMI_RESEND_MS	500	/* the first resend of a packet */

/* power_redfish.c: the replies of a Redfish service, parsed apart from
 * the HTTPS so that they can be tested (and fuzzed) alone. */
#define REDFISH_REPLY_MAX	(256 * 1024)	/* a reply's body, at most */
#define REDFISH_PATH_MAX	256	/* an @odata.id or an action's target */
#define REDFISH_ETAG_MAX	128	/* a system's @odata.etag */
#define REDFISH_PIN_B64_LEN	44	/* a SHA-256 in base64, of a pin */
/* The ResetType values rackd knows, a bit each in redfish_system.resets. */
enum redfish_reset {
	RF_RESET_ON, RF_RESET_FORCE_OFF, RF_RESET_GRACEFUL_SHUTDOWN,
	RF_RESET_GRACEFUL_RESTART, RF_RESET_FORCE_RESTART, RF_RESET_NMI,
	RF_RESET_FORCE_ON, RF_RESET_PUSH_POWER_BUTTON, RF_RESET_POWER_CYCLE,
	RF_RESETS
};
/* BootSourceOverrideTarget values, a bit each in redfish_system.boots. */
enum redfish_boot { RF_BOOT_NONE, RF_BOOT_PXE, RF_BOOT_HDD, RF_BOOTS };
struct redfish_system {
	enum power_state state;		/* of "PowerState" */
	char		 etag[REDFISH_ETAG_MAX];	/* "" when none */
	char		 reset_target[REDFISH_PATH_MAX];  /* "" when none */
	unsigned	 resets;	/* 1 << enum redfish_reset allowed */
	int		 resets_listed;	/* AllowableValues given */
	unsigned	 boots;		/* 1 << enum redfish_boot allowed */
	int		 boots_listed;
};
/* The first member's @odata.id of a collection (/redfish/v1/Systems)
 * into path. 0, or -1 with why in err. */
int	 redfish_first_member(const char *body, size_t len, char *path,
	    size_t pathlen, char *err, size_t errlen);
/* A ComputerSystem's reply into *sys. 0, or -1 with why in err. */
int	 redfish_parse_system(const char *body, size_t len,
	    struct redfish_system *sys, char *err, size_t errlen);
enum power_state redfish_power_state(const char *);	/* "On", "Off" */
/* The ResetType for POWER_ON, POWER_OFF or POWER_CYCLE among allowed
 * (RF_RESET bits; all of them when the service lists none), or NULL. */
const char *redfish_reset_type(enum power_op, unsigned allowed);
const char *redfish_reset_name(enum redfish_reset);

/* power_relay.c: a USB HID relay board (16c0:05df "USBRelayN"). */
#define RELAY_VID		0x16c0
#define RELAY_PID		0x05df
#define RELAY_CHANNELS_MAX	8
#define RELAY_REPORT_LEN	9	/* a feature report and its number */
#define RELAY_SERIAL_LEN	5	/* bytes 0-4 of the board's report */
#define RELAY_STATE_BYTE	7	/* the relays' bitmask in it */
#define RELAY_CMD_ON		0xff
#define RELAY_CMD_OFF		0xfd
#define RELAY_PRESS_MIN_MS	50
#define RELAY_PRESS_MAX_MS	5000
#define RELAY_PRESS_MS		500	/* a press of the power button */
#define RELAY_LONG_MIN_MS	1000
#define RELAY_LONG_MAX_MS	20000
#define RELAY_LONG_MS		6000	/* a long press: a forced off */
#define RELAY_CYCLE_PAUSE_MS	2000	/* off, then this, then on */
#define RELAY_SLACK_MS		1000	/* opening and reports, at most */
#define RELAY_DEVICE_MAX	256	/* the "device" key */

/* gadget.c: the board as a USB gadget (configfs). */
int	 gadget_setup(const char *root, const struct strlist *funcs,
	    const char *udc, char *err, size_t errlen);
int	 gadget_teardown(const char *root);

/* metrics.c: counters and GET /metrics. */
void	 metrics_request(const char *route, int status);
void	 metrics_streamed(uint64_t bytes);
/* A pushed chunk: body bytes received, and "stored", "patched" (rebuilt
 * from a patch), "present" (had it already, body not read) or "rejected"
 * (did not match its hash, or bad). */
void	 metrics_push_chunk(uint64_t bytes, const char *result);
char	*metrics_render(int event_clients);	/* malloc'd text */
void	 api_metrics(struct req *);
void	 api_healthz(struct req *);

/* layout.c: built-in paths of rackd's own files, source tree or installed
 * (state_dir, webui_dir, pxe_dir; the installed ones when the program is
 * PREFIX/sbin/rackd). */
int	 layout_installed(void);
const char *layout_default(const char *name, const char *tree_default);
const char *layout_installed_default(const char *name);	/* or NULL */

/* notify.c: readiness and stop for systemd (sd_notify), journal check. */
void	 notify_ready(const char *version);
void	 notify_stopping(void);
int	 notify_journal(void);		/* stderr is systemd's journal */

/* inventory.c: a node's hardware as the clone environment read it (the
 * "inventory" of a job of that action), validated strictly and compared
 * with the one before (a change: another machine, a disk or a NIC gone or
 * new, less memory). inventory_record.c stores it with its history
 * (db/db_inventory.c); a change is an event and flags the node until
 * acknowledged. Enrolment: a new server in a slot gets an inventory job. */
#define INVENTORY_BODY_MAX	(256 * 1024)	/* a posted inventory */
#define INVENTORY_TEXT_MAX	128	/* a string of it, bytes */
#define INVENTORY_DISKS_MAX	64
#define INVENTORY_NICS_MAX	64
#define INVENTORY_CPUS_MAX	65536	/* sockets, cores or threads */
#define INVENTORY_HISTORY_MAX	50	/* records kept per slot */
#define INVENTORY_CHANGES_MAX	32	/* sentences of one record */
#define INVENTORY_CHANGE_MAX	200	/* one sentence, bytes */
/* The posted text of an inventory into *out (a new object holding only
 * the contract's fields): 0, or -1 with why ("disks[1].serial: not a
 * string") in err. */
int	 inventory_parse(const char *text, size_t len, json_t **out,
	    char *err, size_t errlen);
/* What differs from old to new (both parsed): sentences appended to
 * changes (an array); their count. */
int	 inventory_compare(const json_t *old, const json_t *new,
	    json_t *changes);

/* inventory_record.c: inventories kept, their changes told; enrolment. */
/* Store inv (parsed) as slot's newest, read by job: the changes go to the
 * job's events, an "inventory" event and the node's flag. The same job's
 * again is taken as recorded. 0 or -1. */
int	 inventory_record(const char *slot, int64_t job, const json_t *inv);
/* GET's answer: {"slot", "at", "changed", "inventory", "history"}, or
 * NULL when none is recorded. */
json_t	*inventory_json(const char *slot);
/* Enrolment: start an inventory job of slot if conf.enrol, no job is
 * active and the slot has a power method that can switch it on; why:
 * "its link came up". 1 started, 0 not, -1 error. Call with the
 * configuration read-locked, or from the main thread. */
int	 inventory_enrol(const char *slot, const char *why);
/* Is slot a new node (no inventory, never a job)? DB_YES, DB_NO, or
 * DB_ERROR. */
int	 inventory_node_new(const char *slot);
/* The slot's link came back after down_ms: with conf.enrol, down for
 * enrol_relink or longer, no power method and no active job, the slot is
 * marked so that its next network boot that would boot the disk is an
 * inventory first (boot.c); the mark goes when an inventory job ends. */
void	 inventory_relinked(const char *slot, int64_t down_ms);

/* inventory_api.c: GET and POST /api/v1/nodes/{slot}/inventory, POST
 * .../inventory/ack, the agent's POST /api/v1/agent/jobs/ID/inventory. */
void	 inventory_api_get(struct req *);
void	 inventory_api_start(struct req *);
void	 inventory_api_ack(struct req *);
void	 inventory_api_agent(struct req *);

/* routes.c: the route table, who may call each route, and the fallback
 * to the dashboard's files: what main.c gives http_start. */
extern const struct http_routes rackd_routes;

#endif
