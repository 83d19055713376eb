/* server-private.h - internals shared by the files of src/server/. */
#ifndef PL_SERVER_PRIVATE_H
#define PL_SERVER_PRIVATE_H

#include <pthread.h>
#include <microhttpd.h>

#include "server.h"
#include "users/users.h"

/* A pool of open SQLite connections of one kind; a request borrows one. */
struct srv_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct store **free; /* the idle ones */
	size_t nfree, size;
};

struct server {
	struct MHD_Daemon *d;
	char *dir;
	struct srv_pool ro, rw; /* read-only for GETs, read-write for writes */
	struct server_opts o;
	const struct pl_clock *clock;
	unsigned port;
	pthread_mutex_t log_mu;
	/* the run-due loop */
	pthread_t due;
	int due_started, due_stop;
	pthread_mutex_t due_mu;
	pthread_cond_t due_cv;
};

/* One request: what came in, who sent it, and the response being built. */
struct srv_req {
	struct server *srv;
	struct MHD_Connection *conn;
	const char *method, *url;
	struct pl_buf body;
	int too_large, answered;
	struct server_match m;
	int authed; /* id is a live session or token */
	struct users_identity id;
	char secret[USERS_SECRET_HEX + 1]; /* the cookie's or token's secret */
	struct store *st;                  /* a read-only connection, for the handler */
	/* the response */
	unsigned status;
	struct pl_buf out;
	const char *ctype;
	const char *csp;    /* NULL: the default policy */
	char *location;     /* a redirect */
	char *cookie;       /* a Set-Cookie value */
	char *allow;        /* for 405 */
	int auth_challenge; /* add WWW-Authenticate (API 401) */
};

typedef void (*srv_handler)(struct srv_req *r);

enum srv_route_flags {
	SRV_PUBLIC = 1 << 0, /* no user needed */
	SRV_API = 1 << 1,    /* JSON errors, 401 instead of a redirect to /login */
	SRV_WRITE = 1 << 2   /* changes state: CSRF checked (unless token), rw store */
};

struct srv_route {
	const char *method, *pattern; /* "{}" is one path segment, a parameter */
	srv_handler fn;
	int role; /* the least role needed (enum users_role) */
	unsigned flags;
};

/* The table, ending in a zeroed row (routes.c). */
extern const struct srv_route srv_routes[];

/* Borrow and return connections (pool.c). */
int srv_pool_open(struct srv_pool *p, const char *dir, unsigned flags, size_t n,
                  struct pl_err *err);
struct store *srv_pool_get(struct srv_pool *p);
void srv_pool_put(struct srv_pool *p, struct store *st);
void srv_pool_close(struct srv_pool *p);

/* Responses (server.c). */
void srv_json(struct srv_req *r, unsigned status, json_t *j); /* consumes j */
void srv_error(struct srv_req *r, unsigned status, const char *fmt, ...) PL_PRINTF(3, 4);
void srv_redirect(struct srv_req *r, const char *location);
/* The HTTP status for a PL_E* code. */
unsigned srv_status_of(int code);

/* Pages (pages.c, page_*.c): the frame around every page. */
void srv_page_begin(struct srv_req *r, const char *title);
void srv_page_end(struct srv_req *r);
/* A hidden CSRF field for the current session. */
void srv_csrf_field(struct srv_req *r);
/* Appends a path segment percent-encoded (for hrefs built from names). */
void srv_url_segment(struct pl_buf *b, const char *s);

/* Handlers. */
void srv_get_login(struct srv_req *r);
void srv_post_login(struct srv_req *r);
void srv_post_logout(struct srv_req *r);
void srv_get_css(struct srv_req *r);
void srv_get_health(struct srv_req *r);
void srv_get_dashboard(struct srv_req *r);
void srv_get_candidates(struct srv_req *r);
void srv_get_candidate(struct srv_req *r);
void srv_post_candidate_decide(struct srv_req *r);
void srv_get_evidence(struct srv_req *r);
void srv_get_findings(struct srv_req *r);
void srv_get_inventory(struct srv_req *r);
void srv_get_rollouts(struct srv_req *r);
void srv_get_audit(struct srv_req *r);
void srv_get_report(struct srv_req *r);
void srv_api_candidates(struct srv_req *r);
void srv_api_candidate(struct srv_req *r);
void srv_api_decide(struct srv_req *r);
void srv_api_hosts(struct srv_req *r);
void srv_api_drift(struct srv_req *r);
void srv_api_findings(struct srv_req *r);
void srv_api_calendar(struct srv_req *r);
void srv_api_audit(struct srv_req *r);
void srv_api_report(struct srv_req *r);
void srv_api_whoami(struct srv_req *r);

/* The candidate's full JSON (what 'candidate show --format json' prints):
 * candidate, lab_runs, change_record. */
int srv_candidate_json(struct srv_req *r, const char *name, json_t **out, struct pl_err *err);

/* Approves or rejects (decision "approve" / "reject") as the request's
 * user with role cab: the gate decides; *out is gate_outcome_to_json. */
int srv_decide(struct srv_req *r, const char *name, const char *decision, const char *note,
               json_t **out, struct pl_err *err);

#endif
