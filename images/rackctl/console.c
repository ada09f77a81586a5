/*
 * images/rackctl/console.c — "rackctl console RACK SLOT": a terminal on a
 * node's serial console. The terminal goes raw (restored on every way
 * out); the console's event stream (GET /api/v1/nodes/SLOT/console: the
 * rack's recent output, then live) is written to stdout, and what is typed
 * is POSTed to the console. As with ssh and cu, "~." at the start of a
 * line leaves and "~~" sends one "~" (console_escape_feed). A stream that
 * drops is opened again with a bounded backoff (attach), the terminal
 * still raw; the rack's ring comes again first.
 */
#include "images/rackctl/rackctl.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#define CONSOLE_LINE_MAX	(64 * 1024)	/* an event's line */
#define CONSOLE_TYPED_MAX	1024		/* stdin read at a time */
#define CONSOLE_OUT_MAX		(48 * 1024)	/* one event's bytes */
#define CONSOLE_RETRY_FIRST_MS	500	/* the first wait to reconnect */
#define CONSOLE_RETRY_MAX_MS	8000	/* the longest */
#define CONSOLE_RETRIES		20	/* in a row */
#define CONSOLE_RETRY_RESET_S	10	/* a stream this long: tries anew */

/* ---- the escape ------------------------------------------------------- */

void
console_escape_init(struct console_escape *e)
{
	e->line_start = true;
	e->tilde = false;
}

bool
console_escape_feed(struct console_escape *e, const char *in, size_t n,
    char *out, size_t *outn)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (e->tilde) {
			e->tilde = false;
			if (c == '.') {
				*outn = o;
				return true;
			}
			out[o++] = '~';
			if (c == '~') {
				e->line_start = false;
				continue;
			}
		} else if (e->line_start && c == '~') {
			e->tilde = true;
			continue;
		}
		out[o++] = c;
		e->line_start = c == '\r' || c == '\n';
	}
	*outn = o;
	return false;
}

/* ---- the terminal ----------------------------------------------------- */

static struct termios saved;
static bool raw_on;

static void
term_restore(void)
{
	if (raw_on)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	raw_on = false;
}

static void
on_signal(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int
term_raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO))
		return 0;
	if (tcgetattr(STDIN_FILENO, &saved) != 0)
		return -1;
	t = saved;
	cfmakeraw(&t);
	raw_on = true;
	atexit(term_restore);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGQUIT, on_signal);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) != 0) {
		raw_on = false;
		return -1;
	}
	return 0;
}

/* ---- the stream ------------------------------------------------------- */

struct stream {
	char	 event[32];
	char	*line;
	size_t	 linelen;
	bool	 overlong;
	bool	 failed;	/* stdout cannot be written */
};

static void
output(struct stream *s, const char *v, size_t vl)
{
	static unsigned char bytes[CONSOLE_OUT_MAX];
	json_t *j = json_loadb(v, vl, 0, NULL);
	const char *b64 = json_string_value(json_object_get(j, "data"));
	size_t n = 0;

	if (b64 != NULL && sodium_base642bin(bytes, sizeof bytes, b64,
	    strlen(b64), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0) {
		for (size_t off = 0; off < n;) {
			ssize_t w = write(STDOUT_FILENO, bytes + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				s->failed = true;
				break;
			}
			off += (size_t)w;
		}
	}
	json_decref(j);
}

static void
stream_line(struct stream *s, const char *l, size_t n)
{
	const char *colon;
	size_t fl;

	if (n == 0) {
		s->event[0] = '\0';
		return;
	}
	if (l[0] == ':' || (colon = memchr(l, ':', n)) == NULL)
		return;
	fl = (size_t)(colon - l);
	colon++;
	if (colon < l + n && *colon == ' ')
		colon++;
	if (fl == 5 && memcmp(l, "event", 5) == 0)
		snprintf(s->event, sizeof s->event, "%.*s",
		    (int)(l + n - colon), colon);
	else if (fl == 4 && memcmp(l, "data", 4) == 0 &&
	    strcmp(s->event, "output") == 0)
		output(s, colon, (size_t)(l + n - colon));
}

static size_t
stream_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct stream *s = arg;
	size_t n = size * nmemb;

	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n') {
			size_t l = s->linelen;
			if (l > 0 && s->line[l - 1] == '\r')
				l--;
			if (!s->overlong)
				stream_line(s, s->line, l);
			s->linelen = 0;
			s->overlong = false;
		} else if (s->linelen + 1 < CONSOLE_LINE_MAX)
			s->line[s->linelen++] = data[i];
		else
			s->overlong = true;
	}
	return s->failed ? 0 : n;
}

/* ---- typing ----------------------------------------------------------- */

static int
send_typed(const struct rack *rk, const char *slot, const char *buf,
    size_t n)
{
	char b64[sodium_base64_ENCODED_LEN(CONSOLE_TYPED_MAX * 2,
	    sodium_base64_VARIANT_ORIGINAL)];
	char path[URL_PATH_MAX], e[RACKCTL_ERR_MAX], *text;
	struct http_reply r;
	json_t *body;
	int rc = 0;

	sodium_bin2base64(b64, sizeof b64, (const unsigned char *)buf, n,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((body = json_pack("{s:s}", "data", b64)) == NULL ||
	    (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		json_decref(body);
		return -1;
	}
	json_decref(body);
	snprintf(path, sizeof path, "/api/v1/nodes/%s/console", slot);
	/* Not retried: typed bytes are not sent twice. */
	if (rackctl_request(rk, "POST", path, "application/json", text,
	    strlen(text), 0, &r) < 0 || r.status != 200) {
		term_restore();
		rackctl_error("console %s: %s", slot,
		    rackctl_reply_error(&r, e, sizeof e));
		rc = -1;
	}
	free(text);
	rackctl_reply_free(&r);
	return rc;
}

/* ---- the command ------------------------------------------------------ */

static void
console_usage(FILE *f)
{
	fprintf(f,
	    "Usage: rackctl console RACK SLOT [--token-file FILE]\n"
	    "\n"
	    "Attach the terminal to the serial console of the node in SLOT:\n"
	    "its recent output first, then live; what is typed goes to the "
	    "node.\n"
	    "At the start of a line, ~. leaves and ~~ sends a ~.\n"
	    "RACK is the rack's URL (http://rack12:8080); the API token comes "
	    "from\n"
	    "RACKD_TOKEN or --token-file FILE.\n"
	    "\n"
	    "  -t, --token-file FILE  the API token (first line of FILE)\n"
	    "\n"
	    "Exit status: 0 left with ~. (or end of input), 1 failure, 2 "
	    "usage error.\n");
}

/* How one stream of the console ended. */
enum session_end { S_LEFT, S_FAILED, S_ENDED };

struct attach {
	const struct rack	*rk;
	const char		*slot;
	struct console_escape	 esc;
	bool			 stdin_open;
	double			 until;	/* end of input: the last second */
	bool			 got;	/* the last stream stood a while */
	long			 status;	/* its HTTP status; 0 none */
	char			 why[RACKCTL_ERR_MAX];
};

/* Typed bytes in at most a second: S_LEFT at "~.", S_FAILED if a POST
 * fails, else S_ENDED (go on). send: false while not connected (typed
 * bytes other than the escape are dropped, and said so once). */
static enum session_end
typed(struct attach *a, bool send, bool *dropped_told)
{
	char in[CONSOLE_TYPED_MAX], sendbuf[2 * CONSOLE_TYPED_MAX];
	size_t n = 0;
	ssize_t k = read(STDIN_FILENO, in, sizeof in);
	bool leave;

	if (k < 0 && errno == EINTR)
		return S_ENDED;
	if (k <= 0) {
		/* End of input (not a terminal): what the stream has still
		 * comes, or its error. */
		a->stdin_open = false;
		a->until = rackctl_now() + 1;
		return S_ENDED;
	}
	leave = console_escape_feed(&a->esc, in, (size_t)k, sendbuf, &n);
	if (n > 0 && send && send_typed(a->rk, a->slot, sendbuf, n) != 0)
		return S_FAILED;
	if (n > 0 && !send && !*dropped_told) {
		fprintf(stderr, "\r\n[rackctl: not connected: what is typed "
		    "now is not sent; ~. leaves]\r\n");
		*dropped_told = true;
	}
	return leave ? S_LEFT : S_ENDED;
}

/* One stream of the console, until it ends, "~." or a failure. */
static enum session_end
session(struct attach *a, struct curl_slist *hdrs, struct stream *s)
{
	struct curl_waitfd wfd = { .fd = STDIN_FILENO,
	    .events = CURL_WAIT_POLLIN };
	char url[RACK_URL_MAX + URL_PATH_MAX];
	CURLM *m = curl_multi_init();
	CURL *c = curl_easy_init();
	enum session_end end = S_ENDED;
	bool told = false;
	double start;
	int running = 1;
	CURLMsg *msg;
	int left;

	a->status = 0;
	a->got = false;
	start = rackctl_now();
	snprintf(a->why, sizeof a->why, "the stream ended");
	if (m == NULL || c == NULL) {
		rackctl_error("out of memory");
		end = S_FAILED;
		goto out;
	}
	s->linelen = 0;
	s->overlong = false;
	s->event[0] = '\0';
	snprintf(url, sizeof url, "%s/api/v1/nodes/%s/console", a->rk->url,
	    a->slot);
	rackctl_curl_common(c);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 0L);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_multi_add_handle(m, c);
	while (running) {
		int got = 0;

		if (curl_multi_perform(m, &running) != CURLM_OK || !running)
			break;
		if (!a->stdin_open && rackctl_now() >= a->until) {
			end = S_LEFT;
			goto out;
		}
		if (curl_multi_poll(m, a->stdin_open ? &wfd : NULL,
		    a->stdin_open ? 1 : 0, a->stdin_open ? 1000 : 100, &got) !=
		    CURLM_OK)
			break;
		if (a->stdin_open && (wfd.revents & (CURL_WAIT_POLLIN |
		    CURL_WAIT_POLLPRI)) != 0) {
			wfd.revents = 0;
			if ((end = typed(a, true, &told)) != S_ENDED)
				goto out;
		}
	}
	/* A stream that stood a while counts the tries afresh. */
	a->got = rackctl_now() - start >= CONSOLE_RETRY_RESET_S;
	if (s->failed) {
		rackctl_error("console %s: cannot write the output", a->slot);
		end = S_FAILED;
		goto out;
	}
	while ((msg = curl_multi_info_read(m, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE) {
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE,
			    &a->status);
			snprintf(a->why, sizeof a->why, "%s",
			    a->status >= 400 ? (a->status == 404 ?
			    "no console in that slot" : a->status == 401 ||
			    a->status == 403 ? "the token is not accepted" :
			    "error") : curl_easy_strerror(msg->data.result));
		}
out:
	if (c != NULL) {
		curl_multi_remove_handle(m, c);
		curl_easy_cleanup(c);
	}
	if (m != NULL)
		curl_multi_cleanup(m);
	return end;
}

/* Wait secs before the next stream, reading what is typed for "~.":
 * S_LEFT or S_ENDED. */
static enum session_end
backoff(struct attach *a, double secs)
{
	double until = rackctl_now() + secs;
	bool told = false;

	while (rackctl_now() < until) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		int ms = (int)((until - rackctl_now()) * 1000) + 1;

		if (!a->stdin_open)
			return S_ENDED;	/* no more input: no reconnection */
		if (poll(&p, 1, ms > 1000 ? 1000 : ms) > 0 &&
		    typed(a, false, &told) == S_LEFT)
			return S_LEFT;
	}
	return S_ENDED;
}

/* The console, its stream opened again when it drops (a rackd restart,
 * the network): after CONSOLE_RETRY_FIRST_MS, doubling to
 * CONSOLE_RETRY_MAX_MS, at most CONSOLE_RETRIES times in a row (a stream
 * that stood CONSOLE_RETRY_RESET_S counts them afresh). A refusal (4xx
 * but 429) is not retried. The terminal stays raw throughout and "~."
 * leaves at any time. */
static int
attach(const struct rack *rk, const char *slot)
{
	struct attach a = { .rk = rk, .slot = slot, .stdin_open = true };
	struct stream s = { .line = NULL };
	struct curl_slist *hdrs = NULL;
	int rc = RACKCTL_FAIL, tries = 0;
	enum session_end end;

	if ((s.line = malloc(CONSOLE_LINE_MAX)) == NULL ||
	    (hdrs = rackctl_auth_headers(rk, NULL)) == NULL) {
		rackctl_error("out of memory");
		goto out;
	}
	curl_slist_append(hdrs, "Accept: text/event-stream");
	console_escape_init(&a.esc);
	if (term_raw() != 0) {
		rackctl_error("cannot put the terminal in raw mode: %s",
		    strerror(errno));
		goto out;
	}
	for (;;) {
		double wait;

		if ((end = session(&a, hdrs, &s)) == S_LEFT) {
			rc = RACKCTL_OK;
			break;
		}
		if (end == S_FAILED)
			break;
		if ((a.status >= 400 && a.status < 500 && a.status != 429) ||
		    !a.stdin_open) {
			term_restore();
			rackctl_error("console %s: %s%s", slot, a.status >=
			    400 ? "refused by the rack: " : "", a.why);
			break;
		}
		tries = a.got ? 1 : tries + 1;
		if (tries > CONSOLE_RETRIES) {
			term_restore();
			rackctl_error("console %s: %s; given up after %d tries",
			    slot, a.why, CONSOLE_RETRIES);
			break;
		}
		wait = CONSOLE_RETRY_FIRST_MS / 1000.0;
		for (int i = 1; i < tries && wait * 2 <=
		    CONSOLE_RETRY_MAX_MS / 1000.0; i++)
			wait *= 2;
		fprintf(stderr, "\r\n[rackctl: console %s: %s; again in "
		    "%.1f s (try %d of %d); ~. leaves]\r\n", slot, a.why,
		    wait, tries, CONSOLE_RETRIES);
		if (backoff(&a, wait) == S_LEFT) {
			rc = RACKCTL_OK;
			break;
		}
	}
out:
	term_restore();
	curl_slist_free_all(hdrs);
	free(s.line);
	return rc;
}

int
rackctl_cmd_console(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "token-file", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pos[2] = { NULL, NULL }, *token_file = NULL;
	struct rack rk;
	int o, npos = 0, r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "-:t:h", opts, NULL)) != -1) {
		switch (o) {
		case 1:
			if (npos == 2)
				return rackctl_usage("console",
				    "console: unexpected argument '%s'",
				    optarg);
			pos[npos++] = optarg;
			break;
		case 't':
			token_file = optarg;
			break;
		case 'h':
			console_usage(stdout);
			return RACKCTL_OK;
		default:
			return rackctl_bad_option("console", "console", o,
			    argv[optind - 1]);
		}
	}
	if (npos < 2)
		return rackctl_usage("console", "console: missing %s",
		    npos == 0 ? "RACK" : "SLOT");
	for (const char *p = pos[1]; *p != '\0'; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && strchr("._-", *p) == NULL)
			return rackctl_usage("console", "console: '%s' is not "
			    "a slot name", pos[1]);
	if (rackctl_http_init() < 0) {
		rackctl_error("libcurl failed to start");
		return RACKCTL_FAIL;
	}
	if ((r = rackctl_rack_arg(pos[0], token_file, &rk)) != 0)
		return r;
	return attach(&rk, pos[1]);
}
