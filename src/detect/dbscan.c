/*
 * dbscan.c - the database scan: every host's findings from the synced
 * indexes and the feeds in the database (detect.h documents the rules).
 *
 * How it stays fast at fleet scale (bench/scan-fleet.sh: 10,000 hosts x
 * 1,500 packages):
 * - A host's installed packages are read from host_packages only when they
 *   changed: triggers on host_packages mark the host in scan_dirty, and the
 *   scan keeps each host's list as a blob of ids (scan_pkgsets) into the
 *   distinct (name, arch, version, source, source version) tuples
 *   (scan_pkgs). A fleet has a few thousand distinct tuples and 15 million
 *   rows; the blobs are 6 KB a host. Changed lists are read into the cache
 *   before the scan's transaction, 500 hosts per transaction of their own.
 * - Each (release, architecture) loads its indexes and the release's
 *   tracker rows once; each tuple is evaluated once per (release, arch)
 *   (upgradable? which CVEs? fixes missing from the indexes?), then hosts
 *   are arrays of cached answers.
 * - CVE risk (CVSS, EPSS, KEV) is looked up once per CVE with prepared
 *   statements; an upgrade (the same update from the same version) is
 *   stored once in upgrades and shared by every host that misses it.
 * - The existing open findings are diffed in memory: only new, changed and
 *   resolved findings are written, all in the one transaction.
 */
#include "detect/detect-private.h"

#include "inventory/inventory.h"
#include "repo/repo.h"
#include "risk/risk.h"

_Static_assert((int)DETECT_URG_NONE == (int)RISK_URG_NONE &&
                   (int)DETECT_URG_HIGH == (int)RISK_URG_HIGH &&
                   (int)DETECT_URG_UNIMPORTANT == (int)RISK_URG_UNIMPORTANT,
               "detect and risk order urgencies alike");

#define NOT_EVALUATED (-2)
#define NO_UPGRADE    (-1)

/* A distinct installed package; the fields are ids in ds.str. */
struct ds_tuple {
	uint32_t name, arch, version, source, sv;
	sqlite3_int64 dbid;
};

/* What one tuple gives in one group. */
struct ds_eval {
	int32_t upgrade;  /* index in ds.up, NO_UPGRADE, NOT_EVALUATED */
	uint32_t missing; /* CVEs fixed in the tracker above the installed
	                     version that the candidate does not reach */
};

/* A release's tracker rows and, per source, its open CVE count. */
struct ds_release {
	uint32_t name;
	struct detect_feed *feed;
	uint32_t *open; /* by source str id: open + undetermined CVEs + 1, 0: not counted */
	size_t nopen;
};

/* A (release, architecture) and its indexes. */
struct ds_group {
	uint32_t index, release, arch;
	struct ds_release *rel;
	struct detect_index *ix;
	size_t nindexes;
	struct ds_eval *eval; /* by tuple index, grown on demand */
	size_t neval;
};

/* One CVE fixed by an upgrade. */
struct ds_upcve {
	uint32_t cve;
	int urgency;
};

/* An update of one package from one version, in one group. */
struct ds_upgrade {
	uint32_t group, tuple, ident;
	const struct detect_entry *cand;
	struct ds_upcve *cves;
	size_t ncves;
	int severity, urg_novec, cvss10, kev;
	double epss;
	sqlite3_int64 dbid;
};

/* What the feeds say of one CVE. */
struct ds_risk {
	int loaded, cvss10, kev;
	double epss;
};

struct ds_host {
	sqlite3_int64 id;
	char *name, *os, *os_version, *arch_field, *prev_evaluated;
	char *release, *arch, *note;
	struct risk_priority_in ctx;
	int evaluated;
	size_t packages, findings, unfixed, missing, nindexes, foreign;
};

struct ds_finding {
	uint32_t host, upgrade;
	uint8_t priority, level;
};

/* An open finding of the database, for the diff. */
struct ds_old {
	sqlite3_int64 id, upgrade;
	uint32_t host, ident;
	int priority, seen;
};

struct ds {
	struct store *st;
	const struct detect_dbscan_opts *o;
	struct pl_err *err;
	char now[21];
	sqlite3_int64 scan_id;

	struct detect_strtab str;    /* names, archs, versions, releases */
	struct detect_strtab keys;   /* tuple keys "name\tarch\tversion\tsource\tsv" */
	struct detect_strtab idents; /* finding identities "release\tname\tarch\tversion" */
	struct detect_strtab cves;
	struct ds_tuple *tuples; /* by index in keys */
	size_t ntuples, ctuples;
	uint32_t *bydbid; /* scan_pkgs.id -> tuple index + 1 (0: none); ids are dense */
	size_t nbydbid;
	struct detect_u64map dirty;   /* host ids in scan_dirty */
	struct detect_u64map hostidx; /* host id -> index in hosts */

	struct ds_host *hosts;
	size_t nhosts;
	struct ds_release **rels;
	size_t nrels;
	struct ds_group **groups;
	size_t ngroups;
	struct ds_upgrade *up;
	size_t nup, cup;
	struct ds_risk *risk; /* by cve id */
	size_t nrisk;
	struct ds_finding *f;
	size_t nf, cf;
	uint32_t *stamp; /* by str id: 1 + the host that last counted the source */
	size_t nstamp;

	sqlite3_stmt *q_blob, *q_pkgs, *q_newpkg, *q_setblob, *q_undirty;
	sqlite3_stmt *q_cvss, *q_epss, *q_kev;
	struct detect_dbscan_result *res;
};

static const char *S(const struct ds *s, uint32_t id)
{
	return s->str.s[id];
}

static uint32_t intern(struct ds *s, const char *v)
{
	return detect_strtab_intern(&s->str, v, strlen(v));
}

static int prepare(struct ds *s, const char *sql, sqlite3_stmt **q)
{
	return store_prepare(s->st, sql, q, s->err) < 0 ? PL_EDB : 0;
}

/* ---- hosts ------------------------------------------------------------------------ */

static enum risk_exposure exposure_of(enum inv_exposure e)
{
	switch (e) {
	case INV_EXPOSURE_INTERNET:
		return RISK_EXPOSURE_INTERNET;
	case INV_EXPOSURE_INTERNAL:
		return RISK_EXPOSURE_INTERNAL;
	case INV_EXPOSURE_ISOLATED:
		return RISK_EXPOSURE_ISOLATED;
	default:
		return RISK_EXPOSURE_UNKNOWN;
	}
}

static int onoff_of(int v)
{
	return v == INV_ON ? 1 : v == INV_OFF ? 0 : -1;
}

/* The priority context of a host: src/inventory's inv_host_context (the
 * one place that reads controls), plus the "critical" tag. */
static int host_context(struct ds *s, struct ds_host *h, int critical)
{
	struct inv_host_context c;

	if (inv_host_context(s->st, h->name, &c, s->err) < 0)
		return s->err->code;
	h->ctx.exposure = exposure_of(c.exposure);
	h->ctx.environment = risk_environment_parse(c.environment);
	h->ctx.critical = critical;
	h->ctx.firewall = onoff_of(c.firewall);
	h->ctx.edr = onoff_of(c.edr);
	inv_host_context_clear(&c);
	return 0;
}

static void host_clear(struct ds_host *h)
{
	free(h->name);
	free(h->os);
	free(h->os_version);
	free(h->arch_field);
	free(h->prev_evaluated);
	free(h->release);
	free(h->arch);
	free(h->note);
}

static const char HOSTS_SQL[] =
    "SELECT h.id, h.name, h.os, h.os_version, h.arch,"
    " EXISTS (SELECT 1 FROM json_each(h.tags) WHERE value = 'critical'),"
    " (SELECT evaluated_at FROM host_scans s WHERE s.host_id = h.id)"
    " FROM hosts h";

static int host_add(struct ds *s, sqlite3_stmt *q)
{
	struct ds_host *h;
	char *why = NULL;

	s->hosts = pl_realloc(s->hosts, (s->nhosts + 1) * sizeof(*s->hosts));
	h = &s->hosts[s->nhosts++];
	memset(h, 0, sizeof(*h));
	h->id = sqlite3_column_int64(q, 0);
	h->name = store_col_dup(q, 1);
	h->os = store_col_dup(q, 2);
	h->os_version = store_col_dup(q, 3);
	h->arch_field = store_col_dup(q, 4);
	h->prev_evaluated = store_col_dup(q, 6);
	if (detect_host_release(h->os, h->os_version, &h->release, &why) < 0)
		h->note = why;
	detect_u64map_put(&s->hostidx, (uint64_t)h->id, (uint32_t)(s->nhosts - 1));
	return host_context(s, h, sqlite3_column_int(q, 5));
}

/* The hosts to scan: every host by name, or the named ones (unknown: input
 * error, nothing written). */
static int hosts_load(struct ds *s)
{
	PL_AUTOSTMT sqlite3_stmt *q = NULL;
	int rc;

	if (!s->o->hosts) {
		PL_AUTOFREE char *sql = pl_strdupf("%s ORDER BY h.name", HOSTS_SQL);

		if (prepare(s, sql, &q) < 0)
			return PL_EDB;
		while ((rc = sqlite3_step(q)) == SQLITE_ROW)
			if (host_add(s, q) < 0)
				return s->err->code;
		return rc == SQLITE_DONE ? 0 : store_error(s->st, s->err, "reading hosts");
	}
	{
		PL_AUTOFREE char *sql = pl_strdupf("%s WHERE h.name = ?", HOSTS_SQL);

		if (prepare(s, sql, &q) < 0)
			return PL_EDB;
	}
	for (size_t i = 0; s->o->hosts[i]; i++) {
		uint32_t dup;

		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, s->o->hosts[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(q);
		if (rc == SQLITE_DONE)
			return pl_error(s->err, PL_ENOTFOUND,
			                "no host named '%s' (see 'patchlab inventory list')",
			                s->o->hosts[i]);
		if (rc != SQLITE_ROW)
			return store_error(s->st, s->err, "reading hosts");
		if (detect_u64map_get(&s->hostidx, (uint64_t)sqlite3_column_int64(q, 0), &dup))
			continue; /* named twice */
		if (host_add(s, q) < 0)
			return s->err->code;
	}
	return 0;
}

/* ---- the package-set cache -------------------------------------------------------------- */

static uint32_t tuple_add(struct ds *s, uint32_t key, const uint32_t f[5], sqlite3_int64 dbid)
{
	struct ds_tuple *t;

	if (key != s->ntuples) /* keys and tuples grow together */
		return key;
	if (s->ntuples == s->ctuples) {
		s->ctuples = s->ctuples ? s->ctuples * 2 : 4096;
		s->tuples = pl_realloc(s->tuples, s->ctuples * sizeof(*s->tuples));
	}
	t = &s->tuples[s->ntuples++];
	t->name = f[0];
	t->arch = f[1];
	t->version = f[2];
	t->source = f[3];
	t->sv = f[4];
	t->dbid = dbid;
	if (dbid > 0 && dbid < (sqlite3_int64)UINT32_MAX) {
		if ((size_t)dbid >= s->nbydbid) {
			size_t want = (size_t)dbid * 2 + 1024;

			s->bydbid = pl_realloc(s->bydbid, want * sizeof(uint32_t));
			memset(s->bydbid + s->nbydbid, 0, (want - s->nbydbid) * sizeof(uint32_t));
			s->nbydbid = want;
		}
		s->bydbid[dbid] = key + 1;
	}
	return key;
}

/* The key of a tuple: its five fields joined by TABs (none holds one). */
static uint32_t tuple_key(struct ds *s, const char *const v[5], struct pl_buf *b)
{
	pl_buf_reset(b);
	for (int i = 0; i < 5; i++) {
		if (i)
			pl_buf_addc(b, '\t');
		pl_buf_adds(b, v[i]);
	}
	return detect_strtab_intern(&s->keys, b->s, b->len);
}

static int tuples_load(struct ds *s)
{
	PL_AUTOSTMT sqlite3_stmt *q = NULL;
	PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;
	int rc;

	if (prepare(s, "SELECT id, name, arch, version, source, source_version FROM scan_pkgs",
	            &q) < 0 ||
	    prepare(s, "SELECT pkgs FROM scan_pkgsets WHERE host_id = ?", &s->q_blob) < 0 ||
	    prepare(s,
	            "SELECT name, arch, version, source, source_version, status FROM host_packages"
	            " WHERE host_id = ?",
	            &s->q_pkgs) < 0 ||
	    prepare(s,
	            "INSERT INTO scan_pkgs (name, arch, version, source, source_version)"
	            " VALUES (?, ?, ?, ?, ?)",
	            &s->q_newpkg) < 0 ||
	    prepare(s, "INSERT OR REPLACE INTO scan_pkgsets (host_id, pkgs) VALUES (?, ?)",
	            &s->q_setblob) < 0 ||
	    prepare(s, "DELETE FROM scan_dirty WHERE host_id = ?", &s->q_undirty) < 0)
		return PL_EDB;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *v[5];
		uint32_t f[5];

		for (int i = 0; i < 5; i++) {
			v[i] = store_col_text(q, i + 1);
			f[i] = intern(s, v[i]);
		}
		tuple_add(s, tuple_key(s, v, &b), f, sqlite3_column_int64(q, 0));
	}
	return rc == SQLITE_DONE ? 0
	                         : store_error(s->st, s->err, "reading the scan's package cache");
}

/* The hosts whose package list changed since it was cached. */
static int dirty_load(struct ds *s)
{
	PL_AUTOSTMT sqlite3_stmt *q = NULL;
	int rc;

	if (prepare(s, "SELECT host_id FROM scan_dirty", &q) < 0)
		return PL_EDB;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		detect_u64map_put(&s->dirty, (uint64_t)sqlite3_column_int64(q, 0), 1);
	return rc == SQLITE_DONE ? 0 : store_error(s->st, s->err, "reading scan_dirty");
}

/* Reads a host's installed packages from host_packages into out (tuple
 * indexes) and caches them as its blob. */
static int host_rebuild(struct ds *s, sqlite3_int64 host, uint32_t **out, size_t *n)
{
	PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;
	PL_AUTOFREE unsigned char *blob = NULL;
	size_t cap = 0;
	int rc;

	*n = 0;
	sqlite3_reset(s->q_pkgs);
	sqlite3_bind_int64(s->q_pkgs, 1, host);
	while ((rc = sqlite3_step(s->q_pkgs)) == SQLITE_ROW) {
		const char *v[5];
		uint32_t key, f[5];

		/* the rule the import packs sets by (src/inventory) */
		if (!inv_pkg_scan_fields(store_col_opt(s->q_pkgs, 0), store_col_opt(s->q_pkgs, 1),
		                         store_col_opt(s->q_pkgs, 2), store_col_opt(s->q_pkgs, 3),
		                         store_col_opt(s->q_pkgs, 4), store_col_opt(s->q_pkgs, 5), v))
			continue;
		key = tuple_key(s, v, &b);
		if (key == s->ntuples) {
			sqlite3_reset(s->q_newpkg);
			for (int i = 0; i < 5; i++) {
				sqlite3_bind_text(s->q_newpkg, i + 1, v[i], -1, SQLITE_STATIC);
				f[i] = intern(s, v[i]);
			}
			if (store_step_done(s->st, s->q_newpkg, s->err) < 0)
				return s->err->code;
			tuple_add(s, key, f, sqlite3_last_insert_rowid(s->st->db));
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 2048;
			*out = pl_realloc(*out, cap * sizeof(uint32_t));
		}
		(*out)[(*n)++] = key;
	}
	if (rc != SQLITE_DONE)
		return store_error(s->st, s->err, "reading host_packages");
	blob = pl_malloc(*n * 4 + 1);
	for (size_t i = 0; i < *n; i++) {
		uint64_t id = (uint64_t)s->tuples[(*out)[i]].dbid;

		for (int k = 0; k < 4; k++) /* little-endian, whatever the machine */
			blob[i * 4 + (size_t)k] = (unsigned char)(id >> (8 * k));
	}
	sqlite3_reset(s->q_setblob);
	sqlite3_bind_int64(s->q_setblob, 1, host);
	sqlite3_bind_blob(s->q_setblob, 2, blob, (int)(*n * 4), SQLITE_STATIC);
	sqlite3_reset(s->q_undirty);
	sqlite3_bind_int64(s->q_undirty, 1, host);
	if (store_step_done(s->st, s->q_setblob, s->err) < 0 ||
	    store_step_done(s->st, s->q_undirty, s->err) < 0)
		return s->err->code;
	s->res->rebuilt++;
	return 0;
}

/* A host's tuples from its cached blob, or rebuilt when it changed, has
 * none yet, or names a tuple that is gone. */
static int host_tuples(struct ds *s, struct ds_host *h, uint32_t **out, size_t *n)
{
	uint32_t one;
	int rc;

	*n = 0;
	if (detect_u64map_get(&s->dirty, (uint64_t)h->id, &one))
		return host_rebuild(s, h->id, out, n);
	sqlite3_reset(s->q_blob);
	sqlite3_bind_int64(s->q_blob, 1, h->id);
	rc = sqlite3_step(s->q_blob);
	if (rc == SQLITE_ROW) {
		const unsigned char *p = sqlite3_column_blob(s->q_blob, 0);
		size_t len = (size_t)sqlite3_column_bytes(s->q_blob, 0);

		if (len % 4 != 0)
			return host_rebuild(s, h->id, out, n);
		*out = pl_realloc(*out, (len / 4 + 1) * sizeof(uint32_t));
		for (size_t i = 0; i < len / 4; i++) {
			uint64_t id = (uint64_t)p[i * 4] | (uint64_t)p[i * 4 + 1] << 8 |
			              (uint64_t)p[i * 4 + 2] << 16 | (uint64_t)p[i * 4 + 3] << 24;

			if (id >= s->nbydbid || !s->bydbid[id])
				return host_rebuild(s, h->id, out, n);
			(*out)[i] = s->bydbid[id] - 1;
		}
		*n = len / 4;
		return 0;
	}
	if (rc != SQLITE_DONE)
		return store_error(s->st, s->err, "reading scan_pkgsets");
	return host_rebuild(s, h->id, out, n);
}

#define CACHE_BATCH 500

static int named(const struct ds *s, const char *name)
{
	for (size_t i = 0; s->o->hosts[i]; i++)
		if (strcmp(s->o->hosts[i], name) == 0)
			return 1;
	return 0;
}

/* Every named host exists (else an input error before anything is
 * written, the cache included). */
static int named_check(struct ds *s)
{
	PL_AUTOSTMT sqlite3_stmt *q = NULL;
	int rc;

	if (!s->o->hosts)
		return 0;
	if (prepare(s, "SELECT 1 FROM hosts WHERE name = ?", &q) < 0)
		return PL_EDB;
	for (size_t i = 0; s->o->hosts[i]; i++) {
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, s->o->hosts[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(q);
		if (rc == SQLITE_DONE)
			return pl_error(s->err, PL_ENOTFOUND,
			                "no host named '%s' (see 'patchlab inventory list')",
			                s->o->hosts[i]);
		if (rc != SQLITE_ROW)
			return store_error(s->st, s->err, "reading hosts");
	}
	return 0;
}

/*
 * Reads the package lists that changed (or were never cached) into the
 * cache before the scan's transaction, CACHE_BATCH hosts per transaction:
 * each is short (other writers wait little), and work done stays if the
 * scan fails later. The cache is derived from host_packages and consistent
 * with it after every batch. A list that changes after this is read again
 * inside the scan's transaction.
 */
static int cache_refresh(struct ds *s)
{
	PL_AUTOSTMT sqlite3_stmt *q = NULL;
	PL_AUTOFREE sqlite3_int64 *ids = NULL;
	PL_AUTOFREE uint32_t *t = NULL;
	size_t n = 0, cap = 0, nt;
	double t0;
	int rc;

	if (prepare(s,
	            "SELECT id, name FROM hosts WHERE id IN (SELECT host_id FROM scan_dirty)"
	            " OR id NOT IN (SELECT host_id FROM scan_pkgsets) ORDER BY id",
	            &q) < 0)
		return PL_EDB;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (s->o->hosts && !named(s, store_col_text(q, 1)))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			ids = pl_realloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = sqlite3_column_int64(q, 0);
	}
	if (rc != SQLITE_DONE)
		return store_error(s->st, s->err, "reading hosts");
	store_stmt_finalizep(&q);
	if (n == 0)
		return 0;
	rc = 0;
	t0 = pl_progress_begin(s->o->progress, "packages", "%zu new or changed package list(s)", n);
	for (size_t i = 0; rc == 0 && i < n; i += CACHE_BATCH) {
		if (store_begin(s->st, s->err) < 0) {
			rc = s->err->code;
			break;
		}
		for (size_t k = i; rc == 0 && k < n && k < i + CACHE_BATCH; k++)
			rc = host_rebuild(s, ids[k], &t, &nt);
		if (rc == 0)
			rc = store_commit(s->st, s->err);
		if (rc < 0)
			store_rollback(s->st);
	}
	pl_progress_end(s->o->progress, "packages", rc, t0);
	return rc;
}

/* ---- releases and groups ----------------------------------------------------------------- */

/* The tracker rows of a release from every debian-tracker feed, and the
 * OSV advisories of its ecosystem from every osv feed. */
static int release_load(struct ds *s, struct ds_release *r)
{
	PL_AUTOSTMT sqlite3_stmt *q = NULL;
	struct detect_feed *f = detect_feed_new(S(s, r->name));
	int rc;

	r->feed = f;
	if (prepare(s,
	            "SELECT source, cve, status, fixed_version, urgency FROM feed_tracker"
	            " WHERE release = ? ORDER BY source, cve",
	            &q) < 0)
		return PL_EDB;
	sqlite3_bind_text(q, 1, S(s, r->name), -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct detect_cve *c;

		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 4096;
			f->c = pl_realloc(f->c, f->cap * sizeof(f->c[0]));
		}
		c = &f->c[f->n++];
		c->source = pl_strdup(store_col_text(q, 0));
		c->id = pl_strdup(store_col_text(q, 1));
		c->resolved = strcmp(store_col_text(q, 2), "resolved") == 0;
		c->fixed = store_col_dup(q, 3);
		c->urgency = sqlite3_column_type(q, 4) == SQLITE_NULL
		                 ? DETECT_URG_MEDIUM
		                 : detect_urgency_parse(store_col_text(q, 4));
		if (c->urgency < 0)
			c->urgency = DETECT_URG_MEDIUM;
		if (c->resolved && !c->fixed)
			c->resolved = 0; /* the feed store refuses these; be safe */
	}
	if (rc != SQLITE_DONE)
		return store_error(s->st, s->err, "reading tracker rows");
	/* and the OSV advisories of the release's ecosystem, as the one-shot
	 * scan reads them from a file */
	if (detect_feed_add_osv_store(f, s->st, s->err) < 0)
		return s->err->code;
	detect_feed_sort(f);
	return 0;
}

static struct ds_release *release_get(struct ds *s, uint32_t name)
{
	struct ds_release *r;

	for (size_t i = 0; i < s->nrels; i++)
		if (s->rels[i]->name == name)
			return s->rels[i];
	r = pl_calloc(1, sizeof(*r));
	r->name = name;
	s->rels = pl_realloc(s->rels, (s->nrels + 1) * sizeof(*s->rels));
	s->rels[s->nrels++] = r;
	if (release_load(s, r) < 0)
		return NULL;
	return r;
}

/* The synced indexes of release (and -updates, -security) for arch. */
static int group_indexes(struct ds *s, struct ds_group *g)
{
	const char *rel = S(s, g->release), *arch = S(s, g->arch);
	const char *suffix[] = {"", "-updates", "-security"};
	struct detect_strtab seen = {0};
	char hex[65];
	int rc = 0;

	g->ix = detect_index_new();
	for (size_t k = 0; rc == 0 && k < 3; k++) {
		PL_AUTOFREE char *suite = pl_strdupf("%s%s", rel, suffix[k]);
		struct repo_index_list l;

		if (repo_indexes_find(s->st, suite, arch, &l, s->err) < 0) {
			rc = s->err->code;
			break;
		}
		for (size_t i = 0; rc == 0 && i < l.n; i++) {
			uint32_t id;
			size_t before = seen.n;

			id = detect_strtab_intern(&seen, l.v[i].path, strlen(l.v[i].path));
			if (id < before)
				continue;
			/* fail closed: read only what the signed Release vouched for */
			if (pl_sha256_file(l.v[i].path, hex, s->err) < 0)
				rc = s->err->code;
			else if (strcmp(hex, l.v[i].sha256) != 0)
				rc = pl_error(
				    s->err, PL_EINVAL,
				    "%s: SHA-256 %s is not the %s synced from repository "
				    "%s, suite %s (changed since; run 'patchlab repo sync')",
				    l.v[i].path, hex, l.v[i].sha256, l.v[i].repo, l.v[i].suite);
			else if (detect_index_load(g->ix, l.v[i].path, s->err) < 0)
				rc = pl_error_prefix(s->err, "repository %s, suite %s", l.v[i].repo,
				                     l.v[i].suite);
			else
				g->nindexes++;
		}
		repo_index_list_free(&l);
	}
	detect_strtab_free(&seen);
	return rc;
}

static struct ds_group *group_get(struct ds *s, uint32_t release, uint32_t arch)
{
	struct ds_group *g;
	double t0;
	int rc;

	for (size_t i = 0; i < s->ngroups; i++)
		if (s->groups[i]->release == release && s->groups[i]->arch == arch)
			return s->groups[i];
	g = pl_calloc(1, sizeof(*g));
	g->index = (uint32_t)s->ngroups;
	g->release = release;
	g->arch = arch;
	s->groups = pl_realloc(s->groups, (s->ngroups + 1) * sizeof(*s->groups));
	s->groups[s->ngroups++] = g;
	t0 = pl_progress_begin(s->o->progress, "indexes", "%s/%s", S(s, release), S(s, arch));
	rc = group_indexes(s, g);
	if (rc == 0 && !(g->rel = release_get(s, release)))
		rc = s->err->code;
	pl_progress_end(s->o->progress, "indexes", rc, t0);
	return rc < 0 ? NULL : g;
}

/* ---- evaluation --------------------------------------------------------------------------- */

static void upcve_add(struct ds_upgrade *u, uint32_t cve, int urgency)
{
	if (u->ncves && u->cves[u->ncves - 1].cve == cve) {
		if (urgency > u->cves[u->ncves - 1].urgency)
			u->cves[u->ncves - 1].urgency = urgency;
		return;
	}
	u->cves = pl_realloc(u->cves, (u->ncves + 1) * sizeof(*u->cves));
	u->cves[u->ncves].cve = cve;
	u->cves[u->ncves++].urgency = urgency;
}

/* Evaluates tuple t in group g (once): upgradable, CVEs fixed, fixes missing. */
static struct ds_eval *evaluate(struct ds *s, struct ds_group *g, uint32_t t)
{
	const struct ds_tuple *tp = &s->tuples[t];
	const char *name = S(s, tp->name), *version = S(s, tp->version), *sv = S(s, tp->sv);
	const struct detect_entry *e;
	const char *lastmiss = NULL;
	struct ds_upgrade *u = NULL;
	struct ds_eval *ev;
	size_t first, n;

	if (t >= g->neval) {
		size_t old = g->neval, want = s->ntuples > t ? s->ntuples : t + 1;

		g->eval = pl_realloc(g->eval, want * sizeof(*g->eval));
		for (size_t i = old; i < want; i++)
			g->eval[i].upgrade = NOT_EVALUATED;
		g->neval = want;
	}
	ev = &g->eval[t];
	if (ev->upgrade != NOT_EVALUATED)
		return ev;
	ev->upgrade = NO_UPGRADE;
	ev->missing = 0;
	e = detect_index_find(g->ix, name, S(s, tp->arch));
	if (e && detect_version_cmp(e->version, version) > 0) {
		PL_AUTOFREE char *ident =
		    pl_strdupf("%s\t%s\t%s\t%s", S(s, g->release), name, S(s, tp->arch), version);

		if (s->nup == s->cup) {
			s->cup = s->cup ? s->cup * 2 : 1024;
			s->up = pl_realloc(s->up, s->cup * sizeof(*s->up));
		}
		ev->upgrade = (int32_t)s->nup;
		u = &s->up[s->nup++];
		memset(u, 0, sizeof(*u));
		u->group = g->index;
		u->tuple = t;
		u->cand = e;
		u->severity = u->urg_novec = DETECT_URG_NONE;
		u->cvss10 = -1;
		u->epss = -1;
		u->ident = detect_strtab_intern(&s->idents, ident, strlen(ident));
	}
	n = detect_feed_range(g->rel->feed, S(s, tp->source), &first);
	for (size_t i = first; i < first + n; i++) {
		const struct detect_cve *c = &g->rel->feed->c[i];

		if (!c->resolved || strcmp(c->fixed, "0") == 0 ||
		    detect_version_cmp(sv, c->fixed) >= 0)
			continue; /* open, or not affected at this version */
		if (u && detect_cve_fixes(c, sv, e->source_version)) {
			upcve_add(u, detect_strtab_intern(&s->cves, c->id, strlen(c->id)),
			          c->urgency);
		} else if (!lastmiss || strcmp(lastmiss, c->id) != 0) {
			ev->missing++;
			lastmiss = c->id;
		}
	}
	return ev;
}

/* Open and undetermined CVEs of source in a release (distinct). */
static uint32_t open_count(struct ds *s, struct ds_release *r, uint32_t source)
{
	size_t first, n;
	uint32_t v = 0;
	const char *last = NULL;

	if (source >= r->nopen) {
		size_t want = s->str.n + 1024;

		r->open = pl_realloc(r->open, want * sizeof(uint32_t));
		memset(r->open + r->nopen, 0, (want - r->nopen) * sizeof(uint32_t));
		r->nopen = want;
	}
	if (r->open[source])
		return r->open[source] - 1;
	n = detect_feed_range(r->feed, S(s, source), &first);
	for (size_t i = first; i < first + n; i++) {
		const struct detect_cve *c = &r->feed->c[i];

		if (c->resolved || (last && strcmp(last, c->id) == 0))
			continue;
		last = c->id;
		v++;
	}
	r->open[source] = v + 1;
	return v;
}

/* The architecture most of a host's packages have, "all" aside (a few
 * distinct ones: counted in a small array). */
static uint32_t majority_arch(struct ds *s, const uint32_t *t, size_t n)
{
	struct {
		uint32_t arch, n;
	} c[16];
	size_t nc = 0, best = SIZE_MAX;
	uint32_t all = intern(s, "all");

	for (size_t i = 0; i < n; i++) {
		uint32_t a = s->tuples[t[i]].arch;
		size_t k;

		if (a == all)
			continue;
		for (k = 0; k < nc && c[k].arch != a; k++)
			;
		if (k == nc) {
			if (nc == sizeof(c) / sizeof(c[0]))
				continue; /* a 17th architecture on one host: not the majority */
			c[nc].arch = a;
			c[nc++].n = 0;
		}
		c[k].n++;
	}
	for (size_t k = 0; k < nc; k++)
		if (best == SIZE_MAX || c[k].n > c[best].n ||
		    (c[k].n == c[best].n && strcmp(S(s, c[k].arch), S(s, c[best].arch)) < 0))
			best = k;
	return best == SIZE_MAX ? UINT32_MAX : c[best].arch;
}

static void finding_add(struct ds *s, uint32_t host, uint32_t upgrade)
{
	if (s->nf == s->cf) {
		s->cf = s->cf ? s->cf * 2 : 65536;
		s->f = pl_realloc(s->f, s->cf * sizeof(*s->f));
	}
	s->f[s->nf].host = host;
	s->f[s->nf++].upgrade = upgrade;
}

/* Counts a source's open CVEs and missing fixes once per host. */
static void count_source(struct ds *s, struct ds_host *h, uint32_t hi, struct ds_group *g,
                         uint32_t source, const struct ds_eval *ev)
{
	if (source >= s->nstamp) {
		size_t want = s->str.n + 1024;

		s->stamp = pl_realloc(s->stamp, want * sizeof(uint32_t));
		memset(s->stamp + s->nstamp, 0, (want - s->nstamp) * sizeof(uint32_t));
		s->nstamp = want;
	}
	if (s->stamp[source] == hi + 1)
		return;
	s->stamp[source] = hi + 1;
	h->unfixed += open_count(s, g->rel, source);
	h->missing += ev->missing;
}

static int host_evaluate(struct ds *s, uint32_t hi, const uint32_t *t, size_t n)
{
	struct ds_host *h = &s->hosts[hi];
	uint32_t rel = intern(s, h->release), all = intern(s, "all"), arch;
	const char *field = detect_debian_arch(h->arch_field);
	struct ds_group *g;

	if (n == 0) {
		h->note = pl_strdup("no installed packages recorded (patchlab inventory packages "
		                    "HOST --dpkg-status FILE)");
		return 0;
	}
	arch = field ? intern(s, field) : majority_arch(s, t, n);
	if (arch == UINT32_MAX)
		arch = all;
	h->arch = pl_strdup(S(s, arch));
	if (!(g = group_get(s, rel, arch)))
		return s->err->code;
	if (g->nindexes == 0) {
		h->note =
		    pl_strdupf("no synced index of %s for %s (patchlab repo add ... --suite %s "
		               "--suite %s-security; patchlab repo sync)",
		               h->release, h->arch, h->release, h->release);
		return 0;
	}
	h->nindexes = g->nindexes;
	for (size_t i = 0; i < n; i++) {
		uint32_t a = s->tuples[t[i]].arch;
		struct ds_group *tg = g;
		struct ds_eval *ev;

		if (a != arch && a != all) {
			if (!(tg = group_get(s, rel, a)))
				return s->err->code;
			if (tg->nindexes == 0) {
				h->foreign++;
				continue;
			}
		}
		ev = evaluate(s, tg, t[i]);
		h->packages++;
		if (ev->upgrade >= 0) {
			finding_add(s, hi, (uint32_t)ev->upgrade);
			h->findings++;
		}
		count_source(s, h, hi, tg, s->tuples[t[i]].source, ev);
	}
	if (h->foreign)
		h->note = pl_strdupf("%zu package(s) of other architectures have no synced index",
		                     h->foreign);
	h->evaluated = 1;
	return 0;
}

static int hosts_evaluate(struct ds *s)
{
	PL_AUTOFREE uint32_t *t = NULL;
	double t0 = pl_progress_begin(s->o->progress, "evaluate", "%zu host(s)", s->nhosts);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->nhosts; i++) {
		size_t n;

		if (!s->hosts[i].release)
			continue;
		rc = host_tuples(s, &s->hosts[i], &t, &n);
		if (rc == 0)
			rc = host_evaluate(s, (uint32_t)i, t, n);
	}
	pl_progress_end(s->o->progress, "evaluate", rc, t0);
	return rc;
}

/* ---- risk ------------------------------------------------------------------------------------ */

static int risk_load(struct ds *s, uint32_t cve)
{
	struct ds_risk *r;
	const char *id = s->cves.s[cve];
	int rc;

	if (cve >= s->nrisk) {
		size_t want = s->cves.n;

		s->risk = pl_realloc(s->risk, want * sizeof(*s->risk));
		memset(s->risk + s->nrisk, 0, (want - s->nrisk) * sizeof(*s->risk));
		s->nrisk = want;
	}
	r = &s->risk[cve];
	if (r->loaded)
		return 0;
	r->loaded = 1;
	r->cvss10 = -1;
	r->epss = -1;
	/* the same questions as detect_lookup_cve_risk, with statements kept */
	sqlite3_reset(s->q_cvss);
	sqlite3_bind_text(s->q_cvss, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s->q_cvss)) == SQLITE_ROW)
		r->cvss10 = (int)(sqlite3_column_double(s->q_cvss, 0) * 10.0 + 0.5);
	else if (rc != SQLITE_DONE)
		return store_error(s->st, s->err, "reading CVSS rows");
	sqlite3_reset(s->q_epss);
	sqlite3_bind_text(s->q_epss, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s->q_epss)) == SQLITE_ROW)
		r->epss = sqlite3_column_double(s->q_epss, 0);
	else if (rc != SQLITE_DONE)
		return store_error(s->st, s->err, "reading EPSS rows");
	sqlite3_reset(s->q_kev);
	sqlite3_bind_text(s->q_kev, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s->q_kev)) == SQLITE_ROW)
		r->kev = 1;
	else if (rc != SQLITE_DONE)
		return store_error(s->st, s->err, "reading KEV rows");
	return 0;
}

/* Each upgrade's severity and risk from its CVEs. */
static int upgrades_risk(struct ds *s)
{
	if (prepare(
	        s,
	        "SELECT base_score FROM feed_cvss WHERE cve = ? ORDER BY base_score DESC LIMIT 1",
	        &s->q_cvss) < 0 ||
	    prepare(s, "SELECT epss FROM feed_epss WHERE cve = ? ORDER BY epss DESC LIMIT 1",
	            &s->q_epss) < 0 ||
	    prepare(s, "SELECT 1 FROM feed_kev WHERE cve = ? LIMIT 1", &s->q_kev) < 0)
		return PL_EDB;
	for (size_t i = 0; i < s->nup; i++) {
		struct ds_upgrade *u = &s->up[i];

		for (size_t k = 0; k < u->ncves; k++) {
			const struct ds_risk *r;

			if (risk_load(s, u->cves[k].cve) < 0)
				return s->err->code;
			r = &s->risk[u->cves[k].cve];
			if (u->cves[k].urgency > u->severity)
				u->severity = u->cves[k].urgency;
			if (r->cvss10 >= 0 && r->cvss10 > u->cvss10)
				u->cvss10 = r->cvss10;
			if (r->cvss10 < 0 && u->cves[k].urgency > u->urg_novec)
				u->urg_novec = u->cves[k].urgency;
			if (r->epss > u->epss)
				u->epss = r->epss;
			u->kev |= r->kev;
		}
	}
	return 0;
}

static void priority_in(const struct ds *s, const struct ds_upgrade *u, const struct ds_host *h,
                        struct risk_priority_in *in)
{
	(void)s;
	*in = h->ctx;
	in->cvss10 = u->cvss10;
	in->urgency = u->urg_novec;
	in->ncves = (int)u->ncves;
	in->epss = u->epss;
	in->kev = u->kev;
}

static void findings_priority(struct ds *s)
{
	for (size_t i = 0; i < s->nf; i++) {
		struct risk_priority_in in;
		struct risk_priority p;

		priority_in(s, &s->up[s->f[i].upgrade], &s->hosts[s->f[i].host], &in);
		risk_priority_compute(&in, &p);
		s->f[i].priority = (uint8_t)p.score;
		s->f[i].level = (uint8_t)p.level;
		s->res->by_level[p.level - 1]++;
		s->res->by_severity[s->up[s->f[i].upgrade].severity + 1]++;
	}
}

/* ---- writing ------------------------------------------------------------------------------------
 */

static const char *urg_or_null(int u)
{
	return u < 0 ? NULL : detect_urgency_name(u);
}

static void bind_opt(sqlite3_stmt *q, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, i);
}

/* The upgrade's identity and content, hashed: equal rows are shared. */
static void upgrade_sig(const struct ds *s, const struct ds_upgrade *u, char sig[65])
{
	const struct ds_tuple *t = &s->tuples[u->tuple];
	const struct ds_group *g = s->groups[u->group];
	PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;
	struct pl_sha256 h;

	pl_buf_addf(&b, "%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n%d\n%d\n%d\n%.5f\n%d\n", S(s, g->release),
	            S(s, t->name), S(s, t->arch), S(s, t->version), u->cand->version,
	            S(s, t->source), S(s, t->sv), u->cand->source_version, u->severity, u->cvss10,
	            u->urg_novec, u->epss, u->kev);
	for (size_t k = 0; k < u->ncves; k++)
		pl_buf_addf(&b, "%s %d\n", s->cves.s[u->cves[k].cve], u->cves[k].urgency);
	pl_sha256_init(&h);
	pl_sha256_update(&h, b.s, b.len);
	pl_sha256_hex(&h, sig);
}

static int upgrade_insert(struct ds *s, struct ds_upgrade *u, const char *sig, sqlite3_stmt *ins,
                          sqlite3_stmt *cv)
{
	const struct ds_tuple *t = &s->tuples[u->tuple];
	PL_AUTOJSON json_t *arr = json_array();
	PL_AUTOFREE char *cves = NULL;
	int rc;

	for (size_t k = 0; k < u->ncves; k++)
		json_array_append_new(arr, json_string(s->cves.s[u->cves[k].cve]));
	cves = json_dumps(arr, JSON_COMPACT);
	sqlite3_reset(ins);
	sqlite3_bind_text(ins, 1, sig, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(ins, 2, S(s, s->groups[u->group]->release), -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 3, S(s, t->name), -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, S(s, t->arch), -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 5, S(s, t->version), -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, u->cand->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 7, S(s, t->source), -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 8, S(s, t->sv), -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 9, u->cand->source_version, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 10, cves, -1, SQLITE_STATIC);
	bind_opt(ins, 11, urg_or_null(u->severity));
	if (u->cvss10 >= 0)
		sqlite3_bind_double(ins, 12, u->cvss10 / 10.0);
	else
		sqlite3_bind_null(ins, 12);
	bind_opt(ins, 13, urg_or_null(u->urg_novec));
	if (u->epss >= 0)
		sqlite3_bind_double(ins, 14, u->epss);
	else
		sqlite3_bind_null(ins, 14);
	sqlite3_bind_int(ins, 15, u->kev);
	if ((rc = sqlite3_step(ins)) != SQLITE_ROW)
		return store_error(s->st, s->err, "recording an upgrade");
	u->dbid = sqlite3_column_int64(ins, 0);
	for (size_t k = 0; k < u->ncves; k++) {
		const struct ds_risk *r = &s->risk[u->cves[k].cve];

		sqlite3_reset(cv);
		sqlite3_bind_int64(cv, 1, u->dbid);
		sqlite3_bind_text(cv, 2, s->cves.s[u->cves[k].cve], -1, SQLITE_STATIC);
		bind_opt(cv, 3, urg_or_null(u->cves[k].urgency));
		if (r->cvss10 >= 0)
			sqlite3_bind_double(cv, 4, r->cvss10 / 10.0);
		else
			sqlite3_bind_null(cv, 4);
		if (r->epss >= 0)
			sqlite3_bind_double(cv, 5, r->epss);
		else
			sqlite3_bind_null(cv, 5);
		sqlite3_bind_int(cv, 6, r->kev);
		if (store_step_done(s->st, cv, s->err) < 0)
			return s->err->code;
	}
	return 0;
}

/* Finds or records each upgrade (by its signature). */
static int upgrades_write(struct ds *s)
{
	PL_AUTOSTMT sqlite3_stmt *get = NULL, *ins = NULL, *cv = NULL;
	int rc;

	if (prepare(s, "SELECT id FROM upgrades WHERE sig = ?", &get) < 0 ||
	    prepare(s,
	            "INSERT INTO upgrades (sig, release, package, arch, installed, candidate,"
	            " source, installed_source, candidate_source, cves, severity, cvss,"
	            " base_urgency, epss, kev) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
	            &ins) < 0 ||
	    prepare(s,
	            "INSERT INTO upgrade_cves (upgrade_id, cve, urgency, cvss, epss, kev)"
	            " VALUES (?,?,?,?,?,?)",
	            &cv) < 0)
		return PL_EDB;
	for (size_t i = 0; i < s->nup; i++) {
		char sig[65];

		upgrade_sig(s, &s->up[i], sig);
		sqlite3_reset(get);
		sqlite3_bind_text(get, 1, sig, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(get)) == SQLITE_ROW)
			s->up[i].dbid = sqlite3_column_int64(get, 0);
		else if (rc != SQLITE_DONE)
			return store_error(s->st, s->err, "reading upgrades");
		else if (upgrade_insert(s, &s->up[i], sig, ins, cv) < 0)
			return s->err->code;
	}
	return 0;
}

/* A dense array from database ids (INTEGER PRIMARY KEY, so mostly
 * 1..max) to uint32 values + 1; 0: none. */
static void dense_set(uint32_t **a, size_t *n, sqlite3_int64 id, uint32_t v)
{
	if (id <= 0 || id >= (sqlite3_int64)UINT32_MAX)
		return;
	if ((size_t)id >= *n) {
		size_t want = (size_t)id * 2 + 1024;

		*a = pl_realloc(*a, want * sizeof(uint32_t));
		memset(*a + *n, 0, (want - *n) * sizeof(uint32_t));
		*n = want;
	}
	(*a)[id] = v + 1;
}

static int dense_get(const uint32_t *a, size_t n, sqlite3_int64 id, uint32_t *v)
{
	if (id <= 0 || (size_t)id >= n || !a[id])
		return 0;
	*v = a[id] - 1;
	return 1;
}

static int old_ident_cmp(const void *pa, const void *pb)
{
	const struct ds_old *a = pa, *b = pb;

	return a->ident < b->ident ? -1 : a->ident > b->ident;
}

/*
 * The open findings of the evaluated hosts, grouped by host (a counting
 * sort: *first[h] .. *first[h + 1]) and sorted by identity within a host,
 * so the diff is a binary search in a host's few dozen findings.
 */
static int old_load(struct ds *s, struct ds_old **old, size_t *nold, size_t **first)
{
	PL_AUTOSTMT sqlite3_stmt *u = NULL, *f = NULL;
	PL_AUTOFREE uint32_t *ident = NULL, *hostpos = NULL;
	PL_AUTOFREE struct ds_old *raw = NULL;
	size_t nident = 0, nhostpos = 0, n = 0, cap = 0;
	int rc;

	*old = NULL;
	*nold = 0;
	*first = pl_calloc(s->nhosts + 1, sizeof(size_t));
	for (size_t i = 0; i < s->nhosts; i++)
		if (s->hosts[i].evaluated)
			dense_set(&hostpos, &nhostpos, s->hosts[i].id, (uint32_t)i);
	/* in table order: through an index, every row would be a page seek */
	if (prepare(s, "SELECT id, release, package, arch, installed FROM upgrades", &u) < 0 ||
	    prepare(s,
	            "SELECT id, host_id, upgrade_id, priority FROM findings NOT INDEXED"
	            " WHERE resolved_at IS NULL",
	            &f) < 0)
		return PL_EDB;
	while ((rc = sqlite3_step(u)) == SQLITE_ROW) {
		PL_AUTOFREE char *key =
		    pl_strdupf("%s\t%s\t%s\t%s", store_col_text(u, 1), store_col_text(u, 2),
		               store_col_text(u, 3), store_col_text(u, 4));

		dense_set(&ident, &nident, sqlite3_column_int64(u, 0),
		          detect_strtab_intern(&s->idents, key, strlen(key)));
	}
	if (rc != SQLITE_DONE)
		return store_error(s->st, s->err, "reading upgrades");
	while ((rc = sqlite3_step(f)) == SQLITE_ROW) {
		uint32_t hi, id;
		struct ds_old *o;

		if (!dense_get(hostpos, nhostpos, sqlite3_column_int64(f, 1), &hi) ||
		    !dense_get(ident, nident, sqlite3_column_int64(f, 2), &id))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			raw = pl_realloc(raw, cap * sizeof(*raw));
		}
		o = &raw[n++];
		o->id = sqlite3_column_int64(f, 0);
		o->host = hi;
		o->ident = id;
		o->upgrade = sqlite3_column_int64(f, 2);
		o->priority = sqlite3_column_int(f, 3);
		o->seen = 0;
		(*first)[hi + 1]++;
	}
	if (rc != SQLITE_DONE)
		return store_error(s->st, s->err, "reading findings");
	for (size_t h = 0; h < s->nhosts; h++)
		(*first)[h + 1] += (*first)[h];
	*old = pl_malloc((n + 1) * sizeof(**old));
	{
		PL_AUTOFREE size_t *at = pl_malloc((s->nhosts + 1) * sizeof(size_t));

		memcpy(at, *first, (s->nhosts + 1) * sizeof(size_t));
		for (size_t k = 0; k < n; k++)
			(*old)[at[raw[k].host]++] = raw[k];
	}
	for (size_t h = 0; h < s->nhosts; h++)
		if ((*first)[h + 1] - (*first)[h] > 1)
			qsort(*old + (*first)[h], (*first)[h + 1] - (*first)[h], sizeof(**old),
			      old_ident_cmp);
	*nold = n;
	return 0;
}

/* The open finding of host h with identity ident, or NULL. */
static struct ds_old *old_find(struct ds_old *old, const size_t *first, uint32_t h, uint32_t ident)
{
	size_t lo = first[h], hi = first[h + 1];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (old[mid].ident == ident)
			return &old[mid];
		if (old[mid].ident < ident)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int findings_write(struct ds *s)
{
	PL_AUTOSTMT sqlite3_stmt *ins = NULL, *upd = NULL, *res = NULL;
	PL_AUTOFREE struct ds_old *old = NULL;
	PL_AUTOFREE size_t *first = NULL;
	size_t nold = 0;
	int rc = old_load(s, &old, &nold, &first);

	if (rc == 0 &&
	    (prepare(s,
	             "INSERT INTO findings (host_id, upgrade_id, priority, level, first_seen)"
	             " VALUES (?,?,?,?,?)",
	             &ins) < 0 ||
	     prepare(s, "UPDATE findings SET upgrade_id = ?, priority = ?, level = ? WHERE id = ?",
	             &upd) < 0 ||
	     prepare(s, "UPDATE findings SET resolved_at = ?, last_seen = ? WHERE id = ?", &res) <
	         0))
		rc = PL_EDB;
	for (size_t i = 0; rc == 0 && i < s->nf; i++) {
		const struct ds_finding *f = &s->f[i];
		const struct ds_upgrade *u = &s->up[f->upgrade];
		const char *level = risk_priority_level_name(f->level);
		struct ds_old *o = old_find(old, first, f->host, u->ident);

		if (o) {
			o->seen = 1;
			if (o->upgrade == u->dbid && o->priority == f->priority) {
				s->res->unchanged++;
				continue;
			}
			sqlite3_reset(upd);
			sqlite3_bind_int64(upd, 1, u->dbid);
			sqlite3_bind_int(upd, 2, f->priority);
			sqlite3_bind_text(upd, 3, level, -1, SQLITE_STATIC);
			sqlite3_bind_int64(upd, 4, o->id);
			rc = store_step_done(s->st, upd, s->err);
			s->res->updated++;
			continue;
		}
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, s->hosts[f->host].id);
		sqlite3_bind_int64(ins, 2, u->dbid);
		sqlite3_bind_int(ins, 3, f->priority);
		sqlite3_bind_text(ins, 4, level, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, s->now, -1, SQLITE_STATIC);
		rc = store_step_done(s->st, ins, s->err);
		s->res->opened++;
	}
	for (size_t i = 0; rc == 0 && i < nold; i++) {
		if (old[i].seen)
			continue;
		sqlite3_reset(res);
		sqlite3_bind_text(res, 1, s->now, -1, SQLITE_STATIC);
		bind_opt(res, 2, s->hosts[old[i].host].prev_evaluated);
		sqlite3_bind_int64(res, 3, old[i].id);
		rc = store_step_done(s->st, res, s->err);
		s->res->resolved++;
	}
	return rc;
}

static int host_scans_write(struct ds *s)
{
	PL_AUTOSTMT sqlite3_stmt *ev = NULL, *sk = NULL;
	int rc = 0;

	if (prepare(s,
	            "INSERT INTO host_scans (host_id, scan_id, scanned_at, evaluated_at, release,"
	            " arch, indexes, packages, findings, unfixed, missing, note, exposure,"
	            " environment, critical, firewall, edr)"
	            " VALUES (?1,?2,?3,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)"
	            " ON CONFLICT (host_id) DO UPDATE SET scan_id = ?2, scanned_at = ?3,"
	            " evaluated_at = ?3, release = ?4, arch = ?5, indexes = ?6, packages = ?7,"
	            " findings = ?8, unfixed = ?9, missing = ?10, note = ?11, exposure = ?12,"
	            " environment = ?13, critical = ?14, firewall = ?15, edr = ?16",
	            &ev) < 0 ||
	    prepare(s,
	            "INSERT INTO host_scans (host_id, scan_id, scanned_at, release, arch, note)"
	            " VALUES (?1,?2,?3,?4,?5,?6) ON CONFLICT (host_id) DO UPDATE SET"
	            " scan_id = ?2, scanned_at = ?3, note = ?6",
	            &sk) < 0)
		return PL_EDB;
	for (size_t i = 0; rc == 0 && i < s->nhosts; i++) {
		const struct ds_host *h = &s->hosts[i];
		sqlite3_stmt *q = h->evaluated ? ev : sk;

		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, h->id);
		sqlite3_bind_int64(q, 2, s->scan_id);
		sqlite3_bind_text(q, 3, s->now, -1, SQLITE_STATIC);
		bind_opt(q, 4, h->release);
		bind_opt(q, 5, h->arch);
		if (!h->evaluated) {
			bind_opt(q, 6, h->note);
			rc = store_step_done(s->st, q, s->err);
			continue;
		}
		sqlite3_bind_int64(q, 6, (sqlite3_int64)h->nindexes);
		sqlite3_bind_int64(q, 7, (sqlite3_int64)h->packages);
		sqlite3_bind_int64(q, 8, (sqlite3_int64)h->findings);
		sqlite3_bind_int64(q, 9, (sqlite3_int64)h->unfixed);
		sqlite3_bind_int64(q, 10, (sqlite3_int64)h->missing);
		bind_opt(q, 11, h->note);
		bind_opt(q, 12, risk_exposure_name(h->ctx.exposure));
		bind_opt(q, 13, risk_environment_name(h->ctx.environment));
		sqlite3_bind_int(q, 14, h->ctx.critical);
		if (h->ctx.firewall >= 0)
			sqlite3_bind_int(q, 15, h->ctx.firewall);
		else
			sqlite3_bind_null(q, 15);
		if (h->ctx.edr >= 0)
			sqlite3_bind_int(q, 16, h->ctx.edr);
		else
			sqlite3_bind_null(q, 16);
		rc = store_step_done(s->st, q, s->err);
	}
	return rc;
}

static int scan_begin(struct ds *s)
{
	PL_AUTOSTMT sqlite3_stmt *q = NULL;

	if (prepare(s, "INSERT INTO scans (started_at) VALUES (?) RETURNING id", &q) < 0)
		return PL_EDB;
	sqlite3_bind_text(q, 1, s->now, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW)
		return store_error(s->st, s->err, "recording the scan");
	s->scan_id = sqlite3_column_int64(q, 0);
	return 0;
}

static json_t *result_counts(const struct detect_dbscan_result *r)
{
	json_t *sev = json_object(), *lvl = json_object();

	json_object_set_new(sev, "none", json_integer((json_int_t)r->by_severity[0]));
	for (int i = DETECT_URG_UNIMPORTANT; i <= DETECT_URG_HIGH; i++)
		json_object_set_new(sev, detect_urgency_name(i),
		                    json_integer((json_int_t)r->by_severity[i + 1]));
	for (int i = 1; i <= 4; i++)
		json_object_set_new(lvl, risk_priority_level_name(i),
		                    json_integer((json_int_t)r->by_level[i - 1]));
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
	                 "hosts", (json_int_t)r->hosts, "scanned", (json_int_t)r->scanned,
	                 "skipped", (json_int_t)r->skipped, "packages", (json_int_t)r->packages,
	                 "rebuilt", (json_int_t)r->rebuilt, "findings", (json_int_t)r->findings,
	                 "opened", (json_int_t)r->opened, "updated", (json_int_t)r->updated,
	                 "unchanged", (json_int_t)r->unchanged, "resolved", (json_int_t)r->resolved,
	                 "unfixed", (json_int_t)r->unfixed, "missing", (json_int_t)r->missing,
	                 "by_severity", sev, "by_priority", lvl);
}

static int scan_end(struct ds *s, double t0)
{
	PL_AUTOSTMT sqlite3_stmt *q = NULL;
	PL_AUTOFREE char *summary = NULL;
	struct detect_dbscan_result *r = s->res;
	json_t *counts;

	for (size_t i = 0; i < s->nhosts; i++) {
		const struct ds_host *h = &s->hosts[i];

		if (h->evaluated) {
			r->scanned++;
			r->packages += h->packages;
			r->unfixed += h->unfixed;
			r->missing += h->missing;
		} else {
			r->skipped++;
		}
		if (h->note)
			json_array_append_new(r->notes,
			                      json_pack("{s:s, s:s, s:b}", "host", h->name, "note",
			                                h->note, "skipped", !h->evaluated));
		if (s->o->host_details)
			json_array_append_new(
			    r->details,
			    json_pack("{s:s, s:s?, s:s?, s:b, s:I, s:I, s:I, s:I, s:s?}", "host",
			              h->name, "release", h->release, "arch", h->arch, "scanned",
			              h->evaluated, "packages", (json_int_t)h->packages, "findings",
			              (json_int_t)h->findings, "unfixed", (json_int_t)h->unfixed,
			              "missing", (json_int_t)h->missing, "note", h->note));
	}
	r->hosts = s->nhosts;
	r->findings = s->nf;
	r->seconds = pl_monotonic() - t0;
	counts = result_counts(r);
	summary = json_dumps(counts, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(counts);
	if (prepare(s,
	            "UPDATE scans SET seconds = ?, hosts = ?, scanned = ?, skipped = ?,"
	            " findings = ?, opened = ?, resolved = ?, summary = ? WHERE id = ?",
	            &q) < 0)
		return PL_EDB;
	sqlite3_bind_double(q, 1, r->seconds);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)r->hosts);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)r->scanned);
	sqlite3_bind_int64(q, 4, (sqlite3_int64)r->skipped);
	sqlite3_bind_int64(q, 5, (sqlite3_int64)r->findings);
	sqlite3_bind_int64(q, 6, (sqlite3_int64)r->opened);
	sqlite3_bind_int64(q, 7, (sqlite3_int64)r->resolved);
	sqlite3_bind_text(q, 8, summary, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 9, s->scan_id);
	r->scan_id = (long)s->scan_id;
	return store_step_done(s->st, q, s->err);
}

static int scan_write(struct ds *s)
{
	double t0 = pl_progress_begin(s->o->progress, "write", "%zu finding(s)", s->nf);
	int rc = upgrades_write(s);

	if (rc == 0)
		rc = findings_write(s);
	if (rc == 0)
		rc = host_scans_write(s);
	if (rc == 0)
		rc = store_exec(
		    s->st, "DELETE FROM scan_dirty WHERE host_id NOT IN (SELECT id FROM hosts)",
		    s->err);
	pl_progress_end(s->o->progress, "write", rc, t0);
	return rc;
}

static void ds_free(struct ds *s)
{
	sqlite3_stmt **stmts[] = {&s->q_blob,    &s->q_pkgs, &s->q_newpkg, &s->q_setblob,
	                          &s->q_undirty, &s->q_cvss, &s->q_epss,   &s->q_kev};

	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
		store_stmt_finalizep(stmts[i]);
	for (size_t i = 0; i < s->nhosts; i++)
		host_clear(&s->hosts[i]);
	free(s->hosts);
	for (size_t i = 0; i < s->ngroups; i++) {
		detect_index_free(s->groups[i]->ix);
		free(s->groups[i]->eval);
		free(s->groups[i]);
	}
	free(s->groups);
	for (size_t i = 0; i < s->nrels; i++) {
		detect_feed_free(s->rels[i]->feed);
		free(s->rels[i]->open);
		free(s->rels[i]);
	}
	free(s->rels);
	for (size_t i = 0; i < s->nup; i++)
		free(s->up[i].cves);
	free(s->up);
	free(s->risk);
	free(s->f);
	free(s->stamp);
	free(s->tuples);
	detect_strtab_free(&s->str);
	detect_strtab_free(&s->keys);
	detect_strtab_free(&s->idents);
	detect_strtab_free(&s->cves);
	free(s->bydbid);
	detect_u64map_free(&s->dirty);
	detect_u64map_free(&s->hostidx);
}

void detect_dbscan_result_release(struct detect_dbscan_result *r)
{
	json_decref(r->notes);
	json_decref(r->details);
	memset(r, 0, sizeof(*r));
}

int detect_dbscan(struct store *st, const struct detect_dbscan_opts *o,
                  struct detect_dbscan_result *res, struct pl_err *err)
{
	static const struct detect_dbscan_opts none = {0};
	struct ds s = {0};
	double t0 = pl_monotonic(), tp;
	int rc;

	memset(res, 0, sizeof(*res));
	res->notes = json_array();
	res->details = json_array();
	s.st = st;
	s.o = o ? o : &none;
	s.err = err;
	s.res = res;
	pl_time_iso(pl_clock_now(s.o->clock), s.now);
	/* a larger page cache for this connection while the scan runs: the
	 * cold scan inserts every finding into two indexes (SQLite's default
	 * is 2 MB) */
	rc = store_exec(st, "PRAGMA cache_size = -65536", err);
	if (rc == 0)
		rc = tuples_load(&s);
	if (rc == 0)
		rc = named_check(&s);
	if (rc == 0)
		rc = cache_refresh(&s);
	/* No foreign key lookups for the scan's transaction (two a finding,
	 * 1.6 million on a fleet's first scan): it writes findings of the hosts
	 * it reads and the upgrades it writes inside that one IMMEDIATE
	 * transaction, and deletes nothing a key points to. The pragma is a
	 * no-op inside a transaction, so it is set before. */
	if (rc == 0)
		rc = store_exec(st, "PRAGMA foreign_keys = OFF", err);
	if (rc < 0 || store_begin(st, err) < 0) {
		sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
		sqlite3_exec(st->db, "PRAGMA cache_size = -2000", NULL, NULL, NULL);
		detect_dbscan_result_release(res);
		ds_free(&s);
		return err->code;
	}
	tp = pl_progress_begin(s.o->progress, "hosts", "reading the inventory");
	rc = hosts_load(&s);
	pl_progress_end(s.o->progress, "hosts", rc, tp);
	if (rc == 0)
		rc = scan_begin(&s);
	if (rc == 0)
		rc = dirty_load(&s);
	if (rc == 0)
		rc = hosts_evaluate(&s);
	if (rc == 0)
		rc = upgrades_risk(&s);
	if (rc == 0) {
		findings_priority(&s);
		rc = scan_write(&s);
	}
	if (rc == 0)
		rc = scan_end(&s, t0);
	if (rc == 0)
		rc = store_commit(st, err);
	if (rc < 0) {
		store_rollback(st);
		detect_dbscan_result_release(res);
	}
	sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	sqlite3_exec(st->db, "PRAGMA cache_size = -2000", NULL, NULL, NULL);
	ds_free(&s);
	return rc;
}
