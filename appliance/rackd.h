/*
 * rackd.h — what each file of rackd offers. One header for the program;
 * libmicrohttpd stays inside the HTTP files (http.c, stream.c, events.c,
 * static.c, boot.c, diskless_stream.c), SQLite inside db/, libarchive
 * inside images/.
 */
#ifndef RACKD_H
#define RACKD_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <jansson.h>

/* Limits. Every buffer and count has one; crossing it is a clean error. */
#define LOG_LINE_MAX		1024
#define CONFIG_VALUE_MAX	1024
#define CONFIG_ERR_MAX		512
#define SLOT_NAME_MAX		32
#define SLOTS_MAX		256
#define LABEL_MAX		64
#define PATH_MAX_RACKD		1024
#define ROUTE_PARAMS_MAX	3
#define URL_MAX			2048
#define EVENTS_RING		1024	/* events kept for reconnecting clients */
#define EVENTS_CLIENTS_MAX	128	/* concurrent /api/v1/events streams */
#define EVENT_MAX		(64 * 1024)
#define JOBS_LIST_MAX		500
#define TOKEN_HEX		64	/* 32 random bytes */
#define HEARTBEAT_SECONDS	15
#define HOSTNAME_MAX		63	/* a node's hostname */
#define LINK_HISTORY_MAX	1000	/* rows of GET /api/v1/nodes/{slot}/links */

/* log.c */
void	 log_init(int foreground, int verbose, const char *ident);
void	 log_set_verbose(int verbose);
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/* options.c: the option table, config file, command line, --help. */
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
	char		*ipxe_dir;
	char		*pxe_dir;
	struct strlist	 gadget;		/* ncm, ecm, rndis */
	char		*gadget_configfs;
	char		*gadget_udc;
	struct strlist	 trusted_keys;		/* files or base64 keys */
	int		 push_expiry;		/* seconds */
	char		*ssh_keys;		/* file for diskless nodes */
	int		 diskless_stream;	/* rootfs as one stream */
	size_t		 rootfs_max_size;	/* bytes, for diskless nodes */
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
int	 slot_name_valid(const char *);

/* main.c: the running configuration, read under a lock by HTTP threads. */
extern struct config conf;
void	 conf_rdlock(void);
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

/* statedir.c: the state directory, its lock and the files in it. */
int	 statedir_open(const char *dir, char *err, size_t errlen);
int	 statedir_path(char *buf, size_t len, const char *name);
int	 statedir_write_secret(const char *name, const char *text);
int	 statedir_read_small(const char *name, char *buf, size_t len);

/* auth.c: the API token and per-job agent tokens. */
int	 auth_init(char *err, size_t errlen);	/* api.token */
int	 auth_reload(void);
int	 auth_check_api(const char *authorization);	/* 1 ok */
int	 auth_token_equal(const char *a, const char *b);
void	 auth_random_hex(char out[TOKEN_HEX + 1]);
const char *auth_api_token(void);
void	 auth_hash_hex(const void *data, size_t len, char out[TOKEN_HEX + 1]);

/* http.c: the HTTP server, routing, limits, replies. */
struct req;
struct MHD_Response;
struct MHD_Connection;
int	 http_start(char *err, size_t errlen);
void	 http_stop(void);
int	 http_listen_node(const char *board_addr);	/* a link's listener */
const char *http_param(struct req *, int i);	/* {slot}, {id}, ... */
const char *http_query(struct req *, const char *key);
const char *http_header(struct req *, const char *name);
const char *http_method(struct req *);
const char *http_url(struct req *);
const char *http_body(struct req *, size_t *len);
int	 http_client_addr(struct req *, struct sockaddr_storage *);
int64_t	 http_agent_job(struct req *);	/* job id the agent token is for */
void	 http_stream_add(struct req *, uint64_t bytes);	/* for /metrics */
void	 http_reply_json(struct req *, int status, json_t *body);
void	 http_reply_error(struct req *, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 http_reply_text(struct req *, int status, const char *ctype,
	    const char *text);
void	 http_reply_response(struct req *, int status, struct MHD_Response *);
struct MHD_Connection *http_connection(struct req *);	/* HTTP files only */
const char *http_cookie(struct req *, const char *name);
/* An extra header for the reply to come (Set-Cookie, Retry-After); at most
 * REPLY_HEADERS_MAX of REPLY_HEADER_MAX bytes. 0 or -1. */
#define REPLY_HEADERS_MAX	4
#define REPLY_HEADER_MAX	256
int	 http_add_header(struct req *, const char *name, const char *value);
/* Parse the request body as a JSON object; on error replies 400, NULL. */
json_t	*http_json_body(struct req *);
/* Streaming bodies (routes of kind BODY_STREAM). The route's handler runs
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
int	 session_end(const char *cookie);	/* 1 ended, 0 none, -1 */
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
void	 api_images_list(struct req *);
void	 api_image_get(struct req *);
void	 api_jobs_list(struct req *);
void	 api_job_get(struct req *);
void	 api_job_cancel(struct req *);
/* Validate a PATCH body; fills the fields (NULL: not given). 0 or -1. */
int	 api_parse_node_patch(json_t *body, const char **label,
	    const char **image, const char **boot_mode, char *err,
	    size_t errlen);

/* agent.c: the endpoints the clone agent calls with its job token. */
void	 agent_job_get(struct req *);
void	 agent_job_report(struct req *);

/* stream.c: GET/HEAD /chunks/{hash}, sendfile with single ranges. */
void	 stream_chunk(struct req *);
int	 stream_parse_range(const char *hdr, uint64_t size, uint64_t *start,
	    uint64_t *len);	/* 0 whole, 1 range, -1 unsatisfiable */

/* static.c: the dashboard's files under webui_dir. */
void	 static_file(struct req *);
/* A folder files are served from, opened once and kept (-1: cannot). */
int	 served_dir(const char *path);
int	 static_path_ok(const char *urlpath);

/* events.c: Server-Sent Events to the dashboard and rackctl. */
int	 events_init(void);
void	 events_publish(const char *type, json_t *data);	/* steals */
void	 events_heartbeat(void);	/* also ends streams of ended sessions */
void	 events_sessions_check(void);
void	 events_shutdown(void);
void	 events_stream(struct req *);
int	 events_clients(void);

/* jobs.c: the job state machine. */
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
};
int	 job_transition_allowed(const char *from, const char *to);
int	 job_state_valid(const char *state);
int	 job_state_terminal(const char *state);
int	 jobs_reimage(const char *slot, const char *image_ref, int64_t *id);
int	 jobs_cancel(int64_t id, const char *who);
int	 jobs_report(int64_t id, const char *state, int64_t done,
	    int64_t fetched, int64_t rate, const char *reason);
int	 jobs_node_booting(const char *slot);	/* boot script fetched */
int	 jobs_token_check(int64_t id, const char *token);	/* JOB_OK: active */
void	 jobs_recover(void);			/* at start */
void	 jobs_tick(void);			/* timeouts, from the loop */
void	 jobs_publish(int64_t id);
void	 nodes_publish(const char *slot);

/* catalog.c: index the image store's manifests into the database. */
int	 catalog_open(char *err, size_t errlen);
int	 catalog_scan(void);			/* images added */
int	 catalog_chunk_path(const char *hash, char *buf, size_t len);
/* The manifest given to nodes: NULL when the image is not in the store or
 * trusted_keys is set and it is not signed by one of them. */
json_t	*catalog_manifest_json(const char *image_ref);
/* 1: nodes may be given the image (signed by a trusted key, or none is
 * configured); 0 (why says so) or -1 (not in the store). Call with the
 * configuration read-locked. */
int	 catalog_image_trusted(const char *image_ref, char *why, size_t len);
struct store *catalog_store(void);
/* Index a manifest the store holds and announce it. 0, or -1 (logged). */
int	 catalog_add(const char *name, const char *version);
void	 catalog_close(void);

/* push.c: images pushed from a central host (rackctl push): the manifest
 * (a pending push; the answer lists the chunks this rack lacks), chunks
 * streamed into the store and verified, commit, and delete with garbage
 * collection of the chunks nothing else needs. */
#define PUSH_MISSING_SHOWN	8	/* missing chunks named in a message */
void	 push_manifest(struct req *);	/* POST /api/v1/images/N/versions/V */
void	 push_chunk(struct req *);	/* PUT /api/v1/chunks/{hash} */
void	 push_commit(struct req *);	/* POST .../commit */
void	 push_delete(struct req *);	/* DELETE /api/v1/images/N/versions/V */
void	 push_list(struct req *);	/* GET /api/v1/pushes */
void	 push_expire(void);	/* drop pushes unused for push_expiry */
struct sign_keys;
/* The trusted_keys option's keys: n (0: none configured, any image is
 * taken), or -1 with err. Call with the configuration read-locked. */
int	 push_trusted_keys(struct sign_keys *, char *err, size_t errlen);

/* links.c: the link manager (netlink watcher, slots, subnets). */
int	 links_init(char *err, size_t errlen);
void	 links_rescan(void);
void	 links_close(void);
/* A USB network driver of link_drivers or a name in `links`, and not an
 * `uplink`. Sets *kind (usb, ether, virtual). */
int	 links_is_management(const char *ifname, const char **kind);
int	 subnet_addrs(uint32_t net, int pool_len, int slot_len, uint32_t index,
	    char *board, char *node);	/* 16 bytes each */
int	 usb_port_from_devpath(const char *path, char *out, size_t len);
struct db_link;
int	 slot_ula(const struct db_link *, char *out, size_t len);

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
/* dnsmasq's leases and options (root's: /run/rackd/DEV-INODE). */
int	 priv_run_dir(char *buf, size_t len);
/* The helper's checks, for the unit tests. */
int	 priv_link_allowed(const char *ifname);
int	 priv_addr_allowed(const char *addr, int prefix);
int	 priv_conf_line_ok(const char *line, const char *run_dir,
	    const char *tftp_dir);
int	 priv_opts_line_ok(const char *line);

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

/* boot.c: /boot/{slot}.ipxe and the clone kernel and initramfs. */
void	 boot_script(struct req *);
void	 boot_file(struct req *);
int	 boot_render(const char *slot, const char *host, char *buf,
	    size_t len);	/* the script for a slot's node, from its state */
/* The request comes from slot's node: 0 and *link, or -1 (404/403 sent). */
struct db_link;
int	 boot_node_check(struct req *, const char *slot, struct db_link *link);

/* diskless.c: diskless boots (a job each) and the per-node overlay. */
/* 2 and the diskless script in buf; 0 if the node does not boot diskless
 * (the caller renders another); -1 on error. */
int	 diskless_render(const char *slot, const char *host, char *buf,
	    size_t len);
int	 diskless_hostname(const char *slot, char *out, size_t len);
/* "disk" or "rootfs" of an image "name[:version]" into kind; 0 or -1. */
int	 diskless_image_kind(const char *ref, char *kind, size_t len);
/* A PATCH leaves a diskless node with a rootfs image (or none): 0, or
 * -1 with err. image/mode NULL: unchanged. */
int	 diskless_patch_check(const char *slot, const char *image,
	    const char *mode, char *err, size_t errlen);
json_t	*diskless_overlay_json(const char *slot, int cloud_init);
void	 diskless_overlay(struct req *);	/* GET /boot/{slot}/overlay */

/* diskless_stream.c: GET /boot/{slot}/rootfs?from=K, the image of the
 * slot's diskless job as one zstd stream (its stored chunks in order). */
void	 diskless_stream(struct req *);

/* gadget.c: the board as a USB gadget (configfs). */
int	 gadget_setup(const char *root, const struct strlist *funcs,
	    const char *udc, char *err, size_t errlen);
int	 gadget_teardown(const char *root);

/* metrics.c: counters and GET /metrics. */
void	 metrics_request(const char *route, int status);
void	 metrics_streamed(uint64_t bytes);
/* A pushed chunk: body bytes received, and "stored", "present" (had it
 * already, body not read) or "rejected" (did not match its hash, or bad). */
void	 metrics_push_chunk(uint64_t bytes, const char *result);
char	*metrics_render(void);			/* malloc'd text */
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

#endif
