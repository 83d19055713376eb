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

/* ---- the one-shot matching rules, shared with the database scan (scan.c) --- */

/* The feed's CVEs of source src: [*first, *first + return). */
size_t detect_feed_range(const struct detect_feed *f, const char *src, size_t *first);

/* 1 when c is fixed by going from source version inst to cand:
 * resolved, fixed version not "0", inst < fixed <= cand. */
int detect_cve_fixes(const struct detect_cve *c, const char *inst, const char *cand);

/* ---- hash tables for the database scan (intern.c) --------------------------- */

/* Interned strings: each distinct string once, named by a dense id. */
struct detect_strtab {
	char **s;    /* id -> string (owned, NUL-terminated) */
	size_t *len; /* id -> length */
	size_t n, cap;
	uint32_t *slot; /* open addressing: id + 1, 0 for empty */
	size_t nslot;   /* a power of two */
};

/* The id of s[0..len), added when new. */
uint32_t detect_strtab_intern(struct detect_strtab *t, const char *s, size_t len);
/* 1 and *id when s[0..len) is there, else 0. */
int detect_strtab_find(const struct detect_strtab *t, const char *s, size_t len, uint32_t *id);
void detect_strtab_free(struct detect_strtab *t);

/* 64-bit keys (any but UINT64_MAX) to uint32 values. */
struct detect_u64map {
	uint64_t *k;
	uint32_t *v;
	size_t n, nslot;
};

/* 1 and *val when key is there, else 0. */
int detect_u64map_get(const struct detect_u64map *m, uint64_t key, uint32_t *val);
/* Makes room for n keys without growing again. */
void detect_u64map_reserve(struct detect_u64map *m, size_t n);
/* Sets key to val (added or replaced). */
void detect_u64map_put(struct detect_u64map *m, uint64_t key, uint32_t val);
void detect_u64map_free(struct detect_u64map *m);

#endif
