/* cmd_report.c - 'patchlab report': the CAB's, the auditor's and CI's view. */
#include "cli.h"

#include <getopt.h>

#include "gate/gate.h"
#include "report/report.h"

int cmd_report(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"candidate", required_argument, NULL, 'c'}, {"since", required_argument, NULL, 's'},
	    {"format", required_argument, NULL, 'f'},    {"output", required_argument, NULL, 'o'},
	    {"policy", required_argument, NULL, 'p'},    {NULL, 0, NULL, 0}};
	struct report_filter f = {NULL, 0};
	const char *output = NULL, *policy = NULL;
	struct gate_policy pol;
	struct pl_buf out = PL_BUF_INIT;
	struct store *st;
	json_t *model = NULL;
	int fmt = REPORT_HTML, ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			f.candidate = optarg;
			break;
		case 's':
			if (pl_time_parse(optarg, &f.since, &cli->err) < 0)
				return pl_error(&cli->err, PL_EUSAGE,
				                "--since: '%s' is not YYYY-MM-DD[THH:MM[:SS]Z]",
				                optarg);
			if (f.since <= 0)
				f.since = 1; /* 1970-01-01 still filters */
			break;
		case 'f':
			fmt = report_format_parse(optarg);
			if (fmt < 0)
				return pl_error(
				    &cli->err, PL_EUSAGE,
				    "--format: '%s' is not one of html, json, csv, junit", optarg);
			break;
		case 'o':
			output = optarg;
			break;
		case 'p':
			policy = optarg;
			break;
		default:
			return cli_usage_error(cli, cmd, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if ((policy ? gate_policy_load(policy, &pol, &cli->err)
	            : gate_policy_default(&pol, &cli->err)) < 0)
		return cli->err.code;
	rc = cli_store(cli, &st, 0);
	if (rc == 0)
		rc = report_collect(st, &f, &pol, pl_clock_system(),
		                    cli->is_tty ? &cli->progress : NULL, &model, &cli->err);
	gate_policy_free(&pol);
	if (rc == 0)
		rc = report_render(model, fmt, &out, &cli->err);
	json_decref(model);
	if (rc == 0 && output)
		rc = pl_file_write_atomic(output, out.s ? out.s : "", out.len, 0644, &cli->err);
	else if (rc == 0 && fwrite(pl_buf_str(&out), 1, out.len, stdout) != out.len)
		rc = pl_error(&cli->err, PL_EIO, "writing standard output: %s", strerror(errno));
	if (rc == 0 && output && cli->verbosity >= 0)
		fprintf(stderr, "patchlab: wrote the %s report to '%s' (%zu bytes)\n",
		        report_format_name(fmt), output, out.len);
	pl_buf_release(&out);
	return rc;
}
