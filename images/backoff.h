/* images/backoff.h — the retry schedule of rackd's clients.
 *
 * rackctl (pushing to a rack) and the node programs of pxe/ (fetching
 * jobs and chunks) talk to rackd over links that drop, and wait between
 * tries by one schedule: BACKOFF_BASE_MS, doubled each time, at most
 * BACKOFF_MAX_MS. The two programs share only this library, so the
 * schedule lives here; each adds its own jitter and deadline.
 */
#ifndef RACKD_IMAGES_BACKOFF_H
#define RACKD_IMAGES_BACKOFF_H

#include <stdint.h>

#define BACKOFF_BASE_MS		250	/* delay before the first retry */
#define BACKOFF_MAX_MS		8000	/* longest delay between retries */

/* Delay before retry number attempt (0-based): BACKOFF_BASE_MS doubled
 * each time, at most BACKOFF_MAX_MS (no overflow for any attempt). */
int64_t	 backoff_delay_ms(unsigned attempt);

#endif
