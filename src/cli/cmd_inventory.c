/* cmd_inventory.c - 'patchlab inventory import|add|set|remove|list|show|packages|
 * discover|drift|controls'. */
#include "cli.h"

#include <getopt.h>

#include "inventory/inventory.h"
#include "lab/lab.h"

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

/* Options of add and set; set (allow_unset) takes KEY= to drop a control.
 * *tags is set when --tag was given. */
static int add_options(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
                       struct inv_host *h, int allow_unset, int *tags)
{
	static const struct option opts[] = {{"ip", required_argument, NULL, 'i'},
	                                     {"os", required_argument, NULL, 'o'},
	                                     {"os-version", required_argument, NULL, 'v'},
	                                     {"location", required_argument, NULL, 'l'},
	                                     {"owner", required_argument, NULL, 'w'},
	                                     {"role", required_argument, NULL, 'r'},
	                                     {"environment", required_argument, NULL, 'e'},
	                                     {"tag", required_argument, NULL, 't'},
	                                     {"control", required_argument, NULL, 'c'},
	                                     {"libvirt", required_argument, NULL, 'u'},
	                                     {"domain", required_argument, NULL, 'd'},
	                                     {"image", required_argument, NULL, 'm'},
	                                     {NULL, 0, NULL, 0}};
	char msg[512];
	int ch, rc = 0;

	while (rc == 0 && (ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			rc = add_value(cli, "ip", optarg, &h->ip);
			break;
		case 'o':
			rc = add_value(cli, "os", optarg, &h->os);
			break;
		case 'v':
			rc = add_value(cli, "os_version", optarg, &h->os_version);
			break;
		case 'l':
			rc = add_value(cli, "location", optarg, &h->location);
			break;
		case 'w':
			rc = add_value(cli, "owner", optarg, &h->owner);
			break;
		case 'r':
			rc = add_value(cli, "role", optarg, &h->role);
			break;
		case 'e':
			rc = add_value(cli, "environment", optarg, &h->environment);
			break;
		case 'u':
			rc = add_value(cli, "libvirt_uri", optarg, &h->libvirt_uri);
			break;
		case 'd':
			rc = add_value(cli, "libvirt_domain", optarg, &h->libvirt_domain);
			break;
		case 'm':
			rc = add_value(cli, "image", optarg, &h->image);
			break;
		case 't':
			if (inv_field_check("tags", optarg, msg, sizeof(msg)) < 0)
				rc = pl_error(&cli->err, PL_EUSAGE, "--tag: %s", msg);
			else
				json_array_append_new(h->tags, json_string(optarg));
			if (tags)
				*tags = 1;
			break;
		case 'c':
			if (inv_control_add(h->controls, optarg, allow_unset, msg, sizeof(msg)) < 0)
				rc = pl_error(&cli->err, PL_EUSAGE, "--control: %s", msg);
			break;
		default:
			rc = cli_usage_error(cli, cmd, "unknown option");
		}
	}
	return rc;
}

static int cmd_inventory_add(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct inv_host h = {.tags = json_array(), .controls = json_object()};
	char msg[512];
	struct store *st;
	int rc = add_options(cli, cmd, argc, argv, &h, 0, NULL);

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

static int cmd_inventory_set(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct inv_host h = {.tags = json_array(), .controls = json_object()};
	struct store *st;
	int tags = 0, rc = add_options(cli, cmd, argc, argv, &h, 1, &tags);

	if (rc == 0 && optind != argc - 1)
		rc = cli_usage_error(cli, cmd, "expected one host NAME");
	if (rc == 0 && !h.libvirt_uri != !h.libvirt_domain)
		rc = cli_usage_error(cli, cmd, "--libvirt and --domain go together");
	if (rc == 0)
		rc = cli_store(cli, &st, 0);
	if (rc == 0)
		rc = inv_host_update(st, argv[optind], &h, tags, &cli->err);
	if (rc == 0)
		printf("updated host '%s'\n", argv[optind]);
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

/* Controls as KEY=VALUE joined by sep, in the vocabulary's order (others,
 * written before the vocabulary existed, after it in name order). */
static char *controls_text(json_t *controls, const char *sep)
{
	struct pl_buf b = PL_BUF_INIT;
	size_t n;
	const struct inv_control_def *defs = inv_controls(&n);
	json_t *v, *copy = json_deep_copy(controls);
	const char *key;

	for (size_t i = 0; i < n; i++)
		if ((v = json_object_get(copy, defs[i].key))) {
			pl_buf_addf(&b, "%s%s=%s", b.len ? sep : "", defs[i].key,
			            inv_control_text(v));
			json_object_del(copy, defs[i].key);
		}
	/* stored with sorted keys, so these come in name order */
	json_object_foreach(copy, key, v)
	{
		if (json_is_integer(v))
			pl_buf_addf(&b, "%s%s=%lld", b.len ? sep : "", key, json_integer_value(v));
		else
			pl_buf_addf(&b, "%s%s=%s", b.len ? sep : "", key, inv_control_text(v));
	}
	json_decref(copy);
	return pl_buf_detach(&b);
}

static int cmd_inventory_list(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
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
	printf("%-24s %-39s %-12s %-12s %-8s %s\n", "NAME", "IP", "ROLE", "ENVIRONMENT", "PACKAGES",
	       "CONTROLS");
	json_array_foreach(arr, i, v)
	{
		PL_AUTOFREE char *c = controls_text(json_object_get(v, "controls"), ",");

		printf("%-24s %-39s %-12s %-12s %-8lld %s\n", jstr(v, "name"), jstr(v, "ip"),
		       jstr(v, "role"), jstr(v, "environment"),
		       json_integer_value(json_object_get(v, "packages")), *c ? c : "-");
	}
	json_decref(arr);
	return 0;
}

static void host_print(json_t *j)
{
	static const char *const keys[] = {"name",
	                                   "ip",
	                                   "os",
	                                   "os_version",
	                                   "location",
	                                   "owner",
	                                   "role",
	                                   "environment",
	                                   "libvirt_uri",
	                                   "libvirt_domain",
	                                   "image",
	                                   "hostname",
	                                   "arch",
	                                   "product",
	                                   "discovered_at",
	                                   "discovered_from",
	                                   "created_at",
	                                   "updated_at"};
	char *tags = json_dumps(json_object_get(j, "tags"), JSON_COMPACT);
	PL_AUTOFREE char *controls = controls_text(json_object_get(j, "controls"), " ");
	json_t *p;
	size_t i;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		printf("%-15s %s\n", keys[k], jstr(j, keys[k]));
	printf("%-15s %s\n%-15s %s\n%-15s %lld\n", "tags", tags ? tags : "[]", "controls",
	       *controls ? controls : "-", "packages",
	       json_integer_value(json_object_get(j, "packages")));
	free(tags);
	json_array_foreach(json_object_get(j, "package_list"), i, p)
	    printf("  %-36s %-24s %-8s %s\n", jstr(p, "name"), jstr(p, "version"), jstr(p, "arch"),
	           jstr(p, "status"));
}

static int cmd_inventory_show(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
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
	                                     {"dir", required_argument, NULL, 'D'},
	                                     {NULL, 0, NULL, 0}};
	const char *dpkg = NULL, *rpm = NULL, *dir = NULL;
	struct inv_pkglist l = INV_PKGLIST_INIT;
	struct store *st;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch == 'd')
			dpkg = optarg;
		else if (ch == 'r')
			rpm = optarg;
		else if (ch == 'D')
			dir = optarg;
		else
			return cli_usage_error(cli, cmd, "unknown option");
	if (dir) {
		size_t hosts = 0, packages = 0;

		if (dpkg || rpm || optind != argc)
			return cli_usage_error(cli, cmd, "--dir takes no HOST, --dpkg-status or --rpm-qa");
		rc = cli_store(cli, &st, 0);
		if (rc == 0)
			rc = inv_packages_import_dir(st, dir, &cli->progress, &hosts, &packages,
			                             &cli->err);
		if (rc == 0)
			printf("%zu hosts, %zu packages\n", hosts, packages);
		return rc;
	}
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one HOST");
	if (!dpkg == !rpm)
		return cli_usage_error(cli, cmd,
		                       "expected one of --dpkg-status FILE, --rpm-qa FILE, --dir DIR");
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

/* ---- discover ------------------------------------------------------------- */

struct discover_args {
	struct inv_discover_opts o;
	const char **domains;
	size_t ndomains;
	const char *accel;
	int fmt;
};

static int discover_options(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
                            struct discover_args *a)
{
	static const struct option opts[] = {{"connect", required_argument, NULL, 'c'},
	                                     {"domain", required_argument, NULL, 'd'},
	                                     {"dry-run", no_argument, NULL, 'n'},
	                                     {"live", no_argument, NULL, 'l'},
	                                     {"accel", required_argument, NULL, 'a'},
	                                     {"format", required_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			a->o.uri = optarg;
			break;
		case 'd':
			a->domains = pl_realloc(a->domains, (a->ndomains + 2) * sizeof(char *));
			a->domains[a->ndomains++] = optarg;
			a->domains[a->ndomains] = NULL;
			break;
		case 'n':
			a->o.dry_run = 1;
			break;
		case 'l':
			a->o.live = 1;
			break;
		case 'a':
			a->accel = optarg;
			break;
		case 'f':
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &a->fmt) < 0)
				return PL_EUSAGE;
			break;
		default:
			return cli_usage_error(cli, cmd, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (!a->o.uri || !*a->o.uri)
		return cli_usage_error(cli, cmd, "--connect URI is required");
	a->o.domains = a->domains;
	return 0;
}

static void discover_print(json_t *arr, const char *uri)
{
	static const char *const results[] = {"added",        "updated", "unchanged", "would add",
	                                      "would update", "skipped", "failed"};
	size_t counts[7] = {0}, i;
	struct pl_buf sum = PL_BUF_INIT;
	json_t *r;

	json_array_foreach(arr, i, r)
	{
		const char *res = jstr(r, "result");

		for (int k = 0; k < 7; k++)
			counts[k] += strcmp(res, results[k]) == 0;
		if (json_object_get(r, "reason"))
			printf("%-24s %-12s %s\n", jstr(r, "domain"), res, jstr(r, "reason"));
		else if (json_object_get(r, "os"))
			printf("%-24s %-12s host '%s': %s %s (%s), hostname %s, %lld packages%s,"
			       " %.1f s\n",
			       jstr(r, "domain"), res, jstr(r, "host"), jstr(r, "os"),
			       jstr(r, "os_version"), jstr(r, "arch"), jstr(r, "hostname"),
			       json_integer_value(json_object_get(r, "packages")),
			       json_is_true(json_object_get(r, "live")) ? " (live)" : "",
			       json_real_value(json_object_get(r, "seconds")));
		else
			printf("%-24s %-12s host '%s', %zu disk%s\n", jstr(r, "domain"), res,
			       jstr(r, "host"), json_array_size(json_object_get(r, "disks")),
			       json_array_size(json_object_get(r, "disks")) == 1 ? "" : "s");
	}
	for (int k = 0; k < 7; k++)
		if (counts[k])
			pl_buf_addf(&sum, "%s%zu %s", sum.len ? ", " : "", counts[k], results[k]);
	printf("%zu domain%s on %s%s%s\n", json_array_size(arr),
	       json_array_size(arr) == 1 ? "" : "s", uri, sum.len ? ": " : "", pl_buf_str(&sum));
	pl_buf_release(&sum);
}

static int cmd_inventory_discover(struct cli *cli, const struct cli_command *cmd, int argc,
                                  char **argv)
{
	struct discover_args a = {.fmt = CLI_FMT_TEXT};
	enum lab_accel want = LAB_ACCEL_AUTO, got = LAB_ACCEL_TCG;
	PL_AUTOFREE char *why = NULL;
	PL_AUTOFREE const char **domains = NULL;
	struct store *st;
	json_t *arr = NULL;
	int rc = discover_options(cli, cmd, argc, argv, &a);

	domains = a.domains;
	if (rc == 0 && a.accel && lab_accel_parse(a.accel, &want, &cli->err) < 0)
		rc = pl_error_prefix(&cli->err, "--accel");
	if (rc == 0)
		rc = cli_store(cli, &st, 0);
	/* the accelerator matters only when appliances are launched */
	if (rc == 0 && !a.o.dry_run && lab_accel_resolve(want, st, &got, &why, &cli->err) < 0)
		rc = cli->err.code;
	if (rc < 0)
		return rc;
	if (why)
		pl_info("%s", why);
	a.o.force_tcg = got == LAB_ACCEL_TCG;
	a.o.progress = &cli->progress;
	rc = inv_discover(st, &a.o, &arr, &cli->err);
	if (!arr)
		return rc;
	if (a.fmt == CLI_FMT_JSON)
		cli_print_json(arr);
	else {
		discover_print(arr, a.o.uri);
		json_decref(arr);
	}
	return rc;
}

/* ---- drift ---------------------------------------------------------------- */

static void drift_print(json_t *groups)
{
	json_t *g, *d, *p, *os;
	size_t i, k, m;

	json_array_foreach(groups, i, g)
	{
		os = json_object_get(g, "os");
		printf("%s/%s: %lld host%s, %lld with packages%s\n", jstr(g, "role"),
		       jstr(g, "environment"), json_integer_value(json_object_get(g, "hosts")),
		       json_integer_value(json_object_get(g, "hosts")) == 1 ? "" : "s",
		       json_integer_value(json_object_get(g, "with_packages")),
		       json_is_true(json_object_get(g, "drift")) ? "" : ": no drift");
		if (json_array_size(json_object_get(os, "differ"))) {
			json_t *maj = json_object_get(os, "majority");

			printf("  os %s %s on %lld of %lld\n", jstr(maj, "os"),
			       jstr(maj, "os_version"),
			       json_integer_value(json_object_get(os, "count")),
			       json_integer_value(json_object_get(g, "hosts")) -
			           (json_int_t)json_array_size(json_object_get(os, "unknown")));
			json_array_foreach(json_object_get(os, "differ"), k, d)
			    printf("    %-24s %s %s\n", jstr(d, "host"), jstr(d, "os"),
			           jstr(d, "os_version"));
		}
		json_array_foreach(json_object_get(g, "packages"), k, p)
		{
			const char *maj = json_string_value(json_object_get(p, "majority"));

			printf("  %s %s on %lld of %lld\n", jstr(p, "name"), maj ? maj : "absent",
			       json_integer_value(json_object_get(p, "count")),
			       json_integer_value(json_object_get(g, "with_packages")));
			json_array_foreach(json_object_get(p, "differ"), m, d)
			{
				const char *state = jstr(d, "state");

				if (strcmp(state, "missing") == 0)
					printf("    %-24s missing\n", jstr(d, "host"));
				else
					printf("    %-24s %s%s\n", jstr(d, "host"),
					       jstr(d, "version"),
					       strcmp(state, "extra") == 0 ? " (extra)" : "");
			}
		}
	}
}

static int cmd_inventory_drift(struct cli *cli, const struct cli_command *cmd, int argc,
                               char **argv)
{
	static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
	                                     {"environment", required_argument, NULL, 'e'},
	                                     {"format", required_argument, NULL, 'f'},
	                                     {"check", no_argument, NULL, 'c'},
	                                     {NULL, 0, NULL, 0}};
	const char *role = NULL, *env = NULL;
	struct store *st;
	json_t *arr = NULL, *g;
	size_t i, drifted = 0;
	int fmt = CLI_FMT_TEXT, ch, check = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch == 'r')
			role = optarg;
		else if (ch == 'e')
			env = optarg;
		else if (ch == 'c')
			check = 1;
		else if (ch != 'f')
			return cli_usage_error(cli, cmd, "unknown option");
		else if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
			return PL_EUSAGE;
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (cli_store(cli, &st, 0) < 0 || inv_drift(st, role, env, &arr, &cli->err) < 0)
		return cli->err.code;
	json_array_foreach(arr, i, g) drifted += json_is_true(json_object_get(g, "drift"));
	if (fmt == CLI_FMT_JSON)
		cli_print_json(arr);
	else {
		drift_print(arr);
		json_decref(arr);
	}
	if (check && drifted)
		return pl_error(&cli->err, PL_EFAIL, "drift in %zu group%s", drifted,
		                drifted == 1 ? "" : "s");
	return 0;
}

/* ---- controls ------------------------------------------------------------- */

static int cmd_inventory_controls(struct cli *cli, const struct cli_command *cmd, int argc,
                                  char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	size_t n;
	const struct inv_control_def *d = inv_controls(&n);
	int fmt = CLI_FMT_TEXT, ch;
	json_t *arr;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch != 'f')
			return cli_usage_error(cli, cmd, "unknown option");
		else if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
			return PL_EUSAGE;
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		struct pl_buf b = PL_BUF_INIT;

		if (d[i].kind == INV_CONTROL_CHOICE)
			for (int k = 0; d[i].choices[k]; k++)
				pl_buf_addf(&b, "%s%s", k ? "|" : "", d[i].choices[k]);
		else
			pl_buf_adds(&b, d[i].kind == INV_CONTROL_ONOFF ? "on|off" : "on|off|NAME");
		json_array_append_new(arr,
		                      json_pack("{s:s, s:s, s:s}", "control", d[i].key, "values",
		                                pl_buf_str(&b), "summary", d[i].summary));
		pl_buf_release(&b);
	}
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(arr);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *c = json_array_get(arr, i);

		printf("%-16s %-28s %s\n", jstr(c, "control"), jstr(c, "values"),
		       jstr(c, "summary"));
	}
	json_decref(arr);
	return 0;
}

const struct cli_command cli_inventory_commands[] = {
    {"import", "import hosts from a CSV or JSON file",
     "inventory import FILE\n"
     "\n"
     "FILE is JSON when its first non-blank byte is '[' (an array of host\n"
     "objects), else CSV with a header line naming the columns: name, ip, os,\n"
     "os_version, location, owner, role, environment, tags (\"a;b\"), controls\n"
     "(\"key=value;key=value\", see 'inventory controls'), libvirt_uri,\n"
     "libvirt_domain, image. One transaction: a bad row imports nothing (exit 2,\n"
     "naming file:line or the JSON path). An existing host is updated.",
     cmd_inventory_import, NULL, 0},
    {"add", "add one host",
     "inventory add NAME [--ip IP] [--os OS] [--os-version V] [--location L]\n"
     "     [--owner O] [--role R] [--environment E] [--tag T ...]\n"
     "     [--control KEY=VALUE ...] [--libvirt URI --domain D] [--image IMG]\n"
     "\n"
     "environment: production, staging, test or development; controls: see\n"
     "'inventory controls' (firewall=on, edr=NAME, exposure=internet, ...).\n"
     "An existing NAME is refused (exit 2).",
     cmd_inventory_add, NULL, 0},
    {"set", "change some fields of a host",
     "inventory set NAME [--ip IP] [--os OS] [--os-version V] [--location L]\n"
     "     [--owner O] [--role R] [--environment E] [--tag T ...]\n"
     "     [--control KEY=VALUE ...] [--control KEY= ...] [--libvirt URI --domain D]\n"
     "     [--image IMG]\n"
     "\n"
     "Changes only what is given: --tag replaces the tags, --control sets one\n"
     "control and KEY= removes it, the others keep theirs. Checked as add checks.",
     cmd_inventory_set, NULL, 0},
    {"remove", "remove a host and its package list", "inventory remove NAME", cmd_inventory_remove,
     NULL, 0},
    {"list", "list the hosts", "inventory list [--role R] [--environment E] [--format text|json]",
     cmd_inventory_list, NULL, 0},
    {"show", "show a host, with its package count or list",
     "inventory show NAME [--packages] [--format text|json]", cmd_inventory_show, NULL, 0},
    {"packages", "replace a host's package list, or many from a directory",
     "inventory packages HOST --dpkg-status FILE\n"
     "inventory packages HOST --rpm-qa FILE\n"
     "inventory packages --dir DIR\n"
     "\n"
     "Reads dpkg's status file (every package dpkg-query -W lists, with its\n"
     "status words) or the output of\n"
     "  rpm -qa --qf '%{NAME}\\t%{EPOCH}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\n'\n"
     "and replaces HOST's packages in one transaction.\n"
     "With --dir, every file of DIR is HOST.status or HOST.rpmqa and all of\n"
     "them go in one transaction: another file, an unknown host or a bad\n"
     "list changes nothing.",
     cmd_inventory_packages, NULL, 0},
    {"discover", "inspect the domains of a libvirt connection into the inventory",
     "inventory discover --connect URI [--domain NAME ...] [--live] [--dry-run]\n"
     "     [--accel auto|kvm|tcg] [--format text|json]\n"
     "\n"
     "Lists the domains of URI (opened read-only) and reads each one's disks\n"
     "(file, block and pool volumes; CD-ROMs skipped) read-only with libguestfs,\n"
     "one appliance per domain: OS, version, hostname, arch and the installed\n"
     "packages (dpkg's status file, or libguestfs's list for rpm guests). The\n"
     "host linked to URI and the domain is updated, else a host named after the\n"
     "domain is added; role, owner, environment, tags and controls are kept.\n"
     "One transaction per domain. Running domains are skipped: their disks\n"
     "change under the reader; --live inspects them anyway, read-only, and\n"
     "marks the result live. --dry-run lists the domains, their disks and the\n"
     "host each would become, launching and writing nothing. A domain that\n"
     "fails is reported with the reason and the others go on; exit 1 then.\n"
     "Disks must be reachable here by the path libvirt names.",
     cmd_inventory_discover, NULL, 0},
    {"drift", "OS and package versions that differ from the majority of a role",
     "inventory drift [--role R] [--environment E] [--check] [--format text|json]\n"
     "\n"
     "Per role and environment: the most common OS and version and the hosts\n"
     "with another; per installed package the most common version and the\n"
     "hosts with another version, without it (when most have it) or with it\n"
     "(when most lack it: extra). Hosts without a package list take no part in\n"
     "package drift. Ties: a package present beats absent, then the higher\n"
     "version (dpkg or rpm order) wins. --check exits 1 when any group drifts.",
     cmd_inventory_drift, NULL, 0},
    {"controls", "list the security controls a host can record",
     "inventory controls [--format text|json]", cmd_inventory_controls, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};
