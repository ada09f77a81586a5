/*
 * power_wol.c — the "wol" power method: a Wake-on-LAN magic packet (six
 * 0xff, then the node's MAC sixteen times) sent by UDP broadcast out of
 * the slot's own link only (IP_PKTINFO with its ifindex, and
 * SO_BINDTODEVICE where rackd may), never out of another. It can only
 * switch on: a sleeping server cannot be asked its state nor switched off.
 * Keys: "broadcast" (an IPv4 address, 255.255.255.255 by default) and
 * "port" (9).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "appliance/rackd.h"

#define WOL_PACKET	(6 + 16 * 6)

static const char *const keys[] = { "method", "broadcast", "port", NULL };

static int
wol_check(const json_t *s, char *err, size_t errlen)
{
	const char *b = power_setting_str(s, "broadcast", "255.255.255.255");
	struct in_addr a;
	const char *key;
	json_t *v;
	int port;

	json_object_foreach((json_t *)s, key, v) {
		int known = 0;
		for (int i = 0; keys[i] != NULL; i++)
			known |= strcmp(keys[i], key) == 0;
		if (!known) {
			snprintf(err, errlen, "unknown key '%s' (broadcast, "
			    "port)", key);
			return -1;
		}
	}
	if (b == NULL || inet_pton(AF_INET, b, &a) != 1) {
		snprintf(err, errlen, "broadcast: an IPv4 address");
		return -1;
	}
	return power_setting_int(s, "port", 9, 1, 65535, &port, err, errlen);
}

static int
parse_mac(const char *s, unsigned char mac[6])
{
	unsigned v[6];
	char end;

	if (s == NULL || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1],
	    &v[2], &v[3], &v[4], &v[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)v[i];
	return 0;
}

static int
wol_run(const struct power_target *t, enum power_op op,
    enum power_state *state, char *err, size_t errlen)
{
	const char *b = power_setting_str(t->settings, "broadcast",
	    "255.255.255.255");
	unsigned char pkt[WOL_PACKET], mac[6];
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct iovec iov = { .iov_base = pkt, .iov_len = sizeof(pkt) };
	struct msghdr msg = { .msg_name = &to, .msg_namelen = sizeof(to),
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
	    .msg_controllen = sizeof(cbuf) };
	struct in_pktinfo *pi;
	struct cmsghdr *cm;
	unsigned ifindex;
	int fd, on = 1, port;
	ssize_t n;

	(void)state;
	if (op != POWER_ON) {
		snprintf(err, errlen, "Wake-on-LAN can only switch on");
		return -1;
	}
	if (t->ifname == NULL || (ifindex = if_nametoindex(t->ifname)) == 0) {
		snprintf(err, errlen, "slot %s has no link to send the wake-up "
		    "on", t->slot);
		return -1;
	}
	if (parse_mac(t->mac, mac) != 0) {
		snprintf(err, errlen, "slot %s: the node's MAC is not known "
		    "yet (it is learnt at its first network boot)", t->slot);
		return -1;
	}
	if (power_setting_int(t->settings, "port", 9, 1, 65535, &port, err,
	    errlen) != 0 || b == NULL ||
	    inet_pton(AF_INET, b, &to.sin_addr) != 1) {
		snprintf(err, errlen, "the wol method's settings are bad");
		return -1;
	}
	to.sin_port = htons((uint16_t)port);
	memset(pkt, 0xff, 6);
	for (int i = 0; i < 16; i++)
		memcpy(pkt + 6 + i * 6, mac, 6);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
	/* Where allowed; IP_PKTINFO below holds it to the link anyway. */
	setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, t->ifname,
	    (socklen_t)strlen(t->ifname));
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	pi = (struct in_pktinfo *)(void *)CMSG_DATA(cm);
	pi->ipi_ifindex = (int)ifindex;
	n = sendmsg(fd, &msg, 0);
	close(fd);
	if (n != (ssize_t)sizeof(pkt)) {
		snprintf(err, errlen, "Wake-on-LAN out of %s: %s", t->ifname,
		    n < 0 ? strerror(errno) : "sent short");
		return -1;
	}
	return 0;
}

const struct power_method power_wol = {
	.name = "wol",
	.caps = POWER_CAN(POWER_ON),
	.secrets = NULL,
	.check = wol_check,
	.run = wol_run,
};
