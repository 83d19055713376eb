/*
 * detect: which installed packages miss a patch, and which CVEs it fixes.
 *
 * Owns: the candidate versions of a set of Packages indexes (the highest
 * version of each package name and architecture, as apt chooses with
 * default pins); the one-shot comparison of a dpkg status list against
 * them ("upgradable", equal to apt's answer for those indexes); and the
 * Debian Security Tracker JSON feed (data/json) reduced to one release,
 * matched on SOURCE package and source version.
 * Does not own: fetching indexes or feeds, signatures, decompression and
 * deb822/dpkg syntax (src/pkgdb), version order (src/version), pinning,
 * phased updates, Multi-Arch cross-grades, dependency resolution, risk
 * scores, the database, printing.
 *
 * Matching rules:
 * - An installed package (state "installed", with an architecture) is
 *   upgradable when the highest Packages version of the same name and
 *   architecture is strictly newer in dpkg order. An installed "all"
 *   package is matched by "all" stanzas only, an amd64 one by amd64 only.
 * - A CVE counts as fixed by the upgrade when, for the release, its status
 *   is "resolved", fixed_version is not "0" (never affected) and
 *   installed source version < fixed_version <= candidate source version.
 *   The installed package's source name is looked up; the candidate's
 *   source version comes from its stanza's "Source: name (version)"
 *   (or is the binary version).
 * - "open" and "undetermined" CVEs of an installed source are "unfixed".
 */
#ifndef PL_DETECT_H
#define PL_DETECT_H

#include "core/core.h"
#include "pkgdb/pkgdb.h"

/* The tracker's urgencies, in order; DETECT_URG_NONE for "no CVE". */
enum detect_urgency {
	DETECT_URG_NONE = -1,
	DETECT_URG_UNIMPORTANT = 0,
	DETECT_URG_LOW,
	DETECT_URG_MEDIUM,
	DETECT_URG_HIGH
};

/* Returns the word for u ("unimportant" ... "high", "-" for none). */
const char *detect_urgency_name(int u);

/* Parses a tracker urgency: the four words, "not yet assigned" (medium) and
 * "end-of-life" (unimportant: no fix will come through the archive); a
 * trailing "*" (the tracker's "guessed") is ignored. -1 if unknown. */
int detect_urgency_parse(const char *s);

/* ---- Packages indexes ---------------------------------------------------- */

/* The candidates of any number of Packages files; opaque. */
struct detect_index;

/* Returns a new, empty index; free with detect_index_free(). */
struct detect_index *detect_index_new(void);
void detect_index_free(struct detect_index *ix);

/* Adds the stanzas of a Packages text buf[0..len) (source names it in
 * messages). PL_EINVAL "SOURCE:LINE: what" on deb822 errors, a stanza
 * without Package, Version or Architecture, an invalid version (dpkg's
 * lenient forms are kept) or a malformed Source. */
int detect_index_add(struct detect_index *ix, const char *buf, size_t len, const char *source,
                     struct pl_err *err);

/* Reads a Packages file, plain, gzip or xz (by content), into ix. */
int detect_index_load(struct detect_index *ix, const char *path, struct pl_err *err);

/* Returns the number of stanzas added so far. */
size_t detect_index_count(const struct detect_index *ix);

/* ---- security feeds ------------------------------------------------------ */

/* The CVEs of one release from any number of tracker feeds; opaque. */
struct detect_feed;

/* Returns an empty feed for release (e.g. "bookworm", copied). */
struct detect_feed *detect_feed_new(const char *release);
void detect_feed_free(struct detect_feed *f);

/* Adds a parsed tracker document; source names the file in messages, which
 * give the JSON path ("f.json: $.openssl.CVE-2024-1.releases.bookworm.
 * fixed_version: ..."). Only the release's entries are checked and kept. */
int detect_feed_add_json(struct detect_feed *f, json_t *doc, const char *source,
                         struct pl_err *err);

/* Loads a tracker JSON file (syntax errors as FILE:LINE:COLUMN). */
int detect_feed_load(struct detect_feed *f, const char *path, struct pl_err *err);

/* ---- the scan ------------------------------------------------------------ */

/* One upgradable package; strings owned by the result. */
struct detect_upgrade {
	char *package, *arch;
	char *installed, *candidate;               /* binary versions */
	char *source;                              /* of the installed package */
	char *installed_source, *candidate_source; /* source versions */
	char **cves;                               /* fixed by the upgrade, sorted */
	size_t ncves;
	int severity; /* highest urgency of cves, DETECT_URG_NONE without */
};

/* One open or undetermined CVE of an installed package. */
struct detect_unfixed {
	char *package, *source, *cve;
	int urgency;
};

/* What a scan found; zero-initialise, free with detect_result_free(). */
struct detect_result {
	struct detect_upgrade *up; /* sorted by package, then arch */
	size_t nup;
	struct detect_unfixed *unfixed; /* sorted by package, then CVE */
	size_t nunfixed;
	size_t installed; /* installed packages considered */
	size_t indexed;   /* Packages stanzas read */
};

/* Compares the installed packages of pkgs (sorted, as pkgdb returns them)
 * with ix and, when feed is not NULL, with its CVEs. *out is overwritten. */
int detect_scan(const struct pkgdb_pkglist *pkgs, const struct detect_index *ix,
                const struct detect_feed *feed, struct detect_result *out, struct pl_err *err);

void detect_result_free(struct detect_result *r);

/* Returns the VERSION_CODENAME of an os-release file (caller frees), or
 * NULL when the file or the field is missing. */
char *detect_os_codename(const char *path);

#endif
