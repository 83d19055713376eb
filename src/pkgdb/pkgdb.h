/*
 * pkgdb: Debian package metadata formats.
 *
 * Owns: parsing deb822 control data (the format of dpkg's status file, of
 * Packages indexes and of Release files' fields); extracting the signed body
 * of a clearsigned InRelease file; and the installed-package list read from
 * dpkg's status file (name, architecture, version, source package and source
 * version, dpkg's want/error/status triple).
 * Does not own: fetching indexes (reading them plain, gzip or xz is here),
 * verifying signatures (pkgdb_clearsign_body() only cuts the text out; gpgv
 * must have checked the same bytes first), the meaning of Release/Packages fields beyond the
 * generic syntax, or version order and validation (src/version/version.h,
 * which this module calls).
 *
 * deb822 as read here (Debian Policy 5.1):
 * - A stanza is a run of non-blank lines; blank lines separate stanzas, any
 *   number of them. A line of only spaces and tabs counts as blank.
 * - "Name: value": the name is printable US-ASCII without ':' and does not
 *   start with '#' or '-'; blanks around the value are dropped.
 * - A line starting with a space or tab continues the previous field. The
 *   joined value is the first line, then '\n' and each continuation line
 *   with its one leading blank and trailing blanks removed, " ." becoming
 *   an empty line. When the first line is empty (Conffiles, SHA256) the
 *   value starts with the first continuation line, so that Description's
 *   synopsis is exactly the text up to the first '\n'.
 * - CRLF line ends are accepted: one '\r' before each '\n' is dropped.
 *   The last line may lack its '\n'. (dpkg refuses both in its status file;
 *   accepting them costs nothing and helps with hand-made inputs.)
 * - Errors (PL_EINVAL), as "SOURCE:LINE: what": a continuation line before
 *   any field, a line without ':', an empty or invalid field name, a field
 *   repeated in one stanza (names compare case-insensitively), a NUL byte,
 *   bytes that are not UTF-8 (overlong forms and surrogates included), a
 *   line longer than PKGDB_LINE_MAX. Comment lines are not accepted: they
 *   belong to debian/control, which is not read here.
 *
 * Memory: names and single-line values point into the caller's buffer,
 * uncopied; only joined multi-line values are copied, into the parser's
 * scratch space, valid until the next pkgdb_deb822_next() call. Nothing is
 * NUL-terminated: use the lengths (or pkgdb_field_dup()). No allocation per
 * field or stanza once the parser's arrays have grown to the largest stanza.
 */
#ifndef PL_PKGDB_H
#define PL_PKGDB_H

#include "core/core.h"

/* Longest accepted line, without its line end: 1 MiB. */
#define PKGDB_LINE_MAX ((size_t)1 << 20)

/* ---- deb822 ------------------------------------------------------------ */

/* One field of a stanza; see the header comment for how values are joined. */
struct pkgdb_field {
	const char *name; /* into the input buffer */
	size_t name_len;
	const char *value; /* into the input, or the parser's scratch if multi-line */
	size_t value_len;
	size_t line;   /* 1-based line of "Name:" */
	unsigned hash; /* of the lower-cased name, for fast lookup */
	int multiline; /* 1 if continuation lines were joined */
};

/* One stanza; the arrays belong to the parser and change on its next call. */
struct pkgdb_stanza {
	const struct pkgdb_field *fields;
	size_t nfields;
	size_t line; /* 1-based line of the first field */
};

/* A streaming parser over one in-memory buffer; treat the members as private. */
struct pkgdb_deb822 {
	const char *source; /* for messages; borrowed */
	const char *pos, *end;
	size_t lineno; /* lines consumed so far */
	struct pkgdb_field *fields;
	size_t nfields, cap;
	size_t *scratch_off; /* per field: where its joined value starts in scratch */
	size_t cur_lines;    /* lines joined so far into the last field's value */
	struct pl_buf scratch;
	int failed;
	int comments; /* '#' lines are skipped (pkgdb_deb822_allow_comments) */
};

/* Starts parsing buf[0..len); buf and source (a file name for messages, may be
 * NULL) are borrowed and must outlive the parser. Release with
 * pkgdb_deb822_release(). */
void pkgdb_deb822_init(struct pkgdb_deb822 *p, const char *buf, size_t len, const char *source);

/* Reads the next stanza into *out: returns 1, 0 at the end of the input, or
 * PL_EINVAL with "SOURCE:LINE: what" in err. *out stays valid until the next
 * call or the release. After an error, further calls fail with PL_EINVAL. */
int pkgdb_deb822_next(struct pkgdb_deb822 *p, struct pkgdb_stanza *out, struct pl_err *err);

/* Makes the parser skip lines starting with '#', as apt does in its
 * .sources files (a comment neither ends a stanza nor continues a field).
 * Call after pkgdb_deb822_init(). */
void pkgdb_deb822_allow_comments(struct pkgdb_deb822 *p);

/* Frees the parser's memory (not the input buffer). */
void pkgdb_deb822_release(struct pkgdb_deb822 *p);

/* Returns the field called name (any case) in s, or NULL. */
const struct pkgdb_field *pkgdb_stanza_get(const struct pkgdb_stanza *s, const char *name);

/* Returns 1 if f's name is name, compared case-insensitively. */
int pkgdb_field_is(const struct pkgdb_field *f, const char *name);

/* Returns a NUL-terminated copy of f's value (f may be NULL: returns NULL);
 * the caller frees it. */
char *pkgdb_field_dup(const struct pkgdb_field *f);

/* ---- clearsigned files (InRelease) ------------------------------------- */

/*
 * Cuts the signed text out of a clearsigned message (RFC 4880 7.1): the
 * text between the "-----BEGIN PGP SIGNED MESSAGE-----" line with its
 * armor headers ("Hash: ...") and blank line, and the "-----BEGIN PGP
 * SIGNATURE-----" line, with dash-escaping ("- ") undone. THIS DOES NOT
 * VERIFY ANYTHING: call it only on bytes gpgv has accepted, and parse only
 * what it returns. To leave no room for text that gpgv would ignore, it
 * fails (PL_EINVAL, "SOURCE:LINE: what") on anything before the first line
 * or after "-----END PGP SIGNATURE-----" other than blank lines, on a
 * second signed message, on an unescaped line starting with '-' and on a
 * NUL byte. Each line keeps its '\n' (CRLF becomes LF): for Debian's
 * InRelease files the result equals what gpgv --output writes. *out is
 * NUL-terminated, its length in *out_len (may be NULL); the caller frees it;
 * NULL on error.
 */
int pkgdb_clearsign_body(const char *buf, size_t len, const char *source, char **out,
			 size_t *out_len, struct pl_err *err);

/* ---- dpkg status ------------------------------------------------------- */

/* dpkg's selection state, the first word of Status. */
enum pkgdb_want {
	PKGDB_WANT_UNKNOWN,
	PKGDB_WANT_INSTALL,
	PKGDB_WANT_HOLD,
	PKGDB_WANT_DEINSTALL,
	PKGDB_WANT_PURGE
};

/* dpkg's error flag, the second word of Status. */
enum pkgdb_eflag { PKGDB_EFLAG_OK, PKGDB_EFLAG_REINSTREQ };

/* dpkg's package state, the third word of Status, in dpkg's order. */
enum pkgdb_state {
	PKGDB_STATE_NOT_INSTALLED,
	PKGDB_STATE_CONFIG_FILES,
	PKGDB_STATE_HALF_INSTALLED,
	PKGDB_STATE_UNPACKED,
	PKGDB_STATE_HALF_CONFIGURED,
	PKGDB_STATE_TRIGGERS_AWAITED,
	PKGDB_STATE_TRIGGERS_PENDING,
	PKGDB_STATE_INSTALLED
};

/* One package of dpkg's database; the strings belong to the list. */
struct pkgdb_pkg {
	char *name;    /* lower-cased, as dpkg does */
	char *arch;    /* NULL when absent: dpkg only warns (pre-1.10.19 or forced) */
	char *version; /* as written, e.g. "1:2.36-9+deb12u4"; NULL only when half-installed */
	/* The source package and its version: from "Source: name (version)",
	 * "Source: name" (version = version) or no Source (both from the binary),
	 * as dpkg-query's ${source:Package} and ${source:Version}. Security
	 * trackers list fixed SOURCE versions: for the binNMU bash 5.2.15-2+b8
	 * this is bash 5.2.15-2. source_version is NULL when version is. */
	char *source;
	char *source_version;
	enum pkgdb_want want;
	enum pkgdb_eflag eflag;
	enum pkgdb_state state;
	int installed;       /* 1 only when state is PKGDB_STATE_INSTALLED */
	int multi_arch_same; /* "Multi-Arch: same": may be installed for several arches */
	size_t line;         /* line of the stanza in the source */
};

/* The packages of a dpkg status file; zero-initialise (PKGDB_PKGLIST_INIT). */
struct pkgdb_pkglist {
	struct pkgdb_pkg *pkgs;
	size_t n, cap;
	int sorted; /* by name, then architecture */
};
#define PKGDB_PKGLIST_INIT {NULL, 0, 0, 0}

/*
 * Parses a dpkg status file held in buf[0..len) (source names it in
 * messages) into *out (overwritten, not freed: pass an empty list); sorted
 * by name, then arch. Keeps every package dpkg-query -W shows, i.e. all but
 * the "not-installed" (purged) ones, as does a stanza without Status: check
 * ->installed. Fails (PL_EINVAL, "SOURCE:LINE: what") where dpkg's parser
 * does: no Package, an invalid name or Status word, no Version unless
 * half-installed, a version version_deb_parse rejects (lenient ones are
 * kept), Multi-Arch: same without an architecture or with "all", trigger
 * fields that contradict the state, one name and architecture twice; and,
 * stricter than dpkg, on an invalid architecture name or a malformed Source
 * (dpkg warns or guesses), besides the deb822 errors above (NUL, non-UTF-8).
 * More lenient: CRLF and a missing final newline. The file alone is read: a
 * journal in dpkg's updates/ directory (left only by an interrupted dpkg) is
 * not applied. On error *out is empty.
 */
int pkgdb_dpkg_status_parse(const char *buf, size_t len, const char *source,
			    struct pkgdb_pkglist *out, struct pl_err *err);

/* Reads and parses the status file at path (normally /var/lib/dpkg/status).
 * PL_ENOTFOUND if it does not exist, PL_EIO if unreadable. */
int pkgdb_dpkg_status_load(const char *path, struct pkgdb_pkglist *out, struct pl_err *err);

/* Frees the list's packages and empties it. */
void pkgdb_pkglist_free(struct pkgdb_pkglist *l);

/* Sorts by name, then architecture (absent first); stable for equal keys. */
void pkgdb_pkglist_sort(struct pkgdb_pkglist *l);

/* Returns the package called name with architecture arch, or with any
 * architecture (the first in sort order) when arch is NULL; NULL if none.
 * The pointer is valid until the list changes. */
const struct pkgdb_pkg *pkgdb_pkglist_find(const struct pkgdb_pkglist *l, const char *name,
					   const char *arch);

/* Returns the first of the *count entries called name (one per architecture
 * for Multi-Arch: same packages); NULL and 0 if none. Needs a sorted list. */
const struct pkgdb_pkg *pkgdb_pkglist_find_all(const struct pkgdb_pkglist *l, const char *name,
					       size_t *count);

/* Returns dpkg's word for a state ("installed", "config-files", ...). */
const char *pkgdb_state_name(enum pkgdb_state s);

/* Returns dpkg's word for a want ("install", "hold", ...). */
const char *pkgdb_want_name(enum pkgdb_want w);

/* Returns dpkg's word for an error flag ("ok", "reinstreq"). */
const char *pkgdb_eflag_name(enum pkgdb_eflag e);

/* ---- compressed files -------------------------------------------------- */

/* Largest decompressed index accepted by default: 1 GiB (bookworm's main
 * Packages is about 90 MiB). */
#define PKGDB_DECOMPRESS_MAX ((size_t)1 << 30)

/* What the first bytes of a file say it is. */
enum pkgdb_compression { PKGDB_COMP_NONE, PKGDB_COMP_GZIP, PKGDB_COMP_XZ };

/* Returns the compression of data[0..len) by its magic bytes (xz FD 37 7A
 * 58 5A 00, gzip 1F 8B); anything else is PKGDB_COMP_NONE (plain). */
enum pkgdb_compression pkgdb_compression_detect(const void *data, size_t len);

/*
 * Decompresses data[0..len) (plain, gzip with any number of members, or xz
 * with concatenated streams) into *out, NUL-terminated, its length in
 * *out_len (may be NULL); the caller frees *out (NULL on error). Fails with
 * PL_EINVAL, "SOURCE: what", on truncated or corrupt data, on lz4, zstd or
 * bzip2 data (recognised, not read) and on output larger than max bytes.
 */
int pkgdb_decompress(const void *data, size_t len, const char *source, size_t max, char **out,
		     size_t *out_len, struct pl_err *err);

/* Reads the file at path and decompresses it as pkgdb_decompress() does
 * (the format from its content, never its name). PL_ENOTFOUND if missing,
 * PL_EIO if unreadable, PL_EINVAL for bad data; messages name path. */
int pkgdb_file_read_any(const char *path, size_t max, char **out, size_t *out_len,
			struct pl_err *err);

#endif /* PL_PKGDB_H */
