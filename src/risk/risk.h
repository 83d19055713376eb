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

/* ---- priority ------------------------------------------------------------- */

/*
 * The priority of one finding (a missing update on one host): a score from
 * 0 to 100 and a level P1..P4, from what the update fixes and where the
 * host stands. A pure function of struct risk_priority_in; every factor is
 * reported (risk_priority_json) so a reader can see why a score is what it
 * is.
 *
 *   base        the highest, over the CVEs the update fixes, of the CVE's
 *               CVSS v3 base score or, where the CVE has no vector, of its
 *               tracker urgency: high 8.0, medium 5.5 (also "not yet
 *               assigned"), low 3.0, unimportant 1.0. No CVE (an update
 *               that fixes none): 0.
 *   threat      EPSS, the probability of exploitation in the next 30 days:
 *               0.80 + 0.20 * clamp((log10(EPSS) + 3) / 3, 0, 1), i.e.
 *               0.80 at 0.1% or less, 0.87 at 1%, 0.93 at 10%, 1.00 at
 *               100%; 0.85 when no EPSS score is known; 1.00 for KEV.
 *   kev         1.25 when a fixed CVE is in CISA's Known Exploited
 *               Vulnerabilities catalogue, else 1.00.
 *   exposure    internet 1.00, internal 0.85, isolated 0.60; not
 *               recorded 0.85 (as internal).
 *   environment production 0.90, staging 0.80, test 0.70, development
 *               0.65, not recorded 0.80; +0.10 for a host tagged
 *               "critical" (its role holds what matters most), at most 1.00.
 *   controls    0.95 for a host firewall that is on, 0.95 for an EDR agent
 *               that runs (product named or on); 1.00 for off or unknown.
 *
 *   score = min(100, round(10 * base * threat * kev * exposure *
 *                          environment * controls))
 *   KEV floor: a finding that fixes a KEV CVE scores at least 70 whatever
 *   the exposure, environment and controls.
 *
 * Levels: P1 (critical) >= 80, P2 (high) >= 60, P3 (medium) >= 30,
 * P4 (low) below. A CVSS 9.8 fix with EPSS 10% on an internet-facing
 * production host without controls scores 82 (P1); the same on an
 * isolated test host with firewall and EDR 35 (P3); a medium-urgency fix
 * without a vector on an internal production host 36 (P3); any KEV fix at
 * least 70 (P2). tests/data/risk/priority-cases.tsv has more.
 */

/* The tracker's urgencies, in the order src/detect uses. */
enum risk_urgency {
	RISK_URG_NONE = -1,
	RISK_URG_UNIMPORTANT = 0,
	RISK_URG_LOW,
	RISK_URG_MEDIUM,
	RISK_URG_HIGH
};

/* Network exposure, least exposed first after unknown. */
enum risk_exposure {
	RISK_EXPOSURE_UNKNOWN = 0,
	RISK_EXPOSURE_ISOLATED,
	RISK_EXPOSURE_INTERNAL,
	RISK_EXPOSURE_INTERNET
};

/* The host's environment, least critical first after unknown. */
enum risk_environment {
	RISK_ENV_UNKNOWN = 0,
	RISK_ENV_DEVELOPMENT,
	RISK_ENV_TEST,
	RISK_ENV_STAGING,
	RISK_ENV_PRODUCTION
};

/* Everything the score depends on. */
struct risk_priority_in {
	int cvss10;  /* highest CVSS v3 base score of the fixed CVEs that have one,
	                in tenths; -1: none has a vector */
	int urgency; /* highest tracker urgency of the fixed CVEs WITHOUT a vector;
	                RISK_URG_NONE when there is none */
	int ncves;   /* CVEs the update fixes */
	double epss; /* highest EPSS probability of the fixed CVEs; < 0: unknown */
	int kev;     /* 1: a fixed CVE is in KEV */
	enum risk_exposure exposure;
	enum risk_environment environment;
	int critical;      /* 1: the host is tagged "critical" */
	int firewall, edr; /* 1 on, 0 off, -1 not recorded */
};

/* The score and the factors that made it. */
struct risk_priority {
	int score;             /* 0..100 */
	int level;             /* 1 (P1) .. 4 (P4) */
	int base10;            /* base in tenths, 0..100 */
	const char *base_from; /* "cvss", "urgency" or "none" (static) */
	double threat, kev, exposure, environment, controls;
	double raw;    /* 10 * the product, before rounding, the cap and the floor */
	int kev_floor; /* 1 when the KEV floor raised the score */
};

#define RISK_PRIORITY_KEV_FLOOR 70

/* Computes the priority of in into *out (see above). */
void risk_priority_compute(const struct risk_priority_in *in, struct risk_priority *out);

/* The level of a score: 1 (P1) .. 4 (P4). */
int risk_priority_level(int score);

/* The lowest score of level (1..4): 80, 60, 30, 0. */
int risk_priority_level_min(int level);

/* "P1".."P4", and the word: "critical", "high", "medium", "low". */
const char *risk_priority_level_name(int level);
const char *risk_priority_level_word(int level);

/* Parses a minimum priority: a level ("P2", "p2"), its word ("high") or a
 * score 0..100, into the lowest score it admits. PL_EUSAGE naming what
 * (e.g. "--min-priority") otherwise. */
int risk_priority_parse(const char *s, int *min_score, const char *what, struct pl_err *err);

/* The base score (tenths) an urgency stands for without a vector. */
int risk_urgency_base10(int urgency);

/* Names: "internet", "internal", "isolated", NULL for unknown; and
 * "production" ... "development", NULL for unknown. */
const char *risk_exposure_name(enum risk_exposure e);
const char *risk_environment_name(enum risk_environment e);
/* The value named s, or the unknown value for NULL or another word. */
enum risk_exposure risk_exposure_parse(const char *s);
enum risk_environment risk_environment_parse(const char *s);

/* The factors as JSON: {score, level, word, base: {value, from}, threat:
 * {epss, factor}, kev: {listed, factor, floor}, exposure: {value, factor},
 * environment: {value, critical, factor}, controls: {firewall, edr,
 * factor}}. Caller owns it. */
json_t *risk_priority_json(const struct risk_priority_in *in, const struct risk_priority *p);

#endif
