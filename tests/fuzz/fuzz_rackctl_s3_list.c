/*
 * tests/fuzz/fuzz_rackctl_s3_list.c — what rackctl publish reads from an
 * S3-compatible store (images/rackctl/s3_list.c): a ListObjectsV2 answer
 * or an <Error> answer, neither trusted. The input is one answer, parsed
 * twice into the same list (pages add up). Accepted, every key is
 * non-empty, NUL-free and at most S3_KEY_MAX bytes, a truncated page has
 * a token, and s3_index_version takes only valid versions of the
 * directory; an error message always ends in a NUL within its buffer.
 */
#include <string.h>

#include "images/manifest.h"
#include "images/rackctl/rackctl.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3_list l = { 0 };
	char err[512], ver[IMAGE_NAME_MAX + 1], text[64];
	size_t before;

	FUZZ_SELFTEST_TRAP(data, size);
	s3_error_text((const char *)data, size, text, sizeof(text));
	FUZZ_CHECK(memchr(text, '\0', sizeof(text)) != NULL);
	for (int round = 0; round < 2; round++) {
		before = l.n;
		err[0] = '\0';
		if (s3_list_parse((const char *)data, size, &l, err,
		    sizeof(err)) != 0) {
			FUZZ_CHECK(err[0] != '\0');
			break;
		}
		FUZZ_CHECK(!l.truncated || l.next[0] != '\0');
		FUZZ_CHECK(l.n - before <= S3_LIST_PAGE_MAX);
	}
	for (size_t i = 0; i < l.n; i++) {
		size_t n = strlen(l.keys[i]);

		FUZZ_CHECK(n > 0 && n <= S3_KEY_MAX);
		if (s3_index_version(l.keys[i], "site/manifests/debian/", ver,
		    sizeof(ver)))
			FUZZ_CHECK(image_version_valid(ver) &&
			    strcmp(ver, "index") != 0);
	}
	s3_list_free(&l);
	return 0;
}
