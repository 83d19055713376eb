/* record.c - a candidate's change record: evidence, requirements, decisions. */
#include "gate-private.h"

#include "candidate/candidate.h"

/* The latest lab run per image, from the lab requirements' info. */
static json_t *record_evidence(const struct gate_decision *d)
{
	static const char *const keys[] = {
	    "image",  "run",           "verdict",        "started_at",   "ended_at",
	    "checks", "failed_checks", "missing_checks", "evidence_dir", "console_log",
	    NULL};
	json_t *ev = json_array();

	for (size_t i = 0; i < d->nreqs; i++) {
		const struct gate_requirement *r = &d->reqs[i];
		json_t *o;

		if (strcmp(r->kind, "lab") != 0 || !json_object_get(r->info, "run"))
			continue;
		o = json_object();
		for (size_t k = 0; keys[k]; k++)
			if (json_object_get(r->info, keys[k]))
				json_object_set(o, keys[k], json_object_get(r->info, keys[k]));
		json_object_set_new(o, "state", json_string(gate_req_state_name(r->state)));
		json_array_append_new(ev, o);
	}
	return ev;
}

/* Approvals (with whether they count on the current evidence), waivers
 * (with whether the policy honours them) and rejections. */
static int record_acts(struct store *st, const struct candidate *c, const struct gate_policy *p,
                       const struct gate_decision *d, json_t *rec, struct pl_err *err)
{
	json_t *appr = json_array(), *waiv = json_array(), *rej = json_array();
	struct gate_act *a = NULL;
	size_t n = 0;

	json_object_set_new(rec, "approvals", appr);
	json_object_set_new(rec, "waivers", waiv);
	json_object_set_new(rec, "rejections", rej);
	if (gate_acts_load(st, c->id, &a, &n, err) < 0)
		return err->code;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(a[i].decision, "waive") == 0)
			json_array_append_new(
			    waiv, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "check", a[i].check,
			                    "actor", a[i].actor, "reason", a[i].text, "at", a[i].at,
			                    "policy", a[i].policy, "honoured",
			                    gate_waivable(p, a[i].check)));
		else
			json_array_append_new(
			    strcmp(a[i].decision, "approve") == 0 ? appr : rej,
			    json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "actor", a[i].actor, "role",
			              a[i].role, "note", a[i].text, "at", a[i].at, "policy",
			              a[i].policy, "current",
			              d->evidence && strcmp(a[i].evidence, d->evidence) == 0));
	}
	gate_acts_free(a, n);
	return 0;
}

int gate_change_record(struct store *st, const struct candidate *c, const struct gate_policy *p,
                       const struct pl_clock *clock, json_t **out, struct pl_err *err)
{
	struct pl_err later = PL_ERR_INIT; /* the first error is the one reported */
	struct gate_decision d;
	json_t *rec;
	int rc = gate_promotion_evaluate(st, c, p, clock, &d, err);

	rec = gate_decision_to_json(&d);
	json_object_del(rec, "candidate");
	json_object_set_new(rec, "lab_evidence", record_evidence(&d));
	if (record_acts(st, c, p, &d, rec, rc < 0 ? &later : err) < 0 && rc == 0)
		rc = err->code;
	gate_decision_clear(&d);
	*out = rec;
	return rc;
}
