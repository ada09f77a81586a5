/*
 * s3_list.c — an S3 ListObjectsV2 answer (ListBucketResult XML), what
 * publish reads to write an S3 origin's manifests/NAME/index.json: the
 * object keys of the page, whether more pages follow and the token of the
 * next. The answer comes from outside (any S3-compatible store), so the
 * reading is bounded and strict: at most S3_LIST_PAGE_MAX keys a page,
 * each at most S3_KEY_MAX bytes, the five XML entities and numeric
 * references of ASCII decoded, anything else refused.
 * (tests/fuzz/fuzz_rackctl_s3_list.c)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/manifest.h"
#include "images/rackctl/rackctl.h"

void
s3_list_free(struct s3_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->keys[i]);
	free(l->keys);
	memset(l, 0, sizeof(*l));
}

/* XML's five named entities. */
static const struct {
	const char	*ent;
	char		 c;
} ents[] = {
	{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
	{ "&apos;", '\'' },
};

/* The text between <tag> and </tag> at or after *pos within [xml, end),
 * decoded into out (size len): 1 found (*pos after it), 0 none, -1 bad. */
static int
element(const char *xml, const char *end, const char **pos, const char *tag,
    char *out, size_t len)
{
	char open[32], close[32];
	const char *s, *e, *p;
	size_t n = 0;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if ((s = memmem(*pos, (size_t)(end - *pos), open, strlen(open))) ==
	    NULL)
		return 0;
	s += strlen(open);
	if ((e = memmem(s, (size_t)(end - s), close, strlen(close))) == NULL)
		return -1;
	for (p = s; p < e; p++) {
		char c = *p;

		if (c == '<' || c == '\0')
			return -1;
		if (c == '&') {
			size_t k, left = (size_t)(e - p);
			unsigned v = 0;

			for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++)
				if (left >= strlen(ents[k].ent) && memcmp(p,
				    ents[k].ent, strlen(ents[k].ent)) == 0)
					break;
			if (k < sizeof(ents) / sizeof(ents[0])) {
				c = ents[k].c;
				p += strlen(ents[k].ent) - 1;
			} else if (left >= 4 && p[1] == '#') {
				const char *q = p + 2;

				while (q < e && q < p + 6 && *q >= '0' &&
				    *q <= '9')
					v = v * 10 + (unsigned)(*q++ - '0');
				if (q == p + 2 || q >= e || *q != ';' ||
				    v == 0 || v > 127)
					return -1;
				c = (char)v;
				p = q;
			} else
				return -1;
		}
		if (n + 1 >= len)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	*pos = e + strlen(close);
	return 1;
}

void
s3_error_text(const char *xml, size_t len, char *out, size_t outlen)
{
	const char *pos = xml, *end = xml + len;
	char code[64] = "", msg[200] = "";
	const char *hint = "";

	if (element(xml, end, &pos, "Code", code, sizeof(code)) != 1) {
		snprintf(out, outlen, "(no S3 error in the answer)");
		return;
	}
	pos = xml;
	if (element(xml, end, &pos, "Message", msg, sizeof(msg)) != 1)
		msg[0] = '\0';
	if (strcmp(code, "SignatureDoesNotMatch") == 0)
		hint = " (the secret key is not the store's for this key id: "
		    "check AWS_SECRET_ACCESS_KEY or --credentials)";
	else if (strcmp(code, "InvalidAccessKeyId") == 0)
		hint = " (the store knows no such key id: check "
		    "AWS_ACCESS_KEY_ID or --credentials)";
	else if (strcmp(code, "RequestTimeTooSkewed") == 0)
		hint = " (this host's clock is off)";
	snprintf(out, outlen, "%s%s%s%s", code, msg[0] ? ": " : "", msg, hint);
}

int
s3_list_parse(const char *xml, size_t len, struct s3_list *l, char *err,
    size_t errlen)
{
	const char *end = xml + len, *pos, *c;
	char key[S3_KEY_MAX + 1], word[16];
	size_t page = 0;
	int r;

	l->truncated = false;
	l->next[0] = '\0';
	if ((pos = memmem(xml, len, "<ListBucketResult", 17)) == NULL) {
		char e[512];

		s3_error_text(xml, len, e, sizeof(e));
		snprintf(err, errlen, "the listing: no ListBucketResult: %s",
		    e);
		return -1;
	}
	/* Each <Contents> holds one <Key>; CommonPrefixes hold none. */
	while ((c = memmem(pos, (size_t)(end - pos), "<Contents>", 10)) !=
	    NULL) {
		char **grown;

		const char *ce;

		pos = c + 10;
		ce = memmem(pos, (size_t)(end - pos), "</Contents>", 11);
		if (ce == NULL || (r = element(xml, ce, &pos, "Key", key,
		    sizeof(key))) != 1 || key[0] == '\0') {
			snprintf(err, errlen, "the listing: a Contents without "
			    "a good Key");
			return -1;
		}
		pos = ce + 11;
		if (++page > S3_LIST_PAGE_MAX) {
			snprintf(err, errlen, "the listing: more than %d keys "
			    "in a page", S3_LIST_PAGE_MAX);
			return -1;
		}
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 64;

			if ((grown = realloc(l->keys, cap * sizeof(*grown))) ==
			    NULL)
				goto oom;
			l->keys = grown;
			l->cap = cap;
		}
		if ((l->keys[l->n] = strdup(key)) == NULL)
			goto oom;
		l->n++;
	}
	pos = xml;
	r = element(xml, end, &pos, "IsTruncated", word, sizeof(word));
	if (r == 1 && strcmp(word, "true") == 0)
		l->truncated = true;
	else if (r != 0 && (r != 1 || strcmp(word, "false") != 0)) {
		snprintf(err, errlen, "the listing: IsTruncated is not true or "
		    "false");
		return -1;
	}
	pos = xml;
	r = element(xml, end, &pos, "NextContinuationToken", l->next,
	    sizeof(l->next));
	if (r < 0 || (l->truncated && (r == 0 || l->next[0] == '\0'))) {
		snprintf(err, errlen, "the listing: %s", r < 0 ?
		    "a bad NextContinuationToken" :
		    "truncated, and no NextContinuationToken");
		return -1;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int
s3_index_version(const char *key, const char *dir, char *version,
    size_t len)
{
	size_t dl = strlen(dir), kl = strlen(key), vl;

	if (kl <= dl + 5 || strncmp(key, dir, dl) != 0 ||
	    strcmp(key + kl - 5, ".json") != 0)
		return 0;
	vl = kl - dl - 5;
	if (vl >= len)
		return 0;
	memcpy(version, key + dl, vl);
	version[vl] = '\0';
	return strcmp(version, "index") != 0 && image_version_valid(version);
}
