/* tests/bench/hashbench.c — chunk hash throughput, SHA-256 vs BLAKE2b-256.
 *
 * Build and run from the repository root:
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I. tests/bench/hashbench.c images/hash.c \
 *      -lsodium -o build/hashbench && build/hashbench [MiB] [chunk KiB]
 * Hashes a random buffer (default 256 MiB) in chunks (default 1024 KiB),
 * five runs per algorithm, and prints the median MB/s (1 MB = 10^6 bytes).
 */
#include "images/hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RUNS 5

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
	size_t chunk = (argc > 2 ? strtoul(argv[2], NULL, 10) : 1024) * 1024;
	size_t total = mib << 20;
	const enum hash_alg algs[] = { HASH_SHA256, HASH_BLAKE2B_256 };

	if (hash_lib_init() < 0 || chunk == 0 || total == 0)
		return 1;
	unsigned char *buf = malloc(total);
	if (!buf)
		return 1;
	randombytes_buf(buf, total);

	printf("%zu MiB in %zu KiB chunks, %d runs, median\n", mib, chunk / 1024, RUNS);
	for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
		double rate[RUNS];
		uint8_t d[HASH_LEN], acc = 0;
		for (int r = 0; r < RUNS; r++) {
			double t0 = now();
			for (size_t off = 0; off < total; off += chunk) {
				size_t n = total - off < chunk ? total - off : chunk;
				hash_buffer(algs[a], buf + off, n, d);
				acc ^= d[0];
			}
			rate[r] = (double)total / (now() - t0) / 1e6;
		}
		qsort(rate, RUNS, sizeof rate[0], cmp_double);
		printf("%-12s %8.1f MB/s  (min %.1f, max %.1f)  [%02x]\n", hash_alg_name(algs[a]),
		       rate[RUNS / 2], rate[0], rate[RUNS - 1], acc);
	}
	free(buf);
	return 0;
}
