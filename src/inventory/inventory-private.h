/* inventory-private.h - internals shared by the files of src/inventory/. */
#ifndef PL_INVENTORY_PRIVATE_H
#define PL_INVENTORY_PRIVATE_H

#include "inventory.h"
#include "pkgdb/pkgdb.h"

/* 1 if s is a tag or a product name: 1-64 of a-z 0-9 . _ -. */
int inv_tag_ok(const char *s);

/* Binds v, or NULL when v is NULL, to parameter i. */
void inv_bind_opt(sqlite3_stmt *s, int i, const char *v);

/* Appends an audit entry about host (kind "host", the actor from the
 * environment) inside the caller's transaction; takes detail (NULL: {}). */
int inv_audit(struct store *st, const char *action, const char *host, json_t *detail,
              struct pl_err *err);

/* Looks host name up: 1 with *id set, 0 when absent, negative on error. */
int inv_host_id(struct store *st, const char *name, long *id, struct pl_err *err);

/* Replaces host id's packages with l, and the scan's packed set of them
 * (pkgset.c); the caller holds the transaction. */
int inv_packages_write(struct store *st, long id, const struct inv_pkglist *l, struct pl_err *err);

/* The scan's packed package sets (pkgset.c): a writer keeps the tuple ids
 * it has seen in memory, so a bulk import looks each distinct tuple up
 * once. Open and use it inside the caller's transaction. */
struct inv_pkgset;
int inv_pkgset_open(struct store *st, struct inv_pkgset **out, struct pl_err *err);
void inv_pkgset_close(struct inv_pkgset *ps);
/* Writes host's packed set of l's installed packages and clears its
 * scan_dirty mark. */
int inv_pkgset_write(struct inv_pkgset *ps, long host, const struct inv_pkglist *l,
                     struct pl_err *err);
/* inv_packages_write with the caller's set writer. */
int inv_packages_write_set(struct store *st, struct inv_pkgset *ps, long id,
                           const struct inv_pkglist *l, struct pl_err *err);

/* Appends a zeroed package to l and returns it. */
struct inv_pkg *inv_pkglist_push(struct inv_pkglist *l);

/* Appends dpkg's packages (status as "want eflag state") to out. */
void inv_pkglist_from_pkgdb(const struct pkgdb_pkglist *in, struct inv_pkglist *out);

/* Sorts by name, then architecture (byte order, as SQLite's ORDER BY). */
void inv_pkglist_sort(struct inv_pkglist *l);

/* Sorts l and keeps one entry per name and architecture, the highest
 * version in rpm order: rpm installs kernels side by side, the inventory
 * holds one version of each. */
void inv_pkglist_rpm_dedup(struct inv_pkglist *l);

/* 1 if a package row's status says it is installed: the last word of
 * dpkg's "want eflag state" or rpm's "installed" is "installed". */
int inv_pkg_installed(const char *status);

#endif
