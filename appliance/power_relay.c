/*
 * power_relay.c — the "relay" power method: a USB HID relay board (the
 * common 16c0:05df "USBRelayN" boards) wired across a server's power
 * button, through hidapi's hidraw backend. The board takes an 8-byte
 * feature report (after the report number 0): 0xFF CH closes relay CH,
 * 0xFD CH opens it; reading its feature report gives the board's serial
 * (bytes 0-4) and the relays' state (byte 7), which is read back after
 * each switch. There is no power sense: on is a press, off a long press
 * (the firmware's forced off), cycle a long press, a pause and a press,
 * and there is no status. docs/internals/power_methods.md tells more.
 */
#include <sys/ioctl.h>

#include <linux/hidraw.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <hidapi/hidapi.h>
#include <jansson.h>

#include "appliance/rackd.h"

static const char *const keys[] = { "method", "device", "channel",
	"press_ms", "long_press_ms", NULL };
static const char *const secrets[] = { NULL };

struct relay {
	const char	*device;
	int		 channel;
	int		 press_ms;
	int		 long_ms;
};

/* power_setting_int, in the words of the relay's errors. */
static int
get_int(const json_t *s, const char *key, int def, int min, int max,
    int *out, char *err, size_t errlen)
{
	if (power_setting_int(s, key, def, min, max, out, err, errlen) == 0)
		return 0;
	snprintf(err, errlen, "relay: %s must be a number from %d to %d", key,
	    min, max);
	return -1;
}

/* The serial of "serial:XXXXX", or NULL when device is a path. */
static const char *
serial_of(const char *device)
{
	size_t n = strlen("serial:");

	return strncmp(device, "serial:", n) == 0 ? device + n : NULL;
}

static int
parse(const json_t *s, struct relay *r, char *err, size_t errlen)
{
	const json_t *dev;
	const char *k, *sn;
	json_t *v;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(s)) {
		snprintf(err, errlen, "relay: settings must be an object");
		return -1;
	}
	json_object_foreach((json_t *)s, k, v) {
		int known = 0;

		for (int i = 0; keys[i] != NULL; i++)
			known |= strcmp(k, keys[i]) == 0;
		if (!known) {
			snprintf(err, errlen, "relay: unknown key %.40s (known:"
			    " device, channel, press_ms, long_press_ms)", k);
			return -1;
		}
	}
	dev = json_object_get(s, "device");
	if (!json_is_string(dev)) {
		snprintf(err, errlen, "relay: device is required "
		    "(/dev/hidrawN, or serial:XXXXX of the board)");
		return -1;
	}
	r->device = json_string_value(dev);
	sn = serial_of(r->device);
	if (strlen(r->device) >= RELAY_DEVICE_MAX ||
	    (sn == NULL && strncmp(r->device, "/dev/", strlen("/dev/")) != 0) ||
	    (sn != NULL && (sn[0] == '\0' || strlen(sn) > RELAY_SERIAL_LEN))) {
		snprintf(err, errlen, "relay: device must be /dev/hidrawN or "
		    "serial:XXXXX (the board's serial, at most %d "
		    "characters)", RELAY_SERIAL_LEN);
		return -1;
	}
	if (json_object_get(s, "channel") == NULL) {
		snprintf(err, errlen, "relay: channel is required (1-%d)",
		    RELAY_CHANNELS_MAX);
		return -1;
	}
	if (get_int(s, "channel", 1, 1, RELAY_CHANNELS_MAX, &r->channel, err,
	    errlen) != 0 ||
	    get_int(s, "press_ms", RELAY_PRESS_MS, RELAY_PRESS_MIN_MS,
	    RELAY_PRESS_MAX_MS, &r->press_ms, err, errlen) != 0 ||
	    get_int(s, "long_press_ms", RELAY_LONG_MS, RELAY_LONG_MIN_MS,
	    RELAY_LONG_MAX_MS, &r->long_ms, err, errlen) != 0)
		return -1;
	if (r->long_ms <= r->press_ms) {
		snprintf(err, errlen, "relay: long_press_ms (%d) must be "
		    "longer than press_ms (%d)", r->long_ms, r->press_ms);
		return -1;
	}
	/* A cycle, the longest op, must fit an op's bound. */
	if (r->long_ms + RELAY_CYCLE_PAUSE_MS + r->press_ms + RELAY_SLACK_MS >
	    POWER_TIMEOUT_MS) {
		snprintf(err, errlen, "relay: long_press_ms + %d ms + "
		    "press_ms must stay under %d ms (an operation's bound)",
		    RELAY_CYCLE_PAUSE_MS + RELAY_SLACK_MS, POWER_TIMEOUT_MS);
		return -1;
	}
	return 0;
}

static int
relay_check(const json_t *settings, char *err, size_t errlen)
{
	struct relay r;

	return parse(settings, &r, err, errlen);
}

/* ---- the board --------------------------------------------------- */

static pthread_once_t hid_once = PTHREAD_ONCE_INIT;
static int hid_ok;

static void
hid_start(void)
{
	hid_ok = hid_init() == 0;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The board's feature report: serial (RELAY_SERIAL_LEN bytes, with a
 * final NUL) and relay state. 0, or -1. As usbrelay does, it asks for
 * report 1: the board has no numbered reports, and hidraw then hands
 * the report's first byte back at buf[0]. */
static int
board_read(hid_device *h, char *serial, unsigned *state)
{
	unsigned char buf[RELAY_REPORT_LEN];
	int n;

	memset(buf, 0, sizeof(buf));
	buf[0] = 1;
	n = hid_get_feature_report(h, buf, sizeof(buf));
	if (n < RELAY_STATE_BYTE + 1)
		return -1;
	if (serial != NULL) {
		for (int i = 0; i < RELAY_SERIAL_LEN; i++)
			serial[i] = buf[i] >= ' ' && buf[i] < 0x7f ?
			    (char)buf[i] : '\0';
		serial[RELAY_SERIAL_LEN] = '\0';
	}
	*state = buf[RELAY_STATE_BYTE];
	return 0;
}

static void
hid_why(hid_device *h, char *out, size_t outlen)
{
	const wchar_t *w = hid_error(h);

	if (w == NULL || w[0] == L'\0')
		snprintf(out, outlen, "%s", strerror(errno));
	else
		snprintf(out, outlen, "%ls", w);
}

/* Is path a hidraw device of a relay board? hidapi itself is not told
 * a path that is not: its hid_open_path (0.13) crashes on one. 0, or -1
 * with why in err. */
static int
hidraw_check(const char *path, char *err, size_t errlen)
{
	struct hidraw_devinfo info;
	int fd, size = 0;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "relay %s: cannot open the board (%s%s)",
		    path, strerror(errno), errno == ENOENT ?
		    "; unplugged, or another device name?" : "");
		return -1;
	}
	if (ioctl(fd, HIDIOCGRDESCSIZE, &size) < 0 ||
	    ioctl(fd, HIDIOCGRAWINFO, &info) < 0) {
		snprintf(err, errlen, "relay %s: cannot open the board (not a "
		    "hidraw device)", path);
		close(fd);
		return -1;
	}
	close(fd);
	if ((info.vendor & 0xffff) != RELAY_VID ||
	    (info.product & 0xffff) != RELAY_PID) {
		snprintf(err, errlen, "relay %s: not a USB relay board (USB "
		    "%04x:%04x, want %04x:%04x)", path, info.vendor & 0xffff,
		    info.product & 0xffff, RELAY_VID, RELAY_PID);
		return -1;
	}
	return 0;
}

/* The board of r->device: its path, or the one whose serial it names. */
static hid_device *
board_open(const struct relay *r, char *err, size_t errlen)
{
	struct hid_device_info *all, *d;
	char serial[RELAY_SERIAL_LEN + 1], why[POWER_ERR_MAX];
	hid_device *h = NULL;
	const char *sn;
	unsigned state;
	int seen = 0;

	if ((sn = serial_of(r->device)) == NULL) {
		if (hidraw_check(r->device, err, errlen) != 0)
			return NULL;
		if ((h = hid_open_path(r->device)) == NULL) {
			hid_why(NULL, why, sizeof(why));
			snprintf(err, errlen, "relay %s: cannot open the "
			    "board (%s)", r->device, why);
		}
		return h;
	}
	all = hid_enumerate(RELAY_VID, RELAY_PID);
	for (d = all; d != NULL && h == NULL; d = d->next) {
		hid_device *c = hid_open_path(d->path);

		if (c == NULL)
			continue;
		seen++;
		if (board_read(c, serial, &state) == 0 &&
		    strcmp(serial, sn) == 0)
			h = c;
		else
			hid_close(c);
	}
	hid_free_enumeration(all);
	if (h == NULL)
		snprintf(err, errlen, "relay %s: no board with that serial "
		    "(%d relay board%s found)", r->device, seen,
		    seen == 1 ? "" : "s");
	return h;
}

/* Relay r->channel on or off, then its state read back. 0, or -1. */
static int
board_switch(hid_device *h, const struct relay *r, int on, char *err,
    size_t errlen)
{
	unsigned char buf[RELAY_REPORT_LEN];
	unsigned state, bit = 1u << (r->channel - 1);
	char why[POWER_ERR_MAX];

	memset(buf, 0, sizeof(buf));
	buf[0] = 0;
	buf[1] = on ? RELAY_CMD_ON : RELAY_CMD_OFF;
	buf[2] = (unsigned char)r->channel;
	if (hid_send_feature_report(h, buf, sizeof(buf)) < 0) {
		hid_why(h, why, sizeof(why));
		snprintf(err, errlen, "relay %s: cannot switch channel %d %s "
		    "(%s; board unplugged?)", r->device, r->channel,
		    on ? "on" : "off", why);
		return -1;
	}
	if (board_read(h, NULL, &state) != 0) {
		hid_why(h, why, sizeof(why));
		snprintf(err, errlen, "relay %s: cannot read the board's "
		    "state (%s; board unplugged?)", r->device, why);
		return -1;
	}
	if (((state & bit) != 0) != on) {
		snprintf(err, errlen, "relay %s: channel %d did not switch "
		    "%s (state 0x%02x)", r->device, r->channel,
		    on ? "on" : "off", state);
		return -1;
	}
	return 0;
}

/* Closes the relay for ms, then opens it; it is opened even when closing
 * seemed to fail. */
static int
press(hid_device *h, const struct relay *r, int ms, char *err,
    size_t errlen)
{
	char err2[POWER_ERR_MAX];
	int rc;

	rc = board_switch(h, r, 1, err, errlen);
	if (rc == 0)
		sleep_ms(ms);
	if (board_switch(h, r, 0, err2, sizeof(err2)) != 0) {
		if (rc == 0)
			snprintf(err, errlen, "%s", err2);
		return -1;
	}
	return rc;
}

static int
relay_run(const struct power_target *t, enum power_op op,
    enum power_state *state, char *err, size_t errlen)
{
	struct relay r;
	hid_device *h;
	unsigned now;
	wchar_t product[LABEL_MAX];
	int need, rc = -1, n;

	if (parse(t->settings, &r, err, errlen) != 0)
		return -1;
	switch (op) {
	case POWER_ON:
		need = r.press_ms;
		break;
	case POWER_OFF:
		need = r.long_ms;
		break;
	case POWER_CYCLE:
		need = r.long_ms + RELAY_CYCLE_PAUSE_MS + r.press_ms;
		break;
	default:
		snprintf(err, errlen, "relay: a relay board can only switch "
		    "the power on, off or cycle it (no %s)",
		    op == POWER_STATUS ? "status" : "boot device");
		return -1;
	}
	if (t->timeout_ms > 0 && need + RELAY_SLACK_MS > t->timeout_ms) {
		snprintf(err, errlen, "relay: the presses (%d ms) do not fit "
		    "the operation's bound (%d ms)", need, t->timeout_ms);
		return -1;
	}
	pthread_once(&hid_once, hid_start);
	if (!hid_ok) {
		snprintf(err, errlen, "relay: cannot start hidapi");
		return -1;
	}
	if ((h = board_open(&r, err, errlen)) == NULL)
		return -1;
	if (board_read(h, NULL, &now) != 0) {
		snprintf(err, errlen, "relay %s: the board does not answer "
		    "with its state (not a USBRelay board?)", r.device);
		goto out;
	}
	/* "USBRelay2": a board of 2 relays. */
	if (hid_get_product_string(h, product, LABEL_MAX) == 0 &&
	    swscanf(product, L"USBRelay%d", &n) == 1 && n > 0 &&
	    r.channel > n) {
		snprintf(err, errlen, "relay %s: the board has %d relay%s, "
		    "no channel %d", r.device, n, n == 1 ? "" : "s",
		    r.channel);
		goto out;
	}
	switch (op) {
	case POWER_ON:
		rc = press(h, &r, r.press_ms, err, errlen);
		break;
	case POWER_OFF:
		rc = press(h, &r, r.long_ms, err, errlen);
		break;
	default:
		rc = press(h, &r, r.long_ms, err, errlen);
		if (rc == 0) {
			sleep_ms(RELAY_CYCLE_PAUSE_MS);
			rc = press(h, &r, r.press_ms, err, errlen);
		}
	}
out:
	hid_close(h);
	if (state != NULL)
		*state = POWER_UNKNOWN;
	return rc;
}

const struct power_method power_relay = {
	.name = "relay",
	.caps = POWER_CAN(POWER_ON) | POWER_CAN(POWER_OFF) |
	    POWER_CAN(POWER_CYCLE),
	.secrets = secrets,
	.check = relay_check,
	.run = relay_run,
};
