/*
 * tests/unit/test_appliance_cancel_note.c — appliance/cancel_note.c: what
 * rackd's note says a cancelled job left on the disk, for each action and
 * state and each erase method the agent's notes name; and, through
 * jobs_cancel on a real temporary database, the note made an event and
 * the agent's notes taken for CANCEL_GRACE_NOTES after the cancel, never
 * anything else of the job's token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit_appliance.h"

static char tmpdir[] = "/tmp/rackd-cancel-note.XXXXXX";

#define GIB	1073741824LL

/* A job as db_job_json gives it, with the agent's notes. */
static json_t *
job(const char *action, const char *state, const char *method,
    int64_t done, int64_t total, const char *const *notes)
{
	json_t *j = json_pack("{s:I,s:s,s:s,s:I,s:I,s:[]}", "id",
	    (json_int_t)7, "action", action, "state", state, "bytes_done",
	    (json_int_t)done, "bytes_total", (json_int_t)total, "events");

	assert_non_null(j);
	if (method != NULL)
		json_object_set_new(j, "params", json_pack("{s:s}", "method",
		    method));
	for (; notes != NULL && *notes != NULL; notes++)
		json_array_append_new(json_object_get(j, "events"),
		    json_pack("{s:s}", "message", *notes));
	return j;
}

static const char *
text_of(json_t *j)
{
	static char buf[512];

	assert_int_equal(cancel_note_text(j, buf, sizeof(buf)), 1);
	json_decref(j);
	return buf;
}

static void
test_overwrite(void **state)
{
	const char *t = text_of(job("erase", "streaming", "overwrite",
	    (4 * GIB * 41 + 99) / 100, 4 * GIB, NULL));

	assert_non_null(strstr(t, "cancelled during overwrite at 41% "
	    "(1.6 GiB of 4.0 GiB)"));
	assert_non_null(strstr(t, "the disk is partly erased: zeros over its "
	    "first 1.6 GiB"));
	assert_non_null(strstr(t, "old data after that"));
}

static void
test_auto_methods(void **state)
{
	static const char *const skipped[] = {
		"erase /dev/sda of 4.0 GiB (rule largest), method auto",
		"auto: NVMe not used: not an NVMe disk",
		"auto: ATA not used: ATA X: the Security feature set is not "
		    "supported",
		"auto: discard (BLKDISCARD) of the whole disk: "
		    "discard_max_bytes 1, write_zeroes_max_bytes 0; it must "
		    "read back zeros",
		NULL,
	};
	static const char *const format[] = {
		"auto: NVMe Format NVM (user data erase) of the namespace: "
		    "x",
		NULL,
	};
	static const char *const format_failed[] = {
		"auto: NVMe Format NVM (user data erase) of the namespace: "
		    "x",
		"auto: NVMe Format NVM (user data erase) failed, trying the "
		    "next method: timeout",
		"auto: ATA SECURITY ERASE UNIT (normal) on X: security "
		    "supported",
		NULL,
	};
	static const char *const fallback[] = {
		"auto: discard (BLKDISCARD) of the whole disk: d",
		"auto: the discard does not read back zeros (x): overwriting",
		NULL,
	};
	static const char *const none[] = {
		"erase /dev/sda of 4.0 GiB (rule largest), method auto", NULL,
	};
	const char *t;

	t = text_of(job("erase", "streaming", "auto", GIB, 4 * GIB, skipped));
	assert_non_null(strstr(t, "cancelled during discard at 25%"));
	assert_non_null(strstr(t, "old data may remain"));
	t = text_of(job("erase", "streaming", "auto", 0, 4 * GIB, format));
	assert_non_null(strstr(t, "cancelled during NVMe Format NVM at 0%"));
	assert_non_null(strstr(t, "not checked"));
	/* A method that failed is not the one running: the next one is. */
	t = text_of(job("erase", "streaming", "auto", 0, 4 * GIB,
	    format_failed));
	assert_non_null(strstr(t, "cancelled during ATA secure erase"));
	assert_non_null(strstr(t, "rackd-erase"));
	t = text_of(job("erase", "streaming", "auto", GIB, 2 * GIB, fallback));
	assert_non_null(strstr(t, "cancelled during overwrite at 50%"));
	t = text_of(job("erase", "streaming", "auto", 0, 2 * GIB, none));
	assert_non_null(strstr(t, "before the agent named its method"));
	t = text_of(job("erase", "verifying", "auto", 2 * GIB, 2 * GIB,
	    format));
	assert_non_null(strstr(t, "checking the erase by NVMe Format NVM"));
}

static void
test_other_actions(void **state)
{
	char buf[256];
	json_t *j;
	const char *t;

	t = text_of(job("erase", "booting", "overwrite", 0, 0, NULL));
	assert_string_equal(t, "cancelled before the agent began: the disk "
	    "is untouched");
	t = text_of(job("reimage", "queued", NULL, 0, GIB, NULL));
	assert_non_null(strstr(t, "untouched"));
	t = text_of(job("reimage", "streaming", NULL, GIB / 2, GIB, NULL));
	assert_non_null(strstr(t, "writing the image at 50% (512.0 MiB of "
	    "1.0 GiB): the disk is half-written"));
	t = text_of(job("reimage", "verifying", NULL, GIB, GIB, NULL));
	assert_non_null(strstr(t, "the image was written"));
	t = text_of(job("capture", "streaming", NULL, GIB, 4 * GIB, NULL));
	assert_non_null(strstr(t, "the disk is unchanged"));
	assert_non_null(strstr(t, "no image was committed"));
	t = text_of(job("inventory", "streaming", NULL, 0, 0, NULL));
	assert_non_null(strstr(t, "cancelled while reading: the disk is "
	    "unchanged"));
	/* Nothing to say of a job that writes no disk. */
	j = job("diskless", "streaming", NULL, 0, 0, NULL);
	assert_int_equal(cancel_note_text(j, buf, sizeof(buf)), 0);
	json_decref(j);
	j = job("power_on", "queued", NULL, 0, 0, NULL);
	assert_int_equal(cancel_note_text(j, buf, sizeof(buf)), 0);
	json_decref(j);
}

/* ---- through jobs_cancel ------------------------------------------- */

static int
group_setup(void **state)
{
	if (unit_appliance_setup(tmpdir) != 0)
		return -1;
	return events_init();
}

static int
group_teardown(void **state)
{
	return unit_appliance_teardown(tmpdir);
}

static int
setup_db(void **state)
{
	if (unit_appliance_db_open(tmpdir) != 0)
		return -1;
	return db_node_ensure("usb1") == 1 && db_node_ensure("usb2") == 1 ?
	    0 : -1;
}

static int
teardown_db(void **state)
{
	db_close();
	return 0;
}

/* How many of job id's events contain text. */
static int
events_with(int64_t id, const char *text)
{
	json_t *j = db_job_json(id), *e;
	int n = 0;
	size_t i;

	assert_non_null(j);
	json_array_foreach(json_object_get(j, "events"), i, e)
		if (strstr(json_string_value(json_object_get(e, "message")),
		    text) != NULL)
			n++;
	json_decref(j);
	return n;
}

static void
test_cancel_flow(void **state)
{
	json_t *p = json_pack("{s:s}", "method", "overwrite");
	char why[ERR_MAX];
	struct db_job j;
	int64_t id, other;

	conf_rdlock();
	assert_int_equal(jobs_create_clone("usb1", JOB_ERASE, NULL, p, &id,
	    why, sizeof(why)), JOB_OK);
	assert_int_equal(jobs_create_clone("usb2", JOB_ERASE, NULL, p, &other,
	    why, sizeof(why)), JOB_OK);
	conf_unlock();
	json_decref(p);
	assert_int_equal(db_job_get(id, &j), DB_OK);
	assert_int_equal(jobs_set_total(id, 4 * GIB), JOB_OK);
	assert_int_equal(jobs_report(id, "streaming", GIB, 0, 1, NULL),
	    JOB_OK);
	/* Active: the notes' check is the token's. */
	assert_int_equal(cancel_note_check(id, j.token), JOB_OK);
	assert_int_equal(cancel_note_check(id, "0"), JOB_BAD);

	assert_int_equal(jobs_cancel(id, "the test"), JOB_OK);
	assert_int_equal(events_with(id, "cancelled during overwrite at 25% "
	    "(1.0 GiB of 4.0 GiB): the disk is partly erased"), 1);
	/* The job stays failed; its token is refused for all but a few
	 * notes, and those only with its own token. */
	assert_int_equal(jobs_token_check(id, j.token), JOB_ILLEGAL);
	assert_int_equal(cancel_note_check(id, "0"), JOB_BAD);
	for (int i = 0; i < CANCEL_GRACE_NOTES; i++)
		assert_int_equal(cancel_note_check(id, j.token), JOB_OK);
	assert_int_equal(cancel_note_check(id, j.token), JOB_ILLEGAL);
	assert_int_equal(jobs_token_check(id, j.token), JOB_ILLEGAL);
	assert_int_equal(db_job_get(id, &j), DB_OK);
	assert_string_equal(j.state, "failed");
	assert_int_equal(jobs_report(id, "streaming", GIB, 0, 1, NULL),
	    JOB_ILLEGAL);

	/* A job that failed without a cancel has no grace. */
	assert_int_equal(db_job_get(other, &j), DB_OK);
	assert_int_equal(jobs_report(other, "failed", 0, 0, 0, "broken"),
	    JOB_OK);
	assert_int_equal(cancel_note_check(other, j.token), JOB_ILLEGAL);
	assert_int_equal(events_with(other, "cancelled"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overwrite),
		cmocka_unit_test(test_auto_methods),
		cmocka_unit_test(test_other_actions),
		cmocka_unit_test_setup_teardown(test_cancel_flow, setup_db,
		    teardown_db),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
