/*
 * findings.c - reading what the database scan found: findings sorted by
 * priority with the factors of their score, and a host's unfixed CVEs.
 * Read-only queries over the tables of migration 12.
 */
#include "detect/detect-private.h"

#include <math.h>

#include "risk/risk.h"

static int host_exists(struct store *st, const char *host, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, "SELECT 1 FROM hosts WHERE name = ?", &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, host, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return store_error(st, err, "reading hosts");
	return pl_error(err, PL_ENOTFOUND, "no host named '%s' (see 'patchlab inventory list')",
	                host);
}

enum {
	C_ID,
	C_HOST,
	C_ROLE,
	C_ENV,
	C_RELEASE,
	C_PACKAGE,
	C_ARCH,
	C_INSTALLED,
	C_CANDIDATE,
	C_SOURCE,
	C_ISV,
	C_CSV,
	C_CVES,
	C_SEVERITY,
	C_CVSS,
	C_EPSS,
	C_KEV,
	C_PRIORITY,
	C_LEVEL,
	C_FIRST,
	C_LAST,
	C_RESOLVED,
	C_BASE_URG,
	C_S_EXPOSURE,
	C_S_ENV,
	C_S_CRITICAL,
	C_S_FIREWALL,
	C_S_EDR,
	C_NCOLS
};

static const char *const col_names[C_NCOLS] = {
    "id",
    "host",
    "role",
    "environment",
    "release",
    "package",
    "arch",
    "installed",
    "candidate",
    "source",
    "installed_source",
    "candidate_source",
    "cves",
    "severity",
    "cvss",
    "epss",
    "kev",
    "priority",
    "level",
    "first_seen",
    "last_seen",
    "resolved_at",
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

static const char LIST_SQL[] =
    "SELECT f.id, h.name, h.role, h.environment, u.release, u.package, u.arch, u.installed,"
    " u.candidate, u.source, u.installed_source, u.candidate_source, u.cves, u.severity,"
    " u.cvss, u.epss, u.kev, f.priority, f.level, f.first_seen,"
    " CASE WHEN f.resolved_at IS NULL THEN s.evaluated_at ELSE f.last_seen END,"
    " f.resolved_at, u.base_urgency, s.exposure, s.environment, s.critical, s.firewall, s.edr"
    " FROM findings f JOIN hosts h ON h.id = f.host_id JOIN upgrades u ON u.id = f.upgrade_id"
    " LEFT JOIN host_scans s ON s.host_id = f.host_id"
    " WHERE (?1 IS NULL OR h.name = ?1) AND (?2 IS NULL OR h.role = ?2) AND f.priority >= ?3"
    " AND (?4 = 2 OR (?4 = 0 AND f.resolved_at IS NULL) OR (?4 = 1 AND f.resolved_at IS NOT"
    " NULL))"
    " ORDER BY f.priority DESC, h.name, u.package, u.arch, f.id LIMIT ?5";

static int onoff_col(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int(s, i) != 0;
}

/* The factors, from the inputs the scan stored with the finding. */
static json_t *factors_json(sqlite3_stmt *s, json_t *cves)
{
	struct risk_priority_in in = {0};
	struct risk_priority p;
	json_t *j;

	in.cvss10 = sqlite3_column_type(s, C_CVSS) == SQLITE_NULL
	                ? -1
	                : (int)lround(sqlite3_column_double(s, C_CVSS) * 10.0);
	in.urgency = sqlite3_column_type(s, C_BASE_URG) == SQLITE_NULL
	                 ? RISK_URG_NONE
	                 : detect_urgency_parse(store_col_text(s, C_BASE_URG));
	in.ncves = (int)json_array_size(cves);
	in.epss =
	    sqlite3_column_type(s, C_EPSS) == SQLITE_NULL ? -1 : sqlite3_column_double(s, C_EPSS);
	in.kev = sqlite3_column_int(s, C_KEV);
	in.exposure = risk_exposure_parse(sqlite3_column_type(s, C_S_EXPOSURE) == SQLITE_NULL
	                                      ? NULL
	                                      : store_col_text(s, C_S_EXPOSURE));
	in.environment = risk_environment_parse(
	    store_col_opt(s, C_S_ENV));
	in.critical = sqlite3_column_int(s, C_S_CRITICAL);
	in.firewall = onoff_col(s, C_S_FIREWALL);
	in.edr = onoff_col(s, C_S_EDR);
	risk_priority_compute(&in, &p);
	j = risk_priority_json(&in, &p);
	/* a resolved finding's host may have changed since: say so */
	if (p.score != sqlite3_column_int(s, C_PRIORITY))
		json_object_set_new(j, "stale", json_string("the host's context changed since"));
	return j;
}

int detect_findings_list(struct store *st, const struct detect_findings_query *q, json_t **out,
                         struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *arr;
	int rc;

	*out = NULL;
	if (q->host && host_exists(st, q->host, err) < 0)
		return err->code;
	if (store_prepare(st, LIST_SQL, &s, err) < 0)
		return PL_EDB;
	if (q->host)
		sqlite3_bind_text(s, 1, q->host, -1, SQLITE_STATIC);
	if (q->role)
		sqlite3_bind_text(s, 2, q->role, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, q->min_priority);
	sqlite3_bind_int(s, 4, q->state);
	sqlite3_bind_int64(s, 5, q->top ? (sqlite3_int64)q->top : -1);
	arr = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *o = json_object(), *cves;

		for (int i = 0; i < C_NCOLS; i++)
			if (col_names[i] && i != C_CVES && i != C_KEV)
				json_object_set_new(o, col_names[i], store_col_json(s, i));
		cves = json_loads(store_col_text(s, C_CVES), 0, NULL);
		if (!json_is_array(cves)) {
			json_decref(cves);
			cves = json_array();
		}
		json_object_set_new(o, "kev", json_boolean(sqlite3_column_int(s, C_KEV)));
		if (q->factors)
			json_object_set_new(o, "factors", factors_json(s, cves));
		json_object_set_new(o, "cves", cves);
		json_array_append_new(arr, o);
	}
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_error(st, err, "reading findings");
	}
	*out = arr;
	return 0;
}

int detect_findings_unfixed(struct store *st, const char *host, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *h = NULL, *s = NULL;
	json_t *arr;
	int rc;

	*out = NULL;
	if (store_prepare(st,
	                  "SELECT h.id, s.release, s.evaluated_at FROM hosts h"
	                  " LEFT JOIN host_scans s ON s.host_id = h.id WHERE h.name = ?",
	                  &h, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(h, 1, host, -1, SQLITE_STATIC);
	rc = sqlite3_step(h);
	if (rc == SQLITE_DONE)
		return pl_error(err, PL_ENOTFOUND,
		                "no host named '%s' (see 'patchlab inventory list')", host);
	if (rc != SQLITE_ROW)
		return store_error(st, err, "reading hosts");
	if (sqlite3_column_type(h, 2) == SQLITE_NULL)
		return pl_error(err, PL_ESTATE,
		                "host '%s' was never scanned (patchlab scan --host %s)", host,
		                host);
	if (store_prepare(st,
	                  "SELECT DISTINCT p.name, coalesce(p.source, p.name) AS src, t.cve,"
	                  " t.status, t.urgency FROM host_packages p JOIN feed_tracker t"
	                  " ON t.release = ?1 AND t.source = coalesce(p.source, p.name)"
	                  " WHERE p.host_id = ?2 AND t.status IN ('open', 'undetermined')"
	                  " AND (p.status = 'installed' OR p.status LIKE '% installed')"
	                  " ORDER BY src, t.cve, p.name",
	                  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, store_col_text(h, 1), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, sqlite3_column_int64(h, 0));
	arr = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{s:o, s:o, s:o, s:o, s:o}", "package",
		                                     store_col_json(s, 0), "source", store_col_json(s, 1),
		                                     "cve", store_col_json(s, 2), "status",
		                                     store_col_json(s, 3), "urgency", store_col_json(s, 4)));
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_error(st, err, "reading unfixed CVEs");
	}
	*out = arr;
	return 0;
}
