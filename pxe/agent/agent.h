/*
 * agent.h — rack-agent: what each file offers.
 *
 * rack-agent runs inside the clone initramfs on a server. It reads the
 * job from rackd, picks the target disk, compares it chunk by chunk with
 * the image, fetches and writes only what differs, zeroes the holes,
 * verifies everything it wrote, reports progress and the result to rackd,
 * and reboots. Its rackd client (command line, job, chunk fetches,
 * reports, backoff, queue, console) is libpxe (pxe/lib/pxe.h).
 *
 *	main.c		flags, the job's flow, reboot
 *	disk.c		disk rules, picking and opening the target disk
 *	holes.c		holes of an image, zeroing where the disk is not zero
 *	pipeline.c	scan, hole, fetch and write threads
 *	verify.c	re-read written chunks from the disk and check them
 *	event.c		notes for the job's event log
 *	erase.c		an erase job: the method, the erase, its checks
 *	erase_nvme.c	NVMe Identify, Format NVM, Sanitize (admin ioctl)
 *	erase_ata.c	ATA SECURITY ERASE UNIT through SG_IO pass-through
 *	erase_verify.c	samples across the disk, before and after
 *	capture.c	a capture job: the disk read into a disk image's chunks
 *			and manifest, pushed to rackd (capture_net.c)
 *	capture_send.c	the chunks rackd lacks: read, checked, compressed and
 *			uploaded by parallel senders
 *	capture_fs.c	what the disk's file systems do not use (libblkid,
 *			libext2fs, capture_fat.c)
 *	capture_fat.c	a FAT's free clusters (outside input: bounded)
 *	inventory*.c	the "inventory" action: the hardware, read and posted
 */
#ifndef RACK_AGENT_H
#define RACK_AGENT_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/hash.h"
#include "images/manifest.h"
#include "pxe/lib/pxe.h"

/* Limits. Every buffer and count has one; crossing it is a clean error. */
#define AGENT_PATH_MAX		1024	/* device and sysfs paths */
#define QUEUE_MAX_BYTES		(64u * 1024 * 1024) /* fetched, not written */
#define QUEUE_MAX_ITEMS		256
#define WORKERS_MAX		4	/* decompress+verify+write threads */
#define WORKER_MEM_MAX		(64u * 1024 * 1024)	/* their buffers, all */
#define ZERO_IO_MAX		(1024u * 1024)	/* hole read/zero piece */
#define VERIFY_IO_ALIGN		4096	/* O_DIRECT alignment */
#define DISKS_MAX		256	/* block devices looked at */
#define PARTS_MAX		128	/* partitions looked at per disk */
#define DEVNAME_MAX		64	/* a block device's name in sysfs */
#define DISK_SKIPPED_MAX	512	/* the disks "largest" passed over */
#define SYSFS_VALUE_MAX		4096	/* one sysfs attribute */
#define MOUNTINFO_MAX		(1024 * 1024)	/* /proc/self/mountinfo */
#define SECTOR_BYTES		512	/* BLKZEROOUT's unit */

#define INV_TEXT_MAX		128	/* a string of the inventory */
#define INV_LINE_MAX		1024	/* a line of /proc/cpuinfo */
#define INV_SOCKETS_MAX		256	/* physical ids told apart */
#define INV_ITEMS_MAX		64	/* disks, NICs looked at */
#define INV_DMI_MAX		(64 * 1024)	/* the SMBIOS table */
#define INV_VPD_LEN		252	/* VPD page 0x80 read */
#define INV_NVME_ID_LEN		4096	/* Identify Controller */
#define INV_NVME_LOG_LEN	512	/* the SMART / health log */
#define INV_IOCTL_TIMEOUT_MS	5000	/* one SG_IO or NVMe command */
#define INV_POST_TIMEOUT_S	30	/* the inventory's POST */

/* Times. */
#define FAIL_REBOOT_DELAY_S	15	/* time to read the console */
#define FAIL_REPORT_DEADLINE_MS	(2 * 60 * 1000)	/* reporting "failed" */
#define WAIT_SLICE_MS		200	/* main thread: signals, reports */

/* Exit status of rack-agent. */
enum agent_exit {
	AGENT_EXIT_DONE = 0,
	AGENT_EXIT_FAILED = 1,
	AGENT_EXIT_USAGE = 2,
	AGENT_EXIT_CANCELLED = 3,	/* rackd ended the job */
};

/* main.c: the agent's state, shared by the job's actions (reimage here;
 * each other action of the clone environment in a file of its own). */
enum report_rc { REPORT_OK = 0, REPORT_ERROR = -1, REPORT_GONE = -2 };

struct agent {
	struct agent_conf conf;
	int		 no_reboot;
	int64_t		 deadline_ms;
	int		 workers;
	struct net	*net;
	struct job	 job;
	char		 disk_path[AGENT_PATH_MAX];
	int		 fd;
	bool		 is_blockdev;
	struct progress	 pr;
	atomic_int	 stop;
	int		 gone;		/* rackd: the job is not active */
	struct rate	 rate;
	uint64_t	 bps;
	int64_t		 next_report, next_console, t_start;
	int		 power_off;	/* at the end: power off, not reboot */
};

extern volatile sig_atomic_t got_signal;	/* the signal that stops us */
/* One report of state (and reason) to rackd with the progress in a->pr,
 * retried until deadline_ms if retry; REPORT_GONE sets a->gone: the job is
 * no longer active. */
enum report_rc agent_report(struct agent *a, const char *state,
	    const char *reason, int retry, int64_t deadline_ms);
/* Reports failed with the reason (unless rackd is done with the job). */
enum agent_exit agent_fail(struct agent *a, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Called every WAIT_SLICE_MS while a phase runs: signals, progress reports
 * every REPORT_INTERVAL_MS, the console line; total is the phase's bytes. */
void	 agent_tick(struct agent *a, const char *state, uint64_t total);
/* Picks the disk of rackd.disk's rule and opens it into a->fd, a->disk_path
 * (need: the bytes it must hold; 0 any). */
enum agent_exit agent_open_disk(struct agent *a, uint64_t need);

/* event.c: a line for the job's event log (and the console): what an
 * action does and why. A note that cannot be sent is only logged. */
void	 agent_event(struct agent *a, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The same, sent also once rackd ended the job (a->gone): the agent's
 * last word on what a cancelled job left on the disk. */
void	 agent_event_last(struct agent *a, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* erase.c: the "erase" action (params {"method": "auto"|"overwrite"}). */
enum agent_exit erase_run(struct agent *a);

/* erase_nvme.c: what an NVMe namespace's controller can erase. */
struct nvme_info {
	uint32_t nsid, sanicap, nn;
	uint16_t oacs;
	uint8_t	 fna, flbas, dps, dlfeat;
	char	 model[41], serial[21];
};
#define NVME_OACS_FORMAT	0x2
#define NVME_SANICAP_CRYPTO	0x1
#define NVME_SANICAP_BLOCK	0x2
#define NVME_SANACT_BLOCK	2
#define NVME_SANACT_CRYPTO	4
#define NVME_SES_USER_DATA	1
/* One NVMe admin command (opcode, nsid, cdw10, a data buffer of len
 * bytes) on the disk's fd: 0, or -1 with err naming what and the status.
 * The one wrapper of NVME_IOCTL_ADMIN_CMD (erase and inventory). */
int	 nvme_admin(int fd, uint8_t opcode, uint32_t nsid, uint32_t cdw10,
	    void *buf, uint32_t len, uint32_t timeout_ms, const char *what,
	    char *err, size_t errlen);
/* 1 and *ni for an NVMe namespace, 0 for another disk, -1 with err. */
int	 nvme_probe(int fd, struct nvme_info *ni, char *err, size_t errlen);
/* Format NVM of the namespace in its own format, Secure Erase Setting
 * ses; blocks until the controller is done (timeout_ms). */
int	 nvme_format(int fd, const struct nvme_info *ni, int ses,
	    uint32_t timeout_ms, char *err, size_t errlen);
/* Starts a Sanitize (of the whole controller's NVM). */
int	 nvme_sanitize(int fd, int sanact, char *err, size_t errlen);
/* The sanitize status log: sstat 1 done, 2 in progress, 3 failed, 4 done
 * without deallocation; sprog of 65536. */
int	 nvme_sanitize_status(int fd, unsigned *sstat, unsigned *sprog,
	    char *err, size_t errlen);

/* erase_ata.c: an ATA disk's Security feature set (IDENTIFY word 128). */
struct ata_info {
	int	 supported, enabled, locked, frozen, enhanced;
	unsigned erase_min, enhanced_min;	/* the drive's estimates */
	char	 model[41];
};
/* 1 and *ai when the disk answers ATA IDENTIFY DEVICE through SG_IO, 0
 * when it does not (not an ATA disk), -1 with err. */
int	 ata_probe(int fd, struct ata_info *ai, char *err, size_t errlen);
/* A temporary user password, SECURITY ERASE PREPARE, SECURITY ERASE UNIT
 * (enhanced or normal), blocking up to timeout_ms. On a failure the
 * password is disabled again (err says if that failed too). */
int	 ata_security_erase(int fd, int enhanced, unsigned timeout_ms,
	    char *err, size_t errlen);

/* erase_verify.c: the samples an erase checks. */
#define ERASE_SAMPLES		256	/* evenly spread, besides first/last */
#define ERASE_SAMPLE_BYTES	(1024u * 1024)
#define ERASE_SAMPLES_ALL	(ERASE_SAMPLES + 2)
struct erase_samples {
	size_t	 n;
	uint64_t len;				/* bytes of each */
	uint64_t off[ERASE_SAMPLES_ALL];
	uint64_t hash[ERASE_SAMPLES_ALL];
	bool	 zero[ERASE_SAMPLES_ALL];
};
/* Where the samples of a disk of size bytes are: their count, offsets in
 * off (ERASE_SAMPLES_ALL), *len each. */
size_t	 erase_sample_offsets(uint64_t size, uint64_t *off, uint64_t *len);
/* Reads every sample from the disk (the kernel's caches of it dropped
 * first). 0, or -1 with err (also when *stop is set). */
int	 erase_samples_read(int fd, uint64_t size, struct erase_samples *s,
	    const atomic_int *stop, char *err, size_t errlen);
struct erase_verdict {
	size_t	 samples, zero;
	size_t	 unchanged;	/* not zero, and as before the erase */
	uint64_t bytes;		/* read */
	uint64_t first_bad;	/* an unchanged sample's offset */
};
/* after against before (NULL: not read). */
void	 erase_samples_judge(const struct erase_samples *before,
	    const struct erase_samples *after, struct erase_verdict *v);
/* inventory.c: the "inventory" action: the hardware, posted to rackd. */
enum agent_exit inventory(struct agent *a);

/* inventory_read.c: the server's hardware as the JSON of
 * docs/design.md's contract. */
struct disk_env;
/* What env's trees tell (probe: ask the disks too, for serials and
 * SMART; tests of a fake tree do not): the inventory object, or NULL. */
json_t	*inventory_read(const struct disk_env *env, int probe);

/* inventory_dmi.c: the SMBIOS table's type 1 and 17 structures. */
struct inv_dmi {
	char	 vendor[INV_TEXT_MAX], model[INV_TEXT_MAX];
	char	 serial[INV_TEXT_MAX], uuid[INV_TEXT_MAX];
	uint64_t memory_bytes;		/* of the memory devices, summed */
};
/* 0 when the table had a system (type 1) or memory; -1 otherwise or when
 * it is malformed. */
int	 inventory_dmi_parse(const uint8_t *table, size_t size,
	    struct inv_dmi *d);

/* inventory_disk.c: a disk's own answers (ioctls on its device). */
/* Fills serial and model where they are "" (NVMe Identify, or the SCSI
 * VPD page 0x80): 0, or -1 when the disk did not answer. */
int	 inventory_disk_ids(const char *dev, int nvme, char *serial,
	    size_t slen, char *model, size_t mlen);
/* "passed", "failed" or "unknown" (the disk does not answer). */
const char *inventory_disk_smart(const char *dev, int nvme);

/* disk.c: picking the disk rackd.disk names (its rule: pxe/lib/pxe.h),
 * opening it. Where to look: "/sys", "/proc", "/dev" normally; tests use
 * a fake tree. */
struct disk_env {
	const char *sys, *proc, *dev;
};
extern const struct disk_env disk_env_real;
/* Picks the device for rule r into path (AGENT_PATH_MAX). 0, or -1 with
 * err saying why nothing fits. */
int	 disk_select(const struct disk_env *env, const struct disk_rule *r,
	    char *path, size_t pathlen, char *err, size_t errlen);
/* Opens path read-write (block devices exclusively, so a mounted disk is
 * refused by the kernel) and checks it holds at least need bytes. A
 * regular file is accepted as a disk. 0 and *fd, *size, *is_blockdev; or
 * -1 with err. */
int	 disk_open(const char *path, uint64_t need, int *fd, uint64_t *size,
	    bool *is_blockdev, char *err, size_t errlen);
/* Exactly len bytes at off (pread/pwrite, EINTR and short counts
 * handled). 0, or -1 with err. */
int	 disk_read(int fd, void *buf, size_t len, uint64_t off, char *err,
	    size_t errlen);
int	 disk_write(int fd, const void *buf, size_t len, uint64_t off,
	    char *err, size_t errlen);
/* Asks the kernel to read the new partition table (block devices). */
int	 disk_reread_partitions(int fd, char *err, size_t errlen);
/* One line about what the disk holds now (libblkid), or "" if unknown. */
void	 disk_describe(const char *path, char *buf, size_t len);

/* holes.c: regions of the image not covered by chunks. */
/* The hole before chunk k (k == m->nchunks: after the last chunk, up to
 * size): *off and *len (0 when there is none). */
void	 hole_before(const struct manifest *m, size_t k, uint64_t *off,
	    uint64_t *len);
/* Sum of all holes. */
uint64_t holes_total(const struct manifest *m);
struct zeroer {
	int	 fd;
	bool	 is_blockdev;
	bool	 try_zeroout;		/* BLKZEROOUT, block devices */
	bool	 try_punch;		/* fallocate PUNCH_HOLE, files */
	uint8_t	*buf;			/* ZERO_IO_MAX bytes */
	_Atomic uint64_t *done;		/* += bytes settled (may be NULL) */
	uint64_t checked;		/* bytes read and found zero */
	uint64_t zeroed;		/* bytes that were not zero */
};
int	 zeroer_init(struct zeroer *z, int fd, bool is_blockdev);
void	 zeroer_free(struct zeroer *z);
enum zero_rc {
	ZERO_ERROR = -1,	/* err says why */
	ZERO_DONE = 0,		/* the range reads back as zeros */
	ZERO_STOPPED = 1,	/* *stop was set first */
};
/* Makes [off, off+len) read back as zeros, writing only the pieces that
 * are not zero already; stops early when *stop is set (stop may be
 * NULL). */
enum zero_rc zero_range(struct zeroer *z, uint64_t off, uint64_t len,
	    const atomic_int *stop, char *err, size_t errlen);

/* pipeline.c: scan the disk, zero the holes, fetch what differs, write
 * it. */
/* Fetches chunk index (its manifest entry c, its hash in hex) into
 * buf[0..cap): 0 and *len, or -1 with err. Adds received bytes to
 * *fetched as they come (retried bytes too). Returns early with -1 when
 * *stop is set. */
typedef int (*fetch_fn)(void *ctx, size_t index, const struct manifest_chunk *c,
    const char *hex, uint8_t *buf, size_t cap, size_t *len,
    _Atomic uint64_t *fetched, const atomic_int *stop, char *err,
    size_t errlen);
struct pipeline_conf {
	int		 fd;
	bool		 is_blockdev;
	const struct manifest *m;
	size_t		 queue_max_bytes;	/* 0: QUEUE_MAX_BYTES */
	int		 workers;		/* 0: from the CPUs */
	fetch_fn	 fetch;
	void		*fetch_ctx;
	struct progress	*progress;
	atomic_int	*stop;		/* set by anyone: everything stops */
};
struct pipeline;
int	 pipeline_start(const struct pipeline_conf *pc, struct pipeline **out,
	    char *err, size_t errlen);
/* Waits up to ms for the pipeline to finish: true once it has. */
bool	 pipeline_wait(struct pipeline *p, int64_t ms);
/* Joins the threads. 0, or -1 with the first failure's reason. */
int	 pipeline_join(struct pipeline *p, char *reason, size_t len);
/* Per chunk: 1 if it was written (valid after join). */
const uint8_t *pipeline_written(const struct pipeline *p);
size_t	 pipeline_queue_peak(const struct pipeline *p);
int	 pipeline_workers(const struct pipeline *p);
void	 pipeline_free(struct pipeline *p);

/* verify.c: after fsync, read back every written chunk and hash it. */
struct verifier;
/* Starts threads (1..WORKERS_MAX); written[k] != 0 marks the chunks to
 * check. */
int	 verify_start(int fd, const char *path, const struct manifest *m,
	    const uint8_t *written, int threads, struct progress *pr,
	    atomic_int *stop, struct verifier **out, char *err,
	    size_t errlen);
bool	 verify_wait(struct verifier *v, int64_t ms);
int	 verify_join(struct verifier *v, char *reason, size_t len);
/* Drops the cached pages of [off, off+len) so a read goes to the disk. */
void	 drop_cache(int fd, uint64_t off, uint64_t len);

/* capture.c: the "capture" action. */
enum agent_exit capture_run(struct agent *a);

/* capture_fs.c: the byte ranges of the disk no file system uses. */
#define FSMAP_RANGES_MAX	(1 << 20)	/* 16 MiB of ranges */
struct fsrange {
	uint64_t	 off, len;
};
struct fsmap {
	struct fsrange	*v;		/* sorted by offset, merged */
	size_t		 n, cap;
	uint64_t	 base;		/* while one partition is scanned */
	uint64_t	 free_bytes;
	int		 full;		/* FSMAP_RANGES_MAX reached */
};
/* Reads the partition table of the disk fd (path) and the free space of
 * each ext2/3/4 and vfat file system on it; logs which method each
 * partition used. Never fails: what it cannot read is captured whole. */
void	 fsmap_build(int fd, const char *path, uint64_t disk_size,
	    struct fsmap *m);
/* Zeroes the bytes of buf (the disk's [off, off+len)) no file system
 * uses. */
void	 fsmap_apply(const struct fsmap *m, uint64_t off, uint8_t *buf,
	    size_t len);
void	 fsmap_free(struct fsmap *m);

/* capture_fat.c: FAT12/16/32. */
#define FAT_BOOT_BYTES		512
#define FAT_MAX_BYTES		(64u * 1024 * 1024)	/* a FAT, read whole */
struct fat_geom {
	int		 type;		/* 12, 16 or 32 */
	uint32_t	 clusters;	/* data clusters (numbered from 2) */
	uint32_t	 cluster_bytes;
	uint64_t	 fat_off;	/* the first FAT, from the partition */
	size_t		 fat_bytes;	/* what of it holds the entries */
	uint64_t	 data_off;	/* cluster 2 */
};
/* From the boot sector bs[0..len) of a partition of part_size bytes: 0,
 * or -1 with err (not a FAT this parser takes). */
int	 fat_geometry(const uint8_t *bs, size_t len, uint64_t part_size,
	    struct fat_geom *g, char *err, size_t errlen);
/* Calls emit(ctx, off, len) for each run of free clusters (offsets from
 * the partition start); fat[0..fatlen) is the first FAT (at least
 * g->fat_bytes). 0 and *free_bytes, or -1 (a short FAT, or emit failed). */
int	 fat_free_ranges(const struct fat_geom *g, const uint8_t *fat,
	    size_t fatlen, int (*emit)(void *, uint64_t, uint64_t), void *ctx,
	    uint64_t *free_bytes);

/* capture_send.c: the upload of a capture's missing chunks. */
#define CAPTURE_SENDERS		3	/* threads: compress, upload */
#define CAPTURE_SENDERS_MAX	8
/* Memory of each: a chunk, its compressed bound and a level-12 zstd
 * context: at 1 MiB chunks 2 MiB and at most 12.5 MiB (about 45 MiB for
 * three); nothing is queued. */
/* The disk's [off, off+n) into buf with the free blocks zeroed: 0, or -1
 * with err (which says so when the disk shrank below disk_size). */
int	 capture_read_slot(int fd, const struct fsmap *map,
	    uint64_t disk_size, uint8_t *buf, uint64_t off, size_t n,
	    char *err, size_t len);
struct capsend_conf {
	int		 fd;
	uint64_t	 disk_size;
	const struct fsmap *map;
	const struct manifest *m;	/* as posted: the hashes to match */
	const size_t	*idx;		/* the chunks to send, in disk order */
	size_t		 n;
	const char	*url, *token;	/* for capnet_new */
	int64_t		 job;
	int		 senders;	/* 0: CAPTURE_SENDERS */
	int64_t		 deadline_ms;	/* of a chunk's retries */
	struct progress	*pr;		/* bytes_fetched += each upload */
};
enum capsend_rc {
	CAPSEND_DONE = 0,	/* every chunk sent (or stopped early) */
	CAPSEND_AGAIN = 1,	/* a 409: post the manifest again */
	CAPSEND_FAILED = -1,	/* reason says why */
	CAPSEND_GONE = -2,	/* a 401: the job is over */
};
struct capsend;
int	 capsend_start(const struct capsend_conf *c, struct capsend **out,
	    char *err, size_t errlen);
/* Waits up to ms: true once every sender has finished. */
bool	 capsend_wait(struct capsend *s, int64_t ms);
/* Every sender stops after its current chunk (a signal). */
void	 capsend_stop(struct capsend *s);
/* Joins them: the outcome, its reason, what went up. */
enum capsend_rc capsend_join(struct capsend *s, char *reason, size_t len,
	    uint64_t *chunks, uint64_t *bytes);
int	 capsend_senders(const struct capsend *s);
void	 capsend_free(struct capsend *s);

/* capture_net.c: the capture's push to rackd (the job's token). */
struct capnet;
int	 capnet_new(const char *url, const char *token, int64_t job,
	    struct capnet **out, char *err, size_t errlen);
void	 capnet_free(struct capnet *n);
/* POST .../capture/manifest (text) or .../capture/commit (text NULL):
 * 0 and *status, *body (malloc'd, NUL-terminated, may be NULL); -1 on a
 * transport error with err. */
int	 capnet_post(struct capnet *n, const char *what, const char *text,
	    long *status, char **body, char *err, size_t errlen);
/* PUT .../capture/chunks/HEX with data[0..len): 0 and *status (err gets
 * rackd's message on a 4xx/5xx), or -1 on a transport error. */
int	 capnet_put_chunk(struct capnet *n, const char *hex, const void *data,
	    size_t len, long *status, char *err, size_t errlen);

#endif
