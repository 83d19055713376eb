/*
 * release.c - the fields of a Release file that a sync trusts: Date,
 * Valid-Until, Suite and Codename, Architectures, Components and the
 * SHA256 list. Parsed only from text gpgv verified. Strict: a field sync
 * relies on that is missing or malformed refuses the whole file, naming
 * the line and the field.
 */
#include "repo.h"

#include <ctype.h>
#include <strings.h>
#include <time.h>

#include "pkgdb/pkgdb.h"

/* ---- dates ------------------------------------------------------------ */

/* Reads exactly n digits at *p into *v, advancing *p. */
static int date_digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

static int date_month(const char *s)
{
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

	for (int i = 0; i < 12; i++)
		if (strncmp(s, months[i], 3) == 0)
			return i;
	return -1;
}

/* The zone at p: seconds east of UTC, or -1 on a bad zone. */
static int date_zone(const char *p, long *off)
{
	int hh, mm;

	*off = 0;
	if (strcmp(p, "UTC") == 0 || strcmp(p, "GMT") == 0 || strcmp(p, "UT") == 0 ||
	    strcmp(p, "Z") == 0)
		return 0;
	if ((p[0] != '+' && p[0] != '-') || strlen(p) != 5)
		return -1;
	{
		const char *q = p + 1;

		if (date_digits(&q, 2, &hh) < 0 || date_digits(&q, 2, &mm) < 0 || hh > 23 ||
		    mm > 59)
			return -1;
	}
	*off = (long)(hh * 3600 + mm * 60) * (p[0] == '-' ? -1 : 1);
	return 0;
}

int repo_date_parse(const char *s, int64_t *out)
{
	const char *p = s;
	struct tm tm, back;
	int day, year, hh, mm, ss, mon;
	long off;
	time_t t;

	/* an optional weekday: "Sat, " */
	if (isalpha((unsigned char)p[0]) && isalpha((unsigned char)p[1]) &&
	    isalpha((unsigned char)p[2]) && p[3] == ',' && p[4] == ' ')
		p += 5;
	if (!isdigit((unsigned char)p[0]) ||
	    date_digits(&p, isdigit((unsigned char)p[1]) ? 2 : 1, &day) < 0 || *p++ != ' ')
		return -1;
	if (strlen(p) < 4 || (mon = date_month(p)) < 0 || p[3] != ' ')
		return -1;
	p += 4;
	if (date_digits(&p, 4, &year) < 0 || *p++ != ' ' || date_digits(&p, 2, &hh) < 0 ||
	    *p++ != ':' || date_digits(&p, 2, &mm) < 0 || *p++ != ':' ||
	    date_digits(&p, 2, &ss) < 0 || *p++ != ' ' || date_zone(p, &off) < 0)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	t = timegm(&tm);
	/* timegm normalises 31 Feb into March: a round trip catches it */
	if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != day || back.tm_mon != mon ||
	    back.tm_hour != hh || back.tm_min != mm || back.tm_sec != ss)
		return -1;
	*out = (int64_t)t - off;
	return 0;
}

/* ---- parsing ---------------------------------------------------------- */

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Splits a field value on blanks and newlines; never NULL. */
static char **field_words(const struct pkgdb_field *f)
{
	size_t n = f ? f->value_len : 0, k = 0, i = 0;
	char **v = pl_calloc(n / 2 + 2, sizeof(*v));

	while (f && i < n) {
		size_t j;

		while (i < n && strchr(" \t\n", f->value[i]))
			i++;
		for (j = i; j < n && !strchr(" \t\n", f->value[j]); j++)
			;
		if (j > i)
			v[k++] = pl_strndup(f->value + i, j - i);
		i = j;
	}
	return v;
}

void repo_release_free(struct repo_release *r)
{
	free(r->origin);
	free(r->label);
	free(r->suite);
	free(r->codename);
	strv_free(r->architectures);
	strv_free(r->components);
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i].name);
	free(r->files);
	memset(r, 0, sizeof(*r));
}

/* A one-word field (Suite, Codename): NULL when absent. */
static int field_word(const struct pkgdb_stanza *s, const char *name, const char *source,
                      char **out, struct pl_err *err)
{
	const struct pkgdb_field *f = pkgdb_stanza_get(s, name);

	*out = NULL;
	if (!f)
		return 0;
	if (f->value_len == 0 || memchr(f->value, ' ', f->value_len) ||
	    memchr(f->value, '\t', f->value_len) || memchr(f->value, '\n', f->value_len))
		return pl_error(err, PL_EINVAL, "%s:%zu: %s: expected one word", source, f->line,
		                name);
	*out = pkgdb_field_dup(f);
	return 0;
}

static int field_date(const struct pkgdb_stanza *s, const char *name, int required,
                      const char *source, int64_t *out, struct pl_err *err)
{
	const struct pkgdb_field *f = pkgdb_stanza_get(s, name);
	PL_AUTOFREE char *v = NULL;

	*out = 0;
	if (!f)
		return required
		           ? pl_error(err, PL_EINVAL, "%s:%zu: no %s field", source, s->line, name)
		           : 0;
	v = pkgdb_field_dup(f);
	if (repo_date_parse(v, out) < 0)
		return pl_error(
		    err, PL_EINVAL,
		    "%s:%zu: %s: '%.60s' is not a date like 'Sat, 28 Nov 2026 09:08:20 UTC'",
		    source, f->line, name, v);
	return 0;
}

/* A name in the SHA256 list: relative, no ".." segment, no blanks. */
static int file_name_ok(const char *s, size_t n)
{
	size_t seg = 0;

	if (n == 0 || s[0] == '/')
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (i - seg == 2 && s[seg] == '.' && s[seg + 1] == '.')
				return 0;
			seg = i + 1;
		} else if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f) {
			return 0;
		}
	}
	return 1;
}

/* One "HASH SIZE NAME" line of the SHA256 list. */
static int sha_line(struct repo_release *r, const char *s, size_t n, const char *source,
                    size_t line, struct pl_err *err)
{
	const char *w[4];
	size_t wl[4], k = 0, i = 0;
	struct repo_release_file *f;
	PL_AUTOFREE char *size = NULL;

	while (i < n && k < 4) {
		size_t j;

		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		for (j = i; j < n && s[j] != ' ' && s[j] != '\t'; j++)
			;
		if (j > i) {
			w[k] = s + i;
			wl[k++] = j - i;
		}
		i = j;
	}
	if (k != 3)
		return pl_error(err, PL_EINVAL, "%s:%zu: SHA256: expected 'HASH SIZE NAME'", source,
		                line);
	if (wl[0] != 64 || strspn(w[0], "0123456789abcdefABCDEF") < 64)
		return pl_error(err, PL_EINVAL, "%s:%zu: SHA256: '%.*s' is not a SHA-256 in hex",
		                source, line, (int)(wl[0] > 80 ? 80 : wl[0]), w[0]);
	if (!file_name_ok(w[2], wl[2]))
		return pl_error(err, PL_EINVAL,
		                "%s:%zu: SHA256: '%.*s' is not a relative file name", source, line,
		                (int)(wl[2] > 200 ? 200 : wl[2]), w[2]);
	r->files = pl_realloc(r->files, (r->nfiles + 1) * sizeof(*r->files));
	f = &r->files[r->nfiles];
	memset(f, 0, sizeof(*f));
	size = pl_strndup(w[1], wl[1]);
	if (pl_parse_u64(size, UINT64_MAX, &f->size, "size", err) < 0)
		return pl_error_prefix(err, "%s:%zu: SHA256", source, line);
	for (size_t c = 0; c < 64; c++)
		f->sha256[c] = (char)tolower((unsigned char)w[0][c]);
	f->name = pl_strndup(w[2], wl[2]);
	r->nfiles++;
	for (size_t c = 0; c + 1 < r->nfiles; c++)
		if (strcmp(r->files[c].name, f->name) == 0)
			return pl_error(err, PL_EINVAL, "%s:%zu: SHA256: '%s' is listed twice",
			                source, line, f->name);
	return 0;
}

/* The line of the field's first list entry: the next one when the field's
 * own line is blank after the colon (as Debian writes it). */
static size_t list_first_line(const struct pkgdb_field *f, const char *end)
{
	const char *p = f->name + f->name_len + 1;

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p < end && *p != '\n' ? f->line : f->line + 1;
}

static int sha_list(struct repo_release *r, const struct pkgdb_stanza *s, const char *buf,
                    size_t len, const char *source, struct pl_err *err)
{
	const struct pkgdb_field *f = pkgdb_stanza_get(s, "SHA256");
	size_t line, i = 0;

	if (!f) {
		if (pkgdb_stanza_get(s, "MD5Sum") || pkgdb_stanza_get(s, "SHA1"))
			return pl_error(err, PL_EINVAL,
			                "%s:%zu: no SHA256 field (MD5Sum and SHA1 are not trusted)",
			                source, s->line);
		return pl_error(err, PL_EINVAL, "%s:%zu: no SHA256 field", source, s->line);
	}
	line = list_first_line(f, buf + len);
	while (i < f->value_len) {
		const char *nl = memchr(f->value + i, '\n', f->value_len - i);
		size_t n = nl ? (size_t)(nl - (f->value + i)) : f->value_len - i;

		if (n > 0 && sha_line(r, f->value + i, n, source, line, err) < 0)
			return PL_EINVAL;
		i += n + 1;
		line++;
	}
	if (r->nfiles == 0)
		return pl_error(err, PL_EINVAL, "%s:%zu: SHA256: the list is empty", source,
		                f->line);
	return 0;
}

static int release_stanza(struct repo_release *r, const struct pkgdb_stanza *s, const char *buf,
                          size_t len, const char *source, struct pl_err *err)
{
	const struct pkgdb_field *abh = pkgdb_stanza_get(s, "Acquire-By-Hash");

	if (field_word(s, "Suite", source, &r->suite, err) < 0 ||
	    field_word(s, "Codename", source, &r->codename, err) < 0)
		return PL_EINVAL;
	if (!r->suite && !r->codename)
		return pl_error(err, PL_EINVAL, "%s:%zu: neither Suite nor Codename", source,
		                s->line);
	r->origin = pkgdb_field_dup(pkgdb_stanza_get(s, "Origin"));
	r->label = pkgdb_field_dup(pkgdb_stanza_get(s, "Label"));
	r->architectures = field_words(pkgdb_stanza_get(s, "Architectures"));
	r->components = field_words(pkgdb_stanza_get(s, "Components"));
	r->acquire_by_hash = abh && abh->value_len == 3 && strncasecmp(abh->value, "yes", 3) == 0;
	if (field_date(s, "Date", 1, source, &r->date, err) < 0 ||
	    field_date(s, "Valid-Until", 0, source, &r->valid_until, err) < 0)
		return PL_EINVAL;
	return sha_list(r, s, buf, len, source, err);
}

int repo_release_parse(const char *buf, size_t len, const char *source, struct repo_release *out,
                       struct pl_err *err)
{
	struct pkgdb_deb822 p;
	struct pkgdb_stanza s;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!source)
		source = "<Release>";
	pkgdb_deb822_init(&p, buf, len, source);
	rc = pkgdb_deb822_next(&p, &s, err);
	if (rc == 0)
		rc = pl_error(err, PL_EINVAL, "%s: empty Release file", source);
	if (rc > 0)
		rc = release_stanza(out, &s, buf, len, source, err);
	if (rc >= 0) {
		size_t line = s.line;

		rc = pkgdb_deb822_next(&p, &s, err);
		if (rc > 0)
			rc = pl_error(err, PL_EINVAL,
			              "%s:%zu: a second stanza (the Release of line %zu ended)",
			              source, s.line, line);
	}
	pkgdb_deb822_release(&p);
	if (rc < 0) {
		repo_release_free(out);
		return rc;
	}
	return 0;
}

/* ---- checks ----------------------------------------------------------- */

int repo_release_check(const struct repo_release *r, const char *suite, int64_t now,
                       int64_t not_before, const char *source, struct pl_err *err)
{
	char a[21], b[21];

	if (!(r->suite && strcmp(r->suite, suite) == 0) &&
	    !(r->codename && strcmp(r->codename, suite) == 0))
		return pl_error(err, PL_EINVAL,
		                "%s: Suite '%s' and Codename '%s' are not '%s': the Release of "
		                "another suite",
		                source, r->suite ? r->suite : "", r->codename ? r->codename : "",
		                suite);
	pl_time_iso(r->date, a);
	pl_time_iso(now, b);
	if (r->date > now + 600)
		return pl_error(err, PL_EINVAL, "%s: Date: %s is in the future (now %s)", source, a,
		                b);
	if (r->valid_until && now > r->valid_until) {
		pl_time_iso(r->valid_until, a);
		return pl_error(err, PL_EINVAL,
		                "%s: Valid-Until: %s has passed (now %s): the Release expired",
		                source, a, b);
	}
	if (not_before && r->date < not_before) {
		pl_time_iso(not_before, b);
		return pl_error(err, PL_EINVAL,
		                "%s: Date: %s is older than the synced Release's %s (a replay?)",
		                source, a, b);
	}
	return 0;
}

static const struct repo_release_file *release_find(const struct repo_release *r, const char *name)
{
	for (size_t i = 0; i < r->nfiles; i++)
		if (strcmp(r->files[i].name, name) == 0)
			return &r->files[i];
	return NULL;
}

static int strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* The Components entry for component: itself, or "updates/main" for "main". */
static const char *release_component(const struct repo_release *r, const char *component)
{
	size_t n = strlen(component);

	for (size_t i = 0; r->components[i]; i++) {
		size_t m = strlen(r->components[i]);

		if (strcmp(r->components[i], component) == 0)
			return r->components[i];
		if (m > n && r->components[i][m - n - 1] == '/' &&
		    strcmp(r->components[i] + m - n, component) == 0)
			return r->components[i];
	}
	return NULL;
}

int repo_release_packages(const struct repo_release *r, const char *component, const char *arch,
                          const char *source, const struct repo_release_file **out,
                          struct pl_err *err)
{
	static const char *const exts[] = {".xz", ".gz", ""};
	const char *entry = component;

	*out = NULL;
	if (r->architectures[0] && !strv_has(r->architectures, arch) && strcmp(arch, "all") != 0)
		return pl_error(err, PL_EINVAL, "%s: Architectures does not list '%s'", source,
		                arch);
	if (r->components[0] && !(entry = release_component(r, component)))
		return pl_error(err, PL_EINVAL, "%s: Components does not list '%s'", source,
		                component);
	/* "updates/main" files are listed as main/... today, and were as
	 * updates/main/... before: try the entry, then the bare component */
	for (int pass = 0; pass < 2; pass++) {
		const char *prefix = pass == 0 ? entry : component;

		if (pass == 1 && strcmp(entry, component) == 0)
			break;
		for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
			PL_AUTOFREE char *name =
			    pl_strdupf("%s/binary-%s/Packages%s", prefix, arch, exts[i]);

			if ((*out = release_find(r, name)) != NULL)
				return 0;
		}
	}
	return pl_error(err, PL_EINVAL, "%s: SHA256 lists no %s/binary-%s/Packages index", source,
	                component, arch);
}
