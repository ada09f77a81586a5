/*
 * tests/fuzz/fuzz_pxe_capture_fat.c — rack-agent's FAT parser
 * (pxe/agent/capture_fat.c), which a capture runs on whatever a node's
 * disk holds: the input is a partition (its boot sector first). Any
 * geometry it takes lies inside the partition, its FAT inside it too, and
 * the free ranges it reports are in the data region, ordered, apart, and
 * add up to what it says.
 */
#include <string.h>

#include "pxe/agent/agent.h"
#include "tests/fuzz/fuzz.h"

struct seen {
	const struct fat_geom *g;
	uint64_t size, last_end, sum;
};

static int
emit(void *ctx, uint64_t off, uint64_t len)
{
	struct seen *s = ctx;

	FUZZ_CHECK(len > 0 && len % s->g->cluster_bytes == 0);
	FUZZ_CHECK(off >= s->g->data_off && off >= s->last_end);
	FUZZ_CHECK(off + len <= s->size);
	FUZZ_CHECK(s->last_end == 0 || off > s->last_end);
	s->last_end = off + len;
	s->sum += len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fat_geom g;
	struct seen s = { .g = &g, .size = size };
	char err[256];
	uint64_t freeb;

	FUZZ_SELFTEST_TRAP(data, size);
	err[0] = '\0';
	if (fat_geometry(data, size, size, &g, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(g.type == 12 || g.type == 16 || g.type == 32);
	FUZZ_CHECK(g.clusters > 0 && g.cluster_bytes >= 512);
	FUZZ_CHECK(g.fat_off + g.fat_bytes <= g.data_off);
	FUZZ_CHECK(g.data_off + (uint64_t)g.clusters * g.cluster_bytes <= size);
	FUZZ_CHECK(fat_free_ranges(&g, data + g.fat_off, g.fat_bytes, emit, &s,
	    &freeb) == 0);
	FUZZ_CHECK(freeb == s.sum);
	FUZZ_CHECK(fat_free_ranges(&g, data + g.fat_off, g.fat_bytes - 1, emit,
	    &s, &freeb) != 0);
	return 0;
}
