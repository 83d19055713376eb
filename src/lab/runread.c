/* runread.c - reading a candidate's lab runs back: what 'candidate show',
 * the reports and the dashboard print. */
#include "lab.h"


/* The run's checks in the order they were recorded. */
static int runread_checks(sqlite3_stmt *c, const char *run, json_t **out)
{
	json_t *checks = json_array();
	int rc;

	sqlite3_reset(c);
	sqlite3_bind_text(c, 1, run, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(c)) == SQLITE_ROW)
		json_array_append_new(
		    checks, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "vm", store_col_text(c, 5),
		                      "stage", store_col_text(c, 0), "name", store_col_text(c, 1),
		                      "status", store_col_text(c, 2), "detail",
		                      store_col_text(c, 3), "evidence", store_col_opt(c, 4)));
	*out = checks;
	return rc == SQLITE_DONE ? 0 : -1;
}

int lab_candidate_runs(struct store *st, long candidate_id, json_t **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *r = NULL, *c = NULL;
	json_t *runs = json_array();
	int rc;

	if (store_prepare(
	        st,
	        "SELECT r.id, r.state, r.verdict, r.subset, r.started_at, r.ended_at,"
	        " r.result, i.name FROM lab_runs r LEFT JOIN images i ON i.id = r.image_id"
	        " WHERE r.candidate_id = ? ORDER BY r.started_at, r.rowid",
	        &r, err) < 0 ||
	    store_prepare(st,
	                  "SELECT stage, name, status, detail, evidence, vm FROM checks"
	                  " WHERE run_id = ? ORDER BY id",
	                  &c, err) < 0) {
		json_decref(runs);
		return PL_EDB;
	}
	sqlite3_bind_int64(r, 1, candidate_id);
	while ((rc = sqlite3_step(r)) == SQLITE_ROW) {
		json_t *res = json_loads(store_col_text(r, 6), 0, NULL);
		json_t *checks = NULL;
		json_t *run = json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:s?, s:s?}", "run",
		                        store_col_text(r, 0), "state", store_col_text(r, 1),
		                        "verdict", store_col_opt(r, 2), "subset", store_col_opt(r, 3),
		                        "started_at", store_col_text(r, 4), "ended_at",
		                        store_col_opt(r, 5), "image", store_col_opt(r, 7));

		if (runread_checks(c, store_col_text(r, 0), &checks) < 0) {
			json_decref(checks);
			json_decref(run);
			json_decref(res);
			json_decref(runs);
			return store_error(st, err, "reading checks");
		}
		json_object_set_new(run, "checks", checks);
		if (res) {
			const char *keys[] = {"stages", "evidence_dir", "console_log",
			                      "boot",   "reasons",      NULL};

			for (int k = 0; keys[k]; k++)
				if (json_object_get(res, keys[k]))
					json_object_set(run, keys[k],
					                json_object_get(res, keys[k]));
			json_decref(res);
		}
		json_array_append_new(runs, run);
	}
	if (rc != SQLITE_DONE) {
		json_decref(runs);
		return store_error(st, err, "reading lab runs");
	}
	*out = runs;
	return 0;
}
