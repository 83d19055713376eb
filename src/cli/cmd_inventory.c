/* cmd_inventory.c - 'patchlab inventory import|add|remove|list|show|packages'. */
#include "cli.h"

#include <getopt.h>

#include "inventory/inventory.h"

static int cmd_inventory_import(struct cli *cli, const struct cli_command *cmd, int argc,
				char **argv)
{
	static const struct option opts[] = {{NULL, 0, NULL, 0}};
	struct store *st;
	size_t added = 0, updated = 0;

	if (getopt_long(argc, argv, "", opts, NULL) != -1)
		return cli_usage_error(cli, cmd, "unknown option");
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one FILE");
	if (cli_store(cli, &st, 0) < 0 ||
	    inv_import_file(st, argv[optind], &added, &updated, &cli->err) < 0)
		return cli->err.code;
	printf("imported %s: %zu added, %zu updated\n", argv[optind], added, updated);
	return 0;
}

static int add_value(struct cli *cli, const char *field, const char *v, char **dst)
{
	char msg[512];

	if (inv_field_check(field, v, msg, sizeof(msg)) < 0)
		return pl_error(&cli->err, PL_EUSAGE, "--%s: %s", field, msg);
	free(*dst);
	*dst = pl_strdup(v);
	return 0;
}

static int add_options(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
		       struct inv_host *h)
{
	static const struct option opts[] = {
		{"ip", required_argument, NULL, 'i'},       {"os", required_argument, NULL, 'o'},
		{"os-version", required_argument, NULL, 'v'}, {"location", required_argument, NULL, 'l'},
		{"owner", required_argument, NULL, 'w'},    {"role", required_argument, NULL, 'r'},
		{"environment", required_argument, NULL, 'e'}, {"tag", required_argument, NULL, 't'},
		{"control", required_argument, NULL, 'c'},  {"libvirt", required_argument, NULL, 'u'},
		{"domain", required_argument, NULL, 'd'},   {"image", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0}};
	char msg[512];
	int ch, rc = 0;

	while (rc == 0 && (ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'i': rc = add_value(cli, "ip", optarg, &h->ip); break;
		case 'o': rc = add_value(cli, "os", optarg, &h->os); break;
		case 'v': rc = add_value(cli, "os_version", optarg, &h->os_version); break;
		case 'l': rc = add_value(cli, "location", optarg, &h->location); break;
		case 'w': rc = add_value(cli, "owner", optarg, &h->owner); break;
		case 'r': rc = add_value(cli, "role", optarg, &h->role); break;
		case 'e': rc = add_value(cli, "environment", optarg, &h->environment); break;
		case 'u': rc = add_value(cli, "libvirt_uri", optarg, &h->libvirt_uri); break;
		case 'd': rc = add_value(cli, "libvirt_domain", optarg, &h->libvirt_domain); break;
		case 'm': rc = add_value(cli, "image", optarg, &h->image); break;
		case 't':
			if (inv_field_check("tags", optarg, msg, sizeof(msg)) < 0)
				rc = pl_error(&cli->err, PL_EUSAGE, "--tag: %s", msg);
			else
				json_array_append_new(h->tags, json_string(optarg));
			break;
		case 'c':
			if (inv_control_add(h->controls, optarg, msg, sizeof(msg)) < 0)
				rc = pl_error(&cli->err, PL_EUSAGE, "--control: %s", msg);
			break;
		default: rc = cli_usage_error(cli, cmd, "unknown option");
		}
	}
	return rc;
}

static int cmd_inventory_add(struct cli *cli, const struct cli_command *cmd, int argc,
			     char **argv)
{
	struct inv_host h = {.tags = json_array(), .controls = json_object()};
	char msg[512];
	struct store *st;
	int rc = add_options(cli, cmd, argc, argv, &h);

	if (rc == 0 && optind != argc - 1)
		rc = cli_usage_error(cli, cmd, "expected one host NAME");
	if (rc == 0 && inv_field_check("name", argv[optind], msg, sizeof(msg)) < 0)
		rc = pl_error(&cli->err, PL_EUSAGE, "%s", msg);
	if (rc == 0 && !h.libvirt_uri != !h.libvirt_domain)
		rc = cli_usage_error(cli, cmd, "--libvirt and --domain go together");
	if (rc == 0) {
		h.name = pl_strdup(argv[optind]);
		rc = cli_store(cli, &st, 0);
	}
	if (rc == 0)
		rc = inv_host_add(st, &h, &cli->err);
	if (rc == 0)
		printf("added host '%s'\n", h.name);
	inv_host_clear(&h);
	return rc;
}

static int cmd_inventory_remove(struct cli *cli, const struct cli_command *cmd, int argc,
				char **argv)
{
	static const struct option opts[] = {{NULL, 0, NULL, 0}};
	struct store *st;

	if (getopt_long(argc, argv, "", opts, NULL) != -1)
		return cli_usage_error(cli, cmd, "unknown option");
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one host NAME");
	if (cli_store(cli, &st, 0) < 0 || inv_host_remove(st, argv[optind], &cli->err) < 0)
		return cli->err.code;
	printf("removed host '%s'\n", argv[optind]);
	return 0;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : "-";
}

static int cmd_inventory_list(struct cli *cli, const struct cli_command *cmd, int argc,
			      char **argv)
{
	static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
					     {"environment", required_argument, NULL, 'e'},
					     {"format", required_argument, NULL, 'f'},
					     {NULL, 0, NULL, 0}};
	const char *role = NULL, *env = NULL;
	struct store *st;
	json_t *arr = NULL, *v;
	size_t i;
	int fmt = CLI_FMT_TEXT, ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch == 'r')
			role = optarg;
		else if (ch == 'e')
			env = optarg;
		else if (ch != 'f')
			return cli_usage_error(cli, cmd, "unknown option");
		else if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
			return PL_EUSAGE;
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (cli_store(cli, &st, 0) < 0 || inv_host_list(st, role, env, &arr, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(arr);
	printf("%-24s %-39s %-12s %-12s %-8s\n", "NAME", "IP", "ROLE", "ENVIRONMENT", "PACKAGES");
	json_array_foreach(arr, i, v)
		printf("%-24s %-39s %-12s %-12s %-8lld\n", jstr(v, "name"), jstr(v, "ip"),
		       jstr(v, "role"), jstr(v, "environment"),
		       json_integer_value(json_object_get(v, "packages")));
	json_decref(arr);
	return 0;
}

static void host_print(json_t *j)
{
	static const char *const keys[] = {"name",        "ip",          "os",
					   "os_version",  "location",    "owner",
					   "role",        "environment", "libvirt_uri",
					   "libvirt_domain", "image",    "created_at",
					   "updated_at"};
	char *tags = json_dumps(json_object_get(j, "tags"), JSON_COMPACT);
	char *controls = json_dumps(json_object_get(j, "controls"), JSON_COMPACT | JSON_SORT_KEYS);
	json_t *p;
	size_t i;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		printf("%-15s %s\n", keys[k], jstr(j, keys[k]));
	printf("%-15s %s\n%-15s %s\n%-15s %lld\n", "tags", tags ? tags : "[]", "controls",
	       controls ? controls : "{}", "packages",
	       json_integer_value(json_object_get(j, "packages")));
	free(tags);
	free(controls);
	json_array_foreach(json_object_get(j, "package_list"), i, p)
		printf("  %-36s %-24s %-8s %s\n", jstr(p, "name"), jstr(p, "version"),
		       jstr(p, "arch"), jstr(p, "status"));
}

static int cmd_inventory_show(struct cli *cli, const struct cli_command *cmd, int argc,
			      char **argv)
{
	static const struct option opts[] = {{"packages", no_argument, NULL, 'p'},
					     {"format", required_argument, NULL, 'f'},
					     {NULL, 0, NULL, 0}};
	struct store *st;
	json_t *j = NULL;
	int fmt = CLI_FMT_TEXT, ch, pk = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch == 'p')
			pk = 1;
		else if (ch != 'f')
			return cli_usage_error(cli, cmd, "unknown option");
		else if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
			return PL_EUSAGE;
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one host NAME");
	if (cli_store(cli, &st, 0) < 0 || inv_host_show(st, argv[optind], pk, &j, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(j);
	host_print(j);
	json_decref(j);
	return 0;
}

static int cmd_inventory_packages(struct cli *cli, const struct cli_command *cmd, int argc,
				  char **argv)
{
	static const struct option opts[] = {{"dpkg-status", required_argument, NULL, 'd'},
					     {"rpm-qa", required_argument, NULL, 'r'},
					     {NULL, 0, NULL, 0}};
	const char *dpkg = NULL, *rpm = NULL;
	struct inv_pkglist l = INV_PKGLIST_INIT;
	struct store *st;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch == 'd')
			dpkg = optarg;
		else if (ch == 'r')
			rpm = optarg;
		else
			return cli_usage_error(cli, cmd, "unknown option");
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one HOST");
	if (!dpkg == !rpm)
		return cli_usage_error(cli, cmd, "expected one of --dpkg-status FILE, --rpm-qa FILE");
	rc = cli_store(cli, &st, 0);
	if (rc == 0 && dpkg)
		rc = inv_dpkg_load(dpkg, &l, &cli->err);
	if (rc == 0 && rpm) {
		PL_AUTOFREE char *buf = NULL;
		size_t len;

		rc = pl_file_read(rpm, &buf, &len, &cli->err);
		if (rc == 0)
			rc = inv_rpmqa_parse(buf, len, rpm, &l, &cli->err);
	}
	if (rc == 0)
		rc = inv_packages_set(st, argv[optind], &l, &cli->err);
	if (rc == 0)
		printf("host '%s': %zu packages\n", argv[optind], l.n);
	inv_pkglist_free(&l);
	return rc;
}

const struct cli_command cli_inventory_commands[] = {
	{"import", "import hosts from a CSV or JSON file",
	 "inventory import FILE\n"
	 "\n"
	 "FILE is JSON when its first non-blank byte is '[' (an array of host\n"
	 "objects), else CSV with a header line naming the columns: name, ip, os,\n"
	 "os_version, location, owner, role, environment, tags (\"a;b\"), controls\n"
	 "(\"key=value;key=value\", true/false are booleans), libvirt_uri,\n"
	 "libvirt_domain, image. One transaction: a bad row imports nothing (exit 2,\n"
	 "naming file:line or the JSON path). An existing host is updated.",
	 cmd_inventory_import, NULL, 0},
	{"add", "add one host",
	 "inventory add NAME [--ip IP] [--os OS] [--os-version V] [--location L]\n"
	 "     [--owner O] [--role R] [--environment E] [--tag T ...]\n"
	 "     [--control KEY=VALUE ...] [--libvirt URI --domain D] [--image IMG]\n"
	 "\n"
	 "environment: production, staging, test or development; control exposure:\n"
	 "internet, internal or isolated. An existing NAME is refused (exit 2).",
	 cmd_inventory_add, NULL, 0},
	{"remove", "remove a host and its package list", "inventory remove NAME",
	 cmd_inventory_remove, NULL, 0},
	{"list", "list the hosts",
	 "inventory list [--role R] [--environment E] [--format text|json]", cmd_inventory_list,
	 NULL, 0},
	{"show", "show a host, with its package count or list",
	 "inventory show NAME [--packages] [--format text|json]", cmd_inventory_show, NULL, 0},
	{"packages", "replace a host's package list",
	 "inventory packages HOST --dpkg-status FILE\n"
	 "inventory packages HOST --rpm-qa FILE\n"
	 "\n"
	 "Reads dpkg's status file (every package dpkg-query -W lists, with its\n"
	 "status words) or the output of\n"
	 "  rpm -qa --qf '%{NAME}\\t%{EPOCH}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\n'\n"
	 "and replaces HOST's packages in one transaction.",
	 cmd_inventory_packages, NULL, 0},
	{NULL, NULL, NULL, NULL, NULL, 0},
};
