/*
 * server.c - libmicrohttpd: listening, the life of a request (body limit,
 * route, user, CSRF, role, handler) and the headers of every response.
 */
#include "server-private.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <time.h>

#include "rollout/rollout.h"

#define SRV_CSP                                                                                    \
	"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "         \
	"frame-ancestors 'none'; base-uri 'none'"

/* ---- responses ------------------------------------------------------------- */

unsigned srv_status_of(int code)
{
	switch (code) {
	case PL_EINVAL:
	case PL_EUSAGE:
		return MHD_HTTP_BAD_REQUEST;
	case PL_ENOTFOUND:
		return MHD_HTTP_NOT_FOUND;
	case PL_EEXIST:
	case PL_ESTATE:
	case PL_EFAIL:
		return MHD_HTTP_CONFLICT;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

void srv_json(struct srv_req *r, unsigned status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	pl_buf_reset(&r->out);
	pl_buf_adds(&r->out, s ? s : "null");
	pl_buf_addc(&r->out, '\n');
	free(s);
	json_decref(j);
	r->status = status;
	r->ctype = "application/json";
}

static const char *srv_reason(unsigned status)
{
	switch (status) {
	case 400:
		return "bad request";
	case 401:
		return "log in first";
	case 403:
		return "forbidden";
	case 404:
		return "not found";
	case 405:
		return "method not allowed";
	case 409:
		return "conflict";
	case 413:
		return "request body too large";
	case 415:
		return "unsupported media type";
	default:
		return "server error";
	}
}

void srv_error(struct srv_req *r, unsigned status, const char *fmt, ...)
{
	struct pl_buf msg = PL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	pl_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (r->m.route < 0 || (srv_routes[r->m.route].flags & SRV_API) ||
	    strncmp(r->url, "/api/", 5) == 0) {
		srv_json(r, status,
		         json_pack("{s:{s:i, s:s, s:s}}", "error", "status", (int)status, "reason",
		                   srv_reason(status), "message", pl_buf_str(&msg)));
	} else {
		pl_buf_reset(&r->out);
		srv_page_begin(r, srv_reason(status));
		pl_buf_addf(&r->out, "<h1>%u %s</h1><p class=\"flash err\">", status,
		            srv_reason(status));
		server_html(&r->out, pl_buf_str(&msg));
		pl_buf_adds(&r->out, "</p>");
		if (status == 401)
			pl_buf_adds(&r->out, "<p><a href=\"/login\">log in</a></p>");
		srv_page_end(r);
		r->status = status;
	}
	pl_buf_release(&msg);
}

void srv_redirect(struct srv_req *r, const char *location)
{
	free(r->location);
	r->location = pl_strdup(location);
	r->status = MHD_HTTP_SEE_OTHER;
	pl_buf_reset(&r->out);
	r->ctype = "text/plain; charset=utf-8";
	pl_buf_adds(&r->out, "see other\n");
}

static void srv_header(struct MHD_Response *resp, const char *k, const char *v)
{
	if (v)
		MHD_add_response_header(resp, k, v);
}

static void srv_log(struct srv_req *r, double start)
{
	struct server *s = r->srv;
	PL_AUTOBUF struct pl_buf url = PL_BUF_INIT;

	if (!r->status)
		r->status = MHD_HTTP_OK;
	if (!s->o.access_log)
		return;
	/* the path comes decoded: no control character reaches the log */
	for (const char *p = r->url; *p; p++)
		pl_buf_addc(&url, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
	pthread_mutex_lock(&s->log_mu);
	fprintf(s->o.access_log, "%s %s %u %s %.1fms\n", r->method, pl_buf_str(&url), r->status,
	        r->authed ? r->id.name : "-", (pl_monotonic() - start) * 1000);
	fflush(s->o.access_log);
	pthread_mutex_unlock(&s->log_mu);
}

static enum MHD_Result srv_send(struct srv_req *r)
{
	size_t len = r->out.len;
	char *body = pl_buf_detach(&r->out);
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!resp) {
		free(body);
		return MHD_NO;
	}
	srv_header(resp, "Content-Type", r->ctype ? r->ctype : "text/html; charset=utf-8");
	srv_header(resp, "Content-Security-Policy", r->csp ? r->csp : SRV_CSP);
	srv_header(resp, "X-Content-Type-Options", "nosniff");
	srv_header(resp, "X-Frame-Options", "DENY");
	/* same-origin, not no-referrer: with no-referrer Chromium sends
	 * "Origin: null" on the forms' POSTs, which the origin check refuses */
	srv_header(resp, "Referrer-Policy", "same-origin");
	srv_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	srv_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	srv_header(resp, "Cache-Control", "no-store");
	srv_header(resp, "Location", r->location);
	srv_header(resp, "Set-Cookie", r->cookie);
	srv_header(resp, "Allow", r->allow);
	if (r->auth_challenge)
		srv_header(resp, "WWW-Authenticate", "Bearer realm=\"patchlab\"");
	ret = MHD_queue_response(r->conn, r->status ? r->status : MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	r->answered = 1;
	return ret;
}

/* ---- who is asking ---------------------------------------------------------- */

static void srv_authenticate(struct srv_req *r)
{
	const char *authz =
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *secret = NULL;
	struct pl_err err = PL_ERR_INIT;
	int bearer = 0;

	if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
		secret = authz + 7;
		bearer = 1;
	} else {
		secret = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "pl_session");
	}
	if (!secret || users_authenticate(r->st, secret, r->srv->clock, &r->id, &err) < 0)
		return;
	/* a token only as a bearer, a session only as the cookie */
	if (bearer != r->id.is_token)
		return;
	r->authed = 1;
	snprintf(r->secret, sizeof(r->secret), "%s", secret);
}

/* A browser's cross-site POST names another origin: refused whatever else. */
static int srv_same_origin(struct srv_req *r)
{
	const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
	const char *rest;

	if (!origin || strcmp(origin, "null") == 0)
		return !origin;
	rest = strstr(origin, "://");
	return host && rest && strcmp(rest + 3, host) == 0;
}

static int srv_csrf_ok(struct srv_req *r)
{
	const char *hdr = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-CSRF-Token");
	PL_AUTOFREE char *field = NULL;

	if (r->id.is_token)
		return 1; /* a bearer token is never sent by a browser on its own */
	if (!hdr) {
		field = server_form_value(pl_buf_str(&r->body), "csrf");
		hdr = field;
	}
	return hdr && r->id.csrf[0] && users_secret_equal(hdr, r->id.csrf);
}

/* ---- the life of a request ---------------------------------------------------- */

static void srv_dispatch(struct srv_req *r)
{
	const struct srv_route *rt;

	server_route_match(r->method, r->url, &r->m);
	if (r->m.route < 0 && r->m.allow[0]) {
		r->allow = pl_strdup(r->m.allow);
		srv_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s %s: the path takes %s", r->method,
		          r->url, r->m.allow);
		return;
	}
	if (r->m.route < 0) {
		srv_error(r, MHD_HTTP_NOT_FOUND, "no page '%s'", r->url);
		return;
	}
	rt = &srv_routes[r->m.route];
	srv_authenticate(r);
	if (!(rt->flags & SRV_PUBLIC) && !r->authed) {
		if (!(rt->flags & (SRV_API | SRV_WRITE))) {
			struct pl_buf loc = PL_BUF_INIT;

			pl_buf_adds(&loc, "/login?next=");
			srv_url_segment(&loc, r->url);
			srv_redirect(r, pl_buf_str(&loc));
			pl_buf_release(&loc);
			return;
		}
		r->auth_challenge = (rt->flags & SRV_API) != 0;
		srv_error(r, MHD_HTTP_UNAUTHORIZED,
		          "log in, or send an API token ('Authorization: Bearer TOKEN')");
		return;
	}
	if (strcmp(r->method, "POST") == 0 && !srv_same_origin(r)) {
		srv_error(r, MHD_HTTP_FORBIDDEN, "cross-origin request refused");
		return;
	}
	if ((rt->flags & SRV_WRITE) && !srv_csrf_ok(r)) {
		srv_error(r, MHD_HTTP_FORBIDDEN,
		          "missing or wrong CSRF token (form field 'csrf' or header X-CSRF-Token)");
		return;
	}
	if (!(rt->flags & SRV_PUBLIC) && r->id.role < rt->role) {
		srv_error(r, MHD_HTTP_FORBIDDEN, "%s needs the %s role; '%s' is %s", r->url,
		          users_role_name(rt->role), r->id.name, users_role_name(r->id.role));
		return;
	}
	rt->fn(r);
}

static size_t srv_content_length(struct MHD_Connection *c)
{
	const char *v =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct pl_err ignored = PL_ERR_INIT;
	uint64_t n = 0;

	if (!v || pl_parse_u64(v, UINT64_MAX, &n, "Content-Length", &ignored) < 0)
		return 0;
	return n > SIZE_MAX ? SIZE_MAX : (size_t)n;
}

static enum MHD_Result srv_access(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
	struct server *s = cls;
	struct srv_req *r = *req_cls;
	size_t limit = s->o.max_body ? s->o.max_body : SERVER_MAX_BODY_DEFAULT;
	double start;
	enum MHD_Result ret;

	(void)version;
	if (!r) {
		r = pl_calloc(1, sizeof(*r));
		r->srv = s;
		r->conn = conn;
		r->method = method;
		r->url = url;
		r->m.route = -1;
		*req_cls = r;
		if (srv_content_length(conn) > limit) {
			/* refused before a byte of the body is read */
			r->too_large = 1;
			srv_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "the body is over %zu bytes",
			          limit);
			srv_log(r, pl_monotonic());
			return srv_send(r);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_large && r->body.len + *upload_size > limit)
			r->too_large = 1;
		if (!r->too_large)
			pl_buf_add(&r->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->answered)
		return MHD_YES;
	start = pl_monotonic();
	if (r->too_large) {
		srv_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "the body is over %zu bytes", limit);
	} else if (strlen(r->body.s ? r->body.s : "") != r->body.len) {
		srv_error(r, MHD_HTTP_BAD_REQUEST, "the body holds a NUL byte");
	} else {
		r->st = srv_pool_get(&s->ro);
		srv_dispatch(r);
		srv_pool_put(&s->ro, PL_STEAL(r->st));
	}
	srv_log(r, start);
	ret = srv_send(r);
	return ret;
}

static void srv_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                          enum MHD_RequestTerminationCode toe)
{
	struct srv_req *r = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!r)
		return;
	explicit_bzero(r->secret, sizeof(r->secret));
	if (r->body.s)
		explicit_bzero(r->body.s, r->body.cap);
	pl_buf_release(&r->body);
	pl_buf_release(&r->out);
	free(r->location);
	free(r->cookie);
	free(r->allow);
	free(r);
	*req_cls = NULL;
}

/* ---- starting and stopping ------------------------------------------------------ */

int server_parse_listen(const char *s, struct sockaddr_storage *out, socklen_t *len,
                        struct pl_err *err)
{
	PL_AUTOFREE char *host = NULL;
	const char *colon;
	int port;

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return pl_error(err, PL_EUSAGE, "--listen: expected ADDR:PORT");
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return pl_error(err, PL_EUSAGE, "--listen: '%s': expected [IPV6]:PORT", s);
		host = pl_strndup(s + 1, (size_t)(end - s - 1));
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return pl_error(err, PL_EUSAGE, "--listen: '%s': expected ADDR:PORT", s);
		host = pl_strndup(s, (size_t)(colon - s));
	}
	if (pl_parse_int(colon + 1, 0, 65535, &port, "--listen: port", err) < 0)
		return PL_EUSAGE;
	if (strcmp(host, "localhost") == 0) {
		free(host);
		host = pl_strdup("127.0.0.1");
	}
	if (s[0] != '[') {
		struct sockaddr_in *a = (struct sockaddr_in *)out;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return pl_error(err, PL_EUSAGE, "--listen: '%s' is not an IPv4 address",
			                host);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return pl_error(err, PL_EUSAGE, "--listen: '%s' is not an IPv6 address",
			                host);
		*len = sizeof(*a);
	}
	return 0;
}

/* ---- the rollouts' run-due loop ------------------------------------------------- */

static void srv_due_pass(struct server *s)
{
	struct rollout_run_opts o = {s->clock, NULL, 0, NULL, NULL};
	struct pl_err err = PL_ERR_INIT;
	struct store *st = NULL;
	json_t *report = NULL;
	double start = pl_monotonic();
	int rc = store_open(s->dir, 0, &st, &err);

	if (rc == 0)
		rc = rollout_run_due(st, &o, &report, &err);
	store_close(st);
	if (s->o.access_log) {
		pthread_mutex_lock(&s->log_mu);
		fprintf(s->o.access_log, "run-due %s %zu rollouts %.1fms%s%s\n",
		        rc == 0          ? "ok"
		        : rc == PL_EFAIL ? "fail"
		                         : "error",
		        json_array_size(json_object_get(report, "rollouts")),
		        (pl_monotonic() - start) * 1000, rc ? ": " : "", rc ? err.msg : "");
		fflush(s->o.access_log);
		pthread_mutex_unlock(&s->log_mu);
	}
	json_decref(report);
}

static void *srv_due_loop(void *arg)
{
	struct server *s = arg;

	pthread_mutex_lock(&s->due_mu);
	while (!s->due_stop) {
		struct timespec until;

		pthread_mutex_unlock(&s->due_mu);
		srv_due_pass(s);
		pthread_mutex_lock(&s->due_mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += s->o.run_due_every;
		while (!s->due_stop && pthread_cond_timedwait(&s->due_cv, &s->due_mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&s->due_mu);
	return NULL;
}

static void srv_due_stop(struct server *s)
{
	if (!s->due_started)
		return;
	pthread_mutex_lock(&s->due_mu);
	s->due_stop = 1;
	pthread_cond_signal(&s->due_cv);
	pthread_mutex_unlock(&s->due_mu);
	pthread_join(s->due, NULL);
	s->due_started = 0;
}

static void srv_free(struct server *s)
{
	if (s->ro.free)
		srv_pool_close(&s->ro);
	if (s->rw.free)
		srv_pool_close(&s->rw);
	pthread_mutex_destroy(&s->log_mu);
	pthread_mutex_destroy(&s->due_mu);
	pthread_cond_destroy(&s->due_cv);
	free(s->dir);
	free(s);
}

int server_start(const char *state_dir, const struct server_opts *o, struct server **out,
                 struct pl_err *err)
{
	struct sockaddr_storage addr;
	socklen_t alen;
	const union MHD_DaemonInfo *info;
	struct server *s;
	unsigned threads = o->threads;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (server_parse_listen(o->listen, &addr, &alen, err) < 0)
		return err->code;
	if (!threads)
		threads = ncpu > 2 ? (unsigned)ncpu * 2 : 4;
	s = pl_calloc(1, sizeof(*s));
	s->dir = pl_strdup(state_dir);
	s->o = *o;
	s->clock = o->clock ? o->clock : pl_clock_system();
	pthread_mutex_init(&s->log_mu, NULL);
	pthread_mutex_init(&s->due_mu, NULL);
	pthread_cond_init(&s->due_cv, NULL);
	/* the writer first: it migrates, and creates the WAL files readers need */
	if (srv_pool_open(&s->rw, state_dir, 0, 1, err) < 0 ||
	    srv_pool_open(&s->ro, state_dir, STORE_READONLY, threads + 1, err) < 0) {
		srv_free(s);
		return err->code;
	}
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	                            (addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	                        0, NULL, NULL, srv_access, s, MHD_OPTION_SOCK_ADDR,
	                        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
	                        MHD_OPTION_NOTIFY_COMPLETED, srv_completed, s,
	                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_END);
	if (!s->d) {
		srv_free(s);
		return pl_error(err, PL_EENV, "cannot listen on '%s': %s", o->listen,
		                errno ? strerror(errno) : "libmicrohttpd refused to start");
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	if (o->run_due_every) {
		if (pthread_create(&s->due, NULL, srv_due_loop, s) != 0) {
			MHD_stop_daemon(s->d);
			srv_free(s);
			return pl_error(err, PL_EENV, "cannot start the run-due thread");
		}
		s->due_started = 1;
	}
	*out = s;
	return 0;
}

unsigned server_port(const struct server *s)
{
	return s->port;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	srv_due_stop(s);
	MHD_stop_daemon(s->d);
	srv_free(s);
}
