/* images/rackctl/publish.c — "rackctl publish NAME[:VERSION] ORIGIN": an
 * image of the local store to an origin that racks pull from (rackd's
 * image_sources), through any HTTP cache:
 *
 *   ORIGIN/chunks/<64 hex>                   one compressed chunk, as the
 *                                            store keeps it; immutable
 *   ORIGIN/manifests/<name>/<version>.json   the manifest, its signature
 *                                            in it (rackctl image sign)
 *   ORIGIN/manifests/<name>/index.json       the versions there, what
 *                                            image_subscribe reads
 *
 * ORIGIN is a directory (a path or file://URL; any web server then serves
 * it) or s3://BUCKET/PREFIX (AWS Signature v4 through libcurl). Only the
 * chunks the origin lacks are written, each to a temporary name and then
 * renamed (a directory), or after a HEAD that finds it absent (S3); the
 * manifest is written last, once every chunk is there, so that a
 * half-published image is never visible. A killed publish run again skips
 * what is there: a chunk present with the size the manifest gives is taken
 * as it is (its name is its hash, and it was renamed into place only
 * whole), --verify decompresses and hashes it too. Last the index is
 * written from the manifests the origin holds (a directory's listing, or
 * an S3 prefix's ListObjectsV2, s3_list.c).
 */
#include "images/rackctl/rackctl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <dirent.h>

#include "images/chunk.h"
#include "images/file.h"
#include "images/hash.h"
#include "images/manifest.h"
#include "images/store.h"

/* ---- the origin's paths ------------------------------------------------- */

int
origin_chunk_path(const char *hash_hex, char *buf, size_t len)
{
	int n;

	if (!hash_hex_valid(hash_hex))
		return -1;
	n = snprintf(buf, len, "chunks/%s", hash_hex);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
origin_manifest_path(const char *name, const char *version, char *buf,
    size_t len)
{
	int n;

	if (!image_name_valid(name) || !image_version_valid(version))
		return -1;
	n = snprintf(buf, len, "manifests/%s/%s.json", name, version);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ---- a directory origin ------------------------------------------------- */

struct origin {
	bool s3;
	char dir[PATH_MAX_PUBLISH / 2];	/* a directory */
	/* S3: ENDPOINT/BUCKET/PREFIX/ as the base of every object */
	char base[RACK_URL_MAX];
	char bucket_url[RACK_URL_MAX];		/* ENDPOINT/BUCKET */
	char prefix[RACK_URL_MAX];		/* "PREFIX/", or "" */
	char sigv4[128];			/* aws:amz:REGION:s3 */
	char userpwd[2 * S3_SECRET_MAX + 2];	/* KEY:SECRET */
	char token_hdr[S3_SECRET_MAX * 4];	/* x-amz-security-token */
	bool verify;
	CURL *curl;
};

static int
mkdirs(const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX_PUBLISH];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%.300s: %s", tmp, strerror(errno));
	return -1;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* data to DIR/rel through DIR/.tmp and a rename. */
static int
dir_put(struct origin *o, const char *rel, const void *data, size_t len,
    char *err, size_t errlen)
{
	char tmp[PATH_MAX_PUBLISH], dst[PATH_MAX_PUBLISH];
	char tdir[PATH_MAX_PUBLISH];
	const char *p = data;
	size_t left = len;
	int fd;

	snprintf(tdir, sizeof(tdir), "%s/.tmp", o->dir);
	if (mkdirs(tdir, err, errlen) != 0)
		return -1;
	if ((size_t)snprintf(dst, sizeof(dst), "%s/%s", o->dir, rel) >=
	    sizeof(dst) || (size_t)snprintf(tmp, sizeof(tmp), "%s/%d.%s",
	    tdir, (int)getpid(), strrchr(rel, '/') + 1) >= sizeof(tmp)) {
		snprintf(err, errlen, "%.300s: path too long", o->dir);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) <
	    0) {
		snprintf(err, errlen, "%.300s: %s", tmp, strerror(errno));
		return -1;
	}
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%.300s: %s", tmp,
			    n < 0 ? strerror(errno) : "short write");
			goto fail;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fsync(fd) != 0) {
		snprintf(err, errlen, "%.300s: %s", tmp, strerror(errno));
		goto fail;
	}
	close(fd);
	fd = -1;
	*strrchr(dst, '/') = '\0';
	if (mkdirs(dst, err, errlen) != 0)
		goto fail;
	dst[strlen(dst)] = '/';
	if (rename(tmp, dst) != 0) {
		snprintf(err, errlen, "%.300s: %s", dst, strerror(errno));
		goto fail;
	}
	*strrchr(dst, '/') = '\0';
	fsync_dir(dst);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

/* ---- an S3 origin ------------------------------------------------------ */

struct upload {
	const char *p;
	size_t left;
};

static size_t
upload_read(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb < u->left ? size * nmemb : u->left;

	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

/* One signed request to url: HEAD (*size its Content-Length), GET (the
 * answer in body) or PUT (data). The HTTP status, or -1 with err. */
static long
s3_request(struct origin *o, const char *method, const char *url,
    const void *data, size_t len, uint64_t *size, struct http_reply *body,
    char *err, size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	struct upload u = { data, len };
	uint8_t sum[HASH_LEN];
	char hex[HASH_HEX_LEN + 1], sha[40 + HASH_HEX_LEN];
	curl_off_t cl = -1;
	long status = 0;
	CURLcode rc;

	curl_easy_reset(o->curl);
	rackctl_curl_common(o->curl);
	curl_easy_setopt(o->curl, CURLOPT_URL, url);
	curl_easy_setopt(o->curl, CURLOPT_AWS_SIGV4, o->sigv4);
	curl_easy_setopt(o->curl, CURLOPT_USERPWD, o->userpwd);
	curl_easy_setopt(o->curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(o->curl, CURLOPT_WRITEFUNCTION, rackctl_collect_cb);
	curl_easy_setopt(o->curl, CURLOPT_WRITEDATA, body);
	/* S3 wants the payload's SHA-256 in a header of its own (signed,
	 * as every x-amz- header is); libcurl leaves it to us. */
	hash_buffer(HASH_SHA256, data != NULL ? data : "", len, sum);
	hash_to_hex(sum, hex);
	snprintf(sha, sizeof(sha), "x-amz-content-sha256: %s", hex);
	h = curl_slist_append(h, sha);
	if (o->token_hdr[0] != '\0')
		h = curl_slist_append(h, o->token_hdr);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(o->curl, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") == 0)
		curl_easy_setopt(o->curl, CURLOPT_HTTPGET, 1L);
	else {
		h = curl_slist_append(h,
		    "Content-Type: application/octet-stream");
		curl_easy_setopt(o->curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(o->curl, CURLOPT_READFUNCTION, upload_read);
		curl_easy_setopt(o->curl, CURLOPT_READDATA, &u);
		curl_easy_setopt(o->curl, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)len);
	}
	curl_easy_setopt(o->curl, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(o->curl);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%.300s: %s", url,
		    cerr[0] ? cerr : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(o->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(o->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	if (size != NULL)
		*size = cl >= 0 ? (uint64_t)cl : 0;
	return status;
}

/* ---- what the publish does with either ---------------------------------- */

/* HAVE_OTHER: there, of another size (a chunk is written again, a
 * manifest refused). */
enum have { HAVE_NOT, HAVE_YES, HAVE_OTHER, HAVE_ERROR };

/* Does the origin hold rel with size bytes? (verify: and its content.) */
static enum have
origin_has(struct origin *o, const char *rel, uint64_t size,
    const char *hex, enum hash_alg alg, uint64_t length, char *err,
    size_t errlen)
{
	struct http_reply body = { 0 };
	char url[RACK_URL_MAX + URL_PATH_MAX];
	uint64_t got = 0;
	long st;

	if (!o->s3) {
		char path[PATH_MAX_PUBLISH];
		struct stat sb;

		snprintf(path, sizeof(path), "%s/%s", o->dir, rel);
		if (stat(path, &sb) != 0)
			return errno == ENOENT ? HAVE_NOT : HAVE_ERROR;
		if ((uint64_t)sb.st_size != size)
			return HAVE_OTHER;
		if (o->verify && hex != NULL) {
			void *data;
			size_t len;
			uint8_t want[HASH_LEN];
			void *scratch = malloc(length ? length : 1);
			int rc;

			if (scratch == NULL || read_whole_file(path, size,
			    &data, &len, err, errlen) != 0) {
				free(scratch);
				return HAVE_ERROR;
			}
			hash_from_hex(hex, want);
			rc = chunk_verify(NULL, alg, want, length, data, len,
			    scratch, length, err, errlen);
			free(data);
			free(scratch);
			return rc == 0 ? HAVE_YES : HAVE_NOT;
		}
		return HAVE_YES;
	}
	snprintf(url, sizeof(url), "%s%s", o->base, rel);
	st = s3_request(o, "HEAD", url, NULL, 0, &got, &body, err, errlen);
	rackctl_reply_free(&body);
	if (st == 200)
		return got == size ? HAVE_YES : HAVE_OTHER;
	if (st == 404)
		return HAVE_NOT;
	if (st == 400 || st == 403) {
		/* A HEAD's answer has no body: the object asked for by GET
		 * says why (a wrong secret, say). */
		char e[512] = "", why[REPLY_ERR_MAX];

		if (s3_request(o, "GET", url, NULL, 0, NULL, &body, why,
		    sizeof(why)) == st && body.body != NULL)
			s3_error_text(body.body, body.len, e, sizeof(e));
		rackctl_reply_free(&body);
		snprintf(err, errlen, "HEAD %s: HTTP %ld%s%.400s", rel, st,
		    e[0] ? ": " : "", e);
		return HAVE_ERROR;
	}
	if (st > 0)
		snprintf(err, errlen, "HEAD %s: HTTP %ld", rel, st);
	return HAVE_ERROR;
}

static int
origin_put(struct origin *o, const char *rel, const void *data, size_t len,
    char *err, size_t errlen)
{
	struct http_reply body = { 0 };
	char e[512], url[RACK_URL_MAX + URL_PATH_MAX];
	long st;

	if (!o->s3)
		return dir_put(o, rel, data, len, err, errlen);
	snprintf(url, sizeof(url), "%s%s", o->base, rel);
	st = s3_request(o, "PUT", url, data, len, NULL, &body, err, errlen);
	e[0] = '\0';
	if (st != 200 && st > 0 && body.body != NULL)
		s3_error_text(body.body, body.len, e, sizeof(e));
	if (st != 200 && st > 0)
		snprintf(err, errlen, "PUT %s: HTTP %ld %.400s", rel, st, e);
	rackctl_reply_free(&body);
	return st == 200 ? 0 : -1;
}

/* ---- the origin from its argument ------------------------------------- */

/* KEY = VALUE lines of a credentials file (access_key_id,
 * secret_access_key, session_token; aws_ before each allowed). */
static int
credentials_file(const char *path, char *key, char *secret, char *token,
    char *err, size_t errlen)
{
	struct stat sb;
	char line[S3_SECRET_MAX * 4];
	FILE *f;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) != 0) {
		snprintf(err, errlen, "%.300s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((sb.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: readable or writable by others "
		    "(mode "
		    "%03o): chmod 600 it", path, (unsigned)(sb.st_mode & 0777));
		close(fd);
		return -1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		snprintf(err, errlen, "%.300s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *k = line, *v = strchr(line, '='), *end;

		if (v == NULL || line[0] == '#')
			continue;
		*v++ = '\0';
		while (*k == ' ' || *k == '\t')
			k++;
		for (end = v - 2; end >= k && (*end == ' ' || *end == '\t');
		    end--)
			*end = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, " \t\r\n")] = '\0';
		if (strncasecmp(k, "aws_", 4) == 0)
			k += 4;
		if (strcasecmp(k, "access_key_id") == 0)
			snprintf(key, S3_SECRET_MAX, "%s", v);
		else if (strcasecmp(k, "secret_access_key") == 0)
			snprintf(secret, S3_SECRET_MAX, "%s", v);
		else if (strcasecmp(k, "session_token") == 0)
			snprintf(token, S3_SECRET_MAX * 2, "%s", v);
	}
	fclose(f);
	explicit_bzero(line, sizeof(line));
	return 0;
}

static int
origin_open(struct origin *o, const char *arg, const char *endpoint,
    const char *region, const char *creds, char *err, size_t errlen)
{
	char key[S3_SECRET_MAX] = "", secret[S3_SECRET_MAX] = "";
	char token[S3_SECRET_MAX * 2] = "";
	const char *bucket, *prefix, *e;
	size_t blen, plen;
	int rc = -1;

	if (strncmp(arg, "s3://", 5) != 0) {
		if (strncmp(arg, "file://", 7) == 0)
			arg += 7;
		if (*arg == '\0' || strstr(arg, "://") != NULL) {
			snprintf(err, errlen, "origin '%.80s': a directory, "
			    "file://DIR or s3://BUCKET/PREFIX", arg);
			return -1;
		}
		if (strlen(arg) >= sizeof(o->dir)) {
			snprintf(err, errlen, "origin: path too long");
			return -1;
		}
		snprintf(o->dir, sizeof(o->dir), "%s", arg);
		return mkdirs(o->dir, err, errlen);
	}
	o->s3 = true;
	bucket = arg + 5;
	blen = strcspn(bucket, "/");
	prefix = bucket + blen;
	while (*prefix == '/')
		prefix++;
	plen = strlen(prefix);
	while (plen > 0 && prefix[plen - 1] == '/')
		plen--;
	if (blen == 0 || blen > 63) {
		snprintf(err, errlen, "origin '%.80s': no bucket", arg);
		return -1;
	}
	if (endpoint == NULL)
		endpoint = getenv("RACKCTL_S3_ENDPOINT");
	if (endpoint == NULL || *endpoint == '\0')
		endpoint = "https://s3.amazonaws.com";
	if (region == NULL && (region = getenv("AWS_REGION")) == NULL)
		region = "us-east-1";
	for (e = region; *e != '\0'; e++)
		if (!((*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9') ||
		    *e == '-')) {
			snprintf(err, errlen, "--region '%.40s': not a region",
			    region);
			return -1;
		}
	if (strlen(region) > 40) {
		snprintf(err, errlen, "--region: too long");
		return -1;
	}
	snprintf(o->sigv4, sizeof(o->sigv4), "aws:amz:%s:s3", region);
	e = endpoint + strlen(endpoint);
	while (e > endpoint && e[-1] == '/')
		e--;
	snprintf(o->prefix, sizeof(o->prefix), "%.*s%s", (int)plen, prefix,
	    plen > 0 ? "/" : "");
	if ((size_t)snprintf(o->bucket_url, sizeof(o->bucket_url), "%.*s/%.*s",
	    (int)(e - endpoint), endpoint, (int)blen, bucket) >=
	    sizeof(o->bucket_url) ||
	    (size_t)snprintf(o->base, sizeof(o->base), "%s/%s", o->bucket_url,
	    o->prefix) >= sizeof(o->base)) {
		snprintf(err, errlen, "origin: URL too long");
		return -1;
	}
	if (creds != NULL) {
		if (credentials_file(creds, key, secret, token, err, errlen) !=
		    0)
			goto out;
	} else {
		snprintf(key, sizeof(key), "%s",
		    getenv("AWS_ACCESS_KEY_ID") ? getenv("AWS_ACCESS_KEY_ID") :
		    "");
		snprintf(secret, sizeof(secret), "%s",
		    getenv("AWS_SECRET_ACCESS_KEY") ?
		    getenv("AWS_SECRET_ACCESS_KEY") : "");
		snprintf(token, sizeof(token), "%s",
		    getenv("AWS_SESSION_TOKEN") ? getenv("AWS_SESSION_TOKEN") :
		    "");
	}
	if (key[0] == '\0' || secret[0] == '\0' || strchr(key, ':') != NULL) {
		snprintf(err, errlen, "S3: no credentials (AWS_ACCESS_KEY_ID "
		    "and AWS_SECRET_ACCESS_KEY, or --credentials FILE)");
		goto out;
	}
	snprintf(o->userpwd, sizeof(o->userpwd), "%s:%s", key, secret);
	if (token[0] != '\0')
		snprintf(o->token_hdr, sizeof(o->token_hdr),
		    "x-amz-security-token: %s", token);
	if ((o->curl = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "libcurl failed to start");
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(token, sizeof(token));
	return rc;
}

static void
origin_close(struct origin *o)
{
	if (o->curl != NULL)
		curl_easy_cleanup(o->curl);
	explicit_bzero(o->userpwd, sizeof(o->userpwd));
	explicit_bzero(o->token_hdr, sizeof(o->token_hdr));
}

/* ---- the command ------------------------------------------------------- */

static void
publish_usage(FILE *f)
{
	fprintf(f,
	    "Usage: rackctl publish NAME[:VERSION] ORIGIN --store DIR "
	    "[OPTIONS]\n"
	    "\n"
	    "Publish an image of the local store to an origin that racks pull "
	    "from\n"
	    "(rackd's image_sources, POST /api/v1/images/pull, rackctl "
	    "pull-to).\n"
	    "ORIGIN is a directory or file://DIR (serve it with any web "
	    "server), or\n"
	    "s3://BUCKET/PREFIX. Only the chunks the origin lacks are written; "
	    "the\n"
	    "manifest goes last, so a half-published image is never visible. "
	    "Run it\n"
	    "again after an interruption: what is there is skipped.\n"
	    "\n"
	    "  -s, --store DIR        the local image store\n"
	    "      --verify           also hash the chunks the origin has (by "
	    "default\n"
	    "                         their size is checked)\n"
	    "      --endpoint URL     S3: the endpoint (RACKCTL_S3_ENDPOINT; "
	    "default\n"
	    "                         https://s3.amazonaws.com), path-style "
	    "URLs\n"
	    "      --region REGION    S3: the region signed for (AWS_REGION; "
	    "us-east-1)\n"
	    "      --credentials FILE S3: access_key_id = ... and "
	    "secret_access_key = ...\n"
	    "                         lines, mode 0600 (default: "
	    "AWS_ACCESS_KEY_ID and\n"
	    "                         AWS_SECRET_ACCESS_KEY)\n"
	    "      --json             the result as JSON on standard output\n"
	    "  -q, --quiet            no progress\n"
	    "\n"
	    "Exit status: 0 published, 1 failure, 2 usage error.\n");
}

struct pub {
	struct store *st;
	struct manifest *m;
	struct origin o;
	struct progress pg;
	uint64_t distinct, written, skipped, bytes_written, bytes_total;
	uint64_t bytes_done;
	double start;
	bool present;		/* the origin had the manifest */
};

static void
show(struct pub *p, bool force)
{
	char sizes[3 * HUMAN_MAX + 16];
	double secs = rackctl_now() - p->start;

	if (p->pg.mode != PROGRESS_BAR || !progress_due(&p->pg, force))
		return;
	progress_bar(&p->pg, "publish", progress_pct(p->bytes_done,
	    p->bytes_total), "%s  %llu written, %llu there",
	    progress_sizes(p->bytes_done, p->bytes_total, secs > 0 ?
	    (double)p->bytes_written / secs : 0, sizes, sizeof(sizes)),
	    (unsigned long long)p->written, (unsigned long long)p->skipped);
}

static int
cmp_chunk(const void *a, const void *b)
{
	return memcmp(((const struct manifest_chunk *)a)->hash,
	    ((const struct manifest_chunk *)b)->hash, HASH_LEN);
}

static int
publish_chunks(struct pub *p, char *err, size_t errlen)
{
	struct manifest_chunk *c = malloc((p->m->nchunks ? p->m->nchunks : 1) *
	    sizeof(*c));
	size_t n = 0, plain = 0;
	long stop_after = -1;
	const char *env = getenv("RACKCTL_PUBLISH_KILL_AFTER");
	int rc = -1;

	if (env != NULL)
		stop_after = atol(env);	/* the tests' interruption */
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(c, p->m->chunks, p->m->nchunks * sizeof(*c));
	qsort(c, p->m->nchunks, sizeof(*c), cmp_chunk);
	for (size_t i = 0; i < p->m->nchunks; i++)
		if (n == 0 || memcmp(c[n - 1].hash, c[i].hash, HASH_LEN) != 0)
			c[n++] = c[i];
	p->distinct = n;
	for (size_t i = 0; i < n; i++)
		p->bytes_total += c[i].stored;
	for (size_t i = 0; i < n; i++) {
		char hex[HASH_HEX_LEN + 1], rel[URL_PATH_MAX];
		void *data;
		size_t len;
		enum have h;

		hash_to_hex(c[i].hash, hex);
		origin_chunk_path(hex, rel, sizeof(rel));
		h = origin_has(&p->o, rel, c[i].stored, hex, p->m->hash,
		    c[i].length, err, errlen);
		if (h == HAVE_ERROR)
			goto out;
		if (h == HAVE_YES) {
			p->skipped++;	/* else (absent, other size) written */
		} else {
			if (store_read_chunk(p->st, hex, c[i].stored, &data,
			    &len, err, errlen) != 0)
				goto out;
			if (origin_put(&p->o, rel, data, len, err, errlen) !=
			    0) {
				free(data);
				goto out;
			}
			free(data);
			p->written++;
			p->bytes_written += len;
			if (stop_after >= 0 && (long)p->written >= stop_after)
				raise(SIGKILL);
		}
		p->bytes_done += c[i].stored;
		show(p, false);
		if (p->pg.mode == PROGRESS_LINES) {
			size_t pc = (size_t)progress_pct(p->bytes_done,
			    p->bytes_total);
			if (pc >= plain + PUSH_PLAIN_STEP && pc < 100) {
				plain = pc - pc % PUSH_PLAIN_STEP;
				progress_line(&p->pg, "publish: %zu%% (%llu "
				    "chunks written, %llu there)", pc,
				    (unsigned long long)p->written,
				    (unsigned long long)p->skipped);
			}
		}
	}
	rc = 0;
out:
	free(c);
	return rc;
}

static int
publish_manifest(struct pub *p, char *err, size_t errlen)
{
	char rel[URL_PATH_MAX];
	char *json = manifest_to_json(p->m);
	size_t len;
	enum have h;
	int rc = -1;

	if (json == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	len = strlen(json);
	origin_manifest_path(p->m->name, p->m->version, rel, sizeof(rel));
	h = origin_has(&p->o, rel, len, NULL, p->m->hash, 0, err, errlen);
	if (h == HAVE_ERROR)
		goto out;
	if (h == HAVE_YES && !p->o.s3) {
		char path[PATH_MAX_PUBLISH];
		void *old;
		size_t oldlen;

		snprintf(path, sizeof(path), "%s/%s", p->o.dir, rel);
		if (read_whole_file(path, MANIFEST_MAX_BYTES, &old, &oldlen,
		    err, errlen) != 0)
			goto out;
		h = oldlen == len && memcmp(old, json, len) == 0 ? HAVE_YES :
		    HAVE_ERROR;
		free(old);
	}
	if (h == HAVE_YES) {
		p->present = true;
		rc = 0;
		goto out;
	}
	if (h != HAVE_NOT) {
		snprintf(err, errlen, "the origin has %s:%s with other "
		    "content; an image version is published once (publish a "
		    "new version)", p->m->name, p->m->version);
		goto out;
	}
	rc = origin_put(&p->o, rel, json, len, err, errlen);
out:
	free(json);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* names[] grows by one (strdup'd). 0, or -1 out of memory. */
static int
names_add(char ***names, size_t *n, size_t *cap, const char *v, size_t len)
{
	char **grown;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((grown = realloc(*names, *cap * sizeof(**names))) == NULL)
			return -1;
		*names = grown;
	}
	if (((*names)[*n] = strndup(v, len)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

/* The versions of a directory origin's manifests/NAME/: its *.json files
 * but index.json. */
static int
dir_versions(struct pub *p, char ***names, size_t *n, char *err,
    size_t errlen)
{
	char dir[PATH_MAX_PUBLISH];
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/manifests/%s", p->o.dir, p->m->name);
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%.300s: %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len <= 5 || de->d_name[0] == '.' ||
		    strcmp(de->d_name + len - 5, ".json") != 0 ||
		    strcmp(de->d_name, "index.json") == 0)
			continue;
		rc = names_add(names, n, &cap, de->d_name, len - 5);
	}
	closedir(d);
	if (rc != 0)
		snprintf(err, errlen, "out of memory");
	return rc;
}

/* The versions of an S3 origin's PREFIX/manifests/NAME/, from its listing
 * (ListObjectsV2, signed as every request is, page after page), and the
 * version just published even if a store slow to list it lacks it. */
static int
s3_versions(struct pub *p, char ***names, size_t *n, char *err,
    size_t errlen)
{
	char dir[RACK_URL_MAX + IMAGE_NAME_MAX + 16], ver[IMAGE_NAME_MAX + 1];
	char url[RACK_URL_MAX * 2 + S3_TOKEN_MAX * 3 + 64], e[REPLY_ERR_MAX];
	struct s3_list l = { 0 };
	size_t cap = 0;
	bool mine = false;
	int rc = -1, pages = 0;

	snprintf(dir, sizeof(dir), "%smanifests/%s/", p->o.prefix, p->m->name);
	do {
		struct http_reply body = { 0 };
		char *pre = curl_easy_escape(p->o.curl, dir, 0);
		char *tok = l.next[0] ? curl_easy_escape(p->o.curl, l.next, 0) :
		    NULL;
		long st;

		/* The parameters in their canonical order, each encoded as
		 * Signature v4 wants: what is signed is what is sent. */
		if (pre != NULL && (l.next[0] == '\0' || tok != NULL))
			snprintf(url, sizeof(url), "%s?%s%s%slist-type=2&"
			    "prefix=%s", p->o.bucket_url, tok ?
			    "continuation-token=" : "", tok ? tok : "",
			    tok ? "&" : "", pre);
		curl_free(pre);
		curl_free(tok);
		if (pre == NULL || (l.next[0] != '\0' && tok == NULL)) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		st = s3_request(&p->o, "GET", url, NULL, 0, NULL, &body, err,
		    errlen);
		if (st != 200) {
			e[0] = '\0';
			if (body.body != NULL)
				s3_error_text(body.body, body.len, e,
				    sizeof(e));
			if (st > 0)
				snprintf(err, errlen, "listing %.200s: HTTP "
				    "%ld %.250s", dir, st, e);
			rackctl_reply_free(&body);
			goto out;
		}
		if (body.body == NULL || s3_list_parse(body.body, body.len, &l,
		    err, errlen) != 0) {
			if (body.body == NULL)
				snprintf(err, errlen, "listing %.200s: an "
				    "empty answer", dir);
			rackctl_reply_free(&body);
			goto out;
		}
		rackctl_reply_free(&body);
	} while (l.truncated && ++pages < S3_LIST_PAGES_MAX);
	if (l.truncated) {
		snprintf(err, errlen, "listing %.200s: more than %d pages", dir,
		    S3_LIST_PAGES_MAX);
		goto out;
	}
	rc = 0;
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		if (s3_index_version(l.keys[i], dir, ver, sizeof(ver))) {
			mine |= strcmp(ver, p->m->version) == 0;
			rc = names_add(names, n, &cap, ver, strlen(ver));
		}
	if (rc == 0 && !mine)
		rc = names_add(names, n, &cap, p->m->version,
		    strlen(p->m->version));
	if (rc != 0)
		snprintf(err, errlen, "out of memory");
out:
	s3_list_free(&l);
	return rc;
}

/* manifests/NAME/index.json rewritten from the manifests the origin holds,
 * so that it never names one that is not there: {"name": NAME,
 * "versions": [...]}, sorted. A directory's goes through .tmp and a
 * rename; S3's is one PUT, which a reader sees whole or not at all. */
static int
publish_index(struct pub *p, char *err, size_t errlen)
{
	char rel[URL_PATH_MAX];
	char **names = NULL;
	size_t n = 0;
	json_t *o = NULL, *v = json_array();
	char *text = NULL;
	int rc = -1;

	snprintf(rel, sizeof(rel), "manifests/%s/index.json", p->m->name);
	if (v == NULL || (p->o.s3 ? s3_versions(p, &names, &n, err, errlen) :
	    dir_versions(p, &names, &n, err, errlen)) != 0) {
		json_decref(v);
		goto out;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(v, json_string(names[i]));
	o = json_pack("{s:s,s:o}", "name", p->m->name, "versions", v);
	if (o != NULL && (text = json_dumps(o, JSON_INDENT(1))) != NULL)
		rc = origin_put(&p->o, rel, text, strlen(text), err, errlen);
	else
		snprintf(err, errlen, "out of memory");
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(text);
	json_decref(o);
	return rc;
}

int
rackctl_cmd_publish(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "verify", no_argument, NULL, 'V' },
		{ "endpoint", required_argument, NULL, 'E' },
		{ "region", required_argument, NULL, 'G' },
		{ "credentials", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct progress_col cols[] = {
		{ "ORIGIN", -40, 0 }, { "RESULT", -10, 1 },
		{ "WRITTEN", 12, 1 }, { "CHUNKS", 8, 1 }, { "THERE", 8, 1 },
		{ "TIME", 9, 1 }, { "", 0, 2 },
	};
	struct pub p = { 0 };
	const char *storedir = NULL, *endpoint = NULL, *region = NULL;
	const char *creds = NULL, *ref, *dest;
	char name[IMAGE_NAME_MAX + 1], version[IMAGE_NAME_MAX + 1];
	char err[RACKCTL_ERR_MAX] = "";
	bool quiet = false, json = false, ok = false;
	int o;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":s:qh", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			storedir = optarg;
			break;
		case 'V':
			p.o.verify = true;
			break;
		case 'E':
			endpoint = optarg;
			break;
		case 'G':
			region = optarg;
			break;
		case 'C':
			creds = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			publish_usage(stdout);
			return RACKCTL_OK;
		default:
			return rackctl_bad_option("publish", "publish", o,
			    argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return rackctl_usage("publish",
		    "publish: NAME[:VERSION] and ORIGIN");
	ref = argv[optind];
	dest = argv[optind + 1];
	if (storedir == NULL)
		return rackctl_usage("publish",
		    "publish: --store DIR is required");
	if (image_ref_parse(ref, name, version, err, sizeof(err)) < 0)
		return rackctl_usage("publish", "%s", err);
	if (strcmp(version, "index") == 0)
		return rackctl_usage("publish", "the version 'index' is taken "
		    "by the origin's index.json");
	if (rackctl_http_init() < 0) {
		rackctl_error("libcurl failed to start");
		return RACKCTL_FAIL;
	}
	if (store_open(storedir, &p.st, err, sizeof(err)) < 0 ||
	    (!version[0] && store_latest_version(p.st, name, version, err,
	    sizeof(err)) < 0) ||
	    store_load_manifest(p.st, name, version, &p.m, err,
	    sizeof(err)) < 0) {
		rackctl_error("%s", err);
		goto out;
	}
	if (origin_open(&p.o, dest, endpoint, region, creds, err,
	    sizeof(err)) != 0) {
		rackctl_error("%s", err);
		goto out;
	}
	progress_init(&p.pg, progress_mode_for(quiet, json), PUSH_BAR, 0, 0.2);
	p.start = rackctl_now();
	if (publish_chunks(&p, err, sizeof(err)) == 0 &&
	    publish_manifest(&p, err, sizeof(err)) == 0 &&
	    publish_index(&p, err, sizeof(err)) == 0)
		ok = true;
	show(&p, true);
	progress_end(&p.pg, true);
	if (p.pg.mode == PROGRESS_LINES)
		progress_line(&p.pg, "publish %s:%s: %s", name, version,
		    ok ? (p.present ? "the origin had it" : "published") :
		    err);
	if (json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:b,s:b,s:I,s:I,s:I,s:I,"
		    "s:f,s:s?}", "image", name, "version", version, "origin",
		    dest, "ok", ok, "present", p.present, "chunks",
		    (json_int_t)p.distinct, "written", (json_int_t)p.written,
		    "skipped", (json_int_t)p.skipped, "bytes_written",
		    (json_int_t)p.bytes_written, "seconds",
		    rackctl_now() - p.start, "error", ok ? NULL : err);
		progress_json(stdout, j, 1);
		json_decref(j);
	} else {
		char w[HUMAN_MAX], nc[24], sk[24], secs[32];
		const char *cells[7];

		snprintf(nc, sizeof(nc), "%llu", (unsigned long long)p.written);
		snprintf(sk, sizeof(sk), "%llu", (unsigned long long)p.skipped);
		snprintf(secs, sizeof(secs), "%.1fs", rackctl_now() - p.start);
		cells[0] = dest;
		cells[1] = ok ? (p.present ? "present" : "ok") : "failed";
		cells[2] = fmt_bytes(p.bytes_written, w, sizeof(w));
		cells[3] = nc;
		cells[4] = sk;
		cells[5] = secs;
		cells[6] = ok ? "" : err;
		progress_table_row(stdout, cols, 7, NULL);
		progress_table_row(stdout, cols, 7, cells);
	}
	if (!ok && !json)
		rackctl_error("publish: %s", err);
out:
	origin_close(&p.o);
	manifest_free(p.m);
	if (p.st != NULL)
		store_close(p.st);
	return ok ? RACKCTL_OK : RACKCTL_FAIL;
}
