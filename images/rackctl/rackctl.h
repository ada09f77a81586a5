/* images/rackctl/rackctl.h — rackctl, the operator's command line on the
 * central host: what each file offers. It is built on the image library
 * (the headers in images/) and is the only part of images/ that talks to
 * racks, so libcurl enters here and not in the library.
 *
 * main.c     main, the command table, shared helpers (errors, sizes)
 * image.c    "rackctl image ...": import, list, show, verify
 * sign.c     "rackctl keygen", "rackctl image sign"
 * http.c     talking to racks (libcurl): URLs, tokens, retries
 * push.c     "rackctl push": images to many racks
 * patch.c    chunks pushed as patches against a version the rack holds
 * rack.c     "rackctl nodes|images|jobs|reimage RACK": a rack's API
 *
 * Exit codes: 0 ok, 1 failure, 2 usage. Errors go to stderr as
 * "rackctl: what is wrong".
 */
#ifndef RACKD_IMAGES_RACKCTL_RACKCTL_H
#define RACKD_IMAGES_RACKCTL_RACKCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

enum {
	RACKCTL_OK = 0,
	RACKCTL_FAIL = 1,
	RACKCTL_USAGE = 2,
};

/* One entry of a command table: "rackctl NAME ..." or "rackctl image NAME". */
struct rackctl_cmd {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command's name */
	const char *summary;               /* one line for --help */
};

/* main.c */
void rackctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the error and "Try 'rackctl HELP --help'." then returns RACKCTL_USAGE. */
int rackctl_usage(const char *help_for, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs the entry of table named argv[0]; unknown names are usage errors. */
int rackctl_dispatch(const char *where, const struct rackctl_cmd *table, size_t n, int argc, char **argv);
/* Prints the table as "  name   summary" lines. */
void rackctl_print_commands(FILE *f, const struct rackctl_cmd *table, size_t n);
/* "1048576", "1024K", "1M", "1MiB" (binary units). true on success. */
bool rackctl_parse_size(const char *s, uint64_t *out);
/* A decimal integer in [min, max]. true on success. */
bool rackctl_parse_long(const char *s, long min, long max, long *out);
/* "1.5 GiB" into buf. */
const char *rackctl_human(uint64_t bytes, char *buf, size_t buflen);

/* image.c */
int rackctl_cmd_image(int argc, char **argv);

/* sign.c */
int rackctl_cmd_keygen(int argc, char **argv);
int rackctl_cmd_image_sign(int argc, char **argv);	/* "image sign" */

/* http.c: racks and requests. */
#define RACK_URL_MAX             1024
#define RACK_TOKEN_MAX           256
#define RACKS_MAX                1024         /* racks of one push */
#define URL_PATH_MAX             512          /* the API path after the URL */
#define RACKCTL_REPLY_MAX        (64u << 20)  /* largest reply body read */
#define RACKCTL_CONNECT_TIMEOUT  10           /* seconds */
#define RACKCTL_STALL_TIMEOUT    60           /* seconds without a byte */
#define RACKCTL_RETRIES_DEFAULT  5

struct rack {
	char url[RACK_URL_MAX];     /* no trailing slash */
	char token[RACK_TOKEN_MAX];
};
struct http_reply {
	long status;                /* 0: no reply */
	char *body;                 /* NUL terminated, or NULL */
	size_t len, cap;
	char err[256];              /* why there was no reply */
};
int rackctl_http_init(void);
/* A rack from a URL and its token. 0, or -1 with err. */
int rackctl_rack_set(struct rack *rk, const char *url, const char *token, char *err, size_t errlen);
/* The rack of a command's RACK argument: token from token_file (may be
 * NULL) or RACKD_TOKEN. RACKCTL_OK, or an exit status (error printed). */
int rackctl_rack_arg(const char *url, const char *token_file, struct rack *rk);
/* The first line of a token file. */
int rackctl_token_file(const char *path, char *token, size_t len, char *err, size_t errlen);
/* A racks file: one "URL TOKEN" per line, # comments, blank lines. */
int rackctl_racks_file(const char *path, struct rack **racks, size_t *n, char *err, size_t errlen);
/* One request with the rack's token; network errors and 502/503/504 are
 * retried with backoff, at most retries times. 0 when a reply came (any
 * status: out->status), -1 when none did (out->err). Free with
 * rackctl_reply_free. */
int rackctl_request(const struct rack *rk, const char *method, const char *path, const char *ctype,
		    const void *body, size_t len, int retries, struct http_reply *out);
void rackctl_reply_free(struct http_reply *r);
json_t *rackctl_reply_json(const struct http_reply *r);
/* The reply's {"error"} (or status, or network error) as one line. */
const char *rackctl_reply_error(const struct http_reply *r, char *buf, size_t len);
/* Delay before retry number attempt (0, 1, ...): exponential with jitter. */
long rackctl_backoff_ms(int attempt);
void rackctl_sleep_ms(long ms);
double rackctl_now(void);                    /* monotonic seconds */
/* libcurl glue shared by the commands (void * is a CURL *). */
size_t rackctl_collect_cb(char *data, size_t size, size_t nmemb, void *reply);
struct curl_slist;
struct curl_slist *rackctl_auth_headers(const struct rack *rk, const char *ctype);
void rackctl_curl_common(void *easy);

/* push.c */
int rackctl_cmd_push(int argc, char **argv);

/* patch.c: chunks sent as patches against the chunk at the same
 * offset of a version the rack already holds. */
struct store;
struct manifest;
struct patch_base;
/* The newest versions of m's image the rack holds that the store has too
 * (NULL: none, nothing to patch against). level: the store's zstd level
 * (0: found from the first compressible chunk patched). */
struct patch_base *patch_base_find(struct store *st, const struct rack *rack, const struct manifest *m,
				   int level, int retries);
void patch_base_free(struct patch_base *b);
int patch_base_level(const struct patch_base *b);
/* A patch of chunk hex (stored bytes) if one is at most half its size: 1
 * with *body (malloc'd), *len and the base chunk; 0 not worth it or no
 * base; -1 the store could not be read. */
int patch_make(struct patch_base *b, struct store *st, const char *hex, uint64_t stored, void **body,
	       size_t *len, char base_hex[65]);

/* rack.c */
int rackctl_cmd_nodes(int argc, char **argv);
int rackctl_cmd_images(int argc, char **argv);
int rackctl_cmd_jobs(int argc, char **argv);
int rackctl_cmd_reimage(int argc, char **argv);

#endif
