/*
 * candidate.h - patches and candidates: what the lab tests and the CAB approves.
 *
 * Owns: the local patch store (each .deb content-addressed by SHA-256 under
 * STATE/patches, its control fields read with dpkg-deb), candidates (a named
 * set of patches), the one place where a candidate's state may change
 * (new -> testing -> passed | failed -> approved | rejected -> scheduled ->
 * rolling-out -> deployed | halted | rolled-back), and the tables patches,
 * candidates and candidate_patches.
 * Does not own: testing (src/lab/), downloading from vendors (src/repo/).
 */
#ifndef PL_CANDIDATE_H
#define PL_CANDIDATE_H

#include "core/core.h"
#include "store/store.h"

/* One stored patch; strings owned. */
struct patch {
	long id;
	char *sha256, *package, *version, *arch, *source, *source_version;
	char *path;   /* the file in the patch store */
	char *origin; /* where it came from (a path or URL) */
	int64_t size;
};

struct candidate {
	long id;
	char *name, *state, *created_at, *updated_at;
	struct patch *patches; /* by package name */
	size_t npatches;
};

void patch_clear(struct patch *p);
void candidate_clear(struct candidate *c);

/* Reads a .deb's control fields (dpkg-deb), hashes it and stores a copy
 * under STATE/patches/XX/SHA256.deb; registers it (or finds it registered).
 * A file that is not a valid .deb is PL_EINVAL naming it. */
int patch_store_add(struct store *st, const char *deb, const char *origin, struct patch *out,
		    struct pl_err *err);

/* Creates candidate name from .deb files, all in one transaction with its
 * audit entry: nothing is registered when any file is bad. Two patches of
 * the same package and architecture are refused. */
int candidate_create(struct store *st, const char *name, char *const *debs, size_t ndebs,
		     struct candidate *out, struct pl_err *err);

/* One .deb to make a candidate from: its file, and where it came from (a
 * URL; NULL: the file's path) as the patch's origin. */
struct candidate_deb {
	const char *path;
	const char *origin;
};

/* Called in the transaction that creates candidate id, with its patches
 * (registered, in the order given): what the hook writes commits or rolls
 * back with the candidate. */
typedef int (*candidate_create_hook)(struct store *st, long id, const struct patch *patches,
                                     size_t n, void *ctx, struct pl_err *err);

/* candidate_create with origins and a hook (NULL: none); the same checks,
 * the same one transaction. */
int candidate_create_from(struct store *st, const char *name, const struct candidate_deb *debs,
                          size_t ndebs, candidate_create_hook hook, void *ctx,
                          struct candidate *out, struct pl_err *err);

/* Loads a candidate with its patches: PL_ENOTFOUND when there is none. */
int candidate_get(struct store *st, const char *name, struct candidate *out,
		  struct pl_err *err);

/* The candidates as a JSON array (name, state, patch count, dates). */
int candidate_list(struct store *st, json_t **out, struct pl_err *err);

/* The candidate (and its patches) as JSON. */
json_t *candidate_to_json(const struct candidate *c);

/* Moves c to state to if the state machine allows it from c's current
 * state (PL_ESTATE otherwise), updating c; the change and its audit entry
 * commit together (in the caller's transaction when one is open). */
int candidate_set_state(struct store *st, struct candidate *c, const char *to,
			struct pl_err *err);

/* candidate_set_state with the audit entry's actor given (NULL: audit_actor). */
int candidate_set_state_by(struct store *st, struct candidate *c, const char *to,
			   const char *actor, struct pl_err *err);

/* 1 when the state machine allows from -> to. */
int candidate_transition_ok(const char *from, const char *to);

/* Candidate names: 1-64 of [A-Za-z0-9._-], starting alphanumeric. */
int candidate_name_ok(const char *name);

/* ---- proposing a candidate from findings (propose.c) ---------------- */

struct candidate_propose_opts {
	int min_priority;        /* lowest score, 0..100 (risk_priority_parse) */
	const char *host, *role; /* at most one; NULL: every host */
	int dry_run;             /* locate the .debs only: no download, no write */
	const struct pl_progress *progress;
};

/*
 * Creates candidate name from the open findings (src/detect) at or above
 * o->min_priority, of o->host or o->role: one patch per (package, candidate
 * version, arch), each located in the synced indexes and downloaded with
 * repo_deb_fetch (size and SHA-256 checked against the signed index: a
 * tampered .deb is refused and nothing is added), stored content-addressed
 * in the patch store, and the candidate with its candidate_findings rows
 * created in one transaction. PL_ENOTFOUND when no finding matches (saying
 * whether there are none or none that high), PL_EINVAL when they need two
 * versions of one package, PL_EEXIST for a taken name. Dependencies are not
 * resolved (the lab's apply check catches a missing one). *out: {candidate,
 * dry_run, state, min_priority, min_level, host, role, findings, hosts,
 * patches: [{package, version, arch, release, repo, url, size, sha256,
 * findings, hosts}]}, the caller's.
 */
int candidate_propose(struct store *st, const char *name, const struct candidate_propose_opts *o,
                      json_t **out, struct pl_err *err);

#endif
