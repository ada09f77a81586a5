/*
 * overlay.c — the node's overlay from rackd (GET /boot/SLOT/overlay):
 * its hostname and a few files (hostname, SSH keys, cloud-init seed),
 * written inside the new root. Every path is resolved with openat2 and
 * RESOLVE_IN_ROOT, so a symlink of the image (even an absolute one)
 * resolves inside the new root and nothing lands outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "pxe/diskless/diskless.h"

static int
open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)flags | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };

	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* A relative path with no empty, "." or ".." component. */
static int
path_ok(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n >= DL_PATH_MAX || p[0] == '/' || p[n - 1] == '/')
		return 0;
	for (const char *s = p; *s != '\0'; ) {
		const char *e = strchr(s, '/');
		size_t k = e ? (size_t)(e - s) : strlen(s);
		if (k == 0 || (k == 1 && s[0] == '.') ||
		    (k == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		for (size_t i = 0; i < k; i++)
			if ((unsigned char)s[i] < 0x20)
				return 0;
		s += k;
		if (*s == '/')
			s++;
	}
	return 1;
}

static int
hostname_ok(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > DL_HOSTNAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') ||
		    (h[i] >= 'A' && h[i] <= 'Z') ||
		    (h[i] >= '0' && h[i] <= '9') || h[i] == '-'))
			return 0;
	return 1;
}

void
overlay_free(struct overlay *o)
{
	for (size_t i = 0; i < o->nfiles; i++)
		free(o->files[i].content);
	o->nfiles = 0;
}

int
overlay_parse(const char *text, size_t len, struct overlay *o, char *err,
    size_t errlen)
{
	json_error_t je;
	json_t *root, *files, *f;
	const char *host;
	size_t i;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		snprintf(err, errlen, "overlay: not JSON: %s", je.text);
		return -1;
	}
	host = json_string_value(json_object_get(root, "hostname"));
	files = json_object_get(root, "files");
	if (host == NULL || !hostname_ok(host)) {
		snprintf(err, errlen, "overlay: no valid hostname");
		goto out;
	}
	snprintf(o->hostname, sizeof(o->hostname), "%s", host);
	if (!json_is_array(files) || json_array_size(files) >
	    DL_OVERLAY_FILES_MAX) {
		snprintf(err, errlen, "overlay: files must be a list of at "
		    "most %d", DL_OVERLAY_FILES_MAX);
		goto out;
	}
	json_array_foreach(files, i, f) {
		struct overlay_file *of = &o->files[o->nfiles];
		const char *path = json_string_value(json_object_get(f,
		    "path"));
		const char *type = json_string_value(json_object_get(f,
		    "type"));
		const char *content = json_string_value(json_object_get(f,
		    "content"));
		json_t *mode = json_object_get(f, "mode");

		if (path == NULL || !path_ok(path) || type == NULL ||
		    !json_is_integer(mode) || json_integer_value(mode) < 0 ||
		    json_integer_value(mode) > 07777 ||
		    (strcmp(type, "dir") != 0 && (strcmp(type, "file") != 0 ||
		    content == NULL))) {
			snprintf(err, errlen, "overlay: files[%zu] is not a "
			    "{path, type dir|file, mode, content} entry", i);
			goto out;
		}
		snprintf(of->path, sizeof(of->path), "%s", path);
		of->dir = strcmp(type, "dir") == 0;
		of->mode = (unsigned)json_integer_value(mode);
		if (!of->dir && (of->content = strdup(content)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		o->nfiles++;
	}
	rc = 0;
out:
	if (rc != 0)
		overlay_free(o);
	json_decref(root);
	return rc;
}

struct body {
	char	*data;
	size_t	 len;
	int	 overflow;
};

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;

	if (n > DL_OVERLAY_MAX - b->len) {
		b->overflow = 1;
		return 0;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	return n;
}

int
overlay_fetch(const char *url, const char *slot, int cloud_init,
    struct overlay *o, char *err, size_t errlen)
{
	char u[AGENT_URL_MAX + DL_SLOT_MAX + 64], cerr[CURL_ERROR_SIZE] = "";
	struct body b = { 0 };
	CURL *h;
	CURLcode cr;
	long status = 0;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	snprintf(u, sizeof(u), "%s/boot/%s/overlay%s", url, slot, cloud_init ?
	    "?cloud_init=1" : "");
	if ((b.data = malloc(DL_OVERLAY_MAX)) == NULL ||
	    (h = curl_easy_init()) == NULL) {
		free(b.data);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_URL, u);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)DL_OVERLAY_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	cr = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (b.overflow)
		snprintf(err, errlen, "overlay: larger than %d bytes",
		    DL_OVERLAY_MAX);
	else if (cr != CURLE_OK)
		snprintf(err, errlen, "overlay: %s", cerr[0] ? cerr :
		    curl_easy_strerror(cr));
	else if (status != 200) {
		char t[ERR_MAX];
		net_error_text(b.data, b.len, t, sizeof(t));
		snprintf(err, errlen, "overlay: HTTP %ld: %s", status, t);
	} else
		rc = overlay_parse(b.data, b.len, o, err, errlen);
	free(b.data);
	return rc;
}

/* The directory holding path (made if missing), opened inside root;
 * *leaf points at the last component. -1 with err. */
static int
open_parent(int rootfd, const char *path, const char **leaf, char *err,
    size_t errlen)
{
	char dir[DL_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	*leaf = slash ? slash + 1 : path;
	if (slash == NULL)
		return open_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	for (int tries = 0; tries < 3; tries++) {
		if ((fd = open_in_root(rootfd, dir, O_PATH | O_DIRECTORY)) >= 0)
			return fd;
		if (errno != ENOENT)
			break;
		/* make it, its own parent first */
		const char *sub;
		int pfd = open_parent(rootfd, dir, &sub, err, errlen);
		if (pfd < 0)
			return -1;
		if (mkdirat(pfd, sub, 0755) != 0) {
			/* there but not found: a dangling symlink of the image,
			 * which becomes the directory the overlay needs */
			if (errno != EEXIST || tries == 0 ||
			    unlinkat(pfd, sub, 0) != 0 ||
			    mkdirat(pfd, sub, 0755) != 0) {
				if (errno != EEXIST || tries > 0) {
					close(pfd);
					break;
				}
			}
		}
		close(pfd);
	}
	snprintf(err, errlen, "overlay: %s: %s", dir, strerror(errno));
	return -1;
}

static int
apply_one(int rootfd, const struct overlay_file *of, char *err,
    size_t errlen)
{
	const char *leaf;
	int pfd, fd = -1, rc = -1;

	if ((pfd = open_parent(rootfd, of->path, &leaf, err, errlen)) < 0)
		return -1;
	if (of->dir) {
		if (mkdirat(pfd, leaf, of->mode) != 0 && errno != EEXIST)
			goto fail;
		/* the image's own directory (or symlink) stays; mode on ours */
		if ((fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
		    (fchmod(fd, of->mode) != 0 || fchown(fd, 0, 0) != 0))
			goto fail;
		rc = 0;
		goto out;
	}
	fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, of->mode);
	if (fd < 0 && (errno == ELOOP || errno == EISDIR)) {
		/* a symlink or directory of the image there: ours
		 * replaces it */
		if (unlinkat(pfd, leaf,
		    errno == EISDIR ? AT_REMOVEDIR : 0) != 0)
			goto fail;
		fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, of->mode);
	}
	if (fd < 0 || fchmod(fd, of->mode) != 0 || fchown(fd, 0, 0) != 0)
		goto fail;
	if (write_all(fd, of->content, strlen(of->content), err, errlen) != 0)
		goto out;
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "overlay: %s: %s", of->path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	close(pfd);
	return rc;
}

int
overlay_apply(const char *root, const struct overlay *o, char *err,
    size_t errlen)
{
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (rootfd < 0) {
		snprintf(err, errlen, "%s: %s", root, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < o->nfiles; i++)
		if (apply_one(rootfd, &o->files[i], err, errlen) != 0) {
			close(rootfd);
			return -1;
		}
	close(rootfd);
	return 0;
}

int
overlay_set_hostname(const struct overlay *o, char *err, size_t errlen)
{
	if (sethostname(o->hostname, strlen(o->hostname)) != 0) {
		snprintf(err, errlen, "sethostname %s: %s", o->hostname,
		    strerror(errno));
		return -1;
	}
	return 0;
}

bool
root_has_cloud_init(const char *root)
{
	static const char *const marks[] = { "etc/cloud/cloud.cfg",
	    "usr/bin/cloud-init" };
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;
	bool found = false;

	if (rootfd < 0)
		return false;
	for (size_t i = 0; !found && i < sizeof(marks) / sizeof(marks[0]); i++)
		if ((fd = open_in_root(rootfd, marks[i], O_PATH)) >= 0) {
			close(fd);
			found = true;
		}
	close(rootfd);
	return found;
}
