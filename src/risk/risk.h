/*
 * risk.h - risk scores: how much a missing patch matters.
 *
 * Owns: the CVSS v3.0 and v3.1 calculator (a strict vector-string parser
 * and the base, temporal and environmental scores with the specification's
 * Roundup, and the qualitative severity rating); the priority score that
 * combines CVSS, EPSS, CISA KEV and exposure comes in its own section.
 * Does not own: where vectors, EPSS scores or KEV entries come from (the
 * feeds are src/detect's), the database, printing.
 *
 * Arrows: the CVSS part depends on src/core only, so any module (src/detect
 * computes base scores while it imports feeds) may call it. Keep it that
 * way: a score that needs feed data takes it as input from its caller.
 */
#ifndef PL_RISK_H
#define PL_RISK_H

#include "core/core.h"

/* ---- CVSS v3.x ----------------------------------------------------------- */

/*
 * CVSS v3.0 / v3.1 (FIRST, "Common Vulnerability Scoring System v3.1:
 * Specification Document", sections 5-7 and Appendix A):
 * - The vector is "CVSS:3.1/" or "CVSS:3.0/" then "METRIC:VALUE" parts
 *   separated by '/', in any order. Every base metric (AV AC PR UI S C I A)
 *   appears exactly once; temporal (E RL RC) and environmental (CR IR AR
 *   MAV MAC MPR MUI MS MC MI MA) metrics are optional, at most once each,
 *   and "X" (not defined) is accepted for them. Anything else (an unknown
 *   metric or value, a lower-case letter, an empty part, blanks, a
 *   trailing '/') is an error naming the metric.
 * - Scores are kept in tenths (an integer 0..100) so that equality is
 *   exact: 9.8 is 98. v3.1 rounds up with Appendix A's integer Roundup,
 *   v3.0 with ceil(x * 10) / 10; the changed-scope environmental impact
 *   uses each version's own formula.
 * - The temporal and environmental scores are computed from the optional
 *   metrics (absent = X). Without any, the temporal score is the base
 *   score; the v3.1 environmental one may still differ for a changed
 *   scope (its impact formula differs from the base one).
 */

/* The index of a metric value in its table below (what the parser fills). */
enum risk_cvss_metric {
	RISK_CVSS_AV,
	RISK_CVSS_AC,
	RISK_CVSS_PR,
	RISK_CVSS_UI,
	RISK_CVSS_S,
	RISK_CVSS_C,
	RISK_CVSS_I,
	RISK_CVSS_A, /* base: required */
	RISK_CVSS_E,
	RISK_CVSS_RL,
	RISK_CVSS_RC, /* temporal */
	RISK_CVSS_CR,
	RISK_CVSS_IR,
	RISK_CVSS_AR,
	RISK_CVSS_MAV,
	RISK_CVSS_MAC,
	RISK_CVSS_MPR,
	RISK_CVSS_MUI,
	RISK_CVSS_MS,
	RISK_CVSS_MC,
	RISK_CVSS_MI,
	RISK_CVSS_MA, /* environmental */
	RISK_CVSS_NMETRICS
};

/* Qualitative severity (specification, section 5). */
enum risk_severity {
	RISK_SEV_NONE = 0, /* 0.0 */
	RISK_SEV_LOW,      /* 0.1 - 3.9 */
	RISK_SEV_MEDIUM,   /* 4.0 - 6.9 */
	RISK_SEV_HIGH,     /* 7.0 - 8.9 */
	RISK_SEV_CRITICAL  /* 9.0 - 10.0 */
};

/* A parsed vector: plain values, no pointers into the input. */
struct risk_cvss {
	int minor;                         /* 0 for CVSS:3.0, 1 for CVSS:3.1 */
	char value[RISK_CVSS_NMETRICS];    /* the value letter, 'X' when absent */
	int base, temporal, environmental; /* scores in tenths, 0..100 */
};

/* Largest vector accepted (all 22 metrics take about 120 bytes). */
#define RISK_CVSS_MAX_LEN 256

/* Parses s[0..len) (no NUL needed) strictly and computes its scores into
 * *out. PL_EINVAL "CVSS vector 'S': METRIC: what" (the vector quoted with
 * non-printable bytes escaped, cut at 80 bytes) on any error. */
int risk_cvss_parse(const char *s, size_t len, struct risk_cvss *out, struct pl_err *err);

/* Parses a NUL-terminated vector and returns its base score in tenths, or
 * a negative PL_E* code as risk_cvss_parse() does. */
int risk_cvss_base(const char *vector, struct pl_err *err);

/* The severity of a score in tenths (0..100). */
enum risk_severity risk_severity_of(int score10);

/* "None", "Low", "Medium", "High", "Critical" (the specification's words). */
const char *risk_severity_name(enum risk_severity sev);

/* Writes the score in tenths as "9.8" into out. */
void risk_score_str(int score10, char out[static 8]);

/* Writes the canonical vector of c (the prefix, base metrics in the
 * specification's order, then the optional metrics that were given and
 * not X) into out; returns its length. */
size_t risk_cvss_vector(const struct risk_cvss *c, char out[static RISK_CVSS_MAX_LEN]);

#endif
