/*
 * priority.c - the priority score of a finding (risk.h documents the
 * formula; this file is its only implementation). Pure arithmetic over
 * struct risk_priority_in: no database, no feeds, no clock.
 */
#include "risk/risk.h"

#include <math.h>
#include <strings.h>

static const char *const level_names[] = {"P1", "P2", "P3", "P4"};
static const char *const level_words[] = {"critical", "high", "medium", "low"};
static const int level_min[] = {80, 60, 30, 0};

static const char *const exposure_names[] = {NULL, "isolated", "internal", "internet"};
static const double exposure_factor[] = {0.85, 0.60, 0.85, 1.00};

static const char *const env_names[] = {NULL, "development", "test", "staging", "production"};
static const double env_factor[] = {0.80, 0.65, 0.70, 0.80, 0.90};

int risk_urgency_base10(int urgency)
{
	static const int base[] = {10, 30, 55, 80};

	return urgency >= RISK_URG_UNIMPORTANT && urgency <= RISK_URG_HIGH ? base[urgency] : 0;
}

/* 0.80 at EPSS 0.1% and below, rising with log10(EPSS) to 1.00 at 100%. */
static double threat_of(double epss, int kev)
{
	double x;

	if (kev)
		return 1.0;
	if (epss < 0)
		return 0.85;
	if (epss <= 0.001)
		return 0.80;
	x = (log10(epss > 1 ? 1 : epss) + 3.0) / 3.0;
	return 0.80 + 0.20 * (x < 0 ? 0 : x > 1 ? 1 : x);
}

static double controls_of(int firewall, int edr)
{
	return (firewall == 1 ? 0.95 : 1.0) * (edr == 1 ? 0.95 : 1.0);
}

int risk_priority_level(int score)
{
	for (int i = 0; i < 3; i++)
		if (score >= level_min[i])
			return i + 1;
	return 4;
}

int risk_priority_level_min(int level)
{
	return level >= 1 && level <= 4 ? level_min[level - 1] : 0;
}

const char *risk_priority_level_name(int level)
{
	return level >= 1 && level <= 4 ? level_names[level - 1] : "P4";
}

const char *risk_priority_level_word(int level)
{
	return level >= 1 && level <= 4 ? level_words[level - 1] : "low";
}

void risk_priority_compute(const struct risk_priority_in *in, struct risk_priority *out)
{
	int ub = risk_urgency_base10(in->urgency);
	double env;
	long score;

	memset(out, 0, sizeof(*out));
	out->base10 = 0;
	out->base_from = "none";
	if (in->cvss10 >= 0 && in->cvss10 >= ub) {
		out->base10 = in->cvss10 > 100 ? 100 : in->cvss10;
		out->base_from = "cvss";
	} else if (in->urgency != RISK_URG_NONE && ub > 0) {
		out->base10 = ub;
		out->base_from = "urgency";
	}
	out->threat = threat_of(in->epss, in->kev);
	out->kev = in->kev ? 1.25 : 1.0;
	out->exposure = exposure_factor[in->exposure <= RISK_EXPOSURE_INTERNET ? in->exposure : 0];
	env = env_factor[in->environment <= RISK_ENV_PRODUCTION ? in->environment : 0];
	if (in->critical)
		env += 0.10;
	out->environment = env > 1.0 ? 1.0 : env;
	out->controls = controls_of(in->firewall, in->edr);
	out->raw = (double)out->base10 * out->threat * out->kev * out->exposure * out->environment *
	           out->controls;
	score = lround(out->raw);
	if (score > 100)
		score = 100;
	if (in->kev && score < RISK_PRIORITY_KEV_FLOOR) {
		score = RISK_PRIORITY_KEV_FLOOR;
		out->kev_floor = 1;
	}
	out->score = (int)score;
	out->level = risk_priority_level(out->score);
}

int risk_priority_parse(const char *s, int *min_score, const char *what, struct pl_err *err)
{
	int n;

	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, level_names[i]) == 0 || strcmp(s, level_words[i]) == 0) {
			*min_score = level_min[i];
			return 0;
		}
	if (s[0] >= '0' && s[0] <= '9' && pl_parse_int(s, 0, 100, &n, what, NULL) == 0) {
		*min_score = n;
		return 0;
	}
	return pl_error(err, PL_EUSAGE,
	                "%s: '%s' is not P1, P2, P3, P4, critical, high, medium, low or a score "
	                "0-100",
	                what, s);
}

const char *risk_exposure_name(enum risk_exposure e)
{
	return e <= RISK_EXPOSURE_INTERNET ? exposure_names[e] : NULL;
}

const char *risk_environment_name(enum risk_environment e)
{
	return e <= RISK_ENV_PRODUCTION ? env_names[e] : NULL;
}

enum risk_exposure risk_exposure_parse(const char *s)
{
	for (int i = 1; s && i <= RISK_EXPOSURE_INTERNET; i++)
		if (strcmp(s, exposure_names[i]) == 0)
			return (enum risk_exposure)i;
	return RISK_EXPOSURE_UNKNOWN;
}

enum risk_environment risk_environment_parse(const char *s)
{
	for (int i = 1; s && i <= RISK_ENV_PRODUCTION; i++)
		if (strcmp(s, env_names[i]) == 0)
			return (enum risk_environment)i;
	return RISK_ENV_UNKNOWN;
}

/* Factors are reported to two decimals, as the formula writes them. */
static json_t *factor(double f)
{
	return json_real(round(f * 100.0) / 100.0);
}

static json_t *onoff(int v)
{
	return v < 0 ? json_null() : json_string(v ? "on" : "off");
}

json_t *risk_priority_json(const struct risk_priority_in *in, const struct risk_priority *p)
{
	const char *exp = risk_exposure_name(in->exposure);
	const char *env = risk_environment_name(in->environment);

	return json_pack(
	    "{s:i, s:s, s:s, s:{s:f, s:s, s:o, s:i}, s:{s:o, s:o}, s:{s:b, s:o, s:b},"
	    " s:{s:s?, s:o}, s:{s:s?, s:b, s:o}, s:{s:o, s:o, s:o}}",
	    "score", p->score, "level", risk_priority_level_name(p->level), "word",
	    risk_priority_level_word(p->level), "base", "value", p->base10 / 10.0, "from",
	    p->base_from, "cvss", in->cvss10 >= 0 ? json_real(in->cvss10 / 10.0) : json_null(),
	    "cves", in->ncves, "threat", "epss", in->epss >= 0 ? json_real(in->epss) : json_null(),
	    "factor", factor(p->threat), "kev", "listed", in->kev, "factor", factor(p->kev),
	    "floor", p->kev_floor, "exposure", "value", exp, "factor", factor(p->exposure),
	    "environment", "value", env, "critical", in->critical, "factor", factor(p->environment),
	    "controls", "firewall", onoff(in->firewall), "edr", onoff(in->edr), "factor",
	    factor(p->controls));
}
