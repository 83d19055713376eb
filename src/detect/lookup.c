/*
 * lookup.c - what the feeds in the database say: per source package and
 * release (tracker), per ecosystem and package (OSV), per CVE (CVSS, EPSS,
 * KEV, and everything at once for 'feed cve'). Read-only queries over the
 * indexes of schema 6.
 */
#include "detect/detect-private.h"

#include <math.h>

/* Runs s and returns one object per row, keyed by the column names. */
static int rows_json(struct store *st, sqlite3_stmt *s, json_t *arr, struct pl_err *err)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *o = json_object();

		for (int i = 0; i < sqlite3_column_count(s); i++)
			json_object_set_new(o, sqlite3_column_name(s, i), store_col_json(s, i));
		json_array_append_new(arr, o);
	}
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "reading feed rows");
}

/* ---- tracker --------------------------------------------------------------- */

void detect_tracker_cves_free(struct detect_tracker_cve *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].cve);
		free(v[i].status);
		free(v[i].fixed_version);
		free(v[i].feed);
	}
	free(v);
}

int detect_lookup_tracker(struct store *st, const char *release, const char *source,
                          struct detect_tracker_cve **out, size_t *n, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	struct detect_tracker_cve *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (store_prepare(st,
	                  "SELECT t.cve, t.status, t.fixed_version, t.urgency, f.name"
	                  " FROM feed_tracker t JOIN feeds f ON f.id = t.feed_id"
	                  " WHERE t.release = ? AND t.source = ? ORDER BY t.cve, f.name",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, release, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, source, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct detect_tracker_cve *c;

		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			v = pl_realloc(v, cap * sizeof(*v));
		}
		c = &v[cnt++];
		c->cve = store_col_dup(s, 0);
		c->status = store_col_dup(s, 1);
		c->fixed_version = store_col_dup(s, 2);
		c->urgency = sqlite3_column_type(s, 3) == SQLITE_NULL
		                 ? DETECT_URG_MEDIUM
		                 : detect_urgency_parse(store_col_text(s, 3));
		c->feed = store_col_dup(s, 4);
	}
	if (rc != SQLITE_DONE) {
		detect_tracker_cves_free(v, cnt);
		return store_error(st, err, "reading tracker rows");
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* ---- OSV ------------------------------------------------------------------- */

void detect_osv_fixes_free(struct detect_osv_fix *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].range_type);
		free(v[i].introduced);
		free(v[i].fixed);
		free(v[i].last_affected);
		for (size_t k = 0; k < v[i].ncves; k++)
			free(v[i].cves[k]);
		free(v[i].cves);
		free(v[i].feed);
	}
	free(v);
}

/* The CVE ids of advisory row osv (its id if a CVE, aliases, upstream). */
static int osv_fix_cves(struct store *st, sqlite3_stmt *q, sqlite3_int64 osv,
                        struct detect_osv_fix *fx, struct pl_err *err)
{
	int rc;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, osv);
	if (detect_is_cve(fx->id)) {
		fx->cves = pl_realloc(fx->cves, (fx->ncves + 1) * sizeof(char *));
		fx->cves[fx->ncves++] = pl_strdup(fx->id);
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *a = store_col_text(q, 0);

		if (!detect_is_cve(a) || strcmp(a, fx->id) == 0)
			continue;
		fx->cves = pl_realloc(fx->cves, (fx->ncves + 1) * sizeof(char *));
		fx->cves[fx->ncves++] = pl_strdup(a);
	}
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "reading OSV aliases");
}

int detect_lookup_osv(struct store *st, const char *ecosystem, const char *package,
                      struct detect_osv_fix **out, size_t *n, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL, *q = NULL;
	struct detect_osv_fix *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (store_prepare(st,
	                  "SELECT o.id, o.osv_id, r.type, r.introduced, r.fixed, r.last_affected,"
	                  " f.name FROM feed_osv_affected a"
	                  " JOIN feed_osv o ON o.id = a.osv JOIN feeds f ON f.id = o.feed_id"
	                  " LEFT JOIN feed_osv_ranges r ON r.affected = a.id"
	                  " WHERE a.ecosystem = ? AND a.package = ? AND o.withdrawn IS NULL"
	                  " ORDER BY o.osv_id, f.name, a.id, r.rowid",
	                  &s, err) < 0 ||
	    store_prepare(st, "SELECT alias FROM feed_osv_aliases WHERE osv = ? ORDER BY alias", &q,
	                  err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, ecosystem, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, package, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct detect_osv_fix *fx;

		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			v = pl_realloc(v, cap * sizeof(*v));
		}
		fx = &v[cnt++];
		memset(fx, 0, sizeof(*fx));
		fx->id = store_col_dup(s, 1);
		fx->range_type = store_col_dup(s, 2);
		fx->introduced = store_col_dup(s, 3);
		fx->fixed = store_col_dup(s, 4);
		fx->last_affected = store_col_dup(s, 5);
		fx->feed = store_col_dup(s, 6);
		if (osv_fix_cves(st, q, sqlite3_column_int64(s, 0), fx, err) < 0) {
			detect_osv_fixes_free(v, cnt);
			return err->code;
		}
	}
	if (rc != SQLITE_DONE) {
		detect_osv_fixes_free(v, cnt);
		return store_error(st, err, "reading OSV rows");
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* ---- per CVE ----------------------------------------------------------------- */

int detect_lookup_cve_risk(struct store *st, const char *cve, struct detect_cve_risk *out,
                           struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *c = NULL, *e = NULL, *k = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->cvss10 = -1;
	out->epss = out->epss_percentile = -1;
	if (store_prepare(st,
	                  "SELECT vector, base_score FROM feed_cvss WHERE cve = ?"
	                  " ORDER BY base_score DESC, vector LIMIT 1",
	                  &c, err) < 0 ||
	    store_prepare(st,
	                  "SELECT epss, percentile FROM feed_epss WHERE cve = ?"
	                  " ORDER BY epss DESC LIMIT 1",
	                  &e, err) < 0 ||
	    store_prepare(st,
	                  "SELECT date_added, due_date, ransomware FROM feed_kev WHERE cve = ?"
	                  " ORDER BY ransomware = 'Known' DESC, date_added LIMIT 1",
	                  &k, err) < 0)
		return err->code;
	sqlite3_bind_text(c, 1, cve, -1, SQLITE_STATIC);
	sqlite3_bind_text(e, 1, cve, -1, SQLITE_STATIC);
	sqlite3_bind_text(k, 1, cve, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(c)) == SQLITE_ROW) {
		out->cvss10 = (int)lround(sqlite3_column_double(c, 1) * 10.0);
		snprintf(out->cvss_vector, sizeof(out->cvss_vector), "%s", store_col_text(c, 0));
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(st, err, "reading CVSS rows");
	if ((rc = sqlite3_step(e)) == SQLITE_ROW) {
		out->epss = sqlite3_column_double(e, 0);
		out->epss_percentile = sqlite3_column_double(e, 1);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(st, err, "reading EPSS rows");
	if ((rc = sqlite3_step(k)) == SQLITE_ROW) {
		out->kev = 1;
		snprintf(out->kev_date_added, sizeof(out->kev_date_added), "%s",
		         store_col_text(k, 0));
		snprintf(out->kev_due_date, sizeof(out->kev_due_date), "%s", store_col_text(k, 1));
		out->kev_ransomware = strcmp(store_col_text(k, 2), "Known") == 0;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(st, err, "reading KEV rows");
	return 0;
}

/* A query with cve bound to ?1, its rows as objects in key of j. */
static int cve_rows(struct store *st, json_t *j, const char *key, const char *sql, const char *cve,
                    struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *arr = json_array();

	json_object_set_new(j, key, arr);
	if (store_prepare(st, sql, &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, cve, -1, SQLITE_STATIC);
	return rows_json(st, s, arr, err);
}

/* The packages and ranges of OSV advisory row osv. */
static int osv_packages(struct store *st, sqlite3_int64 osv, json_t *adv, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *a = NULL, *r = NULL;
	json_t *pkgs = json_array();
	int rc;

	json_object_set_new(adv, "packages", pkgs);
	if (store_prepare(st,
	                  "SELECT id, ecosystem, package, versions FROM feed_osv_affected"
	                  " WHERE osv = ? ORDER BY id",
	                  &a, err) < 0 ||
	    store_prepare(st,
	                  "SELECT type, repo, introduced, fixed, last_affected FROM feed_osv_ranges"
	                  " WHERE affected = ? ORDER BY rowid",
	                  &r, err) < 0)
		return err->code;
	sqlite3_bind_int64(a, 1, osv);
	while ((rc = sqlite3_step(a)) == SQLITE_ROW) {
		json_t *p = json_object(), *ranges = json_array(), *versions;

		json_object_set_new(p, "ecosystem", json_string(store_col_text(a, 1)));
		json_object_set_new(p, "package", json_string(store_col_text(a, 2)));
		versions = json_loads(store_col_text(a, 3), 0, NULL);
		json_object_set_new(p, "versions", versions ? versions : json_array());
		json_object_set_new(p, "ranges", ranges);
		json_array_append_new(pkgs, p);
		sqlite3_reset(r);
		sqlite3_bind_int64(r, 1, sqlite3_column_int64(a, 0));
		if (rows_json(st, r, ranges, err) < 0)
			return err->code;
	}
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "reading OSV packages");
}

static int cve_osv(struct store *st, json_t *j, const char *cve, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL, *al = NULL;
	json_t *arr = json_array();
	int rc;

	json_object_set_new(j, "osv", arr);
	if (store_prepare(st,
	                  "SELECT o.id, f.name, o.osv_id, o.modified, o.published, o.withdrawn,"
	                  " o.summary, o.severity FROM feed_osv o JOIN feeds f ON f.id = o.feed_id"
	                  " WHERE o.osv_id = ?1 OR o.id IN"
	                  " (SELECT osv FROM feed_osv_aliases WHERE alias = ?1)"
	                  " ORDER BY o.osv_id, f.name",
	                  &s, err) < 0 ||
	    store_prepare(st, "SELECT alias FROM feed_osv_aliases WHERE osv = ? ORDER BY alias",
	                  &al, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, cve, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *adv = json_object(), *aliases = json_array(), *sev;
		sqlite3_int64 id = sqlite3_column_int64(s, 0);

		json_object_set_new(adv, "feed", store_col_json(s, 1));
		json_object_set_new(adv, "id", store_col_json(s, 2));
		json_object_set_new(adv, "modified", store_col_json(s, 3));
		json_object_set_new(adv, "published", store_col_json(s, 4));
		json_object_set_new(adv, "withdrawn", store_col_json(s, 5));
		json_object_set_new(adv, "summary", store_col_json(s, 6));
		sev = json_loads(store_col_text(s, 7), 0, NULL);
		json_object_set_new(adv, "severity", sev ? sev : json_array());
		json_object_set_new(adv, "aliases", aliases);
		json_array_append_new(arr, adv);
		sqlite3_reset(al);
		sqlite3_bind_int64(al, 1, id);
		while (sqlite3_step(al) == SQLITE_ROW)
			json_array_append_new(aliases, json_string(store_col_text(al, 0)));
		if (osv_packages(st, id, adv, err) < 0)
			return err->code;
	}
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "reading OSV advisories");
}

int detect_lookup_cve(struct store *st, const char *cve, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *d = NULL;
	json_t *j = json_pack("{s:s}", "cve", cve);
	size_t found = 0;
	const char *key;
	json_t *v;
	int rc = 0;

	rc = cve_rows(st, j, "tracker",
	              "SELECT f.name AS feed, t.source, t.release, t.status, t.fixed_version,"
	              " t.urgency, t.nodsa, t.nodsa_reason FROM feed_tracker t"
	              " JOIN feeds f ON f.id = t.feed_id WHERE t.cve = ?"
	              " ORDER BY t.source, t.release, f.name",
	              cve, err);
	if (rc == 0 && store_prepare(st,
	                             "SELECT description, scope, debianbug FROM feed_tracker_cves"
	                             " WHERE cve = ? ORDER BY description IS NULL LIMIT 1",
	                             &d, err) == 0) {
		sqlite3_bind_text(d, 1, cve, -1, SQLITE_STATIC);
		if (sqlite3_step(d) == SQLITE_ROW) {
			json_object_set_new(j, "description", store_col_json(d, 0));
			json_object_set_new(j, "scope", store_col_json(d, 1));
			json_object_set_new(j, "debianbug", store_col_json(d, 2));
		}
	} else if (rc == 0) {
		rc = err->code;
	}
	if (rc == 0)
		rc = cve_osv(st, j, cve, err);
	if (rc == 0)
		rc = cve_rows(st, j, "cvss",
		              "SELECT f.name AS feed, c.source, c.vector, c.base_score, c.severity"
		              " FROM feed_cvss c JOIN feeds f ON f.id = c.feed_id WHERE c.cve = ?"
		              " ORDER BY c.base_score DESC, c.source, f.name",
		              cve, err);
	if (rc == 0)
		rc = cve_rows(st, j, "epss",
		              "SELECT f.name AS feed, e.epss, e.percentile,"
		              " json_extract(f.info, '$.score_date') AS score_date,"
		              " json_extract(f.info, '$.model_version') AS model_version"
		              " FROM feed_epss e JOIN feeds f ON f.id = e.feed_id WHERE e.cve = ?"
		              " ORDER BY f.name",
		              cve, err);
	if (rc == 0)
		rc = cve_rows(st, j, "kev",
		              "SELECT f.name AS feed, k.vendor, k.product, k.name, k.date_added,"
		              " k.due_date, k.ransomware FROM feed_kev k"
		              " JOIN feeds f ON f.id = k.feed_id WHERE k.cve = ? ORDER BY f.name",
		              cve, err);
	if (rc < 0) {
		json_decref(j);
		return rc;
	}
	json_object_foreach (j, key, v) {
		if (json_is_array(v))
			found += json_array_size(v);
	}
	if (found == 0) {
		json_decref(j);
		return pl_error(err, PL_ENOTFOUND, "no feed mentions '%s'", cve);
	}
	*out = j;
	return 0;
}
