/*
 * capture_fs.c — what of a disk its file systems do not use, so that a
 * capture leaves it out (a hole: all zero in the image).
 *
 *   partition table   libblkid (GPT or MBR); a disk without one is
 *                     looked at as one file system
 *   ext2/3/4          libext2fs: the block bitmaps (a file system whose
 *                     journal needs recovery is captured whole: its
 *                     bitmaps may not say all that is in use)
 *   vfat              capture_fat.c: the first FAT's free clusters
 *   anything else     captured as it is (the partition table itself,
 *                     unknown partitions, gaps between partitions)
 *
 * The free ranges are kept sorted and merged, at most FSMAP_RANGES_MAX
 * (past that the rest is simply captured: never less than in use).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <blkid/blkid.h>
#include <ext2fs/ext2fs.h>

#include "pxe/agent/agent.h"

static int
fsmap_add(void *ctx, uint64_t off, uint64_t len)
{
	struct fsmap *m = ctx;

	if (len == 0)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		struct fsrange *v;
		if (cap > FSMAP_RANGES_MAX) {
			m->full = 1;
			return 0;	/* the rest is captured */
		}
		if ((v = realloc(m->v, cap * sizeof(*v))) == NULL) {
			m->full = 1;
			return 0;
		}
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n].off = m->base + off;
	m->v[m->n].len = len;
	m->n++;
	m->free_bytes += len;
	return 0;
}

/* ---- ext2/3/4 ------------------------------------------------------------ */

static int
scan_ext(struct fsmap *m, const char *path, uint64_t off, uint64_t size,
    char *what, size_t wlen)
{
	char opts[64];
	ext2_filsys fs = NULL;
	errcode_t e;
	blk64_t b, end, z, s;
	uint64_t bs, before = m->free_bytes;

	snprintf(opts, sizeof(opts), "offset=%" PRIu64, off);
	if ((e = ext2fs_open2(path, opts, EXT2_FLAG_64BITS, 0, 0,
	    unix_io_manager, &fs)) != 0) {
		snprintf(what, wlen, "ext: cannot open (%s): captured whole",
		    error_message(e));
		return -1;
	}
	bs = fs->blocksize;
	end = ext2fs_blocks_count(fs->super);
	if (end == 0 || end * bs > size) {
		snprintf(what, wlen, "ext: larger than its partition: "
		    "captured whole");
		goto fail;
	}
	if (ext2fs_has_feature_journal_needs_recovery(fs->super)) {
		snprintf(what, wlen, "ext: the journal needs recovery: "
		    "captured whole");
		goto fail;
	}
	if ((e = ext2fs_read_block_bitmap(fs)) != 0) {
		snprintf(what, wlen, "ext: cannot read the block bitmaps "
		    "(%s): captured whole", error_message(e));
		goto fail;
	}
	end--;		/* the last block */
	b = fs->super->s_first_data_block;
	while (b <= end) {
		if (ext2fs_find_first_zero_block_bitmap2(fs->block_map, b, end,
		    &z) != 0)
			break;
		if (ext2fs_find_first_set_block_bitmap2(fs->block_map, z, end,
		    &s) != 0)
			s = end + 1;
		fsmap_add(m, z * bs, (s - z) * bs);
		b = s;
	}
	snprintf(what, wlen, "ext%s block bitmaps: %" PRIu64 " of %" PRIu64
	    " blocks of %" PRIu64 " free",
	    ext2fs_has_feature_journal(fs->super) ? "3/4" : "2",
	    (m->free_bytes - before) / bs, (uint64_t)end + 1, bs);
	ext2fs_close_free(&fs);
	return 0;
fail:
	ext2fs_close_free(&fs);
	return -1;
}

/* ---- vfat ---------------------------------------------------------------- */

static int
scan_fat(struct fsmap *m, int fd, uint64_t off, uint64_t size, char *what,
    size_t wlen)
{
	uint8_t bs[FAT_BOOT_BYTES], *fat = NULL;
	struct fat_geom g;
	char err[ERR_OUTER_MAX];
	uint64_t freeb;
	int rc = -1;

	if (disk_read(fd, bs, sizeof(bs), off, err, sizeof(err)) != 0 ||
	    fat_geometry(bs, sizeof(bs), size, &g, err, sizeof(err)) != 0) {
		snprintf(what, wlen, "vfat: %s: captured whole", err);
		return -1;
	}
	if ((fat = malloc(g.fat_bytes)) == NULL ||
	    disk_read(fd, fat, g.fat_bytes, off + g.fat_off, err,
	    sizeof(err)) != 0) {
		snprintf(what, wlen, "vfat: cannot read the FAT: captured "
		    "whole");
		goto out;
	}
	if (fat_free_ranges(&g, fat, g.fat_bytes, fsmap_add, m, &freeb) != 0) {
		snprintf(what, wlen, "vfat: bad FAT: captured whole");
		goto out;
	}
	snprintf(what, wlen, "FAT%d table: %" PRIu64 " of %u clusters of %u "
	    "free", g.type, freeb / g.cluster_bytes, g.clusters,
	    g.cluster_bytes);
	rc = 0;
out:
	free(fat);
	return rc;
}

/* ---- partitions ---------------------------------------------------------- */

/* The file system type libblkid finds at [off, off+size) of fd. */
static void
probe_type(int fd, uint64_t off, uint64_t size, char *type, size_t len)
{
	blkid_probe pr = blkid_new_probe();
	const char *t = NULL;

	type[0] = '\0';
	if (pr == NULL)
		return;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)off,
	    (blkid_loff_t)size) == 0) {
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
		blkid_probe_enable_partitions(pr, 0);
		if (blkid_do_safeprobe(pr) == 0 &&
		    blkid_probe_lookup_value(pr, "TYPE", &t, NULL) == 0)
			snprintf(type, len, "%s", t);
	}
	blkid_free_probe(pr);
}

static void
scan_part(struct fsmap *m, int fd, const char *path, int num, uint64_t off,
    uint64_t size)
{
	char type[32], what[ERR_OUTER_MAX + 64], sz[BYTES_STR_MAX];

	probe_type(fd, off, size, type, sizeof(type));
	m->base = off;
	if (strcmp(type, "ext2") == 0 || strcmp(type, "ext3") == 0 ||
	    strcmp(type, "ext4") == 0)
		scan_ext(m, path, off, size, what, sizeof(what));
	else if (strcmp(type, "vfat") == 0)
		scan_fat(m, fd, off, size, what, sizeof(what));
	else
		snprintf(what, sizeof(what), "%s: captured as it is",
		    type[0] ? type : "no file system known");
	m->base = 0;
	log_info("partition %d at %" PRIu64 " (%s): %s", num, off,
	    fmt_bytes(size, sz, sizeof(sz)), what);
}

static int
cmp_range(const void *a, const void *b)
{
	const struct fsrange *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Sorted, merged, clipped to the disk. */
static void
fsmap_finish(struct fsmap *m, uint64_t disk_size)
{
	size_t k = 0;

	qsort(m->v, m->n, sizeof(*m->v), cmp_range);
	m->free_bytes = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct fsrange r = m->v[i];
		if (r.off >= disk_size)
			continue;
		if (r.len > disk_size - r.off)
			r.len = disk_size - r.off;
		if (k > 0 && m->v[k - 1].off + m->v[k - 1].len >= r.off) {
			uint64_t e = r.off + r.len, pe = m->v[k - 1].off +
			    m->v[k - 1].len;
			if (e > pe)
				m->v[k - 1].len = e - m->v[k - 1].off;
			continue;
		}
		m->v[k++] = r;
	}
	m->n = k;
	for (size_t i = 0; i < k; i++)
		m->free_bytes += m->v[i].len;
}

void
fsmap_build(int fd, const char *path, uint64_t disk_size, struct fsmap *m)
{
	blkid_probe pr;
	blkid_partlist ls;
	int n = 0;

	memset(m, 0, sizeof(*m));
	if ((pr = blkid_new_probe()) == NULL ||
	    blkid_probe_set_device(pr, fd, 0, (blkid_loff_t)disk_size) != 0) {
		log_warn("%s: cannot probe the partition table: the disk is "
		    "captured whole", path);
		if (pr != NULL)
			blkid_free_probe(pr);
		return;
	}
	blkid_probe_enable_partitions(pr, 1);
	ls = blkid_probe_get_partitions(pr);
	if (ls != NULL)
		n = blkid_partlist_numof_partitions(ls);
	if (n <= 0) {
		log_info("%s: no partition table", path);
		scan_part(m, fd, path, 0, 0, disk_size);
	} else {
		const char *pt = blkid_parttable_get_type(
		    blkid_partlist_get_table(ls));
		log_info("%s: %s partition table, %d partitions", path,
		    pt ? pt : "a", n);
	}
	for (int i = 0; i < n && i < PARTS_MAX; i++) {
		blkid_partition p = blkid_partlist_get_partition(ls, i);
		int64_t start = blkid_partition_get_start(p);
		int64_t size = blkid_partition_get_size(p);
		if (p == NULL || start <= 0 || size <= 0 ||
		    (uint64_t)start > disk_size / 512 ||
		    (uint64_t)size > disk_size / 512 - (uint64_t)start)
			continue;
		scan_part(m, fd, path, blkid_partition_get_partno(p),
		    (uint64_t)start * 512, (uint64_t)size * 512);
	}
	blkid_free_probe(pr);
	fsmap_finish(m, disk_size);
	if (m->full)
		log_warn("more than %d free ranges: the rest is captured as "
		    "it is", FSMAP_RANGES_MAX);
}

void
fsmap_apply(const struct fsmap *m, uint64_t off, uint8_t *buf, size_t len)
{
	size_t lo = 0, hi = m->n;

	/* The first range that ends after off. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->v[mid].off + m->v[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < m->n && m->v[i].off < off + len; i++) {
		uint64_t a = m->v[i].off > off ? m->v[i].off : off;
		uint64_t e = m->v[i].off + m->v[i].len;
		if (e > off + len)
			e = off + len;
		memset(buf + (a - off), 0, (size_t)(e - a));
	}
}

void
fsmap_free(struct fsmap *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}
