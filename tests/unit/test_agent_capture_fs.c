/* tests/unit/test_agent_capture_fs.c — rack-agent's capture: the FAT
 * parser on a FAT12 boot sector and table built by hand (geometry, the
 * free runs, merged, and refusals of fields out of range or a file system
 * larger than its partition), and fsmap_apply zeroing exactly the free
 * bytes of a buffer, across range edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxe/agent/agent.h"
#include "tests/unit/unit.h"

#define TOT	64	/* sectors of 512 */

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* FAT12: 1 reserved sector, 2 FATs of 1 sector, 16 root entries (1
 * sector): data from sector 4, 60 clusters of 1 sector. */
static void
fat12(uint8_t *img)
{
	uint8_t *fat = img + 512;

	memset(img, 0, TOT * 512);
	put16(img + 11, 512);
	img[13] = 1;
	put16(img + 14, 1);
	img[16] = 2;
	put16(img + 17, 16);
	put16(img + 19, TOT);
	put16(img + 22, 1);
	img[510] = 0x55;
	img[511] = 0xaa;
	/* entries 0, 1 reserved; 2 end; 3 -> 4; 4 end; 5..9 free; 10 end;
	 * 11.. free */
	fat[0] = 0xf8; fat[1] = 0xff; fat[2] = 0xff;	/* 0, 1 */
	fat[3] = 0xff; fat[4] = 0x4f; fat[5] = 0x00;	/* 2 = fff, 3 = 004 */
	fat[6] = 0xff; fat[7] = 0x0f; fat[8] = 0x00;	/* 4 = fff, 5 = 0 */
	/* 10 = fff: bytes 15, 16 (even entry) */
	fat[15] = 0xff;
	fat[16] = 0x0f;
}

struct got {
	uint64_t off[8], len[8];
	int n;
};

static int
emit(void *ctx, uint64_t off, uint64_t len)
{
	struct got *g = ctx;

	assert_true(g->n < 8);
	g->off[g->n] = off;
	g->len[g->n++] = len;
	return 0;
}

static void
test_fat12(void **state)
{
	uint8_t *img = calloc(TOT, 512);
	struct fat_geom g;
	struct got got = { .n = 0 };
	char err[256];
	uint64_t freeb;

	(void)state;
	fat12(img);
	assert_int_equal(fat_geometry(img, TOT * 512, TOT * 512, &g, err,
	    sizeof(err)), 0);
	assert_int_equal(g.type, 12);
	assert_int_equal(g.clusters, 60);
	assert_int_equal(g.cluster_bytes, 512);
	assert_int_equal(g.fat_off, 512);
	assert_int_equal(g.data_off, 4 * 512);
	assert_int_equal(fat_free_ranges(&g, img + g.fat_off, g.fat_bytes, emit,
	    &got, &freeb), 0);
	/* clusters 5..9 and 11..61 */
	assert_int_equal(got.n, 2);
	assert_int_equal(got.off[0], 4 * 512 + 3 * 512);
	assert_int_equal(got.len[0], 5 * 512);
	assert_int_equal(got.off[1], 4 * 512 + 9 * 512);
	assert_int_equal(got.len[1], 51 * 512);
	assert_int_equal(freeb, 56 * 512);
	/* a short FAT is refused */
	assert_int_not_equal(fat_free_ranges(&g, img + g.fat_off,
	    g.fat_bytes - 1, emit, &got, &freeb), 0);
	/* larger than its partition */
	assert_int_not_equal(fat_geometry(img, TOT * 512, TOT * 512 - 1, &g,
	    err, sizeof(err)), 0);
	/* fields out of range */
	put16(img + 11, 300);
	assert_int_not_equal(fat_geometry(img, TOT * 512, TOT * 512, &g, err,
	    sizeof(err)), 0);
	fat12(img);
	img[13] = 3;
	assert_int_not_equal(fat_geometry(img, TOT * 512, TOT * 512, &g, err,
	    sizeof(err)), 0);
	fat12(img);
	img[510] = 0;
	assert_int_not_equal(fat_geometry(img, TOT * 512, TOT * 512, &g, err,
	    sizeof(err)), 0);
	assert_int_not_equal(fat_geometry(img, 100, TOT * 512, &g, err,
	    sizeof(err)), 0);
	free(img);
}

static void
test_apply(void **state)
{
	struct fsrange v[] = { { 10, 5 }, { 100, 50 }, { 1000, 1 } };
	struct fsmap m = { .v = v, .n = 3 };
	uint8_t buf[200];

	(void)state;
	memset(buf, 0xaa, sizeof(buf));
	fsmap_apply(&m, 0, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], (i >= 10 && i < 15) ||
		    (i >= 100 && i < 150) ? 0 : 0xaa);
	/* a window starting inside a range, ending inside another */
	memset(buf, 0xaa, sizeof(buf));
	fsmap_apply(&m, 12, buf, 100);	/* bytes 12..111 */
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(buf[i], i < 3 || i >= 88 ? 0 : 0xaa);
	/* nothing free in the window */
	memset(buf, 0xaa, sizeof(buf));
	fsmap_apply(&m, 150, buf, 200);
	for (size_t i = 0; i < 200; i++)
		assert_int_equal(buf[i], 0xaa);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fat12),
		cmocka_unit_test(test_apply),
	};
	unit_watchdog(60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
