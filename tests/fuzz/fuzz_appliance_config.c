/*
 * tests/fuzz/fuzz_appliance_config.c — rackd's configuration file
 * (appliance/config.c config_read_file, reached as rackd reaches it:
 * config_load with -c, defaults first). The file is read at start and on
 * every SIGHUP; a bad one must give FILE:LINE and a reason, and leak
 * nothing. The input is handed over as a memfd, so no disk is touched.
 */
#include <sys/mman.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "appliance/rackd.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char path[64], err[512];
	char *argv[] = { (char *)"rackd", (char *)"-c", path, NULL };
	int fd, rc;

	FUZZ_SELFTEST_TRAP(data, size);
	if ((fd = memfd_create("rackd.conf", MFD_CLOEXEC)) < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(&cfg, 0, sizeof(cfg));
	err[0] = '\0';
	rc = config_load(&cfg, 3, argv, err, sizeof(err));
	if (rc != 0)
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0);
	config_free(&cfg);
	close(fd);
	return 0;
}
