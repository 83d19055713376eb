/*
 * approval.c - the CAB's decisions: approve, reject, waive, promote. Each
 * runs in one transaction with its audit entries, and decides on the
 * requirements as they are inside that transaction.
 */
#include "gate-private.h"

#include "audit/audit.h"
#include "candidate/candidate.h"

void gate_act_clear(struct gate_act *a)
{
	free(a->decision);
	free(a->actor);
	free(a->role);
	free(a->text);
	free(a->check);
	free(a->policy);
	free(a->evidence);
	free(a->at);
	memset(a, 0, sizeof(*a));
}

void gate_acts_free(struct gate_act *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gate_act_clear(&a[i]);
	free(a);
}

int gate_acts_load(struct store *st, long candidate_id, struct gate_act **out, size_t *n,
                   struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (store_prepare(
	        st,
	        "SELECT decision, actor, role, note, '', policy, evidence, at, 0, id"
	        " FROM approvals WHERE candidate_id = ?1"
	        " UNION ALL SELECT 'waive', actor, '', reason, check_name, policy, evidence,"
	        " at, 1, id FROM waivers WHERE candidate_id = ?1 ORDER BY 8, 9, 10",
	        &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, candidate_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct gate_act *a;

		*out = pl_realloc(*out, (*n + 1) * sizeof(**out));
		a = &(*out)[(*n)++];
		a->decision = pl_strdup(store_col_text(s, 0));
		a->actor = pl_strdup(store_col_text(s, 1));
		a->role = pl_strdup(store_col_text(s, 2));
		a->text = pl_strdup(store_col_text(s, 3));
		a->check = pl_strdup(store_col_text(s, 4));
		a->policy = pl_strdup(store_col_text(s, 5));
		a->evidence = pl_strdup(store_col_text(s, 6));
		a->at = pl_strdup(store_col_text(s, 7));
	}
	if (rc != SQLITE_DONE) {
		gate_acts_free(PL_STEAL(*out), *n);
		*n = 0;
		return store_error(st, err, "reading approvals and waivers");
	}
	return 0;
}

void gate_outcome_clear(struct gate_outcome *o)
{
	free(o->candidate);
	free(o->from);
	free(o->to);
	gate_decision_clear(&o->decision);
	memset(o, 0, sizeof(*o));
}

json_t *gate_outcome_to_json(const struct gate_outcome *o, const char *action)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "action", action, "candidate",
	                 o->candidate, "from", o->from, "to", o->to, "moved", o->moved, "decision",
	                 gate_decision_to_json(&o->decision));
}

/* ---- input checks --------------------------------------------------------- */

/* An actor as the audit log takes it: 1-128 printable characters, no
 * spaces at either end. */
static int actor_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 128 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int check_inputs(const struct gate_policy *p, const char *actor, const char **role,
                        const char *text, const char *what, struct pl_err *err)
{
	if (!p->promotion)
		return pl_error(err, PL_EINVAL,
		                "policy '%s' (%s) has no \"promotion\" object: it cannot decide "
		                "promotions",
		                p->name, p->file);
	if (!actor_ok(actor))
		return pl_error(err, PL_EINVAL, "--as '%s': 1-128 printable characters",
		                actor ? actor : "");
	if (role && (!*role || !**role))
		*role = p->promotion->roles[0];
	if (role && !gate_role_known(p, *role)) {
		struct pl_buf b = PL_BUF_INIT;

		for (size_t i = 0; p->promotion->roles[i]; i++)
			pl_buf_addf(&b, "%s%s", i ? ", " : "", p->promotion->roles[i]);
		pl_error(err, PL_EINVAL, "--role '%s': policy '%s' knows the roles %s", *role,
		         p->name, pl_buf_str(&b));
		pl_buf_release(&b);
		return PL_EINVAL;
	}
	if (!text || !gate_text_ok(text) || strspn(text, " \t") == strlen(text))
		return pl_error(err, PL_EINVAL,
		                "%s: say why in 1-2000 characters, without control characters",
		                what);
	return 0;
}

/* ---- shared steps --------------------------------------------------------- */

/* A transaction around a candidate: begin, load, and always end. */
struct gate_txn {
	struct store *st;
	struct candidate c;
	int open, loaded;
};

static int txn_begin(struct gate_txn *t, struct store *st, const char *name, struct pl_err *err)
{
	memset(t, 0, sizeof(*t));
	t->st = st;
	if (!candidate_name_ok(name))
		return pl_error(err, PL_EINVAL, "'%s' is not a candidate name", name);
	if (store_begin(st, err) < 0)
		return err->code;
	t->open = 1;
	if (candidate_get(st, name, &t->c, err) < 0)
		return err->code;
	t->loaded = 1;
	return 0;
}

/* Commits when rc is 0, else rolls back and clears o; returns rc or the
 * commit's code. */
static int txn_end(struct gate_txn *t, int rc, struct gate_outcome *o, struct pl_err *err)
{
	if (t->open && rc == 0)
		rc = store_commit(t->st, err);
	if (t->open && rc < 0)
		store_rollback(t->st);
	t->open = 0;
	if (t->loaded)
		candidate_clear(&t->c);
	t->loaded = 0;
	if (rc < 0)
		gate_outcome_clear(o);
	return rc;
}

static void outcome_begin(struct gate_outcome *o, const struct candidate *c)
{
	memset(o, 0, sizeof(*o));
	o->candidate = pl_strdup(c->name);
	o->from = pl_strdup(c->state);
}

/* Decides again after a change; moves to approved when everything is met
 * and the state allows it. */
static int outcome_decide(struct gate_txn *t, const struct gate_policy *p,
                          const struct pl_clock *clock, const char *actor, int may_promote,
                          struct gate_outcome *o, struct pl_err *err)
{
	gate_decision_clear(&o->decision);
	if (gate_promotion_evaluate(t->st, &t->c, p, clock, &o->decision, err) < 0)
		return err->code;
	if (may_promote && o->decision.promotable &&
	    candidate_transition_ok(t->c.state, "approved")) {
		if (candidate_set_state_by(t->st, &t->c, "approved", actor, err) < 0)
			return err->code;
		o->moved = 1;
	}
	free(o->to);
	o->to = pl_strdup(t->c.state);
	return 0;
}

static const struct gate_requirement *first_req(const struct gate_decision *d, const char *kind,
                                                enum gate_req_state state)
{
	for (size_t i = 0; i < d->nreqs; i++)
		if (strcmp(d->reqs[i].kind, kind) == 0 && d->reqs[i].state == state)
			return &d->reqs[i];
	return NULL;
}

/* What the policy lets be waived, for messages. */
static char *waivable_text(const struct gate_policy *p)
{
	struct pl_buf b = PL_BUF_INIT;

	if (!p->promotion->waivers_allowed || !p->promotion->waivable[0])
		return pl_strdupf("policy '%s' allows no waivers", p->name);
	pl_buf_addf(&b, "policy '%s' allows waiving ", p->name);
	for (size_t i = 0; p->promotion->waivable[i]; i++)
		pl_buf_addf(&b, "%s%s", i ? ", " : "", p->promotion->waivable[i]);
	return pl_buf_detach(&b);
}

/* The candidate's state lets a CAB decision be taken (approve, waive). */
static int state_decidable(const struct gate_txn *t, const struct gate_decision *d,
                           const char *verb, struct pl_err *err)
{
	const char *s = t->c.state, *n = t->c.name;
	const struct gate_requirement *r;

	if (strcmp(s, "new") == 0)
		return pl_error(
		    err, PL_ESTATE,
		    "cannot %s '%s': it was never tested (no lab run; run 'patchlab lab "
		    "run %s --image IMAGE' first)",
		    verb, n, n);
	if (strcmp(s, "testing") == 0)
		return pl_error(err, PL_ESTATE,
		                "cannot %s '%s': it is being tested; wait for its lab run to end",
		                verb, n);
	if (strcmp(s, "rejected") == 0) {
		r = first_req(d, "state", GATE_REQ_FAILED);
		return pl_error(err, PL_ESTATE, "cannot %s '%s': it was %s", verb, n,
		                r ? r->detail : "rejected");
	}
	if (strcmp(s, "passed") != 0 && strcmp(s, "failed") != 0)
		return pl_error(err, PL_ESTATE, "cannot %s '%s': it is %s already", verb, n, s);
	return 0;
}

/* Approval needs every lab requirement satisfied or waived. */
static int lab_approvable(const struct gate_txn *t, const struct gate_decision *d,
                          const struct gate_policy *p, struct pl_err *err)
{
	const struct gate_requirement *r;
	const char *n = t->c.name;

	if ((r = first_req(d, "lab", GATE_REQ_FAILED))) {
		PL_AUTOFREE char *w = waivable_text(p);

		return pl_error(err, PL_ESTATE,
		                "cannot approve '%s': its lab verdict is a fail: %s (%s; 'patchlab "
		                "waive' a failed check, or test again)",
		                n, r->detail, w);
	}
	if ((r = first_req(d, "lab", GATE_REQ_MISSING)))
		return pl_error(err, PL_ESTATE, "cannot approve '%s': %s", n, r->detail);
	if ((r = first_req(d, "lab", GATE_REQ_WAITING)))
		return pl_error(err, PL_ESTATE, "cannot approve '%s': %s", n, r->detail);
	return 0;
}

/* The actor approved already on the current evidence. */
static int approve_duplicate(struct store *st, const struct candidate *c, const char *actor,
                             const char *evidence, struct pl_err *err)
{
	struct gate_act *acts = NULL;
	size_t n = 0;
	int rc = 0;

	if (gate_acts_load(st, c->id, &acts, &n, err) < 0)
		return err->code;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (strcmp(acts[i].decision, "approve") == 0 && strcmp(acts[i].actor, actor) == 0 &&
		    strcmp(acts[i].evidence, evidence) == 0)
			rc = pl_error(err, PL_EEXIST,
			              "cannot approve '%s': %s approved it already (as %s, %s)",
			              c->name, actor, acts[i].role, acts[i].at);
	gate_acts_free(acts, n);
	return rc;
}

static int insert_decision(struct store *st, const struct candidate *c, const char *decision,
                           const char *actor, const char *role, const char *note,
                           const struct gate_policy *p, const char *evidence, const char *at,
                           struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOJSON json_t *detail =
	    json_pack("{s:s, s:s, s:s, s:o}", "role", role, "note", note, "policy", p->name,
	              "evidence", json_loads(evidence, 0, NULL) ?: json_array());

	if (store_prepare(st,
	                  "INSERT INTO approvals(candidate_id, decision, actor, role, note, policy,"
	                  " evidence, at) VALUES (?,?,?,?,?,?,?,?)",
	                  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, c->id);
	sqlite3_bind_text(s, 2, decision, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, note, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, evidence, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, at, -1, SQLITE_STATIC);
	if (store_step_done(st, s, err) < 0)
		return err->code;
	return audit_append(st, actor, decision, "candidate", c->name, detail, err);
}

/* ---- the commands --------------------------------------------------------- */

int gate_approve(struct store *st, const char *name, const struct gate_policy *p,
                 const struct pl_clock *clock, const char *actor, const char *role,
                 const char *note, struct gate_outcome *out, struct pl_err *err)
{
	struct gate_txn t;
	struct gate_decision d = {0};
	const char *r = role ? role : "";
	int rc;

	memset(out, 0, sizeof(*out));
	if (check_inputs(p, actor, &r, note, "--note", err) < 0)
		return err->code;
	rc = txn_begin(&t, st, name, err);
	if (rc == 0) {
		outcome_begin(out, &t.c);
		rc = gate_promotion_evaluate(st, &t.c, p, clock, &d, err);
	}
	if (rc == 0)
		rc = state_decidable(&t, &d, "approve", err);
	if (rc == 0)
		rc = lab_approvable(&t, &d, p, err);
	if (rc == 0)
		rc = approve_duplicate(st, &t.c, actor, d.evidence, err);
	if (rc == 0)
		rc = insert_decision(st, &t.c, "approve", actor, r, note, p, d.evidence, d.at, err);
	if (rc == 0)
		rc = outcome_decide(&t, p, clock, actor, 1, out, err);
	gate_decision_clear(&d);
	return txn_end(&t, rc, out, err);
}

int gate_reject(struct store *st, const char *name, const struct gate_policy *p,
                const struct pl_clock *clock, const char *actor, const char *role, const char *note,
                struct gate_outcome *out, struct pl_err *err)
{
	struct gate_txn t;
	struct gate_decision d = {0};
	const char *r = role ? role : "";
	int rc;

	memset(out, 0, sizeof(*out));
	if (check_inputs(p, actor, &r, note, "--note", err) < 0)
		return err->code;
	rc = txn_begin(&t, st, name, err);
	if (rc == 0) {
		outcome_begin(out, &t.c);
		if (!candidate_transition_ok(t.c.state, "rejected"))
			rc = pl_error(err, PL_ESTATE, "cannot reject '%s': it is %s%s", name,
			              t.c.state,
			              strcmp(t.c.state, "rejected") == 0 ? " already" : "");
	}
	/* the evidence the rejection was made on; deciding must work, as ever */
	if (rc == 0)
		rc = gate_promotion_evaluate(st, &t.c, p, clock, &d, err);
	if (rc == 0)
		rc = insert_decision(st, &t.c, "reject", actor, r, note, p, d.evidence, d.at, err);
	if (rc == 0)
		rc = candidate_set_state_by(st, &t.c, "rejected", actor, err);
	if (rc == 0)
		rc = outcome_decide(&t, p, clock, actor, 0, out, err);
	gate_decision_clear(&d);
	return txn_end(&t, rc, out, err);
}

/* check is failed or missing now: in the latest run on some image (lab
 * checks), or the soak is not over. */
static int waive_needed(const struct gate_decision *d, const char *check)
{
	for (size_t i = 0; i < d->nreqs; i++) {
		const struct gate_requirement *r = &d->reqs[i];
		const char *lists[] = {"failed_checks", "missing_checks"};

		if (strcmp(check, "soak") == 0 && strcmp(r->kind, "soak") == 0)
			return r->state == GATE_REQ_WAITING || r->state == GATE_REQ_MISSING;
		if (strcmp(r->kind, "lab") != 0)
			continue;
		for (size_t k = 0; k < 2; k++) {
			json_t *v;
			size_t j;

			json_array_foreach (json_object_get(r->info, lists[k]), j, v)
				if (strcmp(json_string_value(v), check) == 0)
					return 1;
		}
	}
	return 0;
}

static int insert_waiver(struct store *st, const struct candidate *c, const char *check,
                         const char *actor, const char *reason, const struct gate_policy *p,
                         const char *evidence, const char *at, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOJSON json_t *detail =
	    json_pack("{s:s, s:s, s:s, s:o}", "check", check, "reason", reason, "policy", p->name,
	              "evidence", json_loads(evidence, 0, NULL) ?: json_array());

	if (store_prepare(st,
	                  "INSERT INTO waivers(candidate_id, check_name, actor, reason, policy,"
	                  " evidence, at) VALUES (?,?,?,?,?,?,?)",
	                  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, c->id);
	sqlite3_bind_text(s, 2, check, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, evidence, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, at, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		return sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE
		           ? pl_error(err, PL_EEXIST,
		                      "cannot waive '%s' for '%s': it is waived already", check,
		                      c->name)
		           : store_error(st, err, "recording a waiver");
	return audit_append(st, actor, "waive", "candidate", c->name, detail, err);
}

static int waive_allowed(const struct gate_policy *p, const char *check, struct pl_err *err)
{
	if (strcmp(check, "soak") != 0 && !gate_check_name_ok(check))
		return pl_error(err, PL_EINVAL,
		                "--check '%s': expected a lab check (\"boot/ports\") or \"soak\"",
		                check);
	if (!gate_waivable(p, check)) {
		PL_AUTOFREE char *w = waivable_text(p);

		return pl_error(err, PL_EINVAL, "cannot waive '%s': %s", check, w);
	}
	return 0;
}

int gate_waive(struct store *st, const char *name, const struct gate_policy *p,
               const struct pl_clock *clock, const char *check, const char *actor,
               const char *reason, struct gate_outcome *out, struct pl_err *err)
{
	struct gate_txn t;
	struct gate_decision d = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	if (check_inputs(p, actor, NULL, reason, "--reason", err) < 0 ||
	    waive_allowed(p, check ? check : "", err) < 0)
		return err->code;
	rc = txn_begin(&t, st, name, err);
	if (rc == 0) {
		outcome_begin(out, &t.c);
		rc = gate_promotion_evaluate(st, &t.c, p, clock, &d, err);
	}
	if (rc == 0)
		rc = state_decidable(&t, &d, "waive a check of", err);
	if (rc == 0 && !waive_needed(&d, check))
		rc = pl_error(err, PL_ESTATE,
		              strcmp(check, "soak") == 0
		                  ? "cannot waive '%s' for '%s': the soak time is not pending"
		                  : "cannot waive '%s' for '%s': it neither failed nor is missing "
		                    "in the latest lab run of any image",
		              check, name);
	if (rc == 0)
		rc = insert_waiver(st, &t.c, check, actor, reason, p, d.evidence, d.at, err);
	if (rc == 0)
		rc = outcome_decide(&t, p, clock, actor, 1, out, err);
	gate_decision_clear(&d);
	return txn_end(&t, rc, out, err);
}

int gate_promote(struct store *st, const char *name, const struct gate_policy *p,
                 const struct pl_clock *clock, const char *actor, struct gate_outcome *out,
                 struct pl_err *err)
{
	PL_AUTOFREE char *who = audit_actor(actor);
	struct gate_txn t;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!actor_ok(who))
		return pl_error(err, PL_EINVAL, "--as '%s': 1-128 printable characters", who);
	rc = txn_begin(&t, st, name, err);
	if (rc == 0) {
		outcome_begin(out, &t.c);
		rc = outcome_decide(&t, p, clock, who, 0, out, err);
	}
	if (rc == 0 && strcmp(t.c.state, "passed") != 0 && strcmp(t.c.state, "failed") != 0)
		rc = pl_error(err, PL_ESTATE, "cannot promote '%s': it is %s", name, t.c.state);
	if (rc == 0 && !out->decision.promotable) {
		PL_AUTOFREE char *why = gate_decision_summary(&out->decision);

		rc = pl_error(err, PL_EFAIL, "'%s' may not be promoted yet: %s", name, why);
	}
	if (rc == 0)
		rc = outcome_decide(&t, p, clock, who, 1, out, err);
	return txn_end(&t, rc, out, err);
}
