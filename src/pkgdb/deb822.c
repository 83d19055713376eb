/*
 * deb822.c - the streaming deb822 parser (see pkgdb.h for the accepted
 * syntax). One pass over the input: memchr finds each line end, a
 * word-at-a-time loop checks the line for NUL and non-UTF-8 bytes, and
 * fields point into the input. Only values with continuation lines are
 * copied, into one scratch buffer reused for every stanza.
 */
#include "pkgdb/pkgdb-private.h"

#include <stdint.h>

#define ASCII_HIGH 0x8080808080808080ULL
#define ASCII_ONES 0x0101010101010101ULL

/* One physical line, without its line end. */
struct line {
	const char *s;
	size_t len;
};

int pkgdb_syntax_error(struct pl_err *err, const char *source, size_t line, const char *fmt, ...)
{
	PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	pl_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return pl_error(err, PL_EINVAL, "%s:%zu: %s", source ? source : "<input>", line,
			pl_buf_str(&b));
}

/* Length of the prefix of s[0..n) that is ASCII without NUL, 8 bytes a step. */
static size_t ascii_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		/* a high bit set, or a zero byte (the classic haszero test) */
		if ((w & ASCII_HIGH) || ((w - ASCII_ONES) & ~w & ASCII_HIGH))
			break;
	}
	while (i < n && s[i] != 0 && s[i] < 0x80)
		i++;
	return i;
}

/* Length of the valid UTF-8 sequence at s[0..n) (s[0] >= 0x80), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t need, k;

	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		need = 1;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		need = 2;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		need = 3;
	else
		return 0; /* a stray continuation byte, an overlong lead, or > U+10FFFF */
	/* second-byte limits that exclude overlongs, surrogates and > U+10FFFF */
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (n <= need || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k <= need; k++)
		if (s[k] < 0x80 || s[k] > 0xBF)
			return 0;
	return need + 1;
}

size_t pkgdb_text_check(const char *text, size_t n, const char **what)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, k;

	while (i < n) {
		i += ascii_prefix(s + i, n - i);
		if (i == n)
			break;
		if (s[i] == 0) {
			*what = "NUL byte";
			return i;
		}
		k = utf8_seq(s + i, n - i);
		if (!k) {
			*what = "invalid UTF-8 sequence";
			return i;
		}
		i += k;
	}
	return n;
}

/* Reads the next line: 1, 0 at the end, or an error for a bad line. */
static int line_next(struct pkgdb_deb822 *p, struct line *ln, struct pl_err *err)
{
	const char *nl, *what = NULL;
	size_t len, bad;

	if (p->pos >= p->end)
		return 0;
	nl = memchr(p->pos, '\n', (size_t)(p->end - p->pos));
	len = (size_t)((nl ? nl : p->end) - p->pos);
	p->lineno++;
	if (len > 0 && p->pos[len - 1] == '\r')
		len--;
	if (len > PKGDB_LINE_MAX)
		return pkgdb_syntax_error(err, p->source, p->lineno,
					  "line longer than %zu bytes (%zu)", PKGDB_LINE_MAX, len);
	bad = pkgdb_text_check(p->pos, len, &what);
	if (bad < len)
		return pkgdb_syntax_error(err, p->source, p->lineno, "%s at column %zu", what,
					  bad + 1);
	ln->s = p->pos;
	ln->len = len;
	p->pos = nl ? nl + 1 : p->end;
	return 1;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A line of nothing but spaces and tabs separates stanzas. */
static int line_is_blank(const struct line *ln)
{
	for (size_t i = 0; i < ln->len; i++)
		if (!is_blank(ln->s[i]))
			return 0;
	return 1;
}

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* FNV-1a of the lower-cased name. */
static unsigned name_hash(const char *s, size_t n)
{
	unsigned h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ ascii_lower((unsigned char)s[i])) * 16777619u;
	return h;
}

static int names_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* Policy 5.1: printable US-ASCII but ':', not starting with '#' or '-'. */
static int name_check(struct pkgdb_deb822 *p, const char *s, size_t n, struct pl_err *err)
{
	if (n == 0)
		return pkgdb_syntax_error(err, p->source, p->lineno, "empty field name");
	if (s[0] == '#' || s[0] == '-')
		return pkgdb_syntax_error(err, p->source, p->lineno, "field name starts with '%c'",
					  s[0]);
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7E)
			return pkgdb_syntax_error(err, p->source, p->lineno,
						  "invalid character in field name at column %zu",
						  i + 1);
	return 0;
}

static void fields_reserve(struct pkgdb_deb822 *p)
{
	if (p->nfields < p->cap)
		return;
	p->cap = p->cap ? p->cap * 2 : 32;
	p->fields = pl_realloc(p->fields, p->cap * sizeof(*p->fields));
	p->scratch_off = pl_realloc(p->scratch_off, p->cap * sizeof(*p->scratch_off));
}

static int field_check_repeat(struct pkgdb_deb822 *p, const struct pkgdb_field *f,
			      struct pl_err *err)
{
	for (size_t i = 0; i < p->nfields; i++) {
		const struct pkgdb_field *g = &p->fields[i];

		if (g->hash == f->hash && names_equal(g->name, g->name_len, f->name, f->name_len))
			return pkgdb_syntax_error(err, p->source, p->lineno,
						  "field '%.*s' repeated (first at line %zu)",
						  (int)f->name_len, f->name, g->line);
	}
	return 0;
}

static int clearsigned(const struct line *ln)
{
	static const char begin[] = "-----BEGIN PGP SIGNED MESSAGE-----";

	return ln->len >= sizeof(begin) - 1 && !memcmp(ln->s, begin, sizeof(begin) - 1);
}

/* "Name: value" starts a new field. */
static int field_start(struct pkgdb_deb822 *p, const struct line *ln, struct pl_err *err)
{
	const char *colon = memchr(ln->s, ':', ln->len);
	const char *v, *e = ln->s + ln->len;
	struct pkgdb_field f = {0};
	int rc;

	if (!colon && clearsigned(ln))
		return pkgdb_syntax_error(err, p->source, p->lineno,
					  "PGP clearsigned input (extract the signed body first)");
	if (!colon && ln->s[0] == '#')
		return pkgdb_syntax_error(err, p->source, p->lineno,
					  "comment line (allowed only in debian/control)");
	if (!colon)
		return pkgdb_syntax_error(err, p->source, p->lineno,
					  "line without ':' (expected 'Name: value')");
	f.name = ln->s;
	f.name_len = (size_t)(colon - ln->s);
	if ((rc = name_check(p, f.name, f.name_len, err)) < 0)
		return rc;
	f.hash = name_hash(f.name, f.name_len);
	if ((rc = field_check_repeat(p, &f, err)) < 0)
		return rc;
	for (v = colon + 1; v < e && is_blank(*v); v++)
		;
	while (e > v && is_blank(e[-1]))
		e--;
	f.value = v;
	f.value_len = (size_t)(e - v);
	f.line = p->lineno;
	fields_reserve(p);
	p->fields[p->nfields++] = f;
	p->cur_lines = f.value_len ? 1 : 0;
	return 0;
}

/* A continuation line: appended to the last field's value in scratch. */
static int field_continue(struct pkgdb_deb822 *p, const struct line *ln, struct pl_err *err)
{
	struct pkgdb_field *f;
	const char *s = ln->s + 1;
	size_t n = ln->len - 1;

	if (p->nfields == 0)
		return pkgdb_syntax_error(err, p->source, p->lineno,
					  "continuation line before any field");
	f = &p->fields[p->nfields - 1];
	if (!f->multiline) {
		p->scratch_off[p->nfields - 1] = p->scratch.len;
		pl_buf_add(&p->scratch, f->value, f->value_len);
		f->multiline = 1;
	}
	while (n > 0 && is_blank(s[n - 1]))
		n--;
	if (n == 1 && s[0] == '.')
		n = 0;
	if (p->cur_lines++ > 0)
		pl_buf_addc(&p->scratch, '\n');
	pl_buf_add(&p->scratch, s, n);
	f->value_len = p->scratch.len - p->scratch_off[p->nfields - 1];
	return 0;
}

/* Points joined values into scratch, now that it no longer moves. */
static void stanza_finish(struct pkgdb_deb822 *p, struct pkgdb_stanza *out)
{
	for (size_t i = 0; i < p->nfields; i++)
		if (p->fields[i].multiline)
			p->fields[i].value = p->scratch.s + p->scratch_off[i];
	out->fields = p->fields;
	out->nfields = p->nfields;
	out->line = p->nfields ? p->fields[0].line : 0;
}

void pkgdb_deb822_init(struct pkgdb_deb822 *p, const char *buf, size_t len, const char *source)
{
	memset(p, 0, sizeof(*p));
	p->source = source;
	p->pos = buf;
	p->end = buf + len;
}

static int stanza_read(struct pkgdb_deb822 *p, struct pl_err *err)
{
	struct line ln = {NULL, 0};
	int rc;

	while ((rc = line_next(p, &ln, err)) > 0) {
		if (ln.len == 0 || (is_blank(ln.s[0]) && line_is_blank(&ln))) {
			if (p->nfields > 0)
				break;
			continue;
		}
		if (p->comments && ln.s[0] == '#')
			continue; /* apt's .sources: a comment line is ignored */
		if (is_blank(ln.s[0]))
			rc = field_continue(p, &ln, err);
		else
			rc = field_start(p, &ln, err);
		if (rc < 0)
			return rc;
	}
	return rc < 0 ? rc : 0;
}

int pkgdb_deb822_next(struct pkgdb_deb822 *p, struct pkgdb_stanza *out, struct pl_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (p->failed)
		return pkgdb_syntax_error(err, p->source, p->lineno,
					  "parsing stopped at an earlier error");
	p->nfields = 0;
	p->cur_lines = 0;
	pl_buf_reset(&p->scratch);
	if ((rc = stanza_read(p, err)) < 0) {
		p->failed = 1;
		return rc;
	}
	if (p->nfields == 0)
		return 0;
	stanza_finish(p, out);
	return 1;
}

void pkgdb_deb822_allow_comments(struct pkgdb_deb822 *p)
{
	p->comments = 1;
}

void pkgdb_deb822_release(struct pkgdb_deb822 *p)
{
	free(p->fields);
	free(p->scratch_off);
	pl_buf_release(&p->scratch);
	memset(p, 0, sizeof(*p));
}

int pkgdb_field_is(const struct pkgdb_field *f, const char *name)
{
	return names_equal(f->name, f->name_len, name, strlen(name));
}

const struct pkgdb_field *pkgdb_stanza_get(const struct pkgdb_stanza *s, const char *name)
{
	size_t n = strlen(name);
	unsigned h = name_hash(name, n);

	for (size_t i = 0; i < s->nfields; i++) {
		const struct pkgdb_field *f = &s->fields[i];

		if (f->hash == h && names_equal(f->name, f->name_len, name, n))
			return f;
	}
	return NULL;
}

char *pkgdb_field_dup(const struct pkgdb_field *f)
{
	return f ? pl_strndup(f->value, f->value_len) : NULL;
}
