/*
 * sync.c - one repository's signed indexes, all or nothing.
 *
 * Order of trust: the InRelease (or Release + Release.gpg) is verified with
 * gpgv first; only the text gpgv verified is parsed (pkgdb_clearsign_body
 * cuts it out of the same bytes); every Packages file is then checked
 * against the size and SHA-256 that verified text lists, before it is
 * decompressed and its syntax read. Everything lands in a staging
 * directory; only a fully checked repository moves into by-hash/ and its
 * rows change in one transaction. Files are named by their SHA-256, so a
 * new sync never rewrites a file that the current rows name.
 */
#include "repo-private.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "pkgdb/pkgdb.h"

#define RELEASE_MAX ((uint64_t)64 << 20)

/* A release row, from the database or from this sync. */
struct rel_row {
	char *suite, *file, *path, *sha256, *sig_path, *signers, *etag, *last_modified;
	char *release_suite, *codename;
	uint64_t size;
	int64_t date, valid_until;
};

/* An index row, from the database or from this sync. */
struct ix_row {
	char *suite, *component, *arch, *name, *path, *sha256, *etag, *last_modified;
	uint64_t size;
	int64_t date, valid_until;
};

/* A checked file waiting in staging for its place in by-hash/. */
struct staged {
	char *from;
	char sha256[65];
};

struct sync {
	struct store *st;
	const struct repo *r;
	const struct repo_sync_opts *o;
	char *dir, *staging, *gnupg;
	int64_t now;
	struct rel_row *old_rel, *new_rel;
	size_t n_old_rel, n_new_rel;
	struct ix_row *old_ix, *new_ix;
	size_t n_old_ix, n_new_ix;
	struct staged *staged;
	size_t n_staged;
	size_t fetched, not_modified;
	uint64_t bytes;
	json_t *suites; /* the report */
};

/* ---- rows --------------------------------------------------------------- */

static void rel_free(struct rel_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct rel_row *r = &v[i];

		free(r->suite);
		free(r->file);
		free(r->path);
		free(r->sha256);
		free(r->sig_path);
		free(r->signers);
		free(r->etag);
		free(r->last_modified);
		free(r->release_suite);
		free(r->codename);
	}
	free(v);
}

static void ix_free(struct ix_row *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ix_row *x = &v[i];

		free(x->suite);
		free(x->component);
		free(x->arch);
		free(x->name);
		free(x->path);
		free(x->sha256);
		free(x->etag);
		free(x->last_modified);
	}
	free(v);
}

static int64_t col_time(sqlite3_stmt *s, int i)
{
	int64_t t = 0;

	if (sqlite3_column_type(s, i) == SQLITE_NULL ||
	    pl_time_parse(store_col_text(s, i), &t, NULL) < 0)
		return 0;
	return t;
}

static int load_old(struct sync *c, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *a = NULL, *b = NULL;
	int rc;

	if (store_prepare(
	        c->st,
	        "SELECT suite, file, path, sha256, sig_path, signers, etag, last_modified,"
	        " release_suite, codename, size, release_date, valid_until"
	        " FROM repo_releases WHERE repo_id = ?",
	        &a, err) < 0 ||
	    store_prepare(c->st,
	                  "SELECT suite, component, arch, name, path, sha256, etag, last_modified,"
	                  " size FROM repo_indexes WHERE repo_id = ?",
	                  &b, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(a, 1, c->r->id);
	while ((rc = sqlite3_step(a)) == SQLITE_ROW) {
		struct rel_row *r;

		c->old_rel = pl_realloc(c->old_rel, (c->n_old_rel + 1) * sizeof(*c->old_rel));
		r = &c->old_rel[c->n_old_rel++];
		memset(r, 0, sizeof(*r));
		r->suite = store_col_dup(a, 0);
		r->file = store_col_dup(a, 1);
		r->path = store_col_dup(a, 2);
		r->sha256 = store_col_dup(a, 3);
		r->sig_path = store_col_dup(a, 4);
		r->signers = store_col_dup(a, 5);
		r->etag = store_col_dup(a, 6);
		r->last_modified = store_col_dup(a, 7);
		r->release_suite = store_col_dup(a, 8);
		r->codename = store_col_dup(a, 9);
		r->size = (uint64_t)sqlite3_column_int64(a, 10);
		r->date = col_time(a, 11);
		r->valid_until = col_time(a, 12);
	}
	if (rc != SQLITE_DONE)
		return store_error(c->st, err, "reading the synced releases");
	sqlite3_bind_int64(b, 1, c->r->id);
	while ((rc = sqlite3_step(b)) == SQLITE_ROW) {
		struct ix_row *x;

		c->old_ix = pl_realloc(c->old_ix, (c->n_old_ix + 1) * sizeof(*c->old_ix));
		x = &c->old_ix[c->n_old_ix++];
		memset(x, 0, sizeof(*x));
		x->suite = store_col_dup(b, 0);
		x->component = store_col_dup(b, 1);
		x->arch = store_col_dup(b, 2);
		x->name = store_col_dup(b, 3);
		x->path = store_col_dup(b, 4);
		x->sha256 = store_col_dup(b, 5);
		x->etag = store_col_dup(b, 6);
		x->last_modified = store_col_dup(b, 7);
		x->size = (uint64_t)sqlite3_column_int64(b, 8);
	}
	if (rc != SQLITE_DONE)
		return store_error(c->st, err, "reading the synced indexes");
	return 0;
}

static const struct rel_row *old_release(const struct sync *c, const char *suite)
{
	for (size_t i = 0; i < c->n_old_rel; i++)
		if (strcmp(c->old_rel[i].suite, suite) == 0)
			return &c->old_rel[i];
	return NULL;
}

static const struct ix_row *old_index(const struct sync *c, const char *suite, const char *comp,
                                      const char *arch)
{
	for (size_t i = 0; i < c->n_old_ix; i++) {
		const struct ix_row *x = &c->old_ix[i];

		if (!strcmp(x->suite, suite) && !strcmp(x->component, comp) &&
		    !strcmp(x->arch, arch))
			return x;
	}
	return NULL;
}

/* ---- files ---------------------------------------------------------------- */

/* The state-relative path of the content-addressed file sha. */
static char *byhash_rel(const struct sync *c, const char *sha)
{
	return pl_strdupf("repos/%s/by-hash/%s", c->r->name, sha);
}

/* 1 when the stored file rel still has hash sha (a local copy we may reuse). */
static int stored_ok(const struct sync *c, const char *rel, const char *sha)
{
	PL_AUTOFREE char *abs = rel ? pl_path_join(c->st->dir, rel) : NULL;
	char got[65];

	return abs && sha && pl_sha256_file(abs, got, NULL) == 0 && strcmp(got, sha) == 0;
}

static void stage(struct sync *c, const char *path, const char *sha)
{
	struct staged *s;

	c->staged = pl_realloc(c->staged, (c->n_staged + 1) * sizeof(*c->staged));
	s = &c->staged[c->n_staged++];
	s->from = pl_strdup(path);
	snprintf(s->sha256, sizeof(s->sha256), "%s", sha);
}

static void fetch_opts(const struct sync *c, struct net_fetch_opts *no, const char *label)
{
	memset(no, 0, sizeof(*no));
	no->progress = c->o ? c->o->progress : NULL;
	no->timeout_s = c->o ? c->o->timeout_s : 0;
	no->retries = c->o ? c->o->retries : 0;
	no->label = label;
}

/* ---- the Release ----------------------------------------------------------- */

/* What fetching the Release of one suite gave. */
struct got_release {
	char *file; /* "InRelease" or "Release" */
	char *path; /* the file to verify (staging, or the stored one on 304) */
	char *sig;  /* Release.gpg in staging, or NULL */
	char *url;  /* for messages */
	char sha256[65], sig_sha256[65];
	uint64_t size;
	char *etag, *last_modified;
	int fetched;
	uint64_t bytes;
};

static void got_release_free(struct got_release *g)
{
	free(g->file);
	free(g->path);
	free(g->sig);
	free(g->url);
	free(g->etag);
	free(g->last_modified);
}

/* Fetches dists/SUITE/NAME into sdir, conditionally when the synced
 * release is the same kind of file and still intact. */
static int fetch_release_file(struct sync *c, const char *suite, const char *name, const char *sdir,
                              const struct rel_row *old, struct got_release *g, struct pl_err *err)
{
	PL_AUTOFREE char *rel = pl_strdupf("dists/%s/%s", suite, name);
	PL_AUTOFREE char *label = pl_strdupf("%s %s %s", c->r->name, suite, name);
	PL_AUTOFREE char *dest = pl_path_join(sdir, name);
	struct net_fetch_result res;
	struct net_fetch_opts no;
	int reuse = old && old->file && strcmp(old->file, name) == 0 &&
	            stored_ok(c, old->path, old->sha256);
	int rc;

	fetch_opts(c, &no, label);
	no.max_bytes = RELEASE_MAX;
	if (reuse) {
		no.etag = old->etag;
		no.last_modified = old->last_modified;
	}
	free(g->url);
	g->url = net_url_join(c->r->uri, rel);
	rc = net_fetch(g->url, dest, &no, &res, err);
	if (rc < 0) {
		net_fetch_result_release(&res);
		return rc;
	}
	g->file = pl_strdup(name);
	g->etag = PL_STEAL(res.etag);
	g->last_modified = PL_STEAL(res.last_modified);
	if (res.not_modified || (reuse && strcmp(res.sha256, old->sha256) == 0)) {
		/* 304, or the same bytes again (file://): the stored copy */
		g->path = pl_path_join(c->st->dir, old->path);
		snprintf(g->sha256, sizeof(g->sha256), "%s", old->sha256);
		g->size = old->size;
		if (!g->etag && old->etag)
			g->etag = pl_strdup(old->etag);
		if (!g->last_modified && old->last_modified)
			g->last_modified = pl_strdup(old->last_modified);
		if (!res.not_modified)
			unlink(dest);
	} else {
		g->path = PL_STEAL(dest);
		snprintf(g->sha256, sizeof(g->sha256), "%s", res.sha256);
		g->size = res.bytes;
		g->fetched = 1;
		g->bytes += res.bytes;
	}
	net_fetch_result_release(&res);
	return 0;
}

/* InRelease, else Release and Release.gpg (only a 404 of InRelease falls back). */
static int fetch_release(struct sync *c, const char *suite, const char *sdir, struct got_release *g,
                         struct pl_err *err)
{
	const struct rel_row *old = old_release(c, suite);
	PL_AUTOFREE char *label = NULL, *rel = NULL, *url = NULL;
	struct net_fetch_result res;
	struct net_fetch_opts no;
	int rc = fetch_release_file(c, suite, "InRelease", sdir, old, g, err);

	if (rc != PL_ENOTFOUND)
		return rc;
	rc = fetch_release_file(c, suite, "Release", sdir, old, g, err);
	if (rc < 0)
		return rc;
	label = pl_strdupf("%s %s Release.gpg", c->r->name, suite);
	rel = pl_strdupf("dists/%s/Release.gpg", suite);
	url = net_url_join(c->r->uri, rel);
	g->sig = pl_path_join(sdir, "Release.gpg");
	fetch_opts(c, &no, label);
	no.max_bytes = 1 << 20;
	rc = net_fetch(url, g->sig, &no, &res, err);
	if (rc == 0) {
		snprintf(g->sig_sha256, sizeof(g->sig_sha256), "%s", res.sha256);
		g->bytes += res.bytes;
	}
	net_fetch_result_release(&res);
	return rc;
}

/* The text gpgv verified: the clearsigned body, or the detached Release. */
static int release_text(const struct got_release *g, char **text, size_t *len, struct pl_err *err)
{
	PL_AUTOFREE char *raw = NULL;
	size_t n;

	*text = NULL;
	if (pl_file_read(g->path, &raw, &n, err) < 0)
		return err->code;
	if (g->sig) {
		*text = PL_STEAL(raw);
		*len = n;
		return 0;
	}
	return pkgdb_clearsign_body(raw, n, g->url, text, len, err);
}

/* ---- one index ------------------------------------------------------------- */

static const char *ext_kind(const char *name, enum pkgdb_compression *want)
{
	size_t n = strlen(name);

	*want = PKGDB_COMP_NONE;
	if (n > 3 && strcmp(name + n - 3, ".xz") == 0)
		*want = PKGDB_COMP_XZ;
	else if (n > 3 && strcmp(name + n - 3, ".gz") == 0)
		*want = PKGDB_COMP_GZIP;
	return *want == PKGDB_COMP_XZ ? "xz" : *want == PKGDB_COMP_GZIP ? "gzip" : "plain";
}

/* Every stanza of a Packages text names a package, version and architecture. */
static int packages_syntax(const char *text, size_t len, const char *source, struct pl_err *err)
{
	static const char *const need[] = {"Package", "Version", "Architecture"};
	struct pkgdb_deb822 p;
	struct pkgdb_stanza s;
	int rc;

	pkgdb_deb822_init(&p, text, len, source);
	while ((rc = pkgdb_deb822_next(&p, &s, err)) == 1) {
		for (size_t i = 0; i < 3; i++)
			if (!pkgdb_stanza_get(&s, need[i])) {
				rc = pl_error(err, PL_EINVAL, "%s:%zu: a stanza without %s", source,
				              s.line, need[i]);
				break;
			}
		if (rc < 0)
			break;
	}
	pkgdb_deb822_release(&p);
	return rc < 0 ? rc : 0;
}

/* The downloaded file path matches f: size, hash, compression, content. */
static int index_check(const struct repo_release *rel, const struct repo_release_file *f,
                       const char *path, const char *url, const struct net_fetch_result *res,
                       struct pl_err *err)
{
	PL_AUTOFREE char *raw = NULL, *text = NULL;
	enum pkgdb_compression want, got;
	const char *kind = ext_kind(f->name, &want);
	size_t n, tn;

	if (res->bytes != f->size)
		return pl_error(err, PL_EINVAL,
		                "%s: %llu bytes, the verified Release says %llu (truncated or "
		                "changed)",
		                url, (unsigned long long)res->bytes, (unsigned long long)f->size);
	if (strcmp(res->sha256, f->sha256) != 0)
		return pl_error(err, PL_EINVAL,
		                "%s: SHA-256 %s is not the %s the verified Release lists", url,
		                res->sha256, f->sha256);
	if (pl_file_read(path, &raw, &n, err) < 0)
		return err->code;
	got = pkgdb_compression_detect(raw, n);
	if (got != want)
		return pl_error(err, PL_EINVAL, "%s: the name says %s, the content is %s", url,
		                kind,
		                got == PKGDB_COMP_XZ     ? "xz"
		                : got == PKGDB_COMP_GZIP ? "gzip"
		                                         : "not xz or gzip");
	if (pkgdb_decompress(raw, n, url, PKGDB_DECOMPRESS_MAX, &text, &tn, err) < 0)
		return err->code;
	free(PL_STEAL(raw));
	/* the uncompressed index's own hash, when the Release lists it too */
	if (want != PKGDB_COMP_NONE) {
		PL_AUTOFREE char *plain = pl_strndup(f->name, strlen(f->name) - 3);

		for (size_t i = 0; i < rel->nfiles; i++) {
			struct pl_sha256 h;
			char hex[65];

			if (strcmp(rel->files[i].name, plain) != 0)
				continue;
			pl_sha256_init(&h);
			pl_sha256_update(&h, text, tn);
			pl_sha256_hex(&h, hex);
			if (tn != rel->files[i].size || strcmp(hex, rel->files[i].sha256) != 0)
				return pl_error(err, PL_EINVAL,
				                "%s: decompressed, it is not the %s the verified "
				                "Release lists",
				                url, plain);
		}
	}
	return packages_syntax(text, tn, url, err);
}

static struct ix_row *new_index(struct sync *c, const char *suite, const char *comp,
                                const char *arch, const struct repo_release *rel,
                                const struct repo_release_file *f)
{
	struct ix_row *x;

	c->new_ix = pl_realloc(c->new_ix, (c->n_new_ix + 1) * sizeof(*c->new_ix));
	x = &c->new_ix[c->n_new_ix++];
	memset(x, 0, sizeof(*x));
	x->suite = pl_strdup(suite);
	x->component = pl_strdup(comp);
	x->arch = pl_strdup(arch);
	x->name = pl_strdup(f->name);
	x->sha256 = pl_strdup(f->sha256);
	x->size = f->size;
	x->date = rel->date;
	x->valid_until = rel->valid_until;
	return x;
}

static void report_index(json_t *arr, const struct ix_row *x, const char *status, uint64_t bytes)
{
	json_array_append_new(arr,
	                      json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "component", x->component,
	                                "arch", x->arch, "name", x->name, "status", status, "bytes",
	                                (json_int_t)bytes, "sha256", x->sha256));
}

/* Downloads f (by hash when the Release offers it, else by name). */
static int index_fetch(struct sync *c, const char *suite, const struct repo_release *rel,
                       const struct repo_release_file *f, const char *dest, char **url,
                       struct net_fetch_result *res, struct pl_err *err)
{
	PL_AUTOFREE char *label = pl_strdupf("%s %s %s", c->r->name, suite, f->name);
	PL_AUTOFREE char *rel_name = pl_strdupf("dists/%s/%s", suite, f->name);
	struct net_fetch_opts no;
	int rc = PL_ENOTFOUND;

	fetch_opts(c, &no, label);
	no.max_bytes = f->size ? f->size : 1;
	if (rel->acquire_by_hash) {
		PL_AUTOFREE char *dir = pl_strdup(rel_name);
		PL_AUTOFREE char *by = NULL;

		*strrchr(dir, '/') = '\0';
		by = pl_strdupf("%s/by-hash/SHA256/%s", dir, f->sha256);
		*url = net_url_join(c->r->uri, by);
		rc = net_fetch(*url, dest, &no, res, err);
		if (rc == PL_ENOTFOUND) {
			net_fetch_result_release(res);
			free(*url);
		}
	}
	if (rc == PL_ENOTFOUND) {
		*url = net_url_join(c->r->uri, rel_name);
		rc = net_fetch(*url, dest, &no, res, err);
	}
	return rc;
}

static int sync_index(struct sync *c, const char *suite, const char *sdir, size_t k,
                      const struct repo_release *rel, const char *source, const char *comp,
                      const char *arch, json_t *report, struct pl_err *err)
{
	const struct repo_release_file *f;
	const struct ix_row *old = old_index(c, suite, comp, arch);
	PL_AUTOFREE char *dest = NULL, *url = NULL;
	struct net_fetch_result res;
	struct ix_row *x;
	int rc;

	if (repo_release_packages(rel, comp, arch, source, &f, err) < 0)
		return err->code;
	if (old && strcmp(old->sha256, f->sha256) == 0 && old->size == f->size &&
	    stored_ok(c, old->path, old->sha256)) {
		x = new_index(c, suite, comp, arch, rel, f);
		x->path = pl_strdup(old->path);
		x->etag = old->etag ? pl_strdup(old->etag) : NULL;
		x->last_modified = old->last_modified ? pl_strdup(old->last_modified) : NULL;
		c->not_modified++;
		report_index(report, x, "not-modified", 0);
		return 0;
	}
	dest = pl_strdupf("%s/%zu-%s", sdir, k, strrchr(f->name, '/') + 1);
	rc = index_fetch(c, suite, rel, f, dest, &url, &res, err);
	if (rc < 0 && rc != PL_EINVAL) {
		net_fetch_result_release(&res);
		return rc;
	}
	if (rc == PL_EINVAL) { /* net's limit was the Release's size */
		PL_AUTOFREE char *msg = pl_strdup(err->msg);

		pl_error(err, PL_EINVAL, "%s, the size the verified Release lists", msg);
	} else {
		const struct pl_progress *p = c->o ? c->o->progress : NULL;
		double t = pl_progress_begin(p, "verify", "%s %s %s", c->r->name, suite, f->name);

		rc = index_check(rel, f, dest, url, &res, err);
		pl_progress_end(p, "verify", rc, t);
	}
	if (rc == 0) {
		x = new_index(c, suite, comp, arch, rel, f);
		x->path = byhash_rel(c, f->sha256);
		x->etag = PL_STEAL(res.etag);
		x->last_modified = PL_STEAL(res.last_modified);
		stage(c, dest, f->sha256);
		c->fetched++;
		c->bytes += res.bytes;
		report_index(report, x, "fetched", res.bytes);
	}
	net_fetch_result_release(&res);
	return rc;
}

/* ---- one suite ------------------------------------------------------------- */

static struct rel_row *new_release(struct sync *c, const char *suite, const struct got_release *g,
                                   const struct repo_release *rel, char *signers)
{
	struct rel_row *r;

	c->new_rel = pl_realloc(c->new_rel, (c->n_new_rel + 1) * sizeof(*c->new_rel));
	r = &c->new_rel[c->n_new_rel++];
	memset(r, 0, sizeof(*r));
	r->suite = pl_strdup(suite);
	r->file = pl_strdup(g->file);
	r->path = byhash_rel(c, g->sha256);
	r->sha256 = pl_strdup(g->sha256);
	r->size = g->size;
	r->sig_path = g->sig ? byhash_rel(c, g->sig_sha256) : NULL;
	r->signers = signers;
	r->etag = g->etag ? pl_strdup(g->etag) : NULL;
	r->last_modified = g->last_modified ? pl_strdup(g->last_modified) : NULL;
	r->release_suite = rel->suite ? pl_strdup(rel->suite) : NULL;
	r->codename = rel->codename ? pl_strdup(rel->codename) : NULL;
	r->date = rel->date;
	r->valid_until = rel->valid_until;
	return r;
}

static json_t *time_json(int64_t t)
{
	char iso[21];

	if (!t)
		return json_null();
	pl_time_iso(t, iso);
	return json_string(iso);
}

/* Verifies and checks the Release of suite; fills *rel and *signers. */
static int verify_release(struct sync *c, const char *suite, const struct got_release *g,
                          struct repo_release *rel, char **signers, struct pl_err *err)
{
	const struct rel_row *old = old_release(c, suite);
	PL_AUTOFREE char *text = NULL;
	size_t len;

	*signers = NULL;
	if (repo_gpgv_verify(c->r->keyring, g->path, g->sig, c->gnupg, signers, err) < 0) {
		/* name the URL, not our staging path */
		if (err->code == PL_EINVAL)
			return pl_error_prefix(err, "%s", g->url);
		return err->code;
	}
	if (release_text(g, &text, &len, err) < 0 ||
	    repo_release_parse(text, len, g->url, rel, err) < 0) {
		free(PL_STEAL(*signers));
		return err->code;
	}
	if (repo_release_check(rel, suite, c->now, old ? old->date : 0, g->url, err) < 0) {
		repo_release_free(rel);
		free(PL_STEAL(*signers));
		return err->code;
	}
	return 0;
}

static int sync_suite(struct sync *c, const char *suite, size_t si, struct pl_err *err)
{
	PL_AUTOFREE char *sdir = pl_strdupf("%s/s%zu", c->staging, si);
	struct got_release g = {0};
	struct repo_release rel;
	char *signers = NULL;
	json_t *report, *ixs;
	size_t k = 0;
	int rc;

	if (pl_mkdir_p(sdir, 0750, err) < 0)
		return err->code;
	rc = fetch_release(c, suite, sdir, &g, err);
	if (rc == 0) {
		const struct pl_progress *p = c->o ? c->o->progress : NULL;
		double t = pl_progress_begin(p, "verify", "%s %s %s", c->r->name, suite, g.file);

		rc = verify_release(c, suite, &g, &rel, &signers, err);
		pl_progress_end(p, "verify", rc, t);
	}
	if (rc < 0) {
		got_release_free(&g);
		return rc;
	}
	new_release(c, suite, &g, &rel, signers);
	if (g.fetched)
		stage(c, g.path, g.sha256);
	if (g.sig)
		stage(c, g.sig, g.sig_sha256);
	c->bytes += g.bytes;
	*(g.fetched ? &c->fetched : &c->not_modified) += 1;
	ixs = json_array();
	report = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:o}", "suite", suite, "file", g.file,
	                   "release", g.fetched ? "fetched" : "not-modified", "date",
	                   time_json(rel.date), "valid_until", time_json(rel.valid_until),
	                   "signers", signers, "indexes", ixs);
	json_array_append_new(c->suites, report);
	for (size_t ci = 0; rc == 0 && c->r->components[ci]; ci++)
		for (size_t ai = 0; rc == 0 && c->r->architectures[ai]; ai++)
			rc = sync_index(c, suite, sdir, k++, &rel, g.url, c->r->components[ci],
			                c->r->architectures[ai], ixs, err);
	repo_release_free(&rel);
	got_release_free(&g);
	return rc;
}

/* ---- the swap ------------------------------------------------------------- */

static int insert_rows(struct sync *c, const char *started, const char *ended, double secs,
                       struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *del = NULL, *ir = NULL, *ii = NULL, *is = NULL;
	char d[21], v[21];

	if (store_prepare(c->st, "DELETE FROM repo_releases WHERE repo_id = ?", &del, err) < 0 ||
	    store_prepare(c->st,
	                  "INSERT INTO repo_releases(repo_id, suite, file, path, sha256, size,"
	                  " sig_path, signers, etag, last_modified, release_suite, codename,"
	                  " release_date, valid_until, synced_at)"
	                  " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	                  &ir, err) < 0 ||
	    store_prepare(
	        c->st,
	        "INSERT INTO repo_indexes(repo_id, suite, component, arch, name, path,"
	        " sha256, size, etag, last_modified, release_date, valid_until, synced_at)"
	        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
	        &ii, err) < 0 ||
	    store_prepare(c->st,
	                  "INSERT INTO repo_syncs(repo_id, started_at, ended_at, fetched,"
	                  " not_modified, bytes, seconds) VALUES (?,?,?,?,?,?,?)",
	                  &is, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(del, 1, c->r->id);
	if (store_step_done(c->st, del, err) < 0)
		return err->code;
	for (size_t i = 0; i < c->n_new_rel; i++) {
		const struct rel_row *r = &c->new_rel[i];

		pl_time_iso(r->date, d);
		pl_time_iso(r->valid_until, v);
		sqlite3_reset(ir);
		sqlite3_bind_int64(ir, 1, c->r->id);
		repo_bind_opt(ir, 2, r->suite);
		repo_bind_opt(ir, 3, r->file);
		repo_bind_opt(ir, 4, r->path);
		repo_bind_opt(ir, 5, r->sha256);
		sqlite3_bind_int64(ir, 6, (sqlite3_int64)r->size);
		repo_bind_opt(ir, 7, r->sig_path);
		repo_bind_opt(ir, 8, r->signers ? r->signers : "");
		repo_bind_opt(ir, 9, r->etag);
		repo_bind_opt(ir, 10, r->last_modified);
		repo_bind_opt(ir, 11, r->release_suite);
		repo_bind_opt(ir, 12, r->codename);
		repo_bind_opt(ir, 13, d);
		repo_bind_opt(ir, 14, r->valid_until ? v : NULL);
		repo_bind_opt(ir, 15, ended);
		if (store_step_done(c->st, ir, err) < 0)
			return err->code;
	}
	for (size_t i = 0; i < c->n_new_ix; i++) {
		const struct ix_row *x = &c->new_ix[i];

		pl_time_iso(x->date, d);
		pl_time_iso(x->valid_until, v);
		sqlite3_reset(ii);
		sqlite3_bind_int64(ii, 1, c->r->id);
		repo_bind_opt(ii, 2, x->suite);
		repo_bind_opt(ii, 3, x->component);
		repo_bind_opt(ii, 4, x->arch);
		repo_bind_opt(ii, 5, x->name);
		repo_bind_opt(ii, 6, x->path);
		repo_bind_opt(ii, 7, x->sha256);
		sqlite3_bind_int64(ii, 8, (sqlite3_int64)x->size);
		repo_bind_opt(ii, 9, x->etag);
		repo_bind_opt(ii, 10, x->last_modified);
		repo_bind_opt(ii, 11, d);
		repo_bind_opt(ii, 12, x->valid_until ? v : NULL);
		repo_bind_opt(ii, 13, ended);
		if (store_step_done(c->st, ii, err) < 0)
			return err->code;
	}
	sqlite3_bind_int64(is, 1, c->r->id);
	repo_bind_opt(is, 2, started);
	repo_bind_opt(is, 3, ended);
	sqlite3_bind_int64(is, 4, (sqlite3_int64)c->fetched);
	sqlite3_bind_int64(is, 5, (sqlite3_int64)c->not_modified);
	sqlite3_bind_int64(is, 6, (sqlite3_int64)c->bytes);
	sqlite3_bind_double(is, 7, secs);
	return store_step_done(c->st, is, err);
}

/* Moves the staged files into by-hash/; *added lists the ones that are new
 * there (to take back if the transaction fails). */
static int move_staged(struct sync *c, char ***added, struct pl_err *err)
{
	PL_AUTOFREE char *byhash = pl_path_join(c->dir, "by-hash");
	PL_AUTOFD int dfd = -1;

	*added = pl_calloc(1, sizeof(char *));
	if (pl_mkdir_p(byhash, 0750, err) < 0)
		return err->code;
	for (size_t i = 0; i < c->n_staged; i++) {
		PL_AUTOFREE char *to = pl_path_join(byhash, c->staged[i].sha256);

		if (pl_path_exists(to))
			continue; /* the same content, by its name */
		if (rename(c->staged[i].from, to) < 0)
			return pl_error(err, PL_EIO, "%s: %s", to, strerror(errno));
		*added = repo_strv_add(*added, to);
	}
	dfd = open(byhash, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	return 0;
}

static int referenced(const struct sync *c, const char *rel)
{
	for (size_t i = 0; i < c->n_new_rel; i++)
		if (!strcmp(c->new_rel[i].path, rel) ||
		    (c->new_rel[i].sig_path && !strcmp(c->new_rel[i].sig_path, rel)))
			return 1;
	for (size_t i = 0; i < c->n_new_ix; i++)
		if (!strcmp(c->new_ix[i].path, rel))
			return 1;
	return 0;
}

/* After the commit: files no row names any more. A failure here leaves
 * garbage, never a wrong index, so it is not an error. */
static void gc_byhash(struct sync *c)
{
	PL_AUTOFREE char *byhash = pl_path_join(c->dir, "by-hash");
	DIR *d = opendir(byhash);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		PL_AUTOFREE char *rel = NULL, *abs = NULL;

		if (e->d_name[0] == '.')
			continue;
		rel = byhash_rel(c, e->d_name);
		abs = pl_path_join(byhash, e->d_name);
		if (!referenced(c, rel))
			unlink(abs);
	}
	if (d)
		closedir(d);
}

static int swap(struct sync *c, const char *started, double t0, struct pl_err *err)
{
	char **added = NULL;
	char ended[21];
	int rc;

	pl_time_iso(pl_clock_now(c->o ? c->o->clock : NULL), ended);
	rc = move_staged(c, &added, err);
	if (rc == 0 && store_begin(c->st, err) == 0) {
		rc = insert_rows(c, started, ended, pl_monotonic() - t0, err);
		if (rc == 0)
			rc = store_commit(c->st, err);
		if (rc < 0)
			store_rollback(c->st);
	} else if (rc == 0) {
		rc = err->code;
	}
	if (rc < 0) /* the old rows stay: take back what only the new ones named */
		for (size_t i = 0; added && added[i]; i++)
			unlink(added[i]);
	else
		gc_byhash(c);
	repo_strv_free(added);
	return rc;
}

/* ---- the whole sync ---------------------------------------------------------- */

/* Leftovers of syncs that were killed (we hold the lock: none is running). */
static void remove_stale_staging(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "staging-", 8) == 0) {
			PL_AUTOFREE char *p = pl_path_join(dir, e->d_name);

			repo_rmtree(p, NULL);
		}
	}
	if (d)
		closedir(d);
}

static void sync_release(struct sync *c)
{
	rel_free(c->old_rel, c->n_old_rel);
	rel_free(c->new_rel, c->n_new_rel);
	ix_free(c->old_ix, c->n_old_ix);
	ix_free(c->new_ix, c->n_new_ix);
	for (size_t i = 0; i < c->n_staged; i++)
		free(c->staged[i].from);
	free(c->staged);
	if (c->staging)
		repo_rmtree(c->staging, NULL);
	free(c->staging);
	free(c->gnupg);
	free(c->dir);
	json_decref(c->suites);
}

static int sync_run(struct sync *c, const char *started, double t0, struct pl_err *err)
{
	if (load_old(c, err) < 0)
		return err->code;
	remove_stale_staging(c->dir);
	c->staging = pl_strdupf("%s/staging-%ld", c->dir, (long)getpid());
	c->gnupg = pl_path_join(c->staging, "gnupg");
	if (pl_mkdir_p(c->gnupg, 0700, err) < 0)
		return err->code;
	for (size_t i = 0; c->r->suites[i]; i++)
		if (sync_suite(c, c->r->suites[i], i, err) < 0)
			return pl_error_prefix(err, "repository '%s'", c->r->name);
	return swap(c, started, t0, err);
}

int repo_sync(struct store *st, const char *name, const struct repo_sync_opts *o, json_t **report,
              struct pl_err *err)
{
	struct sync c = {.st = st, .o = o};
	PL_AUTOFD int lock = -1;
	struct repo r;
	char started[21];
	double t0 = pl_monotonic();
	int rc;

	if (report)
		*report = NULL;
	if (repo_get(st, name, &r, err) < 0)
		return err->code;
	c.r = &r;
	c.now = pl_clock_now(o ? o->clock : NULL);
	pl_time_iso(c.now, started);
	c.dir = repo_dir(st, name);
	c.suites = json_array();
	rc = repo_lock(c.dir, name, &lock, err);
	if (rc == 0)
		rc = sync_run(&c, started, t0, err);
	if (rc == 0 && report)
		*report = json_pack("{s:s, s:I, s:I, s:I, s:f, s:O}", "name", name, "fetched",
		                    (json_int_t)c.fetched, "not_modified",
		                    (json_int_t)c.not_modified, "bytes", (json_int_t)c.bytes,
		                    "seconds", pl_monotonic() - t0, "suites", c.suites);
	sync_release(&c);
	repo_clear(&r);
	return rc;
}
