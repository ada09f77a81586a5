/* images/backoff.c — the retry schedule of rackd's clients
 * (images/backoff.h). */
#include "images/backoff.h"

int64_t
backoff_delay_ms(unsigned attempt)
{
	int64_t d = BACKOFF_BASE_MS;

	for (unsigned i = 0; i < attempt && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	return d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS;
}
