/* test_promote.c - promotion policies, requirement states on a fixture
 * database with an injected clock, the CAB's decisions, and errors that
 * never pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>

#include "audit/audit.h"
#include "candidate/candidate.h"
#include "gate/gate.h"

#define PDIR PL_TEST_DATA_DIR "/gate/promotion/"

/* 2026-01-10T10:20:00Z, when the fixture's lab runs end. */
#define T_END 1768040400

/* ---- policies ------------------------------------------------------------ */

/* Every bad-*.json is refused with the message in its .err file. */
static void test_policy_files(void **state)
{
	DIR *d = opendir(PDIR);
	struct dirent *e;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		PL_AUTOFREE char *path = NULL, *errpath = NULL, *want = NULL;
		struct gate_policy p;
		struct pl_err err = PL_ERR_INIT;
		size_t len = strlen(e->d_name);

		if (strncmp(e->d_name, "bad-", 4) != 0 || len < 5 ||
		    strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		path = pl_strdupf(PDIR "%s", e->d_name);
		errpath = pl_strdupf(PDIR "%.*s.err", (int)(len - 5), e->d_name);
		assert_int_equal(pl_file_read(errpath, &want, NULL, &err), 0);
		want[strcspn(want, "\n")] = '\0';
		if (gate_policy_load(path, &p, &err) != PL_EINVAL)
			fail_msg("%s: accepted", e->d_name);
		if (!strstr(err.msg, want) || !strstr(err.msg, e->d_name))
			fail_msg("%s: got '%s', want '%s'", e->d_name, err.msg, want);
		n++;
	}
	closedir(d);
	assert_true(n >= 8);
}

static void test_policy_good(void **state)
{
	struct gate_policy p;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	assert_int_equal(gate_policy_default(&p, &err), 0);
	assert_non_null(p.promotion);
	assert_string_equal(p.promotion->roles[0], "cab");
	assert_int_equal(p.promotion->napprovals, 2);
	assert_string_equal(p.promotion->approvals[0].role, "cab");
	assert_int_equal(p.promotion->approvals[0].count, 2);
	assert_int_equal(p.promotion->approvals[1].count, 1);
	assert_int_equal(p.promotion->min_soak_hours, 24);
	assert_true(gate_waivable(&p, "boot/ports"));
	assert_true(gate_waivable(&p, "soak"));
	assert_false(gate_waivable(&p, "apply/dpkg"));
	assert_true(gate_role_known(&p, "security"));
	assert_false(gate_role_known(&p, "janitor"));
	gate_policy_free(&p);

	assert_int_equal(gate_policy_load(PDIR "nowaivers.json", &p, &err), 0);
	assert_false(gate_waivable(&p, "boot/ports")); /* listed, but "allowed": false */
	assert_int_equal(p.promotion->min_soak_hours, 0);
	gate_policy_free(&p);

	assert_int_equal(gate_policy_load(PDIR "no-promotion.json", &p, &err), 0);
	assert_null(p.promotion);
	assert_false(gate_waivable(&p, "boot/ports"));
	gate_policy_free(&p);
}

/* ---- the fixture database -------------------------------------------------- */

struct fx {
	char dir[64];
	struct store *st;
	struct gate_policy pol;
};

static void exec_ok(struct store *st, const char *sql)
{
	struct pl_err err = PL_ERR_INIT;

	if (store_exec(st, sql, &err) < 0)
		fail_msg("%s: %s", sql, err.msg);
}

/* A candidate with one patch (no file behind it: the gate reads rows). */
static void fx_candidate(struct fx *f, const char *name, const char *state)
{
	PL_AUTOFREE char *sql =
	    pl_strdupf("INSERT INTO candidates(name, state, created_at, updated_at) VALUES"
	               " ('%s', '%s', '2026-01-09T00:00:00Z', '2026-01-09T00:00:00Z');"
	               "INSERT INTO candidate_patches(candidate_id, patch_id) VALUES"
	               " ((SELECT id FROM candidates WHERE name = '%s'), 1);",
	               name, state, name);

	exec_ok(f->st, sql);
}

/* A lab run of candidate on debian-12 with apply/dpkg passed and boot/ports
 * as ports says (NULL: absent). */
static void fx_run(struct fx *f, const char *id, const char *cand, const char *state,
                   const char *verdict, const char *ports)
{
	PL_AUTOFREE char *sql = pl_strdupf(
	    "INSERT INTO lab_runs(id, kind, image_id, uri, pid, pid_start, state, started_at,"
	    " ended_at, candidate_id, verdict) VALUES ('%s', 'candidate', 1, '', 1, 1, '%s',"
	    " '2026-01-10T10:00:00Z', %s, (SELECT id FROM candidates WHERE name = '%s'), %s);"
	    "INSERT INTO checks(run_id, vm, stage, name, status, detail) VALUES"
	    " ('%s', 'vm', 'apply', 'dpkg', 'pass', 'ok');",
	    id, state, strcmp(state, "running") ? "'2026-01-10T10:20:00Z'" : "NULL", cand,
	    verdict ? verdict : "NULL", id);
	PL_AUTOFREE char *sql2 =
	    pl_strdupf("INSERT INTO checks(run_id, vm, stage, name, status,"
	               " detail) VALUES ('%s', 'vm', 'boot', 'ports', '%s', 'x')",
	               id, ports ? ports : "");

	exec_ok(f->st, sql);
	if (ports)
		exec_ok(f->st, sql2);
}

static int fx_setup(void **state)
{
	struct fx *f = pl_calloc(1, sizeof(*f));
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *anchor = NULL;

	snprintf(f->dir, sizeof(f->dir), "/tmp/pl-test-promote-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	anchor = pl_strdupf("%s/anchor.json", f->dir);
	setenv("PATCHLAB_AUDIT_ANCHOR", anchor, 1);
	assert_int_equal(store_open(f->dir, STORE_CREATE, &f->st, &err), 0);
	exec_ok(f->st,
	        "INSERT INTO images(name, origin, path, format, sha256, size_bytes, inspection,"
	        " created_at) VALUES ('debian-12', 'imported', '/x', 'qcow2', '0', 0, '{}', '');"
	        "INSERT INTO patches(sha256, package, version, arch, source, source_version,"
	        " size_bytes, path, origin, added_at) VALUES ('00', 'pl-good', '1.0', 'all',"
	        " 'pl-good', '1.0', 1, '/x', '/x', '');");
	fx_candidate(f, "new1", "new");
	fx_candidate(f, "busy", "testing");
	fx_run(f, "r-busy", "busy", "running", NULL, "pass");
	fx_candidate(f, "good", "passed");
	fx_run(f, "r-good", "good", "passed", "'pass'", "pass");
	fx_candidate(f, "bad", "failed");
	fx_run(f, "r-bad", "bad", "failed", "'fail'", "fail");
	/* apply/dpkg and boot/ports required; cab x2 and security x1; 24 h */
	assert_int_equal(gate_policy_load(PDIR "unit.json", &f->pol, &err), 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	const char *argv[] = {"rm", "-rf", f->dir, NULL};

	store_close(f->st);
	gate_policy_free(&f->pol);
	assert_int_equal(pl_run_ok(argv, NULL, NULL), 0);
	unsetenv("PATCHLAB_AUDIT_ANCHOR");
	free(f);
	return 0;
}

/* Decides on candidate name at t; returns the code. */
static int decide(struct fx *f, const char *name, int64_t t, struct gate_decision *d)
{
	struct pl_clock clk = pl_clock_fixed(t);
	struct pl_err err = PL_ERR_INIT;
	struct candidate c;
	int rc;

	assert_int_equal(candidate_get(f->st, name, &c, &err), 0);
	rc = gate_promotion_evaluate(f->st, &c, &f->pol, &clk, d, &err);
	candidate_clear(&c);
	return rc;
}

static enum gate_req_state req(const struct gate_decision *d, const char *name)
{
	for (size_t i = 0; i < d->nreqs; i++)
		if (strcmp(d->reqs[i].name, name) == 0)
			return d->reqs[i].state;
	fail_msg("no requirement '%s'", name);
	return GATE_REQ_FAILED;
}

static int count(struct fx *f, const char *sql)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	struct pl_err err = PL_ERR_INIT;

	assert_int_equal(store_prepare(f->st, sql, &s, &err), 0);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	return sqlite3_column_int(s, 0);
}

/* ---- requirement states ------------------------------------------------------ */

static void test_missing_and_waiting(void **state)
{
	struct fx *f = *state;
	struct gate_decision d;

	assert_int_equal(decide(f, "new1", T_END, &d), 0);
	assert_false(d.promotable);
	assert_int_equal(req(&d, "state"), GATE_REQ_MISSING);
	assert_int_equal(req(&d, "lab"), GATE_REQ_MISSING);
	assert_int_equal(req(&d, "soak"), GATE_REQ_MISSING);
	assert_int_equal(req(&d, "approvals:cab"), GATE_REQ_MISSING);
	gate_decision_clear(&d);

	assert_int_equal(decide(f, "busy", T_END, &d), 0);
	assert_false(d.promotable);
	assert_int_equal(req(&d, "state"), GATE_REQ_WAITING);
	assert_int_equal(req(&d, "lab:debian-12"), GATE_REQ_WAITING);
	gate_decision_clear(&d);

	/* passed, but the soak is not over: waiting until 24 h after the end */
	assert_int_equal(decide(f, "good", T_END + 3600, &d), 0);
	assert_int_equal(req(&d, "lab:debian-12"), GATE_REQ_SATISFIED);
	assert_int_equal(req(&d, "soak"), GATE_REQ_WAITING);
	gate_decision_clear(&d);
	assert_int_equal(decide(f, "good", T_END + 24 * 3600 - 1, &d), 0);
	assert_int_equal(req(&d, "soak"), GATE_REQ_WAITING);
	gate_decision_clear(&d);
	assert_int_equal(decide(f, "good", T_END + 24 * 3600, &d), 0);
	assert_int_equal(req(&d, "soak"), GATE_REQ_SATISFIED);
	assert_false(d.promotable); /* no approvals yet */
	gate_decision_clear(&d);
}

static void test_satisfied_after_approvals(void **state)
{
	struct fx *f = *state;
	struct pl_clock clk = pl_clock_fixed(T_END + 48 * 3600);
	struct pl_err err = PL_ERR_INIT;
	struct gate_outcome o;
	struct gate_decision d;

	assert_int_equal(gate_approve(f->st, "good", &f->pol, &clk, "alice", "cab", "ok", &o, &err),
	                 0);
	assert_false(o.moved);
	assert_string_equal(o.to, "passed");
	assert_int_equal(req(&o.decision, "approvals:cab"), GATE_REQ_MISSING); /* 1 of 2 */
	gate_outcome_clear(&o);
	/* the same person again, in another role: refused, nothing written */
	assert_int_equal(
	    gate_approve(f->st, "good", &f->pol, &clk, "alice", "security", "x", &o, &err),
	    PL_EEXIST);
	gate_outcome_clear(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM approvals"), 1);
	assert_int_equal(gate_approve(f->st, "good", &f->pol, &clk, "bob", NULL, "ok", &o, &err),
	                 0);
	assert_false(o.moved);
	gate_outcome_clear(&o);
	assert_int_equal(
	    gate_approve(f->st, "good", &f->pol, &clk, "carol", "security", "ok", &o, &err), 0);
	assert_true(o.moved);
	assert_string_equal(o.from, "passed");
	assert_string_equal(o.to, "approved");
	assert_true(o.decision.promotable);
	gate_outcome_clear(&o);

	assert_int_equal(decide(f, "good", T_END + 48 * 3600, &d), 0);
	assert_true(d.promotable);
	for (size_t i = 0; i < d.nreqs; i++)
		assert_int_equal(d.reqs[i].state, GATE_REQ_SATISFIED);
	gate_decision_clear(&d);
	/* approve, waive: nothing left to decide */
	assert_int_equal(gate_approve(f->st, "good", &f->pol, &clk, "dave", "cab", "x", &o, &err),
	                 PL_ESTATE);
	gate_outcome_clear(&o);
}

static void test_failed_and_waived(void **state)
{
	struct fx *f = *state;
	struct pl_clock clk = pl_clock_fixed(T_END + 48 * 3600);
	struct pl_err err = PL_ERR_INIT;
	struct gate_outcome o;
	struct gate_decision d;

	assert_int_equal(decide(f, "bad", T_END + 48 * 3600, &d), 0);
	assert_int_equal(req(&d, "lab:debian-12"), GATE_REQ_FAILED);
	assert_int_equal(req(&d, "soak"), GATE_REQ_MISSING);
	gate_decision_clear(&d);
	assert_int_equal(gate_approve(f->st, "bad", &f->pol, &clk, "alice", "cab", "x", &o, &err),
	                 PL_ESTATE);
	assert_non_null(strstr(err.msg, "its lab verdict is a fail"));
	gate_outcome_clear(&o);
	assert_int_equal(count(f, "SELECT count(*) FROM approvals"), 0);

	/* not waivable by policy; waivable but passed; then the failed one */
	assert_int_equal(
	    gate_waive(f->st, "bad", &f->pol, &clk, "boot/services", "qa", "r", &o, &err),
	    PL_EINVAL);
	gate_outcome_clear(&o);
	assert_int_equal(
	    gate_waive(f->st, "bad", &f->pol, &clk, "apply/free-space", "qa", "r", &o, &err),
	    PL_ESTATE);
	gate_outcome_clear(&o);
	assert_int_equal(
	    gate_waive(f->st, "bad", &f->pol, &clk, "boot/ports", "qa", "known", &o, &err), 0);
	assert_int_equal(req(&o.decision, "lab:debian-12"), GATE_REQ_WAIVED);
	assert_int_equal(req(&o.decision, "soak"), GATE_REQ_SATISFIED);
	assert_false(o.moved);
	gate_outcome_clear(&o);

	/* a waiver counts only through a policy that allows it */
	{
		struct gate_policy strict;
		struct candidate c;

		assert_int_equal(gate_policy_load(PDIR "nowaivers.json", &strict, &err), 0);
		assert_int_equal(candidate_get(f->st, "bad", &c, &err), 0);
		assert_int_equal(gate_promotion_evaluate(f->st, &c, &strict, &clk, &d, &err), 0);
		assert_int_equal(req(&d, "lab:debian-12"), GATE_REQ_FAILED);
		gate_decision_clear(&d);
		candidate_clear(&c);
		gate_policy_free(&strict);
	}

	/* approvable now; complete approvals move failed -> approved */
	assert_int_equal(gate_approve(f->st, "bad", &f->pol, &clk, "alice", "cab", "x", &o, &err),
	                 0);
	gate_outcome_clear(&o);
	assert_int_equal(gate_approve(f->st, "bad", &f->pol, &clk, "bob", "cab", "x", &o, &err), 0);
	gate_outcome_clear(&o);
	assert_int_equal(
	    gate_approve(f->st, "bad", &f->pol, &clk, "carol", "security", "x", &o, &err), 0);
	assert_true(o.moved);
	assert_string_equal(o.from, "failed");
	assert_string_equal(o.to, "approved");
	gate_outcome_clear(&o);

	/* a required check that is missing (not failed) is waivable the same way */
	fx_candidate(f, "miss", "failed");
	fx_run(f, "r-miss", "miss", "failed", "'fail'", NULL);
	assert_int_equal(decide(f, "miss", T_END + 48 * 3600, &d), 0);
	assert_int_equal(req(&d, "lab:debian-12"), GATE_REQ_FAILED);
	gate_decision_clear(&d);
	assert_int_equal(
	    gate_waive(f->st, "miss", &f->pol, &clk, "boot/ports", "qa", "no ports", &o, &err), 0);
	assert_int_equal(req(&o.decision, "lab:debian-12"), GATE_REQ_WAIVED);
	gate_outcome_clear(&o);
}

static void test_soak_waiver_and_stale_approvals(void **state)
{
	struct fx *f = *state;
	struct pl_clock clk = pl_clock_fixed(T_END + 3600);
	struct pl_err err = PL_ERR_INIT;
	struct gate_outcome o;
	struct gate_decision d;

	assert_int_equal(gate_approve(f->st, "good", &f->pol, &clk, "alice", "cab", "x", &o, &err),
	                 0);
	gate_outcome_clear(&o);
	/* a new lab run: alice's approval was for other evidence */
	exec_ok(f->st,
	        "UPDATE lab_runs SET started_at = '2026-01-10T09:00:00Z' WHERE id = 'r-good'");
	fx_run(f, "r-good2", "good", "passed", "'pass'", "pass");
	assert_int_equal(decide(f, "good", T_END + 3600, &d), 0);
	assert_int_equal(req(&d, "approvals:cab"), GATE_REQ_MISSING);
	assert_int_equal(json_integer_value(json_object_get(d.reqs[d.nreqs - 2].info, "stale")), 1);
	assert_string_equal(d.evidence, "[\"debian-12=r-good2\"]");
	gate_decision_clear(&d);
	/* so she may approve again; then the soak, waived */
	assert_int_equal(gate_approve(f->st, "good", &f->pol, &clk, "alice", "cab", "x", &o, &err),
	                 0);
	gate_outcome_clear(&o);
	assert_int_equal(gate_approve(f->st, "good", &f->pol, &clk, "bob", "cab", "x", &o, &err),
	                 0);
	gate_outcome_clear(&o);
	assert_int_equal(
	    gate_approve(f->st, "good", &f->pol, &clk, "carol", "security", "x", &o, &err), 0);
	assert_false(o.moved);
	assert_int_equal(req(&o.decision, "soak"), GATE_REQ_WAITING);
	gate_outcome_clear(&o);
	assert_int_equal(
	    gate_waive(f->st, "good", &f->pol, &clk, "soak", "cab-chair", "emergency", &o, &err),
	    0);
	assert_int_equal(req(&o.decision, "soak"), GATE_REQ_WAIVED);
	assert_true(o.moved);
	gate_outcome_clear(&o);
}

static void test_reject(void **state)
{
	struct fx *f = *state;
	struct pl_clock clk = pl_clock_fixed(T_END + 48 * 3600);
	struct pl_err err = PL_ERR_INIT;
	struct gate_outcome o;
	struct gate_decision d;

	assert_int_equal(gate_reject(f->st, "new1", &f->pol, &clk, "bob", "cab", "no", &o, &err),
	                 PL_ESTATE);
	gate_outcome_clear(&o);
	assert_int_equal(
	    gate_reject(f->st, "good", &f->pol, &clk, "bob", "cab", "breaks billing", &o, &err), 0);
	assert_string_equal(o.to, "rejected");
	gate_outcome_clear(&o);
	assert_int_equal(decide(f, "good", T_END + 48 * 3600, &d), 0);
	assert_false(d.promotable);
	assert_int_equal(req(&d, "state"), GATE_REQ_FAILED);
	assert_non_null(strstr(d.reqs[0].detail, "rejected by bob (cab)"));
	gate_decision_clear(&d);
	assert_int_equal(gate_approve(f->st, "good", &f->pol, &clk, "alice", "cab", "x", &o, &err),
	                 PL_ESTATE);
	assert_non_null(strstr(err.msg, "rejected by bob"));
	gate_outcome_clear(&o);
	{
		struct audit_verify_result r;

		assert_int_equal(audit_verify(f->st, &r, &err), 0);
	}
}

/* ---- errors never pass --------------------------------------------------------- */

static void approve_all(struct fx *f, struct pl_clock *clk)
{
	struct pl_err err = PL_ERR_INIT;
	struct gate_outcome o;

	assert_int_equal(gate_approve(f->st, "good", &f->pol, clk, "alice", "cab", "x", &o, &err),
	                 0);
	gate_outcome_clear(&o);
	assert_int_equal(gate_approve(f->st, "good", &f->pol, clk, "bob", "cab", "x", &o, &err), 0);
	gate_outcome_clear(&o);
	assert_int_equal(
	    gate_approve(f->st, "good", &f->pol, clk, "carol", "security", "x", &o, &err), 0);
	gate_outcome_clear(&o);
}

static void test_errors_never_pass(void **state)
{
	struct fx *f = *state;
	struct pl_clock clk = pl_clock_fixed(T_END + 48 * 3600);
	struct pl_err err = PL_ERR_INIT;
	struct gate_decision d;
	struct gate_policy lab;
	struct candidate c;
	json_t *rec = NULL;

	approve_all(f, &clk);
	assert_int_equal(decide(f, "good", T_END + 48 * 3600, &d), 0);
	assert_true(d.promotable);
	gate_decision_clear(&d);

	/* a policy that cannot decide promotions */
	assert_int_equal(gate_policy_load(PDIR "no-promotion.json", &lab, &err), 0);
	assert_int_equal(candidate_get(f->st, "good", &c, &err), 0);
	assert_int_equal(gate_promotion_evaluate(f->st, &c, &lab, &clk, &d, &err), PL_EINVAL);
	assert_false(d.promotable);
	assert_non_null(d.error);
	gate_decision_clear(&d);
	gate_policy_free(&lab);

	/* an unreadable time in the database */
	exec_ok(f->st, "UPDATE lab_runs SET ended_at = 'soon' WHERE id = 'r-good'");
	assert_int_equal(gate_promotion_evaluate(f->st, &c, &f->pol, &clk, &d, &err), PL_EINTERNAL);
	assert_false(d.promotable);
	assert_non_null(strstr(d.error, "unreadable time 'soon'"));
	gate_decision_clear(&d);
	exec_ok(f->st, "UPDATE lab_runs SET ended_at = '2026-01-10T10:20:00Z' WHERE id = 'r-good'");

	/* the database fails: a table is gone */
	exec_ok(f->st, "ALTER TABLE waivers RENAME TO waivers_gone");
	assert_int_equal(gate_promotion_evaluate(f->st, &c, &f->pol, &clk, &d, &err), PL_EDB);
	assert_false(d.promotable);
	assert_non_null(d.error);
	gate_decision_clear(&d);
	/* ... the change record says so and is not promotable either */
	assert_int_equal(gate_change_record(f->st, &c, &f->pol, &clk, &rec, &err), PL_EDB);
	assert_false(json_is_true(json_object_get(rec, "promotable")));
	assert_non_null(json_string_value(json_object_get(rec, "error")));
	json_decref(rec);
	candidate_clear(&c);
	/* ... and a decision taken then writes nothing */
	{
		struct gate_outcome o;
		int before = count(f, "SELECT count(*) FROM approvals");
		int audit = count(f, "SELECT count(*) FROM audit_log");

		assert_true(
		    gate_reject(f->st, "good", &f->pol, &clk, "bob", "cab", "no", &o, &err) < 0);
		gate_outcome_clear(&o);
		assert_int_equal(count(f, "SELECT count(*) FROM approvals"), before);
		assert_int_equal(count(f, "SELECT count(*) FROM audit_log"), audit);
		assert_int_equal(count(f, "SELECT count(*) FROM candidates WHERE name = 'good' AND"
		                          " state = 'approved'"),
		                 1);
	}
	exec_ok(f->st, "ALTER TABLE waivers_gone RENAME TO waivers");
}

static void test_change_record(void **state)
{
	struct fx *f = *state;
	struct pl_clock clk = pl_clock_fixed(T_END + 48 * 3600);
	struct pl_err err = PL_ERR_INIT;
	struct gate_outcome o;
	struct candidate c;
	json_t *rec = NULL, *ev;

	assert_int_equal(
	    gate_waive(f->st, "bad", &f->pol, &clk, "boot/ports", "qa", "known", &o, &err), 0);
	gate_outcome_clear(&o);
	assert_int_equal(candidate_get(f->st, "bad", &c, &err), 0);
	assert_int_equal(gate_change_record(f->st, &c, &f->pol, &clk, &rec, &err), 0);
	candidate_clear(&c);
	ev = json_array_get(json_object_get(rec, "lab_evidence"), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "run")), "r-bad");
	assert_string_equal(json_string_value(json_object_get(ev, "state")), "waived");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(ev, "checks"), "pass")),
	                 1);
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(ev, "failed_checks"), 0)),
	    "boot/ports");
	assert_int_equal(json_array_size(json_object_get(ev, "missing_checks")), 0);
	assert_int_equal(json_array_size(json_object_get(rec, "waivers")), 1);
	assert_int_equal(json_array_size(json_object_get(rec, "approvals")), 0);
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy_files),
	    cmocka_unit_test(test_policy_good),
	    cmocka_unit_test_setup_teardown(test_missing_and_waiting, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_satisfied_after_approvals, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_failed_and_waived, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_soak_waiver_and_stale_approvals, fx_setup,
	                                    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_reject, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_errors_never_pass, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_change_record, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
