/* cmd_help.c - 'patchlab help' and the hidden 'patchlab self-test'. */
#include "cli.h"

int cmd_help(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const struct cli_command *table = cli_commands, *c = NULL;

	(void)cmd;
	for (int i = 1; i < argc; i++) {
		c = table ? cli_find(table, argv[i]) : NULL;
		if (!c)
			return pl_error(&cli->err, PL_EUSAGE, "help: no command '%s'", argv[i]);
		table = c->sub;
	}
	if (c) {
		cli_usage(stdout, c);
		return 0;
	}
	printf("patchlab - test patches in an isolated libvirt lab before production\n\n"
	       "commands:\n");
	for (c = cli_commands; c->name; c++)
		if (!(c->flags & CLI_HIDDEN))
			printf("   %-18s %s\n", c->name, c->summary);
	printf("\nglobal options: --state DIR, -v (more output), -q (less), --version\n"
	       "exit codes: 0 success, 1 a check or verdict failed, 2 usage or input error,\n"
	       "            3 environment error\n"
	       "'patchlab help COMMAND' or 'patchlab COMMAND --help' shows a command's usage\n");
	return 0;
}

int cmd_self_test(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	int problems;

	(void)cmd;
	if (argc > 1)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[1]);
	problems = cli_table_check(stderr, cli_commands, "patchlab");
	if (problems)
		return pl_error(&cli->err, PL_EFAIL, "self-test: %d problem(s) in the command table",
				problems);
	printf("self-test: command table ok\n");
	return 0;
}
