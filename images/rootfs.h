/* images/rootfs.h — root file system images (kind "rootfs").
 *
 * A rootfs image is imported from a tarball (.tar, .tar.gz, .tar.xz,
 * .tar.zst, .tar.bz2, ...) and stored like every other image: a manifest
 * and content-addressed zstd chunks. Its byte stream is a normalised cpio
 * archive ("newc", the format the Linux initramfs and busybox cpio read)
 * of the sanitised tree, so a diskless node fetches it chunk by chunk,
 * verifies every chunk and unpacks it into a tmpfs.
 *
 * Nothing is ever extracted on the importing machine: the tarball is read
 * twice through libarchive (once to learn the whole tree and decide, once
 * to copy the kept entries' data into the cpio stream), so a hostile
 * tarball cannot write anywhere; only chunks and the manifest go to the
 * store. The rules, applied to every member:
 *
 * - Names: leading '/' is removed (an absolute name is stored relative to
 *   the root, with a warning); "." and empty components are removed; a
 *   name with a ".." component, a control character, a component longer
 *   than ROOTFS_NAME_MAX or more than ROOTFS_PATH_MAX bytes is dropped.
 *   The root itself ("./") is not an entry.
 * - Types: regular files, directories, symbolic links, hard links and
 *   FIFOs are kept; device nodes and sockets are dropped (a diskless node
 *   gets devtmpfs at /dev).
 * - Symbolic links: an absolute target is kept (on the node it resolves
 *   inside the image's root); a relative target that climbs above the root
 *   from the link's directory is dropped, as are empty targets and targets
 *   with control characters or longer than ROOTFS_LINK_MAX.
 * - No entry may go through a non-directory: a member whose parent path
 *   is, in the archive, a symlink, a file or a dropped entry is dropped
 *   (so unpacking never follows a link the archive made).
 * - Hard links must name a regular file kept earlier in the archive (after
 *   the same name rules); links out of the root, to missing files, to
 *   directories or symlinks are dropped. In the cpio stream the group
 *   shares an inode number; the data travels once.
 * - A name given twice: the later member wins, as when tar extracts.
 * - Parent directories the archive does not list are added (0755, root).
 * - Limits: at most ROOTFS_ENTRIES_MAX members, ROOTFS_FILE_MAX bytes per
 *   file, and opt->max_size bytes for the tarball, for its decompressed
 *   stream and for the image: over any of them the import is refused.
 *
 * Every drop is reported through the warning callback; with strict set,
 * the first one refuses the import instead.
 */
#ifndef RACKD_IMAGES_ROOTFS_H
#define RACKD_IMAGES_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/import.h"
#include "images/store.h"

#define ROOTFS_PATH_MAX		4095	/* bytes of a normalised name */
#define ROOTFS_NAME_MAX		255	/* bytes of one component */
#define ROOTFS_LINK_MAX		4095	/* bytes of a symlink target */
#define ROOTFS_ENTRIES_MAX	(1u << 20)	/* members of a tarball */
/* names and targets kept in memory */
#define ROOTFS_STRINGS_MAX	(256u * 1024 * 1024)
#define ROOTFS_FILE_MAX		UINT64_C(0xffffffff) /* the newc size field */
#define ROOTFS_MAX_SIZE_DEFAULT	(UINT64_C(4) << 30)	/* 4 GiB */
#define ROOTFS_WHY_MAX		512	/* one warning or error */
/* members and added directories */
#define ROOTFS_TREE_ENTRIES_MAX	(2u * ROOTFS_ENTRIES_MAX)
#define ROOTFS_RULE_MAX		160	/* why a rule drops a member */
#define ROOTFS_SHOWN_MAX	160	/* a name as shown in a message */
/* libarchive's read size from the file */
#define ROOTFS_READ_BLOCK	(1024 * 1024)
#define ROOTFS_COPY_BLOCK	(1024 * 1024) /* member data copied at a time */
#define ROOTFS_PROGRESS_MEMBERS	256 /* first read: progress every N members */
#define ROOTFS_ID_NOBODY	65534u	/* uid/gid beyond the cpio field */
/* largest value of a newc header field */
#define ROOTFS_NEWC_FIELD_MAX	UINT64_C(0xffffffff)

/* ---- the rules on single names (rootfs_path.c) ---- */

enum {
	ROOTFS_NOTE_ABSOLUTE = 1, /* the name started with '/' */
};

/* What rootfs_path_normalise made of a name. */
enum rootfs_name {
	ROOTFS_NAME_DROP = -1, /* the name breaks a rule: why says which */
	ROOTFS_NAME_OK = 0,    /* out is the normalised name */
	ROOTFS_NAME_ROOT = 1,  /* the name is the root itself */
};

/* Normalises a member name into out ("a/b/c": no leading or trailing '/',
 * no "." or empty components); *notes (may be NULL) gets ROOTFS_NOTE_*
 * flags. */
enum rootfs_name rootfs_path_normalise(const char *name, char *out,
	    size_t outlen, unsigned *notes, char *why, size_t whylen);

/* Checks a symlink at normalised path whose target is target. 0 keep, -1
 * drop with why. */
int	 rootfs_symlink_check(const char *path, const char *target, char *why,
	    size_t whylen);

/* Length of the i-th shortest proper prefix of a normalised path ("a/b/c":
 * 1 -> "a", 2 -> "a/b"); 0 when there is no such prefix. */
size_t	 rootfs_path_prefix(const char *path, size_t len, size_t i);

/* Copies s into out (outlen >= 1) for messages: control characters and
 * bytes over 0x7e become '?', long names are cut with "...". */
const char *rootfs_printable(const char *s, char *out, size_t outlen);

/* ---- the whole archive (rootfs_tree.c) ---- */

enum rootfs_type {
	ROOTFS_REG = 1,
	ROOTFS_DIR,
	ROOTFS_SYMLINK,
	ROOTFS_HARDLINK, /* a tar hard link member */
	ROOTFS_FIFO,
	ROOTFS_DEVICE, /* character or block device */
	ROOTFS_OTHER,  /* socket, unknown */
};

struct rootfs_meta {
	enum rootfs_type type;
	uint32_t perm; /* permission bits, & 07777 */
	uint32_t uid, gid;
	int64_t mtime;
	uint64_t size; /* regular files */
};

/* One entry of the cpio stream. */
struct rootfs_emit {
	const char *path;	 /* normalised */
	struct rootfs_meta meta; /* type REG, DIR, SYMLINK or FIFO */
	const char *symlink;	 /* target, for SYMLINK */
	uint32_t ino, nlink;	 /* nlink > 1: a hard link group */
	bool data;		 /* copy size bytes from the archive member */
};

struct rootfs_stats {
	uint64_t members;    /* tarball members read */
	uint64_t kept;	     /* members in the image */
	uint64_t dropped;    /* members left out, each with a warning */
	uint64_t normalised; /* absolute names made relative */
	uint64_t dirs_added; /* parent directories the tarball did not list */
	uint64_t hardlinks;  /* kept hard links */
	uint64_t replaced;   /* members replaced by a later one of that name */
};

typedef void (*rootfs_warn_fn)(const char *msg, void *arg);

struct rootfs_tree;

/* A new empty tree; warnings go to warn (may be NULL). */
struct rootfs_tree *rootfs_tree_new(rootfs_warn_fn warn, void *arg);
void	 rootfs_tree_free(struct rootfs_tree *t);
/* Records the next member (in archive order). link is the symlink target
 * or the hard link's target name (else NULL). Rule breaks drop the member
 * with a warning and return 0; -1 with err only when a limit is crossed
 * (the import must stop) or memory runs out. */
int	 rootfs_tree_add(struct rootfs_tree *t, const char *name,
	    const struct rootfs_meta *m, const char *link, char *err,
	    size_t errlen);
/* Applies the rules that need the whole archive (parents, hard links,
 * added directories, inode numbers). Once, after the last add. */
int	 rootfs_tree_resolve(struct rootfs_tree *t, char *err, size_t errlen);
/* For member i (0-based, archive order): calls fn for every entry to write
 * now, missing parents first, then the member itself; nothing for a
 * dropped or replaced member. fn returns 0 to go on; anything else stops
 * and is returned. */
int	 rootfs_tree_plan(struct rootfs_tree *t, size_t i,
	    int (*fn)(const struct rootfs_emit *e, void *arg), void *arg);
/* The member's recorded type and size (to check the second read sees the
 * same archive). -1 if i is out of range. */
int	 rootfs_tree_member(const struct rootfs_tree *t, size_t i,
	    enum rootfs_type *type, uint64_t *size);
size_t	 rootfs_tree_members(const struct rootfs_tree *t);
const struct rootfs_stats *rootfs_tree_stats(const struct rootfs_tree *t);
/* Every dropped member was warned about; strict: the first drop is an
 * error (rootfs_tree_add returns -1 with its reason). */
void	 rootfs_tree_set_strict(struct rootfs_tree *t, bool strict);

/* ---- import (rootfs_import.c, libarchive) ---- */

struct rootfs_options {
	uint64_t max_size;   /* 0: ROOTFS_MAX_SIZE_DEFAULT */
	bool strict;	     /* refuse instead of dropping members */
	rootfs_warn_fn warn; /* each dropped or changed member; may be NULL */
	void *warn_arg;
};

void	 rootfs_options_init(struct rootfs_options *ro);

/* Imports the tarball at path (a file: it is read twice; not "-") as the
 * rootfs image name:version. opt gives chunk size, level and hash (its
 * kind is ignored). progress may be NULL; input_size and input_read cover
 * both reads (twice the file's size). stats may be NULL. On success 0 and
 * *out (may be NULL); on failure -1 with err and no manifest stored. */
int	 import_rootfs(struct store *st, const char *path, const char *name,
	    const char *version, const struct import_options *opt,
	    const struct rootfs_options *ro, import_progress_fn progress,
	    void *arg, struct rootfs_stats *stats, struct manifest **out,
	    char *err, size_t errlen);

#endif
