/*
 * cancel_note.c — what a cancelled job left on its server's disk, said in
 * the job's events. At the cancel (jobs_cancel) rackd writes its own note
 * from what it knows: the action, the state the job was in, its last
 * progress report and, for an erase, the method the agent's notes named.
 * The agent learns of the cancel at its next report and says itself how
 * far it got: its notes (POST /api/v1/agent/jobs/ID/event) are taken for
 * CANCEL_GRACE_MS after the cancel, CANCEL_GRACE_NOTES of them, added to
 * the cancelled job's events without reopening it; everything else of the
 * job's token is refused as before (409).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"
#include "images/bytes.h"

/* An erase's method, named by the agent's notes (pxe/agent/erase.c):
 * the last note that starts with one of these (and is not a skip or a
 * failure of it) says which ran when the job was cancelled. */
static const struct {
	const char	*note;		/* the start of the agent's note */
	const char	*name;		/* in rackd's note */
	const char	*left;		/* what the disk holds after a cancel */
} erase_methods[] = {
	{ "auto: NVMe Sanitize", "NVMe Sanitize", "the drive carries a "
	    "sanitize it began on to its end by itself (after a power cycle "
	    "too); the erase was not checked" },
	{ "auto: NVMe Format NVM", "NVMe Format NVM", "the drive ends a "
	    "format it began by itself (the agent waits for it); the erase "
	    "was not checked" },
	{ "auto: ATA SECURITY ERASE UNIT", "ATA secure erase", "the drive "
	    "ends an erase it began by itself (the agent waits for it); "
	    "power lost before then leaves it locked with the password "
	    "\"rackd-erase\"; the erase was not checked" },
	{ "auto: discard", "discard", "the discard ends by itself; it was "
	    "not checked, old data may remain where the disk did not "
	    "discard" },
	{ "auto: overwriting with zeros", "overwrite", NULL },
	{ "auto: the discard does not read back zeros", "overwrite", NULL },
};

#define NMETHODS	(sizeof(erase_methods) / sizeof(erase_methods[0]))

/* The index of the erase's method in erase_methods, -1 not known. */
static int
erase_method(const json_t *job)
{
	const char *m = json_string_value(json_object_get(json_object_get(job,
	    "params"), "method"));
	json_t *events = json_object_get(job, "events"), *e;
	int found = -1;
	size_t i;

	if (m != NULL && strcmp(m, "overwrite") == 0)
		return (int)NMETHODS - 2;
	json_array_foreach(events, i, e) {
		const char *msg = json_string_value(json_object_get(e,
		    "message"));
		if (msg == NULL || strstr(msg, " not used: ") != NULL ||
		    strstr(msg, " failed, trying the next method") != NULL)
			continue;
		for (size_t k = 0; k < NMETHODS; k++)
			if (strncmp(msg, erase_methods[k].note,
			    strlen(erase_methods[k].note)) == 0)
				found = (int)k;
	}
	return found;
}

/* " at 41% (1.6 GiB of 4.0 GiB)", or "" before any progress. */
static void
progress(const json_t *job, char *buf, size_t len)
{
	int64_t done = json_integer_value(json_object_get(job, "bytes_done"));
	int64_t total = json_integer_value(json_object_get(job,
	    "bytes_total"));
	char d[BYTES_STR_MAX], t[BYTES_STR_MAX];

	buf[0] = '\0';
	if (total <= 0 || done < 0)
		return;
	if (done > total)
		done = total;
	snprintf(buf, len, " at %d%% (%s of %s)", (int)(done * 100 / total),
	    fmt_bytes((uint64_t)done, d, sizeof(d)),
	    fmt_bytes((uint64_t)total, t, sizeof(t)));
}

static int
erase_note(const json_t *job, int st, const char *at, char *buf, size_t len)
{
	int m = erase_method(job);
	char d[BYTES_STR_MAX];

	if (st == JOB_VERIFYING)
		return snprintf(buf, len, "cancelled while checking the "
		    "erase%s%s: the disk was erased but the check did not end",
		    m >= 0 ? " by " : "", m >= 0 ? erase_methods[m].name : "");
	if (m < 0)
		return snprintf(buf, len, "cancelled before the agent named "
		    "its method%s: the disk may be untouched or partly erased",
		    at);
	if (erase_methods[m].left != NULL)
		return snprintf(buf, len, "cancelled during %s%s: %s",
		    erase_methods[m].name, at, erase_methods[m].left);
	fmt_bytes((uint64_t)json_integer_value(json_object_get(job,
	    "bytes_done")), d, sizeof(d));
	return snprintf(buf, len, "cancelled during overwrite%s: the disk is "
	    "partly erased: zeros over its first %s (the last report), old "
	    "data after that", at, d);
}

int
cancel_note_text(const json_t *job, char *buf, size_t len)
{
	const char *action = json_string_value(json_object_get(job, "action"));
	int st = job_state_from_name(json_string_value(json_object_get(job,
	    "state")));
	char at[96];

	buf[0] = '\0';
	if (action == NULL || !job_action_clone(action) || st < 0)
		return 0;	/* diskless and power jobs touch no disk */
	if (st == JOB_QUEUED || st == JOB_BOOTING)
		return snprintf(buf, len, "cancelled before the agent began: "
		    "the disk is untouched") > 0;
	progress(job, at, sizeof(at));
	if (strcmp(action, job_action_name(JOB_ERASE)) == 0)
		return erase_note(job, st, at, buf, len) > 0;
	if (strcmp(action, job_action_name(JOB_REIMAGE)) == 0)
		return snprintf(buf, len, st == JOB_VERIFYING ?
		    "cancelled while checking the written image%s: the image "
		    "was written, the check did not end" : "cancelled while "
		    "writing the image%s: the disk is half-written (part the "
		    "new image, part what it held): reimage it before booting "
		    "it", at) > 0;
	/* A capture or an inventory only reads the disk. */
	return snprintf(buf, len, "cancelled while %s%s: the disk is "
	    "unchanged (it is only read)%s", st == JOB_VERIFYING ?
	    "the rack checked what was read" : "reading", at,
	    strcmp(action, job_action_name(JOB_CAPTURE)) == 0 ?
	    "; no image was committed" : "") > 0;
}

/* ---- the agent's last word ---------------------------------------------- */

static struct {
	int64_t	 id;
	int64_t	 until;		/* ms */
	int	 left;		/* notes it may still add */
} grace[SLOTS_MAX];
static pthread_mutex_t grace_lock = PTHREAD_MUTEX_INITIALIZER;

static void
grace_open(int64_t id)
{
	int64_t now = db_now_ms();
	size_t k = 0;

	pthread_mutex_lock(&grace_lock);
	for (size_t i = 0; i < SLOTS_MAX; i++)
		if (grace[i].until < grace[k].until)
			k = i;		/* the oldest, or a free one */
	grace[k].id = id;
	grace[k].until = now + CANCEL_GRACE_MS;
	grace[k].left = CANCEL_GRACE_NOTES;
	pthread_mutex_unlock(&grace_lock);
}

void
cancel_note_write(const json_t *before)
{
	int64_t id = json_integer_value(json_object_get(before, "id"));
	char text[JOB_REASON_MAX * 3];

	if (id <= 0)
		return;
	if (cancel_note_text(before, text, sizeof(text))) {
		db_job_event(id, text);
		log_info("job %lld: %s", (long long)id, text);
	}
	if (job_action_clone(json_string_value(json_object_get(before,
	    "action"))))
		grace_open(id);
}

int
cancel_note_check(int64_t id, const char *token)
{
	int rc = jobs_token_check(id, token), ok = 0;
	int64_t now = db_now_ms();

	if (rc != JOB_ILLEGAL)
		return rc;	/* active (JOB_OK), or not the job's token */
	pthread_mutex_lock(&grace_lock);
	for (size_t i = 0; i < SLOTS_MAX && !ok; i++)
		if (grace[i].id == id && now < grace[i].until &&
		    grace[i].left > 0) {
			grace[i].left--;
			ok = 1;
		}
	pthread_mutex_unlock(&grace_lock);
	return ok ? JOB_OK : JOB_ILLEGAL;
}
