/* tests/unit/test_images_import.c — the chunker: holes, unaligned tails,
 * empty input, compressed inputs, truncated and corrupt inputs. Every image
 * is reassembled from the store and compared byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "images/chunk.h"
#include "images/import.h"
#include "images/store.h"
#include "tests/unit/unit.h"

#define CS 65536u /* chunk size used by most tests: the smallest allowed */

static const char *
input(struct unit_store *f, const char *name, const void *data, size_t len)
{
	static char path[4300];
	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	assert_int_equal(unit_write_file(path, data, len), 0);
	return path;
}

/* Rebuilds the image from the manifest and the store: every chunk read,
 * verified against its hash, holes zero. */
static unsigned char *
reassemble(struct unit_store *f, const struct manifest *m)
{
	unsigned char *img = calloc(1, m->size ? m->size : 1);
	char hex[HASH_HEX_LEN + 1], err[256];
	assert_non_null(img);
	for (size_t i = 0; i < m->nchunks; i++) {
		const struct manifest_chunk *c = &m->chunks[i];
		void *data;
		size_t len, n;
		hash_to_hex(c->hash, hex);
		assert_int_equal(store_read_chunk(f->st, hex,
				     chunk_compress_bound(c->length), &data,
				     &len, err, sizeof err),
		    0);
		assert_int_equal(len, c->stored);
		assert_int_equal(
		    chunk_verify(NULL, m->hash, c->hash, c->length, data, len,
			img + c->offset, c->length, err, sizeof err),
		    0);
		assert_int_equal(
		    chunk_decompress(NULL, data, len, img + c->offset,
			c->length, c->length, &n, err, sizeof err),
		    0);
		assert_int_equal(n, c->length);
		assert_int_equal(store_check_chunk(f->st, m->hash, hex,
				     c->length, err, sizeof err),
		    0);
		free(data);
	}
	return img;
}

/* The image the manifest names, rebuilt from the store, is want. */
static void
expect_image(struct unit_store *f, const struct manifest *m,
    const unsigned char *want, size_t len)
{
	unsigned char *back = reassemble(f, m);

	assert_memory_equal(back, want, len);
	free(back);
}

static struct manifest *
import_ok(struct unit_store *f, const char *path, const char *name,
    const char *version, const struct import_options *opt)
{
	struct manifest *m = NULL;
	char err[512] = "";
	int r = import_disk_image(
	    f->st, path, name, version, opt, NULL, NULL, &m, err, sizeof err);
	if (r != 0)
		print_error("import %s: %s\n", path, err);
	assert_int_equal(r, 0);
	assert_non_null(m);
	/* what is stored is what was returned */
	struct manifest *back;
	assert_int_equal(
	    store_load_manifest(f->st, name, version, &back, err, sizeof err),
	    0);
	char *a = manifest_to_json(m), *b = manifest_to_json(back);
	assert_string_equal(a, b);
	free(a);
	free(b);
	manifest_free(back);
	return m;
}

static void
opts(struct import_options *o, uint32_t cs)
{
	import_options_init(o);
	o->chunk_size = cs;
	o->level = 1;
}

/* 5 whole chunks and a half: data, hole, text, hole, data, half data. */
static unsigned char *
holey_image(size_t *len)
{
	*len = 5 * CS + CS / 2;
	unsigned char *b = calloc(1, *len);
	assert_non_null(b);
	unit_random(b, CS, 1);
	for (size_t i = 0; i < CS; i++)
		b[2 * CS + i] =
		    (unsigned char)("all work and no play "[i % 21]);
	unit_random(b + 4 * CS, CS, 2);
	unit_random(b + 5 * CS, CS / 2, 3);
	b[3 * CS - 1] = 0; /* chunk 2 ends in zero but is data */
	return b;
}

static void
test_holes(void **state)
{
	struct unit_store *f = *state;
	struct import_options o;
	size_t len;
	unsigned char *img = holey_image(&len);
	opts(&o, CS);
	struct manifest *m =
	    import_ok(f, input(f, "holes.img", img, len), "holes", "1", &o);
	assert_int_equal(m->size, len);
	assert_int_equal(m->chunk_size, CS);
	assert_int_equal(m->kind, IMAGE_KIND_DISK);
	assert_int_equal(m->nchunks, 4);
	const uint64_t offsets[] = { 0, 2 * CS, 4 * CS, 5 * CS };
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(m->chunks[i].offset, offsets[i]);
		assert_int_equal(m->chunks[i].length, i == 3 ? CS / 2 : CS);
	}
	struct manifest_stats s;
	manifest_stats(m, &s);
	assert_int_equal(s.slots, 6);
	assert_int_equal(s.holes, 2);
	expect_image(f, m, img, len);
	manifest_free(m);
	free(img);
}

static void
test_unaligned_tail(void **state)
{
	struct unit_store *f = *state;
	struct import_options o;
	const size_t sizes[] = { 3 * CS + 1234, 1, CS - 1, CS + 1 };
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		size_t len = sizes[k];
		unsigned char *img = malloc(len);
		char version[16];
		unit_random(img, len, 10 + k);
		opts(&o, CS);
		snprintf(version, sizeof version, "%zu", k);
		struct manifest *m = import_ok(
		    f, input(f, "tail.img", img, len), "tail", version, &o);
		assert_int_equal(m->size, len);
		assert_int_equal(m->nchunks, (len + CS - 1) / CS);
		assert_int_equal(
		    m->chunks[m->nchunks - 1].length, len % CS ? len % CS : CS);
		expect_image(f, m, img, len);
		manifest_free(m);
		free(img);
	}
	/* a tail that is all zero is a hole, and still counts in the size */
	size_t len = 2 * CS + 100;
	unsigned char *img = calloc(1, len);
	unit_random(img, CS, 7);
	opts(&o, CS);
	struct manifest *m =
	    import_ok(f, input(f, "ztail.img", img, len), "ztail", "1", &o);
	assert_int_equal(m->size, len);
	assert_int_equal(m->nchunks, 1);
	expect_image(f, m, img, len);
	manifest_free(m);
	free(img);
}

static void
test_empty_and_zero(void **state)
{
	struct unit_store *f = *state;
	struct import_options o;
	opts(&o, CS);
	struct manifest *m =
	    import_ok(f, input(f, "empty.img", "", 0), "empty", "1", &o);
	assert_int_equal(m->size, 0);
	assert_int_equal(m->nchunks, 0);
	manifest_free(m);
	/* all zero: every slot a hole, nothing stored */
	unsigned char *z = calloc(1, 4 * CS);
	m = import_ok(f, input(f, "zero.img", z, 4 * CS), "zero", "1", &o);
	assert_int_equal(m->size, 4 * CS);
	assert_int_equal(m->nchunks, 0);
	manifest_free(m);
	free(z);
}

struct counter {
	struct import_progress last;
	int calls;
	int cancel_at;
};

static int
count_progress(const struct import_progress *p, void *arg)
{
	struct counter *c = arg;
	c->last = *p;
	c->calls++;
	return c->cancel_at && c->calls >= c->cancel_at;
}

static void
test_dedup_and_progress(void **state)
{
	struct unit_store *f = *state;
	struct import_options o;
	size_t len;
	char err[256];
	unsigned char *img = holey_image(&len);
	const char *path = input(f, "d.img", img, len);
	opts(&o, CS);
	struct counter c = { 0 };
	struct manifest *m;
	assert_int_equal(import_disk_image(f->st, path, "d", "1", &o,
			     count_progress, &c, &m, err, sizeof err),
	    0);
	assert_true(c.last.done);
	assert_int_equal(c.calls, 6 + 1); /* per chunk slot, then done */
	assert_int_equal(c.last.bytes_read, len);
	assert_int_equal(c.last.chunks, 4);
	assert_int_equal(c.last.holes, 2);
	assert_int_equal(c.last.new_chunks, 4);
	assert_int_equal(c.last.input_size, len);
	manifest_free(m);
	/* the same image again: nothing new is stored */
	memset(&c, 0, sizeof c);
	assert_int_equal(import_disk_image(f->st, path, "d", "2", &o,
			     count_progress, &c, &m, err, sizeof err),
	    0);
	assert_int_equal(c.last.new_chunks, 0);
	assert_int_equal(c.last.new_bytes, 0);
	assert_int_equal(c.last.chunks, 4);
	manifest_free(m);
	/* the same name and version again: refused */
	assert_int_equal(import_disk_image(f->st, path, "d", "2", &o, NULL,
			     NULL, &m, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "already exists"));
	assert_null(m);
	/* cancelled by the callback: no manifest */
	memset(&c, 0, sizeof c);
	c.cancel_at = 2;
	assert_int_equal(import_disk_image(f->st, path, "d", "3", &o,
			     count_progress, &c, &m, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "cancelled"));
	assert_false(store_has_manifest(f->st, "d", "3"));
	free(img);
}

static void
test_options(void **state)
{
	struct unit_store *f = *state;
	struct import_options o;
	char err[256];
	struct manifest *m;
	size_t len;
	unsigned char *img = holey_image(&len);
	const char *path = input(f, "o.img", img, len);

	opts(&o, 3 * CS);
	assert_int_equal(import_disk_image(f->st, path, "o", "1", &o, NULL,
			     NULL, &m, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "chunk size"));
	opts(&o, CS);
	o.level = 0;
	assert_int_equal(import_disk_image(f->st, path, "o", "1", &o, NULL,
			     NULL, &m, err, sizeof err),
	    -1);
	opts(&o, CS);
	o.kind = IMAGE_KIND_ROOTFS;
	assert_int_equal(import_disk_image(f->st, path, "o", "1", &o, NULL,
			     NULL, &m, err, sizeof err),
	    -1);
	opts(&o, CS);
	assert_int_equal(import_disk_image(f->st, path, "o/x", "1", &o, NULL,
			     NULL, &m, err, sizeof err),
	    -1);
	assert_int_equal(import_disk_image(f->st, path, "o", "", &o, NULL, NULL,
			     &m, err, sizeof err),
	    -1);
	assert_int_equal(import_disk_image(f->st, "/nonexistent/x.img", "o",
			     "1", &o, NULL, NULL, &m, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "/nonexistent/x.img"));

	/* sha256, a bigger chunk size, defaults */
	opts(&o, 2 * CS);
	o.hash = HASH_SHA256;
	m = import_ok(f, path, "o", "sha", &o);
	assert_int_equal(m->hash, HASH_SHA256);
	assert_int_equal(m->nchunks, 3); /* slots 0, 1 (text + hole), 2 */
	expect_image(f, m, img, len);
	manifest_free(m);
	m = import_ok(f, path, "o", "defaults", NULL);
	assert_int_equal(m->chunk_size, CHUNK_SIZE_DEFAULT);
	assert_int_equal(m->hash, HASH_ALG_DEFAULT);
	assert_int_equal(m->nchunks, 1);
	manifest_free(m);
	free(img);
}

static bool
have_tool(const char *tool)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

static void
run(const char *cmd)
{
	int r = system(cmd);
	if (r != 0)
		print_error("command failed (%d): %s\n", r, cmd);
	assert_int_equal(r, 0);
}

/* Compresses raw with tool into raw + suffix, keeping raw. */
static void
compress_with(const char *tool, const char *raw)
{
	char cmd[9000];
	if (strcmp(tool, "zstd") == 0)
		snprintf(
		    cmd, sizeof cmd, "zstd -qf '%s' -o '%s.zst'", raw, raw);
	else
		snprintf(cmd, sizeof cmd, "%s -kf '%s'", tool, raw);
	run(cmd);
}

static void
test_compressed(void **state)
{
	struct unit_store *f = *state;
	struct import_options o;
	size_t len;
	unsigned char *img = holey_image(&len);
	char raw[4300], path[4400];
	snprintf(raw, sizeof raw, "%s", input(f, "c.img", img, len));
	opts(&o, CS);
	struct manifest *ref = import_ok(f, raw, "c", "raw", &o);

	static const struct {
		const char *tool, *suffix;
	} kinds[] = {
		{ "gzip", ".gz" },
		{ "xz", ".xz" },
		{ "zstd", ".zst" },
		{ "bzip2", ".bz2" },
	};
	int done = 0;
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		if (!have_tool(kinds[k].tool)) {
			print_message(
			    "skipping %s input: %s is not installed\n",
			    kinds[k].suffix, kinds[k].tool);
			continue;
		}
		compress_with(kinds[k].tool, raw);
		snprintf(path, sizeof path, "%s%s", raw, kinds[k].suffix);
		struct manifest *m = import_ok(f, path, "c", kinds[k].tool, &o);
		assert_int_equal(m->size, len);
		assert_int_equal(m->nchunks, ref->nchunks);
		assert_memory_equal(m->chunks, ref->chunks,
		    ref->nchunks * sizeof ref->chunks[0]);
		expect_image(f, m, img, len);
		manifest_free(m);
		done++;
	}
	assert_true(done >= 1); /* gzip at least is always there */
	manifest_free(ref);
	free(img);
}

/* A failed import leaves no manifest and no temporary file. */
static void
expect_fail(struct unit_store *f, const char *path, const char *version,
    const char *want)
{
	struct import_options o;
	struct manifest *m = (struct manifest *)1;
	char err[512] = "", tmp[4300];
	opts(&o, CS);
	int r = import_disk_image(
	    f->st, path, "bad", version, &o, NULL, NULL, &m, err, sizeof err);
	if (r != -1 || !strstr(err, want))
		print_error("import %s: r=%d err=\"%s\" wanted \"%s\"\n", path,
		    r, err, want);
	assert_int_equal(r, -1);
	assert_null(m);
	assert_non_null(strstr(err, want));
	assert_false(store_has_manifest(f->st, "bad", version));
	snprintf(tmp, sizeof tmp, "%s/tmp", f->storedir);
	assert_int_equal(unit_count_dir(tmp), 0);
}

static void
test_truncated_and_corrupt(void **state)
{
	struct unit_store *f = *state;
	size_t len = 40 * CS, glen = 0;
	unsigned char *img = malloc(len);
	char raw[4300], gz[4400], cmd[9000];
	unit_random(img, len, 99);
	for (size_t i = 0; i < len / 2; i++) /* compressible first half */
		img[i] = (unsigned char)('a' + i % 7);
	snprintf(raw, sizeof raw, "%s", input(f, "t.img", img, len));
	compress_with("gzip", raw);
	snprintf(gz, sizeof gz, "%s.gz", raw);
	char *data = unit_read_file(gz, &glen);
	assert_non_null(data);

	/* cut in the middle, just before the trailer, inside the header */
	input(f, "cut.img.gz", data, glen / 2);
	snprintf(cmd, sizeof cmd, "%s/cut.img.gz", f->dir);
	expect_fail(f, cmd, "cut-middle", "truncated gzip input");
	input(f, "cut.img.gz", data, glen - 4);
	expect_fail(f, cmd, "cut-trailer", "cut.img.gz");
	input(f, "cut.img.gz", data, 12);
	expect_fail(f, cmd, "cut-header", "does not decompress");
	/* a wrong CRC in the trailer, and damage in the stored (random) half */
	memcpy(img, data, glen); /* reuse as scratch: glen < len */
	img[glen - 8] ^= 0xff;
	input(f, "crc.img.gz", img, glen);
	snprintf(cmd, sizeof cmd, "%s/crc.img.gz", f->dir);
	expect_fail(f, cmd, "crc", "gzip check failed");
	memcpy(img, data, glen);
	img[glen - 200] ^= 0x01;
	input(f, "flip.img.gz", img, glen);
	snprintf(cmd, sizeof cmd, "%s/flip.img.gz", f->dir);
	expect_fail(f, cmd, "flip", "flip.img.gz");

	/* truncated xz and zstd too: the version is the suffix */
	static const struct {
		const char *tool, *suffix;
	} cut[] = {
		{ "xz", ".xz" },
		{ "zstd", ".zst" },
	};
	for (size_t k = 0; k < sizeof(cut) / sizeof(cut[0]); k++) {
		char name[32];

		if (!have_tool(cut[k].tool))
			continue;
		compress_with(cut[k].tool, raw);
		snprintf(gz, sizeof(gz), "%s%s", raw, cut[k].suffix);
		char *x = unit_read_file(gz, &glen);
		assert_non_null(x);
		snprintf(name, sizeof(name), "cut.img%s", cut[k].suffix);
		input(f, name, x, glen * 2 / 3);
		snprintf(cmd, sizeof(cmd), "%s/%s", f->dir, name);
		expect_fail(f, cmd, cut[k].suffix + 1, name);
		free(x);
	}
	/* nothing named bad is listed */
	assert_false(store_has_manifest(f->st, "bad", "cut-middle"));
	free(data);
	free(img);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_holes, unit_store_setup, unit_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_unaligned_tail, unit_store_setup, unit_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_empty_and_zero, unit_store_setup, unit_store_teardown),
		cmocka_unit_test_setup_teardown(test_dedup_and_progress,
		    unit_store_setup, unit_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_options, unit_store_setup, unit_store_teardown),
		cmocka_unit_test_setup_teardown(
		    test_compressed, unit_store_setup, unit_store_teardown),
		cmocka_unit_test_setup_teardown(test_truncated_and_corrupt,
		    unit_store_setup, unit_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
