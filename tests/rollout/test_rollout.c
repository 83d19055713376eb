/*
 * test_rollout.c - the maintenance calendar with injected instants: civil
 * dates, Patch Tuesday 2000-2040, time zones against glibc and against
 * Python's zoneinfo, window occurrences against dateutil's RFC 5545 rrule
 * (tests/data/rollout/gen-fixtures.py writes those fixtures), bad policies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <time.h>

#include "rollout/rollout.h"

#define DATA PL_TEST_DATA_DIR "/rollout"

static int64_t utc(int y, int mo, int d, int h, int mi)
{
	return rollout_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static int have_zone(const char *name)
{
	PL_AUTOFREE char *p = pl_strdupf("/usr/share/zoneinfo/%s", name);

	return pl_path_exists(p);
}

static void test_civil_dates(void **state)
{
	(void)state;
	assert_int_equal(rollout_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(rollout_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(rollout_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(rollout_weekday(0), 4);                                    /* Thursday */
	assert_int_equal(rollout_weekday(rollout_days_from_civil(2026, 12, 8)), 2); /* Tuesday */
	assert_int_equal(rollout_weekday(-1), 3);
	assert_int_equal(rollout_month_days(2000, 2), 29);
	assert_int_equal(rollout_month_days(1900, 2), 28);
	assert_int_equal(rollout_month_days(2024, 2), 29);
	assert_int_equal(rollout_day_of(-1), -1);
	assert_int_equal(rollout_day_of(86399), 0);
	/* a round trip over 5000 years, against gmtime_r where time_t reaches */
	for (int64_t day = -800000; day <= 1000000; day += 7) {
		struct rollout_date d = rollout_civil_from_days(day);
		time_t t = (time_t)(day * 86400);
		struct tm tm;

		if (rollout_days_from_civil(d.year, d.month, d.day) != day)
			fail_msg("day %lld does not round-trip", (long long)day);
		gmtime_r(&t, &tm);
		if (tm.tm_year + 1900 != d.year || tm.tm_mon + 1 != d.month ||
		    tm.tm_mday != d.day || tm.tm_wday != rollout_weekday(day))
			fail_msg("day %lld: %d-%d-%d, gmtime says %d-%d-%d", (long long)day, d.year,
			         d.month, d.day, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	}
}

static void test_patch_tuesday_known(void **state)
{
	static const int known[][4] = {
	    {2026, 12, 8}, {2024, 1, 9},   {2025, 11, 11}, {2026, 3, 10},  {2000, 2, 8},
	    {2038, 1, 12}, {2040, 12, 11}, {2015, 9, 8},   {2020, 10, 13}, {2027, 6, 8},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		struct rollout_date d = rollout_patch_tuesday(known[i][0], known[i][1]);

		assert_int_equal(d.year, known[i][0]);
		assert_int_equal(d.month, known[i][1]);
		assert_int_equal(d.day, known[i][2]);
	}
}

/* Every month 2000-2040 against Python's calendar module. */
static void test_patch_tuesday_fixture(void **state)
{
	PL_AUTOFILE FILE *f = fopen(DATA "/patch-tuesdays.txt", "r");
	char line[128];
	int n = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		int y, m, ey, em, ed;
		struct rollout_date d;

		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%d-%d %d-%d-%d", &y, &m, &ey, &em, &ed), 5);
		d = rollout_patch_tuesday(y, m);
		if (d.year != ey || d.month != em || d.day != ed)
			fail_msg("%04d-%02d: got %04d-%02d-%02d, want %04d-%02d-%02d", y, m, d.year,
			         d.month, d.day, ey, em, ed);
		n++;
	}
	assert_int_equal(n, 41 * 12);
}

/* Our TZif reader against glibc's for the offset and abbreviation of
 * instants from 1901 to 2100 (glibc reads the same files, its own way). */
static void test_tz_against_glibc(void **state)
{
	static const char *const zones[] = {
	    "Europe/Berlin",
	    "America/New_York",
	    "Australia/Sydney",
	    "Asia/Kolkata",
	    "UTC",
	    "Pacific/Chatham",
	    "America/St_Johns",
	    "Europe/London",
	    "America/Sao_Paulo",
	    "Africa/Casablanca",
	    "Asia/Tehran",
	    "Pacific/Apia",
	    "Antarctica/Troll",
	    "Europe/Dublin",
	};
	PL_AUTOFREE char *old = getenv("TZ") ? pl_strdup(getenv("TZ")) : NULL;

	(void)state;
	if (!have_zone("Europe/Berlin"))
		skip();
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		struct pl_err err = PL_ERR_INIT;
		struct rollout_tz *tz = NULL;
		PL_AUTOFREE char *env = pl_strdupf(":%s", zones[z]);

		if (!have_zone(zones[z]))
			continue;
		assert_int_equal(rollout_tz_load(zones[z], &tz, &err), 0);
		assert_string_equal(rollout_tz_name(tz), zones[z]);
		setenv("TZ", env, 1);
		tzset();
		for (int64_t t = -2147483648LL + 86400; t < 4102444800LL;
		     t += 6 * 3600 + 7 * 60 + 13) {
			time_t tt = (time_t)t;
			struct tm tm;
			const char *abbr;
			int off = rollout_tz_offset(tz, t, &abbr);

			localtime_r(&tt, &tm);
			if (off != tm.tm_gmtoff || strcmp(abbr, tm.tm_zone) != 0)
				fail_msg("%s at %lld: %d %s, glibc %ld %s", zones[z], (long long)t,
				         off, abbr, tm.tm_gmtoff, tm.tm_zone);
		}
		rollout_tz_free(tz);
	}
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
}

/* Local wall-clock times around every change of several zones, against
 * Python's zoneinfo with fold=0 (RFC 5545's gap and fold rule). */
static void test_tz_local_to_utc_fixture(void **state)
{
	PL_AUTOFILE FILE *f = fopen(DATA "/local-to-utc.tsv", "r");
	struct rollout_tz *tz = NULL;
	char line[256], zone[64] = "";
	int n = 0, shifted = 0;

	(void)state;
	assert_non_null(f);
	if (!have_zone("Europe/Berlin"))
		skip();
	while (fgets(line, sizeof(line), f)) {
		char z[64], local[32], want[32], got[21];
		int y, mo, d, h, mi, s, want_shift, sh;
		int64_t u;
		struct pl_err err = PL_ERR_INIT;

		if (line[0] == '#')
			continue;
		assert_int_equal(
		    sscanf(line, "%63[^\t]\t%31[^\t]\t%31[^\t]\t%d", z, local, want, &want_shift),
		    4);
		if (strcmp(z, zone) != 0) {
			rollout_tz_free(tz);
			tz = NULL;
			snprintf(zone, sizeof(zone), "%s", z);
			if (rollout_tz_load(z, &tz, &err) < 0)
				fail_msg("%s", err.msg);
		}
		assert_int_equal(sscanf(local, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s), 6);
		sh = rollout_tz_to_utc(tz, utc(y, mo, d, h, mi) + s, &u);
		pl_time_iso(u, got);
		if (strcmp(got, want) != 0 || sh != want_shift)
			fail_msg("%s %s: %s shifted %d, want %s shifted %d", z, local, got, sh,
			         want, want_shift);
		shifted += sh;
		n++;
	}
	rollout_tz_free(tz);
	assert_true(n > 500);
	assert_true(shifted > 50); /* the fixture does reach into gaps */
}

static void test_tz_names(void **state)
{
	static const char *const bad[] = {"../../etc/passwd",
	                                  "/etc/localtime",
	                                  "Europe/../UTC",
	                                  "Europe//Berlin",
	                                  ".hidden",
	                                  "Europe/Berlin/",
	                                  "",
	                                  "Mars/Olympus_Mons",
	                                  "a b"};
	struct rollout_tz *tz = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pl_err err = PL_ERR_INIT;

		if (rollout_tz_load(bad[i], &tz, &err) != PL_EINVAL)
			fail_msg("'%s' must be refused", bad[i]);
		assert_non_null(strstr(err.msg, bad[i]));
	}
	/* UTC needs no tz database */
	setenv("TZDIR", "/nonexistent", 1);
	{
		struct pl_err err = PL_ERR_INIT;
		const char *abbr;

		assert_int_equal(rollout_tz_load("UTC", &tz, &err), 0);
		assert_int_equal(rollout_tz_offset(tz, 1700000000, &abbr), 0);
		assert_string_equal(abbr, "UTC");
		rollout_tz_free(tz);
		assert_int_equal(rollout_tz_load("Europe/Berlin", &tz, &err), PL_EINVAL);
		assert_non_null(strstr(err.msg, "unknown time zone 'Europe/Berlin'"));
	}
	unsetenv("TZDIR");
}

static void test_time_local(void **state)
{
	char out[32];

	(void)state;
	rollout_time_local(utc(2026, 3, 29, 1, 30), 7200, out);
	assert_string_equal(out, "2026-03-29T03:30:00+02:00");
	rollout_time_local(utc(2026, 1, 1, 0, 0), -(3 * 3600 + 1800), out);
	assert_string_equal(out, "2025-12-31T20:30:00-03:30");
	rollout_time_local(utc(2026, 1, 1, 0, 0), 12 * 3600 + 2700, out);
	assert_string_equal(out, "2026-01-01T12:45:00+12:45");
}

static void window_line(struct pl_buf *b, const struct rollout_window *w)
{
	char sl[32], el[32], su[21], eu[21];

	rollout_time_local(w->start, w->start_offset, sl);
	rollout_time_local(w->end, w->end_offset, el);
	pl_time_iso(w->start, su);
	pl_time_iso(w->end, eu);
	pl_buf_addf(b, "%s %04d-%02d-%02d %s %s %s %s %d\n", w->rule->name, w->date.year,
	            w->date.month, w->date.day, sl, el, su, eu, w->shifted);
}

static int window_cmp(const void *a, const void *b)
{
	const struct rollout_window *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* One case of tests/data/rollout/windows/: 2025-01..2027-12, month by month. */
static void windows_case(const char *json)
{
	PL_AUTOFREE char *out_path = pl_strdupf("%.*s.out", (int)strlen(json) - 5, json);
	PL_AUTOFREE char *want = NULL;
	struct rollout_windows all = {NULL, 0};
	struct rollout_policy p;
	struct pl_err err = PL_ERR_INIT;
	struct pl_buf got = PL_BUF_INIT;
	const char *body;
	size_t len;

	if (rollout_policy_load(json, &p, &err) < 0)
		fail_msg("%s", err.msg);
	for (int y = 2025; y <= 2027; y++)
		for (int m = 1; m <= 12; m++) {
			struct rollout_windows ws;

			assert_int_equal(rollout_windows_month(&p, y, m, &ws, &err), 0);
			for (size_t i = 0; i < ws.n; i++) {
				assert_int_equal(ws.v[i].date.year, y);
				assert_int_equal(ws.v[i].date.month, m);
				assert_int_equal(ws.v[i].end - ws.v[i].start,
				                 ws.v[i].rule->duration);
				all.v = pl_realloc(all.v, (all.n + 1) * sizeof(*all.v));
				all.v[all.n++] = ws.v[i];
			}
			rollout_windows_free(&ws);
		}
	if (all.n)
		qsort(all.v, all.n, sizeof(*all.v), window_cmp);
	for (size_t i = 0; i < all.n; i++)
		window_line(&got, &all.v[i]);
	assert_int_equal(pl_file_read(out_path, &want, &len, &err), 0);
	body = strchr(want, '\n') + 1; /* the provenance line */
	if (strcmp(pl_buf_str(&got), body) != 0) {
		const char *g = pl_buf_str(&got), *w = body;
		int line = 2;

		while (*g && *g == *w) {
			line += *g == '\n';
			g++;
			w++;
		}
		fail_msg("%s:%d differs: got '%.120s', want '%.120s'", out_path, line, g, w);
	}
	rollout_windows_free(&all);
	pl_buf_release(&got);
	rollout_policy_free(&p);
}

static void test_windows_fixtures(void **state)
{
	DIR *d = opendir(DATA "/windows");
	struct dirent *e;
	int n = 0;

	(void)state;
	assert_non_null(d);
	if (!have_zone("Europe/Berlin")) {
		closedir(d);
		skip();
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		PL_AUTOFREE char *path = NULL;

		if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
			continue;
		path = pl_strdupf("%s/windows/%s", DATA, e->d_name);
		windows_case(path);
		n++;
	}
	closedir(d);
	assert_true(n >= 6);
}

static void load_case(const char *name, struct rollout_policy *p)
{
	PL_AUTOFREE char *path = pl_strdupf("%s/windows/%s.json", DATA, name);
	struct pl_err err = PL_ERR_INIT;

	if (rollout_policy_load(path, p, &err) < 0)
		fail_msg("%s", err.msg);
}

/* The DST cases the issue names, spelled out. */
static void test_windows_across_dst(void **state)
{
	struct rollout_policy p;
	struct rollout_window o;
	const struct rollout_window_rule *r;

	(void)state;
	if (!have_zone("Australia/Sydney"))
		skip();
	load_case("berlin", &p);
	r = rollout_policy_window(&p, "sunday-0230");
	assert_non_null(r);
	/* spring forward: 02:30 does not exist, it becomes 03:30 CEST */
	assert_true(rollout_rule_matches(r, rollout_days_from_civil(2026, 3, 29)));
	rollout_rule_occurrence(r, rollout_days_from_civil(2026, 3, 29), &o);
	assert_int_equal(o.start, utc(2026, 3, 29, 1, 30));
	assert_int_equal(o.start_offset, 7200);
	assert_true(o.shifted);
	assert_string_equal(o.start_abbr, "CEST");
	/* fall back: 02:30 exists twice, the first (CEST) is taken; 4 real hours
	 * later the clock reads 05:30 CET */
	rollout_rule_occurrence(r, rollout_days_from_civil(2026, 10, 25), &o);
	assert_int_equal(o.start, utc(2026, 10, 25, 0, 30));
	assert_int_equal(o.end, utc(2026, 10, 25, 4, 30));
	assert_int_equal(o.end_offset, 3600);
	assert_false(o.shifted);
	/* a window that spans the spring change: 01:30 CET + 3h = 05:30 CEST */
	r = rollout_policy_window(&p, "last-sunday-0130");
	rollout_rule_occurrence(r, rollout_days_from_civil(2026, 3, 29), &o);
	assert_int_equal(o.start, utc(2026, 3, 29, 0, 30));
	assert_int_equal(o.start_offset, 3600);
	assert_int_equal(o.end_offset, 7200);
	rollout_policy_free(&p);

	/* southern hemisphere: DST ends on the first Sunday of April at 03:00 */
	load_case("sydney", &p);
	r = rollout_policy_window(&p, "first-sunday");
	rollout_rule_occurrence(r, rollout_days_from_civil(2026, 4, 5), &o);
	assert_int_equal(o.start, utc(2026, 4, 4, 15, 30)); /* 02:30 AEDT, the first */
	assert_int_equal(o.start_offset, 11 * 3600);
	assert_int_equal(o.end_offset, 10 * 3600);
	rollout_rule_occurrence(r, rollout_days_from_civil(2026, 10, 4), &o);
	assert_true(o.shifted); /* 02:30 in the October gap: 03:30 AEDT */
	assert_int_equal(o.start, utc(2026, 10, 3, 16, 30));
	rollout_policy_free(&p);

	/* +05:30, no DST: Patch Tuesday 2026-12-08 01:00 IST is 12-07 19:30 UTC */
	load_case("kolkata", &p);
	r = rollout_policy_window(&p, "pt-rrule");
	assert_true(rollout_rule_matches(r, rollout_days_from_civil(2026, 12, 8)));
	assert_false(rollout_rule_matches(r, rollout_days_from_civil(2026, 12, 1)));
	rollout_rule_occurrence(r, rollout_days_from_civil(2026, 12, 8), &o);
	assert_int_equal(o.start, utc(2026, 12, 7, 19, 30));
	assert_int_equal(o.start_offset, 5 * 3600 + 1800);
	rollout_policy_free(&p);
}

static void test_next_window(void **state)
{
	struct rollout_policy p;
	struct rollout_window w;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	assert_int_equal(rollout_policy_default(&p, &err), 0);
	/* between windows: the Patch Tuesday+2 window of December 2026 */
	assert_int_equal(rollout_next_window(&p, utc(2026, 12, 7, 0, 0), &w, &err), 0);
	assert_string_equal(w.rule->name, "patch-tuesday+2");
	assert_int_equal(w.start, utc(2026, 12, 10, 22, 0));
	/* inside it: the open window itself */
	assert_int_equal(rollout_next_window(&p, utc(2026, 12, 11, 0, 59), &w, &err), 0);
	assert_int_equal(w.start, utc(2026, 12, 10, 22, 0));
	/* its last second is gone: the next Saturday */
	assert_int_equal(rollout_next_window(&p, utc(2026, 12, 11, 1, 0), &w, &err), 0);
	assert_string_equal(w.rule->name, "weekly-sat");
	assert_int_equal(w.start, utc(2026, 12, 12, 2, 0));
	rollout_policy_free(&p);

	/* COUNT ends a rule: after the fifth Monday there is nothing */
	load_case("utc", &p);
	{
		struct rollout_policy one = p;

		one.windows =
		    (struct rollout_window_rule *)rollout_policy_window(&p, "five-mondays");
		one.nwindows = 1;
		assert_int_equal(rollout_next_window(&one, utc(2025, 3, 1, 0, 0), &w, &err), 0);
		assert_int_equal(w.start, utc(2025, 3, 3, 6, 0));
		assert_int_equal(rollout_next_window(&one, utc(2025, 3, 31, 8, 0), &w, &err),
		                 PL_ENOTFOUND);
		assert_non_null(
		    strstr(err.msg, "no maintenance window after 2025-03-31T08:00:00Z"));
	}
	rollout_policy_free(&p);
}

static void test_windows_between(void **state)
{
	struct rollout_policy p;
	struct rollout_windows ws;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	assert_int_equal(rollout_policy_default(&p, &err), 0);
	/* overlapping [from, to): a window open at from counts, one at to not */
	assert_int_equal(
	    rollout_windows_between(&p, utc(2026, 12, 5, 5, 0), utc(2026, 12, 12, 2, 0), &ws, &err),
	    0);
	assert_int_equal(ws.n, 2);
	assert_int_equal(ws.v[0].start, utc(2026, 12, 5, 2, 0));
	assert_int_equal(ws.v[1].start, utc(2026, 12, 10, 22, 0));
	rollout_windows_free(&ws);
	assert_int_equal(rollout_windows_between(&p, 10, 5, &ws, &err), PL_EINVAL);
	assert_int_equal(rollout_windows_month(&p, 2026, 13, &ws, &err), PL_EINVAL);
	rollout_policy_free(&p);
}

/* Every tests/data/rollout/bad/NAME.json fails with NAME.err's text. */
static void test_bad_policies(void **state)
{
	DIR *d = opendir(DATA "/bad");
	struct dirent *e;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		PL_AUTOFREE char *path = NULL;
		PL_AUTOFREE char *errp = NULL;
		PL_AUTOFREE char *want = NULL;
		struct rollout_policy p;
		struct pl_err err = PL_ERR_INIT;
		size_t len;

		if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
			continue;
		path = pl_strdupf("%s/bad/%s", DATA, e->d_name);
		errp = pl_strdupf("%s/bad/%.*s.err", DATA, (int)l - 5, e->d_name);
		assert_int_equal(pl_file_read(errp, &want, &len, &err), 0);
		want[strcspn(want, "\n")] = '\0';
		if (rollout_policy_load(path, &p, &err) == 0)
			fail_msg("%s loaded", path);
		assert_int_equal(err.code, PL_EINVAL);
		if (!strstr(err.msg, want) || strncmp(err.msg, path, strlen(path)) != 0)
			fail_msg("%s: '%s' does not start with the file and contain '%s'",
			         e->d_name, err.msg, want);
		n++;
	}
	closedir(d);
	assert_true(n >= 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_civil_dates),
	    cmocka_unit_test(test_patch_tuesday_known),
	    cmocka_unit_test(test_patch_tuesday_fixture),
	    cmocka_unit_test(test_tz_against_glibc),
	    cmocka_unit_test(test_tz_local_to_utc_fixture),
	    cmocka_unit_test(test_tz_names),
	    cmocka_unit_test(test_time_local),
	    cmocka_unit_test(test_windows_fixtures),
	    cmocka_unit_test(test_windows_across_dst),
	    cmocka_unit_test(test_next_window),
	    cmocka_unit_test(test_windows_between),
	    cmocka_unit_test(test_bad_policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
