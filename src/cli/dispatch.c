/* dispatch.c - finding and running commands, shared handler helpers. */
#include "cli.h"

#include <stdarg.h>

const struct cli_command *cli_find(const struct cli_command *table, const char *name)
{
	for (; table->name; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

void cli_usage(FILE *f, const struct cli_command *cmd)
{
	const char *u = cmd->usage;

	fprintf(f, "usage: ");
	/* Synopsis lines, then after a blank line prose. */
	while (*u) {
		const char *nl = strchr(u, '\n');
		size_t n = nl ? (size_t)(nl - u) : strlen(u);

		if (n == 0) {
			fprintf(f, "%s\n", u + (nl ? 1 : 0));
			return;
		}
		/* A synopsis names its command group itself ("lab run NAME"); a
		 * line that starts with a blank continues the one before. */
		if (u == cmd->usage)
			fprintf(f, "patchlab %.*s\n", (int)n, u);
		else
			fprintf(f, "       %s%.*s\n", *u == ' ' ? "         " : "patchlab ", (int)n, u);
		u += n + (nl ? 1 : 0);
	}
	if (cmd->sub) {
		fprintf(f, "\nsubcommands:\n");
		for (const struct cli_command *s = cmd->sub; s->name; s++)
			if (!(s->flags & CLI_HIDDEN))
				fprintf(f, "   %-16s %s\n", s->name, s->summary);
	}
}

static int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

int cli_dispatch(struct cli *cli, const struct cli_command *table, const char *prefix, int argc,
		 char **argv)
{
	const struct cli_command *cmd = cli_find(table, argv[0]);
	PL_AUTOFREE char *sub_prefix = NULL;

	if (!cmd)
		return pl_error(&cli->err, PL_EUSAGE,
				"'%s' is not a %s command: see '%s help'", argv[0], prefix,
				"patchlab");
	if (cmd->sub) {
		sub_prefix = pl_strdupf("%s %s", prefix, cmd->name);
		if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
			cli_usage(argc < 2 ? stderr : stdout, cmd);
			return argc < 2 ? pl_error(&cli->err, PL_EUSAGE, "%s: a subcommand is needed",
						   sub_prefix)
					: 0;
		}
		return cli_dispatch(cli, cmd->sub, sub_prefix, argc - 1, argv + 1);
	}
	if (cli_wants_help(argc, argv)) {
		cli_usage(stdout, cmd);
		return 0;
	}
	optind = 0; /* GNU getopt: fully re-initialise for the handler's argv */
	cli->prefix = prefix;
	return cmd->fn(cli, cmd, argc, argv);
}

int cli_store(struct cli *cli, struct store **out, int create)
{
	if (!cli->store &&
	    store_open(cli->state_dir, create ? STORE_CREATE : 0, &cli->store, &cli->err) < 0)
		return cli->err.code;
	*out = cli->store;
	return 0;
}

int cli_parse_format(struct cli *cli, const char *value, unsigned allowed, int *out)
{
	static const struct {
		const char *name;
		int fmt;
	} fmts[] = {{"text", CLI_FMT_TEXT}, {"json", CLI_FMT_JSON}, {"tsv", CLI_FMT_TSV}};
	struct pl_buf names = PL_BUF_INIT;
	int rc;

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		if (!(allowed & (unsigned)fmts[i].fmt))
			continue;
		if (strcmp(value, fmts[i].name) == 0) {
			*out = fmts[i].fmt;
			pl_buf_release(&names);
			return 0;
		}
		pl_buf_addf(&names, "%s%s", names.len ? ", " : "", fmts[i].name);
	}
	rc = pl_error(&cli->err, PL_EUSAGE, "--format: '%s' is not one of %s", value,
		      pl_buf_str(&names));
	pl_buf_release(&names);
	return rc;
}

int cli_usage_error(struct cli *cli, const struct cli_command *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *prefix = cli->prefix ? cli->prefix : "patchlab";

	return pl_error(&cli->err, PL_EUSAGE, "%s %s: %s (see '%s %s --help')", prefix, cmd->name,
			msg, prefix, cmd->name);
}

void cli_print_stages(json_t *stages, const char *indent)
{
	size_t i;
	json_t *s;

	json_array_foreach(stages, i, s)
		printf("%sstage %-8s %7.1f s%s\n", indent,
		       json_string_value(json_object_get(s, "stage")),
		       json_number_value(json_object_get(s, "seconds")),
		       json_is_true(json_object_get(s, "ok")) ? "" : " FAILED");
}

void cli_print_checks(json_t *checks, const char *indent)
{
	size_t i;
	json_t *c;

	json_array_foreach(checks, i, c)
		printf("%s%-5s %-8s %-14s %s\n", indent,
		       json_string_value(json_object_get(c, "status")),
		       json_string_value(json_object_get(c, "stage")),
		       json_string_value(json_object_get(c, "name")),
		       json_string_value(json_object_get(c, "detail")));
}

int cli_print_json(json_t *j)
{
	int rc = pl_json_print(stdout, j);

	json_decref(j);
	return rc;
}

int cli_table_check(FILE *f, const struct cli_command *table, const char *prefix)
{
	int problems = 0;

	for (const struct cli_command *c = table; c->name; c++) {
		for (const struct cli_command *d = c + 1; d->name; d++)
			if (strcmp(c->name, d->name) == 0) {
				fprintf(f, "%s %s: name used twice\n", prefix, c->name);
				problems++;
			}
		if (!c->summary || !*c->summary || !c->usage || !*c->usage) {
			fprintf(f, "%s %s: summary or usage missing\n", prefix, c->name);
			problems++;
		}
		if (!!c->fn == !!c->sub) {
			fprintf(f, "%s %s: needs exactly one of handler and sub-table\n", prefix,
				c->name);
			problems++;
		}
		if (c->sub) {
			PL_AUTOFREE char *p = pl_strdupf("%s %s", prefix, c->name);

			problems += cli_table_check(f, c->sub, p);
		}
	}
	return problems;
}
