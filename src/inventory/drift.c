/*
 * drift.c - what differs from the majority within a role and environment.
 *
 * Hosts that share a role and an environment should run the same OS
 * version and the same packages at the same versions; drift lists where
 * they do not. For each group:
 *
 * - OS: the majority (os, os_version) pair and the hosts with another;
 *   hosts with neither recorded are listed as unknown and take no part.
 * - Packages (installed ones: dpkg's state or rpm's word "installed"), over
 *   the hosts that have a package list at all: for each name, every host
 *   holds one version or none, and the most common of these wins. Hosts
 *   with another version differ ("other"); when most hosts have the package
 *   those without it differ ("missing"), when most do not those with it do
 *   ("extra"). A host with one name for several architectures counts its
 *   highest version.
 * - Ties: a present package beats an absent one, then the higher version
 *   wins (dpkg order for dpkg lists, rpm order for rpm lists, byte order
 *   for a version neither parses); for the OS the higher os_version (dpkg
 *   order), then the OS name first in byte order. The higher version is the
 *   one the others would be brought up to.
 *
 * Output, one object per group: role, environment (null when unset),
 * hosts (count), with_packages (count), without_packages (names), os
 * {majority: {os, os_version} or null, count, differ: [{host, os,
 * os_version}], unknown: [names]}, packages: [{name, majority (a version,
 * or null when most hosts lack it), count, differ: [{host, version (null
 * when missing), state}]}] listing only names where some host differs.
 */
#include "inventory-private.h"

#include "version/version.h"

struct drift_host {
	char *name, *os, *os_version;
	int has_packages;
};

struct drift_group {
	char *role, *environment;
	struct drift_host *hosts; /* by name */
	size_t n, cap;
};

static void drift_group_clear(struct drift_group *g)
{
	free(g->role);
	free(g->environment);
	for (size_t i = 0; i < g->n; i++) {
		free(g->hosts[i].name);
		free(g->hosts[i].os);
		free(g->hosts[i].os_version);
	}
	free(g->hosts);
	memset(g, 0, sizeof(*g));
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Version order: 1 for dpkg, 0 for rpm; byte order when either fails. */
static int version_cmp(const char *a, const char *b, int deb)
{
	const char *msg;

	if (deb) {
		struct version_deb x, y;

		if (version_deb_parse(a, strlen(a), &x, &msg) == 0 &&
		    version_deb_parse(b, strlen(b), &y, &msg) == 0)
			return version_deb_cmp(&x, &y);
	} else {
		struct version_rpm x, y;

		if (version_rpm_parse(a, strlen(a), &x, &msg) == 0 &&
		    version_rpm_parse(b, strlen(b), &y, &msg) == 0)
			return version_rpm_cmp(&x, &y);
	}
	return strcmp(a, b);
}

/* ---- OS ------------------------------------------------------------------- */

/* 1 if (os, ver) with count n beats the best so far. */
static int os_better(const struct drift_host *c, size_t n, const struct drift_host *best,
                     size_t best_n)
{
	int v;

	if (!best || n != best_n)
		return !best || n > best_n;
	v = version_deb_verrevcmp(c->os_version ? c->os_version : "",
	                          c->os_version ? strlen(c->os_version) : 0,
	                          best->os_version ? best->os_version : "",
	                          best->os_version ? strlen(best->os_version) : 0);
	if (v)
		return v > 0;
	return strcmp(c->os ? c->os : "", best->os ? best->os : "") < 0;
}

static int os_known(const struct drift_host *h)
{
	return h->os || h->os_version;
}

static json_t *drift_os(const struct drift_group *g, int *drifted)
{
	const struct drift_host *best = NULL;
	size_t best_n = 0;
	json_t *differ = json_array(), *unknown = json_array();

	for (size_t i = 0; i < g->n; i++) {
		const struct drift_host *c = &g->hosts[i];
		size_t n = 0;

		if (!os_known(c))
			continue;
		for (size_t k = 0; k < g->n; k++)
			n += os_known(&g->hosts[k]) && same_str(c->os, g->hosts[k].os) &&
			     same_str(c->os_version, g->hosts[k].os_version);
		if (os_better(c, n, best, best_n)) {
			best = c;
			best_n = n;
		}
	}
	for (size_t i = 0; i < g->n; i++) {
		const struct drift_host *h = &g->hosts[i];

		if (!os_known(h))
			json_array_append_new(unknown, json_string(h->name));
		else if (!same_str(h->os, best->os) || !same_str(h->os_version, best->os_version))
			json_array_append_new(differ,
			                      json_pack("{s:s, s:s?, s:s?}", "host", h->name, "os",
			                                h->os, "os_version", h->os_version));
	}
	if (json_array_size(differ))
		*drifted = 1;
	return json_pack(
	    "{s:o, s:I, s:o, s:o}", "majority",
	    best ? json_pack("{s:s?, s:s?}", "os", best->os, "os_version", best->os_version)
	         : json_null(),
	    "count", (json_int_t)best_n, "differ", differ, "unknown", unknown);
}

/* ---- packages ------------------------------------------------------------- */

/* The rows of one package name in a group: versions by host. */
struct drift_pkg {
	char *name;
	int deb;         /* the first row came from dpkg */
	char **versions; /* one per group host, NULL when absent */
};

static int host_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct drift_host *)elem)->name);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The package's majority version (NULL: most lack it) and its count; the
 * versions are sorted so that equal ones are counted as runs. */
static const char *pkg_majority(const struct drift_group *g, const struct drift_pkg *p,
                                size_t nwith, size_t *count)
{
	const char **v = pl_calloc(g->n ? g->n : 1, sizeof(*v));
	const char *best = NULL;
	size_t best_n = 0, present = 0;

	for (size_t i = 0; i < g->n; i++)
		if (p->versions[i])
			v[present++] = p->versions[i];
	qsort(v, present, sizeof(*v), str_cmp);
	for (size_t i = 0, j; i < present; i = j) {
		for (j = i + 1; j < present && strcmp(v[j], v[i]) == 0; j++)
			;
		if (!best || j - i > best_n ||
		    (j - i == best_n && version_cmp(v[i], best, p->deb) > 0)) {
			best = v[i];
			best_n = j - i;
		}
	}
	free(v);
	/* absent wins only with strictly more hosts: a tie keeps the package */
	if (nwith - present > best_n) {
		*count = nwith - present;
		return NULL;
	}
	*count = best_n;
	return best;
}

static json_t *drift_pkg_json(const struct drift_group *g, const struct drift_pkg *p, size_t nwith)
{
	size_t count;
	const char *maj = pkg_majority(g, p, nwith, &count);
	json_t *differ = json_array();

	for (size_t i = 0; i < g->n; i++) {
		const struct drift_host *h = &g->hosts[i];
		const char *v = p->versions[i];

		if (!h->has_packages)
			continue;
		if (maj && !v)
			json_array_append_new(differ, json_pack("{s:s, s:n, s:s}", "host", h->name,
			                                        "version", "state", "missing"));
		else if (maj && strcmp(v, maj) != 0)
			json_array_append_new(differ, json_pack("{s:s, s:s, s:s}", "host", h->name,
			                                        "version", v, "state", "other"));
		else if (!maj && v)
			json_array_append_new(differ, json_pack("{s:s, s:s, s:s}", "host", h->name,
			                                        "version", v, "state", "extra"));
	}
	if (!json_array_size(differ)) {
		json_decref(differ);
		return NULL;
	}
	return json_pack("{s:s, s:s?, s:I, s:o}", "name", p->name, "majority", maj, "count",
	                 (json_int_t)count, "differ", differ);
}

static void drift_pkg_reset(struct drift_pkg *p, size_t n)
{
	free(p->name);
	p->name = NULL;
	for (size_t i = 0; i < n; i++) {
		free(p->versions[i]);
		p->versions[i] = NULL;
	}
}

/* Adds one row (host, version) to p; a second row of a host (another
 * architecture) keeps the higher version. */
static void drift_pkg_add(const struct drift_group *g, struct drift_pkg *p, const char *host,
                          const char *version)
{
	const struct drift_host *h = bsearch(host, g->hosts, g->n, sizeof(*g->hosts), host_cmp);
	char **slot;

	if (!h || !version)
		return;
	slot = &p->versions[h - g->hosts];
	if (*slot && version_cmp(version, *slot, p->deb) <= 0)
		return;
	free(*slot);
	*slot = pl_strdup(version);
}

static const char DRIFT_PKG_SQL[] =
    "SELECT p.name, h.name, p.version, p.status FROM host_packages p"
    " JOIN hosts h ON h.id = p.host_id WHERE h.role IS ?1 AND h.environment IS ?2"
    " ORDER BY p.name, h.name";

static int drift_packages(struct store *st, const struct drift_group *g, size_t nwith, json_t *out,
                          int *drifted, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	struct drift_pkg p = {NULL, 0, pl_calloc(g->n ? g->n : 1, sizeof(char *))};
	int rc;

	if (store_prepare(st, DRIFT_PKG_SQL, &s, err) < 0) {
		free(p.versions);
		return PL_EDB;
	}
	inv_bind_opt(s, 1, g->role);
	inv_bind_opt(s, 2, g->environment);
	for (;;) {
		const char *name = NULL;
		json_t *j;

		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			name = store_col_text(s, 0);
		if (p.name && (!name || strcmp(name, p.name) != 0)) {
			if ((j = drift_pkg_json(g, &p, nwith))) {
				json_array_append_new(out, j);
				*drifted = 1;
			}
			drift_pkg_reset(&p, g->n);
		}
		if (rc != SQLITE_ROW)
			break;
		if (!inv_pkg_installed(store_col_text(s, 3)))
			continue;
		if (!p.name) {
			p.name = pl_strdup(name);
			p.deb = strchr(store_col_text(s, 3), ' ') != NULL;
		}
		drift_pkg_add(g, &p, store_col_text(s, 1),
		              store_col_opt(s, 2));
	}
	drift_pkg_reset(&p, g->n);
	free(p.versions);
	return rc == SQLITE_DONE ? 0 : store_error(st, err, "reading the packages of a group");
}

/* ---- groups --------------------------------------------------------------- */

static int drift_group_json(struct store *st, const struct drift_group *g, json_t **out,
                            struct pl_err *err)
{
	json_t *without = json_array(), *pkgs = json_array(), *os;
	size_t nwith = 0;
	int drifted = 0;

	for (size_t i = 0; i < g->n; i++) {
		if (g->hosts[i].has_packages)
			nwith++;
		else
			json_array_append_new(without, json_string(g->hosts[i].name));
	}
	if (drift_packages(st, g, nwith, pkgs, &drifted, err) < 0) {
		json_decref(without);
		json_decref(pkgs);
		return err->code;
	}
	os = drift_os(g, &drifted);
	*out =
	    json_pack("{s:s?, s:s?, s:I, s:I, s:o, s:b, s:o, s:o}", "role", g->role, "environment",
	              g->environment, "hosts", (json_int_t)g->n, "with_packages", (json_int_t)nwith,
	              "without_packages", without, "drift", drifted, "os", os, "packages", pkgs);
	return 0;
}

static const char DRIFT_HOSTS_SQL[] =
    "SELECT h.name, h.role, h.environment, h.os, h.os_version,"
    " EXISTS (SELECT 1 FROM host_packages p WHERE p.host_id = h.id)"
    " FROM hosts h WHERE (?1 IS NULL OR h.role = ?1) AND (?2 IS NULL OR h.environment = ?2)"
    " ORDER BY h.role IS NULL, h.role, h.environment IS NULL, h.environment, h.name";

int inv_drift(struct store *st, const char *role, const char *environment, json_t **out,
              struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	struct drift_group g = {0};
	json_t *arr;
	int rc, have = 0;

	if (store_prepare(st, DRIFT_HOSTS_SQL, &s, err) < 0)
		return PL_EDB;
	inv_bind_opt(s, 1, role);
	inv_bind_opt(s, 2, environment);
	arr = json_array();
	for (;;) {
		json_t *j = NULL;

		rc = sqlite3_step(s);
		if (have && (rc != SQLITE_ROW ||
		             !same_str(g.role, (const char *)sqlite3_column_text(s, 1)) ||
		             !same_str(g.environment, (const char *)sqlite3_column_text(s, 2)))) {
			if (drift_group_json(st, &g, &j, err) < 0) {
				drift_group_clear(&g);
				json_decref(arr);
				return err->code;
			}
			json_array_append_new(arr, j);
			drift_group_clear(&g);
			have = 0;
		}
		if (rc != SQLITE_ROW)
			break;
		if (!have) {
			g.role = store_col_dup(s, 1);
			g.environment = store_col_dup(s, 2);
			have = 1;
		}
		if (g.n == g.cap) {
			g.cap = g.cap ? 2 * g.cap : 16;
			g.hosts = pl_realloc(g.hosts, g.cap * sizeof(*g.hosts));
		}
		g.hosts[g.n++] = (struct drift_host){store_col_dup(s, 0), store_col_dup(s, 3), store_col_dup(s, 4),
		                                     sqlite3_column_int(s, 5)};
	}
	if (rc != SQLITE_DONE) {
		drift_group_clear(&g);
		json_decref(arr);
		return store_error(st, err, "listing the hosts");
	}
	*out = arr;
	return 0;
}
