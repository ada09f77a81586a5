/* tests/unit/test_pxe_job.c — libpxe's job parser, the one rack-agent
 * and rack-diskless use: the job JSON from rackd; the manifest inside it
 * goes through the images library (so every malformed manifest is refused
 * with the library's reason), chunks_url resolution, and each program's
 * kind check (a disk job for rack-agent, a rootfs one for rack-diskless). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pxe/lib/pxe.h"
#include "tests/unit/unit.h"

#define BASE "http://10.213.0.1:8080"

static char *manifest_text;
static struct unit_image image;
static uint8_t *image_data;

static int
group_setup(void **state)
{
	uint64_t size = 5 * 65536 + 77;

	(void)state;
	image_data = calloc(1, size);
	if (image_data == NULL)
		return -1;
	unit_random(image_data, 65536, 1);
	unit_random(image_data + 3 * 65536, 2 * 65536 + 77, 2);
	unit_image_build(&image, image_data, size, 65536);
	manifest_text = manifest_to_json(image.m);
	return manifest_text != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	free(manifest_text);
	unit_image_free(&image);
	free(image_data);
	return 0;
}

/* A job reply: fields (JSON members without braces) and the manifest. */
static char *
reply(const char *fields, const char *manifest)
{
	char *s;

	if (asprintf(&s, "{%s%s\"manifest\": %s}", fields, *fields ? ", " : "",
	    manifest) < 0)
		abort();
	return s;
}

static int
parse(const char *text, struct job *j, char *err, size_t errlen)
{
	err[0] = '\0';
	return job_parse(text, strlen(text), BASE, j, err, errlen);
}

static void
test_good(void **state)
{
	struct job j;
	char err[512], *r;

	(void)state;
	r = reply("\"id\": 9, \"state\": \"booting\", \"image\": \"t:1\", "
	    "\"chunks_url\": \"/chunks/\", \"events\": []", manifest_text);
	assert_int_equal(parse(r, &j, err, sizeof(err)), 0);
	assert_int_equal(j.id, 9);
	assert_string_equal(j.state, "booting");
	assert_string_equal(j.image, "t:1");
	assert_string_equal(j.chunks_url, BASE "/chunks/");
	assert_non_null(j.manifest);
	assert_int_equal(j.manifest->nchunks, image.m->nchunks);
	assert_int_equal(j.manifest->size, image.m->size);
	assert_memory_equal(j.manifest->chunks[1].hash, image.m->chunks[1].hash,
	    HASH_LEN);
	job_free(&j);
	assert_null(j.manifest);
	free(r);
	/* absolute chunks_url, and one without its slash */
	r = reply("\"id\": 1, \"chunks_url\": \"http://other:81/c\"",
	    manifest_text);
	assert_int_equal(parse(r, &j, err, sizeof(err)), 0);
	assert_string_equal(j.chunks_url, "http://other:81/c/");
	job_free(&j);
	free(r);
}

static void
test_bad_job(void **state)
{
	static const struct { const char *fields, *why; } bad[] = {
		{ "\"chunks_url\": \"/chunks/\"", "\"id\"" },
		{ "\"id\": 0, \"chunks_url\": \"/chunks/\"", "\"id\"" },
		{ "\"id\": \"1\", \"chunks_url\": \"/chunks/\"", "\"id\"" },
		{ "\"id\": 1", "chunks_url" },
		{ "\"id\": 1, \"chunks_url\": 5", "chunks_url" },
		{ "\"id\": 1, \"chunks_url\": \"\"", "chunks_url" },
		{ "\"id\": 1, \"chunks_url\": \"chunks/\"", "absolute" },
		{ "\"id\": 1, \"chunks_url\": \"ftp://h/c/\"", "absolute" },
		{ "\"id\": 1, \"chunks_url\": \"/a b/\"", "chunks_url" },
		{ "\"id\": 1, \"chunks_url\": \"/../etc/\"", "chunks_url" },
		{ "\"id\": 1, \"id\": 2, \"chunks_url\": \"/c/\"", "not JSON" },
	};
	struct job j;
	char err[512], *r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = reply(bad[i].fields, manifest_text);
		assert_int_equal(parse(r, &j, err, sizeof(err)), -1);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"", bad[i].fields,
			    err, bad[i].why);
		assert_null(j.manifest);
		free(r);
	}
	assert_int_equal(parse("", &j, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not JSON"));
	assert_int_equal(parse("[1]", &j, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a JSON object"));
	assert_int_equal(parse("{\"id\": 1, \"chunks_url\": \"/c/\"}", &j, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "no \"manifest\""));
	r = reply("\"id\": 1, \"chunks_url\": \"/c/\"", "[]");
	assert_int_equal(parse(r, &j, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no \"manifest\""));
	free(r);
}

/* A chunks_url that fits, and one that does not once made absolute (and
 * given its slash). */
static void
test_long_url(void **state)
{
	char cu[AGENT_URL_MAX], fields[AGENT_URL_MAX + 64], err[512], *r;
	size_t n = sizeof(cu) - strlen(BASE) - 2;
	struct job j;

	(void)state;
	cu[0] = '/';
	memset(cu + 1, 'c', n - 1);
	cu[n] = '\0';
	snprintf(fields, sizeof(fields), "\"id\": 1, \"chunks_url\": "
	    "\"%s\"", cu);
	r = reply(fields, manifest_text);
	assert_int_equal(parse(r, &j, err, sizeof(err)), 0);
	assert_int_equal(strlen(j.chunks_url), sizeof(j.chunks_url) - 1);
	job_free(&j);
	free(r);
	cu[n] = 'c';
	cu[n + 1] = '\0';
	snprintf(fields, sizeof(fields), "\"id\": 1, \"chunks_url\": "
	    "\"%s\"", cu);
	r = reply(fields, manifest_text);
	assert_int_equal(parse(r, &j, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	assert_null(j.manifest);
	free(r);
}

/* Edits the manifest object, then parses the job: -1 expected, with why. */
static void
bad_manifest(void (*edit)(json_t *), const char *why)
{
	json_t *m = json_loads(manifest_text, 0, NULL);
	char *mt, *r, err[512];
	struct job j;

	assert_non_null(m);
	edit(m);
	mt = json_dumps(m, 0);
	json_decref(m);
	r = reply("\"id\": 1, \"chunks_url\": \"/chunks/\"", mt);
	assert_int_equal(parse(r, &j, err, sizeof(err)), -1);
	if (strstr(err, why) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, why);
	assert_null(j.manifest);
	free(mt);
	free(r);
}

static void
test_kind(void **state)
{
	json_t *m = json_loads(manifest_text, 0, NULL);
	char *mt, *r, err[512];
	struct job j;

	(void)state;
	/* a disk image: rack-agent's, not rack-diskless's */
	r = reply("\"id\": 1, \"chunks_url\": \"/chunks/\"", manifest_text);
	assert_int_equal(parse(r, &j, err, sizeof(err)), 0);
	assert_int_equal(job_want_kind(&j, IMAGE_KIND_DISK, err, sizeof(err)),
	    0);
	assert_int_equal(job_want_kind(&j, IMAGE_KIND_ROOTFS, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "of kind disk, not a rootfs image"));
	job_free(&j);
	free(r);
	/* a rootfs image: the other way round */
	assert_non_null(m);
	json_object_set_new(m, "kind", json_string("rootfs"));
	mt = json_dumps(m, 0);
	json_decref(m);
	r = reply("\"id\": 1, \"chunks_url\": \"/chunks/\"", mt);
	assert_int_equal(parse(r, &j, err, sizeof(err)), 0);
	assert_int_equal(job_want_kind(&j, IMAGE_KIND_ROOTFS, err, sizeof(err)),
	    0);
	assert_int_equal(job_want_kind(&j, IMAGE_KIND_DISK, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "not a disk image"));
	job_free(&j);
	/* no manifest (a failed or freed job) is of no kind */
	assert_int_equal(job_want_kind(&j, IMAGE_KIND_DISK, err, sizeof(err)),
	    -1);
	free(mt);
	free(r);
}

static void
edit_size(json_t *m)
{
	/* smaller than the chunks say: they would be outside the image */
	json_object_set_new(m, "size", json_integer(65536));
}

static void
edit_overlap(json_t *m)
{
	json_t *c = json_array_get(json_object_get(m, "chunks"), 1);

	json_object_set_new(c, "offset", json_integer(0));
}

static void
edit_length(json_t *m)
{
	json_t *c = json_array_get(json_object_get(m, "chunks"), 0);

	json_object_set_new(c, "length", json_integer(1 << 30));
}

static void
edit_hash(json_t *m)
{
	json_t *c = json_array_get(json_object_get(m, "chunks"), 0);

	json_object_set_new(c, "hash", json_string("xyz"));
}

static void
edit_stored(json_t *m)
{
	json_t *c = json_array_get(json_object_get(m, "chunks"), 0);

	json_object_set_new(c, "stored", json_integer(1 << 30));
}

static void
edit_extra(json_t *m)
{
	json_object_set_new(m, "surprise", json_true());
}

static void
edit_chunk_size(json_t *m)
{
	json_object_set_new(m, "chunk_size", json_integer(1000));
}

static void
edit_alg(json_t *m)
{
	json_object_set_new(m, "hash", json_string("md5"));
}

/* Inventory, capture and erase jobs carry no image: their parameters. */
static void
test_no_image_action(void **state)
{
	static const char *bad[] = {
		"{\"id\": 3, \"action\": \"erase\", \"params\": [1]}",
		"{\"id\": 3, \"action\": 7}",
		"{\"id\": 3, \"action\": \"\"}",
		"{\"id\": 3, \"action\": \"aaaaaaaaaaaaaaaaaaaaaaa\"}",
		/* a reimage still needs its manifest */
		"{\"id\": 3, \"action\": \"reimage\", \"chunks_url\": \"/c/\"}",
	};
	const char *good = "{\"id\": 3, \"action\": \"erase\", \"state\": "
	    "\"queued\", \"params\": {\"method\": \"overwrite\"}}";
	char err[256];
	struct job j;

	(void)state;
	assert_int_equal(job_parse(good, strlen(good), BASE, &j, err,
	    sizeof(err)), 0);
	assert_string_equal(j.action, "erase");
	assert_null(j.manifest);
	assert_string_equal(json_string_value(json_object_get(j.params,
	    "method")), "overwrite");
	job_free(&j);
	assert_null(j.params);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(job_parse(bad[i], strlen(bad[i]), BASE, &j,
		    err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
	}
}

static void
test_bad_manifest(void **state)
{
	(void)state;
	bad_manifest(edit_size, "manifest is not valid");
	bad_manifest(edit_overlap, "manifest is not valid");
	bad_manifest(edit_length, "manifest is not valid");
	bad_manifest(edit_hash, "manifest is not valid");
	bad_manifest(edit_stored, "manifest is not valid");
	bad_manifest(edit_extra, "manifest is not valid");
	bad_manifest(edit_chunk_size, "manifest is not valid");
	bad_manifest(edit_alg, "manifest is not valid");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad_job),
		cmocka_unit_test(test_long_url),
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_bad_manifest),
		cmocka_unit_test(test_no_image_action),
	};
	unit_watchdog(120);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
