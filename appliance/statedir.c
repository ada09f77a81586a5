/*
 * statedir.c — the state directory: created if missing, locked so that two
 * rackd never share one, and the small files rackd keeps in it (secrets are
 * written whole, mode 0600, through a temporary file and rename). The API
 * token (auth.c) and the dashboard password (session.c) load by one rule,
 * statedir_secret: the option's value, else the file, made at first start.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance/rackd.h"
#include "images/file.h"

static char state_dir[PATH_MAX_RACKD];
static int lock_fd = -1;

static int
mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX_RACKD];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

int
statedir_open(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX_RACKD];
	struct stat st;

	if (mkdir_p(dir, 0750) != 0) {
		snprintf(err, errlen, "state dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state dir %s: not a directory", dir);
		return -1;
	}
	/* Others may pass through (dnsmasq reads STATE_DIR/dnsmasq and
	 * tftp) but not list; what is secret has its own mode. */
	chmod(dir, 0711);
	/* realpath's own buffer: it may write up to PATH_MAX bytes. */
	char *real = realpath(dir, NULL);
	if (real == NULL) {
		snprintf(err, errlen, "state dir %s: %s", dir, strerror(errno));
		return -1;
	}
	size_t n = strlen(real);
	if (n >= sizeof(state_dir)) {
		snprintf(err, errlen, "state dir %s: path too long", real);
		free(real);
		return -1;
	}
	memcpy(state_dir, real, n + 1);
	free(real);
	statedir_path(path, sizeof(path), "rackd.lock");
	lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "state dir %s is in use by another rackd",
		    state_dir);
		close(lock_fd);
		lock_fd = -1;
		return -1;
	}
	if (ftruncate(lock_fd, 0) == 0)
		dprintf(lock_fd, "%ld\n", (long)getpid());
	return 0;
}

int
statedir_path(char *buf, size_t len, const char *name)
{
	if (snprintf(buf, len, "%s/%s", state_dir, name) >= (int)len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
statedir_write_secret(const char *name, const char *text)
{
	char path[PATH_MAX_RACKD], tmp[PATH_MAX_RACKD + 8];
	size_t len = strlen(text);
	int fd;

	if (statedir_path(path, sizeof(path), name) != 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Read a small file whole; white space at both ends trimmed. -1, errno
 * set. */
int
statedir_read_small(const char *name, char *buf, size_t len)
{
	char path[PATH_MAX_RACKD];

	if (statedir_path(path, sizeof(path), name) != 0)
		return -1;
	return read_small_file(path, buf, len) < 0 ? -1 : 0;
}

int
statedir_secret(const struct statedir_secret *sc, char *out, size_t outlen,
    char *err, size_t errlen)
{
	if (sc->value != NULL && sc->value[0] != '\0') {
		if (strlen(sc->value) < (size_t)sc->min) {
			snprintf(err, errlen, "%s: shorter than %d characters",
			    sc->option, sc->min);
			return -1;
		}
		snprintf(out, outlen, "%s", sc->value);
	} else if (statedir_read_small(sc->file, out, outlen) != 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", sc->file,
			    strerror(errno));
			return -1;
		}
		sc->make(out, outlen);
		if (statedir_write_secret(sc->file, out) != 0) {
			snprintf(err, errlen, "cannot write %s: %s", sc->file,
			    strerror(errno));
			return -1;
		}
		log_info("made a new %s in %s", sc->what, sc->file);
	} else if (strlen(out) < (size_t)sc->min) {
		snprintf(err, errlen, "%s: %s shorter than %d characters",
		    sc->file, sc->noun, sc->min);
		return -1;
	}
	return 0;
}
