/*
 * tests/fuzz/fuzz_pxe_job.c — the node side's parser of rackd's job reply
 * (pxe/lib/job.c job_parse, used by rack-agent and rack-diskless): a node
 * trusts nothing it is sent. A reply that parses has a positive id, an
 * absolute chunks URL ending in '/' with no "..", and a valid manifest of
 * a disk or rootfs image, which job_want_kind takes for its own kind only.
 */
#include <string.h>

#include "pxe/lib/pxe.h"
#include "tests/fuzz/fuzz.h"

#define BASE	"http://10.200.0.1:8080"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job j;
	char err[512];
	size_t n;

	FUZZ_SELFTEST_TRAP(data, size);
	err[0] = '\0';
	if (job_parse((const char *)data, size, BASE, &j, err,
	    sizeof(err)) != 0) {
		FUZZ_CHECK(j.manifest == NULL && err[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(j.id > 0 && j.manifest != NULL);
	FUZZ_CHECK(j.manifest->kind == IMAGE_KIND_DISK ||
	    j.manifest->kind == IMAGE_KIND_ROOTFS);
	FUZZ_CHECK((job_want_kind(&j, IMAGE_KIND_DISK, err, sizeof(err)) ==
	    0) == (j.manifest->kind == IMAGE_KIND_DISK));
	n = strnlen(j.chunks_url, sizeof(j.chunks_url));
	FUZZ_CHECK(n > 0 && n < sizeof(j.chunks_url));
	FUZZ_CHECK(j.chunks_url[n - 1] == '/');
	FUZZ_CHECK(strncmp(j.chunks_url, "http://", 7) == 0 ||
	    strncmp(j.chunks_url, "https://", 8) == 0);
	FUZZ_CHECK(strstr(j.chunks_url, "..") == NULL);
	FUZZ_CHECK(manifest_validate(j.manifest, err, sizeof(err)) == 0);
	job_free(&j);
	FUZZ_CHECK(j.manifest == NULL);
	return 0;
}
