/*
 * tests/unit/test_appliance_priv.c — the checks rackd's privileged helper
 * makes of each request from the unprivileged rest: which links, which
 * addresses, which dnsmasq options and option-file lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "appliance/rackd.h"

static char uplink[] = "eth0", uplinks[] = "wan*", pool[] = "10.213.0.0/16";
static char links1[] = "usb*", links2[] = "enx*", links3[] = "eth*";

static int
setup(void **state)
{
	(void)state;
	memset(&conf, 0, sizeof(conf));
	conf.uplink.n = 2;
	conf.uplink.v[0] = uplink;
	conf.uplink.v[1] = uplinks;
	conf.link_subnet_pool = pool;
	conf.links.n = 3;
	conf.links.v[0] = links1;
	conf.links.v[1] = links2;
	conf.links.v[2] = links3;	/* eth0 matches, but is the uplink */
	return 0;
}

static void
test_links(void **state)
{
	(void)state;
	assert_true(priv_link_allowed("usb0"));
	assert_true(priv_link_allowed("enx001122334455"));
	assert_false(priv_link_allowed("eth0"));	/* the uplink */
	assert_false(priv_link_allowed("wan1"));	/* a glob of uplinks */
	assert_false(priv_link_allowed("lo"));
	assert_false(priv_link_allowed(""));
	/* not a management link */
	assert_false(priv_link_allowed("docker0"));
}

static void
test_addrs(void **state)
{
	(void)state;
	assert_true(priv_addr_allowed("10.213.0.1", 30));
	assert_true(priv_addr_allowed("10.213.255.254", 31));
	assert_true(priv_addr_allowed("fd72:6163:6b64:3::1", 64));
	assert_false(priv_addr_allowed("10.214.0.1", 30));	/* outside */
	assert_false(priv_addr_allowed("192.168.1.1", 24));
	assert_false(priv_addr_allowed("10.213.0.1", 8));	/* wider */
	assert_false(priv_addr_allowed("10.213.0.1", 33));
	assert_false(priv_addr_allowed("fd00::1", 64));	/* not rackd's */
	assert_false(priv_addr_allowed("fd72:6163:6b64:3::1", 48));
	assert_false(priv_addr_allowed("not an address", 30));
}

static void
test_conf_lines(void **state)
{
	static const char *const good[] = {
		"# Written by rackd; changes here are lost.", "", "port=0",
		"bind-dynamic", "except-interface=lo", "dhcp-authoritative",
		"no-ping", "enable-ra", "user=dnsmasq", "pid-file=",
		"log-facility=-", "enable-tftp", "tftp-no-blocksize",
		"tftp-root=/var/lib/rackd/tftp", "tftp-unique-root=ip",
		"tftp-root=/var/lib/rackd/tftp/if/usb1,usb1",
		"dhcp-leasefile=/run/rackd/fe01-2a/leases",
		"dhcp-optsfile=/run/rackd/fe01-2a/options",
		"dhcp-match=set:ipxe,175", "tag-if=set:sb,tag:s0",
		"dhcp-match=set:httpboot,option:client-arch,16",
		"dhcp-option-force=tag:httpboot,60,HTTPClient",
		"dhcp-boot=tag:!ipxe,tag:httpboot,tag:s0,"
		    "http://10.213.0.1:8080/pxe/snponly.efi",
		"dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe",
		"dhcp-boot=tag:ipxe,tag:s0,"
		    "http://10.213.0.1:8080/boot/usb1.ipxe",
		"interface=usb1", "no-dhcp-interface=eth0",
		"dhcp-range=set:s0,10.213.0.2,10.213.0.2,255.255.255.252,3600s",
		"dhcp-range=::,constructor:usb1,ra-only", "ra-param=usb1,0,0",
	};
	static const char *const bad[] = {
		"dhcp-script=/tmp/evil", "conf-file=/etc/shadow",
		"conf-dir=/tmp", "addn-hosts=/etc/shadow",
		"dhcp-leasefile=/etc/passwd",
		"dhcp-leasefile=/var/lib/rackd/leases",
		"dhcp-optsfile=/tmp/options", "tftp-root=/",
		"tftp-root=/var/lib/rackd/tftp/../..", "user=root",
		"tftp-root=/var/lib/rackd/tftp/if/usb1,usb2",
		"tftp-root=/var/lib/rackd/tftp/if/../x,../x",
		"tftp-root=/var/lib/rackd/tftp/if/a/b,a/b",
		"tftp-root=/var/lib/rackd/tftp/if/usb1,usb1,x",
		"tftp-root=/var/lib/rackd/tftp/if/,", "tftp-unique-root=mac",
		"dhcp-option-force=6,8.8.8.8", "dhcp-option-force=tag:x,60,y",
		"log-facility=/etc/cron.d/x", "pid-file=/etc/passwd",
		"interface=usb1/../x", "dhcp-hostsfile=/tmp/h", "port=53",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!dnsmasq_conf_line_ok(good[i], "/run/rackd/fe01-2a",
		    "/var/lib/rackd/tftp"))
			fail_msg("refused: %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dnsmasq_conf_line_ok(bad[i], "/run/rackd/fe01-2a",
		    "/var/lib/rackd/tftp"))
			fail_msg("taken: %s", bad[i]);
}

static void
test_opts_lines(void **state)
{
	(void)state;
	assert_true(dnsmasq_opts_line_ok("tag:s0,12,usb1"));
	assert_true(dnsmasq_opts_line_ok("tag:s12,12,web-01"));
	assert_false(dnsmasq_opts_line_ok("tag:s0,67,/etc/shadow"));
	assert_false(dnsmasq_opts_line_ok("tag:s0,12,a b"));
	assert_false(dnsmasq_opts_line_ok("tag:s0,12,"));
	assert_false(dnsmasq_opts_line_ok("tag:sx,12,a"));
	assert_false(dnsmasq_opts_line_ok("dhcp-script=/x"));
	assert_false(dnsmasq_opts_line_ok(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_links, setup),
		cmocka_unit_test_setup(test_addrs, setup),
		cmocka_unit_test_setup(test_conf_lines, setup),
		cmocka_unit_test_setup(test_opts_lines, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
