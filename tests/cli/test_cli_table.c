/* test_cli_table.c - the command table is well formed (as self-test checks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/cli.h"

static int dummy(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	(void)cli, (void)cmd, (void)argc, (void)argv;
	return 0;
}

static void test_real_table_is_clean(void **state)
{
	(void)state;
	assert_int_equal(cli_table_check(stderr, cli_commands, "patchlab"), 0);
	assert_non_null(cli_find(cli_commands, "version-compare"));
	assert_non_null(cli_find(cli_commands, "init"));
	assert_null(cli_find(cli_commands, "no-such-command"));
}

static void test_checker_finds_problems(void **state)
{
	static const struct cli_command sub[] = {
		{"x", "a", "x", dummy, NULL, 0},
		{"x", "b", "x", dummy, NULL, 0},
		{NULL, NULL, NULL, NULL, NULL, 0},
	};
	static const struct cli_command bad[] = {
		{"a", "", "a", dummy, NULL, 0},
		{"b", "b", "b", NULL, NULL, 0},
		{"g", "g", "g SUB", dummy, sub, 0},
		{NULL, NULL, NULL, NULL, NULL, 0},
	};
	FILE *devnull = fopen("/dev/null", "w");

	(void)state;
	/* empty summary, no handler, handler and sub, duplicate name in sub */
	assert_int_equal(cli_table_check(devnull, bad, "t"), 4);
	fclose(devnull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_table_is_clean),
		cmocka_unit_test(test_checker_finds_problems),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
