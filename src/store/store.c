/* store.c - opening, migrating and transacting on patchlab.db. */
#include "store-private.h"

#include <sys/stat.h>

/* Long enough for a lab run to finish a write burst while a report reads. */
#define STORE_BUSY_TIMEOUT_MS 10000

int store_error(struct store *st, struct pl_err *err, const char *what)
{
	return pl_error(err, PL_EDB, "%s: %s", what, sqlite3_errmsg(st->db));
}

void store_stmt_finalizep(sqlite3_stmt **s)
{
	sqlite3_finalize(*s);
	*s = NULL;
}

const char *store_col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? (const char *)t : "";
}

const char *store_col_opt(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NULL : store_col_text(s, i);
}

char *store_col_dup(sqlite3_stmt *s, int i)
{
	const char *t = store_col_opt(s, i);

	return t ? pl_strdup(t) : NULL;
}

json_t *store_col_json(sqlite3_stmt *s, int i)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_NULL:
		return json_null();
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(s, i));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(s, i));
	default:
		return json_string(store_col_text(s, i));
	}
}

int store_exec(struct store *st, const char *sql, struct pl_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		pl_error(err, PL_EDB, "%s", msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return PL_EDB;
	}
	return 0;
}

int store_end(struct store *st, int rc, struct pl_err *err)
{
	if (rc == 0)
		rc = store_commit(st, err);
	if (rc < 0)
		store_rollback(st);
	return rc;
}

int store_prepare(struct store *st, const char *sql, sqlite3_stmt **out, struct pl_err *err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK)
		return store_error(st, err, "preparing a query");
	return 0;
}

int store_step_done(struct store *st, sqlite3_stmt *stmt, struct pl_err *err)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_CONSTRAINT)
		return pl_error(err, PL_EEXIST, "%s", sqlite3_errmsg(st->db));
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_error(st, err, "writing");
	return 0;
}

int store_begin(struct store *st, struct pl_err *err)
{
	return store_exec(st, "BEGIN IMMEDIATE", err);
}

int store_commit(struct store *st, struct pl_err *err)
{
	return store_exec(st, "COMMIT", err);
}

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_schema_latest(void)
{
	return store_migrations_count;
}

int store_schema_version(struct store *st, int *out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;

	if (store_prepare(st, "SELECT coalesce(max(version), 0) FROM schema_version", &s, err) < 0)
		return PL_EDB;
	if (sqlite3_step(s) != SQLITE_ROW)
		return store_error(st, err, "reading the schema version");
	*out = sqlite3_column_int(s, 0);
	return 0;
}

static int store_migrate(struct store *st, struct pl_err *err)
{
	int have = 0;

	if (store_exec(st,
		       "CREATE TABLE IF NOT EXISTS schema_version ("
		       "  version INTEGER PRIMARY KEY,"
		       "  applied_at TEXT NOT NULL DEFAULT "
		       "    (strftime('%Y-%m-%dT%H:%M:%SZ','now')))",
		       err) < 0)
		return PL_EDB;
	if (store_schema_version(st, &have, err) < 0)
		return PL_EDB;
	if (have > store_migrations_count)
		return pl_error(err, PL_ESTATE,
				"database '%s' has schema version %d, newer than this patchlab "
				"knows (%d): use a newer patchlab",
				st->path, have, store_migrations_count);
	for (int v = have + 1; v <= store_migrations_count; v++) {
		PL_AUTOSTMT sqlite3_stmt *ins = NULL;

		if (store_begin(st, err) < 0)
			return PL_EDB;
		if (store_exec(st, store_migrations[v - 1], err) < 0 ||
		    store_prepare(st, "INSERT INTO schema_version(version) VALUES (?)", &ins,
				  err) < 0 ||
		    sqlite3_bind_int(ins, 1, v) != SQLITE_OK ||
		    store_step_done(st, ins, err) < 0 || store_commit(st, err) < 0) {
			store_rollback(st);
			return pl_error_prefix(err, "migrating '%s' to schema version %d",
					       st->path, v);
		}
	}
	return 0;
}

static int store_configure(struct store *st, unsigned flags, struct pl_err *err)
{
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(st->db, 0);
	if (store_exec(st, "PRAGMA foreign_keys = ON", err) < 0)
		return PL_EDB;
	if (!(flags & STORE_READONLY) &&
	    store_exec(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", err) < 0)
		return PL_EDB;
	return 0;
}

int store_open(const char *dir, unsigned flags, struct store **out, struct pl_err *err)
{
	struct store *st;
	int oflags = (flags & STORE_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	int rc;

	/* 0711: the lab's QEMU (its own user) must reach images and runs */
	if ((flags & STORE_CREATE) && pl_mkdir_p(dir, 0711, err) < 0)
		return pl_error_prefix(err, "state directory");
	st = pl_calloc(1, sizeof(*st));
	st->dir = pl_strdup(dir);
	st->path = pl_path_join(dir, STORE_DB_NAME);
	if (flags & STORE_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	else if (!pl_path_exists(st->path)) {
		rc = pl_error(err, PL_ENOTFOUND,
			      "no patchlab state in '%s': run 'patchlab init' first", dir);
		store_close(st);
		return rc;
	}
	if (sqlite3_open_v2(st->path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = pl_error(err, PL_EENV, "cannot open '%s': %s", st->path,
			      st->db ? sqlite3_errmsg(st->db) : "out of memory");
		store_close(st);
		return rc;
	}
	if (flags & STORE_CREATE)
		chmod(st->path, 0600); /* the database is for patchlab alone */
	rc = store_configure(st, flags, err);
	if (rc == 0 && !(flags & STORE_READONLY))
		rc = store_migrate(st, err);
	if (rc == 0 && (flags & STORE_READONLY)) {
		int v;

		rc = store_schema_version(st, &v, err);
		if (rc == 0 && v > store_migrations_count)
			rc = pl_error(err, PL_ESTATE,
				      "database '%s' has schema version %d, newer than this "
				      "patchlab knows (%d): use a newer patchlab",
				      st->path, v, store_migrations_count);
	}
	if (rc < 0) {
		if (err && err->code == PL_EDB)
			pl_error_prefix(err, "database '%s'", st->path);
		store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_close_v2(st->db);
	free(st->dir);
	free(st->path);
	free(st);
}

void store_closep(struct store **st)
{
	store_close(*st);
	*st = NULL;
}

int store_setting_get(struct store *st, const char *key, char **out, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, "SELECT value FROM settings WHERE key = ?", &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return pl_error(err, PL_ENOTFOUND, "setting '%s' is not set", key);
	if (rc != SQLITE_ROW)
		return store_error(st, err, "reading settings");
	*out = pl_strdup(store_col_text(s, 0));
	return 0;
}

int store_setting_set(struct store *st, const char *key, const char *value, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;

	if (store_prepare(st,
			  "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO "
			  "UPDATE SET value = excluded.value, updated_at = "
			  "strftime('%Y-%m-%dT%H:%M:%SZ','now')",
			  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	return store_step_done(st, s, err);
}
