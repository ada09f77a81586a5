/*
 * linkconf.c — the privileged half of link management: bring a link up and
 * give it the board's address, through rtnetlink (libmnl). This is the only
 * place that changes the network configuration; links.c decides what.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "appliance/rackd.h"

#define NL_BUF_SIZE	8192

static struct mnl_socket *nl;
static unsigned int seq;

static int
ensure_socket(void)
{
	if (nl != NULL)
		return 0;
	if ((nl = mnl_socket_open(NETLINK_ROUTE)) == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		nl = NULL;
		return -1;
	}
	seq = (unsigned int)time(NULL);
	return 0;
}

/* Send one request and wait for its acknowledgement; -1 with errno. */
static int
talk(struct nlmsghdr *nlh)
{
	char buf[NL_BUF_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int rc;

	nlh->nlmsg_seq = ++seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -1;
	rc = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL);
	return rc < 0 ? -1 : 0;
}

int
linkconf_up(int ifindex)
{
	char buf[NL_BUF_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (ensure_socket() != 0)
		return -1;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = IFF_UP;
	return talk(nlh);
}

/* An IPv4 or IPv6 address on a link (IPv6 without duplicate detection:
 * the link is the board's alone). */
int
linkconf_addr(int ifindex, const char *addr, int prefix)
{
	char buf[NL_BUF_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct in_addr a, brd;
	struct in6_addr a6;
	int v6 = strchr(addr, ':') != NULL;

	if (v6 ? inet_pton(AF_INET6, addr, &a6) != 1 :
	    inet_pton(AF_INET, addr, &a) != 1) {
		errno = EINVAL;
		return -1;
	}
	if (ensure_socket() != 0)
		return -1;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = v6 ? AF_INET6 : AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)ifindex;
	if (v6) {
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put(nlh, IFA_LOCAL, sizeof(a6), &a6);
		mnl_attr_put(nlh, IFA_ADDRESS, sizeof(a6), &a6);
		return talk(nlh);
	}
	mnl_attr_put_u32(nlh, IFA_LOCAL, a.s_addr);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, a.s_addr);
	if (prefix < 31) {
		brd.s_addr = a.s_addr | htonl(0xffffffffu >> prefix);
		mnl_attr_put_u32(nlh, IFA_BROADCAST, brd.s_addr);
	}
	return talk(nlh);
}

void
linkconf_close(void)
{
	if (nl != NULL)
		mnl_socket_close(nl);
	nl = NULL;
}
