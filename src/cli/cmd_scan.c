/* cmd_scan.c - 'patchlab scan': the one-shot missing-patch scan over files,
 * or (without --dpkg-status and --packages) the database scan of the
 * inventory. */
#include "cli.h"

#include <getopt.h>

#include "detect/detect.h"
#include "risk/risk.h"

static json_t *scan_json(const struct detect_result *r)
{
	json_t *up = json_array(), *unfixed = json_array();
	size_t with_cves = 0, ncves = 0;

	for (size_t i = 0; i < r->nup; i++) {
		const struct detect_upgrade *u = &r->up[i];
		json_t *cves = json_array();

		for (size_t k = 0; k < u->ncves; k++)
			json_array_append_new(cves, json_string(u->cves[k]));
		with_cves += u->ncves > 0;
		ncves += u->ncves;
		json_array_append_new(
		    up, json_pack(
		            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s?}", "package", u->package,
		            "arch", u->arch, "installed", u->installed, "candidate", u->candidate,
		            "source", u->source, "installed_source_version", u->installed_source,
		            "candidate_source_version", u->candidate_source, "cves", cves,
		            "severity", u->severity < 0 ? NULL : detect_urgency_name(u->severity)));
	}
	for (size_t i = 0; i < r->nunfixed; i++)
		json_array_append_new(
		    unfixed, json_pack("{s:s, s:s, s:s, s:s}", "package", r->unfixed[i].package,
		                       "source", r->unfixed[i].source, "cve", r->unfixed[i].cve,
		                       "urgency", detect_urgency_name(r->unfixed[i].urgency)));
	return json_pack("{s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "upgradable", up,
	                 "unfixed", unfixed, "counts", "installed", (json_int_t)r->installed,
	                 "index_stanzas", (json_int_t)r->indexed, "upgradable", (json_int_t)r->nup,
	                 "upgradable_with_cves", (json_int_t)with_cves, "fixed_cves",
	                 (json_int_t)ncves, "unfixed", (json_int_t)r->nunfixed);
}

static void scan_tsv(const struct detect_result *r)
{
	printf("package\tarch\tinstalled\tcandidate\tcves\tseverity\tpriority\n");
	for (size_t i = 0; i < r->nup; i++) {
		const struct detect_upgrade *u = &r->up[i];
		const char *sev = detect_urgency_name(u->severity);

		printf("%s\t%s\t%s\t%s\t", u->package, u->arch, u->installed, u->candidate);
		if (u->ncves == 0)
			fputc('-', stdout);
		for (size_t k = 0; k < u->ncves; k++)
			printf("%s%s", k ? "," : "", u->cves[k]);
		printf("\t%s\t%s\n", sev, sev);
	}
}

/* Loads everything named on the command line; errors name the file. */
static int scan_load(struct cli *cli, const char *status, char **pkgs, size_t npkgs, char **feeds,
                     size_t nfeeds, struct pkgdb_pkglist *list, struct detect_index *ix,
                     struct detect_feed *feed)
{
	if (pkgdb_dpkg_status_load(status, list, &cli->err) < 0)
		return cli->err.code;
	for (size_t i = 0; i < npkgs; i++)
		if (detect_index_load(ix, pkgs[i], &cli->err) < 0)
			return cli->err.code;
	for (size_t i = 0; i < nfeeds; i++)
		if (detect_feed_load(feed, feeds[i], &cli->err) < 0)
			return cli->err.code;
	return 0;
}

/* ---- the database scan -------------------------------------------------- */

static json_t *dbscan_json(const struct detect_dbscan_result *r)
{
	json_t *sev = json_object(), *lvl = json_object();

	json_object_set_new(sev, "none", json_integer((json_int_t)r->by_severity[0]));
	for (int i = DETECT_URG_UNIMPORTANT; i <= DETECT_URG_HIGH; i++)
		json_object_set_new(sev, detect_urgency_name(i),
		                    json_integer((json_int_t)r->by_severity[i + 1]));
	for (int i = 1; i <= 4; i++)
		json_object_set_new(lvl, risk_priority_level_name(i),
		                    json_integer((json_int_t)r->by_level[i - 1]));
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f,"
	                 " s:o, s:o, s:O, s:O}",
	                 "scan", (json_int_t)r->scan_id, "hosts", (json_int_t)r->hosts, "scanned",
	                 (json_int_t)r->scanned, "skipped", (json_int_t)r->skipped, "packages",
	                 (json_int_t)r->packages, "rebuilt", (json_int_t)r->rebuilt, "findings",
	                 (json_int_t)r->findings, "opened", (json_int_t)r->opened, "updated",
	                 (json_int_t)r->updated, "unchanged", (json_int_t)r->unchanged, "resolved",
	                 (json_int_t)r->resolved, "unfixed", (json_int_t)r->unfixed, "missing",
	                 (json_int_t)r->missing, "seconds", r->seconds, "by_severity", sev,
	                 "by_priority", lvl, "notes", r->notes, "hosts_detail", r->details);
}

static void dbscan_text(const struct detect_dbscan_result *r)
{
	size_t i;
	json_t *n;

	printf("scanned %zu of %zu host(s) in %.2f s: %zu open finding(s); %zu new, %zu changed, "
	       "%zu resolved\n",
	       r->scanned, r->hosts, r->seconds, r->findings, r->opened, r->updated, r->resolved);
	printf("  packages:    %zu installed evaluated (%zu package list(s) read again)\n",
	       r->packages, r->rebuilt);
	printf("  by severity: high %zu, medium %zu, low %zu, unimportant %zu, no CVE %zu\n",
	       r->by_severity[4], r->by_severity[3], r->by_severity[2], r->by_severity[1],
	       r->by_severity[0]);
	printf("  by priority: P1 %zu, P2 %zu, P3 %zu, P4 %zu\n", r->by_level[0], r->by_level[1],
	       r->by_level[2], r->by_level[3]);
	printf("  unfixed:     %zu open or undetermined CVE(s) of installed sources\n", r->unfixed);
	if (r->missing)
		printf("  missing:     %zu CVE(s) fixed in the tracker above the installed version "
		       "but in no synced index\n",
		       r->missing);
	json_array_foreach (r->notes, i, n)
		printf("  %s %s: %s\n",
		       json_is_true(json_object_get(n, "skipped")) ? "skipped" : "note",
		       json_string_value(json_object_get(n, "host")),
		       json_string_value(json_object_get(n, "note")));
}

/* patchlab scan [--host H ...] [--format text|json] */
static int dbscan_run(struct cli *cli, char **hosts, int fmt)
{
	struct detect_dbscan_opts o = {.hosts = hosts[0] ? (const char *const *)hosts : NULL,
	                               .progress = &cli->progress,
	                               .host_details = fmt == CLI_FMT_JSON};
	struct detect_dbscan_result r;
	struct store *st;
	int rc;

	if (cli_store(cli, &st, 0) < 0 || detect_dbscan(st, &o, &r, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		rc = cli_print_json(dbscan_json(&r));
	else {
		dbscan_text(&r);
		rc = 0;
	}
	if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
		rc = pl_error(&cli->err, PL_EIO, "writing the output: %s", strerror(errno));
	/* fail closed: a host left unscanned is a coverage check that failed */
	if (rc == 0 && r.skipped)
		rc = pl_error(&cli->err, PL_EFAIL,
		              "%zu of %zu host(s) not scanned (see the notes); their findings are "
		              "as the last scan left them",
		              r.skipped, r.hosts);
	detect_dbscan_result_release(&r);
	return rc;
}

int cmd_scan(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"dpkg-status", required_argument, NULL, 's'},
	                                     {"packages", required_argument, NULL, 'p'},
	                                     {"feed", required_argument, NULL, 'F'},
	                                     {"release", required_argument, NULL, 'r'},
	                                     {"format", required_argument, NULL, 'f'},
	                                     {"host", required_argument, NULL, 'H'},
	                                     {NULL, 0, NULL, 0}};
	PL_AUTOFREE char **pkgs = pl_calloc((size_t)argc + 1, sizeof(char *));
	PL_AUTOFREE char **feeds = pl_calloc((size_t)argc + 1, sizeof(char *));
	PL_AUTOFREE char **hosts = pl_calloc((size_t)argc + 1, sizeof(char *));
	PL_AUTOFREE char *release = NULL;
	struct pkgdb_pkglist list = PKGDB_PKGLIST_INIT;
	struct detect_result res = {0};
	struct detect_index *ix;
	struct detect_feed *feed;
	const char *status = NULL, *format = NULL;
	size_t npkgs = 0, nfeeds = 0, nhosts = 0;
	int fmt = CLI_FMT_TSV, ch, rc;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's')
			status = optarg;
		else if (ch == 'p')
			pkgs[npkgs++] = optarg;
		else if (ch == 'F')
			feeds[nfeeds++] = optarg;
		else if (ch == 'H')
			hosts[nhosts++] = optarg;
		else if (ch == 'r') {
			free(release);
			release = pl_strdup(optarg);
		} else if (ch == 'f')
			format = optarg;
		else
			return cli_usage_error(cli, cmd, "unknown option");
	}
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (!status && npkgs == 0) {
		if (nfeeds || release)
			return cli_usage_error(cli, cmd,
			                       "--feed and --release belong to the one-shot scan "
			                       "(--dpkg-status FILE --packages FILE); the database "
			                       "scan reads the feeds of 'patchlab feed'");
		fmt = CLI_FMT_TEXT;
		if (format && cli_parse_format(cli, format, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
			return PL_EUSAGE;
		return dbscan_run(cli, hosts, fmt);
	}
	if (nhosts)
		return cli_usage_error(cli, cmd,
		                       "--host belongs to the database scan (no "
		                       "--dpkg-status or --packages)");
	if (format && cli_parse_format(cli, format, CLI_FMT_TSV | CLI_FMT_JSON, &fmt) < 0)
		return PL_EUSAGE;
	if (!status || npkgs == 0)
		return cli_usage_error(cli, cmd, "expected --dpkg-status FILE and --packages FILE");
	if (!release && !(release = detect_os_codename("/etc/os-release")))
		release = pl_strdup("bookworm");
	ix = detect_index_new();
	feed = detect_feed_new(release);
	rc = scan_load(cli, status, pkgs, npkgs, feeds, nfeeds, &list, ix, feed);
	if (rc == 0)
		rc = detect_scan(&list, ix, nfeeds ? feed : NULL, &res, &cli->err);
	if (rc == 0) {
		if (fmt == CLI_FMT_JSON)
			rc = cli_print_json(scan_json(&res));
		else
			scan_tsv(&res);
		if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
			rc = pl_error(&cli->err, PL_EIO, "writing the output: %s", strerror(errno));
	}
	detect_result_free(&res);
	detect_feed_free(feed);
	detect_index_free(ix);
	pkgdb_pkglist_free(&list);
	return rc;
}
