/*
 * tests/unit/test_appliance_requests.c — parsing what clients send rackd: the
 * PATCH body of a node (api_parse_node_patch), the Range header of a chunk
 * request (chunks_parse_range) and the URL paths of the dashboard's files
 * (static_path_ok).
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
#include "tests/unit/unit.h"


/* ---- PATCH /api/v1/nodes/{slot} ----------------------------------- */

struct patch {
	int		 rc;
	const char	*label, *image, *boot_mode;
	char		 err[256];
	json_t		*body;
};

static void
parse(struct patch *p, const char *text)
{
	json_error_t jerr;

	memset(p, 0, sizeof(*p));
	p->body = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (p->body == NULL) {
		print_error("test body '%s' is not JSON: %s\n", text,
		    jerr.text);
		fail();
	}
	p->label = p->image = p->boot_mode = "untouched";
	p->rc = api_parse_node_patch(p->body, &p->label, &p->image,
	    &p->boot_mode, p->err, sizeof(p->err));
}

static void
done(struct patch *p)
{
	json_decref(p->body);
}

static void
bad(const char *text, const char *why)
{
	struct patch p;

	parse(&p, text);
	if (p.rc != -1) {
		print_error("'%s' was accepted\n", text);
		done(&p);
		fail();
	}
	done(&p);
	assert_true(p.err[0] != '\0');
	assert_contains(p.err, why);
}

static void
test_patch_good(void **state)
{
	struct patch p;
	char text[200], label[LABEL_MAX + 1];

	parse(&p, "{\"label\": \"U12\"}");
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.label, "U12");
	assert_null(p.image);
	assert_null(p.boot_mode);
	done(&p);

	parse(&p, "{\"label\": \"rack 3, U12\", \"image\": \"debian:12.5\","
	    " \"boot_mode\": \"diskless\"}");
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.label, "rack 3, U12");
	assert_string_equal(p.image, "debian:12.5");
	assert_string_equal(p.boot_mode, "diskless");
	done(&p);

	parse(&p, "{\"boot_mode\": \"local\"}");
	assert_int_equal(p.rc, 0);
	assert_null(p.label);
	assert_null(p.image);
	assert_string_equal(p.boot_mode, "local");
	done(&p);

	/* image without a version: the newest, resolved later */
	parse(&p, "{\"image\": \"debian\"}");
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.image, "debian");
	done(&p);

	/* null takes the image away: "" */
	parse(&p, "{\"image\": null}");
	assert_int_equal(p.rc, 0);
	assert_non_null(p.image);
	assert_string_equal(p.image, "");
	assert_null(p.label);
	done(&p);

	/* an empty label clears it */
	parse(&p, "{\"label\": \"\"}");
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.label, "");
	done(&p);

	/* exactly LABEL_MAX characters */
	memset(label, 'x', LABEL_MAX);
	label[LABEL_MAX] = '\0';
	snprintf(text, sizeof(text), "{\"label\": \"%s\"}", label);
	parse(&p, text);
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.label, label);
	done(&p);

	/* UTF-8 is printable */
	parse(&p, "{\"label\": \"R\\u00e4ck \\u2014 U1\"}");
	assert_int_equal(p.rc, 0);
	assert_string_equal(p.label, "R\xc3\xa4" "ck \xe2\x80\x94 U1");
	done(&p);
}

static void
test_patch_bad(void **state)
{
	char text[200], label[LABEL_MAX + 2];

	/* wrong types */
	bad("{\"label\": 12}", "label");
	bad("{\"label\": null}", "label");
	bad("{\"label\": true}", "label");
	bad("{\"label\": [\"U12\"]}", "label");
	bad("{\"label\": {\"a\": 1}}", "label");
	bad("{\"image\": 5}", "image");
	bad("{\"image\": false}", "image");
	bad("{\"image\": [\"debian\"]}", "image");
	bad("{\"boot_mode\": 1}", "boot_mode");
	bad("{\"boot_mode\": null}", "boot_mode");
	bad("{\"boot_mode\": [\"local\"]}", "boot_mode");

	/* bad values */
	bad("{\"boot_mode\": \"network\"}", "boot_mode");
	bad("{\"boot_mode\": \"Local\"}", "boot_mode");
	bad("{\"boot_mode\": \"\"}", "boot_mode");
	bad("{\"boot_mode\": \"local \"}", "boot_mode");
	bad("{\"image\": \"bad name!\"}", "image");
	bad("{\"image\": \"debian:\"}", "image");
	bad("{\"image\": \":12\"}", "image");
	bad("{\"image\": \"../../etc/passwd\"}", "image");
	bad("{\"image\": \"a:b:c\"}", "image");

	/* too long: LABEL_MAX + 1 */
	memset(label, 'x', LABEL_MAX + 1);
	label[LABEL_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "{\"label\": \"%s\"}", label);
	bad(text, "label");

	/* control characters */
	bad("{\"label\": \"U1\\n2\"}", "printable");
	bad("{\"label\": \"U1\\t2\"}", "printable");
	bad("{\"label\": \"\\u0001\"}", "printable");
	bad("{\"label\": \"U12\\u001b[31m\"}", "printable");
	bad("{\"label\": \"U12\\u007f\"}", "printable");
	bad("{\"label\": \"\\r\"}", "printable");

	/* unknown fields, and nothing to change */
	bad("{\"colour\": \"red\"}", "unknown field 'colour'");
	bad("{\"label\": \"U1\", \"mac\": \"00:11:22:33:44:55\"}",
	    "unknown field 'mac'");
	bad("{\"Label\": \"U1\"}", "unknown field 'Label'");
	bad("{}", "nothing to change");

	/* one bad field spoils the body; good ones are not taken */
	{
		struct patch p;
		parse(&p, "{\"label\": \"ok\", \"boot_mode\": \"pxe\"}");
		assert_int_equal(p.rc, -1);
		done(&p);
	}
}

static void
test_patch_long_key(void **state)
{
	/* An unknown field with a huge name: the message stays bounded. */
	char *text = malloc(5000);
	struct patch p;

	assert_non_null(text);
	strcpy(text, "{\"");
	memset(text + 2, 'k', 4000);
	strcpy(text + 4002, "\": 1}");
	parse(&p, text);
	assert_int_equal(p.rc, -1);
	assert_true(strlen(p.err) < sizeof(p.err));
	assert_contains(p.err, "unknown field");
	done(&p);
	free(text);
}

/* ---- Range: bytes=... --------------------------------------------- */

/* Short names for the table below. */
#define ALL	CHUNKS_WHOLE
#define PART	CHUNKS_PART
#define BAD	CHUNKS_UNSATISFIABLE

struct rcase {
	const char	*hdr;
	uint64_t	 size;
	enum chunks_range rc;
	uint64_t	 start, len;
};

static void
test_range(void **state)
{
	static const struct rcase cases[] = {
		/* no header or another unit: the whole file */
		{ NULL, 1000, ALL, 0, 0 },
		{ "items=0-99", 1000, ALL, 0, 0 },
		{ "", 1000, ALL, 0, 0 },
		/* one range */
		{ "bytes=0-99", 1000, PART, 0, 100 },
		{ "bytes=0-0", 1000, PART, 0, 1 },
		{ "bytes=999-999", 1000, PART, 999, 1 },
		{ "bytes=100-199", 1000, PART, 100, 100 },
		{ "bytes=0-999", 1000, PART, 0, 1000 },
		/* the last N */
		{ "bytes=-100", 1000, PART, 900, 100 },
		{ "bytes=-1", 1000, PART, 999, 1 },
		{ "bytes=-1000", 1000, PART, 0, 1000 },
		{ "bytes=-5000", 1000, PART, 0, 1000 },	/* all of it */
		/* from N to the end */
		{ "bytes=5-", 1000, PART, 5, 995 },
		{ "bytes=0-", 1000, PART, 0, 1000 },
		{ "bytes=999-", 1000, PART, 999, 1 },
		/* end past the size: clamped */
		{ "bytes=900-5000", 1000, PART, 900, 100 },
		{ "bytes=0-9999999999999999999", 1000, PART, 0, 1000 },
		/* start past the size: unsatisfiable */
		{ "bytes=1000-", 1000, BAD, 0, 0 },
		{ "bytes=1000-1100", 1000, BAD, 0, 0 },
		{ "bytes=5000-6000", 1000, BAD, 0, 0 },
		/* malformed */
		{ "bytes=abc", 1000, BAD, 0, 0 },
		{ "bytes=a-b", 1000, BAD, 0, 0 },
		{ "bytes=", 1000, BAD, 0, 0 },
		{ "bytes=-", 1000, BAD, 0, 0 },
		{ "bytes=-0", 1000, BAD, 0, 0 },
		{ "bytes=--5", 1000, BAD, 0, 0 },
		{ "bytes=+5-10", 1000, BAD, 0, 0 },
		{ "bytes=5-2", 1000, BAD, 0, 0 },
		{ "bytes=1-2x", 1000, BAD, 0, 0 },
		{ "bytes=0x10-20", 1000, BAD, 0, 0 },
		{ "bytes=99999999999999999999-", 1000, BAD, 0, 0 },
		/* several ranges: the whole file (one range per reply) */
		{ "bytes=0-1,5-6", 1000, ALL, 0, 0 },
		{ "bytes=0-99,-100", 1000, ALL, 0, 0 },
		/* an empty file has no bytes to range over */
		{ "bytes=0-0", 0, BAD, 0, 0 },
		{ "bytes=0-", 0, BAD, 0, 0 },
		{ "bytes=-5", 0, BAD, 0, 0 },
		{ NULL, 0, ALL, 0, 0 },
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *c = &cases[i];
		uint64_t start = 12345, len = 67890;
		enum chunks_range rc = chunks_parse_range(c->hdr, c->size,
		    &start, &len);

		if (rc != c->rc || (rc == CHUNKS_PART && (start != c->start ||
		    len != c->len))) {
			print_error("'%s' (size %llu): rc %d start %llu len "
			    "%llu; want rc %d start %llu len %llu\n",
			    c->hdr ? c->hdr : "(none)",
			    (unsigned long long)c->size, rc,
			    (unsigned long long)start,
			    (unsigned long long)len, c->rc,
			    (unsigned long long)c->start,
			    (unsigned long long)c->len);
			bad++;
		}
		/* a satisfiable range always lies inside the file */
		if (rc == CHUNKS_PART && (len == 0 || start + len > c->size)) {
			print_error("'%s': range outside the file\n", c->hdr);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}
#undef ALL
#undef PART
#undef BAD

static void
test_range_big(void **state)
{
	uint64_t start, len, size = UINT64_C(1) << 40;

	assert_int_equal(chunks_parse_range("bytes=1099511627775-", size,
	    &start, &len), CHUNKS_PART);
	assert_int_equal(start, size - 1);
	assert_int_equal(len, 1);
	assert_int_equal(chunks_parse_range("bytes=-1099511627776", size,
	    &start, &len), CHUNKS_PART);
	assert_int_equal(start, 0);
	assert_int_equal(len, size);
}

/* ---- dashboard paths ---------------------------------------------- */

static void
test_static_paths(void **state)
{
	static const char *good[] = {
		"/", "/index.html", "/js/app.js", "/css/a.b.css", "/img/",
		"/a..b", "/x-y_z~1",
	};
	static const char *badp[] = {
		"", "index.html", "/..", "/../etc/passwd",
		"/a/../../etc/passwd",
		"/./index.html", "/.git/config", "/.env", "//etc/passwd",
		"/a//b", "/a\\..\\b", "/a/\x01", "/js/.hidden", "/..%2f",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!static_path_ok(good[i])) {
			print_error("'%s' refused\n", good[i]);
			fail();
		}
	for (size_t i = 0; i < sizeof(badp) / sizeof(badp[0]); i++)
		if (static_path_ok(badp[i])) {
			print_error("'%s' taken\n", badp[i]);
			fail();
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patch_good),
		cmocka_unit_test(test_patch_bad),
		cmocka_unit_test(test_patch_long_key),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_range_big),
		cmocka_unit_test(test_static_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
