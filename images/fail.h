/* images/fail.h — the image library's way out of a failing function.
 *
 * Functions of images/ that can fail take (char *err, size_t errlen),
 * write one line there and return -1 (images/err.h). FAIL does both, so
 * that each check is one statement. Included by the library's .c files
 * only, never by a header: the name is too short to hand to callers.
 */
#ifndef RACKD_IMAGES_FAIL_H
#define RACKD_IMAGES_FAIL_H

#include <stdio.h>

#define FAIL(...)                                   \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return -1;                          \
	} while (0)

#endif
