/*
 * libFuzzer target for src/version: parse and compare Debian and RPM versions.
 *
 * Input: up to three versions separated by '\n' ("a\nb\nc"). Checked
 * properties, for each format: compare(x, x) == 0, compare(a, b) ==
 * -compare(b, a), results in {-1, 0, 1}, dpkg's order is transitive,
 * trailing blanks never change dpkg's verdict, parsed slices stay inside
 * the input. A property failure aborts, so the fuzzer records the input.
 *
 * Build:  clang -g -O1 -fsanitize=fuzzer,address,undefined -I src \
 *             src/version/version.c tests/fuzz/fuzz_version.c
 * Replay: cc -DPL_FUZZ_REPLAY -I src src/version/version.c \
 *             tests/fuzz/fuzz_version.c -o fuzz_replay && ./fuzz_replay FILE...
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version/version.h"

#define FUZZ_NAME "fuzz_version"
#include "fuzz.h"

#define MAX_PART 4096 /* longer parts add no coverage, only time */

struct part {
	const char *s;
	size_t len;
};

/* Split data at the first two newlines into up to three parts. */
static void split_parts(const uint8_t *data, size_t size, struct part p[3])
{
	const char *s = (const char *)data;
	const char *end = s + size;

	for (int i = 0; i < 3; i++) {
		const char *nl = (i < 2 && s < end) ? memchr(s, '\n', (size_t)(end - s)) : NULL;
		const char *stop = nl ? nl : end;

		p[i].s = s;
		p[i].len = (size_t)(stop - s);
		s = nl ? nl + 1 : end;
	}
}

static int is_unit(int r)
{
	return r == -1 || r == 0 || r == 1;
}

static void check_inside(const char *p, size_t len, const struct part *in)
{
	FUZZ_CHECK(len == 0 || (p >= in->s && p + len <= in->s + in->len));
}

/* Appending blanks may change dpkg's message ("1:" vs "1: ") but not its verdict. */
static void check_deb_trailing_blanks(const struct part *in, int rc)
{
	static char buf[MAX_PART + 2];
	struct version_deb v;

	if (in->len) /* in->s may be NULL for an empty input */
		memcpy(buf, in->s, in->len);
	buf[in->len] = ' ';
	buf[in->len + 1] = '\t';
	FUZZ_CHECK(version_deb_parse(buf, in->len + 2, &v, NULL) == rc);
}

/* Parse one Debian version and check its slices; returns dpkg's verdict. */
static int parse_deb(const struct part *in, struct version_deb *v)
{
	const char *msg = NULL;
	int rc = version_deb_parse(in->s, in->len, v, &msg);

	FUZZ_CHECK(rc == -1 || rc == 0 || rc == 1);
	FUZZ_CHECK((rc == 0) == (msg == NULL));
	if (rc >= 0) {
		FUZZ_CHECK(v->upstream_len > 0);
		check_inside(v->upstream, v->upstream_len, in);
		check_inside(v->revision, v->revision_len, in);
	}
	check_deb_trailing_blanks(in, rc);
	return rc;
}

static void check_deb_pair(const struct version_deb *a, const struct version_deb *b)
{
	int ab = version_deb_cmp(a, b);

	FUZZ_CHECK(is_unit(ab));
	FUZZ_CHECK(ab == -version_deb_cmp(b, a));
}

static void fuzz_deb(const struct part p[3])
{
	struct version_deb v[3];
	int ok[3];

	for (int i = 0; i < 3; i++) {
		ok[i] = parse_deb(&p[i], &v[i]) >= 0;
		if (ok[i])
			FUZZ_CHECK(version_deb_cmp(&v[i], &v[i]) == 0);
	}
	if (ok[0] && ok[1])
		check_deb_pair(&v[0], &v[1]);
	if (ok[0] && ok[1] && ok[2]) {
		int ab = version_deb_cmp(&v[0], &v[1]), bc = version_deb_cmp(&v[1], &v[2]);

		if (ab <= 0 && bc <= 0)
			FUZZ_CHECK(version_deb_cmp(&v[0], &v[2]) <= 0);
	}
	/* the raw comparator takes any bytes */
	FUZZ_CHECK(version_deb_verrevcmp(p[0].s, p[0].len, p[0].s, p[0].len) == 0);
	FUZZ_CHECK(version_deb_verrevcmp(p[0].s, p[0].len, p[1].s, p[1].len) ==
	           -version_deb_verrevcmp(p[1].s, p[1].len, p[0].s, p[0].len));
}

static int parse_rpm(const struct part *in, struct version_rpm *v)
{
	const char *msg = NULL;
	int rc = version_rpm_parse(in->s, in->len, v, &msg);

	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK((rc == 0) == (msg == NULL));
	if (rc == 0) {
		FUZZ_CHECK(v->version_len > 0);
		FUZZ_CHECK(v->release == NULL || v->release_len > 0);
		check_inside(v->version, v->version_len, in);
		check_inside(v->release, v->release_len, in);
	}
	return rc == 0;
}

static void fuzz_rpm(const struct part p[3])
{
	struct version_rpm a, b;
	int oka = parse_rpm(&p[0], &a);
	int okb = parse_rpm(&p[1], &b);
	int ra;

	if (oka && okb) {
		FUZZ_CHECK(version_rpm_cmp(&a, &a) == 0);
		ra = version_rpm_cmp(&a, &b);
		FUZZ_CHECK(is_unit(ra));
		FUZZ_CHECK(ra == -version_rpm_cmp(&b, &a));
	}
	ra = version_rpmvercmp(p[0].s, p[0].len, p[1].s, p[1].len);
	FUZZ_CHECK(is_unit(ra));
	FUZZ_CHECK(ra == -version_rpmvercmp(p[1].s, p[1].len, p[0].s, p[0].len));
	FUZZ_CHECK(version_rpmvercmp(p[1].s, p[1].len, p[1].s, p[1].len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct part p[3];

	if (size > MAX_PART)
		return 0;
	split_parts(data, size, p);
	fuzz_deb(p);
	fuzz_rpm(p);
	return 0;
}
