/*
 * Unit tests for the database scan's pure parts: a host's Debian release
 * from its os and os_version (tests/data/detect/dbscan/releases.tsv), dpkg's
 * architecture names, and the hash tables the scan runs on (interned
 * strings, 64-bit keys), grown past several rehashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "detect/detect-private.h"

#ifndef PL_TEST_DATA_DIR
#error "PL_TEST_DATA_DIR must be defined as the absolute path of tests/data"
#endif
#define DATA(name) PL_TEST_DATA_DIR "/detect/dbscan/" name

/* "-" in the table is NULL, "''" the empty string. */
static const char *field(const char *s)
{
	if (strcmp(s, "-") == 0)
		return NULL;
	return strcmp(s, "''") == 0 ? "" : s;
}

static void test_releases(void **state)
{
	PL_AUTOFREE char *buf = NULL;
	struct pl_err err = PL_ERR_INIT;
	char *line, *save = NULL;
	int n = 0;
	(void)state;

	assert_int_equal(pl_file_read(DATA("releases.tsv"), &buf, NULL, &err), 0);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[3] = {NULL, NULL, NULL}, *fs = NULL, *tok;
		PL_AUTOFREE char *code = NULL, *why = NULL;
		int k = 0, rc;

		if (line[0] == '#')
			continue;
		for (tok = strtok_r(line, "\t", &fs); tok && k < 3; tok = strtok_r(NULL, "\t", &fs))
			f[k++] = tok;
		assert_int_equal(k, 3);
		rc = detect_host_release(field(f[0]), field(f[1]), &code, &why);
		if (strncmp(f[2], "error: ", 7) == 0) {
			if (rc != -1 || !why || !strstr(why, f[2] + 7))
				fail_msg("%s / %s: expected an error with '%s', got %s (%s)", f[0],
				         f[1], f[2] + 7, code ? code : "-", why ? why : "-");
			assert_null(code);
		} else if (rc != 0 || !code || strcmp(code, f[2]) != 0) {
			fail_msg("%s / %s: expected %s, got %s (%s)", f[0], f[1], f[2],
			         code ? code : "-", why ? why : "-");
		}
		n++;
	}
	assert_true(n >= 15);
}

static void test_arch(void **state)
{
	static const char *const cases[][2] = {
	    {"x86_64", "amd64"},    {"aarch64", "arm64"}, {"i686", "i386"},   {"armv7l", "armhf"},
	    {"ppc64le", "ppc64el"}, {"amd64", "amd64"},   {"arm64", "arm64"}, {"s390x", "s390x"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(detect_debian_arch(cases[i][0]), cases[i][1]);
	assert_null(detect_debian_arch(NULL));
	assert_null(detect_debian_arch(""));
}

static void test_strtab(void **state)
{
	struct detect_strtab t = {0};
	char s[32];
	uint32_t id;
	(void)state;

	for (uint32_t i = 0; i < 50000; i++) {
		snprintf(s, sizeof(s), "pkg-%u", i);
		assert_int_equal(detect_strtab_intern(&t, s, strlen(s)), i);
	}
	/* a prefix and the same bytes with a NUL inside are other strings */
	assert_int_equal(detect_strtab_intern(&t, "pkg-1", 4), 50000);
	for (uint32_t i = 0; i < 50000; i += 7) {
		snprintf(s, sizeof(s), "pkg-%u", i);
		assert_true(detect_strtab_find(&t, s, strlen(s), &id));
		assert_int_equal(id, i);
		assert_int_equal(detect_strtab_intern(&t, s, strlen(s)), i);
		assert_string_equal(t.s[i], s);
	}
	assert_false(detect_strtab_find(&t, "nope", 4, &id));
	assert_int_equal(t.n, 50001);
	detect_strtab_free(&t);
	assert_false(detect_strtab_find(&t, "pkg-1", 5, &id));
}

static void test_u64map(void **state)
{
	struct detect_u64map m = {0};
	uint32_t v;
	(void)state;

	assert_false(detect_u64map_get(&m, 1, &v));
	for (uint64_t k = 0; k < 100000; k++)
		detect_u64map_put(&m, k << 32 | (k * 7919 % 1000), (uint32_t)k);
	detect_u64map_put(&m, 5ULL << 32 | (5 * 7919 % 1000), 42); /* replaced, not added */
	assert_int_equal(m.n, 100000);
	for (uint64_t k = 0; k < 100000; k += 13) {
		assert_true(detect_u64map_get(&m, k << 32 | (k * 7919 % 1000), &v));
		assert_int_equal(v, k == 5 ? 42 : (uint32_t)k);
	}
	assert_false(detect_u64map_get(&m, 1ULL << 40, &v));
	detect_u64map_reserve(&m, 1000000);
	assert_true(m.nslot >= 2000000);
	assert_true(detect_u64map_get(&m, 99999ULL << 32 | (99999 * 7919 % 1000), &v));
	assert_int_equal(v, 99999);
	detect_u64map_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_releases),
	    cmocka_unit_test(test_arch),
	    cmocka_unit_test(test_strtab),
	    cmocka_unit_test(test_u64map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
