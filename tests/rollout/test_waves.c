/*
 * test_waves.c - rollout plans and their state machine, with injected
 * clocks: wave assignment, windows and soak (tests/data/rollout/plans/,
 * golden .out files, PATCHLAB_TEST_REGENERATE=1 rewrites them), the halt
 * and success decisions, the domain XML the libvirt executor reads and
 * writes (tests/data/rollout/domains/), and schedule, status, halt, resume,
 * locks, recovery and rescheduling through the API on a real database
 * (nothing that would boot a VM is due in these tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "candidate/candidate.h"
#include "inventory/inventory.h"
#include "rollout/rollout-private.h"
#include "store/store.h"

#define DATA PL_TEST_DATA_DIR "/rollout"

static int regenerate(void)
{
	const char *e = getenv("PATCHLAB_TEST_REGENERATE");

	return e && *e && strcmp(e, "0") != 0;
}

/* Compares text with the golden file (or rewrites it). */
static void golden(const char *path, const char *text)
{
	PL_AUTOFREE char *want = NULL;
	struct pl_err err = PL_ERR_INIT;

	if (regenerate()) {
		assert_int_equal(pl_file_write_atomic(path, text, strlen(text), 0644, &err), 0);
		return;
	}
	if (pl_file_read(path, &want, NULL, &err) < 0)
		fail_msg("%s: %s (PATCHLAB_TEST_REGENERATE=1 writes it)", path, err.msg);
	if (strcmp(want, text) != 0)
		fail_msg("%s differs:\n--- want\n%s--- got\n%s", path, want, text);
}

/* ---- plans ------------------------------------------------------------------------- */

static void plan_text(struct pl_buf *b, const struct rollout_plan *pl,
                      const struct rollout_host *hosts)
{
	for (size_t i = 0; i < pl->nwaves; i++) {
		const struct rollout_plan_wave *w = &pl->waves[i];
		char s[21], e[21], sl[32];

		pl_buf_addf(b, "%s:", w->rule->name);
		for (size_t k = 0; k < w->nhosts; k++)
			pl_buf_addf(b, " %s", hosts[w->hosts[k]].name);
		if (!w->nhosts) {
			pl_buf_adds(b, " (no host, no window)\n");
			continue;
		}
		pl_time_iso(w->window.start, s);
		pl_time_iso(w->window.end, e);
		rollout_time_local(w->window.start, w->window.start_offset, sl);
		pl_buf_addf(b, " | %s %s..%s (local %s %s)\n", w->window.rule->name, s, e, sl,
		            w->window.start_abbr);
	}
	pl_buf_adds(b, "unassigned:");
	for (size_t k = 0; k < pl->nunassigned; k++)
		pl_buf_addf(b, " %s", hosts[pl->unassigned[k]].name);
	pl_buf_adds(b, "\n");
}

/* One case: {"now", "policy" | "builtin", "hosts"} -> the plan or the error. */
static void plan_case(const char *path, struct pl_buf *out)
{
	PL_AUTOJSON json_t *doc = NULL;
	struct pl_err err = PL_ERR_INIT;
	struct rollout_policy p;
	struct rollout_plan pl;
	struct rollout_host *hosts;
	json_t *hs, *v;
	int64_t now;
	size_t i;
	int rc;

	assert_int_equal(pl_json_load_file(path, &doc, &err), 0);
	assert_int_equal(pl_time_parse(json_string_value(json_object_get(doc, "now")), &now, &err),
	                 0);
	rc = json_is_true(json_object_get(doc, "builtin"))
	         ? rollout_policy_default(&p, &err)
	         : rollout_policy_from_json(json_object_get(doc, "policy"), "case.json", &p, &err);
	if (rc < 0)
		fail_msg("%s: %s", path, err.msg);
	hs = json_object_get(doc, "hosts");
	hosts = pl_calloc(json_array_size(hs) + 1, sizeof(*hosts));
	json_array_foreach (hs, i, v) {
		hosts[i].name = json_string_value(json_object_get(v, "name"));
		hosts[i].role = json_string_value(json_object_get(v, "role"));
		hosts[i].environment = json_string_value(json_object_get(v, "environment"));
		hosts[i].tags = json_object_get(v, "tags");
		hosts[i].libvirt_uri = json_string_value(json_object_get(v, "libvirt_uri"));
		hosts[i].libvirt_domain = json_string_value(json_object_get(v, "libvirt_domain"));
	}
	if (rollout_plan_compute(&p, hosts, json_array_size(hs), now, &pl, &err) < 0) {
		assert_int_equal(err.code, PL_EINVAL);
		pl_buf_addf(out, "error: %s\n", err.msg);
	} else {
		plan_text(out, &pl, hosts);
		rollout_plan_free(&pl);
	}
	free(hosts);
	rollout_policy_free(&p);
}

static void test_plans(void **state)
{
	DIR *d = opendir(DATA "/plans");
	struct dirent *e;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		PL_AUTOFREE char *in = NULL, *want = NULL;
		struct pl_buf out = PL_BUF_INIT;

		if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
			continue;
		in = pl_strdupf("%s/plans/%s", DATA, e->d_name);
		want = pl_strdupf("%s/plans/%.*s.out", DATA, (int)l - 5, e->d_name);
		plan_case(in, &out);
		golden(want, pl_buf_str(&out));
		pl_buf_release(&out);
		n++;
	}
	closedir(d);
	assert_true(n >= 7);
}

/* The plan does not depend on the order the inventory lists hosts in. */
static void test_plan_order_free(void **state)
{
	struct rollout_host a[] = {{"h3", "web", "production", NULL, "u", "h3"},
	                           {"h1", "web", "production", NULL, "u", "h1"},
	                           {"h2", "web", "production", NULL, "u", "h2"}};
	struct rollout_host b[] = {a[1], a[2], a[0]};
	struct rollout_policy p;
	struct rollout_plan x, y;
	struct pl_err err = PL_ERR_INIT;
	struct pl_buf tx = PL_BUF_INIT, ty = PL_BUF_INIT;

	(void)state;
	assert_int_equal(rollout_policy_default(&p, &err), 0);
	assert_int_equal(rollout_plan_compute(&p, a, 3, 1700000000, &x, &err), 0);
	assert_int_equal(rollout_plan_compute(&p, b, 3, 1700000000, &y, &err), 0);
	plan_text(&tx, &x, a);
	plan_text(&ty, &y, b);
	assert_string_equal(pl_buf_str(&tx), pl_buf_str(&ty));
	/* a tenth of three production hosts is one: the pilot takes the first by name */
	assert_non_null(strstr(pl_buf_str(&tx), "pilot: h1 |"));
	assert_non_null(strstr(pl_buf_str(&tx), "broad: h2 h3 |"));
	pl_buf_release(&tx);
	pl_buf_release(&ty);
	rollout_plan_free(&x);
	rollout_plan_free(&y);
	rollout_policy_free(&p);
}

/* ---- decisions ------------------------------------------------------------------------ */

static void test_decide(void **state)
{
	static const struct {
		double threshold, halt;
		size_t total, done, ok, bad;
		enum rollout_verdict want;
	} t[] = {
	    {1, 0, 1, 1, 1, 0, ROLLOUT_WAVE_SUCCEEDED},
	    {1, 0, 1, 1, 0, 1, ROLLOUT_HALT},
	    {1, 0, 4, 1, 1, 0, ROLLOUT_GO_ON},
	    {1, 0, 4, 1, 0, 1, ROLLOUT_HALT},                    /* halts mid-wave */
	    {0.95, 0.05, 20, 20, 19, 1, ROLLOUT_WAVE_SUCCEEDED}, /* 5% is not above 5% */
	    {0.95, 0.05, 20, 5, 3, 2, ROLLOUT_HALT},             /* 2 of 20 already above */
	    {0.9, 0.5, 10, 10, 8, 2, ROLLOUT_HALT},              /* too few succeeded */
	    {0.5, 0.5, 2, 2, 1, 1, ROLLOUT_WAVE_SUCCEEDED},
	    {1, 0.3, 2, 2, 1, 1, ROLLOUT_HALT},     /* the fleet test's wave */
	    {1, 1.0 / 3, 3, 3, 2, 1, ROLLOUT_HALT}, /* 1 of 3 is not above 1/3, but 2 < 3 */
	    {2.0 / 3, 1.0 / 3, 3, 3, 2, 1, ROLLOUT_WAVE_SUCCEEDED},
	    {1, 0, 3, 3, 2, 0, ROLLOUT_HALT}, /* a skipped target is no success */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct rollout_wave_rule r = {.success_threshold = t[i].threshold,
		                              .halt_failure_rate = t[i].halt};
		char why[256];
		enum rollout_verdict v = rollout_wave_decide(&r, t[i].total, t[i].done, t[i].ok,
		                                             t[i].bad, why, sizeof(why));

		if (v != t[i].want)
			fail_msg("case %zu: verdict %d, want %d (%s)", i, v, t[i].want, why);
	}
	assert_int_equal(rollout_share_count(0.1, 12), 2);
	assert_int_equal(rollout_share_count(0.1, 10), 1);
	assert_int_equal(rollout_share_count(0.3, 10), 3); /* 0.3 * 10 is 3.0000000000000004 */
	assert_int_equal(rollout_share_count(1, 7), 7);
	assert_int_equal(rollout_share_count(0.5, 0), 0);
}

/* ---- domain XML -------------------------------------------------------------------------- */

/* tests/data/rollout/domains/NAME.xml -> NAME.out: the disk found, then the
 * document with it pointed at an overlay (or the error). */
static void test_domain_xml(void **state)
{
	DIR *d = opendir(DATA "/domains");
	struct dirent *e;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		PL_AUTOFREE char *in = NULL, *outp = NULL, *xml = NULL, *dev = NULL, *path = NULL;
		PL_AUTOFREE char *format = NULL, *nxml = NULL, *dev2 = NULL, *path2 = NULL,
		                 *format2 = NULL;
		struct pl_err err = PL_ERR_INIT;
		struct pl_buf out = PL_BUF_INIT;

		if (l < 5 || strcmp(e->d_name + l - 4, ".xml") != 0)
			continue;
		in = pl_strdupf("%s/domains/%s", DATA, e->d_name);
		outp = pl_strdupf("%s/domains/%.*s.out", DATA, (int)l - 4, e->d_name);
		assert_int_equal(pl_file_read(in, &xml, NULL, &err), 0);
		if (rollout_lv_disk_find(xml, "dom", &dev, &path, &format, &err) < 0) {
			pl_buf_addf(&out, "error: %s\n", err.msg);
		} else {
			pl_buf_addf(&out, "disk %s %s %s\n", dev, path, format);
			assert_int_equal(rollout_lv_disk_set(xml, dev, "/new/overlay.qcow2",
			                                     "qcow2", &nxml, &err),
			                 0);
			/* the rewritten document reads back as the overlay */
			assert_int_equal(
			    rollout_lv_disk_find(nxml, "dom", &dev2, &path2, &format2, &err), 0);
			pl_buf_addf(&out, "after: %s %s %s\n", dev2, path2, format2);
			pl_buf_addf(&out, "backingStore left: %s\n",
			            strstr(nxml, "backingStore") ? "yes" : "no");
			pl_buf_addf(&out, "uuid kept: %s\n",
			            !strstr(xml, "<uuid>") || strstr(nxml, "<uuid>") ? "yes"
			                                                             : "no");
		}
		golden(outp, pl_buf_str(&out));
		pl_buf_release(&out);
		n++;
	}
	closedir(d);
	assert_true(n >= 5);
}

/* ---- the snapshot on real files ---------------------------------------------------------- */

/* libvirt's test driver, loaded from a node file: a domain NAME on disk
 * DISK in state (1 running, 5 shut off). Each connection gets the file's
 * state afresh, so what a call redefines is checked on the files. */
static char *snap_node(const char *dir, const char *disk, int runstate)
{
	PL_AUTOFREE char *path = pl_strdupf("%s/node.xml", dir);
	PL_AUTOFREE char *xml = pl_strdupf(
	    "<node><domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
	    "<name>t1</name><memory>65536</memory><os><type>hvm</type></os><devices>"
	    "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
	    "<source file='%s'/><target dev='vda'/></disk></devices>"
	    "<test:runstate>%d</test:runstate></domain></node>",
	    disk, runstate);
	struct pl_err err = PL_ERR_INIT;

	assert_int_equal(pl_file_write_atomic(path, xml, strlen(xml), 0644, &err), 0);
	return pl_strdupf("test://%s", path);
}

static int snap_run(const char *const *argv)
{
	struct pl_buf out = PL_BUF_INIT;
	struct pl_run_opts o = {.out = &out, .merge_stderr = 1, .timeout = 60};
	int status = -1;

	if (pl_run(argv, &o, &status, NULL) < 0)
		status = -1;
	pl_buf_release(&out);
	return status;
}

/* Prepare reads the disk; commit merges a shut-off domain's overlay into
 * its disk with qemu-img and removes it; rollback removes an overlay and
 * leaves the disk as it was. */
static void test_snapshot_files(void **state)
{
	char dir[] = "/tmp/pl-snap.XXXXXX";
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *base = NULL, *ov = NULL, *uri = NULL, *uri2 = NULL, *uri3 = NULL;
	PL_AUTOFREE char *ov2 = NULL, *pattern = NULL, *read_ok = NULL, *read_zero = NULL;
	json_t *snap = NULL;

	(void)state;
	if (!pl_have_program("qemu-img") || !pl_have_program("qemu-io"))
		skip();
	assert_non_null(mkdtemp(dir));
	base = pl_strdupf("%s/disk.qcow2", dir);
	ov = pl_strdupf("%s.patchlab-r7-t9.qcow2", base);
	pattern = pl_strdup("write -P 0xab 0 64k");
	read_ok = pl_strdup("read -P 0xab 0 64k");
	read_zero = pl_strdup("read -P 0 0 64k");
	{
		const char *mk[] = {"qemu-img", "create", "-q", "-f", "qcow2", base, "1M", NULL};

		assert_int_equal(snap_run(mk), 0);
	}
	/* prepare: nothing changes, the overlay is named after rollout and target */
	uri = snap_node(dir, base, 5);
	assert_int_equal(rollout_lv_prepare(uri, "t1", 7, 9, &snap, &err), 0);
	assert_string_equal(json_string_value(json_object_get(snap, "overlay")), ov);
	assert_string_equal(json_string_value(json_object_get(snap, "disk")), base);
	assert_string_equal(json_string_value(json_object_get(snap, "format")), "qcow2");
	assert_false(json_is_true(json_object_get(snap, "was_running")));
	assert_false(pl_path_exists(ov));
	{
		const char *mk[] = {"qemu-img", "create", "-q",    "-f", "qcow2", "-b",
		                    base,       "-F",     "qcow2", ov,   NULL};
		const char *w[] = {"qemu-io", "-f", "qcow2", "-c", pattern, ov, NULL};
		const char *r0[] = {"qemu-io", "-f", "qcow2", "-c", read_zero, base, NULL};
		const char *r1[] = {"qemu-io", "-f", "qcow2", "-c", read_ok, base, NULL};

		assert_int_equal(snap_run(mk), 0);
		assert_int_equal(snap_run(w), 0);
		assert_int_equal(snap_run(r0), 0); /* the disk untouched so far */
		/* the domain on its overlay, shut off: commit with qemu-img */
		json_object_set_new(snap, "uri", json_string(uri2 = snap_node(dir, ov, 5)));
		if (rollout_lv_commit(snap, &err) < 0)
			fail_msg("commit: %s", err.msg);
		assert_false(pl_path_exists(ov));
		assert_int_equal(snap_run(r1), 0); /* the patch is in the disk now */
	}
	/* a preparing domain already on a patchlab overlay is refused */
	json_decref(snap);
	assert_int_equal(rollout_lv_prepare(uri2, "t1", 7, 10, &snap, &err), PL_ESTATE);
	assert_null(snap);
	/* rollback of a running domain on a new overlay: the overlay goes, the
	 * disk keeps what it had */
	free(uri);
	uri = snap_node(dir, base, 1);
	assert_int_equal(rollout_lv_prepare(uri, "t1", 7, 10, &snap, &err), 0);
	assert_true(json_is_true(json_object_get(snap, "was_running")));
	ov2 = pl_strdup(json_string_value(json_object_get(snap, "overlay")));
	{
		const char *mk[] = {"qemu-img", "create", "-q",    "-f", "qcow2", "-b",
		                    base,       "-F",     "qcow2", ov2,  NULL};
		const char *w[] = {"qemu-io", "-f", "qcow2", "-c", "write -P 0xcd 0 64k",
		                   ov2,       NULL};
		const char *r1[] = {"qemu-io", "-f", "qcow2", "-c", read_ok, base, NULL};

		assert_int_equal(snap_run(mk), 0);
		assert_int_equal(snap_run(w), 0);
		json_object_set_new(snap, "uri", json_string(uri3 = snap_node(dir, ov2, 1)));
		assert_int_equal(rollout_lv_rollback(snap, &err), 0);
		assert_false(pl_path_exists(ov2));
		assert_int_equal(snap_run(r1), 0);
		/* idempotent: a second rollback (a recovered run) changes nothing */
		assert_int_equal(rollout_lv_rollback(snap, &err), 0);
	}
	json_decref(snap);
	{
		const char *rm[] = {"rm", "-rf", dir, NULL};

		snap_run(rm);
	}
}

/* ---- the state machine on a database -------------------------------------------------- */

struct fx {
	char dir[64];
	struct store *st;
};

static int fx_setup(void **state)
{
	struct fx *f = pl_calloc(1, sizeof(*f));
	struct pl_err err = PL_ERR_INIT;
	char anchor[96];

	snprintf(f->dir, sizeof(f->dir), "/tmp/pl-waves.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(anchor, sizeof(anchor), "%s/anchor.json", f->dir);
	setenv("PATCHLAB_AUDIT_ANCHOR", anchor, 1);
	setenv("PATCHLAB_ACTOR", "unit-test", 1);
	assert_int_equal(store_open(f->dir, STORE_CREATE, &f->st, &err), 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	const char *argv[] = {"rm", "-rf", f->dir, NULL};

	store_close(f->st);
	pl_run_ok(argv, NULL, NULL);
	free(f);
	return 0;
}

static void sql(struct store *st, const char *s)
{
	struct pl_err err = PL_ERR_INIT;

	if (store_exec(st, s, &err) < 0)
		fail_msg("%s: %s", s, err.msg);
}

static long sql_int(struct store *st, const char *q)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	struct pl_err err = PL_ERR_INIT;

	assert_int_equal(store_prepare(st, q, &s, &err), 0);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	return (long)sqlite3_column_int64(s, 0);
}

static char *sql_text(struct store *st, const char *q)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	struct pl_err err = PL_ERR_INIT;

	assert_int_equal(store_prepare(st, q, &s, &err), 0);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	return pl_strdup(store_col_text(s, 0));
}

/* An approved candidate "c" (rows as candidate_create and the gate leave
 * them) and hosts linked to libvirt domains nothing will ever start. */
static void fx_world(struct store *st)
{
	sql(st, "INSERT INTO candidates(name, state, created_at, updated_at) VALUES"
	        " ('c', 'approved', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z'),"
	        " ('p', 'passed', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z');"
	        "INSERT INTO hosts(name, role, environment, tags, libvirt_uri, libvirt_domain,"
	        " created_at, updated_at) VALUES"
	        " ('stg-1', 'web', 'staging', '[]', 'test:///default', 'test', 'x', 'x'),"
	        " ('stg-2', 'web', 'staging', '[]', 'test:///default', 'test', 'x', 'x'),"
	        " ('prod-1', 'web', 'production', '[]', 'test:///default', 'test', 'x', 'x'),"
	        " ('prod-2', 'db', 'production', '[]', 'test:///default', 'test', 'x', 'x');");
}

static int fx_schedule(struct store *st, const char *name, int64_t now, struct pl_err *err)
{
	struct rollout_policy p;
	struct pl_clock clk = pl_clock_fixed(now);
	struct rollout_schedule_opts o = {.clock = &clk};
	int rc;

	assert_int_equal(rollout_policy_default(&p, err), 0);
	o.policy = &p;
	rc = rollout_schedule(st, name, &o, NULL, err);
	rollout_policy_free(&p);
	return rc;
}

static int fx_run(struct store *st, int64_t now, json_t **rep, struct pl_err *err)
{
	struct pl_clock clk = pl_clock_fixed(now);
	struct rollout_run_opts o = {.clock = &clk};

	return rollout_run_due(st, &o, rep, err);
}

static char *fx_state(struct store *st)
{
	return sql_text(st, "SELECT r.state || ' ' || c.state || ' ' || (SELECT group_concat(state,"
	                    " ',') FROM (SELECT state FROM waves WHERE rollout_id = r.id ORDER BY"
	                    " seq)) FROM rollouts r JOIN candidates c ON c.id = r.candidate_id");
}

static int64_t at(const char *iso)
{
	int64_t t = 0;
	struct pl_err err = PL_ERR_INIT;

	assert_int_equal(pl_time_parse(iso, &t, &err), 0);
	return t;
}

static void test_schedule(void **state)
{
	struct fx *f = *state;
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *s = NULL, *w = NULL;
	json_t *st = NULL;
	struct audit_verify_result v;

	fx_world(f->st);
	/* not approved: refused, saying so, nothing written */
	assert_int_equal(fx_schedule(f->st, "p", at("2026-12-01T00:00:00Z"), &err), PL_ESTATE);
	assert_non_null(strstr(err.msg, "is passed, not approved"));
	assert_int_equal(sql_int(f->st, "SELECT count(*) FROM rollouts"), 0);
	assert_int_equal(fx_schedule(f->st, "nope", 0, &err), PL_ENOTFOUND);

	err = (struct pl_err)PL_ERR_INIT;
	assert_int_equal(fx_schedule(f->st, "c", at("2026-12-01T00:00:00Z"), &err), 0);
	s = fx_state(f->st);
	assert_string_equal(s, "scheduled scheduled pending,pending,pending,pending");
	w = sql_text(f->st, "SELECT group_concat(w.name || ':' || t.host || '@' || w.window_start,"
	                    " ' ') FROM (SELECT * FROM wave_targets ORDER BY id) t"
	                    " JOIN waves w ON w.id = t.wave_id");
	/* canary in the Thursday after Patch Tuesday (2026-12-10 22:00), the rest
	 * of staging on the Saturday after its soak, then pilot and broad a week
	 * apart (each after the previous window's end and soak) */
	assert_string_equal(w, "canary:stg-1@1796940000 staging:stg-2@1797040800 "
	                       "pilot:prod-1@1797645600 broad:prod-2@1798250400");
	assert_int_equal(fx_schedule(f->st, "c", at("2026-12-01T00:00:00Z"), &err), PL_ESTATE);
	assert_int_equal(rollout_status(f->st, "c", &st, &err), 0);
	assert_int_equal(json_array_size(json_object_get(st, "waves")), 4);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_array_get(json_object_get(st, "waves"), 0), "window"),
	        "start_utc")),
	    "2026-12-10T22:00:00Z");
	json_decref(st);
	assert_int_equal(audit_verify(f->st, &v, &err), 0);
}

static void test_not_due_and_reschedule(void **state)
{
	struct fx *f = *state;
	struct pl_err err = PL_ERR_INIT;
	json_t *rep = NULL;
	PL_AUTOFREE char *s1 = NULL, *s2 = NULL, *ev = NULL;
	long audits;

	fx_world(f->st);
	assert_int_equal(fx_schedule(f->st, "c", at("2026-12-01T00:00:00Z"), &err), 0);
	audits = sql_int(f->st, "SELECT count(*) FROM audit_log");
	/* before the window: nothing happens, nothing is written but the lock */
	assert_int_equal(fx_run(f->st, at("2026-12-05T00:00:00Z"), &rep, &err), 0);
	ev = json_dumps(rep, 0);
	assert_non_null(strstr(ev, "wave canary is due at 2026-12-10T22:00:00Z"));
	json_decref(rep);
	assert_int_equal(sql_int(f->st, "SELECT count(*) FROM audit_log"), audits);
	assert_int_equal(sql_int(f->st, "SELECT count(*) FROM rollouts WHERE lock_pid IS NULL"), 1);
	s1 = fx_state(f->st);
	assert_string_equal(s1, "scheduled scheduled pending,pending,pending,pending");
	/* the window passed without a run: the waves move to the next windows */
	assert_int_equal(fx_run(f->st, at("2026-12-11T02:00:00Z"), &rep, &err), 0);
	json_decref(rep);
	assert_int_equal(sql_int(f->st, "SELECT window_start FROM waves WHERE name = 'canary'"),
	                 at("2027-01-14T22:00:00Z")); /* Patch Tuesday 2027-01-12, + 2 days */
	assert_int_equal(sql_int(f->st, "SELECT window_start FROM waves WHERE name = 'staging'"),
	                 at("2027-01-16T02:00:00Z"));
	assert_int_equal(sql_int(f->st, "SELECT count(*) FROM audit_log WHERE action ="
	                                " 'reschedule'"),
	                 4);
	s2 = fx_state(f->st);
	assert_string_equal(s2, "scheduled scheduled pending,pending,pending,pending");
}

static void test_halt_resume(void **state)
{
	struct fx *f = *state;
	struct pl_err err = PL_ERR_INIT;
	struct pl_clock clk = pl_clock_fixed(at("2026-12-02T00:00:00Z"));
	json_t *rep = NULL;
	PL_AUTOFREE char *a = NULL, *b = NULL, *c = NULL, *reason = NULL;

	fx_world(f->st);
	assert_int_equal(fx_schedule(f->st, "c", at("2026-12-01T00:00:00Z"), &err), 0);
	assert_int_equal(rollout_resume(f->st, "c", "op", &clk, &err), PL_ESTATE);
	assert_int_equal(rollout_halt(f->st, "c", "change freeze", "op", &clk, &err), 0);
	a = fx_state(f->st);
	assert_string_equal(a, "halted halted pending,pending,pending,pending");
	reason = sql_text(f->st, "SELECT reason FROM rollouts");
	assert_string_equal(reason, "halted by op: change freeze");
	assert_int_equal(rollout_halt(f->st, "c", NULL, "op", &clk, &err), PL_ESTATE);
	/* a halted rollout is left alone, even in its window */
	assert_int_equal(fx_run(f->st, at("2026-12-10T22:30:00Z"), &rep, &err), 0);
	assert_int_equal(json_array_size(json_object_get(rep, "rollouts")), 0);
	json_decref(rep);
	assert_int_equal(rollout_resume(f->st, "c", "op", &clk, &err), 0);
	b = fx_state(f->st);
	assert_string_equal(b, "scheduled scheduled pending,pending,pending,pending");
	/* the candidate rejected meanwhile: run-due halts the rollout and leaves it */
	sql(f->st, "UPDATE candidates SET state = 'rejected' WHERE name = 'c'");
	assert_int_equal(fx_run(f->st, at("2026-12-05T00:00:00Z"), &rep, &err), PL_EFAIL);
	json_decref(rep);
	c = fx_state(f->st);
	assert_string_equal(c, "halted rejected pending,pending,pending,pending");
	assert_int_equal(rollout_resume(f->st, "c", "op", &clk, &err), PL_ESTATE);
	assert_non_null(strstr(err.msg, "is rejected"));
}

static void test_lock_and_recovery(void **state)
{
	struct fx *f = *state;
	struct pl_err err = PL_ERR_INIT;
	json_t *rep = NULL;
	PL_AUTOFREE char *ev = NULL, *t = NULL, *q = NULL;
	long long me_start = 0;
	char stat[64];
	PL_AUTOFREE char *text = NULL;
	const char *p;

	fx_world(f->st);
	assert_int_equal(fx_schedule(f->st, "c", at("2026-12-01T00:00:00Z"), &err), 0);
	/* a live holder (our parent, with its real start time): skipped */
	snprintf(stat, sizeof(stat), "/proc/%ld/stat", (long)getppid());
	assert_int_equal(pl_file_read(stat, &text, NULL, &err), 0);
	p = strrchr(text, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	me_start = strtoll(p + 1, NULL, 10);
	q = pl_strdupf("UPDATE rollouts SET lock_pid = %ld, lock_start = %lld", (long)getppid(),
	               me_start);
	sql(f->st, q);
	assert_int_equal(fx_run(f->st, at("2026-12-10T22:30:00Z"), &rep, &err), 0);
	ev = json_dumps(rep, 0);
	assert_non_null(strstr(ev, "is being worked on by pid"));
	json_decref(rep);
	assert_int_equal(
	    sql_int(f->st, "SELECT count(*) FROM wave_targets WHERE state = 'pending'"), 4);
	/* a dead holder that left a target running (no snapshot yet): taken over,
	 * the target made pending again, audited; then not due (before the window) */
	sql(f->st, "UPDATE rollouts SET lock_pid = 999999999, lock_start = 1;"
	           "UPDATE wave_targets SET state = 'running' WHERE host = 'stg-1'");
	assert_int_equal(fx_run(f->st, at("2026-12-05T00:00:00Z"), &rep, &err), 0);
	json_decref(rep);
	t = sql_text(f->st, "SELECT state || ' ' || detail FROM wave_targets WHERE host = 'stg-1'");
	assert_string_equal(t, "pending the run of pid 999999999 died on it before it changed "
	                       "anything: to be applied again");
	assert_int_equal(sql_int(f->st, "SELECT count(*) FROM audit_log WHERE action IN"
	                                " ('lock-takeover', 'recover')"),
	                 2);
	assert_int_equal(sql_int(f->st, "SELECT count(*) FROM rollouts WHERE lock_pid IS NULL"), 1);
}

/* A change that leaves the state alone (the post-deploy audit, a dropped
 * snapshot) keeps attempts and times; each change is audited. */
static void test_target_update(void **state)
{
	struct fx *f = *state;
	struct pl_err err = PL_ERR_INIT;
	struct pl_clock clk = pl_clock_fixed(at("2026-12-10T23:00:00Z"));
	struct rollout_waves_rows ws;
	struct rollout_target_change run = {.state = "running", .detail = "being patched"};
	struct rollout_target_change ok = {.state = "succeeded", .detail = "patched"};
	struct rollout_target_change ver = {
	    .verified = "confirmed", .verify_detail = "1.0 on disk", .action = "post-deploy-audit"};
	PL_AUTOFREE char *t = NULL;
	long audits;

	fx_world(f->st);
	assert_int_equal(fx_schedule(f->st, "c", at("2026-12-01T00:00:00Z"), &err), 0);
	assert_int_equal(rollout_waves_load(f->st, 1, &ws, &err), 0);
	audits = sql_int(f->st, "SELECT count(*) FROM audit_log");
	assert_int_equal(rollout_target_update(f->st, "c", &ws.v[0].targets[0], &run, &clk, &err),
	                 0);
	assert_int_equal(rollout_target_update(f->st, "c", &ws.v[0].targets[0], &ok, &clk, &err),
	                 0);
	assert_int_equal(rollout_target_update(f->st, "c", &ws.v[0].targets[0], &ver, &clk, &err),
	                 0);
	t = sql_text(f->st, "SELECT state || ' ' || attempts || ' ' || detail || ' ' || verified ||"
	                    " ' ' || verify_detail || ' ' || finished_at FROM wave_targets"
	                    " WHERE host = 'stg-1'");
	assert_string_equal(t, "succeeded 1 patched confirmed 1.0 on disk 2026-12-10T23:00:00Z");
	assert_int_equal(sql_int(f->st, "SELECT count(*) FROM audit_log"), audits + 3);
	assert_int_equal(sql_int(f->st, "SELECT count(*) FROM audit_log WHERE action ="
	                                " 'post-deploy-audit' AND object = 'c/stg-1'"),
	                 1);
	rollout_waves_clear(&ws);
}

/* In the window, the libvirt executor meets libvirt's test driver, whose
 * domain has no file disk: the target fails with nothing changed and the
 * canary's halt rate of 0 halts everything. */
static void test_failure_halts(void **state)
{
	struct fx *f = *state;
	struct pl_err err = PL_ERR_INIT;
	json_t *rep = NULL;
	PL_AUTOFREE char *s = NULL, *t = NULL;
	struct audit_verify_result v;

	fx_world(f->st);
	assert_int_equal(fx_schedule(f->st, "c", at("2026-12-01T00:00:00Z"), &err), 0);
	assert_int_equal(fx_run(f->st, at("2026-12-10T22:30:00Z"), &rep, &err), PL_EFAIL);
	assert_non_null(
	    strstr(err.msg, "rollout 'c' halted: wave canary: 1 of 1 target(s) failed"));
	json_decref(rep);
	s = fx_state(f->st);
	assert_string_equal(s, "halted halted failed,pending,pending,pending");
	t = sql_text(f->st, "SELECT state || ' ' || snapshot_state || ' ' || attempts FROM"
	                    " wave_targets WHERE host = 'stg-1'");
	assert_string_equal(t, "failed none 1");
	assert_int_equal(audit_verify(f->st, &v, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plans),
	    cmocka_unit_test(test_plan_order_free),
	    cmocka_unit_test(test_decide),
	    cmocka_unit_test(test_domain_xml),
	    cmocka_unit_test(test_snapshot_files),
	    cmocka_unit_test_setup_teardown(test_schedule, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_not_due_and_reschedule, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_halt_resume, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_lock_and_recovery, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_target_update, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_failure_halts, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
