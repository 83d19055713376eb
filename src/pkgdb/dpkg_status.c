/*
 * dpkg_status.c - the installed-package list from dpkg's status file.
 * Validation follows dpkg 1.21's own parser (lib/dpkg/parse.c, fields.c):
 * the Status words, package names, required fields, trigger states and
 * versions through version_deb_parse, so that what we accept is what dpkg
 * accepts. tests/pkgdb runs every status case through dpkg-query as well;
 * the few deliberate differences are listed in pkgdb.h.
 */
#include "pkgdb/pkgdb-private.h"
#include "version/version.h"

static const char *const want_names[] = {"unknown", "install", "hold", "deinstall", "purge"};
static const char *const eflag_names[] = {"ok", "reinstreq"};
static const char *const state_names[] = {
	"not-installed",    "config-files",     "half-installed", "unpacked",
	"half-configured",  "triggers-awaited", "triggers-pending", "installed"};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* What one stanza is checked against: its fields and where to complain. */
struct st_ctx {
	const struct pkgdb_stanza *st;
	const char *source;
	const char *name; /* NUL-terminated package name once known */
	struct pl_err *err;
};

/* Copies up to 64 bytes of s for a message, control characters as '?'. */
static const char *quote(const char *s, size_t n, char out[static 72])
{
	size_t k = n < 64 ? n : 64;

	for (size_t i = 0; i < k; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	memcpy(out + k, n > k ? "..." : "", n > k ? 4 : 1);
	return out;
}

static int field_err(const struct st_ctx *c, const struct pkgdb_field *f, const char *what)
{
	char q[72];

	return pkgdb_syntax_error(c->err, c->source, f->line, "package '%s': %s '%s'", c->name,
				  what, quote(f->value, f->value_len, q));
}

/* A field that must be one line; NULL with rc 0 when absent and optional. */
static int get_single(const struct st_ctx *c, const char *name, int required,
		      const struct pkgdb_field **out)
{
	const struct pkgdb_field *f = pkgdb_stanza_get(c->st, name);

	*out = NULL;
	if (!f || f->value_len == 0) {
		if (!required)
			return 0;
		return pkgdb_syntax_error(c->err, c->source, c->st->line,
					  "package '%s': no %s field", c->name, name);
	}
	if (f->multiline)
		return pkgdb_syntax_error(c->err, c->source, f->line,
					  "package '%s': %s must be one line", c->name, name);
	*out = f;
	return 0;
}

static int is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* dpkg's pkg_name_is_invalid and dpkg_arch_name_is_invalid: alnum first,
 * then alnum or a character of extra. */
static int name_ok(const char *s, size_t n, const char *extra)
{
	if (n == 0 || !is_alnum(s[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(s[i]) && !strchr(extra, s[i]))
			return 0;
	return 1;
}

static int version_check(const struct st_ctx *c, const struct pkgdb_field *f, const char *v,
			 size_t n)
{
	struct version_deb parsed;
	const char *msg = NULL;
	char q[72];

	if (version_deb_parse(v, n, &parsed, &msg) >= 0)
		return 0;
	return pkgdb_syntax_error(c->err, c->source, f->line, "package '%s': %s '%s': %s",
				  c->name, pkgdb_field_is(f, "Source") ? "invalid source version"
								       : "invalid version",
				  quote(v, n, q), msg);
}

/* Finds word among names[0..n); returns its index or -1. */
static int word_index(const char *w, size_t len, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len && !memcmp(names[i], w, len))
			return (int)i;
	return -1;
}

/* "want eflag status", three words separated by blanks. */
static int status_parse(const struct st_ctx *c, const struct pkgdb_field *f, struct pkgdb_pkg *pkg)
{
	const char *const *tables[] = {want_names, eflag_names, state_names};
	const size_t sizes[] = {NELEMS(want_names), NELEMS(eflag_names), NELEMS(state_names)};
	const char *p = f->value, *e = f->value + f->value_len;
	int idx[3];

	for (int w = 0; w < 3; w++) {
		const char *q;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		for (q = p; q < e && *q != ' ' && *q != '\t'; q++)
			;
		idx[w] = word_index(p, (size_t)(q - p), tables[w], sizes[w]);
		if (idx[w] < 0)
			return field_err(c, f, "invalid Status");
		p = q;
	}
	if (p != e)
		return field_err(c, f, "invalid Status");
	pkg->want = (enum pkgdb_want)idx[0];
	pkg->eflag = (enum pkgdb_eflag)idx[1];
	pkg->state = (enum pkgdb_state)idx[2];
	pkg->installed = pkg->state == PKGDB_STATE_INSTALLED;
	return 0;
}

/* "Source: name" or "Source: name (version)"; absent: the binary's own. */
static int source_parse(const struct st_ctx *c, const struct pkgdb_field *f, struct pkgdb_pkg *pkg)
{
	const char *s = f->value, *e = s + f->value_len, *sp, *v, *ve;

	sp = memchr(s, ' ', f->value_len);
	if (!sp) {
		if (!name_ok(s, f->value_len, "-+._"))
			return field_err(c, f, "invalid Source");
		pkg->source = pl_strndup(s, f->value_len);
		pkg->source_version = pkg->version ? pl_strdup(pkg->version) : NULL;
		return 0;
	}
	for (v = sp; v < e && *v == ' '; v++)
		;
	if (!name_ok(s, (size_t)(sp - s), "-+._") || v == e || *v != '(' || e[-1] != ')')
		return field_err(c, f, "invalid Source");
	for (v++, ve = e - 1; v < ve && *v == ' '; v++)
		;
	while (ve > v && ve[-1] == ' ')
		ve--;
	if (version_check(c, f, v, (size_t)(ve - v)) < 0)
		return PL_EINVAL;
	pkg->source = pl_strndup(s, (size_t)(sp - s));
	pkg->source_version = pl_strndup(v, (size_t)(ve - v));
	return 0;
}

/* dpkg only warns about a missing Architecture (packages from before dpkg
 * 1.10.19 or forced in) but refuses one that Multi-Arch: same needs. */
static int arch_parse(const struct st_ctx *c, struct pkgdb_pkg *pkg)
{
	const struct pkgdb_field *f;
	int rc;

	if ((rc = get_single(c, "Architecture", 0, &f)) < 0)
		return rc;
	if (f && !name_ok(f->value, f->value_len, "-"))
		return field_err(c, f, "invalid Architecture");
	if (f)
		pkg->arch = pl_strndup(f->value, f->value_len);
	if (pkg->multi_arch_same && !f)
		return pkgdb_syntax_error(c->err, c->source, c->st->line,
					  "package '%s': Multi-Arch: same but no Architecture",
					  c->name);
	if (pkg->multi_arch_same && !strcmp(pkg->arch, "all"))
		return field_err(c, f, "Multi-Arch: same but Architecture");
	return 0;
}

/* dpkg lets half-installed entries (an interrupted first unpack) lack it. */
static int version_parse(const struct st_ctx *c, struct pkgdb_pkg *pkg)
{
	int required = pkg->state != PKGDB_STATE_NOT_INSTALLED &&
		       pkg->state != PKGDB_STATE_HALF_INSTALLED;
	const struct pkgdb_field *f;
	int rc;

	if ((rc = get_single(c, "Version", required, &f)) < 0 || !f)
		return rc;
	if ((rc = version_check(c, f, f->value, f->value_len)) < 0)
		return rc;
	pkg->version = pl_strndup(f->value, f->value_len);
	return 0;
}

/* dpkg's pkg_parse_verify: trigger fields must agree with the state. */
static int triggers_check(const struct st_ctx *c, const struct pkgdb_pkg *pkg)
{
	const struct pkgdb_field *aw = pkgdb_stanza_get(c->st, "Triggers-Awaited");
	const struct pkgdb_field *pend = pkgdb_stanza_get(c->st, "Triggers-Pending");
	enum pkgdb_state s = pkg->state;
	const char *what = NULL;

	if (aw && (s <= PKGDB_STATE_CONFIG_FILES || s >= PKGDB_STATE_TRIGGERS_PENDING))
		what = "awaits triggers";
	else if (!aw && s == PKGDB_STATE_TRIGGERS_AWAITED)
		what = "awaits no triggers";
	else if (pend && s != PKGDB_STATE_TRIGGERS_PENDING && s != PKGDB_STATE_TRIGGERS_AWAITED)
		what = "has triggers pending";
	else if (!pend && s == PKGDB_STATE_TRIGGERS_PENDING)
		what = "has no triggers pending";
	if (!what)
		return 0;
	return pkgdb_syntax_error(c->err, c->source, c->st->line, "package '%s': status %s but %s",
				  c->name, pkgdb_state_name(s), what);
}

static int multi_arch_same(const struct pkgdb_stanza *st)
{
	const struct pkgdb_field *f = pkgdb_stanza_get(st, "Multi-Arch");

	return f && f->value_len == 4 && !memcmp(f->value, "same", 4);
}

static void pkg_clear(struct pkgdb_pkg *pkg)
{
	free(pkg->name);
	free(pkg->arch);
	free(pkg->version);
	free(pkg->source);
	free(pkg->source_version);
	memset(pkg, 0, sizeof(*pkg));
}

static int pkg_fields(struct st_ctx *c, struct pkgdb_pkg *pkg)
{
	const struct pkgdb_field *f;
	char q[72];
	int rc;

	f = pkgdb_stanza_get(c->st, "Package");
	if (!f)
		return pkgdb_syntax_error(c->err, c->source, c->st->line,
					  "stanza without a Package field");
	if (f->multiline || !name_ok(f->value, f->value_len, "-+._"))
		return pkgdb_syntax_error(c->err, c->source, f->line, "invalid package name '%s'",
					  quote(f->value, f->value_len, q));
	pkg->name = pl_strndup(f->value, f->value_len);
	for (char *ch = pkg->name; *ch; ch++) /* dpkg folds names to lower case */
		*ch = (char)(*ch >= 'A' && *ch <= 'Z' ? *ch - 'A' + 'a' : *ch);
	c->name = pkg->name;
	pkg->line = c->st->line;
	/* no Status: dpkg's default "unknown ok not-installed" */
	f = pkgdb_stanza_get(c->st, "Status");
	if (f && f->multiline)
		return field_err(c, f, "invalid Status");
	if (f && (rc = status_parse(c, f, pkg)) < 0)
		return rc;
	if ((rc = triggers_check(c, pkg)) < 0)
		return rc;
	/* purged: dropped by the caller, as dpkg-query -W does */
	if ((rc = version_parse(c, pkg)) < 0 || pkg->state == PKGDB_STATE_NOT_INSTALLED)
		return rc;
	if ((rc = arch_parse(c, pkg)) < 0 || (rc = get_single(c, "Source", 0, &f)) < 0)
		return rc;
	if (f)
		return source_parse(c, f, pkg);
	pkg->source = pl_strdup(pkg->name);
	pkg->source_version = pkg->version ? pl_strdup(pkg->version) : NULL;
	return 0;
}

/* Adds the stanza's package to l unless dpkg considers it purged. */
static int pkg_add(const struct pkgdb_stanza *st, const char *source, struct pkgdb_pkglist *l,
		   struct pl_err *err)
{
	struct st_ctx c = {st, source, "?", err};
	struct pkgdb_pkg pkg = {.multi_arch_same = multi_arch_same(st)};
	int rc;

	if ((rc = pkg_fields(&c, &pkg)) < 0 || pkg.state == PKGDB_STATE_NOT_INSTALLED) {
		pkg_clear(&pkg);
		return rc;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->pkgs = pl_realloc(l->pkgs, l->cap * sizeof(*l->pkgs));
	}
	l->pkgs[l->n++] = pkg;
	return 0;
}

/* Absent architectures sort first. */
static int arch_cmp(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int pkg_cmp(const void *pa, const void *pb)
{
	const struct pkgdb_pkg *a = pa, *b = pb;
	int r = strcmp(a->name, b->name);

	if (!r)
		r = arch_cmp(a->arch, b->arch);
	if (!r)
		r = (a->line > b->line) - (a->line < b->line);
	return r;
}

void pkgdb_pkglist_sort(struct pkgdb_pkglist *l)
{
	if (l->n > 1)
		qsort(l->pkgs, l->n, sizeof(*l->pkgs), pkg_cmp);
	l->sorted = 1;
}

/* dpkg keeps one entry per package name and architecture. */
static int pkglist_check_unique(const struct pkgdb_pkglist *l, const char *source,
				struct pl_err *err)
{
	for (size_t i = 1; i < l->n; i++) {
		const struct pkgdb_pkg *a = &l->pkgs[i - 1], *b = &l->pkgs[i];

		if (!strcmp(a->name, b->name) && !arch_cmp(a->arch, b->arch))
			return pkgdb_syntax_error(err, source, b->line,
						  "package '%s:%s' listed twice (first at line %zu)",
						  b->name, b->arch ? b->arch : "", a->line);
	}
	return 0;
}

int pkgdb_dpkg_status_parse(const char *buf, size_t len, const char *source,
			    struct pkgdb_pkglist *out, struct pl_err *err)
{
	struct pkgdb_deb822 p;
	struct pkgdb_stanza st;
	int rc;

	memset(out, 0, sizeof(*out));
	pkgdb_deb822_init(&p, buf, len, source);
	while ((rc = pkgdb_deb822_next(&p, &st, err)) > 0)
		if ((rc = pkg_add(&st, source, out, err)) < 0)
			break;
	pkgdb_deb822_release(&p);
	if (rc == 0) {
		pkgdb_pkglist_sort(out);
		rc = pkglist_check_unique(out, source, err);
	}
	if (rc < 0)
		pkgdb_pkglist_free(out);
	return rc;
}

int pkgdb_dpkg_status_load(const char *path, struct pkgdb_pkglist *out, struct pl_err *err)
{
	PL_AUTOFREE char *buf = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = pl_file_read(path, &buf, &len, err)) < 0)
		return rc;
	return pkgdb_dpkg_status_parse(buf, len, path, out, err);
}

void pkgdb_pkglist_free(struct pkgdb_pkglist *l)
{
	for (size_t i = 0; i < l->n; i++)
		pkg_clear(&l->pkgs[i]);
	free(l->pkgs);
	memset(l, 0, sizeof(*l));
}

/* Index of the first entry not before (name, arch) in a sorted list. */
static size_t lower_bound(const struct pkgdb_pkglist *l, const char *name, const char *arch,
			  int any_arch)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pkgdb_pkg *m = &l->pkgs[mid];
		int r = strcmp(m->name, name);

		if (!r && !any_arch)
			r = arch_cmp(m->arch, arch);
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int pkg_matches(const struct pkgdb_pkg *p, const char *name, const char *arch)
{
	return !strcmp(p->name, name) && (!arch || (p->arch && !strcmp(p->arch, arch)));
}

const struct pkgdb_pkg *pkgdb_pkglist_find(const struct pkgdb_pkglist *l, const char *name,
					   const char *arch)
{
	size_t i;

	if (!l->sorted) {
		for (i = 0; i < l->n; i++)
			if (pkg_matches(&l->pkgs[i], name, arch))
				return &l->pkgs[i];
		return NULL;
	}
	i = lower_bound(l, name, arch, arch == NULL);
	return i < l->n && pkg_matches(&l->pkgs[i], name, arch) ? &l->pkgs[i] : NULL;
}

const struct pkgdb_pkg *pkgdb_pkglist_find_all(const struct pkgdb_pkglist *l, const char *name,
					       size_t *count)
{
	size_t i, j;

	*count = 0;
	if (!l->sorted)
		return NULL;
	i = lower_bound(l, name, NULL, 1);
	for (j = i; j < l->n && !strcmp(l->pkgs[j].name, name); j++)
		;
	*count = j - i;
	return j > i ? &l->pkgs[i] : NULL;
}

const char *pkgdb_state_name(enum pkgdb_state s)
{
	return (size_t)s < NELEMS(state_names) ? state_names[s] : "?";
}

const char *pkgdb_want_name(enum pkgdb_want w)
{
	return (size_t)w < NELEMS(want_names) ? want_names[w] : "?";
}

const char *pkgdb_eflag_name(enum pkgdb_eflag e)
{
	return (size_t)e < NELEMS(eflag_names) ? eflag_names[e] : "?";
}
