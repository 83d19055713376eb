/* cmd_audit.c - 'patchlab audit list|verify'. */
#include "cli.h"

#include <getopt.h>

#include "audit/audit.h"

static int cmd_audit_list(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"since", required_argument, NULL, 's'},
	                                     {"object", required_argument, NULL, 'o'},
	                                     {"kind", required_argument, NULL, 'k'},
	                                     {"format", required_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	struct audit_filter f = {NULL, NULL, NULL};
	struct store *st;
	json_t *arr = NULL;
	int fmt = CLI_FMT_TEXT, ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			f.since = optarg;
			break;
		case 'o':
			f.object = optarg;
			break;
		case 'k':
			f.kind = optarg;
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
	if (cli_store(cli, &st, 0) < 0 || audit_list(st, &f, &arr, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(arr);
	printf("%-6s %-20s %-12s %-10s %-24s %s\n", "SEQ", "AT", "ACTOR", "ACTION", "OBJECT",
	       "DETAIL");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *e = json_array_get(arr, i);
		PL_AUTOFREE char *obj =
		    pl_strdupf("%s %s", json_string_value(json_object_get(e, "kind")),
		               json_string_value(json_object_get(e, "object")));
		PL_AUTOFREE char *detail =
		    json_dumps(json_object_get(e, "detail"), JSON_COMPACT | JSON_ENCODE_ANY);

		printf("%-6lld %-20s %-12s %-10s %-24s %s\n",
		       json_integer_value(json_object_get(e, "seq")),
		       json_string_value(json_object_get(e, "at")),
		       json_string_value(json_object_get(e, "actor")),
		       json_string_value(json_object_get(e, "action")), obj, detail ? detail : "");
	}
	json_decref(arr);
	return 0;
}

static int cmd_audit_verify(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	struct audit_verify_result r;
	struct store *st;
	int fmt = CLI_FMT_TEXT, ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch != 'f')
			return cli_usage_error(cli, cmd, "unknown option");
		else if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
			return PL_EUSAGE;
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (cli_store(cli, &st, 0) < 0)
		return cli->err.code;
	rc = audit_verify(st, &r, &cli->err);
	if (rc < 0 && rc != PL_EFAIL)
		return rc;
	if (fmt == CLI_FMT_JSON) {
		json_t *j = json_pack("{s:b, s:I, s:s}", "intact", rc == 0, "entries",
		                      (json_int_t)r.entries, "head", r.head);

		json_object_set_new(j, "anchor",
		                    r.anchored
		                        ? json_pack("{s:I, s:s}", "seq", (json_int_t)r.anchor_seq,
		                                    "hash", r.anchor_hash)
		                        : json_null());
		json_object_set_new(j, "first_bad_seq",
		                    rc ? json_integer((json_int_t)r.first_bad) : json_null());
		json_object_set_new(j, "reason", rc ? json_string(r.reason) : json_null());
		if (cli_print_json(j) < 0)
			return pl_error(&cli->err, PL_EIO, "writing standard output");
	} else if (rc == 0) {
		printf("audit log intact: %lld entries, head %s", (long long)r.entries, r.head);
		if (r.anchored)
			printf(", anchored at seq %lld", (long long)r.anchor_seq);
		printf("\n");
	}
	return rc;
}

const struct cli_command cli_audit_commands[] = {
    {"list", "list audit log entries, oldest first",
     "audit list [--since DATE] [--object NAME] [--kind KIND] [--format text|json]\n"
     "\n"
     "Every state change, with actor, time (UTC), action, object and detail:\n"
     "candidates and lab verdicts, approvals and waivers, rollouts, waves and\n"
     "targets, publishes, hosts and their package lists, users and sessions.\n"
     "--kind is the object's kind (candidate, lab-run, rollout, wave, target,\n"
     "apt-repo, host, user). --since takes YYYY-MM-DD[THH:MM[:SS]Z].",
     cmd_audit_list, NULL, 0},
    {"verify", "check the audit log's hash chain and its anchor",
     "audit verify [--format text|json]\n"
     "\n"
     "Recomputes every row's hash and the chain of prev_hash, and compares the\n"
     "newest rows with the anchor file (STATE/audit-anchor.json, or\n"
     "$PATCHLAB_AUDIT_ANCHOR). Exit 0 when intact; exit 1 naming the first bad\n"
     "seq and why: hash mismatch (a row was changed), gap in seq (a row was\n"
     "removed), prev_hash mismatch (a row was replaced), tail truncated (the\n"
     "newest rows were removed), anchor mismatch or a missing anchor.",
     cmd_audit_verify, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};
