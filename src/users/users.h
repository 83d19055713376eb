/*
 * users.h - who may use the dashboard and its API, and as what.
 *
 * Owns: the tables users and sessions (schema 10); the roles (viewer < qa <
 * cab: each may do what the ones before it may); password hashes in crypt(5)
 * form made with libxcrypt's yescrypt ("$y$", salt from the kernel's
 * random source, compared by crypt_ra itself); sessions (a browser login)
 * and API tokens (for scripts), both a random 32-byte secret of which only
 * the SHA-256 is stored, with an expiry, and per session a CSRF token;
 * constant-time comparison of secrets. Adding and removing users, logins,
 * logouts and tokens are appended to the audit log in their transactions.
 * Does not own: HTTP, cookies and forms (src/server/), what a role may do on
 * a candidate (src/gate/ decides approvals; src/server/ maps routes to the
 * role they need).
 */
#ifndef PL_USERS_H
#define PL_USERS_H

#include "core/core.h"
#include "store/store.h"

/* Ordered: a higher role may do everything a lower one may. */
enum users_role { USERS_VIEWER = 0, USERS_QA = 1, USERS_CAB = 2 };

/* "viewer", "qa", "cab". */
const char *users_role_name(int role);
/* The role named s, or -1. */
int users_role_parse(const char *s);

/* User names: 1-64 of [A-Za-z0-9._@-], starting alphanumeric. */
int users_name_ok(const char *name);

/* Passwords: 8-1024 bytes, no control characters. 0, or PL_EINVAL saying why. */
int users_password_ok(const char *password, struct pl_err *err);

/* Hashes password with yescrypt and a fresh salt; *out (crypt(5) text,
 * "$y$...") is the caller's to free. */
int users_password_hash(const char *password, char **out, struct pl_err *err);

/* 1 when password matches hash (made by users_password_hash), else 0. */
int users_password_check(const char *password, const char *hash);

/* 1 when a and b are equal strings; the time taken depends only on the
 * length of b (the expected value). */
int users_secret_equal(const char *a, const char *b);

/* Fills out with 2*nbytes lower-case hex digits of kernel randomness
 * (getrandom) and a NUL; out must hold 2*nbytes+1. */
int users_random_hex(size_t nbytes, char *out, struct pl_err *err);

/* Adds user name with role and password (checked, hashed), audited as
 * actor (NULL: audit_actor). PL_EEXIST when the name is taken. */
int users_add(struct store *st, const char *name, int role, const char *password, const char *actor,
              struct pl_err *err);

/* Removes user name and all its sessions and tokens; PL_ENOTFOUND if absent. */
int users_remove(struct store *st, const char *name, const char *actor, struct pl_err *err);

/* The users by name: [{name, role, created_at, sessions, tokens}] (live
 * ones only); *out is the caller's. No hash ever leaves this module. */
int users_list(struct store *st, const struct pl_clock *clock, json_t **out, struct pl_err *err);

/* Who a request is: filled by users_login and users_authenticate. */
struct users_identity {
	long user_id, session_id;
	char name[65];
	int role;
	int is_token;       /* an API token (no CSRF needed), not a browser session */
	char csrf[65];      /* the session's CSRF token */
	int64_t expires_at; /* Unix seconds */
};

#define USERS_SECRET_HEX  64 /* a session or token secret: 32 random bytes in hex */
#define USERS_SESSION_TTL (12 * 3600)
#define USERS_TOKEN_TTL   (30 * 86400)

/* Checks name and password; on success starts a session of ttl seconds
 * and writes its secret (USERS_SECRET_HEX digits) to secret. A wrong name
 * or password is PL_EFAIL with the same message for both, after the same
 * work (a hash is checked either way). Both outcomes are audited ("login",
 * "login-failed"). */
int users_login(struct store *st, const char *name, const char *password, int64_t ttl,
                const struct pl_clock *clock, char secret[static USERS_SECRET_HEX + 1],
                struct users_identity *out, struct pl_err *err);

/* Creates an API token for user name valid ttl seconds, labelled label
 * (may be NULL), audited as actor. */
int users_token_create(struct store *st, const char *name, const char *label, int64_t ttl,
                       const struct pl_clock *clock, const char *actor,
                       char secret[static USERS_SECRET_HEX + 1], struct pl_err *err);

/* Finds the live session or token whose secret this is: 0 and *out filled,
 * or PL_ENOTFOUND (unknown, malformed or expired). Read-only. */
int users_authenticate(struct store *st, const char *secret, const struct pl_clock *clock,
                       struct users_identity *out, struct pl_err *err);

/* Ends the session or token with this secret (audited "logout"); unknown is 0. */
int users_logout(struct store *st, const char *secret, struct pl_err *err);

#endif
