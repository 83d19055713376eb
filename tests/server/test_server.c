/* test_server.c - the dashboard's pieces: escaping, forms, routes, --listen,
 * CSV fields, SVG charts, and users, passwords and sessions on a real store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "report/report.h"
#include "server/server.h"
#include "users/users.h"

static void test_html_escape(void **state)
{
	struct pl_buf b = PL_BUF_INIT;

	(void)state;
	server_html(&b, "<script>alert(\"x\") & 'y'</script>");
	assert_string_equal(pl_buf_str(&b),
	                    "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;");
	pl_buf_reset(&b);
	server_html(&b, NULL);
	server_html(&b, "plain text, é");
	assert_string_equal(pl_buf_str(&b), "plain text, é");
	pl_buf_release(&b);
}

static void test_form_value(void **state)
{
	char *v;

	(void)state;
	v = server_form_value("a=1&note=hello+world%21%3C%3E&csrf=abc", "note");
	assert_string_equal(v, "hello world!<>");
	free(v);
	v = server_form_value("notes=1&note=", "note");
	assert_string_equal(v, "");
	free(v);
	v = server_form_value("xnote=1", "note");
	assert_null(v);
	assert_null(server_form_value("note=%4", "note"));
	assert_null(server_form_value("note=%zz", "note"));
	assert_null(server_form_value("note=a%00b", "note")); /* no NUL smuggled in */
	assert_null(server_form_value("", "note"));
	v = server_form_value("note", "note");
	assert_string_equal(v, "");
	free(v);
}

static void test_routes(void **state)
{
	struct server_match m;

	(void)state;
	server_route_match("GET", "/api/candidates", &m);
	assert_true(m.route >= 0);
	server_route_match("GET", "/candidates/sec-1", &m);
	assert_true(m.route >= 0);
	assert_string_equal(m.param[0], "sec-1");
	server_route_match("POST", "/api/candidates/a.b/approve", &m);
	assert_true(m.route >= 0);
	assert_string_equal(m.param[0], "a.b");
	/* the path comes decoded: a '%' is a character, never decoded again */
	server_route_match("GET", "/candidates/a%2Fb", &m);
	assert_true(m.route >= 0);
	assert_string_equal(m.param[0], "a%2Fb");
	server_route_match("GET", "/candidates/x/runs/r1/vm1.console.log", &m);
	assert_true(m.route >= 0);
	assert_string_equal(m.param[1], "r1");
	assert_string_equal(m.param[2], "vm1.console.log");
	server_route_match("HEAD", "/", &m);
	assert_true(m.route >= 0);
	/* wrong method: 405 with the methods the path takes */
	server_route_match("DELETE", "/api/candidates", &m);
	assert_int_equal(m.route, -1);
	assert_string_equal(m.allow, "GET, HEAD");
	server_route_match("GET", "/api/candidates/x/approve", &m);
	assert_int_equal(m.route, -1);
	assert_string_equal(m.allow, "POST");
	/* no route: 404 */
	server_route_match("GET", "/nope", &m);
	assert_int_equal(m.route, -1);
	assert_string_equal(m.allow, "");
	server_route_match("GET", "/candidates/", &m);
	assert_int_equal(m.route, -1);
	server_route_match("GET", "/candidates/a/b", &m);
	assert_int_equal(m.route, -1);
	/* a parameter never holds a '/' or starts with '.' */
	server_route_match("GET", "/candidates/x/runs/r1/../patchlab.db", &m);
	assert_int_equal(m.route, -1);
	server_route_match("GET", "/candidates/x/runs/../r1", &m);
	assert_int_equal(m.route, -1);
	server_route_match("GET", "/candidates/a\nb", &m);
	assert_int_equal(m.route, -1);
	server_route_match("GET", "/candidates/x/runs/r1/.hidden", &m);
	assert_int_equal(m.route, -1);
}

static void test_listen(void **state)
{
	struct sockaddr_storage a;
	struct pl_err err = PL_ERR_INIT;
	socklen_t len;

	(void)state;
	assert_int_equal(server_parse_listen("127.0.0.1:8080", &a, &len, &err), 0);
	assert_int_equal(a.ss_family, AF_INET);
	assert_int_equal(server_parse_listen("localhost:0", &a, &len, &err), 0);
	assert_int_equal(server_parse_listen("[::1]:9000", &a, &len, &err), 0);
	assert_int_equal(a.ss_family, AF_INET6);
	assert_int_equal(server_parse_listen("127.0.0.1", &a, &len, &err), PL_EUSAGE);
	assert_int_equal(server_parse_listen("127.0.0.1:65536", &a, &len, &err), PL_EUSAGE);
	assert_int_equal(server_parse_listen("example.org:80", &a, &len, &err), PL_EUSAGE);
	assert_non_null(strstr(err.msg, "not an IPv4 address"));
	assert_int_equal(server_parse_listen("[::1:80", &a, &len, &err), PL_EUSAGE);
	assert_int_equal(server_parse_listen("", &a, &len, &err), PL_EUSAGE);
}

static void test_csv_field(void **state)
{
	static const char *const cases[][2] = {
	    {"plain", "plain"},
	    {"a,b", "\"a,b\""},
	    {"say \"hi\"", "\"say \"\"hi\"\"\""},
	    {"two\r\nlines", "\"two\r\nlines\""},
	    {" padded", "\" padded\""},
	    {"=cmd|' /C calc'!A0", "\"'=cmd|' /C calc'!A0\""},
	    {"+1", "\"'+1\""},
	    {"-12", "-12"},
	    {"@sum", "\"'@sum\""},
	    {"", ""},
	};
	struct pl_buf b = PL_BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pl_buf_reset(&b);
		report_csv_field(&b, cases[i][0]);
		assert_string_equal(pl_buf_str(&b), cases[i][1]);
	}
	pl_buf_reset(&b);
	report_csv_field(&b, NULL);
	assert_string_equal(pl_buf_str(&b), "");
	pl_buf_release(&b);
}

static void test_svg_chart(void **state)
{
	static const char *const series[] = {"ok", "bad"};
	struct report_bar bars[] = {{"high <&>", {3, 1}}, {"low", {0, 2}}};
	struct pl_buf b = PL_BUF_INIT;
	const char *s;

	(void)state;
	report_svg_bars(&b, "Findings \"by\" severity", "n", series, 2, bars, 2);
	s = pl_buf_str(&b);
	assert_true(strncmp(s, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
	assert_non_null(strstr(s, "Findings &quot;by&quot; severity"));
	assert_non_null(strstr(s, "high &lt;&amp;&gt;"));
	assert_null(strstr(s, "high <&>"));
	assert_null(strstr(s, "style="));
	assert_null(strstr(s, "<script"));
	assert_non_null(strstr(s, ">4</text>")); /* the stacked total */
	assert_non_null(strstr(s, "</svg>"));
	pl_buf_reset(&b);
	report_svg_bars(&b, "empty", "", NULL, 1, NULL, 0);
	assert_non_null(strstr(pl_buf_str(&b), "no data"));
	pl_buf_release(&b);
}

static void test_formats(void **state)
{
	(void)state;
	assert_int_equal(report_format_parse("html"), REPORT_HTML);
	assert_int_equal(report_format_parse("junit"), REPORT_JUNIT);
	assert_int_equal(report_format_parse("pdf"), -1);
	assert_string_equal(report_format_name(REPORT_CSV), "csv");
}

static void test_password_hash(void **state)
{
	struct pl_err err = PL_ERR_INIT;
	char *h = NULL, *h2 = NULL;

	(void)state;
	assert_int_equal(users_password_hash("correct horse", &h, &err), 0);
	assert_true(strncmp(h, "$y$", 3) == 0);
	assert_int_equal(users_password_check("correct horse", h), 1);
	assert_int_equal(users_password_check("correct horsE", h), 0);
	assert_int_equal(users_password_check("", h), 0);
	assert_int_equal(users_password_check("correct horse", "plain"), 0);
	assert_int_equal(users_password_check("correct horse", NULL), 0);
	/* a fresh salt each time */
	assert_int_equal(users_password_hash("correct horse", &h2, &err), 0);
	assert_string_not_equal(h, h2);
	free(h);
	free(h2);
	assert_int_equal(users_password_hash("short", &h, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "8-1024"));
	assert_int_equal(users_password_hash("tab\there-1", &h, &err), PL_EINVAL);
}

static void test_secrets(void **state)
{
	struct pl_err err = PL_ERR_INIT;
	char a[65], b[65];

	(void)state;
	assert_int_equal(users_secret_equal("abc", "abc"), 1);
	assert_int_equal(users_secret_equal("abd", "abc"), 0);
	assert_int_equal(users_secret_equal("ab", "abc"), 0);
	assert_int_equal(users_secret_equal("abcd", "abc"), 0);
	assert_int_equal(users_secret_equal("", ""), 1);
	assert_int_equal(users_random_hex(32, a, &err), 0);
	assert_int_equal(users_random_hex(32, b, &err), 0);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
	assert_string_not_equal(a, b);
	assert_int_equal(users_role_parse("cab"), USERS_CAB);
	assert_int_equal(users_role_parse("admin"), -1);
	assert_string_equal(users_role_name(USERS_QA), "qa");
	assert_true(users_name_ok("alice.b@corp"));
	assert_false(users_name_ok("-alice"));
	assert_false(users_name_ok("a b"));
	assert_false(users_name_ok(""));
}

static void test_users_store(void **state)
{
	char dir[] = "/tmp/pl-users-XXXXXX";
	struct pl_err err = PL_ERR_INIT;
	struct store *st = NULL;
	struct users_identity id, again;
	char secret[USERS_SECRET_HEX + 1], token[USERS_SECRET_HEX + 1];
	struct pl_clock t0 = pl_clock_fixed(1767225600); /* 2026-01-01 */
	struct pl_clock later = pl_clock_fixed(1767225600 + USERS_SESSION_TTL + 1);
	json_t *list = NULL;
	PL_AUTOFREE char *rm = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, STORE_CREATE, &st, &err), 0);
	assert_int_equal(users_add(st, "alice", USERS_CAB, "alice-password", "test", &err), 0);
	assert_int_equal(users_add(st, "alice", USERS_QA, "other-password", "test", &err),
	                 PL_EEXIST);
	assert_int_equal(users_add(st, "bad name", USERS_QA, "other-password", "test", &err),
	                 PL_EINVAL);
	assert_int_equal(users_add(st, "bob", USERS_VIEWER, "short", "test", &err), PL_EINVAL);
	/* wrong password and unknown user: the same answer */
	assert_int_equal(users_login(st, "alice", "wrong-password", 60, &t0, secret, &id, &err),
	                 PL_EFAIL);
	assert_string_equal(err.msg, "wrong user name or password");
	assert_int_equal(users_login(st, "nobody", "alice-password", 60, &t0, secret, &id, &err),
	                 PL_EFAIL);
	assert_string_equal(err.msg, "wrong user name or password");
	assert_int_equal(
	    users_login(st, "alice", "alice-password", USERS_SESSION_TTL, &t0, secret, &id, &err),
	    0);
	assert_int_equal(id.role, USERS_CAB);
	assert_int_equal(strlen(id.csrf), 64);
	assert_int_equal(users_authenticate(st, secret, &t0, &again, &err), 0);
	assert_string_equal(again.name, "alice");
	assert_string_equal(again.csrf, id.csrf);
	assert_false(again.is_token);
	/* expired, malformed, unknown */
	assert_int_equal(users_authenticate(st, secret, &later, &again, &err), PL_ENOTFOUND);
	assert_int_equal(users_authenticate(st, "nothex", &t0, &again, &err), PL_ENOTFOUND);
	{
		char first = secret[0];

		secret[0] = first == 'a' ? 'b' : 'a';
		assert_int_equal(users_authenticate(st, secret, &t0, &again, &err), PL_ENOTFOUND);
		secret[0] = first;
	}
	/* the secret is never stored, only its hash */
	{
		PL_AUTOSTMT sqlite3_stmt *s = NULL;

		assert_int_equal(store_prepare(st,
		                               "SELECT count(*) FROM sessions WHERE"
		                               " secret_sha256 = ?",
		                               &s, &err),
		                 0);
		sqlite3_bind_text(s, 1, secret, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(s, 0), 0);
	}
	assert_int_equal(users_token_create(st, "alice", "ci", 3600, &t0, "test", token, &err), 0);
	assert_int_equal(users_authenticate(st, token, &t0, &again, &err), 0);
	assert_true(again.is_token);
	assert_int_equal(users_token_create(st, "nobody", NULL, 3600, &t0, "test", token, &err),
	                 PL_ENOTFOUND);
	assert_int_equal(users_list(st, &t0, &list, &err), 0);
	assert_int_equal(json_array_size(list), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "sessions")),
	                 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "tokens")), 1);
	assert_null(json_object_get(json_array_get(list, 0), "password_hash"));
	json_decref(list);
	/* the session expired by the system clock (t0 is in the past): its
	 * logout removes it all the same */
	assert_int_equal(users_logout(st, secret, &err), 0);
	assert_int_equal(users_authenticate(st, secret, &t0, &again, &err), PL_ENOTFOUND);
	assert_int_equal(users_logout(st, secret, &err), 0);
	assert_int_equal(users_remove(st, "alice", "test", &err), 0);
	assert_int_equal(users_authenticate(st, token, &t0, &again, &err), PL_ENOTFOUND);
	assert_int_equal(users_remove(st, "alice", "test", &err), PL_ENOTFOUND);
	store_close(st);
	rm = pl_strdupf("%s/patchlab.db", dir);
	unlink(rm);
	free(rm);
	rm = pl_strdupf("%s/patchlab.db-wal", dir);
	unlink(rm);
	free(rm);
	rm = pl_strdupf("%s/patchlab.db-shm", dir);
	unlink(rm);
	free(rm);
	rm = pl_strdupf("%s/audit-anchor.json", dir);
	unlink(rm);
	free(rm);
	rm = pl_strdupf("%s/audit-anchor.json.lock", dir);
	unlink(rm);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_html_escape), cmocka_unit_test(test_form_value),
	    cmocka_unit_test(test_routes),      cmocka_unit_test(test_listen),
	    cmocka_unit_test(test_csv_field),   cmocka_unit_test(test_svg_chart),
	    cmocka_unit_test(test_formats),     cmocka_unit_test(test_password_hash),
	    cmocka_unit_test(test_secrets),     cmocka_unit_test(test_users_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
