/*
 * tests/fuzz/fuzz_appliance_power.c — the power settings of PATCH
 * /api/v1/nodes/SLOT {"power": {...}} (appliance/power.c
 * power_settings_check and the method's check), decoded as http_json_body
 * does. What it accepts is an object of at most POWER_KEYS_MAX keys with
 * a known method and only strings, whole numbers and booleans; its shown
 * copy holds no secret; the coercion helpers take any value of it.
 */
#include <string.h>

#include "appliance/rackd.h"
#include "tests/fuzz/fuzz.h"

/* Every key through the helpers: no crash, and a number in range. */
static void
coerce_all(const json_t *s)
{
	char err[POWER_ERR_MAX];
	const char *key;
	json_t *v;
	int n;

	json_object_foreach((json_t *)s, key, v) {
		err[0] = '\0';
		if (power_setting_int(s, key, 0, 1, 60, &n, err,
		    sizeof(err)) == 0)
			FUZZ_CHECK(n >= 1 && n <= 60);
		else
			FUZZ_CHECK(err[0] != '\0');
		if (power_setting_bool(s, key, 0, &n, err, sizeof(err)) == 0)
			FUZZ_CHECK(n == 0 || n == 1);
		(void)power_setting_str(s, key, NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct power_method *m;
	char err[ERR_MAX];
	json_error_t je;
	json_t *body, *s, *pub, *v;
	const char *key;

	FUZZ_SELFTEST_TRAP(data, size);
	body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, &je);
	if (body == NULL)
		return 0;
	s = json_object_get(body, "power");
	if (s == NULL)
		s = body;
	coerce_all(s);
	err[0] = '\0';
	if (power_settings_check(s, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		json_decref(body);
		return 0;
	}
	FUZZ_CHECK(json_is_object(s));
	FUZZ_CHECK(json_object_size(s) <= POWER_KEYS_MAX);
	m = power_method_find(power_setting_str(s, "method", NULL));
	FUZZ_CHECK(m != NULL);
	FUZZ_CHECK(power_caps(s) == m->caps && m->caps != 0);
	json_object_foreach(s, key, v)
		FUZZ_CHECK(json_is_string(v) || json_is_integer(v) ||
		    json_is_boolean(v));
	pub = power_settings_public(s);
	FUZZ_CHECK(pub != NULL);
	for (int i = 0; m->secrets != NULL && m->secrets[i] != NULL; i++) {
		v = json_object_get(pub, m->secrets[i]);
		FUZZ_CHECK(v == NULL || json_is_object(v));
	}
	json_decref(pub);
	json_decref(body);
	return 0;
}
