/* images/rackctl/progress.c — how rackctl shows what a command is doing,
 * for every command that takes a while (push, reimage --wait, image
 * import).
 *
 * While it runs: on a terminal, bars redrawn in place on stderr (one bar
 * on the current line, or rows of bars that are redrawn together);
 * otherwise a plain line per step, which a log keeps readable. At the
 * end: a table or JSON on stdout, which scripts read. One module, so that
 * every command draws its bars, lines and tables the same way.
 */
#include "images/rackctl/rackctl.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLEAR_LINE "\r\033[K" /* back to the line's start, erase it */

enum progress_mode
progress_mode_for(bool quiet, bool json)
{
	if (json)
		return PROGRESS_JSON;
	if (quiet)
		return PROGRESS_QUIET;
	return isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_LINES;
}

void
progress_init(struct progress *pg, enum progress_mode mode, int width,
    int label_width, double interval)
{
	memset(pg, 0, sizeof(*pg));
	pg->mode = mode;
	pg->width = width < 1	       ? 1
	    : width > PROGRESS_BAR_MAX ? PROGRESS_BAR_MAX
				       : width;
	pg->label_width = label_width;
	pg->interval = interval;
	pg->last = -1;
}

bool
progress_due(struct progress *pg, bool force)
{
	double now = rackctl_now();

	if (!force && pg->last >= 0 && now - pg->last < pg->interval)
		return false;
	pg->last = now;
	return true;
}

int
progress_pct(uint64_t done, uint64_t total)
{
	if (total == 0)
		return done ? 100 : 0;
	return done >= total ? 100 : (int)(done * 100 / total);
}

const char *
progress_sizes(
    uint64_t done, uint64_t total, double rate, char *buf, size_t len)
{
	char h1[HUMAN_MAX], h2[HUMAN_MAX], h3[HUMAN_MAX];

	snprintf(buf, len, "%9s of %-9s %9s/s",
	    fmt_bytes(done, h1, sizeof(h1)),
	    fmt_bytes(total, h2, sizeof(h2)),
	    fmt_bytes(rate > 0 ? (uint64_t)rate : 0, h3, sizeof(h3)));
	return buf;
}

/* "LABEL [#####.....] NN%  TEXT" after the line is erased; pct < 0: no
 * bar, only the label and the text. */
static void
draw(struct progress *pg, const char *label, int pct, const char *fmt,
    va_list ap)
{
	char bar[PROGRESS_BAR_MAX + 1];

	fputs(CLEAR_LINE, stderr);
	if (label && pg->label_width > 0)
		fprintf(
		    stderr, "%-*.*s ", pg->label_width, pg->label_width, label);
	else if (label)
		fprintf(stderr, "%s ", label);
	if (pct >= 0) {
		int fill;

		if (pct > 100)
			pct = 100;
		fill = pct * pg->width / 100;
		for (int i = 0; i < pg->width; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[pg->width] = '\0';
		fprintf(stderr, "[%s] %3d%%  ", bar, pct);
	}
	vfprintf(stderr, fmt, ap);
}

void
progress_bar(
    struct progress *pg, const char *label, int pct, const char *fmt, ...)
{
	va_list ap;

	if (pg->mode != PROGRESS_BAR)
		return;
	va_start(ap, fmt);
	draw(pg, label, pct, fmt, ap);
	va_end(ap);
	fflush(stderr);
	pg->open = true;
}

void
progress_rows_begin(struct progress *pg)
{
	if (pg->mode != PROGRESS_BAR)
		return;
	if (pg->rows)
		fprintf(stderr, "\033[%zuA", pg->rows);
	pg->rows = 0;
}

void
progress_row(
    struct progress *pg, const char *label, int pct, const char *fmt, ...)
{
	va_list ap;

	if (pg->mode != PROGRESS_BAR)
		return;
	va_start(ap, fmt);
	draw(pg, label, pct, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pg->rows++;
}

void
progress_rows_end(struct progress *pg)
{
	if (pg->mode == PROGRESS_BAR)
		fflush(stderr);
}

void
progress_end(struct progress *pg, bool keep)
{
	if (!pg->open)
		return;
	fputs(keep ? "\n" : CLEAR_LINE, stderr);
	fflush(stderr);
	pg->open = false;
}

void
progress_line(struct progress *pg, const char *fmt, ...)
{
	va_list ap;

	if (pg->mode != PROGRESS_LINES)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void
progress_note(struct progress *pg, const char *fmt, ...)
{
	va_list ap;

	if (pg->open)
		fputs(CLEAR_LINE, stderr); /* the bar comes back below */
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	pg->open = false;
}

void
progress_table_row(FILE *f, const struct progress_col *cols, size_t n,
    const char *const *cells)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = cells ? cells[i] : cols[i].head;
		int w = cols[i].width;

		fprintf(f, "%*s", cols[i].gap, "");
		if (!s)
			s = "";
		if (w < 0)
			fprintf(f, "%-*.*s", -w, -w, s);
		else if (w > 0)
			fprintf(f, "%*s", w, s);
		else
			fputs(s, f);
	}
	fputc('\n', f);
}

int
progress_json(FILE *f, const json_t *o, size_t indent)
{
	char *s = o ? json_dumps(o, JSON_INDENT(indent)) : NULL;

	if (!s)
		return -1;
	fprintf(f, "%s\n", s);
	free(s);
	return 0;
}
