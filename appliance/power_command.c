/*
 * power_command.c — the "command" power method: the operator's program,
 * run as PROGRAM on|off|cycle|status SLOT with that argv alone (no shell),
 * stdin /dev/null, its output (stdout and stderr, at most
 * COMMAND_OUTPUT_MAX bytes kept) read back, and killed after "timeout"
 * seconds (SIGTERM, then SIGKILL). For status it prints "on" or "off". An
 * exit other than 0 is an error with the first line of its output. The
 * optional secret "password" reaches it in RACKD_POWER_PASSWORD, never on
 * its command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "appliance/rackd.h"

#define COMMAND_OUTPUT_MAX	4096
#define COMMAND_TIMEOUT		15	/* seconds, by default */
#define COMMAND_TIMEOUT_MAX	60
#define COMMAND_KILL_WAIT_MS	2000	/* SIGTERM, then SIGKILL */

static const char *const secrets[] = { "password", NULL };

static const char *const keys[] = { "method", "program", "timeout",
	"password", NULL };

static int
command_check(const json_t *s, char *err, size_t errlen)
{
	const char *prog = power_setting_str(s, "program", NULL);
	const char *key;
	json_t *v;
	int t;

	json_object_foreach((json_t *)s, key, v) {
		int known = 0;
		for (int i = 0; keys[i] != NULL; i++)
			known |= strcmp(keys[i], key) == 0;
		if (!known) {
			snprintf(err, errlen, "unknown key '%s' (program, "
			    "timeout, password)", key);
			return -1;
		}
	}
	if (prog == NULL || prog[0] != '/') {
		snprintf(err, errlen, "program: the absolute path of the "
		    "program to run");
		return -1;
	}
	if (access(prog, X_OK) != 0) {
		snprintf(err, errlen, "program: %s: %s", prog,
		    strerror(errno));
		return -1;
	}
	if (power_setting_str(s, "password", "") == NULL) {
		snprintf(err, errlen, "password: a string");
		return -1;
	}
	return power_setting_int(s, "timeout", COMMAND_TIMEOUT, 1,
	    COMMAND_TIMEOUT_MAX, &t, err, errlen);
}

/* Read the child's output until it closes or deadline; 0, or -1 at the
 * deadline. */
static int
collect(int fd, char *out, size_t max, size_t *len, int64_t deadline)
{
	char junk[512];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd.revents == 0)
			continue;
		if (*len < max)
			n = read(fd, out + *len, max - *len);
		else
			n = read(fd, junk, sizeof(junk));	/* dropped */
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		if (*len < max)
			*len += (size_t)n;
	}
}

/* Wait for pid until deadline; 1 and *status, or 0. */
static int
wait_until(pid_t pid, int *status, int64_t deadline)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1;	/* not ours to wait for any more */
		if (mono_ms() >= deadline)
			return 0;
		usleep(20 * 1000);
	}
}

static void
first_line(const char *out, char *line, size_t len)
{
	size_t n = strcspn(out, "\n");

	if (n >= len)
		n = len - 1;
	memcpy(line, out, n);
	line[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = ' ';
}

static int
command_run(const struct power_target *t, enum power_op op,
    enum power_state *state, char *err, size_t errlen)
{
	const char *prog = power_setting_str(t->settings, "program", NULL);
	const char *pw = power_setting_str(t->settings, "password", NULL);
	char out[COMMAND_OUTPUT_MAX + 1], line[POWER_ERR_MAX], envpw[600];
	char *argv[4], *envp[3];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int p[2], timeout, status = 0, rc;
	size_t len = 0;
	int64_t deadline;
	pid_t pid;

	if (op != POWER_ON && op != POWER_OFF && op != POWER_CYCLE &&
	    op != POWER_STATUS) {
		snprintf(err, errlen, "the command method cannot %s",
		    power_op_name(op));
		return -1;
	}
	if (prog == NULL || power_setting_int(t->settings, "timeout",
	    COMMAND_TIMEOUT, 1, COMMAND_TIMEOUT_MAX, &timeout, err,
	    errlen) != 0) {
		snprintf(err, errlen, "the command method's settings are bad");
		return -1;
	}
	argv[0] = (char *)prog;
	argv[1] = (char *)power_op_name(op);
	argv[2] = (char *)t->slot;
	argv[3] = NULL;
	envp[0] = (char *)"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
	    "/usr/bin:/sbin:/bin";
	envp[1] = NULL;
	if (pw != NULL) {
		snprintf(envpw, sizeof(envpw), "RACKD_POWER_PASSWORD=%s", pw);
		envp[1] = envpw;
	}
	envp[2] = NULL;
	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	/* rackd's blocked and ignored signals are not the program's. */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	rc = posix_spawn(&pid, prog, &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	explicit_bzero(envpw, sizeof(envpw));
	if (rc != 0) {
		close(p[0]);
		snprintf(err, errlen, "%s: %s", prog, strerror(rc));
		return -1;
	}
	deadline = mono_ms() + (int64_t)timeout * 1000;
	rc = collect(p[0], out, COMMAND_OUTPUT_MAX, &len, deadline);
	close(p[0]);
	out[len] = '\0';
	if (rc != 0 || !wait_until(pid, &status, deadline)) {
		kill(-pid, SIGTERM);	/* its group: what it started too */
		if (!wait_until(pid, &status,
		    mono_ms() + COMMAND_KILL_WAIT_MS)) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		snprintf(err, errlen, "%s %s: killed after its timeout of %ds",
		    prog, power_op_name(op), timeout);
		return -1;
	}
	first_line(out, line, sizeof(line));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFSIGNALED(status))
			snprintf(err, errlen, "%s %s: killed by signal %d%s%s",
			    prog, power_op_name(op), WTERMSIG(status),
			    line[0] ? ": " : "", line);
		else
			snprintf(err, errlen, "%s %s: exit %d%s%s", prog,
			    power_op_name(op), WEXITSTATUS(status),
			    line[0] ? ": " : "", line);
		return -1;
	}
	if (op != POWER_STATUS)
		return 0;
	if (strcmp(line, "on") == 0)
		*state = POWER_IS_ON;
	else if (strcmp(line, "off") == 0)
		*state = POWER_IS_OFF;
	else {
		snprintf(err, errlen, "%s status: printed \"%.64s\", not "
		    "\"on\" or \"off\"", prog, line);
		return -1;
	}
	return 0;
}

const struct power_method power_command = {
	.name = "command",
	.caps = POWER_CAN(POWER_ON) | POWER_CAN(POWER_OFF) |
	    POWER_CAN(POWER_CYCLE) | POWER_CAN(POWER_STATUS),
	.secrets = secrets,
	.check = command_check,
	.run = command_run,
};
