/*
 * tests/unit/test_appliance_slots.c — the rules of identity by slot in
 * appliance/slots.c: per-slot subnets of the pool, the USB port path of a
 * sysfs device, the IPv6 prefix of a slot, which links are management
 * links and which slot a link serves. slots.c reads no global, so each
 * test hands it its own configuration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "appliance/rackd.h"
#include "db/db.h"

static void
test_subnets(void **state)
{
	char board[16], node[16];

	(void)state;
	/* /30s of 10.213.0.0/16: board .1, node .2 of each */
	assert_int_equal(subnet_addrs(0x0ad50000, 16, 30, 0, board, node), 0);
	assert_string_equal(board, "10.213.0.1");
	assert_string_equal(node, "10.213.0.2");
	assert_int_equal(subnet_addrs(0x0ad50000, 16, 30, 3, board, node), 0);
	assert_string_equal(board, "10.213.0.13");
	assert_string_equal(node, "10.213.0.14");
	/* /31s: both addresses of the pair */
	assert_int_equal(subnet_addrs(0x0ad50000, 16, 31, 1, board, node), 0);
	assert_string_equal(board, "10.213.0.2");
	assert_string_equal(node, "10.213.0.3");
	/* the last subnet of the pool, and one past it */
	assert_int_equal(subnet_addrs(0x0ad50000, 24, 30, 63, board, node), 0);
	assert_string_equal(node, "10.213.0.254");
	assert_int_equal(subnet_addrs(0x0ad50000, 24, 30, 64, board, node), -1);
	/* a slot subnet larger than the pool, or a /32 */
	assert_int_equal(subnet_addrs(0x0ad50000, 24, 16, 0, board, node), -1);
	assert_int_equal(subnet_addrs(0x0ad50000, 24, 32, 0, board, node), -1);
}

static void
test_usb_port(void **state)
{
	char port[USB_PORT_MAX];

	(void)state;
	assert_int_equal(usb_port_from_devpath("/sys/devices/pci0000:00/"
	    "0000:00:14.0/usb1/1-1/1-1.4/1-1.4:1.0", port, sizeof(port)), 0);
	assert_string_equal(port, "1-1.4");
	assert_int_equal(usb_port_from_devpath("/sys/devices/x/usb2/2-3/"
	    "2-3:1.1", port, sizeof(port)), 0);
	assert_string_equal(port, "2-3");
	/* not an interface of the device above it */
	assert_int_equal(usb_port_from_devpath("/sys/devices/x/1-1/1-2:1.0",
	    port, sizeof(port)), -1);
	assert_int_equal(usb_port_from_devpath("/sys/devices/x/1-1/1-1",
	    port, sizeof(port)), -1);
	assert_int_equal(usb_port_from_devpath("/sys/devices/x/a;b/a;b:1.0",
	    port, sizeof(port)), -1);
	assert_int_equal(usb_port_from_devpath("nothing", port,
	    sizeof(port)), -1);
	/* too long for the buffer */
	assert_int_equal(usb_port_from_devpath("/s/1-1.4/1-1.4:1.0", port, 4),
	    -1);
}

static void
test_ula(void **state)
{
	struct config c = { 0 };
	struct db_link l = { 0 };
	char ula[64];
	char pool[] = "10.213.0.0/16";

	(void)state;
	c.link_subnet_pool = pool;
	snprintf(l.board_addr, sizeof(l.board_addr), "10.213.0.13");
	l.prefix = 30;
	assert_int_equal(slot_ula(&c, &l, ula, sizeof(ula)), 0);
	assert_string_equal(ula, ULA_PREFIX "3::1");
	snprintf(l.board_addr, sizeof(l.board_addr), "10.213.1.1");
	assert_int_equal(slot_ula(&c, &l, ula, sizeof(ula)), 0);
	assert_string_equal(ula, ULA_PREFIX "40::1");
	assert_int_equal(slot_ula(&c, &l, ula, 8), -1);
}

static void
test_management(void **state)
{
	struct config c = { 0 };
	char up[] = "eth0", links[] = "veth*", map[] = "veth7=rack-a";
	char slot[SLOT_NAME_MAX + 1], bad[] = "veth8=no slot";
	const char *kind = NULL;

	(void)state;
	c.uplink.n = 1;
	c.uplink.v[0] = up;
	c.links.n = 1;
	c.links.v[0] = links;
	/* no such link in sysfs: no driver, so "virtual" when it matches */
	assert_true(links_is_management(&c, "veth-no-such-0", &kind));
	assert_string_equal(kind, "virtual");
	assert_false(links_is_management(&c, "eth0", &kind));
	assert_false(links_is_management(&c, "wlan-no-such", &kind));
	c.links.v[0] = up;	/* named in links and uplink: the uplink wins */
	assert_false(links_is_management(&c, "eth0", &kind));

	/* the slot of a link without a USB port: its name, or its mapping */
	assert_int_equal(slot_for_link(&c, "veth-no-such-0", slot,
	    sizeof(slot)), 0);
	assert_string_equal(slot, "veth-no-such-0");
	c.link_slots.n = 2;
	c.link_slots.v[0] = map;
	c.link_slots.v[1] = bad;
	assert_int_equal(slot_for_link(&c, "veth7", slot, sizeof(slot)), 0);
	assert_string_equal(slot, "rack-a");
	assert_int_equal(slot_for_link(&c, "veth8", slot, sizeof(slot)), -1);
	assert_int_equal(slot_for_link(&c, "veth7", slot, 4), -1);
}

static void
test_bmc(void **state)
{
	struct config c = { 0 };
	char links[] = "veth*", map[] = "veth7=rack-a";
	char bmc[] = "veth9=rack-a/bmc", bad[] = "veth6=rack-a/ipmi";
	char twice[] = "veth5=rack-a.bmc/bmc";
	char slot[SLOT_NAME_MAX + 1], owner[SLOT_NAME_MAX + 1];

	(void)state;
	c.links.n = 1;
	c.links.v[0] = links;
	c.link_slots.n = 4;
	c.link_slots.v[0] = map;
	c.link_slots.v[1] = bmc;
	c.link_slots.v[2] = bad;
	c.link_slots.v[3] = twice;
	assert_int_equal(slot_for_link(&c, "veth9", slot, sizeof(slot)), 0);
	assert_string_equal(slot, "rack-a.bmc");
	assert_true(slot_name_valid(slot));
	assert_int_equal(slot_bmc_of(slot, owner, sizeof(owner)), 0);
	assert_string_equal(owner, "rack-a");
	assert_int_equal(slot_bmc_of(slot, NULL, 0), 0);
	assert_int_equal(slot_bmc_of(slot, owner, 6), -1);
	assert_int_equal(slot_for_link(&c, "veth7", slot, sizeof(slot)), 0);
	assert_int_equal(slot_bmc_of(slot, owner, sizeof(owner)), -1);
	assert_int_equal(slot_bmc_of(".bmc", NULL, 0), -1);
	/* only /bmc; not a BMC of a BMC */
	assert_int_equal(slot_for_link(&c, "veth6", slot, sizeof(slot)), -1);
	assert_int_equal(slot_for_link(&c, "veth5", slot, sizeof(slot)), -1);
	assert_int_equal(slot_map_value("/bmc", slot, sizeof(slot)), -1);
	assert_int_equal(slot_map_value("a b/bmc", slot, sizeof(slot)), -1);
	/* SLOT.bmc must itself fit a slot name */
	assert_int_equal(slot_map_value("abcdefghijklmnopqrstuvwxyz012/bmc",
	    slot, sizeof(slot)), -1);
	assert_int_equal(slot_map_value("abcdefghijklmnopqrstuvwxyz01/bmc",
	    slot, sizeof(slot)), 0);
	assert_int_equal(slot_map_value("n1/bmc", slot, 6), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subnets),
		cmocka_unit_test(test_usb_port),
		cmocka_unit_test(test_ula),
		cmocka_unit_test(test_management),
		cmocka_unit_test(test_bmc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
