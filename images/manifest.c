/* images/manifest.c — image manifest: validation, JSON in (jansson) and out. */
#include "images/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "images/chunk.h"
#include "images/err.h"
#include "images/fail.h"
#include "images/file.h"

/* ---- names, kinds, times ---- */

static bool
name_char(char c, bool first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '.' || c == '_' || c == '+' || c == '-');
}

static bool
name_valid_n(const char *s, size_t len)
{
	if (!s || len == 0 || len > IMAGE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i], i == 0))
			return false;
	return true;
}

bool
image_name_valid(const char *name)
{
	return name && name_valid_n(name, strnlen(name, IMAGE_NAME_MAX + 1));
}

bool
image_version_valid(const char *version)
{
	return image_name_valid(version); /* same rule, kept apart on purpose */
}

/* Copies at most MANIFEST_SHOW_MAX characters of s into out, printable
 * ASCII only, so a hostile value cannot break the one-line error. */
static const char *
show(const char *s, size_t len, char *out, size_t outlen)
{
	size_t j = 0;
	for (size_t i = 0; i < len && j + 4 < outlen && i < MANIFEST_SHOW_MAX;
	    i++)
		out[j++] =
		    (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] : '?';
	if (len > MANIFEST_SHOW_MAX && j + 4 < outlen) {
		memcpy(out + j, "...", 3);
		j += 3;
	}
	out[j] = '\0';
	return out;
}

int
image_ref_parse(const char *ref, char *name, char *version, char *err,
    size_t errlen)
{
	char shown[MANIFEST_SHOW_MAX + 8];
	size_t len = ref ? strnlen(ref, IMAGE_REF_MAX + 1) : 0;

	if (!ref || len == 0) {
		snprintf(err, errlen, "empty image name");
		return -1;
	}
	show(ref, len, shown, sizeof shown);
	if (len > IMAGE_REF_MAX) {
		snprintf(err, errlen, "image reference \"%s\" is too long",
		    shown);
		return -1;
	}
	const char *colon = memchr(ref, ':', len);
	size_t nlen = colon ? (size_t)(colon - ref) : len;
	if (!name_valid_n(ref, nlen)) {
		snprintf(err, errlen,
		    "image reference \"%s\": the name must match "
		    "[A-Za-z0-9][A-Za-z0-9._+-]{0,63}",
		    shown);
		return -1;
	}
	if (colon && !name_valid_n(colon + 1, len - nlen - 1)) {
		snprintf(err, errlen,
		    "image reference \"%s\": the version must match "
		    "[A-Za-z0-9][A-Za-z0-9._+-]{0,63}",
		    shown);
		return -1;
	}
	memcpy(name, ref, nlen);
	name[nlen] = '\0';
	if (colon) {
		memcpy(version, colon + 1, len - nlen - 1);
		version[len - nlen - 1] = '\0';
	} else {
		version[0] = '\0';
	}
	return 0;
}

const char *
image_kind_name(enum image_kind kind)
{
	switch (kind) {
	case IMAGE_KIND_DISK:
		return "disk";
	case IMAGE_KIND_ROOTFS:
		return "rootfs";
	}
	return NULL;
}

int
image_kind_from_name(const char *s, enum image_kind *out)
{
	if (s && strcmp(s, "disk") == 0)
		*out = IMAGE_KIND_DISK;
	else if (s && strcmp(s, "rootfs") == 0)
		*out = IMAGE_KIND_ROOTFS;
	else
		return -1;
	return 0;
}

void
manifest_format_time(time_t t, char *buf, size_t buflen)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) ||
	    strftime(buf, buflen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		if (buflen)
			buf[0] = '\0';
	}
}

static int
digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool
manifest_time_valid(const char *s)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };

	if (!s || strnlen(s, MANIFEST_TIME_LEN + 1) != MANIFEST_TIME_LEN)
		return false;
	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return false;
	int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	int h = digits(s + 11, 2), mi = digits(s + 14, 2),
	    se = digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || se < 0 || se > 59)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	int maxd = mo == 2 && !leap ? 28 : mdays[mo - 1];
	return d <= maxd;
}

/* ---- building ---- */

struct manifest *
manifest_new(void)
{
	struct manifest *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->format = MANIFEST_FORMAT;
	m->kind = IMAGE_KIND_DISK;
	m->chunk_size = CHUNK_SIZE_DEFAULT;
	m->hash = HASH_ALG_DEFAULT;
	m->compression = IMAGE_COMPRESSION_ZSTD;
	manifest_format_time(time(NULL), m->created, sizeof m->created);
	return m;
}

int
manifest_add_chunk(struct manifest *m, const struct manifest_chunk *c)
{
	if (m->nchunks >= MANIFEST_MAX_CHUNKS) {
		errno = E2BIG;
		return -1;
	}
	if (m->nchunks == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		if (ncap > MANIFEST_MAX_CHUNKS)
			ncap = MANIFEST_MAX_CHUNKS;
		struct manifest_chunk *n = realloc(m->chunks, ncap * sizeof *n);
		if (!n)
			return -1;
		m->chunks = n;
		m->cap = ncap;
	}
	m->chunks[m->nchunks++] = *c;
	return 0;
}

void
manifest_free(struct manifest *m)
{
	if (!m)
		return;
	free(m->chunks);
	free(m->signature);
	free(m);
}

void
manifest_stats(const struct manifest *m, struct manifest_stats *st)
{
	memset(st, 0, sizeof *st);
	if (m->chunk_size)
		st->slots =
		    m->size / m->chunk_size + (m->size % m->chunk_size != 0);
	st->chunks = m->nchunks;
	st->holes = st->slots >= st->chunks ? st->slots - st->chunks : 0;
	for (size_t i = 0; i < m->nchunks; i++) {
		st->data_bytes += m->chunks[i].length;
		st->stored_bytes += m->chunks[i].stored;
	}
}

/* ---- validation ---- */

int
manifest_validate(const struct manifest *m, char *err, size_t errlen)
{
	char shown[MANIFEST_SHOW_MAX + 8];

	if (m->format != MANIFEST_FORMAT)
		FAIL("format: unsupported version %d (this build reads %d)",
		    m->format, MANIFEST_FORMAT);
	if (!image_name_valid(m->name))
		FAIL("name: \"%s\" is not a valid image name "
		    "([A-Za-z0-9][A-Za-z0-9._+-]{0,63})",
		    show(m->name, strnlen(m->name, sizeof m->name), shown,
		    sizeof shown));
	if (!image_version_valid(m->version))
		FAIL("version: \"%s\" is not a valid image version "
		    "([A-Za-z0-9][A-Za-z0-9._+-]{0,63})",
		    show(m->version, strnlen(m->version, sizeof m->version),
		    shown, sizeof shown));
	if (!image_kind_name(m->kind))
		FAIL("kind: unknown kind (must be \"disk\" or \"rootfs\")");
	if (m->compression != IMAGE_COMPRESSION_ZSTD)
		FAIL("compression: unknown compression (must be \"zstd\")");
	if (!hash_alg_valid((int)m->hash))
		FAIL("hash: unknown algorithm (must be \"blake2b-256\" or "
		    "\"sha256\")");
	if (!chunk_size_valid(m->chunk_size))
		FAIL("chunk_size: %" PRIu32
		    " is not a power of two between %u and %u",
		    m->chunk_size, CHUNK_SIZE_MIN, CHUNK_SIZE_MAX);
	if (m->size > MANIFEST_MAX_SIZE)
		FAIL("size: %" PRIu64 " is larger than the limit of %" PRIu64,
		    m->size, MANIFEST_MAX_SIZE);
	if (!manifest_time_valid(m->created))
		FAIL("created: \"%s\" is not a UTC time of the form "
		    "YYYY-MM-DDTHH:MM:SSZ",
		    show(m->created, strnlen(m->created, sizeof m->created),
		    shown, sizeof shown));
	if (m->nchunks > MANIFEST_MAX_CHUNKS)
		FAIL("chunks: %zu entries, more than the limit of %u",
		    m->nchunks, MANIFEST_MAX_CHUNKS);
	if (m->nchunks && !m->chunks)
		FAIL("chunks: missing");

	for (size_t i = 0; i < m->nchunks; i++) {
		const struct manifest_chunk *c = &m->chunks[i];
		if (c->offset % m->chunk_size != 0)
			FAIL("chunks[%zu].offset: %" PRIu64
			    " is not a multiple of chunk_size %" PRIu32,
			    i, c->offset, m->chunk_size);
		if (c->offset >= m->size)
			FAIL("chunks[%zu].offset: %" PRIu64
			    " is outside the image (size %" PRIu64 ")",
			    i, c->offset, m->size);
		if (i > 0 && c->offset == m->chunks[i - 1].offset)
			FAIL("chunks[%zu].offset: %" PRIu64
			    " overlaps chunks[%zu]",
			    i, c->offset, i - 1);
		if (i > 0 && c->offset < m->chunks[i - 1].offset)
			FAIL("chunks[%zu].offset: %" PRIu64
			    " comes before chunks[%zu].offset %" PRIu64
			    " (chunks must be ordered by offset)",
			    i, c->offset, i - 1, m->chunks[i - 1].offset);
		if (c->length == 0)
			FAIL("chunks[%zu].length: must be at least 1", i);
		if (c->length > m->chunk_size)
			FAIL("chunks[%zu].length: %" PRIu32
			    " is larger than chunk_size %" PRIu32,
			    i, c->length, m->chunk_size);
		uint64_t rest = m->size - c->offset;
		uint64_t want = rest < m->chunk_size ? rest : m->chunk_size;
		if (c->length > rest)
			FAIL("chunks[%zu].length: %" PRIu32
			    " runs past the end of the image (size %" PRIu64
			    ")", i, c->length, m->size);
		if (c->length != want)
			FAIL("chunks[%zu].length: %" PRIu32
			    ", but the chunk at offset %" PRIu64
			    " must be %" PRIu64 " bytes (a whole chunk slot)",
			    i, c->length, c->offset, want);
		if (c->stored == 0)
			FAIL("chunks[%zu].stored: must be at least 1", i);
		if (c->stored > chunk_compress_bound(c->length))
			FAIL("chunks[%zu].stored: %" PRIu32
			    " is larger than a zstd frame of %" PRIu32
			    " bytes can be",
			    i, c->stored, c->length);
	}
	if (m->signature &&
	    strnlen(m->signature, MANIFEST_MAX_SIGNATURE + 1) >
	    MANIFEST_MAX_SIGNATURE)
		FAIL("signature: larger than %u bytes", MANIFEST_MAX_SIGNATURE);
	return 0;
}

/* ---- parsing ---- */

static const char *const top_fields[] = {
	"format",
	"name",
	"version",
	"kind",
	"size",
	"chunk_size",
	"hash",
	"compression",
	"created",
	"chunks",
	"signature",
};
static const char *const chunk_fields[] = { "offset", "length", "hash",
	"stored" };

static bool
known(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, list[i]) == 0)
			return true;
	return false;
}

/* where: "size" or "chunks[3].offset". */
static int
get_uint(json_t *obj, const char *key, const char *where, uint64_t max,
    uint64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		FAIL("%s: missing", where);
	if (!json_is_integer(v))
		FAIL("%s: must be an integer", where);
	json_int_t i = json_integer_value(v);
	if (i < 0)
		FAIL("%s: must not be negative (%lld)", where, (long long)i);
	if ((uint64_t)i > max)
		FAIL("%s: %lld is larger than the limit of %" PRIu64, where,
		    (long long)i, max);
	*out = (uint64_t)i;
	return 0;
}

static int
get_string(json_t *obj, const char *key, const char *where, size_t maxlen,
    char *out, size_t outlen, char *err, size_t errlen)
{
	char shown[MANIFEST_SHOW_MAX + 8];
	json_t *v = json_object_get(obj, key);
	if (!v)
		FAIL("%s: missing", where);
	if (!json_is_string(v))
		FAIL("%s: must be a string", where);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (strlen(s) != len)
		FAIL("%s: contains a NUL character", where);
	if (len > maxlen || len >= outlen)
		FAIL("%s: \"%s\" is too long (at most %zu characters)", where,
		    show(s, len, shown, sizeof shown), maxlen);
	memcpy(out, s, len + 1);
	return 0;
}

static int
check_fields(json_t *obj, const char *where, const char *const *list, size_t n,
    char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	char shown[MANIFEST_SHOW_MAX + 8];

	json_object_foreach(obj, key, v)
	{
		if (!known(key, list, n))
			FAIL("%s%sunknown field \"%s\"", where,
			    *where ? ": " : "",
			    show(key, strlen(key), shown, sizeof shown));
	}
	return 0;
}

static int
parse_chunk(json_t *jc, size_t i, struct manifest_chunk *c, char *err,
    size_t errlen)
{
	char where[48], field[64], hex[HASH_HEX_LEN + 2],
	    shown[MANIFEST_SHOW_MAX + 8];
	uint64_t v;

	snprintf(where, sizeof where, "chunks[%zu]", i);
	if (!json_is_object(jc))
		FAIL("%s: must be an object", where);
	if (check_fields(jc, where, chunk_fields,
	    sizeof chunk_fields / sizeof chunk_fields[0], err, errlen) < 0)
		return -1;
	snprintf(field, sizeof field, "%s.offset", where);
	if (get_uint(jc, "offset", field, MANIFEST_MAX_SIZE, &v, err, errlen) <
	    0)
		return -1;
	c->offset = v;
	snprintf(field, sizeof field, "%s.length", where);
	if (get_uint(jc, "length", field, UINT32_MAX, &v, err, errlen) < 0)
		return -1;
	c->length = (uint32_t)v;
	snprintf(field, sizeof field, "%s.hash", where);
	json_t *h = json_object_get(jc, "hash");
	if (!h)
		FAIL("%s: missing", field);
	if (!json_is_string(h))
		FAIL("%s: must be a string", field);
	if (json_string_length(h) != HASH_HEX_LEN ||
	    !hash_hex_valid(json_string_value(h)))
		FAIL("%s: \"%s\" is not 64 lowercase hex characters", field,
		    show(json_string_value(h), json_string_length(h), shown,
		    sizeof shown));
	memcpy(hex, json_string_value(h), HASH_HEX_LEN + 1);
	hash_from_hex(hex, c->hash);
	snprintf(field, sizeof field, "%s.stored", where);
	if (get_uint(jc, "stored", field, UINT32_MAX, &v, err, errlen) < 0)
		return -1;
	c->stored = (uint32_t)v;
	return 0;
}

static int
parse_root(json_t *root, struct manifest *m, char *err, size_t errlen)
{
	char s[IMAGE_NAME_MAX + 1], shown[MANIFEST_SHOW_MAX + 8];
	uint64_t v;

	if (!json_is_object(root))
		FAIL("manifest: must be a JSON object");
	/* The format first: a newer manifest should say so, not trip on a
	 * field this build does not know. */
	json_t *f = json_object_get(root, "format");
	if (!f)
		FAIL("format: missing");
	if (!json_is_integer(f))
		FAIL("format: must be an integer");
	if (json_integer_value(f) != MANIFEST_FORMAT)
		FAIL("format: unsupported version %lld (this build reads %d)",
		    (long long)json_integer_value(f), MANIFEST_FORMAT);
	m->format = MANIFEST_FORMAT;
	if (check_fields(root, "", top_fields,
	    sizeof top_fields / sizeof top_fields[0], err, errlen) < 0)
		return -1;

	if (get_string(root, "name", "name", IMAGE_NAME_MAX, m->name,
	    sizeof m->name, err, errlen) < 0)
		return -1;
	if (!image_name_valid(m->name))
		FAIL("name: \"%s\" is not a valid image name "
		    "([A-Za-z0-9][A-Za-z0-9._+-]{0,63})",
		    show(m->name, strlen(m->name), shown, sizeof shown));
	if (get_string(root, "version", "version", IMAGE_NAME_MAX, m->version,
	    sizeof m->version, err, errlen) < 0)
		return -1;
	if (!image_version_valid(m->version))
		FAIL("version: \"%s\" is not a valid image version "
		    "([A-Za-z0-9][A-Za-z0-9._+-]{0,63})",
		    show(m->version, strlen(m->version), shown, sizeof shown));
	if (get_string(root, "kind", "kind", IMAGE_NAME_MAX, s, sizeof s, err,
	    errlen) < 0)
		return -1;
	if (image_kind_from_name(s, &m->kind) < 0)
		FAIL("kind: \"%s\" is not \"disk\" or \"rootfs\"",
		    show(s, strlen(s), shown, sizeof shown));
	if (get_uint(root, "size", "size", MANIFEST_MAX_SIZE, &m->size, err,
	    errlen) < 0)
		return -1;
	if (get_uint(root, "chunk_size", "chunk_size", CHUNK_SIZE_MAX, &v, err,
	    errlen) < 0)
		return -1;
	m->chunk_size = (uint32_t)v;
	if (!chunk_size_valid(m->chunk_size))
		FAIL("chunk_size: %" PRIu32
		    " is not a power of two between %u and %u",
		    m->chunk_size, CHUNK_SIZE_MIN, CHUNK_SIZE_MAX);
	if (get_string(root, "hash", "hash", HASH_NAME_MAX, s, sizeof s, err,
	    errlen) < 0)
		return -1;
	if (hash_alg_from_name(s, &m->hash) < 0)
		FAIL("hash: \"%s\" is not \"blake2b-256\" or \"sha256\"",
		    show(s, strlen(s), shown, sizeof shown));
	if (get_string(root, "compression", "compression", IMAGE_NAME_MAX, s,
	    sizeof s, err, errlen) < 0)
		return -1;
	if (strcmp(s, "zstd") != 0)
		FAIL("compression: \"%s\" is not \"zstd\"",
		    show(s, strlen(s), shown, sizeof shown));
	m->compression = IMAGE_COMPRESSION_ZSTD;
	if (get_string(root, "created", "created", MANIFEST_TIME_LEN + 8, s,
	    sizeof s, err, errlen) < 0)
		return -1;
	if (!manifest_time_valid(s))
		FAIL("created: \"%s\" is not a UTC time of the form "
		    "YYYY-MM-DDTHH:MM:SSZ",
		    show(s, strlen(s), shown, sizeof shown));
	memcpy(m->created, s, MANIFEST_TIME_LEN + 1);

	json_t *chunks = json_object_get(root, "chunks");
	if (!chunks)
		FAIL("chunks: missing");
	if (!json_is_array(chunks))
		FAIL("chunks: must be an array");
	size_t n = json_array_size(chunks);
	if (n > MANIFEST_MAX_CHUNKS)
		FAIL("chunks: %zu entries, more than the limit of %u", n,
		    MANIFEST_MAX_CHUNKS);
	if (n) {
		m->chunks = calloc(n, sizeof *m->chunks);
		if (!m->chunks)
			FAIL("chunks: out of memory for %zu entries", n);
		m->cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		if (parse_chunk(json_array_get(chunks, i), i, &m->chunks[i],
		    err, errlen) < 0)
			return -1;
		m->nchunks++;
	}

	json_t *sig = json_object_get(root, "signature");
	if (sig) {
		if (!json_is_object(sig))
			FAIL("signature: must be an object");
		m->signature = json_dumps(sig, JSON_COMPACT | JSON_SORT_KEYS |
		    JSON_ENSURE_ASCII);
		if (!m->signature)
			FAIL("signature: out of memory");
	}
	return manifest_validate(m, err, errlen);
}

int
manifest_parse(const char *buf, size_t len, struct manifest **out, char *err,
    size_t errlen)
{
	json_error_t je;

	*out = NULL;
	if (len > MANIFEST_MAX_BYTES)
		FAIL("manifest: %zu bytes, more than the limit of %u", len,
		    MANIFEST_MAX_BYTES);
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		/* jansson quotes the offending input: keep the error one
		 * line */
		for (char *p = je.text; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		FAIL("manifest: not valid JSON: %s (line %d, column %d)",
		    je.text, je.line, je.column);
	}
	struct manifest *m = calloc(1, sizeof *m);
	if (!m) {
		json_decref(root);
		FAIL("manifest: out of memory");
	}
	int r = parse_root(root, m, err, errlen);
	json_decref(root);
	if (r < 0) {
		manifest_free(m);
		return -1;
	}
	*out = m;
	return 0;
}

int
manifest_load(const char *path, struct manifest **out, char *err, size_t errlen)
{
	char perr[IMG_ERR_MAX];
	void *buf;
	size_t len;

	*out = NULL;
	if (read_whole_file(path, MANIFEST_MAX_BYTES, &buf, &len, err,
	    errlen) < 0)
		return -1;
	int r = manifest_parse(buf, len, out, perr, sizeof perr);
	free(buf);
	if (r < 0)
		FAIL("%s: %s", path, perr);
	return 0;
}

/* ---- writing ---- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->oom)
		return;
	for (int tries = 0; tries < 2; tries++) {
		va_start(ap, fmt);
		int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = b->cap * 2 + (size_t)n + 1;
		char *np = realloc(b->p, ncap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	b->oom = true;
}

char *
manifest_to_json(const struct manifest *m)
{
	struct sbuf b = { 0 };
	char hex[HASH_HEX_LEN + 1];
	const char *kind = image_kind_name(m->kind),
		   *hash = hash_alg_name(m->hash);

	b.cap =
	    1024 + m->nchunks * 140 + (m->signature ? strlen(m->signature) : 0);
	b.p = malloc(b.cap);
	if (!b.p)
		return NULL;
	b.p[0] = '\0';
	/* Names, versions and times are restricted to characters that need
	 * no JSON escaping; manifest_validate guarantees it. */
	sb_printf(&b,
	    "{\n"
	    "  \"format\": %d,\n"
	    "  \"name\": \"%s\",\n"
	    "  \"version\": \"%s\",\n"
	    "  \"kind\": \"%s\",\n"
	    "  \"size\": %" PRIu64 ",\n"
	    "  \"chunk_size\": %" PRIu32 ",\n"
	    "  \"hash\": \"%s\",\n"
	    "  \"compression\": \"zstd\",\n"
	    "  \"created\": \"%s\",\n"
	    "  \"chunks\": [",
	    m->format, m->name, m->version, kind ? kind : "", m->size,
	    m->chunk_size, hash ? hash : "", m->created);
	for (size_t i = 0; i < m->nchunks; i++) {
		const struct manifest_chunk *c = &m->chunks[i];
		hash_to_hex(c->hash, hex);
		sb_printf(&b,
		    "%s\n    {\"offset\": %" PRIu64 ", \"length\": %" PRIu32
		    ", \"hash\": \"%s\", \"stored\": %" PRIu32 "}",
		    i ? "," : "", c->offset, c->length, hex, c->stored);
	}
	sb_printf(&b, "%s]", m->nchunks ? "\n  " : "");
	if (m->signature)
		sb_printf(&b, ",\n  \"signature\": %s", m->signature);
	sb_printf(&b, "\n}\n");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
