/*
 * deb.c - the synced indexes for other modules: which Packages files a
 * suite has, and one .deb fetched and checked against its stanza. The
 * stanza comes from an index whose hash the verified Release listed, so a
 * .deb that matches its Size and SHA256 is the one the vendor signed for.
 */
#include "repo-private.h"

#include <sys/stat.h>

#include "pkgdb/pkgdb.h"
#include "version/version.h"

void repo_index_list_free(struct repo_index_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct repo_index *x = &l->v[i];

		free(x->repo);
		free(x->suite);
		free(x->codename);
		free(x->component);
		free(x->arch);
		free(x->path);
		free(x->sha256);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Rows of repo_indexes for repo (NULL any), suite and arch as documented. */
static int indexes_query(struct store *st, const char *repo, const char *suite, const char *arch,
                         struct repo_index_list *out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (store_prepare(
	        st,
	        "SELECT r.name, i.suite, l.codename, i.component, i.arch, i.path, i.sha256"
	        " FROM repo_indexes i JOIN repos r ON r.id = i.repo_id"
	        " JOIN repo_releases l ON l.repo_id = i.repo_id AND l.suite = i.suite"
	        " WHERE (?1 IS NULL OR r.name = ?1)"
	        " AND (?2 IS NULL OR i.suite = ?2 OR l.codename = ?2"
	        "      OR l.release_suite = ?2)"
	        " AND (?3 IS NULL OR i.arch = ?3 OR i.arch = 'all')"
	        " ORDER BY r.name, i.suite, i.component, i.arch",
	        &s, err) < 0)
		return PL_EDB;
	repo_bind_opt(s, 1, repo);
	repo_bind_opt(s, 2, suite);
	repo_bind_opt(s, 3, arch);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct repo_index *x;

		out->v = pl_realloc(out->v, (out->n + 1) * sizeof(*out->v));
		x = &out->v[out->n++];
		x->repo = pl_strdup(store_col_text(s, 0));
		x->suite = pl_strdup(store_col_text(s, 1));
		x->codename = pl_strdup(store_col_text(s, 2));
		x->component = pl_strdup(store_col_text(s, 3));
		x->arch = pl_strdup(store_col_text(s, 4));
		x->path = pl_path_join(st->dir, store_col_text(s, 5));
		x->sha256 = pl_strdup(store_col_text(s, 6));
	}
	if (rc != SQLITE_DONE) {
		repo_index_list_free(out);
		return store_error(st, err, "reading the synced indexes");
	}
	return 0;
}

int repo_indexes_find(struct store *st, const char *suite, const char *arch,
                      struct repo_index_list *out, struct pl_err *err)
{
	return indexes_query(st, NULL, suite, arch, out, err);
}

void repo_deb_clear(struct repo_deb *d)
{
	free(d->repo);
	free(d->uri);
	free(d->package);
	free(d->version);
	free(d->arch);
	free(d->filename);
	free(d->index);
	memset(d, 0, sizeof(*d));
}

static int field_eq(const struct pkgdb_field *f, const char *s)
{
	return f && f->value_len == strlen(s) && memcmp(f->value, s, f->value_len) == 0;
}

/* dpkg-equal versions: the same string, or equal in dpkg's order. */
static int version_eq(const struct pkgdb_field *f, const char *want)
{
	struct version_deb a, b;

	if (!f)
		return 0;
	if (field_eq(f, want))
		return 1;
	return version_deb_parse(f->value, f->value_len, &a, NULL) >= 0 &&
	       version_deb_parse(want, strlen(want), &b, NULL) >= 0 && version_deb_cmp(&a, &b) == 0;
}

/* A Filename that stays inside the repository: relative, no "..", printable. */
static int filename_ok(const char *s)
{
	size_t seg = 0, n = strlen(s);

	if (n == 0 || s[0] == '/' || n > 1024)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (i == seg || (i - seg == 2 && s[seg] == '.' && s[seg + 1] == '.') ||
			    (i - seg == 1 && s[seg] == '.'))
				return 0;
			seg = i + 1;
		} else if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f || s[i] == '?' ||
		           s[i] == '#' || s[i] == '%' || s[i] == '\\') {
			return 0;
		}
	}
	return 1;
}

/* Fills d from the stanza of the .deb. */
static int deb_from_stanza(const struct pkgdb_stanza *s, const char *index, struct repo_deb *d,
                           struct pl_err *err)
{
	const struct pkgdb_field *fn = pkgdb_stanza_get(s, "Filename");
	const struct pkgdb_field *sz = pkgdb_stanza_get(s, "Size");
	const struct pkgdb_field *sh = pkgdb_stanza_get(s, "SHA256");
	PL_AUTOFREE char *size = NULL;

	if (!fn || !sz || !sh)
		return pl_error(err, PL_EINVAL, "%s:%zu: the stanza lacks %s", index, s->line,
		                !fn   ? "Filename"
		                : !sz ? "Size"
		                      : "SHA256");
	d->filename = pkgdb_field_dup(fn);
	if (!filename_ok(d->filename))
		return pl_error(err, PL_EINVAL, "%s:%zu: Filename '%.200s' leaves the repository",
		                index, fn->line, d->filename);
	size = pkgdb_field_dup(sz);
	if (pl_parse_u64(size, UINT64_MAX, &d->size, "Size", err) < 0)
		return pl_error_prefix(err, "%s:%zu", index, sz->line);
	if (sh->value_len != 64 || strspn(sh->value, "0123456789abcdef") < 64)
		return pl_error(err, PL_EINVAL, "%s:%zu: SHA256 is not 64 lower-case hex digits",
		                index, sh->line);
	memcpy(d->sha256, sh->value, 64);
	d->sha256[64] = '\0';
	return 0;
}

/* Fills every still-empty out[k] whose package, version and architecture
 * a stanza of one Packages file has; returns how many it filled, or <0. */
static int locate_in(const struct repo_index *x, const struct repo_deb_want *w, size_t n,
                     struct repo_deb *out, struct pl_err *err)
{
	PL_AUTOFREE char *text = NULL;
	struct pkgdb_deb822 p;
	struct pkgdb_stanza s;
	size_t len;
	int rc, found = 0;

	if (pkgdb_file_read_any(x->path, PKGDB_DECOMPRESS_MAX, &text, &len, err) < 0)
		return err->code;
	pkgdb_deb822_init(&p, text, len, x->path);
	while ((rc = pkgdb_deb822_next(&p, &s, err)) == 1) {
		for (size_t k = 0; k < n; k++) {
			struct repo_deb *d = &out[k];

			if (d->filename || !field_eq(pkgdb_stanza_get(&s, "Package"), w[k].package) ||
			    !field_eq(pkgdb_stanza_get(&s, "Architecture"), w[k].arch) ||
			    !version_eq(pkgdb_stanza_get(&s, "Version"), w[k].version))
				continue;
			d->index = pl_strdup(x->path);
			d->version = pkgdb_field_dup(pkgdb_stanza_get(&s, "Version"));
			if (deb_from_stanza(&s, x->path, d, err) < 0) {
				rc = err->code;
				break;
			}
			d->repo = pl_strdup(x->repo);
			found++;
		}
		if (rc < 0)
			break;
	}
	pkgdb_deb822_release(&p);
	return rc < 0 ? rc : found;
}

int repo_deb_locate_all(struct store *st, const char *repo, const struct repo_deb_want *w,
                        size_t n, struct repo_deb *out, struct pl_err *err)
{
	struct repo_index_list l;
	size_t left = n;
	int rc = 0;

	const char *arch = n ? w[0].arch : NULL;

	memset(out, 0, n * sizeof(*out));
	/* one architecture's indexes (and binary-all's) when every .deb is of
	 * that architecture, else all of them */
	for (size_t k = 0; arch && k < n; k++)
		if (strcmp(w[k].arch, arch) != 0 || strcmp(arch, "all") == 0)
			arch = NULL;
	if (indexes_query(st, repo, NULL, arch, &l, err) < 0)
		return err->code;
	for (size_t i = 0; rc == 0 && left && i < l.n; i++) {
		int got = locate_in(&l.v[i], w, n, out, err);

		if (got < 0)
			rc = got;
		else
			left -= (size_t)got;
	}
	repo_index_list_free(&l);
	for (size_t k = 0; rc == 0 && k < n; k++) {
		struct repo r;

		if (!out[k].filename) {
			rc = pl_error(err, PL_ENOTFOUND, "%s %s (%s) is in no synced index%s%s%s",
			              w[k].package, w[k].version, w[k].arch,
			              repo ? " of repository '" : "", repo ? repo : "",
			              repo ? "'" : "");
			break;
		}
		if (repo_get(st, out[k].repo, &r, err) < 0) {
			rc = err->code;
			break;
		}
		out[k].uri = pl_strdup(r.uri);
		out[k].package = pl_strdup(w[k].package);
		out[k].arch = pl_strdup(w[k].arch);
		repo_clear(&r);
	}
	if (rc < 0)
		for (size_t k = 0; k < n; k++)
			repo_deb_clear(&out[k]);
	return rc;
}

int repo_deb_locate(struct store *st, const char *repo, const char *package, const char *version,
                    const char *arch, struct repo_deb *out, struct pl_err *err)
{
	struct repo_deb_want w = {package, version, arch};

	return repo_deb_locate_all(st, repo, &w, 1, out, err);
}

/* 1 when path exists with size and sha256. */
static int deb_present(const char *path, const struct repo_deb *d)
{
	struct stat sb;
	char hex[65];

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == d->size &&
	       pl_sha256_file(path, hex, NULL) == 0 && strcmp(hex, d->sha256) == 0;
}

int repo_deb_fetch(const struct repo_deb *d, const char *destdir, const struct net_fetch_opts *o,
                   char **path, struct pl_err *err)
{
	const char *base;
	PL_AUTOFREE char *dest = NULL, *part = NULL, *url = NULL;
	struct net_fetch_opts no = o ? *o : (struct net_fetch_opts){0};
	struct net_fetch_result res;
	int rc;

	if (path)
		*path = NULL;
	if (!d->filename || !filename_ok(d->filename))
		return pl_error(err, PL_EINVAL, "Filename '%s' leaves the repository",
		                d->filename ? d->filename : "");
	base = strrchr(d->filename, '/');
	base = base ? base + 1 : d->filename;
	dest = pl_path_join(destdir, base);
	if (!deb_present(dest, d)) {
		part = pl_strdupf("%s/.%s.part", destdir, base);
		url = net_url_join(d->uri, d->filename);
		no.max_bytes = d->size ? d->size : 1;
		if (!no.label)
			no.label = base;
		rc = net_fetch(url, part, &no, &res, err);
		if (rc == PL_EINVAL)
			rc = pl_error(err, PL_EINVAL,
			              "%s: larger than the %llu bytes its index lists (not kept)",
			              url, (unsigned long long)d->size);
		else if (rc == 0 && res.bytes != d->size)
			rc = pl_error(err, PL_EINVAL,
			              "%s: %llu bytes, its index lists %llu (not kept)", url,
			              (unsigned long long)res.bytes, (unsigned long long)d->size);
		else if (rc == 0 && strcmp(res.sha256, d->sha256) != 0)
			rc = pl_error(err, PL_EINVAL,
			              "%s: SHA-256 %s is not the %s its index lists (not kept)",
			              url, res.sha256, d->sha256);
		if (rc == 0 && rename(part, dest) < 0)
			rc = pl_error(err, PL_EIO, "%s: %s", dest, strerror(errno));
		if (rc < 0)
			unlink(part);
		net_fetch_result_release(&res);
		if (rc < 0)
			return rc;
	}
	if (path)
		*path = PL_STEAL(dest);
	return 0;
}
