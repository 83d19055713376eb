/* cmd_feed.c - 'patchlab feed add|sync|list|show|remove|cve'. */
#include "cli.h"

#include <getopt.h>

#include "detect/detect.h"

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : "-";
}

/* "tracker 1200, tracker_cves 400" from a counts object; total in *sum. */
static void counts_line(json_t *counts, struct pl_buf *b, long long *sum)
{
	const char *k;
	json_t *v;

	*sum = 0;
	json_object_foreach (counts, k, v) {
		pl_buf_addf(b, "%s%s %lld", b->len ? ", " : "", k, json_integer_value(v));
		*sum += json_integer_value(v);
	}
}

static int cmd_feed_add(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"kind", required_argument, NULL, 'k'},
	                                     {"url", required_argument, NULL, 'u'},
	                                     {"release", required_argument, NULL, 'r'},
	                                     {NULL, 0, NULL, 0}};
	const char *kind_s = NULL, *url = NULL, *release = NULL;
	struct store *st;
	int ch, kind;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch == 'k')
			kind_s = optarg;
		else if (ch == 'u')
			url = optarg;
		else if (ch == 'r')
			release = optarg;
		else
			return cli_usage_error(cli, cmd, "unknown option");
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one feed NAME");
	if (!kind_s || !url)
		return cli_usage_error(cli, cmd, "expected --kind KIND and --url URL|PATH");
	if ((kind = detect_feed_kind_parse(kind_s)) < 0)
		return cli_usage_error(
		    cli, cmd, "--kind '%s': expected debian-tracker, osv, epss or kev", kind_s);
	if (cli_store(cli, &st, 0) < 0 ||
	    detect_feedstore_add(st, argv[optind], kind, url, release, &cli->err) < 0)
		return cli->err.code;
	printf("added feed '%s' (%s)\n", argv[optind], kind_s);
	return 0;
}

static void sync_text(const char *name, const struct detect_sync_result *r)
{
	PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;
	long long sum;

	if (r->not_modified) {
		printf("%s: not modified (the server answered 304)\n", name);
		return;
	}
	if (r->unchanged) {
		printf("%s: unchanged (same SHA-256 as the last sync)\n", name);
		return;
	}
	counts_line(r->counts, &b, &sum);
	printf("%s: %lld rows (%s) in %.1f s\n", name, sum, pl_buf_str(&b), r->seconds);
}

static json_t *sync_json(const char *name, const struct detect_sync_result *r)
{
	const char *result = r->not_modified ? "not-modified"
	                     : r->unchanged  ? "unchanged"
	                                     : "synced";

	return json_pack("{s:s, s:s, s:O?, s:I, s:f}", "name", name, "result", result, "counts",
	                 r->counts, "bytes", (json_int_t)r->bytes, "seconds", r->seconds);
}

/* The names to sync: those given, or every feed. */
static int sync_names(struct cli *cli, struct store *st, int argc, char **argv, json_t **names)
{
	json_t *list = NULL, *v;
	size_t i;

	*names = json_array();
	if (optind < argc) {
		for (int k = optind; k < argc; k++)
			json_array_append_new(*names, json_string(argv[k]));
		return 0;
	}
	if (detect_feedstore_list(st, &list, &cli->err) < 0)
		return cli->err.code;
	json_array_foreach (list, i, v)
		json_array_append(*names, json_object_get(v, "name"));
	json_decref(list);
	return 0;
}

static int cmd_feed_sync(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'F'},
	                                     {"timeout", required_argument, NULL, 't'},
	                                     {"format", required_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	struct detect_sync_opts o = {.progress = &cli->progress};
	PL_AUTOJSON json_t *names = NULL;
	json_t *out = json_array(), *v;
	struct store *st;
	long timeout = 0;
	int ch, fmt = CLI_FMT_TEXT, rc = 0;
	size_t i;

	while (rc == 0 && (ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			o.force = 1;
			break;
		case 't':
			rc = pl_parse_long(optarg, 1, 86400, &timeout, "--timeout", &cli->err);
			break;
		case 'f':
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
				rc = PL_EUSAGE;
			break;
		default:
			rc = cli_usage_error(cli, cmd, "unknown option");
		}
	}
	if (rc < 0) {
		json_decref(out);
		return rc;
	}
	o.timeout_s = timeout;
	if (cli_store(cli, &st, 0) < 0 || sync_names(cli, st, argc, argv, &names) < 0) {
		json_decref(out);
		return cli->err.code;
	}
	json_array_foreach (names, i, v) {
		struct detect_sync_result r = {0};
		const char *name = json_string_value(v);

		rc = detect_feedstore_sync(st, name, &o, &r, &cli->err);
		if (rc == 0 && fmt == CLI_FMT_TEXT)
			sync_text(name, &r);
		else if (rc == 0)
			json_array_append_new(out, sync_json(name, &r));
		detect_sync_result_release(&r);
		if (rc < 0)
			break;
	}
	if (rc == 0 && fmt == CLI_FMT_JSON)
		return cli_print_json(out);
	json_decref(out);
	return rc;
}

static int cmd_feed_list(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	struct store *st;
	json_t *arr = NULL, *v;
	int fmt = CLI_FMT_TEXT, ch;
	size_t i;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch != 'f')
			return cli_usage_error(cli, cmd, "unknown option");
		else if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
			return PL_EUSAGE;
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (cli_store(cli, &st, 0) < 0 || detect_feedstore_list(st, &arr, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(arr);
	printf("%-20s %-15s %-21s %-10s %s\n", "NAME", "KIND", "SYNCED", "ROWS", "URL");
	json_array_foreach (arr, i, v) {
		PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;
		long long sum;

		counts_line(json_object_get(v, "counts"), &b, &sum);
		printf("%-20s %-15s %-21s %-10lld %s\n", jstr(v, "name"), jstr(v, "kind"),
		       jstr(v, "synced_at"), sum, jstr(v, "url"));
	}
	json_decref(arr);
	return 0;
}

static void feed_print(json_t *j)
{
	static const char *const keys[] = {"name",    "kind",      "url",
	                                   "release", "etag",      "last_modified",
	                                   "sha256",  "synced_at", "checked_at"};
	const char *k;
	json_t *v;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		printf("%-14s %s\n", keys[i], jstr(j, keys[i]));
	printf("%-14s %lld\n", "bytes", json_integer_value(json_object_get(j, "bytes")));
	json_object_foreach (json_object_get(j, "counts"), k, v)
		printf("%-14s %lld\n", k, json_integer_value(v));
	json_object_foreach (json_object_get(j, "info"), k, v) {
		char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		printf("%-14s %s\n", k, json_is_string(v) ? json_string_value(v) : t ? t : "-");
		free(t);
	}
}

static int cmd_feed_show(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	struct store *st;
	json_t *j = NULL;
	int fmt = CLI_FMT_TEXT, ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch != 'f')
			return cli_usage_error(cli, cmd, "unknown option");
		else if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
			return PL_EUSAGE;
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one feed NAME");
	if (cli_store(cli, &st, 0) < 0 ||
	    detect_feedstore_show(st, argv[optind], &j, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(j);
	feed_print(j);
	json_decref(j);
	return 0;
}

static int cmd_feed_remove(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{NULL, 0, NULL, 0}};
	struct store *st;

	if (getopt_long(argc, argv, "", opts, NULL) != -1)
		return cli_usage_error(cli, cmd, "unknown option");
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one feed NAME");
	if (cli_store(cli, &st, 0) < 0 || detect_feedstore_remove(st, argv[optind], &cli->err) < 0)
		return cli->err.code;
	printf("removed feed '%s'\n", argv[optind]);
	return 0;
}

static void cve_print_osv(json_t *adv)
{
	json_t *p, *r;
	size_t i, k;

	printf("  %-12s %s [%s] %s\n", "osv", jstr(adv, "id"), jstr(adv, "feed"),
	       jstr(adv, "summary"));
	json_array_foreach (json_object_get(adv, "packages"), i, p) {
		json_array_foreach (json_object_get(p, "ranges"), k, r)
			printf("  %-12s   %s/%s %s: introduced %s, fixed %s%s%s\n", "",
			       jstr(p, "ecosystem"), jstr(p, "package"), jstr(r, "type"),
			       jstr(r, "introduced"), jstr(r, "fixed"),
			       json_is_string(json_object_get(r, "last_affected"))
			           ? ", last affected "
			           : "",
			       json_is_string(json_object_get(r, "last_affected"))
			           ? jstr(r, "last_affected")
			           : "");
	}
}

static void cve_print(json_t *j)
{
	json_t *v;
	size_t i;

	printf("%s\n", jstr(j, "cve"));
	if (json_is_string(json_object_get(j, "description")))
		printf("  %-12s %s\n", "description", jstr(j, "description"));
	json_array_foreach (json_object_get(j, "tracker"), i, v)
		printf("  %-12s %s %s %s %s (%s) [%s]\n", "tracker", jstr(v, "source"),
		       jstr(v, "release"), jstr(v, "status"), jstr(v, "fixed_version"),
		       jstr(v, "urgency"), jstr(v, "feed"));
	json_array_foreach (json_object_get(j, "osv"), i, v)
		cve_print_osv(v);
	json_array_foreach (json_object_get(j, "cvss"), i, v)
		printf("  %-12s %.1f %s %s (%s) [%s]\n", "cvss",
		       json_number_value(json_object_get(v, "base_score")), jstr(v, "severity"),
		       jstr(v, "vector"), jstr(v, "source"), jstr(v, "feed"));
	json_array_foreach (json_object_get(j, "epss"), i, v)
		printf("  %-12s %.5f (percentile %.5f, %s) [%s]\n", "epss",
		       json_number_value(json_object_get(v, "epss")),
		       json_number_value(json_object_get(v, "percentile")), jstr(v, "score_date"),
		       jstr(v, "feed"));
	json_array_foreach (json_object_get(j, "kev"), i, v)
		printf("  %-12s added %s, due %s, ransomware %s: %s %s [%s]\n", "kev",
		       jstr(v, "date_added"), jstr(v, "due_date"), jstr(v, "ransomware"),
		       jstr(v, "vendor"), jstr(v, "product"), jstr(v, "feed"));
}

static int cmd_feed_cve(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
	                                     {NULL, 0, NULL, 0}};
	struct store *st;
	json_t *j = NULL;
	int fmt = CLI_FMT_TEXT, ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (ch != 'f')
			return cli_usage_error(cli, cmd, "unknown option");
		else if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
			return PL_EUSAGE;
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one CVE id");
	if (cli_store(cli, &st, 0) < 0 || detect_lookup_cve(st, argv[optind], &j, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(j);
	cve_print(j);
	json_decref(j);
	return 0;
}

const struct cli_command cli_feed_commands[] = {
    {"add", "register a vulnerability feed",
     "feed add NAME --kind debian-tracker|osv|epss|kev --url URL|PATH [--release R]\n"
     "\n"
     "Registers feed NAME (letters, digits, '.', '_', '-'), read from URL (any\n"
     "URL libcurl takes: file://, http://, https://) or a local PATH (made\n"
     "absolute). Kinds: debian-tracker (the Security Tracker's data/json; with\n"
     "--release only that release is kept), osv (one OSV .json file, a\n"
     "directory of them, or a .zip such as OSV's all.zip), epss (FIRST's CSV,\n"
     "plain or gzip) and kev (CISA's known_exploited_vulnerabilities.json).\n"
     "Nothing is fetched until 'feed sync'.",
     cmd_feed_add, NULL, 0},
    {"sync", "fetch feeds and replace their rows",
     "feed sync [NAME ...] [--force] [--timeout SECONDS] [--format text|json]\n"
     "\n"
     "Fetches each feed (every feed without NAME), with the validators of the\n"
     "last sync (a 304 answer changes nothing), parses it and replaces its rows\n"
     "in one transaction. The same bytes as last time are not read again unless\n"
     "--force. Bad input is an error naming the file and the JSON path or line\n"
     "(exit 2) and leaves the feed's rows as they were; a failed transfer too\n"
     "(exit 2 or 3). Stops at the first feed that fails.",
     cmd_feed_sync, NULL, 0},
    {"list", "list the feeds", "feed list [--format text|json]", cmd_feed_list, NULL, 0},
    {"show", "show one feed: its source, validators, counts", "feed show NAME [--format text|json]",
     cmd_feed_show, NULL, 0},
    {"remove", "remove a feed and its rows", "feed remove NAME", cmd_feed_remove, NULL, 0},
    {"cve", "everything the feeds say about one CVE",
     "feed cve CVE-ID [--format text|json]\n"
     "\n"
     "Tracker status per source and release, OSV advisories naming it (with\n"
     "their packages and ranges), CVSS v3 vectors and base scores, EPSS score\n"
     "and percentile, and KEV entry. Exit 2 when no feed mentions it.",
     cmd_feed_cve, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};
