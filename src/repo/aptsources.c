/* aptsources.c - the system's apt sources, deb822 and one-line formats. */
#include "repo.h"

#include <dirent.h>

#include "pkgdb/pkgdb.h"

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Splits s[0..n) on blanks (and newlines) into a NULL-terminated vector. */
static char **strv_split(const char *s, size_t n)
{
	char **v = pl_calloc(n / 2 + 2, sizeof(*v));
	size_t k = 0, i = 0;

	while (i < n) {
		size_t j;

		while (i < n && strchr(" \t\n", s[i]))
			i++;
		for (j = i; j < n && !strchr(" \t\n", s[j]); j++)
			;
		if (j > i)
			v[k++] = pl_strndup(s + i, j - i);
		i = j;
	}
	return v;
}

void repo_source_list_free(struct repo_source_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct repo_source *r = &l->v[i];

		strv_free(r->uris);
		strv_free(r->suites);
		strv_free(r->components);
		free(r->signed_by);
		free(r->file);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static struct repo_source *sources_add(struct repo_source_list *l, const char *file, size_t line)
{
	struct repo_source *r;

	l->v = pl_realloc(l->v, (l->n + 1) * sizeof(*l->v));
	r = &l->v[l->n++];
	memset(r, 0, sizeof(*r));
	r->file = pl_strdup(file);
	r->line = line;
	return r;
}

static int field_is_no(const struct pkgdb_field *f)
{
	return f && f->value_len == 2 && strncasecmp(f->value, "no", 2) == 0;
}

/* One deb822 stanza of a .sources file. */
static int sources_stanza(struct repo_source_list *l, const char *file,
			  const struct pkgdb_stanza *s, struct pl_err *err)
{
	const struct pkgdb_field *types = pkgdb_stanza_get(s, "Types");
	const struct pkgdb_field *uris = pkgdb_stanza_get(s, "URIs");
	const struct pkgdb_field *suites = pkgdb_stanza_get(s, "Suites");
	const struct pkgdb_field *comps = pkgdb_stanza_get(s, "Components");
	struct repo_source *r;
	char **tv;

	if (field_is_no(pkgdb_stanza_get(s, "Enabled")))
		return 0;
	if (!types || !uris || !suites)
		return pl_error(err, PL_EINVAL, "%s:%zu: a source needs Types, URIs and Suites",
				file, s->line);
	r = sources_add(l, file, s->line);
	tv = strv_split(types->value, types->value_len);
	for (size_t i = 0; tv[i]; i++) {
		r->deb |= strcmp(tv[i], "deb") == 0;
		r->deb_src |= strcmp(tv[i], "deb-src") == 0;
	}
	strv_free(tv);
	r->uris = strv_split(uris->value, uris->value_len);
	r->suites = strv_split(suites->value, suites->value_len);
	r->components = comps ? strv_split(comps->value, comps->value_len) : pl_calloc(1, sizeof(char *));
	r->signed_by = pkgdb_field_dup(pkgdb_stanza_get(s, "Signed-By"));
	return 0;
}

static int sources_deb822(struct repo_source_list *l, const char *file, struct pl_err *err)
{
	PL_AUTOFREE char *buf = NULL;
	struct pkgdb_deb822 p;
	struct pkgdb_stanza s;
	size_t len;
	int rc;

	if (pl_file_read(file, &buf, &len, err) < 0)
		return err->code;
	pkgdb_deb822_init(&p, buf, len, file);
	pkgdb_deb822_allow_comments(&p);
	while ((rc = pkgdb_deb822_next(&p, &s, err)) == 1)
		if (sources_stanza(l, file, &s, err) < 0) {
			rc = PL_EINVAL;
			break;
		}
	pkgdb_deb822_release(&p);
	return rc < 0 ? rc : 0;
}

/* One "deb [options] URI SUITE [COMPONENT...]" line. */
static int sources_line(struct repo_source_list *l, const char *file, size_t lineno, char *line,
			struct pl_err *err)
{
	char **w = strv_split(line, strlen(line));
	struct repo_source *r;
	size_t i = 1, n = 0;

	while (w[n])
		n++;
	if (n == 0) {
		strv_free(w);
		return 0;
	}
	if (strcmp(w[0], "deb") != 0 && strcmp(w[0], "deb-src") != 0) {
		strv_free(w);
		return pl_error(err, PL_EINVAL, "%s:%zu: expected 'deb' or 'deb-src'", file, lineno);
	}
	if (i < n && w[i][0] == '[')
		while (i < n && !strchr(w[i++], ']'))
			;
	if (n - i < 2) {
		strv_free(w);
		return pl_error(err, PL_EINVAL, "%s:%zu: expected a URI and a suite", file, lineno);
	}
	r = sources_add(l, file, lineno);
	r->deb = strcmp(w[0], "deb") == 0;
	r->deb_src = !r->deb;
	r->uris = pl_calloc(2, sizeof(char *));
	r->uris[0] = pl_strdup(w[i]);
	r->suites = pl_calloc(2, sizeof(char *));
	r->suites[0] = pl_strdup(w[i + 1]);
	r->components = pl_calloc(n - i, sizeof(char *));
	for (size_t k = i + 2; k < n; k++)
		r->components[k - i - 2] = pl_strdup(w[k]);
	strv_free(w);
	return 0;
}

static int sources_list(struct repo_source_list *l, const char *file, struct pl_err *err)
{
	PL_AUTOFREE char *buf = NULL;
	char *line;
	size_t len, lineno = 0;
	char *p;

	if (pl_file_read(file, &buf, &len, err) < 0)
		return err->code;
	for (p = buf; (line = strsep(&p, "\n")) != NULL;) {
		char *hash = strchr(line, '#');

		lineno++;
		if (hash)
			*hash = '\0';
		if (sources_line(l, file, lineno, line, err) < 0)
			return PL_EINVAL;
	}
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* apt reads sources.list.d in name order; so do we. */
static int sources_dir(struct repo_source_list *l, const char *dir, struct pl_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : pl_error(err, PL_EIO, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (!ends_with(e->d_name, ".list") && !ends_with(e->d_name, ".sources"))
			continue;
		names = pl_realloc(names, (n + 1) * sizeof(*names));
		names[n++] = pl_strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		PL_AUTOFREE char *path = pl_path_join(dir, names[i]);

		if (rc == 0)
			rc = ends_with(names[i], ".sources") ? sources_deb822(l, path, err)
							     : sources_list(l, path, err);
		free(names[i]);
	}
	free(names);
	return rc;
}

int repo_apt_sources_load(const char *root, struct repo_source_list *out, struct pl_err *err)
{
	PL_AUTOFREE char *list = pl_strdupf("%s/etc/apt/sources.list", root ? root : "");
	PL_AUTOFREE char *dir = pl_strdupf("%s/etc/apt/sources.list.d", root ? root : "");
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (pl_path_exists(list))
		rc = sources_list(out, list, err);
	if (rc == 0)
		rc = sources_dir(out, dir, err);
	if (rc < 0)
		repo_source_list_free(out);
	return rc;
}

int repo_apt_mirror_for(const struct repo_source_list *l, const char *suite, char **uri,
			struct pl_err *err)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct repo_source *r = &l->v[i];

		if (!r->deb || !r->uris[0])
			continue;
		for (size_t k = 0; r->suites[k]; k++)
			if (strcmp(r->suites[k], suite) == 0) {
				*uri = pl_strdup(r->uris[0]);
				return 0;
			}
	}
	return pl_error(err, PL_ENOTFOUND,
			"no apt source for suite '%s' in the system's apt sources", suite);
}
