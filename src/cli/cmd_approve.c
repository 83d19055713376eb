/* cmd_approve.c - 'patchlab approve|reject|waive' and 'patchlab gate status|promote':
 * the CAB's decisions and the promotion gate, and the change record that
 * 'candidate show' prints. */
#include "cli.h"

#include <getopt.h>

#include "candidate/candidate.h"
#include "gate/gate.h"

/* Options the decision commands share. */
struct approve_args {
	const char *as, *role, *note, *check, *policy;
	int fmt;
};

static int approve_parse(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
                         struct approve_args *a, const char *need)
{
	static const struct option opts[] = {
	    {"as", required_argument, NULL, 'a'},     {"role", required_argument, NULL, 'r'},
	    {"note", required_argument, NULL, 'n'},   {"reason", required_argument, NULL, 'R'},
	    {"check", required_argument, NULL, 'c'},  {"policy", required_argument, NULL, 'p'},
	    {"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	int ch;

	memset(a, 0, sizeof(*a));
	a->fmt = CLI_FMT_TEXT;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char **slot = ch == 'a'   ? &a->as
		                    : ch == 'r' ? &a->role
		                    : ch == 'n' ? &a->note
		                    : ch == 'R' ? &a->note
		                    : ch == 'c' ? &a->check
		                    : ch == 'p' ? &a->policy
		                                : NULL;

		if (ch == 'f') {
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &a->fmt) < 0)
				return PL_EUSAGE;
		} else if (!slot || !strchr(need, ch)) {
			return cli_usage_error(cli, cmd, "unknown option");
		} else if (*slot) {
			const struct option *o = opts;

			while (o->val != ch)
				o++;
			return cli_usage_error(cli, cmd, "--%s given twice", o->name);
		} else {
			*slot = optarg;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one candidate name");
	return 0;
}

/* --policy FILE, else the built-in policies/default.json. */
static int approve_policy(struct cli *cli, const char *file, struct gate_policy *p)
{
	return file ? gate_policy_load(file, p, &cli->err) : gate_policy_default(p, &cli->err);
}

static void print_open_reqs(const struct gate_decision *d)
{
	for (size_t i = 0; i < d->nreqs; i++)
		if (d->reqs[i].state != GATE_REQ_SATISFIED && d->reqs[i].state != GATE_REQ_WAIVED)
			printf("  %-9s %-20s %s\n", gate_req_state_name(d->reqs[i].state),
			       d->reqs[i].name, d->reqs[i].detail);
}

static void print_outcome(const struct gate_outcome *o)
{
	if (o->moved)
		printf("'%s' is now %s: every requirement is met\n", o->candidate, o->to);
	else if (strcmp(o->to, "rejected") == 0)
		printf("'%s' is now rejected\n", o->candidate);
	else {
		printf("'%s' stays %s; still needed:\n", o->candidate, o->to);
		print_open_reqs(&o->decision);
	}
}

enum approve_kind { APPROVE, REJECT, WAIVE };

static int approve_run(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
                       enum approve_kind kind)
{
	static const char *const need[] = {"arnp", "arnp", "acRp"};
	static const char *const verb[] = {"approve", "reject", "waive"};
	struct approve_args a;
	struct gate_policy p;
	struct gate_outcome o;
	struct store *st;
	PL_AUTOFREE char *role = NULL; /* the policy's default, outliving the policy */
	const char *name;
	int rc;

	if (approve_parse(cli, cmd, argc, argv, &a, need[kind]) < 0)
		return cli->err.code;
	name = argv[optind];
	if (!a.as || !a.note || (kind == WAIVE && !a.check))
		return cli_usage_error(cli, cmd, "%s needs --as USER, %s TEXT%s", verb[kind],
		                       kind == WAIVE ? "--reason" : "--note",
		                       kind == WAIVE ? " and --check CHECK" : "");
	if (approve_policy(cli, a.policy, &p) < 0)
		return cli->err.code;
	if (!a.role && p.promotion)
		a.role = role = pl_strdup(p.promotion->roles[0]);
	rc = cli_store(cli, &st, 0);
	if (rc == 0 && kind == APPROVE)
		rc = gate_approve(st, name, &p, pl_clock_system(), a.as, a.role, a.note, &o,
		                  &cli->err);
	else if (rc == 0 && kind == REJECT)
		rc = gate_reject(st, name, &p, pl_clock_system(), a.as, a.role, a.note, &o,
		                 &cli->err);
	else if (rc == 0)
		rc = gate_waive(st, name, &p, pl_clock_system(), a.check, a.as, a.note, &o,
		                &cli->err);
	gate_policy_free(&p);
	if (rc < 0)
		return rc;
	if (a.fmt == CLI_FMT_JSON) {
		rc = cli_print_json(gate_outcome_to_json(&o, verb[kind]));
	} else {
		if (kind == WAIVE)
			printf("recorded: %s waives %s for '%s'\n", a.as, a.check, name);
		else
			printf("recorded: %s %ss '%s' as %s\n", a.as, verb[kind], name, a.role);
		print_outcome(&o);
	}
	gate_outcome_clear(&o);
	return rc;
}

int cmd_approve(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	return approve_run(cli, cmd, argc, argv, APPROVE);
}

int cmd_reject(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	return approve_run(cli, cmd, argc, argv, REJECT);
}

int cmd_waive(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	return approve_run(cli, cmd, argc, argv, WAIVE);
}

static void print_decision(const struct gate_decision *d)
{
	printf("candidate '%s', policy '%s', at %s: %s\n", d->candidate, d->policy, d->at,
	       d->promotable ? "may be promoted" : "may NOT be promoted");
	for (size_t i = 0; i < d->nreqs; i++)
		printf("  %-9s %-20s %s\n", gate_req_state_name(d->reqs[i].state), d->reqs[i].name,
		       d->reqs[i].detail);
}

static int cmd_gate_status(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct approve_args a;
	struct gate_policy p;
	struct gate_decision d = {0};
	struct candidate c;
	struct store *st;
	int rc;

	if (approve_parse(cli, cmd, argc, argv, &a, "p") < 0)
		return cli->err.code;
	if (approve_policy(cli, a.policy, &p) < 0)
		return cli->err.code;
	rc = cli_store(cli, &st, 0);
	if (rc == 0)
		rc = candidate_get(st, argv[optind], &c, &cli->err);
	if (rc == 0) {
		rc = gate_promotion_evaluate(st, &c, &p, pl_clock_system(), &d, &cli->err);
		candidate_clear(&c);
	}
	gate_policy_free(&p);
	if (rc == 0) {
		if (a.fmt == CLI_FMT_JSON)
			cli_print_json(gate_decision_to_json(&d));
		else
			print_decision(&d);
		if (!d.promotable) {
			size_t open = 0;

			for (size_t i = 0; i < d.nreqs; i++)
				open += d.reqs[i].state != GATE_REQ_SATISFIED &&
				        d.reqs[i].state != GATE_REQ_WAIVED;
			rc = pl_error(&cli->err, PL_EFAIL,
			              "'%s' may not be promoted: %zu of %zu requirements not met",
			              d.candidate, open, d.nreqs);
		}
	}
	gate_decision_clear(&d);
	return rc;
}

static int cmd_gate_promote(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct approve_args a;
	struct gate_policy p;
	struct gate_outcome o;
	struct store *st;
	int rc;

	if (approve_parse(cli, cmd, argc, argv, &a, "ap") < 0)
		return cli->err.code;
	if (approve_policy(cli, a.policy, &p) < 0)
		return cli->err.code;
	rc = cli_store(cli, &st, 0);
	if (rc == 0)
		rc = gate_promote(st, argv[optind], &p, pl_clock_system(), a.as, &o, &cli->err);
	gate_policy_free(&p);
	if (rc < 0)
		return rc;
	if (a.fmt == CLI_FMT_JSON)
		rc = cli_print_json(gate_outcome_to_json(&o, "promote"));
	else
		print_outcome(&o);
	gate_outcome_clear(&o);
	return rc;
}

const struct cli_command cli_gate_commands[] = {
    {"status", "may a candidate be promoted? every requirement with its state",
     "gate status NAME [--policy FILE] [--format text|json]\n"
     "\n"
     "Decides under the policy's \"promotion\" object (policies/default.json,\n"
     "built in, unless --policy) and lists each requirement as satisfied,\n"
     "waiting, missing, failed or waived. Exit 0 when it may be promoted, 1\n"
     "when not; an error while deciding is a no.",
     cmd_gate_status, NULL, 0},
    {"promote", "move a passed candidate to approved once every requirement is met",
     "gate promote NAME [--as USER] [--policy FILE] [--format text|json]\n"
     "\n"
     "For a candidate whose approvals are in but that waited for its soak\n"
     "time: moves it to approved now if every requirement is met (exit 0),\n"
     "else names what is missing (exit 1).",
     cmd_gate_promote, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};

/* ---- the change record in 'candidate show' -------------------------------- */

static void record_print_evidence(json_t *ev)
{
	json_t *e, *v;
	size_t i, k;

	printf("lab evidence (latest run per image):\n");
	if (!json_array_size(ev))
		printf("  none\n");
	json_array_foreach (ev, i, e) {
		json_t *n = json_object_get(e, "checks");
		json_t *failed = json_object_get(e, "failed_checks");
		json_t *missing = json_object_get(e, "missing_checks");

		printf("  %-14s run %s %-5s %s  checks: %lld passed, %zu failed",
		       json_string_value(json_object_get(e, "image")),
		       json_string_value(json_object_get(e, "run")),
		       json_string_value(json_object_get(e, "verdict")) ?: "-",
		       json_string_value(json_object_get(e, "ended_at"))
		           ?: json_string_value(json_object_get(e, "started_at")),
		       json_integer_value(json_object_get(n, "pass")), json_array_size(failed));
		json_array_foreach (failed, k, v)
			printf("%s%s", k ? ", " : ": ", json_string_value(v));
		if (json_array_size(missing))
			printf("; %zu missing", json_array_size(missing));
		printf("\n");
		if (json_string_value(json_object_get(e, "evidence_dir")))
			printf("  %-14s evidence %s\n", "",
			       json_string_value(json_object_get(e, "evidence_dir")));
	}
}

static void record_print_acts(json_t *rec)
{
	json_t *v;
	size_t i;

	json_array_foreach (json_object_get(rec, "approvals"), i, v)
		printf("%s  %s %s (%s): %s%s\n", i ? "" : "approvals:\n",
		       json_string_value(json_object_get(v, "at")),
		       json_string_value(json_object_get(v, "actor")),
		       json_string_value(json_object_get(v, "role")),
		       json_string_value(json_object_get(v, "note")),
		       json_is_true(json_object_get(v, "current"))
		           ? ""
		           : " [earlier lab runs: not counted]");
	json_array_foreach (json_object_get(rec, "waivers"), i, v)
		printf("%s  %s %s waived %s: %s%s\n", i ? "" : "waivers:\n",
		       json_string_value(json_object_get(v, "at")),
		       json_string_value(json_object_get(v, "actor")),
		       json_string_value(json_object_get(v, "check")),
		       json_string_value(json_object_get(v, "reason")),
		       json_is_true(json_object_get(v, "honoured"))
		           ? ""
		           : " [the policy does not allow it]");
	json_array_foreach (json_object_get(rec, "rejections"), i, v)
		printf("%s  %s %s (%s): %s\n", i ? "" : "rejections:\n",
		       json_string_value(json_object_get(v, "at")),
		       json_string_value(json_object_get(v, "actor")),
		       json_string_value(json_object_get(v, "role")),
		       json_string_value(json_object_get(v, "note")));
}

void cli_print_change_record(json_t *rec, json_t *runs)
{
	size_t nruns = json_array_size(runs);
	json_t *v;
	size_t i;

	record_print_evidence(json_object_get(rec, "lab_evidence"));
	printf("promotion (policy %s): %s\n", json_string_value(json_object_get(rec, "policy")),
	       json_is_true(json_object_get(rec, "promotable")) ? "may be promoted"
	                                                        : "may NOT be promoted");
	if (json_string_value(json_object_get(rec, "error")))
		printf("  error: %s\n", json_string_value(json_object_get(rec, "error")));
	json_array_foreach (json_object_get(rec, "requirements"), i, v)
		printf("  %-9s %-20s %s\n", json_string_value(json_object_get(v, "state")),
		       json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "detail")));
	record_print_acts(rec);
	if (nruns)
		printf(
		    "lab runs: %zu (the last: %s %s); every stage and check: --format json\n",
		    nruns,
		    json_string_value(json_object_get(json_array_get(runs, nruns - 1), "run")),
		    json_string_value(json_object_get(json_array_get(runs, nruns - 1), "verdict"))
		        ?: "no verdict");
}
