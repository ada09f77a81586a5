/*
 * capture_fat.c — which clusters of a FAT12/16/32 file system are free,
 * from its boot sector and its first FAT (a capture skips them).
 *
 * Outside input: every field is checked before use and every read is
 * bounded by the partition's size; anything that does not add up is "not
 * a FAT file system we understand" and the partition is captured whole.
 * The FAT's type follows from its cluster count (Microsoft's rule:
 * < 4085 FAT12, < 65525 FAT16, else FAT32). Only clusters whose entry is
 * 0 (free) are reported, as byte ranges relative to the partition start,
 * adjacent ones merged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxe/agent/agent.h"

static uint32_t
le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static int
pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

int
fat_geometry(const uint8_t *bs, size_t len, uint64_t part_size,
    struct fat_geom *g, char *err, size_t errlen)
{
	uint32_t bps, spc, rsvd, nfats, rootents, tot, fatsz, rootsecs;
	uint64_t data_start, fat_bytes;

	memset(g, 0, sizeof(*g));
	if (len < FAT_BOOT_BYTES || bs[510] != 0x55 || bs[511] != 0xaa) {
		snprintf(err, errlen, "no boot sector signature");
		return -1;
	}
	bps = le16(bs + 11);
	spc = bs[13];
	rsvd = le16(bs + 14);
	nfats = bs[16];
	rootents = le16(bs + 17);
	tot = le16(bs + 19);
	if (tot == 0)
		tot = le32(bs + 32);
	fatsz = le16(bs + 22);
	if (fatsz == 0)
		fatsz = le32(bs + 36);
	if (!pow2(bps) || bps < 512 || bps > 4096 || !pow2(spc) ||
	    spc > 128 || rsvd == 0 || nfats == 0 || nfats > 4 || fatsz == 0 ||
	    tot == 0) {
		snprintf(err, errlen, "boot sector fields out of range");
		return -1;
	}
	if ((uint64_t)tot * bps > part_size) {
		snprintf(err, errlen, "file system larger than its partition");
		return -1;
	}
	rootsecs = (rootents * 32 + bps - 1) / bps;
	data_start = (uint64_t)rsvd + (uint64_t)nfats * fatsz + rootsecs;
	if (data_start >= tot) {
		snprintf(err, errlen, "no data region");
		return -1;
	}
	g->clusters = (uint32_t)((tot - data_start) / spc);
	if (g->clusters == 0) {
		snprintf(err, errlen, "no clusters");
		return -1;
	}
	g->type = g->clusters < 4085 ? 12 : g->clusters < 65525 ? 16 : 32;
	if ((g->type == 32) != (le16(bs + 22) == 0)) {
		snprintf(err, errlen, "FAT size field does not fit FAT%d",
		    g->type);
		return -1;
	}
	/* The FAT must hold an entry for every cluster (and the two
	 * reserved ones). */
	fat_bytes = g->type == 12 ? ((uint64_t)g->clusters + 2) * 3 / 2 + 1 :
	    ((uint64_t)g->clusters + 2) * (g->type / 8);
	if (fat_bytes > (uint64_t)fatsz * bps || fat_bytes > FAT_MAX_BYTES) {
		snprintf(err, errlen, "FAT too small or too large for %u "
		    "clusters", g->clusters);
		return -1;
	}
	g->fat_off = (uint64_t)rsvd * bps;
	g->fat_bytes = (size_t)fat_bytes;
	g->data_off = data_start * bps;
	g->cluster_bytes = spc * bps;
	return 0;
}

static uint32_t
fat_entry(const struct fat_geom *g, const uint8_t *fat, uint32_t k)
{
	size_t o;

	switch (g->type) {
	case 12:
		o = (size_t)k * 3 / 2;
		return k & 1 ? le16(fat + o) >> 4 : le16(fat + o) & 0xfff;
	case 16:
		return le16(fat + (size_t)k * 2);
	default:
		return le32(fat + (size_t)k * 4) & 0x0fffffff;
	}
}

int
fat_free_ranges(const struct fat_geom *g, const uint8_t *fat, size_t fatlen,
    int (*emit)(void *, uint64_t, uint64_t), void *ctx, uint64_t *free_bytes)
{
	uint64_t run_off = 0, run_len = 0;

	*free_bytes = 0;
	if (fatlen < g->fat_bytes)
		return -1;
	for (uint32_t k = 2; k < g->clusters + 2; k++) {
		uint64_t off;
		if (fat_entry(g, fat, k) != 0)
			continue;
		off = g->data_off + (uint64_t)(k - 2) * g->cluster_bytes;
		*free_bytes += g->cluster_bytes;
		if (run_len > 0 && run_off + run_len == off) {
			run_len += g->cluster_bytes;
			continue;
		}
		if (run_len > 0 && emit(ctx, run_off, run_len) != 0)
			return -1;
		run_off = off;
		run_len = g->cluster_bytes;
	}
	if (run_len > 0 && emit(ctx, run_off, run_len) != 0)
		return -1;
	return 0;
}
