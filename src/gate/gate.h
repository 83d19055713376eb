/*
 * gate.h - the gate: from check results to a verdict, fail-closed.
 *
 * Owns: gate policies (policies/NAME.json: the checks a lab run must pass,
 * failed units it tolerates, the boot-time and free-space limits) and the
 * verdict: pass only when every required check is present and passed and no
 * check failed or errored. A missing check, an error or an unknown status
 * is a fail, never a pass.
 * Does not own: running checks (src/lab/, src/guest/), approvals (later).
 */
#ifndef PL_GATE_H
#define PL_GATE_H

#include "core/core.h"

struct gate_policy {
	char *file, *name;
	char **required;             /* "stage/name", NULL-terminated */
	char **allowed_failed_units; /* NULL-terminated */
	long max_boot_seconds;
	long min_free_mb;
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

#endif
