/* images/rootfs_tree.c — the members of a root file system tarball, held
 * in memory between the two reads, and the rules that need the whole
 * archive: replaced names, parents that are not directories, hard links,
 * missing parent directories, inode numbers (see images/rootfs.h).
 *
 * Members are entries 0..members-1 in archive order; added parent
 * directories follow them. Names and symlink targets live in one string
 * arena addressed by offsets; a hash table maps each name to its latest
 * entry. */
#include "images/rootfs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/fail.h"

#define NONE UINT32_MAX

enum {
	F_DROPPED = 1,	/* left out (warned), or the root itself */
	F_REPLACED = 2, /* a later member has the same name */
	F_ADDED = 4,	/* a parent directory the archive does not list */
	F_EMITTED = 8,	/* written to the cpio stream */
};

struct ent {
	/* arena offset, NONE if the name was dropped */
	uint32_t path, path_len;
	uint32_t link;	 /* symlink target, NONE */
	uint32_t target; /* hard link: the regular file's entry, NONE */
	uint32_t nlink;
	uint32_t flags;
	struct rootfs_meta meta;
};

struct rootfs_tree {
	struct ent *e;
	size_t n, cap, members;
	char *s; /* string arena */
	size_t slen, scap;
	uint32_t *slots; /* entry index + 1; 0 is empty */
	size_t nslots, used;
	bool resolved, strict;
	rootfs_warn_fn warn;
	void *warn_arg;
	char strict_err[ROOTFS_WHY_MAX];
	struct rootfs_stats st;
};

static uint64_t
fnv(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211u;
	}
	return h;
}

static const char *
str(const struct rootfs_tree *t, uint32_t off)
{
	return off == NONE ? NULL : t->s + off;
}

/* Slot of name: the entry's slot, or the empty slot where it would go. */
static size_t
find_slot(const struct rootfs_tree *t, const char *name, size_t n)
{
	size_t mask = t->nslots - 1, i = (size_t)fnv(name, n) & mask;
	for (;;) {
		uint32_t v = t->slots[i];
		if (v == 0)
			return i;
		const struct ent *e = &t->e[v - 1];
		if (e->path_len == n && memcmp(t->s + e->path, name, n) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

static long
lookup(const struct rootfs_tree *t, const char *name, size_t n)
{
	uint32_t v = t->slots[find_slot(t, name, n)];
	return v ? (long)v - 1 : -1;
}

static int
grow_slots(struct rootfs_tree *t)
{
	size_t n = t->nslots * 2;
	uint32_t *old = t->slots, *s = calloc(n, sizeof *s);
	size_t oldn = t->nslots;
	if (!s)
		return -1;
	t->slots = s;
	t->nslots = n;
	for (size_t i = 0; i < oldn; i++)
		if (old[i]) {
			const struct ent *e = &t->e[old[i] - 1];
			t->slots[find_slot(t, t->s + e->path, e->path_len)] =
			    old[i];
		}
	free(old);
	return 0;
}

/* Points name at entry idx (replacing what it pointed at). */
static int
map_set(struct rootfs_tree *t, uint32_t idx)
{
	const struct ent *e = &t->e[idx];
	size_t i;

	if ((t->used + 1) * 2 > t->nslots && grow_slots(t) < 0)
		return -1;
	i = find_slot(t, t->s + e->path, e->path_len);
	if (t->slots[i] == 0)
		t->used++;
	t->slots[i] = idx + 1;
	return 0;
}

static uint32_t
arena_add(struct rootfs_tree *t, const char *s, size_t n)
{
	if (n + 1 > ROOTFS_STRINGS_MAX - t->slen)
		return NONE;
	if (t->slen + n + 1 > t->scap) {
		/* s may point into the arena (a prefix of a stored name) */
		bool inside = t->s && s >= t->s && s < t->s + t->slen;
		size_t soff = inside ? (size_t)(s - t->s) : 0;
		size_t cap = t->scap ? t->scap : 1 << 16;
		while (cap < t->slen + n + 1)
			cap *= 2;
		if (cap > ROOTFS_STRINGS_MAX)
			cap = ROOTFS_STRINGS_MAX;
		char *p = realloc(t->s, cap);
		if (!p)
			return NONE;
		t->s = p;
		t->scap = cap;
		if (inside)
			s = t->s + soff;
	}
	uint32_t off = (uint32_t)t->slen;
	memcpy(t->s + off, s, n);
	t->s[off + n] = '\0';
	t->slen += n + 1;
	return off;
}

static struct ent *
new_ent(struct rootfs_tree *t)
{
	if (t->n >= ROOTFS_TREE_ENTRIES_MAX)
		return NULL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct ent *e = realloc(t->e, cap * sizeof *e);
		if (!e)
			return NULL;
		t->e = e;
		t->cap = cap;
	}
	struct ent *e = &t->e[t->n++];
	memset(e, 0, sizeof *e);
	e->path = e->link = e->target = NONE;
	e->nlink = 1;
	return e;
}

static void warnf(struct rootfs_tree *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
warnf(struct rootfs_tree *t, const char *fmt, ...)
{
	char msg[ROOTFS_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (t->warn)
		t->warn(msg, t->warn_arg);
}

/* Leaves entry idx out, saying why. */
static void
drop(struct rootfs_tree *t, struct ent *e, const char *name, const char *why)
{
	char pn[ROOTFS_SHOWN_MAX];
	e->flags |= F_DROPPED;
	t->st.dropped++;
	rootfs_printable(name, pn, sizeof pn);
	if (t->strict && !t->strict_err[0])
		snprintf(t->strict_err, sizeof t->strict_err, "'%s': %s", pn,
		    why);
	warnf(t, "'%s' left out: %s", pn, why);
}

struct rootfs_tree *
rootfs_tree_new(rootfs_warn_fn warn, void *arg)
{
	struct rootfs_tree *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->nslots = 1024;
	t->slots = calloc(t->nslots, sizeof *t->slots);
	if (!t->slots) {
		free(t);
		return NULL;
	}
	t->warn = warn;
	t->warn_arg = arg;
	return t;
}

void
rootfs_tree_free(struct rootfs_tree *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->s);
	free(t->slots);
	free(t);
}

void
rootfs_tree_set_strict(struct rootfs_tree *t, bool strict)
{
	t->strict = strict;
}

size_t
rootfs_tree_members(const struct rootfs_tree *t)
{
	return t->members;
}

const struct rootfs_stats *
rootfs_tree_stats(const struct rootfs_tree *t)
{
	return &t->st;
}

int
rootfs_tree_member(const struct rootfs_tree *t, size_t i,
    enum rootfs_type *type, uint64_t *size)
{
	if (i >= t->members)
		return -1;
	*type = t->e[i].meta.type;
	*size = t->e[i].meta.size;
	return 0;
}

static const char *
type_name(enum rootfs_type type)
{
	switch (type) {
	case ROOTFS_REG:
		return "is a file";
	case ROOTFS_DIR:
		return "is a directory";
	case ROOTFS_SYMLINK:
		return "is a symlink";
	case ROOTFS_HARDLINK:
		return "is a hard link";
	case ROOTFS_FIFO:
		return "is a FIFO";
	case ROOTFS_DEVICE:
		return "is a device node";
	default:
		return "is a socket or of an unknown type";
	}
}

int
rootfs_tree_add(struct rootfs_tree *t, const char *name,
    const struct rootfs_meta *m, const char *link, char *err, size_t errlen)
{
	char path[ROOTFS_PATH_MAX + 1], why[ROOTFS_RULE_MAX],
	    pn[ROOTFS_SHOWN_MAX];
	unsigned notes;
	struct ent *e;
	enum rootfs_name rc;

	if (t->resolved)
		FAIL("the tree is already resolved");
	if (t->members >= ROOTFS_ENTRIES_MAX)
		FAIL("more than %u members in the tarball", ROOTFS_ENTRIES_MAX);
	if (t->members != t->n)
		FAIL("internal error: members out of order");
	if (!(e = new_ent(t)))
		FAIL("out of memory");
	t->members++;
	t->st.members++;
	e->meta = *m;
	e->meta.perm &= 07777;
	if (m->type != ROOTFS_REG)
		e->meta.size = 0;

	rc = rootfs_path_normalise(name, path, sizeof path, &notes, why,
	    sizeof why);
	if (rc == ROOTFS_NAME_ROOT) {
		/* the root itself: the tmpfs is the root */
		e->flags |= F_DROPPED;
		return 0;
	}
	if (rc == ROOTFS_NAME_DROP) {
		drop(t, e, name, why);
		goto strict;
	}
	if (m->type == ROOTFS_REG && m->size > ROOTFS_FILE_MAX)
		FAIL("'%s' is larger than %llu bytes, the most one file of an "
		    "image can hold",
		    rootfs_printable(name, pn, sizeof pn),
		    (unsigned long long)ROOTFS_FILE_MAX);
	e->path_len = (uint32_t)strlen(path);
	if ((e->path = arena_add(t, path, e->path_len)) == NONE)
		FAIL("names of the tarball use more than %u bytes",
		    ROOTFS_STRINGS_MAX);
	if (notes & ROOTFS_NOTE_ABSOLUTE) {
		t->st.normalised++;
		warnf(t, "'%s' is an absolute name: stored as '%s'",
		    rootfs_printable(name, pn, sizeof pn),
		    rootfs_printable(path, why, sizeof why));
	}

	switch (m->type) {
	case ROOTFS_REG:
	case ROOTFS_DIR:
	case ROOTFS_FIFO:
		break;
	case ROOTFS_SYMLINK:
		if (rootfs_symlink_check(path, link, why, sizeof why) < 0) {
			char pt[ROOTFS_SHOWN_MAX];
			char full[ROOTFS_RULE_MAX + ROOTFS_SHOWN_MAX];
			snprintf(full, sizeof full, "%s (-> '%s')", why,
			    rootfs_printable(link, pt, sizeof pt));
			drop(t, e, name, full);
			break;
		}
		if ((e->link = arena_add(t, link, strlen(link))) == NONE)
			FAIL("names of the tarball use more than %u bytes",
			    ROOTFS_STRINGS_MAX);
		break;
	case ROOTFS_HARDLINK: {
		char target[ROOTFS_PATH_MAX + 1], pt[ROOTFS_SHOWN_MAX];
		long k;
		rc = rootfs_path_normalise(link, target, sizeof target, NULL,
		    why, sizeof why);
		if (rc != ROOTFS_NAME_OK) {
			char full[ROOTFS_RULE_MAX + ROOTFS_SHOWN_MAX];
			snprintf(full, sizeof full,
			    "is a hard link out of the root (to '%s')",
			    rootfs_printable(link, pt, sizeof pt));
			drop(t, e, name, full);
			break;
		}
		k = lookup(t, target, strlen(target));
		if (k >= 0 && t->e[k].meta.type == ROOTFS_HARDLINK &&
		    !(t->e[k].flags & F_DROPPED))
			k = t->e[k].target;
		if (k < 0 || (t->e[k].flags & F_DROPPED) ||
		    t->e[k].meta.type != ROOTFS_REG) {
			char full[ROOTFS_RULE_MAX + ROOTFS_SHOWN_MAX];
			snprintf(full, sizeof full,
			    "is a hard link to '%s', which %s",
			    rootfs_printable(link, pt, sizeof pt),
			    k < 0 ? "is not earlier in the archive" :
			    (t->e[k].flags & F_DROPPED) ? "is left out" :
			    type_name(t->e[k].meta.type));
			drop(t, e, name, full);
			break;
		}
		e->target = (uint32_t)k;
		break;
	}
	default:
		drop(t, e, name, m->type == ROOTFS_DEVICE ?
		    "is a device node" : "is a socket or of an unknown type");
		break;
	}

	/* The later member of a name wins, dropped or not (tar replaces). */
	long prev = lookup(t, path, e->path_len);
	uint32_t idx = (uint32_t)(e - t->e);
	if (prev >= 0) {
		struct ent *p = &t->e[prev];
		if (!(p->flags & F_REPLACED)) {
			p->flags |= F_REPLACED;
			t->st.replaced++;
			if (p->meta.type != ROOTFS_DIR ||
			    m->type != ROOTFS_DIR || (e->flags & F_DROPPED))
				warnf(t,
				    "'%s' appears again in the archive: the "
				    "later member wins",
				    rootfs_printable(path, pn, sizeof pn));
		}
	}
	if (map_set(t, idx) < 0)
		FAIL("out of memory");
strict:
	if (t->strict && t->strict_err[0]) {
		snprintf(err, errlen, "refused (strict): %s", t->strict_err);
		return -1;
	}
	return 0;
}

int
rootfs_tree_resolve(struct rootfs_tree *t, char *err, size_t errlen)
{
	char pn[ROOTFS_SHOWN_MAX], pp[ROOTFS_SHOWN_MAX],
	    why[ROOTFS_RULE_MAX + ROOTFS_SHOWN_MAX];

	if (t->resolved)
		FAIL("the tree is already resolved");
	t->resolved = true;
	/* Parents: each must be a directory (else the member is left out);
	 * then the missing ones are added. */
	for (size_t i = 0; i < t->members; i++) {
		if (t->e[i].flags & (F_DROPPED | F_REPLACED))
			continue;
		for (size_t j = 1;; j++) {
			const char *path = t->s + t->e[i].path;
			size_t plen =
			    rootfs_path_prefix(path, t->e[i].path_len, j);
			if (plen == 0)
				break;
			long k = lookup(t, path, plen);
			if (k >= 0 && (t->e[k].meta.type != ROOTFS_DIR ||
			    (t->e[k].flags & F_DROPPED))) {
				snprintf(why, sizeof why,
				    "is under '%s', which %s",
				    rootfs_printable(str(t, t->e[k].path),
				    pp, sizeof pp),
				    t->e[k].meta.type != ROOTFS_DIR ?
				    type_name(t->e[k].meta.type) :
				    "is left out");
				rootfs_printable(path, pn, sizeof pn);
				drop(t, &t->e[i], pn, why);
				if (t->strict)
					FAIL("refused (strict): %s",
					    t->strict_err);
				break;
			}
		}
		if (t->e[i].flags & F_DROPPED)
			continue;
		for (size_t j = 1;; j++) {
			const char *path = t->s + t->e[i].path;
			size_t plen =
			    rootfs_path_prefix(path, t->e[i].path_len, j);
			if (plen == 0)
				break;
			if (lookup(t, path, plen) >= 0)
				continue;
			struct ent *d = new_ent(t);
			if (!d)
				FAIL("more than %u entries with the "
				    "parent directories",
				    ROOTFS_TREE_ENTRIES_MAX);
			/* new_ent may move the array: path is read again */
			path = t->s + t->e[i].path;
			d->flags = F_ADDED;
			d->meta = (struct rootfs_meta){ .type = ROOTFS_DIR,
				.perm = 0755,
				.mtime = t->e[i].meta.mtime };
			d->path_len = (uint32_t)plen;
			if ((d->path = arena_add(t, path, plen)) == NONE)
				FAIL("names of the tarball use more "
				    "than %u bytes", ROOTFS_STRINGS_MAX);
			if (map_set(t, (uint32_t)(d - t->e)) < 0)
				FAIL("out of memory");
			t->st.dirs_added++;
		}
	}
	/* Hard links: their file must still be in the image. */
	for (size_t i = 0; i < t->members; i++) {
		struct ent *e = &t->e[i];
		if (e->meta.type != ROOTFS_HARDLINK ||
		    (e->flags & (F_DROPPED | F_REPLACED)))
			continue;
		struct ent *f = &t->e[e->target];
		if (f->flags & (F_DROPPED | F_REPLACED)) {
			snprintf(why, sizeof why,
			    "is a hard link to '%s', which %s",
			    rootfs_printable(str(t, f->path), pp, sizeof pp),
			    (f->flags & F_DROPPED) ? "is left out" :
			    "is replaced later in the archive");
			drop(t, e,
			    rootfs_printable(str(t, e->path), pn, sizeof pn),
			    why);
			if (t->strict)
				FAIL("refused (strict): %s", t->strict_err);
			continue;
		}
		f->nlink++;
		t->st.hardlinks++;
	}
	for (size_t i = 0; i < t->members; i++)
		if (!(t->e[i].flags & (F_DROPPED | F_REPLACED)))
			t->st.kept++;
	return 0;
}

static int
emit(struct rootfs_tree *t, size_t idx,
    int (*fn)(const struct rootfs_emit *, void *), void *arg)
{
	struct ent *e = &t->e[idx];
	struct rootfs_emit out = {
		.path = t->s + e->path,
		.meta = e->meta,
		.symlink = str(t, e->link),
		.ino = (uint32_t)idx + 1,
		.nlink = e->nlink,
		.data = e->meta.type == ROOTFS_REG && e->meta.size > 0,
	};
	if (e->meta.type == ROOTFS_HARDLINK) {
		const struct ent *f = &t->e[e->target];
		out.meta.type = ROOTFS_REG;
		out.meta.size = 0;
		out.ino = e->target + 1;
		out.nlink = f->nlink;
		out.data = false;
	}
	e->flags |= F_EMITTED;
	return fn(&out, arg);
}

int
rootfs_tree_plan(struct rootfs_tree *t, size_t i,
    int (*fn)(const struct rootfs_emit *e, void *arg), void *arg)
{
	int rc;

	if (!t->resolved || i >= t->members)
		return -1;
	if (t->e[i].flags & (F_DROPPED | F_REPLACED | F_EMITTED))
		return 0;
	for (size_t j = 1;; j++) {
		const char *path = t->s + t->e[i].path;
		size_t plen = rootfs_path_prefix(path, t->e[i].path_len, j);
		if (plen == 0)
			break;
		long k = lookup(t, path, plen);
		if (k < 0)
			return -1; /* resolve added every parent */
		if (!(t->e[k].flags & F_EMITTED) &&
		    (rc = emit(t, (size_t)k, fn, arg)) != 0)
			return rc;
	}
	return emit(t, i, fn, arg);
}
