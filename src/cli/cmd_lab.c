/* cmd_lab.c - 'patchlab lab boot|gc|accel'. */
#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <sys/wait.h>

#include "candidate/candidate.h"
#include "gate/gate.h"
#include "image/image.h"
#include "lab/lab.h"

static volatile int lab_interrupted;

static void lab_on_signal(int sig)
{
	(void)sig;
	lab_interrupted = 1;
}

/* SIGINT and SIGTERM end the wait; the run then cleans up after itself. */
static void lab_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lab_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void lab_print_boot(json_t *r)
{
	json_t *stages = json_object_get(r, "stages");

	printf("run:       %s\n", json_string_value(json_object_get(r, "run")));
	printf("image:     %s, %s boot, %s\n", json_string_value(json_object_get(r, "image")),
	       json_string_value(json_object_get(r, "boot")),
	       json_string_value(json_object_get(r, "accelerator")) ?: "?");
	printf("result:    %s\n", json_is_true(json_object_get(r, "up")) ? "up" : "NOT UP");
	if (json_object_get(r, "boot_seconds"))
		printf("boot time: %.1f s\n", json_real_value(json_object_get(r, "boot_seconds")));
	if (json_object_get(r, "marker"))
		printf("marker:    %s\n", json_string_value(json_object_get(r, "marker")));
	printf("console:   %s\n", json_string_value(json_object_get(r, "console_log")));
	cli_print_stages(stages, "  ");
	printf("--- console (last lines) ---\n%s", json_string_value(json_object_get(r, "console_excerpt")));
	if (json_is_true(json_object_get(r, "kept")))
		printf("--- kept: domain %s runs on; 'patchlab lab gc --all' removes it and its "
		       "network and volume\n",
		       json_string_value(json_object_get(r, "domain")));
}

static int cmd_lab_boot(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"image", required_argument, NULL, 'i'}, {"boot", required_argument, NULL, 'b'},
		{"lab", required_argument, NULL, 'l'},   {"keep", no_argument, NULL, 'k'},
		{"format", required_argument, NULL, 'f'}, {"accel", required_argument, NULL, 'a'},
		{"connect", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0},
	};
	struct lab_boot_opts o = {.boot = LAB_BOOT_KERNEL, .progress = &cli->progress,
				  .interrupted = &lab_interrupted};
	const char *image_name = NULL, *lab_file = NULL;
	struct lab_def def;
	struct image im = {0};
	json_t *result = NULL;
	struct store *st;
	int fmt = CLI_FMT_TEXT, c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': image_name = optarg; break;
		case 'l': lab_file = optarg; break;
		case 'k': o.keep = 1; break;
		case 'c': o.uri = optarg; break;
		case 'b':
			if (lab_boot_parse(optarg, &o.boot) < 0)
				return cli_usage_error(cli, cmd, "--boot: '%s' is not pxe, kernel or disk",
						       optarg);
			o.boot_set = 1;
			break;
		case 'a':
			if (lab_accel_parse(optarg, &o.accel, &cli->err) < 0)
				return PL_EUSAGE;
			break;
		case 'f':
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
				return PL_EUSAGE;
			break;
		default:
			return cli_usage_error(cli, cmd, "unknown option");
		}
	}
	if (optind != argc || !image_name)
		return cli_usage_error(cli, cmd, "--image NAME is required");
	if (cli_store(cli, &st, 0) < 0 || image_get(st, image_name, &im, &cli->err) < 0)
		return cli->err.code;
	rc = lab_file ? lab_def_load(lab_file, &def, &cli->err) : lab_def_default(&def, &cli->err);
	if (rc < 0) {
		image_clear(&im);
		return rc;
	}
	lab_catch_signals();
	rc = lab_boot(st, &im, &def, &o, &result, &cli->err);
	if (result && fmt == CLI_FMT_JSON)
		cli_print_json(json_incref(result));
	else if (result)
		lab_print_boot(result);
	json_decref(result);
	lab_def_free(&def);
	image_clear(&im);
	return rc;
}

static int cmd_lab_gc(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"all", no_argument, NULL, 'A'}, {"format", required_argument, NULL, 'f'},
		{"connect", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0},
	};
	PL_AUTOVIRCONN virConnectPtr conn = NULL;
	struct lab_gc_report rep;
	const char *uri = NULL;
	int all = 0, fmt = CLI_FMT_TEXT, c;
	struct store *st;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'A')
			all = 1;
		else if (c == 'c')
			uri = optarg;
		else if (c == 'f') {
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
				return PL_EUSAGE;
		} else
			return cli_usage_error(cli, cmd, "unknown option");
	}
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (cli_store(cli, &st, 0) < 0 || lab_connect(uri, &conn, &cli->err) < 0 ||
	    lab_gc(st, conn, all, &rep, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(json_pack("{s:i, s:i, s:i, s:i}", "runs", rep.runs, "domains",
						rep.domains, "networks", rep.networks, "volumes",
						rep.volumes));
	printf("lab gc: %u dead run(s); removed %u domain(s), %u network(s), %u volume(s)\n",
	       rep.runs, rep.domains, rep.networks, rep.volumes);
	return 0;
}

static int cmd_lab_accel(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	enum lab_accel want = LAB_ACCEL_AUTO, got;
	PL_AUTOFREE char *why = NULL;
	struct store *st = NULL;

	if (argc > 2)
		return cli_usage_error(cli, cmd, "expected at most one of auto, kvm, tcg");
	if (argc == 2 && lab_accel_parse(argv[1], &want, &cli->err) < 0)
		return PL_EUSAGE;
	if (cli_store(cli, &st, 0) < 0)
		st = NULL; /* no state yet: probe without caching */
	if (lab_accel_resolve(want, st, &got, &why, &cli->err) < 0)
		return cli->err.code;
	printf("%s (%s)\n", lab_accel_name(got), why);
	return 0;
}

/* What 'lab run' and 'bisect' share: image, lab file, policy, boot. */
struct cand_args {
	const char *image, *lab, *policy;
	struct lab_cand_opts o;
	int fmt;
	int jobs;
	int many; /* several candidate names allowed */
};

static int cand_getopt_opts(struct cli *cli, const struct cli_command *cmd, int argc,
			    char **argv, struct cand_args *a)
{
	static const struct option opts[] = {
		{"image", required_argument, NULL, 'i'},  {"boot", required_argument, NULL, 'b'},
		{"lab", required_argument, NULL, 'l'},    {"keep", no_argument, NULL, 'k'},
		{"format", required_argument, NULL, 'f'}, {"accel", required_argument, NULL, 'a'},
		{"connect", required_argument, NULL, 'c'}, {"policy", required_argument, NULL, 'p'},
		{"jobs", required_argument, NULL, 'j'},   {NULL, 0, NULL, 0},
	};
	int c;

	a->fmt = CLI_FMT_TEXT;
	a->o.boot = LAB_BOOT_KERNEL;
	a->o.progress = &cli->progress;
	a->o.interrupted = &lab_interrupted;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': a->image = optarg; break;
		case 'l': a->lab = optarg; break;
		case 'p': a->policy = optarg; break;
		case 'j':
			if (pl_parse_int(optarg, 1, 64, &a->jobs, "--jobs", &cli->err) < 0)
				return PL_EUSAGE;
			break;
		case 'k': a->o.keep = 1; break;
		case 'c': a->o.uri = optarg; break;
		case 'b':
			if (lab_boot_parse(optarg, &a->o.boot) < 0)
				return cli_usage_error(cli, cmd, "--boot: '%s' is not pxe, kernel or disk",
						       optarg);
			a->o.boot_set = 1;
			break;
		case 'a':
			if (lab_accel_parse(optarg, &a->o.accel, &cli->err) < 0)
				return PL_EUSAGE;
			break;
		case 'f':
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &a->fmt) < 0)
				return PL_EUSAGE;
			break;
		default:
			return cli_usage_error(cli, cmd, "unknown option");
		}
	}
	if (optind == argc || (!a->many && optind != argc - 1))
		return cli_usage_error(cli, cmd, a->many ? "expected candidate names"
							 : "expected one candidate name");
	return 0;
}

static int cand_getopt(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
		       struct cand_args *a)
{
	memset(a, 0, sizeof(*a));
	return cand_getopt_opts(cli, cmd, argc, argv, a);
}

static int cand_getopt_many(struct cli *cli, const struct cli_command *cmd, int argc,
			    char **argv, struct cand_args *a)
{
	memset(a, 0, sizeof(*a));
	a->many = 1;
	return cand_getopt_opts(cli, cmd, argc, argv, a);
}

/* The image of the candidate's last lab run, when --image is not given. */
static int cand_last_image(struct store *st, long cand_id, char **name, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;

	if (store_prepare(st,
			  "SELECT i.name FROM lab_runs r JOIN images i ON i.id = r.image_id"
			  " WHERE r.candidate_id = ? ORDER BY r.started_at DESC LIMIT 1",
			  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, cand_id);
	if (sqlite3_step(s) != SQLITE_ROW)
		return pl_error(err, PL_EUSAGE, "--image IMG is required: the candidate has no lab "
						"run yet");
	*name = pl_strdup(store_col_text(s, 0));
	return 0;
}

struct cand_env {
	struct store *st;
	struct candidate c;
	struct image im;
	struct lab_def def;
	struct gate_policy pol;
	int have_c, have_im, have_def, have_pol;
};

static void cand_env_free(struct cand_env *e)
{
	if (e->have_c)
		candidate_clear(&e->c);
	if (e->have_im)
		image_clear(&e->im);
	if (e->have_def)
		lab_def_free(&e->def);
	if (e->have_pol)
		gate_policy_free(&e->pol);
}

static int cand_env_load(struct cli *cli, struct cand_args *a, const char *name,
			 struct cand_env *e)
{
	PL_AUTOFREE char *image = NULL;

	memset(e, 0, sizeof(*e));
	if (cli_store(cli, &e->st, 0) < 0 || candidate_get(e->st, name, &e->c, &cli->err) < 0)
		return cli->err.code;
	e->have_c = 1;
	if (!a->image && cand_last_image(e->st, e->c.id, &image, &cli->err) < 0)
		return cli->err.code;
	if (image_get(e->st, a->image ? a->image : image, &e->im, &cli->err) < 0)
		return cli->err.code;
	e->have_im = 1;
	if ((a->lab ? lab_def_load(a->lab, &e->def, &cli->err)
		    : lab_def_default(&e->def, &cli->err)) < 0)
		return cli->err.code;
	e->have_def = 1;
	if ((a->policy ? gate_policy_load(a->policy, &e->pol, &cli->err)
		       : gate_policy_default(&e->pol, &cli->err)) < 0)
		return cli->err.code;
	e->have_pol = 1;
	a->o.policy = &e->pol;
	return 0;
}

static void lab_print_run(json_t *r)
{
	json_t *c;
	size_t i;

	printf("candidate %s on %s (%s boot, %s): %s\n",
	       json_string_value(json_object_get(r, "candidate")),
	       json_string_value(json_object_get(r, "image")),
	       json_string_value(json_object_get(r, "boot")),
	       json_string_value(json_object_get(r, "accelerator")) ?: "?",
	       json_string_value(json_object_get(r, "verdict")));
	cli_print_stages(json_object_get(r, "stages"), "  ");
	cli_print_checks(json_object_get(r, "checks"), "  ");
	json_array_foreach(json_object_get(r, "reasons"), i, c)
		printf("  reason: %s\n", json_string_value(c));
	printf("evidence: %s\n", json_string_value(json_object_get(r, "evidence_dir")));
}

/* Jobs that fit: each needs its VM's memory and a libguestfs appliance. */
static int lab_jobs_fit(int want, unsigned vm_mib)
{
	PL_AUTOFREE char *mi = NULL;
	const char *p;
	long long avail_kib = 0;
	int fit;

	if (pl_file_read("/proc/meminfo", &mi, NULL, NULL) == 0 &&
	    (p = strstr(mi, "MemAvailable:")))
		avail_kib = strtoll(p + 13, NULL, 10);
	fit = (int)(avail_kib / 1024 / ((long long)vm_mib + 1024 + 256));
	if (fit < 1)
		fit = 1;
	return want < fit ? want : fit;
}

/* One candidate in a child process: its own store and libvirt connection. */
static int lab_run_child(struct cli *cli, struct cand_args *a, const char *name)
{
	struct cand_env e;
	json_t *result = NULL;
	int rc = cand_env_load(cli, a, name, &e);

	if (rc == 0)
		rc = lab_run_candidate(e.st, &e.c, &e.im, &e.def, &a->o, NULL, &result, &cli->err);
	printf("%s: %s%s%s (evidence: %s)\n", name,
	       result ? json_string_value(json_object_get(result, "verdict")) : "error",
	       rc < 0 && rc != PL_EFAIL ? ": " : "", rc < 0 && rc != PL_EFAIL ? cli->err.msg : "",
	       result ? json_string_value(json_object_get(result, "evidence_dir")) : "-");
	fflush(stdout);
	json_decref(result);
	cand_env_free(&e);
	return rc;
}

/* --jobs: candidates in parallel processes, as many as memory allows. */
static int lab_run_parallel(struct cli *cli, struct cand_args *a, int n, char **names)
{
	struct lab_def def;
	int jobs, running = 0, next = 0, worst = 0;

	if ((a->lab ? lab_def_load(a->lab, &def, &cli->err) : lab_def_default(&def, &cli->err)) < 0)
		return cli->err.code;
	jobs = lab_jobs_fit(a->jobs, def.vms[0].memory_mib);
	lab_def_free(&def);
	if (jobs < a->jobs)
		pl_warn("--jobs %d: memory allows %d at once", a->jobs, jobs);
	a->o.progress = NULL; /* interleaved stage lines would be noise */
	store_close(cli->store);
	cli->store = NULL; /* no SQLite handle may cross a fork */
	fflush(NULL);
	lab_catch_signals();
	while (next < n || running > 0) {
		int status;

		if (next < n && running < jobs) {
			pid_t pid = fork();

			if (pid < 0)
				return pl_error(&cli->err, PL_EENV, "fork: %s", strerror(errno));
			if (pid == 0) {
				int rc = lab_run_child(cli, a, names[next]);

				_exit(pl_exit_code(rc));
			}
			next++;
			running++;
			continue;
		}
		if (wait(&status) < 0)
			break;
		running--;
		status = WIFEXITED(status) ? WEXITSTATUS(status) : PL_EXIT_ENV;
		if (status == PL_EXIT_ENV || status == PL_EXIT_USAGE || worst == 0)
			worst = status > worst ? status : worst;
	}
	if (worst == PL_EXIT_FAIL)
		return pl_error(&cli->err, PL_EFAIL, "at least one candidate failed the lab");
	if (worst)
		return pl_error(&cli->err, worst == PL_EXIT_USAGE ? PL_EINVAL : PL_EENV,
				"at least one candidate's run did not complete");
	return 0;
}

static int cmd_lab_run(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct cand_args a;
	struct cand_env e;
	json_t *result = NULL;
	int rc;

	memset(&a, 0, sizeof(a));
	if (cand_getopt_many(cli, cmd, argc, argv, &a) < 0)
		return cli->err.code;
	if (a.jobs > 1 || optind < argc - 1)
		return lab_run_parallel(cli, &a, argc - optind, argv + optind);
	rc = cand_env_load(cli, &a, argv[optind], &e);
	if (rc == 0) {
		lab_catch_signals();
		rc = lab_run_candidate(e.st, &e.c, &e.im, &e.def, &a.o, NULL, &result, &cli->err);
	}
	if (result && a.fmt == CLI_FMT_JSON)
		cli_print_json(json_incref(result));
	else if (result)
		lab_print_run(result);
	json_decref(result);
	cand_env_free(&e);
	return rc;
}

int cmd_bisect(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct cand_args a;
	struct cand_env e;
	json_t *result = NULL, *v;
	size_t i;
	int rc;

	if (cand_getopt(cli, cmd, argc, argv, &a) < 0)
		return cli->err.code;
	rc = cand_env_load(cli, &a, argv[optind], &e);
	if (rc == 0) {
		lab_catch_signals();
		rc = lab_bisect(e.st, &e.c, &e.im, &e.def, &a.o, &result, &cli->err);
	}
	if (result && a.fmt == CLI_FMT_JSON) {
		cli_print_json(json_incref(result));
	} else if (result) {
		json_array_foreach(json_object_get(result, "runs"), i, v) {
			PL_AUTOFREE char *set = json_dumps(json_object_get(v, "subset"), JSON_COMPACT);

			printf("run %zu: %-5s %s\n", i + 1,
			       json_string_value(json_object_get(v, "verdict")), set);
		}
		printf("culprit(s): ");
		json_array_foreach(json_object_get(result, "culprits"), i, v)
			printf("%s%s", i ? ", " : "", json_string_value(v));
		printf(" (%lld lab runs)\n", json_integer_value(json_object_get(result, "lab_runs")));
	}
	json_decref(result);
	cand_env_free(&e);
	return rc;
}

const struct cli_command cli_lab_commands[] = {
	{"run", "test a candidate in the lab: apply, boot, smoke checks, verdict",
	 "lab run NAME --image IMG [--lab FILE] [--policy FILE] [--boot pxe|kernel|disk]\n"
	 "        [--keep] [--accel auto|kvm|tcg] [--connect URI] [--format text|json]\n"
	 "lab run NAME... --image IMG --jobs N [options as above]\n"
	 "\n"
	 "Clones IMG, installs the candidate's patches with dpkg (services kept from\n"
	 "starting), checks the result offline, boots the clone with the smoke agent,\n"
	 "inspects it with libguestfs and judges the checks with the gate policy\n"
	 "(built-in policies/default.json unless --policy). Exit 0 on pass, 1 on\n"
	 "fail, 2 for input errors, 3 for environment errors. Evidence stays in\n"
	 "STATE/runs/RUN and is named by 'patchlab candidate show NAME'. With several\n"
	 "names (or --jobs N), the candidates run in up to N parallel processes over\n"
	 "the same golden image, as many as the host's available memory allows.",
	 cmd_lab_run, NULL, 0},
	{"boot", "clone an image into the lab, boot it, report when it is up",
	 "lab boot --image NAME [--boot pxe|kernel|disk] [--lab FILE] [--keep]\n"
	 "         [--accel auto|kvm|tcg] [--connect URI] [--format text|json]\n"
	 "\n"
	 "Clones NAME (a qcow2 overlay), creates an isolated network (with TFTP and\n"
	 "bootp for PXE), boots the lab's first VM and waits until the guest reports\n"
	 "it is up. Exit 0 when up; 1 when it never came up (the console log path is\n"
	 "printed); 2 for a missing image or bad lab file; 3 when libvirt is down.\n"
	 "Everything the run created is removed afterwards unless --keep.",
	 cmd_lab_boot, NULL, 0},
	{"gc", "remove what dead lab runs left in libvirt",
	 "lab gc [--all] [--connect URI] [--format text|json]\n"
	 "\n"
	 "Removes the domains, networks and volumes of runs whose process is gone\n"
	 "(killed, crashed) and marks them aborted. --all also removes what runs\n"
	 "kept with --keep, and every libvirt domain and network named patchlab-*\n"
	 "on the connection (other patchlab states' included).",
	 cmd_lab_gc, NULL, 0},
	{"accel", "show which accelerator the lab uses, and why", "lab accel [auto|kvm|tcg]",
	 cmd_lab_accel, NULL, 0},
	{NULL, NULL, NULL, NULL, NULL, 0},
};
