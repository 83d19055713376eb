/* repos.c - the configured repositories: checks, rows, and apt sources. */
#include "repo-private.h"

#include <ctype.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/file.h>
#include <sys/stat.h>

/* ---- small shared helpers ------------------------------------------------ */

void repo_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

size_t repo_strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int repo_strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

char **repo_strv_add(char **v, const char *s)
{
	size_t n = repo_strv_len(v);

	if (repo_strv_has(v, s))
		return v;
	v = pl_realloc(v, (n + 2) * sizeof(*v));
	v[n] = pl_strdup(s);
	v[n + 1] = NULL;
	return v;
}

json_t *repo_strv_json(char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

char **repo_strv_from_json(const char *text)
{
	PL_AUTOJSON json_t *j = json_loads(text, 0, NULL);
	char **v = pl_calloc(1, sizeof(*v));
	json_t *e;
	size_t i;

	if (!json_is_array(j))
		return v;
	json_array_foreach(j, i, e) if (json_is_string(e)) v =
	    repo_strv_add(v, json_string_value(e));
	return v;
}

char *repo_dir(struct store *st, const char *name)
{
	return pl_strdupf("%s/repos/%s", st->dir, name);
}

int repo_lock(const char *dir, const char *name, int *fd, struct pl_err *err)
{
	PL_AUTOFREE char *path = pl_path_join(dir, ".lock");

	*fd = -1;
	if (pl_mkdir_p(dir, 0750, err) < 0)
		return err->code;
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (*fd < 0)
		return pl_error(err, PL_EIO, "%s: %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(*fd);
		*fd = -1;
		return e == EWOULDBLOCK
		           ? pl_error(err, PL_ESTATE,
		                      "repository '%s' is being synced by another process", name)
		           : pl_error(err, PL_EIO, "%s: %s", path, strerror(e));
	}
	return 0;
}

static int rmtree_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

int repo_rmtree(const char *path, struct pl_err *err)
{
	if (!pl_path_exists(path))
		return 0;
	if (nftw(path, rmtree_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return pl_error(err, PL_EIO, "cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

void repo_bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

void repo_clear(struct repo *r)
{
	free(r->name);
	free(r->uri);
	repo_strv_free(r->suites);
	repo_strv_free(r->components);
	repo_strv_free(r->architectures);
	free(r->keyring);
	free(r->origin);
	free(r->created_at);
	memset(r, 0, sizeof(*r));
}

/* ---- checks ------------------------------------------------------------- */

/* s is 1..max bytes of allowed characters, starting with a letter or digit. */
static const char *word_problem(const char *s, size_t max, const char *allowed)
{
	size_t n = strlen(s);

	if (n == 0)
		return "empty";
	if (n > max)
		return "too long";
	if (!isalnum((unsigned char)s[0]))
		return "must start with a letter or digit";
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(allowed, s[i]))
			return "has a character outside the allowed ones";
	if (strstr(s, ".."))
		return "contains '..'";
	if (strstr(s, "//"))
		return "contains '//'";
	return NULL;
}

static int check_keyring(const char *path, struct pl_err *err)
{
	struct stat sb;

	if (path[0] != '/')
		return pl_error(err, PL_EUSAGE, "--keyring: '%s' is not an absolute path", path);
	if (stat(path, &sb) < 0)
		return pl_error(err, PL_EUSAGE, "--keyring: %s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return pl_error(err, PL_EUSAGE, "--keyring: %s: not a regular file", path);
	if (access(path, R_OK) < 0)
		return pl_error(err, PL_EUSAGE, "--keyring: %s: %s", path, strerror(errno));
	return 0;
}

int repo_field_check(const char *what, const char *value, struct pl_err *err)
{
	const char *why = NULL;

	if (strcmp(what, "url") == 0) {
		if (net_url_check(value, NULL, err) < 0) {
			pl_error_prefix(err, "--url");
			return err->code = PL_EUSAGE;
		}
		return 0;
	}
	if (strcmp(what, "keyring") == 0)
		return check_keyring(value, err);
	if (strcmp(what, "name") == 0) {
		why = word_problem(value, 64, "._+-");
		for (const char *p = value; !why && *p; p++)
			if (isupper((unsigned char)*p))
				why = "must be lower case";
		if (why)
			return pl_error(err, PL_EUSAGE,
			                "repository name '%.80s': %s (letters, digits, '.', '_', "
			                "'+', '-')",
			                value, why);
		return 0;
	}
	if (strcmp(what, "suite") == 0) {
		size_t n = strlen(value);

		if (n > 0 && value[n - 1] == '/')
			return pl_error(err, PL_EUSAGE,
			                "--suite '%.80s': flat repositories (a suite ending in "
			                "'/') are not supported",
			                value);
		why = word_problem(value, 100, "._+~/-");
	} else if (strcmp(what, "component") == 0) {
		why = word_problem(value, 100, "._+/-");
	} else if (strcmp(what, "arch") == 0) {
		why = word_problem(value, 32, "-");
		for (const char *p = value; !why && *p; p++)
			if (isupper((unsigned char)*p))
				why = "must be lower-case letters, digits and '-'";
	} else {
		return pl_error(err, PL_EINTERNAL, "unknown repository field '%s'", what);
	}
	if (why)
		return pl_error(err, PL_EUSAGE, "--%s '%.80s': %s", what, value, why);
	return 0;
}

static int check_list(const char *what, char *const *v, struct pl_err *err)
{
	if (!v || !v[0])
		return pl_error(err, PL_EUSAGE, "at least one --%s is needed", what);
	for (size_t i = 0; v[i]; i++) {
		if (repo_field_check(what, v[i], err) < 0)
			return err->code;
		for (size_t k = 0; k < i; k++)
			if (strcmp(v[k], v[i]) == 0)
				return pl_error(err, PL_EUSAGE, "--%s '%s' is given twice", what,
				                v[i]);
	}
	return 0;
}

char *repo_default_arch(void)
{
	const char *argv[] = {"dpkg", "--print-architecture", NULL};
	PL_AUTOBUF struct pl_buf out = PL_BUF_INIT;
	struct pl_run_opts o = {.out = &out, .timeout = 10};
	int status = 1;

	if (pl_have_program("dpkg") && pl_run(argv, &o, &status, NULL) == 0 && status == 0) {
		size_t n = strcspn(pl_buf_str(&out), " \t\r\n");

		if (n > 0)
			return pl_strndup(pl_buf_str(&out), n);
	}
#if defined(__x86_64__)
	return pl_strdup("amd64");
#elif defined(__aarch64__)
	return pl_strdup("arm64");
#elif defined(__i386__)
	return pl_strdup("i386");
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return pl_strdup("ppc64el");
#elif defined(__s390x__)
	return pl_strdup("s390x");
#elif defined(__arm__)
	return pl_strdup("armhf");
#else
	return pl_strdup("all");
#endif
}

/* ---- from the apt sources ------------------------------------------------ */

/* The keyring of a source's Signed-By: only a path can be used here. */
static int source_keyring(const struct repo_source *s, const char **out, struct pl_err *err)
{
	*out = NULL;
	if (!s->signed_by)
		return 0;
	if (s->signed_by[0] != '/' || strpbrk(s->signed_by, " \t\n"))
		return pl_error(err, PL_EUSAGE,
		                "%s:%zu: Signed-By is not one keyring path (an inline key or "
		                "fingerprints): give --keyring",
		                s->file, s->line);
	*out = s->signed_by;
	return 0;
}

/* Adds the suites of s at uri that are asked for (or all) to r. */
static int from_source(const struct repo_source *s, const char *uri, const char *const *suites,
                       const char **keyring, int *any_keyring, struct repo *r, struct pl_err *err)
{
	const char *kr;
	int used = 0;

	for (size_t k = 0; s->suites[k]; k++) {
		int wanted = !suites;

		for (size_t i = 0; suites && suites[i]; i++)
			wanted |= strcmp(suites[i], s->suites[k]) == 0;
		if (!wanted)
			continue;
		if (r->uri && strcmp(r->uri, uri) != 0) {
			if (!suites)
				continue;
			return pl_error(err, PL_EUSAGE,
			                "suite '%s' comes from %s (%s:%zu), others from %s: add "
			                "them as separate repositories",
			                s->suites[k], uri, s->file, s->line, r->uri);
		}
		if (!r->uri)
			r->uri = pl_strdup(uri);
		r->suites = repo_strv_add(r->suites, s->suites[k]);
		used = 1;
	}
	if (!used)
		return 0;
	for (size_t k = 0; s->components[k]; k++)
		r->components = repo_strv_add(r->components, s->components[k]);
	if (r->keyring) /* --keyring overrides every Signed-By */
		return 0;
	if (source_keyring(s, &kr, err) < 0)
		return err->code;
	if (*any_keyring && ((!kr) != (!*keyring) || (kr && strcmp(kr, *keyring) != 0)))
		return pl_error(err, PL_EUSAGE,
		                "%s:%zu: Signed-By differs from the other sources of these suites: "
		                "add them separately or give --keyring",
		                s->file, s->line);
	*keyring = kr;
	*any_keyring = 1;
	return 0;
}

int repo_from_apt_sources(const struct repo_source_list *l, const char *const *suites,
                          const char *keyring, struct repo *r, struct pl_err *err)
{
	const char *signed_by = NULL;
	int any = 0;

	free(r->keyring);
	r->keyring = keyring ? pl_strdup(keyring) : NULL;
	for (size_t i = 0; i < l->n; i++) {
		const struct repo_source *s = &l->v[i];

		for (size_t u = 0; s->deb && s->uris[u]; u++) {
			PL_AUTOFREE char *uri = NULL;

			if (net_url_check(s->uris[u], &uri, err) < 0)
				return pl_error_prefix(err, "%s:%zu", s->file, s->line);
			if (from_source(s, uri, suites, &signed_by, &any, r, err) < 0)
				return err->code;
		}
	}
	for (size_t i = 0; suites && suites[i]; i++)
		if (!repo_strv_has(r->suites, suites[i]))
			return pl_error(err, PL_ENOTFOUND,
			                "no enabled 'deb' source for suite '%s' in the apt sources",
			                suites[i]);
	if (!r->uri)
		return pl_error(err, PL_ENOTFOUND, "no enabled 'deb' source in the apt sources");
	if (!r->components || !r->components[0])
		return pl_error(err, PL_EUSAGE,
		                "the apt source of %s has no components (a flat repository)",
		                r->uri);
	if (!r->keyring)
		r->keyring = pl_strdup(signed_by ? signed_by : REPO_DEFAULT_KEYRING);
	free(r->origin);
	r->origin = pl_strdup("apt-sources");
	return 0;
}

/* ---- rows ---------------------------------------------------------------- */

static int repo_check(const struct repo *r, struct pl_err *err)
{
	if (repo_field_check("name", r->name ? r->name : "", err) < 0 ||
	    repo_field_check("url", r->uri ? r->uri : "", err) < 0 ||
	    check_list("suite", r->suites, err) < 0 ||
	    check_list("component", r->components, err) < 0 ||
	    check_list("arch", r->architectures, err) < 0 ||
	    repo_field_check("keyring", r->keyring ? r->keyring : "", err) < 0)
		return err->code;
	return 0;
}

/* A vector as compact JSON text (caller frees). */
static char *strv_dump(char *const *v)
{
	json_t *a = repo_strv_json(v);
	char *text = json_dumps(a, JSON_COMPACT);

	json_decref(a);
	return text ? text : pl_strdup("[]");
}

int repo_add(struct store *st, struct repo *r, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *uri = NULL, *real = NULL, *sv = NULL, *cv = NULL, *av = NULL;
	char now[21];

	if (repo_check(r, err) < 0)
		return err->code;
	net_url_check(r->uri, &uri, err);
	free(r->uri);
	r->uri = PL_STEAL(uri);
	real = realpath(r->keyring, NULL);
	if (real) {
		free(r->keyring);
		r->keyring = PL_STEAL(real);
	}
	if (!r->origin)
		r->origin = pl_strdup("url");
	pl_time_iso(pl_clock_now(NULL), now);
	free(r->created_at);
	r->created_at = pl_strdup(now);
	if (store_prepare(st,
	                  "INSERT INTO repos(name, uri, suites, components, architectures, keyring,"
	                  " origin, created_at) VALUES (?,?,?,?,?,?,?,?)",
	                  &s, err) < 0)
		return PL_EDB;
	sv = strv_dump(r->suites);
	cv = strv_dump(r->components);
	av = strv_dump(r->architectures);
	sqlite3_bind_text(s, 1, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->uri, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, sv, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, cv, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, av, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r->keyring, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, r->origin, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return sqlite3_errcode(st->db) == SQLITE_CONSTRAINT
		           ? pl_error(err, PL_EEXIST, "a repository named '%s' exists already",
		                      r->name)
		           : store_error(st, err, "adding the repository");
	r->id = (long)sqlite3_last_insert_rowid(st->db);
	return 0;
}

static const char REPO_COLS[] =
    "id, name, uri, suites, components, architectures, keyring, origin, created_at";

static void repo_from_row(sqlite3_stmt *s, struct repo *r)
{
	r->id = (long)sqlite3_column_int64(s, 0);
	r->name = pl_strdup(store_col_text(s, 1));
	r->uri = pl_strdup(store_col_text(s, 2));
	r->suites = repo_strv_from_json(store_col_text(s, 3));
	r->components = repo_strv_from_json(store_col_text(s, 4));
	r->architectures = repo_strv_from_json(store_col_text(s, 5));
	r->keyring = pl_strdup(store_col_text(s, 6));
	r->origin = pl_strdup(store_col_text(s, 7));
	r->created_at = pl_strdup(store_col_text(s, 8));
}

int repo_get(struct store *st, const char *name, struct repo *out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *sql = pl_strdupf("SELECT %s FROM repos WHERE name = ?", REPO_COLS);
	int rc;

	memset(out, 0, sizeof(*out));
	if (store_prepare(st, sql, &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		repo_from_row(s, out);
		return 0;
	}
	if (rc != SQLITE_DONE)
		return store_error(st, err, "reading a repository");
	return pl_error(err, PL_ENOTFOUND, "no repository named '%s'", name);
}

int repo_names(struct store *st, char ***out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	char **v = pl_calloc(1, sizeof(*v));
	int rc;

	*out = NULL;
	if (store_prepare(st, "SELECT name FROM repos ORDER BY name", &s, err) < 0) {
		free(v);
		return PL_EDB;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		v = repo_strv_add(v, store_col_text(s, 0));
	if (rc != SQLITE_DONE) {
		repo_strv_free(v);
		return store_error(st, err, "listing repositories");
	}
	*out = v;
	return 0;
}

static json_t *repo_json(const struct repo *r)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s}", "name", r->name, "uri", r->uri,
	                 "suites", repo_strv_json(r->suites), "components",
	                 repo_strv_json(r->components), "architectures",
	                 repo_strv_json(r->architectures), "keyring", r->keyring, "origin",
	                 r->origin, "created_at", r->created_at);
}

static json_t *col_or_null(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? json_null()
	                                                : json_string(store_col_text(s, i));
}

int repo_list(struct store *st, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *sql = pl_strdupf(
	    "SELECT %s, (SELECT count(*) FROM repo_indexes i WHERE i.repo_id = repos.id),"
	    " (SELECT max(ended_at) FROM repo_syncs y WHERE y.repo_id = repos.id)"
	    " FROM repos ORDER BY name",
	    REPO_COLS);
	json_t *arr;
	int rc;

	if (store_prepare(st, sql, &s, err) < 0)
		return PL_EDB;
	arr = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct repo r = {0};
		json_t *j;

		repo_from_row(s, &r);
		j = repo_json(&r);
		json_object_set_new(j, "indexes", json_integer(sqlite3_column_int64(s, 9)));
		json_object_set_new(j, "last_sync", col_or_null(s, 10));
		json_array_append_new(arr, j);
		repo_clear(&r);
	}
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_error(st, err, "listing repositories");
	}
	*out = arr;
	return 0;
}

static json_t *path_json(struct store *st, const char *rel)
{
	PL_AUTOFREE char *abs = pl_path_join(st->dir, rel);

	return json_string(abs);
}

/* Rows of sql (one parameter: the repo id) as objects named by keys;
 * types has one letter per column: s text, i integer, r real, p a path
 * relative to the state directory (made absolute). */
static int rows_json(struct store *st, const char *sql, long id, const char *const *keys,
                     const char *types, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *arr;
	int rc;

	if (store_prepare(st, sql, &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, id);
	arr = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *o = json_object();

		for (int i = 0; keys[i]; i++) {
			json_t *v;

			if (sqlite3_column_type(s, i) == SQLITE_NULL)
				v = json_null();
			else if (types[i] == 'i')
				v = json_integer(sqlite3_column_int64(s, i));
			else if (types[i] == 'r')
				v = json_real(sqlite3_column_double(s, i));
			else if (types[i] == 'p')
				v = path_json(st, store_col_text(s, i));
			else
				v = json_string(store_col_text(s, i));
			json_object_set_new(o, keys[i], v ? v : json_null());
		}
		json_array_append_new(arr, o);
	}
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_error(st, err, "reading a repository");
	}
	*out = arr;
	return 0;
}

int repo_show(struct store *st, const char *name, json_t **out, struct pl_err *err)
{
	static const char *const rel_keys[] = {
	    "suite",   "file",          "path",      "sha256", "size",
	    "signers", "release_suite", "codename",  "date",   "valid_until",
	    "etag",    "last_modified", "synced_at", NULL};
	static const char *const ix_keys[] = {"suite",         "component", "arch", "name",
	                                      "path",          "sha256",    "size", "etag",
	                                      "last_modified", "synced_at", NULL};
	static const char *const sync_keys[] = {"started_at", "ended_at", "fetched", "not_modified",
	                                        "bytes",      "seconds",  NULL};
	struct repo r;
	json_t *j, *rel = NULL, *ix = NULL, *sy = NULL;

	*out = NULL;
	if (repo_get(st, name, &r, err) < 0)
		return err->code;
	if (rows_json(
	        st,
	        "SELECT suite, file, path, sha256, size, signers, release_suite, codename,"
	        " release_date, valid_until, etag, last_modified, synced_at FROM repo_releases"
	        " WHERE repo_id = ? ORDER BY suite",
	        r.id, rel_keys, "sspsissssssss", &rel, err) < 0 ||
	    rows_json(
	        st,
	        "SELECT suite, component, arch, name, path, sha256, size, etag, last_modified,"
	        " synced_at FROM repo_indexes WHERE repo_id = ?"
	        " ORDER BY suite, component, arch",
	        r.id, ix_keys, "sssspsisss", &ix, err) < 0 ||
	    rows_json(st,
	              "SELECT started_at, ended_at, fetched, not_modified, bytes, seconds"
	              " FROM repo_syncs WHERE repo_id = ? ORDER BY id DESC LIMIT 5",
	              r.id, sync_keys, "ssiiir", &sy, err) < 0) {
		json_decref(rel);
		json_decref(ix);
		repo_clear(&r);
		return err->code;
	}
	j = repo_json(&r);
	json_object_set_new(j, "releases", rel);
	json_object_set_new(j, "indexes", ix);
	json_object_set_new(j, "syncs", sy);
	repo_clear(&r);
	*out = j;
	return 0;
}

int repo_remove(struct store *st, const char *name, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *dir = NULL;
	PL_AUTOFD int lock = -1;
	struct repo r;

	if (repo_get(st, name, &r, err) < 0)
		return err->code;
	repo_clear(&r);
	dir = repo_dir(st, name);
	if (repo_lock(dir, name, &lock, err) < 0)
		return err->code;
	if (store_prepare(st, "DELETE FROM repos WHERE name = ?", &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (store_step_done(st, s, err) < 0)
		return err->code;
	/* the rows are gone: the files are garbage now, removed last */
	return repo_rmtree(dir, err);
}
