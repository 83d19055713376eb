/* main.c - global options, dispatch, and the one place errors are printed. */
#include "cli.h"

#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>

#ifndef PATCHLAB_VERSION
#define PATCHLAB_VERSION "0.0.0"
#endif

static const char main_usage[] =
	"usage: patchlab [--state DIR] [-v|-q] COMMAND [ARGS]\n"
	"       patchlab --version | --help\n";

static char *main_default_state(void)
{
	const char *env = getenv("PATCHLAB_STATE");
	const char *home = getenv("HOME");

	if (env && *env)
		return pl_strdup(env);
	if (geteuid() == 0)
		return pl_strdup("/var/lib/patchlab");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(geteuid());

		home = pw ? pw->pw_dir : "/tmp";
	}
	return pl_strdupf("%s/.local/share/patchlab", home);
}

static void progress_stage(void *ctx, const char *stage, const char *detail)
{
	struct cli *cli = ctx;

	if (cli->verbosity < 0)
		return;
	fprintf(stderr, "%s %s%s%s\n", cli->is_tty ? "\033[1m==>\033[0m" : "==>", stage,
		*detail ? ": " : "", detail);
}

static void progress_done(void *ctx, const char *stage, int rc, double secs)
{
	struct cli *cli = ctx;

	if (cli->verbosity < 0)
		return;
	fprintf(stderr, "    %s %s in %.1f s\n", stage, rc == 0 ? "done" : "FAILED", secs);
}

static int main_report(struct cli *cli, int rc)
{
	if (rc >= 0)
		return PL_EXIT_OK;
	if (rc == PL_EFAIL) {
		/* A failed verdict is a result, said once like any error. */
		if (cli->err.msg[0] && cli->verbosity >= 0)
			fprintf(stderr, "patchlab: %s\n", cli->err.msg);
	} else {
		fprintf(stderr, "patchlab: error: %s\n",
			cli->err.msg[0] ? cli->err.msg : pl_code_name(rc));
	}
	return pl_exit_code(rc);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"state", required_argument, NULL, 's'}, {"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},       {"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
	};
	struct cli cli = {0};
	PL_AUTOFREE char *state = NULL;
	int c, rc;

	signal(SIGPIPE, SIG_IGN);
	cli.is_tty = isatty(STDERR_FILENO);
	/* '+' stops at the command name: the rest is the command's. */
	while ((c = getopt_long(argc, argv, "+s:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			free(state);
			state = pl_strdup(optarg);
			break;
		case 'v':
			cli.verbosity++;
			break;
		case 'q':
			cli.verbosity--;
			break;
		case 'V':
			printf("patchlab %s\n", PATCHLAB_VERSION);
			return PL_EXIT_OK;
		case 'h':
			fputs(main_usage, stdout);
			cmd_help(&cli, NULL, 0, NULL);
			return PL_EXIT_OK;
		default:
			fputs(main_usage, stderr);
			return PL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(main_usage, stderr);
		fputs("run 'patchlab help' for the list of commands\n", stderr);
		return PL_EXIT_USAGE;
	}
	pl_log_level = PL_LOG_WARN + cli.verbosity;
	if (pl_log_level < PL_LOG_ERROR)
		pl_log_level = PL_LOG_ERROR;
	if (!state)
		state = main_default_state();
	cli.state_dir = state;
	cli.progress = (struct pl_progress){progress_stage, progress_done, &cli};
	rc = cli_dispatch(&cli, cli_commands, "patchlab", argc - optind, argv + optind);
	rc = main_report(&cli, rc);
	store_close(cli.store);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "patchlab: error: writing standard output: %s\n", strerror(errno));
		return PL_EXIT_ENV;
	}
	return rc;
}
