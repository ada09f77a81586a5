/*
 * diskless_stream.c — GET /boot/{slot}/rootfs?from=K: the image of the
 * slot's active diskless job as one compressed stream. Every stored chunk
 * is one zstd frame, so the chunks' files sent back to back, in manifest
 * order, are one zstd stream; nothing is recompressed. The node still
 * verifies each chunk (one frame each) against the manifest, and after a
 * cut it asks again from the first chunk it lacks (?from=K). Holes are not
 * sent: the node knows them from the manifest. Only the node of the slot
 * may ask (links_node_check).
 */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance/rackd.h"
#include "db/db.h"
#include "images/hash.h"
#include "images/manifest.h"

struct rstream {
	size_t	 n, i;			/* chunks, the one being sent */
	char	(*hex)[HASH_HEX_LEN + 1];
	uint64_t *stored;
	int	 fd;			/* chunk i, or -1 */
	uint64_t off;			/* sent of chunk i */
	char	 slot[SLOT_NAME_MAX + 1];
};

static void
rstream_free(void *cls)
{
	struct rstream *s = cls;

	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->hex);
	free(s->stored);
	free(s);
}

static ssize_t
reader(void *cls, char *buf, size_t max)
{
	struct rstream *s = cls;
	char path[PATH_MAX_RACKD];
	struct stat st;
	ssize_t got;
	size_t want;

	while (s->i < s->n && s->stored[s->i] == s->off) {	/* next */
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		s->i++;
		s->off = 0;
	}
	if (s->i >= s->n)
		return HTTP_PULL_END;
	if (s->fd < 0) {
		if (catalog_chunk_path(s->hex[s->i], path, sizeof(path)) != 0 ||
		    (s->fd = open(path, O_RDONLY | O_CLOEXEC |
		    O_NOFOLLOW)) < 0 ||
		    fstat(s->fd, &st) != 0 ||
		    (uint64_t)st.st_size != s->stored[s->i]) {
			log_warnx("slot %s: rootfs stream: chunk %s is missing "
			    "or not its manifest's size; stream cut", s->slot,
			    s->hex[s->i]);
			return HTTP_PULL_ERROR;
		}
	}
	want = s->stored[s->i] - s->off < max ? (size_t)(s->stored[s->i] -
	    s->off) : max;
	got = pread(s->fd, buf, want, (off_t)s->off);
	if (got <= 0) {
		log_warnx("slot %s: rootfs stream: chunk %s unreadable; stream "
		    "cut", s->slot, s->hex[s->i]);
		return HTTP_PULL_ERROR;
	}
	s->off += (uint64_t)got;
	return got;
}

/* ?from=K: digits only; 0 when absent. */
static int
parse_from(const char *s, size_t *out)
{
	size_t v = 0, n = 0;

	*out = 0;
	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++) {
		if (!isdigit((unsigned char)s[n]) || n >= FROM_DIGITS_MAX)
			return -1;
		v = v * 10 + (size_t)(s[n] - '0');
	}
	if (n == 0)
		return -1;
	*out = v;
	return 0;
}

void
diskless_stream(struct req *r)
{
	const char *slot = http_param(r, 0);
	struct rstream *s = NULL;
	struct db_link link;
	struct db_job job;
	json_t *m = NULL, *chunks, *c;
	uint64_t total = 0;
	size_t from, i;
	char first[32];

	if (links_node_check(r, slot, &link) != 0)
		return;
	if (parse_from(http_query(r, "from"), &from) != 0) {
		http_reply_error(r, 400, "from: a chunk number");
		return;
	}
	if (db_job_active(slot, &job) != DB_OK ||
	    strcmp(job.action, job_action_name(JOB_DISKLESS)) != 0) {
		http_reply_error(r, 409,
		    "slot %s has no diskless boot under way", slot);
		return;
	}
	if ((m = catalog_manifest_json(job.image)) == NULL ||
	    !json_is_array(chunks = json_object_get(m, "chunks"))) {
		json_decref(m);
		http_reply_error(r, 404, "the image %s is not in the store",
		    job.image);
		return;
	}
	if (from > json_array_size(chunks)) {
		json_decref(m);
		http_reply_error(r, 400, "from: the image has %zu chunks",
		    json_array_size(chunks));
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto oom;
	s->fd = -1;
	snprintf(s->slot, sizeof(s->slot), "%s", slot);
	s->n = json_array_size(chunks) - from;
	if (s->n > 0 && ((s->hex = calloc(s->n, sizeof(*s->hex))) == NULL ||
	    (s->stored = calloc(s->n, sizeof(*s->stored))) == NULL))
		goto oom;
	for (i = 0; i < s->n; i++) {
		const char *h;
		c = json_array_get(chunks, from + i);
		h = json_string_value(json_object_get(c, "hash"));
		if (h == NULL || !hash_hex_valid(h) ||
		    !json_is_integer(json_object_get(c, "stored"))) {
			rstream_free(s);
			json_decref(m);
			http_reply_error(r, 500,
			    "the manifest of %s is damaged", job.image);
			return;
		}
		memcpy(s->hex[i], h, HASH_HEX_LEN + 1);
		s->stored[i] = (uint64_t)json_integer_value(json_object_get(c,
		    "stored"));
		total += s->stored[i];
	}
	json_decref(m);
	m = NULL;
	snprintf(first, sizeof(first), "%zu", from);
	http_add_header(r, "Cache-Control", "no-store");
	http_add_header(r, "X-Rackd-First-Chunk", first);
	/* s is the reply's from here on: rstream_free runs when it ends. */
	if (http_reply_pull(r, 200, "application/zstd", total,
	    ROOTFS_STREAM_BLOCK, reader, rstream_free, s) == NULL)
		return;
	if (strcmp(http_method(r), "HEAD") != 0) {
		http_stream_add(r, total);
		db_job_seen(job.id);
		log_info("slot %s: rootfs stream of %s from chunk %zu (%" PRIu64
		    " bytes)", slot, job.image, from, total);
	}
	return;
oom:
	json_decref(m);
	rstream_free(s);
	http_reply_error(r, 500, "out of memory");
}
