/*
 * test_repo.c - the system's apt sources, both formats, and their errors;
 * Release files (data-driven: tests/data/repo/release/CASE.in parsed and
 * dumped, or its error, must equal CASE.out; PATCHLAB_TEST_REGENERATE=1
 * rewrites the .out files), real Debian InRelease bodies, dates, the
 * checks of a verified Release, field checks, repositories from apt
 * sources and their rows. Sync itself runs in tests/repo/sync.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <cmocka.h>

#include "pkgdb/pkgdb.h"
#include "repo/repo.h"

#define RDATA(name) PL_TEST_DATA_DIR "/repo/" name

static void test_sources_ok(void **state)
{
	struct repo_source_list l;
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *uri = NULL;

	(void)state;
	assert_int_equal(repo_apt_sources_load(PL_TEST_DATA_DIR "/repo/apt-ok", &l, &err), 0);
	/* 3 lines of sources.list, 2 enabled stanzas of debian.sources */
	assert_int_equal(l.n, 5);
	assert_true(l.v[0].deb);
	assert_string_equal(l.v[0].uris[0], "http://mirror.example/debian");
	assert_string_equal(l.v[0].components[1], "contrib");
	assert_string_equal(l.v[1].uris[0], "http://other.example/debian");
	assert_true(l.v[2].deb_src && !l.v[2].deb);
	assert_string_equal(l.v[3].suites[0], "bookworm-updates");
	assert_string_equal(l.v[3].signed_by, "/usr/share/keyrings/debian-archive-keyring.gpg");
	assert_true(l.v[4].deb && l.v[4].deb_src);
	assert_int_equal(repo_apt_mirror_for(&l, "bookworm-security", &uri, &err), 0);
	assert_string_equal(uri, "http://security.example/debian-security");
	free(PL_STEAL(uri));
	assert_int_equal(repo_apt_mirror_for(&l, "bookworm", &uri, &err), 0);
	assert_string_equal(uri, "http://mirror.example/debian");
	free(PL_STEAL(uri));
	/* the disabled trixie source does not count */
	assert_int_equal(repo_apt_mirror_for(&l, "trixie", &uri, &err), PL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "'trixie'"));
	repo_source_list_free(&l);
}

static void test_sources_bad(void **state)
{
	struct repo_source_list l;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	assert_int_equal(repo_apt_sources_load(PL_TEST_DATA_DIR "/repo/apt-bad", &l, &err),
	                 PL_EINVAL);
	assert_non_null(strstr(err.msg, "broken.sources:1: a source needs Types, URIs and Suites"));
	assert_null(l.v);
}

static void test_system_sources(void **state)
{
	struct repo_source_list l;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	/* this machine's own apt configuration must load */
	assert_int_equal(repo_apt_sources_load(NULL, &l, &err), 0);
	repo_source_list_free(&l);
}

/* ---- Release files ------------------------------------------------------ */

static void dump_release(struct pl_buf *b, const struct repo_release *r)
{
	char d[21], v[21];

	pl_time_iso(r->date, d);
	pl_time_iso(r->valid_until, v);
	pl_buf_addf(b, "origin %s\nlabel %s\nsuite %s\ncodename %s\ndate %s\nvalid-until %s\n",
	            r->origin ? r->origin : "-", r->label ? r->label : "-",
	            r->suite ? r->suite : "-", r->codename ? r->codename : "-", d,
	            r->valid_until ? v : "-");
	pl_buf_adds(b, "architectures");
	for (size_t i = 0; r->architectures[i]; i++)
		pl_buf_addf(b, " %s", r->architectures[i]);
	pl_buf_adds(b, "\ncomponents");
	for (size_t i = 0; r->components[i]; i++)
		pl_buf_addf(b, " %s", r->components[i]);
	pl_buf_addf(b, "\nacquire-by-hash %d\n", r->acquire_by_hash);
	for (size_t i = 0; i < r->nfiles; i++)
		pl_buf_addf(b, "file %s %llu %s\n", r->files[i].sha256,
		            (unsigned long long)r->files[i].size, r->files[i].name);
}

static int release_case(const char *name)
{
	PL_AUTOFREE char *in = pl_strdupf("%s/%s", RDATA("release"), name);
	PL_AUTOFREE char *out = pl_strdupf("%.*s.out", (int)(strlen(in) - 3), in);
	PL_AUTOFREE char *source = pl_strdupf("release/%s", name);
	PL_AUTOFREE char *buf = NULL, *want = NULL;
	PL_AUTOBUF struct pl_buf got = PL_BUF_INIT;
	struct pl_err err = PL_ERR_INIT;
	struct repo_release r;
	const char *regen = getenv("PATCHLAB_TEST_REGENERATE");
	size_t len, wlen = 0;
	int rc;

	if (pl_file_read(in, &buf, &len, &err) < 0)
		fail_msg("%s", err.msg);
	rc = repo_release_parse(buf, len, source, &r, &err);
	if (rc == 0) {
		dump_release(&got, &r);
		repo_release_free(&r);
	} else {
		pl_buf_addf(&got, "error %s: %s\n", pl_code_name(rc), err.msg);
		assert_null(r.files);
	}
	if (regen && !strcmp(regen, "1"))
		return pl_file_write_atomic(out, got.s, got.len, 0644, &err) < 0;
	if (pl_file_read(out, &want, &wlen, &err) < 0) {
		print_error("%s: %s\n", source, err.msg);
		return 1;
	}
	if (wlen != got.len || memcmp(want, pl_buf_str(&got), wlen) != 0) {
		print_error("%s: got\n%s\nexpected\n%.*s\n", source, pl_buf_str(&got), (int)wlen,
		            want);
		return 1;
	}
	/* a file named err-* must fail, ok-* must parse */
	if ((strncmp(name, "err-", 4) == 0) != (rc != 0)) {
		print_error("%s: rc %d does not fit its name\n", source, rc);
		return 1;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_release_cases(void **state)
{
	DIR *d = opendir(RDATA("release"));
	struct dirent *e;
	char *names[256];
	size_t n = 0;
	int failed = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t k = strlen(e->d_name);

		if (k > 3 && strcmp(e->d_name + k - 3, ".in") == 0 && n < 256)
			names[n++] = pl_strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	assert_true(n >= 25);
	for (size_t i = 0; i < n; i++) {
		failed += release_case(names[i]);
		free(names[i]);
	}
	assert_int_equal(failed, 0);
}

/* A field longer than the deb822 line limit is refused, naming the line. */
static void test_release_huge_field(void **state)
{
	struct pl_buf b = PL_BUF_INIT;
	struct pl_err err = PL_ERR_INIT;
	struct repo_release r;

	(void)state;
	pl_buf_adds(&b, "Codename: x\nDate: 1 Jan 2026 00:00:00 UTC\nDescription: ");
	for (size_t i = 0; i < PKGDB_LINE_MAX + 1; i++)
		pl_buf_addc(&b, 'x');
	pl_buf_adds(&b, "\nSHA256:\n");
	assert_int_equal(repo_release_parse(b.s, b.len, "huge", &r, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "huge:3:"));
	pl_buf_release(&b);
}

/* Real InRelease files of Debian: the body gpgv would verify parses, and
 * the indexes sync would take are found ("updates/main" as "main"). */
static void real_inrelease(const char *path, const char *suite, int64_t now, const char *comp,
                           const char *want_name, int64_t valid_until)
{
	PL_AUTOFREE char *buf = NULL, *body = NULL;
	struct pl_err err = PL_ERR_INIT;
	const struct repo_release_file *f;
	struct repo_release r;
	size_t len, blen;

	assert_int_equal(pl_file_read(path, &buf, &len, &err), 0);
	assert_int_equal(pkgdb_clearsign_body(buf, len, path, &body, &blen, &err), 0);
	if (repo_release_parse(body, blen, path, &r, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(r.valid_until, valid_until);
	assert_true(r.acquire_by_hash);
	assert_true(r.nfiles > 100);
	assert_int_equal(repo_release_check(&r, suite, now, 0, path, &err), 0);
	if (repo_release_packages(&r, comp, "amd64", path, &f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(f->name, want_name);
	assert_int_equal(repo_release_packages(&r, comp, "riscv64", path, &f, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "Architectures does not list 'riscv64'"));
	assert_int_equal(repo_release_packages(&r, "universe", "amd64", path, &f, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "Components does not list 'universe'"));
	/* a week later it has expired, when it has a Valid-Until */
	if (valid_until) {
		assert_int_equal(repo_release_check(&r, suite, valid_until + 1, 0, path, &err),
		                 PL_EINVAL);
		assert_non_null(strstr(err.msg, "Valid-Until"));
	}
	repo_release_free(&r);
}

static void test_release_real(void **state)
{
	int64_t t, vu;

	(void)state;
	assert_int_equal(repo_date_parse("Thu, 03 Dec 2026 21:03:35 UTC", &vu), 0);
	assert_int_equal(repo_date_parse("Sun, 22 Nov 2026 03:00:00 UTC", &t), 0);
	real_inrelease(RDATA("release/debian-security.inrelease"), "bookworm-security",
	               t + 5 * 86400, "main", "main/binary-amd64/Packages.xz", vu);
	real_inrelease(PL_TEST_DATA_DIR "/pkgdb/bookworm-updates_InRelease", "oldstable-updates", t,
	               "main", "main/binary-amd64/Packages.xz", 0);
}

static void test_release_checks(void **state)
{
	static const char text[] =
	    "Suite: stable\nCodename: bookworm\n"
	    "Date: Sat, 28 Nov 2026 09:00:00 UTC\n"
	    "Valid-Until: Sat, 05 Dec 2026 09:00:00 UTC\n"
	    "SHA256:\n e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
	    "7852b855 0 main/binary-amd64/Packages.gz\n";
	struct pl_err err = PL_ERR_INIT;
	struct repo_release r;
	const struct repo_release_file *f;
	int64_t date, t;

	(void)state;
	assert_int_equal(repo_release_parse(text, strlen(text), "R", &r, &err), 0);
	date = r.date;
	assert_int_equal(repo_release_check(&r, "bookworm", date, 0, "R", &err), 0);
	assert_int_equal(repo_release_check(&r, "stable", date + 3600, date, "R", &err), 0);
	assert_int_equal(repo_release_check(&r, "trixie", date, 0, "R", &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "not 'trixie'"));
	/* a Date ahead of the clock by more than 10 minutes */
	assert_int_equal(repo_release_check(&r, "stable", date - 601, 0, "R", &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "in the future"));
	assert_int_equal(repo_release_check(&r, "stable", date - 600, 0, "R", &err), 0);
	/* expired */
	assert_int_equal(repo_release_check(&r, "stable", r.valid_until + 1, 0, "R", &err),
	                 PL_EINVAL);
	assert_non_null(strstr(err.msg, "R: Valid-Until: 2026-12-05T09:00:00Z has passed"));
	/* older than the synced one: a replay */
	assert_int_equal(repo_release_check(&r, "stable", date, date + 1, "R", &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "older than the synced"));
	/* no Architectures or Components: any is taken; plain .gz found */
	assert_int_equal(repo_release_packages(&r, "main", "amd64", "R", &f, &err), 0);
	assert_string_equal(f->name, "main/binary-amd64/Packages.gz");
	assert_int_equal(repo_release_packages(&r, "contrib", "amd64", "R", &f, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "lists no contrib/binary-amd64/Packages"));
	repo_release_free(&r);

	assert_int_equal(repo_date_parse("28 Nov 2026 09:00:00 +0100", &t), 0);
	assert_int_equal(t, date - 3600);
	assert_int_equal(repo_date_parse("Sat, 28 Nov 2026 09:00:00 -0030", &t), 0);
	assert_int_equal(t, date + 1800);
	assert_int_equal(repo_date_parse("Sat, 28 Nov 2026 09:00 UTC", &t), -1);
	assert_int_equal(repo_date_parse("Sat, 28 Foo 2026 09:00:00 UTC", &t), -1);
	assert_int_equal(repo_date_parse("Sat, 29 Feb 2026 09:00:00 UTC", &t), -1);
	assert_int_equal(repo_date_parse("Sat, 28 Nov 2026 24:00:00 UTC", &t), -1);
	assert_int_equal(repo_date_parse("", &t), -1);
}

/* ---- configuration ------------------------------------------------------- */

static void test_field_checks(void **state)
{
	struct pl_err err = PL_ERR_INIT;
	static const char *const good[][2] = {
	    {"name", "debian-security"},
	    {"name", "a.b_c+d"},
	    {"url", "http://127.0.0.1:8080/debian"},
	    {"url", "file:///srv/repo"},
	    {"suite", "bookworm-security"},
	    {"suite", "bookworm/updates"},
	    {"component", "main"},
	    {"component", "updates/main"},
	    {"arch", "amd64"},
	    {"arch", "all"},
	    {"keyring", REPO_DEFAULT_KEYRING},
	};
	static const char *const bad[][3] = {
	    {"name", "Debian", "lower case"},
	    {"name", "../x", "start with a letter"},
	    {"name", "a/b", "character outside"},
	    {"name", "", "empty"},
	    {"url", "ftp://h/x", "only http, https and file"},
	    {"url", "http://h/x?y=1", "query"},
	    {"url", "http://user:pw@h/x", "credentials"},
	    {"url", "http:///x", "--url"},
	    {"url", "debian", "--url"},
	    {"url", "http://h/a b", "blanks"},
	    {"suite", "./", "flat repositories"},
	    {"suite", "a/../b", "'..'"},
	    {"suite", "-x", "start with"},
	    {"suite", "a b", "character outside"},
	    {"component", "ma in", "character outside"},
	    {"arch", "AMD64", "lower-case"},
	    {"arch", "x.y", "character outside"},
	    {"keyring", "relative.gpg", "absolute"},
	    {"keyring", "/nonexistent/k.gpg", "No such file"},
	    {"keyring", "/tmp", "not a regular file"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (repo_field_check(good[i][0], good[i][1], &err) < 0)
			fail_msg("%s '%s': %s", good[i][0], good[i][1], err.msg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (repo_field_check(bad[i][0], bad[i][1], &err) != PL_EUSAGE)
			fail_msg("%s '%s' was accepted", bad[i][0], bad[i][1]);
		if (!strstr(err.msg, bad[i][2]))
			fail_msg("%s '%s': '%s' lacks '%s'", bad[i][0], bad[i][1], err.msg,
			         bad[i][2]);
	}
}

static void test_from_apt_sources(void **state)
{
	struct repo_source_list l;
	struct pl_err err = PL_ERR_INIT;
	struct repo r = {0};
	const char *sec[] = {"bookworm-security", NULL};
	const char *two[] = {"bookworm", "bookworm-security", NULL};
	const char *none[] = {"sid", NULL};

	(void)state;
	assert_int_equal(repo_apt_sources_load(RDATA("apt-ok"), &l, &err), 0);
	assert_int_equal(repo_from_apt_sources(&l, sec, NULL, &r, &err), 0);
	assert_string_equal(r.uri, "http://security.example/debian-security");
	assert_string_equal(r.suites[0], "bookworm-security");
	assert_null(r.suites[1]);
	assert_string_equal(r.components[0], "main");
	assert_string_equal(r.keyring, REPO_DEFAULT_KEYRING);
	assert_string_equal(r.origin, "apt-sources");
	repo_clear(&r);
	/* no suite: the first source's URI, with every suite served there */
	assert_int_equal(repo_from_apt_sources(&l, NULL, "/k.gpg", &r, &err), 0);
	assert_string_equal(r.uri, "http://mirror.example/debian");
	assert_string_equal(r.suites[0], "bookworm");
	assert_string_equal(r.suites[1], "bookworm-updates");
	assert_null(r.suites[2]);
	assert_string_equal(r.components[1], "contrib");
	assert_string_equal(r.keyring, "/k.gpg");
	repo_clear(&r);
	assert_int_equal(repo_from_apt_sources(&l, two, NULL, &r, &err), PL_EUSAGE);
	assert_non_null(strstr(err.msg, "separate repositories"));
	repo_clear(&r);
	assert_int_equal(repo_from_apt_sources(&l, none, NULL, &r, &err), PL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "'sid'"));
	repo_clear(&r);
	repo_source_list_free(&l);
}

static void test_rows(void **state)
{
	char dir[] = "/tmp/pl-repo.XXXXXX";
	struct pl_err err = PL_ERR_INIT;
	struct store *st = NULL;
	struct repo r = {0}, got;
	json_t *j = NULL;
	char **names = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, STORE_CREATE, &st, &err), 0);
	r.name = pl_strdup("test");
	r.uri = pl_strdup("http://127.0.0.1/debian/");
	r.suites = calloc(2, sizeof(char *));
	r.suites[0] = pl_strdup("bookworm");
	r.components = calloc(3, sizeof(char *));
	r.components[0] = pl_strdup("main");
	r.components[1] = pl_strdup("main");
	r.architectures = calloc(2, sizeof(char *));
	r.architectures[0] = pl_strdup("amd64");
	r.keyring = pl_strdup(REPO_DEFAULT_KEYRING);
	assert_int_equal(repo_add(st, &r, &err), PL_EUSAGE);
	assert_non_null(strstr(err.msg, "--component 'main' is given twice"));
	free(r.components[1]);
	r.components[1] = NULL;
	assert_int_equal(repo_add(st, &r, &err), 0);
	assert_string_equal(r.uri, "http://127.0.0.1/debian");
	assert_int_equal(repo_add(st, &r, &err), PL_EEXIST);
	assert_int_equal(repo_get(st, "test", &got, &err), 0);
	assert_string_equal(got.suites[0], "bookworm");
	assert_string_equal(got.origin, "url");
	repo_clear(&got);
	assert_int_equal(repo_get(st, "nope", &got, &err), PL_ENOTFOUND);
	assert_int_equal(repo_names(st, &names, &err), 0);
	assert_string_equal(names[0], "test");
	assert_null(names[1]);
	free(names[0]);
	free(names);
	assert_int_equal(repo_list(st, &j, &err), 0);
	assert_int_equal(json_array_size(j), 1);
	json_decref(j);
	assert_int_equal(repo_show(st, "test", &j, &err), 0);
	assert_int_equal(json_array_size(json_object_get(j, "indexes")), 0);
	json_decref(j);
	/* the synced indexes other modules read: by suite, codename or the
	 * Release's Suite, and by architecture (with binary-all) */
	assert_int_equal(
	    store_exec(st,
	               "INSERT INTO repo_releases(repo_id, suite, file, path, sha256, size,"
	               " signers, release_suite, codename, release_date, synced_at) VALUES"
	               " (1, 'bookworm', 'InRelease', 'repos/test/by-hash/aa', 'aa', 1, 'F',"
	               "  'oldstable-security', 'bookworm-security', '2026-01-01T00:00:00Z',"
	               "  '2026-01-01T00:00:00Z');"
	               "INSERT INTO repo_indexes(repo_id, suite, component, arch, name, path,"
	               " sha256, size, release_date, synced_at) VALUES"
	               " (1, 'bookworm', 'main', 'amd64', 'x', 'repos/test/by-hash/bb', 'bb', 1,"
	               "  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),"
	               " (1, 'bookworm', 'main', 'all', 'x', 'repos/test/by-hash/cc', 'cc', 1,"
	               "  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),"
	               " (1, 'bookworm', 'main', 'arm64', 'x', 'repos/test/by-hash/dd', 'dd', 1,"
	               "  '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');",
	               &err),
	    0);
	{
		struct repo_index_list l;
		PL_AUTOFREE char *want = pl_strdupf("%s/repos/test/by-hash/bb", dir);

		assert_int_equal(repo_indexes_find(st, "oldstable-security", "amd64", &l, &err), 0);
		assert_int_equal(l.n, 2);
		assert_string_equal(l.v[0].arch, "all");
		assert_string_equal(l.v[1].path, want);
		assert_string_equal(l.v[1].codename, "bookworm-security");
		assert_string_equal(l.v[1].repo, "test");
		repo_index_list_free(&l);
		assert_int_equal(repo_indexes_find(st, "bookworm-security", NULL, &l, &err), 0);
		assert_int_equal(l.n, 3);
		repo_index_list_free(&l);
		assert_int_equal(repo_indexes_find(st, NULL, "arm64", &l, &err), 0);
		assert_int_equal(l.n, 2);
		repo_index_list_free(&l);
		assert_int_equal(repo_indexes_find(st, "trixie", "amd64", &l, &err), 0);
		assert_int_equal(l.n, 0);
		repo_index_list_free(&l);
	}
	assert_int_equal(repo_show(st, "test", &j, &err), 0);
	assert_int_equal(json_array_size(json_object_get(j, "indexes")), 3);
	json_decref(j);
	assert_int_equal(repo_remove(st, "test", &err), 0);
	assert_int_equal(repo_remove(st, "test", &err), PL_ENOTFOUND);
	{
		struct repo_index_list l;

		/* the rows went with the repository */
		assert_int_equal(repo_indexes_find(st, NULL, NULL, &l, &err), 0);
		assert_int_equal(l.n, 0);
		repo_index_list_free(&l);
	}
	repo_clear(&r);
	store_close(st);
	{
		const char *argv[] = {"rm", "-rf", dir, NULL};

		pl_run(argv, NULL, NULL, NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sources_ok),         cmocka_unit_test(test_sources_bad),
	    cmocka_unit_test(test_system_sources),     cmocka_unit_test(test_release_cases),
	    cmocka_unit_test(test_release_huge_field), cmocka_unit_test(test_release_real),
	    cmocka_unit_test(test_release_checks),     cmocka_unit_test(test_field_checks),
	    cmocka_unit_test(test_from_apt_sources),   cmocka_unit_test(test_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
