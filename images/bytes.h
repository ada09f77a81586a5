/* images/bytes.h — a byte count for people ("12.3 MiB").
 *
 * rackctl (sizes of images and pushes) and the node programs of pxe/
 * (their console's progress lines) print sizes the same way; the two
 * programs share only this library, so the one formatter lives here.
 */
#ifndef RACKD_IMAGES_BYTES_H
#define RACKD_IMAGES_BYTES_H

#include <stddef.h>
#include <stdint.h>

#define BYTES_STR_MAX		32	/* fmt_bytes' text ("1023.9 PiB") */

/* n as "512 B", "1.5 GiB", ... (binary units, one decimal) into buf;
 * BYTES_STR_MAX is enough. Returns buf. */
const char *fmt_bytes(uint64_t n, char *buf, size_t len);

#endif
