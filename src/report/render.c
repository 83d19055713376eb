/*
 * render.c - the report as JSON, CSV (RFC 4180) and JUnit XML.
 *
 * CSV is one table with a "record" column (candidate, run, host,
 * compliance): each record fills the columns that concern it, so a
 * spreadsheet filters by record and nothing needs a second file.
 * JUnit: a testsuite per candidate, a testcase per lab run, a failure per
 * failed check (message "stage/name: detail", text the evidence path), an
 * error for a run that broke, skipped for one still running; a candidate
 * never tested is one skipped testcase, so CI shows it before Patch Tuesday.
 */
#include "report-private.h"

#include <libxml/xmlwriter.h>

int report_format_parse(const char *s)
{
	static const char *const names[] = {"html", "json", "csv", "junit"};

	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

const char *report_format_name(int fmt)
{
	static const char *const names[] = {"html", "json", "csv", "junit"};

	return fmt >= 0 && fmt < 4 ? names[fmt] : "?";
}

int report_render(json_t *model, int fmt, struct pl_buf *out, struct pl_err *err)
{
	switch (fmt) {
	case REPORT_HTML:
		report_render_html(model, out);
		return 0;
	case REPORT_JSON:
		report_render_json(model, out);
		return 0;
	case REPORT_CSV:
		report_render_csv(model, out);
		return 0;
	case REPORT_JUNIT:
		return report_render_junit(model, out, err);
	default:
		return pl_error(err, PL_EUSAGE, "unknown report format %d", fmt);
	}
}

void report_render_json(json_t *model, struct pl_buf *out)
{
	char *s = json_dumps(model, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	pl_buf_adds(out, s ? s : "null");
	pl_buf_addc(out, '\n');
	free(s);
}

/* ---- CSV ------------------------------------------------------------------- */

void report_csv_field(struct pl_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	int quote = n && (strpbrk(s, ",\"\r\n") || s[0] == ' ' || s[n - 1] == ' ');
	int formula =
	    n && strchr("=+-@", s[0]) && !(s[0] == '-' && n > 1 && s[1] >= '0' && s[1] <= '9');

	if (formula)
		quote = 1;
	if (quote)
		pl_buf_addc(b, '"');
	if (formula)
		pl_buf_addc(b, '\'');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			pl_buf_addc(b, '"');
		pl_buf_addc(b, s[i]);
	}
	if (quote)
		pl_buf_addc(b, '"');
}

static const char *const csv_columns[] = {
    "record",        "candidate",  "state",       "verdict",   "run",           "image",
    "run_state",     "started_at", "ended_at",    "seconds",   "checks_passed", "checks_failed",
    "failed_checks", "evidence",   "cves_closed", "approvals", "host",          "environment",
    "role",          "deployed",   "failures",    "rollbacks", "open_findings", "metric",
    "value",         NULL};

/* One row from an object keyed by column names (values JSON scalars). */
static void csv_row(struct pl_buf *b, json_t *row)
{
	for (int i = 0; csv_columns[i]; i++) {
		json_t *v = json_object_get(row, csv_columns[i]);

		if (i)
			pl_buf_addc(b, ',');
		if (json_is_string(v))
			report_csv_field(b, json_string_value(v));
		else if (json_is_integer(v))
			pl_buf_addf(b, "%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			pl_buf_addf(b, "%.3f", json_real_value(v));
		else if (json_is_boolean(v))
			pl_buf_adds(b, json_is_true(v) ? "true" : "false");
	}
	pl_buf_adds(b, "\r\n");
	json_decref(row);
}

/* "a;b;c" of one string field of each element. */
static char *csv_join(json_t *arr, const char *k1, const char *k2, const char *sep)
{
	struct pl_buf b = PL_BUF_INIT;
	json_t *v;
	size_t i;

	json_array_foreach (arr, i, v) {
		if (i)
			pl_buf_adds(&b, ";");
		pl_buf_adds(&b, json_string_value(json_object_get(v, k1)) ?: "");
		if (k2) {
			pl_buf_adds(&b, sep);
			pl_buf_adds(&b, json_string_value(json_object_get(v, k2)) ?: "");
		}
	}
	return pl_buf_detach(&b);
}

static void csv_candidate(struct pl_buf *b, json_t *c)
{
	const char *name = json_string_value(json_object_get(c, "name"));
	json_t *r;
	size_t i;

	csv_row(b, json_pack("{s:s, s:s, s:O?, s:O?, s:I, s:I}", "record", "candidate", "candidate",
	                     name, "state", json_object_get(c, "state"), "verdict",
	                     json_object_get(c, "verdict"), "cves_closed",
	                     (json_int_t)json_array_size(json_object_get(c, "cves_closed")),
	                     "approvals",
	                     (json_int_t)json_array_size(json_object_get(c, "approvals"))));
	json_array_foreach (json_object_get(c, "lab_runs"), i, r) {
		PL_AUTOFREE char *failed =
		    csv_join(json_object_get(r, "failed_checks"), "stage", "name", "/");
		json_t *checks = json_object_get(r, "checks");

		csv_row(
		    b,
		    json_pack(
		        "{s:s, s:s, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:I, s:s,"
		        " s:O?}",
		        "record", "run", "candidate", name, "run", json_object_get(r, "run"),
		        "image", json_object_get(r, "image"), "run_state",
		        json_object_get(r, "state"), "verdict", json_object_get(r, "verdict"),
		        "started_at", json_object_get(r, "started_at"), "ended_at",
		        json_object_get(r, "ended_at"), "seconds", json_object_get(r, "seconds"),
		        "checks_passed", json_object_get(checks, "pass"), "checks_failed",
		        (json_int_t)json_array_size(json_object_get(r, "failed_checks")),
		        "failed_checks", failed, "evidence", json_object_get(r, "evidence_dir")));
	}
}

void report_render_csv(json_t *model, struct pl_buf *out)
{
	json_t *v, *comp = json_object_get(model, "compliance");
	const char *key;
	size_t i;

	for (int k = 0; csv_columns[k]; k++)
		pl_buf_addf(out, "%s%s", k ? "," : "", csv_columns[k]);
	pl_buf_adds(out, "\r\n");
	json_array_foreach (json_object_get(model, "candidates"), i, v)
		csv_candidate(out, v);
	json_array_foreach (json_object_get(model, "hosts"), i, v) {
		PL_AUTOFREE char *dep =
		    csv_join(json_object_get(v, "deployed"), "package", "version", "=");

		csv_row(out, json_pack("{s:s, s:O?, s:O?, s:O?, s:s, s:O?, s:O?, s:O?}", "record",
		                       "host", "host", json_object_get(v, "name"), "environment",
		                       json_object_get(v, "environment"), "role",
		                       json_object_get(v, "role"), "deployed", dep, "failures",
		                       json_object_get(v, "failures"), "rollbacks",
		                       json_object_get(v, "rollbacks"), "open_findings",
		                       json_object_get(v, "open_findings")));
	}
	json_object_foreach (comp, key, v) {
		if (json_is_object(v)) {
			const char *k2;
			json_t *w;

			json_object_foreach (v, k2, w) {
				PL_AUTOFREE char *metric = pl_strdupf("%s.%s", key, k2);

				csv_row(out, json_pack("{s:s, s:s, s:O?}", "record", "compliance",
				                       "metric", metric, "value", w));
			}
		} else {
			csv_row(out, json_pack("{s:s, s:s, s:O?}", "record", "compliance", "metric",
			                       key, "value", v));
		}
	}
}

/* ---- JUnit XML --------------------------------------------------------------- */

struct jw {
	xmlTextWriterPtr w;
	int failed;
};

static void jw_start(struct jw *x, const char *name)
{
	if (xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
		x->failed = 1;
}

static void jw_end(struct jw *x)
{
	if (xmlTextWriterEndElement(x->w) < 0)
		x->failed = 1;
}

static void jw_attr(struct jw *x, const char *name, const char *value)
{
	if (value && xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
		x->failed = 1;
}

static void jw_attrf(struct jw *x, const char *name, const char *fmt, ...) PL_PRINTF(3, 4);
static void jw_attrf(struct jw *x, const char *name, const char *fmt, ...)
{
	struct pl_buf b = PL_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	pl_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	jw_attr(x, name, pl_buf_str(&b));
	pl_buf_release(&b);
}

static void jw_text(struct jw *x, const char *s)
{
	if (s && xmlTextWriterWriteString(x->w, BAD_CAST s) < 0)
		x->failed = 1;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void junit_run(struct jw *x, const char *cand, json_t *r)
{
	const char *verdict = jstr(r, "verdict"), *state = jstr(r, "state");
	json_t *f;
	size_t i;

	jw_start(x, "testcase");
	jw_attrf(x, "classname", "patchlab.%s.%s", cand, jstr(r, "image") ?: "image");
	jw_attrf(x, "name", "lab run %s on %s", jstr(r, "run") ?: "?", jstr(r, "image") ?: "?");
	jw_attrf(x, "time", "%.3f", json_number_value(json_object_get(r, "seconds")));
	if (jstr(r, "started_at"))
		jw_attr(x, "timestamp", jstr(r, "started_at"));
	if (!verdict && state && strcmp(state, "running") == 0) {
		jw_start(x, "skipped");
		jw_attr(x, "message", "the lab run is still running");
		jw_end(x);
	} else if (!verdict || strcmp(verdict, "error") == 0 ||
	           (strcmp(verdict, "pass") != 0 && strcmp(verdict, "fail") != 0)) {
		jw_start(x, "error");
		jw_attrf(x, "message", "the lab run ended without a verdict (state %s, verdict %s)",
		         state ?: "?", verdict ?: "none");
		jw_attr(x, "type", "lab-error");
		jw_text(x, jstr(r, "evidence_dir"));
		jw_end(x);
	}
	json_array_foreach (json_object_get(r, "failed_checks"), i, f) {
		PL_AUTOFREE char *text = pl_strdupf(
			"%s/%s on %s: %s\nevidence: %s\n", jstr(f, "stage"), jstr(f, "name"),
			jstr(f, "vm") ?: "vm", jstr(f, "detail") ?: "",
			jstr(f, "evidence") ?: jstr(r, "evidence_dir") ?: "(none)");

		jw_start(x, strcmp(jstr(f, "status") ?: "", "error") == 0 ? "error" : "failure");
		jw_attrf(x, "message", "%s/%s: %s", jstr(f, "stage"), jstr(f, "name"),
		         jstr(f, "detail") ?: "");
		jw_attr(x, "type", jstr(f, "status"));
		jw_text(x, text);
		jw_end(x);
	}
	if (verdict && strcmp(verdict, "fail") == 0 &&
	    !json_array_size(json_object_get(r, "failed_checks"))) {
		/* failed for a missing check: still a failure, never a pass */
		jw_start(x, "failure");
		jw_attr(x, "message", "the gate failed the run (a required check is missing)");
		jw_attr(x, "type", "verdict");
		jw_text(x, jstr(r, "evidence_dir"));
		jw_end(x);
	}
	jw_start(x, "system-out");
	jw_text(x, "evidence: ");
	jw_text(x, jstr(r, "evidence_dir") ?: "(none)");
	jw_text(x, "\n");
	jw_end(x);
	jw_end(x);
}

/* Counts of a candidate's testcases: tests, failures, errors, skipped, time. */
static void junit_counts(json_t *runs, long n[4], double *time)
{
	json_t *r;
	size_t i;

	memset(n, 0, 4 * sizeof(long));
	*time = 0;
	json_array_foreach (runs, i, r) {
		const char *v = jstr(r, "verdict"), *st = jstr(r, "state");
		n[0]++;
		*time += json_number_value(json_object_get(r, "seconds"));
		if (!v && st && strcmp(st, "running") == 0)
			n[3]++;
		else if (!v || (strcmp(v, "pass") != 0 && strcmp(v, "fail") != 0))
			n[2]++;
		else if (strcmp(v, "fail") == 0)
			n[1]++;
	}
	if (!n[0]) {
		n[0] = 1;
		n[3] = 1;
	}
}

int report_render_junit(json_t *model, struct pl_buf *out, struct pl_err *err)
{
	xmlBufferPtr buf = xmlBufferCreate();
	struct jw x = {NULL, 0};
	json_t *c, *r;
	size_t i, k;

	x.w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	if (!x.w) {
		if (buf)
			xmlBufferFree(buf);
		return pl_error(err, PL_ENOMEM, "cannot start an XML writer");
	}
	xmlTextWriterSetIndent(x.w, 1);
	xmlTextWriterSetIndentString(x.w, BAD_CAST "  ");
	if (xmlTextWriterStartDocument(x.w, "1.0", "UTF-8", NULL) < 0)
		x.failed = 1;
	jw_start(&x, "testsuites");
	jw_attr(&x, "name", "patchlab lab runs");
	jw_attr(&x, "timestamp", jstr(model, "generated_at"));
	json_array_foreach (json_object_get(model, "candidates"), i, c) {
		json_t *runs = json_object_get(c, "lab_runs");
		long n[4];
		double t;

		junit_counts(runs, n, &t);
		jw_start(&x, "testsuite");
		jw_attr(&x, "name", jstr(c, "name"));
		jw_attrf(&x, "tests", "%ld", n[0]);
		jw_attrf(&x, "failures", "%ld", n[1]);
		jw_attrf(&x, "errors", "%ld", n[2]);
		jw_attrf(&x, "skipped", "%ld", n[3]);
		jw_attrf(&x, "time", "%.3f", t);
		jw_start(&x, "properties");
		for (const char *const *p = (const char *const[]){"state", "verdict", NULL}; *p;
		     p++) {
			jw_start(&x, "property");
			jw_attr(&x, "name", *p);
			jw_attr(&x, "value", jstr(c, *p) ?: "none");
			jw_end(&x);
		}
		jw_end(&x);
		json_array_foreach (runs, k, r)
			junit_run(&x, jstr(c, "name"), r);
		if (!json_array_size(runs)) {
			jw_start(&x, "testcase");
			jw_attrf(&x, "classname", "patchlab.%s", jstr(c, "name"));
			jw_attr(&x, "name", "lab");
			jw_start(&x, "skipped");
			jw_attr(&x, "message", "never tested in the lab");
			jw_end(&x);
			jw_end(&x);
		}
		jw_end(&x);
	}
	jw_end(&x);
	if (xmlTextWriterEndDocument(x.w) < 0)
		x.failed = 1;
	xmlFreeTextWriter(x.w);
	if (!x.failed)
		pl_buf_adds(out, (const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return x.failed ? pl_error(err, PL_EINTERNAL, "writing the JUnit XML failed") : 0;
}
