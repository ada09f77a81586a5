/*
 * tests/fuzz/fuzz_appliance_chunks.c — the Range header of GET /chunks/HASH
 * (appliance/chunks.c chunks_parse_range), sent by anyone who reaches a
 * node listener. Input: 8 bytes of file size (little endian), then the
 * header text. A range it accepts lies inside the file and is not empty.
 */
#include <string.h>

#include "appliance/rackd.h"
#include "tests/fuzz/fuzz.h"

#define HDR_MAX	4096	/* libmicrohttpd's whole header block is smaller */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char hdr[HDR_MAX + 1];
	uint64_t fsize = 0, start = 0, len = 0;
	size_t n;
	enum chunks_range rc;

	FUZZ_SELFTEST_TRAP(data, size);
	if (size < 8)
		return 0;
	for (int i = 7; i >= 0; i--)
		fsize = fsize << 8 | data[i];
	n = size - 8 > HDR_MAX ? HDR_MAX : size - 8;
	memcpy(hdr, data + 8, n);
	hdr[n] = '\0';
	rc = chunks_parse_range(hdr, fsize, &start, &len);
	FUZZ_CHECK(rc == CHUNKS_WHOLE || rc == CHUNKS_PART ||
	    rc == CHUNKS_UNSATISFIABLE);
	if (rc == CHUNKS_PART) {
		FUZZ_CHECK(len > 0 && start < fsize && len <= fsize - start);
	}
	FUZZ_CHECK(chunks_parse_range(NULL, fsize, &start, &len) ==
	    CHUNKS_WHOLE);
	return 0;
}
