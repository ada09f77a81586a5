/*
 * pull_api.c — the routes of pulls (pull.c does the work):
 *
 *   POST /api/v1/images/pull   {"image": "name:version"}: 202 and the
 *        pull's id and its state; the pull runs on its own threads
 *   GET  /api/v1/pulls         every pull remembered, newest first
 *   GET  /api/v1/pulls/{id}    one: chunks, bytes, rate, source, state,
 *        error
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "images/manifest.h"

void
pull_api_start(struct req *r)
{
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char err[ERR_MAX];
	const char *body;
	size_t len;
	int64_t id;
	int status;
	json_t *o;

	if ((body = http_body(r, &len)) == NULL)
		len = 0;
	if (pull_parse_request(body != NULL ? body : "", len, name, version,
	    err, sizeof(err)) != 0) {
		http_reply_error(r, 400, "%s", err);
		return;
	}
	if ((status = pull_start(name, version, &id, err, sizeof(err))) != 0) {
		http_reply_error(r, status, "%s", err);
		return;
	}
	if ((o = pull_get_json(id)) == NULL)
		o = json_pack("{s:I}", "id", (json_int_t)id);
	http_reply_json(r, 202, o);
}

void
pull_api_list(struct req *r)
{
	http_reply_json(r, 200, pull_list_json());
}

void
pull_api_get(struct req *r)
{
	const char *s = http_param(r, 0);
	char *end;
	long long id;
	json_t *o;

	errno = 0;
	id = s != NULL ? strtoll(s, &end, 10) : 0;
	if (s == NULL || *s == '\0' || errno != 0 || *end != '\0' || id <= 0) {
		http_reply_error(r, 400, "not a pull id");
		return;
	}
	if ((o = pull_get_json((int64_t)id)) == NULL) {
		http_reply_error(r, 404, "no pull %lld", id);
		return;
	}
	http_reply_json(r, 200, o);
}
