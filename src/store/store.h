/*
 * store.h - patchlab's state: one SQLite database in the state directory.
 *
 * Owns: opening the database (WAL, foreign keys, busy timeout), the ordered
 * schema migrations and the schema_version table, transactions, and the
 * layout of the state directory (patchlab.db plus artefact folders).
 * Does not own: the meaning of rows; each pipeline module writes its own
 * queries through the helpers here, always with bound parameters.
 */
#ifndef PL_STORE_H
#define PL_STORE_H

#include <sqlite3.h>

#include "core/core.h"

#define STORE_DB_NAME "patchlab.db"

struct store {
	sqlite3 *db;
	char *dir;  /* the state directory (owned) */
	char *path; /* dir/patchlab.db (owned) */
};

enum store_open_flags {
	STORE_CREATE = 1 << 0, /* create the directory and database if missing */
	STORE_READONLY = 1 << 1
};

/* Opens (and with STORE_CREATE creates and migrates) the state in dir.
 * A missing state is PL_ENOTFOUND; a newer schema than this binary knows is
 * refused with PL_ESTATE. *out is owned by the caller: store_close() it. */
int store_open(const char *dir, unsigned flags, struct store **out, struct pl_err *err);

/* Closes the database and frees st (NULL is fine). */
void store_close(struct store *st);
void store_closep(struct store **st);
#define PL_AUTOSTORE __attribute__((cleanup(store_closep)))

/* The schema version this binary writes, and the one the database has. */
int store_schema_latest(void);
int store_schema_version(struct store *st, int *out, struct pl_err *err);

/* Transactions: begin IMMEDIATE so writers serialise up front. Rollback
 * never fails in a way the caller can act on, so it returns nothing. */
int store_begin(struct store *st, struct pl_err *err);
int store_commit(struct store *st, struct pl_err *err);
void store_rollback(struct store *st);
/* Ends a transaction by its result: commits when rc is 0, else rolls
 * back; returns rc, or the commit's error. */
int store_end(struct store *st, int rc, struct pl_err *err);

/* Runs SQL without results (several statements allowed). */
int store_exec(struct store *st, const char *sql, struct pl_err *err);

/* Prepares one statement; on failure the message quotes SQLite's. */
int store_prepare(struct store *st, const char *sql, sqlite3_stmt **out, struct pl_err *err);

/* Steps a statement expected to finish (INSERT/UPDATE/DELETE). */
int store_step_done(struct store *st, sqlite3_stmt *stmt, struct pl_err *err);

/* Records SQLite's current error as PL_EDB with a context string. */
int store_error(struct store *st, struct pl_err *err, const char *what);

/* Reads and writes the settings table (key -> text value). get returns
 * PL_ENOTFOUND when the key is unset; *out is the caller's to free. */
int store_setting_get(struct store *st, const char *key, char **out, struct pl_err *err);
int store_setting_set(struct store *st, const char *key, const char *value, struct pl_err *err);

void store_stmt_finalizep(sqlite3_stmt **s);
#define PL_AUTOSTMT __attribute__((cleanup(store_stmt_finalizep)))

/* Text of column i, never NULL ("" for NULL). */
const char *store_col_text(sqlite3_stmt *s, int i);

/* Text of column i, NULL for SQL NULL; store_col_dup a copy of it (the
 * caller's), NULL for SQL NULL. */
const char *store_col_opt(sqlite3_stmt *s, int i);
char *store_col_dup(sqlite3_stmt *s, int i);

/* Column i as JSON of its own type: null, an integer, a real or a string
 * (a new reference). */
json_t *store_col_json(sqlite3_stmt *s, int i);

#endif
