/* cmd_export.c - 'patchlab export ansible': a wave for fleets outside libvirt. */
#include "cli.h"

#include <getopt.h>
#include <math.h>

#include "rollout/rollout.h"

static int cmd_export_ansible(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"candidate", required_argument, NULL, 'c'},
	    {"wave", required_argument, NULL, 'w'},
	    {"host", required_argument, NULL, 'h'},
	    {"role", required_argument, NULL, 'r'},
	    {"environment", required_argument, NULL, 'e'},
	    {"tag", required_argument, NULL, 't'},
	    {"lab", required_argument, NULL, 'l'},
	    {"out", required_argument, NULL, 'o'},
	    {"serial", required_argument, NULL, 's'},
	    {"halt-rate", required_argument, NULL, 'H'},
	    {"repo-url", required_argument, NULL, 'u'},
	    {"suite", required_argument, NULL, 'S'},
	    {"component", required_argument, NULL, 'C'},
	    {"keyring", required_argument, NULL, 'k'},
	    {"format", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	struct rollout_ansible_request q = {0};
	const char **hosts = NULL;
	size_t nhosts = 0;
	struct store *st;
	json_t *res = NULL;
	char *end;
	int c, fmt = CLI_FMT_TEXT, rc = 0;

	q.halt_failure_rate = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			q.candidate = optarg;
			break;
		case 'w':
			q.wave = optarg;
			break;
		case 'h':
			hosts = pl_realloc(hosts, (nhosts + 2) * sizeof(*hosts));
			hosts[nhosts++] = optarg;
			hosts[nhosts] = NULL;
			break;
		case 'r':
			q.role = optarg;
			break;
		case 'e':
			q.environment = optarg;
			break;
		case 't':
			q.tag = optarg;
			break;
		case 'l':
			q.lab_file = optarg;
			break;
		case 'o':
			q.outdir = optarg;
			break;
		case 's':
			q.serial = optarg;
			break;
		case 'H':
			errno = 0;
			q.halt_failure_rate = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(q.halt_failure_rate) ||
			    q.halt_failure_rate < 0 || q.halt_failure_rate > 1)
				rc = pl_error(&cli->err, PL_EUSAGE,
				              "--halt-rate '%s': a share between 0 and 1", optarg);
			break;
		case 'u':
			q.repo_url = optarg;
			break;
		case 'S':
			q.repo_suite = optarg;
			break;
		case 'C':
			q.repo_component = optarg;
			break;
		case 'k':
			q.repo_keyring = optarg;
			break;
		case 'f':
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
				rc = PL_EUSAGE;
			break;
		default:
			rc = cli_usage_error(cli, cmd, "unknown option");
			break;
		}
	}
	if (rc == 0 && optind != argc)
		rc = cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (rc == 0 && (!q.candidate || !q.wave || !q.outdir))
		rc = cli_usage_error(cli, cmd, "--candidate, --wave and --out are needed");
	if (rc == 0 && !q.repo_url && (q.repo_suite || q.repo_component || q.repo_keyring))
		rc = cli_usage_error(cli, cmd,
		                     "--suite, --component and --keyring go with --repo-url");
	q.hosts = hosts;
	if (rc == 0)
		rc = cli_store(cli, &st, 0);
	if (rc == 0)
		rc = rollout_ansible_export_candidate(st, &q, &res, &cli->err);
	free(hosts);
	if (rc < 0)
		return rc;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(res);
	printf("exported wave %s of %s to %s: %zu host(s), %lld package(s), %s\n", q.wave,
	       q.candidate, q.outdir, json_array_size(json_object_get(res, "hosts")),
	       json_integer_value(json_object_get(res, "packages")),
	       q.repo_url ? "from the wave repository" : "the .debs copied");
	printf("  run: ansible-playbook -i %s/inventory.yml %s/playbook.yml\n", q.outdir, q.outdir);
	json_decref(res);
	return 0;
}

const struct cli_command cli_export_commands[] = {
    {"ansible", "an Ansible inventory and playbook for one wave of an approved candidate",
     "export ansible --candidate NAME --wave NAME --out DIR\n"
     "     (--host NAME ... | [--role R] [--environment E] [--tag T])\n"
     "     [--lab FILE] [--serial N|N%] [--halt-rate R]\n"
     "     [--repo-url URL --suite S [--component C] --keyring FILE] [--format text|json]\n"
     "\n"
     "Writes DIR/inventory.yml (group patchlab_WAVE, ansible_host from the\n"
     "inventory's ip) and DIR/playbook.yml: install exactly the candidate's\n"
     "approved versions (allow_downgrade), assert them with package_facts, then\n"
     "the lab file's smoke checks (services, ports, files, commands; default: the\n"
     "built-in lab). With --repo-url the hosts get the wave repository ('publish\n"
     "wave') and its --keyring; without, the .debs are copied into DIR/files and\n"
     "their SHA-256 checked on each host. --serial (default 100%) is the batch\n"
     "size, --halt-rate (default 0) becomes max_fail_percentage. Values are\n"
     "YAML-quoted and tagged !unsafe. DIR is replaced only if it is an export.",
     cmd_export_ansible, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};
