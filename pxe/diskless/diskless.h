/*
 * diskless.h — rack-diskless: what each file offers.
 *
 * rack-diskless runs in the clone initramfs when a server boots diskless
 * (rackd.mode=diskless). It reads its job from rackd (the rootfs image's
 * manifest), fetches the image — as one stream of the stored chunks
 * (GET /boot/SLOT/rootfs) or chunk by chunk (GET /chunks/HASH) —, verifies
 * every chunk against the manifest before a byte of it is used, pipes the
 * image (a cpio stream) into busybox cpio unpacking into the new root (a
 * tmpfs), applies the node's overlay (hostname, SSH keys, cloud-init
 * seed) inside that root, and reports progress and the result to rackd.
 * The init script then switches into the new root. No disk is touched.
 *
 * Its rackd client is rack-agent's too: libpxe (pxe/lib/pxe.h: the job
 * and its parsing, reports, chunk fetches with resume and backoff, the
 * queue, the rate and console messages).
 *
 *	main.c		flags, the boot's flow, reports
 *	feed.c		verified chunks in manifest order, holes as zeros, out
 *	stream.c	the image as one zstd stream, resumed by chunk
 *	chunks.c	the image chunk by chunk (a fetch thread and a queue)
 *	unpack.c	busybox cpio in the new root, fed through a pipe
 *	overlay.c	the node's overlay, written inside the new root
 */
#ifndef RACK_DISKLESS_H
#define RACK_DISKLESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "images/chunk.h"
#include "images/manifest.h"
#include "pxe/lib/pxe.h"

/* Limits. */
#define DL_SLOT_MAX		32	/* rackd.slot */
#define DL_PATH_MAX		1024	/* the new root, overlay paths */
#define DL_OVERLAY_MAX		(256 * 1024)	/* the overlay's JSON */
#define DL_OVERLAY_FILES_MAX	32
#define DL_HOSTNAME_MAX		63
#define DL_PIPE_BYTES		(1024 * 1024)	/* pipe to cpio */
/* chunks fetched, not used */
#define DL_QUEUE_BYTES		(16u * 1024 * 1024)
#define DL_QUEUE_ITEMS		64
/* The stream received, not used: enough for the link to keep flowing
 * (40 MB/s for 100 ms) without holding RAM the new root needs. */
#define DL_STREAM_QUEUE_BYTES	(4u * 1024 * 1024)
#define DL_STREAM_QUEUE_ITEMS	1024
#define DL_STREAM_RECV_BUFFER	(512L * 1024)	/* libcurl's, the stream */
#define DL_MEMINFO_LINE		256	/* a line of /proc/meminfo */

/* Times. */
#define DL_STREAM_DEADLINE_MS	RETRY_DEADLINE_MS
#define DL_JOB_DEADLINE_MS	(2 * 60 * 1000)	/* getting the job */
#define DL_OVERLAY_TIMEOUT_S	60	/* GET of the overlay */

/* Exit status of rack-diskless. */
enum dl_exit {
	DL_EXIT_DONE = 0,
	DL_EXIT_FAILED = 1,
	DL_EXIT_USAGE = 2,
	DL_EXIT_GONE = 3,	/* rackd ended the boot (a newer one, cancel) */
};

/* feed.c: what is written out, in order, only once verified. */
struct feed {
	const struct manifest *m;
	int	 fd;			/* the pipe to cpio */
	size_t	 next;			/* chunk index expected next */
	uint64_t written;		/* image bytes out (holes too) */
	_Atomic uint64_t fetched;	/* compressed bytes received */
	uint8_t	*zero;			/* a chunk of zeros, for holes */
	/* called after each chunk (reports, console); may be NULL */
	void	(*tick)(void *arg);
	void	*arg;
};
int	 feed_init(struct feed *f, const struct manifest *m, int fd, char *err,
	    size_t errlen);
void	 feed_free(struct feed *f);
/* Chunk f->next, whose content is data[0..len): checked against its
 * length and hash, then the hole before it and it are written. 0, or -1
 * with err (the chunk is not written). */
int	 feed_chunk(struct feed *f, const uint8_t *data, size_t len,
	    char *err, size_t errlen);
/* After the last chunk: the trailing hole; checks the size. 0 or -1. */
int	 feed_finish(struct feed *f, char *err, size_t errlen);
/* Writes all of buf (EINTR, short writes). 0, or -1 with err. */
int	 write_all(int fd, const void *buf, size_t len, char *err,
	    size_t errlen);

/* stream.c: GET url/boot/SLOT/rootfs?from=K read by a receiver thread
 * into a bounded queue, decompressed here frame by frame (one frame is one
 * chunk) into the feed; a cut stream is asked for again from the first
 * chunk not yet fed, until DL_STREAM_DEADLINE_MS passes without progress.
 * gone is set when rackd says the boot is over (409). */
int	 stream_fetch(const char *url, const char *slot, struct feed *f,
	    atomic_int *stop, int *gone, char *err, size_t errlen);

/* chunks.c: each chunk from chunks_url + hash on one keep-alive
 * connection (libpxe's fetcher, rack-agent's too), verified and fed in
 * order. */
int	 chunks_fetch(struct net *n, const char *chunks_url, struct feed *f,
	    atomic_int *stop, char *err, size_t errlen);

/* unpack.c: "cpio -i -d -m -u" in root reading the returned pipe. */
int	 unpack_start(const char *root, pid_t *pid, int *fd, char *err,
	    size_t errlen);
/* Closes the pipe and waits: 0 if cpio succeeded, -1 with err. */
int	 unpack_finish(pid_t pid, int fd, char *err, size_t errlen);

/* overlay.c: the node's overlay. */
struct overlay_file {
	char	 path[DL_PATH_MAX];	/* relative to the root, checked */
	bool	 dir;
	unsigned mode;
	char	*content;		/* files */
};
struct overlay {
	char	 hostname[DL_HOSTNAME_MAX + 1];
	size_t	 nfiles;
	struct overlay_file files[DL_OVERLAY_FILES_MAX];
};
/* Parses rackd's overlay JSON. 0, or -1 with err. */
int	 overlay_parse(const char *text, size_t len, struct overlay *o,
	    char *err, size_t errlen);
void	 overlay_free(struct overlay *o);
/* GET url/boot/SLOT/overlay[?cloud_init=1] and parse it. */
int	 overlay_fetch(const char *url, const char *slot, int cloud_init,
	    struct overlay *o, char *err, size_t errlen);
/* Writes the files inside root: symlinks resolve as if root were "/"
 * (openat2 RESOLVE_IN_ROOT), an existing symlink at a file's path is
 * replaced. 0, or -1 with err. */
int	 overlay_apply(const char *root, const struct overlay *o, char *err,
	    size_t errlen);
/* The system's hostname from the overlay. 0, or -1 with err. */
int	 overlay_set_hostname(const struct overlay *o, char *err,
	    size_t errlen);
/* Whether root holds cloud-init (etc/cloud/cloud.cfg or
 * usr/bin/cloud-init, resolved inside root). */
bool	 root_has_cloud_init(const char *root);

#endif
