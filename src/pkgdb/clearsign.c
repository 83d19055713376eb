/*
 * clearsign.c - cutting the signed text out of a clearsigned InRelease.
 * Nothing here verifies a signature. The checks are strict for another
 * reason: whatever we return must be exactly what gpgv checked, so text
 * that gpgv would skip (before the message, after the signature, a second
 * message) is refused rather than silently dropped or kept.
 */
#include "pkgdb/pkgdb-private.h"

#define BEGIN_MSG "-----BEGIN PGP SIGNED MESSAGE-----"
#define BEGIN_SIG "-----BEGIN PGP SIGNATURE-----"
#define END_SIG   "-----END PGP SIGNATURE-----"

enum part { PART_BEFORE, PART_HEADERS, PART_BODY, PART_SIGNATURE, PART_AFTER };

struct cs {
	const char *pos, *end, *source;
	size_t lineno;
	enum part part;
	struct pl_buf out;
};

/* The next line without its line end (one '\r' dropped); 0 at the end. */
static int cs_line(struct cs *c, const char **s, size_t *len)
{
	const char *nl;

	if (c->pos >= c->end)
		return 0;
	nl = memchr(c->pos, '\n', (size_t)(c->end - c->pos));
	*s = c->pos;
	*len = (size_t)((nl ? nl : c->end) - c->pos);
	if (*len > 0 && c->pos[*len - 1] == '\r')
		(*len)--;
	c->pos = nl ? nl + 1 : c->end;
	c->lineno++;
	return 1;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* An armor line, allowing the trailing blanks that gpg ignores. */
static int armor_is(const char *s, size_t n, const char *marker)
{
	size_t m = strlen(marker);

	return n >= m && !memcmp(s, marker, m) && blank(s + m, n - m);
}

static int cs_body_line(struct cs *c, const char *s, size_t n, struct pl_err *err)
{
	if (armor_is(s, n, BEGIN_SIG)) {
		c->part = PART_SIGNATURE;
		return 0;
	}
	if (n > 0 && s[0] == '-') {
		if (n < 2 || s[1] != ' ')
			return pkgdb_syntax_error(err, c->source, c->lineno,
						  "line starts with '-' but is not dash-escaped");
		s += 2;
		n -= 2;
	}
	pl_buf_add(&c->out, s, n);
	pl_buf_addc(&c->out, '\n');
	return 0;
}

static int cs_step(struct cs *c, const char *s, size_t n, struct pl_err *err)
{
	switch (c->part) {
	case PART_BEFORE:
		if (armor_is(s, n, BEGIN_MSG))
			c->part = PART_HEADERS;
		else if (!blank(s, n))
			return pkgdb_syntax_error(err, c->source, c->lineno,
						  "text before '" BEGIN_MSG "'");
		return 0;
	case PART_HEADERS:
		if (blank(s, n))
			c->part = PART_BODY;
		else if (!memchr(s, ':', n))
			return pkgdb_syntax_error(err, c->source, c->lineno,
						  "armor header without ':'");
		return 0;
	case PART_BODY:
		return cs_body_line(c, s, n, err);
	case PART_SIGNATURE:
		if (armor_is(s, n, END_SIG))
			c->part = PART_AFTER;
		return 0;
	case PART_AFTER:
		if (!blank(s, n))
			return pkgdb_syntax_error(err, c->source, c->lineno,
						  "text after '" END_SIG "'");
		return 0;
	}
	return pl_error(err, PL_EINTERNAL, "clearsign: bad state");
}

static int cs_unfinished(const struct cs *c, struct pl_err *err)
{
	static const char *const missing[] = {
		[PART_BEFORE] = "no '" BEGIN_MSG "' line",
		[PART_HEADERS] = "no blank line after the armor headers",
		[PART_BODY] = "no '" BEGIN_SIG "' line",
		[PART_SIGNATURE] = "no '" END_SIG "' line",
	};

	return pkgdb_syntax_error(err, c->source, c->lineno, "%s", missing[c->part]);
}

int pkgdb_clearsign_body(const char *buf, size_t len, const char *source, char **out,
			 size_t *out_len, struct pl_err *err)
{
	struct cs c = {buf, buf + len, source, 0, PART_BEFORE, PL_BUF_INIT};
	const char *s, *nul = memchr(buf, '\0', len);
	size_t n;
	int rc = 0;

	*out = NULL;
	if (nul) {
		for (const char *q = buf; q < nul; q++)
			c.lineno += *q == '\n';
		return pkgdb_syntax_error(err, source, c.lineno + 1, "NUL byte");
	}
	while (rc == 0 && cs_line(&c, &s, &n))
		rc = cs_step(&c, s, n, err);
	if (rc == 0 && c.part != PART_AFTER)
		rc = cs_unfinished(&c, err);
	if (rc < 0) {
		pl_buf_release(&c.out);
		return rc;
	}
	pl_buf_add(&c.out, "", 0); /* NUL-terminated even when empty */
	if (out_len)
		*out_len = c.out.len;
	*out = pl_buf_detach(&c.out);
	return 0;
}
