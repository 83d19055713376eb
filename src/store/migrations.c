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

	/* 2: golden images and lab runs (issue 3) */
	"CREATE TABLE images ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  origin TEXT NOT NULL CHECK (origin IN ('built', 'imported')),"
	"  path TEXT NOT NULL,"
	"  format TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL,"
	"  size_bytes INTEGER NOT NULL,"
	"  manifest_path TEXT,"
	"  manifest_sha256 TEXT,"
	"  distro TEXT, version TEXT, arch TEXT, hostname TEXT, root_uuid TEXT,"
	"  kernel_version TEXT, kernel_path TEXT, initrd_path TEXT,"
	"  boot_marker INTEGER NOT NULL DEFAULT 0,"
	"  inspection TEXT NOT NULL,"
	"  created_at TEXT NOT NULL"
	");"
	"CREATE TABLE image_packages ("
	"  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  arch TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  source_version TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  PRIMARY KEY (image_id, name, arch)"
	");"
	"CREATE TABLE lab_runs ("
	"  id TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  image_id INTEGER REFERENCES images(id) ON DELETE SET NULL,"
	"  uri TEXT NOT NULL,"
	"  pid INTEGER NOT NULL,"
	"  pid_start INTEGER NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('running', 'passed', 'failed', 'error',"
	"    'aborted')),"
	"  started_at TEXT NOT NULL,"
	"  ended_at TEXT,"
	"  result TEXT"
	");"
	"CREATE TABLE lab_objects ("
	"  run_id TEXT NOT NULL REFERENCES lab_runs(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('domain', 'network', 'volume', 'pool', 'dir')),"
	"  name TEXT NOT NULL,"
	"  created_at TEXT NOT NULL,"
	"  removed_at TEXT,"
	"  PRIMARY KEY (run_id, kind, name)"
	");",
};

const int store_migrations_count = (int)(sizeof(store_migrations) / sizeof(store_migrations[0]));
