/*
 * detect: which installed packages miss a patch, and which CVEs it fixes.
 *
 * Owns: the candidate versions of a set of Packages indexes (the highest
 * version of each package name and architecture, as apt chooses with
 * default pins); the one-shot comparison of a dpkg status list against
 * them ("upgradable", equal to apt's answer for those indexes); and the
 * Debian Security Tracker JSON feed (data/json) reduced to one release,
 * matched on SOURCE package and source version; the vulnerability feeds
 * kept in the database (feeds and feed_* tables, schema 6): the tracker,
 * OSV advisories (a .json file, a directory of them, or a .zip such as
 * OSV's all.zip), FIRST's EPSS CSV and CISA's KEV catalogue, their parsers
 * (strict, errors naming the file and the JSON path or line), their sync
 * (fetch through src/net, replace one feed's rows in one transaction) and
 * the lookups the database-backed scan makes.
 * Does not own: transfers (src/net), signatures, decompression and
 * deb822/dpkg syntax (src/pkgdb), version order (src/version), the CVSS
 * calculator and risk scores (src/risk), pinning, phased updates,
 * Multi-Arch cross-grades, dependency resolution, printing.
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
#include "store/store.h"

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

/* The CVEs of one release from any number of tracker or OSV feeds; opaque. */
struct detect_feed;

/* Returns an empty feed for release (e.g. "bookworm", copied). */
struct detect_feed *detect_feed_new(const char *release);
void detect_feed_free(struct detect_feed *f);

/* Adds a parsed tracker document; source names the file in messages, which
 * give the JSON path ("f.json: $.openssl.CVE-2024-1.releases.bookworm.
 * fixed_version: ..."). Only the release's entries are checked and kept. */
int detect_feed_add_json(struct detect_feed *f, json_t *doc, const char *source,
                         struct pl_err *err);

/* Loads a tracker JSON file (syntax errors as FILE:LINE:COLUMN), or OSV
 * advisories: a JSON file holding an advisory (an object with "id" and
 * "modified") or an array, a directory or a zip of them. Plain, gzip or xz.
 * From OSV, the ECOSYSTEM ranges of the release's ecosystem ("Debian:12"
 * for bookworm: buster 10 to forky 14; other releases match nothing) count,
 * matched on the package name as a source package: a range with "fixed"
 * is a resolved CVE fixed there (its "introduced" is not used), one
 * without is open. Each CVE id the advisory names (its id, aliases,
 * upstream; else the advisory id) is one CVE; the urgency is the highest
 * CVSS v3 severity of the advisory (Critical and High: high, Medium:
 * medium, Low: low), medium without one. Feeds are not reconciled: a CVE
 * a tracker resolves and an OSV record leaves open is both. */
int detect_feed_load(struct detect_feed *f, const char *path, struct pl_err *err);

/* Adds the OSV advisories stored by 'feed sync' (every osv feed) by the
 * rules of detect_feed_load; withdrawn ones are left out. A fixed version
 * that is not a Debian version is an input error naming the advisory.
 * Call detect_feed_sort() after the last addition. */
int detect_feed_add_osv_store(struct detect_feed *f, struct store *st, struct pl_err *err);

/* Orders the entries by source and CVE id, as lookups need. */
void detect_feed_sort(struct detect_feed *f);

/* ---- vulnerability feeds: the documents ---------------------------------- */

/*
 * The four kinds of feed and what their parsers accept:
 *
 * debian-tracker: https://security-tracker.debian.org/tracker/data/json,
 *   {SRC: {CVE: {description, scope, debianbug, releases: {REL: {status,
 *   fixed_version, urgency, repositories, nodsa, nodsa_reason}}}}}. status
 *   is resolved, open or undetermined; a resolved entry needs a valid
 *   fixed_version ("0": never affected); urgency as detect_urgency_parse().
 *   Unknown keys are ignored, known ones are type-checked.
 * osv: the OSV schema 1.x (https://ossf.github.io/osv-schema/): one
 *   advisory per .json file (an array of advisories is accepted too). id
 *   and modified are required; affected[].ranges[] need type (ECOSYSTEM,
 *   SEMVER or GIT) and events, read in order: each "introduced" opens an
 *   interval that the next "fixed" or "last_affected" closes ("limit" is
 *   accepted and not kept). severity[] entries of type CVSS_V3 must hold a
 *   valid vector (src/risk); other types are kept as text. An affected
 *   entry without package (GIT-only) is checked and not kept.
 * epss: FIRST's CSV, optionally gzip or xz: an optional first line
 *   "#model_version:V,score_date:D", the header "cve,epss,percentile", then
 *   one CVE a line with two numbers in [0, 1].
 * kev: CISA's known_exploited_vulnerabilities.json: {title, catalogVersion,
 *   dateReleased, count, vulnerabilities: [{cveID, vendorProject, product,
 *   vulnerabilityName, dateAdded, dueDate, knownRansomwareCampaignUse, ...}]}.
 *   count is not checked against the list (excerpts keep the full count).
 *
 * Any feed file may be gzip- or xz-compressed (told by content); lz4, zstd
 * and bzip2 are refused by name. Bounds: an identifier (CVE, package,
 * release) is at most DETECT_MAX_ID bytes of printable ASCII, a version
 * DETECT_MAX_VERSION, a text (description, summary) DETECT_MAX_TEXT; a
 * file or zip entry at most DETECT_FEED_MAX_BYTES once decompressed.
 */
enum detect_feed_kind {
	DETECT_FEED_TRACKER = 0,
	DETECT_FEED_OSV,
	DETECT_FEED_EPSS,
	DETECT_FEED_KEV,
	DETECT_FEED_NKINDS
};

#define DETECT_MAX_ID         128
#define DETECT_MAX_VERSION    512
#define DETECT_MAX_TEXT       65536
#define DETECT_FEED_MAX_BYTES ((size_t)1 << 30)

/* "debian-tracker", "osv", "epss", "kev". */
const char *detect_feed_kind_name(int kind);
/* The kind named s, or -1. */
int detect_feed_kind_parse(const char *s);

/* One CVE of one source package in one release (pointers borrowed for the
 * callback only). */
struct detect_tracker_entry {
	const char *source, *cve, *release;
	const char *status;        /* "resolved", "open" or "undetermined" */
	const char *fixed_version; /* resolved only; "0": never affected */
	const char *urgency;       /* the tracker's word, or NULL */
	const char *nodsa;         /* why no DSA (free text), or NULL */
	const char *nodsa_reason;  /* "postponed", "ignored", ..., or NULL */
	const char *description;   /* of the CVE, or NULL */
	const char *scope;         /* "local", "remote", or NULL */
	long debianbug;            /* 0: none */
};

/* One affected interval of an OSV package; NULL where the event is absent. */
struct detect_osv_range {
	const char *type; /* ECOSYSTEM, SEMVER or GIT */
	const char *repo; /* GIT only */
	const char *introduced, *fixed, *last_affected;
};

struct detect_osv_affected {
	const char *ecosystem, *package;
	json_t *versions; /* the "versions" array, or NULL (borrowed) */
	struct detect_osv_range *ranges;
	size_t nranges;
};

/* One severity entry; score10 is the CVSS v3 base score or -1. */
struct detect_osv_severity {
	const char *type, *score;
	int score10;
};

/* One OSV advisory (pointers borrowed for the callback only). */
struct detect_osv_advisory {
	const char *id, *modified, *published, *withdrawn, *summary;
	const char **aliases; /* aliases, then upstream ids */
	size_t naliases, nupstream;
	struct detect_osv_affected *affected;
	size_t naffected;
	struct detect_osv_severity *severity; /* top level and per package */
	size_t nseverity;
};

struct detect_epss_row {
	const char *cve;
	double epss, percentile;
};

struct detect_kev_entry {
	const char *cve, *vendor, *product, *name;
	const char *date_added, *due_date; /* YYYY-MM-DD; due_date may be NULL */
	const char *ransomware;            /* "Known", "Unknown" or NULL */
};

/*
 * Where parsers hand their rows: a callback per kind (NULL: rows of that
 * kind are only checked) and info, an object the parsers add the feed's
 * own metadata to (EPSS model_version and score_date, KEV catalogVersion,
 * dateReleased and count, the files read) when it is not NULL. A callback
 * that fails stops the parse; its message gets the file and place prefixed.
 */
struct detect_sink {
	int (*tracker)(void *ctx, const struct detect_tracker_entry *e, struct pl_err *err);
	int (*osv)(void *ctx, const struct detect_osv_advisory *a, struct pl_err *err);
	int (*epss)(void *ctx, const struct detect_epss_row *r, struct pl_err *err);
	int (*kev)(void *ctx, const struct detect_kev_entry *e, struct pl_err *err);
	void *ctx;
	json_t *info;
};

/* Reads a tracker document; release NULL keeps every release, else only
 * that one (the others are checked for shape only). file names it. */
int detect_tracker_parse(json_t *doc, const char *file, const char *release,
                         const struct detect_sink *sink, struct pl_err *err);

/* Reads one OSV document (an advisory or an array of them). */
int detect_osv_parse(json_t *doc, const char *file, const struct detect_sink *sink,
                     struct pl_err *err);

/* Reads an EPSS CSV text buf[0..len) (already decompressed). Errors are
 * "FILE:LINE: what". */
int detect_epss_parse(const char *buf, size_t len, const char *file, const struct detect_sink *sink,
                      struct pl_err *err);

/* Reads a KEV catalogue document. */
int detect_kev_parse(json_t *doc, const char *file, const struct detect_sink *sink,
                     struct pl_err *err);

/* Parses JSON text buf[0..len) (duplicate keys refused); errors are
 * "FILE:LINE:COLUMN: what". *out is the caller's. */
int detect_json_parse(const char *buf, size_t len, const char *file, json_t **out,
                      struct pl_err *err);

/*
 * Reads a feed of kind from path into sink: a file (plain, gzip or xz), or
 * for osv also a directory (its *.json files, recursively, in name order,
 * hidden entries skipped) or a zip archive (by content: "PK\3\4"; its .json
 * entries, those under a hidden directory or __MACOSX/ skipped). When
 * sha256 is not NULL it receives the hash of the file's bytes ("" for a
 * directory). label (NULL: path) names a single file in messages, e.g.
 * the URL it was downloaded from. progress may be NULL.
 */
int detect_feed_read(int kind, const char *path, const char *label, const char *release,
                     const struct detect_sink *sink, const struct pl_progress *progress,
                     char sha256[65], struct pl_err *err);

/* ---- zip archives -------------------------------------------------------- */

/*
 * Calls fn for each file entry of the zip archive data[0..len) in central
 * directory order, with its name and inflated bytes (NUL-terminated).
 * Stored and deflate entries only; ZIP64 is read. Every offset and size is
 * bounds-checked; an entry must inflate to exactly its recorded size and
 * CRC-32, and the recorded sizes must not add up to more than max_total
 * (a zip bomb is bad input). Directories (names ending '/') are skipped.
 * Errors: PL_EINVAL "FILE: [ENTRY: ]what".
 */
int detect_zip_each(const void *data, size_t len, const char *file, uint64_t max_total,
                    int (*fn)(void *ctx, const char *name, const char *data, size_t len,
                              struct pl_err *err),
                    void *ctx, struct pl_err *err);

/* ---- vulnerability feeds: the database ----------------------------------- */

/* Adds feed name (letters, digits, '.', '_', '-'; at most 64 bytes) of
 * kind reading url (a URL libcurl takes, or a local path, made absolute);
 * release only for debian-tracker (NULL: every release). PL_EEXIST when
 * the name is taken, PL_EUSAGE for a bad name, release or URL. */
int detect_feedstore_add(struct store *st, const char *name, int kind, const char *url,
                         const char *release, struct pl_err *err);

/* Removes a feed and all its rows; PL_ENOTFOUND if there is none. */
int detect_feedstore_remove(struct store *st, const char *name, struct pl_err *err);

/* The feeds, sorted by name: [{name, kind, url, release, etag,
 * last_modified, sha256, bytes, synced_at, checked_at, counts, info}];
 * *out is the caller's. */
int detect_feedstore_list(struct store *st, json_t **out, struct pl_err *err);

/* One feed as in the list; PL_ENOTFOUND if there is none. */
int detect_feedstore_show(struct store *st, const char *name, json_t **out, struct pl_err *err);

struct detect_sync_opts {
	int force;                          /* re-read even if unchanged */
	const struct pl_progress *progress; /* NULL: silent */
	const struct pl_clock *clock;       /* NULL: the system clock */
	long timeout_s;                     /* transfer timeout; 0: src/net's */
};

/* What a sync did; free with detect_sync_result_release(). */
struct detect_sync_result {
	int not_modified; /* the server said 304: nothing read or written */
	int unchanged;    /* same SHA-256 as the last sync: rows kept */
	json_t *counts;   /* rows per table, e.g. {"tracker": 1200} */
	uint64_t bytes;
	double seconds;
};
void detect_sync_result_release(struct detect_sync_result *r);

/*
 * Syncs feed name: fetches its URL (conditionally, with the validators of
 * the last sync; local paths are read in place), parses it and replaces
 * the feed's rows in ONE transaction, recording the new validators,
 * SHA-256 and counts. Any failure (transfer, parse, database) leaves the
 * feed's rows and record as they were. Downloads go to STATE/feeds/ and
 * are removed once imported.
 */
int detect_feedstore_sync(struct store *st, const char *name, const struct detect_sync_opts *o,
                          struct detect_sync_result *res, struct pl_err *err);

/* ---- vulnerability feeds: lookups for the scan ---------------------------- */

/* A tracker row of one source package in one release; strings owned. */
struct detect_tracker_cve {
	char *cve, *status, *fixed_version; /* fixed_version NULL unless resolved */
	int urgency;                        /* enum detect_urgency */
	char *feed;
};

/* The tracker CVEs of source in release from every tracker feed, sorted by
 * CVE then feed. *out and its strings are the caller's:
 * detect_tracker_cves_free(). */
int detect_lookup_tracker(struct store *st, const char *release, const char *source,
                          struct detect_tracker_cve **out, size_t *n, struct pl_err *err);
void detect_tracker_cves_free(struct detect_tracker_cve *v, size_t n);

/* An OSV advisory's interval for one package; strings owned. */
struct detect_osv_fix {
	char *id;                                 /* the advisory */
	char *range_type;                         /* NULL for versions only */
	char *introduced, *fixed, *last_affected; /* NULL when absent */
	char **cves;                              /* CVE ids among id, aliases, upstream */
	size_t ncves;
	char *feed;
};

/* The OSV intervals of package in ecosystem (e.g. "Debian:12"), sorted by
 * advisory id; withdrawn advisories are left out. */
int detect_lookup_osv(struct store *st, const char *ecosystem, const char *package,
                      struct detect_osv_fix **out, size_t *n, struct pl_err *err);
void detect_osv_fixes_free(struct detect_osv_fix *v, size_t n);

/* What the feeds say of one CVE's risk. */
struct detect_cve_risk {
	int cvss10;                   /* highest CVSS v3 base score over sources, -1: none */
	char cvss_vector[257];        /* the vector that gave it ("" when none) */
	double epss, epss_percentile; /* -1: not in an EPSS feed */
	int kev;                      /* 1: in a KEV catalogue */
	char kev_date_added[11], kev_due_date[11];
	int kev_ransomware; /* 1: "Known" */
};

/* Fills *out for cve (absent data as documented above; never PL_ENOTFOUND). */
int detect_lookup_cve_risk(struct store *st, const char *cve, struct detect_cve_risk *out,
                           struct pl_err *err);

/* Everything the feeds hold about cve, as JSON: {cve, tracker: [{feed,
 * source, release, status, fixed_version, urgency}], description, osv:
 * [{feed, id, modified, summary, packages: [...]}], cvss: [{feed, source,
 * vector, base_score, severity}], epss, kev}. PL_ENOTFOUND when no feed
 * mentions it. */
int detect_lookup_cve(struct store *st, const char *cve, json_t **out, struct pl_err *err);

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

/* ---- the database scan (dbscan.c, hostrel.c) ----------------------------- */

/*
 * 'patchlab scan' without input files: the hosts of the inventory against
 * the synced indexes (src/repo) and the feeds in the database. Findings are
 * replaced in ONE transaction (tables of migration 12: scans, host_scans,
 * upgrades, upgrade_cves, findings, candidate_findings; the cache
 * scan_pkgs, scan_pkgsets, scan_dirty).
 *
 * - Release: from the host's os and os_version (detect_host_release). A
 *   host that is not Debian or has no known release is skipped with a note.
 * - Architecture: the host's arch field (x86_64 is amd64, aarch64 arm64:
 *   detect_debian_arch), else the most common one among its installed
 *   packages other than "all". "all" packages are matched in the indexes of
 *   that architecture; a package of another architecture in that one's
 *   (none synced: counted in the host's note, not matched).
 * - Indexes: every synced suite whose name, Codename or Suite is RELEASE,
 *   RELEASE-updates or RELEASE-security, binary-ARCH and binary-all. A host
 *   with none is skipped with a note and its findings stay as they were:
 *   nothing is resolved on no evidence. So is a host without packages.
 * - Upgradable and the CVEs fixed: the one-shot scan's rules (top of this
 *   file) with the host's release's rows of every debian-tracker feed.
 * - Unfixed (counted per host, listed by detect_findings_unfixed): the
 *   open and undetermined CVEs of the installed sources; "missing": CVEs
 *   the tracker resolves above the installed source version that no synced
 *   candidate reaches (is the security suite synced?). A CVE fixed at "0"
 *   or at or below the installed version is "not affected": neither.
 * - Risk per upgrade: the highest CVSS v3 base score of its CVEs
 *   (feed_cvss, from OSV feeds), the highest EPSS, KEV membership, the
 *   highest tracker urgency (its severity); the priority (src/risk) with
 *   the host's exposure, environment, "critical" tag, firewall and EDR
 *   (src/inventory's inv_host_context).
 * - History: a finding is (host, release, package, arch, installed
 *   version). One that persists keeps its first_seen; its candidate, CVEs
 *   and priority follow the feeds and indexes. One no longer found on a
 *   host that was scanned gets resolved_at (now) and last_seen (the host's
 *   previous scan). An open finding's last_seen is its host's last scan
 *   (host_scans.evaluated_at; the view findings_view shows both).
 * - Speed: a host's package list is re-read from host_packages only after
 *   it changed (triggers mark it in scan_dirty), into the scan's cache, in
 *   short transactions of their own before the findings' one (the cache is
 *   derived data: a scan that fails later leaves it refreshed, consistent
 *   with host_packages); see dbscan.c.
 */
struct detect_dbscan_opts {
	const char *const *hosts;           /* only these (NULL-terminated); NULL: all */
	const struct pl_progress *progress; /* NULL: silent */
	const struct pl_clock *clock;       /* NULL: the system clock */
	int host_details;                   /* fill details[] */
};

/* What a database scan did; release with detect_dbscan_result_release(). */
struct detect_dbscan_result {
	long scan_id;
	size_t hosts, scanned, skipped; /* looked at, evaluated, skipped with a note */
	size_t packages;                /* installed packages evaluated */
	size_t rebuilt;                 /* package lists read again from host_packages */
	size_t findings;                /* open on the scanned hosts after the scan */
	size_t opened, updated, unchanged, resolved;
	size_t by_severity[5];   /* no CVE, unimportant, low, medium, high */
	size_t by_level[4];      /* P1 .. P4 */
	size_t unfixed, missing; /* summed over hosts (see above) */
	double seconds;
	json_t *notes;   /* [{host, note, skipped}] */
	json_t *details; /* with host_details: [{host, release, arch, scanned,
	                    packages, findings, unfixed, missing, note}] */
};

/* Scans (see above). PL_ENOTFOUND for a named host that does not exist;
 * nothing is written on any error. */
int detect_dbscan(struct store *st, const struct detect_dbscan_opts *o,
                  struct detect_dbscan_result *res, struct pl_err *err);
void detect_dbscan_result_release(struct detect_dbscan_result *r);

/* The Debian codename of a host: os empty or starting with "Debian" (any
 * case), os_version a codename ("bookworm", "12 (bookworm)") or a version
 * whose major number names one ("12", "12.5": bookworm; 10 buster to 15
 * duke). 0 and *codename (caller frees), or -1 and *why (caller frees). */
int detect_host_release(const char *os, const char *os_version, char **codename, char **why);

/* dpkg's name of an architecture: x86_64 -> amd64, aarch64 -> arm64,
 * i686 -> i386, armv7l -> armhf, ppc64le -> ppc64el; others unchanged;
 * NULL for NULL or "". Static strings or arch itself. */
const char *detect_debian_arch(const char *arch);

/* ---- findings (findings.c) ------------------------------------------------ */

enum detect_findings_state {
	DETECT_FINDINGS_OPEN = 0,
	DETECT_FINDINGS_RESOLVED,
	DETECT_FINDINGS_ALL
};

struct detect_findings_query {
	const char *host; /* NULL: every host */
	const char *role; /* NULL: every role */
	int min_priority; /* lowest score, 0..100 */
	size_t top;       /* at most this many; 0: all */
	int state;        /* enum detect_findings_state */
	int factors;      /* add each finding's priority factors */
};

/*
 * The findings of the last scans, sorted by priority (highest first), then
 * host, package and arch: a JSON array of {id, host, role, environment,
 * release, package, arch, installed, candidate, source, installed_source,
 * candidate_source, cves, severity, cvss, epss, kev, priority, level,
 * first_seen, last_seen, resolved_at} and with factors the priority's
 * factors (risk_priority_json of the inputs the scan used). A named host
 * that does not exist is PL_ENOTFOUND. *out is the caller's.
 */
int detect_findings_list(struct store *st, const struct detect_findings_query *q, json_t **out,
                         struct pl_err *err);

/* The open and undetermined CVEs of host's installed sources in the
 * release its last scan found: [{package, source, cve, status, urgency}],
 * sorted by source, CVE, package. PL_ENOTFOUND for an unknown host,
 * PL_ESTATE for one never scanned. */
int detect_findings_unfixed(struct store *st, const char *host, json_t **out, struct pl_err *err);

#endif
