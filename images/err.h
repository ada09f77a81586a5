/* images/err.h — the size of an error message of the image library.
 *
 * Every function of images/ that can fail takes (char *err, size_t errlen)
 * and writes one line there, cut to errlen. A buffer of IMG_ERR_MAX holds
 * any of them whole (a path is cut to fit), so callers size theirs by this
 * name, not by a number of their own.
 */
#ifndef RACKD_IMAGES_ERR_H
#define RACKD_IMAGES_ERR_H

#define IMG_ERR_MAX	256	/* one error line of the library, and its NUL */

#endif
