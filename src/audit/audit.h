/*
 * audit.h - the tamper-evident audit log.
 *
 * Owns: the table audit_log (schema 8) and its hash chain, the anchor file
 * (STATE/audit-anchor.json, or $PATCHLAB_AUDIT_ANCHOR), and who the actor
 * is (--as, $PATCHLAB_ACTOR, the login name).
 * Does not own: what is audited. Each module appends its own state changes
 * inside its own transaction, so an entry exists exactly when the change
 * does (today: candidate create and every state change in src/candidate/,
 * lab verdicts in src/lab/candrun.c).
 *
 * Each row has seq (1, 2, 3, ... without gaps), at (UTC), actor, action,
 * object_kind, object, detail (compact JSON, sorted keys), prev_hash (the
 * hash of row seq-1; 64 zeros for row 1) and hash = SHA-256 over the
 * length-prefixed encoding "patchlab-audit-v1\n" then "LEN:BYTES," for seq
 * (decimal), at, actor, action, object_kind, object, detail and prev_hash.
 * Triggers refuse UPDATE and DELETE on audit_log (a first line only: they
 * can be dropped). After every commit of a connection that appended, the
 * anchor file is advanced (atomically, never backwards, never past a
 * rewritten row) to the newest seq and hash.
 *
 * audit_verify detects: any changed field of any row (hash mismatch); a
 * removed row (gap in seq); a row replaced by one with a recomputed hash
 * (the next row's prev_hash no longer matches); the newest rows removed
 * (the anchor names a seq the log no longer has: tail truncated); a tail
 * removed and written anew (the anchored row has another hash); a missing
 * anchor while the log has rows; a dropped audit_log table.
 * It does not detect: a writer of both the database and the anchor file who
 * recomputes the chain from some row on (there is no secret key: the chain
 * shows edits, it does not authenticate); rows removed that were committed
 * after the anchor's last advance (a crash between a commit and the anchor
 * write); the state directory replaced as a whole. Put the anchor where the
 * database's writers cannot write ($PATCHLAB_AUDIT_ANCHOR), or record the
 * head that 'audit verify' prints elsewhere, to close those.
 */
#ifndef PL_AUDIT_H
#define PL_AUDIT_H

#include "core/core.h"
#include "store/store.h"

#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* One row of the log; strings owned. */
struct audit_entry {
	int64_t seq;
	char *at, *actor, *action, *kind, *object, *detail, *prev_hash, *hash;
};
void audit_entry_clear(struct audit_entry *e);

/* Computes e's hash from its fields (e->hash is not read) into out. */
void audit_entry_hash(const struct audit_entry *e, char out[static 65]);

/* The acting user: as when given, else $PATCHLAB_ACTOR, else the login
 * name of the effective user, else "uid:N". The caller frees it. */
char *audit_actor(const char *as);

/* Appends one entry (actor NULL: audit_actor(NULL); detail borrowed, NULL
 * for {}). Inside the caller's open transaction the entry commits or rolls
 * back with the caller's changes; outside one it commits on its own. */
int audit_append(struct store *st, const char *actor, const char *action, const char *kind,
                 const char *object, json_t *detail, struct pl_err *err);

/* Which entries audit_list returns; NULL fields match everything. */
struct audit_filter {
	const char *since;  /* "YYYY-MM-DD[THH:MM[:SS]Z]": entries at or after it */
	const char *object; /* this object name */
	const char *kind;   /* this object kind */
};

/* The matching entries, oldest first, as a JSON array of {seq, at, actor,
 * action, kind, object, detail, hash}; *out is the caller's. */
int audit_list(struct store *st, const struct audit_filter *f, json_t **out, struct pl_err *err);

/* What audit_verify found. */
struct audit_verify_result {
	int64_t entries;   /* rows read */
	int64_t first_bad; /* the first seq that is wrong or missing; 0 when intact */
	char reason[256];  /* why, when not intact */
	char head[65];     /* the newest row's hash (AUDIT_GENESIS when empty) */
	int anchored;      /* an anchor file was read */
	int64_t anchor_seq;
	char anchor_hash[65];
};

/* Checks the whole chain and the anchor. 0 when intact; PL_EFAIL when not
 * (out and err say the first bad seq and why); another code when the log
 * or the anchor cannot be read. */
int audit_verify(struct store *st, struct audit_verify_result *out, struct pl_err *err);

/* The anchor file's path for st ($PATCHLAB_AUDIT_ANCHOR or
 * STATE/audit-anchor.json); the caller frees it. */
char *audit_anchor_path(const struct store *st);

#endif
