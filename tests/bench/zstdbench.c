/* tests/bench/zstdbench.c — zstd level and chunk size figures for chunk
 * compression, on a real disk image.
 *
 * Build and run from the repository root:
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I. tests/bench/zstdbench.c images/chunk.c \
 *      images/hash.c -lzstd -lsodium -o build/zstdbench
 *   build/zstdbench IMAGE [chunk KiB [level ...]]
 * A test image: a file system image of a few hundred MB of real files, e.g.
 *   truncate -s 1G disk.img && mkfs.ext4 -q -d DIR disk.img
 * For each level: all-zero chunks are skipped as the importer does; the
 * others are compressed one by one (one core), then decompressed. Figures:
 * ratio = data bytes / compressed bytes, MB/s of data bytes (10^6), and the
 * time to move the compressed chunks over a 40 MB/s link (USB 2 class).
 */
#include "images/chunk.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINK_MBS 40.0

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char err[256];
	static const int default_levels[] = { 1, 3, 6, 9, 12, 19 };
	int levels[32], nlevels = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s IMAGE [chunk KiB [level ...]]\n", argv[0]);
		return 2;
	}
	size_t chunk = (argc > 2 ? strtoul(argv[2], NULL, 10) : 1024) * 1024;
	for (int i = 3; i < argc && nlevels < 32; i++)
		levels[nlevels++] = atoi(argv[i]);
	if (nlevels == 0)
		for (size_t i = 0; i < sizeof default_levels / sizeof default_levels[0]; i++)
			levels[nlevels++] = default_levels[i];

	int fd = open(argv[1], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0) {
		perror(argv[1]);
		return 1;
	}
	size_t size = (size_t)st.st_size;
	unsigned char *img = malloc(size);
	size_t got = 0;
	while (img && got < size) {
		ssize_t n = read(fd, img + got, size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!img || got != size)
		return 1;

	size_t nchunks = (size + chunk - 1) / chunk, ndata = 0, data = 0;
	unsigned char **comp = calloc(nchunks, sizeof *comp);
	size_t *clen = calloc(nchunks, sizeof *clen);
	unsigned char *out = malloc(chunk);
	struct chunk_codec *codec = chunk_codec_new();
	if (!comp || !clen || !out || !codec)
		return 1;
	double tz = now();
	for (size_t i = 0; i < nchunks; i++) {
		size_t off = i * chunk, n = size - off < chunk ? size - off : chunk;
		if (!chunk_is_zero(img + off, n)) {
			ndata++;
			data += n;
		}
	}
	tz = now() - tz;
	for (size_t i = 0; i < nchunks; i++) {
		size_t off = i * chunk, n = size - off < chunk ? size - off : chunk;
		if (chunk_is_zero(img + off, n))
			continue;
		comp[i] = malloc(chunk_compress_bound(n));
		if (!comp[i])
			return 1;
		/* touch the pages so the first level is not charged for
		 * page faults */
		memset(comp[i], 0, chunk_compress_bound(n));
	}
	uint8_t d[HASH_LEN];
	double th = now();
	for (size_t i = 0; i < nchunks; i++)
		if (comp[i])
			hash_buffer(HASH_ALG_DEFAULT, img + i * chunk,
				    size - i * chunk < chunk ? size - i * chunk : chunk, d);
	th = now() - th;
	printf("image %s: %zu MB, chunk %zu KiB, %zu chunks, %zu data (%zu MB), %zu holes\n",
	       argv[1], size / 1000000, chunk / 1024, nchunks, ndata, data / 1000000, nchunks - ndata);
	printf("zero scan %.0f MB/s of image, %s %.0f MB/s of data\n", (double)size / tz / 1e6,
	       hash_alg_name(HASH_ALG_DEFAULT), (double)data / th / 1e6);
	printf("level  ratio  stored MB  compress MB/s  decompress MB/s  link s (40 MB/s)  import s (1 core)\n");
	for (int l = 0; l < nlevels; l++) {
		size_t stored = 0;
		double t0 = now();
		for (size_t i = 0; i < nchunks; i++) {
			if (!comp[i])
				continue;
			size_t off = i * chunk, n = size - off < chunk ? size - off : chunk;
			if (chunk_compress(codec, img + off, n, levels[l], comp[i], chunk_compress_bound(n),
					   &clen[i], err, sizeof err) < 0) {
				fprintf(stderr, "%s\n", err);
				return 1;
			}
			stored += clen[i];
		}
		double tc = now() - t0;
		t0 = now();
		for (size_t i = 0; i < nchunks; i++) {
			size_t n;
			if (comp[i] && chunk_decompress(codec, comp[i], clen[i], out, chunk, chunk, &n,
							err, sizeof err) < 0) {
				fprintf(stderr, "%s\n", err);
				return 1;
			}
		}
		double td = now() - t0;
		printf("%5d  %5.2f  %9.1f  %13.1f  %15.1f  %16.1f  %17.1f\n", levels[l],
		       (double)data / (double)stored, (double)stored / 1e6, (double)data / tc / 1e6,
		       (double)data / td / 1e6, (double)stored / 1e6 / LINK_MBS, tc + th + tz);
		fflush(stdout);
	}
	for (size_t i = 0; i < nchunks; i++)
		free(comp[i]);
	free(comp);
	free(clen);
	free(out);
	free(img);
	chunk_codec_free(codec);
	return 0;
}
