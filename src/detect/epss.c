/*
 * epss.c - FIRST's EPSS scores (https://www.first.org/epss/data_stats):
 * a CSV of "cve,epss,percentile" after an optional comment line
 * "#model_version:v2023.03.01,score_date:2023-03-05T00:00:00+0000". The
 * file is ASCII; anything else, a missing header, a field too many or too
 * few, a number outside [0, 1] is an error naming the line.
 */
#include "detect/detect-private.h"

#define EPSS_MAX_LINE 4096

/* Records "FILE:LINE: message". */
static int epss_bad(const char *file, size_t line, struct pl_err *err, const char *fmt, ...)
    PL_PRINTF(4, 5);

static int epss_bad(const char *file, size_t line, struct pl_err *err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pl_error(err, PL_EINVAL, "%s:%zu: %s", file, line, msg);
}

/* A probability written as a plain decimal ("0.00043", "1", "4.3e-05"). */
static int epss_number(const char *s, size_t n, double *out)
{
	char buf[64];
	char *end = NULL;
	size_t i = 0, d = 0;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, d++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
	if (d == 0)
		return -1;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t e = 0;

		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, e++;
		if (e == 0)
			return -1;
	}
	if (i != n)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtod(buf, &end);
	return end == buf + n && *out >= 0.0 && *out <= 1.0 ? 0 : -1;
}

/* The comment line's "key:value" pairs into info (model_version, score_date). */
static void epss_comment(const char *s, size_t n, json_t *info)
{
	while (n > 0) {
		const char *comma = memchr(s, ',', n);
		size_t k = comma ? (size_t)(comma - s) : n;
		const char *colon = memchr(s, ':', k);

		if (colon && info) {
			size_t kl = (size_t)(colon - s), vl = k - kl - 1;

			if ((kl == 13 && memcmp(s, "model_version", 13) == 0) ||
			    (kl == 10 && memcmp(s, "score_date", 10) == 0)) {
				char key[16];

				memcpy(key, s, kl);
				key[kl] = '\0';
				json_object_set_new(info, key, json_stringn(colon + 1, vl));
			}
		}
		s += k;
		n -= k;
		if (n > 0) {
			s++;
			n--;
		}
	}
}

/* One data line "CVE,EPSS,PERCENTILE" (no line end). */
static int epss_row(const char *file, size_t lineno, const char *s, size_t n,
                    const struct detect_sink *sink, struct pl_err *err)
{
	const char *c1 = memchr(s, ',', n), *c2;
	char cve[DETECT_MAX_ID + 1];
	struct detect_epss_row r;
	size_t cl;

	c2 = c1 ? memchr(c1 + 1, ',', n - (size_t)(c1 + 1 - s)) : NULL;
	if (!c1 || !c2 || memchr(c2 + 1, ',', n - (size_t)(c2 + 1 - s)))
		return epss_bad(file, lineno, err, "expected 3 fields (cve,epss,percentile)");
	cl = (size_t)(c1 - s);
	if (cl > DETECT_MAX_ID)
		return epss_bad(file, lineno, err, "cve: longer than %d bytes", DETECT_MAX_ID);
	memcpy(cve, s, cl);
	cve[cl] = '\0';
	if (!detect_is_cve(cve))
		return epss_bad(file, lineno, err, "cve: '%s' is not a CVE id", cve);
	if (epss_number(c1 + 1, (size_t)(c2 - c1 - 1), &r.epss) < 0)
		return epss_bad(file, lineno, err, "epss: '%.*s' is not a number in [0, 1]",
		                (int)(c2 - c1 - 1 > 32 ? 32 : c2 - c1 - 1), c1 + 1);
	if (epss_number(c2 + 1, (size_t)(s + n - c2 - 1), &r.percentile) < 0)
		return epss_bad(file, lineno, err, "percentile: '%.*s' is not a number in [0, 1]",
		                (int)(s + n - c2 - 1 > 32 ? 32 : s + n - c2 - 1), c2 + 1);
	r.cve = cve;
	if (sink->epss && sink->epss(sink->ctx, &r, err) < 0)
		return pl_error_prefix(err, "%s:%zu", file, lineno);
	return 0;
}

int detect_epss_parse(const char *buf, size_t len, const char *file, const struct detect_sink *sink,
                      struct pl_err *err)
{
	size_t pos = 0, lineno = 0, rows = 0;
	int header = 0;

	if (!file)
		file = "<input>";
	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		pos += n + (nl ? 1 : 0);
		lineno++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > EPSS_MAX_LINE)
			return epss_bad(file, lineno, err, "line longer than %d bytes",
			                EPSS_MAX_LINE);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
				return epss_bad(file, lineno, err,
				                "byte 0x%02x at column %zu: not ASCII text",
				                (unsigned char)s[i], i + 1);
		if (n == 0) {
			/* only the end of the file may be blank */
			while (pos < len && (buf[pos] == '\n' || buf[pos] == '\r'))
				pos++;
			if (pos < len)
				return epss_bad(file, lineno, err, "empty line");
			continue;
		}
		if (lineno == 1 && s[0] == '#') {
			epss_comment(s + 1, n - 1, sink->info);
			continue;
		}
		if (!header) {
			if (n != 19 || memcmp(s, "cve,epss,percentile", 19) != 0)
				return epss_bad(file, lineno, err,
				                "expected the header 'cve,epss,percentile'");
			header = 1;
			continue;
		}
		if (epss_row(file, lineno, s, n, sink, err) < 0)
			return err ? err->code : PL_EINVAL;
		rows++;
	}
	if (!header)
		return pl_error(err, PL_EINVAL, "%s: no 'cve,epss,percentile' header (empty file?)",
		                file);
	if (sink->info)
		json_object_set_new(sink->info, "rows", json_integer((json_int_t)rows));
	return 0;
}
