/* images/rackctl/push_show.c — what the operator sees of rackctl push,
 * through progress.c: on a terminal a bar per rack and one for all racks,
 * redrawn together; otherwise a plain line at each rack's milestones
 * (chunks missing, every PUSH_PLAIN_STEP percent, committed or failed);
 * at the end a table of the racks, or JSON with --json.
 */
#include "images/rackctl/rackctl.h"

#include <inttypes.h>
#include <stdlib.h>

#include "images/manifest.h"

static const char *const push_state_names[] = {
	[PUSH_WAIT] = "waiting",
	[PUSH_MANIFEST] = "manifest",
	[PUSH_UPLOAD] = "uploading",
	[PUSH_COMMIT] = "committing",
	[PUSH_DONE] = "done",
	[PUSH_FAILED] = "failed",
};

const char *
push_state_name(enum push_state s)
{
	if ((size_t)s >= sizeof(push_state_names) / sizeof(push_state_names[0]))
		return "?";
	return push_state_names[s];
}

/* The result of a rack, as the table and JSON say it. */
static const char *
result_name(const struct push_target *t)
{
	if (t->state != PUSH_DONE)
		return "failed";
	return t->already ? "present" : "ok";
}

/* A state's word; for pull-to the racks fetch rather than take. */
static const char *
state_word(const struct push *p, enum push_state s)
{
	if (p->pull && s == PUSH_UPLOAD)
		return "pulling";
	return push_state_name(s);
}

/* One rack's bar (or all racks'), the lock held. */
static void
bar_row(struct push *p, const char *label, enum push_state s, bool already,
    uint64_t done, uint64_t total, double secs, const char *error)
{
	char sizes[3 * HUMAN_MAX + 16];
	int pc = s == PUSH_DONE ? 100 : progress_pct(done, total);
	double rate = secs > 0 ? (double)done / secs : 0;

	progress_row(&p->pg, label, pc, "%s  %s%s%.*s",
	    progress_sizes(done, total, rate, sizes, sizeof(sizes)),
	    already ? "had it" : state_word(p, s),
	    error && *error ? ": " : "", PUSH_ERROR_SHOWN, error ? error : "");
}

static void
draw_bars(struct push *p)
{
	uint64_t done = 0, total = 0;
	double now = rackctl_now(), start = 0;

	pthread_mutex_lock(&p->lock);
	progress_rows_begin(&p->pg);
	for (size_t i = 0; i < p->n; i++) {
		struct push_target *t = &p->t[i];
		uint64_t d = t->bytes_done + t->bytes_flight;
		double secs = t->start ? (t->end ? t->end : now) - t->start : 0;

		bar_row(p, t->rack.url, t->state, t->already, d,
		    t->bytes_total, secs,
		    t->state == PUSH_FAILED ? t->error : NULL);
		done += d;
		total += t->bytes_total;
		if (t->start && (start == 0 || t->start < start))
			start = t->start;
	}
	bar_row(p, "all racks",
	    p->finished == p->n ? PUSH_DONE : PUSH_UPLOAD, false, done, total,
	    start ? now - start : 0, NULL);
	pthread_mutex_unlock(&p->lock);
	progress_rows_end(&p->pg);
}

/* Plain lines, for logs: each rack's milestones since the last call. */
static void
plain_lines(struct push *p)
{
	char h1[HUMAN_MAX], h2[HUMAN_MAX];

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n; i++) {
		struct push_target *t = &p->t[i];
		bool changed = t->state != t->shown;

		if (t->state == PUSH_UPLOAD && t->shown < PUSH_UPLOAD) {
			progress_line(&p->pg,
			    "%s: %" PRIu64 " of %" PRIu64
			    " chunks missing (%s)%s",
			    t->rack.url, t->missing, t->chunks,
			    fmt_bytes(t->bytes_total, h1, sizeof(h1)),
			    p->pull ? ", pulling" : "");
			t->plain_pct = 0;
		}
		if (t->state == PUSH_UPLOAD) {
			int pc = progress_pct(t->bytes_done, t->bytes_total);

			if (pc >= t->plain_pct + PUSH_PLAIN_STEP && pc < 100) {
				t->plain_pct = pc - pc % PUSH_PLAIN_STEP;
				progress_line(&p->pg, "%s: %d%% (%s of %s)",
				    t->rack.url, pc,
				    fmt_bytes(
					t->bytes_done, h1, sizeof(h1)),
				    fmt_bytes(
					t->bytes_total, h2, sizeof(h2)));
			}
		}
		if (changed && t->state == PUSH_DONE)
			progress_line(&p->pg, "%s: %s (%s %s in %.1f s)",
			    t->rack.url,
			    t->already ? "had the image already" : "committed",
			    p->pull ? "fetched" : "sent",
			    fmt_bytes(t->bytes_sent, h1, sizeof(h1)),
			    t->end - t->start);
		if (changed && t->state == PUSH_FAILED)
			progress_line(
			    &p->pg, "%s: failed: %s", t->rack.url, t->error);
		t->shown = t->state;
	}
	pthread_mutex_unlock(&p->lock);
}

void
push_show_progress(struct push *p)
{
	if (p->pg.mode == PROGRESS_BAR)
		draw_bars(p);
	else if (p->pg.mode == PROGRESS_LINES)
		plain_lines(p);
}

static void
print_table(struct push *p)
{
	static const struct progress_col cols[] = {
		{ "RACK", -40, 0 },
		{ "RESULT", -10, 1 },
		{ "SENT", 12, 1 },
		{ "TIME", 9, 1 },
		{ "", 0, 2 },
	};
	char sent[HUMAN_MAX], secs[32];

	progress_table_row(stdout, cols, 5, NULL);
	for (size_t i = 0; i < p->n; i++) {
		struct push_target *t = &p->t[i];
		const char *cells[5];

		snprintf(secs, sizeof(secs), "%.1fs", t->end - t->start);
		cells[0] = t->rack.url;
		cells[1] = result_name(t);
		cells[2] = fmt_bytes(
		    t->bytes_sent + t->manifest_bytes, sent, sizeof(sent));
		cells[3] = secs;
		cells[4] = t->state == PUSH_FAILED ? t->error : "";
		progress_table_row(stdout, cols, 5, cells);
	}
}

static void
print_json(struct push *p, bool ok)
{
	char ref[IMAGE_REF_MAX + 1];
	json_t *a = json_array(), *o;

	for (size_t i = 0; i < p->n; i++) {
		struct push_target *t = &p->t[i];

		json_array_append_new(a,
		    json_pack(
			"{s:s,s:s,s:s?,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}",
			"rack", t->rack.url, "result", result_name(t), "error",
			t->state == PUSH_FAILED ? t->error : NULL, "chunks",
			(json_int_t)t->chunks, "missing",
			(json_int_t)t->missing, "chunks_sent",
			(json_int_t)t->chunks_sent, "chunks_patched",
			(json_int_t)t->chunks_patched, "bytes_sent",
			(json_int_t)t->bytes_sent, "manifest_bytes",
			(json_int_t)t->manifest_bytes, "bytes_missing",
			(json_int_t)t->bytes_total, "retries",
			(json_int_t)t->retries, "seconds", t->end - t->start));
	}
	snprintf(ref, sizeof(ref), "%s:%s", p->m->name, p->m->version);
	o = json_pack("{s:s,s:b,s:o}", "image", ref, "ok", ok, "racks", a);
	progress_json(stdout, o, 1);
	json_decref(o);
}

void
push_show_result(struct push *p, bool ok)
{
	if (p->json)
		print_json(p, ok);
	else
		print_table(p);
}
