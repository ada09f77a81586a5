/*
 * power.c — each slot's power method and its settings. Settings are a
 * JSON object {"method": NAME, KEY: VALUE, ...}; they come from the
 * configuration's [power.SLOT] sections (values as text) or from PATCH
 * /api/v1/nodes/{slot} {"power": {...}}, kept in STATE_DIR/power/SLOT.json
 * (0600, written to a temporary file and renamed). A PATCHed setting wins
 * over the file's; {"power": null} removes it. A PATCH whose database
 * update fails puts back what was PATCHed before (power_settings_patched,
 * then power_settings_set again). The method's check judges
 * settings wherever they come from; its secrets are never shown nor
 * logged. power_run.c runs the ops, power_poll.c keeps the states.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance/rackd.h"
#include "images/file.h"

/* Every power method: a slot's settings name one by its name. */
static const struct power_method *const methods[] = {
	&power_ipmi, &power_redfish, &power_relay, &power_wol, &power_command,
	NULL
};

static const char *const op_names[POWER_OPS] = {
	[POWER_ON] = "on", [POWER_OFF] = "off", [POWER_CYCLE] = "cycle",
	[POWER_STATUS] = "status", [POWER_BOOT_NET] = "boot_net",
	[POWER_BOOT_DISK] = "boot_disk",
};

static const struct {
	const char	*method;
	const char	*note;
} notes[] = {
	{ "wol", "Wake-on-LAN can only switch on" },
};

static pthread_mutex_t p_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *from_config;	/* {SLOT: settings}, of the file */
static json_t *from_api;	/* {SLOT: settings}, PATCHed */

const char *
power_op_name(enum power_op op)
{
	return op >= 0 && op < POWER_OPS ? op_names[op] : "unknown";
}

const char *
power_state_name(enum power_state st)
{
	switch (st) {
	case POWER_IS_ON:
		return "on";
	case POWER_IS_OFF:
		return "off";
	default:
		return "unknown";
	}
}

const struct power_method *
power_method_find(const char *name)
{
	for (int i = 0; name != NULL && methods[i] != NULL; i++)
		if (strcmp(methods[i]->name, name) == 0)
			return methods[i];
	return NULL;
}

const char *
power_method_note(const char *method)
{
	for (size_t i = 0; method != NULL &&
	    i < sizeof(notes) / sizeof(notes[0]); i++)
		if (strcmp(notes[i].method, method) == 0)
			return notes[i].note;
	return NULL;
}

unsigned
power_caps(const json_t *settings)
{
	const struct power_method *m = power_method_find(
	    power_setting_str(settings, "method", NULL));

	return m != NULL ? m->caps : 0;
}

void
power_caps_text(unsigned caps, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int op = 0; op < POWER_OPS && used < len; op++)
		if (caps & POWER_CAN(op))
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
			    used ? ", " : "", op_names[op]);
	if (used == 0)
		snprintf(buf, len, "nothing");
}

int
power_setting_number(const json_t *s, const char *key, long long *n)
{
	const json_t *v = json_object_get(s, key);
	const char *t;
	size_t len;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*n = json_integer_value(v);
		return 1;
	}
	if ((t = json_string_value(v)) == NULL)
		return -1;
	/* Digits only: no sign, space or 0x; too many saturate, and then
	 * fail the caller's range. */
	len = strlen(t);
	if (len == 0 || len != json_string_length(v) ||
	    strspn(t, "0123456789") != len)
		return -1;
	*n = strtoll(t, NULL, 10);
	return 1;
}

int
power_setting_int(const json_t *s, const char *key, int def, int min,
    int max, int *out, char *err, size_t errlen)
{
	long long n;

	switch (power_setting_number(s, key, &n)) {
	case 0:
		*out = def;
		return 0;
	case 1:
		if (n >= min && n <= max) {
			*out = (int)n;
			return 0;
		}
		break;
	default:
		break;
	}
	snprintf(err, errlen, "%s: a whole number from %d to %d", key, min,
	    max);
	return -1;
}

int
power_setting_bool(const json_t *s, const char *key, int def, int *out,
    char *err, size_t errlen)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	const json_t *v = json_object_get(s, key);
	const char *t;

	if (v == NULL || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_integer(v) && (json_integer_value(v) == 0 ||
	    json_integer_value(v) == 1)) {
		*out = json_integer_value(v) == 1;
		return 0;
	}
	if ((t = json_string_value(v)) != NULL) {
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (strcasecmp(t, yes[i]) == 0) {
				*out = 1;
				return 0;
			}
			if (strcasecmp(t, no[i]) == 0) {
				*out = 0;
				return 0;
			}
		}
	}
	snprintf(err, errlen, "%s: yes or no (true or false)", key);
	return -1;
}

const char *
power_setting_str(const json_t *s, const char *key, const char *def)
{
	const json_t *v = json_object_get(s, key);

	if (v == NULL)
		return def;
	return json_string_value(v);
}

static int
is_secret(const struct power_method *m, const char *key)
{
	for (int i = 0; m->secrets != NULL && m->secrets[i] != NULL; i++)
		if (strcmp(m->secrets[i], key) == 0)
			return 1;
	return 0;
}

int
power_settings_check(const json_t *s, char *err, size_t errlen)
{
	const struct power_method *m;
	const char *key, *name;
	json_t *v;
	char list[ERR_MAX];
	size_t used = 0;

	if (!json_is_object(s)) {
		snprintf(err, errlen, "power: an object {\"method\": ...} or "
		    "null");
		return -1;
	}
	name = power_setting_str(s, "method", NULL);
	if ((m = power_method_find(name)) == NULL) {
		list[0] = '\0';
		for (int i = 0; methods[i] != NULL && used < sizeof(list); i++)
			used += (size_t)snprintf(list + used, sizeof(list) -
			    used, "%s%s", i ? ", " : "", methods[i]->name);
		snprintf(err, errlen, "method: one of %s", list);
		return -1;
	}
	if (json_object_size(s) > POWER_KEYS_MAX) {
		snprintf(err, errlen, "more than %d keys", POWER_KEYS_MAX);
		return -1;
	}
	json_object_foreach((json_t *)s, key, v) {
		size_t n = strlen(key);
		if (n == 0 || n > OPTION_NAME_MAX || strspn(key,
		    "abcdefghijklmnopqrstuvwxyz0123456789_") != n) {
			snprintf(err, errlen, "'%.*s' is not a key name (a-z, "
			    "0-9, _)", OPTION_NAME_MAX, key);
			return -1;
		}
		if (!json_is_string(v) && !json_is_integer(v) &&
		    !json_is_boolean(v)) {
			snprintf(err, errlen, "%s: a string, a whole number "
			    "or true/false", key);
			return -1;
		}
		if (json_is_string(v) &&
		    json_string_length(v) > POWER_VALUE_MAX) {
			snprintf(err, errlen, "%s: longer than %d characters",
			    key, POWER_VALUE_MAX);
			return -1;
		}
		if (json_is_string(v) &&
		    strlen(json_string_value(v)) != json_string_length(v)) {
			snprintf(err, errlen, "%s: holds a NUL", key);
			return -1;
		}
	}
	return m->check(s, err, errlen);
}

json_t *
power_settings_public(const json_t *s)
{
	const struct power_method *m = power_method_find(
	    power_setting_str(s, "method", NULL));
	const char *key;
	json_t *out, *v;

	if (!json_is_object(s) || (out = json_object()) == NULL)
		return NULL;
	json_object_foreach((json_t *)s, key, v) {
		if (m != NULL && is_secret(m, key))
			json_object_set_new(out, key, json_pack("{s:b}", "set",
			    1));
		else
			json_object_set(out, key, v);
	}
	return out;
}

int
power_config_check(const struct config *cfg, char *err, size_t errlen)
{
	char why[ERR_MAX];
	const char *slot;
	json_t *s;

	json_object_foreach(cfg->power, slot, s) {
		if (power_settings_check(s, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: [power.%s] %s",
			    cfg->config_file && cfg->config_file[0] ?
			    cfg->config_file : "configuration", slot, why);
			return -1;
		}
	}
	return 0;
}

void
power_config_use(const json_t *sections)
{
	json_t *copy = sections ? json_deep_copy(sections) : json_object();

	pthread_mutex_lock(&p_lock);
	json_decref(from_config);
	from_config = copy;
	pthread_mutex_unlock(&p_lock);
}

static int
settings_file(char *buf, size_t len, const char *slot)
{
	char name[SLOT_NAME_MAX + 32];

	snprintf(name, sizeof(name), "power/%s.json", slot);
	return statedir_path(buf, len, name);
}

/* STATE_DIR/power/SLOT.json of a valid slot, checked; else skipped. */
static void
load_one(const char *file)
{
	char path[PATH_MAX_RACKD], slot[SLOT_NAME_MAX + 1], why[ERR_MAX];
	char *text = NULL;
	size_t n = strlen(file);
	json_error_t je;
	json_t *s;
	ssize_t got;

	if (n <= 5 || n - 5 > SLOT_NAME_MAX ||
	    strcmp(file + n - 5, ".json") != 0)
		return;
	memcpy(slot, file, n - 5);
	slot[n - 5] = '\0';
	if (!slot_name_valid(slot) || settings_file(path, sizeof(path),
	    slot) != 0)
		return;
	if ((text = malloc(POWER_SETTINGS_MAX)) == NULL)
		return;
	got = read_small_file(path, text, POWER_SETTINGS_MAX);
	s = got < 0 ? NULL : json_loads(text, 0, &je);
	free(text);
	if (s == NULL || power_settings_check(s, why, sizeof(why)) != 0) {
		log_warnx("%s: %s; the slot's PATCHed power settings are "
		    "ignored", path, s == NULL ? "not readable JSON" : why);
		json_decref(s);
		return;
	}
	json_object_set_new(from_api, slot, s);
}

int
power_init(char *err, size_t errlen)
{
	char dir[PATH_MAX_RACKD];
	struct dirent *de;
	DIR *d;

	if (statedir_path(dir, sizeof(dir), "power") != 0 ||
	    (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
		snprintf(err, errlen, "state dir power: %s", strerror(errno));
		return -1;
	}
	if ((from_api = json_object()) == NULL ||
	    (d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL && json_object_size(from_api) <
	    SLOTS_MAX)
		load_one(de->d_name);
	closedir(d);
	return 0;
}

json_t *
power_settings_get(const char *slot)
{
	json_t *s;

	pthread_mutex_lock(&p_lock);
	if ((s = json_object_get(from_api, slot)) == NULL)
		s = json_object_get(from_config, slot);
	json_incref(s);
	pthread_mutex_unlock(&p_lock);
	return s;
}

json_t *
power_settings_all(void)
{
	json_t *all;

	pthread_mutex_lock(&p_lock);
	all = from_config ? json_deep_copy(from_config) : json_object();
	if (all != NULL && from_api != NULL)
		json_object_update(all, from_api);
	pthread_mutex_unlock(&p_lock);
	return all;
}

json_t *
power_settings_patched(const char *slot)
{
	json_t *s;

	pthread_mutex_lock(&p_lock);
	s = json_object_get(from_api, slot);
	json_incref(s);
	pthread_mutex_unlock(&p_lock);
	return s;
}

int
power_settings_set(const char *slot, const json_t *s, char *err,
    size_t errlen)
{
	char path[PATH_MAX_RACKD], name[SLOT_NAME_MAX + 32];
	char *text;
	json_t *copy;

	if (!slot_name_valid(slot) || settings_file(path, sizeof(path),
	    slot) != 0) {
		snprintf(err, errlen, "not a slot name");
		return -1;
	}
	if (s == NULL) {
		if (unlink(path) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove %s: %s", path,
			    strerror(errno));
			return -1;
		}
		pthread_mutex_lock(&p_lock);
		json_object_del(from_api, slot);
		pthread_mutex_unlock(&p_lock);
		log_info("slot %s: its PATCHed power settings removed", slot);
		return 0;
	}
	if (power_settings_check(s, err, errlen) != 0)
		return -1;
	copy = json_deep_copy(s);
	text = json_dumps(s, JSON_SORT_KEYS | JSON_COMPACT);
	snprintf(name, sizeof(name), "power/%s.json", slot);
	if (copy == NULL || text == NULL ||
	    strlen(text) >= POWER_SETTINGS_MAX ||
	    statedir_write_secret(name, text) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    text && strlen(text) >= POWER_SETTINGS_MAX ? "too long" :
		    strerror(errno));
		free(text);
		json_decref(copy);
		return -1;
	}
	free(text);
	pthread_mutex_lock(&p_lock);
	json_object_set_new(from_api, slot, copy);
	pthread_mutex_unlock(&p_lock);
	log_info("slot %s: power method %s set", slot,
	    power_setting_str(s, "method", "?"));
	return 0;
}
