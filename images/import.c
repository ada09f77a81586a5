/* images/import.c — disk image import through libarchive's raw format. */
#include "images/import.h"
#include "images/sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "images/chunk.h"
#include "images/fail.h"

void
import_options_init(struct import_options *opt)
{
	memset(opt, 0, sizeof *opt);
	opt->chunk_size = CHUNK_SIZE_DEFAULT;
	opt->level = CHUNK_LEVEL_DEFAULT;
	opt->hash = HASH_ALG_DEFAULT;
	opt->kind = IMAGE_KIND_DISK;
}

/* ---- CRC-32 (IEEE, reflected), to check a gzip trailer: libarchive's
 * gzip filter does not. Slicing by 8. ---- */

static uint32_t crc_table[8][256];

static void
crc32_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] =
			    crc_table[0][crc_table[t - 1][i] & 0xff] ^
			    (crc_table[t - 1][i] >> 8);
}

static uint32_t
crc32_update(uint32_t crc, const unsigned char *p, size_t len)
{
	crc = ~crc;
	while (len >= 8) {
		uint32_t a = crc ^
		    ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		crc = crc_table[7][a & 0xff] ^ crc_table[6][(a >> 8) & 0xff] ^
		    crc_table[5][(a >> 16) & 0xff] ^ crc_table[4][a >> 24] ^
		    crc_table[3][p[4]] ^ crc_table[2][p[5]] ^
		    crc_table[1][p[6]] ^ crc_table[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* CRC-32 and size mod 2^32 from the last 8 bytes of a gzip file. */
static int
gzip_trailer(const char *path, uint32_t *crc, uint32_t *isize)
{
	unsigned char t[8];
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	int r = fseeko(f, -8, SEEK_END) == 0 && fread(t, 1, 8, f) == 8 ? 0 : -1;
	fclose(f);
	*crc = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
	    (uint32_t)t[3] << 24;
	*isize = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 |
	    (uint32_t)t[7] << 24;
	return r;
}

/* ---- input sanity ---- */

struct magic {
	const char *name;
	const char *suffix;
	const unsigned char *bytes;
	size_t len;
};

static const unsigned char m_gz[] = { 0x1f, 0x8b };
static const unsigned char m_xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
static const unsigned char m_zst[] = { 0x28, 0xb5, 0x2f, 0xfd };
static const unsigned char m_bz2[] = { 'B', 'Z', 'h' };

static const struct magic magics[] = {
	{ "gzip", ".gz", m_gz, sizeof m_gz },
	{ "xz", ".xz", m_xz, sizeof m_xz },
	{ "zstd", ".zst", m_zst, sizeof m_zst },
	{ "bzip2", ".bz2", m_bz2, sizeof m_bz2 },
};

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* With no decompression filter, input named or starting like a compressed
 * file is one too damaged for libarchive to recognise: refuse it rather
 * than import the compressed bytes as a disk. */
static int
check_uncompressed(const char *path, const unsigned char *head, size_t n,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
		const struct magic *mg = &magics[i];
		if (has_suffix(path, mg->suffix))
			FAIL("%s: named like a %s file but it does not "
			    "decompress (truncated or corrupt)",
			    path, mg->name);
		if (n >= mg->len && memcmp(head, mg->bytes, mg->len) == 0 &&
		    mg->len >= 3)
			FAIL("%s: starts like a %s file but it does not "
			    "decompress (truncated or corrupt)",
			    path, mg->name);
	}
	return 0;
}

/* ---- the import ---- */

struct importer {
	struct store *st;
	const char *path;
	const struct import_options *opt;
	struct archive *a;
	unsigned char *buf; /* one chunk's worth of input */
	struct sink *sink;  /* chunks, holes and the manifest */
	struct manifest *m;
	bool gzip;
	uint32_t crc;
};

static void
importer_free(struct importer *im)
{
	if (im->a)
		archive_read_free(im->a);
	free(im->buf);
	sink_free(im->sink);
	manifest_free(im->m);
}

/* Reads up to one chunk; *n is 0 at the end. */
static int
read_chunk(struct importer *im, size_t *n, char *err, size_t errlen)
{
	size_t want = im->opt->chunk_size, got = 0;
	while (got < want) {
		la_ssize_t r =
		    archive_read_data(im->a, im->buf + got, want - got);
		if (r < 0)
			FAIL("%s: read error after %llu bytes: %s", im->path,
			    (unsigned long long)(sink_bytes(im->sink) + got),
			    archive_error_string(im->a) ?
			    archive_error_string(im->a) : "unknown error");
		if (r == 0)
			break;
		got += (size_t)r;
	}
	*n = got;
	return 0;
}

static int
run(struct importer *im, const char *name, const char *version,
    import_progress_fn progress, void *arg, char *err, size_t errlen)
{
	const struct import_options *opt = im->opt;
	struct archive_entry *entry;
	struct import_progress *p;
	struct stat sb;
	bool use_stdin = strcmp(im->path, "-") == 0;

	if (sink_new(im->st, opt, IMAGE_KIND_DISK, name, version, 0, progress,
	    arg, &im->sink, err, errlen) < 0)
		return -1;
	p = sink_progress(im->sink);
	if (!use_stdin && stat(im->path, &sb) == 0 && S_ISREG(sb.st_mode))
		p->input_size = (uint64_t)sb.st_size;
	im->a = archive_read_new();
	im->buf = malloc(opt->chunk_size);
	if (!im->a || !im->buf)
		FAIL("out of memory");

	archive_read_support_filter_all(im->a);
	archive_read_support_format_raw(im->a);
	archive_read_support_format_empty(im->a); /* a 0-byte image */
	if (archive_read_open_filename(im->a, use_stdin ? NULL : im->path,
	    IMPORT_READ_BLOCK) != ARCHIVE_OK)
		FAIL("%s: %s", im->path,
		    archive_error_string(im->a) ? archive_error_string(im->a) :
		    strerror(errno));
	int r = archive_read_next_header(im->a, &entry);
	bool empty = r == ARCHIVE_EOF;
	if (r != ARCHIVE_OK && r != ARCHIVE_EOF)
		FAIL("%s: %s", im->path,
		    archive_error_string(im->a) ? archive_error_string(im->a) :
		    "cannot read");
	int nfilters = archive_filter_count(im->a);
	bool compressed = nfilters > 1 &&
	    archive_filter_code(im->a, 0) != ARCHIVE_FILTER_NONE;
	/* Only a single gzip stream over the file: its trailer covers it
	 * all. */
	im->gzip = !use_stdin && nfilters == 2 &&
	    archive_filter_code(im->a, 0) == ARCHIVE_FILTER_GZIP;
	if (im->gzip)
		crc32_init();

	bool first = true;
	while (!empty) {
		size_t n;
		if (read_chunk(im, &n, err, errlen) < 0)
			return -1;
		if (first && !compressed &&
		    check_uncompressed(im->path, im->buf, n, err, errlen) < 0)
			return -1;
		first = false;
		if (n == 0)
			break;
		if (im->gzip)
			im->crc = crc32_update(im->crc, im->buf, n);
		p->input_read = (uint64_t)archive_filter_bytes(im->a, -1);
		if (sink_write(im->sink, im->buf, n, err, errlen) < 0)
			return -1;
		if (n < opt->chunk_size)
			break;
	}
	if (empty && !compressed &&
	    check_uncompressed(im->path, NULL, 0, err, errlen) < 0)
		return -1;
	if (im->gzip) {
		uint32_t crc, isize;
		if (gzip_trailer(im->path, &crc, &isize) < 0)
			FAIL("%s: cannot read the gzip trailer", im->path);
		if (crc != im->crc || isize != (uint32_t)sink_bytes(im->sink))
			FAIL("%s: gzip check failed: the data does not match "
			    "the file's CRC-32 and size "
			    "(corrupt input; a multi-member gzip file is not "
			    "supported, recompress it)",
			    im->path);
	}
	p->input_read = (uint64_t)archive_filter_bytes(im->a, -1);
	return sink_finish(im->sink, &im->m, err, errlen);
}

int
import_disk_image(struct store *st, const char *path, const char *name,
    const char *version, const struct import_options *opt,
    import_progress_fn progress, void *arg, struct manifest **out, char *err,
    size_t errlen)
{
	struct import_options defaults;

	if (out)
		*out = NULL;
	if (!opt) {
		import_options_init(&defaults);
		opt = &defaults;
	}
	if (!path || !*path)
		FAIL("no input file");
	if (opt->kind != IMAGE_KIND_DISK)
		FAIL("only disk images can be imported so far");
	if (sink_check(st, opt, name, version, err, errlen) < 0)
		return -1;

	struct importer im = { .st = st, .path = path, .opt = opt };
	int r = run(&im, name, version, progress, arg, err, errlen);
	if (r == 0 && out) {
		*out = im.m;
		im.m = NULL;
	}
	importer_free(&im);
	return r;
}
