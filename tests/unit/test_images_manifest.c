/* tests/unit/test_images_manifest.c — manifest parse/write round trip and a
 * clear error for every kind of malformed manifest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/chunk.h"
#include "images/manifest.h"
#include "tests/unit/unit.h"

#define H1  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H2  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define MiB 1048576

/* A valid document is a list of fields; a case replaces or drops one. */
struct field {
	const char *key;
	const char *value; /* JSON text */
};

static const struct field base[] = {
	{ "format", "1" },
	{ "name", "\"debian\"" },
	{ "version", "\"12.5\"" },
	{ "kind", "\"disk\"" },
	{ "size", "3670016" }, /* 3.5 MiB: slots 0..3, the last one half */
	{ "chunk_size", "1048576" },
	{ "hash", "\"blake2b-256\"" },
	{ "compression", "\"zstd\"" },
	{ "created", "\"2024-03-01T12:00:00Z\"" },
	{ "chunks",
	    "[{\"offset\": 0, \"length\": 1048576, \"hash\": \"" H1
	    "\", \"stored\": 1000},"
	    " {\"offset\": 3145728, \"length\": 524288, \"hash\": \"" H2
	    "\", \"stored\": 600}]" },
};
#define NBASE (sizeof base / sizeof base[0])

/* JSON with key's value replaced (value NULL: key removed; key not in base:
 * added). extra is appended verbatim if not NULL. Caller frees. */
static char *
doc(const char *key, const char *value, const char *extra)
{
	size_t cap =
	    4096 + (value ? strlen(value) : 0) + (extra ? strlen(extra) : 0);
	char *s = malloc(cap);
	size_t n = 0;
	bool found = false;
	assert_non_null(s);
	n += (size_t)snprintf(s + n, cap - n, "{");
	for (size_t i = 0; i < NBASE; i++) {
		const char *v = base[i].value;
		if (key && strcmp(key, base[i].key) == 0) {
			found = true;
			if (!value)
				continue;
			v = value;
		}
		n += (size_t)snprintf(s + n, cap - n, "%s\"%s\": %s",
		    n > 1 ? ", " : "", base[i].key, v);
	}
	if (key && !found && value)
		n += (size_t)snprintf(
		    s + n, cap - n, ", \"%s\": %s", key, value);
	if (extra)
		n += (size_t)snprintf(s + n, cap - n, "%s", extra);
	snprintf(s + n, cap - n, "}");
	return s;
}

/* Parsing must fail with an error containing want. */
static void
expect_error(const char *json, const char *want)
{
	struct manifest *m = (struct manifest *)1;
	char err[512] = "";
	int r = manifest_parse(json, strlen(json), &m, err, sizeof err);
	if (r != -1 || !strstr(err, want))
		print_error("document: %.300s\nerror: \"%s\"\nwanted: \"%s\"\n",
		    json, err, want);
	assert_int_equal(r, -1);
	assert_null(m);
	assert_non_null(strstr(err, want));
	assert_null(strchr(err, '\n')); /* one line */
}

static void
expect_field_error(const char *key, const char *value, const char *want)
{
	char *json = doc(key, value, NULL);
	expect_error(json, want);
	free(json);
}

static void
expect_chunks_error(const char *chunks, const char *want)
{
	expect_field_error("chunks", chunks, want);
}

static struct manifest *
parse_ok(const char *json)
{
	struct manifest *m = NULL;
	char err[512] = "";
	int r = manifest_parse(json, strlen(json), &m, err, sizeof err);
	if (r != 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(r, 0);
	assert_non_null(m);
	return m;
}

static void
test_parse_valid(void **state)
{
	(void)state;
	char *json = doc(NULL, NULL, NULL);
	struct manifest *m = parse_ok(json);
	assert_int_equal(m->format, 1);
	assert_string_equal(m->name, "debian");
	assert_string_equal(m->version, "12.5");
	assert_int_equal(m->kind, IMAGE_KIND_DISK);
	assert_int_equal(m->size, 3670016);
	assert_int_equal(m->chunk_size, MiB);
	assert_int_equal(m->hash, HASH_BLAKE2B_256);
	assert_int_equal(m->compression, IMAGE_COMPRESSION_ZSTD);
	assert_string_equal(m->created, "2024-03-01T12:00:00Z");
	assert_int_equal(m->nchunks, 2);
	assert_int_equal(m->chunks[1].offset, 3 * MiB);
	assert_int_equal(m->chunks[1].length, MiB / 2);
	assert_int_equal(m->chunks[1].stored, 600);
	char hex[HASH_HEX_LEN + 1];
	hash_to_hex(m->chunks[0].hash, hex);
	assert_string_equal(hex, H1);
	assert_null(m->signature);

	struct manifest_stats st;
	manifest_stats(m, &st);
	assert_int_equal(st.slots, 4);
	assert_int_equal(st.chunks, 2);
	assert_int_equal(st.holes, 2);
	assert_int_equal(st.data_bytes, MiB + MiB / 2);
	assert_int_equal(st.stored_bytes, 1600);
	manifest_free(m);
	free(json);
}

static void
test_round_trip(void **state)
{
	(void)state;
	char *json =
	    doc("signature", "{\"key\": \"k1\", \"alg\": \"ed25519\"}", NULL);
	struct manifest *m = parse_ok(json);
	assert_non_null(m->signature);
	char *out = manifest_to_json(m);
	assert_non_null(out);
	struct manifest *m2 = parse_ok(out);
	char *out2 = manifest_to_json(m2);
	assert_string_equal(out, out2); /* deterministic */
	assert_string_equal(m2->name, m->name);
	assert_int_equal(m2->nchunks, m->nchunks);
	assert_memory_equal(
	    m2->chunks, m->chunks, m->nchunks * sizeof m->chunks[0]);
	assert_non_null(
	    strstr(out, "\"signature\": {\"alg\":\"ed25519\",\"key\":\"k1\"}"));
	free(out);
	free(out2);
	manifest_free(m);
	manifest_free(m2);
	free(json);
}

static void
test_write_exact(void **state)
{
	(void)state;
	struct manifest *m = manifest_new();
	assert_non_null(m);
	strcpy(m->name, "tiny");
	strcpy(m->version, "1");
	m->size = 65536 + 10;
	m->chunk_size = 65536;
	m->hash = HASH_SHA256;
	strcpy(m->created, "2024-01-02T03:04:05Z");
	struct manifest_chunk c = {
		.offset = 65536, .length = 10, .stored = 19
	};
	assert_int_equal(hash_from_hex(H2, c.hash), 0);
	assert_int_equal(manifest_add_chunk(m, &c), 0);
	char err[256];
	assert_int_equal(manifest_validate(m, err, sizeof err), 0);
	char *out = manifest_to_json(m);
	assert_string_equal(out,
	    "{\n"
	    "  \"format\": 1,\n"
	    "  \"name\": \"tiny\",\n"
	    "  \"version\": \"1\",\n"
	    "  \"kind\": \"disk\",\n"
	    "  \"size\": 65546,\n"
	    "  \"chunk_size\": 65536,\n"
	    "  \"hash\": \"sha256\",\n"
	    "  \"compression\": \"zstd\",\n"
	    "  \"created\": \"2024-01-02T03:04:05Z\",\n"
	    "  \"chunks\": [\n"
	    "    {\"offset\": 65536, \"length\": 10, \"hash\": \"" H2
	    "\", \"stored\": 19}\n"
	    "  ]\n"
	    "}\n");
	free(out);
	/* empty image */
	m->nchunks = 0;
	m->size = 0;
	out = manifest_to_json(m);
	assert_non_null(strstr(out, "\"chunks\": []\n}"));
	struct manifest *m2 = parse_ok(out);
	assert_int_equal(m2->size, 0);
	assert_int_equal(m2->nchunks, 0);
	manifest_free(m2);
	free(out);
	manifest_free(m);
}

static void
test_not_json(void **state)
{
	(void)state;
	expect_error("", "not valid JSON");
	expect_error("{", "not valid JSON");
	expect_error("{\"format\": 1,}", "not valid JSON");
	expect_error("[]", "must be a JSON object");
	expect_error("null", "not valid JSON");
	expect_error("\"format\"", "not valid JSON");
	/* duplicate field */
	char *json = doc(NULL, NULL, ", \"name\": \"other\"");
	expect_error(json, "duplicate");
	free(json);
}

static void
test_format(void **state)
{
	(void)state;
	expect_field_error("format", NULL, "format: missing");
	expect_field_error("format", "\"1\"", "format: must be an integer");
	expect_field_error("format", "1.0", "format: must be an integer");
	expect_field_error("format", "2", "format: unsupported version 2");
	expect_field_error("format", "0", "format: unsupported version 0");
	expect_field_error("format", "-1", "format: unsupported version -1");
	expect_field_error("bogus", "1", "unknown field \"bogus\"");
}

static void
test_missing_fields(void **state)
{
	(void)state;
	static const char *const keys[] = { "name", "version", "kind", "size",
		"chunk_size", "hash", "compression", "created", "chunks" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char want[64];
		snprintf(want, sizeof want, "%s: missing", keys[i]);
		expect_field_error(keys[i], NULL, want);
	}
}

static void
test_wrong_types(void **state)
{
	(void)state;
	expect_field_error("name", "5", "name: must be a string");
	expect_field_error("version", "12.5", "version: must be a string");
	expect_field_error("kind", "null", "kind: must be a string");
	expect_field_error("size", "\"3670016\"", "size: must be an integer");
	expect_field_error("size", "3670016.0", "size: must be an integer");
	expect_field_error(
	    "chunk_size", "true", "chunk_size: must be an integer");
	expect_field_error("hash", "[]", "hash: must be a string");
	expect_field_error(
	    "compression", "{}", "compression: must be a string");
	expect_field_error(
	    "created", "1709294400", "created: must be a string");
	expect_field_error("chunks", "{}", "chunks: must be an array");
	expect_field_error(
	    "signature", "\"sig\"", "signature: must be an object");
}

static void
test_bad_values(void **state)
{
	(void)state;
	expect_field_error("kind", "\"iso\"", "kind: \"iso\" is not");
	expect_field_error("hash", "\"md5\"", "hash: \"md5\" is not");
	expect_field_error("hash", "\"SHA256\"", "hash: \"SHA256\" is not");
	expect_field_error(
	    "compression", "\"gzip\"", "compression: \"gzip\" is not");
	expect_field_error("created", "\"yesterday\"",
	    "created: \"yesterday\" is not a UTC time");
	expect_field_error("created", "\"2024-02-30T00:00:00Z\"", "created:");
	expect_field_error("created", "\"2024-03-01 12:00:00Z\"", "created:");
	expect_field_error(
	    "created", "\"2024-03-01T12:00:00+01:00\"", "created:");
	expect_field_error("chunk_size", "1000000",
	    "chunk_size: 1000000 is not a power of two");
	expect_field_error("chunk_size", "32768",
	    "chunk_size: 32768 is not a power of two between");
	expect_field_error("chunk_size", "0", "chunk_size: 0 is not");
	expect_field_error("chunk_size", "134217728",
	    "chunk_size: 134217728 is larger than the limit");
}

static void
test_numbers(void **state)
{
	(void)state;
	expect_field_error("size", "-1", "size: must not be negative");
	expect_field_error(
	    "chunk_size", "-1048576", "chunk_size: must not be negative");
	expect_field_error("size", "9223372036854775807",
	    "size: 9223372036854775807 is larger than the limit");
	/* past int64: jansson refuses the number itself */
	expect_field_error("size", "18446744073709551616", "too big");
	expect_field_error("size", "1e30", "size: must be an integer");
	expect_chunks_error(
	    "[{\"offset\": -1048576, \"length\": 1048576, \"hash\": \"" H1
	    "\", \"stored\": 1}]",
	    "chunks[0].offset: must not be negative");
	expect_chunks_error("[{\"offset\": 0, \"length\": -5, \"hash\": \"" H1
			    "\", \"stored\": 1}]",
	    "chunks[0].length: must not be negative");
	expect_chunks_error(
	    "[{\"offset\": 0, \"length\": 1048576, \"hash\": \"" H1
	    "\", \"stored\": -1}]",
	    "chunks[0].stored: must not be negative");
	expect_chunks_error(
	    "[{\"offset\": 0, \"length\": 4294967296, \"hash\": \"" H1
	    "\", \"stored\": 1}]",
	    "chunks[0].length: 4294967296 is larger than the limit");
	expect_chunks_error(
	    "[{\"offset\": 0, \"length\": 1048576, \"hash\": \"" H1
	    "\", \"stored\": 99999999999}]",
	    "chunks[0].stored: 99999999999 is larger than the limit");
	expect_chunks_error(
	    "[{\"offset\": 0, \"length\": 1048576, \"hash\": \"" H1
	    "\", \"stored\": 2000000}]",
	    "chunks[0].stored: 2000000 is larger than a zstd frame");
	expect_chunks_error(
	    "[{\"offset\": 0, \"length\": 1048576, \"hash\": \"" H1
	    "\", \"stored\": 0}]",
	    "chunks[0].stored: must be at least 1");
	expect_chunks_error(
	    "[{\"offset\": 0, \"length\": 1048576.5, \"hash\": \"" H1
	    "\", \"stored\": 1}]",
	    "chunks[0].length: must be an integer");
}

static void
test_names(void **state)
{
	(void)state;
	expect_field_error(
	    "name", "\"\"", "name: \"\" is not a valid image name");
	expect_field_error("name", "\"-debian\"",
	    "name: \"-debian\" is not a valid image name");
	expect_field_error("name", "\".hidden\"", "name:");
	expect_field_error(
	    "name", "\"a/b\"", "name: \"a/b\" is not a valid image name");
	expect_field_error("name", "\"..\"", "name:");
	expect_field_error("name", "\"deb ian\"", "name:");
	expect_field_error("name", "\"a\\u0000b\"", "not valid JSON");
	/* raw newline */
	expect_field_error("name", "\"a\nb\"", "not valid JSON");
	expect_field_error("name", "\"caf\\u00e9\"", "name:");
	expect_field_error("name",
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "a\"",
	    "too long");
	expect_field_error("version", "\"1:2\"",
	    "version: \"1:2\" is not a valid image version");
	expect_field_error("version", "\"\"", "version:");
	expect_field_error("name", "\"bad\\nname\"", "name: \"bad?name\"");

	assert_true(image_name_valid("debian"));
	assert_true(image_name_valid("a"));
	assert_true(image_name_valid("Debian-12.5_x86+64"));
	assert_true(image_name_valid("0"));
	assert_true(image_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaa")); /* 64 */
	assert_false(image_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				      "aaaaaaaaaaaaaaaaaaaaaaaaa")); /* 65 */
	assert_false(image_name_valid(NULL));
	assert_false(image_name_valid(""));
	assert_false(image_name_valid("_x"));
	assert_false(image_name_valid("+x"));
	assert_false(image_name_valid("x y"));
	assert_false(image_name_valid("x:y"));
	assert_false(image_name_valid("x/y"));
	assert_true(image_version_valid("20240301-120000"));
	assert_false(image_version_valid(".."));
}

static void
test_ref_parse(void **state)
{
	(void)state;
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1], err[256];
	assert_int_equal(
	    image_ref_parse("debian:12.5", name, version, err, sizeof err), 0);
	assert_string_equal(name, "debian");
	assert_string_equal(version, "12.5");
	assert_int_equal(
	    image_ref_parse("debian", name, version, err, sizeof err), 0);
	assert_string_equal(name, "debian");
	assert_string_equal(version, "");
	static const char *const bad[] = { "", ":", "debian:", ":12", "a:b:c",
		"de bian:1", "-x:1", "x:-1", "x:1/2" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(
		    image_ref_parse(bad[i], name, version, err, sizeof err),
		    -1);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(
	    image_ref_parse(NULL, name, version, err, sizeof err), -1);
}

static void
test_chunk_errors(void **state)
{
	(void)state;
	expect_chunks_error("[5]", "chunks[0]: must be an object");
	expect_chunks_error(
	    "[{\"offset\": 0, \"length\": 1048576, \"hash\": \"" H1 "\"}]",
	    "chunks[0].stored: missing");
	expect_chunks_error("[{\"length\": 1048576, \"hash\": \"" H1
			    "\", \"stored\": 1}]",
	    "chunks[0].offset: missing");
	expect_chunks_error(
	    "[{\"offset\": 0, \"length\": 1048576, \"stored\": 1}]",
	    "chunks[0].hash: missing");
	expect_chunks_error(
	    "[{\"offset\": 0, \"length\": 1048576, \"hash\": \"" H1
	    "\", \"stored\": 1, \"x\": 1}]",
	    "chunks[0]: unknown field \"x\"");
	/* hash hex */
	expect_chunks_error("[{\"offset\": 0, \"length\": 1048576, \"hash\": "
			    "7, \"stored\": 1}]",
	    "chunks[0].hash: must be a string");
	expect_chunks_error("[{\"offset\": 0, \"length\": 1048576, \"hash\": "
			    "\"0123\", \"stored\": 1}]",
	    "chunks[0].hash: \"0123\" is not 64 lowercase hex");
	expect_chunks_error("[{\"offset\": 0, \"length\": 1048576, \"hash\": "
			    "\"0123456789ABCDEF0123456789abcdef0123456789abcdef"
			    "0123456789abcdef\", \"stored\": 1}]",
	    "chunks[0].hash:");
	expect_chunks_error("[{\"offset\": 0, \"length\": 1048576, \"hash\": "
			    "\"g123456789abcdef0123456789abcdef0123456789abcdef"
			    "0123456789abcdef\", \"stored\": 1}]",
	    "chunks[0].hash:");
	expect_chunks_error(
	    "[{\"offset\": 0, \"length\": 1048576, \"hash\": \"" H1
	    "0\", \"stored\": 1}]",
	    "chunks[0].hash:");
	/* placement */
	expect_chunks_error(
	    "[{\"offset\": 1000, \"length\": 1048576, \"hash\": \"" H1
	    "\", \"stored\": 1}]",
	    "chunks[0].offset: 1000 is not a multiple of chunk_size 1048576");
	expect_chunks_error(
	    "[{\"offset\": 4194304, \"length\": 1048576, \"hash\": \"" H1
	    "\", \"stored\": 1}]",
	    "chunks[0].offset: 4194304 is outside the image (size 3670016)");
	expect_chunks_error(
	    "[{\"offset\": 2097152, \"length\": 1048576, \"hash\": \"" H1
	    "\", \"stored\": 1},"
	    " {\"offset\": 1048576, \"length\": 1048576, \"hash\": \"" H2
	    "\", \"stored\": 1}]",
	    "chunks[1].offset: 1048576 comes before chunks[0].offset 2097152");
	expect_chunks_error(
	    "[{\"offset\": 1048576, \"length\": 1048576, \"hash\": \"" H1
	    "\", \"stored\": 1},"
	    " {\"offset\": 1048576, \"length\": 1048576, \"hash\": \"" H2
	    "\", \"stored\": 1}]",
	    "chunks[1].offset: 1048576 overlaps chunks[0]");
	expect_chunks_error(
	    "[{\"offset\": 0, \"length\": 2097152, \"hash\": \"" H1
	    "\", \"stored\": 1}]",
	    "chunks[0].length: 2097152 is larger than chunk_size 1048576");
	expect_chunks_error("[{\"offset\": 0, \"length\": 1000, \"hash\": \"" H1
			    "\", \"stored\": 1}]",
	    "chunks[0].length: 1000, but the chunk at offset 0 must be 1048576 "
	    "bytes");
	expect_chunks_error(
	    "[{\"offset\": 3145728, \"length\": 1048576, \"hash\": \"" H1
	    "\", \"stored\": 1}]",
	    "chunks[0].length: 1048576 runs past the end of the image");
	expect_chunks_error("[{\"offset\": 0, \"length\": 0, \"hash\": \"" H1
			    "\", \"stored\": 1}]",
	    "chunks[0].length: must be at least 1");
	/* error names the right index */
	expect_chunks_error(
	    "[{\"offset\": 0, \"length\": 1048576, \"hash\": \"" H1
	    "\", \"stored\": 1},"
	    " {\"offset\": 1048576, \"length\": 1048576, \"hash\": \"" H2
	    "\", \"stored\": 1},"
	    " {\"offset\": 2097152, \"length\": 1048576, \"hash\": \"xyz\", "
	    "\"stored\": 1}]",
	    "chunks[2].hash:");
	/* size 0 with a chunk */
	char *json = doc("size", "0", NULL);
	expect_error(json, "chunks[0].offset: 0 is outside the image (size 0)");
	free(json);
}

static void
test_too_many_chunks(void **state)
{
	(void)state;
	size_t n = MANIFEST_MAX_CHUNKS + 1;
	char *chunks = malloc(2 * n + 3);
	assert_non_null(chunks);
	size_t k = 0;
	chunks[k++] = '[';
	for (size_t i = 0; i < n; i++) {
		if (i)
			chunks[k++] = ',';
		chunks[k++] = '0';
	}
	chunks[k++] = ']';
	chunks[k] = '\0';
	char want[96];
	snprintf(want, sizeof want,
	    "chunks: %zu entries, more than the limit of %u", n,
	    MANIFEST_MAX_CHUNKS);
	expect_chunks_error(chunks, want);
	free(chunks);

	struct manifest *m = manifest_new();
	struct manifest_chunk c = { 0 };
	m->nchunks = MANIFEST_MAX_CHUNKS; /* pretend full: adding must refuse */
	m->cap = 0;
	assert_int_equal(manifest_add_chunk(m, &c), -1);
	m->nchunks = 0;
	manifest_free(m);
}

static void
test_load(void **state)
{
	(void)state;
	char *dir = unit_mkdtemp(), path[4200], err[512];
	assert_non_null(dir);
	char *json = doc(NULL, NULL, NULL);
	snprintf(path, sizeof path, "%s/m.json", dir);
	assert_int_equal(unit_write_file(path, json, strlen(json)), 0);
	struct manifest *m;
	assert_int_equal(manifest_load(path, &m, err, sizeof err), 0);
	assert_string_equal(m->name, "debian");
	manifest_free(m);
	/* errors name the file */
	assert_int_equal(unit_write_file(path, "{", 1), 0);
	assert_int_equal(manifest_load(path, &m, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not valid JSON"));
	snprintf(path, sizeof path, "%s/none.json", dir);
	assert_int_equal(manifest_load(path, &m, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(manifest_load(dir, &m, err, sizeof err), -1);
	free(json);
	unit_rm_rf(dir);
	free(dir);
}

static void
test_times(void **state)
{
	(void)state;
	assert_true(manifest_time_valid("2024-02-29T23:59:59Z"));
	assert_false(manifest_time_valid("2023-02-29T00:00:00Z"));
	assert_false(manifest_time_valid("2024-13-01T00:00:00Z"));
	assert_false(manifest_time_valid("2024-12-01T24:00:00Z"));
	assert_false(manifest_time_valid("2024-12-01T00:00:00"));
	assert_false(manifest_time_valid("2024-12-01T00:00:00Zx"));
	char buf[MANIFEST_TIME_LEN + 1];
	manifest_format_time(0, buf, sizeof buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	manifest_format_time(1709294400, buf, sizeof buf);
	assert_string_equal(buf, "2024-03-01T12:00:00Z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_write_exact),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ref_parse),
		cmocka_unit_test(test_chunk_errors),
		cmocka_unit_test(test_too_many_chunks),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
