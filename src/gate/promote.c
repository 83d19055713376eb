/*
 * promote.c - may a candidate be promoted? Every requirement with its state,
 * decided from the database; any error while deciding is a "no".
 */
#include "gate-private.h"

#include "candidate/candidate.h"

/* An image that needs an accepted lab run, and its latest run. */
struct promo_image {
	char *name;
	long image_id; /* 0: not in the image registry */
	long hosts;    /* target hosts that use it */
	int by_policy, tested;
	char *run, *run_state, *verdict, *started_at, *ended_at, *result;
	json_t *checks; /* of the latest run: [{stage, name, status, detail}] */
};

struct promo_ctx {
	struct store *st;
	const struct candidate *c;
	const struct gate_policy *p;
	int64_t now;
	struct promo_image *imgs;
	size_t nimgs;
	struct gate_act *acts;
	size_t nacts;
	int64_t newest_accepted; /* ended_at of the newest accepted lab run; 0: none */
	size_t accepted;         /* lab requirements satisfied or waived */
	struct gate_decision *out;
};

const char *gate_req_state_name(enum gate_req_state s)
{
	static const char *const names[] = {"satisfied", "waiting", "missing", "failed", "waived"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "failed";
}

void gate_decision_clear(struct gate_decision *d)
{
	for (size_t i = 0; i < d->nreqs; i++) {
		free(d->reqs[i].kind);
		free(d->reqs[i].name);
		free(d->reqs[i].detail);
		json_decref(d->reqs[i].info);
	}
	free(d->reqs);
	free(d->candidate);
	free(d->policy);
	free(d->at);
	free(d->error);
	free(d->evidence);
	json_decref(d->targets);
	memset(d, 0, sizeof(*d));
}

static void promo_images_free(struct promo_ctx *x)
{
	for (size_t i = 0; i < x->nimgs; i++) {
		struct promo_image *m = &x->imgs[i];

		free(m->name);
		free(m->run);
		free(m->run_state);
		free(m->verdict);
		free(m->started_at);
		free(m->ended_at);
		free(m->result);
		json_decref(m->checks);
	}
	free(x->imgs);
	gate_acts_free(x->acts, x->nacts);
}

/* Adds a requirement; info is consumed (NULL: an empty object). */
static struct gate_requirement *req_add(struct gate_decision *d, const char *kind, const char *name,
                                        enum gate_req_state state, json_t *info, const char *fmt,
                                        ...) PL_PRINTF(6, 7);
static struct gate_requirement *req_add(struct gate_decision *d, const char *kind, const char *name,
                                        enum gate_req_state state, json_t *info, const char *fmt,
                                        ...)
{
	struct gate_requirement *r;
	struct pl_buf b = PL_BUF_INIT;
	va_list ap;

	d->reqs = pl_realloc(d->reqs, (d->nreqs + 1) * sizeof(*d->reqs));
	r = &d->reqs[d->nreqs++];
	va_start(ap, fmt);
	pl_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	r->kind = pl_strdup(kind);
	r->name = pl_strdup(name);
	r->state = state;
	r->detail = pl_buf_detach(&b);
	r->info = info ? info : json_object();
	return r;
}

/* A time the database holds; a bad one is an error, never a pass. */
static int promo_time(const char *s, const char *what, int64_t *out, struct pl_err *err)
{
	if (!s || pl_time_parse(s, out, NULL) < 0)
		return pl_error(err, PL_EINTERNAL, "%s: unreadable time '%s' in the database", what,
		                s ? s : "(none)");
	return 0;
}

/*
 * The target hosts: those with one of the candidate's packages installed.
 * Kept in one query so that a table of the hosts a candidate addresses
 * (from 'candidate propose') can replace it in one place.
 */
#define PROMO_TARGETS                                                                              \
	"SELECT DISTINCT hp.host_id FROM host_packages hp"                                         \
	" JOIN patches p ON p.package = hp.name"                                                   \
	"  AND (p.arch = hp.arch OR p.arch = 'all' OR hp.arch = 'all')"                            \
	" JOIN candidate_patches cp ON cp.patch_id = p.id"                                         \
	" WHERE cp.candidate_id = ?1"                                                              \
	"  AND (hp.status = 'installed' OR hp.status LIKE '% installed')"

static int promo_targets(struct promo_ctx *x, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *hosts = json_array(), *noimg = json_array();
	int rc;

	x->out->targets = json_pack("{s:o, s:o}", "hosts", hosts, "hosts_without_image", noimg);
	if (store_prepare(x->st,
	                  "SELECT h.name, coalesce(h.image, '') FROM hosts h WHERE h.id IN"
	                  " (" PROMO_TARGETS ") ORDER BY h.name",
	                  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, x->c->id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_array_append_new(hosts, json_string(store_col_text(s, 0)));
		if (!*store_col_text(s, 1))
			json_array_append_new(noimg, json_string(store_col_text(s, 0)));
	}
	return rc == SQLITE_DONE ? 0 : store_error(x->st, err, "reading the target hosts");
}

/* Every image that needs a lab run: the targets', the policy's, the tested. */
static int promo_images(struct promo_ctx *x, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	PL_AUTOJSON json_t *pol = json_array();
	PL_AUTOFREE char *poltext = NULL;
	int rc;

	for (size_t i = 0; x->p->promotion->images[i]; i++)
		json_array_append_new(pol, json_string(x->p->promotion->images[i]));
	poltext = json_dumps(pol, JSON_COMPACT);
	if (store_prepare(x->st,
	                  "SELECT u.name, sum(u.hosts), max(u.policy), max(u.tested),"
	                  " (SELECT id FROM images i WHERE i.name = u.name) FROM ("
	                  "  SELECT h.image AS name, 1 AS hosts, 0 AS policy, 0 AS tested"
	                  "   FROM hosts h WHERE h.image IS NOT NULL AND h.image <> ''"
	                  "   AND h.id IN (" PROMO_TARGETS ")"
	                  "  UNION ALL SELECT value, 0, 1, 0 FROM json_each(?2)"
	                  "  UNION ALL SELECT i.name, 0, 0, 1 FROM lab_runs r"
	                  "   JOIN images i ON i.id = r.image_id"
	                  "   WHERE r.candidate_id = ?1 AND r.subset IS NULL"
	                  " ) u GROUP BY u.name ORDER BY u.name",
	                  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(s, 1, x->c->id);
	sqlite3_bind_text(s, 2, poltext, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct promo_image *m;

		x->imgs = pl_realloc(x->imgs, (x->nimgs + 1) * sizeof(*x->imgs));
		m = &x->imgs[x->nimgs++];
		memset(m, 0, sizeof(*m));
		m->name = pl_strdup(store_col_text(s, 0));
		m->hosts = (long)sqlite3_column_int64(s, 1);
		m->by_policy = sqlite3_column_int(s, 2);
		m->tested = sqlite3_column_int(s, 3);
		m->image_id = (long)sqlite3_column_int64(s, 4);
	}
	return rc == SQLITE_DONE ? 0 : store_error(x->st, err, "reading the images to test");
}

/* The latest (non-bisect) lab run of the candidate on m, and its checks. */
static int promo_latest_run(struct promo_ctx *x, struct promo_image *m, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *r = NULL, *c = NULL;
	int rc;

	if (!m->image_id)
		return 0;
	if (store_prepare(x->st,
	                  "SELECT id, state, verdict, started_at, ended_at, result FROM lab_runs"
	                  " WHERE candidate_id = ? AND image_id = ? AND subset IS NULL"
	                  " ORDER BY started_at DESC, rowid DESC LIMIT 1",
	                  &r, err) < 0)
		return PL_EDB;
	sqlite3_bind_int64(r, 1, x->c->id);
	sqlite3_bind_int64(r, 2, m->image_id);
	rc = sqlite3_step(r);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_error(x->st, err, "reading lab runs");
	m->run = store_col_dup(r, 0);
	m->run_state = store_col_dup(r, 1);
	m->verdict = store_col_dup(r, 2);
	m->started_at = store_col_dup(r, 3);
	m->ended_at = store_col_dup(r, 4);
	m->result = store_col_dup(r, 5);
	m->checks = json_array();
	if (store_prepare(
	        x->st,
	        "SELECT stage, name, status, detail FROM checks WHERE run_id = ? ORDER BY id", &c,
	        err) < 0)
		return PL_EDB;
	sqlite3_bind_text(c, 1, m->run, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(c)) == SQLITE_ROW)
		json_array_append_new(
		    m->checks, json_pack("{s:s, s:s, s:s, s:s}", "stage", store_col_text(c, 0),
		                         "name", store_col_text(c, 1), "status",
		                         store_col_text(c, 2), "detail", store_col_text(c, 3)));
	return rc == SQLITE_DONE ? 0 : store_error(x->st, err, "reading checks");
}

/* The newest waiver of check that the policy honours, or NULL. */
static const struct gate_act *promo_waiver(const struct promo_ctx *x, const char *check)
{
	const struct gate_act *found = NULL;

	if (!gate_waivable(x->p, check))
		return NULL;
	for (size_t i = 0; i < x->nacts; i++)
		if (strcmp(x->acts[i].decision, "waive") == 0 &&
		    strcmp(x->acts[i].check, check) == 0)
			found = &x->acts[i];
	return found;
}

static void waiver_note(json_t *applied, const struct gate_act *w)
{
	json_t *v;
	size_t i;

	json_array_foreach (applied, i, v)
		if (strcmp(json_string_value(json_object_get(v, "check")), w->check) == 0)
			return;
	json_array_append_new(applied, json_pack("{s:s, s:s, s:s, s:s}", "check", w->check, "actor",
	                                         w->actor, "reason", w->text, "at", w->at));
}

/* 1 when the checks hold check with status pass. */
static int checks_passed(json_t *checks, const char *check)
{
	json_t *c;
	size_t i;

	json_array_foreach (checks, i, c) {
		PL_AUTOFREE char *full =
		    pl_strdupf("%s/%s", json_string_value(json_object_get(c, "stage")),
		               json_string_value(json_object_get(c, "name")));

		if (strcmp(full, check) == 0 &&
		    strcmp(json_string_value(json_object_get(c, "status")), "pass") == 0)
			return 1;
	}
	return 0;
}

/* Judges the run's checks again with waived ones as passed (and waived
 * required ones that are missing added as passed): 1 when that passes and
 * at least one waiver was needed. */
static int promo_rejudge(const struct promo_ctx *x, const struct promo_image *m, json_t *applied,
                         json_t **reasons)
{
	PL_AUTOJSON json_t *checks = json_deep_copy(m->checks);
	const struct gate_act *w;
	json_t *c;
	size_t i;

	json_array_foreach (checks, i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));
		PL_AUTOFREE char *full =
		    pl_strdupf("%s/%s", json_string_value(json_object_get(c, "stage")),
		               json_string_value(json_object_get(c, "name")));

		if (st && strcmp(st, "pass") != 0 && (w = promo_waiver(x, full))) {
			json_object_set_new(c, "status", json_string("pass"));
			waiver_note(applied, w);
		}
	}
	for (size_t k = 0; x->p->required[k]; k++) {
		const char *slash = strchr(x->p->required[k], '/');

		if (!checks_passed(checks, x->p->required[k]) &&
		    (w = promo_waiver(x, x->p->required[k]))) {
			PL_AUTOFREE char *stage =
			    pl_strndup(x->p->required[k], (size_t)(slash - x->p->required[k]));

			json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:s}", "stage",
			                                        stage, "name", slash + 1, "status",
			                                        "pass", "detail", "waived"));
			waiver_note(applied, w);
		}
	}
	return gate_verdict(x->p, checks, reasons) && json_array_size(applied) > 0;
}

/* "first reason; second reason (+N more)" */
static char *reasons_text(json_t *reasons)
{
	struct pl_buf b = PL_BUF_INIT;

	for (size_t i = 0; i < json_array_size(reasons) && i < 2; i++)
		pl_buf_addf(&b, "%s%s", i ? "; " : "",
		            json_string_value(json_array_get(reasons, i)));
	if (json_array_size(reasons) > 2)
		pl_buf_addf(&b, " (+%zu more)", json_array_size(reasons) - 2);
	return pl_buf_detach(&b);
}

static const char *image_why(const struct promo_image *m, char *buf, size_t n)
{
	if (m->hosts)
		snprintf(buf, n, "used by %ld target host%s", m->hosts, m->hosts == 1 ? "" : "s");
	else if (m->by_policy)
		snprintf(buf, n, "required by the policy");
	else
		snprintf(buf, n, "tested before");
	return buf;
}

/* A finished run whose verdict the gate accepts: its end counts for soak. */
static int promo_accept(struct promo_ctx *x, const struct promo_image *m, struct pl_err *err)
{
	int64_t t;

	if (promo_time(m->ended_at, m->run, &t, err) < 0)
		return err->code;
	if (t > x->newest_accepted)
		x->newest_accepted = t;
	x->accepted++;
	return 0;
}

/* The run's check counts, its failed checks, the required checks it lacks,
 * and where its evidence is. */
static void lab_info_checks(const struct promo_ctx *x, const struct promo_image *m, json_t *info)
{
	json_t *counts =
	    json_pack("{s:i, s:i, s:i, s:i}", "pass", 0, "fail", 0, "error", 0, "skip", 0);
	json_t *failed = json_array(), *missing = json_array(), *c, *res;
	size_t i;

	json_array_foreach (m->checks, i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));
		json_t *n = json_object_get(counts, st);

		json_object_set_new(counts, st, json_integer(n ? json_integer_value(n) + 1 : 1));
		if (strcmp(st, "pass") != 0 && strcmp(st, "skip") != 0)
			json_array_append_new(
			    failed,
			    json_sprintf("%s/%s", json_string_value(json_object_get(c, "stage")),
			                 json_string_value(json_object_get(c, "name"))));
	}
	for (size_t k = 0; x->p->required[k]; k++) {
		json_t *f;
		int listed = 0;

		json_array_foreach (failed, i, f)
			listed |= strcmp(json_string_value(f), x->p->required[k]) == 0;
		if (!listed && !checks_passed(m->checks, x->p->required[k]))
			json_array_append_new(missing, json_string(x->p->required[k]));
	}
	json_object_set_new(info, "checks", counts);
	json_object_set_new(info, "failed_checks", failed);
	json_object_set_new(info, "missing_checks", missing);
	res = m->result ? json_loads(m->result, 0, NULL) : NULL;
	json_object_set(info, "evidence_dir", json_object_get(res, "evidence_dir") ?: json_null());
	json_object_set(info, "console_log", json_object_get(res, "console_log") ?: json_null());
	json_decref(res);
}

static int req_lab_run(struct promo_ctx *x, const struct promo_image *m, const char *name,
                       json_t *info, struct pl_err *err)
{
	PL_AUTOJSON json_t *reasons = NULL;
	json_t *applied = json_array();
	PL_AUTOFREE char *why = NULL;

	lab_info_checks(x, m, info);

	json_object_set_new(info, "run", json_string(m->run));
	json_object_set_new(info, "verdict", m->verdict ? json_string(m->verdict) : json_null());
	json_object_set_new(info, "started_at", json_string(m->started_at ? m->started_at : ""));
	json_object_set_new(info, "ended_at", m->ended_at ? json_string(m->ended_at) : json_null());
	if (strcmp(m->run_state, "running") == 0) {
		json_decref(applied);
		req_add(x->out, "lab", name, GATE_REQ_WAITING, info,
		        "lab run %s on '%s' is in progress (since %s)", m->run, m->name,
		        m->started_at);
		return 0;
	}
	if (m->verdict && strcmp(m->verdict, "pass") == 0 && strcmp(m->run_state, "passed") == 0) {
		json_decref(applied);
		req_add(x->out, "lab", name, GATE_REQ_SATISFIED, info,
		        "lab run %s passed on '%s' (%s)", m->run, m->name,
		        m->ended_at ? m->ended_at : "?");
		return promo_accept(x, m, err);
	}
	if (promo_rejudge(x, m, applied, &reasons)) {
		struct pl_buf b = PL_BUF_INIT;
		json_t *v;
		size_t i;

		json_array_foreach (applied, i, v)
			pl_buf_addf(&b, "%s%s (by %s)", i ? ", " : "",
			            json_string_value(json_object_get(v, "check")),
			            json_string_value(json_object_get(v, "actor")));
		json_object_set_new(info, "waivers", applied);
		req_add(x->out, "lab", name, GATE_REQ_WAIVED, info,
		        "lab run %s failed on '%s'; every failure waived: %s", m->run, m->name,
		        pl_buf_str(&b));
		pl_buf_release(&b);
		return promo_accept(x, m, err);
	}
	json_decref(applied);
	why = m->verdict && json_array_size(reasons)
	          ? reasons_text(reasons)
	          : pl_strdupf("the run ended '%s' with verdict '%s'", m->run_state,
	                       m->verdict ? m->verdict : "none");
	json_object_set(info, "reasons", reasons ? reasons : json_null());
	req_add(x->out, "lab", name, GATE_REQ_FAILED, info, "lab run %s %s on '%s': %s", m->run,
	        m->verdict && strcmp(m->verdict, "error") == 0 ? "ended in an error" : "failed",
	        m->name, why);
	return 0;
}

static int req_lab(struct promo_ctx *x, const struct promo_image *m, struct pl_err *err)
{
	PL_AUTOFREE char *name = pl_strdupf("lab:%s", m->name);
	json_t *info =
	    json_pack("{s:s, s:I, s:b, s:b}", "image", m->name, "target_hosts",
	              (json_int_t)m->hosts, "by_policy", m->by_policy, "tested", m->tested);
	char why[64];

	image_why(m, why, sizeof(why));
	if (!m->image_id) {
		req_add(x->out, "lab", name, GATE_REQ_MISSING, info,
		        "image '%s' (%s) is not registered: build or import it, then run the lab",
		        m->name, why);
		return 0;
	}
	if (!m->run) {
		req_add(x->out, "lab", name, GATE_REQ_MISSING, info,
		        "never tested on image '%s' (%s)", m->name, why);
		return 0;
	}
	return req_lab_run(x, m, name, info, err);
}

/* The evidence the approvals are given on: "IMAGE=RUN" per image. */
static void promo_evidence(struct promo_ctx *x)
{
	PL_AUTOJSON json_t *ev = json_array();

	for (size_t i = 0; i < x->nimgs; i++)
		json_array_append_new(ev, json_sprintf("%s=%s", x->imgs[i].name,
		                                       x->imgs[i].run ? x->imgs[i].run : "-"));
	x->out->evidence = json_dumps(ev, JSON_COMPACT);
}

static const struct gate_act *promo_last(const struct promo_ctx *x, const char *decision)
{
	const struct gate_act *a = NULL;

	for (size_t i = 0; i < x->nacts; i++)
		if (strcmp(x->acts[i].decision, decision) == 0)
			a = &x->acts[i];
	return a;
}

static void req_state(struct promo_ctx *x)
{
	const char *s = x->c->state;
	json_t *info = json_pack("{s:s}", "state", s);
	const struct gate_act *rej;

	if (strcmp(s, "new") == 0)
		req_add(x->out, "state", "state", GATE_REQ_MISSING, info,
		        "never tested: no lab run yet");
	else if (strcmp(s, "testing") == 0)
		req_add(x->out, "state", "state", GATE_REQ_WAITING, info, "being tested");
	else if (strcmp(s, "rejected") == 0 && (rej = promo_last(x, "reject")))
		req_add(x->out, "state", "state", GATE_REQ_FAILED, info,
		        "rejected by %s (%s) at %s: %s", rej->actor, rej->role, rej->at, rej->text);
	else if (strcmp(s, "rejected") == 0 || strcmp(s, "rolled-back") == 0)
		req_add(x->out, "state", "state", GATE_REQ_FAILED, info, "%s", s);
	else if (strcmp(s, "failed") == 0)
		req_add(x->out, "state", "state", GATE_REQ_SATISFIED, info,
		        "failed its last lab run: only waivers the policy allows can accept it");
	else
		req_add(x->out, "state", "state", GATE_REQ_SATISFIED, info, "%s", s);
}

static void soak_hours(char *buf, size_t n, int64_t secs)
{
	snprintf(buf, n, "%lldh%02lldm", (long long)(secs / 3600), (long long)(secs % 3600 / 60));
}

static void req_soak(struct promo_ctx *x)
{
	long min = x->p->promotion->min_soak_hours;
	const struct gate_act *w = promo_waiver(x, "soak");
	json_t *info = json_pack("{s:i}", "min_soak_hours", (int)min);
	enum gate_req_state st;
	char detail[256], had[32], when[21];

	if (min == 0) {
		req_add(x->out, "soak", "soak", GATE_REQ_SATISFIED, info, "no soak time required");
		return;
	}
	if (x->accepted == 0) {
		st = GATE_REQ_MISSING;
		snprintf(detail, sizeof(detail), "no accepted lab run to soak from (%ld h needed)",
		         min);
	} else if (x->accepted < x->nimgs) {
		st = GATE_REQ_WAITING;
		snprintf(detail, sizeof(detail),
		         "starts when every image's lab run is accepted (%ld h)", min);
	} else {
		int64_t since = x->now - x->newest_accepted, over = x->newest_accepted + min * 3600;

		pl_time_iso(x->newest_accepted, when);
		json_object_set_new(info, "since", json_string(when));
		soak_hours(had, sizeof(had), since < 0 ? 0 : since);
		st = since >= min * 3600 ? GATE_REQ_SATISFIED : GATE_REQ_WAITING;
		pl_time_iso(over, when);
		json_object_set_new(info, "over_at", json_string(when));
		snprintf(detail, sizeof(detail), "%s of %ld h since the newest lab run ended%s%s",
		         had, min, st == GATE_REQ_SATISFIED ? "" : "; over at ",
		         st == GATE_REQ_SATISFIED ? "" : when);
	}
	if (st != GATE_REQ_SATISFIED && w) {
		json_object_set_new(info, "waiver",
		                    json_pack("{s:s, s:s, s:s}", "actor", w->actor, "reason",
		                              w->text, "at", w->at));
		req_add(x->out, "soak", "soak", GATE_REQ_WAIVED, info, "waived by %s: %s (%s)",
		        w->actor, w->text, detail);
		return;
	}
	req_add(x->out, "soak", "soak", st, info, "%s", detail);
}

static void req_approvals(struct promo_ctx *x, const struct gate_approval_rule *r)
{
	PL_AUTOFREE char *name = pl_strdupf("approvals:%s", r->role);
	json_t *by = json_array();
	struct pl_buf who = PL_BUF_INIT;
	long n = 0, stale = 0;

	for (size_t i = 0; i < x->nacts; i++) {
		const struct gate_act *a = &x->acts[i];

		if (strcmp(a->decision, "approve") != 0 || strcmp(a->role, r->role) != 0)
			continue;
		if (strcmp(a->evidence, x->out->evidence) != 0) {
			stale++;
			continue;
		}
		pl_buf_addf(&who, "%s%s", n ? ", " : "", a->actor);
		json_array_append_new(by, json_string(a->actor));
		n++;
	}
	req_add(x->out, "approvals", name, n >= r->count ? GATE_REQ_SATISFIED : GATE_REQ_MISSING,
	        json_pack("{s:s, s:i, s:o, s:i}", "role", r->role, "needed", (int)r->count, "by",
	                  by, "stale", (int)stale),
	        "%ld of %ld %s approval%s%s%s%s", n, r->count, r->role, r->count == 1 ? "" : "s",
	        n ? ": " : "", pl_buf_str(&who),
	        stale ? " (approvals given before the latest lab runs do not count)" : "");
	pl_buf_release(&who);
}

static int promo_decide(struct promo_ctx *x, struct pl_err *err)
{
	if (!x->p->promotion)
		return pl_error(err, PL_EINVAL,
		                "policy '%s' (%s) has no \"promotion\" object: it cannot decide "
		                "promotions",
		                x->p->name, x->p->file);
	if (promo_targets(x, err) < 0 || promo_images(x, err) < 0 ||
	    gate_acts_load(x->st, x->c->id, &x->acts, &x->nacts, err) < 0)
		return err->code;
	req_state(x);
	if (x->nimgs == 0)
		req_add(x->out, "lab", "lab", GATE_REQ_MISSING, NULL,
		        "never tested: no lab run, and no target host or policy names an image");
	for (size_t i = 0; i < x->nimgs; i++)
		if (promo_latest_run(x, &x->imgs[i], err) < 0 || req_lab(x, &x->imgs[i], err) < 0)
			return err->code;
	promo_evidence(x);
	req_soak(x);
	for (size_t i = 0; i < x->p->promotion->napprovals; i++)
		req_approvals(x, &x->p->promotion->approvals[i]);
	return 0;
}

int gate_promotion_evaluate(struct store *st, const struct candidate *c,
                            const struct gate_policy *p, const struct pl_clock *clock,
                            struct gate_decision *out, struct pl_err *err)
{
	struct promo_ctx x = {.st = st, .c = c, .p = p, .now = pl_clock_now(clock), .out = out};
	char at[21];
	int rc;

	memset(out, 0, sizeof(*out));
	pl_time_iso(x.now, at);
	out->candidate = pl_strdup(c->name);
	out->policy = pl_strdup(p->name);
	out->at = pl_strdup(at);
	rc = promo_decide(&x, err);
	promo_images_free(&x);
	if (rc < 0) {
		out->promotable = 0;
		out->error = pl_strdup(err->msg);
		return rc;
	}
	out->promotable = out->nreqs > 0;
	for (size_t i = 0; i < out->nreqs; i++)
		if (out->reqs[i].state != GATE_REQ_SATISFIED &&
		    out->reqs[i].state != GATE_REQ_WAIVED)
			out->promotable = 0;
	return 0;
}

json_t *gate_decision_to_json(const struct gate_decision *d)
{
	json_t *reqs = json_array();
	json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:s?, s:o}", "candidate", d->candidate,
	                      "policy", d->policy, "at", d->at, "promotable", d->promotable,
	                      "error", d->error, "requirements", reqs);

	json_object_set_new(j, "evidence",
	                    d->evidence ? json_loads(d->evidence, 0, NULL) : json_array());
	json_object_set(j, "targets", d->targets ? d->targets : json_null());
	for (size_t i = 0; i < d->nreqs; i++) {
		const struct gate_requirement *r = &d->reqs[i];
		json_t *o = json_deep_copy(r->info);

		json_object_set_new(o, "name", json_string(r->name));
		json_object_set_new(o, "kind", json_string(r->kind));
		json_object_set_new(o, "state", json_string(gate_req_state_name(r->state)));
		json_object_set_new(o, "detail", json_string(r->detail));
		json_array_append_new(reqs, o);
	}
	return j;
}

char *gate_decision_summary(const struct gate_decision *d)
{
	struct pl_buf b = PL_BUF_INIT;

	if (d->error)
		return pl_strdupf("no decision: %s", d->error);
	for (size_t i = 0; i < d->nreqs; i++)
		if (d->reqs[i].state != GATE_REQ_SATISFIED && d->reqs[i].state != GATE_REQ_WAIVED)
			pl_buf_addf(&b, "%s%s %s: %s", b.len ? "; " : "", d->reqs[i].name,
			            gate_req_state_name(d->reqs[i].state), d->reqs[i].detail);
	return pl_buf_detach(&b);
}
