/* tests/unit/test_pxe_secureboot.c — libpxe: the Secure Boot state read from
 * UEFI's SecureBoot variable as efivarfs shows it (4 bytes of attributes,
 * then the value), and what it says of files that are not that. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pxe/lib/pxe.h"
#include "tests/unit/unit.h"

static char path[] = "/tmp/rackd-sb.XXXXXX";

static void
put(const void *data, size_t len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void
test_states(void **state)
{
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	put("\x06\x00\x00\x00\x01", 5);
	assert_int_equal(net_secure_boot(path), 1);
	put("\x06\x00\x00\x00\x00", 5);
	assert_int_equal(net_secure_boot(path), 0);
	put("\x06\x00\x00\x00", 4);		/* no value */
	assert_int_equal(net_secure_boot(path), -1);
	put("\x06\x00\x00\x00\x01\x01", 6);	/* not a one-byte value */
	assert_int_equal(net_secure_boot(path), -1);
	put("\x06\x00\x00\x00\x02", 5);		/* not 1: not on */
	assert_int_equal(net_secure_boot(path), 0);
	unlink(path);
	assert_int_equal(net_secure_boot(path), -1);	/* no UEFI */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
	};
	unit_watchdog(60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
