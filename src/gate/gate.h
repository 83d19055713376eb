/*
 * gate.h - the gate: from check results to a verdict, fail-closed.
 *
 * Owns: gate policies (policies/NAME.json: the checks a lab run must pass,
 * failed units it tolerates, the boot-time and free-space limits, and in
 * "promotion" what a candidate needs before rollout) and two decisions:
 * - the lab verdict: pass only when every required check is present and
 *   passed and no check failed or errored. A missing check, an error or an
 *   unknown status is a fail, never a pass;
 * - promotion: may a candidate be rolled out? Every requirement (a lab run
 *   per image, approvals per role, soak time, not rejected) is satisfied,
 *   waiting, missing, failed or waived; the answer is yes only when each is
 *   satisfied or waived, and an error while deciding is a no.
 * Also the CAB's decisions on a candidate (tables approvals and waivers,
 * schema 9): approve, reject, waive, each in one transaction with its
 * audit entry, and the change record 'candidate show' prints.
 * Does not own: running checks (src/lab/, src/guest/), the candidate state
 * machine (src/candidate/), schedules and waves (src/rollout/).
 */
#ifndef PL_GATE_H
#define PL_GATE_H

#include "core/core.h"
#include "store/store.h"

struct candidate;
struct gate_promotion;

struct gate_policy {
	char *file, *name;
	char **required;             /* "stage/name", NULL-terminated */
	char **allowed_failed_units; /* NULL-terminated */
	long max_boot_seconds;
	long min_free_mb;
	struct gate_promotion *promotion; /* "promotion"; NULL when the file has none */
};

/* Loads and validates a policy; errors name the file and JSON path. */
int gate_policy_load(const char *path, struct gate_policy *out, struct pl_err *err);
/* The built-in policy (policies/default.json, embedded at build time). */
int gate_policy_default(struct gate_policy *out, struct pl_err *err);
void gate_policy_free(struct gate_policy *p);

/* Judges checks (an array of {stage, name, status, detail}); returns 1 for
 * pass and 0 for fail, with every reason for a fail in *reasons (a new
 * JSON array of strings). */
int gate_verdict(const struct gate_policy *p, json_t *checks, json_t **reasons);

/* 1 when a failed unit is one the policy tolerates. */
int gate_unit_allowed(const struct gate_policy *p, const char *unit);

/* ---- promotion: what a candidate needs before rollout -------------------- */

/*
 * The "promotion" object of a policy (all keys but roles and approvals
 * optional; unknown keys refused):
 *   "images": ["debian-12"]       lab runs needed besides the target hosts'
 *   "roles": ["cab", "security"]  who may approve; roles[0] is the default
 *   "approvals": [{"role": "cab", "count": 2}, ...]  at least one rule
 *   "min_soak_hours": 24          since the newest accepted lab run ended
 *   "waivers": {"allowed": true, "checks": ["boot/ports", "soak"]}
 * Waivable names are lab checks ("stage/name") and "soak"; approvals, a
 * missing lab run and a rejection can never be waived.
 */
struct gate_approval_rule {
	char *role;
	long count;
};

struct gate_promotion {
	char **images; /* NULL-terminated */
	char **roles;  /* NULL-terminated, at least one */
	struct gate_approval_rule *approvals;
	size_t napprovals;
	long min_soak_hours;
	int waivers_allowed;
	char **waivable; /* NULL-terminated */
};

/* 1 when the policy lets check (a "stage/name" or "soak") be waived. */
int gate_waivable(const struct gate_policy *p, const char *check);

/* 1 when role is one of the policy's promotion roles. */
int gate_role_known(const struct gate_policy *p, const char *role);

enum gate_req_state {
	GATE_REQ_SATISFIED,
	GATE_REQ_WAITING, /* will be decided later: a run in progress, soak time */
	GATE_REQ_MISSING, /* never done: no lab run, too few approvals */
	GATE_REQ_FAILED,
	GATE_REQ_WAIVED /* failed or missing, accepted by a waiver the policy allows */
};

/* "satisfied", "waiting", "missing", "failed", "waived". */
const char *gate_req_state_name(enum gate_req_state s);

/* One requirement and its state. kind is "state", "lab", "soak" or
 * "approvals"; name is "state", "lab:IMAGE", "soak" or "approvals:ROLE".
 * info holds what the state was decided from (runs, approvers, waivers). */
struct gate_requirement {
	char *kind, *name, *detail;
	enum gate_req_state state;
	json_t *info;
};

/* A promotion decision; everything owned, gate_decision_clear() it. */
struct gate_decision {
	int promotable; /* 1 only when every requirement is satisfied or waived */
	char *candidate, *policy, *at;
	struct gate_requirement *reqs;
	size_t nreqs;
	char *error;     /* set when deciding failed: promotable is then 0 */
	char *evidence;  /* the lab runs decided on: a JSON array of "IMAGE=RUN" */
	json_t *targets; /* {hosts, images, hosts_without_image} */
};
void gate_decision_clear(struct gate_decision *d);

/*
 * May candidate c be promoted under policy p at clock's now? Fills *out with
 * every requirement and its state. Returns 0 when a decision was reached
 * (promotable or not). On any error it returns the code with the message
 * in err, and *out still holds a "no" (promotable 0, error set): a caller
 * that ignores the code cannot promote. A policy without a "promotion"
 * object is PL_EINVAL.
 *
 * Target hosts are the inventory hosts that have one of the candidate's
 * packages installed (same name; same architecture, or either is "all");
 * the images they use (hosts.image) plus the policy's "images" plus every
 * image the candidate has a (non-bisect) lab run on are the images that
 * need an accepted lab run. The latest run per image decides: running ->
 * waiting; verdict pass -> satisfied; fail or error -> failed, or waived
 * when the policy allows waiving every failed or missing required check and
 * each has a waiver (the checks are judged again, waived ones as passed).
 * Approvals count per role when given on the current evidence (the same
 * latest runs); approvals from before a new lab run do not count.
 */
int gate_promotion_evaluate(struct store *st, const struct candidate *c,
                            const struct gate_policy *p, const struct pl_clock *clock,
                            struct gate_decision *out, struct pl_err *err);

/* The decision as JSON (a new reference). */
json_t *gate_decision_to_json(const struct gate_decision *d);

/* A one-line summary of what is not yet satisfied ("approvals:cab: 1 of 2;
 * soak: ..."); the caller frees it. */
char *gate_decision_summary(const struct gate_decision *d);

/* ---- the CAB's decisions ------------------------------------------------ */

/* What approve, reject, waive and promote did; cleared when they fail. */
struct gate_outcome {
	char *candidate, *from, *to;   /* state before and after */
	int moved;                     /* the state changed */
	struct gate_decision decision; /* after the change */
};
void gate_outcome_clear(struct gate_outcome *o);
json_t *gate_outcome_to_json(const struct gate_outcome *o, const char *action);

/* Records actor's approval of candidate name as role (NULL: the policy's
 * first role) with note, and moves the candidate to approved when every
 * requirement is then met (else it stays, approval recorded). Refused
 * (PL_ESTATE, the message says why) when the candidate was never tested,
 * is being tested, a lab requirement failed or is missing, it is rejected
 * or approved already; PL_EEXIST when actor approved it already on the
 * current evidence; PL_EINVAL for an unknown role or bad text. One
 * transaction with its audit entries. */
int gate_approve(struct store *st, const char *name, const struct gate_policy *p,
                 const struct pl_clock *clock, const char *actor, const char *role,
                 const char *note, struct gate_outcome *out, struct pl_err *err);

/* Records a rejection and moves the candidate to rejected (from passed,
 * failed, approved or scheduled), in one transaction. */
int gate_reject(struct store *st, const char *name, const struct gate_policy *p,
                const struct pl_clock *clock, const char *actor, const char *role, const char *note,
                struct gate_outcome *out, struct pl_err *err);

/* Records a waiver of check ("stage/name" or "soak") for candidate name,
 * when the policy allows waiving it and it is failed or missing now (the
 * soak: not yet over); promotes like gate_approve when that completes the
 * requirements. One transaction. */
int gate_waive(struct store *st, const char *name, const struct gate_policy *p,
               const struct pl_clock *clock, const char *check, const char *actor,
               const char *reason, struct gate_outcome *out, struct pl_err *err);

/* Moves a passed (or failed, every failure waived) candidate to approved
 * when every requirement is met now, e.g. once the soak time is over;
 * PL_EFAIL naming what is missing otherwise. actor NULL: audit_actor. */
int gate_promote(struct store *st, const char *name, const struct gate_policy *p,
                 const struct pl_clock *clock, const char *actor, struct gate_outcome *out,
                 struct pl_err *err);

/* The change record of candidate c: evidence (latest lab run per image with
 * its check counts, failed checks and evidence paths), requirements with
 * their states, approvals, waivers and rejections. A new JSON object; an
 * evaluation error is recorded in it ("error", promotable false) and
 * returned. */
int gate_change_record(struct store *st, const struct candidate *c, const struct gate_policy *p,
                       const struct pl_clock *clock, json_t **out, struct pl_err *err);

#endif
