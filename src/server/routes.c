/* routes.c - the route table, path matching, forms and escaping. */
#include "server-private.h"

const struct srv_route srv_routes[] = {
    {"GET", "/login", srv_get_login, USERS_VIEWER, SRV_PUBLIC},
    {"POST", "/login", srv_post_login, USERS_VIEWER, SRV_PUBLIC},
    {"POST", "/logout", srv_post_logout, USERS_VIEWER, SRV_WRITE},
    {"GET", "/healthz", srv_get_health, USERS_VIEWER, SRV_PUBLIC | SRV_API},
    {"GET", "/static/style.css", srv_get_css, USERS_VIEWER, SRV_PUBLIC},
    {"GET", "/", srv_get_dashboard, USERS_VIEWER, 0},
    {"GET", "/candidates", srv_get_candidates, USERS_VIEWER, 0},
    {"GET", "/candidates/{}", srv_get_candidate, USERS_VIEWER, 0},
    {"POST", "/candidates/{}/approve", srv_post_candidate_decide, USERS_CAB, SRV_WRITE},
    {"POST", "/candidates/{}/reject", srv_post_candidate_decide, USERS_CAB, SRV_WRITE},
    {"GET", "/candidates/{}/runs/{}/{}", srv_get_evidence, USERS_VIEWER, 0},
    {"GET", "/findings", srv_get_findings, USERS_VIEWER, 0},
    {"GET", "/inventory", srv_get_inventory, USERS_VIEWER, 0},
    {"GET", "/rollouts", srv_get_rollouts, USERS_VIEWER, 0},
    {"GET", "/audit", srv_get_audit, USERS_VIEWER, 0},
    {"GET", "/report", srv_get_report, USERS_VIEWER, 0},
    {"GET", "/api/whoami", srv_api_whoami, USERS_VIEWER, SRV_API},
    {"GET", "/api/candidates", srv_api_candidates, USERS_VIEWER, SRV_API},
    {"GET", "/api/candidates/{}", srv_api_candidate, USERS_VIEWER, SRV_API},
    {"POST", "/api/candidates/{}/approve", srv_api_decide, USERS_CAB, SRV_API | SRV_WRITE},
    {"POST", "/api/candidates/{}/reject", srv_api_decide, USERS_CAB, SRV_API | SRV_WRITE},
    {"GET", "/api/hosts", srv_api_hosts, USERS_VIEWER, SRV_API},
    {"GET", "/api/drift", srv_api_drift, USERS_VIEWER, SRV_API},
    {"GET", "/api/findings", srv_api_findings, USERS_VIEWER, SRV_API},
    {"GET", "/api/calendar", srv_api_calendar, USERS_VIEWER, SRV_API},
    {"GET", "/api/audit", srv_api_audit, USERS_VIEWER, SRV_API},
    {"GET", "/api/report", srv_api_report, USERS_VIEWER, SRV_API},
    {NULL, NULL, NULL, 0, 0},
};

void server_html(struct pl_buf *b, const char *s)
{
	if (s)
		pl_buf_add_xml(b, s);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) (%XX, and '+' as a blank when plus); NULL when malformed. */
static char *url_decode(const char *s, size_t n, int plus)
{
	struct pl_buf b = PL_BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				pl_buf_release(&b);
				return NULL;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		pl_buf_addc(&b, c);
	}
	return pl_buf_detach(&b);
}

char *server_form_value(const char *body, const char *key)
{
	size_t klen = strlen(key);
	const char *p = body;

	while (p && *p) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
			return url_decode(p + klen + 1, len - klen - 1, 1);
		if (len == klen && strncmp(p, key, klen) == 0)
			return pl_strdup("");
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

void srv_url_segment(struct pl_buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			pl_buf_addc(b, (char)c);
		else
			pl_buf_addf(b, "%%%02X", c);
	}
}

/* Matches path (libmicrohttpd has decoded it already: it is never decoded
 * twice) against pattern; params receive the {} segments, each 1-128
 * bytes, without a control character or a leading '.'. */
static int route_path_match(const char *pattern, const char *path, char param[3][129])
{
	int np = 0;

	while (*pattern && *path) {
		if (strncmp(pattern, "{}", 2) == 0) {
			size_t n = strcspn(path, "/");

			if (n == 0 || n > 128 || np == 3 || path[0] == '.')
				return 0;
			for (size_t i = 0; i < n; i++)
				if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
					return 0;
			memcpy(param[np], path, n);
			param[np++][n] = '\0';
			pattern += 2;
			path += n;
		} else if (*pattern++ != *path++) {
			return 0;
		}
	}
	return *pattern == '\0' && *path == '\0';
}

void server_route_match(const char *method, const char *path, struct server_match *m)
{
	char param[3][129];

	memset(m, 0, sizeof(*m));
	m->route = -1;
	for (int i = 0; srv_routes[i].method; i++) {
		if (!route_path_match(srv_routes[i].pattern, path, param))
			continue;
		if (strcmp(srv_routes[i].method, method) == 0 ||
		    (strcmp(method, "HEAD") == 0 && strcmp(srv_routes[i].method, "GET") == 0)) {
			m->route = i;
			memcpy(m->param, param, sizeof(param));
			return;
		}
		if (!strstr(m->allow, srv_routes[i].method)) {
			size_t used = strlen(m->allow);

			snprintf(m->allow + used, sizeof(m->allow) - used, "%s%s", used ? ", " : "",
			         srv_routes[i].method);
			if (strcmp(srv_routes[i].method, "GET") == 0 && !strstr(m->allow, "HEAD")) {
				used = strlen(m->allow);
				snprintf(m->allow + used, sizeof(m->allow) - used, ", HEAD");
			}
		}
	}
}
