/*
 * inventory.h - production hosts and the packages they run.
 *
 * Owns: the hosts and host_packages tables; parsing and validating host
 * lists (CSV with a header line, or a JSON array, told apart by content);
 * importing them in one transaction (an existing name is updated); adding,
 * removing, listing and showing hosts; replacing a host's package list from
 * dpkg's status file or from `rpm -qa --qf '%{NAME}\t%{EPOCH}:%{VERSION}-
 * %{RELEASE}\t%{ARCH}\n'` output.
 * Also: the vocabulary of security controls (firewall, edr, exposure, ...)
 * and a host's context for the risk score; discovering the domains of a
 * libvirt connection by reading their disks read-only with libguestfs
 * (through src/guest); drift: per role and environment, the OS and package
 * versions that differ from the majority.
 * Does not own: the risk score (src/risk), libvirt connections (src/lab),
 * libguestfs handles (src/guest), parsing dpkg's status file (src/pkgdb) or
 * version syntax (src/version).
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

/* ---- security controls ---------------------------------------------------- */

/* What values a control takes. */
enum inv_control_kind {
	INV_CONTROL_ONOFF,      /* on | off (true | false), stored as a boolean */
	INV_CONTROL_ONOFF_NAME, /* on | off, or a product name (a-z 0-9 . _ -) */
	INV_CONTROL_CHOICE      /* one word of a fixed list, stored as a string */
};

/* One control of the vocabulary. */
struct inv_control_def {
	const char *key;
	enum inv_control_kind kind;
	const char *const *choices; /* INV_CONTROL_CHOICE only, NULL-terminated */
	const char *summary;
};

/* The vocabulary: firewall, edr, exposure, backup, mfa, patch-agent,
 * disk-encryption (static; *n gets the count). */
const struct inv_control_def *inv_controls(size_t *n);

/* Checks v as the value of control key; returns the value to store (a new
 * reference: "on"/"true" and "off"/"false" become booleans) or NULL with a
 * message in msg ("unknown control (one of ...)", "'x' is not one of on,
 * off"), which does not name the key: callers add it. */
json_t *inv_control_value(const char *key, json_t *v, char *msg, size_t msgsize);

/* A control's value as text: "on", "off", a product name or a choice. */
const char *inv_control_text(json_t *v);

/* "on"/"off"/unknown, for controls that are switches. */
enum inv_onoff { INV_UNKNOWN = -1, INV_OFF = 0, INV_ON = 1 };

/* Network exposure, ordered from least to most exposed. */
enum inv_exposure {
	INV_EXPOSURE_UNKNOWN = 0,
	INV_EXPOSURE_ISOLATED,
	INV_EXPOSURE_INTERNAL,
	INV_EXPOSURE_INTERNET
};

/* What the risk score needs to know about a host. Strings owned (NULL when
 * unset); the enum inv_onoff members are INV_UNKNOWN when the control is
 * not recorded. edr and patch_agent are INV_ON when a product is named. */
struct inv_host_context {
	char *name, *role, *environment;
	enum inv_exposure exposure;
	int firewall, edr, backup, mfa, patch_agent, disk_encryption;
	char *edr_product, *patch_agent_product; /* when named, else NULL */
	json_t *controls;                        /* every control, owned */
};

/* Fills *out with host name's role, environment, exposure and controls;
 * PL_ENOTFOUND when absent. Release with inv_host_context_clear(). */
int inv_host_context(struct store *st, const char *name, struct inv_host_context *out,
                     struct pl_err *err);
void inv_host_context_clear(struct inv_host_context *c);

/* A list of hosts; zero-initialise (INV_HOSTLIST_INIT). */
struct inv_hostlist {
	struct inv_host *hosts;
	size_t n, cap;
};
#define INV_HOSTLIST_INIT                                                                          \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* One installed package of a host; strings owned, source* may be NULL. */
struct inv_pkg {
	char *name, *arch, *version, *source, *source_version, *status;
};

struct inv_pkglist {
	struct inv_pkg *pkgs;
	size_t n, cap;
};
#define INV_PKGLIST_INIT                                                                           \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

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

/* Parses "key=value" into controls, checked and normalised by
 * inv_control_value(); -1 with a message naming the key in msg otherwise.
 * With allow_unset, "key=" removes the control. */
int inv_control_add(json_t *controls, const char *kv, int allow_unset, char *msg, size_t msgsize);

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

/* The database scan's view of one package row, one rule for both sides:
 * patchlab's writers pack a host's set with it at import (pkgset.c) and
 * the scan rebuilds a set from host_packages with it (src/detect). 1 with
 * v[] = name, arch, version, source, source version when the row counts
 * (installed by its status, with a version and an architecture; a missing
 * source is the package's own name, a missing source version its
 * version), 0 when it does not. */
int inv_pkg_scan_fields(const char *name, const char *arch, const char *version,
                        const char *source, const char *source_version, const char *status,
                        const char *v[5]);

/* Imports every package list of directory dir in one transaction: each
 * regular file is HOST.status (a dpkg status file) or HOST.rpmqa (rpm -qa
 * in the format above) and replaces HOST's packages. Any other file, an
 * unknown host, a bad list: nothing changes, and the error names the file.
 * Counts the hosts and packages into *hosts and *packages. */
int inv_packages_import_dir(struct store *st, const char *dir, const struct pl_progress *progress,
                            size_t *hosts, size_t *packages, struct pl_err *err);

/* Changes host name's fields that h sets: each non-NULL string, tags when
 * set_tags, the libvirt pair together; controls are merged key by key (a
 * JSON null removes one). PL_ENOTFOUND when absent. */
int inv_host_update(struct store *st, const char *name, const struct inv_host *h, int set_tags,
                    struct pl_err *err);

/* ---- discovery ------------------------------------------------------------ */

struct inv_discover_opts {
	const char *uri;            /* the libvirt connection, stored as written */
	const char *const *domains; /* only these (NULL-terminated); NULL: all */
	int dry_run;                /* say what would be inspected: no launch, no write */
	int live;                   /* inspect running domains too (see discover.c) */
	int force_tcg;              /* libguestfs without KVM */
	const struct pl_progress *progress;
};

/*
 * Lists the domains of o->uri and reads each one's disks (file, block and
 * pool volumes; CD-ROMs and floppies skipped) read-only with libguestfs:
 * OS, distro, version, hostname, arch, product and installed packages. Each
 * domain is written in one transaction: the host linked to uri+domain, else
 * a new host named after the domain; user-set fields (role, owner,
 * environment, tags, controls, ...) are kept. Running domains are skipped
 * unless o->live. A domain that fails is reported in its result and the
 * others go on. *out is a JSON array, one object per domain: domain, host,
 * result (added, updated, unchanged, skipped, failed; "would add" and the
 * like with dry_run), reason, disks, os, os_version, hostname, arch,
 * product, packages, seconds. Returns 0, PL_EFAIL ("N of M domains failed")
 * when some failed, or another code when nothing could be done (connection,
 * an unknown --domain).
 */
int inv_discover(struct store *st, const struct inv_discover_opts *o, json_t **out,
                 struct pl_err *err);

/* ---- drift ---------------------------------------------------------------- */

/*
 * Per (role, environment) group of hosts (filtered by role and environment
 * when not NULL): the majority OS and version and the hosts that differ,
 * and per installed package the majority version and the hosts with
 * another version, without it (when most have it) or with it (when most do
 * not). Ties: a present package beats an absent one, then the higher
 * version wins (dpkg order for dpkg lists, rpm order for rpm lists). Hosts
 * without a package list take no part in package drift. *out is a JSON
 * array of groups (see drift.c for the fields), in role then environment
 * order, unset last.
 */
int inv_drift(struct store *st, const char *role, const char *environment, json_t **out,
              struct pl_err *err);

#endif
