/*
 * s3_list.c — what rackctl publish reads of an S3-compatible store's
 * answers, which come from outside: an <Error>'s Code and Message, read
 * bounded and strict (the five XML entities and numeric references of
 * ASCII decoded, anything else refused).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "images/rackctl/rackctl.h"

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
			static const struct { const char *ent; char c; } ents[] = {
				{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
				{ "&quot;", '"' }, { "&apos;", '\'' },
			};
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
