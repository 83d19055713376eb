/* cmd_publish.c - 'patchlab publish wave|rollback|show': a wave's signed apt repository. */
#include "cli.h"

#include <getopt.h>

#include "rollout/rollout.h"

/* The stage lines on a terminal or with -v; silent otherwise. */
static const struct pl_progress *publish_progress(struct cli *cli)
{
	if (cli->verbosity < 0)
		return NULL;
	return cli->is_tty || cli->verbosity > 0 ? &cli->progress : NULL;
}

struct publish_args {
	struct rollout_aptrepo r;
	const char *candidate, *wave;
	int fmt;
};

/* Options shared by the three subcommands; which ones a command takes is
 * said by allowed (a string of the short codes). */
static int publish_getopt(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
                          const char *allowed, struct publish_args *a)
{
	static const struct option opts[] = {
	    {"candidate", required_argument, NULL, 'c'},
	    {"wave", required_argument, NULL, 'w'},
	    {"dir", required_argument, NULL, 'd'},
	    {"suite", required_argument, NULL, 's'},
	    {"component", required_argument, NULL, 'C'},
	    {"arch", required_argument, NULL, 'a'},
	    {"origin", required_argument, NULL, 'o'},
	    {"label", required_argument, NULL, 'l'},
	    {"key", required_argument, NULL, 'k'},
	    {"gnupghome", required_argument, NULL, 'g'},
	    {"valid-days", required_argument, NULL, 'V'},
	    {"keep", required_argument, NULL, 'K'},
	    {"format", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	char **dst = NULL;
	long v;
	int c;

	a->fmt = CLI_FMT_TEXT;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == '?' || !strchr(allowed, c))
			return cli_usage_error(cli, cmd, "unknown option");
		switch (c) {
		case 'c':
			a->candidate = optarg;
			continue;
		case 'w':
			a->wave = optarg;
			continue;
		case 'a': {
			size_t n = 0;

			while (a->r.arches && a->r.arches[n])
				n++;
			a->r.arches = pl_realloc(a->r.arches, (n + 2) * sizeof(char *));
			a->r.arches[n] = pl_strdup(optarg);
			a->r.arches[n + 1] = NULL;
			continue;
		}
		case 'V':
			if (pl_parse_long(optarg, 0, 366, &v, "--valid-days", &cli->err) < 0)
				return cli->err.code = PL_EUSAGE;
			a->r.valid_for = v * 86400;
			continue;
		case 'K':
			if (pl_parse_long(optarg, 2, 100, &v, "--keep", &cli->err) < 0)
				return cli->err.code = PL_EUSAGE;
			a->r.keep = (int)v;
			continue;
		case 'f':
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &a->fmt) < 0)
				return PL_EUSAGE;
			continue;
		case 'd':
			dst = &a->r.dir;
			break;
		case 's':
			dst = &a->r.suite;
			break;
		case 'C':
			dst = &a->r.component;
			break;
		case 'o':
			dst = &a->r.origin;
			break;
		case 'l':
			dst = &a->r.label;
			break;
		case 'k':
			dst = &a->r.key;
			break;
		case 'g':
			dst = &a->r.gnupghome;
			break;
		default:
			return cli_usage_error(cli, cmd, "unknown option");
		}
		free(*dst);
		*dst = pl_strdup(optarg);
	}
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (!a->r.dir)
		return cli_usage_error(cli, cmd, "--dir DIR is needed");
	return 0;
}

static void result_print(const char *what, const struct rollout_aptrepo *r,
                         const struct rollout_publish_result *res)
{
	json_t *pk = json_object_get(res->detail, "packages"), *v;
	size_t i;

	printf("%s %s: generation %d (was %d), suite %s, Date %s, %zu package(s)\n", what, r->dir,
	       res->generation, res->previous, r->suite,
	       json_string_value(json_object_get(res->detail, "date")), res->npackages);
	json_array_foreach (pk, i, v)
		printf("  %-30s %-24s %-8s %s\n", json_string_value(json_object_get(v, "package")),
		       json_string_value(json_object_get(v, "version")),
		       json_string_value(json_object_get(v, "arch")),
		       json_string_value(json_object_get(v, "filename")));
	printf("  signed by %s\n", json_string_value(json_object_get(res->detail, "signers")));
}

static int result_out(const char *what, const struct publish_args *a,
                      struct rollout_publish_result *res)
{
	if (a->fmt == CLI_FMT_JSON) {
		json_t *j = json_incref(res->detail);

		rollout_publish_result_clear(res);
		return cli_print_json(j);
	}
	result_print(what, &a->r, res);
	rollout_publish_result_clear(res);
	return 0;
}

static int cmd_publish_wave(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct publish_args a = {0};
	struct rollout_publish_result res = {0};
	struct store *st;
	int rc = publish_getopt(cli, cmd, argc, argv, "cwdsCaolkgVKf", &a);

	if (rc == 0 && !a.candidate)
		rc = cli_usage_error(cli, cmd, "--candidate NAME is needed");
	if (rc == 0)
		rc = cli_store(cli, &st, 0);
	if (rc == 0) {
		a.r.progress = publish_progress(cli);
		rc = rollout_aptrepo_publish_candidate(st, &a.r, a.candidate, a.wave, &res,
		                                       &cli->err);
	}
	if (rc == 0)
		rc = result_out("published", &a, &res);
	rollout_aptrepo_clear(&a.r);
	return rc;
}

static int cmd_publish_rollback(struct cli *cli, const struct cli_command *cmd, int argc,
                                char **argv)
{
	struct publish_args a = {0};
	struct rollout_aptrepo r = {0};
	struct rollout_publish_result res = {0};
	struct store *st = NULL;
	int rc = publish_getopt(cli, cmd, argc, argv, "dkgf", &a);

	if (rc == 0)
		rc = rollout_aptrepo_load(a.r.dir, &r, &cli->err);
	if (rc == 0) {
		if (a.r.key) { /* a rotated key */
			free(r.key);
			r.key = PL_STEAL(a.r.key);
		}
		r.gnupghome = PL_STEAL(a.r.gnupghome);
		r.progress = publish_progress(cli);
		/* audited when there is a state to audit in */
		if (cli_store(cli, &st, 0) < 0) {
			if (cli->err.code != PL_ENOTFOUND)
				rc = cli->err.code;
			st = NULL;
			cli->err = (struct pl_err)PL_ERR_INIT;
		}
	}
	if (rc == 0)
		rc = rollout_aptrepo_rollback(st, &r, &res, &cli->err);
	if (rc == 0) {
		a.r.suite = PL_STEAL(r.suite);
		rc = result_out("rolled back", &a, &res);
	}
	rollout_aptrepo_clear(&r);
	rollout_aptrepo_clear(&a.r);
	return rc;
}

static int cmd_publish_show(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct publish_args a = {0};
	json_t *j = NULL, *v;
	size_t i;
	int rc = publish_getopt(cli, cmd, argc, argv, "df", &a);

	if (rc == 0)
		rc = rollout_aptrepo_show(a.r.dir, &j, &cli->err);
	rollout_aptrepo_clear(&a.r);
	if (rc < 0)
		return rc;
	if (a.fmt == CLI_FMT_JSON)
		return cli_print_json(j);
	printf("%-11s %s\n%-11s %s\n%-11s %s\n%-11s %s\n", "dir",
	       json_string_value(json_object_get(j, "dir")), "suite",
	       json_string_value(json_object_get(j, "suite")), "component",
	       json_string_value(json_object_get(j, "component")), "key",
	       json_string_value(json_object_get(j, "key")));
	printf("%-11s %lld\n", "current", json_integer_value(json_object_get(j, "current")));
	json_array_foreach (json_object_get(j, "generations"), i, v)
		printf("%s %6lld  %-8s %s  %3lld package(s)  %s\n",
		       json_is_true(json_object_get(v, "current")) ? "*" : " ",
		       json_integer_value(json_object_get(v, "generation")),
		       json_string_value(json_object_get(v, "kind")),
		       json_string_value(json_object_get(v, "date")),
		       json_integer_value(json_object_get(v, "packages")),
		       json_string_value(json_object_get(v, "label"))
		           ? json_string_value(json_object_get(v, "label"))
		           : "-");
	json_array_foreach (json_object_get(j, "packages"), i, v)
		printf("  %-30s %-24s %s\n", json_string_value(json_object_get(v, "package")),
		       json_string_value(json_object_get(v, "version")),
		       json_string_value(json_object_get(v, "arch")));
	json_decref(j);
	return 0;
}

const struct cli_command cli_publish_commands[] = {
    {"wave", "publish an approved candidate into a wave's signed apt repository",
     "publish wave --candidate NAME --dir DIR --suite SUITE --key KEY [--gnupghome DIR]\n"
     "     [--wave NAME] [--component C] [--arch A ...] [--origin O] [--label L]\n"
     "     [--valid-days N] [--keep N] [--format text|json]\n"
     "\n"
     "Publishes exactly the candidate's patches (approved, scheduled, rolling-out\n"
     "or deployed only; each checked against its SHA-256 in the patch store) as a\n"
     "new generation of the repository in DIR: pool/, dists/SUITE/ with\n"
     "Packages(.gz, .xz), Release, InRelease and Release.gpg signed by KEY from\n"
     "--gnupghome (default: $GNUPGHOME), verified with gpgv before DIR/dists is\n"
     "switched to it in one rename. DIR/keyring.gpg is KEY's public part for the\n"
     "hosts' Signed-By. --arch defaults to the packages' architectures, --valid-\n"
     "days to none (no Valid-Until), --keep to 5 generations (also the rollback\n"
     "depth). Serve DIR over HTTP (or file:) and point the wave's hosts at it.",
     cmd_publish_wave, NULL, 0},
    {"rollback", "republish the state before the current one, with a new Date",
     "publish rollback --dir DIR [--key KEY] [--gnupghome DIR] [--format text|json]\n"
     "\n"
     "Publishes a new generation whose indexes are those of the previous state\n"
     "(empty when the first publish is rolled back), signed with a newer Date so\n"
     "that apt takes it. apt does not downgrade installed packages by itself:\n"
     "hosts need 'apt-get install PKG=VERSION' (the Ansible export does it) or a\n"
     "pin. Suite and key are read from DIR/repo.json; exit 2 when there is\n"
     "nothing to roll back to.",
     cmd_publish_rollback, NULL, 0},
    {"show", "show a wave repository's generations and current packages",
     "publish show --dir DIR [--format text|json]", cmd_publish_show, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};
