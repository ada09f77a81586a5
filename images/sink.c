/* images/sink.c — an image's byte stream into the store (images/sink.h). */
#include "images/sink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/chunk.h"
#include "images/fail.h"

struct sink {
	struct store *st;
	struct import_options opt;
	uint64_t max_size;
	import_progress_fn progress;
	void *arg;
	unsigned char *buf; /* the chunk being filled */
	size_t fill;
	unsigned char *cbuf; /* its compressed form */
	size_t cbufcap;
	struct chunk_codec *codec;
	struct manifest *m;
	struct import_progress p;
};

int
sink_check(struct store *st, const struct import_options *opt,
    const char *name, const char *version, char *err, size_t errlen)
{
	if (!image_name_valid(name))
		FAIL("image name \"%.64s\" must match "
		    "[A-Za-z0-9][A-Za-z0-9._+-]{0,63}",
		    name ? name : "");
	if (!image_version_valid(version))
		FAIL("image version \"%.64s\" must match "
		    "[A-Za-z0-9][A-Za-z0-9._+-]{0,63}",
		    version ? version : "");
	if (!chunk_size_valid(opt->chunk_size))
		FAIL("chunk size %u is not a power of two between %u and %u",
		    opt->chunk_size, CHUNK_SIZE_MIN, CHUNK_SIZE_MAX);
	if (!chunk_level_valid(opt->level))
		FAIL("compression level %d is outside %d..%d", opt->level,
		    CHUNK_LEVEL_MIN, CHUNK_LEVEL_MAX);
	if (!hash_alg_valid((int)opt->hash))
		FAIL("unknown hash algorithm");
	if (store_has_manifest(st, name, version))
		FAIL("image %s:%s already exists in the store", name, version);
	return 0;
}

int
sink_new(struct store *st, const struct import_options *opt,
    enum image_kind kind, const char *name, const char *version,
    uint64_t max_size, import_progress_fn progress, void *arg,
    struct sink **out, char *err, size_t errlen)
{
	struct sink *s = calloc(1, sizeof *s);

	*out = NULL;
	if (!s)
		FAIL("out of memory");
	s->st = st;
	s->opt = *opt;
	s->max_size = max_size && max_size < MANIFEST_MAX_SIZE ?
	    max_size : MANIFEST_MAX_SIZE;
	s->progress = progress;
	s->arg = arg;
	s->buf = malloc(opt->chunk_size);
	s->cbufcap = chunk_compress_bound(opt->chunk_size);
	s->cbuf = malloc(s->cbufcap);
	s->codec = chunk_codec_new();
	s->m = manifest_new();
	if (!s->buf || !s->cbuf || !s->codec || !s->m) {
		sink_free(s);
		FAIL("out of memory");
	}
	snprintf(s->m->name, sizeof s->m->name, "%s", name);
	snprintf(s->m->version, sizeof s->m->version, "%s", version);
	s->m->kind = kind;
	s->m->chunk_size = opt->chunk_size;
	s->m->hash = opt->hash;
	if (opt->created)
		manifest_format_time(opt->created, s->m->created,
		    sizeof s->m->created);
	*out = s;
	return 0;
}

void
sink_free(struct sink *s)
{
	if (!s)
		return;
	free(s->buf);
	free(s->cbuf);
	chunk_codec_free(s->codec);
	manifest_free(s->m);
	free(s);
}

struct import_progress *
sink_progress(struct sink *s)
{
	return &s->p;
}

uint64_t
sink_bytes(const struct sink *s)
{
	return s->p.bytes_read + s->fill;
}

/* The filled chunk: a hole, or hashed, compressed and stored. */
static int
flush_chunk(struct sink *s, char *err, size_t errlen)
{
	uint64_t offset = s->p.bytes_read;
	size_t n = s->fill;
	struct manifest_chunk c = { .offset = offset, .length = (uint32_t)n };
	char hex[HASH_HEX_LEN + 1], e2[200];
	uint64_t have;

	if (n == 0)
		return 0;
	s->fill = 0;
	s->p.bytes_read += n;
	if (chunk_is_zero(s->buf, n)) {
		s->p.holes++;
	} else {
		if (hash_buffer(s->opt.hash, s->buf, n, c.hash) < 0)
			FAIL("hash failed");
		hash_to_hex(c.hash, hex);
		if (store_chunk_size(s->st, hex, &have) == 0) {
			if (have == 0 || have > chunk_compress_bound(n))
				FAIL("chunk %s in the store is damaged (%llu "
				    "bytes); remove it and import again",
				    hex, (unsigned long long)have);
			c.stored = (uint32_t)have;
		} else {
			size_t clen;
			bool added;
			if (chunk_compress(s->codec, s->buf, n, s->opt.level,
			    s->cbuf, s->cbufcap, &clen, e2, sizeof e2) < 0)
				FAIL("chunk at offset %llu: %s",
				    (unsigned long long)offset, e2);
			if (store_put_chunk(s->st, hex, s->cbuf, clen, &added,
			    err, errlen) < 0)
				return -1;
			c.stored = (uint32_t)clen;
			if (added) {
				s->p.new_chunks++;
				s->p.new_bytes += clen;
			}
		}
		if (manifest_add_chunk(s->m, &c) < 0) {
			if (errno == E2BIG)
				FAIL("more than %u data chunks; use a "
				    "larger chunk size", MANIFEST_MAX_CHUNKS);
			FAIL("out of memory");
		}
		s->p.chunks++;
		s->p.stored_bytes += c.stored;
	}
	if (s->progress && s->progress(&s->p, s->arg) != 0)
		FAIL("import cancelled");
	return 0;
}

int
sink_write(struct sink *s, const void *data, size_t len, char *err,
    size_t errlen)
{
	const unsigned char *p = data;

	if (len > s->max_size - sink_bytes(s))
		FAIL("the image would be larger than the limit of %llu bytes",
		    (unsigned long long)s->max_size);
	while (len) {
		size_t n = s->opt.chunk_size - s->fill;
		if (n > len)
			n = len;
		memcpy(s->buf + s->fill, p, n);
		s->fill += n;
		p += n;
		len -= n;
		if (s->fill == s->opt.chunk_size &&
		    flush_chunk(s, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int
sink_finish(struct sink *s, struct manifest **out, char *err, size_t errlen)
{
	if (out)
		*out = NULL;
	if (flush_chunk(s, err, errlen) < 0)
		return -1;
	s->m->size = s->p.bytes_read;
	if (store_put_manifest(s->st, s->m, err, errlen) < 0)
		return -1;
	s->p.done = true;
	if (s->progress)
		s->progress(&s->p, s->arg);
	if (out) {
		*out = s->m;
		s->m = NULL;
	}
	return 0;
}
