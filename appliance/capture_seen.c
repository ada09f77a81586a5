/*
 * capture_seen.c — the chunks a capture job's agent uploaded that this
 * rackd verified and added to the store itself (push.c's chunk step:
 * decompressed whole, exactly the manifest's length, hashing to its name,
 * synced, renamed in). Its commit need not read those back: the read
 * would go to the very pages that were just checked. Every other chunk
 * of the image (one the store had already, one taken before a restart of
 * rackd, one past the bounds below) is still read back and checked.
 *
 * Bounded: CAPTURE_SEEN_JOBS jobs (the oldest is forgotten for a new one)
 * of CAPTURE_SEEN_MAX chunks each (1 MiB of hashes: 24 GiB of data at
 * 1 MiB chunks); what does not fit is checked at the commit as before.
 * One lock: adoption runs on work threads, the commit on another.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "images/hash.h"

#define CAPTURE_SEEN_JOBS	4
#define CAPTURE_SEEN_SLOTS	(1u << 15)	/* open addressing */
#define CAPTURE_SEEN_MAX	(CAPTURE_SEEN_SLOTS / 4 * 3)

struct seen {
	int64_t		 job;		/* 0: unused */
	uint64_t	 age;
	size_t		 n;
	uint8_t		(*slot)[HASH_LEN];	/* all-zero: empty */
};

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct seen seen[CAPTURE_SEEN_JOBS];
static uint64_t seen_clock;

static size_t
slot_of(const uint8_t *h)
{
	uint64_t v;

	memcpy(&v, h, sizeof(v));	/* a hash: evenly spread already */
	return (size_t)(v & (CAPTURE_SEEN_SLOTS - 1));
}

static struct seen *
find(int64_t job)
{
	for (int i = 0; i < CAPTURE_SEEN_JOBS; i++)
		if (seen[i].job == job)
			return &seen[i];
	return NULL;
}

static void
forget(struct seen *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

/* The table of job, made (the oldest forgotten) if need be; NULL. */
static struct seen *
table(int64_t job)
{
	struct seen *s = find(job), *old = &seen[0];

	if (s != NULL)
		return s;
	for (int i = 0; i < CAPTURE_SEEN_JOBS; i++) {
		if (seen[i].job == 0) {
			old = &seen[i];
			break;
		}
		if (seen[i].age < old->age)
			old = &seen[i];
	}
	forget(old);
	if ((old->slot = calloc(CAPTURE_SEEN_SLOTS, HASH_LEN)) == NULL)
		return NULL;
	old->job = job;
	return old;
}

static const uint8_t zero_hash[HASH_LEN];

void
capture_seen_add(int64_t job, const char *hex)
{
	uint8_t h[HASH_LEN];
	struct seen *s;
	size_t k;

	if (hash_from_hex(hex, h) != 0 || memcmp(h, zero_hash, HASH_LEN) == 0)
		return;
	pthread_mutex_lock(&seen_lock);
	if ((s = table(job)) != NULL && s->n < CAPTURE_SEEN_MAX) {
		s->age = ++seen_clock;
		for (k = slot_of(h); memcmp(s->slot[k], zero_hash, HASH_LEN)
		    != 0; k = (k + 1) & (CAPTURE_SEEN_SLOTS - 1))
			if (memcmp(s->slot[k], h, HASH_LEN) == 0)
				break;
		if (memcmp(s->slot[k], h, HASH_LEN) != 0) {
			memcpy(s->slot[k], h, HASH_LEN);
			s->n++;
		}
	}
	pthread_mutex_unlock(&seen_lock);
}

int
capture_seen_has(int64_t job, const uint8_t *h)
{
	struct seen *s;
	int found = 0;

	if (memcmp(h, zero_hash, HASH_LEN) == 0)
		return 0;
	pthread_mutex_lock(&seen_lock);
	if ((s = find(job)) != NULL)
		for (size_t k = slot_of(h); !found && memcmp(s->slot[k],
		    zero_hash, HASH_LEN) != 0;
		    k = (k + 1) & (CAPTURE_SEEN_SLOTS - 1))
			found = memcmp(s->slot[k], h, HASH_LEN) == 0;
	pthread_mutex_unlock(&seen_lock);
	return found;
}

void
capture_seen_forget(int64_t job)
{
	struct seen *s;

	pthread_mutex_lock(&seen_lock);
	if ((s = find(job)) != NULL)
		forget(s);
	pthread_mutex_unlock(&seen_lock);
}
