/* images/rackctl/power.c — "rackctl power RACK SLOT on|off|cycle|status":
 * a slot's power through the rack's API (POST /api/v1/nodes/SLOT/power).
 * on, off and cycle queue a power job; rackctl waits for it to end
 * (polling the job, bounded by --timeout) and prints its result, the exit
 * status 0 when done and 1 when it failed. status prints the state. */
#include "images/rackctl/rackctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define POWER_WAIT_DEFAULT	120	/* seconds, power --timeout */
#define POWER_POLL_MS		250	/* between looks at the job */

static void
power_usage(FILE *f)
{
	fprintf(f,
	    "Usage: rackctl power RACK SLOT on|off|cycle|status [--timeout "
	    "SECONDS] [--json]\n"
	    "\n"
	    "Switch the server in SLOT on or off, power-cycle it, or ask its "
	    "state, with\n"
	    "the slot's power method (see rackd(8), [power.SLOT]). on, off "
	    "and cycle wait\n"
	    "for the power job to end and print its result. RACK is the "
	    "rack's URL; the\n"
	    "API token comes from RACKD_TOKEN or --token-file FILE.\n"
	    "\n"
	    "  -t, --token-file FILE  the API token (first line of FILE)\n"
	    "      --json             JSON as the rack sends it\n"
	    "      --timeout SECONDS  give up waiting after this long "
	    "(default %d)\n"
	    "\n"
	    "Exit status: 0 success, 1 failure, 2 usage error.\n",
	    POWER_WAIT_DEFAULT);
}

/* POST the action: the reply's JSON, or NULL (error printed). */
static json_t *
post_power(const struct rack *rk, const char *slot, const char *action,
    long want)
{
	struct http_reply r;
	char path[URL_PATH_MAX], body[64], e[RACKCTL_ERR_MAX];
	json_t *o = NULL;

	snprintf(path, sizeof path, "/api/v1/nodes/%s/power", slot);
	snprintf(body, sizeof body, "{\"action\":\"%s\"}", action);
	/* Not retried: a lost reply must not queue a second job. */
	if (rackctl_request(rk, "POST", path, "application/json", body,
	    strlen(body), 0, &r) < 0 || r.status != want)
		rackctl_error("power %s of %s: %s", action, slot,
		    rackctl_reply_error(&r, e, sizeof e));
	else if (!(o = rackctl_reply_json(&r)))
		rackctl_error("power: the reply is not JSON");
	rackctl_reply_free(&r);
	return o;
}

static json_t *
get_job(const struct rack *rk, json_int_t id)
{
	struct http_reply r;
	char path[64], e[RACKCTL_ERR_MAX];
	json_t *o = NULL;

	snprintf(path, sizeof path, "/api/v1/jobs/%" JSON_INTEGER_FORMAT, id);
	if (rackctl_request(rk, "GET", path, NULL, NULL, 0, 3, &r) < 0 ||
	    r.status != 200)
		rackctl_error("job %" JSON_INTEGER_FORMAT ": %s", id,
		    rackctl_reply_error(&r, e, sizeof e));
	else
		o = rackctl_reply_json(&r);
	rackctl_reply_free(&r);
	return o;
}

static const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* Wait for the job to end: RACKCTL_OK done, RACKCTL_FAIL otherwise. */
static int
wait_power(const struct rack *rk, json_t *job, const char *slot,
    const char *action, long timeout, bool json)
{
	json_int_t id = json_integer_value(json_object_get(job, "id"));
	double t0 = rackctl_now();
	json_t *j = json_incref(job);
	const char *st;

	for (;;) {
		st = jstr(j, "state");
		if (strcmp(st, "done") == 0 || strcmp(st, "failed") == 0)
			break;
		if (rackctl_now() - t0 > (double)timeout) {
			rackctl_error("job %" JSON_INTEGER_FORMAT
			    " is still %s after %ld s; it goes on", id, st,
			    timeout);
			json_decref(j);
			return RACKCTL_FAIL;
		}
		rackctl_sleep_ms(POWER_POLL_MS);
		json_decref(j);
		if (!(j = get_job(rk, id)))
			return RACKCTL_FAIL;
	}
	if (json) {
		char *text = json_dumps(j, JSON_INDENT(2));
		if (text)
			printf("%s\n", text);
		free(text);
	}
	if (strcmp(st, "done") == 0) {
		if (!json)
			printf("job %" JSON_INTEGER_FORMAT ": power %s of %s: "
			    "done\n", id, action, slot);
		json_decref(j);
		return RACKCTL_OK;
	}
	rackctl_error("job %" JSON_INTEGER_FORMAT ": power %s of %s failed: "
	    "%s", id, action, slot, jstr(j, "reason"));
	json_decref(j);
	return RACKCTL_FAIL;
}

int
rackctl_cmd_power(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "token-file", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'J' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const actions[] = { "on", "off", "cycle",
		"status" };
	const char *pos[3], *token_file = NULL;
	long timeout = POWER_WAIT_DEFAULT;
	bool json = false, known = false;
	int o, npos = 0, rc;
	struct rack rk;
	json_t *r;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "-:t:h", opts, NULL)) != -1) {
		switch (o) {
		case 1:
			if (npos == 3)
				return rackctl_usage("power",
				    "power: unexpected argument '%s'", optarg);
			pos[npos++] = optarg;
			break;
		case 't':
			token_file = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 'T':
			if (!rackctl_parse_long(optarg, 1, WAIT_TIMEOUT_MAX,
			    &timeout))
				return rackctl_usage("power", "--timeout %s: "
				    "seconds, 1 to %d", optarg,
				    WAIT_TIMEOUT_MAX);
			break;
		case 'h':
			power_usage(stdout);
			return RACKCTL_OK;
		default:
			return rackctl_bad_option("power", "power", o,
			    argv[optind - 1]);
		}
	}
	if (npos < 3)
		return rackctl_usage("power", "power: missing %s",
		    npos == 0 ? "RACK" : npos == 1 ? "SLOT" :
		    "on, off, cycle or status");
	for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
		known |= strcmp(actions[i], pos[2]) == 0;
	if (!known)
		return rackctl_usage("power", "power: '%s' is not on, off, "
		    "cycle or status", pos[2]);
	if (strspn(pos[1], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
	    "WXYZ0123456789._-") != strlen(pos[1]) || pos[1][0] == '\0')
		return rackctl_usage("power", "power: '%s' is not a slot name",
		    pos[1]);
	if (rackctl_http_init() < 0) {
		rackctl_error("libcurl failed to start");
		return RACKCTL_FAIL;
	}
	if ((rc = rackctl_rack_arg(pos[0], token_file, &rk)) != RACKCTL_OK)
		return rc;
	if (strcmp(pos[2], "status") == 0) {
		if (!(r = post_power(&rk, pos[1], "status", 200)))
			return RACKCTL_FAIL;
		if (json) {
			char *text = json_dumps(r, JSON_INDENT(2));
			if (text)
				printf("%s\n", text);
			free(text);
		} else
			printf("%s: %s\n", pos[1], jstr(r, "state"));
		json_decref(r);
		return RACKCTL_OK;
	}
	if (!(r = post_power(&rk, pos[1], pos[2], 202)))
		return RACKCTL_FAIL;
	rc = wait_power(&rk, r, pos[1], pos[2], timeout, json);
	json_decref(r);
	return rc;
}
