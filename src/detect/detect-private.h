/* detect-private.h - what the detect sources share; not a public API. */
#ifndef PL_DETECT_PRIVATE_H
#define PL_DETECT_PRIVATE_H

#include "detect/detect.h"

/* One (name, arch) of the index with its highest version. */
struct detect_entry {
	char *name, *arch, *version, *source_version;
};

struct detect_index {
	struct detect_entry *e; /* sorted by name, arch; one per pair */
	size_t n, cap;
	size_t stanzas;
};

/* One CVE of one source package in the feed's release. */
struct detect_cve {
	char *source, *id;
	char *fixed;  /* NULL unless resolved */
	int resolved; /* 0: open or undetermined */
	int urgency;
};

struct detect_feed {
	char *release;
	struct detect_cve *c; /* sorted by source, then id, once scanned */
	size_t n, cap;
};

/* dpkg order of two version strings (validated when read). */
int detect_version_cmp(const char *a, const char *b);

/* The index entry for name and arch, or NULL. */
const struct detect_entry *detect_index_find(const struct detect_index *ix, const char *name,
                                             const char *arch);

/* ---- what the feed parsers share (feedjson.c) ----------------------------- */

/* Records PL_EINVAL "FILE: PATH[.KEY]: message"; returns PL_EINVAL. */
int detect_bad(const char *file, const char *path, const char *key, struct pl_err *err,
               const char *fmt, ...) PL_PRINTF(5, 6);

/* The reason s[0..len) is not an identifier (printable ASCII without
 * blanks, 1..DETECT_MAX_ID bytes), or NULL when it is one. */
const char *detect_id_problem(const char *s, size_t len);

/* 1 when s looks like a CVE id: "CVE-YYYY-NNNN" with 4 or more digits. */
int detect_is_cve(const char *s);

/* A JSON value's type for messages ("an object", "a string", ...). */
const char *detect_json_type(const json_t *v);

enum detect_str_flags {
	DETECT_STR_REQUIRED = 1 << 0, /* absent or null is an error */
	DETECT_STR_EMPTY_OK = 1 << 1, /* "" is accepted */
	DETECT_STR_ID = 1 << 2,       /* must pass detect_id_problem() */
	DETECT_STR_DATE = 1 << 3,     /* YYYY-MM-DD */
	DETECT_STR_TIME = 1 << 4      /* YYYY-MM-DDTHH:MM:SS then anything (RFC 3339) */
};

/* Reads obj[key] as a string of at most max bytes into *out (unchanged when
 * optional and absent or null); errors name FILE: PATH.KEY. */
int detect_get_str(const char *file, json_t *obj, const char *path, const char *key, unsigned flags,
                   size_t max, const char **out, struct pl_err *err);

/* Reads a feed file (plain, gzip or xz) into *out (NUL-terminated); sha256
 * (may be NULL) gets the hash of the bytes as read. */
int detect_file_load(const char *path, char **out, size_t *len, char sha256[65],
                     struct pl_err *err);

#endif
