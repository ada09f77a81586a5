/* tests/unit/test_pxe_net.c — rack-agent's HTTP side against a small
 * scripted server on 127.0.0.1: chunks over one kept-alive connection, a
 * transfer cut in the middle resumed with Range, a server that ignores
 * Range, 503s retried with backoff, 404 given up after a few tries, a
 * reply too large for the chunk refused, the deadline without progress,
 * a stop from outside; the job GET (200, 401) and reports (the JSON sent,
 * rackd's error text on 409). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "pxe/lib/pxe.h"
#include "tests/unit/unit.h"

#define REQ_MAX		16384
#define REQS_MAX	64
#define BODY_LEN	100000
#define HEX_A	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* What the server does with request number i (0-based): writes a reply on
 * fd; returns 1 to keep the connection, 0 to close it. */
typedef int (*handler_fn)(int i, const char *head, const char *body, int fd);

static struct {
	int		 lfd, port;
	pthread_t	 thr;
	atomic_int	 quit;
	handler_fn	 handler;
	atomic_int	 nreq, nconn;
	char		 heads[REQS_MAX][1024];	/* first 1 KiB of each */
	char		 last_body[REQ_MAX];
} srv;

static uint8_t payload[BODY_LEN];

static void
send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		c += w;
		n -= (size_t)w;
	}
}

static void
sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sendf(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	send_all(fd, buf, (size_t)n);
}

/* The Range start of a request, or -1. */
static long
range_start(const char *head)
{
	const char *r = strcasestr(head, "\r\nRange: bytes=");

	return r != NULL ? strtol(r + 15, NULL, 10) : -1;
}

/* A full (200) or ranged (206) reply of payload[from..BODY_LEN), of which
 * only send bytes go out (then the connection closes if short). */
static int
reply_payload(int fd, long from, size_t send)
{
	size_t len = BODY_LEN - (size_t)from;

	if (from > 0)
		sendf(fd, "HTTP/1.1 206 Partial Content\r\n"
		    "Content-Length: %zu\r\n"
		    "Content-Range: bytes %ld-%d/%d\r\n\r\n", len, from,
		    BODY_LEN - 1, BODY_LEN);
	else
		sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
		    len);
	send_all(fd, payload + from, send < len ? send : len);
	return send >= len;
}

static int
read_request(int fd, char *buf, size_t cap, size_t *have, char **body)
{
	char *end;
	size_t clen = 0;

	for (;;) {
		buf[*have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");
			size_t headlen = (size_t)(end - buf) + 4;
			if (cl != NULL && cl < end)
				clen = strtoul(cl + 17, NULL, 10);
			if (*have >= headlen + clen) {
				*body = buf + headlen;
				return (int)(headlen + clen);
			}
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0) {
			if (atomic_load(&srv.quit))
				return -1;
			continue;
		}
		ssize_t n = recv(fd, buf + *have, cap - 1 - *have, 0);
		if (n <= 0)
			return -1;
		*have += (size_t)n;
	}
}

static void *
server(void *arg)
{
	static char buf[REQ_MAX];

	(void)arg;
	while (!atomic_load(&srv.quit)) {
		struct pollfd p = { .fd = srv.lfd, .events = POLLIN };
		size_t have = 0;
		int cfd, keep = 1;

		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((cfd = accept(srv.lfd, NULL, NULL)) < 0)
			continue;
		atomic_fetch_add(&srv.nconn, 1);
		while (keep && !atomic_load(&srv.quit)) {
			char *body, save;
			int used = read_request(cfd, buf, sizeof(buf), &have,
			    &body);
			int i;
			if (used < 0)
				break;
			i = atomic_fetch_add(&srv.nreq, 1);
			save = buf[used];
			buf[used] = '\0';
			if (i < REQS_MAX)
				snprintf(srv.heads[i], sizeof(srv.heads[i]),
				    "%.1000s", buf);
			memcpy(srv.last_body, body, strlen(body) + 1);
			*(body - 4) = '\0';
			keep = srv.handler(i, buf, body, cfd);
			buf[used] = save;
			memmove(buf, buf + used, have - (size_t)used);
			have -= (size_t)used;
		}
		close(cfd);
	}
	return NULL;
}

static int
srv_start(handler_fn h)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);

	memset(&srv, 0, sizeof(srv));
	srv.handler = h;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((srv.lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(srv.lfd, 8) != 0 ||
	    getsockname(srv.lfd, (struct sockaddr *)&a, &al) != 0)
		return -1;
	srv.port = ntohs(a.sin_port);
	return pthread_create(&srv.thr, NULL, server, NULL) == 0 ? 0 : -1;
}

static int
srv_stop(void **state)
{
	(void)state;
	atomic_store(&srv.quit, 1);
	pthread_join(srv.thr, NULL);
	close(srv.lfd);
	return 0;
}

/* ---- the agent's side ---- */

static struct net *net;
static char url[64];

static int
fetch(int64_t deadline_ms, size_t cap, uint8_t *out, size_t *len,
    uint64_t *fetched, atomic_int *stop, char *err, size_t errlen)
{
	struct chunk_fetcher f = { .deadline_ms = deadline_ms };
	struct manifest_chunk c = { .length = BODY_LEN };
	_Atomic uint64_t got = 0;
	atomic_int nostop = 0;
	int rc;

	f.net = net;
	snprintf(f.base, sizeof(f.base), "%s/chunks/", url);
	rc = net_fetch_chunk(&f, 3, &c, HEX_A, out, cap, len, &got,
	    stop != NULL ? stop : &nostop, err, errlen);
	*fetched = atomic_load(&got);
	return rc;
}

static int
start(handler_fn h)
{
	char err[256];

	if (srv_start(h) != 0)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
	return net_new(url, "c0ffee", &net, err, sizeof(err));
}

static void
stop_all(void)
{
	net_free(net);
	net = NULL;
	srv_stop(NULL);
}

static void
expect_payload(const uint8_t *out, size_t len)
{
	assert_int_equal(len, BODY_LEN);
	assert_memory_equal(out, payload, BODY_LEN);
}

/* What one fetch of chunk A left. */
struct got {
	uint8_t		out[BODY_LEN];
	size_t		len;
	uint64_t	fetched;
	int64_t		ms;	/* how long the fetch took */
	char		err[256];
};

/*
 * Starts a server that answers with h, fetches chunk A from it once into
 * cap bytes of g->out (the log quiet: the retries are expected), stops the
 * server: what fetch returned. srv's counts stay for the test to check.
 */
static int
fetch_once(handler_fn h, int64_t deadline_ms, size_t cap, struct got *g)
{
	int64_t t0;
	int rc;

	log_set_quiet(1);
	assert_int_equal(start(h), 0);
	t0 = now_ms();
	rc = fetch(deadline_ms, cap, g->out, &g->len, &g->fetched, NULL,
	    g->err, sizeof(g->err));
	g->ms = now_ms() - t0;
	stop_all();
	log_set_quiet(0);
	return rc;
}

/* ---- scenarios ---- */

static int
h_plain(int i, const char *head, const char *body, int fd)
{
	assert_non_null(strstr(head, "GET /chunks/" HEX_A " HTTP/1.1"));
	assert_null(strcasestr(head, "Authorization"));	/* no token */
	return reply_payload(fd, 0, BODY_LEN);
}

static void
test_keepalive(void **state)
{
	static uint8_t out[BODY_LEN + 100];
	char err[256];
	uint64_t fetched;
	size_t len;

	(void)state;
	assert_int_equal(start(h_plain), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fetch(5000, sizeof(out), out, &len, &fetched,
		    NULL, err, sizeof(err)), 0);
		expect_payload(out, len);
		assert_int_equal(fetched, BODY_LEN);
	}
	assert_int_equal(atomic_load(&srv.nreq), 3);
	assert_int_equal(atomic_load(&srv.nconn), 1);	/* kept alive */
	stop_all();
}

static int
h_cut(int i, const char *head, const char *body, int fd)
{
	long from = range_start(head);

	if (i == 0) {
		assert_int_equal(from, -1);
		return reply_payload(fd, 0, 40000);	/* cut: closes */
	}
	return reply_payload(fd, from < 0 ? 0 : from, BODY_LEN);
}

static void
test_resume(void **state)
{
	static struct got g;

	(void)state;
	assert_int_equal(fetch_once(h_cut, 5000, BODY_LEN, &g), 0);
	expect_payload(g.out, g.len);
	assert_int_equal(atomic_load(&srv.nreq), 2);
	assert_int_equal(range_start(srv.heads[1]), 40000);	/* resumed */
	assert_int_equal(g.fetched, BODY_LEN);	/* nothing twice */
}

static int
h_no_range(int i, const char *head, const char *body, int fd)
{
	/* ignores Range: always the whole body, the first time cut */
	return reply_payload(fd, 0, i == 0 ? 30000 : BODY_LEN);
}

static void
test_range_ignored(void **state)
{
	static struct got g;

	(void)state;
	assert_int_equal(fetch_once(h_no_range, 5000, BODY_LEN, &g), 0);
	expect_payload(g.out, g.len);
	assert_int_equal(g.fetched, 30000 + BODY_LEN);
}

static int
h_503(int i, const char *head, const char *body, int fd)
{
	if (i < 2) {
		sendf(fd, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
		return 1;
	}
	return reply_payload(fd, 0, BODY_LEN);
}

static void
test_backoff(void **state)
{
	static struct got g;

	(void)state;
	assert_int_equal(fetch_once(h_503, 5000, BODY_LEN, &g), 0);
	expect_payload(g.out, g.len);
	assert_int_equal(atomic_load(&srv.nreq), 3);
	/* waited 250 + 500 ms between the tries, less jitter (1/4) */
	assert_true(g.ms >= BACKOFF_BASE_MS * 3 * 3 / 4 - 20);
	assert_true(g.ms < 5000);
}

static int
h_404(int i, const char *head, const char *body, int fd)
{
	static const char msg[] = "{\"error\":\"no such chunk\"}";

	sendf(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: %zu\r\n\r\n%s",
	    sizeof(msg) - 1, msg);
	return 1;
}

static void
test_not_found(void **state)
{
	static struct got g;

	(void)state;
	assert_int_equal(fetch_once(h_404, 60000, BODY_LEN, &g), -1);
	assert_non_null(strstr(g.err, "does not have it (HTTP 404: no such "
	    "chunk)"));
	assert_int_equal(atomic_load(&srv.nreq), NOT_FOUND_RETRIES + 1);
}

static void
test_too_big(void **state)
{
	static struct got g;

	(void)state;
	/* room for less than rackd sends: refused, not retried */
	assert_int_equal(fetch_once(h_plain, 5000, BODY_LEN - 1, &g), -1);
	assert_non_null(strstr(g.err, "more than 99999 bytes"));
	assert_int_equal(atomic_load(&srv.nreq), 1);
}

static int
h_close(int i, const char *head, const char *body, int fd)
{
	return 0;	/* closes without a word */
}

static void
test_deadline(void **state)
{
	static struct got g;

	(void)state;
	assert_int_equal(fetch_once(h_close, 1200, BODY_LEN, &g), -1);
	assert_non_null(strstr(g.err, "no progress for 1 s"));
	assert_true(g.ms >= 1100 && g.ms < 4000);
	assert_true(atomic_load(&srv.nreq) >= 3);
}

static int
h_stall(int i, const char *head, const char *body, int fd)
{
	sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", BODY_LEN);
	send_all(fd, payload, 1000);
	while (!atomic_load(&srv.quit))
		sleep_ms(20);
	return 0;
}

static atomic_int stop_flag;

static void *
stopper(void *arg)
{
	(void)arg;
	sleep_ms(300);
	atomic_store(&stop_flag, 1);
	return NULL;
}

static void
test_stop(void **state)
{
	static uint8_t out[BODY_LEN];
	char err[256];
	uint64_t fetched;
	size_t len;
	pthread_t t;
	int64_t t0 = now_ms();

	(void)state;
	assert_int_equal(start(h_stall), 0);
	atomic_store(&stop_flag, 0);
	assert_int_equal(pthread_create(&t, NULL, stopper, NULL), 0);
	assert_int_equal(fetch(60000, sizeof(out), out, &len, &fetched,
	    &stop_flag, err, sizeof(err)), -1);
	pthread_join(t, NULL);
	assert_string_equal(err, "stopped");
	assert_true(now_ms() - t0 < 3000);
	stop_all();
}

static int
h_api(int i, const char *head, const char *body, int fd)
{
	static const char job[] = "{\"id\":7}";
	static const char gone[] = "{\"error\":\"job 7 cannot go to streaming "
	    "from where it is\"}";
	static const char bad[] = "{\"error\":\"this needs the job's own "
	    "token\"}";

	assert_non_null(strstr(head, "\r\nAuthorization: Bearer c0ffee"));
	if (strncmp(head, "GET /api/v1/agent/jobs/7 ", 25) == 0) {
		sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
		    sizeof(job) - 1, job);
		return 1;
	}
	if (strncmp(head, "GET /api/v1/agent/jobs/8 ", 25) == 0) {
		sendf(fd, "HTTP/1.1 401 Unauthorized\r\nContent-Length: %zu\r\n"
		    "\r\n%s", sizeof(bad) - 1, bad);
		return 1;
	}
	assert_non_null(strstr(head, "POST /api/v1/agent/jobs/7/report "));
	assert_non_null(strcasestr(head, "\r\nContent-Type: application/json"));
	if (i == 2) {
		sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"
		    "{\"ok\":true}");
		return 1;
	}
	sendf(fd, "HTTP/1.1 409 Conflict\r\nContent-Length: %zu\r\n\r\n%s",
	    sizeof(gone) - 1, gone);
	return 1;
}

static void
test_api(void **state)
{
	char err[256], *body;
	size_t len;
	long status;
	json_t *o;

	(void)state;
	assert_int_equal(start(h_api), 0);
	assert_int_equal(net_get_job(net, 7, &status, &body, &len, err,
	    sizeof(err)), 0);
	assert_int_equal(status, 200);
	assert_string_equal(body, "{\"id\":7}");
	free(body);
	assert_int_equal(net_get_job(net, 8, &status, &body, &len, err,
	    sizeof(err)), 0);
	assert_int_equal(status, 401);
	assert_null(body);
	assert_string_equal(err, "this needs the job's own token");
	/* a report: the JSON rackd expects */
	assert_int_equal(net_report(net, 7, "streaming", 1000, 200, 50,
	    NULL, &status, err, sizeof(err)), 0);
	assert_int_equal(status, 200);
	o = json_loads(srv.last_body, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "state")),
	    "streaming");
	assert_int_equal(json_integer_value(json_object_get(o, "bytes_done")),
	    1000);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "bytes_fetched")), 200);
	assert_int_equal(json_integer_value(json_object_get(o, "rate")), 50);
	assert_null(json_object_get(o, "reason"));
	json_decref(o);
	/* failed with a reason (control characters made printable) */
	assert_int_equal(net_report(net, 7, "failed", 0, 0, 0,
	    "hash mismatch\nfor chunk 1", &status, err, sizeof(err)), 0);
	assert_int_equal(status, 409);
	assert_string_equal(err,
	    "job 7 cannot go to streaming from where it is");
	o = json_loads(srv.last_body, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "reason")),
	    "hash mismatch for chunk 1");
	json_decref(o);
	assert_int_equal(atomic_load(&srv.nconn), 1);
	stop_all();
}

static void
test_unreachable(void **state)
{
	char err[256], *body;
	size_t len;
	long status;
	struct net *n;

	(void)state;
	/* a port nobody listens on (ours, closed) */
	assert_int_equal(start(h_plain), 0);
	stop_all();
	assert_int_equal(net_new(url, "ab", &n, err, sizeof(err)), 0);
	assert_int_equal(net_get_job(n, 1, &status, &body, &len, err,
	    sizeof(err)), -1);
	assert_true(strlen(err) > 0);
	net_free(n);
}

static void
test_error_text(void **state)
{
	char out[32];

	(void)state;
	net_error_text("{\"error\":\"nope\"}", 16, out, sizeof(out));
	assert_string_equal(out, "nope");
	net_error_text("plain\r\ntext\x01", 12, out, sizeof(out));
	assert_string_equal(out, "plain  text?");
	net_error_text(NULL, 0, out, sizeof(out));
	assert_string_equal(out, "");
	net_error_text("0123456789012345678901234567890123456789", 40, out,
	    sizeof(out));
	assert_int_equal(strlen(out), sizeof(out) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_range_ignored),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_error_text),
	};

	unit_random(payload, sizeof(payload), 5);
	unit_watchdog(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
