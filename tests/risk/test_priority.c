/*
 * Unit tests for src/risk/priority.c: every case of
 * tests/data/risk/priority-cases.tsv (score, level, where the base came
 * from), the level boundaries, --min-priority parsing, and the factors
 * reported in JSON.
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

static int urgency_of(const char *s)
{
	static const char *const w[] = {"unimportant", "low", "medium", "high"};

	for (int i = 0; i < 4; i++)
		if (strcmp(s, w[i]) == 0)
			return i;
	assert_string_equal(s, "-");
	return RISK_URG_NONE;
}

static int onoff_of(const char *s)
{
	return strcmp(s, "on") == 0 ? 1 : strcmp(s, "off") == 0 ? 0 : -1;
}

static void test_cases(void **state)
{
	PL_AUTOFREE char *buf = NULL;
	struct pl_err err = PL_ERR_INIT;
	char *line, *save = NULL;
	int n = 0;
	(void)state;

	assert_int_equal(pl_file_read(DATA("priority-cases.tsv"), &buf, NULL, &err), 0);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[13], *fs = NULL, *tok;
		struct risk_priority_in in = {0};
		struct risk_priority p;
		int k = 0;

		if (line[0] == '#')
			continue;
		for (tok = strtok_r(line, "\t", &fs); tok && k < 13;
		     tok = strtok_r(NULL, "\t", &fs))
			f[k++] = tok;
		assert_int_equal(k, 13);
		in.cvss10 = atoi(f[1]);
		in.urgency = urgency_of(f[2]);
		in.epss = atof(f[3]);
		in.kev = atoi(f[4]);
		in.ncves = 1;
		in.exposure = risk_exposure_parse(f[5]);
		in.environment = risk_environment_parse(f[6]);
		in.critical = atoi(f[7]);
		in.firewall = onoff_of(f[8]);
		in.edr = onoff_of(f[9]);
		risk_priority_compute(&in, &p);
		if (p.score != atoi(f[10]) ||
		    strcmp(risk_priority_level_name(p.level), f[11]) != 0 ||
		    strcmp(p.base_from, f[12]) != 0)
			fail_msg("%s: got %d %s %s, expected %s %s %s", f[0], p.score,
			         risk_priority_level_name(p.level), p.base_from, f[10], f[11],
			         f[12]);
		n++;
	}
	assert_true(n >= 15);
}

static void test_levels(void **state)
{
	static const struct {
		int score, level;
	} cases[] = {{100, 1}, {80, 1}, {79, 2}, {60, 2}, {59, 3}, {30, 3}, {29, 4}, {0, 4}};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(risk_priority_level(cases[i].score), cases[i].level);
	assert_int_equal(risk_priority_level_min(1), 80);
	assert_int_equal(risk_priority_level_min(4), 0);
	assert_string_equal(risk_priority_level_word(2), "high");
}

static void test_parse(void **state)
{
	static const struct {
		const char *s;
		int min;
	} good[] = {{"P1", 80},       {"p2", 60},   {"P3", 30},     {"P4", 0},
	            {"critical", 80}, {"high", 60}, {"medium", 30}, {"low", 0},
	            {"45", 45},       {"0", 0},     {"100", 100}};
	static const char *const bad[] = {"P5", "P0", "101", "-1", "", "High", "4x", "p"};
	struct pl_err err = PL_ERR_INIT;
	int min;
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(risk_priority_parse(good[i].s, &min, "--min-priority", &err), 0);
		assert_int_equal(min, good[i].min);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(risk_priority_parse(bad[i], &min, "--min-priority", &err),
		                 PL_EUSAGE);
		assert_non_null(strstr(err.msg, "--min-priority"));
	}
}

static void test_json(void **state)
{
	struct risk_priority_in in = {.cvss10 = 55,
	                              .urgency = RISK_URG_NONE,
	                              .ncves = 2,
	                              .epss = 0.02,
	                              .kev = 1,
	                              .exposure = RISK_EXPOSURE_ISOLATED,
	                              .environment = RISK_ENV_DEVELOPMENT,
	                              .firewall = 1,
	                              .edr = -1};
	struct risk_priority p;
	PL_AUTOJSON json_t *j = NULL;
	(void)state;

	risk_priority_compute(&in, &p);
	j = risk_priority_json(&in, &p);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "score")), 70);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "P2");
	assert_true(json_is_true(json_object_get(json_object_get(j, "kev"), "floor")));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "exposure"), "value")),
	    "isolated");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "controls"), "firewall")), "on");
	assert_true(json_is_null(json_object_get(json_object_get(j, "controls"), "edr")));
	assert_true(json_real_value(json_object_get(json_object_get(j, "base"), "value")) == 5.5);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "base"), "cves")),
	                 2);
	/* the formula's product, before the floor */
	assert_true(p.raw > 25.4 && p.raw < 25.5); /* 55 x 1 x 1.25 x 0.6 x 0.65 x 0.95 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_levels),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
