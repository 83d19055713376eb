/* candidate.c - the patch store, candidates and their state machine. */
#include "candidate.h"

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "pkgdb/pkgdb.h"
#include "version/version.h"

/* Every allowed move; anything else is refused. */
static const struct {
	const char *from, *to;
} transitions[] = {
	{"new", "testing"},           {"passed", "testing"},      {"failed", "testing"},
	{"testing", "passed"},        {"testing", "failed"},      {"passed", "approved"},
	{"passed", "rejected"},       {"failed", "rejected"},     {"approved", "scheduled"},
	/* only the gate moves a failed candidate on: every failure waived by policy */
	{"failed", "approved"},
	{"approved", "rejected"},     {"scheduled", "rolling-out"}, {"scheduled", "rejected"},
	{"rolling-out", "deployed"},  {"rolling-out", "halted"},  {"halted", "rolling-out"},
	{"halted", "rolled-back"},    {"rolling-out", "rolled-back"},
	/* a rollout halted before its first wave, and resumed */
	{"scheduled", "halted"},      {"halted", "scheduled"},
};

int candidate_transition_ok(const char *from, const char *to)
{
	for (size_t i = 0; i < sizeof(transitions) / sizeof(transitions[0]); i++)
		if (strcmp(transitions[i].from, from) == 0 && strcmp(transitions[i].to, to) == 0)
			return 1;
	return 0;
}

int candidate_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && isalnum((unsigned char)s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

void patch_clear(struct patch *p)
{
	free(p->sha256);
	free(p->package);
	free(p->version);
	free(p->arch);
	free(p->source);
	free(p->source_version);
	free(p->path);
	free(p->origin);
	memset(p, 0, sizeof(*p));
}

void candidate_clear(struct candidate *c)
{
	for (size_t i = 0; i < c->npatches; i++)
		patch_clear(&c->patches[i]);
	free(c->patches);
	free(c->name);
	free(c->state);
	free(c->created_at);
	free(c->updated_at);
	memset(c, 0, sizeof(*c));
}

/* Source: "name (version)", "name", or absent (the binary's own). */
static void patch_source(struct patch *p, const char *src)
{
	const char *paren;

	if (!src || !*src) {
		p->source = pl_strdup(p->package);
		p->source_version = pl_strdup(p->version);
		return;
	}
	paren = strchr(src, '(');
	if (!paren) {
		p->source = pl_strdup(src);
		p->source_version = pl_strdup(p->version);
		return;
	}
	p->source = pl_strndup(src, (size_t)(paren - src));
	while (*p->source && p->source[strlen(p->source) - 1] == ' ')
		p->source[strlen(p->source) - 1] = '\0';
	p->source_version = pl_strndup(paren + 1, strcspn(paren + 1, ")"));
}

/* The control fields of a .deb, as dpkg-deb reads them. */
static int patch_control(const char *deb, struct patch *p, struct pl_err *err)
{
	struct pl_buf out = PL_BUF_INIT;
	struct pl_run_opts ro = {.out = &out, .timeout = 60};
	const char *argv[] = {"dpkg-deb", "--field", deb, "Package", "Version", "Architecture",
			      "Source", NULL};
	struct pkgdb_deb822 parser;
	struct pkgdb_stanza s;
	const char *msg;
	struct version_deb v;
	int status = 0, rc = pl_run(argv, &ro, &status, err);

	if (rc == 0 && status != 0)
		rc = pl_error(err, PL_EINVAL, "%s: not a valid .deb (dpkg-deb exit %d)", deb, status);
	if (rc == 0) {
		pkgdb_deb822_init(&parser, out.s ? out.s : "", out.len, deb);
		rc = pkgdb_deb822_next(&parser, &s, err);
		if (rc == 1) {
			PL_AUTOFREE char *src = pkgdb_field_dup(pkgdb_stanza_get(&s, "Source"));

			p->package = pkgdb_field_dup(pkgdb_stanza_get(&s, "Package"));
			p->version = pkgdb_field_dup(pkgdb_stanza_get(&s, "Version"));
			p->arch = pkgdb_field_dup(pkgdb_stanza_get(&s, "Architecture"));
			rc = 0;
			if (!p->package || !p->version || !p->arch)
				rc = pl_error(err, PL_EINVAL,
					      "%s: control lacks Package, Version or Architecture", deb);
			else if (version_deb_parse(p->version, strlen(p->version), &v, &msg) < 0)
				rc = pl_error(err, PL_EINVAL, "%s: version '%s': %s", deb, p->version,
					      msg);
			else
				patch_source(p, src);
		} else if (rc == 0) {
			rc = pl_error(err, PL_EINVAL, "%s: empty control", deb);
		}
		pkgdb_deb822_release(&parser);
	}
	pl_buf_release(&out);
	return rc;
}

/* Copies deb to STATE/patches/XX/SHA.deb (atomically; kept if present). */
static int patch_copy(struct store *st, const char *deb, const char *sha, char **path,
		      struct pl_err *err)
{
	PL_AUTOFREE char *dir = pl_strdupf("%s/patches/%.2s", st->dir, sha);
	PL_AUTOFREE char *data = NULL;
	size_t len;

	*path = pl_strdupf("%s/%s.deb", dir, sha);
	if (pl_path_exists(*path))
		return 0;
	if (pl_mkdir_p(dir, 0755, err) < 0 || pl_file_read(deb, &data, &len, err) < 0 ||
	    pl_file_write_atomic(*path, data, len, 0444, err) < 0)
		return err->code;
	return 0;
}

static int patch_insert(struct store *st, struct patch *p, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	char now[21];

	pl_time_iso(pl_clock_now(NULL), now);
	if (store_prepare(st,
			  "INSERT INTO patches(sha256, package, version, arch, source, source_version,"
			  " size_bytes, path, origin, added_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
			  " ON CONFLICT(sha256) DO UPDATE SET path = excluded.path RETURNING id",
			  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, p->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, p->package, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, p->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, p->arch, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, p->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, p->source_version, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, p->size);
	sqlite3_bind_text(s, 8, p->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, p->origin, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		return store_error(st, err, "registering a patch");
	p->id = (long)sqlite3_column_int64(s, 0);
	return 0;
}

/* Reads and copies one .deb, without touching the database. */
static int patch_prepare(struct store *st, const char *deb, const char *origin, struct patch *p,
			 struct pl_err *err)
{
	struct stat sb;
	char sha[65];

	memset(p, 0, sizeof(*p));
	if (stat(deb, &sb) < 0 || !S_ISREG(sb.st_mode))
		return pl_error(err, PL_ENOTFOUND, "%s: %s", deb,
				errno ? strerror(errno) : "not a regular file");
	if (patch_control(deb, p, err) < 0 || pl_sha256_file(deb, sha, err) < 0) {
		patch_clear(p);
		return err->code;
	}
	p->sha256 = pl_strdup(sha);
	p->size = sb.st_size;
	p->origin = pl_strdup(origin ? origin : deb);
	if (patch_copy(st, deb, sha, &p->path, err) < 0) {
		patch_clear(p);
		return err->code;
	}
	return 0;
}

int patch_store_add(struct store *st, const char *deb, const char *origin, struct patch *out,
		    struct pl_err *err)
{
	if (patch_prepare(st, deb, origin, out, err) < 0)
		return err->code;
	if (patch_insert(st, out, err) < 0) {
		patch_clear(out);
		return err->code;
	}
	return 0;
}

/* The audit entry of a new candidate, in the transaction that creates it. */
static int candidate_audit_create(struct store *st, const char *name, const struct patch *p,
				  size_t n, struct pl_err *err)
{
	PL_AUTOJSON json_t *d = json_pack("{s:s, s:[]}", "state", "new", "patches");

	for (size_t i = 0; i < n; i++)
		json_array_append_new(json_object_get(d, "patches"),
				      json_pack("{s:s, s:s, s:s, s:s}", "package", p[i].package,
						"version", p[i].version, "arch", p[i].arch, "sha256",
						p[i].sha256));
	return audit_append(st, NULL, "create", "candidate", name, d, err);
}

static int candidate_insert(struct store *st, const char *name, struct patch *p, size_t n,
			    long *idp, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *c = NULL, *l = NULL;
	char now[21];
	long id;

	pl_time_iso(pl_clock_now(NULL), now);
	if (store_prepare(st,
			  "INSERT INTO candidates(name, state, created_at, updated_at)"
			  " VALUES (?, 'new', ?, ?) RETURNING id",
			  &c, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(c, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(c, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(c, 3, now, -1, SQLITE_STATIC);
	if (sqlite3_step(c) != SQLITE_ROW)
		return sqlite3_errcode(st->db) == SQLITE_CONSTRAINT
			       ? pl_error(err, PL_EEXIST, "a candidate named '%s' exists already",
					  name)
			       : store_error(st, err, "creating the candidate");
	id = (long)sqlite3_column_int64(c, 0);
	*idp = id;
	if (store_prepare(st, "INSERT INTO candidate_patches(candidate_id, patch_id) VALUES (?, ?)",
			  &l, err) < 0)
		return PL_EDB;
	for (size_t i = 0; i < n; i++) {
		if (patch_insert(st, &p[i], err) < 0)
			return err->code;
		sqlite3_reset(l);
		sqlite3_bind_int64(l, 1, id);
		sqlite3_bind_int64(l, 2, p[i].id);
		if (store_step_done(st, l, err) < 0)
			return err->code;
	}
	return candidate_audit_create(st, name, p, n, err);
}

int candidate_create(struct store *st, const char *name, char *const *debs, size_t ndebs,
                     struct candidate *out, struct pl_err *err)
{
	struct candidate_deb *d = pl_calloc(ndebs + 1, sizeof(*d));
	int rc;

	for (size_t i = 0; i < ndebs; i++)
		d[i].path = debs[i];
	rc = candidate_create_from(st, name, d, ndebs, NULL, NULL, out, err);
	free(d);
	return rc;
}

int candidate_create_from(struct store *st, const char *name, const struct candidate_deb *debs,
                          size_t ndebs, candidate_create_hook hook, void *ctx,
                          struct candidate *out, struct pl_err *err)
{
	struct patch *p;
	size_t n = 0;
	long id = 0;
	int rc = 0;

	if (!candidate_name_ok(name))
		return pl_error(err, PL_EINVAL,
		                "candidate name '%s': use 1-64 of A-Z a-z 0-9 . _ -, starting "
		                "alphanumeric",
		                name);
	if (ndebs == 0)
		return pl_error(err, PL_EINVAL, "a candidate needs at least one --deb");
	p = pl_calloc(ndebs, sizeof(*p));
	for (; n < ndebs && rc == 0; n++)
		rc = patch_prepare(st, debs[n].path, debs[n].origin, &p[n], err);
	if (rc < 0)
		n--; /* the failed one cleared itself */
	for (size_t i = 0; rc == 0 && i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(p[i].package, p[j].package) == 0 &&
			    strcmp(p[i].arch, p[j].arch) == 0) {
				rc = pl_error(err, PL_EINVAL, "%s and %s are both %s:%s",
				              debs[i].path, debs[j].path, p[i].package, p[i].arch);
				break;
			}
	if (rc == 0 && store_begin(st, err) == 0) {
		rc = candidate_insert(st, name, p, n, &id, err);
		if (rc == 0 && hook)
			rc = hook(st, id, p, n, ctx, err);
		if (rc == 0)
			rc = store_commit(st, err);
		if (rc < 0)
			store_rollback(st);
	} else if (rc == 0) {
		rc = err->code;
	}
	for (size_t i = 0; i < n; i++)
		patch_clear(&p[i]);
	free(p);
	return rc < 0 ? rc : candidate_get(st, name, out, err);
}

static char *col(sqlite3_stmt *s, int i)
{
	return pl_strdup(store_col_text(s, i));
}

static int candidate_load_patches(struct store *st, struct candidate *c, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st,
			  "SELECT p.id, p.sha256, p.package, p.version, p.arch, p.source,"
			  " p.source_version, p.path, p.origin, p.size_bytes FROM patches p JOIN"
			  " candidate_patches cp ON cp.patch_id = p.id WHERE cp.candidate_id = ?"
			  " ORDER BY p.package, p.arch",
			  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, c->id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct patch *p;

		c->patches = pl_realloc(c->patches, (c->npatches + 1) * sizeof(*c->patches));
		p = &c->patches[c->npatches++];
		p->id = (long)sqlite3_column_int64(s, 0);
		p->sha256 = col(s, 1);
		p->package = col(s, 2);
		p->version = col(s, 3);
		p->arch = col(s, 4);
		p->source = col(s, 5);
		p->source_version = col(s, 6);
		p->path = col(s, 7);
		p->origin = col(s, 8);
		p->size = sqlite3_column_int64(s, 9);
	}
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "reading patches");
}

int candidate_get(struct store *st, const char *name, struct candidate *out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (store_prepare(st,
			  "SELECT id, name, state, created_at, updated_at FROM candidates"
			  " WHERE name = ?",
			  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return pl_error(err, PL_ENOTFOUND,
				"no candidate '%s' (see 'patchlab candidate list')", name);
	if (rc != SQLITE_ROW)
		return store_error(st, err, "reading candidates");
	out->id = (long)sqlite3_column_int64(s, 0);
	out->name = col(s, 1);
	out->state = col(s, 2);
	out->created_at = col(s, 3);
	out->updated_at = col(s, 4);
	if (candidate_load_patches(st, out, err) < 0) {
		candidate_clear(out);
		return err->code;
	}
	return 0;
}

json_t *candidate_to_json(const struct candidate *c)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "name", c->name, "state", c->state,
			      "created_at", c->created_at, "updated_at", c->updated_at);
	json_t *arr = json_array();

	for (size_t i = 0; i < c->npatches; i++) {
		const struct patch *p = &c->patches[i];

		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}",
						     "package", p->package, "version", p->version,
						     "arch", p->arch, "source", p->source,
						     "source_version", p->source_version, "sha256",
						     p->sha256, "size_bytes", (json_int_t)p->size,
						     "origin", p->origin));
	}
	json_object_set_new(j, "patches", arr);
	return j;
}

int candidate_list(struct store *st, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *arr;
	int rc;

	if (store_prepare(st,
			  "SELECT c.name, c.state, c.created_at, c.updated_at,"
			  " (SELECT count(*) FROM candidate_patches cp WHERE cp.candidate_id = c.id),"
			  " (SELECT verdict FROM lab_runs r WHERE r.candidate_id = c.id AND"
			  "  r.subset IS NULL ORDER BY r.started_at DESC LIMIT 1)"
			  " FROM candidates c ORDER BY c.name",
			  &s, err) < 0)
		return PL_EDB;
	arr = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:s, s:s, s:i, s:s?}", "name", store_col_text(s, 0),
				       "state", store_col_text(s, 1), "created_at",
				       store_col_text(s, 2), "updated_at", store_col_text(s, 3),
				       "patches", sqlite3_column_int(s, 4), "last_verdict",
				       sqlite3_column_type(s, 5) == SQLITE_NULL
					       ? NULL
					       : store_col_text(s, 5)));
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_error(st, err, "listing candidates");
	}
	*out = arr;
	return 0;
}

/* The state change and its audit entry; the caller holds the transaction. */
static int candidate_update_state(struct store *st, struct candidate *c, const char *to,
				  const char *now, const char *actor, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOJSON json_t *d = json_pack("{s:s, s:s}", "from", c->state, "to", to);

	/* the WHERE on the old state makes a concurrent change lose, not both */
	if (store_prepare(st,
			  "UPDATE candidates SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
			  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, c->id);
	sqlite3_bind_text(s, 4, c->state, -1, SQLITE_STATIC);
	if (store_step_done(st, s, err) < 0)
		return err->code;
	if (sqlite3_changes(st->db) != 1)
		return pl_error(err, PL_ESTATE, "candidate '%s' changed state meanwhile", c->name);
	return audit_append(st, actor, "set-state", "candidate", c->name, d, err);
}

int candidate_set_state(struct store *st, struct candidate *c, const char *to,
			struct pl_err *err)
{
	return candidate_set_state_by(st, c, to, NULL, err);
}

int candidate_set_state_by(struct store *st, struct candidate *c, const char *to,
			   const char *actor, struct pl_err *err)
{
	int own = sqlite3_get_autocommit(st->db); /* else the caller's transaction */
	char now[21];

	if (!candidate_transition_ok(c->state, to))
		return pl_error(err, PL_ESTATE, "candidate '%s' is %s: it cannot become %s", c->name,
				c->state, to);
	pl_time_iso(pl_clock_now(NULL), now);
	if (own && store_begin(st, err) < 0)
		return err->code;
	if (candidate_update_state(st, c, to, now, actor, err) < 0 ||
	    (own && store_commit(st, err) < 0)) {
		if (own)
			store_rollback(st);
		return err->code;
	}
	free(c->state);
	c->state = pl_strdup(to);
	free(c->updated_at);
	c->updated_at = pl_strdup(now);
	return 0;
}
