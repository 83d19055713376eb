/* cmd_image.c - 'patchlab image build|import|list|show|inspect'. */
#include "cli.h"

#include <getopt.h>

#include "image/image.h"
#include "lab/lab.h"

/* Options shared by the image commands. */
struct image_args {
	int fmt;
	int rebuild;
	int packages;
	const char *name;
	const char *accel;
};

static int image_getopt(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
			struct image_args *a)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'}, {"rebuild", no_argument, NULL, 'r'},
		{"name", required_argument, NULL, 'n'},   {"packages", no_argument, NULL, 'p'},
		{"accel", required_argument, NULL, 'a'},  {NULL, 0, NULL, 0},
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->fmt = CLI_FMT_TEXT;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &a->fmt) < 0)
				return PL_EUSAGE;
			break;
		case 'r':
			a->rebuild = 1;
			break;
		case 'n':
			a->name = optarg;
			break;
		case 'p':
			a->packages = 1;
			break;
		case 'a':
			a->accel = optarg;
			break;
		default:
			return cli_usage_error(cli, cmd, "unknown option");
		}
	}
	return 0;
}

/* libguestfs gets TCG unless KVM is forced or probed to work. */
static int image_opts_init(struct cli *cli, struct store *st, const struct image_args *a,
			   struct image_opts *o)
{
	enum lab_accel want = LAB_ACCEL_AUTO, got;
	PL_AUTOFREE char *why = NULL;

	memset(o, 0, sizeof(*o));
	if (a->accel && lab_accel_parse(a->accel, &want, &cli->err) < 0)
		return pl_error_prefix(&cli->err, "--accel");
	if (lab_accel_resolve(want, st, &got, &why, &cli->err) < 0)
		return cli->err.code;
	pl_info("%s", why);
	o->force_tcg = got == LAB_ACCEL_TCG;
	o->rebuild = a->rebuild;
	o->progress = &cli->progress;
	return 0;
}

static void image_print(const struct image *im)
{
	printf("image:     %s (%s)\n", im->name, im->origin);
	printf("os:        %s %s (%s)\n", im->distro ? im->distro : "?",
	       im->version ? im->version : "?", im->arch ? im->arch : "?");
	printf("disk:      %s (%s, %.1f MiB)\n", im->path, im->format,
	       (double)im->size_bytes / 1048576.0);
	printf("sha256:    %s\n", im->sha256);
	if (im->manifest_path)
		printf("manifest:  %s (sha256 %.16s...)\n", im->manifest_path, im->manifest_sha256);
	printf("kernel:    %s\n", im->kernel_version ? im->kernel_version : "(none found)");
	printf("root:      UUID=%s\n", im->root_uuid ? im->root_uuid : "?");
	printf("packages:  %ld installed\n", im->packages);
	printf("marker:    %s\n", im->boot_marker ? "patchlab boot marker built in"
					       : "none (boots count as up at the login prompt)");
}

static int image_output(struct cli *cli, int fmt, const struct image *im, json_t *extra)
{
	if (fmt == CLI_FMT_JSON) {
		json_t *j = image_to_json(im);

		if (extra)
			json_object_update(j, extra);
		return cli_print_json(j);
	}
	(void)cli;
	image_print(im);
	return 0;
}

static int cmd_image_build(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct image_args a;
	struct image_opts o;
	struct image im = {0};
	struct store *st;
	int reused = 0, rc;
	double t0;

	if (image_getopt(cli, cmd, argc, argv, &a) < 0)
		return cli->err.code;
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one manifest file");
	if (cli_store(cli, &st, 1) < 0 || image_opts_init(cli, st, &a, &o) < 0)
		return cli->err.code;
	t0 = pl_monotonic();
	rc = image_build(st, argv[optind], &o, &im, &reused, &cli->err);
	if (rc < 0)
		return rc;
	if (a.fmt == CLI_FMT_TEXT)
		printf("%s image '%s' in %.1f s\n", reused ? "reused cached" : "built", im.name,
		       pl_monotonic() - t0);
	{
		json_t *extra = json_pack("{s:b, s:f}", "reused", reused, "seconds",
					  pl_monotonic() - t0);

		rc = image_output(cli, a.fmt, &im, extra);
		json_decref(extra);
	}
	image_clear(&im);
	return rc;
}

static int cmd_image_import(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct image_args a;
	struct image_opts o;
	struct image im = {0};
	struct store *st;
	int rc;

	if (image_getopt(cli, cmd, argc, argv, &a) < 0)
		return cli->err.code;
	if (optind != argc - 1 || !a.name)
		return cli_usage_error(cli, cmd, "expected FILE and --name NAME");
	if (cli_store(cli, &st, 1) < 0 || image_opts_init(cli, st, &a, &o) < 0)
		return cli->err.code;
	rc = image_import(st, argv[optind], a.name, &o, &im, &cli->err);
	if (rc == 0)
		rc = image_output(cli, a.fmt, &im, NULL);
	image_clear(&im);
	return rc;
}

static int cmd_image_list(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct image_args a;
	struct store *st;
	json_t *arr = NULL, *v;
	size_t i;

	if (image_getopt(cli, cmd, argc, argv, &a) < 0)
		return cli->err.code;
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (cli_store(cli, &st, 0) < 0 || image_list(st, &arr, &cli->err) < 0)
		return cli->err.code;
	if (a.fmt == CLI_FMT_JSON)
		return cli_print_json(arr);
	printf("%-20s %-9s %-14s %-22s %s\n", "NAME", "ORIGIN", "OS", "KERNEL", "PACKAGES");
	json_array_foreach(arr, i, v) {
		char os[64];

		snprintf(os, sizeof(os), "%s %s",
			 json_string_value(json_object_get(v, "distro")) ?: "?",
			 json_string_value(json_object_get(v, "version")) ?: "");
		printf("%-20s %-9s %-14s %-22s %lld\n",
		       json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "origin")), os,
		       json_string_value(json_object_get(v, "kernel_version")) ?: "-",
		       json_integer_value(json_object_get(v, "packages_installed")));
	}
	json_decref(arr);
	return 0;
}

/* Options, then the one image the command names, from the registry. */
static int image_named(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
		       struct image_args *a, struct store **st, struct image *im)
{
	if (image_getopt(cli, cmd, argc, argv, a) < 0)
		return cli->err.code;
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected an image name");
	if (cli_store(cli, st, 0) < 0 || image_get(*st, argv[optind], im, &cli->err) < 0)
		return cli->err.code;
	return 0;
}

static int cmd_image_show(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct image_args a;
	struct image im = {0};
	json_t *pkgs = NULL;
	struct store *st;
	int rc;

	if (image_named(cli, cmd, argc, argv, &a, &st, &im) < 0)
		return cli->err.code;
	rc = a.packages ? image_packages_json(st, im.id, &pkgs, &cli->err) : 0;
	if (rc == 0 && a.fmt == CLI_FMT_JSON) {
		json_t *extra = json_object();

		if (pkgs)
			json_object_set(extra, "package_list", pkgs);
		rc = image_output(cli, a.fmt, &im, extra);
		json_decref(extra);
	} else if (rc == 0) {
		size_t i;
		json_t *p;

		image_print(&im);
		json_array_foreach(pkgs, i, p)
			printf("  %-32s %-10s %s\n", json_string_value(json_object_get(p, "name")),
			       json_string_value(json_object_get(p, "arch")),
			       json_string_value(json_object_get(p, "version")));
	}
	json_decref(pkgs);
	image_clear(&im);
	return rc;
}

static int cmd_image_inspect(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct image_args a;
	struct image_opts o;
	struct image im = {0};
	json_t *insp = NULL;
	struct store *st;
	int rc;

	if (image_named(cli, cmd, argc, argv, &a, &st, &im) < 0)
		return cli->err.code;
	rc = image_opts_init(cli, st, &a, &o);
	if (rc == 0)
		rc = image_inspect(&im, &o, &insp, &cli->err);
	if (rc == 0 && a.fmt == CLI_FMT_JSON) {
		rc = cli_print_json(insp);
	} else if (rc == 0) {
		const char *k;
		json_t *v;

		json_object_foreach(insp, k, v) {
			PL_AUTOFREE char *s = json_dumps(v, JSON_ENCODE_ANY);

			printf("%-20s %s\n", k, json_is_string(v) ? json_string_value(v) : s);
		}
		json_decref(insp);
	}
	image_clear(&im);
	return rc;
}

const struct cli_command cli_image_commands[] = {
	{"build", "build a golden image from its manifest (cached by the manifest's hash)",
	 "image build [--rebuild] [--accel auto|kvm|tcg] [--format text|json] MANIFEST\n"
	 "\n"
	 "Builds a bootable qcow2 from MANIFEST (images/NAME.json): debootstrap from\n"
	 "the system's apt mirror, then libguestfs for the disk and its configuration.\n"
	 "The result is cached under $PATCHLAB_IMAGE_CACHE (default STATE/images) by\n"
	 "the manifest's hash: an unchanged manifest is reused, not rebuilt.",
	 cmd_image_build, NULL, 0},
	{"import", "register an existing disk image read-only",
	 "image import --name NAME [--format text|json] FILE", cmd_image_import, NULL, 0},
	{"list", "list the registered images", "image list [--format text|json]", cmd_image_list,
	 NULL, 0},
	{"show", "show one image as registered",
	 "image show [--packages] [--format text|json] NAME", cmd_image_show, NULL, 0},
	{"inspect", "inspect an image's disk now, read-only, with libguestfs",
	 "image inspect [--format text|json] NAME", cmd_image_inspect, NULL, 0},
	{NULL, NULL, NULL, NULL, NULL, 0},
};
