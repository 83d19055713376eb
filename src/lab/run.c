/*
 * run.c - the libvirt connection, lab runs and the objects they own, gc.
 *
 * Every object a run creates is first recorded in lab_objects, then
 * created; so a run killed at any instant leaves nothing that 'lab gc'
 * cannot find. A run is dead when its controlling process is gone (pid and
 * start time from /proc, so a reused pid does not count as alive).
 */
#include "lab.h"

#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>

static void lab_virt_silent(void *opaque, virErrorPtr e)
{
	(void)opaque, (void)e; /* errors are fetched and reported by the caller */
}

void lab_conn_closep(virConnectPtr *c)
{
	if (*c)
		virConnectClose(*c);
	*c = NULL;
}

char *lab_uri(const char *uri)
{
	const char *env = getenv("PATCHLAB_LIBVIRT_URI");

	if (uri && *uri)
		return pl_strdup(uri);
	return pl_strdup(env && *env ? env : LAB_DEFAULT_URI);
}

int lab_virt_error(struct pl_err *err, const char *what)
{
	const char *m = virGetLastErrorMessage();

	return pl_error(err, PL_EENV, "%s: %s", what, m ? m : "libvirt failed");
}

int lab_connect(const char *uri, virConnectPtr *out, struct pl_err *err)
{
	PL_AUTOFREE char *u = lab_uri(uri);

	virSetErrorFunc(NULL, lab_virt_silent);
	*out = virConnectOpen(u);
	if (!*out) {
		lab_virt_error(err, u);
		return pl_error_prefix(err, "cannot connect to libvirt (is the lab daemon up? "
					    "scripts/libvirt-lab start)");
	}
	return 0;
}

/* Field 22 of /proc/PID/stat: the start time that makes a pid unique. */
static long long lab_pid_start(long pid)
{
	char path[64];
	PL_AUTOFREE char *stat = NULL;
	const char *p;
	long long start = -1;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (pl_file_read(path, &stat, NULL, NULL) < 0)
		return -1;
	p = strrchr(stat, ')'); /* the command name may hold spaces */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoll(p + 1, NULL, 10);
	return start;
}

static int lab_pid_alive(long pid, long long start)
{
	return pid > 0 && lab_pid_start(pid) == start;
}

/* qemu runs as its own user: the state directories must be traversable. */
static int lab_dir_traversable(const char *dir, struct pl_err *err)
{
	struct stat sb;

	if (pl_mkdir_p(dir, 0755, err) < 0)
		return err->code;
	if (stat(dir, &sb) == 0 && (sb.st_mode & 0111) != 0111 &&
	    chmod(dir, (sb.st_mode & 07777) | 0111) < 0)
		return pl_error(err, PL_EIO, "%s: %s", dir, strerror(errno));
	return 0;
}

int lab_run_begin(struct store *st, virConnectPtr conn, const char *kind, long image_id,
		  struct lab_run *run, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *runs = pl_path_join(st->dir, "runs");
	PL_AUTOFREE char *uri = virConnectGetURI(conn);
	unsigned char rnd[4];
	char now[21];

	memset(run, 0, sizeof(*run));
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return pl_error(err, PL_EENV, "getrandom: %s", strerror(errno));
	snprintf(run->id, sizeof(run->id), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
	run->st = st;
	run->conn = conn;
	run->dir = pl_path_join(runs, run->id);
	run->uri = pl_strdup(uri ? uri : LAB_DEFAULT_URI);
	if (lab_dir_traversable(st->dir, err) < 0 || lab_dir_traversable(runs, err) < 0 ||
	    lab_dir_traversable(run->dir, err) < 0)
		return err->code;
	pl_time_iso(pl_clock_now(NULL), now);
	if (store_prepare(st,
			  "INSERT INTO lab_runs(id, kind, image_id, uri, pid, pid_start, state,"
			  " started_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?)",
			  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, run->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	if (image_id > 0)
		sqlite3_bind_int64(s, 3, image_id);
	sqlite3_bind_text(s, 4, uri ? uri : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, getpid());
	sqlite3_bind_int64(s, 6, lab_pid_start(getpid()));
	sqlite3_bind_text(s, 7, now, -1, SQLITE_STATIC);
	return store_step_done(st, s, err);
}

int lab_run_track(struct lab_run *run, const char *kind, const char *name, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	char now[21];

	pl_time_iso(pl_clock_now(NULL), now);
	if (store_prepare(run->st,
			  "INSERT OR IGNORE INTO lab_objects(run_id, kind, name, created_at)"
			  " VALUES (?, ?, ?, ?)",
			  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, run->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, now, -1, SQLITE_STATIC);
	return store_step_done(run->st, s, err);
}

/* 1 when the last libvirt error says the object does not exist. */
static int lab_err_is(int code)
{
	virErrorPtr e = virGetLastError();

	return e && e->code == code;
}

static int lab_domain_remove(virConnectPtr conn, const char *name)
{
	virDomainPtr d = virDomainLookupByName(conn, name);
	int rc = 0;

	if (!d)
		return lab_err_is(VIR_ERR_NO_DOMAIN) ? 0 : -1;
	if (virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0)
		rc = -1;
	if (rc == 0 && virDomainIsPersistent(d) == 1 && virDomainUndefine(d) < 0)
		rc = -1;
	virDomainFree(d);
	if (rc < 0 && !(d = virDomainLookupByName(conn, name)))
		return lab_err_is(VIR_ERR_NO_DOMAIN) ? 0 : -1; /* it went away meanwhile */
	if (rc < 0)
		virDomainFree(d);
	return rc;
}

static int lab_network_remove(virConnectPtr conn, const char *name)
{
	virNetworkPtr n = virNetworkLookupByName(conn, name);
	int rc = 0;

	if (!n)
		return lab_err_is(VIR_ERR_NO_NETWORK) ? 0 : -1;
	if (virNetworkIsActive(n) == 1 && virNetworkDestroy(n) < 0)
		rc = -1;
	if (rc == 0 && virNetworkIsPersistent(n) == 1 && virNetworkUndefine(n) < 0)
		rc = -1;
	virNetworkFree(n);
	return rc;
}

/* Volumes are tracked by path: the pool may be gone or renamed. */
static int lab_volume_remove(virConnectPtr conn, const char *path)
{
	virStorageVolPtr v = virStorageVolLookupByPath(conn, path);
	int rc = 0;

	if (!v) {
		if (!lab_err_is(VIR_ERR_NO_STORAGE_VOL))
			return -1;
		return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
	}
	if (virStorageVolDelete(v, 0) < 0)
		rc = -1;
	virStorageVolFree(v);
	return rc;
}

/* Removes one object; an object that is already gone counts as removed,
 * but a lookup that fails for any other reason (a dead connection) does
 * not. */
static int lab_object_remove(virConnectPtr conn, const char *kind, const char *name)
{
	if (strcmp(kind, "domain") == 0)
		return lab_domain_remove(conn, name);
	if (strcmp(kind, "network") == 0)
		return lab_network_remove(conn, name);
	if (strcmp(kind, "volume") == 0)
		return lab_volume_remove(conn, name);
	if (strcmp(kind, "dir") == 0) {
		const char *argv[] = {"rm", "-rf", "--one-file-system", name, NULL};

		return pl_run_ok(argv, NULL, NULL);
	}
	return -1;
}

/* Removes a run's remaining objects, newest kind first; counts into rep. */
static int lab_run_cleanup(struct store *st, virConnectPtr conn, const char *run_id,
			   struct lab_gc_report *rep, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL, *done = NULL;
	int failed = 0, rc;

	if (store_prepare(st,
			  "SELECT kind, name FROM lab_objects WHERE run_id = ? AND removed_at IS"
			  " NULL ORDER BY CASE kind WHEN 'domain' THEN 0 WHEN 'network' THEN 1"
			  " WHEN 'volume' THEN 2 ELSE 3 END",
			  &s, err) < 0 ||
	    store_prepare(st,
			  "UPDATE lab_objects SET removed_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')"
			  " WHERE run_id = ? AND kind = ? AND name = ?",
			  &done, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *kind = store_col_text(s, 0), *name = store_col_text(s, 1);

		if (lab_object_remove(conn, kind, name) < 0) {
			pl_warn("lab run %s: could not remove %s '%s': %s", run_id, kind, name,
				virGetLastErrorMessage());
			failed++;
			continue;
		}
		if (rep) {
			rep->domains += strcmp(kind, "domain") == 0;
			rep->networks += strcmp(kind, "network") == 0;
			rep->volumes += strcmp(kind, "volume") == 0;
		}
		sqlite3_reset(done);
		sqlite3_bind_text(done, 1, run_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(done, 2, kind, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(done, 3, name, -1, SQLITE_TRANSIENT);
		if (store_step_done(st, done, err) < 0)
			return PL_EDB;
	}
	if (rc != SQLITE_DONE)
		return store_error(st, err, "reading lab objects");
	if (failed)
		return pl_error(err, PL_EENV, "lab run %s: %d object(s) could not be removed",
				run_id, failed);
	return 0;
}

static int lab_run_set_state(struct store *st, const char *id, const char *state,
			     json_t *result, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOFREE char *text = result ? json_dumps(result, JSON_COMPACT) : NULL;
	char now[21];

	pl_time_iso(pl_clock_now(NULL), now);
	if (store_prepare(st, "UPDATE lab_runs SET state = ?, ended_at = ?, result = ? WHERE id = ?",
			  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, now, -1, SQLITE_STATIC);
	if (text)
		sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, id, -1, SQLITE_STATIC);
	return store_step_done(st, s, err);
}

int lab_run_end(struct lab_run *run, const char *state, json_t *result, struct pl_err *err)
{
	struct pl_err cerr = PL_ERR_INIT;
	int rc = 0;

	virConnectPtr fresh = NULL;

	if (!run->st)
		return 0;
	/* A long wait can outlive the connection; cleanup must not. */
	if (!run->keep && virConnectIsAlive(run->conn) != 1 &&
	    lab_connect(run->uri, &fresh, &cerr) < 0)
		pl_warn("%s", cerr.msg);
	if (!run->keep && lab_run_cleanup(run->st, fresh ? fresh : run->conn, run->id, NULL,
					  &cerr) < 0)
		pl_warn("%s", cerr.msg);
	if (fresh)
		virConnectClose(fresh);
	rc = lab_run_set_state(run->st, run->id, state, result, err);
	free(run->dir);
	free(run->uri);
	memset(run, 0, sizeof(*run));
	return rc;
}

/* Runs whose process died; with all, also the objects that finished runs
 * kept (--keep), whose verdicts stay as they are. */
static int lab_gc_runs(struct store *st, virConnectPtr conn, int all, struct lab_gc_report *rep,
		       struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	struct {
		char *id;
		int dead;
	} *runs = NULL;
	size_t n = 0;
	int rc;

	if (store_prepare(st,
			  "SELECT id, pid, pid_start, state FROM lab_runs r WHERE state = 'running'"
			  " OR (?1 AND EXISTS (SELECT 1 FROM lab_objects o WHERE o.run_id = r.id"
			  " AND o.removed_at IS NULL))",
			  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int(s, 1, all);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int running = strcmp(store_col_text(s, 3), "running") == 0;

		if (running &&
		    lab_pid_alive((long)sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2)))
			continue;
		runs = pl_realloc(runs, (n + 1) * sizeof(*runs));
		runs[n].id = pl_strdup(store_col_text(s, 0));
		runs[n++].dead = running;
	}
	rc = rc == SQLITE_DONE ? 0 : store_error(st, err, "reading lab runs");
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = lab_run_cleanup(st, conn, runs[i].id, rep, err);
		if (rc == 0 && runs[i].dead) {
			rc = lab_run_set_state(st, runs[i].id, "aborted", NULL, err);
			rep->runs++;
		}
		free(runs[i].id);
	}
	free(runs);
	return rc;
}

/* With all: libvirt objects named patchlab-* that no live run owns. */
static int lab_gc_strays(struct store *st, virConnectPtr conn, struct lab_gc_report *rep,
			 struct pl_err *err)
{
	virDomainPtr *doms = NULL;
	virNetworkPtr *nets = NULL;
	int nd = virConnectListAllDomains(conn, &doms, 0);
	int nn = virConnectListAllNetworks(conn, &nets, 0);

	(void)st;
	if (nd < 0 || nn < 0)
		return lab_virt_error(err, "listing libvirt objects");
	for (int i = 0; i < nd; i++) {
		const char *name = virDomainGetName(doms[i]);

		if (strncmp(name, "patchlab-", 9) == 0 &&
		    lab_object_remove(conn, "domain", name) == 0)
			rep->domains++;
		virDomainFree(doms[i]);
	}
	for (int i = 0; i < nn; i++) {
		const char *name = virNetworkGetName(nets[i]);

		if (strncmp(name, "patchlab-", 9) == 0 &&
		    lab_object_remove(conn, "network", name) == 0)
			rep->networks++;
		virNetworkFree(nets[i]);
	}
	free(doms);
	free(nets);
	return 0;
}

int lab_gc(struct store *st, virConnectPtr conn, int all, struct lab_gc_report *rep,
	   struct pl_err *err)
{
	memset(rep, 0, sizeof(*rep));
	if (lab_gc_runs(st, conn, all, rep, err) < 0)
		return err->code;
	return all ? lab_gc_strays(st, conn, rep, err) : 0;
}
