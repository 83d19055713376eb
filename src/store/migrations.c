/*
 * migrations.c - the ordered schema of patchlab.db.
 *
 * Append only: a released migration is never edited, a change is a new
 * entry. Each runs in the transaction that records its version.
 */
#include "store-private.h"

const char *const store_migrations[] = {
	/* 1: foundation */
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL,"
	"  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))"
	");",
};

const int store_migrations_count = (int)(sizeof(store_migrations) / sizeof(store_migrations[0]));
