/*
 * Unit tests for src/detect and src/pkgdb/decompress.c: gzip and xz round
 * trips and every truncation, the candidate rules (architectures, epochs,
 * '~', equal versions, packages missing from the index) and the tracker
 * feed rules (binNMU source versions, fixed_version "0", open CVEs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <lzma.h>
#include <zlib.h>

#include "core/core.h"
#include "detect/detect.h"
#include "pkgdb/pkgdb.h"

#ifndef PL_TEST_DATA_DIR
#error "PL_TEST_DATA_DIR must be defined as the absolute path of tests/data"
#endif
#define DATA(name) PL_TEST_DATA_DIR "/detect/" name

static const char sample[] = "Package: a\nVersion: 1.0\nArchitecture: all\n\n"
                             "Package: b\nVersion: 2.0\nArchitecture: amd64\n";

/* ---- compression helpers ------------------------------------------------- */

static void gzip_mem(const void *in, size_t len, struct pl_buf *out)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	pl_buf_grow(out, deflateBound(&z, len) + 64);
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = (unsigned char *)out->s + out->len;
	z.avail_out = (uInt)(out->cap - out->len - 1);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	out->len += z.total_out;
	deflateEnd(&z);
}

static void xz_mem(const void *in, size_t len, struct pl_buf *out)
{
	size_t pos = 0, cap = lzma_stream_buffer_bound(len);

	pl_buf_grow(out, cap);
	assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, in, len,
	                                         (uint8_t *)out->s + out->len, &pos, cap),
	                 LZMA_OK);
	out->len += pos;
}

static void expect_text(const void *data, size_t len, const char *want)
{
	struct pl_err err = PL_ERR_INIT;
	char *out = NULL;
	size_t n = 0;

	assert_int_equal(pkgdb_decompress(data, len, "mem", PKGDB_DECOMPRESS_MAX, &out, &n, &err),
	                 0);
	assert_int_equal(n, strlen(want));
	assert_string_equal(out, want);
	free(out);
}

static void test_roundtrip(void **state)
{
	PL_AUTOBUF struct pl_buf gz = PL_BUF_INIT, xz = PL_BUF_INIT, two = PL_BUF_INIT;
	PL_AUTOBUF struct pl_buf big = PL_BUF_INIT, bigxz = PL_BUF_INIT;
	(void)state;

	expect_text(sample, strlen(sample), sample);
	expect_text("", 0, "");
	gzip_mem(sample, strlen(sample), &gz);
	assert_int_equal(pkgdb_compression_detect(gz.s, gz.len), PKGDB_COMP_GZIP);
	expect_text(gz.s, gz.len, sample);
	xz_mem(sample, strlen(sample), &xz);
	assert_int_equal(pkgdb_compression_detect(xz.s, xz.len), PKGDB_COMP_XZ);
	expect_text(xz.s, xz.len, sample);
	/* two gzip members and two xz streams read as one text each */
	gzip_mem("Package: a\n", 11, &two);
	gzip_mem("Version: 1\n", 11, &two);
	expect_text(two.s, two.len, "Package: a\nVersion: 1\n");
	pl_buf_reset(&two);
	xz_mem("one\n", 4, &two);
	xz_mem("two\n", 4, &two);
	expect_text(two.s, two.len, "one\ntwo\n");
	/* larger than one decoder chunk */
	for (int i = 0; i < 20000; i++)
		pl_buf_addf(&big, "Package: p%d\nVersion: %d\nArchitecture: amd64\n\n", i, i);
	xz_mem(big.s, big.len, &bigxz);
	expect_text(bigxz.s, bigxz.len, big.s);
}

/* Every prefix of a compressed text fails as input naming the source. */
static void expect_truncations(const struct pl_buf *c, size_t from, const char *what)
{
	for (size_t n = from; n < c->len; n++) {
		struct pl_err err = PL_ERR_INIT;
		char *out = (char *)1;

		assert_int_equal(pkgdb_decompress(c->s, n, "dir/Packages.x", PKGDB_DECOMPRESS_MAX,
		                                  &out, NULL, &err),
		                 PL_EINVAL);
		assert_null(out);
		assert_non_null(strstr(err.msg, "dir/Packages.x: "));
		assert_non_null(strstr(err.msg, what));
	}
}

static void test_truncated(void **state)
{
	PL_AUTOBUF struct pl_buf gz = PL_BUF_INIT, xz = PL_BUF_INIT;
	(void)state;

	gzip_mem(sample, strlen(sample), &gz);
	xz_mem(sample, strlen(sample), &xz);
	expect_truncations(&gz, 2, "gzip");
	expect_truncations(&xz, 6, "xz");
}

static void test_corrupt_and_limits(void **state)
{
	PL_AUTOBUF struct pl_buf gz = PL_BUF_INIT, xz = PL_BUF_INIT;
	struct pl_err err = PL_ERR_INIT;
	char *out = NULL;
	(void)state;

	gzip_mem(sample, strlen(sample), &gz);
	xz_mem(sample, strlen(sample), &xz);
	xz.s[xz.len / 2] ^= 0x55;
	assert_int_equal(pkgdb_decompress(xz.s, xz.len, "c.xz", 1 << 20, &out, NULL, &err),
	                 PL_EINVAL);
	assert_non_null(strstr(err.msg, "c.xz: "));
	gz.s[gz.len - 6] ^= 0x55; /* the CRC32 of the trailer */
	assert_int_equal(pkgdb_decompress(gz.s, gz.len, "c.gz", 1 << 20, &out, NULL, &err),
	                 PL_EINVAL);
	assert_non_null(strstr(err.msg, "c.gz: corrupt gzip data"));
	pl_buf_reset(&xz);
	xz_mem(sample, strlen(sample), &xz);
	assert_int_equal(pkgdb_decompress(xz.s, xz.len, "s.xz", 10, &out, NULL, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "larger than 10 bytes"));
	assert_int_equal(
	    pkgdb_decompress("\x04\x22\x4d\x18xx", 6, "l.lz4", 1 << 20, &out, NULL, &err),
	    PL_EINVAL);
	assert_non_null(strstr(err.msg, "lz4"));
	assert_null(out);
}

/* Files by content, via the gzip and xz programs as apt's mirrors make them. */
static void test_file_read_any(void **state)
{
	char dir[] = "/tmp/pl-detect.XXXXXX";
	PL_AUTOFREE char *plain = NULL, *gz = NULL, *xz = NULL, *out = NULL;
	struct pl_err err = PL_ERR_INIT;
	size_t n;
	(void)state;

	assert_non_null(mkdtemp(dir));
	plain = pl_path_join(dir, "Packages");
	gz = pl_strdupf("%s.gz", plain);
	xz = pl_strdupf("%s.xz", plain);
	assert_int_equal(pl_file_write_atomic(plain, sample, strlen(sample), 0644, &err), 0);
	{
		const char *g[] = {"gzip", "-k", plain, NULL}, *x[] = {"xz", "-k", plain, NULL};

		assert_int_equal(pl_run_ok(g, &(struct pl_run_opts){0}, &err), 0);
		assert_int_equal(pl_run_ok(x, &(struct pl_run_opts){0}, &err), 0);
	}
	assert_int_equal(pkgdb_file_read_any(gz, PKGDB_DECOMPRESS_MAX, &out, &n, &err), 0);
	assert_string_equal(out, sample);
	free(PL_STEAL(out));
	assert_int_equal(pkgdb_file_read_any(xz, PKGDB_DECOMPRESS_MAX, &out, &n, &err), 0);
	assert_string_equal(out, sample);
	free(PL_STEAL(out));
	/* named .gz but plain: read by content */
	assert_int_equal(rename(plain, gz), 0);
	assert_int_equal(pkgdb_file_read_any(gz, PKGDB_DECOMPRESS_MAX, &out, &n, &err), 0);
	assert_string_equal(out, sample);
	free(PL_STEAL(out));
	unlink(gz);
	unlink(xz);
	assert_int_equal(pkgdb_file_read_any(xz, PKGDB_DECOMPRESS_MAX, &out, &n, &err),
	                 PL_ENOTFOUND);
	assert_non_null(strstr(err.msg, xz));
	rmdir(dir);
}

/* ---- matching -------------------------------------------------------------- */

/* Scans status text against Packages text (and a feed); the TSV-like rows
 * "name arch installed candidate cves severity" joined by '|'. */
static char *scan(const char *status, const char *packages, json_t *feed_doc, const char *release,
                  struct detect_result *keep)
{
	struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;
	struct detect_index *ix = detect_index_new();
	struct detect_feed *f = NULL;
	struct detect_result r = {0};
	struct pl_err err = PL_ERR_INIT;
	struct pl_buf b = PL_BUF_INIT;

	if (pkgdb_dpkg_status_parse(status, strlen(status), "status", &l, &err) < 0)
		fail_msg("%s", err.msg);
	if (detect_index_add(ix, packages, strlen(packages), "Packages", &err) < 0)
		fail_msg("%s", err.msg);
	if (feed_doc) {
		f = detect_feed_new(release);
		if (detect_feed_add_json(f, feed_doc, "feed.json", &err) < 0)
			fail_msg("%s", err.msg);
	}
	assert_int_equal(detect_scan(&l, ix, f, &r, &err), 0);
	for (size_t i = 0; i < r.nup; i++) {
		pl_buf_addf(&b, "%s%s %s %s %s ", i ? "|" : "", r.up[i].package, r.up[i].arch,
		            r.up[i].installed, r.up[i].candidate);
		for (size_t k = 0; k < r.up[i].ncves; k++)
			pl_buf_addf(&b, "%s%s", k ? "," : "", r.up[i].cves[k]);
		pl_buf_addf(&b, "%s %s", r.up[i].ncves ? "" : "-",
		            detect_urgency_name(r.up[i].severity));
	}
	if (keep)
		*keep = r;
	else
		detect_result_free(&r);
	detect_feed_free(f);
	detect_index_free(ix);
	pkgdb_pkglist_free(&l);
	return pl_buf_detach(&b);
}

#define INST(name, arch, ver)                                                                      \
	"Package: " name "\nStatus: install ok installed\nArchitecture: " arch "\nVersion: " ver   \
	"\n\n"
#define PKG(name, arch, ver) "Package: " name "\nArchitecture: " arch "\nVersion: " ver "\n\n"

static void expect_scan(const char *status, const char *packages, const char *want)
{
	PL_AUTOFREE char *got = scan(status, packages, NULL, NULL, NULL);

	assert_string_equal(got, want);
}

static void test_match_rules(void **state)
{
	(void)state;
	/* arch all only by all, amd64 only by amd64 */
	expect_scan(INST("a", "all", "1.0") INST("b", "amd64", "1.0"),
	            PKG("a", "amd64", "2.0") PKG("b", "all", "2.0"), "");
	expect_scan(INST("a", "all", "1.0") INST("b", "amd64", "1.0"),
	            PKG("a", "all", "2.0") PKG("b", "amd64", "2.0") PKG("b", "i386", "3.0"),
	            "a all 1.0 2.0 - -|b amd64 1.0 2.0 - -");
	/* the highest version wins, in dpkg order: epochs, '~' */
	expect_scan(INST("e", "amd64", "1.0"),
	            PKG("e", "amd64", "9.0") PKG("e", "amd64", "1:0.1") PKG("e", "amd64", "2.0"),
	            "e amd64 1.0 1:0.1 - -");
	expect_scan(INST("t", "amd64", "1.0"), PKG("t", "amd64", "1.0~rc1"), "");
	expect_scan(INST("t", "amd64", "1.0~rc1"), PKG("t", "amd64", "1.0"),
	            "t amd64 1.0~rc1 1.0 - -");
	expect_scan(INST("t", "amd64", "1.0~rc1"), PKG("t", "amd64", "1.0~rc1+b1"),
	            "t amd64 1.0~rc1 1.0~rc1+b1 - -");
	/* equal versions (1.0 and 0:1.0 too), older ones, missing packages */
	expect_scan(INST("q", "amd64", "1.0") INST("r", "amd64", "2.0") INST("m", "amd64", "1"),
	            PKG("q", "amd64", "0:1.0") PKG("r", "amd64", "1.9"), "");
	/* not installed (config-files) is never listed */
	expect_scan("Package: c\nStatus: deinstall ok config-files\nArchitecture: amd64\n"
	            "Version: 1\n\n",
	            PKG("c", "amd64", "2"), "");
	/* several Multi-Arch: same arches, each against its own */
	expect_scan("Package: m\nStatus: install ok installed\nArchitecture: amd64\n"
	            "Multi-Arch: same\nVersion: 1\n\n"
	            "Package: m\nStatus: install ok installed\nArchitecture: i386\n"
	            "Multi-Arch: same\nVersion: 1\n\n",
	            PKG("m", "i386", "2"), "m i386 1 2 - -");
}

static void expect_index_error(const char *packages, const char *want)
{
	struct detect_index *ix = detect_index_new();
	struct pl_err err = PL_ERR_INIT;

	assert_int_equal(detect_index_add(ix, packages, strlen(packages), "P", &err), PL_EINVAL);
	assert_string_equal(err.msg, want);
	detect_index_free(ix);
}

static void test_index_errors(void **state)
{
	(void)state;
	expect_index_error(PKG("a", "all", "1") "Architecture: all\nVersion: 1\n",
	                   "P:5: stanza without Package");
	expect_index_error(PKG("a", "all", "1") "Package: b\nArchitecture: all\n",
	                   "P:5: stanza without Version");
	expect_index_error("Package: a\nArchitecture: all\nVersion: 1:\n",
	                   "P:3: invalid version '1:': nothing after colon in version number");
	expect_index_error("Package: a\nSource: x (1 2)\nArchitecture: all\nVersion: 1\n",
	                   "P:2: invalid source version '1 2': version string has embedded spaces");
	expect_index_error("Package a\n", "P:1: line without ':' (expected 'Name: value')");
}

/* ---- feeds ------------------------------------------------------------------- */

static json_t *jload(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	if (!j)
		fail_msg("%s", je.text);
	return j;
}

static void test_feed_rules(void **state)
{
	PL_AUTOJSON json_t *doc =
	    jload("{\"bash\": {"
	          "\"CVE-1\": {\"releases\": {\"bookworm\": {\"status\": \"resolved\","
	          " \"fixed_version\": \"5.2.15-2+deb12u1\", \"urgency\": \"low\"}}},"
	          "\"CVE-2\": {\"releases\": {\"bookworm\": {\"status\": \"resolved\","
	          " \"fixed_version\": \"0\", \"urgency\": \"high\"}}},"
	          "\"CVE-3\": {\"releases\": {\"bookworm\": {\"status\": \"open\", \"urgency\": "
	          "\"high\"}}},"
	          "\"CVE-4\": {\"releases\": {\"bookworm\": {\"status\": \"resolved\","
	          " \"fixed_version\": \"5.2.15-2\", \"urgency\": \"high\"}}},"
	          "\"CVE-5\": {\"releases\": {\"bookworm\": {\"status\": \"resolved\","
	          " \"fixed_version\": \"5.2.15-3\", \"urgency\": \"high\"}}},"
	          "\"CVE-6\": {\"releases\": {\"bookworm\": {\"status\": \"resolved\","
	          " \"fixed_version\": \"5.2.15-2+deb12u1\", \"urgency\": \"not yet assigned\"}},"
	          " \"scope\": \"local\"},"
	          "\"CVE-7\": {\"releases\": {\"trixie\": {\"status\": \"resolved\","
	          " \"fixed_version\": \"5.2.15-2+deb12u1\", \"urgency\": \"high\"}}},"
	          "\"CVE-8\": {\"releases\": {\"bookworm\": {\"status\": \"undetermined\"}}}"
	          "}}");
	/* the binNMU bash 5.2.15-2+b8 has source version 5.2.15-2: CVE-4 is
	 * fixed in what is installed, CVE-5 not by the candidate, CVE-2 never
	 * affected, CVE-7 another release */
	const char *status = "Package: bash\nStatus: install ok installed\nArchitecture: amd64\n"
	                     "Source: bash (5.2.15-2)\nVersion: 5.2.15-2+b8\n\n"
	                     "Package: bash\nStatus: install ok installed\nArchitecture: i386\n"
	                     "Source: bash (5.2.15-2)\nVersion: 5.2.15-2+b8\n\n";
	struct detect_result r;
	PL_AUTOFREE char *got = NULL;

	(void)state;
	got = scan(status,
	           "Package: bash\nSource: bash (5.2.15-2+deb12u1)\nArchitecture: amd64\n"
	           "Version: 5.2.15-2+deb12u1+b1\n\n"
	           "Package: bash\nArchitecture: i386\nVersion: 5.2.15-2+deb12u1\n",
	           doc, "bookworm", &r);

	assert_string_equal(got, "bash amd64 5.2.15-2+b8 5.2.15-2+deb12u1+b1 CVE-1,CVE-6 medium"
	                         "|bash i386 5.2.15-2+b8 5.2.15-2+deb12u1 CVE-1,CVE-6 medium");
	assert_string_equal(r.up[0].installed_source, "5.2.15-2");
	assert_string_equal(r.up[0].candidate_source, "5.2.15-2+deb12u1");
	/* open and undetermined, once per package name */
	assert_int_equal(r.nunfixed, 2);
	assert_string_equal(r.unfixed[0].cve, "CVE-3");
	assert_int_equal(r.unfixed[0].urgency, DETECT_URG_HIGH);
	assert_string_equal(r.unfixed[1].cve, "CVE-8");
	assert_int_equal(r.unfixed[1].urgency, DETECT_URG_MEDIUM);
	detect_result_free(&r);
}

static void test_urgency(void **state)
{
	(void)state;
	assert_int_equal(detect_urgency_parse("unimportant"), DETECT_URG_UNIMPORTANT);
	assert_int_equal(detect_urgency_parse("low"), DETECT_URG_LOW);
	assert_int_equal(detect_urgency_parse("medium"), DETECT_URG_MEDIUM);
	assert_int_equal(detect_urgency_parse("high"), DETECT_URG_HIGH);
	assert_int_equal(detect_urgency_parse("high**"), DETECT_URG_HIGH);
	assert_int_equal(detect_urgency_parse("not yet assigned"), DETECT_URG_MEDIUM);
	assert_int_equal(detect_urgency_parse("end-of-life"), DETECT_URG_UNIMPORTANT);
	assert_int_equal(detect_urgency_parse("urgent"), -1);
	assert_string_equal(detect_urgency_name(DETECT_URG_NONE), "-");
}

static void expect_feed_error(const char *json, const char *want)
{
	PL_AUTOJSON json_t *doc = jload(json);
	struct detect_feed *f = detect_feed_new("bookworm");
	struct pl_err err = PL_ERR_INIT;

	assert_int_equal(detect_feed_add_json(f, doc, "f.json", &err), PL_EINVAL);
	assert_string_equal(err.msg, want);
	detect_feed_free(f);
}

static void test_feed_errors(void **state)
{
	struct detect_feed *f = detect_feed_new("bookworm");
	struct pl_err err = PL_ERR_INIT;
	(void)state;

	expect_feed_error("[]", "f.json: $: expected an object of source packages");
	expect_feed_error("{\"a\": 1}", "f.json: $.a: expected an object of CVEs");
	expect_feed_error("{\"a\": {\"CVE-1\": {}}}",
	                  "f.json: $.a.CVE-1.releases: expected an object");
	expect_feed_error("{\"a\": {\"CVE-1\": {\"releases\": {\"bookworm\": {\"status\": "
	                  "\"resolved\"}}}}}",
	                  "f.json: $.a.CVE-1.releases.bookworm.fixed_version: a resolved CVE "
	                  "needs a string");
	expect_feed_error(
	    "{\"a\": {\"CVE-1\": {\"releases\": {\"bookworm\": {\"status\": "
	    "\"resolved\", \"fixed_version\": \"1:\"}}}}}",
	    "f.json: $.a.CVE-1.releases.bookworm.fixed_version: invalid version '1:'");
	expect_feed_error("{\"a\": {\"CVE-1\": {\"releases\": {\"bookworm\": {\"status\": "
	                  "\"open\", \"urgency\": \"urgent\"}}}}}",
	                  "f.json: $.a.CVE-1.releases.bookworm.urgency: unknown urgency 'urgent'");
	/* other releases are not checked beyond their shape */
	{
		PL_AUTOJSON json_t *doc = jload("{\"a\": {\"CVE-1\": {\"releases\": {\"sid\": "
		                                "{\"status\": \"weird\"}}}}}");

		assert_int_equal(detect_feed_add_json(f, doc, "f.json", &err), 0);
	}
	assert_int_equal(detect_feed_load(f, DATA("tracker_osvdev.json"), &err), 0);
	assert_int_equal(detect_feed_load(f, DATA("nope.json"), &err), PL_ENOTFOUND);
	detect_feed_free(f);
}

/* The fixture files: the CLI's expected output is checked in scan.sh. */
static void test_fixture_feeds(void **state)
{
	struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;
	struct detect_index *ix = detect_index_new();
	struct detect_feed *f = detect_feed_new("buster");
	struct detect_result r = {0};
	struct pl_err err = PL_ERR_INIT;
	(void)state;

	assert_int_equal(pkgdb_dpkg_status_load(DATA("status"), &l, &err), 0);
	assert_int_equal(detect_index_load(ix, DATA("Packages"), &err), 0);
	assert_int_equal(detect_feed_load(f, DATA("tracker_vulnerablecode.json"), &err), 0);
	assert_int_equal(detect_feed_load(f, DATA("tracker_osvdev.json"), &err), 0);
	assert_int_equal(detect_scan(&l, ix, f, &r, &err), 0);
	assert_int_equal(r.nup, 3);
	assert_string_equal(r.up[2].package, "mimetex");
	/* TEMP-0000000-A2EB44 is fixed in 1.4.5, above the candidate */
	assert_int_equal(r.up[2].ncves, 2);
	assert_string_equal(r.up[2].cves[0], "CVE-2009-1382");
	assert_string_equal(r.up[2].cves[1], "CVE-2009-2459");
	/* fixed_version "0" (CVE-2014-1424) is never counted */
	assert_int_equal(r.up[0].ncves, 1);
	assert_string_equal(r.up[0].cves[0], "CVE-2017-6507");
	detect_result_free(&r);
	detect_feed_free(f);
	detect_index_free(ix);
	pkgdb_pkglist_free(&l);
}

static void test_os_codename(void **state)
{
	char path[] = "/tmp/pl-osrel.XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "NAME=\"Debian\"\nVERSION_CODENAME=\"trixie\"\n";
	PL_AUTOFREE char *c = NULL;
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	c = detect_os_codename(path);
	assert_string_equal(c, "trixie");
	unlink(path);
	assert_null(detect_os_codename(path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),          cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_corrupt_and_limits), cmocka_unit_test(test_file_read_any),
	    cmocka_unit_test(test_match_rules),        cmocka_unit_test(test_index_errors),
	    cmocka_unit_test(test_feed_rules),         cmocka_unit_test(test_urgency),
	    cmocka_unit_test(test_feed_errors),        cmocka_unit_test(test_fixture_feeds),
	    cmocka_unit_test(test_os_codename),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
