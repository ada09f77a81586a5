/*
 * db.h — rackd's state store. SQLite lives behind this header and nowhere
 * else. One connection, serialised by a lock inside db.c, so any thread may
 * call. Reads for the API come back as jansson objects ready to send.
 */
#ifndef RACKD_DB_H
#define RACKD_DB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum {
	DB_OK = 0,
	DB_ERROR = -1,		/* logged; the caller answers 500 */
	DB_NOTFOUND = -2,
	DB_CONFLICT = -3,
};

/*
 * What a write that may find nothing to do did, or what a yes-or-no
 * question found; DB_ERROR besides. Kept at 1 and 0, so that a caller's
 * "== 1" still reads as DB_CHANGED or DB_YES.
 */
enum {
	DB_UNCHANGED = 0,	/* the row existed, or held the value already */
	DB_CHANGED = 1,		/* a row was made, or a value changed */
};
enum {
	DB_NO = 0,
	DB_YES = 1,
};

/*
 * Limits. A length is without the NUL (its buffer is one more); a size,
 * "with its NUL", is the buffer's.
 */
#define DB_SLOT_MAX	32	/* a slot name's length */
#define DB_REF_MAX	160	/* "name:version", length */
#define DB_TOKEN_MAX	64	/* a job's agent token (hex), length */
#define DB_CSRF_MAX	64	/* a session's CSRF token, length */
#define DB_STATE_MAX	16	/* a job state's name, with its NUL */
#define DB_REASON_MAX	256	/* why a job failed, with its NUL */
#define DB_ACTION_MAX	16	/* a job's action ("reimage"), with its NUL */
#define DB_IFNAME_MAX	32	/* an interface name (IFNAMSIZ is 16), size */
#define DB_KIND_MAX	16	/* "usb", "ether" or "virtual", with its NUL */
#define DB_LINKSTATE_MAX 8	/* "up" or "down", with its NUL */
#define DB_ADDR_MAX	16	/* a dotted IPv4 address, with its NUL */
#define DB_MIGRATIONS_MAX 64	/* numbered migrations schema.sql may hold */
/* An error message, with its NUL: db_open's err (a path and SQLite's
 * message) and what the error hook is given. */
#define DB_ERR_MAX	512

/* db.c: connection, migrations, errors. */
int	 db_open(const char *path, int target_version, char *err,
	    size_t errlen);
void	 db_close(void);
int	 db_schema_version(void);
int	 db_schema_latest(void);
int64_t	 db_now_ms(void);
/* Called with each SQLite failure (for logging); NULL for none. */
void	 db_set_error_hook(void (*hook)(const char *msg));

/* db_nodes.c: slots and their links. */
/* DB_CHANGED made, DB_UNCHANGED existed, or DB_ERROR. */
int	 db_node_ensure(const char *slot);
int	 db_node_exists(const char *slot);	/* DB_YES, DB_NO, DB_ERROR */
json_t	*db_node_get(const char *slot);		/* NULL: not found or error */
json_t	*db_nodes_list(void);
int	 db_node_update(const char *slot, const char *label,
	    const char *image, const char *boot_mode);	/* NULL: unchanged */
int	 db_node_set_result(const char *slot, const char *result);
/* The slot's Secure Boot setting: 1 on, 0 off, -1 the rack's (NULL). */
int	 db_node_set_secure_boot(const char *slot, int on);
/* What the clone environment found: 1 Secure Boot on, 0 off. */
int	 db_node_set_booted_secure(const char *slot, int on);
/* The slot's mark "an inventory at its next network boot" (a link that
 * went away and came back, no power method): set or cleared (DB_OK, or
 * DB_NOTFOUND when it already was so); read: 1, 0, or DB_ERROR. */
int	 db_node_set_enrol_at_boot(const char *slot, int on);
int	 db_node_enrol_at_boot(const char *slot);
int	 db_links_up(void);			/* a count, or DB_ERROR */
/* DB_CHANGED, DB_UNCHANGED (the slot had that MAC), or DB_ERROR. */
int	 db_node_set_mac(const char *slot, const char *mac);

/* db_links.c: management links, one per slot, and their history. */
struct db_link {
	char	 slot[DB_SLOT_MAX + 1];
	char	 ifname[DB_IFNAME_MAX];
	char	 kind[DB_KIND_MAX];
	char	 state[DB_LINKSTATE_MAX];	/* "up" or "down" */
	char	 board_addr[DB_ADDR_MAX];
	char	 node_addr[DB_ADDR_MAX];
	int	 prefix;
};
int	 db_link_get(const char *slot, struct db_link *out);
/* Insert or update (the node row is made if missing). */
int	 db_link_save(const struct db_link *l);
/* DB_CHANGED (a history row is written), DB_UNCHANGED, or DB_ERROR. */
int	 db_link_set_state(const char *slot, const char *state);
/* DB_OK and since (ms) when the slot's link is down, DB_NOTFOUND when it
 * is up or not known, DB_ERROR. */
int	 db_link_down_since(const char *slot, int64_t *since);
int	 db_links_each(int (*fn)(const struct db_link *, void *), void *arg);
json_t	*db_link_history(const char *slot, int limit);

/* db_images.c: the image catalogue (manifests live in the store). */
struct db_image {
	const char	*name, *version, *kind, *hash;
	uint64_t	 size, chunk_size, stored;
	int		 is_signed;
	size_t		 nchunks;
	const uint64_t	*offsets, *lengths;
	const char	*const *hashes;		/* 64 hex each */
};
/* DB_CONFLICT: exists */
int	 db_image_add(const struct db_image *im);
int	 db_image_exists(const char *name, const char *version);
/* version NULL or "": newest. Fills version_out; DB_NOTFOUND if none. */
int	 db_image_resolve(const char *name, const char *version,
	    char *version_out, size_t len, uint64_t *size_out);
int	 db_image_remove(const char *name, const char *version);
json_t	*db_images_list(void);
/* db_capture.c: marks name:version as captured on this rack from slot by
 * job (shown as "captured" by db_images_list and db_image_get). */
int	 db_image_set_captured(const char *name, const char *version,
	    const char *slot, int64_t job);
json_t	*db_image_get(const char *name);

/* db_jobs.c: jobs and their event logs. */
struct db_job {
	int64_t	 id;
	char	 slot[DB_SLOT_MAX + 1];
	char	 action[DB_ACTION_MAX];
	char	 image[DB_REF_MAX + 1];
	char	 state[DB_STATE_MAX];
	char	 reason[DB_REASON_MAX];
	char	 token[DB_TOKEN_MAX + 1];
	int64_t	 bytes_total, bytes_done, bytes_fetched, rate;
	int64_t	 created, updated, seen;	/* ms; seen 0 = never */
};
/* DB_CONFLICT when the slot already has an active job. */
int	 db_job_create(const char *slot, const char *action, const char *image,
	    const char *token, int64_t bytes_total, int64_t *id_out);
/* The same with the action's parameters, a JSON object's text (NULL: none),
 * returned as "params" by db_job_json. */
int	 db_job_create_params(const char *slot, const char *action,
	    const char *image, const char *params, const char *token,
	    int64_t bytes_total, int64_t *id_out);
int	 db_job_get(int64_t id, struct db_job *out);
int	 db_job_active(const char *slot, struct db_job *out);	/* NOTFOUND */
/* Move from state `from` to `to` (compare and set) with an event row;
 * DB_CONFLICT if the job is no longer in `from`. */
int	 db_job_set_state(int64_t id, const char *from, const char *to,
	    const char *reason, const char *message);
int	 db_job_progress(int64_t id, int64_t done, int64_t fetched,
	    int64_t rate);
int	 db_job_event(int64_t id, const char *message);
/* A job made without a size (an erase) takes the one its agent found;
 * a job's bytes_total that is set already stays. */
int	 db_job_set_total(int64_t id, int64_t total);
int	 db_job_seen(int64_t id);
/* Calls fn for each job not done or failed; stops if fn returns non-zero. */
int	 db_jobs_active(int (*fn)(const struct db_job *, void *), void *arg);
json_t	*db_job_json(int64_t id);		/* with its event log */
json_t	*db_jobs_list(const char *slot, const char *state, int limit);
json_t	*db_job_counts(void);			/* {"queued": n, ...} */

/* db_sessions.c: dashboard sessions (the id is a hash of the cookie). */
/* Drop expired sessions, then the oldest while max or more remain, then
 * add this one. */
int	 db_session_add(const char *id, const char *csrf, int64_t created,
	    int64_t expires, int max);
/* DB_OK and the CSRF token if the session exists and expires after now. */
int	 db_session_get(const char *id, int64_t now, char *csrf, size_t len,
	    int64_t *expires);
int	 db_session_delete(const char *id);	/* DB_NOTFOUND if none */
int	 db_sessions_clear(void);
int	 db_sessions_count(int64_t now);	/* live ones, or DB_ERROR */

/* db_push.c: pending image pushes and garbage collection's questions. */
/* Remember a posted manifest (replacing one of the same name and version)
 * and its distinct chunks: hashes[i] (64 hex) of lengths[i] bytes. */
int	 db_push_save(const char *name, const char *version,
	    const char *manifest, const char *alg, int is_signed, size_t n,
	    const char *const *hashes, const uint32_t *lengths,
	    const uint32_t *stored);
/* The pending manifest's text (malloc'd); DB_NOTFOUND if none. */
int	 db_push_manifest(const char *name, const char *version,
	    char **manifest);
int	 db_push_remove(const char *name, const char *version);
/* Length and hash algorithm of a chunk some pending push waits for. */
int	 db_push_chunk_find(const char *hash, uint64_t *length,
	    uint64_t *stored, char *alg, size_t alglen);
json_t	*db_pushes_list(void);
/* A chunk of these pushes arrived: they are in use (see db_push_expired);
 * written when the last note is older than every_ms. */
int	 db_push_touch(const char *hash, int64_t every_ms);
/* The pending push unused longest, if unused for idle_ms: DB_OK with its
 * name and version, or DB_NOTFOUND. */
int	 db_push_expired(int64_t idle_ms, char *name, char *version,
	    size_t len);
/* Chunks of an image (or of a pending push) that no other image and no
 * pending push uses: what deleting it frees. JSON array of hashes. */
json_t	*db_image_unshared_chunks(const char *name, const char *version);
json_t	*db_push_unshared_chunks(const char *name, const char *version);
/* DB_YES and what uses it (an active job, a node booting it diskless),
 * DB_NO if nothing, or DB_ERROR. */
int	 db_image_busy(const char *name, const char *version, char *what,
	    size_t len);

/* db_pulls.c: image pulls (pull.c), kept across restarts. */
#define DB_PULLS_KEEP	64	/* rows kept, the newest */
#define DB_PULL_SRC_MAX	2048	/* a source URL, with its NUL */
#define DB_PULL_ERR_MAX	512	/* why it failed, with its NUL */
struct db_pull {
	int64_t	 id;
	char	 name[DB_REF_MAX + 1];
	char	 version[DB_REF_MAX + 1];
	char	 state[DB_STATE_MAX];
	int	 present;
	int64_t	 chunks, missing, chunks_done;
	int64_t	 bytes_total, bytes_done, bytes_fetched;
	int64_t	 failovers, resumed, run_ms;
	char	 source[DB_PULL_SRC_MAX];	/* "": none yet */
	char	 error[DB_PULL_ERR_MAX];	/* "": none */
	int64_t	 created;			/* ms since the epoch */
};
/* A new row (state "queued") and its id; the oldest beyond DB_PULLS_KEEP
 * go. */
int	 db_pull_create(const char *name, const char *version,
	    int64_t *id_out, int64_t *created_out);
/* Every field of the row p->id but its name, version and creation. */
int	 db_pull_save(const struct db_pull *p);
/* Each row, newest first; stops when fn returns non-zero. */
int	 db_pulls_each(int (*fn)(const struct db_pull *, void *), void *arg);
/* db_inventory.c: each node's hardware inventories and their history. */
/* A new inventory of slot read by job: json, the "inventory" object's
 * text; changes, a JSON array of sentences (NULL: none); flag sets the
 * node's inventory_changed; the slot keeps its keep newest rows. */
int	 db_inventory_add(const char *slot, int64_t job, const char *json,
	    const char *changes, int flag, int keep);
/* {"slot", "at", "job", "changed", "inventory"} of the newest, or NULL. */
json_t	*db_inventory_last(const char *slot);
/* [{"at", "job", "changes"}], newest first. */
json_t	*db_inventory_history(const char *slot, int limit);
int	 db_inventory_count(const char *slot);	/* rows, or DB_ERROR */
/* Clears the node's flag: DB_OK, DB_NOTFOUND (was not set). */
int	 db_inventory_ack(const char *slot);

#endif
