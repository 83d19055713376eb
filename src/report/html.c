/*
 * html.c - the HTML report: one self-contained page (inline CSS, inline SVG
 * charts, no script, no external resource) that a CAB member reads at once.
 * Every value goes through report_html_text (pl_buf_add_xml).
 */
#include "report-private.h"

const char report_css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1a202c;background:#f7fafc}"
    "header.top{background:#1a365d;color:#fff;padding:8px 16px;display:flex;gap:16px;"
    "align-items:center;flex-wrap:wrap}"
    "header.top a{color:#fff;text-decoration:none;font-weight:600}"
    "header.top .who{margin-left:auto}"
    "main{padding:12px 16px;max-width:1200px}"
    "h1{font-size:20px;margin:8px 0}h2{font-size:17px;margin:16px 0 6px;"
    "border-bottom:1px solid #cbd5e0}h3{font-size:15px;margin:12px 0 4px}"
    "table{border-collapse:collapse;margin:4px 0 8px;background:#fff}"
    "th,td{border:1px solid #e2e8f0;padding:3px 6px;text-align:left;vertical-align:top}"
    "th{background:#edf2f7}"
    ".cards{display:flex;gap:10px;flex-wrap:wrap}"
    ".card{background:#fff;border:1px solid #e2e8f0;padding:6px 12px;min-width:120px}"
    ".card b{display:block;font-size:20px}"
    ".charts{display:flex;gap:10px;flex-wrap:wrap}"
    ".state{display:inline-block;padding:0 6px;border-radius:3px;background:#e2e8f0}"
    ".s-passed,.s-approved,.s-deployed,.s-pass,.s-satisfied,.s-succeeded{background:#c6f6d5}"
    ".s-failed,.s-rejected,.s-halted,.s-rolled-back,.s-fail,.s-error,.s-missing{"
    "background:#fed7d7}"
    ".s-testing,.s-scheduled,.s-rolling-out,.s-waiting,.s-running{background:#feebc8}"
    ".note{color:#4a5568;font-style:italic}"
    "pre{background:#1a202c;color:#e2e8f0;padding:8px;overflow:auto;max-height:360px}"
    "form.inline{display:inline}"
    "input[type=text],input[type=password],textarea{width:100%;max-width:420px}"
    ".flash{padding:6px 10px;margin:6px 0;border:1px solid #90cdf4;background:#ebf8ff}"
    ".flash.err{border-color:#feb2b2;background:#fff5f5}"
    "@media print{header.top{display:none}}";

void report_html_text(struct pl_buf *b, const char *s)
{
	if (s)
		pl_buf_add_xml(b, s);
}

/* ---- SVG bar charts ---------------------------------------------------------- */

static const char *const svg_palette[REPORT_SERIES_MAX] = {"#2b6cb0", "#dd6b20", "#38a169",
                                                           "#805ad5"};

static void svg_num(struct pl_buf *b, double v)
{
	if (v == (double)(long long)v)
		pl_buf_addf(b, "%lld", (long long)v);
	else
		pl_buf_addf(b, "%.1f", v);
}

void report_svg_bars(struct pl_buf *b, const char *title, const char *unit,
                     const char *const *series, size_t nseries, const struct report_bar *bars,
                     size_t nbars)
{
	const int width = 560, label_w = 150, bar_w = 330, row = 22, top = 28;
	int legend = nseries > 1 ? 22 : 0;
	int height = top + (int)(nbars ? nbars : 1) * row + legend + 8;
	double max = 0;

	if (nseries > REPORT_SERIES_MAX)
		nseries = REPORT_SERIES_MAX;
	if (nseries == 0)
		nseries = 1;
	for (size_t i = 0; i < nbars; i++) {
		double sum = 0;

		for (size_t k = 0; k < nseries; k++)
			sum += bars[i].v[k] > 0 ? bars[i].v[k] : 0;
		if (sum > max)
			max = sum;
	}
	pl_buf_addf(b,
	            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%d\" "
	            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
	            width, height, width, height);
	report_html_text(b, title);
	pl_buf_addf(b, "\"><rect width=\"%d\" height=\"%d\" fill=\"#ffffff\" stroke=\"#e2e8f0\"/>",
	            width, height);
	pl_buf_adds(b, "<text x=\"8\" y=\"18\" font-size=\"14\" font-weight=\"bold\" "
	               "fill=\"#1a202c\">");
	report_html_text(b, title);
	if (unit && *unit) {
		pl_buf_adds(b, " (");
		report_html_text(b, unit);
		pl_buf_adds(b, ")");
	}
	pl_buf_adds(b, "</text>");
	if (!nbars || max <= 0)
		pl_buf_addf(b,
		            "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#718096\">no data"
		            "</text>",
		            label_w, top + 14);
	for (size_t i = 0; i < nbars && max > 0; i++) {
		int y = top + (int)i * row;
		double x = label_w, sum = 0;

		pl_buf_addf(b,
		            "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\" "
		            "fill=\"#1a202c\">",
		            label_w - 6, y + 14);
		report_html_text(b, bars[i].label);
		pl_buf_adds(b, "</text>");
		for (size_t k = 0; k < nseries; k++) {
			double v = bars[i].v[k] > 0 ? bars[i].v[k] : 0;
			double w = v / max * bar_w;

			sum += v;
			if (w <= 0)
				continue;
			pl_buf_addf(b,
			            "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
			            "fill=\"%s\"><title>",
			            x, y + 3, w, row - 6, svg_palette[k]);
			report_html_text(b, series && series[k] ? series[k] : bars[i].label);
			pl_buf_adds(b, ": ");
			svg_num(b, v);
			pl_buf_adds(b, "</title></rect>");
			x += w;
		}
		pl_buf_addf(b, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" fill=\"#1a202c\">",
		            x + 4, y + 14);
		svg_num(b, sum);
		pl_buf_adds(b, "</text>");
	}
	for (size_t k = 0; legend && k < nseries; k++) {
		int x = 8 + (int)k * 130, y = height - legend;

		pl_buf_addf(b,
		            "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
		            "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#1a202c\">",
		            x, y + 4, svg_palette[k], x + 14, y + 13);
		report_html_text(b, series && series[k] ? series[k] : "");
		pl_buf_adds(b, "</text>");
	}
	pl_buf_adds(b, "</svg>");
}

/* ---- the page ------------------------------------------------------------------ */

static const char *js(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void td(struct pl_buf *b, const char *s)
{
	pl_buf_adds(b, "<td>");
	report_html_text(b, s ? s : "-");
	pl_buf_adds(b, "</td>");
}

static void td_state(struct pl_buf *b, const char *s)
{
	pl_buf_adds(b, "<td><span class=\"state s-");
	report_html_text(b, s ? s : "none");
	pl_buf_adds(b, "\">");
	report_html_text(b, s ? s : "-");
	pl_buf_adds(b, "</span></td>");
}

static void td_num(struct pl_buf *b, json_t *v)
{
	if (json_is_integer(v))
		pl_buf_addf(b, "<td>%lld</td>", (long long)json_integer_value(v));
	else if (json_is_real(v))
		pl_buf_addf(b, "<td>%.1f</td>", json_real_value(v));
	else
		pl_buf_adds(b, "<td>-</td>");
}

static void card(struct pl_buf *b, const char *label, json_t *v, const char *fmt_pct)
{
	pl_buf_adds(b, "<div class=\"card\"><b>");
	if (json_is_integer(v))
		pl_buf_addf(b, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v) && fmt_pct)
		pl_buf_addf(b, "%.0f%%", json_real_value(v) * 100);
	else if (json_is_real(v))
		pl_buf_addf(b, "%.1f", json_real_value(v));
	else
		pl_buf_adds(b, "n/a");
	pl_buf_adds(b, "</b>");
	report_html_text(b, label);
	pl_buf_adds(b, "</div>");
}

/* Bars from an object of numbers {label: n}, in the order of order[] when
 * given (absent labels skipped), else the object's. */
static size_t bars_from_object(json_t *obj, const char *const *order, struct report_bar *bars,
                               size_t max)
{
	size_t n = 0;

	if (order) {
		for (size_t i = 0; order[i] && n < max; i++)
			if (json_is_number(json_object_get(obj, order[i])))
				bars[n++] = (struct report_bar){
				    order[i], {json_number_value(json_object_get(obj, order[i]))}};
	} else {
		const char *k;
		json_t *v;

		json_object_foreach (obj, k, v)
			if (n < max && json_is_number(v))
				bars[n++] = (struct report_bar){k, {json_number_value(v)}};
	}
	return n;
}

static const char *const severity_order[] = {"critical",    "high",    "medium", "low",
                                             "unimportant", "unknown", NULL};

/* The charts: findings by severity, time to patch, lab stage timings, waves. */
static void html_charts(struct pl_buf *b, json_t *model)
{
	static const char *const stage_names[] = {"clone", "apply", "boot", "inspect"};
	static const char *const wave_series[] = {"succeeded", "failed", "rolled back", "pending"};
	struct report_bar bars[40];
	PL_AUTOFREE char **labels = NULL;
	json_t *c, *r, *s, *w;
	size_t n, i, k, j, nl = 0;

	pl_buf_adds(b, "<div class=\"charts\">");
	n = bars_from_object(json_object_get(json_object_get(model, "findings"), "by_severity"),
	                     severity_order, bars, 10);
	report_svg_bars(b, "Open findings by severity", "", NULL, 1, bars, n);
	n = bars_from_object(
	    json_object_get(json_object_get(model, "compliance"), "mean_days_to_patch"),
	    severity_order, bars, 10);
	report_svg_bars(b, "Mean time to patch", "days", NULL, 1, bars, n);
	/* the most recent lab runs, each a stacked bar of its stages */
	n = 0;
	labels = pl_calloc(40, sizeof(char *));
	json_array_foreach (json_object_get(model, "candidates"), i, c)
		json_array_foreach (json_object_get(c, "lab_runs"), k, r) {
			if (n == 12)
				break;
			bars[n] = (struct report_bar){NULL, {0}};
			labels[nl] = pl_strdupf("%s/%s", js(c, "name"), js(r, "image") ?: "?");
			bars[n].label = labels[nl++];
			json_array_foreach (json_object_get(r, "stages"), j, s)
				for (int q = 0; q < 4; q++)
					if (js(s, "stage") &&
					    strcmp(js(s, "stage"), stage_names[q]) == 0)
						bars[n].v[q] += json_number_value(
						    json_object_get(s, "seconds"));
			n++;
		}
	report_svg_bars(b, "Lab run stages", "seconds", stage_names, 4, bars, n);
	for (i = 0; i < nl; i++)
		free(labels[i]);
	nl = 0;
	n = 0;
	json_array_foreach (json_object_get(model, "candidates"), i, c)
		json_array_foreach (json_object_get(json_object_get(c, "rollout"), "waves"), k, w) {
			if (n == 20)
				break;
			labels[nl] = pl_strdupf("%s/%s", js(c, "name"), js(w, "name") ?: "?");
			bars[n] = (struct report_bar){
			    labels[nl++],
			    {json_number_value(json_object_get(w, "succeeded")),
			     json_number_value(json_object_get(w, "failed")),
			     json_number_value(json_object_get(w, "rolled_back")),
			     json_number_value(json_object_get(w, "pending"))}};
			n++;
		}
	report_svg_bars(b, "Rollout wave progress", "hosts", wave_series, 4, bars, n);
	for (i = 0; i < nl; i++)
		free(labels[i]);
	pl_buf_adds(b, "</div>");
}

static void html_summary(struct pl_buf *b, json_t *model)
{
	json_t *comp = json_object_get(model, "compliance"), *c;
	size_t i, testing = 0, approved = 0, failed = 0;

	json_array_foreach (json_object_get(model, "candidates"), i, c) {
		const char *s = js(c, "state");

		testing += s && (strcmp(s, "new") == 0 || strcmp(s, "testing") == 0);
		approved += s && (strcmp(s, "approved") == 0 || strcmp(s, "scheduled") == 0 ||
		                  strcmp(s, "rolling-out") == 0 || strcmp(s, "deployed") == 0);
		failed += s && (strcmp(s, "failed") == 0 || strcmp(s, "rejected") == 0 ||
		                strcmp(s, "halted") == 0 || strcmp(s, "rolled-back") == 0);
	}
	pl_buf_adds(b, "<div class=\"cards\">");
	pl_buf_addf(b, "<div class=\"card\"><b>%zu</b>candidates</div>",
	            json_array_size(json_object_get(model, "candidates")));
	pl_buf_addf(b, "<div class=\"card\"><b>%zu</b>approved or later</div>", approved);
	pl_buf_addf(b, "<div class=\"card\"><b>%zu</b>failed, rejected or halted</div>", failed);
	pl_buf_addf(b, "<div class=\"card\"><b>%zu</b>new or testing</div>", testing);
	card(b, "hosts", json_object_get(comp, "hosts"), NULL);
	card(b, "hosts fully patched", json_object_get(comp, "share_fully_patched"), "%");
	card(b, "findings past their SLA", json_object_get(comp, "past_sla"), NULL);
	pl_buf_adds(b, "</div>");
}

static void html_runs(struct pl_buf *b, json_t *runs)
{
	json_t *r, *s, *f;
	size_t i, k;

	if (!json_array_size(runs)) {
		pl_buf_adds(b, "<p class=\"note\">no lab run</p>");
		return;
	}
	pl_buf_adds(b, "<table><tr><th>run</th><th>image</th><th>verdict</th><th>started</th>"
	               "<th>seconds</th><th>stages (s)</th><th>checks</th><th>failed checks "
	               "and evidence</th></tr>");
	json_array_foreach (runs, i, r) {
		json_t *ch = json_object_get(r, "checks");

		pl_buf_adds(b, "<tr>");
		td(b, js(r, "run"));
		td(b, js(r, "image"));
		td_state(b, js(r, "verdict") ?: js(r, "state"));
		td(b, js(r, "started_at"));
		td_num(b, json_object_get(r, "seconds"));
		pl_buf_adds(b, "<td>");
		json_array_foreach (json_object_get(r, "stages"), k, s) {
			pl_buf_adds(b, k ? ", " : "");
			report_html_text(b, js(s, "stage"));
			pl_buf_addf(b, " %.1f", json_number_value(json_object_get(s, "seconds")));
		}
		pl_buf_addf(b, "</td><td>%lld pass, %lld fail, %lld error</td><td>",
		            (long long)json_integer_value(json_object_get(ch, "pass")),
		            (long long)json_integer_value(json_object_get(ch, "fail")),
		            (long long)json_integer_value(json_object_get(ch, "error")));
		json_array_foreach (json_object_get(r, "failed_checks"), k, f) {
			report_html_text(b, js(f, "stage"));
			pl_buf_adds(b, "/");
			report_html_text(b, js(f, "name"));
			pl_buf_adds(b, ": ");
			report_html_text(b, js(f, "detail"));
			pl_buf_adds(b, "<br>");
		}
		if (js(r, "evidence_dir")) {
			pl_buf_adds(b, "evidence: <code>");
			report_html_text(b, js(r, "evidence_dir"));
			pl_buf_adds(b, "</code>");
		}
		pl_buf_adds(b, "</td></tr>");
	}
	pl_buf_adds(b, "</table>");
}

static void html_decisions(struct pl_buf *b, json_t *c)
{
	json_t *prom = json_object_get(c, "promotion"), *v;
	size_t i;

	pl_buf_adds(b, "<h3>Promotion: ");
	pl_buf_adds(b, json_is_true(json_object_get(prom, "promotable")) ? "may be promoted"
	                                                                 : "may not be promoted");
	pl_buf_adds(b, "</h3>");
	if (js(prom, "error")) {
		pl_buf_adds(b, "<p class=\"note\">");
		report_html_text(b, js(prom, "error"));
		pl_buf_adds(b, "</p>");
	}
	if (json_array_size(json_object_get(prom, "requirements"))) {
		pl_buf_adds(b, "<table><tr><th>requirement</th><th>state</th><th>detail</th></tr>");
		json_array_foreach (json_object_get(prom, "requirements"), i, v) {
			pl_buf_adds(b, "<tr>");
			td(b, js(v, "name"));
			td_state(b, js(v, "state"));
			td(b, js(v, "detail"));
			pl_buf_adds(b, "</tr>");
		}
		pl_buf_adds(b, "</table>");
	}
	if (!json_array_size(json_object_get(c, "approvals")) &&
	    !json_array_size(json_object_get(c, "rejections")) &&
	    !json_array_size(json_object_get(c, "waivers"))) {
		pl_buf_adds(b, "<p class=\"note\">no decision yet</p>");
		return;
	}
	pl_buf_adds(b, "<table><tr><th>decision</th><th>by</th><th>role</th><th>at</th>"
	               "<th>note</th></tr>");
	json_array_foreach (json_object_get(c, "approvals"), i, v) {
		pl_buf_adds(b, "<tr><td>approve</td>");
		td(b, js(v, "actor"));
		td(b, js(v, "role"));
		td(b, js(v, "at"));
		td(b, js(v, "note"));
		pl_buf_adds(b, "</tr>");
	}
	json_array_foreach (json_object_get(c, "rejections"), i, v) {
		pl_buf_adds(b, "<tr><td>reject</td>");
		td(b, js(v, "actor"));
		td(b, js(v, "role"));
		td(b, js(v, "at"));
		td(b, js(v, "note"));
		pl_buf_adds(b, "</tr>");
	}
	json_array_foreach (json_object_get(c, "waivers"), i, v) {
		PL_AUTOFREE char *what = pl_strdupf("waive %s", js(v, "check") ?: "?");

		pl_buf_adds(b, "<tr>");
		td(b, what);
		td(b, js(v, "actor"));
		td(b, "-");
		td(b, js(v, "at"));
		td(b, js(v, "reason"));
		pl_buf_adds(b, "</tr>");
	}
	pl_buf_adds(b, "</table>");
}

static void html_candidate(struct pl_buf *b, json_t *c)
{
	json_t *v;
	size_t i;

	pl_buf_adds(b, "<section class=\"candidate\"><h2>");
	report_html_text(b, js(c, "name"));
	pl_buf_adds(b, " <span class=\"state s-");
	report_html_text(b, js(c, "state"));
	pl_buf_adds(b, "\">");
	report_html_text(b, js(c, "state"));
	pl_buf_adds(b, "</span></h2><p>lab verdict: ");
	report_html_text(b, js(c, "verdict") ?: "none yet");
	pl_buf_adds(b, "; created ");
	report_html_text(b, js(c, "created_at"));
	pl_buf_adds(b, ", updated ");
	report_html_text(b, js(c, "updated_at"));
	pl_buf_adds(b, "</p><table><tr><th>package</th><th>version</th><th>arch</th>"
	               "<th>source</th></tr>");
	json_array_foreach (json_object_get(c, "patches"), i, v) {
		pl_buf_adds(b, "<tr>");
		td(b, js(v, "package"));
		td(b, js(v, "version"));
		td(b, js(v, "arch"));
		td(b, js(v, "source"));
		pl_buf_adds(b, "</tr>");
	}
	pl_buf_adds(b, "</table><p>CVEs closed: ");
	json_array_foreach (json_object_get(c, "cves_closed"), i, v) {
		pl_buf_adds(b, i ? ", " : "");
		report_html_text(b, js(v, "cve"));
		if (js(v, "urgency")) {
			pl_buf_adds(b, " (");
			report_html_text(b, js(v, "urgency"));
			pl_buf_adds(b, ")");
		}
	}
	if (!json_array_size(json_object_get(c, "cves_closed")))
		pl_buf_adds(b, "none known");
	pl_buf_adds(b, "</p><h3>Lab runs</h3>");
	html_runs(b, json_object_get(c, "lab_runs"));
	html_decisions(b, c);
	if (json_array_size(json_object_get(json_object_get(c, "rollout"), "waves"))) {
		pl_buf_adds(b, "<h3>Rollout waves</h3><table><tr><th>wave</th><th>state</th>"
		               "<th>window</th><th>hosts</th><th>succeeded</th><th>failed</th>"
		               "<th>rolled back</th></tr>");
		json_array_foreach (json_object_get(json_object_get(c, "rollout"), "waves"), i, v) {
			pl_buf_adds(b, "<tr>");
			td(b, js(v, "name"));
			td_state(b, js(v, "state"));
			td(b, js(v, "window_start"));
			td_num(b, json_object_get(v, "hosts"));
			td_num(b, json_object_get(v, "succeeded"));
			td_num(b, json_object_get(v, "failed"));
			td_num(b, json_object_get(v, "rolled_back"));
			pl_buf_adds(b, "</tr>");
		}
		pl_buf_adds(b, "</table>");
	}
	pl_buf_adds(b, "</section>");
}

static void html_hosts(struct pl_buf *b, json_t *hosts)
{
	json_t *h, *d;
	size_t i, k;

	pl_buf_adds(b, "<h2>Hosts</h2>");
	if (!json_array_size(hosts)) {
		pl_buf_adds(b, "<p class=\"note\">no hosts in the inventory</p>");
		return;
	}
	pl_buf_adds(b, "<table><tr><th>host</th><th>environment</th><th>role</th><th>OS</th>"
	               "<th>deployed patches</th><th>failures</th><th>rollbacks</th>"
	               "<th>open findings</th></tr>");
	json_array_foreach (hosts, i, h) {
		pl_buf_adds(b, "<tr>");
		td(b, js(h, "name"));
		td(b, js(h, "environment"));
		td(b, js(h, "role"));
		td(b, js(h, "os_version") ?: js(h, "os"));
		pl_buf_adds(b, "<td>");
		json_array_foreach (json_object_get(h, "deployed"), k, d) {
			report_html_text(b, js(d, "package"));
			pl_buf_adds(b, " ");
			report_html_text(b, js(d, "version"));
			if (json_is_number(json_object_get(d, "seconds")))
				pl_buf_addf(b, " (%.0f s)",
				            json_number_value(json_object_get(d, "seconds")));
			pl_buf_adds(b, "<br>");
		}
		pl_buf_adds(b, "</td>");
		td_num(b, json_object_get(h, "failures"));
		td_num(b, json_object_get(h, "rollbacks"));
		td_num(b, json_object_get(h, "open_findings"));
		pl_buf_adds(b, "</tr>");
	}
	pl_buf_adds(b, "</table>");
}

static void html_compliance(struct pl_buf *b, json_t *model)
{
	json_t *comp = json_object_get(model, "compliance");
	json_t *mttp = json_object_get(comp, "mean_days_to_patch"),
	       *sla = json_object_get(comp, "sla_days");

	pl_buf_adds(b, "<h2>Compliance</h2><table><tr><th>severity</th><th>SLA (days)</th>"
	               "<th>mean days to patch</th><th>open findings</th></tr>");
	for (size_t i = 0; severity_order[i]; i++) {
		json_t *open = json_object_get(
		    json_object_get(json_object_get(model, "findings"), "by_severity"),
		    severity_order[i]);

		if (!json_object_get(sla, severity_order[i]) && !open)
			continue;
		pl_buf_adds(b, "<tr>");
		td(b, severity_order[i]);
		td_num(b, json_object_get(sla, severity_order[i]));
		td_num(b, json_object_get(mttp, severity_order[i]));
		td_num(b, open);
		pl_buf_adds(b, "</tr>");
	}
	pl_buf_adds(b, "</table>");
}

void report_render_html(json_t *model, struct pl_buf *b)
{
	json_t *v;
	size_t i;

	pl_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	               "<meta name=\"viewport\" content=\"width=device-width\">"
	               "<title>patchlab report ");
	report_html_text(b, js(model, "generated_at"));
	pl_buf_adds(b, "</title><style>");
	pl_buf_adds(b, report_css);
	pl_buf_adds(b, "</style></head><body><main><h1>patchlab report</h1><p>generated ");
	report_html_text(b, js(model, "generated_at"));
	pl_buf_adds(b, "; gate policy ");
	report_html_text(b, js(model, "policy"));
	if (js(json_object_get(model, "filter"), "candidate")) {
		pl_buf_adds(b, "; candidate ");
		report_html_text(b, js(json_object_get(model, "filter"), "candidate"));
	}
	if (js(json_object_get(model, "filter"), "since")) {
		pl_buf_adds(b, "; since ");
		report_html_text(b, js(json_object_get(model, "filter"), "since"));
	}
	pl_buf_adds(b, "</p>");
	html_summary(b, model);
	html_charts(b, model);
	json_array_foreach (json_object_get(model, "notes"), i, v) {
		pl_buf_adds(b, "<p class=\"note\">");
		report_html_text(b, json_string_value(v));
		pl_buf_adds(b, "</p>");
	}
	json_array_foreach (json_object_get(model, "candidates"), i, v)
		html_candidate(b, v);
	html_hosts(b, json_object_get(model, "hosts"));
	html_compliance(b, model);
	pl_buf_adds(b, "</main></body></html>\n");
}
