/*
 * tests/fuzz/fuzz.h — what every libFuzzer driver of rackd shares: the
 * entry point's prototype (the project builds with -Wmissing-prototypes)
 * and FUZZ_CHECK, which aborts on a broken promise of the code under test
 * so that libFuzzer keeps the input. A parser that refuses an input is
 * fine; one that accepts it and returns something its header rules out
 * is a bug, as is any report of the sanitizers.
 */
#ifndef RACKD_TESTS_FUZZ_H
#define RACKD_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: broken promise: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/*
 * The harness's own test (tests/fuzz/selftest.sh) builds a driver with
 * FUZZ_SELFTEST: its check then breaks on inputs that start with
 * "selftest", and `make fuzz` must report that driver as failed and keep
 * the input. Without FUZZ_SELFTEST the trap is compiled out.
 */
#ifdef FUZZ_SELFTEST
#define FUZZ_SELFTEST_TRAP(d, n)					\
	FUZZ_CHECK(!((n) >= 8 && memcmp((d), "selftest", 8) == 0))
#else
#define FUZZ_SELFTEST_TRAP(d, n)	((void)0)
#endif

#endif
