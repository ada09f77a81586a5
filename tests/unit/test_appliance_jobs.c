/*
 * tests/unit/test_appliance_jobs.c — the job state machine of appliance/jobs.c:
 * the transition table for every pair of states, and the flows through
 * jobs_create, jobs_report, jobs_cancel, jobs_node_booting, jobs_recover and
 * jobs_tick on a real temporary database.
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

static char tmpdir[] = "/tmp/rackd-jobs.XXXXXX";

static const char *const S[] = {
	"queued", "booting", "streaming", "verifying", "done", "failed",
};
#define NS 6
enum { Q, B, ST, V, D, F };

static const char *const hashes2[] = { UNIT_HEX64("1"), UNIT_HEX64("2") };
static const uint64_t offsets2[] = { 0, 1048576 };
static const uint64_t lengths2[] = { 1048576, 1048576 };

/* A reimage job through the one creator of jobs. */
static int
reimage(const char *slot, const char *ref, int64_t *id)
{
	char why[ERR_MAX];

	return jobs_create(slot, JOB_REIMAGE, ref, id, why, sizeof(why));
}

/* ---- fixtures ------------------------------------------------------ */

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
add_image(const char *name, const char *version, uint64_t size)
{
	struct db_image im = {
		.name = name, .version = version, .kind = "disk",
		.hash = "blake2b-256", .size = size, .chunk_size = 1048576,
		.stored = size, .nchunks = 2, .offsets = offsets2,
		.lengths = lengths2, .hashes = hashes2,
	};

	return db_image_add(&im);
}

/* A new database with nodes usb1..usb3 and images debian:12.4, :12.5. */
static int
setup_db(void **state)
{
	if (unit_appliance_db_open(tmpdir) != 0)
		return -1;
	if (db_node_ensure("usb1") != 1 || db_node_ensure("usb2") != 1 ||
	    db_node_ensure("usb3") != 1 ||
	    add_image("debian", "12.4", 2000000) != DB_OK ||
	    add_image("debian", "12.5", 2097152) != DB_OK)
		return -1;
	conf.boot_timeout = 15 * 60;
	conf.agent_timeout = 5 * 60;
	return 0;
}

static int
teardown_db(void **state)
{
	db_close();
	return 0;
}

/* ---- helpers ------------------------------------------------------- */

static const char *
state_of(int64_t id)
{
	static struct db_job j;

	assert_int_equal(db_job_get(id, &j), DB_OK);
	return j.state;
}

static json_t *
events_of(int64_t id)
{
	json_t *o = db_job_json(id), *ev;

	assert_non_null(o);
	ev = json_incref(json_object_get(o, "events"));
	json_decref(o);
	assert_non_null(ev);
	return ev;
}

/* The states of the job's event rows, joined with ' '. */
static const char *
event_states(int64_t id)
{
	static char buf[256];
	json_t *ev = events_of(id), *e;
	size_t i, used = 0;

	buf[0] = '\0';
	json_array_foreach(ev, i, e) {
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s",
		    i ? " " : "", json_string_value(json_object_get(e,
		    "state")));
		if (used >= sizeof(buf))
			break;
	}
	json_decref(ev);
	return buf;
}

static const char *
last_message(int64_t id)
{
	static char buf[256];
	json_t *ev = events_of(id);
	const char *m = json_string_value(json_object_get(json_array_get(ev,
	    json_array_size(ev) - 1), "message"));

	snprintf(buf, sizeof(buf), "%s", m ? m : "");
	json_decref(ev);
	return buf;
}

static json_t *
node(const char *slot)
{
	json_t *o = db_node_get(slot);

	assert_non_null(o);
	return o;
}

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Queue a job on SLOT and drive it to state S[target]. */
static int64_t
job_in(const char *slot, int target)
{
	int64_t id;

	assert_int_equal(reimage(slot, "debian", &id), JOB_OK);
	switch (target) {
	case Q:
		break;
	case B:
		assert_int_equal(jobs_report(id, "booting", 0, 0, 0, NULL),
		    JOB_OK);
		break;
	case ST:
		assert_int_equal(jobs_report(id, "streaming", 0, 0, 0, NULL),
		    JOB_OK);
		break;
	case V:
	case D:
		assert_int_equal(jobs_report(id, "streaming", 1, 1, 1, NULL),
		    JOB_OK);
		assert_int_equal(jobs_report(id, "verifying", 2, 2, 1, NULL),
		    JOB_OK);
		if (target == D)
			assert_int_equal(jobs_report(id, "done", 3, 3, 1,
			    NULL), JOB_OK);
		break;
	case F:
		assert_int_equal(jobs_cancel(id, "test"), JOB_OK);
		break;
	}
	assert_string_equal(state_of(id), S[target]);
	return id;
}

/* ---- the transition table ----------------------------------------- */

static void
test_transition_table(void **state)
{
	/* legal: the chain forward one step, or any non-terminal to failed */
	static const int legal[NS][NS] = {
		/*            Q  B  ST V  D  F */
		/* Q  */    { 0, 1, 0, 0, 0, 1 },
		/* B  */    { 0, 0, 1, 0, 0, 1 },
		/* ST */    { 0, 0, 0, 1, 0, 1 },
		/* V  */    { 0, 0, 0, 0, 1, 1 },
		/* D  */    { 0, 0, 0, 0, 0, 0 },
		/* F  */    { 0, 0, 0, 0, 0, 0 },
	};
	int bad = 0;

	for (int f = 0; f < NS; f++)
		for (int t = 0; t < NS; t++)
			if (job_transition_allowed(S[f], S[t]) !=
			    legal[f][t]) {
				print_error("%s -> %s: got %d, want %d\n", S[f],
				    S[t], job_transition_allowed(S[f], S[t]),
				    legal[f][t]);
				bad++;
			}
	assert_int_equal(bad, 0);

	/* names that are not states */
	static const char *junk[] = { "", "Queued", "QUEUED", "idle",
	    "queued ", "done\n", "cancelled" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		for (int s = 0; s < NS; s++) {
			assert_false(job_transition_allowed(junk[i], S[s]));
			assert_false(job_transition_allowed(S[s], junk[i]));
		}
	assert_false(job_transition_allowed(NULL, "failed"));
	assert_false(job_transition_allowed("queued", NULL));
	assert_false(job_transition_allowed(NULL, NULL));
}

static void
test_state_helpers(void **state)
{
	for (int s = 0; s < NS; s++) {
		assert_true(job_state_valid(S[s]));
		assert_int_equal(job_state_terminal(S[s]), s == D || s == F);
	}
	assert_false(job_state_valid(NULL));
	assert_false(job_state_valid(""));
	assert_false(job_state_valid("Done"));
	assert_false(job_state_valid("idle"));
	assert_false(job_state_terminal(NULL));
	assert_false(job_state_terminal("cancelled"));
}

/* ---- reimage ------------------------------------------------------- */

static void
test_reimage(void **state)
{
	int64_t id = 0, id2 = 0, id3 = 0;
	struct db_job j;
	json_t *n;

	assert_int_equal(reimage("nope", "debian", &id), JOB_NO_NODE);
	assert_int_equal(reimage("usb1", "ubuntu", &id), JOB_NO_IMAGE);
	assert_int_equal(reimage("usb1", "debian:13", &id), JOB_NO_IMAGE);
	assert_int_equal(reimage("usb1", "bad name!", &id), JOB_BAD);
	assert_int_equal(reimage("usb1", "", &id), JOB_BAD);
	assert_int_equal(reimage("usb1", "a:b:c", &id), JOB_BAD);
	{
		struct db_job none;
		assert_int_equal(db_job_get(1, &none), DB_NOTFOUND);
	}

	/* no version: the newest, resolved and recorded at creation */
	assert_int_equal(reimage("usb1", "debian", &id), JOB_OK);
	assert_int_equal(db_job_get(id, &j), DB_OK);
	assert_string_equal(j.state, "queued");
	assert_string_equal(j.action, "reimage");
	assert_string_equal(j.image, "debian:12.5");
	assert_int_equal(j.bytes_total, 2097152);
	assert_int_equal(strlen(j.token), TOKEN_HEX);
	assert_int_equal(strspn(j.token, "0123456789abcdef"), TOKEN_HEX);
	assert_string_equal(event_states(id), "queued");

	/* one active job per node */
	assert_int_equal(reimage("usb1", "debian:12.4", &id2), JOB_BUSY);
	assert_string_equal(state_of(id), "queued");

	assert_int_equal(reimage("usb2", "debian:12.4", &id2), JOB_OK);
	assert_true(id2 != id);
	assert_int_equal(db_job_get(id2, &j), DB_OK);
	assert_string_equal(j.image, "debian:12.4");
	assert_int_equal(j.bytes_total, 2000000);
	{
		/* each job its own token */
		struct db_job j1;
		assert_int_equal(db_job_get(id, &j1), DB_OK);
		assert_string_not_equal(j1.token, j.token);
	}

	n = node("usb1");
	assert_string_equal(jstr(n, "state"), "queued");
	json_decref(n);

	/* a finished job frees the node */
	assert_int_equal(jobs_cancel(id, "operator"), JOB_OK);
	assert_int_equal(reimage("usb1", "debian:12.4", &id3), JOB_OK);
	assert_true(id3 != id && id3 != id2);
}

/* ---- agent reports ------------------------------------------------- */

static void
test_report_flow(void **state)
{
	int64_t id;
	struct db_job j;
	json_t *n;

	assert_int_equal(db_node_update("usb1", NULL, "debian:12.4",
	    "diskless"), DB_OK);
	assert_int_equal(reimage("usb1", "debian:12.5", &id), JOB_OK);

	/* streaming straight from queued: the agent has booted */
	assert_int_equal(jobs_report(id, "streaming", 100, 200, 50, NULL),
	    JOB_OK);
	assert_string_equal(state_of(id), "streaming");
	assert_string_equal(event_states(id), "queued booting streaming");

	/* same state: progress only, no event row */
	assert_int_equal(jobs_report(id, "streaming", 1000, 1500, 500, NULL),
	    JOB_OK);
	assert_int_equal(db_job_get(id, &j), DB_OK);
	assert_string_equal(j.state, "streaming");
	assert_int_equal(j.bytes_done, 1000);
	assert_int_equal(j.bytes_fetched, 1500);
	assert_int_equal(j.rate, 500);
	assert_true(j.seen > 0);
	assert_string_equal(event_states(id), "queued booting streaming");

	assert_int_equal(jobs_report(id, "verifying", 2097152, 2097152, 0,
	    NULL), JOB_OK);
	assert_string_equal(state_of(id), "verifying");
	assert_int_equal(jobs_token_check(id, j.token), JOB_OK);
	assert_int_equal(jobs_report(id, "done", 2097152, 2097152, 0, NULL),
	    JOB_OK);
	assert_string_equal(state_of(id), "done");
	assert_string_equal(event_states(id),
	    "queued booting streaming verifying done");

	/* the node runs its new image from its disk */
	n = node("usb1");
	assert_string_equal(jstr(n, "image"), "debian:12.5");
	assert_string_equal(jstr(n, "boot_mode"), "local");
	assert_string_equal(jstr(n, "last_result"), "done");
	assert_string_equal(jstr(n, "state"), "idle");
	json_decref(n);

	/* over: the token is dead, nothing moves the job any more */
	assert_int_not_equal(jobs_token_check(id, j.token), JOB_OK);
	for (int s = 0; s < NS; s++)
		assert_int_equal(jobs_report(id, S[s], 0, 0, 0, "x"),
		    JOB_ILLEGAL);
	assert_int_equal(jobs_cancel(id, "operator"), JOB_ILLEGAL);
	assert_string_equal(state_of(id), "done");
}

/*
 * Every (state, reported state) pair through jobs_report. An agent that
 * reports anything past booting from queued has booted (booting is
 * implied); otherwise the transition table decides. A refused report
 * changes nothing: no state, no event row.
 */
static void
test_report_matrix(void **state)
{
	/* 1: accepted, moves to the reported state (or stays in it);
	 * 0: JOB_ILLEGAL. */
	static const int ok[NS][NS] = {
		/*            Q  B  ST V  D  F */
		/* Q  */    { 1, 1, 1, 0, 0, 1 },
		/* B  */    { 0, 1, 1, 0, 0, 1 },
		/* ST */    { 0, 0, 1, 1, 0, 1 },
		/* V  */    { 0, 0, 0, 1, 1, 1 },
		/* D  */    { 0, 0, 0, 0, 0, 0 },
		/* F  */    { 0, 0, 0, 0, 0, 0 },
	};
	int bad = 0;

	for (int f = 0; f < NS; f++)
		for (int t = 0; t < NS; t++) {
			int64_t id = job_in("usb3", f);
			char before[256];
			int rc, want = ok[f][t] ? JOB_OK : JOB_ILLEGAL;

			snprintf(before, sizeof(before), "%s",
			    event_states(id));
			rc = jobs_report(id, S[t], 5, 5, 5,
			    t == F ? "disk write error" : NULL);
			if (rc != want) {
				print_error("report %s from %s: rc %d, want "
				    "%d\n", S[t], S[f], rc, want);
				bad++;
			}
			const char *now = state_of(id);
			const char *expect = ok[f][t] ? S[t] : S[f];
			if (strcmp(now, expect) != 0) {
				print_error("report %s from %s: job is %s, "
				    "want %s\n", S[t], S[f], now, expect);
				bad++;
			}
			if (!ok[f][t] && strcmp(before, event_states(id))) {
				print_error("refused report %s from %s wrote "
				    "events: '%s' -> '%s'\n", S[t], S[f],
				    before, event_states(id));
				bad++;
			}
			if (!job_state_terminal(state_of(id)))
				assert_int_equal(jobs_cancel(id, "test"),
				    JOB_OK);
		}
	assert_int_equal(bad, 0);
}

static void
test_report_bad(void **state)
{
	int64_t id;

	assert_int_equal(reimage("usb1", "debian", &id), JOB_OK);
	assert_int_equal(jobs_report(id, "bogus", 0, 0, 0, NULL), JOB_BAD);
	assert_int_equal(jobs_report(id, "", 0, 0, 0, NULL), JOB_BAD);
	assert_int_equal(jobs_report(id, "STREAMING", 0, 0, 0, NULL), JOB_BAD);
	assert_int_equal(jobs_report(id, "streaming", -1, 0, 0, NULL),
	    JOB_BAD);
	assert_int_equal(jobs_report(id, "streaming", 0, -1, 0, NULL),
	    JOB_BAD);
	assert_int_equal(jobs_report(id, "streaming", 0, 0, -1, NULL),
	    JOB_BAD);
	/* failed needs a reason */
	assert_int_equal(jobs_report(id, "failed", 0, 0, 0, NULL), JOB_BAD);
	assert_int_equal(jobs_report(id, "failed", 0, 0, 0, ""), JOB_BAD);
	/* none of that touched the job */
	assert_string_equal(state_of(id), "queued");
	assert_string_equal(event_states(id), "queued");
	assert_int_equal(jobs_report(99999, "streaming", 0, 0, 0, NULL),
	    JOB_NO_JOB);
}

static void
test_report_failed(void **state)
{
	int64_t id;
	struct db_job j;
	json_t *n;

	assert_int_equal(db_node_update("usb2", NULL, "debian:12.4", NULL),
	    DB_OK);
	id = job_in("usb2", ST);
	assert_int_equal(jobs_report(id, "failed", 10, 10, 0,
	    "chunk 3: hash mismatch"), JOB_OK);
	assert_int_equal(db_job_get(id, &j), DB_OK);
	assert_string_equal(j.state, "failed");
	assert_string_equal(j.reason, "chunk 3: hash mismatch");
	assert_string_equal(last_message(id), "chunk 3: hash mismatch");
	n = node("usb2");
	assert_string_equal(jstr(n, "last_result"), "chunk 3: hash mismatch");
	assert_string_equal(jstr(n, "image"), "debian:12.4");	/* unchanged */
	assert_string_equal(jstr(n, "state"), "idle");
	json_decref(n);
	assert_int_not_equal(jobs_token_check(id, j.token), JOB_OK);
}

/* ---- cancel, tokens, boot ----------------------------------------- */

static void
test_cancel(void **state)
{
	int64_t id, id2;
	struct db_job j;

	assert_int_equal(reimage("usb1", "debian", &id), JOB_OK);
	assert_int_equal(jobs_cancel(id, "operator"), JOB_OK);
	assert_int_equal(db_job_get(id, &j), DB_OK);
	assert_string_equal(j.state, "failed");
	assert_string_equal(j.reason, "cancelled by operator");
	/* The failure, then rackd's note of what the disk holds. */
	assert_string_equal(event_states(id), "queued failed failed");
	assert_int_equal(jobs_cancel(id, "operator"), JOB_ILLEGAL);
	assert_string_equal(event_states(id), "queued failed failed");
	assert_int_equal(jobs_cancel(99999, "operator"), JOB_NO_JOB);

	/* from the middle of a clone */
	id2 = job_in("usb1", V);
	assert_int_equal(jobs_cancel(id2, "rackctl"), JOB_OK);
	assert_int_equal(db_job_get(id2, &j), DB_OK);
	assert_string_equal(j.state, "failed");
	assert_string_equal(j.reason, "cancelled by rackctl");
}

static void
test_tokens(void **state)
{
	int64_t a, b;
	struct db_job ja, jb;

	assert_int_equal(reimage("usb1", "debian", &a), JOB_OK);
	assert_int_equal(reimage("usb2", "debian", &b), JOB_OK);
	assert_int_equal(db_job_get(a, &ja), DB_OK);
	assert_int_equal(db_job_get(b, &jb), DB_OK);
	assert_int_equal(jobs_token_check(a, ja.token), JOB_OK);
	assert_int_equal(jobs_token_check(b, jb.token), JOB_OK);
	assert_int_not_equal(jobs_token_check(a, jb.token), JOB_OK);
	assert_int_not_equal(jobs_token_check(b, ja.token), JOB_OK);
	assert_int_not_equal(jobs_token_check(a, ""), JOB_OK);
	assert_int_not_equal(jobs_token_check(a, auth_api_token()), JOB_OK);
	ja.token[TOKEN_HEX - 1] ^= 1;
	assert_int_not_equal(jobs_token_check(a, ja.token), JOB_OK);
	ja.token[TOKEN_HEX - 1] ^= 1;
	ja.token[10] = '\0';	/* a prefix is not the token */
	assert_int_not_equal(jobs_token_check(a, ja.token), JOB_OK);
	assert_int_not_equal(jobs_token_check(99999, jb.token), JOB_OK);
	assert_int_equal(jobs_cancel(b, "operator"), JOB_OK);
	assert_int_not_equal(jobs_token_check(b, jb.token), JOB_OK);
}

static void
test_node_booting(void **state)
{
	int64_t id;
	struct db_job j;

	assert_int_equal(jobs_node_booting("usb1"), JOB_NO_JOB);
	assert_int_equal(jobs_node_booting("nope"), JOB_NO_JOB);
	assert_int_equal(reimage("usb1", "debian", &id), JOB_OK);
	assert_int_equal(jobs_node_booting("usb1"), JOB_OK);
	assert_int_equal(db_job_get(id, &j), DB_OK);
	assert_string_equal(j.state, "booting");
	assert_true(j.seen > 0);
	assert_string_equal(last_message(id), "boot script fetched");
	/* fetched again (a retrying firmware): no queued job left */
	assert_int_equal(jobs_node_booting("usb1"), JOB_NO_JOB);
	assert_string_equal(state_of(id), "booting");
	/* the agent then calls in */
	assert_int_equal(jobs_report(id, "streaming", 0, 0, 0, NULL), JOB_OK);
	assert_string_equal(event_states(id), "queued booting streaming");
}

/* ---- restart and timeouts ----------------------------------------- */

static void
test_recover(void **state)
{
	int64_t a, b, c;
	struct db_job j;

	assert_int_equal(reimage("usb1", "debian:12.4", &a), JOB_OK);
	b = job_in("usb2", ST);			/* debian:12.5 */
	c = job_in("usb3", D);
	assert_int_equal(db_image_remove("debian", "12.5"), DB_OK);
	/* only usb2's job used 12.5 (usb3's is done) */

	jobs_recover();

	assert_int_equal(db_job_get(a, &j), DB_OK);
	assert_string_equal(j.state, "queued");
	assert_string_equal(last_message(a),
	    "rackd restarted; the job goes on");
	assert_string_equal(event_states(a), "queued queued");

	assert_int_equal(db_job_get(b, &j), DB_OK);
	assert_string_equal(j.state, "failed");
	assert_string_equal(j.reason, "image no longer on this rack");

	assert_string_equal(state_of(c), "done");
	assert_string_equal(event_states(c),
	    "queued booting streaming verifying done");

	/* the queued job is still good for its agent */
	assert_int_equal(jobs_report(a, "streaming", 0, 0, 0, NULL), JOB_OK);
}

static void
test_tick_timeouts(void **state)
{
	int64_t q, s, done;
	struct db_job j;

	jobs_recover();			/* sets rackd's start time */
	q = job_in("usb1", Q);
	s = job_in("usb2", ST);
	done = job_in("usb3", D);

	/* within the limits: nothing happens */
	jobs_tick();
	assert_string_equal(state_of(q), "queued");
	assert_string_equal(state_of(s), "streaming");

	/* the node never called in */
	conf.boot_timeout = 0;
	jobs_tick();
	assert_int_equal(db_job_get(q, &j), DB_OK);
	assert_string_equal(j.state, "failed");
	assert_contains(j.reason, "no boot");
	assert_string_equal(state_of(s), "streaming");	/* other limit */

	/* the agent went silent */
	conf.agent_timeout = 0;
	jobs_tick();
	assert_int_equal(db_job_get(s, &j), DB_OK);
	assert_string_equal(j.state, "failed");
	assert_contains(j.reason, "agent silent");
	assert_string_equal(state_of(done), "done");
	conf.boot_timeout = 15 * 60;
	conf.agent_timeout = 5 * 60;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transition_table),
		cmocka_unit_test(test_state_helpers),
#define T(f) cmocka_unit_test_setup_teardown(f, setup_db, teardown_db)
		T(test_reimage),
		T(test_report_flow),
		T(test_report_matrix),
		T(test_report_bad),
		T(test_report_failed),
		T(test_cancel),
		T(test_tokens),
		T(test_node_booting),
		T(test_recover),
		T(test_tick_timeouts),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
