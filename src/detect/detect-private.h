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

#endif
