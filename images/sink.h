/* images/sink.h — an image's byte stream into the store: cut into fixed
 * chunks, all-zero chunks become holes, the others are hashed, compressed
 * and stored once; the manifest is written last (by sink_finish), so a
 * stream that fails leaves no image visible. For importers that produce
 * the image's bytes themselves (rootfs: a cpio stream made from a
 * tarball). */
#ifndef RACKD_IMAGES_SINK_H
#define RACKD_IMAGES_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "images/import.h"
#include "images/manifest.h"
#include "images/store.h"

struct sink;

/* The checks of an import before it reads its input: name and version
 * valid, chunk size, level and hash in range, name:version not yet in
 * the store. 0, or -1 with err. */
int	 sink_check(struct store *st, const struct import_options *opt,
	    const char *name, const char *version, char *err, size_t errlen);
/* A sink making name:version of kind; opt gives chunk size, level and hash
 * (already checked by the caller), max_size the largest image (bytes).
 * progress (may be NULL) is called after every chunk. 0 and *out, or -1
 * with err. */
int	 sink_new(struct store *st, const struct import_options *opt,
	    enum image_kind kind, const char *name, const char *version,
	    uint64_t max_size, import_progress_fn progress, void *arg,
	    struct sink **out, char *err, size_t errlen);
/* Appends bytes. 0, or -1 with err (store error, over max_size, cancelled
 * by the progress callback). */
int	 sink_write(struct sink *s, const void *data, size_t len, char *err,
	    size_t errlen);
/* Counters the caller keeps up to date (input_read, input_size). */
struct import_progress *sink_progress(struct sink *s);
uint64_t sink_bytes(const struct sink *s);
/* Stores the last partial chunk and the manifest. 0 and *out (may be NULL;
 * free with manifest_free), or -1 with err. */
int	 sink_finish(struct sink *s, struct manifest **out, char *err,
	    size_t errlen);
void	 sink_free(struct sink *s);

#endif
