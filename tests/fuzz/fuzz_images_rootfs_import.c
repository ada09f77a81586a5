/*
 * tests/fuzz/fuzz_images_rootfs_import.c — a root file system tarball
 * imported into a store (images/rootfs_import.c import_rootfs, libarchive
 * with every filter and format it reads). The tarball is whatever an
 * operator was handed. Each input goes into a fresh store (under /dev/shm
 * when there is one): a refused tarball leaves no manifest and no
 * temporary file, an accepted one leaves a valid rootfs manifest whose
 * every chunk is in the store and checks out.
 */
#include <sys/mman.h>

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "images/chunk.h"
#include "images/import.h"
#include "images/rootfs.h"
#include "images/store.h"
#include "tests/fuzz/fuzz.h"

#define MAX_SIZE	(UINT64_C(64) << 20)	/* image bytes, per input */

static char topdir[256], storedir[300];

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
at_exit(void)
{
	if (topdir[0] != '\0')
		rm_rf(topdir);
}

static void
setup(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(topdir, sizeof(topdir), "%s/rackd-fuzz-rootfs.XXXXXX", base);
	if (mkdtemp(topdir) == NULL)
		abort();
	snprintf(storedir, sizeof(storedir), "%s/store", topdir);
	atexit(at_exit);
}

/* Entries of DIR/tmp (a refused import must leave none). */
static int
tmp_entries(const char *dir)
{
	char path[400];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/tmp", dir);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
quiet(const char *msg, void *arg)
{
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_options opt;
	struct rootfs_options ro;
	struct rootfs_stats rs;
	struct manifest *m = NULL, *stored = NULL;
	struct store *st;
	char path[64], err[512], hex[HASH_HEX_LEN + 1];
	int fd, r;

	FUZZ_SELFTEST_TRAP(data, size);
	if (topdir[0] == '\0')
		setup();
	if ((fd = memfd_create("rootfs.tar", MFD_CLOEXEC)) < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rm_rf(storedir);
	if (store_open(storedir, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	import_options_init(&opt);
	opt.chunk_size = CHUNK_SIZE_MIN;
	opt.level = CHUNK_LEVEL_MIN;
	rootfs_options_init(&ro);
	ro.max_size = MAX_SIZE;
	ro.strict = size > 0 && (data[size - 1] & 1);
	ro.warn = quiet;

	err[0] = '\0';
	r = import_rootfs(st, path, "fuzz", "1", &opt, &ro, NULL, NULL, &rs,
	    &m, err, sizeof(err));
	if (r != 0) {
		FUZZ_CHECK(m == NULL && err[0] != '\0');
		FUZZ_CHECK(!store_has_manifest(st, "fuzz", "1"));
		FUZZ_CHECK(tmp_entries(storedir) == 0);
	} else {
		FUZZ_CHECK(m != NULL && m->kind == IMAGE_KIND_ROOTFS);
		FUZZ_CHECK(m->size <= MAX_SIZE);
		FUZZ_CHECK(manifest_validate(m, err, sizeof(err)) == 0);
		FUZZ_CHECK(store_load_manifest(st, "fuzz", "1", &stored, err,
		    sizeof(err)) == 0);
		FUZZ_CHECK(stored->nchunks == m->nchunks &&
		    stored->size == m->size);
		for (size_t i = 0; i < m->nchunks; i++) {
			hash_to_hex(m->chunks[i].hash, hex);
			FUZZ_CHECK(store_check_chunk(st, m->hash, hex,
			    m->chunks[i].length, err, sizeof(err)) == 0);
		}
		FUZZ_CHECK(tmp_entries(storedir) == 0);
		manifest_free(stored);
		manifest_free(m);
	}
	store_close(st);
	close(fd);
	return 0;
}
