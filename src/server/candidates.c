/*
 * candidates.c - candidate pages and API: the list, one candidate with its
 * lab runs, checks, evidence and change record, and the CAB's approve and
 * reject (decided by src/gate, never here).
 */
#include "server-private.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "candidate/candidate.h"
#include "gate/gate.h"
#include "lab/lab.h"

#define SRV_EVIDENCE_MAX  (8 << 20) /* bytes of an evidence file served */
#define SRV_EXCERPT_LINES 40

static const char *js(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int srv_candidate_json(struct srv_req *r, const char *name, json_t **out, struct pl_err *err)
{
	struct candidate c;
	json_t *runs = NULL, *rec = NULL, *j;
	int rc;

	if (!candidate_name_ok(name))
		return pl_error(err, PL_ENOTFOUND, "no candidate '%s'", name);
	if (candidate_get(r->st, name, &c, err) < 0)
		return err->code;
	rc = lab_candidate_runs(r->st, c.id, &runs, err);
	if (rc == 0 && r->srv->o.policy)
		rc = gate_change_record(r->st, &c, r->srv->o.policy, r->srv->clock, &rec, err);
	if (rc < 0) {
		json_decref(runs);
		json_decref(rec);
		candidate_clear(&c);
		return rc;
	}
	j = candidate_to_json(&c);
	json_object_set_new(j, "lab_runs", runs);
	json_object_set_new(j, "change_record", rec ? rec : json_object());
	candidate_clear(&c);
	*out = j;
	return 0;
}

int srv_decide(struct srv_req *r, const char *name, const char *decision, const char *note,
               json_t **out, struct pl_err *err)
{
	struct gate_outcome o;
	struct store *st;
	int rc;

	if (!r->srv->o.policy)
		return pl_error(err, PL_EINTERNAL, "the server has no gate policy");
	st = srv_pool_get(&r->srv->rw);
	/* the dashboard's cab role approves as the policy's "cab" role */
	if (strcmp(decision, "approve") == 0)
		rc = gate_approve(st, name, r->srv->o.policy, r->srv->clock, r->id.name, "cab",
		                  note, &o, err);
	else
		rc = gate_reject(st, name, r->srv->o.policy, r->srv->clock, r->id.name, "cab", note,
		                 &o, err);
	srv_pool_put(&r->srv->rw, st);
	if (rc < 0)
		return rc;
	*out = gate_outcome_to_json(&o, decision);
	gate_outcome_clear(&o);
	return 0;
}

/* ---- the list --------------------------------------------------------------------- */

static void candidate_link(struct pl_buf *b, const char *name)
{
	pl_buf_adds(b, "<a href=\"/candidates/");
	srv_url_segment(b, name);
	pl_buf_adds(b, "\">");
	server_html(b, name);
	pl_buf_adds(b, "</a>");
}

static void state_badge(struct pl_buf *b, const char *s)
{
	pl_buf_adds(b, "<span class=\"state s-");
	server_html(b, s ? s : "none");
	pl_buf_adds(b, "\">");
	server_html(b, s ? s : "-");
	pl_buf_adds(b, "</span>");
}

void srv_get_candidates(struct srv_req *r)
{
	struct pl_err err = PL_ERR_INIT;
	json_t *arr = NULL, *v;
	size_t i;

	if (candidate_list(r->st, &arr, &err) < 0) {
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
		return;
	}
	srv_page_begin(r, "candidates");
	pl_buf_addf(&r->out, "<h1>Candidates</h1><p>%zu candidates</p>", json_array_size(arr));
	pl_buf_adds(&r->out, "<table id=\"candidates\"><tr><th>name</th><th>state</th>"
	                     "<th>lab verdict</th><th>patches</th><th>updated</th></tr>");
	json_array_foreach (arr, i, v) {
		pl_buf_adds(&r->out, "<tr><td>");
		candidate_link(&r->out, js(v, "name"));
		pl_buf_adds(&r->out, "</td><td>");
		state_badge(&r->out, js(v, "state"));
		pl_buf_adds(&r->out, "</td><td>");
		server_html(&r->out, js(v, "last_verdict") ?: "-");
		pl_buf_addf(&r->out, "</td><td>%lld</td><td>",
		            (long long)json_integer_value(json_object_get(v, "patches")));
		server_html(&r->out, js(v, "updated_at"));
		pl_buf_adds(&r->out, "</td></tr>");
	}
	pl_buf_adds(&r->out, "</table>");
	srv_page_end(r);
	json_decref(arr);
}

void srv_api_candidates(struct srv_req *r)
{
	struct pl_err err = PL_ERR_INIT;
	json_t *arr = NULL;

	if (candidate_list(r->st, &arr, &err) < 0)
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
	else
		srv_json(r, MHD_HTTP_OK, arr);
}

void srv_api_candidate(struct srv_req *r)
{
	struct pl_err err = PL_ERR_INIT;
	json_t *j = NULL;

	if (srv_candidate_json(r, r->m.param[0], &j, &err) < 0)
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
	else
		srv_json(r, MHD_HTTP_OK, j);
}

/* ---- evidence ----------------------------------------------------------------------- */

/* Evidence file names: what lab runs write (vm1.console.log, dpkg.log, ...). */
static int evidence_name_ok(const char *s)
{
	if (!s || !*s || s[0] == '.' || strlen(s) > 128)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* 1 when run belongs to candidate name. */
static int run_of_candidate(struct store *st, const char *name, const char *run)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db,
	                       "SELECT 1 FROM lab_runs r JOIN candidates c ON c.id = r.candidate_id"
	                       " WHERE r.id = ? AND c.name = ?",
	                       -1, &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	return sqlite3_step(s) == SQLITE_ROW;
}

/* Opens STATE/runs/RUN/FILE read-only without following links; -1 if not
 * a regular file of that run. */
static int evidence_open(struct srv_req *r, const char *run, const char *file, struct stat *sb)
{
	PL_AUTOFREE char *dir = pl_strdupf("%s/runs/%s", r->srv->dir, run);
	PL_AUTOFD int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	int fd;

	if (dfd < 0)
		return -1;
	fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && (fstat(fd, sb) < 0 || !S_ISREG(sb->st_mode))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads at most max bytes of fd's end into b. */
static void read_tail(int fd, off_t size, size_t max, struct pl_buf *b)
{
	char chunk[8192];
	off_t from = size > (off_t)max ? size - (off_t)max : 0;
	ssize_t n;

	if (lseek(fd, from, SEEK_SET) < 0)
		return;
	while (b->len < max && (n = read(fd, chunk, sizeof(chunk))) > 0)
		pl_buf_add(b, chunk, (size_t)n);
}

void srv_get_evidence(struct srv_req *r)
{
	const char *name = r->m.param[0], *run = r->m.param[1], *file = r->m.param[2];
	struct stat sb;
	PL_AUTOFD int fd = -1;

	if (!candidate_name_ok(name) || !evidence_name_ok(run) || !evidence_name_ok(file) ||
	    !run_of_candidate(r->st, name, run) || (fd = evidence_open(r, run, file, &sb)) < 0) {
		srv_error(r, MHD_HTTP_NOT_FOUND, "no evidence '%s' of run '%s' of '%s'", file, run,
		          name);
		return;
	}
	if (sb.st_size > SRV_EVIDENCE_MAX)
		pl_buf_addf(&r->out, "[... the first %lld bytes left out ...]\n",
		            (long long)(sb.st_size - SRV_EVIDENCE_MAX));
	read_tail(fd, sb.st_size, SRV_EVIDENCE_MAX, &r->out);
	/* shown as text whatever it holds: never rendered, never sniffed */
	r->ctype = strstr(file, ".json") ? "application/json" : "text/plain; charset=utf-8";
	r->csp = "default-src 'none'; frame-ancestors 'none'; sandbox";
}

/* The last lines of one evidence file, escaped, in a <pre>. */
static void evidence_excerpt(struct srv_req *r, const char *run, const char *file,
                             const char *title)
{
	struct pl_buf tail = PL_BUF_INIT;
	struct stat sb;
	PL_AUTOFD int fd = evidence_open(r, run, file, &sb);
	const char *p;
	size_t lines = 0;

	if (fd < 0)
		return;
	read_tail(fd, sb.st_size, 16384, &tail);
	p = tail.s ? tail.s + tail.len : NULL;
	while (p && p > tail.s && lines <= SRV_EXCERPT_LINES)
		if (*--p == '\n' && p + 1 < tail.s + tail.len)
			lines++;
	pl_buf_adds(&r->out, "<h4>");
	server_html(&r->out, title);
	pl_buf_adds(&r->out, " (");
	server_html(&r->out, file);
	pl_buf_adds(&r->out, ", the end)</h4><pre>");
	if (p)
		server_html(&r->out, p == tail.s ? p : p + 1);
	pl_buf_adds(&r->out, "</pre>");
	pl_buf_release(&tail);
}

/* Links to every evidence file of a run, and excerpts of the telling ones. */
static void run_evidence(struct srv_req *r, const char *cand, const char *run, int excerpts)
{
	PL_AUTOFREE char *dir = pl_strdupf("%s/runs/%s", r->srv->dir, run);
	DIR *d = evidence_name_ok(run) ? opendir(dir) : NULL;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (evidence_name_ok(e->d_name) && e->d_type == DT_REG) {
			names = pl_realloc(names, (n + 1) * sizeof(*names));
			names[n++] = pl_strdup(e->d_name);
		}
	closedir(d);
	qsort(names, n, sizeof(*names), (int (*)(const void *, const void *))strcmp);
	pl_buf_adds(&r->out, "<p>evidence: ");
	for (size_t i = 0; i < n; i++) {
		pl_buf_adds(&r->out, i ? ", " : "");
		pl_buf_adds(&r->out, "<a href=\"/candidates/");
		srv_url_segment(&r->out, cand);
		pl_buf_adds(&r->out, "/runs/");
		srv_url_segment(&r->out, run);
		pl_buf_adds(&r->out, "/");
		srv_url_segment(&r->out, names[i]);
		pl_buf_adds(&r->out, "\">");
		server_html(&r->out, names[i]);
		pl_buf_adds(&r->out, "</a>");
	}
	pl_buf_adds(&r->out, n ? "</p>" : "none kept</p>");
	for (size_t i = 0; i < n; i++) {
		if (excerpts && strstr(names[i], "console.log"))
			evidence_excerpt(r, run, names[i], "console log");
		free(names[i]);
	}
	if (excerpts) {
		evidence_excerpt(r, run, "journal-errors.txt", "journal excerpt");
		evidence_excerpt(r, run, "dpkg.log", "dpkg output");
	}
	free(names);
}

/* ---- one candidate ------------------------------------------------------------------- */

static void page_runs(struct srv_req *r, const char *cand, json_t *runs)
{
	size_t n = json_array_size(runs);

	pl_buf_adds(&r->out, "<h2>Lab runs</h2>");
	if (!n)
		pl_buf_adds(&r->out, "<p class=\"note\">never tested in the lab</p>");
	for (size_t i = n; i > 0; i--) {
		json_t *run = json_array_get(runs, i - 1), *v;
		size_t k;

		pl_buf_adds(&r->out, "<section class=\"run\"><h3>run ");
		server_html(&r->out, js(run, "run"));
		pl_buf_adds(&r->out, " on ");
		server_html(&r->out, js(run, "image") ?: "?");
		pl_buf_adds(&r->out, " ");
		state_badge(&r->out, js(run, "verdict") ?: js(run, "state"));
		if (js(run, "subset"))
			pl_buf_adds(&r->out, " (bisect subset)");
		pl_buf_adds(&r->out, "</h3><p>");
		server_html(&r->out, js(run, "started_at"));
		pl_buf_adds(&r->out, " to ");
		server_html(&r->out, js(run, "ended_at") ?: "(running)");
		pl_buf_adds(&r->out, "; stages: ");
		json_array_foreach (json_object_get(run, "stages"), k, v) {
			pl_buf_adds(&r->out, k ? ", " : "");
			server_html(&r->out, js(v, "stage"));
			pl_buf_addf(&r->out, " %.1f s%s",
			            json_number_value(json_object_get(v, "seconds")),
			            json_is_false(json_object_get(v, "ok")) ? " FAILED" : "");
		}
		pl_buf_adds(&r->out, "</p><table><tr><th>status</th><th>check</th><th>vm</th>"
		                     "<th>detail</th></tr>");
		json_array_foreach (json_object_get(run, "checks"), k, v) {
			pl_buf_adds(&r->out, "<tr><td>");
			state_badge(&r->out, js(v, "status"));
			pl_buf_adds(&r->out, "</td><td>");
			server_html(&r->out, js(v, "stage"));
			pl_buf_adds(&r->out, "/");
			server_html(&r->out, js(v, "name"));
			pl_buf_adds(&r->out, "</td><td>");
			server_html(&r->out, js(v, "vm"));
			pl_buf_adds(&r->out, "</td><td>");
			server_html(&r->out, js(v, "detail"));
			pl_buf_adds(&r->out, "</td></tr>");
		}
		pl_buf_adds(&r->out, "</table>");
		run_evidence(r, cand, js(run, "run"), i == n);
		pl_buf_adds(&r->out, "</section>");
	}
}

static void page_record(struct srv_req *r, json_t *rec)
{
	json_t *v;
	size_t i;

	pl_buf_adds(&r->out, "<h2>Promotion</h2><p id=\"promotion\">policy ");
	server_html(&r->out, js(rec, "policy"));
	pl_buf_adds(&r->out, json_is_true(json_object_get(rec, "promotable"))
	                         ? ": may be promoted</p>"
	                         : ": may not be promoted yet</p>");
	if (js(rec, "error")) {
		pl_buf_adds(&r->out, "<p class=\"flash err\">");
		server_html(&r->out, js(rec, "error"));
		pl_buf_adds(&r->out, "</p>");
	}
	pl_buf_adds(&r->out, "<table><tr><th>requirement</th><th>state</th><th>detail</th></tr>");
	json_array_foreach (json_object_get(rec, "requirements"), i, v) {
		pl_buf_adds(&r->out, "<tr><td>");
		server_html(&r->out, js(v, "name"));
		pl_buf_adds(&r->out, "</td><td>");
		state_badge(&r->out, js(v, "state"));
		pl_buf_adds(&r->out, "</td><td>");
		server_html(&r->out, js(v, "detail"));
		pl_buf_adds(&r->out, "</td></tr>");
	}
	pl_buf_adds(&r->out, "</table><h2>Decisions</h2><table id=\"decisions\"><tr>"
	                     "<th>decision</th><th>by</th><th>role</th><th>at</th><th>note</th>"
	                     "</tr>");
	for (const char *const *k =
	         (const char *const[]){"approvals", "rejections", "waivers", NULL};
	     *k; k++)
		json_array_foreach (json_object_get(rec, *k), i, v) {
			pl_buf_adds(&r->out, "<tr><td>");
			server_html(&r->out, **k == 'a'   ? "approve"
			                     : **k == 'r' ? "reject"
			                                  : "waive ");
			server_html(&r->out, js(v, "check"));
			pl_buf_adds(&r->out, "</td><td>");
			server_html(&r->out, js(v, "actor"));
			pl_buf_adds(&r->out, "</td><td>");
			server_html(&r->out, js(v, "role") ?: "-");
			pl_buf_adds(&r->out, "</td><td>");
			server_html(&r->out, js(v, "at"));
			pl_buf_adds(&r->out, "</td><td class=\"note-text\">");
			server_html(&r->out, js(v, "note") ?: js(v, "reason"));
			pl_buf_adds(&r->out, "</td></tr>");
		}
	pl_buf_adds(&r->out, "</table>");
}

static void page_decide_forms(struct srv_req *r, const char *name)
{
	static const char *const verbs[] = {"approve", "reject"};

	if (r->id.role < USERS_CAB)
		return;
	pl_buf_adds(&r->out, "<h2>Decide (CAB)</h2>");
	for (int i = 0; i < 2; i++) {
		pl_buf_addf(&r->out, "<form method=\"post\" id=\"%s-form\" action=\"/candidates/",
		            verbs[i]);
		srv_url_segment(&r->out, name);
		pl_buf_addf(&r->out, "/%s\">", verbs[i]);
		srv_csrf_field(r);
		pl_buf_addf(&r->out,
		            "<p><label>note<br><textarea name=\"note\" id=\"%s-note\" rows=\"2\" "
		            "maxlength=\"2000\" required></textarea></label><br>"
		            "<button type=\"submit\" id=\"%s\">%s</button></p></form>",
		            verbs[i], verbs[i], verbs[i]);
	}
}

static void page_candidate(struct srv_req *r, const char *name, const char *flash, int is_err)
{
	struct pl_err err = PL_ERR_INIT;
	json_t *j = NULL, *v;
	size_t i;

	if (srv_candidate_json(r, name, &j, &err) < 0) {
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
		return;
	}
	srv_page_begin(r, name);
	pl_buf_adds(&r->out, "<h1>");
	server_html(&r->out, js(j, "name"));
	pl_buf_adds(&r->out, " <span id=\"state\" class=\"state s-");
	server_html(&r->out, js(j, "state"));
	pl_buf_adds(&r->out, "\">");
	server_html(&r->out, js(j, "state"));
	pl_buf_adds(&r->out, "</span></h1>");
	if (flash) {
		pl_buf_addf(&r->out, "<p class=\"flash%s\" id=\"flash\">", is_err ? " err" : "");
		server_html(&r->out, flash);
		pl_buf_adds(&r->out, "</p>");
	}
	pl_buf_adds(&r->out, "<table><tr><th>package</th><th>version</th><th>arch</th>"
	                     "<th>sha256</th></tr>");
	json_array_foreach (json_object_get(j, "patches"), i, v) {
		pl_buf_adds(&r->out, "<tr><td>");
		server_html(&r->out, js(v, "package"));
		pl_buf_adds(&r->out, "</td><td>");
		server_html(&r->out, js(v, "version"));
		pl_buf_adds(&r->out, "</td><td>");
		server_html(&r->out, js(v, "arch"));
		pl_buf_adds(&r->out, "</td><td><code>");
		server_html(&r->out, js(v, "sha256"));
		pl_buf_adds(&r->out, "</code></td></tr>");
	}
	pl_buf_adds(&r->out, "</table>");
	page_record(r, json_object_get(j, "change_record"));
	page_decide_forms(r, js(j, "name"));
	page_runs(r, js(j, "name"), json_object_get(j, "lab_runs"));
	srv_page_end(r);
	json_decref(j);
}

void srv_get_candidate(struct srv_req *r)
{
	const char *done = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "done");
	const char *flash = NULL;

	/* only fixed words come back through the URL, never text */
	if (done && strcmp(done, "approve") == 0)
		flash = "your approval is recorded";
	else if (done && strcmp(done, "reject") == 0)
		flash = "your rejection is recorded";
	page_candidate(r, r->m.param[0], flash, 0);
}

/* "approve" or "reject": the last segment of the URL. */
static const char *decision_of(const char *url)
{
	const char *slash = strrchr(url, '/');

	return slash && strcmp(slash + 1, "approve") == 0 ? "approve" : "reject";
}

void srv_post_candidate_decide(struct srv_req *r)
{
	PL_AUTOFREE char *note = server_form_value(pl_buf_str(&r->body), "note");
	const char *name = r->m.param[0], *decision = decision_of(r->url);
	struct pl_err err = PL_ERR_INIT;
	struct pl_buf loc = PL_BUF_INIT;
	json_t *out = NULL;
	int rc = srv_decide(r, name, decision, note ? note : "", &out, &err);

	json_decref(out);
	if (rc < 0) {
		r->status = srv_status_of(rc);
		page_candidate(r, name, err.msg, 1);
		if (!r->out.len)
			srv_error(r, srv_status_of(rc), "%s", err.msg);
		return;
	}
	/* post, redirect, get: a reload does not decide twice */
	pl_buf_adds(&loc, "/candidates/");
	srv_url_segment(&loc, name);
	pl_buf_addf(&loc, "?done=%s", decision);
	srv_redirect(r, pl_buf_str(&loc));
	pl_buf_release(&loc);
}

void srv_api_decide(struct srv_req *r)
{
	const char *ctype =
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	struct pl_err err = PL_ERR_INIT;
	json_error_t jerr;
	json_t *body, *out = NULL;
	const char *note;

	if (!ctype || strncmp(ctype, "application/json", 16) != 0) {
		srv_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		          "send the body as application/json: {\"note\": \"...\"}");
		return;
	}
	body = json_loadb(pl_buf_str(&r->body), r->body.len, JSON_REJECT_DUPLICATES, &jerr);
	note = json_string_value(json_object_get(body, "note"));
	if (!json_is_object(body) || !note) {
		srv_error(r, MHD_HTTP_BAD_REQUEST, "body: %s",
		          body ? "$.note: a string is required" : jerr.text);
		json_decref(body);
		return;
	}
	if (srv_decide(r, r->m.param[0], decision_of(r->url), note, &out, &err) < 0)
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
	else
		srv_json(r, MHD_HTTP_OK, out);
	json_decref(body);
}
