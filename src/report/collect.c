/*
 * collect.c - the report model, read through the modules that own the data.
 * Sections whose tables do not exist yet are empty with a note, so a
 * report works on any schema this binary migrates to.
 */
#include "report-private.h"

#include "candidate/candidate.h"
#include "gate/gate.h"
#include "inventory/inventory.h"
#include "lab/lab.h"

int report_table_exists(struct store *st, const char *name)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db,
	                       "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1,
	                       &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return sqlite3_step(s) == SQLITE_ROW;
}

static void note(json_t *model, const char *text)
{
	json_array_append_new(json_object_get(model, "notes"), json_string(text));
}

/* Seconds between two ISO-8601 UTC times, or -1. */
static double span_seconds(const char *from, const char *to)
{
	struct pl_err ignored = PL_ERR_INIT;
	int64_t a, b;

	if (!from || !to || pl_time_parse(from, &a, &ignored) < 0 ||
	    pl_time_parse(to, &b, &ignored) < 0 || b < a)
		return -1;
	return (double)(b - a);
}

/* A lab run as the report shows it: timings, check counts, failures. */
static json_t *report_run(json_t *run)
{
	json_t *counts =
	    json_pack("{s:i, s:i, s:i, s:i}", "pass", 0, "fail", 0, "error", 0, "skip", 0);
	json_t *failed = json_array(), *c, *stages = json_object_get(run, "stages");
	json_t *out = json_object();
	double secs = span_seconds(json_string_value(json_object_get(run, "started_at")),
	                           json_string_value(json_object_get(run, "ended_at")));
	static const char *const keys[] = {"run",         "image",      "state",    "verdict",
	                                   "subset",      "started_at", "ended_at", "evidence_dir",
	                                   "console_log", NULL};
	size_t i;

	for (int k = 0; keys[k]; k++)
		json_object_set(out, keys[k], json_object_get(run, keys[k]) ?: json_null());
	json_array_foreach (json_object_get(run, "checks"), i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));
		json_t *n = st ? json_object_get(counts, st) : NULL;

		if (n)
			json_integer_set(n, json_integer_value(n) + 1);
		if (st && strcmp(st, "pass") != 0 && strcmp(st, "skip") != 0)
			json_array_append(failed, c);
	}
	json_object_set_new(out, "seconds", secs < 0 ? json_null() : json_real(secs));
	json_object_set_new(out, "stages",
	                    json_is_array(stages) ? json_incref(stages) : json_array());
	json_object_set_new(out, "checks", counts);
	json_object_set_new(out, "failed_checks", failed);
	return out;
}

/* Runs of one candidate since f->since, each as report_run. */
static int collect_runs(struct store *st, long id, int64_t since, json_t **out, json_t **latest,
                        struct pl_err *err)
{
	json_t *runs = NULL, *r, *list = json_array();
	char since_iso[21];
	size_t i;

	*latest = NULL;
	if (lab_candidate_runs(st, id, &runs, err) < 0) {
		json_decref(list);
		return err->code;
	}
	pl_time_iso(since, since_iso);
	json_array_foreach (runs, i, r) {
		const char *started = json_string_value(json_object_get(r, "started_at"));

		if (!json_is_null(json_object_get(r, "subset")) && json_object_get(r, "subset"))
			continue; /* bisect's subsets are not the candidate's verdict */
		if (json_string_value(json_object_get(r, "verdict")))
			*latest = json_object_get(r, "verdict");
		if (since && started && strcmp(started, since_iso) < 0)
			continue;
		json_array_append_new(list, report_run(r));
	}
	*latest = *latest ? json_incref(*latest) : json_null();
	json_decref(runs);
	*out = list;
	return 0;
}

/* The change record's parts the report shows. */
static void collect_promotion(json_t *cand, json_t *rec)
{
	json_t *prom = json_object(), *reqs = json_array(), *v;
	size_t i;

	json_object_set(prom, "promotable", json_object_get(rec, "promotable") ?: json_false());
	json_object_set(prom, "error", json_object_get(rec, "error") ?: json_null());
	json_array_foreach (json_object_get(rec, "requirements"), i, v)
		json_array_append_new(reqs, json_pack("{s:O?, s:O?, s:O?}", "name",
		                                      json_object_get(v, "name"), "state",
		                                      json_object_get(v, "state"), "detail",
		                                      json_object_get(v, "detail")));
	json_object_set_new(prom, "requirements", reqs);
	json_object_set_new(cand, "promotion", prom);
	for (const char *const *k =
	         (const char *const[]){"approvals", "waivers", "rejections", NULL};
	     *k; k++)
		json_object_set(cand, *k,
		                json_is_array(json_object_get(rec, *k)) ? json_object_get(rec, *k)
		                                                        : json_array());
}

static json_t *patch_json(const struct patch *p)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "package", p->package, "version",
	                 p->version, "arch", p->arch, "source", p->source, "source_version",
	                 p->source_version, "sha256", p->sha256, "size", (json_int_t)p->size);
}

/* One candidate's section. */
static int collect_candidate(struct store *st, const char *name, const struct report_filter *f,
                             const struct gate_policy *p, const struct pl_clock *clock,
                             json_t *model, struct pl_err *err)
{
	struct candidate c;
	json_t *cand, *patches, *runs = NULL, *latest = NULL, *rec = NULL;
	struct pl_err rec_err = PL_ERR_INIT;
	int rc;

	if (candidate_get(st, name, &c, err) < 0)
		return err->code;
	rc = collect_runs(st, c.id, f->since, &runs, &latest, err);
	if (rc < 0) {
		candidate_clear(&c);
		return rc;
	}
	/* an evaluation error is shown in the record (promotable false), not fatal */
	gate_change_record(st, &c, p, clock, &rec, &rec_err);
	patches = json_array();
	for (size_t i = 0; i < c.npatches; i++)
		json_array_append_new(patches, patch_json(&c.patches[i]));
	cand = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "name", c.name, "state",
	                 c.state, "created_at", c.created_at, "updated_at", c.updated_at, "verdict",
	                 latest, "patches", patches, "cves_closed", json_array(), "lab_runs", runs);
	collect_promotion(cand, rec ? rec : json_object());
	json_decref(rec);
	json_object_set_new(cand, "rollout", json_pack("{s:[]}", "waves"));
	rc = report_candidate_extras(st, &c, cand, err);
	candidate_clear(&c);
	json_array_append_new(json_object_get(model, "candidates"), cand);
	return rc;
}

static int collect_candidates(struct store *st, const struct report_filter *f,
                              const struct gate_policy *p, const struct pl_clock *clock,
                              json_t *model, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	char since[21];
	char **names = NULL;
	size_t n = 0;
	int rc = 0, step;

	if (f->candidate) {
		if (!candidate_name_ok(f->candidate))
			return pl_error(err, PL_EINVAL, "--candidate: '%s' is not a candidate name",
			                f->candidate);
		return collect_candidate(st, f->candidate, f, p, clock, model, err);
	}
	pl_time_iso(f->since, since);
	/* changed since, or a lab run since */
	if (store_prepare(st,
	                  "SELECT name FROM candidates c WHERE ?1 = 0 OR c.updated_at >= ?2 OR"
	                  " c.created_at >= ?2 OR EXISTS (SELECT 1 FROM lab_runs r WHERE"
	                  " r.candidate_id = c.id AND r.started_at >= ?2) ORDER BY name",
	                  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, f->since);
	sqlite3_bind_text(s, 2, since, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		names = pl_realloc(names, (n + 1) * sizeof(*names));
		names[n++] = pl_strdup(store_col_text(s, 0));
	}
	if (step != SQLITE_DONE)
		rc = store_error(st, err, "listing candidates");
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = collect_candidate(st, names[i], f, p, clock, model, err);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int collect_hosts(struct store *st, json_t *model, struct pl_err *err)
{
	json_t *list = NULL, *h, *hosts = json_object_get(model, "hosts");
	size_t i;

	if (inv_host_list(st, NULL, NULL, &list, err) < 0)
		return err->code;
	json_array_foreach (list, i, h) {
		json_t *o = json_object();
		static const char *const keys[] = {"name",       "role",  "environment", "os",
		                                   "os_version", "image", NULL};

		for (int k = 0; keys[k]; k++)
			json_object_set(o, keys[k], json_object_get(h, keys[k]) ?: json_null());
		json_object_set_new(o, "deployed", json_array());
		json_object_set_new(o, "failures", json_integer(0));
		json_object_set_new(o, "rollbacks", json_integer(0));
		json_object_set_new(o, "open_findings", json_null());
		json_array_append_new(hosts, o);
	}
	json_decref(list);
	json_object_set_new(json_object_get(model, "compliance"), "hosts",
	                    json_integer((json_int_t)json_array_size(hosts)));
	return 0;
}

int report_collect(struct store *st, const struct report_filter *f, const struct gate_policy *p,
                   const struct pl_clock *clock, const struct pl_progress *progress, json_t **out,
                   struct pl_err *err)
{
	static const struct report_filter all = {NULL, 0};
	char now[21], since[21];
	json_t *model;
	double t;
	int rc;

	if (!f)
		f = &all;
	pl_time_iso(pl_clock_now(clock), now);
	pl_time_iso(f->since, since);
	model = json_pack("{s:s, s:s, s:{s:s?, s:s?}, s:[], s:[], s:{s:b, s:n, s:{}},"
	                  " s:{s:i, s:n, s:n, s:{}, s:n, s:o}, s:[]}",
	                  "generated_at", now, "policy", p ? p->name : "(none)", "filter",
	                  "candidate", f->candidate, "since", f->since ? since : NULL, "candidates",
	                  "hosts", "findings", "available", 0, "open", "by_severity", "compliance",
	                  "hosts", 0, "hosts_fully_patched", "share_fully_patched",
	                  "mean_days_to_patch", "past_sla", "sla_days", report_sla_days(), "notes");
	t = pl_progress_begin(progress, "report", "candidates");
	rc = collect_candidates(st, f, p, clock, model, err);
	pl_progress_end(progress, "report", rc, t);
	if (rc == 0) {
		t = pl_progress_begin(progress, "report", "hosts");
		rc = collect_hosts(st, model, err);
		pl_progress_end(progress, "report", rc, t);
	}
	if (rc == 0) {
		t = pl_progress_begin(progress, "report", "findings and rollouts");
		rc = report_collect_extras(st, f, clock, model, err);
		pl_progress_end(progress, "report", rc, t);
	}
	if (rc < 0) {
		json_decref(model);
		return rc;
	}
	if (!json_array_size(json_object_get(model, "candidates")))
		note(model, f->candidate || f->since ? "no candidate matches the filter"
		                                     : "no candidates yet");
	*out = model;
	return 0;
}
