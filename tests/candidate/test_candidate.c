/* test_candidate.c - the state machine and names; creation is tested through the CLI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "candidate/candidate.h"

static void test_transitions(void **state)
{
	static const char *const ok[][2] = {
		{"new", "testing"},        {"testing", "passed"},       {"testing", "failed"},
		{"failed", "testing"},     {"passed", "approved"},      {"approved", "scheduled"},
		{"scheduled", "rolling-out"}, {"rolling-out", "halted"}, {"halted", "rolled-back"},
		{"rolling-out", "deployed"}, {"failed", "approved"},
	};
	static const char *const bad[][2] = {
		{"new", "approved"},     {"failed", "deployed"},   {"testing", "approved"},
		{"new", "deployed"},     {"deployed", "testing"},  {"rejected", "approved"},
		{"passed", "passed"},    {"bogus", "testing"},     {"new", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!candidate_transition_ok(ok[i][0], ok[i][1]))
			fail_msg("%s -> %s must be allowed", ok[i][0], ok[i][1]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (candidate_transition_ok(bad[i][0], bad[i][1]))
			fail_msg("%s -> %s must be refused", bad[i][0], bad[i][1]);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(candidate_name_ok("sec-2026-11"));
	assert_true(candidate_name_ok("a"));
	assert_true(candidate_name_ok("Patch_Tuesday.2026.12"));
	assert_false(candidate_name_ok(""));
	assert_false(candidate_name_ok("-x"));
	assert_false(candidate_name_ok("a b"));
	assert_false(candidate_name_ok("a/b"));
	assert_false(candidate_name_ok("x'; DROP TABLE candidates; --"));
	assert_false(candidate_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void test_create_refuses_bad_input(void **state)
{
	char dir[] = "/tmp/pl-test-cand-XXXXXX";
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOSTORE struct store *st = NULL;
	struct candidate c;
	char *none[] = {NULL};
	char *notdeb[] = {(char *)"/etc/hostname", NULL};
	char *missing[] = {(char *)"/nonexistent.deb", NULL};

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, STORE_CREATE, &st, &err), 0);
	assert_int_equal(candidate_create(st, "bad name", notdeb, 1, &c, &err), PL_EINVAL);
	assert_int_equal(candidate_create(st, "empty", none, 0, &c, &err), PL_EINVAL);
	assert_int_equal(candidate_create(st, "notdeb", notdeb, 1, &c, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "/etc/hostname"));
	assert_int_equal(candidate_create(st, "missing", missing, 1, &c, &err), PL_ENOTFOUND);
	assert_int_equal(candidate_get(st, "notdeb", &c, &err), PL_ENOTFOUND);
	{
		const char *argv[] = {"rm", "-rf", dir, NULL};

		store_close(PL_STEAL(st));
		assert_int_equal(pl_run_ok(argv, NULL, &err), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_create_refuses_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
