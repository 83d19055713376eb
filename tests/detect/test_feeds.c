/*
 * Unit tests for the vulnerability feeds (src/detect/feed*.c, osv.c,
 * epss.c, kev.c, zip.c, lookup.c).
 *
 * Data-driven: every file of tests/data/detect/feeds/{tracker,osv,epss,kev,
 * zip}/ is read with detect_feed_read(); a good-NAME.* file must give the
 * rows in good-NAME.out (rewritten with PATCHLAB_TEST_REGENERATE=1), a
 * bad-NAME.* file must fail with PL_EINVAL, a message that starts with the
 * file's path and contains the text of bad-NAME.err. Huge fields, every
 * truncation and every flipped byte of an archive are generated here.
 * The database part syncs each kind into a fresh state, re-syncs, breaks a
 * re-sync and checks that nothing changed, and runs the scan's lookups.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include "core/core.h"
#include "detect/detect.h"
#include "store/store.h"

#ifndef PL_TEST_DATA_DIR
#error "PL_TEST_DATA_DIR must be defined as the absolute path of tests/data"
#endif
#define FEEDS PL_TEST_DATA_DIR "/detect/feeds"

/* ---- a sink that prints every row ----------------------------------------- */

static const char *o(const char *s)
{
	return s ? s : "-";
}

static int dump_tracker(void *ctx, const struct detect_tracker_entry *e, struct pl_err *err)
{
	(void)err;
	pl_buf_addf(ctx, "tracker\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%ld\t%s\t%s\n", e->source,
	            e->cve, e->release, e->status, o(e->fixed_version), o(e->urgency), o(e->nodsa),
	            o(e->nodsa_reason), e->debianbug, o(e->scope), o(e->description));
	return 0;
}

static int dump_osv(void *ctx, const struct detect_osv_advisory *a, struct pl_err *err)
{
	struct pl_buf *b = ctx;

	(void)err;
	pl_buf_addf(b, "osv\t%s\t%s\t%s\t%s\t%s\n", a->id, a->modified, o(a->published),
	            o(a->withdrawn), o(a->summary));
	for (size_t i = 0; i < a->naliases + a->nupstream; i++)
		pl_buf_addf(b, "  %s\t%s\n", i < a->naliases ? "alias" : "upstream", a->aliases[i]);
	for (size_t i = 0; i < a->nseverity; i++)
		pl_buf_addf(b, "  severity\t%s\t%s\t%d\n", a->severity[i].type,
		            a->severity[i].score, a->severity[i].score10);
	for (size_t i = 0; i < a->naffected; i++) {
		const struct detect_osv_affected *af = &a->affected[i];
		char *v = af->versions ? json_dumps(af->versions, JSON_COMPACT) : NULL;

		pl_buf_addf(b, "  affected\t%s\t%s\t%s\n", af->ecosystem, af->package, o(v));
		free(v);
		for (size_t k = 0; k < af->nranges; k++)
			pl_buf_addf(b, "    range\t%s\t%s\t%s\t%s\t%s\n", af->ranges[k].type,
			            o(af->ranges[k].repo), o(af->ranges[k].introduced),
			            o(af->ranges[k].fixed), o(af->ranges[k].last_affected));
	}
	return 0;
}

static int dump_epss(void *ctx, const struct detect_epss_row *r, struct pl_err *err)
{
	(void)err;
	pl_buf_addf(ctx, "epss\t%s\t%.5f\t%.5f\n", r->cve, r->epss, r->percentile);
	return 0;
}

static int dump_kev(void *ctx, const struct detect_kev_entry *e, struct pl_err *err)
{
	(void)err;
	pl_buf_addf(ctx, "kev\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e->cve, o(e->vendor), o(e->product),
	            o(e->name), e->date_added, o(e->due_date), o(e->ransomware));
	return 0;
}

/* Reads path as kind; the rows (and the feed's info) into out. */
static int read_dump(int kind, const char *path, const char *release, struct pl_buf *out,
                     struct pl_err *err)
{
	PL_AUTOJSON json_t *info = json_object();
	struct detect_sink sink = {dump_tracker, dump_osv, dump_epss, dump_kev, out, info};
	int rc = detect_feed_read(kind, path, NULL, release, &sink, NULL, NULL, err);
	char *i = json_dumps(info, JSON_COMPACT | JSON_SORT_KEYS);

	pl_buf_addf(out, "info\t%s\n", i);
	free(i);
	return rc;
}

/* ---- the data-driven loop --------------------------------------------------- */

static char *stem_file(const char *dir, const char *name, const char *ext)
{
	const char *dot = strchr(name, '.');

	return pl_strdupf("%s/%.*s%s", dir, (int)(dot ? dot - name : (long)strlen(name)), name,
	                  ext);
}

static void check_good(int kind, const char *dir, const char *name)
{
	PL_AUTOFREE char *path = pl_strdupf("%s/%s", dir, name);
	PL_AUTOFREE char *want_path = stem_file(dir, name, ".out");
	PL_AUTOFREE char *want = NULL;
	PL_AUTOBUF struct pl_buf got = PL_BUF_INIT;
	struct pl_err err = PL_ERR_INIT;
	const char *regen = getenv("PATCHLAB_TEST_REGENERATE");

	if (read_dump(kind, path, NULL, &got, &err) < 0)
		fail_msg("%s: %s", name, err.msg);
	if (regen && strcmp(regen, "1") == 0)
		assert_int_equal(pl_file_write_atomic(want_path, got.s, got.len, 0644, &err), 0);
	if (pl_file_read(want_path, &want, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	if (strcmp(want, pl_buf_str(&got)) != 0)
		fail_msg("%s: rows differ from %s:\n%s", name, want_path, pl_buf_str(&got));
}

static void check_bad(int kind, const char *dir, const char *name)
{
	PL_AUTOFREE char *path = pl_strdupf("%s/%s", dir, name);
	PL_AUTOFREE char *want_path = stem_file(dir, name, ".err");
	PL_AUTOFREE char *want = NULL;
	PL_AUTOBUF struct pl_buf got = PL_BUF_INIT;
	struct pl_err err = PL_ERR_INIT;
	size_t n;
	int rc;

	if (pl_file_read(want_path, &want, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	n = strlen(want);
	while (n > 0 && want[n - 1] == '\n')
		want[--n] = '\0';
	rc = read_dump(kind, path, NULL, &got, &err);
	if (rc != PL_EINVAL)
		fail_msg("%s: returned %d, expected PL_EINVAL (%s)", name, rc, err.msg);
	if (strncmp(err.msg, path, strlen(path)) != 0 || !strstr(err.msg, want))
		fail_msg("%s: message '%s' lacks '%s' after the path", name, err.msg, want);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every good-* and bad-* file of FEEDS/sub as kind; returns how many. */
static size_t run_dir(const char *sub, int kind)
{
	PL_AUTOFREE char *dir = pl_strdupf("%s/%s", FEEDS, sub);
	char *names[256];
	size_t n = 0, good = 0, bad = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) && n < 256) {
		const char *dot = strrchr(de->d_name, '.');

		if (de->d_name[0] == '.' || !dot || strcmp(dot, ".err") == 0 ||
		    strcmp(dot, ".out") == 0 || strcmp(dot, ".py") == 0)
			continue;
		names[n++] = pl_strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(char *), name_cmp);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(names[i], "good-", 5) == 0) {
			check_good(kind, dir, names[i]);
			good++;
		} else if (strncmp(names[i], "bad-", 4) == 0) {
			check_bad(kind, dir, names[i]);
			bad++;
		} else {
			fail_msg("%s/%s: neither good- nor bad-", dir, names[i]);
		}
		free(names[i]);
	}
	/* a directory that lost its cases must not pass quietly */
	assert_true(good >= 1 && bad >= 5);
	return good + bad;
}

static void test_tracker_files(void **state)
{
	(void)state;
	run_dir("tracker", DETECT_FEED_TRACKER);
}

static void test_osv_files(void **state)
{
	(void)state;
	run_dir("osv", DETECT_FEED_OSV);
}

static void test_epss_files(void **state)
{
	(void)state;
	run_dir("epss", DETECT_FEED_EPSS);
}

static void test_kev_files(void **state)
{
	(void)state;
	run_dir("kev", DETECT_FEED_KEV);
}

static void test_zip_files(void **state)
{
	(void)state;
	run_dir("zip", DETECT_FEED_OSV);
}

/* ---- generated cases -------------------------------------------------------- */

static char tmpdir[64];

static int setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pl-feeds.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
	const char *argv[] = {"rm", "-rf", tmpdir, NULL};
	int status;

	(void)state;
	return pl_run(argv, NULL, &status, NULL) == 0 && status == 0 ? 0 : -1;
}

/* Writes text to a temporary file; returns its path (caller frees). */
static char *tmp_write(const char *name, const char *text, size_t len)
{
	char *p = pl_strdupf("%s/%s", tmpdir, name);
	struct pl_err err = PL_ERR_INIT;

	assert_int_equal(pl_file_write_atomic(p, text, len, 0644, &err), 0);
	return p;
}

static void expect_error(int kind, const char *name, const char *text, size_t len,
                         const char *release, const char *want)
{
	PL_AUTOFREE char *p = tmp_write(name, text, len);
	PL_AUTOBUF struct pl_buf got = PL_BUF_INIT;
	struct pl_err err = PL_ERR_INIT;

	if (read_dump(kind, p, release, &got, &err) != PL_EINVAL)
		fail_msg("%s was accepted", name);
	if (strncmp(err.msg, p, strlen(p)) != 0 || !strstr(err.msg, want))
		fail_msg("%s: message '%s' lacks '%s'", name, err.msg, want);
}

static void test_huge_fields(void **state)
{
	PL_AUTOFREE char *big = pl_malloc(70001), *id = pl_malloc(201), *line = pl_malloc(5001);
	PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;
	(void)state;

	memset(big, 'x', 70000);
	big[70000] = '\0';
	memset(id, 'A', 200);
	id[200] = '\0';
	pl_buf_addf(&b, "{\"a\": {\"CVE-2024-1\": {\"description\": \"%s\", \"releases\": {}}}}",
	            big);
	expect_error(DETECT_FEED_TRACKER, "t1.json", b.s, b.len, NULL,
	             "$.a.CVE-2024-1.description: longer than 65536 bytes");
	pl_buf_reset(&b);
	pl_buf_addf(&b, "{\"a\": {\"%s\": {\"releases\": {}}}}", id);
	expect_error(DETECT_FEED_TRACKER, "t2.json", b.s, b.len, NULL,
	             "$.a: a CVE key is too long for an identifier");
	pl_buf_reset(&b);
	pl_buf_addf(&b,
	            "{\"a\": {\"CVE-2024-1\": {\"releases\": {\"sid\": {\"status\": \"resolved\","
	            " \"fixed_version\": \"1.%s\"}}}}}",
	            big + 69400);
	expect_error(DETECT_FEED_TRACKER, "t3.json", b.s, b.len, NULL,
	             "$.a.CVE-2024-1.releases.sid.fixed_version: longer than 512 bytes");
	pl_buf_reset(&b);
	pl_buf_addf(&b, "{\"id\": \"%s\", \"modified\": \"2024-01-01T00:00:00Z\"}", id);
	expect_error(DETECT_FEED_OSV, "o1.json", b.s, b.len, NULL,
	             "$.id: longer than 128 bytes (200)");
	pl_buf_reset(&b);
	pl_buf_addf(
	    &b, "{\"id\": \"X-1\", \"modified\": \"2024-01-01T00:00:00Z\", \"summary\": \"%s\"}",
	    big);
	expect_error(DETECT_FEED_OSV, "o2.json", b.s, b.len, NULL,
	             "$.summary: longer than 65536 bytes (70000)");
	pl_buf_reset(&b);
	pl_buf_addf(&b,
	            "{\"vulnerabilities\": [{\"cveID\": \"CVE-2024-0001\", \"dateAdded\": "
	            "\"2024-01-01\", \"vendorProject\": \"%s\"}]}",
	            big);
	expect_error(DETECT_FEED_KEV, "k1.json", b.s, b.len, NULL,
	             "$.vulnerabilities[0].vendorProject: longer than 65536 bytes");
	memset(line, '1', 5000);
	line[5000] = '\0';
	pl_buf_reset(&b);
	pl_buf_addf(&b, "cve,epss,percentile\nCVE-2024-0001,0.%s,0.1\n", line);
	expect_error(DETECT_FEED_EPSS, "e1.csv", b.s, b.len, NULL, ":2: line longer than 4096");
}

static void test_release_filter(void **state)
{
	PL_AUTOFREE char *p = pl_strdupf("%s/tracker/bad-other-release.json", FEEDS);
	PL_AUTOFREE char *g = pl_strdupf("%s/tracker/good-releases.json", FEEDS);
	PL_AUTOBUF struct pl_buf got = PL_BUF_INIT;
	struct pl_err err = PL_ERR_INIT;
	(void)state;

	/* other releases are checked for shape only: buster's status passes */
	assert_int_equal(read_dump(DETECT_FEED_TRACKER, p, "bookworm", &got, &err), 0);
	assert_non_null(strstr(got.s, "tracker\ta\tCVE-2024-1\tbookworm\topen"));
	assert_null(strstr(got.s, "buster"));
	pl_buf_reset(&got);
	assert_int_equal(read_dump(DETECT_FEED_TRACKER, g, "bullseye", &got, &err), 0);
	assert_null(strstr(got.s, "bookworm"));
	assert_non_null(strstr(got.s, "\tCVE-2024-0727\tbullseye\topen\t-\tnot yet assigned\t"
	                              "Minor issue\tpostponed"));
}

static int count_entries(void *ctx, const char *name, const char *data, size_t len,
                         struct pl_err *err)
{
	(void)name;
	(void)err;
	assert_true(data[len] == '\0');
	(*(size_t *)ctx)++;
	return 0;
}

/* Every truncation and every flipped byte of a good archive: an error or
 * a result, never a crash or a read outside the buffer (ASan watches). */
static void test_zip_mangled(void **state)
{
	PL_AUTOFREE char *zip = NULL;
	PL_AUTOFREE char *path = pl_strdupf("%s/zip/good-zip64.zip", FEEDS);
	struct pl_err err = PL_ERR_INIT;
	size_t len, n = 0, failed = 0;
	(void)state;

	assert_int_equal(pl_file_read(path, &zip, &len, &err), 0);
	assert_int_equal(detect_zip_each(zip, len, "z", UINT64_MAX, count_entries, &n, &err), 0);
	assert_int_equal(n, 3);
	/* the bound counts what the directory records */
	assert_int_equal(detect_zip_each(zip, len, "z", 3000, count_entries, &n, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "GHSA-j8r2-6x86-q33q.json: the entries add up to more"));
	for (size_t cut = 0; cut < len; cut++) {
		char *copy = pl_malloc(cut + 1);

		memcpy(copy, zip, cut);
		assert_int_equal(
		    detect_zip_each(copy, cut, "z", UINT64_MAX, count_entries, &n, &err),
		    PL_EINVAL);
		assert_true(strncmp(err.msg, "z: ", 3) == 0);
		free(copy);
	}
	for (size_t i = 0; i < len; i++) {
		zip[i] ^= 0x5a;
		failed += detect_zip_each(zip, len, "z", UINT64_MAX, count_entries, &n, &err) < 0;
		zip[i] ^= 0x5a;
	}
	/* most bytes are checked: a header, a size, a CRC, the data */
	assert_true(failed > len / 2);
}

static void test_epss_truncations(void **state)
{
	PL_AUTOFREE char *csv = NULL;
	PL_AUTOFREE char *path = pl_strdupf("%s/epss/good-v2.csv", FEEDS);
	struct detect_sink sink = {0};
	struct pl_err err = PL_ERR_INIT;
	size_t len;
	(void)state;

	assert_int_equal(pl_file_read(path, &csv, &len, &err), 0);
	for (size_t cut = 0; cut <= len; cut++) {
		char *copy = pl_malloc(cut + 1);
		int rc;

		memcpy(copy, csv, cut);
		rc = detect_epss_parse(copy, cut, "e.csv", &sink, &err);
		assert_true(rc == 0 || rc == PL_EINVAL);
		free(copy);
	}
}

/* ---- the database ------------------------------------------------------------ */

/* A state directory of its own per test: tmpdir/NAME. */
static struct store *open_state(const char *name)
{
	PL_AUTOFREE char *dir = pl_strdupf("%s/%s", tmpdir, name);
	struct pl_err err = PL_ERR_INIT;
	struct store *st = NULL;

	if (store_open(dir, STORE_CREATE, &st, &err) < 0)
		fail_msg("%s", err.msg);
	return st;
}

/* Every row of every feed table, in a stable order: the "content" of the
 * feeds that a failed sync must leave unchanged. */
static char *feed_dump(struct store *st, int with_feeds)
{
	static const char *const sql[] = {
	    "SELECT name, kind, url, release, etag, last_modified, sha256, bytes, synced_at,"
	    " counts, info FROM feeds ORDER BY name",
	    "SELECT * FROM feed_tracker ORDER BY 1, 2, 3, 4",
	    "SELECT * FROM feed_tracker_cves ORDER BY 1, 2, 3",
	    "SELECT * FROM feed_osv ORDER BY feed_id, osv_id",
	    "SELECT o.osv_id, a.* FROM feed_osv_aliases a JOIN feed_osv o ON o.id = a.osv"
	    " ORDER BY 1, 3",
	    "SELECT o.osv_id, a.ecosystem, a.package, a.versions, r.* FROM feed_osv_affected a"
	    " JOIN feed_osv o ON o.id = a.osv LEFT JOIN feed_osv_ranges r ON r.affected = a.id"
	    " ORDER BY a.id, r.rowid",
	    "SELECT * FROM feed_cvss ORDER BY 1, 2, 3, 4",
	    "SELECT * FROM feed_epss ORDER BY 1, 2",
	    "SELECT * FROM feed_kev ORDER BY 1, 2",
	};
	struct pl_buf b = PL_BUF_INIT;
	struct pl_err err = PL_ERR_INIT;

	for (size_t q = with_feeds ? 0 : 1; q < sizeof(sql) / sizeof(sql[0]); q++) {
		PL_AUTOSTMT sqlite3_stmt *s = NULL;

		assert_int_equal(store_prepare(st, sql[q], &s, &err), 0);
		while (sqlite3_step(s) == SQLITE_ROW) {
			for (int i = 0; i < sqlite3_column_count(s); i++)
				pl_buf_addf(&b, "%s%s", i ? "|" : "", store_col_text(s, i));
			pl_buf_addc(&b, '\n');
		}
	}
	return pl_buf_detach(&b);
}

static long count_rows(struct store *st, const char *table)
{
	PL_AUTOFREE char *sql = pl_strdupf("SELECT count(*) FROM %s", table);
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	struct pl_err err = PL_ERR_INIT;

	assert_int_equal(store_prepare(st, sql, &s, &err), 0);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	return (long)sqlite3_column_int64(s, 0);
}

static void sync_ok(struct store *st, const char *name, struct detect_sync_result *r)
{
	struct pl_err err = PL_ERR_INIT;

	if (detect_feedstore_sync(st, name, NULL, r, &err) < 0)
		fail_msg("sync %s: %s", name, err.msg);
}

static void add_ok(struct store *st, const char *name, int kind, const char *url,
                   const char *release)
{
	struct pl_err err = PL_ERR_INIT;

	if (detect_feedstore_add(st, name, kind, url, release, &err) < 0)
		fail_msg("add %s: %s", name, err.msg);
}

static void test_store_sync(void **state)
{
	struct store *st = open_state("sync");
	struct detect_sync_result r = {0};
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *tracker = pl_strdupf("%s/tracker/good-releases.json", FEEDS);
	PL_AUTOFREE char *tree = pl_strdupf("%s/osv-tree", FEEDS);
	PL_AUTOFREE char *zip = pl_strdupf("%s/zip/good-zip64.zip", FEEDS);
	PL_AUTOFREE char *epss = pl_strdupf("%s/epss/good-gzip.csv.gz", FEEDS);
	PL_AUTOFREE char *kev = pl_strdupf("%s/kev/good-log4j-curl.json", FEEDS);
	json_t *list = NULL;
	(void)state;

	add_ok(st, "tracker", DETECT_FEED_TRACKER, tracker, NULL);
	add_ok(st, "tracker-bookworm", DETECT_FEED_TRACKER, tracker, "bookworm");
	add_ok(st, "osv-tree", DETECT_FEED_OSV, tree, NULL);
	add_ok(st, "osv-zip", DETECT_FEED_OSV, zip, NULL);
	add_ok(st, "epss", DETECT_FEED_EPSS, epss, NULL);
	add_ok(st, "kev", DETECT_FEED_KEV, kev, NULL);
	assert_int_equal(detect_feedstore_add(st, "kev", DETECT_FEED_KEV, kev, NULL, &err),
	                 PL_EEXIST);
	assert_int_equal(detect_feedstore_add(st, "-x", DETECT_FEED_KEV, kev, NULL, &err),
	                 PL_EUSAGE);
	assert_int_equal(detect_feedstore_add(st, "k2", DETECT_FEED_KEV, kev, "bookworm", &err),
	                 PL_EUSAGE);

	sync_ok(st, "tracker", &r);
	assert_int_equal(json_integer_value(json_object_get(r.counts, "tracker")), 10);
	assert_int_equal(json_integer_value(json_object_get(r.counts, "tracker_cves")), 5);
	detect_sync_result_release(&r);
	sync_ok(st, "tracker-bookworm", &r);
	assert_int_equal(json_integer_value(json_object_get(r.counts, "tracker")), 5);
	detect_sync_result_release(&r);
	sync_ok(st, "osv-tree", &r);
	assert_int_equal(json_integer_value(json_object_get(r.counts, "osv")), 4);
	detect_sync_result_release(&r);
	sync_ok(st, "osv-zip", &r);
	assert_int_equal(json_integer_value(json_object_get(r.counts, "osv")), 2);
	detect_sync_result_release(&r);
	sync_ok(st, "epss", &r);
	assert_int_equal(json_integer_value(json_object_get(r.counts, "epss")), 5);
	detect_sync_result_release(&r);
	sync_ok(st, "kev", &r);
	assert_int_equal(json_integer_value(json_object_get(r.counts, "kev")), 2);
	detect_sync_result_release(&r);

	/* the same bytes again: nothing re-read; --force re-reads the same rows */
	sync_ok(st, "kev", &r);
	assert_true(r.unchanged);
	assert_null(r.counts);
	{
		struct detect_sync_opts fo = {.force = 1};
		PL_AUTOFREE char *before = feed_dump(st, 0);
		PL_AUTOFREE char *after = NULL;

		assert_int_equal(detect_feedstore_sync(st, "tracker", &fo, &r, &err), 0);
		assert_false(r.unchanged);
		detect_sync_result_release(&r);
		/* synced_at may move by a second: the rows, not the records */
		after = feed_dump(st, 0);
		assert_string_equal(before, after);
	}
	assert_int_equal(detect_feedstore_list(st, &list, &err), 0);
	assert_int_equal(json_array_size(list), 6);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")),
	                    "epss");
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_array_get(list, 0), "info"), "model_version")),
	                    "v2023.03.01");
	json_decref(list);
	store_close(st);
}

static void test_store_lookups(void **state)
{
	/* the state test_store_sync filled */
	struct store *st = open_state("sync");
	struct pl_err err = PL_ERR_INIT;
	struct detect_tracker_cve *tc = NULL;
	struct detect_osv_fix *fx = NULL;
	struct detect_cve_risk risk;
	json_t *j = NULL;
	size_t n = 0;
	(void)state;

	/* two tracker feeds hold bookworm: each row once per feed */
	assert_int_equal(detect_lookup_tracker(st, "bookworm", "openssl", &tc, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(tc[0].cve, "CVE-2023-5678");
	assert_string_equal(tc[0].feed, "tracker");
	assert_string_equal(tc[1].feed, "tracker-bookworm");
	assert_string_equal(tc[0].fixed_version, "3.0.13-1~deb12u1");
	assert_int_equal(tc[0].urgency, DETECT_URG_MEDIUM);
	detect_tracker_cves_free(tc, n);
	assert_int_equal(detect_lookup_tracker(st, "bookworm", "linux", &tc, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_null(tc[0].fixed_version);
	assert_int_equal(tc[0].urgency, DETECT_URG_LOW);
	detect_tracker_cves_free(tc, n);

	/* OSV: the withdrawn DSA-9999-1 is left out; both feeds hold DSA-5532-1 */
	assert_int_equal(detect_lookup_osv(st, "Debian:12", "openssl", &fx, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(fx[0].id, "DEBIAN-CVE-2024-0727");
	assert_string_equal(fx[0].fixed, "3.0.13-1~deb12u1");
	assert_int_equal(fx[0].ncves, 1);
	assert_string_equal(fx[0].cves[0], "CVE-2024-0727");
	assert_string_equal(fx[1].id, "DSA-5532-1");
	assert_string_equal(fx[1].feed, "osv-tree");
	assert_string_equal(fx[2].feed, "osv-zip");
	assert_string_equal(fx[1].introduced, "0");
	assert_string_equal(fx[1].cves[0], "CVE-2023-5363");
	detect_osv_fixes_free(fx, n);
	assert_int_equal(detect_lookup_osv(st, "PyPI", "requests", &fx, &n, &err), 0);
	/* tree and zip both: ECOSYSTEM + GIT + three SEMVER intervals each */
	assert_int_equal(n, 10);
	assert_string_equal(fx[4].range_type, "SEMVER");
	assert_string_equal(fx[4].introduced, "3.0.0");
	assert_null(fx[4].fixed);
	detect_osv_fixes_free(fx, n);

	/* risk per CVE: highest CVSS over sources, EPSS, KEV */
	assert_int_equal(detect_lookup_cve_risk(st, "CVE-2023-32681", &risk, &err), 0);
	assert_int_equal(risk.cvss10, 61);
	assert_string_equal(risk.cvss_vector, "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N");
	assert_true(risk.epss < 0);
	assert_int_equal(risk.kev, 0);
	assert_int_equal(detect_lookup_cve_risk(st, "CVE-2021-44228", &risk, &err), 0);
	assert_int_equal(risk.cvss10, -1);
	assert_true(risk.epss > 0.975 && risk.epss < 0.976);
	assert_true(risk.epss_percentile > 0.9999);
	assert_int_equal(risk.kev, 1);
	assert_int_equal(risk.kev_ransomware, 1);
	assert_string_equal(risk.kev_date_added, "2021-12-10");
	assert_int_equal(detect_lookup_cve_risk(st, "CVE-2024-0727", &risk, &err), 0);
	assert_int_equal(risk.cvss10, 55);

	assert_int_equal(detect_lookup_cve(st, "CVE-2023-38545", &j, &err), 0);
	assert_int_equal(json_array_size(json_object_get(j, "tracker")), 3);
	assert_int_equal(json_array_size(json_object_get(j, "epss")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "kev")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "scope")), "remote");
	json_decref(j);
	assert_int_equal(detect_lookup_cve(st, "CVE-2023-32681", &j, &err), 0);
	assert_int_equal(json_array_size(json_object_get(j, "osv")), 2);
	assert_int_equal(json_array_size(json_object_get(j, "cvss")), 4);
	json_decref(j);
	assert_int_equal(detect_lookup_cve(st, "CVE-1900-0001", &j, &err), PL_ENOTFOUND);
	store_close(st);
}

/* A re-sync that fails (bad data, a duplicate, a missing file) changes
 * no row and no record. */
static void test_store_failed_resync(void **state)
{
	struct store *st = open_state("resync");
	struct detect_sync_result r = {0};
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *good = NULL, *bad = NULL, *before = NULL;
	PL_AUTOFREE char *epss = pl_strdupf("%s/epss.csv", tmpdir);
	PL_AUTOFREE char *osvdir = pl_strdupf("%s/osvdir", tmpdir);
	PL_AUTOFREE char *kev = pl_strdupf("%s/kev/bad-cve.json", FEEDS);
	size_t len;
	(void)state;

	assert_int_equal(pl_file_read(FEEDS "/epss/good-v2.csv", &good, &len, &err), 0);
	assert_int_equal(pl_file_write_atomic(epss, good, len, 0644, &err), 0);
	add_ok(st, "epss-tmp", DETECT_FEED_EPSS, epss, NULL);
	sync_ok(st, "epss-tmp", &r);
	detect_sync_result_release(&r);
	before = feed_dump(st, 1);

	/* a duplicate CVE: the database's key catches it, the line is named */
	bad = pl_strdupf("%sCVE-2023-5678,0.5,0.5\n", good);
	assert_int_equal(pl_file_write_atomic(epss, bad, strlen(bad), 0644, &err), 0);
	assert_int_equal(detect_feedstore_sync(st, "epss-tmp", NULL, &r, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "feed 'epss-tmp': "));
	assert_non_null(strstr(err.msg, "epss.csv:8: CVE-2023-5678 listed twice"));
	{
		PL_AUTOFREE char *after = feed_dump(st, 1);

		assert_string_equal(before, after);
	}
	/* a bad line late in the file: the rows before it are not kept */
	free(bad);
	bad = pl_strdupf("%sCVE-2023-9999,2,0.5\n", good);
	assert_int_equal(pl_file_write_atomic(epss, bad, strlen(bad), 0644, &err), 0);
	assert_int_equal(detect_feedstore_sync(st, "epss-tmp", NULL, &r, &err), PL_EINVAL);
	{
		PL_AUTOFREE char *after = feed_dump(st, 1);

		assert_string_equal(before, after);
	}
	/* the file gone */
	assert_int_equal(unlink(epss), 0);
	assert_int_equal(detect_feedstore_sync(st, "epss-tmp", NULL, &r, &err), PL_ENOTFOUND);
	{
		PL_AUTOFREE char *after = feed_dump(st, 1);

		assert_string_equal(before, after);
	}
	/* an advisory id twice in a directory */
	assert_int_equal(pl_mkdir_p(osvdir, 0755, &err), 0);
	{
		PL_AUTOFREE char *a = NULL;
		PL_AUTOFREE char *p1 = pl_strdupf("%s/a.json", osvdir);
		PL_AUTOFREE char *p2 = pl_strdupf("%s/b.json", osvdir);

		assert_int_equal(pl_file_read(FEEDS "/osv/good-DSA-5532-1.json", &a, &len, &err),
		                 0);
		assert_int_equal(pl_file_write_atomic(p1, a, len, 0644, &err), 0);
		assert_int_equal(pl_file_write_atomic(p2, a, len, 0644, &err), 0);
	}
	add_ok(st, "osv-dup", DETECT_FEED_OSV, osvdir, NULL);
	assert_int_equal(detect_feedstore_sync(st, "osv-dup", NULL, &r, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "b.json: $ (DSA-5532-1): advisory 'DSA-5532-1' appears "
	                                "twice in the feed"));
	add_ok(st, "kev-bad", DETECT_FEED_KEV, kev, NULL);
	assert_int_equal(detect_feedstore_sync(st, "kev-bad", NULL, &r, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "feed 'kev-bad': "));
	{
		json_t *j = NULL;

		/* a feed whose first sync failed: never synced, no rows */
		assert_int_equal(detect_feedstore_show(st, "kev-bad", &j, &err), 0);
		assert_true(json_is_null(json_object_get(j, "synced_at")));
		assert_true(json_is_null(json_object_get(j, "sha256")));
		json_decref(j);
		assert_int_equal(count_rows(st, "feed_osv"), 0);
		assert_int_equal(count_rows(st, "feed_kev"), 0);
	}
	/* remove: the rows go with the feed */
	assert_true(count_rows(st, "feed_epss") == 5);
	assert_int_equal(detect_feedstore_remove(st, "epss-tmp", &err), 0);
	assert_int_equal(count_rows(st, "feed_epss"), 0);
	assert_int_equal(detect_feedstore_remove(st, "epss-tmp", &err), PL_ENOTFOUND);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tracker_files),    cmocka_unit_test(test_osv_files),
	    cmocka_unit_test(test_epss_files),       cmocka_unit_test(test_kev_files),
	    cmocka_unit_test(test_zip_files),        cmocka_unit_test(test_huge_fields),
	    cmocka_unit_test(test_release_filter),   cmocka_unit_test(test_zip_mangled),
	    cmocka_unit_test(test_epss_truncations), cmocka_unit_test(test_store_sync),
	    cmocka_unit_test(test_store_lookups),    cmocka_unit_test(test_store_failed_resync),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
