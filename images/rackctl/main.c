/* images/rackctl/main.c — rackctl main: the command table, --help and
 * --version. */
#include "images/rackctl/rackctl.h"

#include <string.h>

#ifndef RACKD_VERSION
#define RACKD_VERSION "0.1"
#endif

static int cmd_help(int argc, char **argv);

static const struct rackctl_cmd commands[] = {
	{ "image", rackctl_cmd_image,
	    "manage images in a local store (import, list, show, verify, "
	    "sign)" },
	{ "keygen", rackctl_cmd_keygen,
	    "make an ed25519 key pair for signing images" },
	{ "push", rackctl_cmd_push,
	    "push an image to racks (only the chunks each lacks)" },
	{ "publish", rackctl_cmd_publish,
	    "publish an image to an origin racks pull from (a directory, "
	    "S3)" },
	{ "pull-to", rackctl_cmd_pull_to,
	    "ask racks to pull an image from their image_sources" },
	{ "pull", rackctl_cmd_pull,
	    "bring an image from a rack into a central store (only the "
	    "chunks it lacks)" },
	{ "fleet", rackctl_cmd_fleet,
	    "the images of many racks and the nodes that run them" },
	{ "nodes", rackctl_cmd_nodes, "list a rack's nodes" },
	{ "images", rackctl_cmd_images, "list a rack's images" },
	{ "jobs", rackctl_cmd_jobs, "list a rack's jobs" },
	{ "reimage", rackctl_cmd_reimage,
	    "reimage a node of a rack (--wait: follow it)" },
	{ "console", rackctl_cmd_console,
	    "attach to a node's serial console (~. leaves)" },
	{ "power", rackctl_cmd_power,
	    "switch a node of a rack on or off, cycle it, or ask its state" },
	{ "erase", rackctl_cmd_erase,
	    "erase a node's disk (names its serials and asks first)" },
	{ "help", cmd_help, "show this help" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: rackctl COMMAND [ARGS...]\n"
	    "       rackctl --help | --version\n"
	    "\n"
	    "rackctl builds, signs and pushes images for rackd, the rack "
	    "controller,\n"
	    "and drives racks from a shell.\n"
	    "\n"
	    "Commands:\n");
	rackctl_print_commands(f, commands, NCOMMANDS);
	fprintf(f,
	    "\n"
	    "Options:\n"
	    "  -h, --help     show this help and exit\n"
	    "  -V, --version  show the version and exit\n"
	    "\n"
	    "Run 'rackctl COMMAND --help' for a command's arguments.\n"
	    "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

static int
cmd_help(int argc, char **argv)
{
	if (argc > 1) {
		char *args[] = { argv[1], (char *)"--help", NULL };
		return rackctl_dispatch(NULL, commands, NCOMMANDS, 2, args);
	}
	usage(stdout);
	return RACKCTL_OK;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return RACKCTL_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return RACKCTL_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("rackctl %s\n", RACKD_VERSION);
		return RACKCTL_OK;
	}
	if (argv[1][0] == '-')
		return rackctl_usage(NULL, "unknown option '%s'", argv[1]);
	int r = rackctl_dispatch(NULL, commands, NCOMMANDS, argc - 1, argv + 1);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		rackctl_error("writing the output failed");
		return RACKCTL_FAIL;
	}
	return r;
}
