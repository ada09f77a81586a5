/*
 * tests/fuzz/fuzz_appliance_console_sol.c — "sol_workarounds" of the ipmi
 * power settings (appliance/console_sol.c console_sol_workarounds), as an
 * operator or the API gives it: FreeIPMI's names, comma or space
 * separated. A refusal says why in a bounded message; what it accepts is
 * made of known names only, and each name alone gives a flag.
 */
#include <string.h>

#include "appliance/rackd.h"
#include "tests/fuzz/fuzz.h"

static const char *const names[] = {
	"authcap", "intel20", "supermicro20", "sun20", "opensesspriv",
	"integritycheckvalue", "nochecksumcheck", "serialalertsdeferred",
	"solpacketseq", "solpayloadsize", "solport", "solstatus",
	"solchannelsupport", NULL
};

static int
known(const char *p, size_t len)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(p, names[i], len) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[SOL_WORKAROUNDS_MAX * 2 + 1], err[ERR_MAX];
	unsigned flags = 0, one;
	const char *p;

	FUZZ_SELFTEST_TRAP(data, size);
	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 'x', sizeof(err));
	err[0] = '\0';
	if (console_sol_workarounds(text, &flags, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		return 0;
	}
	FUZZ_CHECK(strlen(text) <= SOL_WORKAROUNDS_MAX);
	for (p = text; *p != '\0';) {
		size_t len;
		p += strspn(p, " ,");
		len = strcspn(p, " ,");
		if (len == 0)
			break;
		FUZZ_CHECK(known(p, len));
		p += len;
	}
	/* each name alone gives a flag, and the list their union */
	one = 0;
	for (p = text; *p != '\0';) {
		char name[32];
		unsigned f;
		size_t len;
		p += strspn(p, " ,");
		if ((len = strcspn(p, " ,")) == 0)
			break;
		FUZZ_CHECK(len < sizeof(name));
		memcpy(name, p, len);
		name[len] = '\0';
		FUZZ_CHECK(console_sol_workarounds(name, &f, err,
		    sizeof(err)) == 0 && f != 0);
		one |= f;
		p += len;
	}
	FUZZ_CHECK(one == flags);
	return 0;
}
