/*
 * chunks.c — GET and HEAD /chunks/{hash}: a stored chunk, what nodes fetch
 * while they reimage. Sent from its file with sendfile (http_reply_file:
 * no copy through rackd), ETag = hash, cached forever (content-addressed),
 * single byte ranges (206, or 416).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance/rackd.h"
#include "images/hash.h"

/* Digits only, no sign, no overflow. */
static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

enum chunks_range
chunks_parse_range(const char *hdr, uint64_t size, uint64_t *start,
    uint64_t *len)
{
	const char *spec, *dash;
	uint64_t a, b;

	if (hdr == NULL || strncmp(hdr, "bytes=", 6) != 0)
		return CHUNKS_WHOLE;	/* no range, or another unit */
	spec = hdr + 6;
	while (*spec == ' ')
		spec++;
	if (strchr(spec, ',') != NULL)
		return CHUNKS_WHOLE;	/* several ranges: all of it */
	if ((dash = strchr(spec, '-')) == NULL)
		return CHUNKS_UNSATISFIABLE;
	if (dash == spec) {		/* bytes=-N: the last N */
		if (parse_u64(dash + 1, strlen(dash + 1), &b) != 0 || b == 0 ||
		    size == 0)
			return CHUNKS_UNSATISFIABLE;
		if (b > size)
			b = size;
		*start = size - b;
		*len = b;
		return CHUNKS_PART;
	}
	if (parse_u64(spec, (size_t)(dash - spec), &a) != 0 || a >= size)
		return CHUNKS_UNSATISFIABLE;
	if (dash[1] == '\0')
		b = size - 1;
	else if (parse_u64(dash + 1, strlen(dash + 1), &b) != 0 || b < a)
		return CHUNKS_UNSATISFIABLE;
	if (b >= size)
		b = size - 1;
	*start = a;
	*len = b - a + 1;
	return CHUNKS_PART;
}

static int
etag_matches(const char *inm, const char *hash)
{
	const char *p;
	size_t hl = strlen(hash);

	if (inm == NULL)
		return 0;
	if (strcmp(inm, "*") == 0)
		return 1;
	for (p = inm; (p = strstr(p, hash)) != NULL; p += hl)
		if (p > inm && p[-1] == '"' && p[hl] == '"')
			return 1;
	return 0;
}

void
chunks_serve(struct req *r)
{
	const char *hash = http_param(r, 0);
	char path[PATH_MAX_RACKD], etag[HASH_HEX_LEN + 3];
	char crange[CONTENT_RANGE_MAX];
	uint64_t start = 0, len;
	struct stat st;
	int fd, status = 200;

	if (hash == NULL || !hash_hex_valid(hash)) {
		http_reply_error(r, 404, "not a chunk hash");
		return;
	}
	if (catalog_chunk_path(hash, path, sizeof(path)) != 0) {
		http_reply_error(r, 404, "not a chunk hash");
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			http_reply_error(r, 404, "no such chunk");
		else
			http_reply_error(r, 500, "cannot open the chunk: %s",
			    strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		http_reply_error(r, 500, "chunk is not a regular file");
		return;
	}
	snprintf(etag, sizeof(etag), "\"%s\"", hash);
	if (etag_matches(http_header(r, "If-None-Match"), hash)) {
		close(fd);
		http_add_header(r, "ETag", etag);
		http_reply_empty(r, 304);
		return;
	}
	len = (uint64_t)st.st_size;
	switch (chunks_parse_range(http_header(r, "Range"),
	    (uint64_t)st.st_size, &start, &len)) {
	case CHUNKS_WHOLE:
		break;
	case CHUNKS_PART:
		status = 206;
		snprintf(crange, sizeof(crange), "bytes %" PRIu64 "-%" PRIu64
		    "/%" PRIu64, start, start + len - 1, (uint64_t)st.st_size);
		break;
	case CHUNKS_UNSATISFIABLE:
		close(fd);
		snprintf(crange, sizeof(crange), "bytes */%" PRIu64,
		    (uint64_t)st.st_size);
		http_add_header(r, "Content-Range", crange);
		http_reply_error(r, 416, "range not satisfiable");
		return;
	}
	http_add_header(r, "ETag", etag);
	http_add_header(r, "Cache-Control",
	    "public, max-age=31536000, immutable");
	http_add_header(r, "Accept-Ranges", "bytes");
	if (status == 206)
		http_add_header(r, "Content-Range", crange);
	if (strcmp(http_method(r), "HEAD") != 0)
		http_stream_add(r, len);
	http_reply_file(r, status, fd, start, len, "application/zstd");
}
