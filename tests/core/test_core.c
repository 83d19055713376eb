/* test_core.c - the shared conventions: errors, buffers, parsing, clock, files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "core/core.h"

static void test_error_prefix_and_exit(void **state)
{
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	assert_int_equal(pl_error(&err, PL_EINVAL, "field '%s' is %d", "memory", -1), PL_EINVAL);
	assert_int_equal(pl_error_prefix(&err, "labs/%s", "a.json"), PL_EINVAL);
	assert_string_equal(err.msg, "labs/a.json: field 'memory' is -1");
	assert_int_equal(pl_exit_code(PL_EINVAL), 2);
	assert_int_equal(pl_exit_code(PL_EUSAGE), 2);
	assert_int_equal(pl_exit_code(PL_ENOTFOUND), 2);
	assert_int_equal(pl_exit_code(PL_EFAIL), 1);
	assert_int_equal(pl_exit_code(PL_EENV), 3);
	assert_int_equal(pl_exit_code(PL_EDB), 3);
	assert_int_equal(pl_exit_code(PL_ETIMEOUT), 3);
	assert_int_equal(pl_exit_code(PL_OK), 0);
	/* a NULL record is allowed: the code still comes back */
	assert_int_equal(pl_error(NULL, PL_EIO, "x"), PL_EIO);
}

static void test_error_truncates_safely(void **state)
{
	struct pl_err err = PL_ERR_INIT;
	char big[4096];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	pl_error(&err, PL_EINVAL, "%s", big);
	assert_int_equal(strlen(err.msg), PL_ERR_MSG_MAX - 1);
	pl_error_prefix(&err, "ctx");
	assert_int_equal(strncmp(err.msg, "ctx: xxx", 8), 0);
	assert_int_equal(strlen(err.msg), PL_ERR_MSG_MAX - 1);
}

static void test_buf(void **state)
{
	PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;
	char *s;

	(void)state;
	assert_string_equal(pl_buf_str(&b), "");
	for (int i = 0; i < 1000; i++)
		pl_buf_addf(&b, "%d,", i);
	assert_int_equal(b.len, strlen(b.s));
	assert_int_equal(strncmp(b.s, "0,1,2,", 6), 0);
	pl_buf_reset(&b);
	assert_int_equal(b.len, 0);
	pl_buf_adds(&b, "a");
	pl_buf_addc(&b, 'b');
	pl_buf_add(&b, "cdef", 2);
	assert_string_equal(b.s, "abcd");
	pl_buf_reset(&b);
	pl_buf_add_xml(&b, "<a href=\"x\">&'</a>");
	assert_string_equal(b.s, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
	s = pl_buf_detach(&b);
	assert_null(b.s);
	free(s);
	s = pl_buf_detach(&b);
	assert_string_equal(s, "");
	free(s);
}

static void test_parse_integers(void **state)
{
	struct pl_err err = PL_ERR_INIT;
	long l;
	int i;
	uint64_t u;

	(void)state;
	assert_int_equal(pl_parse_long("42", 0, 100, &l, "n", &err), 0);
	assert_int_equal(l, 42);
	assert_int_equal(pl_parse_long("-5", -10, 10, &l, "n", &err), 0);
	assert_int_equal(l, -5);
	assert_int_equal(pl_parse_long("", 0, 1, &l, "--jobs", &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "--jobs"));
	assert_int_equal(pl_parse_long(" 4", 0, 10, &l, "n", &err), PL_EINVAL);
	assert_int_equal(pl_parse_long("4x", 0, 10, &l, "n", &err), PL_EINVAL);
	assert_int_equal(pl_parse_long("11", 0, 10, &l, "n", &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "out of range"));
	assert_int_equal(pl_parse_long("99999999999999999999999", 0, 10, &l, "n", &err),
			 PL_EINVAL);
	assert_int_equal(pl_parse_int("2147483648", 0, 2147483647, &i, "n", &err), PL_EINVAL);
	assert_int_equal(pl_parse_u64("18446744073709551615", UINT64_MAX, &u, "n", &err), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(pl_parse_u64("18446744073709551616", UINT64_MAX, &u, "n", &err),
			 PL_EINVAL);
	assert_int_equal(pl_parse_u64("-1", UINT64_MAX, &u, "n", &err), PL_EINVAL);
}

static void test_parse_size(void **state)
{
	struct pl_err err = PL_ERR_INIT;
	uint64_t v;

	(void)state;
	assert_int_equal(pl_parse_size("512", &v, "m", &err), 0);
	assert_true(v == 512);
	assert_int_equal(pl_parse_size("2K", &v, "m", &err), 0);
	assert_true(v == 2048);
	assert_int_equal(pl_parse_size("3G", &v, "m", &err), 0);
	assert_true(v == 3ULL << 30);
	assert_int_equal(pl_parse_size("1m", &v, "m", &err), 0);
	assert_true(v == 1ULL << 20);
	assert_int_equal(pl_parse_size("G", &v, "m", &err), PL_EINVAL);
	assert_int_equal(pl_parse_size("1.5G", &v, "m", &err), PL_EINVAL);
	assert_int_equal(pl_parse_size("99999999999T", &v, "m", &err), PL_EINVAL);
}

static void test_clock(void **state)
{
	struct pl_clock c = pl_clock_fixed(1796083200); /* 2026-12-01T00:00:00Z */
	struct pl_err err = PL_ERR_INIT;
	char iso[21];
	int64_t t;

	(void)state;
	assert_true(pl_clock_now(&c) == 1796083200);
	pl_time_iso(pl_clock_now(&c), iso);
	assert_string_equal(iso, "2026-12-01T00:00:00Z");
	assert_int_equal(pl_time_parse("2026-12-08", &t, &err), 0);
	assert_true(t == 1796083200 + 7 * 86400);
	assert_int_equal(pl_time_parse("2026-12-08T10:30Z", &t, &err), 0);
	assert_true(t == 1796083200 + 7 * 86400 + 10 * 3600 + 30 * 60);
	assert_int_equal(pl_time_parse("2026-12-08T10:30:15Z", &t, &err), 0);
	assert_int_equal(pl_time_parse("1796083200", &t, &err), 0);
	assert_true(t == 1796083200);
	assert_int_equal(pl_time_parse("yesterday", &t, &err), PL_EINVAL);
	assert_int_equal(pl_time_parse("2026-12-08junk", &t, &err), PL_EINVAL);
	setenv("PATCHLAB_NOW", "2026-12-08T00:00:00Z", 1);
	assert_true(pl_clock_now(NULL) == 1796083200 + 7 * 86400);
	unsetenv("PATCHLAB_NOW");
	assert_true(pl_clock_now(NULL) > 1796083200 - 86400 * 365 * 2);
	assert_true(pl_monotonic() > 0);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/pl-test-core-XXXXXX";
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *nested = NULL, *file = NULL, *data = NULL, *bad = NULL;
	PL_AUTOJSON json_t *j = NULL;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	nested = pl_path_join(dir, "a/b/c/");
	assert_int_equal(pl_mkdir_p(nested, 0750, &err), 0);
	assert_int_equal(pl_mkdir_p(nested, 0750, &err), 0);
	assert_true(pl_path_exists(nested));
	file = pl_path_join(nested, "x.json");
	assert_int_equal(pl_file_write_atomic(file, "{\"a\": 1}\n", 9, 0640, &err), 0);
	assert_int_equal(pl_file_read(file, &data, &len, &err), 0);
	assert_int_equal(len, 9);
	assert_string_equal(data, "{\"a\": 1}\n");
	assert_int_equal(pl_json_load_file(file, &j, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
	bad = pl_path_join(dir, "bad.json");
	assert_int_equal(pl_file_write_atomic(bad, "{\n \"a\": 1,\n \"a\": 2}", 19, 0640, &err), 0);
	json_decref(PL_STEAL(j));
	assert_int_equal(pl_json_load_file(bad, &j, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "bad.json:3:"));
	assert_int_equal(pl_file_read("/nonexistent/x", &data, &len, &err), PL_ENOTFOUND);
	free(data);
	data = pl_path_join("/a//", "/b");
	assert_string_equal(data, "/a/b");
	unlink(file);
	unlink(bad);
	for (const char *const *d = (const char *const[]){"a/b/c", "a/b", "a", NULL}; *d; d++) {
		PL_AUTOFREE char *p = pl_path_join(dir, *d);

		assert_int_equal(rmdir(p), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

static void test_run(void **state)
{
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOBUF struct pl_buf out = PL_BUF_INIT;
	struct pl_run_opts o = {.out = &out, .merge_stderr = 1};
	PL_AUTOFREE char *line = NULL;
	int status = -1;
	double t0;

	(void)state;
	assert_int_equal(pl_run((const char *const[]){"sh", "-c", "echo hi; echo err >&2; exit 3",
						       NULL},
				&o, &status, &err),
			 0);
	assert_int_equal(status, 3);
	assert_string_equal(out.s, "hi\nerr\n");
	assert_int_equal(pl_run_ok((const char *const[]){"false", NULL}, NULL, &err), PL_EENV);
	assert_non_null(strstr(err.msg, "'false' exited with status 1"));
	assert_int_equal(pl_run_ok((const char *const[]){"true", NULL}, NULL, &err), 0);
	assert_int_equal(pl_run((const char *const[]){"/nonexistent/prog", NULL}, NULL, &status,
				&err),
			 PL_EENV);
	o.timeout = 0.5;
	t0 = pl_monotonic();
	/* the grandchild (sleep) dies with the group, so this returns promptly */
	assert_int_equal(pl_run((const char *const[]){"sh", "-c", "sleep 30; true", NULL}, &o,
				&status, &err),
			 PL_ETIMEOUT);
	assert_true(pl_monotonic() - t0 < 5);
	line = pl_argv_str((const char *const[]){"echo", "a b", "it's", "x=1", NULL});
	assert_string_equal(line, "echo 'a b' 'it'\\''s' x=1");
	assert_true(pl_have_program("sh"));
	assert_false(pl_have_program("no-such-program-here"));
}

static void test_json_read(void **state)
{
	struct pl_err err = PL_ERR_INIT;
	struct pl_jdoc d = {"labs/x.json", &err};
	PL_AUTOJSON json_t *j = json_loads(
		"{\"name\": \"a\", \"memory\": 99999999, \"pxe\": 1, \"boot\": \"usb\", "
		"\"vms\": {}, \"empty\": \"\"}",
		0, NULL);
	const char *s = NULL;
	long l = 0;
	int b = 0, e = 0;
	json_t *a = NULL;

	(void)state;
	assert_int_equal(pl_json_get_str(&d, j, "$", "name", PL_J_REQUIRED, &s), 0);
	assert_string_equal(s, "a");
	assert_int_equal(pl_json_get_str(&d, j, "$", "missing", PL_J_OPTIONAL, &s), 0);
	assert_int_equal(pl_json_get_str(&d, j, "$", "missing", PL_J_REQUIRED, &s), PL_EINVAL);
	assert_string_equal(err.msg, "labs/x.json: $.missing: is required");
	assert_int_equal(pl_json_get_str(&d, j, "$", "empty", PL_J_REQUIRED, &s), PL_EINVAL);
	assert_int_equal(pl_json_get_int(&d, j, "$.vms[0]", "memory", 1, 64, 65536, &l), PL_EINVAL);
	assert_string_equal(err.msg, "labs/x.json: $.vms[0].memory: 99999999 is out of range [64, 65536]");
	assert_int_equal(pl_json_get_bool(&d, j, "$", "pxe", 1, &b), PL_EINVAL);
	assert_non_null(strstr(err.msg, "expected true or false, got an integer"));
	assert_int_equal(pl_json_get_enum(&d, j, "$", "boot", 1,
					  (const char *const[]){"pxe", "kernel", "disk", NULL}, &e),
			 PL_EINVAL);
	assert_string_equal(err.msg, "labs/x.json: $.boot: 'usb' is not one of pxe, kernel, disk");
	assert_int_equal(pl_json_get_array(&d, j, "$", "vms", 1, &a), PL_EINVAL);
	assert_non_null(strstr(err.msg, "expected an array, got an object"));
	assert_int_equal(pl_json_check_keys(&d, j, "$",
					    (const char *const[]){"name", "memory", "pxe", "boot",
								  "vms", NULL}),
			 PL_EINVAL);
	assert_string_equal(err.msg, "labs/x.json: $.empty: unknown field");
}

static void test_sha256(void **state)
{
	/* FIPS 180-4 examples, and a million 'a' fed in odd-sized pieces */
	static const struct {
		const char *in, *hex;
	} v[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	};
	struct pl_sha256 c;
	char hex[65], chunk[997];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		pl_sha256_init(&c);
		pl_sha256_update(&c, v[i].in, strlen(v[i].in));
		pl_sha256_hex(&c, hex);
		assert_string_equal(hex, v[i].hex);
	}
	memset(chunk, 'a', sizeof(chunk));
	pl_sha256_init(&c);
	for (size_t left = 1000000; left;) {
		size_t n = left < sizeof(chunk) ? left : sizeof(chunk);

		pl_sha256_update(&c, chunk, n);
		left -= n;
	}
	pl_sha256_hex(&c, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_prefix_and_exit),
		cmocka_unit_test(test_error_truncates_safely),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_parse_integers),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_json_read),
		cmocka_unit_test(test_sha256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
