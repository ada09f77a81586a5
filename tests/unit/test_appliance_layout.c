/*
 * test_appliance_layout.c — layout.c: a rackd that is not PREFIX/sbin/rackd
 * (this test program, build/rackd) keeps the source tree's defaults; the
 * installed ones are PREFIX/share/rackd/{webui,pxe} and /var/lib/rackd,
 * for those three options only; --help names them beside the tree's.
 * The installed case itself (the program at PREFIX/sbin/rackd) is tested
 * by make test-deb, which runs the packaged /usr/sbin/rackd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/rackd.h"
#include "prefix.h"

static void
test_tree_defaults(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX];
	char arg0[] = "rackd";
	char *argv[] = { arg0, NULL };

	assert_int_equal(layout_installed(), 0);
	assert_string_equal(layout_default("webui_dir", "./webui"), "./webui");
	assert_string_equal(layout_default("listen", "127.0.0.1:8080"),
	    "127.0.0.1:8080");
	assert_int_equal(config_load(&c, 1, argv, err, sizeof(err)), 0);
	assert_string_equal(c.state_dir, "./var");
	assert_string_equal(c.webui_dir, "./webui");
	assert_string_equal(c.pxe_dir, "./build/pxe");
	config_free(&c);
}

static void
test_installed_paths(void **state)
{
	assert_string_equal(layout_installed_default("state_dir"),
	    "/var/lib/rackd");
	assert_string_equal(layout_installed_default("webui_dir"),
	    RACKD_PREFIX "/share/rackd/webui");
	assert_string_equal(layout_installed_default("pxe_dir"),
	    RACKD_PREFIX "/share/rackd/pxe");
	assert_null(layout_installed_default("listen"));
	assert_null(layout_installed_default("ipxe_dir"));
	assert_null(layout_installed_default("webui"));
}

static void
test_usage_names_both(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	config_usage(fp, "rackd");
	assert_int_equal(fclose(fp), 0);
	assert_non_null(strstr(buf, "[./webui] (installed: " RACKD_PREFIX
	    "/share/rackd/webui)\n"));
	assert_non_null(strstr(buf, "[./var] (installed: /var/lib/rackd)\n"));
	assert_non_null(strstr(buf, "[./build/pxe] (installed: " RACKD_PREFIX
	    "/share/rackd/pxe)\n"));
	/* Only those three. */
	int n = 0;
	for (const char *p = buf; (p = strstr(p, "(installed: ")); p++)
		n++;
	assert_int_equal(n, 3);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_defaults),
		cmocka_unit_test(test_installed_paths),
		cmocka_unit_test(test_usage_names_both),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
