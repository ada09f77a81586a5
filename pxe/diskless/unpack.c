/*
 * unpack.c — busybox cpio unpacking into the new root, fed through a
 * pipe: "cpio -i -d -m -u" (make directories, keep times, replace). The
 * image's names were checked when it was imported (no '..', no absolute
 * names, nothing under a symlink), and every byte in the pipe was checked
 * against the manifest first.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pxe/diskless/diskless.h"

int
unpack_start(const char *root, pid_t *pid, int *fd, char *err, size_t errlen)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	(void)fcntl(p[1], F_SETPIPE_SZ, DL_PIPE_BYTES);	/* best effort */
	if ((*pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (*pid == 0) {
		if (dup2(p[0], 0) < 0 || chdir(root) != 0)
			_exit(126);
		execlp("cpio", "cpio", "-i", "-d", "-m", "-u", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	*fd = p[1];
	signal(SIGPIPE, SIG_IGN);	/* a dead cpio: EPIPE, not a signal */
	return 0;
}

int
unpack_finish(pid_t pid, int fd, char *err, size_t errlen)
{
	int status;

	if (fd >= 0)
		close(fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "waiting for cpio: %s",
			    strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(err, errlen, "no cpio program to unpack with");
	else if (WIFEXITED(status))
		snprintf(err, errlen, "unpacking failed (cpio exit %d; is the "
		    "tmpfs full?)", WEXITSTATUS(status));
	else
		snprintf(err, errlen, "unpacking failed (cpio killed by signal "
		    "%d)", WTERMSIG(status));
	return -1;
}
