/*
 * slots.c — the rules of identity by slot, kept apart from the netlink
 * watcher (links.c) so that each has one owner and can be tested alone:
 * what a slot may be called, which links are management links (a USB
 * network driver of link_drivers or a name in `links`, never one in
 * `uplink`), which slot a link serves (its USB port path from sysfs, a
 * `link_slots` mapping, or its interface name; `NAME=SLOT/bmc` makes it
 * the BMC link of SLOT, slot SLOT.bmc), and the addresses of a slot:
 * its IPv4 subnet of link_subnet_pool and its IPv6 prefix (ULA).
 * Nothing here changes state or reads a global: the answers depend on the
 * configuration given and on sysfs only.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"

int
slot_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SLOT_NAME_MAX || !isalnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("._-", s[i]) == NULL)
			return 0;
	return 1;
}

int
subnet_addrs(uint32_t net, int pool_len, int slot_len, uint32_t index,
    char *board, char *node)
{
	uint32_t size = 1u << (32 - slot_len), base, b, n;
	struct in_addr a;

	if (slot_len < pool_len || slot_len > 31 ||
	    (uint64_t)index >= (1ull << (slot_len - pool_len)))
		return -1;
	base = net + index * size;
	b = slot_len == 31 ? base : base + 1;
	n = b + 1;
	a.s_addr = htonl(b);
	inet_ntop(AF_INET, &a, board, 16);
	a.s_addr = htonl(n);
	inet_ntop(AF_INET, &a, node, 16);
	return 0;
}

/* "1-1.4" from a sysfs device path ending in ".../1-1.4/1-1.4:1.0". */
int
usb_port_from_devpath(const char *path, char *out, size_t len)
{
	const char *last = strrchr(path, '/'), *prev;
	size_t n;

	if (last == NULL || strchr(last + 1, ':') == NULL)
		return -1;
	for (prev = last - 1; prev > path && *prev != '/'; prev--)
		;
	if (*prev == '/')
		prev++;
	n = (size_t)(last - prev);
	if (n == 0 || n >= len || strncmp(prev, last + 1, n) != 0 ||
	    last[1 + n] != ':')
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!(prev[i] >= '0' && prev[i] <= '9') && prev[i] != '-' &&
		    prev[i] != '.')
			return -1;
	memcpy(out, prev, n);
	out[n] = '\0';
	return 0;
}

static int
glob_any(const struct strlist *l, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (fnmatch(l->v[i], name, 0) == 0)
			return 1;
	return 0;
}

/* The driver of a link, from sysfs; "" if none (veth, tap, ...). */
static void
link_driver(const char *ifname, char *out, size_t len)
{
	char path[PATH_MAX_RACKD], target[PATH_MAX];
	const char *base;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver", ifname);
	if (realpath(path, target) == NULL)
		return;
	base = strrchr(target, '/');
	if (snprintf(out, len, "%s", base ? base + 1 : target) >= (int)len)
		out[0] = '\0';
}

static int
link_usb_port(const char *ifname, char *out, size_t len)
{
	char path[PATH_MAX_RACKD], target[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/class/net/%s/device", ifname);
	if (realpath(path, target) == NULL || strstr(target, "/usb") == NULL)
		return -1;
	return usb_port_from_devpath(target, out, len);
}

int
links_is_management(const struct config *c, const char *ifname,
    const char **kind)
{
	char driver[DRIVER_NAME_MAX];

	if (glob_any(&c->uplink, ifname))
		return 0;
	link_driver(ifname, driver, sizeof(driver));
	if (driver[0] != '\0') {
		for (int i = 0; i < c->link_drivers.n; i++)
			if (strcmp(c->link_drivers.v[i], driver) == 0) {
				*kind = "usb";
				return 1;
			}
	}
	if (glob_any(&c->links, ifname)) {
		*kind = driver[0] ? "ether" : "virtual";
		return 1;
	}
	return 0;
}

/* The slot link_slots maps key (a port path or a link name) to, or NULL. */
static const char *
mapped_slot(const struct config *c, const char *key)
{
	for (int i = 0; i < c->link_slots.n; i++) {
		const char *m = c->link_slots.v[i], *eq = strchr(m, '=');
		char k[LINK_SLOTS_KEY_MAX];
		if (eq == NULL || (size_t)(eq - m) >= sizeof(k))
			continue;
		memcpy(k, m, (size_t)(eq - m));
		k[eq - m] = '\0';
		if (fnmatch(k, key, 0) == 0)
			return eq + 1;
	}
	return NULL;
}

int
slot_for_link(const struct config *c, const char *ifname, char *slot,
    size_t len)
{
	char port[USB_PORT_MAX];
	const char *m;

	if (link_usb_port(ifname, port, sizeof(port)) == 0) {
		if ((m = mapped_slot(c, port)) == NULL)
			m = port;
	} else if ((m = mapped_slot(c, ifname)) == NULL)
		m = ifname;
	return slot_map_value(m, slot, len);
}

int
slot_map_value(const char *v, char *slot, size_t len)
{
	const char *bmc = strchr(v, '/');
	char owner[SLOT_NAME_MAX + 1];
	size_t n;

	if (bmc == NULL) {
		if (!slot_name_valid(v) ||
		    snprintf(slot, len, "%s", v) >= (int)len)
			return -1;
		return 0;
	}
	n = (size_t)(bmc - v);
	if (strcmp(bmc, "/bmc") != 0 || n >= sizeof(owner))
		return -1;
	memcpy(owner, v, n);
	owner[n] = '\0';
	if (!slot_name_valid(owner) || slot_bmc_of(owner, NULL, 0) == 0)
		return -1;
	if (snprintf(slot, len, "%s" SLOT_BMC_SUFFIX, owner) >= (int)len ||
	    !slot_name_valid(slot))
		return -1;
	return 0;
}

int
slot_bmc_of(const char *slot, char *owner, size_t len)
{
	size_t n = strlen(slot), k = strlen(SLOT_BMC_SUFFIX);

	if (n <= k || strcmp(slot + n - k, SLOT_BMC_SUFFIX) != 0)
		return -1;
	if (owner == NULL)
		return 0;
	if (n - k >= len)
		return -1;
	memcpy(owner, slot, n - k);
	owner[n - k] = '\0';
	return 0;
}

int
slot_ula(const struct config *c, const struct db_link *l, char *out,
    size_t len)
{
	struct in_addr a;
	uint32_t idx = 0, pool_net;
	int pool_prefix;

	if (config_parse_cidr(c->link_subnet_pool, &pool_net,
	    &pool_prefix) == 0 && inet_pton(AF_INET, l->board_addr, &a) == 1 &&
	    l->prefix > 0 && l->prefix <= 32)
		idx = ((ntohl(a.s_addr) - pool_net) >> (32 - l->prefix)) &
		    0xffff;
	return snprintf(out, len, ULA_PREFIX "%x::1", idx) < (int)len ?
	    0 : -1;
}
