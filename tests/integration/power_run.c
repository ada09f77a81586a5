/*
 * tests/integration/power_run.c — one operation of one power method,
 * called directly as power.c calls it, for the power tests:
 *
 *	power_run METHOD SETTINGS_JSON_FILE OP [IFNAME MAC BMC_ADDR]
 *
 * The settings are checked first (check()), then the op runs within
 * POWER_TIMEOUT_MS. Prints "ok", "ok state=on|off|unknown" (status) or
 * "error: TEXT"; exits 0 or 1 (2 on bad usage).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "appliance/rackd.h"

static const struct power_method *const methods[] = {
	&power_redfish,
	&power_relay,
};

static const char *const op_names[POWER_OPS] = {
	[POWER_ON] = "on", [POWER_OFF] = "off", [POWER_CYCLE] = "cycle",
	[POWER_STATUS] = "status", [POWER_BOOT_NET] = "boot_net",
	[POWER_BOOT_DISK] = "boot_disk",
};

static const char *const state_names[] = {
	[POWER_UNKNOWN] = "unknown", [POWER_IS_ON] = "on",
	[POWER_IS_OFF] = "off",
};

int
main(int argc, char **argv)
{
	const struct power_method *m = NULL;
	struct power_target t;
	enum power_state state = POWER_UNKNOWN;
	char err[POWER_ERR_MAX];
	json_error_t jerr;
	json_t *settings;
	int op = -1;

	if (argc != 4 && argc != 7) {
		fprintf(stderr, "usage: power_run METHOD SETTINGS_JSON_FILE "
		    "OP [IFNAME MAC BMC_ADDR]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(argv[1], methods[i]->name) == 0 ||
		    (strncmp(argv[1], "power_", 6) == 0 &&
		    strcmp(argv[1] + 6, methods[i]->name) == 0))
			m = methods[i];
	for (int i = 0; i < POWER_OPS; i++)
		if (strcmp(argv[3], op_names[i]) == 0)
			op = i;
	if (m == NULL || op < 0) {
		fprintf(stderr, "power_run: unknown %s %s\n",
		    m == NULL ? "method" : "op", m == NULL ? argv[1] : argv[3]);
		return 2;
	}
	if ((settings = json_load_file(argv[2], 0, &jerr)) == NULL) {
		printf("error: %s: %s\n", argv[2], jerr.text);
		return 1;
	}
	if (m->check(settings, err, sizeof(err)) != 0) {
		printf("error: %s\n", err);
		json_decref(settings);
		return 1;
	}
	if (!(m->caps & POWER_CAN(op))) {
		printf("error: %s cannot %s\n", m->name, op_names[op]);
		json_decref(settings);
		return 1;
	}
	memset(&t, 0, sizeof(t));
	t.slot = "s1";
	t.settings = settings;
	if (argc == 7) {
		t.ifname = argv[4][0] != '\0' ? argv[4] : NULL;
		t.mac = argv[5][0] != '\0' ? argv[5] : NULL;
		t.bmc_addr = argv[6][0] != '\0' ? argv[6] : NULL;
	}
	t.timeout_ms = POWER_TIMEOUT_MS;
	err[0] = '\0';
	if (m->run(&t, op, &state, err, sizeof(err)) != 0) {
		printf("error: %s\n", err[0] != '\0' ? err : "(no reason)");
		json_decref(settings);
		return 1;
	}
	if (op == POWER_STATUS)
		printf("ok state=%s\n", state_names[state]);
	else
		printf("ok\n");
	json_decref(settings);
	return 0;
}
