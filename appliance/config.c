/*
 * config.c — rackd's configuration: the one option table, and the running
 * configuration with its lock. The table drives the config file (-c FILE,
 * INI syntax through inih), the command line and --help. Precedence:
 * built-in default < config file < command line. SIGHUP reloads the file;
 * options marked RELOAD take effect at once, the rest at the next start.
 * The running configuration lives here, beside the code that fills it, so
 * that every file of rackd (and every unit test) links the same one: HTTP
 * and work threads read it under conf_rdlock, the main thread replaces the
 * reloadable part under conf_wrlock.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#include <ini.h>

#include "appliance/rackd.h"
#include "images/sign.h"

enum opt_type { T_STR, T_BOOL, T_INT, T_SIZE, T_DURATION, T_LISTEN, T_SLOTS,
    T_LIST, T_CIDR };

#define F_CLI	0x1	/* command line only */
#define F_RELOAD 0x2	/* applied on SIGHUP */
#define F_FLAG	0x4	/* command line: takes no value */

struct option_def {
	const char	*name;
	int		 short_opt;
	enum opt_type	 type;
	size_t		 offset;
	const char	*defval;
	long long	 min, max;
	unsigned	 flags;
	const char	*metavar;
	const char	*help;
};

#define OFF(f) offsetof(struct config, f)

struct config conf;
static pthread_rwlock_t conf_lock = PTHREAD_RWLOCK_INITIALIZER;

void
conf_rdlock(void)
{
	pthread_rwlock_rdlock(&conf_lock);
}

void
conf_wrlock(void)
{
	pthread_rwlock_wrlock(&conf_lock);
}

void
conf_unlock(void)
{
	pthread_rwlock_unlock(&conf_lock);
}

static const struct option_def options[] = {
	{ "config", 'c', T_STR, OFF(config_file), "", 0, 0, F_CLI, "FILE",
	  "read options from FILE (INI: name = value)" },
	{ "foreground", 'd', T_BOOL, OFF(foreground), "no", 0, 0,
	  F_CLI | F_FLAG, NULL, "stay in the foreground and log to stderr" },
	{ "check", 'n', T_BOOL, OFF(check_only), "no", 0, 0, F_CLI | F_FLAG,
	  NULL, "check the configuration, print 'configuration OK', exit" },
	{ "verbose", 'v', T_BOOL, OFF(verbose), "no", 0, 0, F_RELOAD, NULL,
	  "log debug messages too" },
	{ "state_dir", 0, T_STR, OFF(state_dir), "./var", 0, 0, 0, "DIR",
	  "database, image store and generated files" },
	{ "listen", 0, T_LISTEN, OFF(listen), "127.0.0.1:8080", 0, 0, 0,
	  "ADDR:PORT",
	  "HTTP address for the API, dashboard, chunks and boot files" },
	{ "webui_dir", 0, T_STR, OFF(webui_dir), "./webui", 0, 0, F_RELOAD,
	  "DIR", "dashboard files served at /" },
	{ "api_token", 0, T_STR, OFF(api_token), "", TOKEN_MIN, 0, F_RELOAD,
	  "TOKEN",
	  "API token (empty: generated once into STATE_DIR/api.token)" },
	{ "api_open_reads", 0, T_BOOL, OFF(api_open_reads), "no", 0, 0,
	  F_RELOAD, NULL, "allow reads of /api/v1 without a token" },
	{ "dashboard_password", 0, T_STR, OFF(dashboard_password), "", 8, 0,
	  F_RELOAD, "PASSWORD", "dashboard sign-in password (empty: generated "
	  "once into STATE_DIR/dashboard.password)" },
	{ "session_ttl", 0, T_DURATION, OFF(session_ttl), "12h", 60, 30 * 86400,
	  F_RELOAD, "TIME", "a dashboard session ends TIME after sign-in" },
	{ "slots", 0, T_SLOTS, OFF(slots), "", 0, 0, F_RELOAD, "LIST",
	  "slots known ahead of their links, comma separated (usb1,usb2)" },
	{ "boot_timeout", 0, T_DURATION, OFF(boot_timeout), "15m", 10,
	  7 * 86400, F_RELOAD, "TIME",
	  "a job whose node has not called in after TIME: its server is "
	  "power-cycled once more (with a power method), then the job fails" },
	{ "agent_timeout", 0, T_DURATION, OFF(agent_timeout), "15m", 10,
	  86400, F_RELOAD, "TIME",
	  "fail a running job whose agent is silent for TIME" },
	{ "manage_links", 0, T_BOOL, OFF(manage_links), "yes", 0, 0, 0, NULL,
	  "watch network links and manage the management links" },
	{ "links", 0, T_LIST, OFF(links), "", 0, 0, 0, "GLOBS",
	  "interface names that are management links (usb*,enx*)" },
	{ "link_drivers", 0, T_LIST, OFF(link_drivers),
	  "cdc_ether,cdc_ncm,cdc_eem,rndis_host,r8152,ax88179_178a,asix,plusb",
	  0, 0, 0, "LIST", "drivers whose links are management links" },
	{ "uplink", 0, T_LIST, OFF(uplink), "", 0, 0, 0, "GLOBS",
	  "interfaces never managed, whatever else matches" },
	{ "link_slots", 0, T_LIST, OFF(link_slots), "", 0, 0, 0, "MAP",
	  "slot names for links: IFNAME=SLOT or USBPATH=SLOT, comma "
	  "separated; NAME=SLOT/bmc: the BMC link of SLOT (slot SLOT.bmc)" },
	{ "link_subnet_pool", 0, T_CIDR, OFF(link_subnet_pool), "10.213.0.0/16",
	  0, 0, 0, "CIDR", "IPv4 pool split into one small subnet per slot" },
	{ "link_prefix", 0, T_INT, OFF(link_prefix), "30", 30, 31, 0, "30|31",
	  "prefix length of each slot's subnet" },
	{ "dnsmasq", 0, T_STR, OFF(dnsmasq), "/usr/sbin/dnsmasq", 0, 0, 0,
	  "PATH", "the dnsmasq program (DHCP and TFTP on management links)" },
	{ "secure_boot", 0, T_BOOL, OFF(secure_boot), "no", 0, 0, 0, NULL,
	  "UEFI nodes boot Debian's signed shim and GRUB (a slot's "
	  "secure_boot overrides it)" },
	{ "dhcp_lease", 0, T_DURATION, OFF(dhcp_lease), "1h", 120, 86400, 0,
	  "TIME", "DHCP lease time" },
	{ "ipxe_dir", 0, T_STR, OFF(ipxe_dir), "/usr/lib/ipxe", 0, 0, 0, "DIR",
	  "where the iPXE binaries are (Debian's ipxe package)" },
	{ "pxe_dir", 0, T_STR, OFF(pxe_dir), "./build/pxe", 0, 0, F_RELOAD,
	  "DIR", "clone kernel and initramfs served at /pxe/" },
	{ "ssh_keys", 0, T_STR, OFF(ssh_keys), "", 0, 0, F_RELOAD, "FILE",
	  "SSH public keys (authorized_keys lines) for diskless nodes' root" },
	{ "diskless_stream", 0, T_BOOL, OFF(diskless_stream), "yes", 0, 0,
	  F_RELOAD, NULL,
	  "diskless nodes fetch their image as one stream "
	  "(no: chunk by chunk)" },
	{ "enrol", 0, T_BOOL, OFF(enrol), "yes", 0, 0, F_RELOAD, NULL,
	  "inventory a new server: when its link comes up (with a power "
	  "method) or when it first boots the network" },
	{ "enrol_relink", 0, T_DURATION, OFF(enrol_relink), "2m", 1, 86400,
	  F_RELOAD, "TIME",
	  "a slot without a power method whose link was down for TIME and "
	  "came back: its next network boot inventories the server first" },
	{ "rootfs_max_size", 0, T_SIZE, OFF(rootfs_max_size), "4G", 1LL << 20,
	  1LL << 40, F_RELOAD, "SIZE",
	  "largest rootfs image a diskless node is given (it runs from RAM)" },
	{ "console_slots", 0, T_LIST, OFF(console_slots), "", 0, 0, F_RELOAD,
	  "MAP",
	  "slot names for serial consoles: USBPATH=SLOT or /dev/PATH=SLOT, "
	  "comma separated" },
	{ "console_speed", 0, T_INT, OFF(console_speed), "115200", 50, 4000000,
	  F_RELOAD, "BAUD", "the serial consoles' speed (a termios speed)" },
	{ "console_ring", 0, T_SIZE, OFF(console_ring), "128K", 4096,
	  64LL << 20, F_RELOAD, "SIZE", "recent console output kept per slot" },
	{ "console_log_max", 0, T_SIZE, OFF(console_log_max), "4M", 64 * 1024,
	  1LL << 30, F_RELOAD, "SIZE",
	  "a job's console log, rotated once to .1 past SIZE" },
	{ "gadget", 0, T_LIST, OFF(gadget), "", 0, 0, 0, "FUNCS",
	  "be a USB gadget with these functions (ncm,ecm,rndis); empty: off" },
	{ "gadget_configfs", 0, T_STR, OFF(gadget_configfs),
	  "/sys/kernel/config", 0, 0, 0, "DIR",
	  "configfs root for the gadget" },
	{ "gadget_udc", 0, T_STR, OFF(gadget_udc), "", 0, 0, 0, "NAME",
	  "USB device controller to bind (empty: the first one)" },
	{ "trusted_keys", 0, T_LIST, OFF(trusted_keys), "", 0, 0, F_RELOAD,
	  "KEYS", "take only images signed by one of these ed25519 public "
	  "keys: key files or base64 keys, comma separated; empty: any image" },
	{ "image_sources", 0, T_LIST, OFF(image_sources), "", 0, 0, F_RELOAD,
	  "URLS", "base URLs images are pulled from (rackctl publish's origin "
	  "or an HTTP cache in front of it), comma separated, tried in order" },
	{ "image_subscribe", 0, T_LIST, OFF(image_subscribe), "", 0, 0,
	  F_RELOAD, "PATTERNS", "images pulled by themselves as the origin "
	  "publishes them: NAME (every version) or NAME:GLOB (debian:12.*), "
	  "comma separated" },
	{ "image_subscribe_interval", 0, T_DURATION,
	  OFF(image_subscribe_interval), "600", 10, 7 * 86400, F_RELOAD,
	  "TIME", "how often each subscribed image's index.json is read" },
	{ "image_subscribe_window", 0, T_STR, OFF(image_subscribe_window), "",
	  0, 0, F_RELOAD, "HH:MM-HH:MM", "subscription pulls start only in "
	  "this local time window (may wrap midnight; empty: any time)" },
	{ "pull_rate", 0, T_SIZE, OFF(pull_rate), "0", 0, 1LL << 40, F_RELOAD,
	  "SIZE", "bytes per second all pulls together may take (0: no "
	  "limit)" },
	{ "pull_trust", 0, T_BOOL, OFF(pull_trust), "no", 0, 0, F_RELOAD, NULL,
	  "take a pulled image only if a trusted_keys key signed it (also "
	  "refuses every pull while trusted_keys is empty)" },
	{ "push_expiry", 0, T_DURATION, OFF(push_expiry), "7d", 1, 365 * 86400,
	  F_RELOAD, "TIME", "drop a pending push (its manifest posted, not "
	  "committed) when no chunk of it arrives for TIME" },
	{ "max_body", 0, T_SIZE, OFF(max_body), "1M", 1024, 64LL << 20,
	  F_RELOAD, "SIZE", "largest API request body" },
	{ "max_headers", 0, T_INT, OFF(max_headers), "64", 8, 1024, F_RELOAD,
	  "N", "most request header fields" },
	{ "max_header_bytes", 0, T_SIZE, OFF(max_header_bytes), "16K", 4096,
	  1LL << 20, 0, "SIZE", "largest request head (line and headers)" },
	{ "max_connections", 0, T_INT, OFF(max_connections), "512", 4, 65536,
	  0, "N", "most concurrent HTTP connections" },
	{ "idle_timeout", 0, T_DURATION, OFF(idle_timeout), "60s", 1, 3600, 0,
	  "TIME", "close an HTTP connection idle for TIME" },
	{ "user", 0, T_STR, OFF(user), "rackd", 0, 0, 0, "NAME",
	  "run as this user; a small helper keeps root for links, dnsmasq and "
	  "the gadget (root: no separation)" },
	{ "http_threads", 0, T_INT, OFF(http_threads), "1", 1, 64, 0, "N",
	  "HTTP threads (1: one polling thread; more: a pool)" },
	{ "work_threads", 0, T_INT, OFF(work_threads), "0", 0,
	  WORK_THREADS_MAX, 0, "N", "threads verifying pushed chunks off the "
	  "HTTP thread (0: one per CPU)" },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* "yes"/"no" and friends. */
static int
parse_bool(const char *s, int *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* A whole number with an optional unit suffix; units[i] scales by mult[i]. */
static int
parse_scaled(const char *s, const char *units, const long long *mult,
    long long *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		const char *u = strchr(units, toupper((unsigned char)*end));
		if (u == NULL || end[1] != '\0')
			return -1;
		if (v > LLONG_MAX / mult[u - units])
			return -1;
		v *= mult[u - units];
	}
	*out = v;
	return 0;
}

int
config_parse_listen(const char *s, struct sockaddr_storage *ss,
    socklen_t *sslen, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port;
	char *end;
	unsigned long p;
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':') {
			set_err(err, errlen, "'%s' is not [IPV6]:PORT", s);
			return -1;
		}
		hlen = (size_t)(rb - s - 1);
		if (hlen >= sizeof(host)) {
			set_err(err, errlen, "'%s': address too long", s);
			return -1;
		}
		memcpy(host, s + 1, hlen);
		port = rb + 2;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL) {
			set_err(err, errlen, "'%s' is not ADDR:PORT", s);
			return -1;
		}
		hlen = (size_t)(colon - s);
		if (hlen >= sizeof(host)) {
			set_err(err, errlen, "'%s': address too long", s);
			return -1;
		}
		memcpy(host, s, hlen);
		port = colon + 1;
	}
	host[hlen] = '\0';
	errno = 0;
	p = strtoul(port, &end, 10);
	if (!isdigit((unsigned char)*port) || *end != '\0' || errno != 0 ||
	    p == 0 || p > 65535) {
		set_err(err, errlen, "'%s': port must be 1-65535", s);
		return -1;
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		*sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		*sslen = sizeof(*sin6);
	} else {
		set_err(err, errlen, "'%s': '%s' is not an IP address", s,
		    host);
		return -1;
	}
	return 0;
}

int
config_parse_cidr(const char *s, uint32_t *net, int *prefix)
{
	char buf[32], *slash, *end;
	struct in_addr a;
	long p;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf) ||
	    (slash = strchr(buf, '/')) == NULL)
		return -1;
	*slash = '\0';
	p = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, buf, &a) != 1 || slash[1] == '\0' ||
	    *end != '\0' || p < 8 || p > 30)
		return -1;
	*net = ntohl(a.s_addr);
	*prefix = (int)p;
	if (*net & (p == 32 ? 0 : (0xffffffffu >> p)))
		return -1;	/* host bits set */
	return 0;
}

/* Comma separated items; validate(item) says what is wrong, or NULL. */
static int
parse_list(const char *s, struct strlist *out, const char *(*validate)(
    const char *), char *err, size_t errlen)
{
	char *copy = strdup(s), *save = NULL, *tok;
	const char *why;

	if (copy == NULL) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	strlist_clear(out);
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (validate != NULL && (why = validate(tok)) != NULL) {
			set_err(err, errlen, "'%s': %s", tok, why);
			goto fail;
		}
		if (out->n >= SLOTS_MAX) {
			set_err(err, errlen, "more than %d items", SLOTS_MAX);
			goto fail;
		}
		if ((out->v[out->n] = strdup(tok)) == NULL) {
			set_err(err, errlen, "out of memory");
			goto fail;
		}
		out->n++;
	}
	free(copy);
	return 0;
fail:
	free(copy);
	strlist_clear(out);
	return -1;
}

static const char *
valid_slot(const char *s)
{
	return slot_name_valid(s) ? NULL : "not a slot name (letters, digits, "
	    "'.', '_', '-'; at most 32)";
}

static const char *
valid_word(const char *s)
{
	if (strlen(s) > 64)
		return "longer than 64 characters";
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) &&
		    strchr("._-:*?[]", *s) == NULL)
			return "only letters, digits and . _ - : * ? [ ]";
	return NULL;
}

static const char *
valid_map(const char *s)
{
	const char *eq = strchr(s, '=');
	char key[80];

	if (eq == NULL || eq == s || (size_t)(eq - s) >= sizeof(key))
		return "not NAME=SLOT";
	memcpy(key, s, (size_t)(eq - s));
	key[eq - s] = '\0';
	if (valid_word(key) != NULL)
		return "the name before '=' has odd characters";
	if (strchr(eq + 1, '/') != NULL)
		return slot_map_value(eq + 1, key, sizeof(key)) == 0 ? NULL :
		    "not SLOT/bmc (a slot name, not one ending in .bmc, of "
		    "at most 28 characters, then /bmc)";
	return valid_slot(eq + 1);
}

/* A console_slots item: USBPATH=SLOT (a word, as link_slots has) or an
 * absolute device path DEV=SLOT (/dev/ttyUSB0, /dev/pts/3, a link). */
static const char *
valid_console_map(const char *s)
{
	const char *eq = strrchr(s, '=');
	char key[CONSOLE_KEY_MAX];

	if (eq == NULL || eq == s || (size_t)(eq - s) >= sizeof(key))
		return "not USBPATH=SLOT or /dev/PATH=SLOT";
	memcpy(key, s, (size_t)(eq - s));
	key[eq - s] = '\0';
	if (key[0] == '/') {
		if (strstr(key, "/../") != NULL || strstr(key, "//") != NULL)
			return "the device path is not plain";
		for (const char *p = key; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) &&
			    strchr("/._-", *p) == NULL)
				return "the device path has odd characters";
	} else if (valid_word(key) != NULL)
		return "the name before '=' has odd characters";
	return valid_slot(eq + 1);
}

static const struct {
	int		 baud;
	speed_t		 speed;
} tty_speeds[] = {
	{ 50, B50 }, { 75, B75 }, { 110, B110 }, { 134, B134 },
	{ 150, B150 }, { 200, B200 }, { 300, B300 }, { 600, B600 },
	{ 1200, B1200 }, { 1800, B1800 }, { 2400, B2400 }, { 4800, B4800 },
	{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 },
	{ 57600, B57600 }, { 115200, B115200 }, { 230400, B230400 },
	{ 460800, B460800 }, { 500000, B500000 }, { 576000, B576000 },
	{ 921600, B921600 }, { 1000000, B1000000 }, { 1152000, B1152000 },
	{ 1500000, B1500000 }, { 2000000, B2000000 }, { 2500000, B2500000 },
	{ 3000000, B3000000 }, { 3500000, B3500000 }, { 4000000, B4000000 },
};

unsigned int
config_tty_speed(int baud)
{
	for (size_t i = 0; i < sizeof(tty_speeds) / sizeof(tty_speeds[0]);
	    i++)
		if (tty_speeds[i].baud == baud)
			return (unsigned int)tty_speeds[i].speed;
	return 0;
}

static const char *
valid_gadget(const char *s)
{
	return strcmp(s, "ncm") == 0 || strcmp(s, "ecm") == 0 ||
	    strcmp(s, "rndis") == 0 ? NULL : "not ncm, ecm or rndis";
}

/* A public key file (rackctl keygen's FILE.pub) or a base64 key. */
static const char *
valid_trusted_key(const char *s)
{
	static char why[CONFIG_ERR_MAX / 2];
	uint8_t pk[SIGN_PUBLIC_LEN];

	if (sign_load_public(s, pk, why, sizeof(why)) != 0)
		return why;
	return NULL;
}

/* An image source: an http:// or https:// base URL of no spaces. */
static const char *
valid_source(const char *s)
{
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return "not an http:// or https:// URL";
	if (strlen(s) > URL_MAX / 2)
		return "URL too long";
	for (const char *c = s; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return "a control character in the URL";
	return NULL;
}

/* An image_subscribe pattern: NAME or NAME:GLOB, NAME without a glob. */
static const char *
valid_subscribe(const char *s)
{
	size_t n = strcspn(s, ":");

	if (valid_word(s) != NULL)
		return valid_word(s);
	if (n == 0 || strcspn(s, "*?[]") < n)
		return "not NAME or NAME:GLOB (the name without * ? [ ])";
	return s[n] == ':' && s[n + 1] == '\0' ? "the glob after ':' is "
	    "empty" : NULL;
}

int
config_parse_window(const char *s, int *from, int *to)
{
	int h1, m1, h2, m2;

	if (strlen(s) != 11 || s[2] != ':' || s[5] != '-' || s[8] != ':')
		return -1;
	for (int i = 0; i < 11; i++)
		if (i != 2 && i != 5 && i != 8 && !isdigit((unsigned char)s[i]))
			return -1;
	if (sscanf(s, "%2d:%2d-%2d:%2d", &h1, &m1, &h2, &m2) != 4 ||
	    h1 > 23 || m1 > 59 || h2 > 23 || m2 > 59)
		return -1;
	*from = h1 * 60 + m1;
	*to = h2 * 60 + m2;
	return 0;
}

int
config_window_open(int from, int to, int minute)
{
	if (from == to)
		return 1;		/* the whole day */
	if (from < to)
		return minute >= from && minute < to;
	return minute >= from || minute < to;	/* over midnight */
}

/* Replace a string option's value with a copy of value. */
static int
set_string(void *field, const char *value, char *err, size_t errlen)
{
	char *copy;

	if ((copy = strdup(value)) == NULL) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	free(*(char **)field);
	*(char **)field = copy;
	return 0;
}

/*
 * The numeric types: the unit suffixes each takes, and the words an error
 * names its range with ("'X' is not WHAT from MIN<LO> to MAX<HI><TAIL>").
 */
struct number_type {
	const char		*units;
	const long long		*mult;
	const char		*what, *lo, *hi, *tail;
};

static const long long size_mult[] = { 1LL << 10, 1LL << 20, 1LL << 30 };
static const long long time_mult[] = { 1, 60, 3600, 86400 };

static const struct number_type number_types[] = {
	[T_INT] = { "", NULL, "a number", "", "", "" },
	[T_SIZE] = { "KMG", size_mult, "a size", "", " bytes",
	    " (suffix K, M or G)" },
	[T_DURATION] = { "SMHD", time_mult, "a time", "s", "s",
	    " (suffix s, m, h or d)" },
};

/* Set a T_INT, T_SIZE (a size_t) or T_DURATION (seconds in an int). */
static int
set_number(void *field, const struct option_def *o, const char *value,
    char *err, size_t errlen)
{
	const struct number_type *t = &number_types[o->type];
	long long v;

	if (parse_scaled(value, t->units, t->mult, &v) != 0 || v < o->min ||
	    v > o->max) {
		set_err(err, errlen, "'%s' is not %s from %lld%s to %lld%s%s",
		    value, t->what, o->min, t->lo, o->max, t->hi, t->tail);
		return -1;
	}
	if (strcmp(o->name, "console_speed") == 0 &&
	    config_tty_speed((int)v) == 0) {
		set_err(err, errlen, "'%s' is not a speed termios knows "
		    "(9600, 19200, 38400, 57600, 115200, 230400, ...)", value);
		return -1;
	}
	if (strcmp(o->name, "pull_rate") == 0 && v != 0 && v < 64 * 1024) {
		set_err(err, errlen, "'%s': 0 (no limit) or at least 64K",
		    value);
		return -1;
	}
	if (o->type == T_SIZE)
		*(size_t *)field = (size_t)v;
	else
		*(int *)field = (int)v;
	return 0;
}

/* Set a T_LIST or T_SLOTS option, each item checked by its option's rule. */
static int
set_list(void *field, const struct option_def *o, const char *value,
    char *err, size_t errlen)
{
	const char *(*check)(const char *) = valid_word;
	char why[CONFIG_WHY_MAX];

	if (o->type == T_SLOTS)
		check = valid_slot;
	else if (strcmp(o->name, "link_slots") == 0)
		check = valid_map;
	else if (strcmp(o->name, "console_slots") == 0)
		check = valid_console_map;
	else if (strcmp(o->name, "gadget") == 0)
		check = valid_gadget;
	else if (strcmp(o->name, "trusted_keys") == 0)
		check = valid_trusted_key;
	else if (strcmp(o->name, "image_sources") == 0)
		check = valid_source;
	else if (strcmp(o->name, "image_subscribe") == 0)
		check = valid_subscribe;
	if (parse_list(value, (struct strlist *)field, check, why,
	    sizeof(why)) != 0) {
		set_err(err, errlen, "%s", why);
		return -1;
	}
	return 0;
}

/* Set one option from its text; on error fill err and return -1. */
static int
option_set(struct config *cfg, const struct option_def *o, const char *value,
    char *err, size_t errlen)
{
	void *field = (char *)cfg + o->offset;
	int b;

	switch (o->type) {
	case T_STR:
		if (strlen(value) > CONFIG_VALUE_MAX) {
			set_err(err, errlen, "value longer than %d bytes",
			    CONFIG_VALUE_MAX);
			return -1;
		}
		/* min: shortest non-empty value (api_token, as auth.c wants) */
		if (value[0] != '\0' && strlen(value) < (size_t)o->min) {
			set_err(err, errlen, "shorter than %lld characters",
			    o->min);
			return -1;
		}
		if (strcmp(o->name, "image_subscribe_window") == 0 &&
		    value[0] != '\0' && config_parse_window(value, &b, &b) !=
		    0) {
			set_err(err, errlen, "'%s' is not HH:MM-HH:MM (local "
			    "time, 00:00-23:59)", value);
			return -1;
		}
		return set_string(field, value, err, errlen);
	case T_LISTEN: {
		struct sockaddr_storage ss;
		socklen_t sl;
		char why[CONFIG_WHY_MAX];
		if (config_parse_listen(value, &ss, &sl, why,
		    sizeof(why)) != 0) {
			set_err(err, errlen, "%s", why);
			return -1;
		}
		return set_string(field, value, err, errlen);
	}
	case T_BOOL:
		if (parse_bool(value, &b) != 0) {
			set_err(err, errlen, "'%s' is not yes or no",
			    value);
			return -1;
		}
		*(int *)field = b;
		return 0;
	case T_INT:
	case T_SIZE:
	case T_DURATION:
		return set_number(field, o, value, err, errlen);
	case T_CIDR: {
		uint32_t net;
		int prefix;
		if (config_parse_cidr(value, &net, &prefix) != 0) {
			set_err(err, errlen, "'%s' is not an IPv4 network "
			    "ADDR/PREFIX (prefix 8-30, no host bits)", value);
			return -1;
		}
		return set_string(field, value, err, errlen);
	}
	case T_LIST:
	case T_SLOTS:
		return set_list(field, o, value, err, errlen);
	}
	set_err(err, errlen, "%s: unknown type", o->name);
	return -1;
}

static const struct option_def *
option_find(const char *name)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	return NULL;
}

int
strlist_equal(const struct strlist *a, const struct strlist *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

void
strlist_clear(struct strlist *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

void
config_free(struct config *cfg)
{
	for (size_t i = 0; i < NOPTIONS; i++) {
		void *field = (char *)cfg + options[i].offset;
		if (options[i].type == T_STR || options[i].type == T_LISTEN ||
		    options[i].type == T_CIDR) {
			free(*(char **)field);
			*(char **)field = NULL;
		} else if (options[i].type == T_SLOTS ||
		    options[i].type == T_LIST)
			strlist_clear((struct strlist *)field);
	}
	json_decref(cfg->power);
	cfg->power = NULL;
}

static void
config_defaults(struct config *cfg)
{
	char err[CONFIG_ERR_MAX];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NOPTIONS; i++)
		if (option_set(cfg, &options[i], layout_default(
		    options[i].name, options[i].defval), err,
		    sizeof(err)) != 0)
			fatalx("built-in default: %s", err);
}

struct ini_ctx {
	struct config	*cfg;
	FILE		*fp;
	int		 line;		/* of the last line read */
	int		 err_line;
	char		 err[CONFIG_ERR_MAX];
	int		 failed;
	unsigned char	 seen[NOPTIONS];
};

static void
ini_fail(struct ini_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ini_fail(struct ini_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	ctx->failed = 1;
	ctx->err_line = ctx->line;
}

/* inih's reader: whole lines; a line longer than inih takes is an error
 * here rather than two lines there. */
static char *
read_line(char *str, int num, void *stream)
{
	struct ini_ctx *ctx = stream;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (ctx->failed || (n = getline(&line, &cap, ctx->fp)) < 0) {
		free(line);
		return NULL;
	}
	ctx->line++;
	if (n >= num) {
		ini_fail(ctx, "line longer than %d characters (a list may "
		    "go on over several lines of the same name)", num - 2);
		free(line);
		return NULL;
	}
	memcpy(str, line, (size_t)n + 1);
	free(line);
	return str;
}

/* A list named again (or continued on an indented line) grows. */
static int
list_append(struct config *cfg, const struct option_def *o, const char *value,
    char *why, size_t len)
{
	struct strlist *l = (struct strlist *)((char *)cfg + o->offset), more;
	int rc;

	memset(&more, 0, sizeof(more));
	memcpy(&more, l, sizeof(more));		/* keep what is there */
	memset(l, 0, sizeof(*l));
	rc = option_set(cfg, o, value, why, len);
	if (rc == 0 && more.n + l->n > SLOTS_MAX) {
		snprintf(why, len, "more than %d items", SLOTS_MAX);
		rc = -1;
	}
	if (rc != 0) {
		strlist_clear(l);
		memcpy(l, &more, sizeof(more));
		return -1;
	}
	for (int i = 0; i < l->n; i++)
		more.v[more.n++] = l->v[i];
	memcpy(l, &more, sizeof(more));
	return 0;
}

/* A name = value of a [power.SLOT] section, kept as text: power.c checks
 * the slot's settings (power_config_check) once the file is read. */
static int
power_entry(struct ini_ctx *ctx, const char *slot, const char *name,
    const char *value)
{
	json_t *sec;
	size_t n = strlen(name);

	if (!slot_name_valid(slot)) {
		ini_fail(ctx, "[power.%.*s]: not a slot name", SLOT_NAME_MAX,
		    slot);
		return 0;
	}
	if (n == 0 || n > OPTION_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != n) {
		ini_fail(ctx, "[power.%s]: '%.*s' is not a key name (a-z, "
		    "0-9, _)", slot, OPTION_NAME_MAX, name);
		return 0;
	}
	if (strlen(value) > POWER_VALUE_MAX) {
		ini_fail(ctx, "[power.%s] %s: longer than %d characters",
		    slot, name, POWER_VALUE_MAX);
		return 0;
	}
	if (ctx->cfg->power == NULL && (ctx->cfg->power = json_object()) ==
	    NULL) {
		ini_fail(ctx, "out of memory");
		return 0;
	}
	if ((sec = json_object_get(ctx->cfg->power, slot)) == NULL) {
		if ((sec = json_object()) == NULL ||
		    json_object_set_new(ctx->cfg->power, slot, sec) != 0) {
			ini_fail(ctx, "out of memory");
			return 0;
		}
	}
	if (json_object_get(sec, name) != NULL) {
		ini_fail(ctx, "[power.%s] %s: given twice", slot, name);
		return 0;
	}
	if (json_object_size(sec) >= POWER_KEYS_MAX) {
		ini_fail(ctx, "[power.%s]: more than %d keys", slot,
		    POWER_KEYS_MAX);
		return 0;
	}
	if (json_object_set_new(sec, name, json_string(value)) != 0) {
		ini_fail(ctx, "[power.%s] %s: not UTF-8 text", slot, name);
		return 0;
	}
	return 1;
}

static int
ini_entry(void *user, const char *section, const char *name,
    const char *value)
{
	struct ini_ctx *ctx = user;
	const struct option_def *o;
	char why[CONFIG_ERR_MAX - 64];
	int rc;

	if (ctx->failed)
		return 0;
	if (strncmp(section, "power.", 6) == 0)
		return power_entry(ctx, section + 6, name, value);
	if (section[0] != '\0' && strcmp(section, "rackd") != 0) {
		ini_fail(ctx, "unknown section [%s]", section);
		return 0;
	}
	if ((o = option_find(name)) == NULL || (o->flags & F_CLI)) {
		ini_fail(ctx, "unknown option '%s'", name);
		return 0;
	}
	if ((o->type == T_LIST || o->type == T_SLOTS) &&
	    ctx->seen[o - options])
		rc = list_append(ctx->cfg, o, value, why, sizeof(why));
	else
		rc = option_set(ctx->cfg, o, value, why, sizeof(why));
	if (rc != 0) {
		ini_fail(ctx, "%s: %s", name, why);
		return 0;
	}
	ctx->seen[o - options] = 1;
	return 1;
}

int
config_read_file(struct config *cfg, const char *path, char *err,
    size_t errlen)
{
	struct ini_ctx ctx = { .cfg = cfg };
	int line;

	if ((ctx.fp = fopen(path, "re")) == NULL) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Stop at the first error, so that the line inih returns and the
	 * message in ctx are about the same error (Debian's libinih). */
	ini_stop_on_first_error = 1;
	line = ini_parse_stream(read_line, &ctx, ini_entry, &ctx);
	fclose(ctx.fp);
	if (line < 0) {
		set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if (ctx.failed) {
		set_err(err, errlen, "%s:%d: %s", path, ctx.err_line, ctx.err);
		return -1;
	}
	if (line > 0) {
		set_err(err, errlen, "%s:%d: syntax error (expected name = "
		    "value)", path, line);
		return -1;
	}
	return 0;
}

/* Long option name on the command line: state_dir -> state-dir. */
static void
cli_name(const char *name, char *buf, size_t len)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < len; i++)
		buf[i] = name[i] == '_' ? '-' : name[i];
	buf[i] = '\0';
}

int
config_load(struct config *cfg, int argc, char **argv, char *err,
    size_t errlen)
{
	static char lnames[NOPTIONS][40];
	struct option lopts[NOPTIONS + 3];
	char shorts[3 * NOPTIONS + 8], *sp = shorts;
	const char *cli_val[NOPTIONS];
	int c, idx;

	config_defaults(cfg);
	memset(cli_val, 0, sizeof(cli_val));
	*sp++ = ':';
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct option_def *o = &options[i];
		cli_name(o->name, lnames[i], sizeof(lnames[i]));
		lopts[i].name = lnames[i];
		lopts[i].has_arg = o->type == T_BOOL ?
		    ((o->flags & F_FLAG) ? no_argument : optional_argument) :
		    required_argument;
		lopts[i].flag = NULL;
		lopts[i].val = 256 + (int)i;
		if (o->short_opt) {
			*sp++ = (char)o->short_opt;
			if (lopts[i].has_arg == required_argument)
				*sp++ = ':';
		}
	}
	lopts[NOPTIONS] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[NOPTIONS + 1] =
	    (struct option){ "version", no_argument, NULL, 'V' };
	lopts[NOPTIONS + 2] = (struct option){ NULL, 0, NULL, 0 };
	*sp++ = 'h';
	*sp++ = 'V';
	*sp = '\0';

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lopts, &idx)) != -1) {
		const struct option_def *o = NULL;
		size_t i;

		if (c == 'h') {
			cfg->show_help = 1;
			return 0;
		}
		if (c == 'V') {
			cfg->show_version = 1;
			return 0;
		}
		if (c == '?' || c == ':') {
			const char *what = argv[optind - 1];
			set_err(err, errlen, c == '?' ?
			    "unknown option '%s' (see --help)" :
			    "option '%s' needs a value", what);
			return -1;
		}
		if (c >= 256)
			i = (size_t)(c - 256);
		else
			for (i = 0; i < NOPTIONS; i++)
				if (options[i].short_opt == c)
					break;
		if (i >= NOPTIONS)
			continue;
		o = &options[i];
		if (o->type == T_BOOL)
			cli_val[i] = optarg ? optarg : "yes";
		else
			cli_val[i] = optarg;
	}
	if (optind < argc) {
		set_err(err, errlen, "unexpected argument '%s' (see --help)",
		    argv[optind]);
		return -1;
	}

	/* -c first: the file sits between the defaults and the command line. */
	if (cli_val[0] != NULL && cli_val[0][0] != '\0') {
		if (option_set(cfg, &options[0], cli_val[0], err, errlen) != 0)
			return -1;
		if (config_read_file(cfg, cfg->config_file, err, errlen) != 0)
			return -1;
	}
	for (size_t i = 1; i < NOPTIONS; i++) {
		char why[CONFIG_WHY_MAX], name[OPTION_NAME_MAX];
		if (cli_val[i] == NULL)
			continue;
		if (option_set(cfg, &options[i], cli_val[i], why,
		    sizeof(why)) != 0) {
			cli_name(options[i].name, name, sizeof(name));
			set_err(err, errlen, "--%s: %s", name, why);
			return -1;
		}
	}
	return 0;
}

void
config_apply_reload(struct config *cur, struct config *next)
{
	json_t *power = cur->power;

	/* [power.SLOT] sections: always reloaded (power_config_use). */
	cur->power = next->power;
	next->power = power;
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct option_def *o = &options[i];
		char *a = (char *)cur + o->offset;
		char *b = (char *)next + o->offset;
		size_t sz;
		int same;

		if (o->flags & F_CLI)
			continue;
		switch (o->type) {
		case T_STR:
		case T_LISTEN:
		case T_CIDR:
			same = strcmp(*(char **)a, *(char **)b) == 0;
			sz = sizeof(char *);
			break;
		case T_SLOTS:
		case T_LIST:
			same = strlist_equal((struct strlist *)a,
			    (struct strlist *)b);
			sz = sizeof(struct strlist);
			break;
		case T_SIZE:
			sz = sizeof(size_t);
			same = memcmp(a, b, sz) == 0;
			break;
		default:
			sz = sizeof(int);
			same = memcmp(a, b, sz) == 0;
			break;
		}
		if (!(o->flags & F_RELOAD)) {
			if (!same)
				log_warnx("reload: %s changed; it takes effect "
				    "at the next start", o->name);
			continue;
		}
		if (same)
			continue;
		/*
		 * Swap so that next (freed by the caller) holds the old
		 * value.
		 */
		char tmp[sizeof(struct strlist)];
		memcpy(tmp, a, sz);
		memcpy(a, b, sz);
		memcpy(b, tmp, sz);
		log_info("reload: %s changed", o->name);
	}
}

void
config_usage(FILE *fp, const char *prog)
{
	fprintf(fp, "usage: %s [-dnv] [-c FILE] [--OPTION=VALUE ...]\n\n"
	    "The rack controller. Options (also config-file keys, without "
	    "the dashes,\nunderscores for dashes):\n\n", prog);
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct option_def *o = &options[i];
		char name[OPTION_NAME_MAX], left[USAGE_LEFT_MAX];

		cli_name(o->name, name, sizeof(name));
		if (o->short_opt)
			snprintf(left, sizeof(left), "-%c, --%s%s%s",
			    o->short_opt, name, o->metavar ? " " : "",
			    o->metavar ? o->metavar : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", name,
			    o->type == T_BOOL ? "[=yes|no]" : " ",
			    o->metavar ? o->metavar : "");
		const char *def = layout_default(o->name, o->defval);
		const char *inst = layout_installed_default(o->name);
		fprintf(fp, "  %-34s %s", left, o->help);
		if (!(o->flags & F_CLI) && o->type != T_BOOL &&
		    def[0] != '\0')
			fprintf(fp, " [%s]", def);
		else if (!(o->flags & (F_CLI | F_FLAG)) && o->type == T_BOOL)
			fprintf(fp, " [%s]", o->defval);
		if (inst != NULL && strcmp(inst, def) != 0)
			fprintf(fp, " (installed: %s)", inst);
		if (o->flags & F_CLI)
			fprintf(fp, " (command line only)");
		fputc('\n', fp);
	}
	fprintf(fp, "  %-34s %s\n", "-h, --help", "show this help and exit");
	fprintf(fp, "  %-34s %s\n", "-V, --version",
	    "show the version and exit");
	fprintf(fp, "\nSizes take K, M or G; times take s, m, h or d. "
	    "SIGHUP rereads the config file.\nSee rackd(8).\n");
}
