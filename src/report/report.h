/*
 * report.h - what a CAB member, an auditor or a CI server reads: the state
 * of candidates, hosts and compliance, gathered once and written as HTML,
 * JSON, CSV or JUnit XML.
 *
 * Owns: the report model (report_collect: one JSON document read from the
 * database through the pipeline modules' own functions), its four
 * renderings, and the building blocks of HTML output shared with the
 * dashboard: inline SVG bar charts and escaping (through pl_buf_add_xml,
 * the one escaping helper). Every section whose data does not exist yet (no
 * scan, no rollout) is present and empty, with a note saying why.
 * Does not own: any decision (src/gate/ decides promotions; the report
 * shows them), the data (src/candidate/, src/lab/, src/detect/,
 * src/inventory/, src/rollout/, src/audit/), HTTP (src/server/).
 *
 * The model, every key always present:
 *   generated_at, policy, filter {candidate, since},
 *   candidates: [{name, state, created_at, updated_at, verdict, patches,
 *     cves_closed: [{cve, source, fixed_version, urgency}], lab_runs: [{run,
 *     image, state, verdict, started_at, ended_at, seconds, stages, checks
 *     {pass, fail, error, skip}, failed_checks, evidence_dir}], promotion
 *     {promotable, requirements, error}, approvals, waivers, rejections,
 *     rollout {waves: [{name, state, window_start, hosts, succeeded,
 *     failed, rolled_back, pending}]}}],
 *   hosts: [{name, role, environment, os, os_version, image, deployed:
 *     [{candidate, wave, package, version, state, at, seconds}], failures,
 *     rollbacks, open_findings}],
 *   findings: {available, open, by_severity {WORD: n}},
 *   compliance: {hosts, hosts_fully_patched, share_fully_patched,
 *     mean_days_to_patch {WORD: days}, past_sla, sla_days {WORD: days}},
 *   notes: [text]
 * Numbers that cannot be known yet are null, never 0.
 */
#ifndef PL_REPORT_H
#define PL_REPORT_H

#include "core/core.h"
#include "store/store.h"

struct gate_policy;

enum report_format { REPORT_HTML, REPORT_JSON, REPORT_CSV, REPORT_JUNIT };

/* "html", "json", "csv", "junit" <-> enum report_format (-1 if unknown). */
int report_format_parse(const char *s);
const char *report_format_name(int fmt);

/* What goes in: one candidate (NULL: all) and what happened since a time
 * (0: everything). */
struct report_filter {
	const char *candidate;
	int64_t since;
};

/* Reads the model (see above) at clock's now, judging promotion with
 * policy p; *out is the caller's. A named candidate that does not exist is
 * PL_ENOTFOUND. progress (may be NULL) sees one stage per section. */
int report_collect(struct store *st, const struct report_filter *f, const struct gate_policy *p,
                   const struct pl_clock *clock, const struct pl_progress *progress, json_t **out,
                   struct pl_err *err);

/* The open findings alone: {available, open, by_severity {WORD: n}, top:
 * [the 200 of highest priority: {host, package, installed, candidate,
 * severity, priority, cves, first_seen}]}; available is false (and the rest
 * empty) before any database scan. *out is the caller's. */
int report_findings(struct store *st, const struct pl_clock *clock, json_t **out,
                    struct pl_err *err);

/* Writes model in fmt to out (appended). */
int report_render(json_t *model, int fmt, struct pl_buf *out, struct pl_err *err);

/* Each rendering on its own. */
void report_render_json(json_t *model, struct pl_buf *out);
void report_render_html(json_t *model, struct pl_buf *out);
void report_render_csv(json_t *model, struct pl_buf *out);
int report_render_junit(json_t *model, struct pl_buf *out, struct pl_err *err);

/* ---- building blocks, shared with the dashboard ---------------------------- */

/* Appends s as one RFC 4180 CSV field: quoted (with "" for ") when it holds
 * a comma, a quote, CR or LF, or starts or ends with a blank; NULL is empty.
 * A field a spreadsheet would run as a formula (=, +, -, @ first) gets a
 * leading apostrophe. */
void report_csv_field(struct pl_buf *b, const char *s);

/* One bar of a chart: a label and up to REPORT_SERIES_MAX stacked values. */
#define REPORT_SERIES_MAX 4
struct report_bar {
	const char *label;
	double v[REPORT_SERIES_MAX];
};

/* Appends an inline SVG horizontal bar chart (stacked when nseries > 1)
 * titled title, values in unit, each series named in series[] with a
 * legend. Presentation attributes only (no style attribute, no script), so
 * a Content-Security-Policy without 'unsafe-inline' shows it. Every text
 * is escaped. A chart without bars says "no data". */
void report_svg_bars(struct pl_buf *b, const char *title, const char *unit,
                     const char *const *series, size_t nseries, const struct report_bar *bars,
                     size_t nbars);

/* The CSS of the HTML report and the dashboard (no url(), no imports). */
extern const char report_css[];

#endif
