/*
 * links.c — the link manager. It watches network links through rtnetlink
 * (libmnl), picks out the management links and names each link's slot
 * (the rules are slots.c's), gives each slot its own small subnet from
 * `link_subnet_pool` (stored, so a slot keeps it), has linkconf.c bring
 * the link up with the board's address, records up/down in the database
 * and on /api/v1/events, and tells dnsmasq.c when the set of links
 * changes. links_node_check tells the node at the other end of a slot's
 * link from any other client, for the files only that node may fetch.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "appliance/rackd.h"
#include "db/db.h"

struct iface {
	int	 index;			/* 0: free entry */
	char	 name[IFNAMSIZ];
	int	 managed;
	int	 carrier;
	char	 slot[SLOT_NAME_MAX + 1];
	char	 mac[18];
};

static struct mnl_socket *mon;
static struct iface ifaces[IFACES_MAX];
static uint32_t pool_net;
static int pool_prefix;

/* ---- subnets ----------------------------------------------------------- */

struct used {
	unsigned char	*map;
	uint32_t	 count;
};

static int
mark_used(const struct db_link *l, void *arg)
{
	struct used *u = arg;
	struct in_addr a;
	uint32_t idx;

	if (inet_pton(AF_INET, l->board_addr, &a) != 1)
		return 0;
	idx = (ntohl(a.s_addr) - pool_net) >> (32 - conf.link_prefix);
	if ((ntohl(a.s_addr) & ~(0xffffffffu >> pool_prefix)) == pool_net &&
	    idx < u->count)
		u->map[idx] = 1;
	return 0;
}

/* The slot's stored link, or a new one with the lowest free subnet. */
static int
slot_link(const char *slot, const char *ifname, const char *kind,
    struct db_link *l)
{
	struct used u;
	int rc;

	rc = db_link_get(slot, l);
	if (rc == DB_OK && l->board_addr[0] != '\0') {
		if (strcmp(l->ifname, ifname) != 0 || strcmp(l->kind, kind)) {
			snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
			snprintf(l->kind, sizeof(l->kind), "%s", kind);
			return db_link_save(l) == DB_OK ? 0 : -1;
		}
		return 0;
	}
	if (rc != DB_OK && rc != DB_NOTFOUND)
		return -1;
	u.count = 1u << (conf.link_prefix - pool_prefix);
	if ((u.map = calloc(u.count, 1)) == NULL)
		return -1;
	db_links_each(mark_used, &u);
	memset(l, 0, sizeof(*l));
	for (uint32_t i = 0; i < u.count; i++) {
		if (u.map[i])
			continue;
		subnet_addrs(pool_net, pool_prefix, conf.link_prefix, i,
		    l->board_addr, l->node_addr);
		break;
	}
	free(u.map);
	if (l->board_addr[0] == '\0') {
		log_warnx("link %s: the subnet pool %s is full", ifname,
		    conf.link_subnet_pool);
		return -1;
	}
	snprintf(l->slot, sizeof(l->slot), "%s", slot);
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
	snprintf(l->kind, sizeof(l->kind), "%s", kind);
	snprintf(l->state, sizeof(l->state), "down");
	l->prefix = conf.link_prefix;
	if (db_link_save(l) != DB_OK)
		return -1;
	log_info("slot %s: subnet %s/%d (board %s, node %s)", slot,
	    l->board_addr, l->prefix, l->board_addr, l->node_addr);
	return 0;
}

/* ---- the node of a slot ------------------------------------------------ */

/* The client's IPv4 address as text (IPv4-mapped IPv6 too). */
static int
client_ipv4(struct req *r, char *out, size_t len)
{
	struct sockaddr_storage ss;

	if (http_client_addr(r, &ss) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return inet_ntop(AF_INET,
		    &((struct sockaddr_in *)&ss)->sin_addr, out,
		    (socklen_t)len) ? 0 : -1;
	if (ss.ss_family == AF_INET6) {
		struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			return inet_ntop(AF_INET, &a->s6_addr[12], out,
			    (socklen_t)len) ? 0 : -1;
	}
	return -1;
}

int
links_node_check(struct req *r, const char *slot, struct db_link *link)
{
	char addr[INET_ADDRSTRLEN];

	if (slot == NULL || !slot_name_valid(slot) ||
	    db_link_get(slot, link) != DB_OK) {
		http_reply_error(r, 404, "no such slot: %s", slot ? slot : "");
		return -1;
	}
	if (client_ipv4(r, addr, sizeof(addr)) != 0 ||
	    strcmp(addr, link->node_addr) != 0) {
		log_warnx("%s for slot %s asked for from %s: refused",
		    http_url(r), slot, client_ipv4(r, addr, sizeof(addr)) == 0 ?
		    addr : "?");
		http_reply_error(r, 403, "only the node of slot %s may fetch "
		    "its boot files", slot);
		return -1;
	}
	return 0;
}

int
links_present(const char *ifname)
{
	if (mon == NULL)
		return 1;	/* not managed: as the database says */
	for (int i = 0; i < IFACES_MAX; i++)
		if (ifaces[i].index != 0 && ifaces[i].managed &&
		    strcmp(ifaces[i].name, ifname) == 0)
			return 1;
	return 0;
}

/* ---- link events -------------------------------------------------------- */

static struct iface *
iface_find(int index)
{
	for (int i = 0; i < IFACES_MAX; i++)
		if (ifaces[i].index == index)
			return &ifaces[i];
	return NULL;
}

static void
publish_link(const char *slot)
{
	char owner[SLOT_NAME_MAX + 1];

	nodes_publish(slot);
	if (slot_bmc_of(slot, owner, sizeof(owner)) == 0)
		nodes_publish(owner);	/* its "bmc" changed */
	events_publish("link", json_pack("{s:s,s:o}", "slot", slot, "history",
	    db_link_history(slot, 1)));
}

static void
set_state(struct iface *f, int carrier)
{
	int64_t since = 0;
	int was_down = carrier && db_link_down_since(f->slot, &since) == DB_OK;
	int changed = db_link_set_state(f->slot, carrier ? "up" : "down");

	if (changed == 1) {
		log_info("link %s (slot %s) %s", f->name, f->slot,
		    carrier ? "up" : "down");
		publish_link(f->slot);
		/* A server plugged in that rackd knows nothing of; or one
		 * that may have been swapped for another. */
		if (carrier && slot_bmc_of(f->slot, NULL, 0) != 0) {
			if (inventory_node_new(f->slot) == DB_YES)
				inventory_enrol(f->slot,
				    "a new server's link came up");
			else if (was_down)
				inventory_relinked(f->slot,
				    db_now_ms() - since);
		}
	}
	if (f->carrier && !carrier) {
		struct db_link l;
		/* The server at the other end may be another one next time. */
		if (db_link_get(f->slot, &l) == DB_OK)
			dnsmasq_forget(l.node_addr);
	}
	f->carrier = carrier;
}

static void
link_new(int index, const char *name, unsigned int flags, const char *mac)
{
	struct iface *f = iface_find(index);
	const char *kind = "virtual";
	char ula[INET6_ADDRSTRLEN];
	struct db_link l;
	int carrier = (flags & IFF_LOWER_UP) != 0;

	if (f != NULL && strcmp(f->name, name) != 0) {
		if (f->managed)		/* renamed: treat as gone and new */
			set_state(f, 0);
		memset(f, 0, sizeof(*f));
		f = NULL;
		dnsmasq_changed();
	}
	if (f == NULL) {
		if ((f = iface_find(0)) == NULL) {
			log_warnx("link %s: more than %d links", name,
			    IFACES_MAX);
			return;
		}
		f->index = index;
		snprintf(f->name, sizeof(f->name), "%s", name);
		f->managed = links_is_management(&conf, name, &kind);
		if (!f->managed)
			return;
		if (slot_for_link(&conf, name, f->slot, sizeof(f->slot)) != 0 ||
		    slot_link(f->slot, name, kind, &l) != 0) {
			log_warnx("link %s: cannot give it a slot", name);
			f->managed = 0;
			return;
		}
		log_info("link %s is management link of slot %s", name,
		    f->slot);
		if (!(flags & IFF_UP) && priv_link_up(index) != 0)
			log_warn("link %s: cannot bring it up", name);
		if (priv_addr(index, l.board_addr, l.prefix) != 0)
			log_warn("link %s: cannot set address %s/%d", name,
			    l.board_addr, l.prefix);
		/* An IPv6 prefix too, only so that dnsmasq can advertise it:
		 * iPXE waits some 13 s for a router advertisement before it
		 * fetches its boot script, and none comes on a bare link. */
		slot_ula(&conf, &l, ula, sizeof(ula));
		if (priv_addr(index, ula, 64) != 0)
			log_warn("link %s: cannot set address %s/64", name,
			    ula);
		http_listen_node(l.board_addr);
		dnsmasq_changed();
		publish_link(f->slot);
	}
	if (!f->managed)
		return;
	if (mac[0] != '\0')
		snprintf(f->mac, sizeof(f->mac), "%s", mac);
	/* Brought up once, when it appeared; an operator's "down" stays. */
	if (carrier != f->carrier || carrier)
		set_state(f, carrier);
}

static void
link_del(int index)
{
	struct iface *f = iface_find(index);

	if (f == NULL)
		return;
	if (f->managed) {
		log_info("link %s (slot %s) is gone", f->name, f->slot);
		f->carrier = 1;		/* forget its lease too */
		set_state(f, 0);
		dnsmasq_changed();
	}
	memset(f, 0, sizeof(*f));
}

static int
attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int
msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	char name[IFNAMSIZ] = "", mac[18] = "";

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifm), attr_cb, tb);
	if (tb[IFLA_IFNAME] != NULL &&
	    mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_STRING) >= 0)
		snprintf(name, sizeof(name), "%s",
		    mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_ADDRESS] != NULL &&
	    mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
		const unsigned char *m = mnl_attr_get_payload(tb[IFLA_ADDRESS]);
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
		    m[0], m[1], m[2], m[3], m[4], m[5]);
	}
	if (nlh->nlmsg_type == RTM_DELLINK)
		link_del(ifm->ifi_index);
	else if (name[0] != '\0')
		link_new(ifm->ifi_index, name, ifm->ifi_flags, mac);
	return MNL_CB_OK;
}

static void
on_netlink(int fd, uint32_t events, void *arg)
{
	char buf[LINKS_NL_BUF];
	ssize_t n;

	/* Bounded: the socket is non-blocking; read what is queued. */
	for (int i = 0; i < 256; i++) {
		n = mnl_socket_recvfrom(mon, buf, sizeof(buf));
		if (n < 0) {
			if (errno == ENOBUFS) {
				log_warnx("netlink: events lost; rescanning");
				links_rescan();
				return;
			}
			return;		/* EAGAIN */
		}
		mnl_cb_run(buf, (size_t)n, 0, 0, msg_cb, NULL);
	}
}

/* Ask for every link; the answers arrive through on_netlink. */
void
links_rescan(void)
{
	char buf[LINKS_NL_BUF];
	struct nlmsghdr *nlh;
	struct rtgenmsg *rt;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtgen_family = AF_PACKET;
	if (mnl_socket_sendto(mon, nlh, nlh->nlmsg_len) < 0)
		log_warn("netlink: link dump");
}

int
links_init(char *err, size_t errlen)
{
	int fd;

	if (!conf.manage_links)
		return 0;
	if (config_parse_cidr(conf.link_subnet_pool, &pool_net,
	    &pool_prefix) != 0 || conf.link_prefix < pool_prefix) {
		snprintf(err, errlen, "link_subnet_pool %s does not fit /%d "
		    "subnets", conf.link_subnet_pool, conf.link_prefix);
		return -1;
	}
	if ((mon = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == NULL ||
	    mnl_socket_bind(mon, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "netlink: %s", strerror(errno));
		return -1;
	}
	fd = mnl_socket_get_fd(mon);
	if (loop_add_fd(fd, EPOLLIN, on_netlink, NULL) != 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		return -1;
	}
	links_rescan();
	return 0;
}

void
links_close(void)
{
	if (mon != NULL) {
		loop_del_fd(mnl_socket_get_fd(mon));
		mnl_socket_close(mon);
	}
	mon = NULL;
	linkconf_close();
}
