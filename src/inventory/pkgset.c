/*
 * pkgset.c - a host's package list as the scan's packed set, written with
 * the list itself, and the bulk import of a directory of package lists.
 *
 * The database scan (src/detect/dbscan.c) reads a host's installed
 * packages as a blob of ids (scan_pkgsets) into the fleet's distinct
 * (name, arch, version, source, source version) tuples (scan_pkgs): 6 KB a
 * host instead of 1,500 rows of host_packages. Writing that blob here, in
 * the transaction that writes the rows, spares the first scan after an
 * import from reading the rows back (11 of its 14 s on a 10,000-host
 * fleet). The triggers on host_packages mark the host in scan_dirty; the
 * blob written, the mark is removed in the same transaction. Whatever
 * writes host_packages another way leaves the mark, and the scan rebuilds
 * that host's blob from the rows by the same rules (installed packages
 * with a version and an architecture; a missing source is the package's
 * own name, a missing source version its version).
 */
#include <dirent.h>
#include <sys/stat.h>

#include "inventory-private.h"

struct pkgset_slot {
	char *key; /* "name\tarch\tversion\tsource\tsource_version"; NULL: empty */
	uint32_t id;
};

struct inv_pkgset {
	struct store *st;
	sqlite3_stmt *find, *add, *set, *undirty;
	struct pkgset_slot *slots;
	size_t cap, n;
	unsigned char *blob;
	size_t blobcap;
};

static uint64_t pkgset_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static struct pkgset_slot *pkgset_slot(struct inv_pkgset *ps, const char *key, size_t len)
{
	size_t i = (size_t)pkgset_hash(key, len) & (ps->cap - 1);

	while (ps->slots[i].key && strcmp(ps->slots[i].key, key) != 0)
		i = (i + 1) & (ps->cap - 1);
	return &ps->slots[i];
}

static void pkgset_grow(struct inv_pkgset *ps)
{
	struct pkgset_slot *old = ps->slots;
	size_t ocap = ps->cap;

	ps->cap = ocap ? ocap * 2 : 1024;
	ps->slots = pl_calloc(ps->cap, sizeof(*ps->slots));
	for (size_t i = 0; i < ocap; i++)
		if (old[i].key)
			*pkgset_slot(ps, old[i].key, strlen(old[i].key)) = old[i];
	free(old);
}

int inv_pkgset_open(struct store *st, struct inv_pkgset **out, struct pl_err *err)
{
	struct inv_pkgset *ps = pl_calloc(1, sizeof(*ps));

	ps->st = st;
	if (store_prepare(st,
	                  "SELECT id FROM scan_pkgs WHERE name = ? AND arch = ? AND version = ?"
	                  " AND source = ? AND source_version = ?",
	                  &ps->find, err) < 0 ||
	    store_prepare(st,
	                  "INSERT INTO scan_pkgs (name, arch, version, source, source_version)"
	                  " VALUES (?, ?, ?, ?, ?)",
	                  &ps->add, err) < 0 ||
	    store_prepare(st, "INSERT OR REPLACE INTO scan_pkgsets (host_id, pkgs) VALUES (?, ?)",
	                  &ps->set, err) < 0 ||
	    store_prepare(st, "DELETE FROM scan_dirty WHERE host_id = ?", &ps->undirty, err) < 0) {
		inv_pkgset_close(ps);
		return PL_EDB;
	}
	pkgset_grow(ps);
	*out = ps;
	return 0;
}

void inv_pkgset_close(struct inv_pkgset *ps)
{
	if (!ps)
		return;
	store_stmt_finalizep(&ps->find);
	store_stmt_finalizep(&ps->add);
	store_stmt_finalizep(&ps->set);
	store_stmt_finalizep(&ps->undirty);
	for (size_t i = 0; i < ps->cap; i++)
		free(ps->slots[i].key);
	free(ps->slots);
	free(ps->blob);
	free(ps);
}

/* The scan_pkgs id of a tuple, added when new. */
static int pkgset_tuple(struct inv_pkgset *ps, const char *v[5], struct pl_buf *key, uint32_t *id,
                        struct pl_err *err)
{
	struct pkgset_slot *slot;
	sqlite3_int64 dbid;
	int rc;

	key->len = 0;
	for (int i = 0; i < 5; i++) {
		if (i)
			pl_buf_addc(key, '\t');
		pl_buf_adds(key, v[i]);
	}
	slot = pkgset_slot(ps, key->s, key->len);
	if (slot->key) {
		*id = slot->id;
		return 0;
	}
	sqlite3_reset(ps->find);
	for (int i = 0; i < 5; i++)
		sqlite3_bind_text(ps->find, i + 1, v[i], -1, SQLITE_STATIC);
	rc = sqlite3_step(ps->find);
	if (rc == SQLITE_ROW) {
		dbid = sqlite3_column_int64(ps->find, 0);
	} else if (rc == SQLITE_DONE) {
		sqlite3_reset(ps->add);
		for (int i = 0; i < 5; i++)
			sqlite3_bind_text(ps->add, i + 1, v[i], -1, SQLITE_STATIC);
		if (store_step_done(ps->st, ps->add, err) < 0)
			return err->code;
		dbid = sqlite3_last_insert_rowid(ps->st->db);
	} else {
		return store_error(ps->st, err, "reading scan_pkgs");
	}
	if (dbid <= 0 || dbid > UINT32_MAX)
		return pl_error(err, PL_EDB, "scan_pkgs: id %lld is out of range", (long long)dbid);
	if ((ps->n + 1) * 2 > ps->cap) {
		pkgset_grow(ps);
		slot = pkgset_slot(ps, key->s, key->len);
	}
	slot->key = pl_strndup(key->s, key->len);
	slot->id = *id = (uint32_t)dbid;
	ps->n++;
	return 0;
}

int inv_pkgset_write(struct inv_pkgset *ps, long host, const struct inv_pkglist *l,
                     struct pl_err *err)
{
	PL_AUTOBUF struct pl_buf key = PL_BUF_INIT;
	size_t n = 0;

	if (ps->blobcap < l->n * 4 + 1) {
		ps->blobcap = l->n * 4 + 1;
		ps->blob = pl_realloc(ps->blob, ps->blobcap);
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct inv_pkg *p = &l->pkgs[i];
		const char *v[5];
		uint32_t id = 0;

		if (!inv_pkg_scan_fields(p->name, p->arch, p->version, p->source,
		                         p->source_version, p->status, v))
			continue;
		if (pkgset_tuple(ps, v, &key, &id, err) < 0)
			return err->code;
		for (int k = 0; k < 4; k++) /* little-endian, whatever the machine */
			ps->blob[n * 4 + (size_t)k] = (unsigned char)(id >> (8 * k));
		n++;
	}
	sqlite3_reset(ps->set);
	sqlite3_bind_int64(ps->set, 1, host);
	sqlite3_bind_blob(ps->set, 2, ps->blob, (int)(n * 4), SQLITE_STATIC);
	sqlite3_reset(ps->undirty);
	sqlite3_bind_int64(ps->undirty, 1, host);
	if (store_step_done(ps->st, ps->set, err) < 0 ||
	    store_step_done(ps->st, ps->undirty, err) < 0)
		return err->code;
	return 0;
}

/* ---- a directory of package lists ------------------------------------ */

struct dir_entry {
	char *host, *path;
	int rpm;
};

static int dir_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dir_entry *)a)->host, ((const struct dir_entry *)b)->host);
}

static void dir_entries_free(struct dir_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].host);
		free(e[i].path);
	}
	free(e);
}

/* The files of dir, by host name; an unexpected file is an input error. */
static int dir_list(const char *dir, struct dir_entry **out, size_t *nout, struct pl_err *err)
{
	DIR *d = opendir(dir);
	struct dir_entry *e = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = 0;

	if (!d)
		return pl_error(err, errno == ENOENT ? PL_ENOTFOUND : PL_EIO, "%s: %s", dir,
		                strerror(errno));
	while (rc == 0 && (de = readdir(d))) {
		const char *name = de->d_name, *dot = strrchr(name, '.');
		PL_AUTOFREE char *path = NULL;
		struct stat sb;
		int rpm;

		if (name[0] == '.')
			continue;
		path = pl_strdupf("%s/%s", dir, name);
		if (stat(path, &sb) < 0) {
			rc = pl_error(err, PL_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		if (!S_ISREG(sb.st_mode))
			continue;
		if (dot && strcmp(dot, ".status") == 0)
			rpm = 0;
		else if (dot && strcmp(dot, ".rpmqa") == 0)
			rpm = 1;
		else {
			rc = pl_error(err, PL_EINVAL,
			              "%s: expected HOST.status (a dpkg status file) or HOST.rpmqa"
			              " (rpm -qa output)",
			              path);
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			e = pl_realloc(e, cap * sizeof(*e));
		}
		e[n].host = pl_strndup(name, (size_t)(dot - name));
		e[n].path = PL_STEAL(path);
		e[n].rpm = rpm;
		n++;
		if (!inv_name_ok(e[n - 1].host))
			rc = pl_error(err, PL_EINVAL, "%s: '%s' is not a host name", e[n - 1].path,
			              e[n - 1].host);
	}
	closedir(d);
	if (rc == 0 && n == 0)
		rc = pl_error(err, PL_EINVAL, "%s: no HOST.status or HOST.rpmqa files", dir);
	if (rc < 0) {
		dir_entries_free(e, n);
		return rc;
	}
	qsort(e, n, sizeof(*e), dir_entry_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(e[i - 1].host, e[i].host) == 0) {
			rc = pl_error(err, PL_EINVAL, "%s and %s: two package lists for host '%s'",
			              e[i - 1].path, e[i].path, e[i].host);
			dir_entries_free(e, n);
			return rc;
		}
	*out = e;
	*nout = n;
	return 0;
}

static int dir_load_one(const struct dir_entry *e, struct inv_pkglist *l, struct pl_err *err)
{
	PL_AUTOFREE char *buf = NULL;
	size_t len;

	if (!e->rpm)
		return inv_dpkg_load(e->path, l, err);
	if (pl_file_read(e->path, &buf, &len, err) < 0)
		return err->code;
	return inv_rpmqa_parse(buf, len, e->path, l, err);
}

int inv_packages_import_dir(struct store *st, const char *dir, const struct pl_progress *progress,
                            size_t *hosts, size_t *packages, struct pl_err *err)
{
	struct dir_entry *e = NULL;
	struct inv_pkgset *ps = NULL;
	size_t n = 0, npk = 0;
	double t0, last = 0;
	int rc;

	if (dir_list(dir, &e, &n, err) < 0)
		return err->code;
	t0 = pl_progress_begin(progress, "import", "%zu package lists from %s", n, dir);
	/* a bulk write: the indexes of host_packages take inserts all over
	 * (by name); SQLite's default 2 MB cache would spill them to the WAL
	 * again and again */
	rc = store_exec(st, "PRAGMA cache_size = -131072", err);
	if (rc == 0)
		rc = store_begin(st, err);
	if (rc == 0)
		rc = inv_pkgset_open(st, &ps, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct inv_pkglist l = INV_PKGLIST_INIT;
		long id = 0;

		rc = inv_host_id(st, e[i].host, &id, err);
		if (rc == 0)
			rc = pl_error(err, PL_ENOTFOUND, "%s: no host named '%s' (see 'patchlab inventory list')",
			              e[i].path, e[i].host);
		if (rc > 0)
			rc = dir_load_one(&e[i], &l, err);
		if (rc == 0 && (inv_packages_write_set(st, ps, id, &l, err) < 0 ||
		                inv_audit(st, "packages", e[i].host,
		                          json_pack("{s:I, s:s}", "packages", (json_int_t)l.n,
		                                    "file", e[i].path),
		                          err) < 0))
			rc = pl_error_prefix(err, "%s", e[i].path);
		npk += l.n;
		inv_pkglist_free(&l);
		if (rc == 0 && progress && progress->stage && pl_monotonic() - last >= 1) {
			char msg[96];

			last = pl_monotonic();
			snprintf(msg, sizeof(msg), "%zu of %zu hosts, %zu packages", i + 1, n, npk);
			progress->stage(progress->ctx, "import", msg);
		}
	}
	inv_pkgset_close(ps);
	rc = store_end(st, rc, err);
	store_exec(st, "PRAGMA cache_size = -2000", NULL);
	pl_progress_end(progress, "import", rc, t0);
	dir_entries_free(e, n);
	if (rc == 0) {
		*hosts = n;
		*packages = npk;
	}
	return rc;
}
