/* cmd_candidate.c - 'patchlab candidate create|list|show|propose'. */
#include "cli.h"

#include <getopt.h>

#include "candidate/candidate.h"
#include "risk/risk.h"
#include "gate/gate.h"
#include "lab/lab.h"

static int cmd_candidate_create(struct cli *cli, const struct cli_command *cmd, int argc,
				char **argv)
{
	static const struct option opts[] = {{"deb", required_argument, NULL, 'd'},
					     {"format", required_argument, NULL, 'f'},
					     {NULL, 0, NULL, 0}};
	char **debs = pl_calloc((size_t)argc + 1, sizeof(char *));
	struct candidate c;
	struct store *st;
	size_t n = 0;
	int fmt = CLI_FMT_TEXT, ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'd')
			debs[n++] = optarg;
		else if (ch == 'f' &&
			 cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) == 0)
			continue;
		else {
			free(debs);
			return ch == 'f' ? PL_EUSAGE : cli_usage_error(cli, cmd, "unknown option");
		}
	}
	if (optind != argc - 1 || n == 0) {
		free(debs);
		return cli_usage_error(cli, cmd, "expected NAME and at least one --deb FILE");
	}
	rc = cli_store(cli, &st, 0);
	if (rc == 0)
		rc = candidate_create(st, argv[optind], debs, n, &c, &cli->err);
	free(debs);
	if (rc < 0)
		return rc;
	if (fmt == CLI_FMT_JSON)
		rc = cli_print_json(candidate_to_json(&c));
	else {
		printf("created candidate '%s' with %zu patch(es):\n", c.name, c.npatches);
		for (size_t i = 0; i < c.npatches; i++)
			printf("  %-28s %-24s %-6s %.16s\n", c.patches[i].package,
			       c.patches[i].version, c.patches[i].arch, c.patches[i].sha256);
	}
	candidate_clear(&c);
	return rc;
}

/* --format, and --policy FILE where policy is not NULL (show). */
static int cand_format_only(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
			    int *fmt, const char **policy)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
					     {"policy", required_argument, NULL, 'p'},
					     {NULL, 0, NULL, 0}};
	int ch;

	*fmt = CLI_FMT_TEXT;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch == 'p' && policy)
			*policy = optarg;
		else if (ch != 'f')
			return cli_usage_error(cli, cmd, "unknown option");
		else if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, fmt) < 0)
			return PL_EUSAGE;
	return 0;
}

static int cmd_candidate_list(struct cli *cli, const struct cli_command *cmd, int argc,
			      char **argv)
{
	struct store *st;
	json_t *arr = NULL, *v;
	size_t i;
	int fmt;

	if (cand_format_only(cli, cmd, argc, argv, &fmt, NULL) < 0)
		return cli->err.code;
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (cli_store(cli, &st, 0) < 0 || candidate_list(st, &arr, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(arr);
	printf("%-28s %-12s %-8s %-8s %s\n", "NAME", "STATE", "PATCHES", "VERDICT", "UPDATED");
	json_array_foreach(arr, i, v)
		printf("%-28s %-12s %-8lld %-8s %s\n", json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "state")),
		       json_integer_value(json_object_get(v, "patches")),
		       json_string_value(json_object_get(v, "last_verdict")) ?: "-",
		       json_string_value(json_object_get(v, "updated_at")));
	json_decref(arr);
	return 0;
}

static void cand_print(json_t *j)
{
	json_t *v;
	size_t i;

	printf("candidate: %s\nstate:     %s\npatches:\n", json_string_value(json_object_get(j, "name")),
	       json_string_value(json_object_get(j, "state")));
	json_array_foreach(json_object_get(j, "patches"), i, v)
		printf("  %-28s %-24s %-6s sha256 %.16s...\n",
		       json_string_value(json_object_get(v, "package")),
		       json_string_value(json_object_get(v, "version")),
		       json_string_value(json_object_get(v, "arch")),
		       json_string_value(json_object_get(v, "sha256")));
	/* one page: the change record; every run's stages and checks are in JSON */
	cli_print_change_record(json_object_get(j, "change_record"),
				json_object_get(j, "lab_runs"));
}

static int cmd_candidate_show(struct cli *cli, const struct cli_command *cmd, int argc,
			      char **argv)
{
	struct candidate c;
	struct store *st;
	struct gate_policy pol;
	json_t *j, *runs = NULL, *rec = NULL;
	const char *policy = NULL;
	int fmt, rc;

	if (cand_format_only(cli, cmd, argc, argv, &fmt, &policy) < 0)
		return cli->err.code;
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected a candidate name");
	if ((policy ? gate_policy_load(policy, &pol, &cli->err)
		    : gate_policy_default(&pol, &cli->err)) < 0)
		return cli->err.code;
	rc = cli_store(cli, &st, 0);
	if (rc == 0)
		rc = candidate_get(st, argv[optind], &c, &cli->err);
	if (rc < 0) {
		gate_policy_free(&pol);
		return rc;
	}
	rc = lab_candidate_runs(st, c.id, &runs, &cli->err);
	if (rc == 0) /* the change record: evidence, requirements, decisions */
		rc = gate_change_record(st, &c, &pol, pl_clock_system(), &rec, &cli->err);
	gate_policy_free(&pol);
	if (rc < 0) {
		json_decref(runs);
		json_decref(rec);
		candidate_clear(&c);
		return rc;
	}
	j = candidate_to_json(&c);
	json_object_set_new(j, "lab_runs", runs);
	json_object_set_new(j, "change_record", rec);
	candidate_clear(&c);
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(j);
	cand_print(j);
	json_decref(j);
	return 0;
}

/* candidate propose NAME --min-priority P [--host H | --role R] [--dry-run] */
static int cmd_candidate_propose(struct cli *cli, const struct cli_command *cmd, int argc,
                                 char **argv)
{
	static const struct option opts[] = {
	    {"min-priority", required_argument, NULL, 'p'}, {"host", required_argument, NULL, 'H'},
	    {"role", required_argument, NULL, 'r'},         {"dry-run", no_argument, NULL, 'n'},
	    {"format", required_argument, NULL, 'f'},       {NULL, 0, NULL, 0}};
	struct candidate_propose_opts o = {.progress = &cli->progress};
	PL_AUTOJSON json_t *res = NULL;
	const char *minp = NULL;
	struct store *st;
	int fmt = CLI_FMT_TEXT, ch;
	size_t i;
	json_t *p;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'p')
			minp = optarg;
		else if (ch == 'H')
			o.host = optarg;
		else if (ch == 'r')
			o.role = optarg;
		else if (ch == 'n')
			o.dry_run = 1;
		else if (ch != 'f')
			return cli_usage_error(cli, cmd, "unknown option");
		else if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
			return PL_EUSAGE;
	}
	if (optind != argc - 1 || !minp)
		return cli_usage_error(cli, cmd, "expected NAME and --min-priority P");
	if (o.host && o.role)
		return cli_usage_error(cli, cmd, "give --host or --role, not both");
	if (risk_priority_parse(minp, &o.min_priority, "--min-priority", &cli->err) < 0)
		return cli->err.code;
	if (cli_store(cli, &st, 0) < 0 ||
	    candidate_propose(st, argv[optind], &o, &res, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(json_incref(res));
	printf("%s candidate '%s': %lld patch(es) for %lld finding(s) on %lld host(s), priority "
	       "%d (%s) or more\n",
	       o.dry_run ? "would create" : "created", argv[optind],
	       (long long)json_array_size(json_object_get(res, "patches")),
	       json_integer_value(json_object_get(res, "findings")),
	       json_integer_value(json_object_get(res, "hosts")), o.min_priority,
	       json_string_value(json_object_get(res, "min_level")));
	json_array_foreach (json_object_get(res, "patches"), i, p)
		printf("  %-28s %-24s %-6s %4lld finding(s)  %.16s\n",
		       json_string_value(json_object_get(p, "package")),
		       json_string_value(json_object_get(p, "version")),
		       json_string_value(json_object_get(p, "arch")),
		       json_integer_value(json_object_get(p, "findings")),
		       json_string_value(json_object_get(p, "sha256")));
	return 0;
}

const struct cli_command cli_candidate_commands[] = {
    {"create", "create a candidate from .deb files",
     "candidate create NAME --deb FILE [--deb FILE ...] [--format text|json]\n"
     "\n"
     "Stores each .deb in the patch store (content-addressed by SHA-256) and\n"
     "creates candidate NAME in state 'new', all in one transaction.",
     cmd_candidate_create, NULL, 0},
    {"list", "list the candidates", "candidate list [--format text|json]", cmd_candidate_list, NULL,
     0},
    {"show", "show a candidate, its patches and its change record",
     "candidate show NAME [--policy FILE] [--format text|json]\n"
     "\n"
     "The state, the patches and the change record: the latest lab run per\n"
     "image with its check counts, failed checks and evidence directory, every\n"
     "promotion requirement of the policy (built-in policies/default.json\n"
     "unless --policy) with its state, the approvals, waivers and rejections.\n"
     "JSON adds every lab run with its stages and checks (\"lab_runs\").",
     cmd_candidate_show, NULL, 0},
    {"propose", "a candidate from the open findings at or above a priority",
     "candidate propose NAME --min-priority P [--host H | --role R] [--dry-run]\n"
     "     [--format text|json]\n"
     "\n"
     "Takes the open findings of the last 'patchlab scan' (of host H, or of the\n"
     "hosts of role R) whose priority is P or more (P1..P4, critical, high,\n"
     "medium, low, or a score 0-100), one patch per package, candidate version\n"
     "and architecture. Each .deb is located in the synced indexes, downloaded\n"
     "and checked against the signed index (size and SHA-256: a tampered file is\n"
     "refused, nothing is added), stored in the patch store by its SHA-256; the\n"
     "candidate and which findings it addresses are created in one transaction.\n"
     "--dry-run locates the .debs and downloads nothing. Exit 2 when no finding\n"
     "matches, saying why. Dependencies are not added: the lab's apply check\n"
     "catches an update that needs one.",
     cmd_candidate_propose, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};
