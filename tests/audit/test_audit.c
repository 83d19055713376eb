/*
 * test_audit.c - the audit log's chain, its anchor, what verify detects
 * (every column changed, rows removed or replaced, the tail truncated or
 * rewritten) and the entries candidate state changes write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit/audit.h"
#include "candidate/candidate.h"

struct fx {
	char dir[64];
	struct store *st;
};

static int setup(void **state)
{
	struct fx *f = pl_calloc(1, sizeof(*f));
	struct pl_err err = PL_ERR_INIT;

	snprintf(f->dir, sizeof(f->dir), "/tmp/pl-test-audit-XXXXXX");
	if (!mkdtemp(f->dir) || store_open(f->dir, STORE_CREATE, &f->st, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	unsetenv("PATCHLAB_AUDIT_ANCHOR");
	setenv("PATCHLAB_ACTOR", "tester", 1);
	setenv("PATCHLAB_NOW", "2026-12-08T10:00:00Z", 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	const char *argv[] = {"rm", "-rf", f->dir, NULL};

	store_close(f->st);
	pl_run_ok(argv, NULL, NULL);
	free(f);
	unsetenv("PATCHLAB_NOW");
	return 0;
}

static void exec_ok(struct store *st, const char *sql)
{
	struct pl_err err = PL_ERR_INIT;

	if (store_exec(st, sql, &err) < 0)
		fail_msg("%s: %s", sql, err.msg);
}

static void append3(struct store *st)
{
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOJSON json_t *d = json_pack("{s:s, s:i}", "to", "testing", "n", 1);

	assert_int_equal(audit_append(st, NULL, "create", "candidate", "a", NULL, &err), 0);
	assert_int_equal(audit_append(st, "bob", "set-state", "candidate", "a", d, &err), 0);
	assert_int_equal(audit_append(st, NULL, "create", "candidate", "b", NULL, &err), 0);
}

/* verify fails with PL_EFAIL at seq, its reason containing why. */
static void verify_fails(struct store *st, int64_t seq, const char *why)
{
	struct audit_verify_result r;
	struct pl_err err = PL_ERR_INIT;
	int rc = audit_verify(st, &r, &err);

	if (rc != PL_EFAIL || r.first_bad != seq || !strstr(r.reason, why))
		fail_msg("verify: rc %d, first bad %lld, '%s'; want seq %lld, '%s'", rc,
		         (long long)r.first_bad, err.msg, (long long)seq, why);
	assert_non_null(strstr(err.msg, why));
}

static void verify_ok(struct store *st, int64_t entries)
{
	struct audit_verify_result r;
	struct pl_err err = PL_ERR_INIT;

	if (audit_verify(st, &r, &err) != 0)
		fail_msg("verify: %s", err.msg);
	assert_int_equal(r.entries, entries);
	assert_int_equal(r.first_bad, 0);
}

static void test_hash_known_answer(void **state)
{
	/* from Python's hashlib over the same encoding */
	struct audit_entry e = {1,
	                        (char *)"2026-12-08T10:00:00Z",
	                        (char *)"alice",
	                        (char *)"create",
	                        (char *)"candidate",
	                        (char *)"sec-1",
	                        (char *)"{\"state\":\"new\"}",
	                        (char *)AUDIT_GENESIS,
	                        NULL};
	char h[65];

	(void)state;
	audit_entry_hash(&e, h);
	assert_string_equal(h, "a99cfef14967792c32ae27bc3a517f96e055804acc3105ae6d9cacaa764a12a8");
	e = (struct audit_entry){
	    2,
	    (char *)"2026-12-08T10:00:01Z",
	    (char *)"bob",
	    (char *)"set-state",
	    (char *)"candidate",
	    (char *)"sec-1",
	    (char *)"{\"from\":\"new\",\"to\":\"testing\"}",
	    (char *)"a99cfef14967792c32ae27bc3a517f96e055804acc3105ae6d9cacaa764a12a8",
	    NULL};
	audit_entry_hash(&e, h);
	assert_string_equal(h, "2b92ab295ba35470130fafed415ed3561b5a7599ffbfad26135c4c1e39baadfe");
	/* length prefixes: moving a character between fields changes the hash */
	e.action = (char *)"set-stat";
	e.kind = (char *)"ecandidate";
	{
		char h2[65];

		audit_entry_hash(&e, h2);
		assert_string_not_equal(h, h2);
	}
}

static void test_append_and_list(void **state)
{
	struct fx *f = *state;
	struct pl_err err = PL_ERR_INIT;
	struct audit_filter flt = {NULL, "a", NULL};
	json_t *arr = NULL, *e;

	verify_ok(f->st, 0); /* empty and no anchor: intact */
	append3(f->st);
	verify_ok(f->st, 3);
	assert_int_equal(audit_list(f->st, NULL, &arr, &err), 0);
	assert_int_equal(json_array_size(arr), 3);
	e = json_array_get(arr, 1);
	assert_int_equal(json_integer_value(json_object_get(e, "seq")), 2);
	assert_string_equal(json_string_value(json_object_get(e, "actor")), "bob");
	assert_string_equal(json_string_value(json_object_get(e, "at")), "2026-12-08T10:00:00Z");
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "detail"), "to")),
	                    "testing");
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "actor")),
	                    "tester");
	json_decref(arr);
	assert_int_equal(audit_list(f->st, &flt, &arr, &err), 0);
	assert_int_equal(json_array_size(arr), 2);
	json_decref(arr);
	flt = (struct audit_filter){"2026-12-09", NULL, NULL};
	assert_int_equal(audit_list(f->st, &flt, &arr, &err), 0);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	flt = (struct audit_filter){"yesterday", NULL, NULL};
	assert_int_equal(audit_list(f->st, &flt, &arr, &err), PL_EINVAL);
	assert_non_null(strstr(err.msg, "--since"));
}

static void test_anchor(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result r;
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *path = audit_anchor_path(f->st);
	PL_AUTOFREE char *text = NULL;
	size_t len;

	append3(f->st);
	assert_int_equal(pl_file_read(path, &text, &len, &err), 0);
	assert_non_null(strstr(text, "\"seq\": 3"));
	assert_int_equal(audit_verify(f->st, &r, &err), 0);
	assert_true(r.anchored);
	assert_int_equal(r.anchor_seq, 3);
	assert_string_equal(r.anchor_hash, r.head);
	/* elsewhere when asked */
	{
		PL_AUTOFREE char *other = pl_strdupf("%s/elsewhere.json", f->dir);

		setenv("PATCHLAB_AUDIT_ANCHOR", other, 1);
		verify_fails(f->st, 3, "is missing");
		assert_int_equal(audit_append(f->st, NULL, "x", "y", "z", NULL, &err), 0);
		verify_ok(f->st, 4);
		assert_true(pl_path_exists(other));
		unsetenv("PATCHLAB_AUDIT_ANCHOR");
	}
	/* the anchor in the state directory now lags behind: still intact */
	verify_ok(f->st, 4);
	unlink(path);
	verify_fails(f->st, 4, "the anchor");
}

/* Inside the caller's transaction: the entry lives and dies with it, and
 * the anchor moves only when it commits. */
static void test_caller_transaction(void **state)
{
	struct fx *f = *state;
	struct audit_verify_result r;
	struct pl_err err = PL_ERR_INIT;

	append3(f->st);
	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(audit_append(f->st, NULL, "create", "candidate", "c", NULL, &err), 0);
	assert_int_equal(audit_append(f->st, NULL, "create", "candidate", "d", NULL, &err), 0);
	store_rollback(f->st);
	verify_ok(f->st, 3);
	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(audit_append(f->st, NULL, "create", "candidate", "c", NULL, &err), 0);
	assert_int_equal(audit_append(f->st, NULL, "create", "candidate", "d", NULL, &err), 0);
	assert_int_equal(store_commit(f->st, &err), 0);
	assert_int_equal(audit_verify(f->st, &r, &err), 0);
	assert_int_equal(r.entries, 5);
	assert_int_equal(r.anchor_seq, 5);
}

static void test_triggers(void **state)
{
	struct fx *f = *state;
	struct pl_err err = PL_ERR_INIT;

	append3(f->st);
	assert_int_equal(store_exec(f->st, "UPDATE audit_log SET actor = 'eve'", &err), PL_EDB);
	assert_non_null(strstr(err.msg, "append-only"));
	assert_int_equal(store_exec(f->st, "DELETE FROM audit_log WHERE seq = 3", &err), PL_EDB);
	assert_non_null(strstr(err.msg, "append-only"));
	verify_ok(f->st, 3);
}

/* A change to any column of a middle row is found, and found there. */
static void test_every_column(void **state)
{
	static const char *const cols[] = {"at",     "actor",  "action",    "object_kind",
	                                   "object", "detail", "prev_hash", "hash"};
	struct fx *f = *state;

	append3(f->st);
	exec_ok(f->st, "DROP TRIGGER audit_log_no_update");
	exec_ok(f->st, "CREATE TABLE saved AS SELECT * FROM audit_log");
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		PL_AUTOFREE char *edit = pl_strdupf(
		    "UPDATE audit_log SET %s = %s || ' ' WHERE seq = 2", cols[i], cols[i]);
		PL_AUTOFREE char *undo = pl_strdupf(
		    "UPDATE audit_log SET %s = (SELECT %s FROM saved WHERE seq = 2) WHERE seq = 2",
		    cols[i], cols[i]);

		exec_ok(f->st, edit);
		verify_fails(f->st, 2,
		             strcmp(cols[i], "prev_hash") == 0 ? "prev_hash mismatch"
		                                               : "hash mismatch");
		exec_ok(f->st, undo);
		verify_ok(f->st, 3);
	}
	exec_ok(f->st, "UPDATE audit_log SET seq = 7 WHERE seq = 2");
	verify_fails(f->st, 2, "row 2 is missing");
}

/* A row replaced with a correctly recomputed hash breaks the next link. */
static void test_replaced_row(void **state)
{
	struct fx *f = *state;
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	struct audit_entry e = {0};
	char h[65];

	append3(f->st);
	exec_ok(f->st, "DROP TRIGGER audit_log_no_update");
	assert_int_equal(store_prepare(f->st,
	                               "SELECT at, actor, action, object_kind, object, prev_hash"
	                               " FROM audit_log WHERE seq = 2",
	                               &s, &err),
	                 0);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	e = (struct audit_entry){2,
	                         pl_strdup(store_col_text(s, 0)),
	                         pl_strdup("mallory"),
	                         pl_strdup(store_col_text(s, 2)),
	                         pl_strdup(store_col_text(s, 3)),
	                         pl_strdup(store_col_text(s, 4)),
	                         pl_strdup("{}"),
	                         pl_strdup(store_col_text(s, 5)),
	                         NULL};
	audit_entry_hash(&e, h);
	{
		PL_AUTOFREE char *sql =
		    pl_strdupf("UPDATE audit_log SET actor = 'mallory', detail ="
		               " '{}', hash = '%s' WHERE seq = 2",
		               h);

		exec_ok(f->st, sql);
	}
	audit_entry_clear(&e);
	verify_fails(f->st, 3, "prev_hash mismatch");
}

static void test_removed_rows(void **state)
{
	struct fx *f = *state;
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *path = audit_anchor_path(f->st);
	PL_AUTOFREE char *before = NULL;
	PL_AUTOFREE char *after = NULL;
	size_t len;

	append3(f->st);
	assert_int_equal(audit_append(f->st, NULL, "create", "candidate", "c", NULL, &err), 0);
	exec_ok(f->st, "DROP TRIGGER audit_log_no_delete");
	exec_ok(f->st, "CREATE TABLE saved AS SELECT * FROM audit_log");
	exec_ok(f->st, "DELETE FROM audit_log WHERE seq = 2");
	verify_fails(f->st, 2, "row 2 is missing (gap in seq: 3 follows 1)");
	exec_ok(f->st, "INSERT INTO audit_log SELECT * FROM saved WHERE seq = 2");
	verify_ok(f->st, 4);
	/* the newest row: the chain alone is still valid, the anchor says no */
	exec_ok(f->st, "DELETE FROM audit_log WHERE seq = 4");
	verify_fails(f->st, 4, "tail truncated: the anchor names row 4, the log ends at 3");
	/* new rows after it do not move the anchor past the rewritten row */
	assert_int_equal(pl_file_read(path, &before, &len, &err), 0);
	assert_int_equal(audit_append(f->st, NULL, "create", "candidate", "x", NULL, &err), 0);
	assert_int_equal(audit_append(f->st, NULL, "create", "candidate", "y", NULL, &err), 0);
	assert_int_equal(pl_file_read(path, &after, &len, &err), 0);
	assert_string_equal(before, after);
	verify_fails(f->st, 4, "anchor mismatch");
	/* everything */
	exec_ok(f->st, "DELETE FROM audit_log");
	verify_fails(f->st, 1, "tail truncated");
	exec_ok(f->st, "DROP TABLE audit_log");
	verify_fails(f->st, 1, "the audit_log table is missing");
}

static void test_actor(void **state)
{
	struct fx *f = *state;
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOFREE char *a = audit_actor("carol");
	PL_AUTOFREE char *b = audit_actor(NULL);
	PL_AUTOFREE char *c = NULL;

	assert_string_equal(a, "carol");
	assert_string_equal(b, "tester");
	unsetenv("PATCHLAB_ACTOR");
	c = audit_actor(NULL);
	assert_true(strlen(c) > 0); /* the login name, or uid:N */
	assert_int_equal(audit_append(f->st, "bad\nactor", "create", "candidate", "a", NULL, &err),
	                 PL_EINVAL);
	assert_non_null(strstr(err.msg, "actor"));
	setenv("PATCHLAB_ACTOR", "tester", 1);
	verify_ok(f->st, 0);
}

/* Candidate state changes write their entries, in their transaction. */
static void test_candidate_states(void **state)
{
	struct fx *f = *state;
	struct pl_err err = PL_ERR_INIT;
	struct audit_filter flt = {NULL, "sec-1", "candidate"};
	struct candidate c;
	json_t *arr = NULL, *d;

	exec_ok(f->st, "INSERT INTO candidates(name, state, created_at, updated_at) VALUES"
	               " ('sec-1', 'new', '2026-12-08T09:00:00Z', '2026-12-08T09:00:00Z')");
	assert_int_equal(candidate_get(f->st, "sec-1", &c, &err), 0);
	assert_int_equal(candidate_set_state(f->st, &c, "testing", &err), 0);
	assert_int_equal(candidate_set_state(f->st, &c, "approved", &err), PL_ESTATE);
	assert_int_equal(candidate_set_state(f->st, &c, "passed", &err), 0);
	/* in a transaction that rolls back: neither the change nor the entry */
	assert_int_equal(store_begin(f->st, &err), 0);
	assert_int_equal(candidate_set_state(f->st, &c, "approved", &err), 0);
	store_rollback(f->st);
	candidate_clear(&c);
	assert_int_equal(candidate_get(f->st, "sec-1", &c, &err), 0);
	assert_string_equal(c.state, "passed");
	candidate_clear(&c);
	assert_int_equal(audit_list(f->st, &flt, &arr, &err), 0);
	assert_int_equal(json_array_size(arr), 2);
	d = json_object_get(json_array_get(arr, 1), "detail");
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "action")),
	                    "set-state");
	assert_string_equal(json_string_value(json_object_get(d, "from")), "testing");
	assert_string_equal(json_string_value(json_object_get(d, "to")), "passed");
	json_decref(arr);
	verify_ok(f->st, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_known_answer),
	    cmocka_unit_test_setup_teardown(test_append_and_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_anchor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_caller_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_triggers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_column, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replaced_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_removed_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_actor, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_candidate_states, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
