/*
 * Unit tests for src/risk/cvss.c: every vector of the published base-score
 * list (tests/data/risk/cvss31-base-vectors.txt), temporal and
 * environmental scores (cvss-scores.txt), every malformed vector of
 * cvss-bad.txt with the message it must give, severity boundaries, the
 * canonical vector and slices without a NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "risk/risk.h"

#ifndef PL_TEST_DATA_DIR
#error "PL_TEST_DATA_DIR must be defined as the absolute path of tests/data"
#endif
#define DATA(name) PL_TEST_DATA_DIR "/risk/" name

/* Parses "9.8" into 98. */
static int tenths(const char *s)
{
	int whole = 0, frac = 0;

	assert_int_equal(sscanf(s, "%d.%1d", &whole, &frac), 2);
	return whole * 10 + frac;
}

/* Calls fn on each line of the file that is neither empty nor a comment;
 * returns the number of lines. */
static int each_line(const char *path, void (*fn)(char *line, int lineno))
{
	PL_AUTOFREE char *buf = NULL;
	struct pl_err err = PL_ERR_INIT;
	char *line, *save = NULL;
	int n = 0, lineno = 0;

	assert_int_equal(pl_file_read(path, &buf, NULL, &err), 0);
	for (line = buf; line; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		lineno++;
		if (!*line || *line == '#')
			continue;
		fn(line, lineno);
		n++;
	}
	return n;
}

static void base_line(char *line, int lineno)
{
	struct pl_err err = PL_ERR_INIT;
	struct risk_cvss c;
	char *sp = strchr(line, ' ');
	char str[8];

	assert_non_null(sp);
	*sp = '\0';
	if (risk_cvss_parse(line, strlen(line), &c, &err) < 0)
		fail_msg("line %d: %s", lineno, err.msg);
	if (c.base != tenths(sp + 1))
		fail_msg("line %d: %s: base %d, expected %s", lineno, line, c.base, sp + 1);
	risk_score_str(c.base, str);
	assert_string_equal(str, sp + 1);
	/* no temporal metric given: the temporal score is the base score */
	assert_int_equal(c.temporal, c.base);
	assert_int_equal(risk_cvss_base(line, &err), c.base);
}

static void test_base_vectors(void **state)
{
	(void)state;
	/* the published list has 16; fewer means the file was cut */
	assert_true(each_line(DATA("cvss31-base-vectors.txt"), base_line) >= 16);
}

static void scores_line(char *line, int lineno)
{
	struct pl_err err = PL_ERR_INIT;
	char vec[RISK_CVSS_MAX_LEN + 1], b[8], t[8], e[8];
	struct risk_cvss c;

	assert_int_equal(sscanf(line, "%256s %7s %7s %7s", vec, b, t, e), 4);
	if (risk_cvss_parse(vec, strlen(vec), &c, &err) < 0)
		fail_msg("line %d: %s", lineno, err.msg);
	if (c.base != tenths(b) || c.temporal != tenths(t) || c.environmental != tenths(e))
		fail_msg("line %d: %s: %d %d %d, expected %s %s %s", lineno, vec, c.base,
		         c.temporal, c.environmental, b, t, e);
}

static void test_temporal_environmental(void **state)
{
	(void)state;
	assert_true(each_line(DATA("cvss-scores.txt"), scores_line) >= 15);
}

static void bad_line(char *line, int lineno)
{
	struct pl_err err = PL_ERR_INIT;
	struct risk_cvss c = {0};
	char *tab = strchr(line, '\t');

	assert_non_null(tab);
	*tab = '\0';
	if (risk_cvss_parse(line, strlen(line), &c, &err) != PL_EINVAL)
		fail_msg("line %d: '%s' was accepted", lineno, line);
	assert_int_equal(err.code, PL_EINVAL);
	assert_non_null(strstr(err.msg, "CVSS vector '"));
	if (!strstr(err.msg, tab + 1))
		fail_msg("line %d: message '%s' lacks '%s'", lineno, err.msg, tab + 1);
}

static void test_bad_vectors(void **state)
{
	(void)state;
	assert_true(each_line(DATA("cvss-bad.txt"), bad_line) >= 25);
}

static void test_limits(void **state)
{
	static const char v[] = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
	char big[RISK_CVSS_MAX_LEN * 2], out[RISK_CVSS_MAX_LEN];
	struct pl_err err = PL_ERR_INIT;
	struct risk_cvss c;
	(void)state;

	/* a slice of a longer buffer: the parser stops at len, not at a NUL */
	memcpy(big, v, sizeof(v) - 1);
	memcpy(big + sizeof(v) - 1, "/E:Q", 5);
	assert_int_equal(risk_cvss_parse(big, sizeof(v) - 1, &c, &err), 0);
	assert_int_equal(c.base, 98);
	assert_int_equal(risk_cvss_parse(big, strlen(big), &c, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "E: unknown value 'Q'"));
	/* a NUL inside the slice is a bad value, not the end */
	big[sizeof(v) - 2] = '\0';
	assert_int_equal(risk_cvss_parse(big, sizeof(v) - 1, &c, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "A: unknown value '?'"));
	assert_non_null(strstr(err.msg, "\\x00"));
	/* too long, whatever it holds; the message quotes 80 bytes at most */
	memset(big, 'A', sizeof(big));
	assert_int_equal(risk_cvss_parse(big, RISK_CVSS_MAX_LEN + 1, &c, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "longer than 256 bytes"));
	assert_true(strlen(err.msg) < 160);
	/* the canonical form: base in order, then the optional metrics given */
	assert_int_equal(
	    risk_cvss_parse("CVSS:3.0/A:L/I:N/C:H/S:U/UI:R/PR:L/AC:H/AV:A/RC:C/E:X", 53, &c, &err),
	    0);
	assert_int_equal(risk_cvss_vector(&c, out), 49);
	assert_string_equal(out, "CVSS:3.0/AV:A/AC:H/PR:L/UI:R/S:U/C:H/I:N/A:L/RC:C");
}

static void test_severity(void **state)
{
	static const struct {
		int score;
		const char *name;
	} cases[] = {{0, "None"},  {1, "Low"},   {39, "Low"},      {40, "Medium"},   {69, "Medium"},
	             {70, "High"}, {89, "High"}, {90, "Critical"}, {100, "Critical"}};
	char s[8];
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(risk_severity_name(risk_severity_of(cases[i].score)),
		                    cases[i].name);
	risk_score_str(0, s);
	assert_string_equal(s, "0.0");
	risk_score_str(100, s);
	assert_string_equal(s, "10.0");
	risk_score_str(5, s);
	assert_string_equal(s, "0.5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base_vectors), cmocka_unit_test(test_temporal_environmental),
	    cmocka_unit_test(test_bad_vectors),  cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_severity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
