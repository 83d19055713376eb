/* report-private.h - internals shared by the files of src/report/. */
#ifndef PL_REPORT_PRIVATE_H
#define PL_REPORT_PRIVATE_H

#include "report.h"

struct candidate;

/* 1 when the database has table name (a later schema may add it). */
int report_table_exists(struct store *st, const char *name);

/* The remediation deadlines per severity word, in days (a new object). */
json_t *report_sla_days(void);

/* Adds what other modules know of candidate c to cand: the CVEs it closes
 * and its rollout waves, when those tables exist. */
int report_candidate_extras(struct store *st, const struct candidate *c, json_t *cand,
                            struct pl_err *err);

/* Fills findings, compliance and the hosts' deployments of model, when the
 * tables exist; otherwise leaves them empty and adds a note. */
int report_collect_extras(struct store *st, const struct report_filter *f,
                          const struct pl_clock *clock, json_t *model, struct pl_err *err);

/* Appends s escaped for HTML text and attributes (pl_buf_add_xml; NULL is
 * empty). */
void report_html_text(struct pl_buf *b, const char *s);

#endif
