/* test_store.c - the SQLite state: creation, migrations, refusal, transactions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = pl_calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/pl-test-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = {STORE_DB_NAME, STORE_DB_NAME "-wal",
					    STORE_DB_NAME "-shm"};

	for (size_t i = 0; i < 3; i++) {
		PL_AUTOFREE char *p = pl_path_join(f->dir, names[i]);

		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void test_missing_state_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct pl_err err = PL_ERR_INIT;
	struct store *st = NULL;

	assert_int_equal(store_open(f->dir, 0, &st, &err), PL_ENOTFOUND);
	assert_null(st);
	assert_non_null(strstr(err.msg, "patchlab init"));
}

static void test_create_migrates_and_reopens(void **state)
{
	struct fixture *f = *state;
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOSTORE struct store *st = NULL;
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int v = -1;

	assert_int_equal(store_open(f->dir, STORE_CREATE, &st, &err), 0);
	assert_int_equal(store_schema_version(st, &v, &err), 0);
	assert_int_equal(v, store_schema_latest());
	assert_int_equal(store_prepare(st, "PRAGMA journal_mode", &s, &err), 0);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal(store_col_text(s, 0), "wal");
	sqlite3_finalize(PL_STEAL(s));
	assert_int_equal(store_prepare(st, "PRAGMA foreign_keys", &s, &err), 0);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 1);
	sqlite3_finalize(PL_STEAL(s));
	store_close(PL_STEAL(st));
	/* reopening is idempotent: no migration runs twice */
	assert_int_equal(store_open(f->dir, STORE_CREATE, &st, &err), 0);
	assert_int_equal(store_prepare(st, "SELECT count(*) FROM schema_version", &s, &err), 0);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), store_schema_latest());
}

static void test_newer_schema_is_refused(void **state)
{
	struct fixture *f = *state;
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOSTORE struct store *st = NULL;
	PL_AUTOFREE char *sql = NULL;

	assert_int_equal(store_open(f->dir, STORE_CREATE, &st, &err), 0);
	sql = pl_strdupf("INSERT INTO schema_version(version) VALUES (%d)",
			 store_schema_latest() + 1);
	assert_int_equal(store_exec(st, sql, &err), 0);
	store_close(PL_STEAL(st));
	assert_int_equal(store_open(f->dir, 0, &st, &err), PL_ESTATE);
	assert_null(st);
	assert_non_null(strstr(err.msg, "newer than this patchlab knows"));
	assert_int_equal(store_open(f->dir, STORE_READONLY, &st, &err), PL_ESTATE);
}

static void test_transaction_rollback_loses_nothing(void **state)
{
	struct fixture *f = *state;
	struct pl_err err = PL_ERR_INIT;
	PL_AUTOSTORE struct store *st = NULL;
	PL_AUTOFREE char *v = NULL;

	assert_int_equal(store_open(f->dir, STORE_CREATE, &st, &err), 0);
	assert_int_equal(store_setting_set(st, "k", "before", &err), 0);
	assert_int_equal(store_begin(st, &err), 0);
	assert_int_equal(store_setting_set(st, "k", "during", &err), 0);
	assert_int_equal(store_setting_set(st, "k2", "x", &err), 0);
	store_rollback(st);
	assert_int_equal(store_setting_get(st, "k", &v, &err), 0);
	assert_string_equal(v, "before");
	free(PL_STEAL(v));
	assert_int_equal(store_setting_get(st, "k2", &v, &err), PL_ENOTFOUND);
	/* a failing statement inside a transaction reports SQLite's message */
	assert_int_equal(store_exec(st, "INSERT INTO nosuchtable VALUES (1)", &err), PL_EDB);
	assert_non_null(strstr(err.msg, "nosuchtable"));
}

static void test_corrupt_database_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct pl_err err = PL_ERR_INIT;
	struct store *st = NULL;
	PL_AUTOFREE char *db = pl_path_join(f->dir, STORE_DB_NAME);

	assert_int_equal(pl_file_write_atomic(db, "this is not a database, just text........"
						  "................................................",
					      90, 0600, &err),
			 0);
	assert_true(store_open(f->dir, 0, &st, &err) < 0);
	assert_null(st);
	assert_non_null(strstr(err.msg, db));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_state_is_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_migrates_and_reopens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_rollback_loses_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_database_is_an_error, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
