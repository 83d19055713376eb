/*
 * feedstore.c - vulnerability feeds in the database: their records, and
 * a sync that fetches a feed, parses it and replaces its rows.
 *
 * A sync is one transaction: the feed's rows are deleted and the parser
 * streams the new ones in through prepared statements; any error rolls
 * everything back, so the previous data stays until a complete new copy
 * replaces it. Validators (ETag, Last-Modified) and the SHA-256 are only
 * recorded with the rows they describe, so a failed sync is retried in
 * full next time.
 */
#include "detect/detect-private.h"

#include <sys/stat.h>

#include "net/net.h"
#include "risk/risk.h"

#define FEED_NAME_MAX 64
/* page cache during an import, in KiB (SQLite's default is 2000) */
#define FS_CACHE_KIB "262144"

/* ---- the feed records ----------------------------------------------------- */

static int name_check(const char *name, struct pl_err *err)
{
	size_t n = strlen(name);

	if (n == 0 || n > FEED_NAME_MAX)
		return pl_error(err, PL_EUSAGE, "feed name '%s': 1 to %d characters", name,
		                FEED_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-') ||
		    (i == 0 && (c == '.' || c == '-')))
			return pl_error(err, PL_EUSAGE,
			                "feed name '%s': letters, digits, '.', '_' and '-' only, "
			                "not starting with '.' or '-'",
			                name);
	}
	return 0;
}

/* 1 when url has a scheme ("x://"), 0 for a local path. */
static int is_url(const char *url)
{
	const char *p = url;

	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	return p > url && strncmp(p, "://", 3) == 0;
}

int detect_feedstore_add(struct store *st, const char *name, int kind, const char *url,
                         const char *release, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *where = NULL;
	char now[21];
	const char *why;

	if (name_check(name, err) < 0)
		return PL_EUSAGE;
	if (kind < 0 || kind >= DETECT_FEED_NKINDS)
		return pl_error(err, PL_EUSAGE, "unknown feed kind");
	if (!url || !*url || strlen(url) > 4096)
		return pl_error(err, PL_EUSAGE, "feed '%s': expected a URL or a path", name);
	if (release && kind != DETECT_FEED_TRACKER)
		return pl_error(err, PL_EUSAGE,
		                "feed '%s': a release is for debian-tracker feeds only", name);
	if (release && (why = detect_id_problem(release, strlen(release))))
		return pl_error(err, PL_EUSAGE, "feed '%s': release '%s' %s", name, release, why);
	if (is_url(url)) {
		where = pl_strdup(url);
	} else if (url[0] == '/') {
		where = pl_strdup(url);
	} else {
		char *cwd = getcwd(NULL, 0);

		if (!cwd)
			return pl_error(err, PL_EIO, "the current directory: %s", strerror(errno));
		where = pl_path_join(cwd, url);
		free(cwd);
	}
	pl_time_iso(pl_clock_now(NULL), now);
	if (store_prepare(st,
	                  "INSERT INTO feeds (name, kind, url, release, created_at)"
	                  " VALUES (?, ?, ?, ?, ?)",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, detect_feed_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, where, -1, SQLITE_STATIC);
	if (release)
		sqlite3_bind_text(s, 4, release, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return sqlite3_errcode(st->db) == SQLITE_CONSTRAINT
		           ? pl_error(err, PL_EEXIST, "feed '%s' exists already", name)
		           : store_error(st, err, "adding the feed");
	return 0;
}

int detect_feedstore_remove(struct store *st, const char *name, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;

	if (store_begin(st, err) < 0)
		return err->code;
	if (store_prepare(st, "DELETE FROM feeds WHERE name = ?", &s, err) < 0)
		goto fail;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (store_step_done(st, s, err) < 0)
		goto fail;
	if (sqlite3_changes(st->db) == 0) {
		pl_error(err, PL_ENOTFOUND, "no feed '%s'", name);
		goto fail;
	}
	if (store_commit(st, err) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(st);
	return err->code;
}

#define FEED_COLS                                                                                  \
	"id, name, kind, url, release, etag, last_modified, sha256, bytes, synced_at,"             \
	" checked_at, counts, info"

static json_t *opt_text(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? json_null()
	                                                : json_string(store_col_text(s, i));
}

static json_t *feed_row_json(sqlite3_stmt *s)
{
	json_t *j = json_object(), *counts, *info;

	json_object_set_new(j, "name", json_string(store_col_text(s, 1)));
	json_object_set_new(j, "kind", json_string(store_col_text(s, 2)));
	json_object_set_new(j, "url", json_string(store_col_text(s, 3)));
	json_object_set_new(j, "release", opt_text(s, 4));
	json_object_set_new(j, "etag", opt_text(s, 5));
	json_object_set_new(j, "last_modified", opt_text(s, 6));
	json_object_set_new(j, "sha256", opt_text(s, 7));
	json_object_set_new(j, "bytes",
	                    sqlite3_column_type(s, 8) == SQLITE_NULL
	                        ? json_null()
	                        : json_integer(sqlite3_column_int64(s, 8)));
	json_object_set_new(j, "synced_at", opt_text(s, 9));
	json_object_set_new(j, "checked_at", opt_text(s, 10));
	counts = json_loads(store_col_text(s, 11), 0, NULL);
	info = json_loads(store_col_text(s, 12), 0, NULL);
	json_object_set_new(j, "counts", counts ? counts : json_object());
	json_object_set_new(j, "info", info ? info : json_object());
	return j;
}

int detect_feedstore_list(struct store *st, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *arr;
	int rc;

	if (store_prepare(st, "SELECT " FEED_COLS " FROM feeds ORDER BY name", &s, err) < 0)
		return err->code;
	arr = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(arr, feed_row_json(s));
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_error(st, err, "listing feeds");
	}
	*out = arr;
	return 0;
}

int detect_feedstore_show(struct store *st, const char *name, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, "SELECT " FEED_COLS " FROM feeds WHERE name = ?", &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return pl_error(err, PL_ENOTFOUND, "no feed '%s'", name);
	if (rc != SQLITE_ROW)
		return store_error(st, err, "reading a feed");
	*out = feed_row_json(s);
	return 0;
}

void detect_sync_result_release(struct detect_sync_result *r)
{
	json_decref(r->counts);
	r->counts = NULL;
}

/* ---- the import: a sink writing rows ---------------------------------------- */

enum fs_stmt {
	FS_TRACKER,
	FS_TRACKER_CVE,
	FS_OSV,
	FS_ALIAS,
	FS_AFFECTED,
	FS_RANGE,
	FS_CVSS,
	FS_EPSS,
	FS_KEV,
	FS_NSTMT
};

static const char *const fs_sql[FS_NSTMT] = {
    [FS_TRACKER] = "INSERT INTO feed_tracker (feed_id, release, source, cve, status,"
                   " fixed_version, urgency, nodsa, nodsa_reason) VALUES (?,?,?,?,?,?,?,?,?)",
    [FS_TRACKER_CVE] = "INSERT OR IGNORE INTO feed_tracker_cves (feed_id, source, cve,"
                       " description, scope, debianbug) VALUES (?,?,?,?,?,?)",
    [FS_OSV] = "INSERT INTO feed_osv (feed_id, osv_id, modified, published, withdrawn,"
               " summary, severity) VALUES (?,?,?,?,?,?,?)",
    [FS_ALIAS] = "INSERT OR IGNORE INTO feed_osv_aliases (osv, alias, kind) VALUES (?,?,?)",
    [FS_AFFECTED] = "INSERT INTO feed_osv_affected (osv, ecosystem, package, versions)"
                    " VALUES (?,?,?,?)",
    [FS_RANGE] = "INSERT INTO feed_osv_ranges (affected, type, repo, introduced, fixed,"
                 " last_affected) VALUES (?,?,?,?,?,?)",
    [FS_CVSS] = "INSERT OR IGNORE INTO feed_cvss (feed_id, cve, source, vector, base_score,"
                " severity) VALUES (?,?,?,?,?,?)",
    [FS_EPSS] = "INSERT INTO feed_epss (feed_id, cve, epss, percentile) VALUES (?,?,?,?)",
    [FS_KEV] = "INSERT INTO feed_kev (feed_id, cve, vendor, product, name, date_added,"
               " due_date, ransomware) VALUES (?,?,?,?,?,?,?,?)",
};

static const char *const fs_count_names[FS_NSTMT] = {"tracker",     "tracker_cves", "osv",
                                                     "osv_aliases", "osv_affected", "osv_ranges",
                                                     "cvss",        "epss",         "kev"};

struct fs_import {
	struct store *st;
	sqlite3_int64 feed_id;
	sqlite3_stmt *s[FS_NSTMT];
	size_t n[FS_NSTMT];
};

static void bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Steps an insert; a constraint is the input's fault (what says which). */
static int fs_step(struct fs_import *im, enum fs_stmt k, const char *dup, struct pl_err *err)
{
	sqlite3_stmt *s = im->s[k];
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == SQLITE_DONE) {
		im->n[k] += sqlite3_changes(im->st->db) > 0;
		return 0;
	}
	if (rc == SQLITE_CONSTRAINT && dup)
		return pl_error(err, PL_EINVAL, "%s", dup);
	return store_error(im->st, err, "writing a feed row");
}

static int fs_tracker(void *ctx, const struct detect_tracker_entry *e, struct pl_err *err)
{
	struct fs_import *im = ctx;
	sqlite3_stmt *s = im->s[FS_TRACKER], *c = im->s[FS_TRACKER_CVE];

	sqlite3_bind_int64(s, 1, im->feed_id);
	bind_opt(s, 2, e->release);
	bind_opt(s, 3, e->source);
	bind_opt(s, 4, e->cve);
	bind_opt(s, 5, e->status);
	bind_opt(s, 6, e->fixed_version);
	bind_opt(s, 7, e->urgency);
	bind_opt(s, 8, e->nodsa);
	bind_opt(s, 9, e->nodsa_reason);
	if (fs_step(im, FS_TRACKER, "entry listed twice", err) < 0)
		return PL_EINVAL;
	sqlite3_bind_int64(c, 1, im->feed_id);
	bind_opt(c, 2, e->source);
	bind_opt(c, 3, e->cve);
	bind_opt(c, 4, e->description);
	bind_opt(c, 5, e->scope);
	if (e->debianbug > 0)
		sqlite3_bind_int64(c, 6, e->debianbug);
	return fs_step(im, FS_TRACKER_CVE, NULL, err);
}

/* The advisory's CVE ids: its own id, its aliases and upstream ids that are
 * CVEs; or, with none, its own id (the CVSS rows are keyed by it). */
static size_t osv_cves(const struct detect_osv_advisory *a, const char **out)
{
	size_t n = 0, total = a->naliases + a->nupstream;

	if (detect_is_cve(a->id))
		out[n++] = a->id;
	for (size_t i = 0; i < total; i++) {
		size_t k;

		if (!detect_is_cve(a->aliases[i]))
			continue;
		for (k = 0; k < n && strcmp(out[k], a->aliases[i]) != 0; k++)
			;
		if (k == n)
			out[n++] = a->aliases[i];
	}
	if (n == 0)
		out[n++] = a->id;
	return n;
}

static int fs_osv_cvss(struct fs_import *im, const struct detect_osv_advisory *a,
                       struct pl_err *err)
{
	PL_AUTOFREE const char **cves = pl_calloc(a->naliases + a->nupstream + 2, sizeof(char *));
	size_t n = osv_cves(a, cves);

	for (size_t i = 0; i < a->nseverity; i++) {
		const struct detect_osv_severity *sv = &a->severity[i];

		if (sv->score10 < 0)
			continue;
		for (size_t k = 0; k < n; k++) {
			sqlite3_stmt *s = im->s[FS_CVSS];

			sqlite3_bind_int64(s, 1, im->feed_id);
			bind_opt(s, 2, cves[k]);
			bind_opt(s, 3, a->id);
			bind_opt(s, 4, sv->score);
			sqlite3_bind_double(s, 5, sv->score10 / 10.0);
			bind_opt(s, 6, risk_severity_name(risk_severity_of(sv->score10)));
			if (fs_step(im, FS_CVSS, NULL, err) < 0)
				return err->code;
		}
	}
	return 0;
}

static int fs_osv_affected(struct fs_import *im, sqlite3_int64 osv,
                           const struct detect_osv_affected *af, struct pl_err *err)
{
	PL_AUTOFREE char *versions = af->versions ? json_dumps(af->versions, JSON_COMPACT) : NULL;
	sqlite3_stmt *s = im->s[FS_AFFECTED];
	sqlite3_int64 id;

	sqlite3_bind_int64(s, 1, osv);
	bind_opt(s, 2, af->ecosystem);
	bind_opt(s, 3, af->package);
	bind_opt(s, 4, versions);
	if (fs_step(im, FS_AFFECTED, NULL, err) < 0)
		return err->code;
	id = sqlite3_last_insert_rowid(im->st->db);
	for (size_t i = 0; i < af->nranges; i++) {
		const struct detect_osv_range *r = &af->ranges[i];

		s = im->s[FS_RANGE];
		sqlite3_bind_int64(s, 1, id);
		bind_opt(s, 2, r->type);
		bind_opt(s, 3, r->repo);
		bind_opt(s, 4, r->introduced);
		bind_opt(s, 5, r->fixed);
		bind_opt(s, 6, r->last_affected);
		if (fs_step(im, FS_RANGE, NULL, err) < 0)
			return err->code;
	}
	return 0;
}

static int fs_osv(void *ctx, const struct detect_osv_advisory *a, struct pl_err *err)
{
	struct fs_import *im = ctx;
	sqlite3_stmt *s = im->s[FS_OSV];
	PL_AUTOJSON json_t *sev = json_array();
	PL_AUTOFREE char *sev_text = NULL;
	PL_AUTOFREE char *dup = pl_strdupf("advisory '%s' appears twice in the feed", a->id);
	sqlite3_int64 osv;

	for (size_t i = 0; i < a->nseverity; i++)
		json_array_append_new(sev, json_pack("{s:s, s:s}", "type", a->severity[i].type,
		                                     "score", a->severity[i].score));
	sev_text = json_dumps(sev, JSON_COMPACT);
	sqlite3_bind_int64(s, 1, im->feed_id);
	bind_opt(s, 2, a->id);
	bind_opt(s, 3, a->modified);
	bind_opt(s, 4, a->published);
	bind_opt(s, 5, a->withdrawn);
	bind_opt(s, 6, a->summary);
	bind_opt(s, 7, sev_text);
	if (fs_step(im, FS_OSV, dup, err) < 0)
		return err->code;
	osv = sqlite3_last_insert_rowid(im->st->db);
	for (size_t i = 0; i < a->naliases + a->nupstream; i++) {
		s = im->s[FS_ALIAS];
		sqlite3_bind_int64(s, 1, osv);
		bind_opt(s, 2, a->aliases[i]);
		bind_opt(s, 3, i < a->naliases ? "alias" : "upstream");
		if (fs_step(im, FS_ALIAS, NULL, err) < 0)
			return err->code;
	}
	for (size_t i = 0; i < a->naffected; i++)
		if (fs_osv_affected(im, osv, &a->affected[i], err) < 0)
			return err->code;
	return fs_osv_cvss(im, a, err);
}

static int fs_epss(void *ctx, const struct detect_epss_row *r, struct pl_err *err)
{
	struct fs_import *im = ctx;
	sqlite3_stmt *s = im->s[FS_EPSS];
	PL_AUTOFREE char *dup = pl_strdupf("%s listed twice", r->cve);

	sqlite3_bind_int64(s, 1, im->feed_id);
	bind_opt(s, 2, r->cve);
	sqlite3_bind_double(s, 3, r->epss);
	sqlite3_bind_double(s, 4, r->percentile);
	return fs_step(im, FS_EPSS, dup, err);
}

static int fs_kev(void *ctx, const struct detect_kev_entry *e, struct pl_err *err)
{
	struct fs_import *im = ctx;
	sqlite3_stmt *s = im->s[FS_KEV];
	PL_AUTOFREE char *dup = pl_strdupf("%s listed twice", e->cve);

	sqlite3_bind_int64(s, 1, im->feed_id);
	bind_opt(s, 2, e->cve);
	bind_opt(s, 3, e->vendor);
	bind_opt(s, 4, e->product);
	bind_opt(s, 5, e->name);
	bind_opt(s, 6, e->date_added);
	bind_opt(s, 7, e->due_date);
	bind_opt(s, 8, e->ransomware);
	return fs_step(im, FS_KEV, dup, err);
}

static void fs_import_finish(struct fs_import *im)
{
	for (int k = 0; k < FS_NSTMT; k++) {
		sqlite3_finalize(im->s[k]);
		im->s[k] = NULL;
	}
}

/* Deletes the feed's rows (the OSV children go by cascade). */
static int fs_delete_rows(struct store *st, sqlite3_int64 id, struct pl_err *err)
{
	static const char *const tables[] = {"feed_tracker", "feed_tracker_cves", "feed_osv",
	                                     "feed_cvss",    "feed_epss",         "feed_kev"};

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		PL_AUTOFREE char *sql = pl_strdupf("DELETE FROM %s WHERE feed_id = ?", tables[i]);
		PL_AUTOSTMT sqlite3_stmt *s = NULL;

		if (store_prepare(st, sql, &s, err) < 0)
			return err->code;
		sqlite3_bind_int64(s, 1, id);
		if (store_step_done(st, s, err) < 0)
			return err->code;
	}
	return 0;
}

/* ---- the sync -------------------------------------------------------------- */

/* The feed record a sync needs. */
struct fs_feed {
	sqlite3_int64 id;
	int kind;
	char *name, *url, *release, *etag, *last_modified, *sha256;
};

static void fs_feed_clear(struct fs_feed *f)
{
	free(f->name);
	free(f->url);
	free(f->release);
	free(f->etag);
	free(f->last_modified);
	free(f->sha256);
	memset(f, 0, sizeof(*f));
}

static int fs_feed_load(struct store *st, const char *name, struct fs_feed *f, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st,
	                  "SELECT id, kind, name, url, release, etag, last_modified, sha256"
	                  " FROM feeds WHERE name = ?",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return pl_error(err, PL_ENOTFOUND, "no feed '%s'", name);
	if (rc != SQLITE_ROW)
		return store_error(st, err, "reading a feed");
	f->id = sqlite3_column_int64(s, 0);
	f->kind = detect_feed_kind_parse(store_col_text(s, 1));
	f->name = store_col_dup(s, 2);
	f->url = store_col_dup(s, 3);
	f->release = store_col_dup(s, 4);
	f->etag = store_col_dup(s, 5);
	f->last_modified = store_col_dup(s, 6);
	f->sha256 = store_col_dup(s, 7);
	if (f->kind < 0)
		return pl_error(err, PL_EINTERNAL, "feed '%s': unknown kind in the database", name);
	return 0;
}

/* A file:// URL naming a local directory: its path (percent-decoded), for
 * an OSV directory; NULL otherwise (libcurl fetches files, not trees). */
static char *file_url_dir(const char *url)
{
	struct pl_buf b = PL_BUF_INIT;
	const char *p;
	struct stat st;

	if (strncmp(url, "file://", 7) != 0)
		return NULL;
	p = url + 7;
	if (strncmp(p, "localhost/", 10) == 0)
		p += 9;
	if (*p != '/')
		return NULL;
	for (; *p; p++) {
		unsigned hi, lo;

		if (*p == '%' && sscanf(p + 1, "%1x%1x", &hi, &lo) == 2 && hi * 16 + lo != 0) {
			pl_buf_addc(&b, (char)(hi * 16 + lo));
			p += 2;
		} else {
			pl_buf_addc(&b, *p);
		}
	}
	if (stat(pl_buf_str(&b), &st) == 0 && S_ISDIR(st.st_mode))
		return pl_buf_detach(&b);
	pl_buf_release(&b);
	return NULL;
}

/* What the fetch step found. */
struct fs_fetched {
	char *path;     /* what to read */
	char *download; /* a file to remove afterwards, or NULL */
	char sha256[65];
	uint64_t bytes;
	char *etag, *last_modified;
	int not_modified;
};

static void fs_fetched_clear(struct fs_fetched *x)
{
	if (x->download)
		unlink(x->download);
	free(x->download);
	free(x->path);
	free(x->etag);
	free(x->last_modified);
	memset(x, 0, sizeof(*x));
}

static int fs_fetch(struct store *st, const struct fs_feed *f, const struct detect_sync_opts *o,
                    struct fs_fetched *x, struct pl_err *err)
{
	struct net_fetch_opts no = {0};
	struct net_fetch_result nr = {0};
	PL_AUTOFREE char *dir = pl_path_join(st->dir, "feeds");
	struct stat sb;
	int rc;

	if (!is_url(f->url) || (x->path = file_url_dir(f->url))) {
		if (!x->path)
			x->path = pl_strdup(f->url);
		if (stat(x->path, &sb) < 0)
			return pl_error(err, errno == ENOENT ? PL_ENOTFOUND : PL_EIO, "%s: %s",
			                x->path, strerror(errno));
		if (S_ISDIR(sb.st_mode))
			return 0;
		x->bytes = (uint64_t)sb.st_size;
		return pl_sha256_file(x->path, x->sha256, err);
	}
	if (pl_mkdir_p(dir, 0700, err) < 0)
		return err->code;
	x->download = pl_strdupf("%s/%s.download", dir, f->name);
	x->path = pl_strdup(x->download);
	no.etag = f->etag;
	no.last_modified = f->last_modified;
	no.progress = o->progress;
	no.label = f->name;
	no.timeout_s = o->timeout_s;
	no.max_bytes = DETECT_FEED_MAX_BYTES;
	rc = net_fetch(f->url, x->download, &no, &nr, err);
	if (rc == 0) {
		x->not_modified = nr.not_modified;
		x->bytes = nr.bytes;
		memcpy(x->sha256, nr.sha256, sizeof(x->sha256));
		x->etag = PL_STEAL(nr.etag);
		x->last_modified = PL_STEAL(nr.last_modified);
	}
	net_fetch_result_release(&nr);
	return rc;
}

/* Records a check that changed nothing (304, or the same bytes). */
static int fs_touch(struct store *st, const struct fs_feed *f, const struct fs_fetched *x,
                    const char *now, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;

	if (store_prepare(st,
	                  "UPDATE feeds SET checked_at = ?,"
	                  " etag = coalesce(?, etag), last_modified = coalesce(?, last_modified)"
	                  " WHERE id = ?",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, now, -1, SQLITE_STATIC);
	bind_opt(s, 2, x->etag);
	bind_opt(s, 3, x->last_modified);
	sqlite3_bind_int64(s, 4, f->id);
	return store_step_done(st, s, err);
}

static int fs_record(struct store *st, const struct fs_feed *f, const struct fs_fetched *x,
                     const char *now, const char *counts, const char *info, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;

	if (store_prepare(st,
	                  "UPDATE feeds SET etag = ?, last_modified = ?, sha256 = ?, bytes = ?,"
	                  " synced_at = ?, checked_at = ?, counts = ?, info = ? WHERE id = ?",
	                  &s, err) < 0)
		return err->code;
	bind_opt(s, 1, x->etag);
	bind_opt(s, 2, x->last_modified);
	bind_opt(s, 3, x->sha256[0] ? x->sha256 : NULL);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)x->bytes);
	sqlite3_bind_text(s, 5, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, counts, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, info, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, f->id);
	return store_step_done(st, s, err);
}

/* Which row kinds a feed of kind writes (its counts show only these). */
static int fs_kind_writes(int kind, int k)
{
	switch (kind) {
	case DETECT_FEED_TRACKER:
		return k == FS_TRACKER || k == FS_TRACKER_CVE;
	case DETECT_FEED_OSV:
		return k == FS_OSV || k == FS_ALIAS || k == FS_AFFECTED || k == FS_RANGE ||
		       k == FS_CVSS;
	case DETECT_FEED_EPSS:
		return k == FS_EPSS;
	default:
		return k == FS_KEV;
	}
}

/* Deletes the old rows, streams the new ones in, records the feed: one
 * transaction, rolled back on any error. */
static int fs_import(struct store *st, const struct fs_feed *f, const struct fs_fetched *x,
                     const struct detect_sync_opts *o, const char *now,
                     struct detect_sync_result *res, struct pl_err *err)
{
	struct fs_import im = {.st = st, .feed_id = f->id};
	PL_AUTOJSON json_t *info = json_object();
	PL_AUTOFREE char *counts_text = NULL, *info_text = NULL;
	struct detect_sink sink = {fs_tracker, fs_osv, fs_epss, fs_kev, &im, info};
	json_t *counts = json_object();
	double t0;
	int rc;

	/* a big feed's indexes outgrow SQLite's default 2 MiB page cache many
	 * times over; spilling them mid-transaction costs more than the parse */
	store_exec(st, "PRAGMA cache_size = -" FS_CACHE_KIB, NULL);
	rc = store_begin(st, err);

	for (int k = 0; rc == 0 && k < FS_NSTMT; k++)
		rc = store_prepare(st, fs_sql[k], &im.s[k], err);
	if (rc == 0)
		rc = fs_delete_rows(st, f->id, err);
	if (rc == 0)
		rc = detect_feed_read(f->kind, x->path, x->download ? f->url : NULL, f->release,
		                      &sink, o->progress, NULL, err);
	for (int k = 0; k < FS_NSTMT; k++)
		if (fs_kind_writes(f->kind, k))
			json_object_set_new(counts, fs_count_names[k],
			                    json_integer((json_int_t)im.n[k]));
	counts_text = json_dumps(counts, JSON_COMPACT);
	info_text = json_dumps(info, JSON_COMPACT | JSON_SORT_KEYS);
	if (rc == 0)
		rc = fs_record(st, f, x, now, counts_text, info_text, err);
	fs_import_finish(&im);
	if (rc == 0) {
		t0 = pl_progress_begin(o->progress, "commit", "%s", f->name);
		rc = store_commit(st, err);
		pl_progress_end(o->progress, "commit", rc, t0);
	}
	store_exec(st, "PRAGMA cache_size = -2000", NULL);
	if (rc < 0) {
		store_rollback(st);
		json_decref(counts);
		return rc;
	}
	res->counts = counts;
	return 0;
}

int detect_feedstore_sync(struct store *st, const char *name, const struct detect_sync_opts *o,
                          struct detect_sync_result *res, struct pl_err *err)
{
	static const struct detect_sync_opts none = {0};
	struct fs_feed f = {0};
	struct fs_fetched x = {0};
	double t0 = pl_monotonic();
	char now[21];
	int rc;

	memset(res, 0, sizeof(*res));
	if (!o)
		o = &none;
	pl_time_iso(pl_clock_now(o->clock), now);
	rc = fs_feed_load(st, name, &f, err);
	if (rc == 0)
		rc = fs_fetch(st, &f, o, &x, err);
	if (rc == 0 && !o->force &&
	    (x.not_modified || (x.sha256[0] && f.sha256 && strcmp(x.sha256, f.sha256) == 0))) {
		res->not_modified = x.not_modified;
		res->unchanged = !x.not_modified;
		rc = fs_touch(st, &f, &x, now, err);
	} else if (rc == 0 && x.not_modified) {
		/* --force after a 304: read again without validators */
		free(f.etag);
		free(f.last_modified);
		f.etag = f.last_modified = NULL;
		fs_fetched_clear(&x);
		rc = fs_fetch(st, &f, o, &x, err);
		if (rc == 0)
			rc = fs_import(st, &f, &x, o, now, res, err);
	} else if (rc == 0) {
		rc = fs_import(st, &f, &x, o, now, res, err);
	}
	res->bytes = x.bytes;
	res->seconds = pl_monotonic() - t0;
	fs_fetched_clear(&x);
	fs_feed_clear(&f);
	if (rc < 0)
		return pl_error_prefix(err, "feed '%s'", name);
	return 0;
}
