/* cmd_findings.c - 'patchlab findings': what the database scan found, by
 * priority, and a host's unfixed CVEs. */
#include "cli.h"

#include <getopt.h>

#include "detect/detect.h"
#include "risk/risk.h"

/* "CVE-1,CVE-2,+3": the first two CVEs and how many more. */
static void cves_text(json_t *cves, char *out, size_t size)
{
	size_t n = json_array_size(cves), o = 0;

	out[0] = '\0';
	if (n == 0) {
		snprintf(out, size, "-");
		return;
	}
	for (size_t i = 0; i < n && i < 2 && o < size; i++)
		o += (size_t)snprintf(out + o, size - o, "%s%s", i ? "," : "",
		                      json_string_value(json_array_get(cves, i)));
	if (n > 2 && o < size)
		snprintf(out + o, size - o, ",+%zu", n - 2);
}

static const char *str_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static void findings_text(json_t *arr, int state)
{
	size_t i;
	json_t *f;

	if (json_array_size(arr) == 0) {
		printf("no %sfindings\n", state == DETECT_FINDINGS_OPEN ? "open " : "");
		return;
	}
	printf("%4s %-3s %-16s %-24s %-6s %-22s %-22s %-11s %4s %6s %-3s %s\n", "PRIO", "LVL",
	       "HOST", "PACKAGE", "ARCH", "INSTALLED", "CANDIDATE", "SEVERITY", "CVSS", "EPSS",
	       "KEV", state == DETECT_FINDINGS_OPEN ? "CVES" : "CVES / RESOLVED");
	json_array_foreach (arr, i, f) {
		char cves[64], cvss[8] = "-", epss[12] = "-";
		json_t *c = json_object_get(f, "cvss"), *e = json_object_get(f, "epss");

		cves_text(json_object_get(f, "cves"), cves, sizeof(cves));
		if (json_is_number(c))
			snprintf(cvss, sizeof(cvss), "%.1f", json_number_value(c));
		if (json_is_number(e))
			snprintf(epss, sizeof(epss), "%.3f", json_number_value(e));
		printf("%4lld %-3s %-16s %-24s %-6s %-22s %-22s %-11s %4s %6s %-3s %s%s%s\n",
		       json_integer_value(json_object_get(f, "priority")), str_or(f, "level", "-"),
		       str_or(f, "host", "-"), str_or(f, "package", "-"), str_or(f, "arch", "-"),
		       str_or(f, "installed", "-"), str_or(f, "candidate", "-"),
		       str_or(f, "severity", "-"), cvss, epss,
		       json_is_true(json_object_get(f, "kev")) ? "yes" : "-", cves,
		       json_is_string(json_object_get(f, "resolved_at")) ? " resolved " : "",
		       str_or(f, "resolved_at", ""));
	}
}

static void unfixed_text(json_t *arr)
{
	size_t i;
	json_t *u;

	if (json_array_size(arr) == 0) {
		printf("no open or undetermined CVEs\n");
		return;
	}
	printf("%-24s %-24s %-18s %-13s %s\n", "SOURCE", "PACKAGE", "CVE", "STATUS", "URGENCY");
	json_array_foreach (arr, i, u)
		printf("%-24s %-24s %-18s %-13s %s\n", str_or(u, "source", "-"),
		       str_or(u, "package", "-"), str_or(u, "cve", "-"), str_or(u, "status", "-"),
		       str_or(u, "urgency", "-"));
}

int cmd_findings(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"host", required_argument, NULL, 'H'},
	                                     {"role", required_argument, NULL, 'r'},
	                                     {"top", required_argument, NULL, 't'},
	                                     {"min-priority", required_argument, NULL, 'p'},
	                                     {"resolved", no_argument, NULL, 'R'},
	                                     {"all", no_argument, NULL, 'a'},
	                                     {"unfixed", no_argument, NULL, 'u'},
	                                     {"format", required_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	struct detect_findings_query q = {.state = DETECT_FINDINGS_OPEN};
	json_t *arr = NULL;
	struct store *st;
	int fmt = CLI_FMT_TEXT, ch, unfixed = 0, top;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'H':
			q.host = optarg;
			break;
		case 'r':
			q.role = optarg;
			break;
		case 't':
			if (pl_parse_int(optarg, 1, 1000000000, &top, "--top", &cli->err) < 0)
				return PL_EUSAGE;
			q.top = (size_t)top;
			break;
		case 'p':
			if (risk_priority_parse(optarg, &q.min_priority, "--min-priority",
			                        &cli->err) < 0)
				return cli->err.code;
			break;
		case 'R':
			q.state = DETECT_FINDINGS_RESOLVED;
			break;
		case 'a':
			q.state = DETECT_FINDINGS_ALL;
			break;
		case 'u':
			unfixed = 1;
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
	if (unfixed && !q.host)
		return cli_usage_error(cli, cmd, "--unfixed needs --host H");
	if (cli_store(cli, &st, 0) < 0)
		return cli->err.code;
	q.factors = fmt == CLI_FMT_JSON;
	if (unfixed ? detect_findings_unfixed(st, q.host, &arr, &cli->err) < 0
	            : detect_findings_list(st, &q, &arr, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(arr);
	if (unfixed)
		unfixed_text(arr);
	else
		findings_text(arr, q.state);
	json_decref(arr);
	if (fflush(stdout) != 0 || ferror(stdout))
		return pl_error(&cli->err, PL_EIO, "writing the output: %s", strerror(errno));
	return 0;
}
