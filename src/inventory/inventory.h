/*
 * inventory.h - production hosts and the packages they run.
 *
 * Owns: the hosts and host_packages tables; parsing and validating host
 * lists (CSV with a header line, or a JSON array, told apart by content);
 * importing them in one transaction (an existing name is updated); adding,
 * removing, listing and showing hosts; replacing a host's package list from
 * dpkg's status file or from `rpm -qa --qf '%{NAME}\t%{EPOCH}:%{VERSION}-
 * %{RELEASE}\t%{ARCH}\n'` output.
 * Does not own: discovering hosts (libvirt, libguestfs), drift or risk,
 * parsing dpkg's status file (src/pkgdb) or version syntax (src/version).
 *
 * Input errors (PL_EINVAL) name the file and line ("hosts.csv:3: field
 * 'ip': ...") or the JSON path ("hosts.json: $[2].environment: ...").
 */
#ifndef PL_INVENTORY_H
#define PL_INVENTORY_H

#include "core/core.h"
#include "store/store.h"

/* One host. Strings are owned (NULL when unset); tags is a JSON array of
 * strings and controls a JSON object, both owned (never NULL once parsed). */
struct inv_host {
	long id;
	char *name, *ip, *os, *os_version, *location, *owner, *role, *environment;
	json_t *tags, *controls;
	char *libvirt_uri, *libvirt_domain, *image;
	size_t line; /* line of the source it came from (CSV), 0 otherwise */
};

/* A list of hosts; zero-initialise (INV_HOSTLIST_INIT). */
struct inv_hostlist {
	struct inv_host *hosts;
	size_t n, cap;
};
#define INV_HOSTLIST_INIT {NULL, 0, 0}

/* One installed package of a host; strings owned, source* may be NULL. */
struct inv_pkg {
	char *name, *arch, *version, *source, *source_version, *status;
};

struct inv_pkglist {
	struct inv_pkg *pkgs;
	size_t n, cap;
};
#define INV_PKGLIST_INIT {NULL, 0, 0}

/* Frees a host's members and zeroes it. */
void inv_host_clear(struct inv_host *h);
/* Frees the hosts of a list and empties it. */
void inv_hostlist_free(struct inv_hostlist *l);
void inv_pkglist_free(struct inv_pkglist *l);

/* 1 if s is a valid host name: 1-64 of [A-Za-z0-9._-], first alphanumeric. */
int inv_name_ok(const char *s);

/* Checks one field's value (by its column name); 0, or -1 with a message
 * like "'prod' is not one of production, ..." in msg. */
int inv_field_check(const char *field, const char *value, char *msg, size_t msgsize);

/* Parses "key=value" into controls (true/false become booleans) and checks
 * it (exposure); -1 with a message in msg otherwise. */
int inv_control_add(json_t *controls, const char *kv, char *msg, size_t msgsize);

/* Parses a CSV host list (RFC 4180, header line naming the columns) held in
 * buf[0..len); source names the file in messages. Appends to *out; on error
 * *out is emptied. */
int inv_csv_parse(const char *buf, size_t len, const char *source, struct inv_hostlist *out,
		  struct pl_err *err);

/* Parses a JSON array of host objects; errors name the JSON path. */
int inv_json_parse(const char *buf, size_t len, const char *source, struct inv_hostlist *out,
		   struct pl_err *err);

/* Parses buf as JSON when its first non-blank byte is '[', else as CSV. */
int inv_parse(const char *buf, size_t len, const char *source, struct inv_hostlist *out,
	      struct pl_err *err);

/* Checks fields that depend on each other (libvirt URI and domain);
 * the others are checked while parsing. */
int inv_host_check(const struct inv_host *h, const char *where, struct pl_err *err);

/* Writes every host in one transaction: new names are inserted, existing
 * ones get all their fields replaced. Counts into *added and *updated. */
int inv_import(struct store *st, const struct inv_hostlist *l, size_t *added, size_t *updated,
	       struct pl_err *err);

/* Reads and imports a file (inv_parse + inv_import). */
int inv_import_file(struct store *st, const char *path, size_t *added, size_t *updated,
		    struct pl_err *err);

/* Inserts one host; PL_EEXIST when the name is taken. */
int inv_host_add(struct store *st, const struct inv_host *h, struct pl_err *err);

/* Removes a host and its packages; PL_ENOTFOUND when absent. */
int inv_host_remove(struct store *st, const char *name, struct pl_err *err);

/* Lists hosts by name, filtered by role and environment (NULL: any), as a
 * JSON array of host objects with a "packages" count; *out owned. */
int inv_host_list(struct store *st, const char *role, const char *environment, json_t **out,
		  struct pl_err *err);

/* One host as a JSON object (with "packages": a count, or with packages an
 * array of package objects when with_packages); PL_ENOTFOUND when absent. */
int inv_host_show(struct store *st, const char *name, int with_packages, json_t **out,
		  struct pl_err *err);

/* Parses `rpm -qa` output in the format above ("(none)" epochs dropped,
 * versions checked with version_rpm_parse); PL_EINVAL naming SOURCE:LINE. */
int inv_rpmqa_parse(const char *buf, size_t len, const char *source, struct inv_pkglist *out,
		    struct pl_err *err);

/* Reads a dpkg status file (every package dpkg-query lists, with its
 * "want eflag state" words as status) into *out. */
int inv_dpkg_load(const char *path, struct inv_pkglist *out, struct pl_err *err);

/* Replaces host's package list with l in one transaction. PL_ENOTFOUND
 * when the host does not exist. */
int inv_packages_set(struct store *st, const char *host, const struct inv_pkglist *l,
		     struct pl_err *err);

#endif
