/* repo-private.h - helpers shared by the repo sources; not a public API. */
#ifndef PL_REPO_PRIVATE_H
#define PL_REPO_PRIVATE_H

#include "repo/repo.h"

/* NULL-terminated string vectors. */
void repo_strv_free(char **v);
size_t repo_strv_len(char *const *v);
int repo_strv_has(char *const *v, const char *s);
/* Appends a copy of s unless it is there already; returns the vector. */
char **repo_strv_add(char **v, const char *s);
/* A JSON array of strings, and back (NULL when j is not one). */
json_t *repo_strv_json(char *const *v);
char **repo_strv_from_json(const char *text);

/* STATE/repos/NAME (caller frees). */
char *repo_dir(struct store *st, const char *name);

/* Takes the repository's lock file in dir (created with dir): PL_ESTATE when
 * another process holds it. *fd keeps it until closed. */
int repo_lock(const char *dir, const char *name, int *fd, struct pl_err *err);

/* rm -rf path (no error when it does not exist). */
int repo_rmtree(const char *path, struct pl_err *err);

/* Binds v, or NULL when v is NULL. */
void repo_bind_opt(sqlite3_stmt *s, int i, const char *v);

#endif
