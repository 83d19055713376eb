/*
 * extras.c - the report's sections that come from detection (findings) and
 * rollout (waves): read through src/detect and src/rollout when their
 * tables exist, else empty with a note.
 *
 * Compliance, as the report computes it:
 * - a host is fully patched when its last scan found no open finding; a
 *   host never scanned is not (unknown is not patched); the share is over
 *   every inventory host;
 * - mean time to patch, per severity word: the mean of resolved_at -
 *   first_seen over the findings resolved so far, in days;
 * - past the SLA: open findings older than the severity's deadline
 *   (report_sla_days; a finding without severity counts as medium).
 */
#include "report-private.h"

#include "candidate/candidate.h"
#include "detect/detect.h"
#include "rollout/rollout.h"

json_t *report_sla_days(void)
{
	/* days from first seen to fixed, per severity word (the tracker's urgency
	 * or the CVSS rating): the common vulnerability-management deadlines */
	return json_pack("{s:i, s:i, s:i, s:i, s:i}", "critical", 7, "high", 14, "medium", 30,
	                 "low", 90, "unimportant", 180);
}

static const char *js(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void add_count(json_t *obj, const char *key, json_int_t n)
{
	json_t *v = json_object_get(obj, key);

	if (v)
		json_integer_set(v, json_integer_value(v) + n);
	else
		json_object_set_new(obj, key, json_integer(n));
}

/* ---- per candidate --------------------------------------------------------------- */

/* The CVEs the findings the candidate addresses are fixed by (scan's
 * candidate_findings: what 'candidate propose' recorded). */
static int candidate_cves(struct store *st, long id, json_t *out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (!report_table_exists(st, "candidate_findings"))
		return 0;
	if (store_prepare(st,
	                  "SELECT uc.cve, u.source, min(u.candidate_source), max(uc.urgency)"
	                  " FROM candidate_findings cf JOIN findings f ON f.id = cf.finding_id"
	                  " JOIN upgrades u ON u.id = f.upgrade_id"
	                  " JOIN upgrade_cves uc ON uc.upgrade_id = u.id"
	                  " WHERE cf.candidate_id = ? GROUP BY uc.cve, u.source ORDER BY uc.cve",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(
		    out,
		    json_pack(
		        "{s:s, s:s, s:s, s:s?}", "cve", store_col_text(s, 0), "source",
		        store_col_text(s, 1), "fixed_version", store_col_text(s, 2), "urgency",
		        store_col_opt(s, 3)));
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "reading the CVEs a candidate closes");
}

/* One wave as the report shows it: counts of its targets by state. */
static json_t *wave_summary(json_t *w)
{
	json_t *t, *targets = json_array();
	json_int_t n[4] = {0, 0, 0, 0};
	size_t i;

	json_array_foreach (json_object_get(w, "targets"), i, t) {
		const char *s = js(t, "state") ?: "";

		n[strcmp(s, "succeeded") == 0     ? 0
		  : strcmp(s, "failed") == 0      ? 1
		  : strcmp(s, "rolled-back") == 0 ? 2
		                                  : 3]++;
		json_array_append_new(targets,
		                      json_pack("{s:O?, s:O?, s:O?, s:O?}", "host",
		                                json_object_get(t, "host"), "state",
		                                json_object_get(t, "state"), "started_at",
		                                json_object_get(t, "started_at"), "finished_at",
		                                json_object_get(t, "finished_at")));
	}
	return json_pack("{s:O?, s:O?, s:O?, s:I, s:I, s:I, s:I, s:I, s:o}", "name",
	                 json_object_get(w, "name"), "state", json_object_get(w, "state"),
	                 "window_start", json_object_get(json_object_get(w, "window"), "start_utc"),
	                 "hosts", (json_int_t)json_array_size(json_object_get(w, "targets")),
	                 "succeeded", n[0], "failed", n[1], "rolled_back", n[2], "pending", n[3],
	                 "targets", targets);
}

/* The candidate's rollout (at most one), its waves summarised. */
static int candidate_rollout(struct store *st, const struct candidate *c, json_t *cand,
                             struct pl_err *err)
{
	json_t *list = NULL, *r, *status = NULL, *w, *waves;
	size_t i;

	if (!report_table_exists(st, "rollouts"))
		return 0;
	if (rollout_list(st, &list, err) < 0)
		return err->code;
	json_array_foreach (list, i, r) {
		if (!js(r, "candidate") || strcmp(js(r, "candidate"), c->name) != 0)
			continue;
		if (rollout_status(st, js(r, "name"), &status, err) < 0) {
			json_decref(list);
			return err->code;
		}
		break;
	}
	json_decref(list);
	if (!status)
		return 0;
	waves = json_array();
	json_array_foreach (json_object_get(status, "waves"), i, w)
		json_array_append_new(waves, wave_summary(w));
	json_object_set_new(cand, "rollout",
	                    json_pack("{s:O?, s:O?, s:O?, s:o}", "name",
	                              json_object_get(status, "name"), "state",
	                              json_object_get(status, "state"), "reason",
	                              json_object_get(status, "reason"), "waves", waves));
	json_decref(status);
	return 0;
}

int report_candidate_extras(struct store *st, const struct candidate *c, json_t *cand,
                            struct pl_err *err)
{
	if (candidate_cves(st, c->id, json_object_get(cand, "cves_closed"), err) < 0)
		return err->code;
	return candidate_rollout(st, c, cand, err);
}

/* ---- hosts: what was deployed where ------------------------------------------------ */

static double span_seconds(const char *from, const char *to)
{
	struct pl_err ignored = PL_ERR_INIT;
	int64_t a, b;

	if (!from || !to || pl_time_parse(from, &a, &ignored) < 0 ||
	    pl_time_parse(to, &b, &ignored) < 0 || b < a)
		return -1;
	return (double)(b - a);
}

static json_t *host_by_name(json_t *hosts, const char *name)
{
	json_t *h;
	size_t i;

	json_array_foreach (hosts, i, h)
		if (name && js(h, "name") && strcmp(js(h, "name"), name) == 0)
			return h;
	return NULL;
}

/* Fills each host's deployed patches, failures and rollbacks from the
 * waves of the report's candidates. */
static void hosts_deployments(json_t *model)
{
	json_t *hosts = json_object_get(model, "hosts"), *c, *w, *t, *p;
	size_t i, k, q, j;

	json_array_foreach (json_object_get(model, "candidates"), i, c)
		json_array_foreach (json_object_get(json_object_get(c, "rollout"), "waves"), k, w)
			json_array_foreach (json_object_get(w, "targets"), q, t) {
				json_t *h = host_by_name(hosts, js(t, "host"));
				const char *s = js(t, "state") ?: "";
				double secs =
				    span_seconds(js(t, "started_at"), js(t, "finished_at"));

				if (!h)
					continue;
				if (strcmp(s, "failed") == 0)
					add_count(h, "failures", 1);
				if (strcmp(s, "rolled-back") == 0) {
					add_count(h, "failures", 1);
					add_count(h, "rollbacks", 1);
				}
				if (strcmp(s, "succeeded") != 0)
					continue;
				json_array_foreach (json_object_get(c, "patches"), j, p)
					json_array_append_new(
					    json_object_get(h, "deployed"),
					    json_pack("{s:O?, s:O?, s:O?, s:O?, s:s, s:O?, s:o}",
					              "candidate", json_object_get(c, "name"),
					              "wave", json_object_get(w, "name"), "package",
					              json_object_get(p, "package"), "version",
					              json_object_get(p, "version"), "state", s,
					              "at", json_object_get(t, "finished_at"),
					              "seconds",
					              secs < 0 ? json_null() : json_real(secs)));
			}
}

/* ---- findings and compliance --------------------------------------------------------- */

static const char *severity_of(json_t *f)
{
	return js(f, "severity") ?: "unknown";
}

/* The names of the hosts a scan has looked at. */
static int scanned_hosts(struct store *st, json_t *out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (!report_table_exists(st, "host_scans"))
		return 0;
	if (store_prepare(st, "SELECT h.name FROM host_scans s JOIN hosts h ON h.id = s.host_id",
	                  &s, err) < 0)
		return err->code;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_object_set_new(out, store_col_text(s, 0), json_integer(0));
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "reading the scanned hosts");
}

int report_findings(struct store *st, const struct pl_clock *clock, json_t **out,
                    struct pl_err *err)
{
	struct detect_findings_query q = {NULL, NULL, 0, 200, DETECT_FINDINGS_OPEN, 0};
	json_t *top = NULL, *all = NULL, *f, *by = json_object();
	size_t i;

	(void)clock;
	if (!report_table_exists(st, "findings")) {
		json_decref(by);
		*out = json_pack("{s:b, s:n, s:{}, s:[]}", "available", 0, "open", "by_severity",
		                 "top");
		return 0;
	}
	if (detect_findings_list(st, &q, &top, err) < 0) {
		json_decref(by);
		return err->code;
	}
	q.top = 0;
	if (detect_findings_list(st, &q, &all, err) < 0) {
		json_decref(by);
		json_decref(top);
		return err->code;
	}
	json_array_foreach (all, i, f)
		add_count(by, severity_of(f), 1);
	*out = json_pack("{s:b, s:I, s:o, s:o}", "available", 1, "open",
	                 (json_int_t)json_array_size(all), "by_severity", by, "top", top);
	json_decref(all);
	return 0;
}

/* Findings, the hosts' open findings and the compliance figures. */
static int collect_findings(struct store *st, const struct pl_clock *clock, json_t *model,
                            struct pl_err *err)
{
	struct detect_findings_query q = {NULL, NULL, 0, 0, DETECT_FINDINGS_OPEN, 0};
	json_t *open = NULL, *resolved = NULL, *f, *h, *scanned = json_object();
	json_t *comp = json_object_get(model, "compliance"),
	       *hosts = json_object_get(model, "hosts");
	json_t *sla = json_object_get(comp, "sla_days"), *by = json_object();
	json_t *sum = json_object(), *cnt = json_object(), *mttp = json_object();
	json_t *past_by = json_object();
	int64_t now = pl_clock_now(clock);
	json_int_t past = 0, patched = 0;
	const char *k;
	json_t *v;
	size_t i;
	int rc = scanned_hosts(st, scanned, err);

	if (rc == 0 && json_object_size(scanned) == 0) {
		json_array_append_new(
		    json_object_get(model, "notes"),
		    json_string("findings: no host has been scanned yet ('patchlab "
		                "scan'): compliance figures are unknown"));
		goto out;
	}
	if (rc == 0)
		rc = detect_findings_list(st, &q, &open, err);
	q.state = DETECT_FINDINGS_RESOLVED;
	if (rc == 0)
		rc = detect_findings_list(st, &q, &resolved, err);
	if (rc < 0)
		goto out;
	json_array_foreach (open, i, f) {
		const char *sev = severity_of(f);
		json_t *deadline = json_object_get(sla, sev) ?: json_object_get(sla, "medium");
		struct pl_err ignored = PL_ERR_INIT;
		int64_t first;

		add_count(by, sev, 1);
		if (js(f, "host"))
			add_count(scanned, js(f, "host"), 1);
		if (js(f, "first_seen") &&
		    pl_time_parse(js(f, "first_seen"), &first, &ignored) == 0 &&
		    now - first > json_integer_value(deadline) * 86400) {
			past++;
			add_count(past_by, sev, 1);
		}
	}
	json_array_foreach (resolved, i, f) {
		double secs = span_seconds(js(f, "first_seen"), js(f, "resolved_at"));

		if (secs < 0)
			continue;
		json_object_set_new(
		    sum, severity_of(f),
		    json_real(json_number_value(json_object_get(sum, severity_of(f))) +
		              secs / 86400.0));
		add_count(cnt, severity_of(f), 1);
	}
	json_object_foreach (sum, k, v)
		json_object_set_new(mttp, k,
		                    json_real(json_number_value(v) /
		                              (double)json_integer_value(json_object_get(cnt, k))));
	json_array_foreach (hosts, i, h) {
		json_t *n = json_object_get(scanned, js(h, "name") ?: "");

		json_object_set(h, "open_findings", n ? n : json_null());
		patched += n && json_integer_value(n) == 0;
	}
	json_object_set_new(json_object_get(model, "findings"), "available", json_true());
	json_object_set_new(json_object_get(model, "findings"), "open",
	                    json_integer((json_int_t)json_array_size(open)));
	json_object_set(json_object_get(model, "findings"), "by_severity", by);
	json_object_set_new(comp, "hosts_fully_patched", json_integer(patched));
	json_object_set_new(comp, "share_fully_patched",
	                    json_array_size(hosts)
	                        ? json_real((double)patched / (double)json_array_size(hosts))
	                        : json_null());
	json_object_set(comp, "mean_days_to_patch", mttp);
	json_object_set_new(comp, "past_sla", json_integer(past));
	json_object_set(comp, "past_sla_by_severity", past_by);
out:
	json_decref(open);
	json_decref(resolved);
	json_decref(scanned);
	json_decref(by);
	json_decref(sum);
	json_decref(cnt);
	json_decref(mttp);
	json_decref(past_by);
	return rc;
}

int report_collect_extras(struct store *st, const struct report_filter *f,
                          const struct pl_clock *clock, json_t *model, struct pl_err *err)
{
	json_t *notes = json_object_get(model, "notes");

	(void)f;
	hosts_deployments(model);
	if (!report_table_exists(st, "rollouts"))
		json_array_append_new(notes, json_string("rollouts: none scheduled yet"));
	if (!report_table_exists(st, "findings") || !report_table_exists(st, "host_scans")) {
		json_array_append_new(notes,
		                      json_string("findings: none yet (no database scan has run): "
		                                  "compliance figures are unknown"));
		return 0;
	}
	if (!json_array_size(json_object_get(model, "hosts")))
		json_array_append_new(notes, json_string("no hosts in the inventory"));
	return collect_findings(st, clock, model, err);
}
