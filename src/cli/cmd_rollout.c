/* cmd_rollout.c - 'patchlab schedule' and 'patchlab rollout status|list|halt|resume|run-due'. */
#include "cli.h"

#include <getopt.h>
#include <signal.h>

#include "rollout/rollout.h"

static volatile int rollout_interrupted;

static void rollout_on_signal(int sig)
{
	(void)sig;
	rollout_interrupted = 1;
}

/* SIGINT and SIGTERM let the batch at work finish (or roll back) and stop. */
static void rollout_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rollout_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

/* ---- status ------------------------------------------------------------------------ */

static void print_window(json_t *w)
{
	json_t *win = json_object_get(w, "window");

	if (!json_is_object(win)) {
		printf("  no window (no host)\n");
		return;
	}
	printf("  window %s: %s .. %s (%s) = %s .. %s\n", jstr(win, "name"),
	       jstr(win, "start_local"), jstr(win, "end_local"), jstr(win, "tz"),
	       jstr(win, "start_utc"), jstr(win, "end_utc"));
}

static void print_status(json_t *r)
{
	json_t *waves = json_object_get(r, "waves"), *w, *un = json_object_get(r, "unassigned");
	size_t i, j;

	printf("rollout '%s': %s (candidate %s is %s)\n", jstr(r, "name"), jstr(r, "state"),
	       jstr(r, "candidate"), jstr(r, "candidate_state"));
	printf("policy %s from %s; scheduled %s, updated %s\n",
	       jstr(json_object_get(r, "policy"), "name"),
	       jstr(json_object_get(r, "policy"), "file"), jstr(r, "created_at"),
	       jstr(r, "updated_at"));
	if (json_is_string(json_object_get(r, "reason")))
		printf("reason: %s\n", jstr(r, "reason"));
	if (json_is_integer(json_object_get(r, "lock_pid")))
		printf("being worked on by pid %lld\n",
		       (long long)json_integer_value(json_object_get(r, "lock_pid")));
	json_array_foreach (waves, i, w) {
		json_t *targets = json_object_get(w, "targets"), *t;

		printf("wave %lld %s [%s] %s, %zu target(s), soak %llds%s%s\n",
		       (long long)json_integer_value(json_object_get(w, "seq")), jstr(w, "name"),
		       jstr(w, "state"), jstr(w, "executor"), json_array_size(targets),
		       (long long)json_integer_value(json_object_get(w, "min_soak_seconds")),
		       json_is_string(json_object_get(w, "soak_until")) ? " until " : "",
		       json_is_string(json_object_get(w, "soak_until")) ? jstr(w, "soak_until")
		                                                        : "");
		print_window(w);
		if (json_array_size(targets))
			printf("  %-20s %-12s %-10s %s\n", "HOST", "STATE", "VERIFIED", "DETAIL");
		json_array_foreach (targets, j, t)
			printf("  %-20s %-12s %-10s %s\n", jstr(t, "host"), jstr(t, "state"),
			       jstr(t, "verified"), jstr(t, "detail"));
	}
	if (json_array_size(un)) {
		printf("unassigned (no wave took them):");
		json_array_foreach (un, i, w)
			printf(" %s", json_string_value(w));
		printf("\n");
	}
}

/* One NAME and --format (and the options in extra, handled by fn). */
static int parse_name_format(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
                             int *fmt, const char **name)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	int ch;

	*fmt = CLI_FMT_TEXT;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'f')
			return cli_usage_error(cli, cmd, "unknown option");
		if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, fmt) < 0)
			return PL_EUSAGE;
	}
	if (name && optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one rollout name");
	if (!name && optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (name)
		*name = argv[optind];
	return 0;
}

static int cmd_rollout_status(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *name;
	struct store *st;
	json_t *r;
	int fmt;

	if (parse_name_format(cli, cmd, argc, argv, &fmt, &name) < 0 ||
	    cli_store(cli, &st, 0) < 0 || rollout_status(st, name, &r, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(r);
	print_status(r);
	json_decref(r);
	return 0;
}

static int cmd_rollout_list(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct store *st;
	json_t *arr, *r;
	size_t i;
	int fmt;

	if (parse_name_format(cli, cmd, argc, argv, &fmt, NULL) < 0 || cli_store(cli, &st, 0) < 0 ||
	    rollout_list(st, &arr, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(arr);
	if (json_array_size(arr))
		printf("%-24s %-10s %-16s %-6s %s\n", "ROLLOUT", "STATE", "POLICY", "WAVES",
		       "CURRENT WAVE");
	json_array_foreach (arr, i, r)
		printf("%-24s %-10s %-16s %-6lld %s\n", jstr(r, "name"), jstr(r, "state"),
		       jstr(r, "policy"),
		       (long long)json_integer_value(json_object_get(r, "waves")),
		       jstr(r, "current_wave"));
	json_decref(arr);
	return 0;
}

/* ---- halt and resume ----------------------------------------------------------------- */

static int halt_resume(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
                       int halt)
{
	static const struct option opts[] = {{"reason", required_argument, NULL, 'r'},
	                                     {"as", required_argument, NULL, 'a'},
	                                     {NULL, 0, NULL, 0}};
	const char *reason = NULL, *as = NULL;
	struct store *st;
	json_t *r;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'r' && halt)
			reason = optarg;
		else if (ch == 'a')
			as = optarg;
		else
			return cli_usage_error(cli, cmd, "unknown option");
	}
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one rollout name");
	if (reason && (!*reason || strchr(reason, '\n')))
		return cli_usage_error(cli, cmd, "--reason: one line of text");
	if (cli_store(cli, &st, 0) < 0)
		return cli->err.code;
	rc = halt ? rollout_halt(st, argv[optind], reason, as, pl_clock_system(), &cli->err)
	          : rollout_resume(st, argv[optind], as, pl_clock_system(), &cli->err);
	if (rc < 0 || rollout_status(st, argv[optind], &r, &cli->err) < 0)
		return cli->err.code;
	printf("rollout '%s' is %s (candidate %s is %s)\n", argv[optind], jstr(r, "state"),
	       jstr(r, "candidate"), jstr(r, "candidate_state"));
	json_decref(r);
	return 0;
}

static int cmd_rollout_halt(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	return halt_resume(cli, cmd, argc, argv, 1);
}

static int cmd_rollout_resume(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	return halt_resume(cli, cmd, argc, argv, 0);
}

/* ---- run-due -------------------------------------------------------------------------- */

static void print_run(json_t *rep)
{
	json_t *items = json_object_get(rep, "rollouts"), *it, *ev;
	size_t i, j;

	printf("run-due at %s: %zu rollout(s) looked at\n", jstr(rep, "now"),
	       json_array_size(items));
	json_array_foreach (items, i, it) {
		printf("%s: %s\n", jstr(it, "rollout"), jstr(it, "state"));
		json_array_foreach (json_object_get(it, "events"), j, ev)
			printf("  %s\n", json_string_value(ev));
	}
}

static int cmd_rollout_run_due(struct cli *cli, const struct cli_command *cmd, int argc,
                               char **argv)
{
	static const struct option opts[] = {{"rollout", required_argument, NULL, 'r'},
	                                     {"jobs", required_argument, NULL, 'j'},
	                                     {"format", required_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	struct rollout_run_opts o = {.clock = pl_clock_system(),
	                             .progress = &cli->progress,
	                             .interrupted = &rollout_interrupted};
	struct store *st;
	json_t *rep = NULL;
	int ch, fmt = CLI_FMT_TEXT, jobs = 0, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			o.only = optarg;
			break;
		case 'j':
			if (pl_parse_int(optarg, 1, 64, &jobs, "--jobs", &cli->err) < 0)
				return cli_usage_error(cli, cmd, "%s", cli->err.msg);
			break;
		case 'f':
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
				return PL_EUSAGE;
			break;
		default:
			return cli_usage_error(cli, cmd, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	o.jobs = (unsigned)jobs;
	if (cli_store(cli, &st, 0) < 0)
		return cli->err.code;
	rollout_catch_signals();
	rc = rollout_run_due(st, &o, &rep, &cli->err);
	if (rep && fmt == CLI_FMT_JSON)
		cli_print_json(rep);
	else if (rep) {
		print_run(rep);
		json_decref(rep);
	}
	return rc;
}

/* ---- schedule -------------------------------------------------------------------------- */

int cmd_schedule(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"policy", required_argument, NULL, 'p'},      {"lab", required_argument, NULL, 'l'},
	    {"gate-policy", required_argument, NULL, 'g'}, {"as", required_argument, NULL, 'a'},
	    {"format", required_argument, NULL, 'f'},      {NULL, 0, NULL, 0}};
	struct rollout_schedule_opts o = {.clock = pl_clock_system()};
	const char *policy = NULL;
	struct rollout_policy p;
	struct store *st;
	json_t *r = NULL;
	int ch, fmt = CLI_FMT_TEXT, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			policy = optarg;
			break;
		case 'l':
			o.lab_file = optarg;
			break;
		case 'g':
			o.gate_file = optarg;
			break;
		case 'a':
			o.actor = optarg;
			break;
		case 'f':
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
				return PL_EUSAGE;
			break;
		default:
			return cli_usage_error(cli, cmd, "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one candidate name");
	rc = policy ? rollout_policy_load(policy, &p, &cli->err)
	            : rollout_policy_default(&p, &cli->err);
	if (rc < 0)
		return rc;
	o.policy = &p;
	rc = cli_store(cli, &st, 0);
	if (rc == 0)
		rc = rollout_schedule(st, argv[optind], &o, &r, &cli->err);
	rollout_policy_free(&p);
	if (rc < 0)
		return rc;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(r);
	print_status(r);
	json_decref(r);
	return 0;
}

const struct cli_command cli_rollout_commands[] = {
    {"status", "show a rollout: its waves, hosts, windows and states",
     "rollout status NAME [--format text|json]\n"
     "\n"
     "Every wave (executor, window in local time and UTC, soak, thresholds,\n"
     "state) and every target (state, attempts, snapshot, the post-deploy\n"
     "audit of its installed versions, detail; in JSON also the checks).",
     cmd_rollout_status, NULL, 0},
    {"list", "list the rollouts and where each stands", "rollout list [--format text|json]",
     cmd_rollout_list, NULL, 0},
    {"halt", "halt a rollout (and its candidate): nothing more is applied",
     "rollout halt NAME [--reason TEXT] [--as USER]\n"
     "\n"
     "A scheduled or running rollout stops: a run-due at work finishes the\n"
     "targets it is patching (or rolls them back) and starts no more. Audited.",
     cmd_rollout_halt, NULL, 0},
    {"resume", "resume a halted rollout",
     "rollout resume NAME [--as USER]\n"
     "\n"
     "The failed and rolled-back targets of the wave that halted become pending\n"
     "again, the rollout running (scheduled when no wave had started); the next\n"
     "run-due takes it on, moving a wave whose window passed into the next one.",
     cmd_rollout_resume, NULL, 0},
    {"run-due", "execute the waves that are due now (for cron or a systemd timer)",
     "rollout run-due [--rollout NAME] [--jobs N] [--format text|json]\n"
     "\n"
     "For each rollout not halted (or only NAME): drops the snapshots of targets\n"
     "whose wave's soak is over, then executes the next wave when its window is\n"
     "open (PATCHLAB_NOW pins the clock) and the wave before it succeeded and\n"
     "soaked; a wave whose window passed moves to the next window. libvirt\n"
     "targets: graceful shutdown, qcow2 overlay snapshot, the patches offline,\n"
     "a smoke boot with the lab's agent judged by the gate policy, then started\n"
     "again or rolled back to the snapshot; N targets at a time (default 2).\n"
     "apt-repo waves publish the candidate in the wave's signed repository,\n"
     "ansible waves write their export. After a wave every libvirt target is\n"
     "inspected again (installed versions). A failure rate above the wave's\n"
     "halt rate halts the rollout. Safe to re-run: a lock per rollout, only\n"
     "pending targets are applied, a dead run's targets are rolled back first.\n"
     "Exit 0; 1 when a rollout halted or a target failed; 2 or 3 on errors.",
     cmd_rollout_run_due, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};
