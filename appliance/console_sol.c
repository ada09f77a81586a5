/*
 * console_sol.c — a console source over IPMI Serial-over-LAN, with
 * FreeIPMI's libipmiconsole, for a slot whose power method is "ipmi" with
 * "sol" set: the BMC's address, port, user, password, cipher suite and
 * privilege are those power settings, its libipmiconsole workaround flags
 * "sol_workarounds" (FreeIPMI's names: opensesspriv,solchannelsupport,...).
 * console.c keeps the console (ring, job log, streams, typing) and calls
 * this file on its tick: a session is made on a work thread (creating the
 * context may resolve a host name) and submitted to libipmiconsole's
 * engine without waiting; console.c then reads and writes its descriptor
 * in its epoll set as it does a tty's, and asks here how the session
 * stands (connecting, connected, or the error). A session that ends or
 * fails is made again after a backoff, SOL_BACKOFF_MIN_MS doubling to
 * SOL_BACKOFF_MAX_MS, back to the least once a session has lasted
 * SOL_STABLE_MS; settings that change (a PATCH, a SIGHUP) end the session
 * and start another at once. The password is copied into the session's
 * own memory only, wiped after use, and never logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <ipmiconsole.h>
#include <sodium.h>

#include "appliance/rackd.h"
#include "db/db.h"

#define SOL_BACKOFF_MIN_MS	2000
#define SOL_BACKOFF_MAX_MS	60000
#define SOL_STABLE_MS		30000	/* connected this long: backoff reset */
#define SOL_SESSION_TIMEOUT_MS	60000	/* a BMC silent this long: error */
#define SOL_KEEPALIVE_MS	15000	/* a quiet session is kept alive */

enum sol_phase { PH_IDLE, PH_STARTING, PH_OPEN };

struct sol {
	struct work	 w;		/* first: the work's address */
	int		 used;
	char		 slot[SLOT_NAME_MAX + 1];
	enum sol_phase	 phase;
	/* what the work thread is given, and gives back (under lock) */
	pthread_mutex_t	 lock;
	int		 busy;		/* on the work thread */
	char		 host[POWER_IPMI_HOST_MAX + sizeof(":65535")];
	char		 user[IPMI_MAX_USER_NAME_LENGTH + 1];
	char		 password[IPMI_2_0_MAX_PASSWORD_LENGTH + 1];
	int		 has_user, has_password;
	int		 priv, cipher;
	unsigned	 workarounds;
	ipmiconsole_ctx_t ctx;
	int		 fd;		/* the session's, for console.c */
	char		 start_err[SOL_ERR_MAX];
	/* the main thread's */
	unsigned char	 digest[crypto_generichash_BYTES];	/* settings */
	enum sol_state	 state;
	char		 addr[POWER_IPMI_HOST_MAX + sizeof(":65535")];
	char		 err[SOL_ERR_MAX];
	int		 attempts;	/* since the last lasting session */
	int64_t		 next_ms;	/* the next try, after a failure */
	int64_t		 since_ms;	/* connected since */
	int		 backoff_ms;
};

static struct sol sols[CONSOLES_MAX];
static void start_work(struct work *);
static int engine_up;

static const struct {
	const char	*name;
	unsigned	 flag;
} workaround_names[] = {
	{ "authcap", IPMICONSOLE_WORKAROUND_AUTHENTICATION_CAPABILITIES },
	{ "intel20", IPMICONSOLE_WORKAROUND_INTEL_2_0_SESSION },
	{ "supermicro20", IPMICONSOLE_WORKAROUND_SUPERMICRO_2_0_SESSION },
	{ "sun20", IPMICONSOLE_WORKAROUND_SUN_2_0_SESSION },
	{ "opensesspriv", IPMICONSOLE_WORKAROUND_OPEN_SESSION_PRIVILEGE },
	{ "integritycheckvalue",
	    IPMICONSOLE_WORKAROUND_NON_EMPTY_INTEGRITY_CHECK_VALUE },
	{ "nochecksumcheck", IPMICONSOLE_WORKAROUND_NO_CHECKSUM_CHECK },
	{ "serialalertsdeferred",
	    IPMICONSOLE_WORKAROUND_SERIAL_ALERTS_DEFERRED },
	{ "solpacketseq",
	    IPMICONSOLE_WORKAROUND_INCREMENT_SOL_PACKET_SEQUENCE },
	{ "solpayloadsize", IPMICONSOLE_WORKAROUND_IGNORE_SOL_PAYLOAD_SIZE },
	{ "solport", IPMICONSOLE_WORKAROUND_IGNORE_SOL_PORT },
	{ "solstatus", IPMICONSOLE_WORKAROUND_SKIP_SOL_ACTIVATION_STATUS },
	{ "solchannelsupport",
	    IPMICONSOLE_WORKAROUND_SKIP_CHANNEL_PAYLOAD_SUPPORT },
};
#define NWORKAROUNDS (sizeof(workaround_names) / sizeof(workaround_names[0]))

int
console_sol_workarounds(const char *list, unsigned *flags, char *err,
    size_t errlen)
{
	const char *p = list;

	*flags = 0;
	if (strlen(list) > SOL_WORKAROUNDS_MAX) {
		snprintf(err, errlen, "\"sol_workarounds\" is longer than %d "
		    "characters", SOL_WORKAROUNDS_MAX);
		return -1;
	}
	while (*p != '\0') {
		size_t len, i;

		p += strspn(p, " ,");
		len = strcspn(p, " ,");
		if (len == 0)
			break;
		for (i = 0; i < NWORKAROUNDS; i++)
			if (strlen(workaround_names[i].name) == len &&
			    strncasecmp(p, workaround_names[i].name, len) == 0)
				break;
		if (i == NWORKAROUNDS) {
			snprintf(err, errlen, "\"sol_workarounds\": no "
			    "workaround \"%.*s\" (FreeIPMI's: authcap, "
			    "intel20, supermicro20, sun20, opensesspriv, "
			    "integritycheckvalue, nochecksumcheck, "
			    "serialalertsdeferred, solpacketseq, "
			    "solpayloadsize, solport, solstatus, "
			    "solchannelsupport)",
			    len > 32 ? 32 : (int)len, p);
			return -1;
		}
		*flags |= workaround_names[i].flag;
		p += len;
	}
	return 0;
}

int
console_sol_wanted(const json_t *settings)
{
	const char *method = power_setting_str(settings, "method", NULL);
	char err[ERR_MAX];
	int on = 0;

	if (method == NULL || strcmp(method, "ipmi") != 0)
		return 0;
	return power_setting_bool(settings, "sol", 0, &on, err,
	    sizeof(err)) == 0 && on;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sol *
sol_new(const char *slot)
{
	for (int i = 0; i < CONSOLES_MAX; i++) {
		struct sol *s = &sols[i];
		int busy;

		if (s->used)
			continue;
		if (!s->w.fn) {		/* never used yet */
			pthread_mutex_init(&s->lock, NULL);
			s->fd = -1;
			s->w.fn = start_work;
		}
		pthread_mutex_lock(&s->lock);
		busy = s->busy;
		pthread_mutex_unlock(&s->lock);
		if (busy)
			continue;
		/* what a start left that its console no longer took */
		if (s->fd >= 0)
			close(s->fd);
		if (s->ctx != NULL)
			ipmiconsole_ctx_destroy(s->ctx);
		s->used = 1;
		snprintf(s->slot, sizeof(s->slot), "%s", slot);
		s->phase = PH_IDLE;
		s->state = SOL_CONNECTING;
		s->err[0] = s->addr[0] = '\0';
		s->attempts = 0;
		s->next_ms = 0;
		s->backoff_ms = SOL_BACKOFF_MIN_MS;
		s->fd = -1;
		s->ctx = NULL;
		memset(s->digest, 0, sizeof(s->digest));
		return s;
	}
	return NULL;
}

/* ---- the work thread: the context and its submission -------------------- */

static void
start_work(struct work *w)
{
	struct sol *s = (struct sol *)w;
	struct ipmiconsole_ipmi_config ic;
	struct ipmiconsole_protocol_config pc;
	struct ipmiconsole_engine_config ec;
	ipmiconsole_ctx_t ctx;

	memset(&ic, 0, sizeof(ic));
	memset(&pc, 0, sizeof(pc));
	memset(&ec, 0, sizeof(ec));
	pthread_mutex_lock(&s->lock);
	ic.username = s->has_user ? s->user : NULL;
	ic.password = s->has_password ? s->password : NULL;
	ic.privilege_level = s->priv;
	ic.cipher_suite_id = s->cipher;
	ic.workaround_flags = s->workarounds;
	pc.session_timeout_len = SOL_SESSION_TIMEOUT_MS;
	pc.retransmission_timeout_len = -1;
	pc.retransmission_backoff_count = -1;
	pc.keepalive_timeout_len = SOL_KEEPALIVE_MS;
	pc.retransmission_keepalive_timeout_len = -1;
	pc.acceptable_packet_errors_count = -1;
	pc.maximum_retransmission_count = -1;
	s->start_err[0] = '\0';
	ctx = ipmiconsole_ctx_create(s->host, &ic, &pc, &ec);
	sodium_memzero(s->password, sizeof(s->password));
	if (ctx == NULL) {
		snprintf(s->start_err, sizeof(s->start_err), "%s",
		    errno == EINVAL ? "the settings are not ones "
		    "libipmiconsole takes" : strerror(errno));
	} else if (ipmiconsole_engine_submit(ctx, NULL, NULL) != 0) {
		snprintf(s->start_err, sizeof(s->start_err), "%s",
		    ipmiconsole_ctx_errormsg(ctx));
		ipmiconsole_ctx_destroy(ctx);
	} else if ((s->fd = ipmiconsole_ctx_fd(ctx)) < 0) {
		snprintf(s->start_err, sizeof(s->start_err), "%s",
		    ipmiconsole_ctx_errormsg(ctx));
		ipmiconsole_ctx_destroy(ctx);
	} else {
		s->ctx = ctx;
	}
	s->busy = 0;
	pthread_mutex_unlock(&s->lock);
}

/* ---- the main thread ----------------------------------------------------- */

/* Why errnum ended or refused the session, in an operator's words; an
 * error not here gets libipmiconsole's own words. */
static const struct {
	int		 errnum;
	const char	*words;
} sol_words[] = {
	{ IPMICONSOLE_ERR_USERNAME_INVALID, "wrong user or password" },
	{ IPMICONSOLE_ERR_PASSWORD_INVALID, "wrong user or password" },
	{ IPMICONSOLE_ERR_K_G_INVALID, "wrong user or password" },
	{ IPMICONSOLE_ERR_PRIVILEGE_LEVEL_INSUFFICIENT,
	    "the user may not log in with the privilege asked for "
	    "(\"privilege\"; some BMCs need \"sol_workarounds\": "
	    "\"opensesspriv\")" },
	{ IPMICONSOLE_ERR_PRIVILEGE_LEVEL_CANNOT_BE_OBTAINED,
	    "the user may not log in with the privilege asked for "
	    "(\"privilege\"; some BMCs need \"sol_workarounds\": "
	    "\"opensesspriv\")" },
	{ IPMICONSOLE_ERR_CIPHER_SUITE_ID_UNAVAILABLE,
	    "does not offer that cipher suite (set another \"cipher_suite\")" },
	{ IPMICONSOLE_ERR_IPMI_2_0_UNAVAILABLE,
	    "does not speak IPMI 2.0, which Serial-over-LAN needs" },
	{ IPMICONSOLE_ERR_SOL_UNAVAILABLE,
	    "offers no Serial-over-LAN (not enabled, or not for this user)" },
	{ IPMICONSOLE_ERR_SOL_INUSE,
	    "Serial-over-LAN is in use by another client" },
	{ IPMICONSOLE_ERR_SOL_STOLEN,
	    "another client took the Serial-over-LAN session" },
	{ IPMICONSOLE_ERR_SOL_REQUIRES_ENCRYPTION, "Serial-over-LAN needs an "
	    "encrypting \"cipher_suite\" (3, 8, 12 or 17)" },
	{ IPMICONSOLE_ERR_SOL_REQUIRES_NO_ENCRYPTION, "Serial-over-LAN needs "
	    "a \"cipher_suite\" without encryption" },
	{ IPMICONSOLE_ERR_BMC_BUSY, "busy" },
	{ IPMICONSOLE_ERR_CONNECTION_TIMEOUT, "no answer" },
	{ IPMICONSOLE_ERR_EXCESS_RETRANSMISSIONS_SENT,
	    "too many lost or bad packets" },
	{ IPMICONSOLE_ERR_EXCESS_ERRORS_RECEIVED,
	    "too many lost or bad packets" },
	{ IPMICONSOLE_ERR_HOSTNAME_INVALID, "unknown host" },
	{ IPMICONSOLE_ERR_SUCCESS, "the Serial-over-LAN session ended" },
};

static void
why(struct sol *s, int errnum)
{
	size_t i;

	for (i = 0; i < sizeof(sol_words) / sizeof(sol_words[0]); i++)
		if (sol_words[i].errnum == errnum) {
			snprintf(s->err, sizeof(s->err), "BMC %s: %s",
			    s->addr, sol_words[i].words);
			return;
		}
	if (errnum == IPMICONSOLE_ERR_SESSION_TIMEOUT)
		snprintf(s->err, sizeof(s->err), "BMC %s: no answer for %d s: "
		    "the session timed out", s->addr,
		    SOL_SESSION_TIMEOUT_MS / 1000);
	else if (errnum == IPMICONSOLE_ERR_BMC_ERROR ||
	    errnum == IPMICONSOLE_ERR_BMC_IMPLEMENTATION)
		snprintf(s->err, sizeof(s->err), "BMC %s: %s (a BMC that needs "
		    "\"sol_workarounds\"?)", s->addr,
		    ipmiconsole_ctx_strerror(errnum));
	else
		snprintf(s->err, sizeof(s->err), "BMC %s: %s", s->addr,
		    ipmiconsole_ctx_strerror(errnum));
}

/* The session is over (console.c has closed its descriptor): its error,
 * and the next try after the backoff. */
static void
sol_ended(struct sol *s, int64_t now)
{
	int errnum = IPMICONSOLE_ERR_SUCCESS;

	if (s->ctx != NULL) {
		errnum = ipmiconsole_ctx_errnum(s->ctx);
		ipmiconsole_ctx_destroy(s->ctx);
		s->ctx = NULL;
	}
	if (s->state == SOL_CONNECTED && now - s->since_ms >= SOL_STABLE_MS) {
		s->backoff_ms = SOL_BACKOFF_MIN_MS;
		s->attempts = 0;
	}
	why(s, errnum);
	s->state = SOL_ERROR;
	s->phase = PH_IDLE;
	s->next_ms = now + s->backoff_ms;
	log_warnx("console of slot %s: %s; again in %d s", s->slot, s->err,
	    s->backoff_ms / 1000);
	s->backoff_ms = s->backoff_ms * 2 > SOL_BACKOFF_MAX_MS ?
	    SOL_BACKOFF_MAX_MS : s->backoff_ms * 2;
}

void
sol_closed(struct sol *s)
{
	if (s->phase == PH_OPEN)
		sol_ended(s, now_ms());
}

/* A failure before there was a session (no address, a refused start). */
static void
no_start(struct sol *s, int64_t now, int log_it)
{
	s->state = SOL_ERROR;
	s->phase = PH_IDLE;
	s->next_ms = now + s->backoff_ms;
	if (log_it)
		log_warnx("console of slot %s: %s", s->slot, s->err);
	s->backoff_ms = s->backoff_ms * 2 > SOL_BACKOFF_MAX_MS ?
	    SOL_BACKOFF_MAX_MS : s->backoff_ms * 2;
}

/* The BMC's address: the settings' "address", else its BMC link's
 * lease, as the ipmi power method takes it. */
static int
bmc_address(struct sol *s, const json_t *set, char *out, size_t len)
{
	const char *a = power_setting_str(set, "address", NULL);
	char bmc[SLOT_NAME_MAX + 8];
	struct db_link link;

	if (a != NULL && a[0] != '\0') {
		snprintf(out, len, "%s", a);
		return 0;
	}
	if (snprintf(bmc, sizeof(bmc), "%s" SLOT_BMC_SUFFIX, s->slot) <
	    (int)sizeof(bmc) && db_link_get(bmc, &link) == DB_OK &&
	    link.node_addr[0] != '\0') {
		snprintf(out, len, "%s", link.node_addr);
		return 0;
	}
	return -1;
}

/* The settings' digest, with the address they resolve to. */
static void
digest_of(const json_t *set, const char *addr, unsigned char *out)
{
	crypto_generichash_state st;
	char *text = json_dumps(set, JSON_SORT_KEYS | JSON_COMPACT);

	crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES);
	if (text != NULL) {
		crypto_generichash_update(&st, (unsigned char *)text,
		    strlen(text));
		sodium_memzero(text, strlen(text));
		free(text);
	}
	crypto_generichash_update(&st, (const unsigned char *)addr,
	    strlen(addr) + 1);
	crypto_generichash_final(&st, out, crypto_generichash_BYTES);
}

/* Fill in what the work thread needs; -1 with s->err when it cannot. */
static int
prepare(struct sol *s, const json_t *set, const char *addr)
{
	const char *user = power_setting_str(set, "user", NULL);
	const char *pw = power_setting_str(set, "password", NULL);
	const char *wa = power_setting_str(set, "sol_workarounds", "");
	const char *priv = power_setting_str(set, "privilege", "admin");
	int port = POWER_IPMI_PORT, cipher = POWER_IPMI_CIPHER;
	char err[ERR_MAX];
	unsigned flags;

	if (power_setting_int(set, "port", POWER_IPMI_PORT, 1, 65535, &port,
	    err, sizeof(err)) != 0 || power_setting_int(set, "cipher_suite",
	    POWER_IPMI_CIPHER, 0, 17, &cipher, err, sizeof(err)) != 0 ||
	    console_sol_workarounds(wa != NULL ? wa : "", &flags, err,
	    sizeof(err)) != 0) {
		snprintf(s->err, sizeof(s->err), "%.200s", err);
		return -1;
	}
	if (port == POWER_IPMI_PORT)
		snprintf(s->addr, sizeof(s->addr), "%s", addr);
	else
		snprintf(s->addr, sizeof(s->addr), "%s:%d", addr, port);
	pthread_mutex_lock(&s->lock);
	snprintf(s->host, sizeof(s->host), "%s", s->addr);
	s->has_user = user != NULL && user[0] != '\0';
	snprintf(s->user, sizeof(s->user), "%s", s->has_user ? user : "");
	s->has_password = pw != NULL;
	snprintf(s->password, sizeof(s->password), "%s", pw != NULL ? pw : "");
	s->priv = priv != NULL && strcasecmp(priv, "operator") == 0 ?
	    IPMICONSOLE_PRIVILEGE_OPERATOR : IPMICONSOLE_PRIVILEGE_ADMIN;
	s->cipher = cipher;
	s->workarounds = flags;
	s->fd = -1;
	s->busy = 1;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int
engine_start(struct sol *s)
{
	if (engine_up)
		return 0;
	if (ipmiconsole_engine_init(1, 0) != 0) {
		snprintf(s->err, sizeof(s->err), "libipmiconsole's engine did "
		    "not start: %s", strerror(errno));
		return -1;
	}
	engine_up = 1;
	return 0;
}

/* The work thread is done: the session's descriptor, or its error. */
static int
started(struct sol *s, int64_t now, int *fd)
{
	int busy, sfd;

	pthread_mutex_lock(&s->lock);
	busy = s->busy;
	sfd = s->fd;
	if (!busy && sfd < 0)
		snprintf(s->err, sizeof(s->err), "BMC %s: %.140s", s->addr,
		    s->start_err);
	s->fd = -1;
	pthread_mutex_unlock(&s->lock);
	if (busy)
		return SOL_STEP_NONE;
	if (sfd < 0) {
		no_start(s, now, 1);
		return SOL_STEP_NONE;
	}
	if (fcntl(sfd, F_SETFL, fcntl(sfd, F_GETFL) | O_NONBLOCK) != 0 ||
	    fcntl(sfd, F_SETFD, FD_CLOEXEC) != 0)
		log_warn("console of slot %s: SOL descriptor", s->slot);
	s->phase = PH_OPEN;
	*fd = sfd;
	return SOL_STEP_OPEN;
}

int
sol_step(struct sol *s, const json_t *set, int *fd)
{
	int64_t now = now_ms();
	unsigned char d[crypto_generichash_BYTES];
	char addr[POWER_IPMI_HOST_MAX + 1];
	int have = bmc_address(s, set, addr, sizeof(addr)) == 0;

	digest_of(set, have ? addr : "", d);
	if (memcmp(d, s->digest, sizeof(d)) != 0) {
		/* new settings: a new session, at once */
		memcpy(s->digest, d, sizeof(d));
		s->backoff_ms = SOL_BACKOFF_MIN_MS;
		s->attempts = 0;
		s->next_ms = 0;
		if (s->phase == PH_OPEN) {
			log_info("console of slot %s: SOL settings changed",
			    s->slot);
			return SOL_STEP_CLOSE;
		}
	}
	switch (s->phase) {
	case PH_STARTING:
		return started(s, now, fd);
	case PH_OPEN:
		if (s->state == SOL_CONNECTING) {
			ipmiconsole_ctx_status_t st =
			    ipmiconsole_ctx_status(s->ctx);
			if (st == IPMICONSOLE_CTX_STATUS_SOL_ESTABLISHED) {
				s->state = SOL_CONNECTED;
				s->since_ms = now;
				s->err[0] = '\0';
				log_info("console of slot %s: SOL to BMC %s "
				    "established", s->slot, s->addr);
			} else if (st == IPMICONSOLE_CTX_STATUS_SOL_ERROR ||
			    st == IPMICONSOLE_CTX_STATUS_ERROR)
				return SOL_STEP_CLOSE;
		}
		return SOL_STEP_NONE;
	case PH_IDLE:
		break;
	}
	if (now < s->next_ms)
		return SOL_STEP_NONE;
	if (!have) {
		int again = strncmp(s->err, "no BMC address", 14) != 0;
		snprintf(s->err, sizeof(s->err), "no BMC address: set "
		    "\"address\" in its power settings, or give slot %s a BMC "
		    "link", s->slot);
		no_start(s, now, again);
		return SOL_STEP_NONE;
	}
	if (engine_start(s) != 0 || prepare(s, set, addr) != 0) {
		no_start(s, now, 1);
		return SOL_STEP_NONE;
	}
	s->attempts++;
	s->state = SOL_CONNECTING;
	s->phase = PH_STARTING;
	log_info("console of slot %s: SOL to BMC %s, try %d", s->slot,
	    s->addr, s->attempts);
	work_submit(&s->w);
	return SOL_STEP_NONE;
}

void
sol_retry_now(struct sol *s)
{
	/* at once, once: the backoff after it goes on doubling */
	if (s->phase == PH_IDLE)
		s->next_ms = 0;
}

void
sol_free(struct sol *s)
{
	int busy;

	if (s == NULL || !s->used)
		return;
	pthread_mutex_lock(&s->lock);
	busy = s->busy;
	pthread_mutex_unlock(&s->lock);
	/* A start still on the work thread: its outcome is dropped when
	 * the entry is used again (or at console_close, after work_stop). */
	if (!busy && s->phase == PH_STARTING) {
		pthread_mutex_lock(&s->lock);
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		pthread_mutex_unlock(&s->lock);
	}
	if (s->ctx != NULL)
		ipmiconsole_ctx_destroy(s->ctx);
	s->ctx = NULL;
	s->phase = PH_IDLE;
	s->used = 0;
}

/* After work_stop: nothing runs on a work thread any more. */
void
sol_close_all(void)
{
	for (int i = 0; i < CONSOLES_MAX; i++) {
		struct sol *s = &sols[i];
		if (!s->w.fn)
			continue;
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		if (s->ctx != NULL)
			ipmiconsole_ctx_destroy(s->ctx);
		s->ctx = NULL;
		s->used = 0;
		s->phase = PH_IDLE;
	}
	if (engine_up)
		ipmiconsole_engine_teardown(0);
	engine_up = 0;
}

const char *
sol_state_name(enum sol_state st)
{
	switch (st) {
	case SOL_CONNECTED:
		return "connected";
	case SOL_ERROR:
		return "error";
	default:
		return "connecting";
	}
}

json_t *
sol_json(const struct sol *s)
{
	int64_t now = now_ms();
	json_t *o;

	/* a session being made again still shows why the last one failed */
	o = json_pack("{s:s,s:s,s:s?,s:s?,s:i}", "source", "sol", "state",
	    sol_state_name(s->state), "bmc", s->addr[0] ? s->addr : NULL,
	    "error", s->state != SOL_CONNECTED && s->err[0] ? s->err : NULL,
	    "attempts", s->attempts);
	if (o != NULL && s->state == SOL_ERROR && s->phase == PH_IDLE)
		json_object_set_new(o, "retry_in_ms", json_integer(
		    s->next_ms > now ? s->next_ms - now : 0));
	return o;
}
