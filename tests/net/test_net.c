/*
 * test_net.c - net_fetch against tests/net/httpd.py on 127.0.0.1: 200 with
 * validators, 304, 404, 5xx then success, Retry-After, a truncated body, a
 * size limit, a timeout, file:// URLs. The destination must be untouched
 * and no temporary file left after every failure. Skips (77) without
 * /usr/bin/python3.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "net/net.h"

#define HTTPD PL_TEST_DATA_DIR "/../net/httpd.py"

extern char **environ;

static char dir[] = "/tmp/pl-net.XXXXXX";
static char base[64];
static pid_t server = -1;

static char *path_in(const char *name)
{
	return pl_path_join(dir, name);
}

static void write_file(const char *name, const char *text)
{
	PL_AUTOFREE char *p = path_in(name);
	struct pl_err err = PL_ERR_INIT;

	if (pl_file_write_atomic(p, text, strlen(text), 0644, &err) < 0)
		fail_msg("%s", err.msg);
}

static char *read_in(const char *name)
{
	PL_AUTOFREE char *p = path_in(name);
	struct pl_err err = PL_ERR_INIT;
	char *buf = NULL;

	if (pl_file_read(p, &buf, NULL, &err) < 0)
		return NULL;
	return buf;
}

static void control(const char *json)
{
	write_file("control.json", json);
}

static char *url(const char *path)
{
	return pl_strdupf("%s%s", base, path);
}

/* No "*.tmp-PID" file may be left in the directory. */
static void assert_no_tmp(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp-"))
			fail_msg("temporary file left: %s", e->d_name);
	closedir(d);
}

static int server_start(void **state)
{
	PL_AUTOFREE char *root = NULL, *portf = NULL, *ctl = NULL, *log = NULL;
	const char *argv[10];
	posix_spawn_file_actions_t fa;
	char *port = NULL;
	int rc;

	(void)state;
	if (access("/usr/bin/python3", X_OK) < 0) {
		printf("no /usr/bin/python3: skipped\n");
		exit(77);
	}
	if (!mkdtemp(dir))
		return -1;
	root = path_in("root");
	portf = path_in("port");
	ctl = path_in("control.json");
	log = path_in("httpd.log");
	mkdir(root, 0755);
	argv[0] = "/usr/bin/python3";
	argv[1] = HTTPD;
	argv[2] = root;
	argv[3] = "--port-file";
	argv[4] = portf;
	argv[5] = "--control";
	argv[6] = ctl;
	argv[7] = "--log";
	argv[8] = log;
	argv[9] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&server, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	for (int i = 0; i < 100 && !(port = read_in("port")); i++)
		usleep(100000);
	if (!port)
		return -1;
	port[strcspn(port, "\n")] = '\0';
	snprintf(base, sizeof(base), "http://127.0.0.1:%s", port);
	free(port);
	return 0;
}

static int server_stop(void **state)
{
	(void)state;
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	{
		const char *argv[] = {"rm", "-rf", dir, NULL};

		pl_run(argv, NULL, NULL, NULL);
	}
	return 0;
}

/* Each test starts with no hooks and a known file. */
static int case_setup(void **state)
{
	(void)state;
	control("{}");
	write_file("root/a.txt", "hello, patchlab\n");
	return 0;
}

static void test_ok_then_not_modified(void **state)
{
	PL_AUTOFREE char *u = url("/a.txt"), *dest = path_in("a.out"), *got = NULL;
	struct net_fetch_result res, res2;
	struct net_fetch_opts o = {0};
	struct pl_err err = PL_ERR_INIT;
	struct pl_sha256 h;
	char want[65];

	(void)state;
	assert_int_equal(net_fetch(u, dest, NULL, &res, &err), 0);
	got = read_in("a.out");
	assert_string_equal(got, "hello, patchlab\n");
	pl_sha256_init(&h);
	pl_sha256_update(&h, got, strlen(got));
	pl_sha256_hex(&h, want);
	assert_string_equal(res.sha256, want);
	assert_int_equal(res.bytes, strlen(got));
	assert_int_equal(res.http_status, 200);
	assert_int_equal(res.attempts, 1);
	assert_false(res.not_modified);
	assert_non_null(res.etag);
	assert_non_null(res.last_modified);

	/* the same validators: 304, and the destination keeps what it has */
	write_file("a.out", "kept\n");
	o.etag = res.etag;
	assert_int_equal(net_fetch(u, dest, &o, &res2, &err), 0);
	assert_true(res2.not_modified);
	assert_int_equal(res2.http_status, 304);
	assert_string_equal(res2.sha256, "");
	net_fetch_result_release(&res2);
	o.etag = NULL;
	o.last_modified = res.last_modified;
	assert_int_equal(net_fetch(u, dest, &o, &res2, &err), 0);
	assert_true(res2.not_modified);
	net_fetch_result_release(&res2);
	free(got);
	got = read_in("a.out");
	assert_string_equal(got, "kept\n");

	/* a stale validator: the new content */
	o.etag = "\"stale\"";
	o.last_modified = NULL;
	assert_int_equal(net_fetch(u, dest, &o, &res2, &err), 0);
	assert_false(res2.not_modified);
	net_fetch_result_release(&res2);
	free(got);
	got = read_in("a.out");
	assert_string_equal(got, "hello, patchlab\n");
	net_fetch_result_release(&res);
	assert_no_tmp();
}

static void test_not_found(void **state)
{
	PL_AUTOFREE char *u = url("/missing"), *dest = path_in("m.out");
	struct net_fetch_result res;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	assert_int_equal(net_fetch(u, dest, NULL, &res, &err), PL_ENOTFOUND);
	assert_non_null(strstr(err.msg, u));
	assert_non_null(strstr(err.msg, "HTTP 404"));
	assert_int_equal(res.attempts, 1);
	assert_false(pl_path_exists(dest));
	assert_no_tmp();
}

static void test_retry_then_ok(void **state)
{
	PL_AUTOFREE char *u = url("/a.txt"), *dest = path_in("r.out");
	struct net_fetch_result res;
	struct net_fetch_opts o = {0};
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	control("{\"/a.txt\": {\"fail\": 2}}");
	assert_int_equal(net_fetch(u, dest, NULL, &res, &err), 0);
	assert_int_equal(res.attempts, 3);
	assert_int_equal(res.http_status, 200);
	net_fetch_result_release(&res);

	/* without retries the first 500 is final */
	control("{\"/a.txt\": {\"fail\": 1}}");
	o.retries = -1;
	assert_int_equal(net_fetch(u, dest, &o, &res, &err), PL_EIO);
	assert_non_null(strstr(err.msg, "HTTP 500"));
	assert_int_equal(res.attempts, 1);

	/* more failures than retries: the last error, with the count */
	control("{\"/a.txt\": {\"fail\": 9, \"status\": 502}}");
	o.retries = 1;
	assert_int_equal(net_fetch(u, dest, &o, &res, &err), PL_EIO);
	assert_non_null(strstr(err.msg, "HTTP 502 (2 attempts)"));

	/* a 403 is not retried */
	control("{\"/a.txt\": {\"fail\": 1, \"status\": 403}}");
	o.retries = 3;
	assert_int_equal(net_fetch(u, dest, &o, &res, &err), PL_EIO);
	assert_int_equal(res.attempts, 1);
	assert_no_tmp();
}

static void test_retry_after(void **state)
{
	PL_AUTOFREE char *u = url("/a.txt"), *dest = path_in("ra.out");
	struct net_fetch_result res;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	control("{\"/a.txt\": {\"fail\": 1, \"status\": 503, \"retry_after\": 2}}");
	assert_int_equal(net_fetch(u, dest, NULL, &res, &err), 0);
	assert_int_equal(res.attempts, 2);
	assert_true(res.seconds >= 2.0);
	net_fetch_result_release(&res);
}

static void test_truncated(void **state)
{
	PL_AUTOFREE char *u = url("/a.txt"), *dest = path_in("t.out"), *got = NULL;
	struct net_fetch_result res;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	write_file("t.out", "previous\n");
	control("{\"/a.txt\": {\"truncate\": 5}}");
	assert_int_equal(net_fetch(u, dest, NULL, &res, &err), PL_EIO);
	assert_non_null(strstr(err.msg, "truncated"));
	assert_int_equal(res.attempts, 3);
	got = read_in("t.out");
	assert_string_equal(got, "previous\n");
	assert_no_tmp();
}

static void test_too_big(void **state)
{
	PL_AUTOFREE char *u = url("/a.txt"), *dest = path_in("b.out");
	struct net_fetch_opts o = {.max_bytes = 5};
	struct net_fetch_result res;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	assert_int_equal(net_fetch(u, dest, &o, &res, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "larger than 5 bytes"));
	assert_int_equal(res.attempts, 1);
	assert_false(pl_path_exists(dest));
	assert_no_tmp();
}

static void test_timeout(void **state)
{
	PL_AUTOFREE char *u = url("/a.txt"), *dest = path_in("d.out");
	struct net_fetch_opts o = {.timeout_s = 1, .retries = -1};
	struct net_fetch_result res;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	control("{\"/a.txt\": {\"delay\": 3}}");
	assert_int_equal(net_fetch(u, dest, &o, &res, &err), PL_ETIMEOUT);
	assert_non_null(strstr(err.msg, u));
	assert_false(pl_path_exists(dest));
	assert_no_tmp();
}

static void test_mem_and_file_urls(void **state)
{
	PL_AUTOFREE char *u = url("/a.txt"), *root = path_in("root/a.txt"), *fu = NULL;
	PL_AUTOFREE char *dest = path_in("f.out"), *missing = NULL, *buf = NULL;
	struct net_fetch_result res;
	struct pl_err err = PL_ERR_INIT;
	size_t len;

	(void)state;
	assert_int_equal(net_fetch_mem(u, NULL, &buf, &len, &res, &err), 0);
	assert_string_equal(buf, "hello, patchlab\n");
	assert_int_equal(len, 16);
	net_fetch_result_release(&res);
	free(PL_STEAL(buf));

	fu = pl_strdupf("file://%s", root);
	assert_int_equal(net_fetch(fu, dest, NULL, &res, &err), 0);
	assert_int_equal(res.http_status, 0);
	assert_int_equal(res.bytes, 16);
	net_fetch_result_release(&res);
	missing = pl_strdupf("file://%s/nope", dir);
	assert_int_equal(net_fetch(missing, dest, NULL, &res, &err), PL_ENOTFOUND);
	assert_no_tmp();
}

static void test_bad_urls(void **state)
{
	PL_AUTOFREE char *dest = path_in("x.out");
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *j1 = net_url_join("http://h/debian/", "/dists/x");
	PL_AUTOFREE char *j2 = net_url_join("http://h/debian", "dists/x");

	(void)state;
	assert_int_equal(net_fetch("", dest, NULL, NULL, &err), PL_EINVAL);
	assert_int_equal(net_fetch("ftp://127.0.0.1/x", dest, NULL, NULL, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "only http, https and file"));
	assert_int_equal(net_fetch("http://127.0.0.1/a b", dest, NULL, NULL, &err), PL_EINVAL);
	assert_int_equal(net_fetch("http://[::1/x", dest, NULL, NULL, &err), PL_EINVAL);
	/* nothing listens on port 9 of 127.0.0.1: transient, then final */
	assert_int_equal(net_fetch("http://127.0.0.1:9/x", dest,
	                           &(struct net_fetch_opts){.retries = -1}, NULL, &err),
	                 PL_EIO);
	assert_false(pl_path_exists(dest));
	{
		PL_AUTOFREE char *n1 = NULL, *n2 = NULL, *n3 = NULL;

		assert_int_equal(net_url_check("http://h/debian//", &n1, &err), 0);
		assert_string_equal(n1, "http://h/debian");
		assert_int_equal(net_url_check("file:///", &n2, &err), 0);
		assert_string_equal(n2, "file:///");
		assert_int_equal(net_url_check("https://h:8443/x/", &n3, &err), 0);
		assert_string_equal(n3, "https://h:8443/x");
		assert_int_equal(net_url_check("http:///x", NULL, &err), PL_EINVAL);
		assert_int_equal(net_url_check("http://h/x#frag", NULL, &err), PL_EINVAL);
		assert_int_equal(net_url_check("http://u:p@h/x", NULL, &err), PL_EINVAL);
		assert_int_equal(net_url_check("gopher://h/x", NULL, &err), PL_EINVAL);
		assert_int_equal(net_url_check("h/x", NULL, &err), PL_EINVAL);
	}
	assert_string_equal(j1, "http://h/debian/dists/x");
	assert_string_equal(j2, "http://h/debian/dists/x");
	assert_no_tmp();
}

/* Progress: "fetch" begins and ends once per call. */
struct seen {
	int begin, end, rc;
};

static void seen_stage(void *ctx, const char *stage, const char *detail)
{
	struct seen *s = ctx;

	(void)detail;
	if (strcmp(stage, "fetch") == 0)
		s->begin++;
}

static void seen_done(void *ctx, const char *stage, int rc, double secs)
{
	struct seen *s = ctx;

	(void)secs;
	if (strcmp(stage, "fetch") == 0) {
		s->end++;
		s->rc = rc;
	}
}

static void test_progress(void **state)
{
	PL_AUTOFREE char *u = url("/a.txt"), *dest = path_in("p.out");
	struct seen s = {0};
	struct pl_progress p = {seen_stage, seen_done, &s};
	struct net_fetch_opts o = {.progress = &p, .label = "a.txt"};
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	assert_int_equal(net_fetch(u, dest, &o, NULL, &err), 0);
	assert_int_equal(s.begin, 1);
	assert_int_equal(s.end, 1);
	assert_int_equal(s.rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_ok_then_not_modified, case_setup),
	    cmocka_unit_test_setup(test_not_found, case_setup),
	    cmocka_unit_test_setup(test_retry_then_ok, case_setup),
	    cmocka_unit_test_setup(test_retry_after, case_setup),
	    cmocka_unit_test_setup(test_truncated, case_setup),
	    cmocka_unit_test_setup(test_too_big, case_setup),
	    cmocka_unit_test_setup(test_timeout, case_setup),
	    cmocka_unit_test_setup(test_mem_and_file_urls, case_setup),
	    cmocka_unit_test_setup(test_bad_urls, case_setup),
	    cmocka_unit_test_setup(test_progress, case_setup),
	};

	return cmocka_run_group_tests(tests, server_start, server_stop);
}
