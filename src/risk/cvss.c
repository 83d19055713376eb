/*
 * cvss.c - CVSS v3.0 and v3.1 vectors and scores (FIRST specification,
 * sections 5-7 and Appendix A). The parser reads a bounded byte slice with
 * no NUL required and no allocation until an error message is written, so
 * a fuzzer can feed it anything.
 */
#include "risk/risk.h"

#include <math.h>

/* One metric: its name, the letters it takes ("X" last for optional ones)
 * and the weight of each letter in the same order. */
struct cvss_metric {
	const char *name;
	const char *letters;
	double weight[5];
};

/* PR's weights for a changed scope come from pr_changed below. */
static const struct cvss_metric metrics[RISK_CVSS_NMETRICS] = {
    [RISK_CVSS_AV] = {"AV", "NALP", {0.85, 0.62, 0.55, 0.2}},
    [RISK_CVSS_AC] = {"AC", "LH", {0.77, 0.44}},
    [RISK_CVSS_PR] = {"PR", "NLH", {0.85, 0.62, 0.27}},
    [RISK_CVSS_UI] = {"UI", "NR", {0.85, 0.62}},
    [RISK_CVSS_S] = {"S", "UC", {0, 0}},
    [RISK_CVSS_C] = {"C", "HLN", {0.56, 0.22, 0}},
    [RISK_CVSS_I] = {"I", "HLN", {0.56, 0.22, 0}},
    [RISK_CVSS_A] = {"A", "HLN", {0.56, 0.22, 0}},
    [RISK_CVSS_E] = {"E", "HFPUX", {1, 0.97, 0.94, 0.91, 1}},
    [RISK_CVSS_RL] = {"RL", "UWTOX", {1, 0.97, 0.96, 0.95, 1}},
    [RISK_CVSS_RC] = {"RC", "CRUX", {1, 0.96, 0.92, 1}},
    [RISK_CVSS_CR] = {"CR", "HMLX", {1.5, 1, 0.5, 1}},
    [RISK_CVSS_IR] = {"IR", "HMLX", {1.5, 1, 0.5, 1}},
    [RISK_CVSS_AR] = {"AR", "HMLX", {1.5, 1, 0.5, 1}},
    [RISK_CVSS_MAV] = {"MAV", "NALPX", {0.85, 0.62, 0.55, 0.2}},
    [RISK_CVSS_MAC] = {"MAC", "LHX", {0.77, 0.44}},
    [RISK_CVSS_MPR] = {"MPR", "NLHX", {0.85, 0.62, 0.27}},
    [RISK_CVSS_MUI] = {"MUI", "NRX", {0.85, 0.62}},
    [RISK_CVSS_MS] = {"MS", "UCX", {0, 0}},
    [RISK_CVSS_MC] = {"MC", "HLNX", {0.56, 0.22, 0}},
    [RISK_CVSS_MI] = {"MI", "HLNX", {0.56, 0.22, 0}},
    [RISK_CVSS_MA] = {"MA", "HLNX", {0.56, 0.22, 0}},
};

#define NBASE (RISK_CVSS_A + 1)

/* The weight of metric m's value v (which the parser has checked). */
static double weight(int m, char v)
{
	const char *p = strchr(metrics[m].letters, v);

	return p ? metrics[m].weight[p - metrics[m].letters] : 0;
}

/* The modified metric when defined, else the base one it modifies. */
static char effective(const struct risk_cvss *c, int mod, int base)
{
	return c->value[mod] != 'X' ? c->value[mod] : c->value[base];
}

static double pr_weight(char pr, char scope)
{
	if (scope == 'C')
		return pr == 'L' ? 0.68 : pr == 'H' ? 0.5 : 0.85;
	return weight(RISK_CVSS_PR, pr);
}

/* Appendix A: the smallest number with one decimal that is >= x, computed
 * on integers so that 4.000000000000001 is 4.0, not 4.1. In tenths. */
static int roundup31(double x)
{
	long i = lround(x * 100000.0);

	return (int)(i % 10000 == 0 ? i / 10000 : i / 10000 + 1);
}

/* v3.0's Roundup is plain ceil(x * 10) / 10, floating-point artefacts and
 * all: scores published for 3.0 vectors were computed that way. */
static int roundup(const struct risk_cvss *c, double x)
{
	return c->minor >= 1 ? roundup31(x) : (int)ceil(x * 10.0);
}

static double clamp10(double x)
{
	return x > 10.0 ? 10.0 : x;
}

static void cvss_scores(struct risk_cvss *c)
{
	const char *v = c->value;
	double iss, impact, expl, tm, miss, mimpact, mexpl;
	char ms = effective(c, RISK_CVSS_MS, RISK_CVSS_S);

	/* base (section 7.1) */
	iss = 1 - (1 - weight(RISK_CVSS_C, v[RISK_CVSS_C])) *
	              (1 - weight(RISK_CVSS_I, v[RISK_CVSS_I])) *
	              (1 - weight(RISK_CVSS_A, v[RISK_CVSS_A]));
	if (v[RISK_CVSS_S] == 'U')
		impact = 6.42 * iss;
	else
		impact = 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15);
	expl = 8.22 * weight(RISK_CVSS_AV, v[RISK_CVSS_AV]) *
	       weight(RISK_CVSS_AC, v[RISK_CVSS_AC]) * pr_weight(v[RISK_CVSS_PR], v[RISK_CVSS_S]) *
	       weight(RISK_CVSS_UI, v[RISK_CVSS_UI]);
	if (impact <= 0)
		c->base = 0;
	else if (v[RISK_CVSS_S] == 'U')
		c->base = roundup(c, clamp10(impact + expl));
	else
		c->base = roundup(c, clamp10(1.08 * (impact + expl)));

	/* temporal (7.2) */
	tm = weight(RISK_CVSS_E, v[RISK_CVSS_E]) * weight(RISK_CVSS_RL, v[RISK_CVSS_RL]) *
	     weight(RISK_CVSS_RC, v[RISK_CVSS_RC]);
	c->temporal = roundup(c, c->base / 10.0 * tm);

	/* environmental (7.3) */
	miss = 1 - (1 - weight(RISK_CVSS_CR, v[RISK_CVSS_CR]) *
	                    weight(RISK_CVSS_C, effective(c, RISK_CVSS_MC, RISK_CVSS_C))) *
	               (1 - weight(RISK_CVSS_IR, v[RISK_CVSS_IR]) *
	                        weight(RISK_CVSS_I, effective(c, RISK_CVSS_MI, RISK_CVSS_I))) *
	               (1 - weight(RISK_CVSS_AR, v[RISK_CVSS_AR]) *
	                        weight(RISK_CVSS_A, effective(c, RISK_CVSS_MA, RISK_CVSS_A)));
	if (miss > 0.915)
		miss = 0.915;
	if (ms == 'U')
		mimpact = 6.42 * miss;
	else if (c->minor >= 1)
		mimpact = 7.52 * (miss - 0.029) - 3.25 * pow(miss * 0.9731 - 0.02, 13);
	else
		mimpact = 7.52 * (miss - 0.029) - 3.25 * pow(miss - 0.02, 15);
	mexpl = 8.22 * weight(RISK_CVSS_AV, effective(c, RISK_CVSS_MAV, RISK_CVSS_AV)) *
	        weight(RISK_CVSS_AC, effective(c, RISK_CVSS_MAC, RISK_CVSS_AC)) *
	        pr_weight(effective(c, RISK_CVSS_MPR, RISK_CVSS_PR), ms) *
	        weight(RISK_CVSS_UI, effective(c, RISK_CVSS_MUI, RISK_CVSS_UI));
	if (mimpact <= 0)
		c->environmental = 0;
	else if (ms == 'U')
		c->environmental = roundup(c, roundup(c, clamp10(mimpact + mexpl)) / 10.0 * tm);
	else
		c->environmental =
		    roundup(c, roundup(c, clamp10(1.08 * (mimpact + mexpl))) / 10.0 * tm);
}

/* Records "CVSS vector 'S': fmt" with S quoted safely. */
static int cvss_error(const char *s, size_t len, struct pl_err *err, const char *fmt, ...)
    PL_PRINTF(4, 5);

static int cvss_error(const char *s, size_t len, struct pl_err *err, const char *fmt, ...)
{
	PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;
	size_t n = len > 80 ? 80 : len;
	va_list ap;

	pl_buf_adds(&b, "CVSS vector '");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '\'')
			pl_buf_addc(&b, (char)ch);
		else
			pl_buf_addf(&b, "\\x%02x", ch);
	}
	pl_buf_adds(&b, n < len ? "...': " : "': ");
	va_start(ap, fmt);
	pl_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return pl_error(err, PL_EINVAL, "%s", pl_buf_str(&b));
}

/* The metric named p[0..n), or -1. */
static int metric_find(const char *p, size_t n)
{
	for (int m = 0; m < RISK_CVSS_NMETRICS; m++)
		if (strlen(metrics[m].name) == n && memcmp(metrics[m].name, p, n) == 0)
			return m;
	return -1;
}

/* "N, A, L or P" for the message about a wrong value. */
static void letters_list(int m, char out[static 32])
{
	const char *l = metrics[m].letters;
	size_t n = strlen(l), o = 0;

	for (size_t i = 0; i < n; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";

		o += (size_t)snprintf(out + o, 32 - o, "%s%c", sep, l[i]);
	}
}

/* Reads one "NAME:VALUE" part p[0..n) into c; seen marks metrics given. */
static int cvss_part(const char *s, size_t len, const char *p, size_t n, struct risk_cvss *c,
                     unsigned char seen[RISK_CVSS_NMETRICS], struct pl_err *err)
{
	const char *colon = memchr(p, ':', n);
	char list[32];
	size_t nl;
	int m;

	if (n == 0)
		return cvss_error(s, len, err, "empty metric (a '/' too many)");
	if (!colon)
		return cvss_error(s, len, err, "'%.*s': expected METRIC:VALUE",
		                  (int)(n > 16 ? 16 : n), p);
	nl = (size_t)(colon - p);
	m = metric_find(p, nl);
	if (m < 0) {
		char name[24];
		size_t k;

		/* the name is quoted: keep only printable bytes of it */
		for (k = 0; k < nl && k < sizeof(name) - 1; k++)
			name[k] = p[k] >= 0x21 && p[k] < 0x7f ? p[k] : '?';
		name[k] = '\0';
		return cvss_error(s, len, err, "unknown metric '%s'", name);
	}
	if (seen[m])
		return cvss_error(s, len, err, "%s: given twice", metrics[m].name);
	seen[m] = 1;
	letters_list(m, list);
	if (n - nl - 1 != 1 || !strchr(metrics[m].letters, colon[1]) || colon[1] == '\0') {
		char val[24];
		size_t k, vl = n - nl - 1;

		for (k = 0; k < vl && k < sizeof(val) - 1; k++)
			val[k] = colon[1 + k] >= 0x21 && colon[1 + k] < 0x7f ? colon[1 + k] : '?';
		val[k] = '\0';
		return cvss_error(s, len, err, "%s: unknown value '%s' (expected %s)",
		                  metrics[m].name, val, list);
	}
	c->value[m] = colon[1];
	return 0;
}

int risk_cvss_parse(const char *s, size_t len, struct risk_cvss *out, struct pl_err *err)
{
	unsigned char seen[RISK_CVSS_NMETRICS] = {0};
	struct risk_cvss c = {0};
	size_t pos;

	if (len > RISK_CVSS_MAX_LEN)
		return cvss_error(s, len, err, "longer than %d bytes", RISK_CVSS_MAX_LEN);
	if (len < 6 || memcmp(s, "CVSS:", 5) != 0 || !memchr(s, '/', len))
		return cvss_error(s, len, err, "CVSS: expected the prefix CVSS:3.1/ or CVSS:3.0/");
	if (len >= 9 && memcmp(s, "CVSS:3.1/", 9) == 0)
		c.minor = 1;
	else if (len >= 9 && memcmp(s, "CVSS:3.0/", 9) == 0)
		c.minor = 0;
	else
		return cvss_error(s, len, err, "CVSS: version not supported (expected 3.0 or 3.1)");
	memset(c.value, 'X', sizeof(c.value));
	for (pos = 9; pos <= len;) {
		const char *p = s + pos, *slash = memchr(p, '/', len - pos);
		size_t n = slash ? (size_t)(slash - p) : len - pos;

		if (cvss_part(s, len, p, n, &c, seen, err) < 0)
			return PL_EINVAL;
		pos += n + 1;
	}
	for (int m = 0; m < NBASE; m++)
		if (!seen[m])
			return cvss_error(s, len, err, "%s: missing (a base metric)",
			                  metrics[m].name);
	cvss_scores(&c);
	*out = c;
	return 0;
}

int risk_cvss_base(const char *vector, struct pl_err *err)
{
	struct risk_cvss c;
	int rc = risk_cvss_parse(vector, strlen(vector), &c, err);

	return rc < 0 ? rc : c.base;
}

enum risk_severity risk_severity_of(int score10)
{
	if (score10 <= 0)
		return RISK_SEV_NONE;
	if (score10 < 40)
		return RISK_SEV_LOW;
	if (score10 < 70)
		return RISK_SEV_MEDIUM;
	if (score10 < 90)
		return RISK_SEV_HIGH;
	return RISK_SEV_CRITICAL;
}

const char *risk_severity_name(enum risk_severity sev)
{
	static const char *const names[] = {"None", "Low", "Medium", "High", "Critical"};

	return sev >= RISK_SEV_NONE && sev <= RISK_SEV_CRITICAL ? names[sev] : "None";
}

void risk_score_str(int score10, char out[static 8])
{
	if (score10 < 0)
		score10 = 0;
	if (score10 > 100)
		score10 = 100;
	snprintf(out, 8, "%d.%d", score10 / 10, score10 % 10);
}

size_t risk_cvss_vector(const struct risk_cvss *c, char out[static RISK_CVSS_MAX_LEN])
{
	size_t o = (size_t)snprintf(out, RISK_CVSS_MAX_LEN, "CVSS:3.%d", c->minor);

	for (int m = 0; m < RISK_CVSS_NMETRICS; m++)
		if (m < NBASE || c->value[m] != 'X')
			o += (size_t)snprintf(out + o, RISK_CVSS_MAX_LEN - o, "/%s:%c",
			                      metrics[m].name, c->value[m]);
	return o;
}
