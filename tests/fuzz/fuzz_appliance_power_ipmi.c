/*
 * tests/fuzz/fuzz_appliance_power_ipmi.c — the settings of the ipmi power
 * method (appliance/power_ipmi.c check()), from the API's JSON or the
 * configuration file's strings. A refusal says why; what it accepts has
 * only the method's keys, a port from 1 to 65535 and a password IPMI can
 * carry; and the password never shows in an error.
 */
#include <string.h>

#include "appliance/rackd.h"
#include "tests/fuzz/fuzz.h"

static const char *const known[] = {
	"method", "address", "port", "user", "password", "protocol",
	"cipher_suite", "privilege", "boot_type", "sol", "sol_workarounds", NULL
};

/* The password, when it is one that no message could hold by chance. */
static const char *
telltale_password(json_t *s)
{
	const char *pw = json_string_value(json_object_get(s, "password"));
	const char *key;
	json_t *v;

	if (pw == NULL || strlen(pw) < 8 || strchr(pw, '#') == NULL)
		return NULL;
	/* an error may quote a key or another value (an unknown
	 * sol_workarounds name): not when they hold the password */
	json_object_foreach(s, key, v)
		if (strstr(key, pw) != NULL || (strcmp(key, "password") != 0 &&
		    json_is_string(v) && strstr(json_string_value(v), pw) !=
		    NULL))
			return NULL;
	return pw;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[POWER_ERR_MAX];
	const char *key, *pw;
	json_error_t je;
	json_t *s, *v;
	int i;

	FUZZ_SELFTEST_TRAP(data, size);
	s = json_loadb((const char *)data, size,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (s == NULL)
		return 0;
	memset(err, 'x', sizeof(err));
	err[0] = '\0';
	if (power_ipmi.check(s, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		if ((pw = telltale_password(s)) != NULL)
			FUZZ_CHECK(strstr(err, pw) == NULL);
		json_decref(s);
		return 0;
	}
	FUZZ_CHECK(json_is_object(s));
	json_object_foreach(s, key, v) {
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		FUZZ_CHECK(known[i] != NULL);
	}
	if ((v = json_object_get(s, "port")) != NULL && json_is_integer(v))
		FUZZ_CHECK(json_integer_value(v) >= 1 &&
		    json_integer_value(v) <= 65535);
	if ((v = json_object_get(s, "password")) != NULL && json_is_string(v))
		FUZZ_CHECK(json_string_length(v) <= 20);
	if ((v = json_object_get(s, "address")) != NULL && json_is_string(v))
		FUZZ_CHECK(strchr(json_string_value(v), ':') == NULL &&
		    json_string_length(v) <= POWER_IPMI_HOST_MAX);
	json_decref(s);
	return 0;
}
