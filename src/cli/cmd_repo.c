/* cmd_repo.c - 'patchlab repo add|list|show|remove|sync|download'. */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>

#include "repo/repo.h"

/* ---- progress: one line per file on a terminal --------------------------- */

struct repo_progress {
	struct cli *cli;
	char label[256];
	int open; /* a line is drawn without its newline yet */
};

static void repo_progress_draw(struct repo_progress *p, const char *fmt, ...) PL_PRINTF(2, 3);

static void repo_progress_draw(struct repo_progress *p, const char *fmt, ...)
{
	va_list ap;

	fputs("\r\033[K    ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	p->open = 1;
}

/* Ends the open line, if any. */
static void repo_progress_close(struct repo_progress *p)
{
	if (p->open)
		fputc('\n', stderr);
	p->open = 0;
}

/* One line per file: "fetch" (net) draws and redraws it with "fetching",
 * "verify" (repo) finishes it. */
static void repo_progress_stage(void *ctx, const char *stage, const char *detail)
{
	struct repo_progress *p = ctx;

	if (strcmp(stage, "fetch") == 0) {
		repo_progress_close(p);
		snprintf(p->label, sizeof(p->label), "%s", detail);
		repo_progress_draw(p, "%s", detail);
	} else if (strcmp(stage, "fetching") == 0) {
		repo_progress_draw(p, "%s", detail);
	} else if (strcmp(stage, "verify") == 0) {
		repo_progress_draw(p, "%s: verifying", detail);
	}
}

static void repo_progress_done(void *ctx, const char *stage, int rc, double secs)
{
	struct repo_progress *p = ctx;

	if (strcmp(stage, "fetch") == 0) {
		repo_progress_draw(p, "%s: %s in %.1f s", p->label, rc == 0 ? "done" : "FAILED",
		                   secs);
		if (rc != 0)
			repo_progress_close(p);
	} else if (strcmp(stage, "verify") == 0) {
		repo_progress_draw(p, "%s: %s in %.1f s", p->label,
		                   rc == 0 ? "verified" : "REFUSED", secs);
		repo_progress_close(p);
	}
}

/* The sink: the redrawn line on a terminal; otherwise nothing (the summary
 * on standard output says it all) unless -v asks for the common one. */
static const struct pl_progress *repo_progress(struct cli *cli, struct repo_progress *rp,
                                               struct pl_progress *sink)
{
	memset(rp, 0, sizeof(*rp));
	rp->cli = cli;
	if (cli->verbosity < 0)
		return NULL;
	if (cli->is_tty) {
		*sink = (struct pl_progress){repo_progress_stage, repo_progress_done, rp};
		return sink;
	}
	return cli->verbosity > 0 ? &cli->progress : NULL;
}

/* ---- add ------------------------------------------------------------------- */

struct add_args {
	int from_apt;
	const char *url, *keyring;
	char **suites, **components, **arches;
};

static void add_args_free(struct add_args *a)
{
	char **v[] = {a->suites, a->components, a->arches};

	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; v[k] && v[k][i]; i++)
			free(v[k][i]);
		free(v[k]);
	}
}

/* Appends a copy of s to a NULL-terminated vector (duplicates are kept:
 * repo_add names them). */
static char **strv_push(char **v, const char *s)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	v = pl_realloc(v, (n + 2) * sizeof(*v));
	v[n] = pl_strdup(s);
	v[n + 1] = NULL;
	return v;
}

static int add_getopt(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
                      struct add_args *a)
{
	static const struct option opts[] = {
	    {"from-apt-sources", no_argument, NULL, 'F'},
	    {"url", required_argument, NULL, 'u'},
	    {"suite", required_argument, NULL, 's'},
	    {"component", required_argument, NULL, 'c'},
	    {"arch", required_argument, NULL, 'a'},
	    {"keyring", required_argument, NULL, 'k'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			a->from_apt = 1;
			break;
		case 'u':
			a->url = optarg;
			break;
		case 's':
			a->suites = strv_push(a->suites, optarg);
			break;
		case 'c':
			a->components = strv_push(a->components, optarg);
			break;
		case 'a':
			a->arches = strv_push(a->arches, optarg);
			break;
		case 'k':
			a->keyring = optarg;
			break;
		default:
			return cli_usage_error(cli, cmd, "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one repository NAME");
	if (a->from_apt == !!a->url)
		return cli_usage_error(cli, cmd, "expected one of --from-apt-sources, --url URL");
	if (a->from_apt && a->components)
		return cli_usage_error(cli, cmd,
		                       "--component comes from the apt sources with "
		                       "--from-apt-sources");
	return 0;
}

/* Builds r from the apt sources (PATCHLAB_APT_ROOT names another root). */
static int add_from_apt(struct cli *cli, const struct add_args *a, struct repo *r)
{
	const char *root = getenv("PATCHLAB_APT_ROOT");
	struct repo_source_list l;
	int rc;

	for (size_t i = 0; a->suites && a->suites[i]; i++)
		if (repo_field_check("suite", a->suites[i], &cli->err) < 0)
			return cli->err.code;
	if (a->keyring && repo_field_check("keyring", a->keyring, &cli->err) < 0)
		return cli->err.code;
	if (repo_apt_sources_load(root && *root ? root : NULL, &l, &cli->err) < 0)
		return cli->err.code;
	rc = repo_from_apt_sources(&l, (const char *const *)a->suites, a->keyring, r, &cli->err);
	repo_source_list_free(&l);
	return rc;
}

static void print_list(const char *label, char *const *v)
{
	printf("  %-14s", label);
	for (size_t i = 0; v && v[i]; i++)
		printf(" %s", v[i]);
	printf("\n");
}

static int cmd_repo_add(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct add_args a = {0};
	struct repo r = {0};
	struct store *st;
	int rc = add_getopt(cli, cmd, argc, argv, &a);

	if (rc == 0)
		rc = repo_field_check("name", argv[optind], &cli->err);
	if (rc == 0) {
		r.name = pl_strdup(argv[optind]);
		r.architectures = a.arches ? PL_STEAL(a.arches) : strv_push(NULL, "");
		if (!r.architectures[0][0]) {
			free(r.architectures[0]);
			r.architectures[0] = repo_default_arch();
		}
	}
	if (rc == 0 && a.from_apt) {
		rc = add_from_apt(cli, &a, &r);
	} else if (rc == 0) {
		r.uri = pl_strdup(a.url);
		r.suites = PL_STEAL(a.suites);
		r.components = PL_STEAL(a.components);
		r.keyring = pl_strdup(a.keyring ? a.keyring : REPO_DEFAULT_KEYRING);
		r.origin = pl_strdup("url");
	}
	if (rc == 0)
		rc = cli_store(cli, &st, 0);
	if (rc == 0)
		rc = repo_add(st, &r, &cli->err);
	if (rc == 0) {
		printf("added repository '%s' (%s)\n  %-14s %s\n", r.name, r.origin, "uri", r.uri);
		print_list("suites", r.suites);
		print_list("components", r.components);
		print_list("architectures", r.architectures);
		printf("  %-14s %s\n", "keyring", r.keyring);
	}
	repo_clear(&r);
	add_args_free(&a);
	return rc;
}

/* ---- list, show, remove ------------------------------------------------------ */

static int parse_format_only(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
                             int *fmt)
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
	return 0;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : "-";
}

/* The strings of a JSON array joined by sep, into a static-free buffer. */
static char *jjoin(json_t *arr, const char *sep)
{
	struct pl_buf b = PL_BUF_INIT;
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) pl_buf_addf(&b, "%s%s", i ? sep : "", json_string_value(v));
	return pl_buf_detach(&b);
}

static int cmd_repo_list(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct store *st;
	json_t *arr = NULL, *v;
	size_t i;
	int fmt;

	if (parse_format_only(cli, cmd, argc, argv, &fmt) < 0)
		return cli->err.code;
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (cli_store(cli, &st, 0) < 0 || repo_list(st, &arr, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(arr);
	printf("%-20s %-40s %-28s %-7s %s\n", "NAME", "URI", "SUITES", "INDEXES", "LAST SYNC");
	json_array_foreach(arr, i, v)
	{
		PL_AUTOFREE char *suites = jjoin(json_object_get(v, "suites"), ",");

		printf("%-20s %-40s %-28s %-7lld %s\n", jstr(v, "name"), jstr(v, "uri"), suites,
		       json_integer_value(json_object_get(v, "indexes")), jstr(v, "last_sync"));
	}
	json_decref(arr);
	return 0;
}

static void show_print(json_t *j)
{
	PL_AUTOFREE char *suites = jjoin(json_object_get(j, "suites"), " ");
	PL_AUTOFREE char *comps = jjoin(json_object_get(j, "components"), " ");
	PL_AUTOFREE char *arches = jjoin(json_object_get(j, "architectures"), " ");
	json_t *v;
	size_t i;

	printf("%-14s %s\n%-14s %s\n%-14s %s\n%-14s %s\n%-14s %s\n%-14s %s\n%-14s %s\n%-14s %s\n",
	       "name", jstr(j, "name"), "uri", jstr(j, "uri"), "suites", suites, "components",
	       comps, "architectures", arches, "keyring", jstr(j, "keyring"), "origin",
	       jstr(j, "origin"), "created_at", jstr(j, "created_at"));
	json_array_foreach(json_object_get(j, "releases"), i, v)
	    printf("release  %-20s %-9s date %s valid-until %s signed by %s\n", jstr(v, "suite"),
	           jstr(v, "file"), jstr(v, "date"), jstr(v, "valid_until"), jstr(v, "signers"));
	json_array_foreach(json_object_get(j, "indexes"), i, v)
	    printf("index    %-20s %-40s %10lld %s\n", jstr(v, "suite"), jstr(v, "name"),
	           json_integer_value(json_object_get(v, "size")), jstr(v, "path"));
	json_array_foreach(json_object_get(j, "syncs"), i, v)
	    printf("sync     %s: %lld fetched, %lld not modified, %lld bytes, %.1f s\n",
	           jstr(v, "ended_at"), json_integer_value(json_object_get(v, "fetched")),
	           json_integer_value(json_object_get(v, "not_modified")),
	           json_integer_value(json_object_get(v, "bytes")),
	           json_number_value(json_object_get(v, "seconds")));
}

static int cmd_repo_show(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct store *st;
	json_t *j = NULL;
	int fmt;

	if (parse_format_only(cli, cmd, argc, argv, &fmt) < 0)
		return cli->err.code;
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one repository NAME");
	if (cli_store(cli, &st, 0) < 0 || repo_show(st, argv[optind], &j, &cli->err) < 0)
		return cli->err.code;
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(j);
	show_print(j);
	json_decref(j);
	return 0;
}

static int cmd_repo_remove(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{NULL, 0, NULL, 0}};
	struct store *st;

	if (getopt_long(argc, argv, "", opts, NULL) != -1)
		return cli_usage_error(cli, cmd, "unknown option");
	if (optind != argc - 1)
		return cli_usage_error(cli, cmd, "expected one repository NAME");
	if (cli_store(cli, &st, 0) < 0 || repo_remove(st, argv[optind], &cli->err) < 0)
		return cli->err.code;
	printf("removed repository '%s'\n", argv[optind]);
	return 0;
}

/* ---- sync ---------------------------------------------------------------------- */

static void sync_print(json_t *rep)
{
	json_t *s, *x;
	size_t i, k;

	printf("%s: %lld fetched, %lld not modified, %lld bytes in %.1f s\n", jstr(rep, "name"),
	       json_integer_value(json_object_get(rep, "fetched")),
	       json_integer_value(json_object_get(rep, "not_modified")),
	       json_integer_value(json_object_get(rep, "bytes")),
	       json_number_value(json_object_get(rep, "seconds")));
	json_array_foreach(json_object_get(rep, "suites"), i, s)
	{
		printf("  %s %s: %s (Date %s, Valid-Until %s)\n", jstr(s, "suite"), jstr(s, "file"),
		       jstr(s, "release"), jstr(s, "date"), jstr(s, "valid_until"));
		json_array_foreach(json_object_get(s, "indexes"), k, x)
		    printf("  %s %s: %s\n", jstr(s, "suite"), jstr(x, "name"), jstr(x, "status"));
	}
}

static int sync_getopt(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
                       int *fmt, struct repo_sync_opts *o)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
	                                     {"timeout", required_argument, NULL, 't'},
	                                     {"retries", required_argument, NULL, 'r'},
	                                     {NULL, 0, NULL, 0}};
	long v;
	int c;

	*fmt = CLI_FMT_TEXT;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, fmt) < 0)
				return PL_EUSAGE;
			break;
		case 't':
			if (pl_parse_long(optarg, 1, 86400, &v, "--timeout", &cli->err) < 0)
				return cli->err.code = PL_EUSAGE;
			o->timeout_s = v;
			break;
		case 'r':
			if (pl_parse_long(optarg, 0, 10, &v, "--retries", &cli->err) < 0)
				return cli->err.code = PL_EUSAGE;
			o->retries = v == 0 ? -1 : (int)v;
			break;
		default:
			return cli_usage_error(cli, cmd, "unknown option");
		}
	}
	return 0;
}

static int cmd_repo_sync(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct repo_sync_opts o = {0};
	struct repo_progress rp;
	struct pl_progress sink;
	struct pl_err first = PL_ERR_INIT;
	struct store *st;
	char **names = NULL;
	json_t *all, *failed;
	json_int_t fetched = 0, not_modified = 0, bytes = 0;
	double t0 = pl_monotonic();
	size_t nfailed = 0;
	int fmt;

	if (sync_getopt(cli, cmd, argc, argv, &fmt, &o) < 0)
		return cli->err.code;
	if (cli_store(cli, &st, 0) < 0)
		return cli->err.code;
	if (optind == argc && repo_names(st, &names, &cli->err) < 0)
		return cli->err.code;
	for (int i = optind; i < argc; i++) {
		struct repo r;

		if (repo_get(st, argv[i], &r, &cli->err) < 0)
			return cli->err.code; /* before anything is fetched */
		repo_clear(&r);
	}
	o.progress = repo_progress(cli, &rp, &sink);
	all = json_array();
	failed = json_array();
	for (int i = 0;; i++) {
		const char *name = names ? names[i] : optind + i < argc ? argv[optind + i] : NULL;
		struct pl_err err = PL_ERR_INIT;
		json_t *rep = NULL;

		if (!name)
			break;
		if (repo_sync(st, name, &o, &rep, &err) < 0) {
			if (!nfailed++)
				first = err;
			json_array_append_new(failed,
			                      json_pack("{s:s, s:s, s:s}", "name", name, "error",
			                                err.msg, "code", pl_code_name(err.code)));
			if (fmt == CLI_FMT_TEXT)
				printf("%s: FAILED, nothing changed\n", name);
			continue;
		}
		fetched += json_integer_value(json_object_get(rep, "fetched"));
		not_modified += json_integer_value(json_object_get(rep, "not_modified"));
		bytes += json_integer_value(json_object_get(rep, "bytes"));
		if (fmt == CLI_FMT_TEXT)
			sync_print(rep);
		json_array_append_new(all, rep);
	}
	repo_progress_close(&rp);
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
	if (fmt == CLI_FMT_JSON)
		cli_print_json(json_pack("{s:o, s:o, s:I, s:I, s:I, s:f}", "repos", all, "failed",
		                         failed, "fetched", fetched, "not_modified", not_modified,
		                         "bytes", bytes, "seconds", pl_monotonic() - t0));
	else {
		printf("total: %lld fetched, %lld not modified, %lld bytes in %.1f s\n",
		       (long long)fetched, (long long)not_modified, (long long)bytes,
		       pl_monotonic() - t0);
		json_decref(all);
		json_decref(failed);
	}
	if (!nfailed)
		return 0;
	if (nfailed > 1)
		return pl_error(&cli->err, first.code, "%s (and %zu more repositories failed)",
		                first.msg, nfailed - 1);
	cli->err = first;
	return first.code;
}

/* ---- download ---------------------------------------------------------------------- */

static int cmd_repo_download(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"arch", required_argument, NULL, 'a'},
	                                     {"repo", required_argument, NULL, 'r'},
	                                     {"dest", required_argument, NULL, 'd'},
	                                     {NULL, 0, NULL, 0}};
	const char *repo = NULL, *dest = ".";
	PL_AUTOFREE char *arch = NULL, *path = NULL;
	struct repo_progress rp;
	struct pl_progress sink;
	struct net_fetch_opts no = {0};
	struct repo_deb d;
	struct store *st;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'a') {
			free(arch);
			arch = pl_strdup(optarg);
		} else if (c == 'r') {
			repo = optarg;
		} else if (c == 'd') {
			dest = optarg;
		} else {
			return cli_usage_error(cli, cmd, "unknown option");
		}
	}
	if (optind != argc - 2)
		return cli_usage_error(cli, cmd, "expected PACKAGE VERSION");
	if (!arch)
		arch = repo_default_arch();
	if (repo_field_check("arch", arch, &cli->err) < 0)
		return cli->err.code;
	if (!pl_path_exists(dest))
		return pl_error(&cli->err, PL_EUSAGE, "--dest: '%s' does not exist", dest);
	no.progress = repo_progress(cli, &rp, &sink);
	if (cli_store(cli, &st, 0) < 0 ||
	    repo_deb_locate(st, repo, argv[optind], argv[optind + 1], arch, &d, &cli->err) < 0)
		return cli->err.code;
	rc = repo_deb_fetch(&d, dest, &no, &path, &cli->err);
	repo_progress_close(&rp);
	if (rc == 0)
		printf("%s %s %s sha256 %s (from %s)\n", path, d.version, d.arch, d.sha256, d.repo);
	repo_deb_clear(&d);
	return rc;
}

const struct cli_command cli_repo_commands[] = {
    {"add", "configure a vendor repository",
     "repo add NAME --from-apt-sources [--suite S ...] [--arch A ...] [--keyring FILE]\n"
     "repo add NAME --url URL --suite S [--suite S ...] --component C [--component C ...]\n"
     "     [--arch A ...] [--keyring FILE]\n"
     "\n"
     "--from-apt-sources takes the URI, suites, components and Signed-By keyring\n"
     "of the system's enabled 'deb' sources (/etc/apt/sources.list and\n"
     "sources.list.d/*.list and *.sources; $PATCHLAB_APT_ROOT reads another root,\n"
     "for tests): those serving --suite, or the first source's. The suites must\n"
     "come from one URI. --arch defaults to dpkg --print-architecture, --keyring\n"
     "to the source's Signed-By, else " REPO_DEFAULT_KEYRING ".\n"
     "A bad NAME, URL, suite, component, arch or keyring is exit 2.",
     cmd_repo_add, NULL, 0},
    {"list", "list the repositories", "repo list [--format text|json]", cmd_repo_list, NULL, 0},
    {"show", "show a repository, its verified releases and synced indexes",
     "repo show NAME [--format text|json]", cmd_repo_show, NULL, 0},
    {"remove", "remove a repository and its synced files", "repo remove NAME", cmd_repo_remove,
     NULL, 0},
    {"sync", "fetch and verify the repositories' signed indexes",
     "repo sync [NAME ...] [--format text|json] [--timeout SECONDS] [--retries N]\n"
     "\n"
     "For each suite: InRelease (else Release and Release.gpg), verified with gpgv\n"
     "against the repository's keyring; its Suite or Codename, Date and\n"
     "Valid-Until checked (an expired or older Release is refused); then per\n"
     "component and architecture Packages.xz, .gz or plain, checked against the\n"
     "size and SHA-256 the verified Release lists, its compression and syntax.\n"
     "Conditional requests (ETag, Last-Modified) and hashes skip what did not\n"
     "change. All or nothing per repository: on any failure its previous files\n"
     "and rows stay as they were. --timeout is per file (default 300 s),\n"
     "--retries on transient errors (default 2). Without NAME, every repository.",
     cmd_repo_sync, NULL, 0},
    {"download", "download a .deb listed in a synced index, verified",
     "repo download PACKAGE VERSION [--arch A] [--repo NAME] [--dest DIR]\n"
     "\n"
     "Finds PACKAGE at VERSION for --arch (default: dpkg's; 'all' for arch-\n"
     "independent packages) in the synced indexes, downloads its Filename into\n"
     "DIR (default '.') and checks its Size and SHA256 before it appears; a\n"
     "mismatch is refused (exit 2) and nothing is kept.",
     cmd_repo_download, NULL, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};
