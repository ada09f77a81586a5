/* images/rackctl/erase.c — "rackctl erase RACK SLOT [--method M] --yes":
 * queues an erase of the disk of the server in SLOT (POST
 * /api/v1/nodes/SLOT/erase). Before it does, it names the slot and its
 * disks' serials from the rack's inventory (GET .../inventory; a 404: not
 * known yet) and, without --yes, asks on the terminal. */
#include "images/rackctl/rackctl.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
erase_usage(FILE *f)
{
	fprintf(f,
	    "Usage: rackctl erase RACK SLOT [--method auto|overwrite] [--yes] "
	    "[--json]\n"
	    "\n"
	    "Erase the disk of the server in SLOT: it boots the clone "
	    "environment, whose\n"
	    "agent erases the disk of rackd.disk's rule (the largest by "
	    "default), checks\n"
	    "samples across it and powers the server off. auto (the default) "
	    "uses NVMe\n"
	    "sanitize or format, ATA secure erase or a discard that reads "
	    "back zeros,\n"
	    "else writes zeros; overwrite always writes zeros over the whole "
	    "disk.\n"
	    "rackctl names the slot and its disks' serials (from the rack's "
	    "inventory)\n"
	    "and asks first unless --yes is given. RACK is the rack's URL; "
	    "the API token\n"
	    "comes from RACKD_TOKEN or --token-file FILE.\n"
	    "\n"
	    "  -m, --method M         auto or overwrite (default auto)\n"
	    "  -y, --yes              do not ask\n"
	    "  -t, --token-file FILE  the API token (first line of FILE)\n"
	    "      --json             the job as the rack sends it\n"
	    "\n"
	    "Exit status: 0 queued, 1 failure or not confirmed, 2 usage "
	    "error.\n");
}

/* Says what will be erased: the slot, its disks (serial, model, size). */
static int
say_disks(const struct rack *rk, const char *slot)
{
	struct http_reply r;
	char path[URL_PATH_MAX], e[RACKCTL_ERR_MAX];
	json_t *o, *disks, *d;
	size_t i;

	snprintf(path, sizeof path, "/api/v1/nodes/%s/inventory", slot);
	if (rackctl_request(rk, "GET", path, NULL, NULL, 0, 3, &r) < 0) {
		rackctl_error("inventory of %s: %s", slot,
		    rackctl_reply_error(&r, e, sizeof e));
		rackctl_reply_free(&r);
		return RACKCTL_FAIL;
	}
	fprintf(stderr, "Erase the disk of slot %s (the disk of rackd.disk's "
	    "rule: the largest unless set).\n", slot);
	if (r.status == 404) {
		fprintf(stderr, "Its disks are not known yet (no inventory of "
		    "%s).\n", slot);
		rackctl_reply_free(&r);
		return RACKCTL_OK;
	}
	if (r.status != 200 || !(o = rackctl_reply_json(&r))) {
		rackctl_error("inventory of %s: %s", slot,
		    rackctl_reply_error(&r, e, sizeof e));
		rackctl_reply_free(&r);
		return RACKCTL_FAIL;
	}
	rackctl_reply_free(&r);
	disks = json_object_get(json_object_get(o, "inventory"), "disks");
	fprintf(stderr, "Its disks (inventory of %s):\n",
	    json_string_value(json_object_get(o, "at")) ?
	    json_string_value(json_object_get(o, "at")) : "unknown time");
	json_array_foreach(disks, i, d) {
		const char *name = json_string_value(json_object_get(d,
		    "name"));
		const char *serial = json_string_value(json_object_get(d,
		    "serial"));
		const char *model = json_string_value(json_object_get(d,
		    "model"));
		json_int_t size = json_integer_value(json_object_get(d,
		    "size_bytes"));
		fprintf(stderr, "  %s  serial %s  %s  %" JSON_INTEGER_FORMAT
		    " bytes\n", name ? name : "?", serial && *serial ? serial :
		    "(none)", model ? model : "", size);
	}
	if (json_array_size(disks) == 0)
		fprintf(stderr, "  (no disks in the inventory)\n");
	json_decref(o);
	return RACKCTL_OK;
}

static bool
confirmed(const char *slot)
{
	char line[128];

	if (!isatty(STDIN_FILENO)) {
		rackctl_error("erase: not confirmed (no terminal): add --yes");
		return false;
	}
	fprintf(stderr, "Type the slot name (%s) to erase its disk: ", slot);
	if (fgets(line, sizeof line, stdin) == NULL)
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	if (strcmp(line, slot) != 0) {
		rackctl_error("erase: not confirmed");
		return false;
	}
	return true;
}

int
rackctl_cmd_erase(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "method", required_argument, NULL, 'm' },
		{ "yes", no_argument, NULL, 'y' },
		{ "token-file", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pos[2], *token_file = NULL, *method = "auto";
	char path[URL_PATH_MAX], body[64], e[RACKCTL_ERR_MAX];
	bool json = false, yes = false;
	int o, npos = 0, rc;
	struct http_reply r;
	struct rack rk;
	json_t *job;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "-:m:yt:h", opts, NULL)) != -1) {
		switch (o) {
		case 1:
			if (npos == 2)
				return rackctl_usage("erase",
				    "erase: unexpected argument '%s'", optarg);
			pos[npos++] = optarg;
			break;
		case 'm':
			method = optarg;
			break;
		case 'y':
			yes = true;
			break;
		case 't':
			token_file = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			erase_usage(stdout);
			return RACKCTL_OK;
		default:
			return rackctl_bad_option("erase", "erase", o,
			    argv[optind - 1]);
		}
	}
	if (npos < 2)
		return rackctl_usage("erase", "erase: missing %s",
		    npos == 0 ? "RACK" : "SLOT");
	if (strcmp(method, "auto") != 0 && strcmp(method, "overwrite") != 0)
		return rackctl_usage("erase", "erase: --method '%s' is not "
		    "auto or overwrite", method);
	if (strspn(pos[1], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
	    "WXYZ0123456789._-") != strlen(pos[1]) || pos[1][0] == '\0')
		return rackctl_usage("erase", "erase: '%s' is not a slot name",
		    pos[1]);
	if (rackctl_http_init() < 0) {
		rackctl_error("libcurl failed to start");
		return RACKCTL_FAIL;
	}
	if ((rc = rackctl_rack_arg(pos[0], token_file, &rk)) != RACKCTL_OK)
		return rc;
	if ((rc = say_disks(&rk, pos[1])) != RACKCTL_OK)
		return rc;
	fprintf(stderr, "Method: %s.\n", method);
	if (!yes && !confirmed(pos[1]))
		return RACKCTL_FAIL;
	snprintf(path, sizeof path, "/api/v1/nodes/%s/erase", pos[1]);
	snprintf(body, sizeof body, "{\"method\":\"%s\"}", method);
	/* Not retried: a lost reply must not queue a second job. */
	if (rackctl_request(&rk, "POST", path, "application/json", body,
	    strlen(body), 0, &r) < 0 || r.status != 202 ||
	    !(job = rackctl_reply_json(&r))) {
		rackctl_error("erase of %s: %s", pos[1],
		    rackctl_reply_error(&r, e, sizeof e));
		rackctl_reply_free(&r);
		return RACKCTL_FAIL;
	}
	rackctl_reply_free(&r);
	if (json) {
		char *text = json_dumps(job, JSON_INDENT(2));
		if (text)
			printf("%s\n", text);
		free(text);
	} else
		printf("job %" JSON_INTEGER_FORMAT ": erase (%s) of %s queued; "
		    "its events say which method ran (rackctl jobs %s)\n",
		    json_integer_value(json_object_get(job, "id")), method,
		    pos[1], pos[0]);
	json_decref(job);
	return RACKCTL_OK;
}
