/* images/import.h — importing images into the store (libarchive).
 *
 * The only place in the project that uses libarchive. A disk image is read
 * as raw data through every filter libarchive has (.img, .img.gz, .img.xz,
 * .img.zst, .img.bz2, ...), cut into fixed chunks, all-zero chunks become
 * holes, the others are hashed, compressed and stored once; the manifest is
 * written last, so an import that fails leaves no image visible (chunks
 * already stored are complete and content-addressed, and stay).
 *
 * Root file system tarballs (kind rootfs) are imported by import_rootfs()
 * (images/rootfs.h), with the same shape and options.
 */
#ifndef RACKD_IMAGES_IMPORT_H
#define RACKD_IMAGES_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "images/manifest.h"
#include "images/store.h"

/* libarchive's read size from the file */
#define IMPORT_READ_BLOCK	(1024 * 1024)

struct import_options {
	uint32_t chunk_size;  /* power of two, CHUNK_SIZE_MIN..CHUNK_SIZE_MAX */
	int level;	      /* zstd level, CHUNK_LEVEL_MIN..CHUNK_LEVEL_MAX */
	enum hash_alg hash;   /* chunk hash */
	enum image_kind kind; /* IMAGE_KIND_DISK (rootfs: import_rootfs) */
	time_t created;	      /* manifest time; 0 means now */
};

struct import_progress {
	uint64_t bytes_read;   /* image bytes read so far (uncompressed) */
	uint64_t input_read;   /* bytes of the input file consumed */
	uint64_t input_size;   /* size of the input file, 0 if unknown (pipe) */
	uint64_t chunks;       /* data chunks so far */
	uint64_t holes;	       /* all-zero chunks skipped */
	uint64_t new_chunks;   /* chunks the store did not have */
	uint64_t stored_bytes; /* compressed bytes of all data chunks */
	uint64_t new_bytes;    /* compressed bytes written to the store */
	bool done;	       /* last call: the manifest is stored */
};

/* Called after every chunk and once more with done set. Return 0 to go on;
 * anything else cancels the import ("import cancelled"). */
typedef int (*import_progress_fn)(const struct import_progress *p, void *arg);

/* Defaults: CHUNK_SIZE_DEFAULT, CHUNK_LEVEL_DEFAULT, HASH_ALG_DEFAULT, disk. */
void	 import_options_init(struct import_options *opt);

/* Imports the disk image at path ("-" for standard input) as name:version.
 * progress may be NULL. On success 0 and *out (may be NULL if not wanted;
 * free with manifest_free). On failure -1 with err, and no manifest is
 * stored. Fails if name:version is already in the store. */
int	 import_disk_image(struct store *st, const char *path, const char *name,
	    const char *version, const struct import_options *opt,
	    import_progress_fn progress, void *arg, struct manifest **out,
	    char *err, size_t errlen);

#endif
