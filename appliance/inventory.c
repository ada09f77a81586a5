/*
 * inventory.c — a node's hardware, as rack-agent read it in the clone
 * environment (pxe/agent/inventory.c): the posted JSON checked field by
 * field against the contract (docs/design.md, "Inventory and
 * enrolment"), anything else refused; stored per slot with its history;
 * compared with the record before it, a change being a job event, an
 * "inventory" event and the node's inventory_changed flag until an
 * operator acknowledges it (inventory_record.c keeps them). Pure: no
 * database, no globals (tests and the fuzz driver call it alone).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"

/* ---- the contract's shape ----------------------------------------------- */

enum ftype { F_STR, F_INT, F_INT_NULL, F_BOOL, F_BOOL_NULL, F_SMART, F_MODE,
	F_MAC, F_OBJ, F_ARR };

struct field {
	const char		*name;
	enum ftype		 type;
	int64_t			 max;	/* a string's bytes, a number, items */
	const struct field	*sub;	/* F_OBJ's fields, F_ARR's items' */
};

static const struct field system_f[] = {
	{ "vendor", F_STR, INVENTORY_TEXT_MAX, NULL },
	{ "model", F_STR, INVENTORY_TEXT_MAX, NULL },
	{ "serial", F_STR, INVENTORY_TEXT_MAX, NULL },
	{ "uuid", F_STR, INVENTORY_TEXT_MAX, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct field cpus_f[] = {
	{ "model", F_STR, INVENTORY_TEXT_MAX, NULL },
	{ "sockets", F_INT, INVENTORY_CPUS_MAX, NULL },
	{ "cores", F_INT, INVENTORY_CPUS_MAX, NULL },
	{ "threads", F_INT, INVENTORY_CPUS_MAX, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct field disk_f[] = {
	{ "name", F_STR, INVENTORY_TEXT_MAX, NULL },
	{ "path", F_STR, INVENTORY_TEXT_MAX, NULL },
	{ "model", F_STR, INVENTORY_TEXT_MAX, NULL },
	{ "serial", F_STR, INVENTORY_TEXT_MAX, NULL },
	{ "size_bytes", F_INT, INT64_MAX, NULL },
	{ "rotational", F_BOOL, 0, NULL },
	{ "smart", F_SMART, 0, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct field nic_f[] = {
	{ "name", F_STR, INVENTORY_TEXT_MAX, NULL },
	{ "mac", F_MAC, 0, NULL },
	{ "driver", F_STR, INVENTORY_TEXT_MAX, NULL },
	{ "speed_mbps", F_INT_NULL, 10 * 1000 * 1000, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct field firmware_f[] = {
	{ "mode", F_MODE, 0, NULL },
	{ "secure_boot", F_BOOL_NULL, 0, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct field top_f[] = {
	{ "system", F_OBJ, 0, system_f },
	{ "cpus", F_OBJ, 0, cpus_f },
	{ "memory_bytes", F_INT, INT64_MAX, NULL },
	{ "disks", F_ARR, INVENTORY_DISKS_MAX, disk_f },
	{ "nics", F_ARR, INVENTORY_NICS_MAX, nic_f },
	{ "firmware", F_OBJ, 0, firmware_f },
	{ NULL, 0, 0, NULL },
};

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* "aa:bb:cc:dd:ee:ff" in lower case, or "" (none). */
static int
mac_valid(const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (*s == '\0')
		return 1;
	if (strlen(s) != 17)
		return 0;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : strchr(hex, s[i]) == NULL ||
		    s[i] == '\0')
			return 0;
	return 1;
}

static int check_object(const json_t *o, const struct field *f,
    const char *where, char *err, size_t errlen);

/* One value of field f at where ("disks[1].serial"). */
static int
check_value(const json_t *v, const struct field *f, const char *where,
    char *err, size_t errlen)
{
	char sub[INVENTORY_CHANGE_MAX];
	const char *s;
	size_t i;
	json_t *it;

	switch (f->type) {
	case F_STR:
		if (!json_is_string(v))
			break;
		s = json_string_value(v);
		if (strlen(s) > (size_t)f->max || !printable(s)) {
			snprintf(err, errlen, "%s: at most %" PRId64
			    " printable bytes", where, f->max);
			return -1;
		}
		return 0;
	case F_INT_NULL:
		if (json_is_null(v))
			return 0;
		/* FALLTHROUGH */
	case F_INT:
		if (!json_is_integer(v))
			break;
		if (json_integer_value(v) < 0 ||
		    json_integer_value(v) > f->max) {
			snprintf(err, errlen, "%s: a whole number from 0 to "
			    "%" PRId64, where, f->max);
			return -1;
		}
		return 0;
	case F_BOOL_NULL:
		if (json_is_null(v))
			return 0;
		/* FALLTHROUGH */
	case F_BOOL:
		if (json_is_boolean(v))
			return 0;
		break;
	case F_SMART:
		s = json_string_value(v);
		if (s != NULL && (strcmp(s, "passed") == 0 ||
		    strcmp(s, "failed") == 0 || strcmp(s, "unknown") == 0))
			return 0;
		snprintf(err, errlen, "%s: \"passed\", \"failed\" or "
		    "\"unknown\"", where);
		return -1;
	case F_MODE:
		s = json_string_value(v);
		if (s != NULL && (strcmp(s, "uefi") == 0 ||
		    strcmp(s, "bios") == 0))
			return 0;
		snprintf(err, errlen, "%s: \"uefi\" or \"bios\"", where);
		return -1;
	case F_MAC:
		s = json_string_value(v);
		if (s != NULL && mac_valid(s))
			return 0;
		snprintf(err, errlen, "%s: a MAC address aa:bb:cc:dd:ee:ff in "
		    "lower case, or \"\"", where);
		return -1;
	case F_OBJ:
		return check_object(v, f->sub, where, err, errlen);
	case F_ARR:
		if (!json_is_array(v))
			break;
		if (json_array_size(v) > (size_t)f->max) {
			snprintf(err, errlen, "%s: at most %" PRId64 " items",
			    where, f->max);
			return -1;
		}
		json_array_foreach(v, i, it) {
			if (snprintf(sub, sizeof(sub), "%s[%zu]", where, i) >=
			    (int)sizeof(sub) ||
			    check_object(it, f->sub, sub, err, errlen) != 0)
				return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "%s: not %s", where, f->type == F_STR ?
	    "a string" : f->type == F_ARR ? "an array" : f->type == F_BOOL ?
	    "true or false" : f->type == F_BOOL_NULL ?
	    "true, false or null" : "a whole number");
	return -1;
}

/* Every field of f present and good, and no other. */
static int
check_object(const json_t *o, const struct field *f, const char *where,
    char *err, size_t errlen)
{
	char sub[INVENTORY_CHANGE_MAX];
	const char *key;
	json_t *v;
	size_t n = 0;

	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s: not an object", where[0] ? where :
		    "the inventory");
		return -1;
	}
	for (; f->name != NULL; f++, n++) {
		if (snprintf(sub, sizeof(sub), "%s%s%s", where, where[0] ? "." :
		    "", f->name) >= (int)sizeof(sub))
			return -1;	/* not with the contract's names */
		if ((v = json_object_get(o, f->name)) == NULL) {
			snprintf(err, errlen, "%s: missing", sub);
			return -1;
		}
		if (check_value(v, f, sub, err, errlen) != 0)
			return -1;
	}
	if (json_object_size(o) == n)
		return 0;
	/* One more key than the contract's: name it. */
	json_object_foreach((json_t *)o, key, v) {
		const struct field *g = f - n;
		while (g->name != NULL && strcmp(g->name, key) != 0)
			g++;
		if (g->name == NULL) {
			snprintf(err, errlen, "%s%s%.40s: not a field of the "
			    "inventory", where, where[0] ? "." : "", key);
			if (!printable(key))
				snprintf(err, errlen, "%s: a key that is not "
				    "a field of the inventory", where[0] ?
				    where : "the inventory");
			return -1;
		}
	}
	snprintf(err, errlen, "%s: fields that are not the inventory's",
	    where);
	return -1;
}

int
inventory_parse(const char *text, size_t len, json_t **out, char *err,
    size_t errlen)
{
	json_error_t je;
	json_t *o;

	*out = NULL;
	if (len > INVENTORY_BODY_MAX) {
		snprintf(err, errlen, "an inventory is at most %d bytes",
		    INVENTORY_BODY_MAX);
		return -1;
	}
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		snprintf(err, errlen, "not JSON: %s (line %d)", je.text,
		    je.line);
		return -1;
	}
	if (check_object(o, top_f, "", err, errlen) != 0) {
		json_decref(o);
		return -1;
	}
	*out = o;
	return 0;
}

/* ---- what changed -------------------------------------------------------- */

static const char *
str_at(const json_t *o, const char *obj, const char *key)
{
	const char *s;

	if (obj != NULL)
		o = json_object_get(o, obj);
	s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : "";
}

static void
add_change(json_t *changes, int *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add_change(json_t *changes, int *n, const char *fmt, ...)
{
	char line[INVENTORY_CHANGE_MAX];
	va_list ap;

	if (json_array_size(changes) >= INVENTORY_CHANGES_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	json_array_append_new(changes, json_string(line));
	(*n)++;
}

/* Is there an item of list whose key is value? */
static const json_t *
find_by(const json_t *list, const char *key, const char *value)
{
	size_t i;
	json_t *it;

	json_array_foreach(list, i, it)
		if (strcmp(str_at(it, NULL, key), value) == 0)
			return it;
	return NULL;
}

/* Items of a (by key, "" skipped) that b does not have: each a sentence. */
static void
gone_or_new(const json_t *a, const json_t *b, const char *key,
    const char *what, const char *verb, json_t *changes, int *n)
{
	size_t i;
	json_t *it;

	json_array_foreach(a, i, it) {
		const char *v = str_at(it, NULL, key);
		if (*v == '\0' || find_by(b, key, v) != NULL)
			continue;
		add_change(changes, n, "%s %s %s (%s%s%s) %s", what, key, v,
		    str_at(it, NULL, "name"), *str_at(it, NULL, "model") ?
		    ", " : "", str_at(it, NULL, "model"), verb);
	}
}

int
inventory_compare(const json_t *old, const json_t *new, json_t *changes)
{
	json_int_t om, nm;
	int n = 0;

	if (strcmp(str_at(old, "system", "serial"),
	    str_at(new, "system", "serial")) != 0 ||
	    strcmp(str_at(old, "system", "uuid"),
	    str_at(new, "system", "uuid")) != 0)
		add_change(changes, &n, "a different machine: system serial "
		    "%s, UUID %s (was %s, %s)", str_at(new, "system", "serial"),
		    str_at(new, "system", "uuid"),
		    str_at(old, "system", "serial"),
		    str_at(old, "system", "uuid"));
	om = json_integer_value(json_object_get(old, "memory_bytes"));
	nm = json_integer_value(json_object_get(new, "memory_bytes"));
	if (nm != om)
		add_change(changes, &n, "%s memory: %lld bytes (was %lld)",
		    nm < om ? "less" : "more", (long long)nm, (long long)om);
	if (strcmp(str_at(old, "cpus", "model"), str_at(new, "cpus",
	    "model")) != 0)
		add_change(changes, &n, "another CPU: %s (was %s)",
		    str_at(new, "cpus", "model"), str_at(old, "cpus", "model"));
	gone_or_new(json_object_get(old, "disks"),
	    json_object_get(new, "disks"), "serial", "disk", "is gone",
	    changes, &n);
	gone_or_new(json_object_get(new, "disks"),
	    json_object_get(old, "disks"), "serial", "disk", "is new",
	    changes, &n);
	gone_or_new(json_object_get(old, "nics"),
	    json_object_get(new, "nics"), "mac", "NIC", "is gone", changes,
	    &n);
	gone_or_new(json_object_get(new, "nics"),
	    json_object_get(old, "nics"), "mac", "NIC", "is new", changes,
	    &n);
	return n;
}
