/*
 * tests/fuzz/fuzz_appliance_console_api.c — the body of POST
 * /api/v1/nodes/SLOT/console (appliance/console_api.c
 * console_parse_input), decoded as http_json_body does (a JSON object,
 * duplicate keys refused), and the console's ring (console.c) fed the
 * bytes it accepts. What it accepts is {"data": BASE64} alone, 1 to
 * CONSOLE_INPUT_MAX bytes, and the ring then holds their last bytes.
 */
#include <string.h>

#include "appliance/rackd.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char out[CONSOLE_INPUT_MAX], back[64];
	struct console_ring ring;
	char err[ERR_MAX];
	json_error_t je;
	json_t *body;
	uint64_t pos = 0;
	size_t n = 0, got;

	FUZZ_SELFTEST_TRAP(data, size);
	body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    &je);
	if (body == NULL)
		return 0;
	err[0] = '\0';
	if (console_parse_input(body, out, sizeof(out), &n, err,
	    sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		json_decref(body);
		return 0;
	}
	FUZZ_CHECK(json_is_object(body) && json_object_size(body) == 1);
	FUZZ_CHECK(n >= 1 && n <= CONSOLE_INPUT_MAX);
	json_decref(body);
	/* A small ring keeps the last bytes put, whatever their count. */
	FUZZ_CHECK(console_ring_init(&ring, 37) == 0);
	console_ring_put(&ring, out, n / 2);
	console_ring_put(&ring, out + n / 2, n - n / 2);
	got = console_ring_get(&ring, &pos, back, sizeof(back));
	FUZZ_CHECK(got == (n < 37 ? n : 37));
	FUZZ_CHECK(memcmp(back, out + n - got, got) == 0);
	FUZZ_CHECK(pos == n);
	console_ring_free(&ring);
	return 0;
}
