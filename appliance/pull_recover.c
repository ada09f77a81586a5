/*
 * pull_recover.c — pulls across restarts: at start the pulls' rows
 * (db_pulls.c, newest first, at most PULLS_MAX) are listed again into
 * pull.c's table, and one neither done nor failed, cut short by a stop or
 * a crash, is resumed under its id with the sources as they are now (its
 * chunks and pending record are still there: it fetches only what is
 * missing), or failed, said why, when it cannot be.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/pull_int.h"
#include "db/db.h"

struct recover {
	size_t	 n;		/* entries filled */
	int	 resumed, failed;
};

static enum pull_state
state_of(const char *name)
{
	for (int i = 0; i < PULL_STATES; i++)
		if (strcmp(pull_state_names[i], name) == 0)
			return (enum pull_state)i;
	return PULL_FAILED;
}

/* One row, newest first, into the next entry; one cut short resumed. */
static int
recover_one(const struct db_pull *d, void *arg)
{
	struct recover *rc = arg;
	struct pull *p = &pull_entries[rc->n++];
	int64_t now = mono_ms();

	memset(p, 0, sizeof(*p));
	p->id = d->id;
	snprintf(p->name, sizeof(p->name), "%.*s", IMAGE_NAME_MAX, d->name);
	snprintf(p->version, sizeof(p->version), "%.*s", IMAGE_NAME_MAX,
	    d->version);
	p->state = state_of(d->state);
	p->present = d->present;
	p->chunks = (uint64_t)d->chunks;
	p->missing = (uint64_t)d->missing;
	p->chunks_done = (uint64_t)d->chunks_done;
	p->bytes_total = (uint64_t)d->bytes_total;
	p->bytes_done = (uint64_t)d->bytes_done;
	p->bytes_fetched = (uint64_t)d->bytes_fetched;
	p->failovers = (unsigned)d->failovers;
	p->resumed = (unsigned)d->resumed;
	p->created = d->created;
	p->start_ms = now - d->run_ms;
	p->end_ms = now;
	snprintf(p->source, sizeof(p->source), "%s", d->source);
	snprintf(p->error, sizeof(p->error), "%s", d->error);
	if (p->state == PULL_DONE || p->state == PULL_FAILED)
		return rc->n >= PULLS_MAX;
	/* Cut short by a stop or a crash: on again, from its chunks. */
	p->end_ms = 0;
	p->resumed++;
	p->state = PULL_QUEUED;
	pthread_mutex_lock(&pull_lock);
	p->nsrc = pull_sources_now(p->src);
	if (p->nsrc == 0 || pull_stopping || pull_active >= PULLS_ACTIVE_MAX ||
	    pull_launch(p) != 0) {
		for (size_t i = 0; i < PULL_SOURCES_MAX; i++) {
			free(p->src[i]);
			p->src[i] = NULL;
		}
		snprintf(p->error, sizeof(p->error), "rackd restarted during "
		    "the pull, and could not resume it: %s", p->nsrc == 0 ?
		    "no image_sources are configured" : "no thread");
		p->nsrc = 0;
		p->state = PULL_FAILED;
		p->end_ms = now;
		rc->failed++;
		pthread_mutex_unlock(&pull_lock);
		log_warnx("pull %s:%s: %s", p->name, p->version, p->error);
		pull_record(p, 1);
	} else {
		rc->resumed++;
		pthread_mutex_unlock(&pull_lock);
		log_info("pull %s:%s (pull %" PRId64 ") resumed after a "
		    "restart", p->name, p->version, p->id);
		pull_record(p, 1);
	}
	return rc->n >= PULLS_MAX;
}

int
pull_recover(void)
{
	struct recover rc = { 0, 0, 0 };

	if (db_pulls_each(recover_one, &rc) != DB_OK)
		return -1;
	if (rc.resumed + rc.failed > 0)
		log_info("pulls: %d resumed after a restart, %d could not be",
		    rc.resumed, rc.failed);
	return 0;
}
