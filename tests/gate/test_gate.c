/* test_gate.c - policies and the fail-closed verdict. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gate/gate.h"

#define DIR PL_TEST_DATA_DIR "/gate/"

static json_t *check(const char *stage, const char *name, const char *status)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "stage", stage, "name", name, "status", status,
			 "detail", "d");
}

/* Every check the default policy requires, passed. */
static json_t *all_pass(const struct gate_policy *p)
{
	json_t *c = json_array();

	for (size_t i = 0; p->required[i]; i++) {
		char stage[32];
		const char *slash = strchr(p->required[i], '/');

		snprintf(stage, sizeof(stage), "%.*s", (int)(slash - p->required[i]), p->required[i]);
		json_array_append_new(c, check(stage, slash + 1, "pass"));
	}
	return c;
}

static void test_default_policy_verdicts(void **state)
{
	struct gate_policy p;
	struct pl_err err = PL_ERR_INIT;
	json_t *checks, *reasons = NULL;

	(void)state;
	assert_int_equal(gate_policy_default(&p, &err), 0);
	assert_string_equal(p.name, "default");
	checks = all_pass(&p);
	assert_int_equal(gate_verdict(&p, checks, &reasons), 1);
	assert_int_equal(json_array_size(reasons), 0);
	json_decref(reasons);

	/* an extra informational skip does not fail */
	json_array_append_new(checks, check("inspect", "extra", "skip"));
	assert_int_equal(gate_verdict(&p, checks, &reasons), 1);
	json_decref(reasons);

	/* one failed check fails, with one reason naming it */
	json_object_set_new(json_array_get(checks, 0), "status", json_string("fail"));
	assert_int_equal(gate_verdict(&p, checks, &reasons), 0);
	assert_int_equal(json_array_size(reasons), 1);
	assert_non_null(strstr(json_string_value(json_array_get(reasons, 0)), "apply/dpkg fail"));
	json_decref(reasons);

	/* an error, an unknown status, a missing status: never a pass */
	json_object_set_new(json_array_get(checks, 0), "status", json_string("error"));
	assert_int_equal(gate_verdict(&p, checks, &reasons), 0);
	json_decref(reasons);
	json_object_set_new(json_array_get(checks, 0), "status", json_string("passed"));
	assert_int_equal(gate_verdict(&p, checks, &reasons), 0);
	json_decref(reasons);
	json_object_del(json_array_get(checks, 0), "status");
	assert_int_equal(gate_verdict(&p, checks, &reasons), 0);
	json_decref(reasons);
	json_decref(checks);

	/* a required check that is missing or only skipped fails */
	checks = all_pass(&p);
	json_array_remove(checks, json_array_size(checks) - 1);
	assert_int_equal(gate_verdict(&p, checks, &reasons), 0);
	assert_non_null(strstr(json_string_value(json_array_get(reasons, 0)),
			       "inspect/versions: required by policy 'default' but missing"));
	json_decref(reasons);
	json_array_append_new(checks, check("inspect", "versions", "skip"));
	assert_int_equal(gate_verdict(&p, checks, &reasons), 0);
	json_decref(reasons);
	json_decref(checks);

	/* no checks at all */
	checks = json_array();
	assert_int_equal(gate_verdict(&p, checks, &reasons), 0);
	json_decref(reasons);
	json_decref(checks);
	gate_policy_free(&p);
}

static void test_policy_files(void **state)
{
	static const struct {
		const char *file, *msg;
	} bad[] = {
		{"bad-check-name.json", "$.required_checks[0]: expected a check name"},
		{"bad-empty.json", "$.required_checks: a gate must require something"},
		{"bad-boot-seconds.json", "$.max_boot_seconds: 0 is out of range"},
	};
	struct gate_policy p;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		PL_AUTOFREE char *path = pl_strdupf(DIR "%s", bad[i].file);

		assert_int_equal(gate_policy_load(path, &p, &err), PL_EINVAL);
		if (!strstr(err.msg, bad[i].msg) || !strstr(err.msg, bad[i].file))
			fail_msg("%s: got '%s'", bad[i].file, err.msg);
	}
	assert_int_equal(gate_policy_load(DIR "good.json", &p, &err), 0);
	assert_true(gate_unit_allowed(&p, "pl-broken.service"));
	assert_false(gate_unit_allowed(&p, "ssh.service"));
	assert_int_equal(p.max_boot_seconds, 600);
	gate_policy_free(&p);
	assert_int_equal(gate_policy_load(DIR "nope.json", &p, &err), PL_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_policy_verdicts),
		cmocka_unit_test(test_policy_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
