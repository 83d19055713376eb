/*
 * pages.c - the frame of every page, login and logout, and the small pages.
 * Server-rendered HTML, no script; every value through server_html().
 */
#include "server-private.h"

#include "audit/audit.h"
#include "report/report.h"

#define SRV_COOKIE_ATTRS "; Path=/; HttpOnly; Secure; SameSite=Strict"

void srv_csrf_field(struct srv_req *r)
{
	pl_buf_adds(&r->out, "<input type=\"hidden\" name=\"csrf\" value=\"");
	server_html(&r->out, r->id.csrf);
	pl_buf_adds(&r->out, "\">");
}

void srv_page_begin(struct srv_req *r, const char *title)
{
	static const char *const nav[][2] = {
	    {"/", "Dashboard"},          {"/candidates", "Candidates"}, {"/findings", "Findings"},
	    {"/inventory", "Inventory"}, {"/rollouts", "Rollouts"},     {"/audit", "Audit"},
	    {"/report", "Report"}};
	struct pl_buf *b = &r->out;

	r->ctype = "text/html; charset=utf-8";
	pl_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	               "<meta name=\"viewport\" content=\"width=device-width\"><title>");
	server_html(b, title);
	pl_buf_adds(b, " - patchlab</title><link rel=\"icon\" href=\"data:,\">"
	               "<link rel=\"stylesheet\" href=\"/static/style.css\">"
	               "</head><body><header class=\"top\"><a href=\"/\">patchlab</a>");
	if (r->authed) {
		for (size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); i++) {
			pl_buf_adds(b, "<a href=\"");
			server_html(b, nav[i][0]);
			pl_buf_adds(b, "\">");
			server_html(b, nav[i][1]);
			pl_buf_adds(b, "</a>");
		}
		pl_buf_adds(b, "<span class=\"who\">");
		server_html(b, r->id.name);
		pl_buf_adds(b, " (");
		server_html(b, users_role_name(r->id.role));
		pl_buf_adds(b, ") <form class=\"inline\" method=\"post\" action=\"/logout\">");
		srv_csrf_field(r);
		pl_buf_adds(b, "<button type=\"submit\">log out</button></form></span>");
	}
	pl_buf_adds(b, "</header><main>");
}

void srv_page_end(struct srv_req *r)
{
	pl_buf_adds(&r->out, "</main></body></html>\n");
}

void srv_get_css(struct srv_req *r)
{
	pl_buf_adds(&r->out, report_css);
	r->ctype = "text/css; charset=utf-8";
}

void srv_get_health(struct srv_req *r)
{
	srv_json(r, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
}

/* ---- login and logout --------------------------------------------------------- */

/* Only a local path may follow a login: "/x", never "//host" or "/\\host". */
static int srv_local_path(const char *p)
{
	return p && p[0] == '/' && p[1] != '/' && p[1] != '\\' && !strpbrk(p, "\r\n");
}

static void login_form(struct srv_req *r, const char *next, const char *error)
{
	char token[65];
	struct pl_err err = PL_ERR_INIT;

	if (users_random_hex(32, token, &err) < 0) {
		srv_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
		return;
	}
	/* a login form carries its own CSRF token (double submit: cookie and field) */
	free(r->cookie);
	r->cookie = pl_strdupf("pl_login=%s; Path=/login; Max-Age=900; HttpOnly; Secure; "
	                       "SameSite=Strict",
	                       token);
	srv_page_begin(r, "log in");
	pl_buf_adds(&r->out, "<h1>Log in</h1>");
	if (error) {
		pl_buf_adds(&r->out, "<p class=\"flash err\" id=\"login-error\">");
		server_html(&r->out, error);
		pl_buf_adds(&r->out, "</p>");
	}
	pl_buf_adds(&r->out, "<form method=\"post\" action=\"/login\" id=\"login\">"
	                     "<input type=\"hidden\" name=\"login_csrf\" value=\"");
	server_html(&r->out, token);
	pl_buf_adds(&r->out, "\"><input type=\"hidden\" name=\"next\" value=\"");
	server_html(&r->out, srv_local_path(next) ? next : "/");
	pl_buf_adds(&r->out,
	            "\"><p><label>user<br><input type=\"text\" name=\"user\" id=\"user\" "
	            "autocomplete=\"username\" required></label></p><p><label>password<br>"
	            "<input type=\"password\" name=\"password\" id=\"password\" "
	            "autocomplete=\"current-password\" required></label></p>"
	            "<p><button type=\"submit\" id=\"login-submit\">log in</button></p></form>");
	srv_page_end(r);
}

void srv_get_login(struct srv_req *r)
{
	const char *next = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "next");

	login_form(r, next, NULL);
}

void srv_post_login(struct srv_req *r)
{
	const char *body = pl_buf_str(&r->body);
	const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "pl_login");
	PL_AUTOFREE char *user = server_form_value(body, "user");
	PL_AUTOFREE char *password = server_form_value(body, "password");
	PL_AUTOFREE char *token = server_form_value(body, "login_csrf");
	PL_AUTOFREE char *next = server_form_value(body, "next");
	char secret[USERS_SECRET_HEX + 1];
	struct users_identity id;
	struct pl_err err = PL_ERR_INIT;
	struct store *st;
	int rc;

	if (!cookie || !token || !users_secret_equal(token, cookie)) {
		r->status = MHD_HTTP_FORBIDDEN;
		login_form(r, next, "the form expired: log in again");
		return;
	}
	st = srv_pool_get(&r->srv->rw);
	rc = users_login(st, user ? user : "", password ? password : "", USERS_SESSION_TTL,
	                 r->srv->clock, secret, &id, &err);
	srv_pool_put(&r->srv->rw, st);
	if (password)
		explicit_bzero(password, strlen(password));
	if (rc < 0) {
		pl_buf_reset(&r->out);
		r->status = rc == PL_EFAIL ? MHD_HTTP_UNAUTHORIZED : srv_status_of(rc);
		login_form(r, next, err.msg);
		return;
	}
	free(r->cookie);
	r->cookie =
	    pl_strdupf("pl_session=%s; Max-Age=%d" SRV_COOKIE_ATTRS, secret, USERS_SESSION_TTL);
	explicit_bzero(secret, sizeof(secret));
	srv_redirect(r, srv_local_path(next) ? next : "/");
}

void srv_post_logout(struct srv_req *r)
{
	struct pl_err err = PL_ERR_INIT;
	struct store *st = srv_pool_get(&r->srv->rw);
	int rc = users_logout(st, r->secret, &err);

	srv_pool_put(&r->srv->rw, st);
	if (rc < 0) {
		srv_error(r, srv_status_of(rc), "%s", err.msg);
		return;
	}
	free(r->cookie);
	r->cookie = pl_strdup("pl_session=; Max-Age=0" SRV_COOKIE_ATTRS);
	srv_redirect(r, "/login");
}

/* ---- the audit log ------------------------------------------------------------- */

void srv_get_audit(struct srv_req *r)
{
	struct audit_filter f = {NULL, NULL, NULL};
	struct pl_err err = PL_ERR_INIT;
	json_t *arr = NULL, *e;
	size_t n, shown = 0;

	f.object = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "object");
	if (audit_list(r->st, &f, &arr, &err) < 0) {
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
		return;
	}
	srv_page_begin(r, "audit log");
	pl_buf_addf(&r->out,
	            "<h1>Audit log</h1><p>%zu entries; the newest 200 first. "
	            "'patchlab audit verify' checks the chain.</p>",
	            json_array_size(arr));
	pl_buf_adds(&r->out, "<table><tr><th>seq</th><th>at</th><th>actor</th><th>action</th>"
	                     "<th>object</th><th>detail</th></tr>");
	for (n = json_array_size(arr); n > 0 && shown < 200; n--, shown++) {
		PL_AUTOFREE char *detail = NULL;

		e = json_array_get(arr, n - 1);
		detail = json_dumps(json_object_get(e, "detail"), JSON_COMPACT | JSON_ENCODE_ANY);
		pl_buf_addf(&r->out, "<tr><td>%lld</td><td>",
		            (long long)json_integer_value(json_object_get(e, "seq")));
		server_html(&r->out, json_string_value(json_object_get(e, "at")));
		pl_buf_adds(&r->out, "</td><td>");
		server_html(&r->out, json_string_value(json_object_get(e, "actor")));
		pl_buf_adds(&r->out, "</td><td>");
		server_html(&r->out, json_string_value(json_object_get(e, "action")));
		pl_buf_adds(&r->out, "</td><td>");
		server_html(&r->out, json_string_value(json_object_get(e, "kind")));
		pl_buf_adds(&r->out, " ");
		server_html(&r->out, json_string_value(json_object_get(e, "object")));
		pl_buf_adds(&r->out, "</td><td><code>");
		server_html(&r->out, detail);
		pl_buf_adds(&r->out, "</code></td></tr>");
	}
	pl_buf_adds(&r->out, "</table>");
	srv_page_end(r);
	json_decref(arr);
}

/* ---- the report ------------------------------------------------------------------- */

static int srv_report_model(struct srv_req *r, json_t **model, struct pl_err *err)
{
	struct report_filter f = {NULL, 0};
	const char *since = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "since");

	f.candidate = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "candidate");
	if (since && pl_time_parse(since, &f.since, err) < 0)
		return pl_error(err, PL_EINVAL, "since: '%s' is not YYYY-MM-DD", since);
	return report_collect(r->st, &f, r->srv->o.policy, r->srv->clock, NULL, model, err);
}

void srv_get_report(struct srv_req *r)
{
	struct pl_err err = PL_ERR_INIT;
	json_t *model = NULL;

	if (srv_report_model(r, &model, &err) < 0) {
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
		return;
	}
	report_render_html(model, &r->out);
	json_decref(model);
	/* the report is one self-contained file: its CSS is inline */
	r->csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
	         "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
}

void srv_api_report(struct srv_req *r)
{
	struct pl_err err = PL_ERR_INIT;
	json_t *model = NULL;

	if (srv_report_model(r, &model, &err) < 0)
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
	else
		srv_json(r, MHD_HTTP_OK, model);
}

void srv_api_audit(struct srv_req *r)
{
	struct audit_filter f = {NULL, NULL, NULL};
	struct pl_err err = PL_ERR_INIT;
	json_t *arr = NULL;

	f.since = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "since");
	f.object = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "object");
	f.kind = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "kind");
	if (audit_list(r->st, &f, &arr, &err) < 0)
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
	else
		srv_json(r, MHD_HTTP_OK, arr);
}

void srv_api_whoami(struct srv_req *r)
{
	srv_json(r, MHD_HTTP_OK,
	         json_pack("{s:s, s:s, s:s, s:I}", "user", r->id.name, "role",
	                   users_role_name(r->id.role), "auth",
	                   r->id.is_token ? "token" : "session", "expires_at",
	                   (json_int_t)r->id.expires_at));
}
