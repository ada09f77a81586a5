/* images/store.c — content-addressed chunk and manifest store on disk. */
#include "images/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images/chunk.h"
#include "images/err.h"
#include "images/fail.h"
#include "images/file.h"

struct store {
	char *dir;
};

static int fmt_path(char *buf, size_t buflen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fmt_path(char *buf, size_t buflen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, buflen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= buflen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* mkdir that is fine with an existing directory; fsyncs the parent when it
 * created one, so the new entry survives a crash. */
static int
ensure_dir(const char *path, const char *parent)
{
	if (mkdir(path, 0755) == 0)
		return parent ? fsync_dir(parent) : 0;
	if (errno != EEXIST)
		return -1;
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static void
clean_tmp(const char *tmpdir)
{
	DIR *d = opendir(tmpdir);
	if (!d)
		return;
	int dfd = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		int fd = openat(dfd, e->d_name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			/* a symlink or something unreadable: not ours to
			 * keep */
			if (errno == ELOOP)
				unlinkat(dfd, e->d_name, 0);
			continue;
		}
		struct stat st;
		/* A live writer holds an flock; only a dead one's file is
		 * free. */
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dfd, e->d_name, 0);
		close(fd);
	}
	closedir(d);
}

int
store_open(const char *dir, struct store **out, char *err, size_t errlen)
{
	char path[STORE_PATH_MAX];
	static const char *const sub[] = { "chunks", "manifests", "tmp" };

	*out = NULL;
	if (!dir || !*dir)
		FAIL("store: no directory given");
	if (strlen(dir) > STORE_PATH_MAX - 200)
		FAIL("store %s: path too long", dir);
	if (ensure_dir(dir, NULL) < 0)
		FAIL("store %s: %s", dir, strerror(errno));
	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		fmt_path(path, sizeof path, "%s/%s", dir, sub[i]);
		if (ensure_dir(path, dir) < 0)
			FAIL("store %s: %s", path, strerror(errno));
	}
	fmt_path(path, sizeof path, "%s/tmp", dir);
	if (access(dir, W_OK) == 0)
		clean_tmp(path);
	struct store *st = calloc(1, sizeof *st);
	if (!st || !(st->dir = strdup(dir))) {
		free(st);
		FAIL("store %s: out of memory", dir);
	}
	*out = st;
	return 0;
}

void
store_close(struct store *st)
{
	if (!st)
		return;
	free(st->dir);
	free(st);
}

const char *
store_dir(const struct store *st)
{
	return st->dir;
}

/* ---- atomic writes ---- */

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A locked temporary file in DIR/tmp that store_open of another process
 * will not remove: *fd open and flock'ed, tmp holds its path. */
static int
make_tmp(const struct store *st, const char *prefix, char *tmp, size_t tmplen,
    int *fd)
{
	for (int tries = 0; tries < STORE_TMP_TRIES; tries++) {
		if (fmt_path(tmp, tmplen, "%s/tmp/%s.XXXXXX", st->dir, prefix) <
		    0)
			return -1;
		int f = mkostemp(tmp, O_CLOEXEC);
		if (f < 0)
			return -1;
		if (flock(f, LOCK_EX) < 0) {
			int e = errno;
			close(f);
			unlink(tmp);
			errno = e;
			return -1;
		}
		/* A cleaner may have locked and removed it between mkostemp
		 * and flock; if the name no longer leads to our file, start
		 * again. */
		struct stat a, b;
		if (fstat(f, &a) == 0 && stat(tmp, &b) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			*fd = f;
			return 0;
		}
		close(f);
	}
	errno = EAGAIN;
	return -1;
}

/* Writes data to final (inside dir) through a temporary file. With
 * noreplace, an existing final is left alone and errno is EEXIST. */
static int
write_atomic(const struct store *st, const char *prefix, const char *dir,
    const char *final, const void *data, size_t len, bool noreplace)
{
	char tmp[STORE_PATH_MAX];
	int fd, e;

	if (make_tmp(st, prefix, tmp, sizeof tmp, &fd) < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || fchmod(fd, 0644) < 0 ||
	    fsync(fd) < 0)
		goto fail;
	if (noreplace) {
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final,
		    RENAME_NOREPLACE) < 0) {
			if (errno != EINVAL && errno != ENOSYS)
				goto fail;
			/* File systems without RENAME_NOREPLACE: link is
			 * just as atomic and never replaces. */
			if (link(tmp, final) < 0)
				goto fail;
			unlink(tmp);
		}
	} else if (rename(tmp, final) < 0) {
		goto fail;
	}
	if (fsync_dir(dir) < 0)
		goto fail_placed;
	close(fd);
	return 0;
fail:
	e = errno;
	unlink(tmp);
	close(fd);
	errno = e;
	return -1;
fail_placed:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* ---- chunks ---- */

int
store_chunk_path(const struct store *st, const char *hash_hex, char *buf,
    size_t buflen)
{
	if (!hash_hex_valid(hash_hex)) {
		errno = EINVAL;
		return -1;
	}
	return fmt_path(buf, buflen, "%s/chunks/%.2s/%s", st->dir, hash_hex,
	    hash_hex);
}

bool
store_has_chunk(const struct store *st, const char *hash_hex)
{
	uint64_t size;
	return store_chunk_size(st, hash_hex, &size) == 0;
}

int
store_chunk_size(const struct store *st, const char *hash_hex, uint64_t *size)
{
	char path[STORE_PATH_MAX];
	struct stat sb;

	if (store_chunk_path(st, hash_hex, path, sizeof path) < 0 ||
	    stat(path, &sb) < 0)
		return -1;
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	*size = (uint64_t)sb.st_size;
	return 0;
}

int
store_put_chunk(struct store *st, const char *hash_hex, const void *compressed,
    size_t len, bool *added, char *err, size_t errlen)
{
	char path[STORE_PATH_MAX], dir[STORE_PATH_MAX], top[STORE_PATH_MAX];

	if (added)
		*added = false;
	if (store_chunk_path(st, hash_hex, path, sizeof path) < 0)
		FAIL("chunk \"%.64s\": not a valid hash",
		    hash_hex ? hash_hex : "");
	if (len == 0 || len > chunk_compress_bound(CHUNK_SIZE_MAX))
		FAIL("chunk %s: %zu bytes is not a valid stored chunk size",
		    hash_hex, len);
	if (access(path, F_OK) == 0)
		return 0;
	fmt_path(top, sizeof top, "%s/chunks", st->dir);
	fmt_path(dir, sizeof dir, "%s/chunks/%.2s", st->dir, hash_hex);
	if (ensure_dir(dir, top) < 0)
		FAIL("store %s: %s", dir, strerror(errno));
	/* Replacing is harmless: a same-named chunk has the same content. */
	if (write_atomic(st, "chunk", dir, path, compressed, len, false) < 0)
		FAIL("chunk %s: writing the store failed: %s", hash_hex,
		    strerror(errno));
	if (added)
		*added = true;
	return 0;
}

int
store_tmp_create(const struct store *st, const char *prefix, char *path,
    size_t pathlen, int *fd, char *err, size_t errlen)
{
	if (make_tmp(st, prefix, path, pathlen, fd) < 0)
		FAIL("store %s: cannot make a temporary file: %s", st->dir,
		    strerror(errno));
	return 0;
}

int
store_adopt_chunk(struct store *st, enum hash_alg alg, const char *hash_hex,
    uint64_t expected_len, const char *tmp, int fd, bool *added, char *err,
    size_t errlen)
{
	char path[STORE_PATH_MAX], dir[STORE_PATH_MAX], top[STORE_PATH_MAX],
	    e2[200];
	uint8_t want[HASH_LEN];
	struct stat sb;

	if (added)
		*added = false;
	if (hash_from_hex(hash_hex, want) < 0 ||
	    store_chunk_path(st, hash_hex, path, sizeof path) < 0)
		FAIL("chunk \"%.64s\": not a valid hash",
		    hash_hex ? hash_hex : "");
	if (expected_len == 0 || expected_len > CHUNK_SIZE_MAX)
		FAIL("chunk %s: expected length %llu is out of range", hash_hex,
		    (unsigned long long)expected_len);
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		FAIL("chunk %s: %s: not a regular file", hash_hex, tmp);
	if (sb.st_size <= 0 ||
	    (uint64_t)sb.st_size > chunk_compress_bound((size_t)expected_len)) {
		errno = EBADMSG;
		FAIL("chunk %s: %lld bytes cannot be a compressed chunk "
		    "of %llu bytes", hash_hex, (long long)sb.st_size,
		    (unsigned long long)expected_len);
	}
	void *map =
	    mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		FAIL("chunk %s: %s: %s", hash_hex, tmp, strerror(errno));
	void *scratch = malloc((size_t)expected_len);
	if (!scratch) {
		munmap(map, (size_t)sb.st_size);
		FAIL("chunk %s: out of memory", hash_hex);
	}
	int r = chunk_verify(NULL, alg, want, expected_len, map,
	    (size_t)sb.st_size, scratch, (size_t)expected_len, e2, sizeof e2);
	free(scratch);
	munmap(map, (size_t)sb.st_size);
	if (r < 0) {
		errno = EBADMSG;
		FAIL("chunk %s: %s", hash_hex, e2);
	}
	if (access(path, F_OK) == 0) {
		unlink(tmp); /* the same content is there already */
		return 0;
	}
	fmt_path(top, sizeof top, "%s/chunks", st->dir);
	fmt_path(dir, sizeof dir, "%s/chunks/%.2s", st->dir, hash_hex);
	if (ensure_dir(dir, top) < 0)
		FAIL("store %s: %s", dir, strerror(errno));
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0)
		FAIL("chunk %s: writing the store failed: %s", hash_hex,
		    strerror(errno));
	if (fsync_dir(dir) < 0)
		FAIL("chunk %s: syncing %s failed: %s", hash_hex, dir,
		    strerror(errno));
	if (added)
		*added = true;
	return 0;
}

int
store_remove_chunk(struct store *st, const char *hash_hex, char *err,
    size_t errlen)
{
	char path[STORE_PATH_MAX], dir[STORE_PATH_MAX];

	if (store_chunk_path(st, hash_hex, path, sizeof path) < 0)
		FAIL("chunk \"%.64s\": not a valid hash",
		    hash_hex ? hash_hex : "");
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		FAIL("%s: %s", path, strerror(errno));
	}
	fmt_path(dir, sizeof dir, "%s/chunks/%.2s", st->dir, hash_hex);
	fsync_dir(dir);
	return 0;
}

int
store_read_chunk(const struct store *st, const char *hash_hex, size_t max_len,
    void **data, size_t *len, char *err, size_t errlen)
{
	char path[STORE_PATH_MAX];

	if (store_chunk_path(st, hash_hex, path, sizeof path) < 0)
		FAIL("chunk \"%.64s\": not a valid hash",
		    hash_hex ? hash_hex : "");
	return read_whole_file(path, max_len, data, len, err, errlen);
}

int
store_read_content(const struct store *st, const char *hash_hex, void **data,
    size_t *len, char *err, size_t errlen)
{
	void *z, *raw;
	size_t zlen;
	int64_t n;
	char e2[200];

	if (store_read_chunk(st, hash_hex, chunk_compress_bound(CHUNK_SIZE_MAX),
	    &z, &zlen, err, errlen) < 0)
		return -1;
	if ((n = chunk_content_size(z, zlen)) <= 0 || n > CHUNK_SIZE_MAX) {
		free(z);
		FAIL("chunk %s: not a zstd frame of at most %u bytes", hash_hex,
		    CHUNK_SIZE_MAX);
	}
	if (!(raw = malloc((size_t)n))) {
		free(z);
		FAIL("chunk %s: out of memory", hash_hex);
	}
	if (chunk_decompress(NULL, z, zlen, raw, (size_t)n, (uint64_t)n, len,
	    e2, sizeof e2) < 0) {
		free(z);
		free(raw);
		FAIL("chunk %s: %s", hash_hex, e2);
	}
	free(z);
	*data = raw;
	return 0;
}

int
store_check_chunk(const struct store *st, enum hash_alg alg,
    const char *hash_hex, uint64_t expected_len, char *err, size_t errlen)
{
	uint8_t want[HASH_LEN];
	void *data, *scratch;
	size_t len;
	char e2[200];

	if (hash_from_hex(hash_hex, want) < 0)
		FAIL("chunk \"%.64s\": not a valid hash",
		    hash_hex ? hash_hex : "");
	if (expected_len == 0 || expected_len > CHUNK_SIZE_MAX)
		FAIL("chunk %s: expected length %llu is out of range", hash_hex,
		    (unsigned long long)expected_len);
	if (store_read_chunk(st, hash_hex,
	    chunk_compress_bound((size_t)expected_len), &data, &len, err,
	    errlen) < 0)
		return -1;
	scratch = malloc((size_t)expected_len);
	if (!scratch) {
		free(data);
		FAIL("chunk %s: out of memory", hash_hex);
	}
	int r = chunk_verify(NULL, alg, want, expected_len, data, len, scratch,
	    (size_t)expected_len, e2, sizeof e2);
	free(data);
	free(scratch);
	if (r < 0)
		FAIL("chunk %s: %s", hash_hex, e2);
	return 0;
}

/* ---- manifests ---- */

int
store_manifest_path(const struct store *st, const char *name,
    const char *version, char *buf, size_t buflen)
{
	if (!image_name_valid(name) || !image_version_valid(version)) {
		errno = EINVAL;
		return -1;
	}
	return fmt_path(buf, buflen, "%s/manifests/%s/%s.json", st->dir, name,
	    version);
}

bool
store_has_manifest(const struct store *st, const char *name,
    const char *version)
{
	char path[STORE_PATH_MAX];
	return store_manifest_path(st, name, version, path, sizeof path) == 0 &&
	    access(path, F_OK) == 0;
}

int
store_put_manifest(struct store *st, const struct manifest *m, char *err,
    size_t errlen)
{
	char path[STORE_PATH_MAX], dir[STORE_PATH_MAX], top[STORE_PATH_MAX],
	    hex[HASH_HEX_LEN + 1];
	char verr[IMG_ERR_MAX];

	if (manifest_validate(m, verr, sizeof verr) < 0)
		FAIL("manifest %s:%s: %s", m->name, m->version, verr);
	for (size_t i = 0; i < m->nchunks; i++) {
		hash_to_hex(m->chunks[i].hash, hex);
		if (!store_has_chunk(st, hex))
			FAIL("manifest %s:%s: chunks[%zu] (%s) is missing "
			    "from the store", m->name, m->version, i, hex);
	}
	char *json = manifest_to_json(m);
	if (!json)
		FAIL("manifest %s:%s: out of memory", m->name, m->version);
	size_t len = strlen(json);
	store_manifest_path(st, m->name, m->version, path, sizeof path);
	fmt_path(top, sizeof top, "%s/manifests", st->dir);
	fmt_path(dir, sizeof dir, "%s/manifests/%s", st->dir, m->name);
	if (ensure_dir(dir, top) < 0) {
		free(json);
		FAIL("store %s: %s", dir, strerror(errno));
	}
	if (write_atomic(st, "manifest", dir, path, json, len, true) == 0) {
		free(json);
		return 0;
	}
	int e = errno;
	if (e == EEXIST) {
		void *old = NULL;
		size_t oldlen = 0;
		bool same = read_whole_file(path, MANIFEST_MAX_BYTES, &old,
		    &oldlen, verr, sizeof verr) == 0 &&
		    oldlen == len && memcmp(old, json, len) == 0;
		free(old);
		free(json);
		if (same)
			return 0;
		errno = EEXIST;
		FAIL("image %s:%s already exists in the store with "
		    "different content", m->name, m->version);
	}
	free(json);
	errno = e;
	FAIL("manifest %s:%s: writing the store failed: %s", m->name,
	    m->version, strerror(e));
}

int
store_load_manifest(const struct store *st, const char *name,
    const char *version, struct manifest **out, char *err, size_t errlen)
{
	char path[STORE_PATH_MAX];

	*out = NULL;
	if (store_manifest_path(st, name, version, path, sizeof path) < 0)
		FAIL("image \"%.64s:%.64s\": not a valid name and version",
		    name ? name : "", version ? version : "");
	if (access(path, F_OK) < 0) {
		int e = errno;
		if (e == ENOENT)
			FAIL("image %s:%s is not in the store", name, version);
		FAIL("%s: %s", path, strerror(e));
	}
	struct manifest *m;
	if (manifest_load(path, &m, err, errlen) < 0)
		return -1;
	if (strcmp(m->name, name) != 0 || strcmp(m->version, version) != 0) {
		snprintf(err, errlen, "%s: names image %s:%s, not %s:%s", path,
		    m->name, m->version, name, version);
		manifest_free(m);
		return -1;
	}
	*out = m;
	return 0;
}

int
store_replace_manifest(struct store *st, const struct manifest *m, char *err,
    size_t errlen)
{
	char path[STORE_PATH_MAX], dir[STORE_PATH_MAX], verr[IMG_ERR_MAX];

	if (manifest_validate(m, verr, sizeof verr) < 0)
		FAIL("manifest %s:%s: %s", m->name, m->version, verr);
	if (!store_has_manifest(st, m->name, m->version))
		FAIL("image %s:%s is not in the store", m->name, m->version);
	char *json = manifest_to_json(m);
	if (!json)
		FAIL("manifest %s:%s: out of memory", m->name, m->version);
	store_manifest_path(st, m->name, m->version, path, sizeof path);
	fmt_path(dir, sizeof dir, "%s/manifests/%s", st->dir, m->name);
	int r =
	    write_atomic(st, "manifest", dir, path, json, strlen(json), false);
	int e = errno;
	free(json);
	if (r < 0)
		FAIL("manifest %s:%s: writing the store failed: %s", m->name,
		    m->version, strerror(e));
	return 0;
}

int
store_remove_manifest(struct store *st, const char *name, const char *version,
    char *err, size_t errlen)
{
	char path[STORE_PATH_MAX], dir[STORE_PATH_MAX], top[STORE_PATH_MAX];

	if (store_manifest_path(st, name, version, path, sizeof path) < 0)
		FAIL("image \"%.64s:%.64s\": not a valid name and version",
		    name ? name : "", version ? version : "");
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			FAIL("image %s:%s is not in the store", name, version);
		FAIL("%s: %s", path, strerror(errno));
	}
	fmt_path(dir, sizeof dir, "%s/manifests/%s", st->dir, name);
	fmt_path(top, sizeof top, "%s/manifests", st->dir);
	fsync_dir(dir);
	if (rmdir(dir) == 0) /* the last version of that name */
		fsync_dir(top);
	return 0;
}

/* ---- listing ---- */

struct names {
	char **v;
	size_t n, cap;
};

static void
names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	ns->v = NULL;
	ns->n = ns->cap = 0;
}

static int
names_add(struct names *ns, const char *s, size_t len)
{
	if (ns->n == ns->cap) {
		size_t ncap = ns->cap ? ns->cap * 2 : 16;
		char **nv = realloc(ns->v, ncap * sizeof *nv);
		if (!nv)
			return -1;
		ns->v = nv;
		ns->cap = ncap;
	}
	char *c = strndup(s, len);
	if (!c)
		return -1;
	ns->v[ns->n++] = c;
	return 0;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_version(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* Image names in DIR/manifests (dirs = true) or versions in one name's
 * directory (files "<version>.json"). */
static int
scan(const char *path, bool dirs, struct names *ns, char *err, size_t errlen)
{
	DIR *d = opendir(path);
	if (!d) {
		if (errno == ENOENT && !dirs)
			return 0;
		FAIL("%s: %s", path, strerror(errno));
	}
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		size_t len = strlen(n);
		struct stat sb;
		if (dirs) {
			if (!image_name_valid(n) ||
			    fstatat(dirfd(d), n, &sb, 0) < 0 ||
			    !S_ISDIR(sb.st_mode))
				continue;
		} else {
			if (len <= 5 || strcmp(n + len - 5, ".json") != 0)
				continue;
			len -= 5;
			char v[IMAGE_NAME_MAX + 1];
			if (len > IMAGE_NAME_MAX)
				continue;
			memcpy(v, n, len);
			v[len] = '\0';
			if (!image_version_valid(v) ||
			    fstatat(dirfd(d), n, &sb, 0) < 0 ||
			    !S_ISREG(sb.st_mode))
				continue;
		}
		if (names_add(ns, n, len) < 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			r = -1;
			break;
		}
	}
	closedir(d);
	if (r == 0 && ns->n)
		qsort(ns->v, ns->n, sizeof ns->v[0],
		    dirs ? cmp_name : cmp_version);
	return r;
}

int
store_list_manifests(const struct store *st, store_manifest_fn fn, void *arg,
    char *err, size_t errlen)
{
	char path[STORE_PATH_MAX];
	struct names names = { 0 };
	int r = 0;

	fmt_path(path, sizeof path, "%s/manifests", st->dir);
	if (scan(path, true, &names, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < names.n && r == 0; i++) {
		struct names versions = { 0 };
		fmt_path(path, sizeof path, "%s/manifests/%s", st->dir,
		    names.v[i]);
		if (scan(path, false, &versions, err, errlen) < 0) {
			r = -1;
			break;
		}
		for (size_t j = 0; j < versions.n && r == 0; j++)
			r = fn(names.v[i], versions.v[j], arg);
		names_free(&versions);
	}
	names_free(&names);
	return r;
}

int
store_latest_version(const struct store *st, const char *name, char *version,
    char *err, size_t errlen)
{
	char path[STORE_PATH_MAX];
	struct names versions = { 0 };

	if (!image_name_valid(name))
		FAIL("image \"%.64s\": not a valid name", name ? name : "");
	fmt_path(path, sizeof path, "%s/manifests/%s", st->dir, name);
	if (scan(path, false, &versions, err, errlen) < 0)
		return -1;
	if (versions.n == 0)
		FAIL("image %s is not in the store", name);
	snprintf(version, IMAGE_NAME_MAX + 1, "%s", versions.v[versions.n - 1]);
	names_free(&versions);
	return 0;
}
