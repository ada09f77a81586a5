/*
 * tests/unit/test_appliance_config.c — rackd's option table: defaults, the
 * config file (every option type, good and bad files with FILE:LINE errors),
 * the command line and its precedence over the file, --help and the flags,
 * config_apply_reload, config_parse_listen and slot names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appliance/rackd.h"
#include "tests/unit/unit.h"

#define ARGV_MAX 32

static char tmpdir[] = "/tmp/rackd-options.XXXXXX";

/* ---- helpers ------------------------------------------------------- */

/* Write TEXT to a file named NAME in the temporary directory. */
static const char *
write_conf(const char *name, const char *text)
{
	static char path[4][512];
	static int turn;
	char *p = path[turn++ % 4];
	FILE *fp;

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	fp = fopen(p, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	return p;
}

/* config_load with ARGS(...) or NOARGS after "rackd". */
#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })
#define NOARGS		((const char *const[]){ NULL })

static int
load(struct config *c, char *err, size_t errlen, const char *const *args)
{
	char *argv[ARGV_MAX + 1];
	int argc = 0;

	argv[argc++] = (char *)"rackd";
	for (; *args != NULL; args++) {
		assert_true(argc < ARGV_MAX);
		argv[argc++] = (char *)*args;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	return config_load(c, argc, argv, err, errlen);
}

/* Load a config file through -c; must succeed. */
static void
load_file_ok(struct config *c, const char *text)
{
	char err[CONFIG_ERR_MAX];
	const char *path = write_conf("good.conf", text);
	int rc = load(c, err, sizeof(err), ARGS("-c", path));

	if (rc != 0)
		print_error("config_load failed: %s\n", err);
	assert_int_equal(rc, 0);
}

/* Load a bad file: must fail with "PATH:LINE: " and contain WHAT. */
static void
load_file_bad(const char *text, int line, const char *what)
{
	struct config c;
	char err[CONFIG_ERR_MAX], prefix[600];
	const char *path = write_conf("bad.conf", text);

	assert_int_equal(load(&c, err, sizeof(err), ARGS("-c", path)), -1);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0) {
		print_error("error '%s' does not start with '%s'\n", err,
		    prefix);
		config_free(&c);
		fail();
	}
	config_free(&c);
	assert_contains(err, what);
}

/* config_read_file on top of defaults; must fail with WHAT at LINE. */
static void
read_file_bad(const char *text, int line, const char *what)
{
	struct config c;
	char err[CONFIG_ERR_MAX], prefix[600];
	const char *path = write_conf("bad2.conf", text);

	assert_int_equal(load(&c, err, sizeof(err), NOARGS), 0);
	assert_int_equal(config_read_file(&c, path, err, sizeof(err)), -1);
	config_free(&c);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0) {
		print_error("error '%s' does not start with '%s'\n", err,
		    prefix);
		fail();
	}
	assert_contains(err, what);
}

static int
setup_dir(void **state)
{
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
remove_dir(void **state)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- defaults ------------------------------------------------------ */

static void
test_defaults(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX];

	assert_int_equal(load(&c, err, sizeof(err), NOARGS), 0);
	assert_string_equal(c.config_file, "");
	assert_int_equal(c.foreground, 0);
	assert_int_equal(c.check_only, 0);
	assert_int_equal(c.verbose, 0);
	assert_string_equal(c.state_dir, "./var");
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_string_equal(c.webui_dir, "./webui");
	assert_string_equal(c.api_token, "");
	assert_int_equal(c.api_open_reads, 0);
	assert_int_equal(c.slots.n, 0);
	assert_int_equal(c.boot_timeout, 15 * 60);
	assert_int_equal(c.agent_timeout, 15 * 60);
	assert_int_equal(c.max_body, 1024 * 1024);
	assert_int_equal(c.max_headers, 64);
	assert_int_equal(c.max_header_bytes, 16 * 1024);
	assert_int_equal(c.max_connections, 512);
	assert_int_equal(c.idle_timeout, 60);
	assert_int_equal(c.http_threads, 1);
	assert_int_equal(c.work_threads, 0);	/* one per CPU */
	assert_int_equal(c.push_expiry, 7 * 86400);
	assert_int_equal(c.show_help, 0);
	assert_int_equal(c.show_version, 0);
	config_free(&c);
}

/* ---- good files ---------------------------------------------------- */

static void
test_file_every_type(void **state)
{
	struct config c;

	load_file_ok(&c,
	    "; a comment\n"
	    "# another comment\n"
	    "\n"
	    "[rackd]\n"
	    "state_dir = /srv/rackd\n"
	    "listen = 0.0.0.0:9000\n"
	    "webui_dir = /usr/share/rackd/webui\n"
	    "api_token = 0123456789abcdef0123\n"
	    "api_open_reads = yes\n"
	    "verbose = on\n"
	    "slots = usb1, usb2,usb-3.1 ,  U12_a\n"
	    "boot_timeout = 2h\n"
	    "agent_timeout = 90s\n"
	    "max_body = 2M\n"
	    "max_headers = 100\n"
	    "max_header_bytes = 32K\n"
	    "max_connections = 1000\n"
	    "idle_timeout = 2m\n"
	    "http_threads = 4\n");
	assert_string_equal(c.state_dir, "/srv/rackd");
	assert_string_equal(c.listen, "0.0.0.0:9000");
	assert_string_equal(c.webui_dir, "/usr/share/rackd/webui");
	assert_string_equal(c.api_token, "0123456789abcdef0123");
	assert_int_equal(c.api_open_reads, 1);
	assert_int_equal(c.verbose, 1);
	assert_int_equal(c.slots.n, 4);
	assert_string_equal(c.slots.v[0], "usb1");
	assert_string_equal(c.slots.v[1], "usb2");
	assert_string_equal(c.slots.v[2], "usb-3.1");
	assert_string_equal(c.slots.v[3], "U12_a");
	assert_int_equal(c.boot_timeout, 2 * 3600);
	assert_int_equal(c.agent_timeout, 90);
	assert_int_equal(c.max_body, 2 * 1024 * 1024);
	assert_int_equal(c.max_headers, 100);
	assert_int_equal(c.max_header_bytes, 32 * 1024);
	assert_int_equal(c.max_connections, 1000);
	assert_int_equal(c.idle_timeout, 120);
	assert_int_equal(c.http_threads, 4);
	assert_contains(c.config_file, "good.conf");
	config_free(&c);
}

static void
test_file_no_section(void **state)
{
	struct config c;

	/* Keys before any section header belong to rackd too. */
	load_file_ok(&c, "max_headers = 9\nlisten = [::1]:80\n");
	assert_int_equal(c.max_headers, 9);
	assert_string_equal(c.listen, "[::1]:80");
	config_free(&c);
}

static void
test_file_bools(void **state)
{
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{ "yes", 1 }, { "no", 0 }, { "on", 1 }, { "off", 0 },
		{ "YES", 1 }, { "Off", 0 }, { "true", 1 }, { "false", 0 },
		{ "1", 1 }, { "0", 0 },
	};
	char text[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		/* Start from the opposite so that each value really sets. */
		snprintf(text, sizeof(text), "verbose = %s\n"
		    "api_open_reads = %s\n", cases[i].text, cases[i].text);
		load_file_ok(&c, text);
		assert_int_equal(c.verbose, cases[i].want);
		assert_int_equal(c.api_open_reads, cases[i].want);
		config_free(&c);
	}
}

static void
test_file_sizes(void **state)
{
	static const struct {
		const char *text;
		size_t want;
	} cases[] = {
		{ "1024", 1024 }, { "4K", 4096 }, { "4k", 4096 },
		{ "1M", 1 << 20 }, { "64M", 64u << 20 }, { "1m", 1 << 20 },
		{ "5000", 5000 },
	};
	char text[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		snprintf(text, sizeof(text), "max_body = %s\n", cases[i].text);
		load_file_ok(&c, text);
		assert_int_equal(c.max_body, cases[i].want);
		config_free(&c);
	}
	/* G is a unit too: 1G parses (1 GiB) but is above max_body's
	 * range, which the message must say (not "bad suffix"). */
	load_file_bad("max_body = 1G\n", 1, "'1G' is not a size from 1024 "
	    "to 67108864 bytes");
	load_file_bad("max_header_bytes = 1g\n", 1, "is not a size from 4096 "
	    "to 1048576 bytes");
	load_file_bad("max_body = 1T\n", 1, "suffix K, M or G");
	load_file_bad("max_body = 1KB\n", 1, "'1KB' is not a size");
	load_file_bad("max_body = K\n", 1, "'K' is not a size");
	load_file_bad("max_body = -4K\n", 1, "'-4K' is not a size");
	load_file_bad("max_body = 1023\n", 1, "'1023' is not a size");
	load_file_bad("max_body = 99999999999999999999M\n", 1, "is not a size");
}

static void
test_file_durations(void **state)
{
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{ "45", 45 }, { "45s", 45 }, { "45S", 45 }, { "10m", 600 },
		{ "3h", 3 * 3600 }, { "1d", 86400 }, { "7d", 7 * 86400 },
		{ "10", 10 },
	};
	char text[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		snprintf(text, sizeof(text), "boot_timeout = %s\n",
		    cases[i].text);
		load_file_ok(&c, text);
		assert_int_equal(c.boot_timeout, cases[i].want);
		config_free(&c);
	}
	load_file_bad("boot_timeout = 8d\n", 1, "'8d' is not a time from 10s "
	    "to 604800s");
	load_file_bad("boot_timeout = 9\n", 1, "'9' is not a time");
	load_file_bad("agent_timeout = 2d\n", 1, "'2d' is not a time from "
	    "10s to 86400s");
	load_file_bad("idle_timeout = 0\n", 1, "'0' is not a time from 1s");
	load_file_bad("idle_timeout = 5w\n", 1, "suffix s, m, h or d");
	load_file_bad("idle_timeout = 1.5m\n", 1, "'1.5m' is not a time");
	load_file_bad("idle_timeout = soon\n", 1, "'soon' is not a time");
}

static void
test_file_listen(void **state)
{
	static const char *good[] = {
		"127.0.0.1:8080", "0.0.0.0:1", "10.1.2.3:65535", "[::1]:80",
		"[::]:8080", "[fe80::1]:443",
	};
	char text[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct config c;
		snprintf(text, sizeof(text), "listen = %s\n", good[i]);
		load_file_ok(&c, text);
		assert_string_equal(c.listen, good[i]);
		config_free(&c);
	}
	load_file_bad("listen = 127.0.0.1:0\n", 1, "port must be 1-65535");
	load_file_bad("listen = 127.0.0.1:65536\n", 1, "port must be 1-65535");
	load_file_bad("listen = 127.0.0.1:http\n", 1, "port must be 1-65535");
	load_file_bad("listen = 127.0.0.1:\n", 1, "port must be 1-65535");
	load_file_bad("listen = 127.0.0.1:-80\n", 1, "port must be 1-65535");
	load_file_bad("listen = 127.0.0.1:80x\n", 1, "port must be 1-65535");
	load_file_bad("listen = 127.0.0.1\n", 1, "is not ADDR:PORT");
	load_file_bad("listen = [::1]80\n", 1, "is not [IPV6]:PORT");
	load_file_bad("listen = [::1\n", 1, "is not [IPV6]:PORT");
	load_file_bad("listen = localhost:80\n", 1, "'localhost' is not an IP "
	    "address");
	load_file_bad("listen = 300.1.1.1:80\n", 1, "is not an IP address");
	load_file_bad("listen = [127.0.0.1.5]:80\n", 1, "is not an IP address");
}

static void
test_file_slots(void **state)
{
	struct config c;
	char *text;
	size_t len = 0, cap = 16 * 300;

	load_file_ok(&c, "slots =\n");
	assert_int_equal(c.slots.n, 0);
	config_free(&c);

	load_file_ok(&c, "slots = a\n");
	assert_int_equal(c.slots.n, 1);
	assert_string_equal(c.slots.v[0], "a");
	config_free(&c);

	/* A list named again grows (long lists over several lines). */
	load_file_ok(&c, "slots = a, b, c\nslots = d\n");
	assert_int_equal(c.slots.n, 4);
	assert_string_equal(c.slots.v[0], "a");
	assert_string_equal(c.slots.v[3], "d");
	config_free(&c);

	/* ... and so does an indented continuation line. */
	load_file_ok(&c, "slots = a, b\n  c\n");
	assert_int_equal(c.slots.n, 3);
	assert_string_equal(c.slots.v[2], "c");
	config_free(&c);

	load_file_bad("\nslots = usb1, bad/slot\n", 2, "'bad/slot'");
	load_file_bad("\nslots = usb1, bad/slot\n", 2, "not a slot name");
	load_file_bad("slots = .hidden\n", 1, "'.hidden'");
	load_file_bad("slots = -x\n", 1, "not a slot name");
	load_file_bad("slots = "
	    "a23456789012345678901234567890123\n", 1, "not a slot name");

	/* More than SLOTS_MAX: a clean error. Built in a config file with
	 * multi-line continuation would depend on inih options; set it via
	 * the command line instead, which has no line length limit. */
	text = malloc(cap);
	assert_non_null(text);
	for (int i = 0; i <= SLOTS_MAX; i++)
		len += (size_t)snprintf(text + len, cap - len, "%ss%d",
		    i ? "," : "", i);
	{
		char err[CONFIG_ERR_MAX], *arg;
		assert_true(asprintf(&arg, "--slots=%s", text) > 0);
		assert_int_equal(load(&c, err, sizeof(err), ARGS(arg)), -1);
		assert_contains(err, "more than 256");
		config_free(&c);
		/* exactly SLOTS_MAX is fine */
		*strrchr(arg, ',') = '\0';
		assert_int_equal(load(&c, err, sizeof(err), ARGS(arg)), 0);
		assert_int_equal(c.slots.n, SLOTS_MAX);
		assert_string_equal(c.slots.v[SLOTS_MAX - 1], "s255");
		config_free(&c);
		free(arg);
	}
	free(text);
}

/* A value longer than inih's default line buffer but within
 * CONFIG_VALUE_MAX must be read whole (or refused), never cut short. */
static void
test_file_long_value(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX], text[1200], tok[601];
	const char *path;
	int rc;

	memset(tok, 'a', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	snprintf(text, sizeof(text), "api_token = %s\nmax_headers = 9\n", tok);
	path = write_conf("long.conf", text);
	rc = load(&c, err, sizeof(err), ARGS("-c", path));
	if (rc == 0) {
		assert_string_equal(c.api_token, tok);
		assert_int_equal(c.max_headers, 9);
	} else {
		/* refused: the message must point at line 1 */
		char prefix[600];
		snprintf(prefix, sizeof(prefix), "%s:1: ", path);
		if (strncmp(err, prefix, strlen(prefix)) != 0) {
			print_error("long value: '%s'\n", err);
			fail();
		}
	}
	config_free(&c);
}

/* ---- bad files: FILE:LINE: what ----------------------------------- */

static void
test_file_bad_lines(void **state)
{
	load_file_bad("listen = 127.0.0.1:80\n\n# comment\ncolour = blue\n",
	    4, "unknown option 'colour'");
	load_file_bad("[rackd]\nverbose = yes\napi_open_reads = maybe\n", 3,
	    "api_open_reads: 'maybe' is not yes or no");
	load_file_bad("max_headers = 7\n", 1, "max_headers: '7' is not a "
	    "number from 8 to 1024");
	load_file_bad("max_headers = 1025\n", 1, "from 8 to 1024");
	load_file_bad("max_headers = 12abc\n", 1, "'12abc' is not a number");
	load_file_bad("max_headers = 4K\n", 1, "'4K' is not a number");
	load_file_bad("http_threads = 65\n", 1, "from 1 to 64");
	load_file_bad("max_connections = 3\n", 1, "from 4 to 65536");
	load_file_bad("\n\nlisten = 127.0.0.1:99999\n", 3,
	    "listen: '127.0.0.1:99999': port must be 1-65535");
	load_file_bad("verbose = no\n[server]\nlisten = 127.0.0.1:80\n", 3,
	    "unknown section [server]");
	load_file_bad("verbose = no\nthis line has no equals sign\n", 2,
	    "syntax error");
	load_file_bad("[rackd\nverbose = no\n", 1, "syntax error");
	/* Command line only options are not config file keys. */
	load_file_bad("config = /etc/other.conf\n", 1, "unknown option "
	    "'config'");
	load_file_bad("foreground = yes\n", 1, "unknown option 'foreground'");
	load_file_bad("check = yes\n", 1, "unknown option 'check'");
	/* rackd refuses a configured API token shorter than 16 at start;
	 * the check of the file (rackd -n) must refuse it too. */
	load_file_bad("\napi_token = short\n", 2, "api_token");
	/* Dashes are for the command line; the file uses underscores. */
	load_file_bad("state-dir = /x\n", 1, "unknown option 'state-dir'");
	/* The first error is reported, with its own line. */
	load_file_bad("max_headers = 1\nmax_body = 1\n", 1, "max_headers");
	/* A syntax error before a bad value: the line and the message
	 * must be about the same error. */
	load_file_bad("verbose = yes\nnot an option line\nmax_headers = 1\n", 2,
	    "syntax error");
	/* The same through config_read_file (what SIGHUP uses). */
	read_file_bad("\nmax_body = lots\n", 2, "max_body: 'lots' is not a "
	    "size");
	read_file_bad("a = b\n", 1, "unknown option 'a'");
}

static void
test_file_missing(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX], path[600];

	snprintf(path, sizeof(path), "%s/no-such.conf", tmpdir);
	assert_int_equal(load(&c, err, sizeof(err), ARGS("-c", path)), -1);
	assert_contains(err, path);
	assert_contains(err, "No such file or directory");
	config_free(&c);
}

static void
test_file_empty(void **state)
{
	struct config c;

	load_file_ok(&c, "");
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_int_equal(c.max_headers, 64);
	config_free(&c);
}

/* ---- command line -------------------------------------------------- */

static void
test_cli_overrides_file(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	const char *path = write_conf("prec.conf",
	    "listen = 127.0.0.1:1111\nmax_body = 8K\nstate_dir = /from/file\n"
	    "api_open_reads = yes\nslots = a, b\n");

	/* Command line after -c */
	assert_int_equal(load(&c, err, sizeof(err), ARGS("-c", path,
	    "--listen", "127.0.0.1:2222", "--max-body=16K",
	    "--api-open-reads=no")), 0);
	assert_string_equal(c.listen, "127.0.0.1:2222");
	assert_int_equal(c.max_body, 16 * 1024);
	assert_int_equal(c.api_open_reads, 0);
	assert_string_equal(c.state_dir, "/from/file");	/* file over default */
	assert_int_equal(c.slots.n, 2);
	config_free(&c);

	/* Command line before -c: still wins over the file. */
	assert_int_equal(load(&c, err, sizeof(err),
	    ARGS("--listen=127.0.0.1:3333", "--slots", "x", "-c", path)), 0);
	assert_string_equal(c.listen, "127.0.0.1:3333");
	assert_int_equal(c.slots.n, 1);
	assert_string_equal(c.slots.v[0], "x");
	assert_int_equal(c.max_body, 8 * 1024);
	config_free(&c);

	/* --config= long form */
	{
		char *arg;
		assert_true(asprintf(&arg, "--config=%s", path) > 0);
		assert_int_equal(load(&c, err, sizeof(err), ARGS(arg)), 0);
		assert_string_equal(c.listen, "127.0.0.1:1111");
		config_free(&c);
		free(arg);
	}
}

static void
test_cli_values(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX];

	assert_int_equal(load(&c, err, sizeof(err), ARGS("--state-dir",
	    "/tmp/s", "--listen", "[::1]:8081", "--webui-dir", "/w",
	    "--api-open-reads", "--boot-timeout", "20m", "--agent-timeout=30s",
	    "--max-headers", "10", "--max-header-bytes", "8K",
	    "--max-connections", "40", "--idle-timeout", "5s",
	    "--http-threads", "2")), 0);
	assert_string_equal(c.state_dir, "/tmp/s");
	assert_string_equal(c.listen, "[::1]:8081");
	assert_string_equal(c.webui_dir, "/w");
	assert_int_equal(c.api_open_reads, 1);	/* bare bool flag: yes */
	assert_int_equal(c.boot_timeout, 1200);
	assert_int_equal(c.agent_timeout, 30);
	assert_int_equal(c.max_headers, 10);
	assert_int_equal(c.max_header_bytes, 8192);
	assert_int_equal(c.max_connections, 40);
	assert_int_equal(c.idle_timeout, 5);
	assert_int_equal(c.http_threads, 2);
	config_free(&c);
}

static void
test_cli_errors(void **state)
{
	const struct {
		const char *const *args;
		const char *want;	/* in the error; NULL: -1 is enough */
	} bad[] = {
		{ ARGS("--bogus"), "unknown option '--bogus'" },
		{ ARGS("-x"), "unknown option '-x'" },
		{ ARGS("--listen"), "'--listen' needs a value" },
		{ ARGS("stray"), "unexpected argument 'stray'" },
		{ ARGS("--max-headers", "3"),
		    "--max-headers: '3' is not a number from 8" },
		{ ARGS("--listen", "1.2.3.4"),
		    "--listen: '1.2.3.4' is not ADDR:PORT" },
		{ ARGS("--api-open-reads=maybe"),
		    "--api-open-reads: 'maybe' is not yes or no" },
		/* Config file keys use underscores; the command line dashes. */
		{ ARGS("--state_dir", "/x"), "unknown option '--state_dir'" },
		/* -d and -n take no value */
		{ ARGS("--foreground=yes"), NULL },
	};
	struct config c;
	char err[CONFIG_ERR_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i].args[0]);
		assert_int_equal(load(&c, err, sizeof(err), bad[i].args), -1);
		if (bad[i].want != NULL)
			assert_contains(err, bad[i].want);
		config_free(&c);
	}
}

static void
test_cli_flags(void **state)
{
	/* Every flag after each command line; the others stay 0. */
	const struct {
		const char *const *args;
		int check_only, foreground, verbose, show_help, show_version;
	} cases[] = {
		{ ARGS("-n"),		1, 0, 0, 0, 0 },
		{ ARGS("--check"),	1, 0, 0, 0, 0 },
		{ ARGS("-d", "-v"),	0, 1, 1, 0, 0 },
		{ ARGS("-dn"),		1, 1, 0, 0, 0 },
		{ ARGS("--verbose=no"),	0, 0, 0, 0, 0 },
		{ ARGS("--help"),	0, 0, 0, 1, 0 },
		{ ARGS("-h"),		0, 0, 0, 1, 0 },
		{ ARGS("--version"),	0, 0, 0, 0, 1 },
	};
	struct config c;
	char err[CONFIG_ERR_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].args[0]);
		assert_int_equal(load(&c, err, sizeof(err), cases[i].args), 0);
		assert_int_equal(c.check_only, cases[i].check_only);
		assert_int_equal(c.foreground, cases[i].foreground);
		assert_int_equal(c.verbose, cases[i].verbose);
		assert_int_equal(c.show_help, cases[i].show_help);
		assert_int_equal(c.show_version, cases[i].show_version);
		config_free(&c);
	}

	/* -n with a bad file still fails: -n checks the file. */
	{
		const char *path = write_conf("n.conf", "max_body = x\n");
		assert_int_equal(load(&c, err, sizeof(err),
		    ARGS("-n", "-c", path)), -1);
		assert_contains(err, "n.conf:1: max_body");
		config_free(&c);
	}
}

static void
test_usage(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	static const char *want[] = {
		"-c, --config FILE", "-d, --foreground", "-n, --check",
		"-v, --verbose", "--state-dir DIR", "--listen ADDR:PORT",
		"--webui-dir DIR", "--api-token TOKEN", "--api-open-reads",
		"--slots LIST", "--boot-timeout TIME", "--agent-timeout TIME",
		"--max-body SIZE", "--max-headers N", "--max-header-bytes SIZE",
		"--max-connections N", "--idle-timeout TIME",
		"--http-threads N", "-h, --help", "-V, --version",
		"[./var]", "[127.0.0.1:8080]", "[1M]", "[15m]",
		"configuration OK",
	};

	assert_non_null(fp);
	config_usage(fp, "rackd");
	assert_int_equal(fclose(fp), 0);
	assert_contains(buf, "usage: rackd");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_contains(buf, want[i]);
	free(buf);
}

/* ---- reload -------------------------------------------------------- */

static void
test_apply_reload(void **state)
{
	struct config cur, next;
	char err[CONFIG_ERR_MAX];
	const char *a = write_conf("a.conf",
	    "listen = 127.0.0.1:1000\nstate_dir = /a\nwebui_dir = /wa\n"
	    "api_open_reads = no\nverbose = no\nslots = s1\n"
	    "max_body = 4K\nmax_headers = 10\nboot_timeout = 1h\n"
	    "agent_timeout = 1h\nmax_connections = 10\nidle_timeout = 10s\n"
	    "max_header_bytes = 8K\nhttp_threads = 1\napi_token = "
	    "aaaaaaaaaaaaaaaaaaaa\n");
	const char *b = write_conf("b.conf",
	    "listen = 127.0.0.1:2000\nstate_dir = /b\nwebui_dir = /wb\n"
	    "api_open_reads = yes\nverbose = yes\nslots = s1, s2\n"
	    "max_body = 8K\nmax_headers = 20\nboot_timeout = 2h\n"
	    "agent_timeout = 2h\nmax_connections = 20\nidle_timeout = 20s\n"
	    "max_header_bytes = 16K\nhttp_threads = 2\napi_token = "
	    "bbbbbbbbbbbbbbbbbbbb\n");

	assert_int_equal(load(&cur, err, sizeof(err), ARGS("-c", a)), 0);
	assert_int_equal(load(&next, err, sizeof(err), ARGS("-c", b)), 0);
	config_apply_reload(&cur, &next);

	/* reloadable: taken from the new file */
	assert_string_equal(cur.webui_dir, "/wb");
	assert_int_equal(cur.api_open_reads, 1);
	assert_int_equal(cur.verbose, 1);
	assert_int_equal(cur.slots.n, 2);
	assert_string_equal(cur.slots.v[1], "s2");
	assert_int_equal(cur.max_body, 8192);
	assert_int_equal(cur.max_headers, 20);
	assert_int_equal(cur.boot_timeout, 7200);
	assert_int_equal(cur.agent_timeout, 7200);
	assert_string_equal(cur.api_token, "bbbbbbbbbbbbbbbbbbbb");
	/* not reloadable: kept until the next start */
	assert_string_equal(cur.listen, "127.0.0.1:1000");
	assert_string_equal(cur.state_dir, "/a");
	assert_int_equal(cur.max_connections, 10);
	assert_int_equal(cur.idle_timeout, 10);
	assert_int_equal(cur.max_header_bytes, 8192);
	assert_int_equal(cur.http_threads, 1);
	/* command line only: kept */
	assert_contains(cur.config_file, "a.conf");
	/* next holds the old reloadable values (the caller frees them) */
	assert_string_equal(next.webui_dir, "/wa");
	assert_int_equal(next.slots.n, 1);
	assert_string_equal(next.slots.v[0], "s1");
	assert_string_equal(next.api_token, "aaaaaaaaaaaaaaaaaaaa");
	assert_string_equal(next.listen, "127.0.0.1:2000");
	config_free(&next);

	/* cur stays whole after next is freed */
	assert_string_equal(cur.webui_dir, "/wb");
	assert_string_equal(cur.slots.v[0], "s1");

	/* Reloading the same file again changes nothing. */
	assert_int_equal(load(&next, err, sizeof(err), ARGS("-c", b)), 0);
	config_apply_reload(&cur, &next);
	assert_string_equal(cur.webui_dir, "/wb");
	assert_int_equal(cur.slots.n, 2);
	assert_string_equal(cur.listen, "127.0.0.1:1000");
	config_free(&next);
	config_free(&cur);
}

/* ---- listen and slot names ---------------------------------------- */

static void
test_parse_listen(void **state)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	char err[256];
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct in6_addr lo6 = IN6ADDR_LOOPBACK_INIT;

	assert_int_equal(config_parse_listen("127.0.0.1:8080", &ss, &sl, err,
	    sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(sl, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(sin->sin_port), 8080);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);

	assert_int_equal(config_parse_listen("[::1]:80", &ss, &sl, err,
	    sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(sl, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(sin6->sin6_port), 80);
	assert_memory_equal(&sin6->sin6_addr, &lo6, sizeof(lo6));

	assert_int_equal(config_parse_listen("[::1]:0", &ss, &sl, err,
	    sizeof(err)), -1);
	assert_contains(err, "port must be 1-65535");
	assert_int_equal(config_parse_listen("[::1]", &ss, &sl, err,
	    sizeof(err)), -1);
	assert_int_equal(config_parse_listen(":80", &ss, &sl, err,
	    sizeof(err)), -1);
	assert_contains(err, "is not an IP address");
	assert_int_equal(config_parse_listen("", &ss, &sl, err,
	    sizeof(err)), -1);
	assert_int_equal(config_parse_listen("[1:2:3:4:5:6:7:8:9:10:11:12]:80",
	    &ss, &sl, err, sizeof(err)), -1);
	assert_int_equal(config_parse_listen("127.0.0.1:4294967377", &ss, &sl,
	    err, sizeof(err)), -1);
	assert_contains(err, "port must be 1-65535");
}

static void
test_slot_names(void **state)
{
	static const char *good[] = {
		"usb1", "U12", "1-1.2", "a_b", "rack.3", "x",
		"a2345678901234567890123456789012",	/* 32 */
	};
	static const char *bad[] = {
		"", "-a", ".a", "_a", "a/b", "a b", "a:b", "..", "a\\b",
		"a2345678901234567890123456789012x",	/* 33 */
		"é",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!slot_name_valid(good[i])) {
			print_error("'%s' should be a slot name\n", good[i]);
			fail();
		}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (slot_name_valid(bad[i])) {
			print_error("'%s' should not be a slot name\n", bad[i]);
			fail();
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file_every_type),
		cmocka_unit_test(test_file_no_section),
		cmocka_unit_test(test_file_bools),
		cmocka_unit_test(test_file_sizes),
		cmocka_unit_test(test_file_durations),
		cmocka_unit_test(test_file_listen),
		cmocka_unit_test(test_file_slots),
		cmocka_unit_test(test_file_long_value),
		cmocka_unit_test(test_file_bad_lines),
		cmocka_unit_test(test_file_missing),
		cmocka_unit_test(test_file_empty),
		cmocka_unit_test(test_cli_overrides_file),
		cmocka_unit_test(test_cli_values),
		cmocka_unit_test(test_cli_errors),
		cmocka_unit_test(test_cli_flags),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_apply_reload),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_slot_names),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
