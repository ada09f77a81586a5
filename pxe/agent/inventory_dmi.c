/*
 * inventory_dmi.c — what the SMBIOS table says that /sys/class/dmi/id
 * may not: the system's type 1 strings and UUID, and the memory devices'
 * (type 17) sizes, summed into the memory installed (what /proc/meminfo
 * gives is less: the kernel's own reservations are not counted there).
 * The table is /sys/firmware/dmi/tables/DMI, structures back to back,
 * each a formatted area then its strings (ended by two NULs).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pxe/agent/agent.h"

/* String number idx (1-based) of the structure at s (formatted length
 * len, strings up to end), or "". */
static void
dmi_string(const uint8_t *s, size_t len, const uint8_t *end, unsigned idx,
    char *out, size_t outlen)
{
	const uint8_t *p = s + len;

	out[0] = '\0';
	if (idx == 0)
		return;
	while (p < end && *p != '\0') {
		size_t n = strnlen((const char *)p, (size_t)(end - p));
		if (--idx == 0) {
			size_t k = n < outlen - 1 ? n : outlen - 1;
			memcpy(out, p, k);
			out[k] = '\0';
			/* trailing blanks of fixed-width fields */
			while (k > 0 && out[k - 1] == ' ')
				out[--k] = '\0';
			return;
		}
		p += n + 1;
	}
}

int
inventory_dmi_parse(const uint8_t *t, size_t size, struct inv_dmi *d)
{
	const uint8_t *p = t, *end = t + size;
	int found = 0;

	memset(d, 0, sizeof(*d));
	while (p + 4 <= end) {
		uint8_t type = p[0], len = p[1];
		const uint8_t *q;
		if (len < 4 || p + len > end)
			return -1;
		/* The structure's strings end at a double NUL. */
		for (q = p + len; q + 1 < end && (q[0] != 0 || q[1] != 0); q++)
			;
		if (q + 1 >= end)
			return -1;
		if (type == 1 && len >= 0x19) {
			const uint8_t *u = p + 8;
			dmi_string(p, len, q, p[4], d->vendor,
			    sizeof(d->vendor));
			dmi_string(p, len, q, p[5], d->model,
			    sizeof(d->model));
			dmi_string(p, len, q, p[7], d->serial,
			    sizeof(d->serial));
			/* SMBIOS 2.6 on: the first three fields little-endian,
			 * as the kernel's product_uuid shows them. */
			snprintf(d->uuid, sizeof(d->uuid), "%02x%02x%02x%02x-"
			    "%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
			    "%02x", u[3], u[2], u[1], u[0], u[5], u[4], u[7],
			    u[6], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
			    u[15]);
			found = 1;
		} else if (type == 17 && len >= 0x0e) {
			unsigned sz = p[0x0c] | (unsigned)p[0x0d] << 8;
			if (sz == 0x7fff && len >= 0x20)
				d->memory_bytes += (uint64_t)(p[0x1c] |
				    (uint32_t)p[0x1d] << 8 |
				    (uint32_t)p[0x1e] << 16 |
				    (uint32_t)p[0x1f] << 24) << 20;
			else if (sz != 0xffff && sz != 0)
				d->memory_bytes += sz & 0x8000 ?
				    (uint64_t)(sz & 0x7fff) << 10 :
				    (uint64_t)sz << 20;
		} else if (type == 127) {
			break;
		}
		p = q + 2;
	}
	return found || d->memory_bytes > 0 ? 0 : -1;
}
