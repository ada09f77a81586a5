/*
 * console_api.c — the console endpoints: GET /api/v1/nodes/{slot}/console
 * (Server-Sent Events of console.c: the ring, then live output), POST
 * /api/v1/nodes/{slot}/console {"data": "BASE64"} (typed into the tty;
 * routes.c lets in the API token, or a dashboard session with its CSRF
 * token), and GET /api/v1/jobs/{id}/console (the job's console log, its
 * older part first). Whoever types into a console is logged once per slot
 * ("audit: ..."), by the first characters of its session's hash or as the
 * API token, never by a secret.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "appliance/rackd.h"
#include "db/db.h"

#define AUDIT_WHO_MAX	24	/* "session 0123456789ab", "API token" */
#define LOG_BLOCK	(64 * 1024)	/* a job log's read */

struct audit {
	char	 who[AUDIT_WHO_MAX];
	char	 slot[SLOT_NAME_MAX + 1];
};

static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;
static struct audit audits[CONSOLE_AUDIT_MAX];
static unsigned int naudits;		/* ever; the oldest are forgotten */

int
console_parse_input(const json_t *body, unsigned char *out, size_t max,
    size_t *n, char *err, size_t errlen)
{
	const char *key, *text;
	json_t *v;
	size_t len;

	if (!json_is_object(body)) {
		snprintf(err, errlen, "the body is not a JSON object");
		return -1;
	}
	json_object_foreach((json_t *)body, key, v) {
		if (strcmp(key, "data") != 0) {
			snprintf(err, errlen, "unknown field \"%.32s\" (only "
			    "\"data\")", key);
			return -1;
		}
	}
	if ((v = json_object_get(body, "data")) == NULL ||
	    !json_is_string(v)) {
		snprintf(err, errlen, "\"data\" must be a base64 string");
		return -1;
	}
	text = json_string_value(v);
	len = json_string_length(v);
	if (len == 0) {
		snprintf(err, errlen, "\"data\" is empty");
		return -1;
	}
	if (len > (max + 2) / 3 * 4) {
		snprintf(err, errlen, "\"data\" holds more than %zu bytes",
		    max);
		return -1;
	}
	if (sodium_base642bin(out, max, text, len, NULL, n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || *n == 0) {
		snprintf(err, errlen, "\"data\" is not base64 (RFC 4648, "
		    "with padding)");
		return -1;
	}
	return 0;
}

static const char *
bearer(struct req *r)
{
	const char *h = http_header(r, "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	return h + 7;
}

/* Who is typing: routes.c has let in a token or a session. */
static void
who_of(struct req *r, char *who, size_t len)
{
	const char *cookie = http_cookie(r, SESSION_COOKIE);
	char hash[TOKEN_HEX + 1];

	if (bearer(r) != NULL || cookie == NULL) {
		snprintf(who, len, "API token");
		return;
	}
	auth_hash_hex(cookie, strlen(cookie), hash);
	snprintf(who, len, "session %.12s", hash);
}

/* The first input of who into slot's console is logged. */
static void
audit(struct req *r, const char *slot)
{
	char who[AUDIT_WHO_MAX];
	unsigned int kept;

	who_of(r, who, sizeof(who));
	pthread_mutex_lock(&audit_lock);
	kept = naudits < CONSOLE_AUDIT_MAX ? naudits : CONSOLE_AUDIT_MAX;
	for (unsigned int i = 0; i < kept; i++)
		if (strcmp(audits[i].who, who) == 0 &&
		    strcmp(audits[i].slot, slot) == 0) {
			pthread_mutex_unlock(&audit_lock);
			return;
		}
	snprintf(audits[naudits % CONSOLE_AUDIT_MAX].who, AUDIT_WHO_MAX, "%s",
	    who);
	snprintf(audits[naudits % CONSOLE_AUDIT_MAX].slot, SLOT_NAME_MAX + 1,
	    "%s", slot);
	naudits++;
	pthread_mutex_unlock(&audit_lock);
	log_info("audit: %s types into the console of slot %s", who, slot);
}

static int
slot_param(struct req *r, const char **slot)
{
	*slot = http_param(r, 0);
	if (*slot == NULL || !slot_name_valid(*slot)) {
		http_reply_error(r, 400, "not a slot name");
		return -1;
	}
	return 0;
}

void
console_api_stream(struct req *r)
{
	const char *slot;

	if (slot_param(r, &slot) != 0)
		return;
	console_stream_reply(r, slot);
}

void
console_api_input(struct req *r)
{
	unsigned char data[CONSOLE_INPUT_MAX];
	char err[ERR_MAX];
	const char *slot;
	json_t *body;
	size_t n;
	ssize_t w;

	if (slot_param(r, &slot) != 0)
		return;
	if ((body = http_json_body(r)) == NULL)
		return;
	if (console_parse_input(body, data, sizeof(data), &n, err,
	    sizeof(err)) != 0) {
		json_decref(body);
		http_reply_error(r, 400, "%s", err);
		return;
	}
	json_decref(body);
	if (!console_exists(slot)) {
		http_reply_error(r, 404, "slot %s has no console "
		    "(console_slots)", slot);
		return;
	}
	audit(r, slot);
	w = console_write(slot, data, n);
	sodium_memzero(data, sizeof(data));
	if (w < 0) {
		http_reply_error(r, errno == ENODEV ? 409 : 500,
		    "the console of slot %s %s", slot, errno == ENODEV ?
		    "is not connected (its adapter is unplugged, or its "
		    "SOL session is down)" :
		    "cannot be written to");
		return;
	}
	if (w == 0) {
		http_add_header(r, "Retry-After", "1");
		http_reply_error(r, 503, "the console of slot %s takes no "
		    "more input now", slot);
		return;
	}
	http_reply_json(r, 200, json_pack("{s:I}", "written", (json_int_t)w));
}

/* ---- a job's console log ----------------------------------------------- */

struct logread {
	int	 fd[2];		/* .1, then the current one; -1 none */
	int	 at;
};

static ssize_t
log_pull(void *ctx, char *buf, size_t max)
{
	struct logread *l = ctx;

	while (l->at < 2) {
		ssize_t n;
		if (l->fd[l->at] < 0) {
			l->at++;
			continue;
		}
		n = read(l->fd[l->at], buf, max);
		if (n > 0)
			return n;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return HTTP_PULL_ERROR;
		l->at++;
	}
	return HTTP_PULL_END;
}

static void
log_release(void *ctx)
{
	struct logread *l = ctx;

	for (int i = 0; i < 2; i++)
		if (l->fd[i] >= 0)
			close(l->fd[i]);
	free(l);
}

void
console_api_job_log(struct req *r)
{
	const char *param = http_param(r, 0);
	char path[PATH_MAX_RACKD], *end;
	struct logread *l;
	struct db_job j;
	long long id;

	errno = 0;
	id = param != NULL ? strtoll(param, &end, 10) : 0;
	if (param == NULL || *param == '\0' || *end != '\0' || errno != 0 ||
	    id <= 0) {
		http_reply_error(r, 400, "not a job id");
		return;
	}
	if (db_job_get(id, &j) != DB_OK) {
		http_reply_error(r, 404, "no such job: %lld", id);
		return;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		http_reply_error(r, 500, "out of memory");
		return;
	}
	for (int i = 0; i < 2; i++) {
		l->fd[i] = -1;
		if (console_log_path(id, i == 0, path, sizeof(path)) != 0)
			continue;
		l->fd[i] = open(path, O_RDONLY | O_CLOEXEC);
	}
	/* The current log may grow while it is read: no length. */
	http_add_header(r, "Cache-Control", "no-store");
	http_add_header(r, "X-Content-Type-Options", "nosniff");
	http_reply_pull(r, 200, "text/plain; charset=utf-8", HTTP_SIZE_UNKNOWN,
	    LOG_BLOCK, log_pull, log_release, l);
}
