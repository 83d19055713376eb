/*
 * server.h - the CAB dashboard and the JSON API over HTTP (libmicrohttpd).
 *
 * Owns: the HTTP side of patchlab: listening, the route table (strict
 * methods: 405 with Allow), request body limits (413), authentication of
 * each request (a session cookie from the login form, or an API token in
 * "Authorization: Bearer"), CSRF checks, the role each route needs,
 * security headers (a Content-Security-Policy without inline script,
 * nosniff, frame-ancestors 'none'), server-rendered HTML pages in which every
 * value is escaped, JSON errors, and a pool of SQLite connections (read-only
 * ones for GETs, one read-write connection for the few writes).
 * Does not own: users, passwords and sessions (src/users/), decisions
 * (src/gate/ approves and rejects; the server only calls it), the data it
 * shows (src/candidate/, src/lab/, src/inventory/, src/rollout/,
 * src/audit/, src/report/).
 *
 * With run_due_every, one more thread executes what is due in the rollouts
 * (rollout_run_due, as 'patchlab rollout run-due' from a timer does) every
 * so many seconds on its own connection, and logs one line per pass to the
 * access log.
 *
 * Access: every route but /login, /healthz and /static/ needs a user.
 * Browsers log in at /login and get a session cookie (HttpOnly, Secure,
 * SameSite=Strict; 12 h); every form carries the session's CSRF token and
 * every POST must present it (form field "csrf", or the "X-CSRF-Token"
 * header for scripts using the cookie). Scripts may instead send an API
 * token ('patchlab user token'): no CSRF token is needed with it, as a
 * browser never adds that header by itself. Reading needs the viewer role,
 * approving and rejecting the cab role. No user: 401; a page redirects to
 * /login. Wrong role or CSRF token: 403. A refused request changes nothing.
 */
#ifndef PL_SERVER_H
#define PL_SERVER_H

#include <sys/socket.h>

#include "core/core.h"
#include "store/store.h"

struct gate_policy;
struct rollout_policy;

#define SERVER_MAX_BODY_DEFAULT (64 * 1024)

struct server_opts {
	const char *listen;                   /* "ADDR:PORT", "[V6]:PORT"; port 0: any free */
	unsigned threads;                     /* worker threads (0: 2 per CPU, at least 4) */
	size_t max_body;                      /* bytes; 0: SERVER_MAX_BODY_DEFAULT */
	const struct gate_policy *policy;     /* for approvals and promotion (borrowed) */
	const struct rollout_policy *rollout; /* for the calendar (borrowed) */
	const struct pl_clock *clock;         /* NULL: the system clock */
	FILE *access_log;                     /* one line per request, or NULL */
	unsigned run_due_every; /* seconds between 'rollout run-due' passes; 0: none */
};

struct server;

/* Opens the database pools of state_dir and starts listening; requests are
 * served by the server's own threads until server_stop. *out is the
 * caller's. A bad --listen is PL_EUSAGE; a port in use PL_EENV. */
int server_start(const char *state_dir, const struct server_opts *o, struct server **out,
                 struct pl_err *err);

/* The port actually bound (the free one chosen for port 0). */
unsigned server_port(const struct server *s);

/* Stops listening, waits for the requests in flight and frees s. */
void server_stop(struct server *s);

/* Parses "ADDR:PORT" (IPv4, or "[IPv6]:PORT"; "localhost" is 127.0.0.1)
 * into out; PL_EUSAGE naming what is wrong. */
int server_parse_listen(const char *s, struct sockaddr_storage *out, socklen_t *len,
                        struct pl_err *err);

/* ---- pieces with their own tests --------------------------------------- */

/* Appends s escaped for HTML text and attribute values (&<>"'): the one
 * escaping function of every page (it is pl_buf_add_xml). */
void server_html(struct pl_buf *b, const char *s);

/* Finds key in an application/x-www-form-urlencoded body (or query string)
 * and decodes it ('+' and %XX); NULL when absent or malformed (a bad %
 * escape or a NUL). The caller frees the result. */
char *server_form_value(const char *body, const char *key);

/* What the route table says of METHOD PATH. */
struct server_match {
	int route;          /* index into the table, -1 when none */
	char allow[64];     /* methods the path takes, for 405's Allow header */
	char param[3][129]; /* the path's {name} segments, decoded */
};

/* Matches method and path against the route table: route >= 0 when found;
 * route -1 with allow empty when no route has the path (404), with allow
 * set when only other methods do (405). */
void server_route_match(const char *method, const char *path, struct server_match *m);

#endif
