/*
 * repo.h - vendor package repositories.
 *
 * Owns: reading the system's apt sources (deb822 .sources files and
 * one-line .list files); the configured repositories (table repos: name,
 * URI, suites, components, architectures, keyring); their signed index
 * sync: InRelease (or Release + Release.gpg) verified with gpgv against the
 * repository's keyring, the Release fields checked (suite, Date,
 * Valid-Until), then Packages.xz, .gz or plain per component and
 * architecture checked against the SHA-256 and size of the verified
 * Release and decompressed once (tables repo_releases, repo_indexes,
 * repo_syncs; files under STATE/repos/NAME/); and, for other modules, the
 * synced Packages files of a suite and the download of one .deb verified
 * against its index stanza.
 * Does not own: deb822 syntax, clearsigned text, decompression (src/pkgdb/),
 * HTTP (src/net/), version order (src/version/), which packages are
 * upgradable (src/detect/).
 *
 * Sync is all or nothing per repository: new files are written to
 * STATE/repos/NAME/staging-PID/ and checked there; only when every suite,
 * component and architecture passed do they move into
 * STATE/repos/NAME/by-hash/SHA256 (content-addressed, so no file that a
 * current row names is ever rewritten) and the rows change, in one
 * transaction. A bad signature, an expired or replayed Release, a hash or
 * size mismatch, a truncated or wrongly compressed file, a network
 * failure: the previous files and rows stay exactly as they were, and no
 * row is written (not even to repo_syncs). One sync of a repository at a
 * time (a lock file); others fail with PL_ESTATE.
 *
 * Errors: PL_EINVAL for bad data from the repository (signature, Release
 * fields, hashes, sizes, compression, syntax), naming the URL or file and
 * the field; PL_EUSAGE for a bad name, URL, suite, component, architecture
 * or keyring given to repo_add; PL_ENOTFOUND for an unknown repository or
 * package; PL_EENV when gpgv is missing; network errors as src/net/ says.
 */
#ifndef PL_REPO_H
#define PL_REPO_H

#include "core/core.h"
#include "net/net.h"
#include "store/store.h"

/* The keyring used when a source names none: Debian's archive keys. */
#define REPO_DEFAULT_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"

/* ---- the system's apt sources ------------------------------------------ */

/* One apt source entry; a deb822 stanza may carry several URIs and suites. */
struct repo_source {
	int deb, deb_src;  /* Types */
	char **uris;       /* NULL-terminated, owned */
	char **suites;     /* NULL-terminated, owned */
	char **components; /* NULL-terminated, owned */
	char *signed_by;   /* keyring path, or NULL */
	char *file;        /* where it was read, for messages */
	size_t line;
};

struct repo_source_list {
	struct repo_source *v;
	size_t n;
};

/* Reads apt's sources under root ("" or NULL for the real system; tests use
 * a directory): ROOT/etc/apt/sources.list and sources.list.d/NAME.list and
 * NAME.sources, skipping entries with "Enabled: no". Errors name the file
 * and line. */
int repo_apt_sources_load(const char *root, struct repo_source_list *out, struct pl_err *err);
void repo_source_list_free(struct repo_source_list *l);

/* The URI of the first enabled binary ("deb") source that serves suite:
 * the mirror the system itself uses. PL_ENOTFOUND when none does. */
int repo_apt_mirror_for(const struct repo_source_list *l, const char *suite, char **uri,
                        struct pl_err *err);

/* ---- Release files -------------------------------------------------------- */

/* One entry of a Release file's SHA256 list. */
struct repo_release_file {
	char *name; /* relative to dists/SUITE/, e.g. "main/binary-amd64/Packages.xz" */
	char sha256[65];
	uint64_t size;
};

/* The fields of a Release file that sync relies on; strings owned. */
struct repo_release {
	char *origin, *label, *suite, *codename; /* NULL when absent */
	int64_t date;                            /* Date, Unix seconds */
	int64_t valid_until;                     /* Valid-Until; 0 when absent */
	char **architectures, **components;      /* NULL-terminated, maybe empty */
	int acquire_by_hash;                     /* "Acquire-By-Hash: yes" */
	struct repo_release_file *files;         /* the SHA256 list, in file order */
	size_t nfiles;
};

/* Parses the text of a Release file (or the signed body of an InRelease:
 * parse only what gpgv verified). Requires exactly one stanza with Date
 * (RFC 2822, as Debian writes it) and a SHA256 list ("HASH SIZE NAME"
 * lines; MD5Sum or SHA1 alone are refused); Suite or Codename. Errors
 * (PL_EINVAL) read "SOURCE:LINE: FIELD: what". *out is zeroed on error. */
int repo_release_parse(const char *buf, size_t len, const char *source, struct repo_release *out,
                       struct pl_err *err);
void repo_release_free(struct repo_release *r);

/* Parses an RFC 2822 date as Release files write it ("Sat, 28 Nov 2026
 * 09:08:20 UTC"; the weekday is optional, the zone UTC, GMT, Z or +HHMM).
 * Returns 0, or -1 when s is not such a date. */
int repo_date_parse(const char *s, int64_t *out);

/* Checks a verified Release for suite at time now: its Suite or Codename
 * is suite (a signed Release of another suite is a replay), its Date is
 * at most 10 minutes ahead of now, its Valid-Until (if any) not passed,
 * and its Date not older than not_before (the synced one's, 0: none).
 * PL_EINVAL naming source and the field. */
int repo_release_check(const struct repo_release *r, const char *suite, int64_t now,
                       int64_t not_before, const char *source, struct pl_err *err);

/* The Packages index of component and arch in r: Packages.xz, else
 * Packages.gz, else Packages (the name under dists/SUITE/). A component
 * that Components lists as "updates/main" is found as "main". PL_EINVAL
 * when the Release lists the architecture or component not, or no index. */
int repo_release_packages(const struct repo_release *r, const char *component, const char *arch,
                          const char *source, const struct repo_release_file **out,
                          struct pl_err *err);

/* ---- signatures ----------------------------------------------------------- */

/*
 * Verifies signed (a clearsigned InRelease when sig is NULL, else the
 * Release that sig detaches from) with gpgv against keyring (an OpenPGP
 * keyring, binary or ASCII-armored: armored ones are converted with gpg
 * into workdir). workdir is a private directory for gpg's home. As apt
 * does: passes when at least one signature is good and valid by a key of
 * the keyring with a strong hash, and none is bad (BADSIG, an expired or
 * revoked key). *signers gets the primary key fingerprints of the good
 * signatures, space-separated (caller frees). PL_EINVAL "FILE: why" when
 * refused, PL_EENV when gpgv (or gpg) is missing.
 */
int repo_gpgv_verify(const char *keyring, const char *signed_file, const char *sig,
                     const char *workdir, char **signers, struct pl_err *err);

/* ---- configured repositories ---------------------------------------------- */

/* A configured repository; strings and vectors owned (repo_clear). */
struct repo {
	long id;
	char *name;
	char *uri;                                    /* without trailing '/' */
	char **suites, **components, **architectures; /* NULL-terminated, non-empty */
	char *keyring;                                /* absolute path */
	char *origin;                                 /* "apt-sources" or "url" */
	char *created_at;
};

void repo_clear(struct repo *r);

/* Checks one value given to repo add: what is "name", "url", "suite",
 * "component", "arch" or "keyring". PL_EUSAGE "--WHAT: why" when bad. */
int repo_field_check(const char *what, const char *value, struct pl_err *err);

/* The architecture dpkg installs for (dpkg --print-architecture), else
 * the one this program was built for. Caller frees. */
char *repo_default_arch(void);

/* Fills r (name and architectures are the caller's) from the enabled binary
 * sources of l that serve suites (NULL: every suite of the first source):
 * their one URI, the suites, the union of their components and their
 * Signed-By keyring (keyring, when not NULL, overrides it; without either,
 * REPO_DEFAULT_KEYRING). PL_ENOTFOUND for a suite no source serves,
 * PL_EUSAGE when the suites come from different URIs or keyrings. */
int repo_from_apt_sources(const struct repo_source_list *l, const char *const *suites,
                          const char *keyring, struct repo *r, struct pl_err *err);

/* Checks every field of r and inserts it (origin, created_at set here).
 * PL_EEXIST when the name is taken. */
int repo_add(struct store *st, struct repo *r, struct pl_err *err);

/* Reads the repository called name. PL_ENOTFOUND if there is none. */
int repo_get(struct store *st, const char *name, struct repo *out, struct pl_err *err);

/* The names of all repositories, sorted (NULL-terminated; caller frees). */
int repo_names(struct store *st, char ***out, struct pl_err *err);

/* A JSON array of the repositories: configuration, index count, last
 * sync. *out is the caller's. */
int repo_list(struct store *st, json_t **out, struct pl_err *err);

/* One repository as JSON: configuration, verified releases, indexes (with
 * absolute paths) and the last syncs. */
int repo_show(struct store *st, const char *name, json_t **out, struct pl_err *err);

/* Deletes a repository's rows (one transaction) and then its files. */
int repo_remove(struct store *st, const char *name, struct pl_err *err);

/* ---- sync ----------------------------------------------------------------- */

struct repo_sync_opts {
	const struct pl_progress *progress; /* per file: net's "fetch" stages; NULL: silent */
	const struct pl_clock *clock;       /* for Date and Valid-Until; NULL: system */
	long timeout_s;                     /* per file, 0: net's default */
	int retries;                        /* as in struct net_fetch_opts */
};

/*
 * Syncs the repository called name (see the top of this file). On success
 * *report (may be NULL) gets {name, fetched, not_modified, bytes, seconds,
 * suites: [{suite, release: "fetched"|"not-modified", date, valid_until,
 * signers, indexes: [{component, arch, name, status, bytes, sha256}]}]};
 * a file counts as not modified when the server said 304 or its hash in the
 * verified Release equals the synced one (nothing downloaded).
 */
int repo_sync(struct store *st, const char *name, const struct repo_sync_opts *o, json_t **report,
              struct pl_err *err);

/* ---- the synced indexes, for other modules --------------------------------- */

/* One synced Packages file; strings owned by the list. */
struct repo_index {
	char *repo, *suite, *codename, *component, *arch;
	char *path; /* absolute; plain, gzip or xz (detect_index_load reads all) */
	char *sha256;
};

struct repo_index_list {
	struct repo_index *v;
	size_t n;
};

/* The synced Packages files of suite (a configured suite, or the Codename or
 * Suite of its Release: "bookworm-security" or "stable-security"; NULL:
 * any) for arch (its binary-ARCH indexes plus binary-all ones; NULL: any),
 * ordered by repository, suite, component, arch. An empty list is not an
 * error. Free with repo_index_list_free(). */
int repo_indexes_find(struct store *st, const char *suite, const char *arch,
                      struct repo_index_list *out, struct pl_err *err);
void repo_index_list_free(struct repo_index_list *l);

/* A .deb as a synced index describes it; strings owned (repo_deb_clear). */
struct repo_deb {
	char *repo, *uri; /* the repository and its URI */
	char *package, *version, *arch;
	char *filename; /* Filename: relative to uri, e.g. "pool/main/o/openssl/..." */
	char sha256[65];
	uint64_t size;
	char *index; /* the Packages file it was found in, for messages */
};

/* Finds package at exactly version (dpkg-equal: "0:1.0" is "1.0") with
 * Architecture arch in the synced indexes of repo (NULL: all, by name).
 * PL_ENOTFOUND when no index has it; PL_EINVAL when its stanza lacks
 * Filename, Size or SHA256 or has a Filename that leaves the repository. */
int repo_deb_locate(struct store *st, const char *repo, const char *package, const char *version,
                    const char *arch, struct repo_deb *out, struct pl_err *err);

/* One .deb to locate (strings borrowed). */
struct repo_deb_want {
	const char *package, *version, *arch;
};

/* repo_deb_locate() for n .debs at once, out[k] for w[k]: each synced index
 * is read (and decompressed) once for all of them, not once per .deb. On
 * any error every out[k] is cleared; the first one not found is named. */
int repo_deb_locate_all(struct store *st, const char *repo, const struct repo_deb_want *w,
                        size_t n, struct repo_deb *out, struct pl_err *err);

/* Downloads d (URI/Filename) into destdir as the Filename's base name,
 * checking size and SHA-256 before the file appears; a mismatch is
 * PL_EINVAL and nothing is kept. A file already there with the right hash
 * is kept without a download. *path (may be NULL) gets the path. */
int repo_deb_fetch(const struct repo_deb *d, const char *destdir, const struct net_fetch_opts *o,
                   char **path, struct pl_err *err);
void repo_deb_clear(struct repo_deb *d);

#endif
