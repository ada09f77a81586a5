/*
 * tests/integration/power_run.c — one op of one power method, run
 * directly (without rackd), for the integration tests:
 *   power_run METHOD SETTINGS_JSON_FILE OP [IFNAME MAC BMC_ADDR]
 * checks the settings with the method's check(), runs OP within
 * POWER_TIMEOUT_MS and prints "ok", "ok state=on|off|unknown" (status)
 * or "error: TEXT"; exit status 0 or 1 (2 for a wrong command line).
 * "-" for IFNAME, MAC or BMC_ADDR gives NULL.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "appliance/rackd.h"

/* The methods this program knows: one line each. */
static const struct power_method *const methods[] = {
	&power_ipmi,
	&power_redfish,
	&power_relay,
	NULL
};

static const char *const ops[POWER_OPS] = {
	[POWER_ON] = "on", [POWER_OFF] = "off", [POWER_CYCLE] = "cycle",
	[POWER_STATUS] = "status", [POWER_BOOT_NET] = "boot_net",
	[POWER_BOOT_DISK] = "boot_disk",
};
static const char *const states[] = {
	[POWER_UNKNOWN] = "unknown", [POWER_IS_ON] = "on",
	[POWER_IS_OFF] = "off",
};

static const char *
arg(int argc, char **argv, int i)
{
	if (i >= argc || strcmp(argv[i], "-") == 0)
		return NULL;
	return argv[i];
}

int
main(int argc, char **argv)
{
	const struct power_method *m = NULL;
	struct power_target t;
	enum power_state state = POWER_UNKNOWN;
	json_error_t jerr;
	json_t *settings;
	char err[POWER_ERR_MAX];
	int op, rc;

	if (argc != 4 && argc != 7) {
		fprintf(stderr, "usage: power_run METHOD SETTINGS_JSON_FILE OP "
		    "[IFNAME MAC BMC_ADDR]\n");
		return 2;
	}
	for (int i = 0; methods[i] != NULL; i++)
		if (strcmp(methods[i]->name, argv[1]) == 0)
			m = methods[i];
	for (op = 0; op < POWER_OPS; op++)
		if (strcmp(ops[op], argv[3]) == 0)
			break;
	if (m == NULL || op == POWER_OPS) {
		fprintf(stderr, "power_run: no method %s or no op %s\n",
		    argv[1], argv[3]);
		return 2;
	}
	if ((settings = json_load_file(argv[2], 0, &jerr)) == NULL) {
		printf("error: %s: %s\n", argv[2], jerr.text);
		return 1;
	}
	err[0] = '\0';
	if (m->check(settings, err, sizeof(err)) != 0) {
		printf("error: %s\n", err);
		json_decref(settings);
		return 1;
	}
	if ((m->caps & POWER_CAN(op)) == 0) {
		printf("error: the %s method cannot %s\n", m->name, ops[op]);
		json_decref(settings);
		return 1;
	}
	memset(&t, 0, sizeof(t));
	t.slot = "test";
	t.settings = settings;
	t.ifname = arg(argc, argv, 4);
	t.mac = arg(argc, argv, 5);
	t.bmc_addr = arg(argc, argv, 6);
	t.timeout_ms = POWER_TIMEOUT_MS;
	rc = m->run(&t, op, &state, err, sizeof(err));
	json_decref(settings);
	if (rc != 0) {
		printf("error: %s\n", err);
		return 1;
	}
	if (op == POWER_STATUS)
		printf("ok state=%s\n", states[state]);
	else
		printf("ok\n");
	return 0;
}
