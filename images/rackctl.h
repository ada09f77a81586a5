/* images/rackctl.h — rackctl, the operator's command line: what each file
 * offers.
 *
 * rackctl.c        main, the command table, shared helpers (errors, sizes)
 * rackctl_image.c  "rackctl image ...": import, list, show, verify
 *
 * Exit codes: 0 ok, 1 failure, 2 usage. Errors go to stderr as
 * "rackctl: what is wrong".
 */
#ifndef RACKD_IMAGES_RACKCTL_H
#define RACKD_IMAGES_RACKCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	RACKCTL_OK = 0,
	RACKCTL_FAIL = 1,
	RACKCTL_USAGE = 2,
};

/* One entry of a command table: "rackctl NAME ..." or "rackctl image NAME". */
struct rackctl_cmd {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command's name */
	const char *summary;               /* one line for --help */
};

/* rackctl.c */
void rackctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the error and "Try 'rackctl HELP --help'." then returns RACKCTL_USAGE. */
int rackctl_usage(const char *help_for, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs the entry of table named argv[0]; unknown names are usage errors. */
int rackctl_dispatch(const char *where, const struct rackctl_cmd *table, size_t n, int argc, char **argv);
/* Prints the table as "  name   summary" lines. */
void rackctl_print_commands(FILE *f, const struct rackctl_cmd *table, size_t n);
/* "1048576", "1024K", "1M", "1MiB" (binary units). true on success. */
bool rackctl_parse_size(const char *s, uint64_t *out);
/* A decimal integer in [min, max]. true on success. */
bool rackctl_parse_long(const char *s, long min, long max, long *out);
/* "1.5 GiB" into buf. */
const char *rackctl_human(uint64_t bytes, char *buf, size_t buflen);

/* rackctl_image.c */
int rackctl_cmd_image(int argc, char **argv);

#endif
