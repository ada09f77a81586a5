/*
 * test_rackctl_publish.c — the origin's paths of rackctl publish: a
 * chunk at chunks/<hash> (only for 64 lowercase hex, so that nothing
 * else can name a file), a manifest at manifests/<name>/<version>.json
 * (only for valid names), and buffers too small refused; an S3 listing
 * read page after page (keys, entities, the continuation token, an
 * <Error>, truncation without a token refused) and the versions of an
 * index taken from its keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "images/rackctl/rackctl.h"

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_chunk_path(void **state)
{
	char buf[128];

	assert_int_equal(origin_chunk_path(HEX, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "chunks/" HEX);
	assert_int_equal(origin_chunk_path("../../etc/passwd", buf,
	    sizeof(buf)), -1);
	assert_int_equal(origin_chunk_path("0123456789ABCDEF0123456789abcdef"
	    "0123456789abcdef0123456789abcdef", buf, sizeof(buf)), -1);
	assert_int_equal(origin_chunk_path(HEX "0", buf, sizeof(buf)), -1);
	assert_int_equal(origin_chunk_path(HEX, buf, 71), -1);
	assert_int_equal(origin_chunk_path(HEX, buf, 72), 0);
}

static void
test_manifest_path(void **state)
{
	char buf[64];

	assert_int_equal(origin_manifest_path("debian", "12.5", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "manifests/debian/12.5.json");
	assert_int_equal(origin_manifest_path("..", "1", buf, sizeof(buf)),
	    -1);
	assert_int_equal(origin_manifest_path("a/b", "1", buf, sizeof(buf)),
	    -1);
	assert_int_equal(origin_manifest_path("a", "", buf, sizeof(buf)), -1);
	assert_int_equal(origin_manifest_path("debian", "12.5", buf, 10), -1);
}

#define LIST_HEAD "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"x\">"

static void
test_s3_list(void **state)
{
	const char *p1 = LIST_HEAD "<IsTruncated>true</IsTruncated>"
	    "<Contents><Key>s/manifests/d/1.json</Key><Size>3</Size></Contents>"
	    "<Contents><Key>s/manifests/d/a&amp;b.json</Key></Contents>"
	    "<NextContinuationToken>YWZ0ZXI6eA==</NextContinuationToken>"
	    "</ListBucketResult>";
	const char *p2 = LIST_HEAD "<IsTruncated>false</IsTruncated>"
	    "<Contents><Key>s/manifests/d/index.json</Key></Contents>"
	    "<CommonPrefixes><Prefix>s/x/</Prefix></CommonPrefixes>"
	    "</ListBucketResult>";
	const char *bad = LIST_HEAD "<IsTruncated>true</IsTruncated>"
	    "</ListBucketResult>";
	const char *error = "<Error><Code>SignatureDoesNotMatch</Code>"
	    "<Message>no</Message></Error>";
	struct s3_list l = { 0 };
	char err[512], v[64];

	assert_int_equal(s3_list_parse(p1, strlen(p1), &l, err, sizeof(err)),
	    0);
	assert_true(l.truncated);
	assert_string_equal(l.next, "YWZ0ZXI6eA==");
	assert_int_equal(s3_list_parse(p2, strlen(p2), &l, err, sizeof(err)),
	    0);
	assert_false(l.truncated);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.keys[1], "s/manifests/d/a&b.json");
	assert_int_equal(s3_index_version(l.keys[0], "s/manifests/d/", v,
	    sizeof(v)), 1);
	assert_string_equal(v, "1");
	assert_int_equal(s3_index_version(l.keys[1], "s/manifests/d/", v,
	    sizeof(v)), 0);		/* not a valid version */
	assert_int_equal(s3_index_version(l.keys[2], "s/manifests/d/", v,
	    sizeof(v)), 0);		/* the index itself */
	assert_int_equal(s3_index_version("s/manifests/dd/1.json",
	    "s/manifests/d/", v, sizeof(v)), 0);
	s3_list_free(&l);
	assert_int_equal(s3_list_parse(bad, strlen(bad), &l, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "no NextContinuationToken"));
	assert_int_equal(s3_list_parse(error, strlen(error), &l, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "SignatureDoesNotMatch: no (the secret"));
	s3_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_path),
		cmocka_unit_test(test_manifest_path),
		cmocka_unit_test(test_s3_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
