/*
 * fleet.c - the dashboard, findings, inventory and drift, rollouts and the
 * calendar: pages and their JSON twins.
 */
#include "server-private.h"

#include <time.h>

#include "inventory/inventory.h"
#include "report/report.h"
#include "rollout/rollout.h"

static const char *js(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void td(struct pl_buf *b, const char *s)
{
	pl_buf_adds(b, "<td>");
	server_html(b, s ? s : "-");
	pl_buf_adds(b, "</td>");
}

/* ---- the dashboard -------------------------------------------------------------- */

void srv_get_dashboard(struct srv_req *r)
{
	static const char *const order[] = {"new",      "testing",  "passed",      "failed",
	                                    "approved", "rejected", "scheduled",   "rolling-out",
	                                    "deployed", "halted",   "rolled-back", NULL};
	struct report_bar bars[12];
	struct pl_err err = PL_ERR_INIT;
	json_t *model = NULL, *c, *v;
	size_t i, n = 0;

	if (report_collect(r->st, NULL, r->srv->o.policy, r->srv->clock, NULL, &model, &err) < 0) {
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
		return;
	}
	srv_page_begin(r, "dashboard");
	pl_buf_adds(&r->out, "<h1>Dashboard</h1><div class=\"charts\">");
	for (size_t k = 0; order[k]; k++) {
		double count = 0;

		json_array_foreach (json_object_get(model, "candidates"), i, c)
			count += js(c, "state") && strcmp(js(c, "state"), order[k]) == 0;
		if (count > 0)
			bars[n++] = (struct report_bar){order[k], {count}};
	}
	report_svg_bars(&r->out, "Candidates by state", "", NULL, 1, bars, n);
	n = 0;
	{
		const char *sev;

		json_object_foreach (
		    json_object_get(json_object_get(model, "findings"), "by_severity"), sev, v) {
			if (n < 12)
				bars[n++] = (struct report_bar){sev, {json_number_value(v)}};
		}
	}
	report_svg_bars(&r->out, "Open findings by severity", "", NULL, 1, bars, n);
	pl_buf_adds(&r->out, "</div><h2>Candidates waiting for a decision</h2><table><tr>"
	                     "<th>name</th><th>state</th><th>lab verdict</th><th>promotion</th>"
	                     "</tr>");
	json_array_foreach (json_object_get(model, "candidates"), i, c) {
		const char *s = js(c, "state");

		if (!s || (strcmp(s, "passed") != 0 && strcmp(s, "failed") != 0 &&
		           strcmp(s, "testing") != 0 && strcmp(s, "new") != 0))
			continue;
		pl_buf_adds(&r->out, "<tr><td><a href=\"/candidates/");
		srv_url_segment(&r->out, js(c, "name"));
		pl_buf_adds(&r->out, "\">");
		server_html(&r->out, js(c, "name"));
		pl_buf_adds(&r->out, "</a></td>");
		td(&r->out, s);
		td(&r->out, js(c, "verdict"));
		td(&r->out,
		   json_is_true(json_object_get(json_object_get(c, "promotion"), "promotable"))
		       ? "may be promoted"
		       : "requirements open");
		pl_buf_adds(&r->out, "</tr>");
	}
	pl_buf_adds(&r->out, "</table>");
	json_array_foreach (json_object_get(model, "notes"), i, v) {
		pl_buf_adds(&r->out, "<p class=\"note\">");
		server_html(&r->out, json_string_value(v));
		pl_buf_adds(&r->out, "</p>");
	}
	srv_page_end(r);
	json_decref(model);
}

/* ---- findings ------------------------------------------------------------------ */

void srv_get_findings(struct srv_req *r)
{
	struct pl_err err = PL_ERR_INIT;
	json_t *f = NULL, *v;
	const char *sev;
	size_t i;

	if (report_findings(r->st, r->srv->clock, &f, &err) < 0) {
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
		return;
	}
	srv_page_begin(r, "findings");
	pl_buf_adds(&r->out, "<h1>Findings by priority</h1>");
	if (!json_is_true(json_object_get(f, "available"))) {
		pl_buf_adds(&r->out, "<p class=\"note\">no findings yet: the database scan has not "
		                     "run ('patchlab scan')</p>");
	} else {
		pl_buf_adds(&r->out, "<table><tr><th>severity</th><th>open</th></tr>");
		json_object_foreach (json_object_get(f, "by_severity"), sev, v) {
			pl_buf_adds(&r->out, "<tr>");
			td(&r->out, sev);
			pl_buf_addf(&r->out, "<td>%lld</td></tr>",
			            (long long)json_integer_value(v));
		}
		pl_buf_adds(&r->out, "</table><table><tr><th>priority</th><th>host</th>"
		                     "<th>package</th><th>installed</th><th>fixed in</th>"
		                     "<th>severity</th><th>CVEs</th><th>first seen</th></tr>");
		json_array_foreach (json_object_get(f, "top"), i, v) {
			PL_AUTOFREE char *cves =
			    json_dumps(json_object_get(v, "cves"), JSON_COMPACT | JSON_ENCODE_ANY);

			pl_buf_adds(&r->out, "<tr><td>");
			server_html(&r->out, js(v, "level") ?: "-");
			pl_buf_addf(&r->out, " (%.0f)</td>",
			            json_number_value(json_object_get(v, "priority")));
			td(&r->out, js(v, "host"));
			td(&r->out, js(v, "package"));
			td(&r->out, js(v, "installed"));
			td(&r->out, js(v, "candidate"));
			td(&r->out, js(v, "severity"));
			td(&r->out, cves);
			td(&r->out, js(v, "first_seen"));
			pl_buf_adds(&r->out, "</tr>");
		}
		pl_buf_adds(&r->out, "</table>");
	}
	srv_page_end(r);
	json_decref(f);
}

void srv_api_findings(struct srv_req *r)
{
	struct pl_err err = PL_ERR_INIT;
	json_t *f = NULL;

	if (report_findings(r->st, r->srv->clock, &f, &err) < 0)
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
	else
		srv_json(r, MHD_HTTP_OK, f);
}

/* ---- inventory and drift ---------------------------------------------------------- */

void srv_get_inventory(struct srv_req *r)
{
	struct pl_err err = PL_ERR_INIT;
	json_t *hosts = NULL, *drift = NULL, *h, *g, *p, *d;
	size_t i, k, q;

	if (inv_host_list(r->st, NULL, NULL, &hosts, &err) < 0 ||
	    inv_drift(r->st, NULL, NULL, &drift, &err) < 0) {
		json_decref(hosts);
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
		return;
	}
	srv_page_begin(r, "inventory");
	pl_buf_addf(&r->out, "<h1>Inventory</h1><p>%zu hosts</p>", json_array_size(hosts));
	pl_buf_adds(&r->out, "<table><tr><th>host</th><th>environment</th><th>role</th>"
	                     "<th>OS</th><th>version</th><th>image</th><th>packages</th></tr>");
	json_array_foreach (hosts, i, h) {
		pl_buf_adds(&r->out, "<tr>");
		td(&r->out, js(h, "name"));
		td(&r->out, js(h, "environment"));
		td(&r->out, js(h, "role"));
		td(&r->out, js(h, "os"));
		td(&r->out, js(h, "os_version"));
		td(&r->out, js(h, "image"));
		pl_buf_addf(&r->out, "<td>%lld</td></tr>",
		            (long long)json_integer_value(json_object_get(h, "packages")));
	}
	pl_buf_adds(&r->out, "</table><h2>Drift</h2>");
	json_array_foreach (drift, i, g) {
		pl_buf_adds(&r->out, "<h3>role ");
		server_html(&r->out, js(g, "role") ?: "(none)");
		pl_buf_adds(&r->out, ", environment ");
		server_html(&r->out, js(g, "environment") ?: "(none)");
		pl_buf_addf(&r->out, ": %s</h3>",
		            json_is_true(json_object_get(g, "drift")) ? "drift" : "no drift");
		json_array_foreach (json_object_get(json_object_get(g, "os"), "differ"), k, d) {
			pl_buf_adds(&r->out, "<p>OS differs on ");
			server_html(&r->out, js(d, "host"));
			pl_buf_adds(&r->out, ": ");
			server_html(&r->out, js(d, "os_version"));
			pl_buf_adds(&r->out, "</p>");
		}
		if (!json_array_size(json_object_get(g, "packages")))
			continue;
		pl_buf_adds(&r->out, "<table><tr><th>package</th><th>majority</th><th>host</th>"
		                     "<th>version</th><th>how</th></tr>");
		json_array_foreach (json_object_get(g, "packages"), k, p)
			json_array_foreach (json_object_get(p, "differ"), q, d) {
				pl_buf_adds(&r->out, "<tr>");
				td(&r->out, js(p, "name"));
				td(&r->out, js(p, "majority"));
				td(&r->out, js(d, "host"));
				td(&r->out, js(d, "version"));
				td(&r->out, js(d, "state"));
				pl_buf_adds(&r->out, "</tr>");
			}
		pl_buf_adds(&r->out, "</table>");
	}
	if (!json_array_size(drift))
		pl_buf_adds(&r->out, "<p class=\"note\">no hosts</p>");
	srv_page_end(r);
	json_decref(hosts);
	json_decref(drift);
}

void srv_api_hosts(struct srv_req *r)
{
	struct pl_err err = PL_ERR_INIT;
	json_t *hosts = NULL;

	if (inv_host_list(
	        r->st, MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "role"),
	        MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "environment"), &hosts,
	        &err) < 0)
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
	else
		srv_json(r, MHD_HTTP_OK, hosts);
}

void srv_api_drift(struct srv_req *r)
{
	struct pl_err err = PL_ERR_INIT;
	json_t *drift = NULL;

	if (inv_drift(r->st, MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "role"),
	              MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "environment"),
	              &drift, &err) < 0)
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
	else
		srv_json(r, MHD_HTTP_OK, drift);
}

/* ---- rollouts and the calendar ------------------------------------------------------ */

/* This month's windows and the next one, as JSON. */
static int calendar_json(struct srv_req *r, json_t **out, struct pl_err *err)
{
	const struct rollout_policy *p = r->srv->o.rollout;
	int64_t now = pl_clock_now(r->srv->clock);
	struct rollout_date today = rollout_civil_from_days(rollout_day_of(now));
	struct rollout_date pt = rollout_patch_tuesday(today.year, today.month);
	struct rollout_windows ws = {NULL, 0};
	struct rollout_window next;
	json_t *arr = json_array();
	char a[21], b[21], ptd[11];

	if (!p) {
		json_decref(arr);
		return pl_error(err, PL_EINTERNAL, "the server has no rollout policy");
	}
	if (rollout_windows_month(p, today.year, today.month, &ws, err) < 0) {
		json_decref(arr);
		return err->code;
	}
	for (size_t i = 0; i < ws.n; i++) {
		pl_time_iso(ws.v[i].start, a);
		pl_time_iso(ws.v[i].end, b);
		json_array_append_new(arr,
		                      json_pack("{s:s, s:s, s:s, s:s}", "name", ws.v[i].rule->name,
		                                "tz", ws.v[i].rule->tz_name, "start", a, "end", b));
	}
	rollout_windows_free(&ws);
	snprintf(ptd, sizeof(ptd), "%04d-%02d-%02d", pt.year, pt.month, pt.day);
	*out =
	    json_pack("{s:s, s:s, s:o}", "policy", p->name, "patch_tuesday", ptd, "windows", arr);
	if (rollout_next_window(p, now, &next, err) == 0) {
		pl_time_iso(next.start, a);
		pl_time_iso(next.end, b);
		json_object_set_new(*out, "next",
		                    json_pack("{s:s, s:s, s:s, s:b}", "name", next.rule->name,
		                              "start", a, "end", b, "open", next.start <= now));
	} else {
		json_object_set_new(*out, "next", json_null());
	}
	return 0;
}

void srv_api_calendar(struct srv_req *r)
{
	struct pl_err err = PL_ERR_INIT;
	json_t *cal = NULL;

	if (calendar_json(r, &cal, &err) < 0)
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
	else
		srv_json(r, MHD_HTTP_OK, cal);
}

void srv_get_rollouts(struct srv_req *r)
{
	struct pl_err err = PL_ERR_INIT;
	json_t *cal = NULL, *model = NULL, *w, *c, *next;
	size_t i, k, shown = 0;

	if (calendar_json(r, &cal, &err) < 0 ||
	    report_collect(r->st, NULL, r->srv->o.policy, r->srv->clock, NULL, &model, &err) < 0) {
		json_decref(cal);
		srv_error(r, srv_status_of(err.code), "%s", err.msg);
		return;
	}
	srv_page_begin(r, "rollouts");
	pl_buf_adds(&r->out, "<h1>Rollouts</h1><h2>Waves</h2>");
	json_array_foreach (json_object_get(model, "candidates"), i, c)
		json_array_foreach (json_object_get(json_object_get(c, "rollout"), "waves"), k, w) {
			if (!shown++)
				pl_buf_adds(&r->out, "<table><tr><th>candidate</th><th>wave</th>"
				                     "<th>state</th><th>window</th><th>hosts</th>"
				                     "<th>succeeded</th><th>failed</th></tr>");
			pl_buf_adds(&r->out, "<tr>");
			td(&r->out, js(c, "name"));
			td(&r->out, js(w, "name"));
			td(&r->out, js(w, "state"));
			td(&r->out, js(w, "window_start"));
			pl_buf_addf(&r->out, "<td>%g</td><td>%g</td><td>%g</td></tr>",
			            json_number_value(json_object_get(w, "hosts")),
			            json_number_value(json_object_get(w, "succeeded")),
			            json_number_value(json_object_get(w, "failed")));
		}
	pl_buf_adds(&r->out, shown ? "</table>" : "<p class=\"note\">no rollout scheduled</p>");
	pl_buf_adds(&r->out, "<h2>Calendar</h2><p>Patch Tuesday this month: ");
	server_html(&r->out, js(cal, "patch_tuesday"));
	pl_buf_adds(&r->out, "; policy ");
	server_html(&r->out, js(cal, "policy"));
	next = json_object_get(cal, "next");
	if (json_is_object(next)) {
		pl_buf_adds(&r->out, json_is_true(json_object_get(next, "open"))
		                         ? "; open now: "
		                         : "; next window: ");
		server_html(&r->out, js(next, "name"));
		pl_buf_adds(&r->out, " ");
		server_html(&r->out, js(next, "start"));
	}
	pl_buf_adds(&r->out, "</p><table><tr><th>window</th><th>zone</th><th>start (UTC)</th>"
	                     "<th>end (UTC)</th></tr>");
	json_array_foreach (json_object_get(cal, "windows"), i, w) {
		pl_buf_adds(&r->out, "<tr>");
		td(&r->out, js(w, "name"));
		td(&r->out, js(w, "tz"));
		td(&r->out, js(w, "start"));
		td(&r->out, js(w, "end"));
		pl_buf_adds(&r->out, "</tr>");
	}
	pl_buf_adds(&r->out, "</table>");
	srv_page_end(r);
	json_decref(cal);
	json_decref(model);
}
