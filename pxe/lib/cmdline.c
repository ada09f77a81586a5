/*
 * cmdline.c — the kernel command line: rackd.url, rackd.job, rackd.token
 * and rackd.disk, split the way the kernel splits it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/file.h"
#include "pxe/lib/pxe.h"

#define KEY_PREFIX	"rackd."

static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int
set_url(struct agent_conf *c, const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);
	const char *host;

	if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else {
		snprintf(err, errlen,
		    "url must start with http:// or https://");
		return -1;
	}
	if (*host == '\0' || *host == '/') {
		snprintf(err, errlen, "url has no host");
		return -1;
	}
	if (n >= sizeof(c->url)) {
		snprintf(err, errlen, "url is longer than %d bytes",
		    AGENT_URL_MAX - 1);
		return -1;
	}
	if (!printable(v)) {
		snprintf(err, errlen, "url holds spaces or control characters");
		return -1;
	}
	memcpy(c->url, v, n + 1);
	while (n > 0 && c->url[n - 1] == '/')
		c->url[--n] = '\0';
	return 0;
}

static int
set_job(struct agent_conf *c, const char *v, char *err, size_t errlen)
{
	int64_t id = 0;
	size_t n = strlen(v);

	if (n == 0 || n > 18) {
		snprintf(err, errlen,
		    "job must be a number from 1 to 18 digits");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i])) {
			snprintf(err, errlen,
			    "job must be a number, not \"%.20s\"", v);
			return -1;
		}
		id = id * 10 + (v[i] - '0');
	}
	if (id <= 0) {
		snprintf(err, errlen, "job must be at least 1");
		return -1;
	}
	c->job = id;
	return 0;
}

static int
set_token(struct agent_conf *c, const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);

	if (n == 0 || n > AGENT_TOKEN_MAX) {
		snprintf(err, errlen, "token must be 1 to %d hex characters",
		    AGENT_TOKEN_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)v[i])) {
			snprintf(err, errlen,
			    "token must be hex characters only");
			return -1;
		}
	memcpy(c->token, v, n + 1);
	return 0;
}

static int
set_disk(struct agent_conf *c, const char *v, char *err, size_t errlen)
{
	struct disk_rule r;
	char why[ERR_MAX];

	if (disk_rule_parse(v, &r, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "disk: %s", why);
		return -1;
	}
	snprintf(c->disk, sizeof(c->disk), "%s", v);
	return 0;
}

int
conf_set(struct agent_conf *c, const char *key, const char *value, char *err,
    size_t errlen)
{
	if (value == NULL)
		value = "";
	if (strcmp(key, "url") == 0)
		return set_url(c, value, err, errlen);
	if (strcmp(key, "job") == 0)
		return set_job(c, value, err, errlen);
	if (strcmp(key, "token") == 0)
		return set_token(c, value, err, errlen);
	if (strcmp(key, "disk") == 0)
		return set_disk(c, value, err, errlen);
	snprintf(err, errlen, "unknown setting %.40s", key);
	return -1;
}

int
conf_complete(const struct agent_conf *c, char *err, size_t errlen)
{
	const char *missing = c->url[0] == '\0' ? "rackd.url (--url)" :
	    c->job == 0 ? "rackd.job (--job)" :
	    c->token[0] == '\0' ? "rackd.token (--token)" : NULL;

	if (missing != NULL) {
		snprintf(err, errlen, "no %s: the kernel command line or the "
		    "flags must give it", missing);
		return -1;
	}
	return 0;
}

static int
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	    ch == '\v' || ch == '\f';
}

int
cmdline_parse(const char *text, size_t len, struct agent_conf *c, char *err,
    size_t errlen)
{
	char *tok, why[ERR_MAX];
	size_t i = 0;
	int rc = 0;

	if (len > CMDLINE_MAX) {
		snprintf(err, errlen, "command line longer than %d bytes",
		    CMDLINE_MAX);
		return -1;
	}
	/* A NUL ends the text, as in a C string. */
	for (size_t k = 0; k < len; k++)
		if (text[k] == '\0') {
			len = k;
			break;
		}
	if ((tok = malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (rc == 0) {
		size_t n = 0, eq = (size_t)-1;
		int inq = 0;
		const char *key, *value;

		while (i < len && is_space(text[i]))
			i++;
		if (i >= len)
			break;
		while (i < len && (inq || !is_space(text[i]))) {
			char ch = text[i++];
			if (ch == '"') {
				inq = !inq;
				continue;
			}
			if (ch == '=' && eq == (size_t)-1)
				eq = n;
			tok[n++] = ch;
		}
		tok[n] = '\0';
		if (eq != (size_t)-1)
			tok[eq] = '\0';
		key = tok;
		value = eq != (size_t)-1 ? tok + eq + 1 : NULL;
		if (strncmp(key, KEY_PREFIX, strlen(KEY_PREFIX)) != 0)
			continue;
		key += strlen(KEY_PREFIX);
		if (strcmp(key, "url") != 0 && strcmp(key, "job") != 0 &&
		    strcmp(key, "token") != 0 && strcmp(key, "disk") != 0) {
			log_warn("kernel command line: unknown key rackd.%.40s "
			    "ignored", key);
			continue;
		}
		if (inq) {
			snprintf(err, errlen, "kernel command line: rackd.%s: "
			    "unterminated quote", key);
			rc = -1;
		} else if (value == NULL || *value == '\0') {
			snprintf(err, errlen, "kernel command line: rackd.%s "
			    "has no value (rackd.%s=...)", key, key);
			rc = -1;
		} else if (conf_set(c, key, value, why, sizeof(why)) != 0) {
			snprintf(err, errlen,
			    "kernel command line: rackd.%s: %s", key, why);
			rc = -1;
		}
	}
	free(tok);
	return rc;
}

int
cmdline_load(const char *path, struct agent_conf *c, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(CMDLINE_MAX + 1)) == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	errno = 0;
	len = read_full(fd, buf, CMDLINE_MAX + 1);
	if (len <= CMDLINE_MAX && errno != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		free(buf);
		return -1;
	}
	close(fd);
	if (len > CMDLINE_MAX) {
		snprintf(err, errlen, "%s: longer than %d bytes", path,
		    CMDLINE_MAX);
		free(buf);
		return -1;
	}
	rc = cmdline_parse(buf, len, c, err, errlen);
	free(buf);
	return rc;
}
