/* cmd_lab.c - 'patchlab lab boot|gc|accel'. */
#include "cli.h"

#include <getopt.h>
#include <signal.h>

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
	json_t *stages = json_object_get(r, "stages"), *s;
	size_t i;

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
	json_array_foreach(stages, i, s)
		printf("  %-8s %6.1f s %s\n", json_string_value(json_object_get(s, "stage")),
		       json_real_value(json_object_get(s, "seconds")),
		       json_is_true(json_object_get(s, "ok")) ? "" : "FAILED");
	printf("--- console (last lines) ---\n%s", json_string_value(json_object_get(r, "console_excerpt")));
	if (json_is_true(json_object_get(r, "kept")))
		printf("--- kept: domain %s runs on; 'patchlab lab gc --all' removes it\n",
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

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
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

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
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

const struct cli_command cli_lab_commands[] = {
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
	 "(killed, crashed) and marks them aborted. --all also removes every libvirt\n"
	 "domain and network named patchlab-* on the connection.",
	 cmd_lab_gc, NULL, 0},
	{"accel", "show which accelerator the lab uses, and why", "lab accel [auto|kvm|tcg]",
	 cmd_lab_accel, NULL, 0},
	{NULL, NULL, NULL, NULL, NULL, 0},
};
