/* images/store.h — the content-addressed image store in a directory DIR.
 *
 *   DIR/chunks/<first two hex>/<64 hex>   one zstd frame (content size in its
 *                                         header), named by the hash of the
 *                                         UNCOMPRESSED content
 *   DIR/manifests/<name>/<version>.json   manifests (images/manifest.h)
 *   DIR/tmp/                              temporary files
 *
 * Every write goes to a temporary file in DIR/tmp, is fsync'ed, renamed into
 * place, and the directory is fsync'ed: a crash never leaves a partial chunk
 * or manifest visible. A writer holds an flock on its temporary file, so
 * store_open() removes only stale ones (left by a dead process) and never a
 * live writer's.
 *
 * A manifest is only stored when every chunk it lists is present, so a
 * visible manifest is always complete.
 */
#ifndef RACKD_IMAGES_STORE_H
#define RACKD_IMAGES_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/manifest.h"

#define STORE_PATH_MAX	4096
#define STORE_TMP_TRIES	4	/* attempts to create a temporary file */

struct store;

/* Opens (creating if needed) the store at dir: makes the layout and removes
 * stale temporary files. 0 and *out, or -1 with err. */
int	 store_open(const char *dir, struct store **out, char *err,
	    size_t errlen);
void	 store_close(struct store *st);
const char *store_dir(const struct store *st);

/* DIR/chunks/ab/abcd... for a valid 64-hex hash into buf. 0, or -1 if the
 * hash is not 64 lowercase hex or buf is too small (nothing is touched on
 * disk). Safe for hashes taken from URLs. */
int	 store_chunk_path(const struct store *st, const char *hash_hex,
	    char *buf, size_t buflen);
bool	 store_has_chunk(const struct store *st, const char *hash_hex);
/* Compressed size of a stored chunk: 0 and *size, or -1 (absent/invalid). */
int	 store_chunk_size(const struct store *st, const char *hash_hex,
	    uint64_t *size);
/* Stores a compressed chunk (one zstd frame) atomically under hash_hex; a
 * no-op if it is already there. The caller vouches that the content hashes
 * to hash_hex (check untrusted data with chunk_verify first). *added (may be
 * NULL) tells whether it was new. 0, or -1 with err. */
int	 store_put_chunk(struct store *st, const char *hash_hex,
	    const void *compressed, size_t len, bool *added, char *err,
	    size_t errlen);
/* A temporary file in DIR/tmp for a writer that streams into the store (a
 * chunk arriving over the network): *fd is open for writing and flock'ed,
 * so store_open of another process leaves it alone while its writer lives
 * and removes it once the writer is dead. path (STORE_PATH_MAX bytes) names
 * it; the caller unlinks it unless store_adopt_chunk took it. 0, or -1. */
int	 store_tmp_create(const struct store *st, const char *prefix,
	    char *path, size_t pathlen, int *fd, char *err, size_t errlen);
/* Checks the compressed chunk written to the temporary file path (fd open
 * on it): exactly one zstd frame of expected_len bytes whose content hashes
 * to hash_hex under alg. If good, it is synced and renamed into place
 * atomically (if the store has the chunk already, the file is removed);
 * *added (may be NULL) tells whether it was new. Otherwise -1 with err,
 * errno EBADMSG for content that does not match, and the file is left for
 * the caller to remove. Memory: the file is mapped, the content needs
 * expected_len bytes. */
int	 store_adopt_chunk(struct store *st, enum hash_alg alg,
	    const char *hash_hex, uint64_t expected_len, const char *path,
	    int fd, bool *added, char *err, size_t errlen);
/* store_patch.c: a chunk arriving as a patch (chunk_patch_make) against
 * the stored chunk base_hex, in the file fd is open on: rebuilt, hashed,
 * compressed again at level, and stored if that is expected_stored bytes
 * (the manifest's size). -1 with err and errno: EBADMSG the content does
 * not match, ENOENT no such base, ERANGE another compressed size (the
 * chunk must come whole), others. Memory: about four chunks. */
int	 store_adopt_patch(struct store *st, enum hash_alg alg,
	    const char *hash_hex, uint64_t expected_len,
	    uint64_t expected_stored, int level, const char *base_hex, int fd,
	    bool *added, char *err, size_t errlen);
/* Removes a chunk (garbage collection: the caller knows no image needs it).
 * 0, also when it was not there; -1 with err. */
int	 store_remove_chunk(struct store *st, const char *hash_hex, char *err,
	    size_t errlen);
/* Reads a stored chunk (malloc'd, at most max_len bytes). 0, or -1 with err. */
/* A stored chunk's content (decompressed, at most CHUNK_SIZE_MAX bytes),
 * into a malloc'd buffer of its size. Not checked against its hash: the
 * store holds only verified chunks. 0, or -1 with err. */
int	 store_read_content(const struct store *st, const char *hash_hex,
	    void **data, size_t *len, char *err, size_t errlen);
int	 store_read_chunk(const struct store *st, const char *hash_hex,
	    size_t max_len, void **data, size_t *len, char *err, size_t errlen);
/* Reads, decompresses and hashes a stored chunk against its name under alg,
 * expecting expected_len uncompressed bytes. 0 if good, -1 with err. */
int	 store_check_chunk(const struct store *st, enum hash_alg alg,
	    const char *hash_hex, uint64_t expected_len, char *err,
	    size_t errlen);

/* DIR/manifests/<name>/<version>.json into buf. 0, or -1 on bad names. */
int	 store_manifest_path(const struct store *st, const char *name,
	    const char *version, char *buf, size_t buflen);
bool	 store_has_manifest(const struct store *st, const char *name,
	    const char *version);
/* Validates m, checks that all its chunks are present, and writes it
 * atomically. Storing the same bytes again is a no-op; a different manifest
 * under an existing name and version is an error (errno EEXIST). */
int	 store_put_manifest(struct store *st, const struct manifest *m,
	    char *err, size_t errlen);
/* Rewrites an existing manifest of the same name and version atomically
 * (rackctl image sign adds a signature this way). 0, or -1 with err. */
int	 store_replace_manifest(struct store *st, const struct manifest *m,
	    char *err, size_t errlen);
int	 store_load_manifest(const struct store *st, const char *name,
	    const char *version, struct manifest **out, char *err,
	    size_t errlen);
/* Removes a manifest (its chunks stay; they may be shared). 0, or -1. */
int	 store_remove_manifest(struct store *st, const char *name,
	    const char *version, char *err, size_t errlen);

/* Calls fn for every stored name and version, names in byte order and each
 * name's versions in version order (strverscmp). Files that are not valid
 * names are skipped. fn returns 0 to go on, anything else stops the walk
 * and is returned. 0 when done, -1 with err on a read error. */
typedef int (*store_manifest_fn)(
    const char *name, const char *version, void *arg);
int	 store_list_manifests(const struct store *st, store_manifest_fn fn,
	    void *arg, char *err, size_t errlen);
/* The greatest version (strverscmp) stored for name into version
 * (IMAGE_NAME_MAX + 1 bytes). 0, or -1 with err if there is none. */
int	 store_latest_version(const struct store *st, const char *name,
	    char *version, char *err, size_t errlen);

#endif
