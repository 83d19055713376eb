/*
 * Unit tests for src/version: dpkg and rpm version order and validation.
 * Expected values come from the published vectors in tests/data/version and
 * from dpkg 1.21.22 / rpm 4.18.0 run on a Debian 12 machine (noted per table).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "version/version.h"

#ifndef PL_TEST_DATA_DIR
#error "PL_TEST_DATA_DIR must be defined as the absolute path of tests/data"
#endif

#define DATA(name) PL_TEST_DATA_DIR "/version/" name
#define NELEMS(a)  (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ----------------------------------------------------------- */

static int deb_parse_str(const char *s, struct version_deb *v, const char **msg)
{
	return version_deb_parse(s, strlen(s), v, msg);
}

static int rpm_parse_str(const char *s, struct version_rpm *v, const char **msg)
{
	return version_rpm_parse(s, strlen(s), v, msg);
}

/* Parse two versions dpkg accepts (possibly with a warning) and compare. */
static int deb_cmp_str(const char *a, const char *b)
{
	struct version_deb va, vb;

	if (deb_parse_str(a, &va, NULL) < 0)
		fail_msg("dpkg version rejected: '%s'", a);
	if (deb_parse_str(b, &vb, NULL) < 0)
		fail_msg("dpkg version rejected: '%s'", b);
	return version_deb_cmp(&va, &vb);
}

static int rpm_cmp_str(const char *a, const char *b)
{
	struct version_rpm va, vb;

	if (rpm_parse_str(a, &va, NULL) != 0)
		fail_msg("rpm version rejected: '%s'", a);
	if (rpm_parse_str(b, &vb, NULL) != 0)
		fail_msg("rpm version rejected: '%s'", b);
	return version_rpm_cmp(&va, &vb);
}

static int seg_cmp_str(const char *a, const char *b)
{
	return version_rpmvercmp(a, strlen(a), b, strlen(b));
}

/* A data row split into up to 3 fields; lines starting with '#' are skipped. */
struct row {
	char buf[512];
	char *f[3];
	int nf;
	int lineno;
};

/* Read the next data row from fp, splitting on sep; 0 at end of file. */
static int next_row(FILE *fp, char sep, struct row *r)
{
	while (fgets(r->buf, sizeof(r->buf), fp)) {
		char *p = r->buf;

		r->lineno++;
		r->buf[strcspn(r->buf, "\r\n")] = '\0';
		if (r->buf[0] == '#' || r->buf[0] == '\0')
			continue;
		for (r->nf = 0; r->nf < 3; r->nf++) {
			r->f[r->nf] = p;
			p = strchr(p, sep);
			if (!p) {
				r->nf++;
				break;
			}
			*p++ = '\0';
		}
		return 1;
	}
	return 0;
}

static FILE *open_data(const char *path)
{
	FILE *fp = fopen(path, "r");

	if (!fp)
		fail_msg("cannot open test data %s", path);
	return fp;
}

/*
 * Split like Perl's Dpkg::Version, which dpkg's own comparison table was
 * written for: no validation, epoch before the first colon, revision after
 * the last hyphen. Used only for the rows C dpkg rejects.
 */
static void deb_split_lenient(const char *s, struct version_deb *v)
{
	const char *colon = strchr(s, ':');
	const char *hyphen;

	v->epoch = colon ? strtoul(s, NULL, 10) : 0;
	s = colon ? colon + 1 : s;
	hyphen = strrchr(s, '-');
	v->upstream = s;
	v->upstream_len = hyphen ? (size_t)(hyphen - s) : strlen(s);
	v->revision = hyphen ? hyphen + 1 : "";
	v->revision_len = strlen(v->revision);
}

/* ---- dpkg: published vectors ------------------------------------------- */

/* Rows of dpkg-version-vectors.tsv whose version C dpkg 1.21 rejects. */
static const struct {
	const char *version;
	const char *msg;
} deb_vector_rejects[] = {
    {"0foo-", "revision number is empty"},
    {"-0.6.5", "version number is empty"},
};

static const char *deb_vector_reject_msg(const char *s)
{
	for (size_t i = 0; i < NELEMS(deb_vector_rejects); i++) {
		if (strcmp(deb_vector_rejects[i].version, s) == 0)
			return deb_vector_rejects[i].msg;
	}
	return NULL;
}

/* Parse s; if dpkg rejects it, it must be a known reject and is split leniently. */
static void deb_vector_version(const char *s, struct version_deb *v, int *rejected)
{
	const char *msg = NULL;
	const char *want = deb_vector_reject_msg(s);

	if (version_deb_parse(s, strlen(s), v, &msg) >= 0) {
		assert_null(want);
		return;
	}
	if (!want)
		fail_msg("'%s' unexpectedly rejected: %s", s, msg);
	assert_string_equal(msg, want);
	deb_split_lenient(s, v);
	(*rejected)++;
}

static void test_deb_vectors(void **state)
{
	FILE *fp = open_data(DATA("dpkg-version-vectors.tsv"));
	struct row r = {.lineno = 0};
	int n = 0, rejected = 0;

	(void)state;
	while (next_row(fp, '\t', &r)) {
		struct version_deb a, b;
		int want;

		assert_int_equal(r.nf, 3);
		want = atoi(r.f[2]);
		deb_vector_version(r.f[0], &a, &rejected);
		deb_vector_version(r.f[1], &b, &rejected);
		if (version_deb_cmp(&a, &b) != want || version_deb_cmp(&b, &a) != -want)
			fail_msg("line %d: '%s' vs '%s' want %d got %d", r.lineno, r.f[0], r.f[1],
			         want, version_deb_cmp(&a, &b));
		n++;
	}
	fclose(fp);
	assert_int_equal(n, 44);
	assert_int_equal(rejected, 4); /* rows 0foo- x3 and -0.6.5 */
}

/*
 * Exact dpkg 1.21.22 classification of every invalid row of
 * dpkg-version-parse.tsv (checked with `dpkg --compare-versions`:
 * rc 1 = "dpkg: warning", rc -1 = "dpkg: error", exit 2).
 */
static const struct {
	const char *version;
	int rc;
	const char *msg;
} deb_parse_expect[] = {
    {" ", -1, "version string is empty"},
    {"0:", -1, "nothing after colon in version number"},
    {"0:0 0-1", -1, "version string has embedded spaces"},
    {"-1:0-1", -1, "epoch in version is negative"},
    {"999999999999999999999999:0-1", -1, "epoch in version is too big"},
    {"a:0-0", -1, "epoch in version is empty"},
    {"-0", -1, "version number is empty"},
    {"0:-0", -1, "version number is empty"},
    {"0:abc3-0", 1, "version number does not start with digit"},
    {"0:0!-0", 1, "invalid character in version number"},
    {"0:0-0:0", 1, "invalid character in revision number"},
    {"0:0-0!", 1, "invalid character in revision number"},
    {"10a:5.2", -1, "epoch in version is not number"},
    {"5.2@3-2", 1, "invalid character in version number"},
    {"foo5.2", 1, "version number does not start with digit"},
};

static void test_deb_parse_vectors(void **state)
{
	FILE *fp = open_data(DATA("dpkg-version-parse.tsv"));
	struct row r = {.lineno = 0};
	int n = 0, classified = 0;

	(void)state;
	while (next_row(fp, '\t', &r)) {
		struct version_deb v;
		const char *msg = NULL;
		int rc = deb_parse_str(r.f[0], &v, &msg);

		assert_true(r.nf >= 2);
		n++;
		if (atoi(r.f[1]) == 1) {
			if (rc != 0)
				fail_msg("line %d: '%s' should be valid: %s", r.lineno, r.f[0],
				         msg);
			assert_null(msg);
			continue;
		}
		assert_int_not_equal(rc, 0);
		for (size_t i = 0; i < NELEMS(deb_parse_expect); i++) {
			if (strcmp(deb_parse_expect[i].version, r.f[0]) != 0)
				continue;
			assert_int_equal(rc, deb_parse_expect[i].rc);
			assert_string_equal(msg, deb_parse_expect[i].msg);
			classified++;
		}
	}
	fclose(fp);
	assert_int_equal(n, 21);
	assert_int_equal(classified, (int)NELEMS(deb_parse_expect));
}

/* ---- dpkg: parser edge cases (each checked against dpkg 1.21.22) -------- */

static const struct {
	const char *version;
	int rc;
	const char *msg;
} deb_edge[] = {
    {"", -1, "version string is empty"},
    {" \t ", -1, "version string is empty"},
    {"1.0 ", 0, NULL},
    {" 1.0", 0, NULL},
    {"\t1.0\t", 0, NULL},
    {"1 0", -1, "version string has embedded spaces"},
    {"1\t0", -1, "version string has embedded spaces"},
    {"1 :2", -1, "version string has embedded spaces"},
    {"1:", -1, "nothing after colon in version number"},
    /* dpkg tests the untrimmed byte after the colon */
    {"1: ", -1, "version number is empty"},
    {":1", -1, "epoch in version is empty"},
    {":", -1, "epoch in version is empty"},
    {"+:1", -1, "epoch in version is empty"},
    {"-:1", -1, "epoch in version is empty"},
    {"++1:1", -1, "epoch in version is empty"},
    {"+-1:1", -1, "epoch in version is empty"},
    /* strtol semantics: a sign and leading \n \v \f \r are accepted */
    {"+1:2", 0, NULL},
    {"-0:1", 0, NULL},
    {"-00:1", 0, NULL},
    {"00:1", 0, NULL},
    {"\n1:2", 0, NULL},
    {"\n\n5:1", 0, NULL},
    {"\v1:2", 0, NULL},
    {"\r1:2", 0, NULL},
    {" -1:1", -1, "epoch in version is negative"},
    {"\n-1:1", -1, "epoch in version is negative"},
    {"-99999999999999999999999:1", -1, "epoch in version is negative"},
    {"2147483647:1", 0, NULL},
    {"2147483648:1", -1, "epoch in version is too big"},
    {"9223372036854775808:1", -1, "epoch in version is too big"},
    {"0x1:1", -1, "epoch in version is not number"},
    {"1-a:b", -1, "epoch in version is not number"},
    {"1:1:1", 0, NULL},
    {"1:1-", -1, "revision number is empty"},
    {"1:-", -1, "revision number is empty"},
    {"-", -1, "revision number is empty"},
    {"1.0-", -1, "revision number is empty"},
    {"1:a:b", 1, "version number does not start with digit"},
    {"1:a", 1, "version number does not start with digit"},
    {"a-1", 1, "version number does not start with digit"},
    {"\n1", 1, "version number does not start with digit"},
    {"\x7f"
     "1",
     1, "version number does not start with digit"},
    {"1\f0", 1, "invalid character in version number"},
    {"1.0\x01", 1, "invalid character in version number"},
    {"1.0\xc3\xa4", 1, "invalid character in version number"},
    {"1.0-\xc3\xa4", 1, "invalid character in revision number"},
    {"0:09azAZ.-+~:-0", 0, NULL},
    {"0:0-azAZ09.+~", 0, NULL},
};

static void test_deb_parse_edges(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEMS(deb_edge); i++) {
		struct version_deb v;
		const char *msg = "unset";
		int rc = deb_parse_str(deb_edge[i].version, &v, &msg);

		if (rc != deb_edge[i].rc)
			fail_msg("case %zu: rc %d want %d (%s)", i, rc, deb_edge[i].rc,
			         msg ? msg : "");
		if (deb_edge[i].msg)
			assert_string_equal(msg, deb_edge[i].msg);
		else
			assert_null(msg);
	}
}

/* dpkg's parse test lists these as invalid in upstream and revision: all warn. */
static void test_deb_parse_bad_chars(void **state)
{
	const char *bad = "!#@$%&/|\\<>()[]{};,_=*^'";

	(void)state;
	for (const char *c = bad; *c; c++) {
		char up[] = "0:0X-0", rev[] = "0:0-0X";
		struct version_deb v;
		const char *msg = NULL;

		up[3] = *c;
		rev[5] = *c;
		assert_int_equal(deb_parse_str(up, &v, &msg), 1);
		assert_string_equal(msg, "invalid character in version number");
		assert_int_equal(deb_parse_str(rev, &v, &msg), 1);
		assert_string_equal(msg, "invalid character in revision number");
	}
}

static void assert_slice(const char *p, size_t len, const char *want)
{
	assert_int_equal(len, strlen(want));
	assert_memory_equal(p, want, len);
}

static void test_deb_parse_fields(void **state)
{
	struct version_deb v;
	const char *s = "  7:1.2-3:4-5.6\t";

	(void)state;
	assert_int_equal(deb_parse_str(s, &v, NULL), 0);
	assert_int_equal(v.epoch, 7);
	assert_slice(v.upstream, v.upstream_len, "1.2-3:4");
	assert_slice(v.revision, v.revision_len, "5.6");
	assert_true(v.upstream >= s && v.upstream < s + strlen(s)); /* no copy */

	assert_int_equal(deb_parse_str("1.0", &v, NULL), 0);
	assert_int_equal(v.epoch, 0);
	assert_slice(v.upstream, v.upstream_len, "1.0");
	assert_int_equal(v.revision_len, 0);

	/* the length bounds the input: no NUL terminator needed */
	assert_int_equal(version_deb_parse("2:3.4-5 trailing junk", 7, &v, NULL), 0);
	assert_int_equal(v.epoch, 2);
	assert_slice(v.revision, v.revision_len, "5");

	assert_int_equal(deb_parse_str("1:", &v, NULL), -1);
	assert_int_equal(v.epoch, 0);
	assert_null(v.upstream);
}

/* ---- dpkg: order properties ------------------------------------------- */

/* Strictly ascending under dpkg (each neighbour pair checked with dpkg). */
static const char *deb_ascending[] = {
    "1.0~~",     "1.0~~a", "1.0~",   "1.0~rc1",  "1.0~rc1-1", "1.0",          "1.0-0.1",
    "1.0-1~bpo", "1.0-1",  "1.0-1a", "1.0-1+b1", "1.0-1.1",   "1.0a",         "1.0a.1",
    "1.0+dfsg",  "1.0.1",  "1.1",    "1.9",      "1.10",      "1.010.1",      "2",
    "10",        "1:0~",   "1:0",    "1:0.0",    "2:0",       "2147483647:0",
};

static void test_deb_ascending(void **state)
{
	(void)state;
	for (size_t i = 0; i + 1 < NELEMS(deb_ascending); i++) {
		if (deb_cmp_str(deb_ascending[i], deb_ascending[i + 1]) != -1)
			fail_msg("'%s' should sort before '%s'", deb_ascending[i],
			         deb_ascending[i + 1]);
	}
}

static const char *deb_tricky[] = {
    "0",
    "0~",
    "0~~",
    "00",
    "0-0",
    "0-00",
    "0.0",
    "1",
    "1~",
    "1~~",
    "1+",
    "1.",
    "1a",
    "1A",
    "1-a",
    "1-~",
    "1-0",
    "1.0",
    "1.00",
    "1.0~rc1",
    "1.0+dfsg",
    "1.0-1",
    "1.0-1~",
    "1.0-1+b1",
    "1.0-a-b",
    "1:0",
    "1:0~",
    "0:1.0",
    "1:1:1",
    "1.0\xc3\xa4",
    "1\xc3\xa4",
    "1z",
    "1.0-1ubuntu1",
    "1.0-1.1",
    "12345678901234567890123456789",
    "12345678901234567890123456788",
    "9",
    "10",
    "010",
    "2147483647:0",
    "1.0\xff",
    "1.0!",
    "a",
    "~",
    "1~a",
    "1~A",
    "1~0",
};

/* Antisymmetry, reflexivity and transitivity of dpkg's order on the list. */
static void test_deb_order_properties(void **state)
{
	enum { N = NELEMS(deb_tricky) };
	struct version_deb v[N];
	int c[N][N];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		if (deb_parse_str(deb_tricky[i], &v[i], NULL) < 0)
			fail_msg("rejected: '%s'", deb_tricky[i]);
	}
	for (size_t i = 0; i < N; i++) {
		for (size_t j = 0; j < N; j++)
			c[i][j] = version_deb_cmp(&v[i], &v[j]);
	}
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(c[i][i], 0);
		for (size_t j = 0; j < N; j++) {
			assert_int_equal(c[i][j], -c[j][i]);
			for (size_t k = 0; k < N; k++) {
				if (c[i][j] <= 0 && c[j][k] <= 0 && c[i][k] > 0)
					fail_msg("not transitive: %s %s %s", deb_tricky[i],
					         deb_tricky[j], deb_tricky[k]);
			}
		}
	}
}

static void test_deb_epochs(void **state)
{
	(void)state;
	assert_int_equal(deb_cmp_str("1:0", "99999"), 1);
	assert_int_equal(deb_cmp_str("0:5", "5"), 0);
	assert_int_equal(deb_cmp_str("00:5", "5"), 0);
	assert_int_equal(deb_cmp_str("-0:5", "5"), 0);
	assert_int_equal(deb_cmp_str("+1:0", "1:0"), 0);
	assert_int_equal(deb_cmp_str("2147483647:0", "2147483646:9"), 1);
	assert_int_equal(deb_cmp_str("1:1:1", "1:1:2"), -1); /* second colon is upstream */
}

/* Bytes >= 0x80 weigh between letters and punctuation on amd64 dpkg. */
static void test_deb_high_bytes(void **state)
{
	(void)state;
	assert_int_equal(deb_cmp_str("1\xc3\xa4", "1."), -1);
	assert_int_equal(deb_cmp_str("1\xc3\xa4", "1z"), 1);
	assert_int_equal(deb_cmp_str("1\xc3\xa4", "1~"), 1);
	assert_int_equal(deb_cmp_str("1.0", "1.0\xc3\xa4"), -1);
}

/* A number of n digits: a leading digit then n-1 copies of fill. */
static void make_number(char *buf, size_t n, char lead, char fill)
{
	buf[0] = lead;
	memset(buf + 1, fill, n - 1);
	buf[n] = '\0';
}

static void test_deb_huge_digits(void **state)
{
	char a[256], b[256], c[300];

	(void)state;
	make_number(a, 100, '1', '0'); /* 10^99 */
	make_number(b, 99, '9', '9');  /* 10^99 - 1 */
	assert_int_equal(deb_cmp_str(a, b), 1);
	assert_int_equal(deb_cmp_str(b, a), -1);
	make_number(b, 100, '1', '0');
	b[99] = '1'; /* 10^99 + 1 */
	assert_int_equal(deb_cmp_str(a, b), -1);
	/* leading zeros do not count, however many */
	memset(c, '0', 150);
	memcpy(c + 150, a, 101);
	assert_int_equal(deb_cmp_str(c, a), 0);
	/* runs inside revisions and after letters too */
	assert_int_equal(deb_cmp_str("1-a18446744073709551616", "1-a18446744073709551615"), 1);
	assert_int_equal(deb_cmp_str("1.4294967296", "1.4294967295"), 1);
	make_number(c, 100, '1', '0');
	memcpy(c + 100, ":0", 3);
	assert_int_equal(deb_parse_str(c, &(struct version_deb){0}, NULL), -1);
}

static void test_deb_verrevcmp(void **state)
{
	(void)state;
	assert_int_equal(version_deb_verrevcmp("", 0, "", 0), 0);
	assert_int_equal(version_deb_verrevcmp("~", 1, "", 0), -1);
	assert_int_equal(version_deb_verrevcmp("a", 1, "", 0), 1);
	assert_int_equal(version_deb_verrevcmp("a", 1, "+", 1), -1);
	assert_int_equal(version_deb_verrevcmp("1.0", 3, "1.0.1", 3), 0); /* length bounds */
	assert_int_equal(version_deb_verrevcmp(NULL, 0, "", 0), 0);
}

/* ---- rpm: published vectors -------------------------------------------- */

static int run_rpm_vectors(const char *path, char sep)
{
	FILE *fp = open_data(path);
	struct row r = {.lineno = 0};
	int n = 0;

	while (next_row(fp, sep, &r)) {
		int want, got, back;

		assert_int_equal(r.nf, 3);
		want = atoi(r.f[2]);
		got = seg_cmp_str(r.f[0], r.f[1]);
		back = seg_cmp_str(r.f[1], r.f[0]);
		if (got != want || back != -want)
			fail_msg("%s:%d: '%s' vs '%s' want %d got %d/%d", path, r.lineno, r.f[0],
			         r.f[1], want, got, back);
		n++;
	}
	fclose(fp);
	return n;
}

static void test_rpm_vectors(void **state)
{
	(void)state;
	assert_int_equal(run_rpm_vectors(DATA("rpmvercmp-vectors.tsv"), '\t'), 69);
	assert_int_equal(run_rpm_vectors(DATA("rpmvercmp-vectors-full.txt"), ' '), 91);
}

/* The caret rules of rpm >= 4.15 named in the shared data README. */
static void test_rpm_caret(void **state)
{
	(void)state;
	assert_int_equal(seg_cmp_str("1.0^git1", "1.0"), 1);
	assert_int_equal(seg_cmp_str("1.0^git1", "1.0.1"), -1);
	assert_int_equal(seg_cmp_str("1.0~rc1^git1", "1.0~rc1"), 1);
	assert_int_equal(seg_cmp_str("1.0~rc1^git1", "1.0"), -1);
	assert_int_equal(seg_cmp_str("1.0^", "1.0"), 1);
	assert_int_equal(seg_cmp_str("1.0^", "1.0^git"), -1);
	assert_int_equal(seg_cmp_str("1.0^git1", "1.0a"), -1);
	assert_int_equal(seg_cmp_str("1.0~", "1.0^"), -1);
	assert_int_equal(seg_cmp_str("^", ""), 1);
	assert_int_equal(seg_cmp_str("~", ""), -1);
}

/* Strictly ascending under rpm 4.18 (checked with rpm.vercmp). */
static const char *rpm_ascending[] = {
    "1.0~~",    "1.0~rc1", "1.0~rc1^git1", "1.0~rc2", "1.0", "1.0^", "1.0^git1", "1.0^git2~x",
    "1.0^git2", "1.0a",    "1.0.1",        "1.01.1",  "1.2", "1.10", "2",
};

static void test_rpm_ascending(void **state)
{
	(void)state;
	for (size_t i = 0; i + 1 < NELEMS(rpm_ascending); i++) {
		if (seg_cmp_str(rpm_ascending[i], rpm_ascending[i + 1]) != -1)
			fail_msg("'%s' should sort before '%s'", rpm_ascending[i],
			         rpm_ascending[i + 1]);
	}
}

static const char *rpm_tricky[] = {
    "",
    "0",
    "00",
    "1",
    "01",
    "1.0",
    "1_0",
    "1+0",
    "1.0.",
    "1.0~",
    "1.0~~",
    "1.0^",
    "1.0^^",
    "1.0^~",
    "1.0~^",
    "1.0a",
    "1.0A",
    "1.0aa",
    "1.0.a",
    "1a",
    "a",
    "A",
    "a1",
    "~",
    "^",
    "~~",
    "^~",
    "1.0^git1",
    "1.0~rc1",
    "1.0~rc1^git1",
    "1.01",
    "2.0",
    "10",
    "9",
    "xyz.4",
    "6.0.rc1",
    "12345678901234567890123456789",
    "12345678901234567890123456788",
};

/* Antisymmetry, reflexivity and transitivity of rpmvercmp on the list. */
static void test_rpm_order_properties(void **state)
{
	enum { N = NELEMS(rpm_tricky) };
	int c[N][N];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		for (size_t j = 0; j < N; j++)
			c[i][j] = seg_cmp_str(rpm_tricky[i], rpm_tricky[j]);
	}
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(c[i][i], 0);
		for (size_t j = 0; j < N; j++) {
			if (c[i][j] != -c[j][i])
				fail_msg("not antisymmetric: '%s' '%s'", rpm_tricky[i],
				         rpm_tricky[j]);
			for (size_t k = 0; k < N; k++) {
				if (c[i][j] <= 0 && c[j][k] <= 0 && c[i][k] > 0)
					fail_msg("not transitive: '%s' '%s' '%s'", rpm_tricky[i],
					         rpm_tricky[j], rpm_tricky[k]);
			}
		}
	}
}

static void test_rpm_huge_digits(void **state)
{
	char a[256], b[256];

	(void)state;
	make_number(a, 100, '1', '0');
	make_number(b, 99, '9', '9');
	assert_int_equal(seg_cmp_str(a, b), 1);
	memset(b, '0', 50);
	memcpy(b + 50, a, 101);
	assert_int_equal(seg_cmp_str(a, b), 0);
	assert_int_equal(seg_cmp_str("1.18446744073709551616", "1.18446744073709551615"), 1);
}

/* ---- rpm: EVR parsing and comparison ---------------------------------- */

static const struct {
	const char *evr;
	int rc;
	const char *msg;
} rpm_parse_cases[] = {
    {"1.0", 0, NULL},
    {"1.0-1.fc39", 0, NULL},
    {"2:1.0-1", 0, NULL},
    {"0:1.0", 0, NULL},
    {"1.0~rc1^git2_x+y-0.1~z^w", 0, NULL},
    {"4294967295:1", 0, NULL},
    {"", -1, "version string is empty"},
    {":1.0", -1, "epoch is empty"},
    {"a:1.0", -1, "epoch is not a number"},
    {"-1:1.0", -1, "epoch is not a number"},
    {" 1:1.0", -1, "epoch is not a number"},
    {"4294967296:1", -1, "epoch is too big"},
    {"99999999999999999999999999:1", -1, "epoch is too big"},
    {"1:", -1, "version is empty"},
    {"-1", -1, "version is empty"},
    {"1:-1", -1, "version is empty"},
    {"1.0-", -1, "release is empty"},
    {"1.0-1-2", -1, "invalid character in version"},
    {"1:1:1", -1, "invalid character in version"},
    {"1.0 ", -1, "invalid character in version"},
    {"1.0%{x}", -1, "invalid character in version"},
    {"1.0-1 ", -1, "invalid character in release"},
    {"1.0-1/2", -1, "invalid character in release"},
    {"1.0-\xc3\xa4", -1, "invalid character in release"},
};

static void test_rpm_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEMS(rpm_parse_cases); i++) {
		struct version_rpm v;
		const char *msg = "unset";
		int rc = rpm_parse_str(rpm_parse_cases[i].evr, &v, &msg);

		if (rc != rpm_parse_cases[i].rc)
			fail_msg("'%s': rc %d want %d", rpm_parse_cases[i].evr, rc,
			         rpm_parse_cases[i].rc);
		if (rpm_parse_cases[i].msg)
			assert_string_equal(msg, rpm_parse_cases[i].msg);
		else
			assert_null(msg);
	}
}

static void test_rpm_parse_fields(void **state)
{
	struct version_rpm v;

	(void)state;
	assert_int_equal(rpm_parse_str("3:1.2-4.el9", &v, NULL), 0);
	assert_true(v.has_epoch);
	assert_int_equal(v.epoch, 3);
	assert_slice(v.version, v.version_len, "1.2");
	assert_slice(v.release, v.release_len, "4.el9");
	assert_int_equal(rpm_parse_str("1.2", &v, NULL), 0);
	assert_false(v.has_epoch);
	assert_int_equal(v.epoch, 0);
	assert_null(v.release);
	assert_int_equal(version_rpm_parse("1.2-3 junk", 5, &v, NULL), 0);
	assert_slice(v.release, v.release_len, "3");
}

/* Full EVR order, each checked with rpm 4.18's rpm.vercmp (rpmverCmp). */
static const struct {
	const char *a, *b;
	int want;
} rpm_evr_cases[] = {
    {"1:1.0-1", "2.0-1", 1},    {"0:1.0-1", "1.0-1", 0},
    {"1.0", "1.0-1", -1}, /* a missing release sorts first */
    {"1.0", "1.0", 0},          {"1.0-2", "1.0-10", -1},
    {"1.0-1", "1.0.1", -1},     {"1.0~rc1-5", "1.0-1", -1},
    {"1.0^git1-1", "1.0-9", 1}, {"1.0-1.fc39", "1.0-1.fc39~", 1},
    {"2:0.1", "1:99", 1},       {"4294967295:0", "4294967294:9", 1},
    {"1.0-1", "1.0-1^", -1},    {"1.0_1-1", "1.0.1-1", 0},
};

static void test_rpm_evr_cmp(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEMS(rpm_evr_cases); i++) {
		int got = rpm_cmp_str(rpm_evr_cases[i].a, rpm_evr_cases[i].b);
		int back = rpm_cmp_str(rpm_evr_cases[i].b, rpm_evr_cases[i].a);

		if (got != rpm_evr_cases[i].want || back != -got)
			fail_msg("'%s' vs '%s': got %d/%d want %d", rpm_evr_cases[i].a,
			         rpm_evr_cases[i].b, got, back, rpm_evr_cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deb_vectors),
	    cmocka_unit_test(test_deb_parse_vectors),
	    cmocka_unit_test(test_deb_parse_edges),
	    cmocka_unit_test(test_deb_parse_bad_chars),
	    cmocka_unit_test(test_deb_parse_fields),
	    cmocka_unit_test(test_deb_ascending),
	    cmocka_unit_test(test_deb_order_properties),
	    cmocka_unit_test(test_deb_epochs),
	    cmocka_unit_test(test_deb_high_bytes),
	    cmocka_unit_test(test_deb_huge_digits),
	    cmocka_unit_test(test_deb_verrevcmp),
	    cmocka_unit_test(test_rpm_vectors),
	    cmocka_unit_test(test_rpm_caret),
	    cmocka_unit_test(test_rpm_ascending),
	    cmocka_unit_test(test_rpm_order_properties),
	    cmocka_unit_test(test_rpm_huge_digits),
	    cmocka_unit_test(test_rpm_parse),
	    cmocka_unit_test(test_rpm_parse_fields),
	    cmocka_unit_test(test_rpm_evr_cmp),
	};

	return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
