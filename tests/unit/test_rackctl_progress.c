/* tests/unit/test_rackctl_progress.c — rackctl's progress module
 * (images/rackctl/progress.c): what each mode draws on stderr, the bars
 * and rows redrawn in place, the closing table (the same bytes as the
 * table rackctl push printed before the module), JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/rackctl/rackctl.h"

/* stderr, file descriptor 2, into a temporary file while a test draws. */
static FILE *cap;
static int saved_fd = -1;

static void
capture_start(void)
{
	fflush(stderr);
	cap = tmpfile();
	assert_non_null(cap);
	saved_fd = dup(STDERR_FILENO);
	assert_true(saved_fd >= 0);
	assert_true(dup2(fileno(cap), STDERR_FILENO) >= 0);
}

/* What was written since capture_start (malloc'd). */
static char *
capture_end(void)
{
	char *buf;
	long n;

	fflush(stderr);
	assert_true(dup2(saved_fd, STDERR_FILENO) >= 0);
	close(saved_fd);
	n = ftell(cap);
	assert_true(n >= 0);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	rewind(cap);
	assert_int_equal(fread(buf, 1, (size_t)n, cap), (size_t)n);
	fclose(cap);
	return buf;
}

static void
test_pct(void **state)
{
	(void)state;
	assert_int_equal(progress_pct(0, 0), 0);
	assert_int_equal(progress_pct(5, 0), 100);
	assert_int_equal(progress_pct(0, 100), 0);
	assert_int_equal(progress_pct(99, 100), 99);
	assert_int_equal(progress_pct(100, 100), 100);
	assert_int_equal(progress_pct(150, 100), 100);
	/* no overflow on large images */
	assert_int_equal(progress_pct(UINT64_C(1) << 50, UINT64_C(1) << 51),
	    50);
}

static void
test_sizes(void **state)
{
	char buf[3 * HUMAN_MAX + 16];

	(void)state;
	assert_string_equal(progress_sizes(1024, 4096, 512, buf, sizeof(buf)),
	    "  1.0 KiB of 4.0 KiB       512 B/s");
	assert_string_equal(progress_sizes(0, 0, -3, buf, sizeof(buf)),
	    "      0 B of 0 B             0 B/s");
}

static void
test_mode(void **state)
{
	(void)state;
	assert_int_equal(progress_mode_for(true, false), PROGRESS_QUIET);
	assert_int_equal(progress_mode_for(false, true), PROGRESS_JSON);
	assert_int_equal(progress_mode_for(true, true), PROGRESS_JSON);
	capture_start();	/* stderr is a file: plain lines */
	enum progress_mode m = progress_mode_for(false, false);
	free(capture_end());
	assert_int_equal(m, PROGRESS_LINES);
}

static void
test_bar(void **state)
{
	struct progress pg;
	char *out;

	(void)state;
	progress_init(&pg, PROGRESS_BAR, 10, 0, 0);
	capture_start();
	progress_bar(&pg, "job 7", 50, "%s", "streaming");
	progress_bar(&pg, NULL, -1, "1.0 MiB read");
	progress_end(&pg, true);
	progress_end(&pg, true);	/* nothing open: nothing */
	out = capture_end();
	assert_string_equal(out,
	    "\r\033[Kjob 7 [#####.....]  50%  streaming"
	    "\r\033[K1.0 MiB read\n");
	free(out);

	/* a label padded and cut; a bar erased at its end */
	progress_init(&pg, PROGRESS_BAR, 4, 6, 0);
	capture_start();
	progress_bar(&pg, "http://rack12:8080", 100, "x");
	progress_end(&pg, false);
	out = capture_end();
	assert_string_equal(out, "\r\033[Khttp:/ [####] 100%  x\r\033[K");
	free(out);
}

static void
test_rows(void **state)
{
	struct progress pg;
	char *out;

	(void)state;
	progress_init(&pg, PROGRESS_BAR, 2, 0, 0);
	capture_start();
	progress_rows_begin(&pg);
	progress_row(&pg, "a", 0, "1");
	progress_row(&pg, "b", 100, "2");
	progress_rows_end(&pg);
	progress_rows_begin(&pg);	/* back over both */
	progress_row(&pg, "a", 50, "3");
	progress_row(&pg, "b", 100, "4");
	progress_rows_end(&pg);
	out = capture_end();
	assert_string_equal(out,
	    "\r\033[Ka [..]   0%  1\n"
	    "\r\033[Kb [##] 100%  2\n"
	    "\033[2A"
	    "\r\033[Ka [#.]  50%  3\n"
	    "\r\033[Kb [##] 100%  4\n");
	free(out);
}

/* Each mode draws only its own: bars on a terminal, lines in a log, notes
 * always, nothing else when quiet or JSON. */
static void
test_modes_draw_their_own(void **state)
{
	static const enum progress_mode modes[] = {
		PROGRESS_QUIET, PROGRESS_BAR, PROGRESS_LINES, PROGRESS_JSON,
	};
	static const char *const want[] = {
		"note 0\n",
		"\r\033[Kbar [#] 100%  \r\033[Knote 1\n",
		"line 2\nnote 2\n",
		"note 3\n",
	};

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct progress pg;
		char *out;

		progress_init(&pg, modes[i], 1, 0, 0);
		capture_start();
		progress_rows_begin(&pg);
		progress_bar(&pg, "bar", 100, "%s", "");
		progress_line(&pg, "line %zu", i);
		progress_note(&pg, "note %zu", i);
		progress_end(&pg, true);	/* the note closed the bar */
		out = capture_end();
		assert_string_equal(out, want[i]);
		free(out);
	}
}

static void
test_due(void **state)
{
	struct progress pg;

	(void)state;
	progress_init(&pg, PROGRESS_BAR, 10, 0, 1000);
	assert_true(progress_due(&pg, false));	/* the first draw */
	assert_false(progress_due(&pg, false));
	assert_true(progress_due(&pg, true));
	progress_init(&pg, PROGRESS_BAR, 10, 0, 0);
	assert_true(progress_due(&pg, false));
	assert_true(progress_due(&pg, false));
}

/* The push table, cell by cell, is what push printed with printf. */
static void
test_table(void **state)
{
	static const struct progress_col cols[] = {
		{ "RACK", -40, 0 },
		{ "RESULT", -10, 1 },
		{ "SENT", 12, 1 },
		{ "TIME", 9, 1 },
		{ "", 0, 2 },
	};
	const char *url = "http://a-rack-with-a-very-long-name.example:8080";
	const char *cells[] = { url, "failed", "1.5 MiB", "12.3s", "HTTP 403" };
	char want[512], *got = NULL;
	size_t len = 0;
	FILE *f;
	int n;

	(void)state;
	n = snprintf(want, sizeof(want), "%-40s %-10s %12s %9s  %s\n", "RACK",
	    "RESULT", "SENT", "TIME", "");
	snprintf(want + n, sizeof(want) - (size_t)n,
	    "%-40.40s %-10s %12s %8.1fs  %s\n", url, "failed", "1.5 MiB",
	    12.3, "HTTP 403");
	f = open_memstream(&got, &len);
	assert_non_null(f);
	progress_table_row(f, cols, 5, NULL);
	progress_table_row(f, cols, 5, cells);
	fclose(f);
	assert_string_equal(got, want);
	free(got);
}

static void
test_json(void **state)
{
	char *got = NULL;
	size_t len = 0;
	FILE *f;
	json_t *o = json_pack("{s:s,s:b}", "image", "app:1", "ok", 1);

	(void)state;
	f = open_memstream(&got, &len);
	assert_non_null(f);
	assert_int_equal(progress_json(f, NULL, 1), -1);
	assert_int_equal(progress_json(f, o, 1), 0);
	fclose(f);
	assert_string_equal(got,
	    "{\n \"image\": \"app:1\",\n \"ok\": true\n}\n");
	free(got);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pct),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_bar),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_modes_draw_their_own),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
