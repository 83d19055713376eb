/* test_repo.c - the system's apt sources, both formats, and their errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "repo/repo.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sources_ok),
		cmocka_unit_test(test_sources_bad),
		cmocka_unit_test(test_system_sources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
