/* images/rackctl/util.c — helpers every rackctl command shares: errors
 * and usage errors in one form, command tables, numbers and sizes from
 * the command line (sizes for people: fmt_bytes, images/bytes.h). Apart
 * from main.c so that a test links rackctl's files without its main. */
#include "images/rackctl/rackctl.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "rackctl: " and the message on stderr, after what stdout holds. */
static void
verror(const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs("rackctl: ", stderr);
	vfprintf(stderr, fmt, ap);
}

void
rackctl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
rackctl_usage(const char *help_for, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'rackctl %s%s--help'.\n",
	    help_for ? help_for : "", help_for ? " " : "");
	return RACKCTL_USAGE;
}

int
rackctl_bad_option(const char *help_for, const char *cmd, int o,
    const char *arg)
{
	if (o == ':')
		return rackctl_usage(help_for, "%s: option '%s' needs a value",
		    cmd, arg);
	return rackctl_usage(help_for, "%s: unknown option '%s'", cmd, arg);
}

void
rackctl_print_commands(FILE *f, const struct rackctl_cmd *table, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-8s %s\n", table[i].name, table[i].summary);
}

int
rackctl_dispatch(const char *where, const struct rackctl_cmd *table, size_t n,
    int argc, char **argv)
{
	if (argc < 1 || !argv[0])
		return rackctl_usage(where, "missing command");
	for (size_t i = 0; i < n; i++)
		if (strcmp(argv[0], table[i].name) == 0)
			return table[i].run(argc, argv);
	return rackctl_usage(where, "unknown command '%s'", argv[0]);
}

bool
rackctl_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	if (!s || !*s)
		return false;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool
rackctl_parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return false;
	unsigned shift = 0;
	if (*end) {
		char u = *end;
		const char *rest = end + 1;
		if (u == 'k' || u == 'K')
			shift = 10;
		else if (u == 'm' || u == 'M')
			shift = 20;
		else if (u == 'g' || u == 'G')
			shift = 30;
		else
			return false;
		if (*rest && strcasecmp(rest, "iB") != 0 &&
		    strcasecmp(rest, "B") != 0)
			return false;
	}
	if (shift && v > (ULLONG_MAX >> shift))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}
