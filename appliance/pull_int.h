/*
 * pull_int.h — what the files of a pull share (pull.c, pull_fetch.c,
 * pull_http.c, pull_recover.c, pull_subscribe.c; not for the rest of
 * appliance/, which sees rackd.h's pull block only): a pull's entry, the
 * table of them and its lock, and the calls between the files.
 */
#ifndef RACKD_APPLIANCE_PULL_INT_H
#define RACKD_APPLIANCE_PULL_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "appliance/rackd.h"
#include "images/hash.h"
#include "images/manifest.h"

enum pull_state {
	PULL_QUEUED, PULL_MANIFEST, PULL_FETCHING, PULL_COMMITTING, PULL_DONE,
	PULL_FAILED, PULL_STATES
};

extern const char *const pull_state_names[PULL_STATES];

struct pull {
	int64_t		 id;		/* 0: an unused entry */
	int		 live;		/* its thread has not ended */
	char		 name[IMAGE_NAME_MAX + 1];
	char		 version[IMAGE_NAME_MAX + 1];
	enum pull_state	 state;
	int		 present;	/* the rack had the image */
	uint64_t	 chunks;	/* distinct chunks of the image */
	uint64_t	 missing;	/* of those, the store lacked */
	uint64_t	 chunks_done;	/* fetched, or found stored meanwhile */
	uint64_t	 bytes_total;	/* compressed bytes missing */
	uint64_t	 bytes_done;
	uint64_t	 bytes_fetched;	/* every attempt counted */
	unsigned	 failovers;	/* requests sent on to another source */
	int64_t		 start_ms, end_ms;
	char		 source[URL_MAX];	/* the last that served */
	char		 error[ERR_MAX];
	/* the sources, as image_sources was when the pull began */
	size_t		 nsrc;
	char		*src[PULL_SOURCES_MAX];
	int64_t		 down_until[PULL_SOURCES_MAX];	/* ms */
	/* the chunks to fetch, taken in turn by the streams */
	struct push_need *need;
	size_t		 nneed, next;
	int		 bad;		/* a chunk failed everywhere */
	enum hash_alg	 alg;
	int64_t		 created;	/* ms since the epoch */
	int64_t		 saved_ms;	/* when last written (mono) */
	unsigned	 resumed;	/* times resumed after a restart */
};

/* pull.c: the table, under pull_lock (pull_idle is signalled when the
 * last pull's thread, or the subscription's, ends). */
extern pthread_mutex_t pull_lock;
extern pthread_cond_t pull_idle;
extern struct pull pull_entries[PULLS_MAX];
extern int pull_active;		/* pulls whose thread runs */
extern int pull_stopping;	/* pull_stop was called (atomic reads) */
extern int pull_streams;	/* chunk downloads running, all pulls */
extern int pull_sub_live;	/* the subscription thread runs */

/* pull.c: a pull into its row and onto /api/v1/events (at once with
 * force, else at most every PULL_SAVE_MS); its state; its failure. */
void	 pull_record(struct pull *p, int force);
void	 pull_set_state(struct pull *p, enum pull_state s);
void	 pull_fail(struct pull *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int	 pull_running(const struct pull *p);	/* lock held */
/* A thread for p, filled (lock held): 0, or -1 with p's sources freed. */
int	 pull_launch(struct pull *p);
/* The sources as image_sources is now, strdup'd into src: how many. */
size_t	 pull_sources_now(char **src);
json_t	*pull_json(const struct pull *p);	/* lock held */

/* pull_http.c: one GET with bounded timeouts and pull_rate, over a
 * connection of its own (libcurl is named there only). */
struct pull_conn;
struct pull_conn *pull_conn_new(void);		/* NULL: libcurl failed */
void	 pull_conn_free(struct pull_conn *);
/* Where a body goes: memory (the manifest) or a file (a chunk). */
struct pull_sink {
	char		*buf;
	size_t		 len, cap;
	int		 fd;		/* -1: memory */
	uint64_t	 max;		/* a larger body is cut off */
	uint64_t	 got;
	int		 too_big;
	uint64_t	 rate;		/* pull_rate, bytes/s; 0: any */
};
/* What one GET came to. */
enum pull_fetch {
	PULL_FETCH_OK,
	PULL_FETCH_ABSENT,	/* 404: this source has no such file */
	PULL_FETCH_DOWN,	/* no answer, a timeout, a 5xx: fail over */
	PULL_FETCH_BAD,		/* an answer we cannot take (too big, 4xx) */
};
enum pull_fetch pull_get(struct pull_conn *, const char *url,
	    struct pull_sink *s, char *err, size_t errlen);

/* pull_fetch.c: from p's sources in turn, failing over. The manifest
 * (NULL with the pull failed); the chunks it lacks over PULL_STREAMS
 * connections, each verified into the store (0 when all are in). */
struct manifest *pull_fetch_manifest(struct pull *p, struct pull_conn *c);
int	 pull_fetch_chunks(struct pull *p);

#endif
