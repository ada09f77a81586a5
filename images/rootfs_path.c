/* images/rootfs_path.c — the rules on single member names and symlink
 * targets of a root file system tarball (see images/rootfs.h). */
#include "images/rootfs.h"

#include <stdio.h>
#include <string.h>

#define FAIL(...)                                   \
	do {                                        \
		snprintf(why, whylen, __VA_ARGS__); \
		return -1;                          \
	} while (0)
#define DROP(...)                                   \
	do {                                        \
		snprintf(why, whylen, __VA_ARGS__); \
		return ROOTFS_NAME_DROP;            \
	} while (0)

static bool
has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

enum rootfs_name
rootfs_path_normalise(const char *name, char *out, size_t outlen,
    unsigned *notes, char *why, size_t whylen)
{
	size_t used = 0;
	const char *p;

	if (notes)
		*notes = 0;
	if (!name || !*name)
		DROP("empty name");
	if (outlen == 0)
		DROP("no room for the name");
	out[0] = '\0';
	p = name;
	if (*p == '/') {
		if (notes)
			*notes |= ROOTFS_NOTE_ABSOLUTE;
		while (*p == '/')
			p++;
	}
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* empty or "." component */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			DROP("has a '..' component");
		} else {
			if (n > ROOTFS_NAME_MAX)
				DROP("has a component longer than %d bytes",
				    ROOTFS_NAME_MAX);
			if (has_control(p, n))
				DROP("has a control character");
			size_t need = used + (used ? 1 : 0) + n;
			if (need > ROOTFS_PATH_MAX || need >= outlen)
				DROP("is longer than %d bytes",
				    ROOTFS_PATH_MAX);
			if (used)
				out[used++] = '/';
			memcpy(out + used, p, n);
			used += n;
			out[used] = '\0';
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return used == 0 ? ROOTFS_NAME_ROOT : ROOTFS_NAME_OK;
}

int
rootfs_symlink_check(const char *path, const char *target, char *why,
    size_t whylen)
{
	size_t tlen;
	long depth = 0;
	const char *p;

	if (!target || !*target)
		FAIL("a symlink with an empty target");
	tlen = strlen(target);
	if (tlen > ROOTFS_LINK_MAX)
		FAIL("a symlink target longer than %d bytes", ROOTFS_LINK_MAX);
	if (has_control(target, tlen))
		FAIL("a symlink target with a control character");
	if (target[0] == '/')
		return 0; /* resolves inside the image's root on the node */
	/* the link's directory: one level per '/' in path */
	for (p = path; *p; p++)
		if (*p == '/')
			depth++;
	for (p = target; *p;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				FAIL("a symlink pointing out of the root");
		} else if (n != 0 && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

size_t
rootfs_path_prefix(const char *path, size_t len, size_t i)
{
	size_t seen = 0;

	for (size_t k = 0; k < len; k++)
		if (path[k] == '/' && ++seen == i)
			return k;
	return 0;
}

const char *
rootfs_printable(const char *s, char *out, size_t outlen)
{
	size_t n = 0, max;

	if (outlen == 0)
		return "";
	if (!s)
		s = "(none)";
	max = outlen - 1;
	for (; *s && n < max; s++)
		out[n++] = (unsigned char)*s < 0x20 ||
		    (unsigned char)*s > 0x7e ? '?' : *s;
	if (*s && max >= 3)
		memcpy(out + max - 3, "...", 3);
	out[n] = '\0';
	return out;
}
