/*
 * power_ipmi.c — the "ipmi" power method: a server's BMC over IPMI LAN,
 * with FreeIPMI's libfreeipmi. RMCP+ ("lanplus", IPMI 2.0) unless the
 * settings ask for IPMI 1.5 ("lan") or the BMC has no IPMI 2.0; one
 * session per op, closed before run() returns, so that nothing is kept
 * between calls. The settings are JSON: from the configuration file every
 * value is a string ("623"), from the API a number (623); both are taken.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <freeipmi/freeipmi.h>
#include <jansson.h>

#include "appliance/rackd.h"

/* The settings of one op, read from the JSON (strings point into it). */
struct ipmi_conf {
	const char	*address;	/* NULL: the target's bmc_addr */
	long		 port;
	const char	*user;		/* NULL: the null user */
	const char	*password;
	int		 lanplus;
	long		 cipher;
	uint8_t		 priv;
	uint8_t		 boot_type;	/* PC compatible or EFI */
};

static const char *const ipmi_keys[] = {
	"method", "address", "port", "user", "password", "protocol",
	"cipher_suite", "privilege", "boot_type", "sol", "sol_workarounds", NULL
};
static const char *const ipmi_secrets[] = { "password", NULL };
static const char *const protocols[] = { "lan", "lanplus", NULL };
static const char *const privileges[] = { "operator", "admin", NULL };
static const uint8_t privilege_levels[] = {
	IPMI_PRIVILEGE_LEVEL_OPERATOR, IPMI_PRIVILEGE_LEVEL_ADMIN
};
static const char *const boot_types[] = { "bios", "efi", NULL };
/* What an op is called in an error: "power on refused: ..." */
static const char *const op_words[POWER_OPS] = {
	[POWER_ON] = "power on", [POWER_OFF] = "power off",
	[POWER_CYCLE] = "power cycle", [POWER_STATUS] = "chassis status",
	[POWER_BOOT_NET] = "network boot", [POWER_BOOT_DISK] = "disk boot",
};

/* FreeIPMI's crypto for RMCP+ is set up once, before any thread starts
 * (its rule): at program start, whenever this file is linked in. */
static int rmcpplus_ok;

static void __attribute__((constructor))
rmcpplus_init(void)
{
	rmcpplus_ok = ipmi_rmcpplus_init() == 0;
}

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A string key, or def when it is absent (or null). */
static int
conf_string(const json_t *s, const char *key, const char *def, size_t max,
    const char **out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(s, key);
	const char *str;

	if (v == NULL || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_string(v))
		return fail(err, errlen, "\"%s\" must be a string", key);
	str = json_string_value(v);
	if (strlen(str) != json_string_length(v))
		return fail(err, errlen, "\"%s\" holds a NUL byte", key);
	if (strlen(str) > max)
		return fail(err, errlen,
		    "\"%s\" is longer than %zu characters", key, max);
	*out = str;
	return 0;
}

/* A whole number from min to max (power_setting_number's: a JSON
 * integer or its digits as a string), or def when absent. */
static int
conf_number(const json_t *s, const char *key, long def, long min, long max,
    long *out, char *err, size_t errlen)
{
	long long n;

	switch (power_setting_number(s, key, &n)) {
	case 0:
		*out = def;
		return 0;
	case 1:
		if (n < min || n > max)
			return fail(err, errlen, "\"%s\" must be from %ld to "
			    "%ld", key, min, max);
		*out = (long)n;
		return 0;
	default:
		return fail(err, errlen, "\"%s\" must be a whole number",
		    key);
	}
}

/* One word of words (any case), its index into *out; def when absent. */
static int
conf_word(const json_t *s, const char *key, const char *const *words,
    int def, int *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(s, key);
	const char *str;
	char list[CONFIG_WHY_MAX];
	size_t len = 0;

	if (v == NULL || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if ((str = json_string_value(v)) != NULL &&
	    strlen(str) == json_string_length(v))
		for (int i = 0; words[i] != NULL; i++)
			if (strcasecmp(str, words[i]) == 0) {
				*out = i;
				return 0;
			}
	list[0] = '\0';
	for (int i = 0; words[i] != NULL && len < sizeof(list); i++)
		len += snprintf(list + len, sizeof(list) - len, "%s\"%s\"",
		    i == 0 ? "" : words[i + 1] == NULL ? " or " : ", ",
		    words[i]);
	return fail(err, errlen, "\"%s\" must be %s", key, list);
}

/* A host name or an IPv4 address: FreeIPMI knows no IPv6, and the port
 * is "port"'s. */
static int
host_ok(const char *h)
{
	size_t len = strlen(h);

	return len > 0 && len <= POWER_IPMI_HOST_MAX &&
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-_") == len && h[0] != '-' && h[0] != '.';
}

/* The console's keys (console_sol.c reads them): "sol" yes or no, and
 * "sol_workarounds", FreeIPMI's names; SOL needs RMCP+. */
static int
sol_parse(const json_t *s, const struct ipmi_conf *c, char *err,
    size_t errlen)
{
	const char *wa;
	unsigned flags;
	int on;

	if (power_setting_bool(s, "sol", 0, &on, err, errlen) != 0)
		return fail(err, errlen, "\"sol\" must be yes or no");
	if (conf_string(s, "sol_workarounds", "", SOL_WORKAROUNDS_MAX, &wa,
	    err, errlen) != 0 ||
	    console_sol_workarounds(wa, &flags, err, errlen) != 0)
		return -1;
	if (on && !c->lanplus)
		return fail(err, errlen, "\"sol\" needs IPMI 2.0: not with "
		    "\"protocol\": \"lan\"");
	return 0;
}

static int
conf_parse(const json_t *s, struct ipmi_conf *c, char *err, size_t errlen)
{
	const char *key, *method;
	json_t *v;
	int i;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(s))
		return fail(err, errlen, "the ipmi settings must be an object");
	json_object_foreach((json_t *)s, key, v) {
		for (i = 0; ipmi_keys[i] != NULL; i++)
			if (strcmp(key, ipmi_keys[i]) == 0)
				break;
		if (ipmi_keys[i] == NULL)
			return fail(err, errlen, "unknown key \"%.40s\" (the "
			    "ipmi method takes address, port, user, password, "
			    "protocol, cipher_suite, privilege, boot_type, "
			    "sol, sol_workarounds)",
			    key);
	}
	if (conf_string(s, "method", "ipmi", SLOT_NAME_MAX, &method, err,
	    errlen) != 0)
		return -1;
	if (strcmp(method, "ipmi") != 0)
		return fail(err, errlen, "\"method\" is not \"ipmi\"");
	if (conf_string(s, "address", NULL, POWER_IPMI_HOST_MAX, &c->address,
	    err, errlen) != 0)
		return -1;
	if (c->address != NULL && !host_ok(c->address))
		return fail(err, errlen, "\"address\" must be a host name or "
		    "an IPv4 address, without a port (that is \"port\")");
	if (conf_number(s, "port", POWER_IPMI_PORT, 1, UINT16_MAX, &c->port,
	    err, errlen) != 0)
		return -1;
	if (conf_string(s, "user", NULL, IPMI_MAX_USER_NAME_LENGTH, &c->user,
	    err, errlen) != 0)
		return -1;
	if (c->user != NULL && c->user[0] == '\0')
		c->user = NULL;
	if (conf_string(s, "password", NULL, IPMI_2_0_MAX_PASSWORD_LENGTH,
	    &c->password, err, errlen) != 0)
		return -1;
	if (conf_word(s, "protocol", protocols, 1, &c->lanplus, err,
	    errlen) != 0)
		return -1;
	if (!c->lanplus && c->password != NULL &&
	    strlen(c->password) > IPMI_1_5_MAX_PASSWORD_LENGTH)
		return fail(err, errlen, "\"password\" is longer than %d "
		    "characters, too long for \"protocol\": \"lan\"",
		    IPMI_1_5_MAX_PASSWORD_LENGTH);
	if (conf_number(s, "cipher_suite", POWER_IPMI_CIPHER, 0,
	    IPMI_CIPHER_SUITE_ID_MAX, &c->cipher, err, errlen) != 0)
		return -1;
	if (!IPMI_CIPHER_SUITE_ID_SUPPORTED(c->cipher))
		return fail(err, errlen, "\"cipher_suite\" %ld is not one "
		    "rackd speaks (0-3, 6-8, 11-12, 15-17)", c->cipher);
	if (conf_word(s, "privilege", privileges, 1, &i, err, errlen) != 0)
		return -1;
	c->priv = privilege_levels[i];
	if (conf_word(s, "boot_type", boot_types, 0, &i, err, errlen) != 0)
		return -1;
	c->boot_type = i == 1 ? IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_TYPE_EFI
	    : IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_TYPE_PC_COMPATIBLE;
	return sol_parse(s, c, err, errlen);
}

static int
ipmi_check(const json_t *settings, char *err, size_t errlen)
{
	struct ipmi_conf c;

	return conf_parse(settings, &c, err, errlen);
}

/* One op's session: the BMC's name in errors, its deadline. */
struct ipmi_op {
	ipmi_ctx_t		 ctx;
	const struct ipmi_conf	*conf;
	const char		*addr;
	struct timespec		 start;
	long			 bound_ms;
};

static long
elapsed_ms(const struct ipmi_op *o)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - o->start.tv_sec) * 1000 +
	    (now.tv_nsec - o->start.tv_nsec) / 1000000;
}

/* Why the last call on o->ctx failed, in an operator's words. */
static int
ipmi_why(const struct ipmi_op *o, const char *what, char *err,
    size_t errlen)
{
	const struct ipmi_conf *c = o->conf;
	const char *a = o->addr;

	switch (ipmi_ctx_errnum(o->ctx)) {
	case IPMI_ERR_USERNAME_INVALID:
	case IPMI_ERR_PASSWORD_INVALID:
	case IPMI_ERR_K_G_INVALID:
		return fail(err, errlen, "BMC %s: wrong user or password", a);
	case IPMI_ERR_PASSWORD_VERIFICATION_TIMEOUT:
		return fail(err, errlen, "BMC %s: wrong user or password (no "
		    "answer to the login)", a);
	case IPMI_ERR_PRIVILEGE_LEVEL_INSUFFICIENT:
	case IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED:
		return fail(err, errlen, "BMC %s: user \"%s\" may not log in "
		    "as %s", a, c->user != NULL ? c->user : "",
		    c->priv == IPMI_PRIVILEGE_LEVEL_ADMIN ? "admin" :
		    "operator");
	case IPMI_ERR_CIPHER_SUITE_ID_UNAVAILABLE:
		return fail(err, errlen, "BMC %s: does not offer cipher suite "
		    "%ld (set another \"cipher_suite\")", a, c->cipher);
	case IPMI_ERR_AUTHENTICATION_TYPE_UNAVAILABLE:
		return fail(err, errlen, "BMC %s: does not offer an MD5 login "
		    "on IPMI 1.5 (try \"protocol\": \"lanplus\")", a);
	case IPMI_ERR_IPMI_2_0_UNAVAILABLE:
		return fail(err, errlen, "BMC %s: does not speak IPMI 2.0", a);
	case IPMI_ERR_CONNECTION_TIMEOUT:
	case IPMI_ERR_SESSION_TIMEOUT:
		return fail(err, errlen, "BMC %s: no answer in %ld s", a,
		    (elapsed_ms(o) + 500) / 1000);
	case IPMI_ERR_HOSTNAME_INVALID:
		return fail(err, errlen, "BMC %s: unknown host", a);
	case IPMI_ERR_BMC_BUSY:
		return fail(err, errlen, "BMC %s: busy, try again", a);
	case IPMI_ERR_OUT_OF_MEMORY:
		return fail(err, errlen, "BMC %s: out of memory", a);
	case IPMI_ERR_BAD_COMPLETION_CODE:
	case IPMI_ERR_COMMAND_INVALID_OR_UNSUPPORTED:
	case IPMI_ERR_BAD_RMCPPLUS_STATUS_CODE:
		return fail(err, errlen, "BMC %s: %s refused: %s", a, what,
		    ipmi_ctx_errormsg(o->ctx));
	default:
		return fail(err, errlen, "BMC %s: %s failed: %s", a, what,
		    ipmi_ctx_errormsg(o->ctx));
	}
}

/* The session and retransmission timeouts of an open, from what is left
 * of the op's bound. */
static int
timeouts(const struct ipmi_op *o, unsigned *session, unsigned *resend,
    char *err, size_t errlen)
{
	long left = o->bound_ms - elapsed_ms(o);

	if (left < 2)
		return fail(err, errlen, "BMC %s: no answer in %ld s",
		    o->addr, (elapsed_ms(o) + 500) / 1000);
	*resend = (unsigned)(left / 4 < POWER_IPMI_RESEND_MS ?
	    left / 4 : POWER_IPMI_RESEND_MS);
	if (*resend == 0)
		*resend = 1;
	/* FreeIPMI sees its session timeout only when a resend is due, and
	 * the resends back off: a fifth of the time is left for that */
	*session = (unsigned)(left - left / 5);
	if (*session <= *resend)
		*session = *resend + 1;
	return 0;
}

/* Log in: RMCP+ first unless "protocol" is "lan", IPMI 1.5 when the BMC
 * has no IPMI 2.0. A BMC that will not give the privilege is asked once
 * more with it named in the Open Session request too, as ipmitool does
 * (FreeIPMI's "opensesspriv"; OpenIPMI's BMC and some vendors' need it). */
static const unsigned priv_workaround =
    IPMI_WORKAROUND_FLAGS_OUTOFBAND_2_0_OPEN_SESSION_PRIVILEGE;

static int
session_open(struct ipmi_op *o, const char *host, char *err, size_t errlen)
{
	const struct ipmi_conf *c = o->conf;
	unsigned st = 0, rt = 0;

	if (c->lanplus && !rmcpplus_ok)
		return fail(err, errlen, "BMC %s: rackd cannot speak RMCP+ "
		    "(FreeIPMI's crypto library did not start); try "
		    "\"protocol\": \"lan\"", o->addr);
	for (int i = 0; c->lanplus && i < 2; i++) {
		if (timeouts(o, &st, &rt, err, errlen) != 0)
			return -1;
		if (ipmi_ctx_open_outofband_2_0(o->ctx, host, c->user,
		    c->password, NULL, 0, c->priv, (uint8_t)c->cipher, st, rt,
		    i == 0 ? IPMI_WORKAROUND_FLAGS_DEFAULT : priv_workaround,
		    IPMI_FLAGS_DEFAULT) == 0)
			return 0;
		if (i == 0 && ipmi_ctx_errnum(o->ctx) ==
		    IPMI_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED)
			continue;
		if (ipmi_ctx_errnum(o->ctx) != IPMI_ERR_IPMI_2_0_UNAVAILABLE)
			return ipmi_why(o, "login", err, errlen);
		if (c->password != NULL &&
		    strlen(c->password) > IPMI_1_5_MAX_PASSWORD_LENGTH)
			return fail(err, errlen, "BMC %s: does not speak IPMI "
			    "2.0, and the password is too long for IPMI 1.5 "
			    "(%d characters at most)", o->addr,
			    IPMI_1_5_MAX_PASSWORD_LENGTH);
		break;
	}
	if (timeouts(o, &st, &rt, err, errlen) != 0)
		return -1;
	if (ipmi_ctx_open_outofband(o->ctx, host, c->user, c->password,
	    IPMI_AUTHENTICATION_TYPE_MD5, c->priv, st, rt,
	    IPMI_WORKAROUND_FLAGS_DEFAULT, IPMI_FLAGS_DEFAULT) == 0)
		return 0;
	return ipmi_why(o, "login", err, errlen);
}

static int
power_is_on(struct ipmi_op *o, int *on, char *err, size_t errlen)
{
	fiid_obj_t rs;
	uint64_t v;
	int rc = 0;

	if ((rs = fiid_obj_create(tmpl_cmd_get_chassis_status_rs)) == NULL)
		return fail(err, errlen, "BMC %s: out of memory", o->addr);
	if (ipmi_cmd_get_chassis_status(o->ctx, rs) < 0)
		rc = ipmi_why(o, op_words[POWER_STATUS], err, errlen);
	else if (fiid_obj_get(rs, "current_power_state.power_is_on",
	    &v) != 1)
		rc = fail(err, errlen, "BMC %s: its chassis status has no "
		    "power state", o->addr);
	else
		*on = v != 0;
	fiid_obj_destroy(rs);
	return rc;
}

static int
chassis_control(struct ipmi_op *o, uint8_t what, enum power_op op,
    char *err, size_t errlen)
{
	fiid_obj_t rs;
	int rc = 0;

	if ((rs = fiid_obj_create(tmpl_cmd_chassis_control_rs)) == NULL)
		return fail(err, errlen, "BMC %s: out of memory", o->addr);
	if (ipmi_cmd_chassis_control(o->ctx, what, rs) < 0)
		rc = ipmi_why(o, op_words[op], err, errlen);
	fiid_obj_destroy(rs);
	return rc;
}

/* The serial port's mux: as the BIOS sets it after POST. */
static const uint8_t mux_default =
    IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAGS_SET_MUX_TO_RECOMENDED_AT_END_OF_POST;

/* Keep the boot flags valid past the 60 s after they are set; clear them
 * on every other event, as the BMC does by default. */
static int
keep_flags(ipmi_ctx_t ctx, fiid_obj_t rs)
{
	int (*set)(ipmi_ctx_t, uint8_t, uint8_t, uint8_t, uint8_t, uint8_t,
	    uint8_t, fiid_obj_t) =
	    ipmi_cmd_set_system_boot_options_BMC_boot_flag_valid_bit_clearing;

	return set(ctx, IPMI_SYSTEM_BOOT_OPTIONS_PARAMETER_VALID_UNLOCKED,
	    IPMI_SYSTEM_BOOT_OPTION_CLEAR_VALID_BIT,	/* power up */
	    IPMI_SYSTEM_BOOT_OPTION_CLEAR_VALID_BIT,	/* reset button */
	    IPMI_SYSTEM_BOOT_OPTION_CLEAR_VALID_BIT,	/* watchdog */
	    IPMI_SYSTEM_BOOT_OPTION_DONT_CLEAR_VALID_BIT, /* the 60 s */
	    IPMI_SYSTEM_BOOT_OPTION_CLEAR_VALID_BIT, rs);	/* PEF */
}

/* The boot device: PXE for the next boot only, or the disk from now on.
 * For PXE the BMC is first asked not to drop the flags 60 s after they
 * are set (IPMI's rule when no chassis control follows); a BMC that
 * refuses that still boots from the network if power comes soon. */
static int
boot_device(struct ipmi_op *o, enum power_op op, char *err, size_t errlen)
{
	int net = op == POWER_BOOT_NET;
	fiid_obj_t rs;
	int rc = 0;

	if ((rs = fiid_obj_create(tmpl_cmd_set_system_boot_options_rs)) ==
	    NULL)
		return fail(err, errlen, "BMC %s: out of memory", o->addr);
	if (net && keep_flags(o->ctx, rs) < 0 &&
	    ipmi_ctx_errnum(o->ctx) != IPMI_ERR_BAD_COMPLETION_CODE &&
	    ipmi_ctx_errnum(o->ctx) != IPMI_ERR_COMMAND_INVALID_OR_UNSUPPORTED)
		rc = ipmi_why(o, op_words[op], err, errlen);
	if (rc == 0 && ipmi_cmd_set_system_boot_options_boot_flags(o->ctx,
	    IPMI_SYSTEM_BOOT_OPTIONS_PARAMETER_VALID_UNLOCKED,
	    o->conf->boot_type,
	    net ? IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_VALID_FOR_NEXT_BOOT :
	    IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_VALID_PERSISTENTLY,
	    IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_VALID,
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,	/* lock out reset button */
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,	/* screen blank */
	    net ? IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_FORCE_PXE :
	    IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_BOOT_DEVICE_FORCE_HARD_DRIVE,
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,	/* lock keyboard */
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,	/* clear CMOS */
	    IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_CONSOLE_REDIRECTION_DEFAULT,
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,	/* lock out sleep button */
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,	/* user password bypass */
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,	/* progress event traps */
	    IPMI_SYSTEM_BOOT_OPTION_BOOT_FLAG_FIRMWARE_BIOS_VERBOSITY_DEFAULT,
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,	/* lock out power button */
	    mux_default,
	    IPMI_SYSTEM_BOOT_OPTION_DISABLE,	/* shared mode override */
	    0,					/* device instance */
	    rs) < 0)
		rc = ipmi_why(o, op_words[op], err, errlen);
	fiid_obj_destroy(rs);
	return rc;
}

static int
do_op(struct ipmi_op *o, enum power_op op, enum power_state *state,
    char *err, size_t errlen)
{
	int on;

	switch (op) {
	case POWER_ON:
		return chassis_control(o, IPMI_CHASSIS_CONTROL_POWER_UP, op,
		    err, errlen);
	case POWER_OFF:
		return chassis_control(o, IPMI_CHASSIS_CONTROL_POWER_DOWN, op,
		    err, errlen);
	case POWER_CYCLE:
		/* many BMCs refuse a cycle of a server that is off */
		if (power_is_on(o, &on, err, errlen) != 0)
			return -1;
		return chassis_control(o, on ? IPMI_CHASSIS_CONTROL_POWER_CYCLE
		    : IPMI_CHASSIS_CONTROL_POWER_UP, op, err, errlen);
	case POWER_STATUS:
		if (power_is_on(o, &on, err, errlen) != 0)
			return -1;
		if (state != NULL)
			*state = on ? POWER_IS_ON : POWER_IS_OFF;
		return 0;
	case POWER_BOOT_NET:
	case POWER_BOOT_DISK:
		return boot_device(o, op, err, errlen);
	default:
		return fail(err, errlen, "the ipmi method has no such op");
	}
}

static int
ipmi_run(const struct power_target *t, enum power_op op,
    enum power_state *state, char *err, size_t errlen)
{
	struct ipmi_conf c;
	struct ipmi_op o;
	char host[POWER_IPMI_HOST_MAX + sizeof(":65535")];
	int rc;

	if (conf_parse(t->settings, &c, err, errlen) != 0)
		return -1;
	memset(&o, 0, sizeof(o));
	o.conf = &c;
	o.addr = c.address != NULL ? c.address : t->bmc_addr;
	if (o.addr == NULL || o.addr[0] == '\0')
		return fail(err, errlen, "no BMC address: set \"address\", or "
		    "give slot %s a BMC link", t->slot != NULL ? t->slot : "");
	if (!host_ok(o.addr))
		return fail(err, errlen, "BMC address \"%.64s\" is not a host "
		    "name or an IPv4 address", o.addr);
	if (c.port == POWER_IPMI_PORT)
		snprintf(host, sizeof(host), "%s", o.addr);
	else
		snprintf(host, sizeof(host), "%s:%ld", o.addr, c.port);
	o.bound_ms = t->timeout_ms > 0 ? t->timeout_ms : POWER_TIMEOUT_MS;
	clock_gettime(CLOCK_MONOTONIC, &o.start);
	if ((o.ctx = ipmi_ctx_create()) == NULL)
		return fail(err, errlen, "BMC %s: out of memory", o.addr);
	if ((rc = session_open(&o, host, err, errlen)) == 0) {
		rc = do_op(&o, op, state, err, errlen);
		ipmi_ctx_close(o.ctx);
	}
	ipmi_ctx_destroy(o.ctx);
	return rc;
}

const struct power_method power_ipmi = {
	.name = "ipmi",
	.caps = POWER_CAN(POWER_ON) | POWER_CAN(POWER_OFF) |
	    POWER_CAN(POWER_CYCLE) | POWER_CAN(POWER_STATUS) |
	    POWER_CAN(POWER_BOOT_NET) | POWER_CAN(POWER_BOOT_DISK),
	.secrets = ipmi_secrets,
	.check = ipmi_check,
	.run = ipmi_run,
};
