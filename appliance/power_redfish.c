/*
 * power_redfish.c — the "redfish" power method: a BMC's Redfish service
 * over HTTPS (libcurl), its replies read with jansson. Power is the
 * ComputerSystem.Reset action with a ResetType the system allows, the
 * state is the system's PowerState, the next boot its Boot override (a
 * PATCH with If-Match of the system's @odata.etag). The BMC's certificate
 * is checked with a CA file, a public key pin, or the system's CAs; the
 * password goes only into the Basic authorization of each request.
 * docs/internals/power_methods.md tells the exchange.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "appliance/rackd.h"

static const char *const reset_names[RF_RESETS] = {
	[RF_RESET_ON] = "On",
	[RF_RESET_FORCE_OFF] = "ForceOff",
	[RF_RESET_GRACEFUL_SHUTDOWN] = "GracefulShutdown",
	[RF_RESET_GRACEFUL_RESTART] = "GracefulRestart",
	[RF_RESET_FORCE_RESTART] = "ForceRestart",
	[RF_RESET_NMI] = "Nmi",
	[RF_RESET_FORCE_ON] = "ForceOn",
	[RF_RESET_PUSH_POWER_BUTTON] = "PushPowerButton",
	[RF_RESET_POWER_CYCLE] = "PowerCycle",
};

static const char *const boot_names[RF_BOOTS] = {
	[RF_BOOT_NONE] = "None",
	[RF_BOOT_PXE] = "Pxe",
	[RF_BOOT_HDD] = "Hdd",
};

/* The ResetTypes of each op, the first one allowed wins. */
static const enum redfish_reset on_order[] = { RF_RESET_ON,
	RF_RESET_FORCE_ON, RF_RESET_PUSH_POWER_BUTTON };
static const enum redfish_reset off_order[] = { RF_RESET_FORCE_OFF,
	RF_RESET_GRACEFUL_SHUTDOWN };
static const enum redfish_reset cycle_order[] = { RF_RESET_POWER_CYCLE,
	RF_RESET_FORCE_RESTART, RF_RESET_GRACEFUL_RESTART };

static const char *const keys[] = { "method", "url", "user", "password",
	"system", "ca_file", "pin", "insecure", NULL };
static const char *const secrets[] = { "password", NULL };

const char *
redfish_reset_name(enum redfish_reset r)
{
	return r >= 0 && r < RF_RESETS ? reset_names[r] : NULL;
}

const char *
redfish_reset_type(enum power_op op, unsigned allowed)
{
	const enum redfish_reset *order;
	size_t n;

	switch (op) {
	case POWER_ON:
		order = on_order;
		n = sizeof(on_order) / sizeof(on_order[0]);
		break;
	case POWER_OFF:
		order = off_order;
		n = sizeof(off_order) / sizeof(off_order[0]);
		break;
	case POWER_CYCLE:
		order = cycle_order;
		n = sizeof(cycle_order) / sizeof(cycle_order[0]);
		break;
	default:
		return NULL;
	}
	/* A service that lists nothing takes the standard values. */
	if (allowed == 0)
		return reset_names[order[0] == RF_RESET_POWER_CYCLE ?
		    RF_RESET_FORCE_RESTART : order[0]];
	for (size_t i = 0; i < n; i++)
		if (allowed & (1u << order[i]))
			return reset_names[order[i]];
	return NULL;
}

enum power_state
redfish_power_state(const char *s)
{
	if (s != NULL && strcmp(s, "On") == 0)
		return POWER_IS_ON;
	if (s != NULL && strcmp(s, "Off") == 0)
		return POWER_IS_OFF;
	return POWER_UNKNOWN;	/* PoweringOn, PoweringOff, Paused, none */
}

/* A path the service gave that may go into a URL: "/..." and printable
 * ASCII without blanks. */
static int
path_ok(const char *s)
{
	if (s == NULL || s[0] != '/' || strlen(s) >= REDFISH_PATH_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f ||
		    *s == '#' || *s == '?')
			return 0;
	return 1;
}

static json_t *
load(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;

	if (len > REDFISH_REPLY_MAX) {
		snprintf(err, errlen, "reply larger than %d KiB",
		    REDFISH_REPLY_MAX / 1024);
		return NULL;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "reply is not JSON (%s)", jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(err, errlen, "reply is not a JSON object");
		return NULL;
	}
	return root;
}

int
redfish_first_member(const char *body, size_t len, char *path,
    size_t pathlen, char *err, size_t errlen)
{
	json_t *root, *members;
	const char *id;

	if ((root = load(body, len, err, errlen)) == NULL)
		return -1;
	members = json_object_get(root, "Members");
	if (!json_is_array(members) || json_array_size(members) == 0) {
		snprintf(err, errlen, "the collection has no members");
		goto fail;
	}
	id = json_string_value(json_object_get(json_array_get(members, 0),
	    "@odata.id"));
	if (!path_ok(id) || strlen(id) >= pathlen) {
		snprintf(err, errlen, "the first member has no usable "
		    "@odata.id");
		goto fail;
	}
	snprintf(path, pathlen, "%s", id);
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	return -1;
}

/* The names of an AllowableValues array that are among names[n], as
 * bits; *listed when the array is there. */
static unsigned
allowable(const json_t *arr, const char *const *names, int n, int *listed)
{
	unsigned bits = 0;
	size_t i;
	json_t *v;

	*listed = json_is_array(arr);
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		for (int k = 0; s != NULL && k < n; k++)
			if (strcmp(s, names[k]) == 0)
				bits |= 1u << k;
	}
	return bits;
}

int
redfish_parse_system(const char *body, size_t len,
    struct redfish_system *sys, char *err, size_t errlen)
{
	json_t *root, *reset, *boot;
	const char *etag, *target;

	memset(sys, 0, sizeof(*sys));
	if ((root = load(body, len, err, errlen)) == NULL)
		return -1;
	sys->state = redfish_power_state(json_string_value(
	    json_object_get(root, "PowerState")));
	etag = json_string_value(json_object_get(root, "@odata.etag"));
	if (etag != NULL) {
		if (strlen(etag) >= sizeof(sys->etag) ||
		    strpbrk(etag, "\r\n") != NULL) {
			snprintf(err, errlen, "the system's @odata.etag is "
			    "too long or not one line");
			json_decref(root);
			return -1;
		}
		snprintf(sys->etag, sizeof(sys->etag), "%s", etag);
	}
	reset = json_object_get(json_object_get(root, "Actions"),
	    "#ComputerSystem.Reset");
	target = json_string_value(json_object_get(reset, "target"));
	if (target != NULL) {
		if (!path_ok(target)) {
			snprintf(err, errlen, "the system's Reset action has "
			    "an unusable target");
			json_decref(root);
			return -1;
		}
		snprintf(sys->reset_target, sizeof(sys->reset_target), "%s",
		    target);
	}
	sys->resets = allowable(json_object_get(reset,
	    "ResetType@Redfish.AllowableValues"), reset_names, RF_RESETS,
	    &sys->resets_listed);
	boot = json_object_get(root, "Boot");
	sys->boots = allowable(json_object_get(boot,
	    "BootSourceOverrideTarget@Redfish.AllowableValues"), boot_names,
	    RF_BOOTS, &sys->boots_listed);
	json_decref(root);
	return 0;
}

/* ---- settings ---------------------------------------------------- */

struct rf {
	char		 url[URL_MAX];	/* https://host[:port], no final / */
	const char	*user;
	const char	*password;
	const char	*system;
	const char	*ca_file;
	const char	*pin;
	int		 insecure;
	long		 deadline_ms;	/* CLOCK_MONOTONIC */
	int		 timeout_ms;
	CURL		*h;
	char		*reply;
	size_t		 replylen;
	int		 toolong;
	char		 etag[REDFISH_ETAG_MAX];	/* its ETag header */
};

/* A string key: 0 (*out NULL when absent), -1 when not a string. */
static int
get_str(const json_t *s, const char *key, const char **out, char *err,
    size_t errlen)
{
	const json_t *v = json_object_get(s, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		snprintf(err, errlen, "redfish: %s must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* power_setting_bool, in the words of redfish's errors. */
static int
get_bool(const json_t *s, const char *key, int def, int *out, char *err,
    size_t errlen)
{
	if (power_setting_bool(s, key, def, out, err, errlen) == 0)
		return 0;
	snprintf(err, errlen, "redfish: %s must be yes or no", key);
	return -1;
}

/* s after prefix (any case), or NULL when s does not start with it. */
static const char *
after(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncasecmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* https://host[:port] with an optional final "/": no user, no path. */
static int
url_ok(const char *u, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *host;
	size_t n;

	if ((host = after(u, "https://")) == NULL) {
		snprintf(err, errlen, "redfish: url must be https://HOST"
		    "[:PORT] (a BMC is reached over HTTPS only)");
		return -1;
	}
	n = strlen(host);
	if (n > 0 && host[n - 1] == '/')
		n--;
	if (n == 0 || n >= outlen - strlen("https://")) {
		snprintf(err, errlen, "redfish: url has no host or is too "
		    "long");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)host[i];

		if (c == '@') {
			snprintf(err, errlen, "redfish: url must not hold a "
			    "user or password (use the user and password "
			    "keys)");
			return -1;
		}
		if (c == '/' || c == '?' || c == '#' || c <= ' ' || c >= 0x7f) {
			snprintf(err, errlen, "redfish: url must be "
			    "https://HOST[:PORT], without a path");
			return -1;
		}
	}
	snprintf(out, outlen, "https://%.*s", (int)n, host);
	return 0;
}

static int
parse(const json_t *s, struct rf *rf, char *err, size_t errlen)
{
	const char *url, *k;
	json_t *v;

	memset(rf, 0, sizeof(*rf));
	if (!json_is_object(s)) {
		snprintf(err, errlen, "redfish: settings must be an object");
		return -1;
	}
	json_object_foreach((json_t *)s, k, v) {
		int known = 0;

		for (int i = 0; keys[i] != NULL; i++)
			known |= strcmp(k, keys[i]) == 0;
		if (!known) {
			snprintf(err, errlen, "redfish: unknown key %.40s "
			    "(known: url, user, password, system, ca_file, "
			    "pin, insecure)", k);
			return -1;
		}
	}
	if (get_str(s, "url", &url, err, errlen) != 0 ||
	    get_str(s, "user", &rf->user, err, errlen) != 0 ||
	    get_str(s, "password", &rf->password, err, errlen) != 0 ||
	    get_str(s, "system", &rf->system, err, errlen) != 0 ||
	    get_str(s, "ca_file", &rf->ca_file, err, errlen) != 0 ||
	    get_str(s, "pin", &rf->pin, err, errlen) != 0 ||
	    get_bool(s, "insecure", 0, &rf->insecure, err, errlen) != 0)
		return -1;
	if (url == NULL) {
		snprintf(err, errlen, "redfish: url is required "
		    "(https://HOST[:PORT] of the BMC)");
		return -1;
	}
	if (url_ok(url, rf->url, sizeof(rf->url), err, errlen) != 0)
		return -1;
	if (rf->password != NULL && rf->user == NULL) {
		snprintf(err, errlen, "redfish: a password needs a user");
		return -1;
	}
	if (rf->user != NULL && strchr(rf->user, ':') != NULL) {
		snprintf(err, errlen, "redfish: user must not hold ':'");
		return -1;
	}
	if (rf->system != NULL && (!path_ok(rf->system) ||
	    after(rf->system, "/redfish/v1/") == NULL)) {
		snprintf(err, errlen, "redfish: system must be a path "
		    "/redfish/v1/Systems/ID");
		return -1;
	}
	if (rf->ca_file != NULL && rf->ca_file[0] != '/') {
		snprintf(err, errlen, "redfish: ca_file must be an absolute "
		    "path");
		return -1;
	}
	if (rf->pin != NULL && (strncmp(rf->pin, "sha256//",
	    strlen("sha256//")) != 0 || strlen(rf->pin) <
	    strlen("sha256//") + REDFISH_PIN_B64_LEN ||
	    strchr(rf->pin, ' ') != NULL)) {
		snprintf(err, errlen, "redfish: pin must be sha256//BASE64 "
		    "(of the BMC's public key)");
		return -1;
	}
	if (rf->insecure && (rf->ca_file != NULL || rf->pin != NULL)) {
		snprintf(err, errlen, "redfish: insecure goes with neither "
		    "ca_file nor pin");
		return -1;
	}
	return 0;
}

static int
redfish_check(const json_t *settings, char *err, size_t errlen)
{
	struct rf rf;

	return parse(settings, &rf, err, errlen);
}

/* ---- HTTPS ------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void
curl_start(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct rf *rf = arg;
	size_t len = size * n;
	char *r;

	if (rf->replylen + len > REDFISH_REPLY_MAX) {
		rf->toolong = 1;
		return 0;
	}
	if ((r = realloc(rf->reply, rf->replylen + len + 1)) == NULL)
		return 0;
	memcpy(r + rf->replylen, p, len);
	rf->reply = r;
	rf->replylen += len;
	r[rf->replylen] = '\0';
	return len;
}

/* A header of the reply: its ETag kept (a service may give it there
 * only, not as @odata.etag). */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct rf *rf = arg;
	size_t len = size * n, k = sizeof("ETag:") - 1;

	if (len > k && strncasecmp(p, "ETag:", k) == 0) {
		const char *v = p + k, *e = p + len;

		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == '\r' || e[-1] == '\n' ||
		    e[-1] == ' '))
			e--;
		if (e > v && (size_t)(e - v) < sizeof(rf->etag))
			snprintf(rf->etag, sizeof(rf->etag), "%.*s",
			    (int)(e - v), v);
	}
	return len;
}

/* The first message of a Redfish error reply, or "". */
static void
reply_message(const struct rf *rf, char *out, size_t outlen)
{
	json_t *root, *e, *info;
	const char *m;

	out[0] = '\0';
	if (rf->reply == NULL || (root = json_loadb(rf->reply, rf->replylen,
	    0, NULL)) == NULL)
		return;
	e = json_object_get(root, "error");
	info = json_array_get(json_object_get(e, "@Message.ExtendedInfo"), 0);
	if ((m = json_string_value(json_object_get(info, "Message"))) ==
	    NULL)
		m = json_string_value(json_object_get(e, "message"));
	if (m != NULL)
		snprintf(out, outlen, ": %.120s", m);
	for (char *c = out; *c != '\0'; c++)
		if ((unsigned char)*c < ' ' || *c == 0x7f)
			*c = ' ';	/* the BMC's words, one line */
	json_decref(root);
}

static void
timeout_words(const struct rf *rf, char *out, size_t outlen)
{
	if (rf->timeout_ms >= 1000)
		snprintf(out, outlen, "%d s", (rf->timeout_ms + 500) / 1000);
	else
		snprintf(out, outlen, "%d ms", rf->timeout_ms);
}

/* One request: METHOD url+path with body (JSON) or none. 0 and the reply
 * in rf->reply on a 2xx answer, else -1 with why in err. */
static int
request(struct rf *rf, const char *method, const char *path,
    const char *body, const char *ifmatch, char *err, size_t errlen)
{
	char url[URL_MAX + REDFISH_PATH_MAX], cerr[CURL_ERROR_SIZE];
	char hdr[REDFISH_ETAG_MAX + 16], msg[POWER_ERR_MAX], t[32];
	struct curl_slist *h = NULL, *h2;
	long left = rf->deadline_ms - mono_ms(), status = 0;
	CURLcode rc;

	timeout_words(rf, t, sizeof(t));
	if (left <= 0) {
		snprintf(err, errlen, "Redfish %s: no answer in %s", rf->url,
		    t);
		return -1;
	}
	free(rf->reply);
	rf->reply = NULL;
	rf->replylen = 0;
	rf->toolong = 0;
	rf->etag[0] = '\0';
	snprintf(url, sizeof(url), "%s%s", rf->url, path);
	h = curl_slist_append(h, "Accept: application/json");
	if (h != NULL && (h2 = curl_slist_append(h, "OData-Version: 4.0")))
		h = h2;
	if (body != NULL && h != NULL &&
	    (h2 = curl_slist_append(h, "Content-Type: application/json")))
		h = h2;
	if (ifmatch != NULL && ifmatch[0] != '\0' && h != NULL) {
		snprintf(hdr, sizeof(hdr), "If-Match: %s", ifmatch);
		if ((h2 = curl_slist_append(h, hdr)) != NULL)
			h = h2;
	}
	if (h == NULL || (h2 = curl_slist_append(h, "Expect:")) == NULL) {
		curl_slist_free_all(h);
		snprintf(err, errlen, "Redfish %s: out of memory", rf->url);
		return -1;
	}
	h = h2;
	curl_easy_reset(rf->h);
	cerr[0] = '\0';
	curl_easy_setopt(rf->h, CURLOPT_URL, url);
	curl_easy_setopt(rf->h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(rf->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(rf->h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(rf->h, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(rf->h, CURLOPT_TIMEOUT_MS, left);
	curl_easy_setopt(rf->h, CURLOPT_CONNECTTIMEOUT_MS, left);
	curl_easy_setopt(rf->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(rf->h, CURLOPT_WRITEDATA, rf);
	curl_easy_setopt(rf->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(rf->h, CURLOPT_HEADERDATA, rf);
	curl_easy_setopt(rf->h, CURLOPT_USERAGENT, "rackd");
	if (rf->user != NULL) {
		curl_easy_setopt(rf->h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(rf->h, CURLOPT_USERNAME, rf->user);
		curl_easy_setopt(rf->h, CURLOPT_PASSWORD,
		    rf->password != NULL ? rf->password : "");
	}
	if (rf->ca_file != NULL)
		curl_easy_setopt(rf->h, CURLOPT_CAINFO, rf->ca_file);
	if (rf->pin != NULL)
		curl_easy_setopt(rf->h, CURLOPT_PINNEDPUBLICKEY, rf->pin);
	/* A pin alone is the trust: BMCs' certificates are self-signed. */
	if (rf->insecure || (rf->pin != NULL && rf->ca_file == NULL)) {
		curl_easy_setopt(rf->h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(rf->h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(rf->h, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(rf->h, CURLOPT_POSTFIELDS,
		    body != NULL ? body : "");
	}
	rc = curl_easy_perform(rf->h);
	curl_slist_free_all(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(rf->h, CURLINFO_RESPONSE_CODE, &status);
	switch (rc) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(err, errlen, "Redfish %s: no answer in %s", rf->url,
		    t);
		return -1;
	case CURLE_PEER_FAILED_VERIFICATION:
		snprintf(err, errlen, "Redfish %s: certificate not trusted "
		    "(%s; give ca_file or pin)", rf->url,
		    rf->ca_file != NULL ? "not signed by ca_file" :
		    "not signed by a system CA");
		return -1;
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		snprintf(err, errlen, "Redfish %s: certificate's public key "
		    "does not match pin", rf->url);
		return -1;
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(err, errlen, "Redfish %s: cannot read ca_file %s",
		    rf->url, rf->ca_file != NULL ? rf->ca_file : "");
		return -1;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(err, errlen, "Redfish %s: host not found", rf->url);
		return -1;
	case CURLE_COULDNT_CONNECT:
		snprintf(err, errlen, "Redfish %s: cannot connect (%s)",
		    rf->url, cerr[0] != '\0' ? cerr : curl_easy_strerror(rc));
		return -1;
	case CURLE_WRITE_ERROR:
		if (rf->toolong) {
			snprintf(err, errlen, "Redfish %s: reply to %s larger "
			    "than %d KiB", rf->url, path,
			    REDFISH_REPLY_MAX / 1024);
			return -1;
		}
		/* FALLTHROUGH */
	default:
		snprintf(err, errlen, "Redfish %s: %s", rf->url,
		    cerr[0] != '\0' ? cerr : curl_easy_strerror(rc));
		return -1;
	}
	if (status >= 200 && status < 300)
		return 0;
	reply_message(rf, msg, sizeof(msg));
	switch (status) {
	case 401:
		snprintf(err, errlen, "Redfish %s: wrong user or password "
		    "(401)", rf->url);
		break;
	case 403:
		snprintf(err, errlen, "Redfish %s: user not allowed to %s "
		    "%s (403)%s", rf->url, method, path, msg);
		break;
	case 404:
		snprintf(err, errlen, "Redfish %s: %s not found (404)%s",
		    rf->url, path, msg);
		break;
	case 412:
	case 428:
		snprintf(err, errlen, "Redfish %s: %s changed meanwhile or "
		    "needs its ETag (%ld)%s", rf->url, path, status, msg);
		break;
	default:
		snprintf(err, errlen, "Redfish %s: %s %s answered %ld%s",
		    rf->url, method, path, status, msg);
	}
	return -1;
}

static int
reset(struct rf *rf, const char *sys_path, const struct redfish_system *sys,
    enum power_op op, char *err, size_t errlen)
{
	char target[REDFISH_PATH_MAX + 64], body[64];
	const char *type;

	/* From off, a cycle is an on: many BMCs refuse a restart then. */
	if (op == POWER_CYCLE && sys->state == POWER_IS_OFF)
		op = POWER_ON;
	if ((op == POWER_ON && sys->state == POWER_IS_ON) ||
	    (op == POWER_OFF && sys->state == POWER_IS_OFF))
		return 0;
	/* Listed, but none rackd knows: nothing is guessed. */
	type = sys->resets_listed && sys->resets == 0 ? NULL :
	    redfish_reset_type(op, sys->resets);
	if (type == NULL) {
		snprintf(err, errlen, "Redfish %s: %s allows no ResetType "
		    "for %s", rf->url, sys_path, op == POWER_ON ? "on" :
		    op == POWER_OFF ? "off" : "cycle");
		return -1;
	}
	if (sys->reset_target[0] != '\0')
		snprintf(target, sizeof(target), "%s", sys->reset_target);
	else
		snprintf(target, sizeof(target),
		    "%s/Actions/ComputerSystem.Reset", sys_path);
	snprintf(body, sizeof(body), "{\"ResetType\": \"%s\"}", type);
	return request(rf, "POST", target, body, NULL, err, errlen);
}

static int
boot(struct rf *rf, const char *sys_path, const struct redfish_system *sys,
    enum power_op op, char *err, size_t errlen)
{
	const char *body;

	if (op == POWER_BOOT_NET) {
		if (sys->boots_listed && !(sys->boots & (1u << RF_BOOT_PXE))) {
			snprintf(err, errlen, "Redfish %s: %s offers no "
			    "network boot (Pxe)", rf->url, sys_path);
			return -1;
		}
		body = "{\"Boot\": {\"BootSourceOverrideTarget\": \"Pxe\", "
		    "\"BootSourceOverrideEnabled\": \"Once\"}}";
	} else if (!sys->boots_listed || (sys->boots & (1u << RF_BOOT_HDD)))
		body = "{\"Boot\": {\"BootSourceOverrideTarget\": \"Hdd\", "
		    "\"BootSourceOverrideEnabled\": \"Continuous\"}}";
	else
		body = "{\"Boot\": {\"BootSourceOverrideTarget\": \"None\", "
		    "\"BootSourceOverrideEnabled\": \"Disabled\"}}";
	return request(rf, "PATCH", sys_path, body, sys->etag, err, errlen);
}

static int
redfish_run(const struct power_target *t, enum power_op op,
    enum power_state *state, char *err, size_t errlen)
{
	char sys_path[REDFISH_PATH_MAX], why[POWER_ERR_MAX];
	struct redfish_system sys;
	struct rf rf;
	int rc = -1;

	if (parse(t->settings, &rf, err, errlen) != 0)
		return -1;
	pthread_once(&curl_once, curl_start);
	if (!curl_ok || (rf.h = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "Redfish %s: cannot start libcurl",
		    rf.url);
		return -1;
	}
	rf.timeout_ms = t->timeout_ms > 0 ? t->timeout_ms : POWER_TIMEOUT_MS;
	rf.deadline_ms = mono_ms() + rf.timeout_ms;
	if (rf.system != NULL)
		snprintf(sys_path, sizeof(sys_path), "%s", rf.system);
	else {
		if (request(&rf, "GET", "/redfish/v1/Systems", NULL, NULL, err,
		    errlen) != 0)
			goto out;
		if (redfish_first_member(rf.reply, rf.replylen, sys_path,
		    sizeof(sys_path), why, sizeof(why)) != 0) {
			snprintf(err, errlen, "Redfish %s: /redfish/v1/Systems:"
			    " %s", rf.url, why);
			goto out;
		}
	}
	if (request(&rf, "GET", sys_path, NULL, NULL, err, errlen) != 0)
		goto out;
	if (redfish_parse_system(rf.reply, rf.replylen, &sys, why,
	    sizeof(why)) != 0) {
		snprintf(err, errlen, "Redfish %s: %s: %s", rf.url, sys_path,
		    why);
		goto out;
	}
	if (sys.etag[0] == '\0' && strpbrk(rf.etag, "\r\n") == NULL)
		snprintf(sys.etag, sizeof(sys.etag), "%s", rf.etag);
	switch (op) {
	case POWER_STATUS:
		if (state != NULL)
			*state = sys.state;
		rc = 0;
		break;
	case POWER_ON:
	case POWER_OFF:
	case POWER_CYCLE:
		rc = reset(&rf, sys_path, &sys, op, err, errlen);
		break;
	case POWER_BOOT_NET:
	case POWER_BOOT_DISK:
		rc = boot(&rf, sys_path, &sys, op, err, errlen);
		break;
	default:
		snprintf(err, errlen, "redfish: unknown operation");
	}
out:
	curl_easy_cleanup(rf.h);
	free(rf.reply);
	return rc;
}

const struct power_method power_redfish = {
	.name = "redfish",
	.caps = POWER_CAN(POWER_ON) | POWER_CAN(POWER_OFF) |
	    POWER_CAN(POWER_CYCLE) | POWER_CAN(POWER_STATUS) |
	    POWER_CAN(POWER_BOOT_NET) | POWER_CAN(POWER_BOOT_DISK),
	.secrets = secrets,
	.check = redfish_check,
	.run = redfish_run,
};
