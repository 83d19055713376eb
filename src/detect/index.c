/*
 * index.c - the candidates of Packages indexes: every stanza is read, then
 * sorted by name and architecture with the highest version first, and only
 * that one is kept per (name, architecture), as apt's candidate with every
 * source at the default priority 500.
 */
#include "detect/detect-private.h"

#include "version/version.h"

struct detect_index *detect_index_new(void)
{
	return pl_calloc(1, sizeof(struct detect_index));
}

void detect_index_free(struct detect_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->n; i++) {
		free(ix->e[i].name);
		free(ix->e[i].arch);
		free(ix->e[i].version);
		free(ix->e[i].source_version);
	}
	free(ix->e);
	free(ix);
}

size_t detect_index_count(const struct detect_index *ix)
{
	return ix->stanzas;
}

int detect_version_cmp(const char *a, const char *b)
{
	struct version_deb va, vb;

	/* both were validated when read; a rejected one sorts first */
	if (version_deb_parse(a, strlen(a), &va, NULL) < 0)
		return version_deb_parse(b, strlen(b), &vb, NULL) < 0 ? 0 : -1;
	if (version_deb_parse(b, strlen(b), &vb, NULL) < 0)
		return 1;
	return version_deb_cmp(&va, &vb);
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct detect_entry *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	if (c == 0)
		c = strcmp(a->arch, b->arch);
	if (c == 0)
		c = -detect_version_cmp(a->version, b->version); /* highest first */
	return c;
}

/* Sorts and keeps the highest version of each (name, arch). */
static void index_collapse(struct detect_index *ix)
{
	size_t w = 0;

	if (ix->n > 1)
		qsort(ix->e, ix->n, sizeof(ix->e[0]), entry_cmp);
	for (size_t i = 0; i < ix->n; i++) {
		struct detect_entry *e = &ix->e[i];

		if (w > 0 && strcmp(ix->e[w - 1].name, e->name) == 0 &&
		    strcmp(ix->e[w - 1].arch, e->arch) == 0) {
			free(e->name);
			free(e->arch);
			free(e->version);
			free(e->source_version);
			continue;
		}
		ix->e[w++] = *e;
	}
	ix->n = w;
}

static char *field_str(const struct pkgdb_stanza *st, const char *name)
{
	return pkgdb_field_dup(pkgdb_stanza_get(st, name));
}

static int version_ok(const char *v, size_t len, const char *source, size_t line, const char *what,
                      struct pl_err *err)
{
	struct version_deb d;
	const char *msg = NULL;

	if (version_deb_parse(v, len, &d, &msg) < 0)
		return pl_error(err, PL_EINVAL, "%s:%zu: invalid %s '%.*s': %s", source, line, what,
		                (int)len, v, msg);
	return 0;
}

/* The source version of a stanza: "Source: name (version)", else Version. */
static int source_version(const struct pkgdb_stanza *st, const char *version, const char *source,
                          char **out, struct pl_err *err)
{
	const struct pkgdb_field *f = pkgdb_stanza_get(st, "Source");
	const char *s, *e, *open;

	*out = NULL;
	if (!f || !(open = memchr(f->value, '(', f->value_len))) {
		if (f && (f->value_len == 0 || memchr(f->value, ' ', f->value_len) ||
		          memchr(f->value, ')', f->value_len)))
			return pl_error(err, PL_EINVAL, "%s:%zu: invalid Source '%.*s'", source,
			                f->line, (int)f->value_len, f->value);
		*out = pl_strdup(version);
		return 0;
	}
	s = open + 1;
	e = f->value + f->value_len;
	if (open == f->value || open[-1] != ' ' || e[-1] != ')')
		return pl_error(err, PL_EINVAL, "%s:%zu: invalid Source '%.*s'", source, f->line,
		                (int)f->value_len, f->value);
	e--;
	while (s < e && *s == ' ')
		s++;
	while (e > s && e[-1] == ' ')
		e--;
	if (version_ok(s, (size_t)(e - s), source, f->line, "source version", err) < 0)
		return PL_EINVAL;
	*out = pl_strndup(s, (size_t)(e - s));
	return 0;
}

static int index_stanza(struct detect_index *ix, const struct pkgdb_stanza *st, const char *source,
                        struct pl_err *err)
{
	static const char *const need[] = {"Package", "Version", "Architecture"};
	struct detect_entry e = {0};
	const struct pkgdb_field *v;

	for (size_t i = 0; i < 3; i++)
		if (!pkgdb_stanza_get(st, need[i]) || pkgdb_stanza_get(st, need[i])->value_len == 0)
			return pl_error(err, PL_EINVAL, "%s:%zu: stanza without %s", source,
			                st->line, need[i]);
	v = pkgdb_stanza_get(st, "Version");
	if (version_ok(v->value, v->value_len, source, v->line, "version", err) < 0)
		return PL_EINVAL;
	e.name = field_str(st, "Package");
	for (char *p = e.name; *p; p++) /* dpkg and apt lower-case names */
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	e.arch = field_str(st, "Architecture");
	e.version = field_str(st, "Version");
	if (source_version(st, e.version, source, &e.source_version, err) < 0) {
		free(e.name);
		free(e.arch);
		free(e.version);
		return PL_EINVAL;
	}
	if (ix->n == ix->cap) {
		ix->cap = ix->cap ? ix->cap * 2 : 1024;
		ix->e = pl_realloc(ix->e, ix->cap * sizeof(ix->e[0]));
	}
	ix->e[ix->n++] = e;
	ix->stanzas++;
	return 0;
}

int detect_index_add(struct detect_index *ix, const char *buf, size_t len, const char *source,
                     struct pl_err *err)
{
	struct pkgdb_deb822 p;
	struct pkgdb_stanza st;
	int rc;

	if (!source)
		source = "<input>";
	pkgdb_deb822_init(&p, buf, len, source);
	while ((rc = pkgdb_deb822_next(&p, &st, err)) > 0)
		if ((rc = index_stanza(ix, &st, source, err)) < 0)
			break;
	pkgdb_deb822_release(&p);
	/* what was added stays (freed with ix) but is collapsed either way */
	index_collapse(ix);
	return rc < 0 ? rc : 0;
}

int detect_index_load(struct detect_index *ix, const char *path, struct pl_err *err)
{
	PL_AUTOFREE char *buf = NULL;
	size_t len;

	if (pkgdb_file_read_any(path, PKGDB_DECOMPRESS_MAX, &buf, &len, err) < 0)
		return err ? err->code : PL_EINVAL;
	return detect_index_add(ix, buf, len, path, err);
}

const struct detect_entry *detect_index_find(const struct detect_index *ix, const char *name,
                                             const char *arch)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ix->e[mid].name, name);

		if (c == 0)
			c = strcmp(ix->e[mid].arch, arch);
		if (c == 0)
			return &ix->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
