/*
 * repo.h - vendor package repositories.
 *
 * Owns: reading the system's apt sources (deb822 .sources files and
 * one-line .list files) into a list of repositories: types, URIs, suites,
 * components, keyring. Later: configured repositories, signed index sync.
 * Does not own: deb822 syntax (src/pkgdb/), version order (src/version/).
 */
#ifndef PL_REPO_H
#define PL_REPO_H

#include "core/core.h"

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

#endif
