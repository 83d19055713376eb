/*
 * schedule.c - rollouts in the database: scheduling a plan, status, halt
 * and resume, and the state changes run-due makes, each with its audit
 * entry in the same transaction.
 */
#include "rollout-private.h"

#include <limits.h>

#include "audit/audit.h"
#include "candidate/candidate.h"
#include "gate/gate.h"
#include "inventory/inventory.h"
#include "lab/lab.h"

/* ---- small helpers --------------------------------------------------------------- */

void rollout_now_iso(const struct pl_clock *clock, char out[static 21])
{
	pl_time_iso(pl_clock_now(clock), out);
}

static json_t *col_json_or_null(sqlite3_stmt *s, int i)
{
	json_t *j;

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return json_null();
	j = json_loads(store_col_text(s, i), 0, NULL);
	return j ? j : json_string(store_col_text(s, i));
}

static json_t *col_str_or_null(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? json_null()
	                                                : json_string(store_col_text(s, i));
}

/* rule[key] (a new reference), else dflt (consumed). */
static json_t *rule_get(json_t *rule, const char *key, json_t *dflt)
{
	json_t *v = json_object_get(rule, key);

	if (!v)
		return dflt;
	json_decref(dflt);
	return json_incref(v);
}

static json_t *time_or_null(sqlite3_stmt *s, int i)
{
	char iso[21];

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return json_null();
	pl_time_iso(sqlite3_column_int64(s, i), iso);
	return json_string(iso);
}

int rollout_row_load(struct store *st, const char *name, struct rollout_row *out,
                     struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (store_prepare(st,
	                  "SELECT r.id, r.name, r.state, r.policy_json, r.policy_file, r.lab_json,"
	                  " r.lab_file, r.gate_file, r.gate_sha256, c.name, c.state, r.lock_pid,"
	                  " r.lock_start FROM rollouts r JOIN candidates c ON c.id = r.candidate_id"
	                  " WHERE r.name = ?",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return pl_error(err, PL_ENOTFOUND, "no rollout '%s' (patchlab schedule %s)", name,
		                name);
	if (rc != SQLITE_ROW)
		return store_error(st, err, "reading a rollout");
	out->id = sqlite3_column_int64(s, 0);
	out->name = pl_strdup(store_col_text(s, 1));
	out->state = pl_strdup(store_col_text(s, 2));
	out->policy_json = pl_strdup(store_col_text(s, 3));
	out->policy_file = pl_strdup(store_col_text(s, 4));
	out->lab_json = store_col_dup(s, 5);
	out->lab_file = store_col_dup(s, 6);
	out->gate_file = store_col_dup(s, 7);
	out->gate_sha256 = pl_strdup(store_col_text(s, 8));
	out->candidate = pl_strdup(store_col_text(s, 9));
	out->candidate_state = pl_strdup(store_col_text(s, 10));
	out->lock_pid = sqlite3_column_int64(s, 11);
	out->lock_start = sqlite3_column_int64(s, 12);
	return 0;
}

void rollout_row_clear(struct rollout_row *r)
{
	free(r->name);
	free(r->state);
	free(r->policy_json);
	free(r->policy_file);
	free(r->lab_json);
	free(r->lab_file);
	free(r->gate_file);
	free(r->gate_sha256);
	free(r->candidate);
	free(r->candidate_state);
	memset(r, 0, sizeof(*r));
}

int rollout_row_policy(const struct rollout_row *r, struct rollout_policy *out, struct pl_err *err)
{
	json_error_t je;
	PL_AUTOJSON json_t *doc = json_loads(r->policy_json, JSON_REJECT_DUPLICATES, &je);
	PL_AUTOFREE char *what = pl_strdupf("rollout '%s': policy %s", r->name, r->policy_file);

	if (!doc)
		return pl_error(err, PL_EDB, "%s: the stored document is not JSON: %s", what,
		                je.text);
	return rollout_policy_from_json(doc, what, out, err);
}

/* ---- state changes with their audit entries ---------------------------------------- */

int rollout_set_state(struct store *st, const struct rollout_row *r, const char *to,
                      const char *reason, const char *actor, const struct pl_clock *clock,
                      struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOJSON json_t *d =
	    json_pack("{s:s, s:s, s:s?}", "from", r->state, "to", to, "reason", reason);
	char now[21];

	rollout_now_iso(clock, now);
	if (store_prepare(st,
	                  "UPDATE rollouts SET state = ?1, reason = ?2, updated_at = ?3,"
	                  " finished_at = CASE WHEN ?1 = 'completed' THEN ?3 ELSE NULL END"
	                  " WHERE id = ?4",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, r->id);
	if (store_step_done(st, s, err) < 0)
		return err->code;
	return audit_append(st, actor, "set-state", "rollout", r->name, d, err);
}

int rollout_wave_set_state(struct store *st, const char *rollout, const struct rollout_wave_row *w,
                           const char *to, json_t *result, const struct pl_clock *clock,
                           struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *obj = pl_strdupf("%s/%s", rollout, w->name);
	PL_AUTOFREE char *res = result ? json_dumps(result, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	PL_AUTOJSON json_t *d =
	    json_pack("{s:s, s:s, s:O?}", "from", w->state, "to", to, "result", result);
	char now[21];
	int64_t t = pl_clock_now(clock);

	pl_time_iso(t, now);
	if (store_prepare(
	        st,
	        "UPDATE waves SET state = ?1,"
	        " started_at = CASE WHEN ?1 = 'running' AND started_at IS NULL THEN ?2"
	        "   ELSE started_at END,"
	        " finished_at = CASE WHEN ?1 IN ('succeeded', 'failed') THEN ?2"
	        "   WHEN ?1 = 'pending' THEN NULL ELSE finished_at END,"
	        " soak_until = CASE WHEN ?1 = 'succeeded' THEN ?3 + min_soak ELSE NULL END,"
	        " result = COALESCE(?4, result) WHERE id = ?5",
	        &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, t);
	sqlite3_bind_text(s, 4, res, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, w->id);
	if (store_step_done(st, s, err) < 0)
		return err->code;
	return audit_append(st, NULL, "set-state", "wave", obj, d, err);
}

int rollout_target_update(struct store *st, const char *rollout, const struct rollout_target_row *t,
                          const struct rollout_target_change *c, const struct pl_clock *clock,
                          struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *obj = pl_strdupf("%s/%s", rollout, t->host);
	PL_AUTOFREE char *res =
	    c->result ? json_dumps(c->result, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	PL_AUTOFREE char *snap =
	    c->snapshot ? json_dumps(c->snapshot, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	PL_AUTOJSON json_t *d = json_pack("{s:s, s:s, s:s?, s:s?, s:s?}", "from", t->state, "to",
	                                  c->state ? c->state : t->state, "detail", c->detail,
	                                  "snapshot", c->snapshot_state, "verified", c->verified);
	char now[21];

	rollout_now_iso(clock, now);
	if (store_prepare(st,
	                  "UPDATE wave_targets SET state = COALESCE(?1, state),"
	                  " attempts = attempts + (COALESCE(?1, '') = 'running'),"
	                  " started_at = CASE WHEN ?1 = 'running' THEN ?2 ELSE started_at END,"
	                  " finished_at = CASE WHEN ?1 IN ('succeeded', 'failed', 'rolled-back',"
	                  "   'skipped') THEN ?2 WHEN ?1 IN ('pending', 'running') THEN NULL"
	                  "   ELSE finished_at END,"
	                  " detail = COALESCE(?3, detail), result = COALESCE(?4, result),"
	                  " snapshot = COALESCE(?5, snapshot),"
	                  " snapshot_state = COALESCE(?6, snapshot_state),"
	                  " verified = COALESCE(?7, verified),"
	                  " verify_detail = COALESCE(?8, verify_detail) WHERE id = ?9",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, c->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, c->detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, res, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, snap, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, c->snapshot_state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, c->verified, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, c->verify_detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, t->id);
	if (store_step_done(st, s, err) < 0)
		return err->code;
	return audit_append(st, NULL, c->action ? c->action : "set-state", "target", obj, d, err);
}

/* ---- waves and targets of a rollout ------------------------------------------------ */

void rollout_waves_clear(struct rollout_waves_rows *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct rollout_wave_row *x = &w->v[i];

		free(x->name);
		free(x->state);
		free(x->executor);
		free(x->window_name);
		for (size_t j = 0; j < x->ntargets; j++) {
			free(x->targets[j].host);
			free(x->targets[j].state);
			free(x->targets[j].uri);
			free(x->targets[j].domain);
			free(x->targets[j].snapshot_state);
			free(x->targets[j].verified);
			json_decref(x->targets[j].snapshot);
			json_decref(x->targets[j].result);
		}
		free(x->targets);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
}

static int waves_load_targets(struct store *st, struct rollout_wave_row *w, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(
	        st,
	        "SELECT id, host, state, libvirt_uri, libvirt_domain, snapshot_state,"
	        " snapshot, attempts, verified, result FROM wave_targets WHERE wave_id = ?"
	        " ORDER BY host",
	        &s, err) < 0)
		return err->code;
	sqlite3_bind_int64(s, 1, w->id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct rollout_target_row *t;

		w->targets = pl_realloc(w->targets, (w->ntargets + 1) * sizeof(*w->targets));
		t = &w->targets[w->ntargets++];
		memset(t, 0, sizeof(*t));
		t->id = sqlite3_column_int64(s, 0);
		t->host = pl_strdup(store_col_text(s, 1));
		t->state = pl_strdup(store_col_text(s, 2));
		t->uri = pl_strdup(store_col_text(s, 3));
		t->domain = pl_strdup(store_col_text(s, 4));
		t->snapshot_state = pl_strdup(store_col_text(s, 5));
		t->snapshot = sqlite3_column_type(s, 6) == SQLITE_NULL
		                  ? NULL
		                  : json_loads(store_col_text(s, 6), 0, NULL);
		t->attempts = sqlite3_column_int(s, 7);
		t->verified = sqlite3_column_type(s, 8) == SQLITE_NULL
		                  ? NULL
		                  : pl_strdup(store_col_text(s, 8));
		t->result = sqlite3_column_type(s, 9) == SQLITE_NULL
		                ? NULL
		                : json_loads(store_col_text(s, 9), 0, NULL);
	}
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "reading targets");
}

int rollout_waves_load(struct store *st, int64_t rollout_id, struct rollout_waves_rows *out,
                       struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (store_prepare(st,
	                  "SELECT id, seq, name, state, executor, window_name, window_start,"
	                  " window_end, min_soak, soak_until FROM waves WHERE rollout_id = ?"
	                  " ORDER BY seq",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_int64(s, 1, rollout_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct rollout_wave_row *w;

		out->v = pl_realloc(out->v, (out->n + 1) * sizeof(*out->v));
		w = &out->v[out->n++];
		memset(w, 0, sizeof(*w));
		w->id = sqlite3_column_int64(s, 0);
		w->seq = sqlite3_column_int(s, 1);
		w->name = pl_strdup(store_col_text(s, 2));
		w->state = pl_strdup(store_col_text(s, 3));
		w->executor = pl_strdup(store_col_text(s, 4));
		w->window_name = pl_strdup(store_col_text(s, 5));
		w->window_start = sqlite3_column_type(s, 6) == SQLITE_NULL
		                      ? INT64_MIN
		                      : sqlite3_column_int64(s, 6);
		w->window_end = sqlite3_column_type(s, 7) == SQLITE_NULL
		                    ? INT64_MIN
		                    : sqlite3_column_int64(s, 7);
		w->min_soak = sqlite3_column_int64(s, 8);
		w->soak_until = sqlite3_column_type(s, 9) == SQLITE_NULL
		                    ? INT64_MIN
		                    : sqlite3_column_int64(s, 9);
	}
	if (rc != SQLITE_DONE)
		return store_error(st, err, "reading waves");
	for (size_t i = 0; i < out->n; i++)
		if (waves_load_targets(st, &out->v[i], err) < 0)
			return err->code;
	return 0;
}

int rollout_wave_set_window(struct store *st, const char *rollout, const struct rollout_wave_row *w,
                            const struct rollout_window *win, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *obj = pl_strdupf("%s/%s", rollout, w->name);
	char sl[32], el[32], from[21] = "", to[21];
	PL_AUTOJSON json_t *d = NULL;

	rollout_time_local(win->start, win->start_offset, sl);
	rollout_time_local(win->end, win->end_offset, el);
	if (w->window_start != INT64_MIN)
		pl_time_iso(w->window_start, from);
	pl_time_iso(win->start, to);
	d = json_pack("{s:s, s:s, s:s}", "window", win->rule->name, "from", from, "to", to);
	if (store_prepare(
	        st,
	        "UPDATE waves SET window_name = ?, window_start = ?, window_end = ?,"
	        " window_start_local = ?, window_end_local = ?, window_tz = ? WHERE id = ?",
	        &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, win->rule->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, win->start);
	sqlite3_bind_int64(s, 3, win->end);
	sqlite3_bind_text(s, 4, sl, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, el, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, win->rule->tz_name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, w->id);
	if (store_step_done(st, s, err) < 0)
		return err->code;
	return audit_append(st, NULL, "reschedule", "wave", obj, d, err);
}

/* ---- schedule ---------------------------------------------------------------------- */

/* The inventory as the planner's hosts; the JSON array owns the strings. */
static struct rollout_host *sched_hosts(json_t *arr)
{
	struct rollout_host *h = pl_calloc(json_array_size(arr) + 1, sizeof(*h));
	json_t *v;
	size_t i;

	json_array_foreach (arr, i, v) {
		h[i].name = json_string_value(json_object_get(v, "name"));
		h[i].role = json_string_value(json_object_get(v, "role"));
		h[i].environment = json_string_value(json_object_get(v, "environment"));
		h[i].tags = json_object_get(v, "tags");
		h[i].libvirt_uri = json_string_value(json_object_get(v, "libvirt_uri"));
		h[i].libvirt_domain = json_string_value(json_object_get(v, "libvirt_domain"));
	}
	return h;
}

/* The smoke checks (a lab file) and the gate policy, validated now. */
struct sched_files {
	char *lab_text, *lab_path, *gate_path;
	char gate_sha[65];
};

static void sched_files_clear(struct sched_files *f)
{
	free(f->lab_text);
	free(f->lab_path);
	free(f->gate_path);
}

static int sched_files_load(const struct rollout_schedule_opts *o, struct sched_files *f,
                            struct pl_err *err)
{
	memset(f, 0, sizeof(*f));
	if (o->lab_file) {
		struct lab_def def;

		if (pl_file_read(o->lab_file, &f->lab_text, NULL, err) < 0 ||
		    lab_def_parse(f->lab_text, o->lab_file, &def, err) < 0)
			return err->code;
		lab_def_free(&def);
		f->lab_path = realpath(o->lab_file, NULL);
	}
	if (o->gate_file) {
		struct gate_policy gp;

		if (gate_policy_load(o->gate_file, &gp, err) < 0)
			return err->code;
		gate_policy_free(&gp);
		f->gate_path = realpath(o->gate_file, NULL);
		if (!f->gate_path)
			return pl_error(err, PL_EIO, "%s: %s", o->gate_file, strerror(errno));
		if (pl_sha256_file(f->gate_path, f->gate_sha, err) < 0)
			return err->code;
	}
	return 0;
}

static int sched_insert_rollout(struct store *st, const char *name, const struct candidate *c,
                                const struct rollout_policy *p, const struct sched_files *f,
                                json_t *unassigned, const char *now, int64_t *id,
                                struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *un = json_dumps(unassigned, JSON_COMPACT);

	if (store_prepare(
	        st,
	        "INSERT INTO rollouts(name, candidate_id, state, policy_name, policy_file,"
	        " policy_json, lab_file, lab_json, gate_file, gate_sha256, unassigned,"
	        " created_at, updated_at) VALUES (?1, ?2, 'scheduled', ?3, ?4, ?5, ?6, ?7,"
	        " ?8, ?9, ?10, ?11, ?11)",
	        &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, c->id);
	sqlite3_bind_text(s, 3, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, p->file, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, p->text, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, f->lab_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, f->lab_text, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, f->gate_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, f->gate_path ? f->gate_sha : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, un, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, now, -1, SQLITE_STATIC);
	if (store_step_done(st, s, err) < 0)
		return err->code;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

static int sched_insert_wave(struct store *st, int64_t rid, size_t seq,
                             const struct rollout_plan_wave *w, int64_t *id, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *rule = json_dumps(w->rule->doc, JSON_COMPACT | JSON_SORT_KEYS);
	char sl[32], el[32];

	if (store_prepare(st,
	                  "INSERT INTO waves(rollout_id, seq, name, executor, rule, state,"
	                  " window_name, window_start, window_end, window_start_local,"
	                  " window_end_local, window_tz, min_soak) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
	                  " ?, ?, ?, ?, ?)",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_int64(s, 1, rid);
	sqlite3_bind_int64(s, 2, (int64_t)seq + 1);
	sqlite3_bind_text(s, 3, w->rule->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, rollout_executor_name(w->rule->executor), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, rule, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, w->nhosts ? "pending" : "skipped", -1, SQLITE_STATIC);
	if (w->nhosts) {
		rollout_time_local(w->window.start, w->window.start_offset, sl);
		rollout_time_local(w->window.end, w->window.end_offset, el);
		sqlite3_bind_text(s, 7, w->window.rule->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 8, w->window.start);
		sqlite3_bind_int64(s, 9, w->window.end);
		sqlite3_bind_text(s, 10, sl, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 11, el, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 12, w->window.rule->tz_name, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(s, 13, w->rule->min_soak);
	if (store_step_done(st, s, err) < 0)
		return err->code;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

static int sched_insert_targets(struct store *st, int64_t rid, int64_t wid,
                                const struct rollout_plan_wave *w, json_t *hosts,
                                struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;

	if (store_prepare(
	        st,
	        "INSERT INTO wave_targets(rollout_id, wave_id, host_id, host, libvirt_uri,"
	        " libvirt_domain, state) VALUES (?, ?, (SELECT id FROM hosts WHERE name ="
	        " ?3), ?3, ?4, ?5, 'pending')",
	        &s, err) < 0)
		return err->code;
	for (size_t k = 0; k < w->nhosts; k++) {
		json_t *h = json_array_get(hosts, w->hosts[k]);

		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, rid);
		sqlite3_bind_int64(s, 2, wid);
		sqlite3_bind_text(s, 3, json_string_value(json_object_get(h, "name")), -1,
		                  SQLITE_STATIC);
		sqlite3_bind_text(s, 4, json_string_value(json_object_get(h, "libvirt_uri")), -1,
		                  SQLITE_STATIC);
		sqlite3_bind_text(s, 5, json_string_value(json_object_get(h, "libvirt_domain")), -1,
		                  SQLITE_STATIC);
		if (store_step_done(st, s, err) < 0)
			return err->code;
	}
	return 0;
}

static json_t *sched_plan_json(const struct rollout_plan *pl, json_t *hosts)
{
	json_t *waves = json_array();

	for (size_t i = 0; i < pl->nwaves; i++) {
		const struct rollout_plan_wave *w = &pl->waves[i];
		json_t *hs = json_array();
		char start[21] = "";

		for (size_t k = 0; k < w->nhosts; k++)
			json_array_append(
			    hs, json_object_get(json_array_get(hosts, w->hosts[k]), "name"));
		if (w->nhosts)
			pl_time_iso(w->window.start, start);
		json_array_append_new(waves,
		                      json_pack("{s:s, s:o, s:s?}", "wave", w->rule->name, "hosts",
		                                hs, "window_start", w->nhosts ? start : NULL));
	}
	return waves;
}

static int sched_check_candidate(struct store *st, const struct candidate *c, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (strcmp(c->state, "approved") != 0)
		return pl_error(err, PL_ESTATE,
		                "candidate '%s' is %s, not approved: only an approved candidate is "
		                "scheduled (patchlab gate status %s; patchlab approve %s)",
		                c->name, c->state, c->name, c->name);
	if (store_prepare(st, "SELECT name FROM rollouts WHERE candidate_id = ?", &s, err) < 0)
		return err->code;
	sqlite3_bind_int64(s, 1, c->id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		return pl_error(err, PL_EEXIST,
		                "candidate '%s' has a rollout already (rollout '%s')", c->name,
		                store_col_text(s, 0));
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "reading rollouts");
}

static int sched_store(struct store *st, struct candidate *c, const struct rollout_schedule_opts *o,
                       const struct rollout_plan *pl, json_t *hosts, const struct sched_files *f,
                       struct pl_err *err)
{
	const struct rollout_policy *p = o->policy;
	json_t *unassigned = json_array();
	PL_AUTOJSON json_t *detail = NULL;
	char now[21];
	int64_t rid = 0;

	for (size_t k = 0; k < pl->nunassigned; k++)
		json_array_append(
		    unassigned, json_object_get(json_array_get(hosts, pl->unassigned[k]), "name"));
	detail = json_pack("{s:s, s:s, s:s, s:o, s:o}", "candidate", c->name, "policy", p->name,
	                   "policy_file", p->file, "waves", sched_plan_json(pl, hosts),
	                   "unassigned", json_incref(unassigned));
	rollout_now_iso(o->clock, now);
	if (store_begin(st, err) < 0) {
		json_decref(unassigned);
		return err->code;
	}
	if (sched_insert_rollout(st, c->name, c, p, f, unassigned, now, &rid, err) < 0)
		goto fail;
	for (size_t i = 0; i < pl->nwaves; i++) {
		int64_t wid = 0;

		if (sched_insert_wave(st, rid, i, &pl->waves[i], &wid, err) < 0 ||
		    sched_insert_targets(st, rid, wid, &pl->waves[i], hosts, err) < 0)
			goto fail;
	}
	if (candidate_set_state_by(st, c, "scheduled", o->actor, err) < 0 ||
	    audit_append(st, o->actor, "schedule", "rollout", c->name, detail, err) < 0 ||
	    store_commit(st, err) < 0)
		goto fail;
	json_decref(unassigned);
	return 0;
fail:
	store_rollback(st);
	json_decref(unassigned);
	return err->code;
}

int rollout_schedule(struct store *st, const char *name, const struct rollout_schedule_opts *o,
                     json_t **out, struct pl_err *err)
{
	struct candidate c = {0};
	struct rollout_plan pl = {0};
	struct sched_files f = {0};
	PL_AUTOJSON json_t *hosts = NULL;
	PL_AUTOFREE struct rollout_host *hv = NULL;
	int rc;

	if (out)
		*out = NULL;
	rc = candidate_get(st, name, &c, err);
	if (rc == 0)
		rc = sched_check_candidate(st, &c, err);
	if (rc == 0)
		rc = sched_files_load(o, &f, err);
	if (rc == 0)
		rc = inv_host_list(st, NULL, NULL, &hosts, err);
	if (rc == 0) {
		hv = sched_hosts(hosts);
		rc = rollout_plan_compute(o->policy, hv, json_array_size(hosts),
		                          pl_clock_now(o->clock), &pl, err);
	}
	if (rc == 0)
		rc = sched_store(st, &c, o, &pl, hosts, &f, err);
	if (rc == 0 && out)
		rc = rollout_status(st, name, out, err);
	rollout_plan_free(&pl);
	sched_files_clear(&f);
	candidate_clear(&c);
	return rc;
}

/* ---- status ------------------------------------------------------------------------ */

static int status_targets(struct store *st, int64_t wave_id, json_t *out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st,
	                  "SELECT host, libvirt_uri, libvirt_domain, state, attempts, started_at,"
	                  " finished_at, detail, snapshot, snapshot_state, verified, verify_detail,"
	                  " result FROM wave_targets WHERE wave_id = ? ORDER BY host",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_int64(s, 1, wave_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(
		    out,
		    json_pack("{s:s, s:o, s:o, s:s, s:i, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o}",
		              "host", store_col_text(s, 0), "libvirt_uri", col_str_or_null(s, 1),
		              "libvirt_domain", col_str_or_null(s, 2), "state",
		              store_col_text(s, 3), "attempts", sqlite3_column_int(s, 4),
		              "started_at", col_str_or_null(s, 5), "finished_at",
		              col_str_or_null(s, 6), "detail", col_str_or_null(s, 7), "snapshot",
		              col_json_or_null(s, 8), "snapshot_state", store_col_text(s, 9),
		              "verified", col_str_or_null(s, 10), "verify_detail",
		              col_str_or_null(s, 11), "result", col_json_or_null(s, 12)));
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "reading targets");
}

static json_t *status_window(sqlite3_stmt *s)
{
	if (sqlite3_column_type(s, 5) == SQLITE_NULL)
		return json_null();
	return json_pack("{s:s, s:s, s:o, s:o, s:s, s:s}", "name", store_col_text(s, 5), "tz",
	                 store_col_text(s, 10), "start_utc", time_or_null(s, 6), "end_utc",
	                 time_or_null(s, 7), "start_local", store_col_text(s, 8), "end_local",
	                 store_col_text(s, 9));
}

static int status_waves(struct store *st, int64_t rid, json_t *out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st,
	                  "SELECT id, seq, name, executor, state, window_name, window_start,"
	                  " window_end, window_start_local, window_end_local, window_tz, min_soak,"
	                  " started_at, finished_at, soak_until, result, rule FROM waves"
	                  " WHERE rollout_id = ? ORDER BY seq",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_int64(s, 1, rid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *rule = col_json_or_null(s, 16), *targets = json_array();
		json_t *w = json_pack(
		    "{s:i, s:s, s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		    "seq", sqlite3_column_int(s, 1), "name", store_col_text(s, 2), "executor",
		    store_col_text(s, 3), "state", store_col_text(s, 4), "window", status_window(s),
		    "min_soak_seconds", (json_int_t)sqlite3_column_int64(s, 11), "select",
		    rule_get(rule, "select", json_object()), "success_threshold",
		    rule_get(rule, "success_threshold", json_integer(1)), "halt_failure_rate",
		    rule_get(rule, "halt_failure_rate", json_integer(0)), "share",
		    rule_get(rule, "share", json_null()), "count",
		    rule_get(rule, "count", json_null()), "started_at", col_str_or_null(s, 12),
		    "finished_at", col_str_or_null(s, 13), "soak_until", time_or_null(s, 14),
		    "result", col_json_or_null(s, 15));

		json_decref(rule);
		if (status_targets(st, sqlite3_column_int64(s, 0), targets, err) < 0) {
			json_decref(targets);
			json_decref(w);
			return err->code;
		}
		json_object_set_new(w, "targets", targets);
		json_array_append_new(out, w);
	}
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "reading waves");
}

int rollout_status(struct store *st, const char *name, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *r, *waves;
	int rc;

	*out = NULL;
	if (store_prepare(st,
	                  "SELECT r.id, r.name, c.name, c.state, r.state, r.reason, r.policy_name,"
	                  " r.policy_file, r.lab_file, r.gate_file, r.created_at, r.updated_at,"
	                  " r.finished_at, r.lock_pid, r.unassigned FROM rollouts r"
	                  " JOIN candidates c ON c.id = r.candidate_id WHERE r.name = ?",
	                  &s, err) < 0)
		return err->code;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return pl_error(err, PL_ENOTFOUND, "no rollout '%s'", name);
	if (rc != SQLITE_ROW)
		return store_error(st, err, "reading a rollout");
	waves = json_array();
	r = json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:s, s:s}, s:o, s:o, s:s, s:s, s:o, s:o, s:o}",
	              "name", store_col_text(s, 1), "candidate", store_col_text(s, 2),
	              "candidate_state", store_col_text(s, 3), "state", store_col_text(s, 4),
	              "reason", col_str_or_null(s, 5), "policy", "name", store_col_text(s, 6),
	              "file", store_col_text(s, 7), "lab_file", col_str_or_null(s, 8), "gate_file",
	              col_str_or_null(s, 9), "created_at", store_col_text(s, 10), "updated_at",
	              store_col_text(s, 11), "finished_at", col_str_or_null(s, 12), "lock_pid",
	              sqlite3_column_type(s, 13) == SQLITE_NULL
	                  ? json_null()
	                  : json_integer(sqlite3_column_int64(s, 13)),
	              "unassigned", col_json_or_null(s, 14));
	if (status_waves(st, sqlite3_column_int64(s, 0), waves, err) < 0) {
		json_decref(waves);
		json_decref(r);
		return err->code;
	}
	json_object_set_new(r, "waves", waves);
	*out = r;
	return 0;
}

int rollout_list(struct store *st, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *arr = json_array();
	int rc;

	*out = NULL;
	if (store_prepare(st,
	                  "SELECT r.name, c.name, r.state, r.policy_name, r.created_at,"
	                  " (SELECT count(*) FROM waves w WHERE w.rollout_id = r.id),"
	                  " (SELECT json_group_object(state, n) FROM (SELECT state, count(*) AS n"
	                  "   FROM wave_targets t WHERE t.rollout_id = r.id GROUP BY state)),"
	                  " (SELECT name FROM waves w WHERE w.rollout_id = r.id AND w.state NOT IN"
	                  "   ('succeeded', 'skipped') ORDER BY seq LIMIT 1)"
	                  " FROM rollouts r JOIN candidates c ON c.id = r.candidate_id"
	                  " ORDER BY r.id DESC",
	                  &s, err) < 0) {
		json_decref(arr);
		return err->code;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(
		    arr,
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:o, s:o}", "name",
		              store_col_text(s, 0), "candidate", store_col_text(s, 1), "state",
		              store_col_text(s, 2), "policy", store_col_text(s, 3), "created_at",
		              store_col_text(s, 4), "waves", sqlite3_column_int(s, 5), "targets",
		              col_json_or_null(s, 6), "current_wave", col_str_or_null(s, 7)));
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return store_error(st, err, "listing rollouts");
	}
	*out = arr;
	return 0;
}

/* ---- halt and resume ------------------------------------------------------------------ */

int rollout_candidate_move(struct store *st, const char *name, const char *to, const char *actor,
                           struct pl_err *err)
{
	struct candidate c = {0};
	int rc = candidate_get(st, name, &c, err);

	if (rc == 0 && strcmp(c.state, to) != 0 && candidate_transition_ok(c.state, to))
		rc = candidate_set_state_by(st, &c, to, actor, err);
	candidate_clear(&c);
	return rc;
}

int rollout_halt(struct store *st, const char *name, const char *reason, const char *actor,
                 const struct pl_clock *clock, struct pl_err *err)
{
	struct rollout_row r;
	PL_AUTOFREE char *who = audit_actor(actor);
	PL_AUTOFREE char *why =
	    pl_strdupf("halted by %s%s%s", who, reason ? ": " : "", reason ? reason : "");
	int rc;

	if (store_begin(st, err) < 0)
		return err->code;
	rc = rollout_row_load(st, name, &r, err);
	if (rc == 0 && strcmp(r.state, "scheduled") != 0 && strcmp(r.state, "running") != 0)
		rc = pl_error(err, PL_ESTATE,
		              "rollout '%s' is %s: only a scheduled or running one halts", name,
		              r.state);
	if (rc == 0)
		rc = rollout_set_state(st, &r, "halted", why, actor, clock, err);
	if (rc == 0)
		rc = rollout_candidate_move(st, r.candidate, "halted", actor, err);
	rc = store_end(st, rc, err);
	rollout_row_clear(&r);
	return rc;
}

/* The halted wave's failed and rolled-back targets go back to pending. */
static int resume_waves(struct store *st, const struct rollout_row *r, const struct pl_clock *clock,
                        int *started, struct pl_err *err)
{
	struct rollout_waves_rows ws;
	int rc = rollout_waves_load(st, r->id, &ws, err);

	*started = 0;
	for (size_t i = 0; rc == 0 && i < ws.n; i++) {
		struct rollout_wave_row *w = &ws.v[i];

		if (strcmp(w->state, "pending") != 0 && strcmp(w->state, "skipped") != 0)
			*started = 1;
		if (strcmp(w->state, "failed") != 0)
			continue;
		for (size_t j = 0; rc == 0 && j < w->ntargets; j++) {
			struct rollout_target_change c = {.state = "pending",
			                                  .detail = "resumed: to be applied again"};

			if (strcmp(w->targets[j].state, "failed") == 0 ||
			    strcmp(w->targets[j].state, "rolled-back") == 0)
				rc = rollout_target_update(st, r->name, &w->targets[j], &c, clock,
				                           err);
		}
		if (rc == 0)
			rc = rollout_wave_set_state(st, r->name, w, "pending", NULL, clock, err);
	}
	rollout_waves_clear(&ws);
	return rc;
}

int rollout_resume(struct store *st, const char *name, const char *actor,
                   const struct pl_clock *clock, struct pl_err *err)
{
	struct rollout_row r;
	int rc, started = 0;

	if (store_begin(st, err) < 0)
		return err->code;
	rc = rollout_row_load(st, name, &r, err);
	if (rc == 0 && strcmp(r.state, "halted") != 0)
		rc = pl_error(err, PL_ESTATE, "rollout '%s' is %s, not halted", name, r.state);
	if (rc == 0 && strcmp(r.candidate_state, "halted") != 0)
		rc = pl_error(err, PL_ESTATE,
		              "candidate '%s' is %s: its rollout cannot go on (only a halted "
		              "candidate resumes)",
		              r.candidate, r.candidate_state);
	if (rc == 0)
		rc = resume_waves(st, &r, clock, &started, err);
	if (rc == 0)
		rc = rollout_set_state(st, &r, started ? "running" : "scheduled", "resumed", actor,
		                       clock, err);
	if (rc == 0)
		rc = rollout_candidate_move(st, r.candidate, started ? "rolling-out" : "scheduled",
		                            actor, err);
	rc = store_end(st, rc, err);
	rollout_row_clear(&r);
	return rc;
}
