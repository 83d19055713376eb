/* gate-private.h - what the gate's files share and no one else needs. */
#ifndef PL_GATE_PRIVATE_H
#define PL_GATE_PRIVATE_H

#include "gate.h"

/* Parses the "promotion" object at $.promotion into *out (NULL when absent);
 * errors name the file and JSON path. */
int gate_promotion_parse(const struct pl_jdoc *d, json_t *root, struct gate_promotion **out);
void gate_promotion_free(struct gate_promotion *p);

/* Frees a NULL-terminated string vector. */
void gate_strv_free(char **v);
/* 1 when s is in the NULL-terminated v. */
int gate_strv_has(char *const *v, const char *s);

/* A lab check name: "stage/name" of [a-z0-9-]. */
int gate_check_name_ok(const char *s);

/* One approval, rejection or waiver row (strings owned). */
struct gate_act {
	char *decision; /* "approve", "reject", "waive" */
	char *actor, *role, *text, *check, *policy, *evidence, *at;
};
void gate_act_clear(struct gate_act *a);

/* The candidate's approvals and rejections (decision != NULL: only those)
 * and its waivers, oldest first; *out and *n are the caller's. */
int gate_acts_load(struct store *st, long candidate_id, struct gate_act **out, size_t *n,
                   struct pl_err *err);
void gate_acts_free(struct gate_act *a, size_t n);

/* Text a person typed (note, reason): 1-2000 bytes, no control characters
 * but tab. */
int gate_text_ok(const char *s);

#endif
