/* cmd_init.c - 'patchlab init' and 'patchlab status'. */
#include "cli.h"

#include <curl/curl.h>
#include <getopt.h>
#include <libvirt/libvirt.h>

/* The artefact folders of the state directory, beside patchlab.db. QEMU
 * runs as its own user and must traverse to images and runs (0711: it can
 * open a path it knows, not list anything). */
static const struct {
	const char *name;
	int mode;
} init_dirs[] = {{"images", 0711}, {"runs", 0711}, {"patches", 0750}, {"cache", 0750}};

static int init_parse_format(struct cli *cli, const struct cli_command *cmd, int argc,
			     char **argv, int *fmt)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
					     {NULL, 0, NULL, 0}};
	int c;

	*fmt = CLI_FMT_TEXT;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'f')
			return cli_usage_error(cli, cmd, "unknown option");
		if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, fmt) < 0)
			return PL_EUSAGE;
	}
	if (optind < argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}

int cmd_init(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct store *st;
	int fmt, version = 0, existed;

	if (init_parse_format(cli, cmd, argc, argv, &fmt) < 0)
		return cli->err.code;
	{
		PL_AUTOFREE char *db = pl_path_join(cli->state_dir, STORE_DB_NAME);

		existed = pl_path_exists(db);
	}
	if (cli_store(cli, &st, 1) < 0 || store_schema_version(st, &version, &cli->err) < 0)
		return cli->err.code;
	for (size_t i = 0; i < sizeof(init_dirs) / sizeof(init_dirs[0]); i++) {
		PL_AUTOFREE char *d = pl_path_join(cli->state_dir, init_dirs[i].name);

		if (pl_mkdir_p(d, init_dirs[i].mode, &cli->err) < 0)
			return cli->err.code;
	}
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(json_pack("{s:s, s:s, s:i, s:b}", "state_dir", cli->state_dir,
						"database", st->path, "schema_version", version,
						"created", !existed));
	printf("%s patchlab state in %s (schema version %d)\n",
	       existed ? "using" : "initialised", cli->state_dir, version);
	return 0;
}

int cmd_status(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	PL_AUTOJSON json_t *j = NULL;
	unsigned long virt = 0;
	struct store *st;
	int fmt, version = 0;

	if (init_parse_format(cli, cmd, argc, argv, &fmt) < 0)
		return cli->err.code;
	if (cli_store(cli, &st, 0) < 0 || store_schema_version(st, &version, &cli->err) < 0)
		return cli->err.code;
	virGetVersion(&virt, NULL, NULL);
	j = json_pack("{s:s, s:s, s:i, s:i, s:{s:s, s:s, s:s, s:s}}", "state_dir", cli->state_dir,
		      "database", st->path, "schema_version", version, "schema_latest",
		      store_schema_latest(), "libraries", "sqlite", sqlite3_libversion(),
		      "jansson", JANSSON_VERSION, "curl", curl_version_info(CURLVERSION_NOW)->version,
		      "libvirt", "");
	json_object_set_new(json_object_get(j, "libraries"), "libvirt",
			    json_sprintf("%lu.%lu.%lu", virt / 1000000, virt / 1000 % 1000,
					 virt % 1000));
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(json_incref(j));
	printf("state:    %s\ndatabase: %s (schema %d of %d)\n", cli->state_dir, st->path, version,
	       store_schema_latest());
	printf("libraries: sqlite %s, jansson %s, libcurl %s, libvirt %s\n", sqlite3_libversion(),
	       JANSSON_VERSION, curl_version_info(CURLVERSION_NOW)->version,
	       json_string_value(json_object_get(json_object_get(j, "libraries"), "libvirt")));
	return 0;
}
