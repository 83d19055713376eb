/*
 * Unit tests for src/pkgdb: the deb822 parser, clearsigned bodies and the
 * dpkg status reader. Data-driven cases live in tests/data/pkgdb/deb822 and
 * tests/data/pkgdb/status: each CASE.in is parsed and its dump (or the error
 * message) must equal CASE.out; PATCHLAB_TEST_REGENERATE=1 rewrites the .out
 * files. The fixtures from a real Debian 12 mirror are kept verbatim, and
 * this machine's /var/lib/dpkg/status is checked against dpkg-query.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "core/core.h"
#include "pkgdb/pkgdb.h"

#ifndef PL_TEST_DATA_DIR
#error "PL_TEST_DATA_DIR must be defined as the absolute path of tests/data"
#endif

#define DATA(name) PL_TEST_DATA_DIR "/pkgdb/" name

/* ---- helpers ----------------------------------------------------------- */

static char *read_data(const char *path, size_t *len)
{
	struct pl_err err = PL_ERR_INIT;
	char *buf = NULL;

	if (pl_file_read(path, &buf, len, &err) < 0)
		fail_msg("%s", err.msg);
	return buf;
}

/* Appends s[0..n) with newlines, backslashes and controls escaped. */
static void add_escaped(struct pl_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n')
			pl_buf_adds(b, "\\n");
		else if (c == '\\')
			pl_buf_adds(b, "\\\\");
		else if (c < 0x20 || c == 0x7f)
			pl_buf_addf(b, "\\x%02x", c);
		else
			pl_buf_addc(b, (char)c);
	}
}

/* "stanza LINE" then "  Name[LINE]: value" per field; the error last. */
static void dump_deb822(struct pl_buf *b, const char *buf, size_t len, const char *source)
{
	struct pl_err err = PL_ERR_INIT;
	struct pkgdb_deb822 p;
	struct pkgdb_stanza st;
	int rc;

	pkgdb_deb822_init(&p, buf, len, source);
	while ((rc = pkgdb_deb822_next(&p, &st, &err)) > 0) {
		pl_buf_addf(b, "stanza %zu\n", st.line);
		for (size_t i = 0; i < st.nfields; i++) {
			const struct pkgdb_field *f = &st.fields[i];

			pl_buf_addf(b, "  %.*s[%zu]%s: ", (int)f->name_len, f->name, f->line,
				    f->multiline ? "+" : "");
			add_escaped(b, f->value, f->value_len);
			pl_buf_addc(b, '\n');
		}
	}
	if (rc < 0)
		pl_buf_addf(b, "error %s: %s\n", pl_code_name(rc), err.msg);
	pkgdb_deb822_release(&p);
}

static void dump_pkg(struct pl_buf *b, const struct pkgdb_pkg *k)
{
	pl_buf_addf(b, "%s:%s %s source=%s/%s status='%s %s %s' installed=%d ma-same=%d line=%zu\n",
		    k->name, k->arch ? k->arch : "(none)", k->version ? k->version : "(none)",
		    k->source, k->source_version ? k->source_version : "(none)", pkgdb_want_name(k->want), pkgdb_eflag_name(k->eflag),
		    pkgdb_state_name(k->state), k->installed, k->multi_arch_same, k->line);
}

static void dump_status(struct pl_buf *b, const char *buf, size_t len, const char *source)
{
	struct pl_err err = PL_ERR_INIT;
	struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;
	int rc = pkgdb_dpkg_status_parse(buf, len, source, &l, &err);

	if (rc < 0) {
		assert_int_equal(l.n, 0);
		assert_null(l.pkgs);
		pl_buf_addf(b, "error %s: %s\n", pl_code_name(rc), err.msg);
		return;
	}
	pl_buf_addf(b, "%zu packages\n", l.n);
	for (size_t i = 0; i < l.n; i++)
		dump_pkg(b, &l.pkgs[i]);
	pkgdb_pkglist_free(&l);
}

typedef void (*dump_fn)(struct pl_buf *b, const char *buf, size_t len, const char *source);

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Compares (or with PATCHLAB_TEST_REGENERATE=1 rewrites) one CASE.out. */
static int golden_case(const char *dir, const char *name, dump_fn dump)
{
	PL_AUTOFREE char *in = pl_strdupf("%s/%s/%s", DATA(""), dir, name);
	PL_AUTOFREE char *out = pl_strdupf("%.*s.out", (int)(strlen(in) - 3), in);
	PL_AUTOFREE char *source = pl_strdupf("%s/%s", dir, name);
	PL_AUTOFREE char *buf = NULL, *want = NULL;
	PL_AUTOBUF struct pl_buf got = PL_BUF_INIT;
	struct pl_err err = PL_ERR_INIT;
	size_t len, wlen = 0;
	const char *regen = getenv("PATCHLAB_TEST_REGENERATE");

	buf = read_data(in, &len);
	dump(&got, buf, len, source);
	if (regen && !strcmp(regen, "1")) {
		if (pl_file_write_atomic(out, got.s, got.len, 0644, &err) < 0)
			fail_msg("%s", err.msg);
		return 0;
	}
	/* pl_file_read leaves an empty file's buffer unterminated: compare by length */
	if (pl_file_read(out, &want, &wlen, &err) < 0) {
		print_error("%s: %s\n", source, err.msg);
		return 1;
	}
	if (wlen != got.len || memcmp(want, pl_buf_str(&got), wlen) != 0) {
		want[wlen] = '\0';
		print_error("%s: expected:\n%s--- got:\n%s", source, want, pl_buf_str(&got));
		return 1;
	}
	return 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Runs every DIR/CASE.in; fails naming each case that differs. */
static void golden_dir(const char *dir, dump_fn dump)
{
	PL_AUTOFREE char *path = pl_strdupf("%s/%s", DATA(""), dir);
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, name_cmp), cases = 0, failed = 0;

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (ends_with(ents[i]->d_name, ".in")) {
			cases++;
			failed += golden_case(dir, ents[i]->d_name, dump);
		}
		free(ents[i]);
	}
	free(ents);
	assert_true(cases > 10);
	if (failed)
		fail_msg("%d of %d cases in %s differ", failed, cases, dir);
}

/* Asserts that err names source and line: "SOURCE:LINE: ...". */
static void assert_err_at(const struct pl_err *err, const char *source, size_t line,
			  const char *what)
{
	PL_AUTOFREE char *prefix = pl_strdupf("%s:%zu: ", source, line);

	assert_int_equal(err->code, PL_EINVAL);
	if (strncmp(err->msg, prefix, strlen(prefix)) != 0 || !strstr(err->msg, what))
		fail_msg("expected '%s...%s', got '%s'", prefix, what, err->msg);
}

/* ---- deb822 ------------------------------------------------------------ */

static void test_deb822_golden(void **state)
{
	(void)state;
	golden_dir("deb822", dump_deb822);
}

static void test_deb822_lookup(void **state)
{
	static const char text[] = "Package: demo\nDescription: synopsis\n long\n .\n end\n"
				   "SHA256:\n abc 1 x\n def 2 y\n";
	struct pl_err err = PL_ERR_INIT;
	struct pkgdb_deb822 p;
	struct pkgdb_stanza st;
	const struct pkgdb_field *f;
	PL_AUTOFREE char *desc = NULL;

	(void)state;
	pkgdb_deb822_init(&p, text, sizeof(text) - 1, "t");
	assert_int_equal(pkgdb_deb822_next(&p, &st, &err), 1);
	assert_int_equal(st.nfields, 3);
	f = pkgdb_stanza_get(&st, "PACKAGE");
	assert_non_null(f);
	assert_true(pkgdb_field_is(f, "package"));
	/* single-line values point into the input: no copy */
	assert_ptr_equal(f->value, text + 9);
	desc = pkgdb_field_dup(pkgdb_stanza_get(&st, "description"));
	assert_string_equal(desc, "synopsis\nlong\n\nend");
	f = pkgdb_stanza_get(&st, "sha256");
	assert_int_equal(f->value_len, strlen("abc 1 x\ndef 2 y"));
	assert_memory_equal(f->value, "abc 1 x\ndef 2 y", f->value_len);
	assert_null(pkgdb_stanza_get(&st, "Version"));
	assert_null(pkgdb_stanza_get(&st, "Packag"));
	assert_null(pkgdb_field_dup(NULL));
	assert_int_equal(pkgdb_deb822_next(&p, &st, &err), 0);
	assert_int_equal(pkgdb_deb822_next(&p, &st, &err), 0);
	pkgdb_deb822_release(&p);
}

static void test_deb822_error_is_sticky(void **state)
{
	static const char text[] = "A: 1\nno colon\n\nB: 2\n";
	struct pl_err err = PL_ERR_INIT;
	struct pkgdb_deb822 p;
	struct pkgdb_stanza st;

	(void)state;
	pkgdb_deb822_init(&p, text, sizeof(text) - 1, NULL);
	assert_int_equal(pkgdb_deb822_next(&p, &st, &err), PL_EINVAL);
	assert_err_at(&err, "<input>", 2, "without ':'");
	assert_int_equal(pkgdb_deb822_next(&p, &st, &err), PL_EINVAL);
	assert_int_equal(st.nfields, 0);
	pkgdb_deb822_release(&p);
}

/* A line of n bytes as the second line: accepted at 1 MiB, refused above. */
static int parse_long_line(size_t n, struct pl_err *err)
{
	struct pl_buf b = PL_BUF_INIT;
	struct pkgdb_deb822 p;
	struct pkgdb_stanza st;
	int rc;

	pl_buf_adds(&b, "Package: big\nDescription: ");
	pl_buf_grow(&b, n);
	memset(b.s + b.len, 'a', n - strlen("Description: "));
	b.len += n - strlen("Description: ");
	pl_buf_adds(&b, "\nVersion: 1\n");
	pkgdb_deb822_init(&p, b.s, b.len, "huge");
	rc = pkgdb_deb822_next(&p, &st, err);
	if (rc == 1)
		assert_int_equal(pkgdb_stanza_get(&st, "Description")->value_len,
				 n - strlen("Description: "));
	pkgdb_deb822_release(&p);
	pl_buf_release(&b);
	return rc;
}

static void test_deb822_huge_line(void **state)
{
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	assert_int_equal(parse_long_line(PKGDB_LINE_MAX, &err), 1);
	assert_int_equal(parse_long_line(PKGDB_LINE_MAX + 1, &err), PL_EINVAL);
	assert_err_at(&err, "huge", 2, "line longer than 1048576 bytes");
	assert_int_equal(parse_long_line(64 * PKGDB_LINE_MAX, &err), PL_EINVAL);
	assert_err_at(&err, "huge", 2, "line longer than");
}

static void test_deb822_packages_excerpt(void **state)
{
	PL_AUTOFREE char *buf = NULL;
	struct pl_err err = PL_ERR_INIT;
	struct pkgdb_deb822 p;
	struct pkgdb_stanza st;
	const struct pkgdb_field *f;
	size_t len;

	(void)state;
	buf = read_data(DATA("bookworm-security_Packages_excerpt"), &len);
	pkgdb_deb822_init(&p, buf, len, "Packages");
	assert_int_equal(pkgdb_deb822_next(&p, &st, &err), 1);
	assert_int_equal(st.nfields, 16);
	f = pkgdb_stanza_get(&st, "source");
	assert_memory_equal(f->value, "openssl", f->value_len);
	assert_int_equal(pkgdb_deb822_next(&p, &st, &err), 1);
	assert_int_equal(st.line, 18);
	f = pkgdb_stanza_get(&st, "Filename");
	assert_int_equal(f->line, 31);
	assert_memory_equal(f->value,
			    "pool/updates/main/o/openssl/openssl_3.0.22-1~deb12u2_amd64.deb",
			    f->value_len);
	assert_null(pkgdb_stanza_get(&st, "Source"));
	assert_int_equal(pkgdb_deb822_next(&p, &st, &err), 0);
	pkgdb_deb822_release(&p);
}

/* Runs argv with stdout into *out, stderr to /dev/null; returns the exit
 * status, 127 if it could not run. */
static int run_capture(char *const argv[], struct pl_buf *out)
{
	int fds[2], status = 0;
	char chunk[65536];
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, STDERR_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		pl_buf_add(out, chunk, (size_t)n);
	}
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* ---- clearsigned -------------------------------------------------------- */

static void test_clearsign_inrelease(void **state)
{
	PL_AUTOFREE char *buf = NULL, *body = NULL, *sha = NULL;
	struct pl_err err = PL_ERR_INIT;
	struct pkgdb_deb822 p;
	struct pkgdb_stanza st;
	size_t len, blen, lines = 1;

	(void)state;
	buf = read_data(DATA("bookworm-updates_InRelease"), &len);
	assert_int_equal(pkgdb_clearsign_body(buf, len, "InRelease", &body, &blen, &err), 0);
	assert_int_equal(strlen(body), blen);
	assert_null(strstr(body, "PGP"));
	assert_int_equal(strncmp(body, "Origin: Debian\n", 15), 0);
	pkgdb_deb822_init(&p, body, blen, "InRelease");
	assert_int_equal(pkgdb_deb822_next(&p, &st, &err), 1);
	{
		PL_AUTOFREE char *suite = pkgdb_field_dup(pkgdb_stanza_get(&st, "Suite"));
		PL_AUTOFREE char *code = pkgdb_field_dup(pkgdb_stanza_get(&st, "codename"));
		PL_AUTOFREE char *date = pkgdb_field_dup(pkgdb_stanza_get(&st, "Date"));

		assert_string_equal(suite, "oldstable-updates");
		assert_string_equal(code, "bookworm-updates");
		assert_string_equal(date, "Sun, 22 Nov 2026 02:09:05 UTC");
	}
	sha = pkgdb_field_dup(pkgdb_stanza_get(&st, "SHA256"));
	for (const char *q = sha; *q; q++)
		lines += *q == '\n';
	assert_int_equal(lines, 480); /* grep -c '^ [0-9a-f]{64}' */
	assert_int_equal(strncmp(sha,
				 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
				 "        0 contrib/Contents-all\n",
				 95),
			 0);
	assert_non_null(strstr(sha, "\n0040f94d11d0039505328a90b2ff48968db873e9e7967307631bf40ef5"
				    "679275       32 non-free/source/Sources.xz"));
	assert_int_equal(pkgdb_deb822_next(&p, &st, &err), 0);
	pkgdb_deb822_release(&p);
}

/* gpgv --output writes what it verified: our body must be those very bytes. */
static void test_clearsign_matches_gpgv(void **state)
{
	static const char keyring[] = "/usr/share/keyrings/debian-archive-keyring.gpg";
	char *argv[] = {(char *)"gpgv", (char *)"--keyring", (char *)keyring, (char *)"--output",
			(char *)"-", (char *)DATA("bookworm-updates_InRelease"), NULL};
	PL_AUTOBUF struct pl_buf verified = PL_BUF_INIT;
	PL_AUTOFREE char *buf = NULL, *body = NULL;
	struct pl_err err = PL_ERR_INIT;
	size_t len, blen;

	(void)state;
	if (!pl_path_exists(keyring) || run_capture(argv, &verified) != 0)
		skip(); /* no gpgv, no keyring, or the key has expired */
	buf = read_data(argv[5], &len);
	assert_int_equal(pkgdb_clearsign_body(buf, len, "InRelease", &body, &blen, &err), 0);
	assert_int_equal(blen, verified.len);
	assert_memory_equal(body, verified.s, blen);
}

static const char SIG[] = "-----BEGIN PGP SIGNATURE-----\n\niQIz\n=qF2w\n"
			  "-----END PGP SIGNATURE-----\n";

/* Wraps body in a clearsigned message and extracts it again. */
static int clearsign(const char *before, const char *body, const char *after, char **out,
		     struct pl_err *err)
{
	PL_AUTOFREE char *msg = pl_strdupf("%s-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n"
					   "\n%s%s%s",
					   before, body, SIG, after);

	return pkgdb_clearsign_body(msg, strlen(msg), "m", out, NULL, err);
}

static void test_clearsign_dash_escape(void **state)
{
	PL_AUTOFREE char *out = NULL;
	struct pl_err err = PL_ERR_INIT;

	(void)state;
	assert_int_equal(clearsign("\n", "A: 1\n- -x\n- B: 2\n\n", "\n \n", &out, &err), 0);
	assert_string_equal(out, "A: 1\n-x\nB: 2\n\n");
	free(out);
	assert_int_equal(clearsign("", "", "", &out, &err), 0);
	assert_string_equal(out, "");
	free(out);
	out = NULL;
	/* CRLF armor and body */
	{
		static const char m[] = "-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA512\r\n\r\n"
					"A: 1\r\n-----BEGIN PGP SIGNATURE-----\r\nx\r\n"
					"-----END PGP SIGNATURE-----\r\n";

		assert_int_equal(pkgdb_clearsign_body(m, sizeof(m) - 1, "m", &out, NULL, &err), 0);
		assert_string_equal(out, "A: 1\n");
	}
}

static void test_clearsign_refuses(void **state)
{
	static const struct {
		const char *before, *body, *after;
		size_t line;
		const char *what;
	} cases[] = {
		{"unsigned: 1\n", "A: 1\n", "", 1, "text before"},
		{"", "A: 1\n", "B: 2\n", 10, "text after"},
		{"", "A: 1\n", "-----BEGIN PGP SIGNED MESSAGE-----\n", 10, "text after"},
		{"", "A: 1\n-x\n", "", 5, "not dash-escaped"},
		{"", "A: 1\n-----BEGIN PGP SIGNED MESSAGE-----\n", "", 5, "not dash-escaped"},
	};
	struct pl_err err = PL_ERR_INIT;
	char *out = (char *)"sentinel";

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(clearsign(cases[i].before, cases[i].body, cases[i].after, &out,
					   &err),
				 PL_EINVAL);
		assert_null(out);
		assert_err_at(&err, "m", cases[i].line, cases[i].what);
	}
}

static void test_clearsign_truncated(void **state)
{
	static const struct {
		const char *text;
		size_t line;
		const char *what;
	} cases[] = {
		{"", 0, "no '-----BEGIN PGP SIGNED MESSAGE-----' line"},
		{"Origin: Debian\n", 1, "text before"},
		{"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n", 2, "no blank line"},
		{"-----BEGIN PGP SIGNED MESSAGE-----\nHash SHA256\n\n", 2, "armor header"},
		{"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nA: 1\n", 4,
		 "no '-----BEGIN PGP SIGNATURE-----' line"},
		{"-----BEGIN PGP SIGNED MESSAGE-----\n\nA: 1\n-----BEGIN PGP SIGNATURE-----\nab", 5,
		 "no '-----END PGP SIGNATURE-----' line"},
	};
	static const char nul[] = "-----BEGIN PGP SIGNED MESSAGE-----\n\nA: 1\nB: \0\n";
	struct pl_err err = PL_ERR_INIT;
	char *out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(pkgdb_clearsign_body(cases[i].text, strlen(cases[i].text), "r",
						      &out, NULL, &err),
				 PL_EINVAL);
		assert_err_at(&err, "r", cases[i].line, cases[i].what);
	}
	assert_int_equal(pkgdb_clearsign_body(nul, sizeof(nul) - 1, "r", &out, NULL, &err),
			 PL_EINVAL);
	assert_err_at(&err, "r", 4, "NUL byte");
}

/* ---- dpkg status -------------------------------------------------------- */

static void test_status_golden(void **state)
{
	(void)state;
	golden_dir("status", dump_status);
}

static void test_status_excerpt(void **state)
{
	struct pl_err err = PL_ERR_INIT;
	struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;
	const struct pkgdb_pkg *k;
	size_t n;

	(void)state;
	assert_int_equal(pkgdb_dpkg_status_load(DATA("dpkg_status_excerpt"), &l, &err), 0);
	assert_int_equal(l.n, 4);
	assert_true(l.sorted);
	/* the binNMU: the security tracker's fixed version is the source's */
	k = pkgdb_pkglist_find(&l, "bash", "amd64");
	assert_non_null(k);
	assert_string_equal(k->version, "5.2.15-2+b8");
	assert_string_equal(k->source, "bash");
	assert_string_equal(k->source_version, "5.2.15-2");
	assert_true(k->installed);
	assert_int_equal(k->line, 1);
	k = pkgdb_pkglist_find(&l, "libc6", NULL);
	assert_string_equal(k->source, "glibc");
	assert_string_equal(k->source_version, "2.36-9+deb12u14");
	assert_true(k->multi_arch_same);
	k = pkgdb_pkglist_find(&l, "openssl", "amd64");
	assert_string_equal(k->source, "openssl");
	assert_string_equal(k->source_version, "3.0.19-1~deb12u2");
	assert_false(k->multi_arch_same);
	assert_null(pkgdb_pkglist_find(&l, "libc6", "i386"));
	assert_null(pkgdb_pkglist_find(&l, "libc", NULL));
	assert_null(pkgdb_pkglist_find(&l, "zzz", NULL));
	assert_non_null(pkgdb_pkglist_find_all(&l, "libssl3", &n));
	assert_int_equal(n, 1);
	assert_string_equal(l.pkgs[0].name, "bash");
	assert_string_equal(l.pkgs[3].name, "openssl");
	pkgdb_pkglist_free(&l);
	assert_int_equal(l.n, 0);
	pkgdb_pkglist_free(&l); /* freeing twice is harmless */
}

static void test_status_multiarch_lookup(void **state)
{
	PL_AUTOFREE char *buf = NULL;
	struct pl_err err = PL_ERR_INIT;
	struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;
	const struct pkgdb_pkg *k;
	size_t len, n;

	(void)state;
	buf = read_data(DATA("status/ok-states.in"), &len);
	assert_int_equal(pkgdb_dpkg_status_parse(buf, len, "s", &l, &err), 0);
	k = pkgdb_pkglist_find_all(&l, "zlib1g", &n);
	assert_int_equal(n, 2);
	assert_string_equal(k[0].arch, "amd64");
	assert_string_equal(k[1].arch, "i386");
	assert_string_equal(pkgdb_pkglist_find(&l, "zlib1g", "i386")->arch, "i386");
	assert_string_equal(pkgdb_pkglist_find(&l, "zlib1g", NULL)->arch, "amd64");
	assert_null(pkgdb_pkglist_find(&l, "zlib1g", "arm64"));
	assert_null(pkgdb_pkglist_find(&l, "purged", NULL));
	assert_null(pkgdb_pkglist_find(&l, "oldconf", "amd64"));
	assert_false(pkgdb_pkglist_find(&l, "oldconf", NULL)->installed);
	assert_null(pkgdb_pkglist_find_all(&l, "nothere", &n));
	assert_int_equal(n, 0);
	/* an unsorted list is searched linearly; find_all needs the order */
	l.sorted = 0;
	assert_string_equal(pkgdb_pkglist_find(&l, "zlib1g", "i386")->arch, "i386");
	assert_null(pkgdb_pkglist_find_all(&l, "zlib1g", &n));
	pkgdb_pkglist_sort(&l);
	assert_non_null(pkgdb_pkglist_find_all(&l, "zlib1g", &n));
	pkgdb_pkglist_free(&l);
}

/* Every prefix of a real status file: a clean result or a located error. */
static void test_status_every_truncation(void **state)
{
	PL_AUTOFREE char *buf = NULL;
	size_t len;
	int ok = 0, bad = 0;

	(void)state;
	buf = read_data(DATA("dpkg_status_excerpt"), &len);
	for (size_t cut = 0; cut <= len; cut++) {
		PL_AUTOFREE char *copy = pl_malloc(cut ? cut : 1); /* exact size for ASan */
		struct pl_err err = PL_ERR_INIT;
		struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;
		int rc;

		memcpy(copy, buf, cut);
		rc = pkgdb_dpkg_status_parse(copy, cut, "cut", &l, &err);
		if (rc == 0) {
			ok++;
			assert_true(l.n <= 4);
		} else {
			bad++;
			assert_int_equal(rc, PL_EINVAL);
			assert_int_equal(strncmp(err.msg, "cut:", 4), 0);
		}
		pkgdb_pkglist_free(&l);
	}
	assert_true(ok > 4 && bad > 100);
}

static void test_status_load_missing(void **state)
{
	struct pl_err err = PL_ERR_INIT;
	struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;

	(void)state;
	assert_int_equal(pkgdb_dpkg_status_load(DATA("no-such-status"), &l, &err), PL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no-such-status"));
	assert_int_equal(l.n, 0);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits s into lines (in place), keeping those starting with prefix. */
static size_t lines_with(char *s, const char *prefix, char ***out)
{
	size_t n = 0, cap = 0, plen = strlen(prefix);

	*out = NULL;
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, prefix, plen) != 0)
			continue;
		if (n == cap)
			*out = pl_realloc(*out, (cap = cap ? 2 * cap : 1024) * sizeof(char *));
		(*out)[n++] = line + plen;
	}
	if (n > 1)
		qsort(*out, n, sizeof(char *), str_cmp);
	return n;
}

/* dpkg-query over a private copy, so that both read the very same bytes. */
static int dpkg_query_snapshot(const char *status, size_t len, struct pl_buf *out)
{
	char dir[] = "/tmp/pl-pkgdb-XXXXXX";
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *file = NULL, *admin = NULL;
	int rc;

	assert_non_null(mkdtemp(dir));
	file = pl_path_join(dir, "status");
	admin = pl_strdupf("--admindir=%s", dir);
	assert_int_equal(pl_file_write_atomic(file, status, len, 0644, &err), 0);
	{
		char *argv[] = {(char *)"dpkg-query", admin, (char *)"-W",
				(char *)"-f=entry ${Status} ${Package} ${Architecture} ${Version} "
					"${source:Package} ${source:Version}\\n",
				NULL};

		rc = run_capture(argv, out);
	}
	unlink(file);
	rmdir(dir);
	return rc;
}

/* Formats l as dpkg-query prints our -f format, one "entry ..." per line. */
static void pkglist_entries(const struct pkgdb_pkglist *l, struct pl_buf *b)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct pkgdb_pkg *k = &l->pkgs[i];

		pl_buf_addf(b, "entry %s %s %s %s %s %s %s %s\n", pkgdb_want_name(k->want),
			    pkgdb_eflag_name(k->eflag), pkgdb_state_name(k->state), k->name,
			    k->arch ? k->arch : "", k->version ? k->version : "", k->source,
			    k->source_version ? k->source_version : "");
	}
}

/* Fails with the first entry that differs between dpkg-query and l. */
static void assert_same_entries(struct pl_buf *dpkg, const struct pkgdb_pkglist *l,
				const char *what)
{
	PL_AUTOBUF struct pl_buf ours = PL_BUF_INIT;
	PL_AUTOFREE char **want = NULL, **got = NULL;
	size_t nwant, ngot;

	pkglist_entries(l, &ours);
	pl_buf_add(dpkg, "", 0);
	pl_buf_add(&ours, "", 0);
	nwant = lines_with(dpkg->s, "entry ", &want);
	ngot = lines_with(ours.s, "entry ", &got);
	for (size_t i = 0; i < nwant && i < ngot; i++)
		if (strcmp(want[i], got[i]) != 0)
			fail_msg("%s: dpkg-query: '%s', pkgdb: '%s'", what, want[i], got[i]);
	if (ngot != nwant)
		fail_msg("%s: dpkg-query lists %zu entries, pkgdb %zu", what, nwant, ngot);
}

/*
 * Every entry dpkg-query -W lists (all but the purged), with its status
 * triple, architecture, version and source package and version (dpkg's
 * ${source:Package} and ${source:Version}) must match ours exactly.
 */
static void test_status_real_system(void **state)
{
	static const char path[] = "/var/lib/dpkg/status";
	PL_AUTOFREE char *buf = NULL;
	PL_AUTOBUF struct pl_buf q = PL_BUF_INIT;
	struct pl_err err = PL_ERR_INIT;
	struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;
	size_t len, ninst = 0;

	(void)state;
	if (pl_file_read(path, &buf, &len, &err) == PL_ENOTFOUND)
		skip();
	assert_int_equal(err.code, 0);
	if (pkgdb_dpkg_status_parse(buf, len, path, &l, &err) < 0)
		fail_msg("%s", err.msg);
	if (dpkg_query_snapshot(buf, len, &q) == 127) {
		pkgdb_pkglist_free(&l);
		skip();
	}
	for (size_t i = 0; i < l.n; i++)
		ninst += l.pkgs[i].installed;
	print_message("%s: %zu entries, %zu installed\n", path, l.n, ninst);
	assert_true(ninst > 0);
	assert_same_entries(&q, &l, path);
	pkgdb_pkglist_free(&l);
}

/*
 * The status cases against dpkg itself, by the case's name: ok-* both
 * accept with the same entries, err-* both refuse, strict-* only we refuse
 * and lenient-* only we accept (the deviations pkgdb.h documents).
 */
static void status_case_vs_dpkg(const char *name)
{
	PL_AUTOFREE char *path = pl_strdupf("%s/status/%s", DATA(""), name);
	PL_AUTOFREE char *buf = NULL;
	PL_AUTOBUF struct pl_buf q = PL_BUF_INIT;
	struct pl_err err = PL_ERR_INIT;
	struct pkgdb_pkglist l = PKGDB_PKGLIST_INIT;
	size_t len;
	int ours, theirs;

	buf = read_data(path, &len);
	ours = pkgdb_dpkg_status_parse(buf, len, name, &l, &err);
	theirs = dpkg_query_snapshot(buf, len, &q);
	if (theirs == 127)
		skip();
	if (!strncmp(name, "ok-", 3)) {
		if (ours < 0 || theirs != 0)
			fail_msg("%s: pkgdb %d (%s), dpkg-query %d", name, ours, err.msg, theirs);
		assert_same_entries(&q, &l, name);
	} else if (!strncmp(name, "err-", 4) || !strncmp(name, "strict-", 7)) {
		if (ours != PL_EINVAL || (theirs == 0) != (name[0] == 's'))
			fail_msg("%s: pkgdb %d, dpkg-query %d", name, ours, theirs);
	} else if (!strncmp(name, "lenient-", 8)) {
		if (ours < 0 || theirs == 0)
			fail_msg("%s: pkgdb %d, dpkg-query %d", name, ours, theirs);
	} else {
		fail_msg("%s: the name must start with ok-, err-, strict- or lenient-", name);
	}
	pkgdb_pkglist_free(&l);
}

static void test_status_cases_vs_dpkg(void **state)
{
	PL_AUTOFREE char *dir = pl_strdupf("%s/status", DATA(""));
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, name_cmp);

	(void)state;
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		if (ends_with(ents[i]->d_name, ".in"))
			status_case_vs_dpkg(ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deb822_golden),
		cmocka_unit_test(test_deb822_lookup),
		cmocka_unit_test(test_deb822_error_is_sticky),
		cmocka_unit_test(test_deb822_huge_line),
		cmocka_unit_test(test_deb822_packages_excerpt),
		cmocka_unit_test(test_clearsign_inrelease),
		cmocka_unit_test(test_clearsign_matches_gpgv),
		cmocka_unit_test(test_clearsign_dash_escape),
		cmocka_unit_test(test_clearsign_refuses),
		cmocka_unit_test(test_clearsign_truncated),
		cmocka_unit_test(test_status_golden),
		cmocka_unit_test(test_status_excerpt),
		cmocka_unit_test(test_status_multiarch_lookup),
		cmocka_unit_test(test_status_every_truncation),
		cmocka_unit_test(test_status_load_missing),
		cmocka_unit_test(test_status_real_system),
		cmocka_unit_test(test_status_cases_vs_dpkg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
