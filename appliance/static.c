/*
 * static.c — the dashboard's files under webui_dir, served at /. A URL
 * path is taken only if every segment is a plain name (no "..", no dot
 * files, no empty segments); the file is opened beneath the directory
 * without following symbolic links.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "appliance/rackd.h"

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *
content_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

int
static_path_ok(const char *p)
{
	if (p[0] != '/')
		return 0;
	for (p++; *p != '\0';) {
		size_t n = strcspn(p, "/");
		if (n == 0 || p[0] == '.')
			return 0;	/* "//", "..", ".hidden" */
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == '\\')
				return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

/*
 * The folders files are served from (webui_dir, pxe_dir), each opened once
 * and kept: opened at start while rackd is still root, they serve even when
 * a folder above them does not let rackd's user pass. A folder named anew
 * by a reload is opened then, as that user.
 */
static struct {
	char	 path[PATH_MAX_RACKD];
	int	 fd;
} served[SERVED_DIRS_MAX];
static int nserved;
static pthread_mutex_t served_lock = PTHREAD_MUTEX_INITIALIZER;

int
served_dir(const char *path)
{
	int fd = -1, i;

	pthread_mutex_lock(&served_lock);
	for (i = 0; i < nserved; i++)
		if (strcmp(served[i].path, path) == 0) {
			fd = served[i].fd;
			break;
		}
	if (i == nserved && (fd = open(path, O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) >= 0) {
		if (nserved == SERVED_DIRS_MAX) {	/* the oldest goes */
			close(served[0].fd);
			memmove(&served[0], &served[1], sizeof(served[0]) *
			    (SERVED_DIRS_MAX - 1));
			nserved--;
		}
		snprintf(served[nserved].path, sizeof(served[0].path), "%s",
		    path);
		served[nserved++].fd = fd;
	}
	pthread_mutex_unlock(&served_lock);
	return fd;
}

static int
open_beneath(const char *dir, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		    RESOLVE_NO_MAGICLINKS,
	};
	int dfd, fd;

	if ((dfd = served_dir(dir)) < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)	/* old kernel: no links at the end */
		fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd;
}

void
static_file(struct req *r)
{
	const char *url = http_url(r);
	char rel[PATH_MAX_RACKD];
	struct stat st;
	int fd;

	if (!static_path_ok(url)) {
		http_reply_error(r, 404, "no such file");
		return;
	}
	if (strcmp(url, "/") == 0 || url[strlen(url) - 1] == '/')
		snprintf(rel, sizeof(rel), "%sindex.html", url + 1);
	else if (snprintf(rel, sizeof(rel), "%s", url + 1) >=
	    (int)sizeof(rel)) {
		http_reply_error(r, 404, "no such file");
		return;
	}
	fd = open_beneath(conf.webui_dir, rel);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		http_reply_error(r, 404, "no such file: %s", url);
		return;
	}
	http_add_header(r, "Cache-Control", "no-cache");
	/* style-src 'unsafe-inline': xterm.js (the node's console) sizes and
	 * colours its rows with <style> elements it makes; scripts stay
	 * 'self' only. */
	http_add_header(r, "Content-Security-Policy",
	    "default-src 'self'; style-src 'self' 'unsafe-inline'; "
	    "frame-ancestors 'none'");
	http_add_header(r, "X-Frame-Options", "DENY");
	http_reply_file(r, 200, fd, 0, (uint64_t)st.st_size, content_type(rel));
}
