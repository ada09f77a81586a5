/* images/rootfs_import.c — a root file system tarball into a rootfs image
 * through libarchive (see images/rootfs.h for the rules).
 *
 * First read: every member's header goes to a rootfs_tree, which decides
 * what is kept. Second read: the kept members are written, with their
 * data, as a cpio "newc" stream into a sink that chunks it into the store.
 * Nothing is extracted anywhere. */
#include "images/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "images/chunk.h"
#include "images/fail.h"
#include "images/sink.h"

void
rootfs_options_init(struct rootfs_options *ro)
{
	memset(ro, 0, sizeof *ro);
	ro->max_size = ROOTFS_MAX_SIZE_DEFAULT;
}

struct rimport {
	struct store *st;
	const char *path;
	int fd;
	uint64_t file_size, max_size;
	struct rootfs_tree *tree;
	struct sink *sink;
	import_progress_fn progress;
	void *arg;
	struct archive *a; /* the tarball being read */
	struct archive *w; /* the cpio stream being written */
	struct archive_entry *out;
	unsigned char *buf;
	/* the sink's error, from the write callback */
	char werr[ROOTFS_WHY_MAX];
};

static const char *
aerr(struct archive *a)
{
	const char *s = archive_error_string(a);
	return s ? s : "unknown error";
}

static int
open_read(struct rimport *im, char *err, size_t errlen)
{
	if (im->a)
		archive_read_free(im->a);
	if (lseek(im->fd, 0, SEEK_SET) != 0)
		FAIL("%s: cannot rewind: %s", im->path, strerror(errno));
	if (!(im->a = archive_read_new()))
		FAIL("out of memory");
	archive_read_support_filter_all(im->a);
	archive_read_support_format_tar(im->a);
	if (archive_read_open_fd(im->a, im->fd, ROOTFS_READ_BLOCK) !=
	    ARCHIVE_OK)
		FAIL("%s: %s", im->path, aerr(im->a));
	return 0;
}

/* Decompressed bytes so far within the limit. */
static int
check_unpacked(struct rimport *im, char *err, size_t errlen)
{
	uint64_t n = (uint64_t)archive_filter_bytes(im->a, 0);
	if (n > im->max_size)
		FAIL("%s: the tarball unpacks to more than the limit of %llu "
		    "bytes (max size)",
		    im->path, (unsigned long long)im->max_size);
	return 0;
}

static uint32_t
id32(la_int64_t v)
{
	return v < 0 || (uint64_t)v > ROOTFS_NEWC_FIELD_MAX ? ROOTFS_ID_NOBODY :
	    (uint32_t)v;
}

static void
entry_meta(struct archive_entry *e, struct rootfs_meta *m, const char **link)
{
	const char *hl = archive_entry_hardlink(e);
	la_int64_t t = archive_entry_mtime(e), sz = archive_entry_size(e);

	memset(m, 0, sizeof *m);
	*link = NULL;
	if (hl) {
		m->type = ROOTFS_HARDLINK;
		*link = hl;
	} else {
		switch (archive_entry_filetype(e)) {
		case AE_IFREG:
			m->type = ROOTFS_REG;
			break;
		case AE_IFDIR:
			m->type = ROOTFS_DIR;
			break;
		case AE_IFLNK:
			m->type = ROOTFS_SYMLINK;
			*link = archive_entry_symlink(e);
			break;
		case AE_IFIFO:
			m->type = ROOTFS_FIFO;
			break;
		case AE_IFCHR:
		case AE_IFBLK:
			m->type = ROOTFS_DEVICE;
			break;
		default:
			m->type = ROOTFS_OTHER;
			break;
		}
	}
	m->perm = (uint32_t)archive_entry_perm(e) & 07777;
	m->uid = id32(archive_entry_uid(e));
	m->gid = id32(archive_entry_gid(e));
	m->mtime = t < 0 ? 0 :
	    (uint64_t)t > ROOTFS_NEWC_FIELD_MAX ?
	    (int64_t)ROOTFS_NEWC_FIELD_MAX : t;
	m->size = m->type == ROOTFS_REG && archive_entry_size_is_set(e) &&
	    sz > 0 ? (uint64_t)sz : 0;
}

static void
report(struct rimport *im, uint64_t base)
{
	struct import_progress *p = sink_progress(im->sink);
	p->input_size = 2 * im->file_size;
	p->input_read = base + (uint64_t)archive_filter_bytes(im->a, -1);
	if (p->input_read > p->input_size)
		p->input_read = p->input_size;
}

/* First read: the tree. */
static int
scan(struct rimport *im, char *err, size_t errlen)
{
	struct archive_entry *e;
	uint64_t data = 0;
	int r;

	if (open_read(im, err, errlen) < 0)
		return -1;
	while ((r = archive_read_next_header(im->a, &e)) == ARCHIVE_OK ||
	    r == ARCHIVE_WARN) {
		struct rootfs_meta m;
		const char *link, *name = archive_entry_pathname(e);

		entry_meta(e, &m, &link);
		if (rootfs_tree_add(im->tree, name ? name : "", &m, link, err,
		    errlen) < 0)
			return -1;
		if (m.size > im->max_size - data)
			FAIL("%s: the files of the tarball hold more than the "
			    "limit of %llu bytes (max size)",
			    im->path, (unsigned long long)im->max_size);
		data += m.size;
		if (check_unpacked(im, err, errlen) < 0)
			return -1;
		if (rootfs_tree_members(im->tree) %
		    ROOTFS_PROGRESS_MEMBERS == 0 && im->progress) {
			report(im, 0);
			if (im->progress(sink_progress(im->sink), im->arg) != 0)
				FAIL("import cancelled");
		}
	}
	if (r != ARCHIVE_EOF)
		FAIL("%s: %s", im->path, aerr(im->a));
	if (check_unpacked(im, err, errlen) < 0)
		return -1;
	if (rootfs_tree_members(im->tree) == 0)
		FAIL("%s: the tarball has no members", im->path);
	return rootfs_tree_resolve(im->tree, err, errlen);
}

static la_ssize_t
write_cb(struct archive *w, void *arg, const void *buf, size_t len)
{
	struct rimport *im = arg;
	(void)w;
	if (sink_write(im->sink, buf, len, im->werr, sizeof im->werr) < 0)
		return -1;
	return (la_ssize_t)len;
}

/* The writer's error: the sink's if it failed, else libarchive's. */
static int
werror(struct rimport *im, const char *what, char *err, size_t errlen)
{
	char pn[160];
	if (im->werr[0])
		FAIL("%s", im->werr);
	FAIL("cannot write '%s' to the image: %s",
	    rootfs_printable(what, pn, sizeof pn), aerr(im->w));
}

struct emit_ctx {
	struct rimport *im;
	char *err;
	size_t errlen;
};

static int
emit_cb(const struct rootfs_emit *x, void *arg)
{
	struct emit_ctx *c = arg;
	struct rimport *im = c->im;
	struct archive_entry *o = im->out;
	char *err = c->err, pn[160];
	size_t errlen = c->errlen;

	archive_entry_clear(o);
	archive_entry_set_pathname(o, x->path);
	switch (x->meta.type) {
	case ROOTFS_DIR:
		archive_entry_set_filetype(o, AE_IFDIR);
		archive_entry_set_size(o, 0);
		break;
	case ROOTFS_SYMLINK:
		archive_entry_set_filetype(o, AE_IFLNK);
		archive_entry_set_symlink(o, x->symlink);
		archive_entry_set_size(o, (la_int64_t)strlen(x->symlink));
		break;
	case ROOTFS_FIFO:
		archive_entry_set_filetype(o, AE_IFIFO);
		archive_entry_set_size(o, 0);
		break;
	default:
		archive_entry_set_filetype(o, AE_IFREG);
		archive_entry_set_size(o, (la_int64_t)x->meta.size);
		break;
	}
	archive_entry_set_perm(o, x->meta.type == ROOTFS_SYMLINK ? 0777 :
	    (mode_t)x->meta.perm);
	archive_entry_set_uid(o, x->meta.uid);
	archive_entry_set_gid(o, x->meta.gid);
	archive_entry_set_mtime(o, (time_t)x->meta.mtime, 0);
	archive_entry_set_ino(o, x->ino);
	archive_entry_set_nlink(o, x->nlink);
	if (archive_write_header(im->w, o) < ARCHIVE_WARN)
		return werror(im, x->path, err, errlen);
	if (!x->data)
		return 0;
	uint64_t left = x->meta.size;
	while (left) {
		size_t want =
		    left < ROOTFS_COPY_BLOCK ? (size_t)left : ROOTFS_COPY_BLOCK;
		la_ssize_t n = archive_read_data(im->a, im->buf, want);
		if (n < 0)
			FAIL("%s: reading '%s': %s", im->path,
			    rootfs_printable(x->path, pn, sizeof pn),
			    aerr(im->a));
		if (n == 0)
			FAIL("%s: '%s' ends %llu bytes early "
			    "(truncated tarball?)", im->path,
			    rootfs_printable(x->path, pn, sizeof pn),
			    (unsigned long long)left);
		if (archive_write_data(im->w, im->buf, (size_t)n) != n)
			return werror(im, x->path, err, errlen);
		left -= (uint64_t)n;
	}
	return 0;
}

/* Second read: the cpio stream. */
static int
copy(struct rimport *im, char *err, size_t errlen)
{
	struct archive_entry *e;
	struct emit_ctx c = { im, err, errlen };
	size_t i = 0, members = rootfs_tree_members(im->tree);
	int r;

	if (open_read(im, err, errlen) < 0)
		return -1;
	if (!(im->w = archive_write_new()) ||
	    !(im->out = archive_entry_new()) ||
	    !(im->buf = malloc(ROOTFS_COPY_BLOCK)))
		FAIL("out of memory");
	if (archive_write_set_format_cpio_newc(im->w) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(im->w, 0) != ARCHIVE_OK ||
	    archive_write_open2(im->w, im, NULL, write_cb, NULL, NULL) !=
	    ARCHIVE_OK)
		FAIL("cannot start the cpio stream: %s", aerr(im->w));
	while ((r = archive_read_next_header(im->a, &e)) == ARCHIVE_OK ||
	    r == ARCHIVE_WARN) {
		struct rootfs_meta m;
		enum rootfs_type type;
		uint64_t size;
		const char *link;

		entry_meta(e, &m, &link);
		if (rootfs_tree_member(im->tree, i, &type, &size) < 0 ||
		    type != m.type || size != m.size)
			FAIL("%s: the tarball changed between its two reads",
			    im->path);
		if ((r = rootfs_tree_plan(im->tree, i, emit_cb, &c)) != 0)
			return r < 0 ? -1 : r;
		i++;
		if (check_unpacked(im, err, errlen) < 0)
			return -1;
		report(im, im->file_size);
	}
	if (r != ARCHIVE_EOF)
		FAIL("%s: %s", im->path, aerr(im->a));
	if (i != members)
		FAIL("%s: the tarball changed between its two reads", im->path);
	if (archive_write_close(im->w) != ARCHIVE_OK)
		return werror(im, "the end of the archive", err, errlen);
	return 0;
}

static void
rimport_free(struct rimport *im)
{
	if (im->a)
		archive_read_free(im->a);
	if (im->w)
		archive_write_free(im->w);
	if (im->out)
		archive_entry_free(im->out);
	free(im->buf);
	sink_free(im->sink);
	rootfs_tree_free(im->tree);
	if (im->fd >= 0)
		close(im->fd);
}

int
import_rootfs(struct store *st, const char *path, const char *name,
    const char *version, const struct import_options *opt,
    const struct rootfs_options *ro, import_progress_fn progress, void *arg,
    struct rootfs_stats *stats, struct manifest **out, char *err, size_t errlen)
{
	struct import_options dopt;
	struct rootfs_options dro;
	struct stat sb;
	int r;

	if (out)
		*out = NULL;
	if (stats)
		memset(stats, 0, sizeof *stats);
	if (errlen)
		err[0] = '\0';
	if (!opt) {
		import_options_init(&dopt);
		opt = &dopt;
	}
	if (!ro) {
		rootfs_options_init(&dro);
		ro = &dro;
	}
	if (!path || !*path)
		FAIL("no input file");
	if (strcmp(path, "-") == 0)
		FAIL("a root file system tarball is read twice: give a file, "
		    "not standard input");
	if (sink_check(st, opt, name, version, err, errlen) < 0)
		return -1;

	struct rimport im = { .st = st,
		.path = path,
		.fd = -1,
		.progress = progress,
		.arg = arg };
	im.max_size = ro->max_size ? ro->max_size : ROOTFS_MAX_SIZE_DEFAULT;
	im.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (im.fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(im.fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen,
		    "%s: not a regular file (a tarball is read twice)", path);
		rimport_free(&im);
		return -1;
	}
	im.file_size = (uint64_t)sb.st_size;
	if (im.file_size > im.max_size) {
		snprintf(err, errlen,
		    "%s: %llu bytes, larger than the limit of %llu bytes (max "
		    "size)",
		    path, (unsigned long long)im.file_size,
		    (unsigned long long)im.max_size);
		rimport_free(&im);
		return -1;
	}
	im.tree = rootfs_tree_new(ro->warn, ro->warn_arg);
	if (!im.tree) {
		snprintf(err, errlen, "out of memory");
		rimport_free(&im);
		return -1;
	}
	rootfs_tree_set_strict(im.tree, ro->strict);
	r = sink_new(st, opt, IMAGE_KIND_ROOTFS, name, version, im.max_size,
	    progress, arg, &im.sink, err, errlen);
	if (r == 0)
		r = scan(&im, err, errlen);
	if (r == 0)
		r = copy(&im, err, errlen);
	if (r == 0)
		r = sink_finish(im.sink, out, err, errlen);
	if (r != 0 && errlen && !err[0])
		snprintf(err, errlen,
		    "%s: internal error while writing the image", path);
	if (stats)
		*stats = *rootfs_tree_stats(im.tree);
	rimport_free(&im);
	return r;
}
