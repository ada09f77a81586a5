/*
 * test_db_schema.c — rackd's state store (db/): migrations from an empty
 * file and from an older schema, refusal of a newer one, a failed
 * migration rolled back, and the functions for nodes, images, jobs and
 * pulls.
 * Raw checks go through a second SQLite connection of the test's own.
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

#include <sqlite3.h>

#include "db/db.h"
#include "tests/unit/unit.h"

static char tmpdir[] = "/tmp/rackd-db.XXXXXX";
static char dbpath[600];
static int dbcount;


static const char *const hashes3[] = {
	UNIT_HEX64("a"), UNIT_HEX64("b"), UNIT_HEX64("c"),
};
static const uint64_t offsets3[] = { 0, 1048576, 2097152 };
static const uint64_t lengths3[] = { 1048576, 1048576, 4096 };

/* ---- raw access ---------------------------------------------------- */

static sqlite3 *
raw_open(void)
{
	sqlite3 *c = NULL;

	assert_int_equal(sqlite3_open_v2(dbpath, &c, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(c, 5000);
	return c;
}

static void
raw_exec(const char *sql)
{
	sqlite3 *c = raw_open();
	char *emsg = NULL;

	if (sqlite3_exec(c, sql, NULL, NULL, &emsg) != SQLITE_OK) {
		print_error("%s: %s\n", sql, emsg ? emsg : "?");
		sqlite3_free(emsg);
		sqlite3_close(c);
		fail();
	}
	sqlite3_close(c);
}

/* The first column of the first row as an integer (-999 if no row). */
static long long
raw_int(const char *sql)
{
	sqlite3 *c = raw_open();
	sqlite3_stmt *st;
	long long v = -999;

	assert_int_equal(sqlite3_prepare_v2(c, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(c);
	return v;
}

static int
table_exists(const char *name)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name = '%s'", name);
	return raw_int(sql) == 1;
}

/* ---- fixtures ------------------------------------------------------ */

static int
group_setup(void **state)
{
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	unit_rm_rf(tmpdir);
	return 0;
}

/* A fresh database file name for each test; nothing open yet. */
static int
fresh(void **state)
{
	snprintf(dbpath, sizeof(dbpath), "%s/t%d.db", tmpdir, ++dbcount);
	return 0;
}

/* A fresh database at the latest schema, open. */
static int
fresh_open(void **state)
{
	char err[DB_ERR_MAX];

	fresh(state);
	if (db_open(dbpath, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "db_open: %s\n", err);
		return -1;
	}
	return 0;
}

static int
close_db(void **state)
{
	db_close();
	return 0;
}

static void
open_ok(int version)
{
	char err[DB_ERR_MAX] = "";
	int rc = db_open(dbpath, version, err, sizeof(err));

	if (rc != 0)
		print_error("db_open(%d): %s\n", version, err);
	assert_int_equal(rc, 0);
}

static struct db_image
image3(const char *name, const char *version)
{
	return (struct db_image){
		.name = name, .version = version, .kind = "disk",
		.hash = "blake2b-256", .size = 2101248, .chunk_size = 1048576,
		.stored = 12345, .is_signed = 0, .nchunks = 3,
		.offsets = offsets3, .lengths = lengths3, .hashes = hashes3,
	};
}

/* "YYYY-MM-DDTHH:MM:SS.sssZ" */
static void
assert_iso_time(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	assert_non_null(s);
	if (strlen(s) != sizeof(pat) - 1)
		goto bad;
	for (size_t i = 0; pat[i] != '\0'; i++)
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			goto bad;
	return;
bad:
	print_error("'%s' is not an ISO 8601 UTC time\n", s);
	fail();
}

static const char *
jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long
jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v)) {
		print_error("key '%s' is not an integer\n", key);
		fail();
	}
	return (long long)json_integer_value(v);
}

/* ---- schema and migrations ---------------------------------------- */

static void
test_open_empty(void **state)
{
	static const char *tables[] = {
		"nodes", "links", "link_events", "images", "image_chunks",
		"jobs", "job_events", "sessions", "api_tokens",
	};
	char err[DB_ERR_MAX];
	sqlite3 *c;
	sqlite3_stmt *st;

	assert_true(db_schema_latest() >= 2);
	open_ok(0);
	assert_int_equal(db_schema_version(), db_schema_latest());
	assert_int_equal(raw_int("PRAGMA user_version"), db_schema_latest());
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (!table_exists(tables[i])) {
			print_error("table %s missing\n", tables[i]);
			fail();
		}
	/* WAL mode */
	c = raw_open();
	assert_int_equal(sqlite3_prepare_v2(c, "PRAGMA journal_mode", -1, &st,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(c);

	/* A second open while open is refused. */
	assert_int_equal(db_open(dbpath, 0, err, sizeof(err)), -1);
	assert_contains(err, "already open");
	assert_int_equal(db_schema_version(), db_schema_latest());

	/* Reopening a current database changes nothing. */
	assert_int_equal(db_node_ensure("keep"), 1);
	db_close();
	open_ok(0);
	assert_int_equal(db_schema_version(), db_schema_latest());
	assert_int_equal(db_node_exists("keep"), 1);
}

static void
test_migrate_from_v1(void **state)
{
	struct db_image im = image3("debian", "12.4");
	struct db_job j;
	int64_t id;
	json_t *o, *ev;

	open_ok(1);
	assert_int_equal(db_schema_version(), 1);
	assert_int_equal(raw_int("PRAGMA user_version"), 1);
	assert_true(table_exists("jobs"));
	assert_false(table_exists("sessions"));
	assert_false(table_exists("api_tokens"));

	/* Data written at version 1 */
	assert_int_equal(db_node_ensure("usb1"), 1);
	assert_int_equal(db_node_update("usb1", "U12", "debian:12.4",
	    "diskless"), DB_OK);
	assert_int_equal(db_image_add(&im), DB_OK);
	assert_int_equal(db_job_create("usb1", "reimage", "debian:12.4",
	    "tok1", 2101248, &id), DB_OK);
	assert_int_equal(db_job_set_state(id, "queued", "booting", NULL,
	    "boot script fetched"), DB_OK);
	db_close();

	/* Reopen at the latest: migrated, data kept. */
	open_ok(0);
	assert_int_equal(db_schema_version(), db_schema_latest());
	assert_true(table_exists("sessions"));
	assert_true(table_exists("api_tokens"));
	o = db_node_get("usb1");
	assert_non_null(o);
	assert_string_equal(jstr(o, "label"), "U12");
	assert_string_equal(jstr(o, "image"), "debian:12.4");
	assert_string_equal(jstr(o, "boot_mode"), "diskless");
	json_decref(o);
	assert_int_equal(db_image_exists("debian", "12.4"), 1);
	assert_int_equal(raw_int("SELECT count(*) FROM image_chunks"), 3);
	assert_int_equal(db_job_get(id, &j), DB_OK);
	assert_string_equal(j.state, "booting");
	assert_string_equal(j.token, "tok1");
	o = db_job_json(id);
	assert_non_null(o);
	ev = json_object_get(o, "events");
	assert_int_equal(json_array_size(ev), 2);
	assert_string_equal(jstr(json_array_get(ev, 1), "message"),
	    "boot script fetched");
	json_decref(o);
	/* and the one-active-job rule still holds */
	assert_int_equal(db_job_create("usb1", "reimage", "debian:12.4",
	    "tok2", 1, &id), DB_CONFLICT);
}

static void
test_migrate_stepwise(void **state)
{
	/* Each version up to the latest can be reached one at a time. */
	for (int v = 1; v <= db_schema_latest(); v++) {
		open_ok(v);
		assert_int_equal(db_schema_version(), v);
		db_close();
	}
	/* Asking for an older version than the file has never downgrades. */
	open_ok(1);
	assert_int_equal(db_schema_version(), db_schema_latest());
}

static void
test_newer_refused(void **state)
{
	char err[DB_ERR_MAX] = "", sql[64], want[64];
	int newer = db_schema_latest() + 5;

	open_ok(0);
	assert_int_equal(db_node_ensure("usb1"), 1);
	db_close();
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", newer);
	raw_exec(sql);

	assert_int_equal(db_open(dbpath, 0, err, sizeof(err)), -1);
	assert_contains(err, "newer");
	snprintf(want, sizeof(want), "%d", newer);
	assert_contains(err, want);
	/* untouched, and nothing is open: calls fail cleanly */
	assert_int_equal(raw_int("PRAGMA user_version"), newer);
	assert_int_equal(raw_int("SELECT count(*) FROM nodes"), 1);
	assert_int_equal(db_node_exists("usb1"), DB_ERROR);
	assert_null(db_node_get("usb1"));
	/* and a later open of a good file works */
	fresh(state);
	open_ok(0);
}

static void
test_failed_migration_rolls_back(void **state)
{
	char err[DB_ERR_MAX] = "";

	if (db_schema_latest() < 2)
		skip();
	open_ok(1);
	db_close();
	/* Make migration 2 fail half way: its first table already exists. */
	raw_exec("CREATE TABLE sessions (x)");
	assert_int_equal(db_open(dbpath, 0, err, sizeof(err)), -1);
	assert_contains(err, "migration 2");
	assert_int_equal(raw_int("PRAGMA user_version"), 1);
	assert_false(table_exists("api_tokens"));
	assert_int_equal(db_node_exists("x"), DB_ERROR);	/* not open */
}

static void
test_open_bad_files(void **state)
{
	char err[DB_ERR_MAX] = "", path[700];
	FILE *fp;

	assert_int_equal(db_open("/nonexistent-rackd-dir/x.db", 0, err,
	    sizeof(err)), -1);
	assert_true(err[0] != '\0');

	snprintf(path, sizeof(path), "%s/garbage.db", tmpdir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database\n", fp);
	fclose(fp);
	err[0] = '\0';
	assert_int_equal(db_open(path, 0, err, sizeof(err)), -1);
	assert_contains(err, "not a database");

	/* still usable afterwards */
	open_ok(0);
	assert_int_equal(db_node_ensure("a"), 1);
}

/* ---- nodes --------------------------------------------------------- */

static void
test_nodes(void **state)
{
	json_t *o, *list;

	assert_int_equal(db_node_exists("usb1"), 0);
	assert_null(db_node_get("usb1"));
	assert_int_equal(db_node_ensure("usb2"), 1);
	assert_int_equal(db_node_ensure("usb1"), 1);
	assert_int_equal(db_node_ensure("usb1"), 0);
	assert_int_equal(db_node_exists("usb1"), 1);

	o = db_node_get("usb1");
	assert_non_null(o);
	assert_string_equal(jstr(o, "slot"), "usb1");
	assert_true(json_is_null(json_object_get(o, "label")));
	assert_true(json_is_null(json_object_get(o, "image")));
	assert_string_equal(jstr(o, "boot_mode"), "local");
	assert_string_equal(jstr(o, "state"), "idle");
	assert_true(json_is_null(json_object_get(o, "job")));
	assert_true(json_is_null(json_object_get(o, "link")));
	assert_true(json_is_null(json_object_get(o, "last_result")));
	assert_iso_time(jstr(o, "updated"));
	json_decref(o);

	/* one field at a time; NULL leaves a field alone */
	assert_int_equal(db_node_update("usb1", "U12", NULL, NULL), DB_OK);
	assert_int_equal(db_node_update("usb1", NULL, "debian:12", NULL),
	    DB_OK);
	assert_int_equal(db_node_update("usb1", NULL, NULL, "diskless"), DB_OK);
	o = db_node_get("usb1");
	assert_string_equal(jstr(o, "label"), "U12");
	assert_string_equal(jstr(o, "image"), "debian:12");
	assert_string_equal(jstr(o, "boot_mode"), "diskless");
	json_decref(o);

	/* "" clears label and image */
	assert_int_equal(db_node_update("usb1", "", "", "local"), DB_OK);
	o = db_node_get("usb1");
	assert_true(json_is_null(json_object_get(o, "label")));
	assert_true(json_is_null(json_object_get(o, "image")));
	assert_string_equal(jstr(o, "boot_mode"), "local");
	json_decref(o);

	/* a boot mode the schema does not know is refused, nothing changes */
	assert_true(db_node_update("usb1", "X", NULL, "network") != DB_OK);
	o = db_node_get("usb1");
	assert_true(json_is_null(json_object_get(o, "label")));
	json_decref(o);

	assert_int_equal(db_node_update("nope", "x", NULL, NULL), DB_NOTFOUND);
	assert_int_equal(db_node_set_result("usb2", "failed: cable"), DB_OK);
	o = db_node_get("usb2");
	assert_string_equal(jstr(o, "last_result"), "failed: cable");
	json_decref(o);

	list = db_nodes_list();
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(jstr(json_array_get(list, 0), "slot"), "usb1");
	assert_string_equal(jstr(json_array_get(list, 1), "slot"), "usb2");
	json_decref(list);

	assert_int_equal(db_links_up(), 0);
}

/* ---- images -------------------------------------------------------- */

static void
test_images(void **state)
{
	struct db_image a = image3("debian", "12.4");
	struct db_image b = image3("debian", "12.5");
	struct db_image c = image3("deb", "1");
	char ver[64];
	uint64_t size = 0;
	json_t *list, *o, *vers;

	c.kind = "rootfs";
	c.is_signed = 1;
	c.size = 4096;
	c.nchunks = 1;
	assert_int_equal(db_image_add(&a), DB_OK);
	assert_int_equal(db_image_add(&b), DB_OK);
	assert_int_equal(db_image_add(&c), DB_OK);
	assert_int_equal(db_image_add(&a), DB_CONFLICT);
	/* the conflicting add left no extra chunk rows behind */
	assert_int_equal(raw_int("SELECT count(*) FROM image_chunks"), 7);

	assert_int_equal(db_image_exists("debian", "12.4"), 1);
	assert_int_equal(db_image_exists("debian", "12.6"), 0);
	assert_int_equal(db_image_exists("debian", NULL), 1);
	assert_int_equal(db_image_exists("ubuntu", NULL), 0);

	/* newest when no version is given (same millisecond: last added) */
	assert_int_equal(db_image_resolve("debian", NULL, ver, sizeof(ver),
	    &size), DB_OK);
	assert_string_equal(ver, "12.5");
	assert_int_equal(size, 2101248);
	assert_int_equal(db_image_resolve("debian", "", ver, sizeof(ver), NULL),
	    DB_OK);
	assert_string_equal(ver, "12.5");
	assert_int_equal(db_image_resolve("debian", "12.4", ver, sizeof(ver),
	    &size), DB_OK);
	assert_string_equal(ver, "12.4");
	assert_int_equal(db_image_resolve("deb", NULL, ver, sizeof(ver), &size),
	    DB_OK);
	assert_string_equal(ver, "1");
	assert_int_equal(size, 4096);
	assert_int_equal(db_image_resolve("debian", "9", ver, sizeof(ver),
	    NULL), DB_NOTFOUND);
	assert_int_equal(db_image_resolve("nope", NULL, ver, sizeof(ver), NULL),
	    DB_NOTFOUND);

	/* a node using debian:12.4 counts for debian, not for deb */
	assert_int_equal(db_node_ensure("usb1"), 1);
	assert_int_equal(db_node_update("usb1", NULL, "debian:12.4", NULL),
	    DB_OK);

	list = db_images_list();
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 2);
	o = json_array_get(list, 0);
	assert_string_equal(jstr(o, "name"), "deb");
	assert_int_equal(json_array_size(json_object_get(o, "used_by")), 0);
	vers = json_object_get(o, "versions");
	assert_int_equal(json_array_size(vers), 1);
	assert_string_equal(jstr(json_array_get(vers, 0), "kind"), "rootfs");
	assert_true(json_is_true(json_object_get(json_array_get(vers, 0),
	    "signed")));
	assert_int_equal(jint(json_array_get(vers, 0), "chunk_count"), 1);
	o = json_array_get(list, 1);
	assert_string_equal(jstr(o, "name"), "debian");
	assert_int_equal(json_array_size(json_object_get(o, "used_by")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o,
	    "used_by"), 0)), "usb1");
	vers = json_object_get(o, "versions");
	assert_int_equal(json_array_size(vers), 2);
	assert_string_equal(jstr(json_array_get(vers, 0), "version"), "12.5");
	assert_string_equal(jstr(json_array_get(vers, 1), "version"), "12.4");
	o = json_array_get(vers, 1);
	assert_string_equal(jstr(o, "kind"), "disk");
	assert_string_equal(jstr(o, "hash"), "blake2b-256");
	assert_int_equal(jint(o, "size"), 2101248);
	assert_int_equal(jint(o, "chunk_size"), 1048576);
	assert_int_equal(jint(o, "chunk_count"), 3);
	assert_int_equal(jint(o, "stored"), 12345);
	assert_true(json_is_false(json_object_get(o, "signed")));
	assert_iso_time(jstr(o, "created"));
	json_decref(list);

	o = db_image_get("debian");
	assert_non_null(o);
	assert_int_equal(json_array_size(json_object_get(o, "versions")), 2);
	json_decref(o);
	assert_null(db_image_get("ubuntu"));

	/* remove: its chunk rows go with it */
	assert_int_equal(db_image_remove("debian", "12.5"), DB_OK);
	assert_int_equal(db_image_remove("debian", "12.5"), DB_NOTFOUND);
	assert_int_equal(db_image_exists("debian", "12.5"), 0);
	assert_int_equal(db_image_resolve("debian", NULL, ver, sizeof(ver),
	    NULL), DB_OK);
	assert_string_equal(ver, "12.4");
	assert_int_equal(raw_int("SELECT count(*) FROM image_chunks"), 4);
	assert_int_equal(db_image_remove("debian", "12.4"), DB_OK);
	assert_null(db_image_get("debian"));
	assert_int_equal(raw_int("SELECT count(*) FROM image_chunks"), 1);
	/* and the same version can come back */
	assert_int_equal(db_image_add(&b), DB_OK);
	assert_int_equal(db_image_exists("debian", "12.5"), 1);
}

/* ---- jobs ---------------------------------------------------------- */

struct collect {
	int	 n, stop_after;
	int64_t	 ids[16];
	char	 states[16][DB_STATE_MAX];
};

static int
collect_fn(const struct db_job *j, void *arg)
{
	struct collect *c = arg;

	if (c->n < 16) {
		c->ids[c->n] = j->id;
		snprintf(c->states[c->n], DB_STATE_MAX, "%s", j->state);
	}
	c->n++;
	return c->stop_after > 0 && c->n >= c->stop_after;
}

/* Pulls as db_pulls_each hands them over, newest first. */
struct pulls_seen {
	int		 n;
	int64_t		 first_id, last_id;
	struct db_pull	 first;
};

static int
collect_pull(const struct db_pull *p, void *arg)
{
	struct pulls_seen *s = arg;

	if (s->n++ == 0) {
		s->first = *p;
		s->first_id = p->id;
	}
	s->last_id = p->id;
	return 0;
}

/* db_pulls.c: a row made queued, saved with every field, listed newest
 * first; only the newest DB_PULLS_KEEP are kept. */
static void
test_pulls(void **state)
{
	struct pulls_seen s = { 0 };
	struct db_pull p = { 0 };
	int64_t id, first = 0, created;

	assert_int_equal(db_pull_create("debian", "12.5", &id, &created),
	    DB_OK);
	assert_true(created > 0);
	p.id = id;
	snprintf(p.state, sizeof(p.state), "fetching");
	p.chunks = 10;
	p.missing = 7;
	p.chunks_done = 3;
	p.bytes_total = 7000;
	p.bytes_done = 3000;
	p.bytes_fetched = 3100;
	p.failovers = 1;
	p.resumed = 2;
	p.run_ms = 1234;
	snprintf(p.source, sizeof(p.source), "http://cache:3128");
	assert_int_equal(db_pull_save(&p), DB_OK);
	assert_int_equal(db_pulls_each(collect_pull, &s), DB_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.first.name, "debian");
	assert_string_equal(s.first.version, "12.5");
	assert_string_equal(s.first.state, "fetching");
	assert_int_equal(s.first.missing, 7);
	assert_int_equal(s.first.bytes_done, 3000);
	assert_int_equal(s.first.resumed, 2);
	assert_int_equal(s.first.run_ms, 1234);
	assert_string_equal(s.first.source, "http://cache:3128");
	assert_string_equal(s.first.error, "");
	assert_int_equal(s.first.created, created);
	p.id = id + 1000;
	assert_int_equal(db_pull_save(&p), DB_NOTFOUND);
	for (int i = 0; i < DB_PULLS_KEEP + 5; i++) {
		assert_int_equal(db_pull_create("alpine", "3", &id, &created),
		    DB_OK);
		if (i == 0)
			first = id;
	}
	memset(&s, 0, sizeof(s));
	assert_int_equal(db_pulls_each(collect_pull, &s), DB_OK);
	assert_int_equal(s.n, DB_PULLS_KEEP);
	assert_int_equal(s.first_id, id);
	assert_int_equal(s.last_id, id - DB_PULLS_KEEP + 1);
	assert_true(s.last_id > first);
	assert_string_equal(s.first.state, "queued");
}

static void
test_jobs(void **state)
{
	int64_t id1, id2, id3, id4, t0 = db_now_ms();
	struct db_job j;
	struct collect col;
	json_t *o, *ev, *list, *counts;

	assert_int_equal(db_node_ensure("usb1"), 1);
	assert_int_equal(db_node_ensure("usb2"), 1);
	assert_int_equal(db_node_ensure("usb3"), 1);

	assert_int_equal(db_job_create("usb1", "reimage", "debian:12.5",
	    "token-one", 5000, &id1), DB_OK);
	assert_true(id1 > 0);
	/* one active job per slot */
	id2 = -1;
	assert_int_equal(db_job_create("usb1", "reimage", "debian:12.5",
	    "token-x", 5000, &id2), DB_CONFLICT);
	assert_int_equal(id2, -1);
	assert_int_equal(raw_int("SELECT count(*) FROM jobs"), 1);
	assert_int_equal(raw_int("SELECT count(*) FROM job_events"), 1);
	assert_int_equal(db_job_create("usb2", "reimage", "debian:12.5",
	    "token-two", 6000, &id2), DB_OK);
	assert_true(id2 != id1);

	assert_int_equal(db_job_get(id1, &j), DB_OK);
	assert_int_equal(j.id, id1);
	assert_string_equal(j.slot, "usb1");
	assert_string_equal(j.action, "reimage");
	assert_string_equal(j.image, "debian:12.5");
	assert_string_equal(j.state, "queued");
	assert_string_equal(j.token, "token-one");
	assert_string_equal(j.reason, "");
	assert_int_equal(j.bytes_total, 5000);
	assert_int_equal(j.bytes_done, 0);
	assert_int_equal(j.seen, 0);
	assert_true(j.created >= t0 && j.created <= db_now_ms());
	assert_int_equal(db_job_get(9999, &j), DB_NOTFOUND);

	/* compare and set */
	assert_int_equal(db_job_set_state(id1, "queued", "booting", NULL,
	    "boot script fetched"), DB_OK);
	assert_int_equal(db_job_set_state(id1, "queued", "streaming", NULL,
	    "late"), DB_CONFLICT);
	assert_int_equal(db_job_get(id1, &j), DB_OK);
	assert_string_equal(j.state, "booting");
	assert_int_equal(db_job_set_state(9999, "queued", "booting", NULL,
	    NULL), DB_CONFLICT);
	/* a state the schema does not know is refused */
	assert_true(db_job_set_state(id1, "booting", "bogus", NULL, NULL) !=
	    DB_OK);
	assert_int_equal(db_job_get(id1, &j), DB_OK);
	assert_string_equal(j.state, "booting");

	/* progress */
	assert_int_equal(db_job_progress(id1, 1000, 1200, 300), DB_OK);
	assert_int_equal(db_job_get(id1, &j), DB_OK);
	assert_int_equal(j.bytes_done, 1000);
	assert_int_equal(j.bytes_fetched, 1200);
	assert_int_equal(j.rate, 300);
	assert_true(j.seen >= t0);
	assert_int_equal(db_job_progress(9999, 1, 1, 1), DB_NOTFOUND);
	assert_int_equal(db_job_set_state(id1, "booting", "streaming", NULL,
	    "streaming"), DB_OK);
	assert_int_equal(db_job_event(id1, "a note"), DB_OK);
	assert_int_equal(db_job_seen(id1), DB_OK);

	/* the event log: every transition a row with a time, in order */
	o = db_job_json(id1);
	assert_non_null(o);
	assert_int_equal(jint(o, "id"), id1);
	assert_string_equal(jstr(o, "state"), "streaming");
	assert_string_equal(jstr(o, "slot"), "usb1");
	assert_null(json_object_get(o, "token"));	/* never sent out */
	assert_iso_time(jstr(o, "created"));
	assert_iso_time(jstr(o, "updated"));
	assert_iso_time(jstr(o, "seen"));
	assert_true(json_is_null(json_object_get(o, "finished")));
	ev = json_object_get(o, "events");
	assert_int_equal(json_array_size(ev), 4);
	{
		static const char *st[] = { "queued", "booting", "streaming",
		    "streaming" };
		static const char *msg[] = { "job created",
		    "boot script fetched", "streaming", "a note" };
		const char *prev = "";
		for (size_t i = 0; i < 4; i++) {
			json_t *e = json_array_get(ev, i);
			assert_string_equal(jstr(e, "state"), st[i]);
			assert_string_equal(jstr(e, "message"), msg[i]);
			assert_iso_time(jstr(e, "at"));
			assert_true(strcmp(prev, jstr(e, "at")) <= 0);
			prev = jstr(e, "at");
		}
		assert_int_equal(jint(json_array_get(ev, 3), "bytes_done"),
		    1000);
	}
	json_decref(o);
	assert_null(db_job_json(9999));

	/* the node shows its active job */
	o = db_node_get("usb1");
	assert_string_equal(jstr(o, "state"), "streaming");
	assert_int_equal(jint(json_object_get(o, "job"), "id"), id1);
	json_decref(o);

	/* terminal: reason, finished, the node's last result */
	assert_int_equal(db_job_set_state(id2, "queued", "failed",
	    "cancelled by operator", NULL), DB_OK);
	assert_int_equal(db_job_get(id2, &j), DB_OK);
	assert_string_equal(j.reason, "cancelled by operator");
	o = db_job_json(id2);
	assert_iso_time(jstr(o, "finished"));
	assert_string_equal(jstr(json_array_get(json_object_get(o, "events"),
	    1), "message"), "cancelled by operator");
	json_decref(o);
	o = db_node_get("usb2");
	assert_string_equal(jstr(o, "last_result"), "cancelled by operator");
	assert_string_equal(jstr(o, "state"), "idle");
	json_decref(o);
	/* leaving a terminal state through compare and set is refused */
	assert_int_equal(db_job_set_state(id2, "queued", "booting", NULL,
	    NULL), DB_CONFLICT);

	/* after a terminal state the slot takes a new job */
	assert_int_equal(db_job_create("usb2", "reimage", "debian:12.4",
	    "token-three", 1, &id3), DB_OK);
	assert_int_equal(db_job_set_state(id1, "streaming", "verifying", NULL,
	    NULL), DB_OK);
	assert_int_equal(db_job_set_state(id1, "verifying", "done", NULL, NULL),
	    DB_OK);
	o = db_node_get("usb1");
	assert_string_equal(jstr(o, "last_result"), "done");
	json_decref(o);
	assert_int_equal(db_job_create("usb3", "diskless", NULL, "token-four",
	    0, &id4), DB_OK);

	/* active jobs, in id order; fn can stop the walk */
	memset(&col, 0, sizeof(col));
	assert_int_equal(db_jobs_active(collect_fn, &col), DB_OK);
	assert_int_equal(col.n, 2);
	assert_int_equal(col.ids[0], id3);
	assert_int_equal(col.ids[1], id4);
	assert_string_equal(col.states[0], "queued");
	memset(&col, 0, sizeof(col));
	col.stop_after = 1;
	assert_int_equal(db_jobs_active(collect_fn, &col), DB_OK);
	assert_int_equal(col.n, 1);

	/* lists: newest first, filters, limit */
	list = db_jobs_list(NULL, NULL, 100);
	assert_int_equal(json_array_size(list), 4);
	assert_int_equal(jint(json_array_get(list, 0), "id"), id4);
	assert_int_equal(jint(json_array_get(list, 3), "id"), id1);
	assert_null(json_object_get(json_array_get(list, 0), "token"));
	json_decref(list);
	list = db_jobs_list("usb2", NULL, 100);
	assert_int_equal(json_array_size(list), 2);
	assert_int_equal(jint(json_array_get(list, 0), "id"), id3);
	json_decref(list);
	list = db_jobs_list(NULL, "failed", 100);
	assert_int_equal(json_array_size(list), 1);
	assert_int_equal(jint(json_array_get(list, 0), "id"), id2);
	json_decref(list);
	list = db_jobs_list("usb2", "queued", 100);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	list = db_jobs_list("usb1", "queued", 100);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	list = db_jobs_list(NULL, NULL, 2);
	assert_int_equal(json_array_size(list), 2);
	json_decref(list);

	counts = db_job_counts();
	assert_non_null(counts);
	assert_int_equal(jint(counts, "queued"), 2);
	assert_int_equal(jint(counts, "booting"), 0);
	assert_int_equal(jint(counts, "streaming"), 0);
	assert_int_equal(jint(counts, "verifying"), 0);
	assert_int_equal(jint(counts, "done"), 1);
	assert_int_equal(jint(counts, "failed"), 1);
	assert_int_equal(json_object_size(counts), 6);
	json_decref(counts);
}

static void
test_job_unknown_slot(void **state)
{
	int64_t id = -1;

	/* The slot must exist: a job for no node is never recorded. */
	assert_true(db_job_create("ghost", "reimage", "x:1", "t", 0, &id) !=
	    DB_OK);
	assert_int_equal(raw_int("SELECT count(*) FROM jobs"), 0);
}

static void
error_hook(const char *msg)
{
	(void)msg;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_empty, fresh,
		    close_db),
		cmocka_unit_test_setup_teardown(test_migrate_from_v1, fresh,
		    close_db),
		cmocka_unit_test_setup_teardown(test_migrate_stepwise, fresh,
		    close_db),
		cmocka_unit_test_setup_teardown(test_newer_refused, fresh,
		    close_db),
		cmocka_unit_test_setup_teardown(
		    test_failed_migration_rolls_back, fresh, close_db),
		cmocka_unit_test_setup_teardown(test_open_bad_files, fresh,
		    close_db),
		cmocka_unit_test_setup_teardown(test_nodes, fresh_open,
		    close_db),
		cmocka_unit_test_setup_teardown(test_images, fresh_open,
		    close_db),
		cmocka_unit_test_setup_teardown(test_jobs, fresh_open,
		    close_db),
		cmocka_unit_test_setup_teardown(test_job_unknown_slot,
		    fresh_open, close_db),
		cmocka_unit_test_setup_teardown(test_pulls, fresh_open,
		    close_db),
	};

	db_set_error_hook(error_hook);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
