/*
 * cli.h - the command layer: one table of commands, thin handlers.
 *
 * Owns: argument parsing, output formats, printing (the only layer that
 * prints), the one error message per failure and the exit code.
 * Does not own: any pipeline logic; a handler parses, calls one module and
 * formats what it returns.
 */
#ifndef PL_CLI_H
#define PL_CLI_H

#include "core/core.h"
#include "store/store.h"

enum cli_format { CLI_FMT_TEXT = 1 << 0, CLI_FMT_JSON = 1 << 1, CLI_FMT_TSV = 1 << 2 };

/* What every handler gets: global options and the lazily opened store. */
struct cli {
	const char *state_dir; /* --state, $PATCHLAB_STATE or the default */
	int verbosity;         /* -v adds, -q subtracts */
	int is_tty;            /* stderr is a terminal: show progress lines */
	struct store *store;   /* opened by cli_store(), closed by main */
	struct pl_err err;     /* the failure a handler returns */
	struct pl_progress progress;
	const char *prefix;    /* "patchlab" or "patchlab GROUP" of the running command */
};

struct cli_command;
typedef int (*cli_handler)(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);

enum cli_command_flags {
	CLI_HIDDEN = 1 << 0 /* left out of 'patchlab help' */
};

/* A row of a command table. A group has sub (a table ending in a zeroed
 * row) and no handler: 'patchlab GROUP SUB ...' dispatches into it. */
struct cli_command {
	const char *name;
	const char *summary; /* one line, lower case, no full stop */
	const char *usage;   /* the synopsis and options, as printed by --help */
	cli_handler fn;
	const struct cli_command *sub;
	unsigned flags;
};

/* The top-level table, ending in a zeroed row (commands.c). */
extern const struct cli_command cli_commands[];

/* Finds name in table, or NULL. */
const struct cli_command *cli_find(const struct cli_command *table, const char *name);

/* Runs argv[0] of table (a group's or the top level), handling --help. */
int cli_dispatch(struct cli *cli, const struct cli_command *table, const char *prefix, int argc,
		 char **argv);

/* Prints a command's usage to f: each synopsis names its group itself. */
void cli_usage(FILE *f, const struct cli_command *cmd);

/* Opens the state (which must exist unless create); kept in cli->store. */
int cli_store(struct cli *cli, struct store **out, int create);

/* Parses a --format value against the formats a command allows. */
int cli_parse_format(struct cli *cli, const char *value, unsigned allowed, int *out);

/* Records a usage error naming the command, for the caller to return. */
int cli_usage_error(struct cli *cli, const struct cli_command *cmd, const char *fmt, ...)
	PL_PRINTF(3, 4);

/* Prints a lab run's stages ({stage, seconds, ok}) and checks ({status,
 * stage, name, detail}), one a line after indent: lab boot, lab run and
 * candidate show say them the same way. */
void cli_print_stages(json_t *stages, const char *indent);
void cli_print_checks(json_t *checks, const char *indent);

/* Prints a JSON document to stdout (consumes j). */
int cli_print_json(json_t *j);

/* Handlers, one file per command group. */
int cmd_help(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_self_test(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_init(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_status(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_version_compare(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_scan(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_findings(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);

/* Sub-tables of the command groups. */
extern const struct cli_command cli_image_commands[];
extern const struct cli_command cli_lab_commands[];
extern const struct cli_command cli_candidate_commands[];
extern const struct cli_command cli_inventory_commands[];
extern const struct cli_command cli_repo_commands[];
extern const struct cli_command cli_feed_commands[];
extern const struct cli_command cli_audit_commands[];
/* Pull targets: a wave's signed apt repository, the Ansible export. */
extern const struct cli_command cli_publish_commands[];
extern const struct cli_command cli_export_commands[];
int cmd_calendar(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_bisect(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
/* The CAB's decisions and the promotion gate (cmd_approve.c). */
int cmd_approve(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_reject(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_waive(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
extern const struct cli_command cli_gate_commands[];
/* Rollout plans, waves and their execution (cmd_rollout.c). */
int cmd_schedule(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
extern const struct cli_command cli_rollout_commands[];
/* Reports, the dashboard and its users (cmd_report.c, cmd_serve.c, cmd_user.c). */
int cmd_report(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
int cmd_serve(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);
extern const struct cli_command cli_user_commands[];
/* Prints a candidate's change record (gate_change_record's JSON) and a
 * line about its lab runs, for 'candidate show'. */
void cli_print_change_record(json_t *rec, json_t *runs);

/* Checks a command table (and its sub-tables): names unique and set,
 * summary, usage and a handler or sub-table present. Returns the number of
 * problems, each printed to f. */
int cli_table_check(FILE *f, const struct cli_command *table, const char *prefix);

#endif
