/*
 * feed.c - the Debian Security Tracker's JSON (tracker/data/json):
 * {"SRC": {"CVE-ID": {"description", "scope", "debianbug", "releases":
 * {"REL": {"status", "fixed_version", "urgency", "nodsa", ...}}}}}. The
 * chosen release (or every release) is checked strictly (fail closed: an
 * unknown status is an error, not a CVE silently dropped) and handed to a
 * sink: the one-shot feed below keeps it in memory, the feed store writes
 * it to the database. Other releases are checked for their shape only.
 */
#include "detect/detect-private.h"

#include <sys/stat.h>

#include "risk/risk.h"
#include "version/version.h"

static const char *const urgency_words[] = {"unimportant", "low", "medium", "high"};

const char *detect_urgency_name(int u)
{
	return u >= DETECT_URG_UNIMPORTANT && u <= DETECT_URG_HIGH ? urgency_words[u] : "-";
}

int detect_urgency_parse(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '*')
		n--;
	for (int i = 0; i <= DETECT_URG_HIGH; i++)
		if (strlen(urgency_words[i]) == n && memcmp(s, urgency_words[i], n) == 0)
			return i;
	if (n == 16 && memcmp(s, "not yet assigned", n) == 0)
		return DETECT_URG_MEDIUM;
	if (n == 11 && memcmp(s, "end-of-life", n) == 0)
		return DETECT_URG_UNIMPORTANT;
	return -1;
}

struct detect_feed *detect_feed_new(const char *release)
{
	struct detect_feed *f = pl_calloc(1, sizeof(*f));

	f->release = pl_strdup(release);
	return f;
}

void detect_feed_free(struct detect_feed *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->c[i].source);
		free(f->c[i].id);
		free(f->c[i].fixed);
	}
	free(f->c);
	free(f->release);
	free(f);
}

static int cve_cmp(const void *pa, const void *pb)
{
	const struct detect_cve *a = pa, *b = pb;
	int c = strcmp(a->source, b->source);

	return c ? c : strcmp(a->id, b->id);
}

void detect_feed_sort(struct detect_feed *f)
{
	if (f->n > 1)
		qsort(f->c, f->n, sizeof(f->c[0]), cve_cmp);
}

static int bad(const char *file, const char *src, const char *cve, const char *what,
               struct pl_err *err, const char *fmt, ...) PL_PRINTF(6, 7);

/* Records "FILE: $.SRC.CVE.WHAT: message". */
static int bad(const char *file, const char *src, const char *cve, const char *what,
               struct pl_err *err, const char *fmt, ...)
{
	PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;
	va_list ap;

	pl_buf_addf(&b, "%s: $", file);
	if (src)
		pl_buf_addf(&b, ".%s", src);
	if (cve)
		pl_buf_addf(&b, ".%s", cve);
	if (what)
		pl_buf_addf(&b, ".%s", what);
	pl_buf_adds(&b, ": ");
	va_start(ap, fmt);
	pl_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return pl_error(err, PL_EINVAL, "%s", pl_buf_str(&b));
}

/* A string field of a release entry, bounded; absent stays NULL. */
static int rel_str(const char *file, const char *src, const char *cve, const char *rel_name,
                   json_t *rel, const char *key, size_t max, const char **out, struct pl_err *err)
{
	json_t *v = json_object_get(rel, key);
	PL_AUTOFREE char *where = NULL;

	if (!v || json_is_null(v))
		return 0;
	where = pl_strdupf("releases.%s.%s", rel_name, key);
	if (!json_is_string(v))
		return bad(file, src, cve, where, err, "expected a string, got %s",
		           detect_json_type(v));
	if (json_string_length(v) > max)
		return bad(file, src, cve, where, err, "longer than %zu bytes", max);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return bad(file, src, cve, where, err, "contains a NUL character");
	*out = json_string_value(v);
	return 0;
}

/* Reads releases.REL of one CVE into e and hands it to the sink. */
static int tracker_release(const char *file, struct detect_tracker_entry *e, json_t *rel,
                           const struct detect_sink *sink, struct pl_err *err)
{
	const char *src = e->source, *cve = e->cve;
	PL_AUTOFREE char *where = pl_strdupf("releases.%s", e->release);
	PL_AUTOFREE char *w_status = pl_strdupf("%s.status", where);
	PL_AUTOFREE char *w_fixed = pl_strdupf("%s.fixed_version", where);
	PL_AUTOFREE char *w_urg = pl_strdupf("%s.urgency", where);
	json_t *st = json_object_get(rel, "status"), *fv = json_object_get(rel, "fixed_version");
	json_t *ur = json_object_get(rel, "urgency"), *repos;
	const char *msg = NULL, *why;
	struct version_deb d;

	if (!json_is_object(rel))
		return bad(file, src, cve, where, err, "expected an object");
	if ((why = detect_id_problem(e->release, strlen(e->release))))
		return bad(file, src, cve, where, err, "the release name %s", why);
	if (!json_is_string(st))
		return bad(file, src, cve, w_status, err, "expected a string");
	e->status = json_string_value(st);
	if (strcmp(e->status, "resolved") != 0 && strcmp(e->status, "open") != 0 &&
	    strcmp(e->status, "undetermined") != 0)
		return bad(file, src, cve, w_status, err,
		           "unknown status '%s' (expected resolved, open or undetermined)",
		           e->status);
	e->urgency = NULL;
	if (ur && !json_is_string(ur))
		return bad(file, src, cve, w_urg, err, "expected a string");
	if (ur && detect_urgency_parse(json_string_value(ur)) < 0)
		return bad(file, src, cve, w_urg, err, "unknown urgency '%s'",
		           json_string_value(ur));
	if (ur)
		e->urgency = json_string_value(ur);
	e->fixed_version = NULL;
	if (strcmp(e->status, "resolved") == 0) {
		const char *v;

		if (!json_is_string(fv))
			return bad(file, src, cve, w_fixed, err, "a resolved CVE needs a string");
		v = json_string_value(fv);
		if (json_string_length(fv) > DETECT_MAX_VERSION)
			return bad(file, src, cve, w_fixed, err, "longer than %d bytes",
			           DETECT_MAX_VERSION);
		if (strcmp(v, "0") != 0 && version_deb_parse(v, strlen(v), &d, &msg) < 0)
			return bad(file, src, cve, w_fixed, err, "invalid version '%s'", v);
		e->fixed_version = v;
	} else if (fv && !json_is_string(fv)) {
		return bad(file, src, cve, w_fixed, err, "expected a string");
	}
	e->nodsa = e->nodsa_reason = NULL;
	if (rel_str(file, src, cve, e->release, rel, "nodsa", DETECT_MAX_TEXT, &e->nodsa, err) <
	        0 ||
	    rel_str(file, src, cve, e->release, rel, "nodsa_reason", DETECT_MAX_TEXT,
	            &e->nodsa_reason, err) < 0)
		return PL_EINVAL;
	repos = json_object_get(rel, "repositories");
	if (repos && !json_is_object(repos)) {
		PL_AUTOFREE char *w = pl_strdupf("%s.repositories", where);

		return bad(file, src, cve, w, err, "expected an object");
	}
	if (sink->tracker && sink->tracker(sink->ctx, e, err) < 0)
		return pl_error_prefix(err, "%s: $.%s.%s.%s", file, src, cve, where);
	return 0;
}

/* The per-CVE fields every release of it shares. */
static int tracker_cve_fields(const char *file, json_t *entry, struct detect_tracker_entry *e,
                              struct pl_err *err)
{
	json_t *bug = json_object_get(entry, "debianbug");
	json_t *desc = json_object_get(entry, "description");
	json_t *scope = json_object_get(entry, "scope");

	e->description = e->scope = NULL;
	e->debianbug = 0;
	if (desc && !json_is_null(desc)) {
		if (!json_is_string(desc))
			return bad(file, e->source, e->cve, "description", err,
			           "expected a string, got %s", detect_json_type(desc));
		if (json_string_length(desc) > DETECT_MAX_TEXT)
			return bad(file, e->source, e->cve, "description", err,
			           "longer than %d bytes", DETECT_MAX_TEXT);
		if (strlen(json_string_value(desc)) != json_string_length(desc))
			return bad(file, e->source, e->cve, "description", err,
			           "contains a NUL character");
		e->description = json_string_value(desc);
	}
	if (scope && !json_is_null(scope)) {
		if (!json_is_string(scope) || json_string_length(scope) > DETECT_MAX_ID)
			return bad(file, e->source, e->cve, "scope", err,
			           "expected a short string");
		e->scope = json_string_value(scope);
	}
	if (bug && !json_is_null(bug)) {
		if (!json_is_integer(bug) || json_integer_value(bug) < 0 ||
		    json_integer_value(bug) > 100000000)
			return bad(file, e->source, e->cve, "debianbug", err,
			           "expected a bug number");
		e->debianbug = (long)json_integer_value(bug);
	}
	return 0;
}

static int tracker_cve(const char *file, const char *release, struct detect_tracker_entry *e,
                       json_t *entry, const struct detect_sink *sink, struct pl_err *err)
{
	json_t *rels, *rel;
	const char *why, *name;

	if ((why = detect_id_problem(e->cve, strlen(e->cve))))
		return bad(file, e->source, NULL, NULL, err, "a CVE key %s", why);
	if (!json_is_object(entry))
		return bad(file, e->source, e->cve, NULL, err, "expected an object");
	rels = json_object_get(entry, "releases");
	if (!json_is_object(rels))
		return bad(file, e->source, e->cve, "releases", err, "expected an object");
	if (tracker_cve_fields(file, entry, e, err) < 0)
		return PL_EINVAL;
	if (release) {
		rel = json_object_get(rels, release);
		e->release = release;
		return rel ? tracker_release(file, e, rel, sink, err) : 0;
	}
	json_object_foreach (rels, name, rel) {
		e->release = name;
		if (tracker_release(file, e, rel, sink, err) < 0)
			return PL_EINVAL;
	}
	return 0;
}

int detect_tracker_parse(json_t *doc, const char *file, const char *release,
                         const struct detect_sink *sink, struct pl_err *err)
{
	struct detect_tracker_entry e = {0};
	const char *src, *cve, *why;
	json_t *cves, *entry;

	if (!file)
		file = "<input>";
	if (!json_is_object(doc))
		return bad(file, NULL, NULL, NULL, err, "expected an object of source packages");
	json_object_foreach (doc, src, cves) {
		if ((why = detect_id_problem(src, strlen(src))))
			return bad(file, NULL, NULL, NULL, err, "a source package key %s", why);
		if (!json_is_object(cves))
			return bad(file, src, NULL, NULL, err, "expected an object of CVEs");
		e.source = src;
		json_object_foreach (cves, cve, entry) {
			e.cve = cve;
			if (tracker_cve(file, release, &e, entry, sink, err) < 0)
				return PL_EINVAL;
		}
	}
	return 0;
}

/* The one-shot feed's sink: keeps what the scan matches on. */
static int feed_keep(void *ctx, const struct detect_tracker_entry *e, struct pl_err *err)
{
	struct detect_feed *f = ctx;
	struct detect_cve c = {0};

	(void)err;
	c.resolved = strcmp(e->status, "resolved") == 0;
	/* absent: as "not yet assigned" */
	c.urgency = e->urgency ? detect_urgency_parse(e->urgency) : DETECT_URG_MEDIUM;
	c.fixed = e->fixed_version ? pl_strdup(e->fixed_version) : NULL;
	c.source = pl_strdup(e->source);
	c.id = pl_strdup(e->cve);
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->c = pl_realloc(f->c, f->cap * sizeof(f->c[0]));
	}
	f->c[f->n++] = c;
	return 0;
}

int detect_feed_add_json(struct detect_feed *f, json_t *doc, const char *source, struct pl_err *err)
{
	struct detect_sink sink = {.tracker = feed_keep, .ctx = f};
	int rc = detect_tracker_parse(doc, source, f->release, &sink, err);

	detect_feed_sort(f);
	return rc;
}

/* The OSV ecosystem of a Debian release, or NULL. */
static const char *debian_ecosystem(const char *release)
{
	static const char *const map[][2] = {
	    {"buster", "Debian:10"}, {"bullseye", "Debian:11"}, {"bookworm", "Debian:12"},
	    {"trixie", "Debian:13"}, {"forky", "Debian:14"},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(release, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

/* The urgency the highest CVSS v3 score (in tenths; <0: none) stands for. */
static int osv_urgency_of(int best)
{
	if (best < 0)
		return DETECT_URG_MEDIUM;
	return best >= 70 ? DETECT_URG_HIGH : best >= 40 ? DETECT_URG_MEDIUM : DETECT_URG_LOW;
}

/* The urgency an OSV advisory's CVSS v3 severity stands for. */
static int osv_urgency(const struct detect_osv_advisory *a)
{
	int best = -1;

	for (size_t i = 0; i < a->nseverity; i++)
		if (a->severity[i].score10 > best)
			best = a->severity[i].score10;
	return osv_urgency_of(best);
}

static void feed_push(struct detect_feed *f, const char *source, const char *id, const char *fixed,
                      int urgency)
{
	struct detect_cve c = {0};

	c.source = pl_strdup(source);
	c.id = pl_strdup(id);
	c.resolved = fixed != NULL;
	c.fixed = fixed ? pl_strdup(fixed) : NULL;
	c.urgency = urgency;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->c = pl_realloc(f->c, f->cap * sizeof(f->c[0]));
	}
	f->c[f->n++] = c;
}

/* The CVE ids an advisory stands for: its id when a CVE, the CVEs among
 * its aliases (upstream ones included), else the advisory's own id. ids
 * has room for naliases + 1; returns how many. */
static size_t osv_ids(const char *id, const char *const *aliases, size_t naliases,
                      const char **ids)
{
	size_t n = 0;

	if (detect_is_cve(id))
		ids[n++] = id;
	for (size_t i = 0; i < naliases; i++) {
		size_t k;

		for (k = 0; k < n && strcmp(ids[k], aliases[i]) != 0; k++)
			;
		if (k == n && detect_is_cve(aliases[i]))
			ids[n++] = aliases[i];
	}
	if (n == 0)
		ids[n++] = id;
	return n;
}

/* One ECOSYSTEM range of package: a CVE entry per id. */
static int osv_push_range(struct detect_feed *f, const char *eco, const char *package,
                          const char *fixed, const char *const *ids, size_t n, int urgency,
                          struct pl_err *err)
{
	const char *msg = NULL;
	struct version_deb d;

	if (fixed && version_deb_parse(fixed, strlen(fixed), &d, &msg) < 0)
		return pl_error(err, PL_EINVAL, "%s: fixed version '%s' of %s: %s", package, fixed,
		                eco, msg ? msg : "invalid");
	for (size_t k = 0; k < n; k++)
		feed_push(f, package, ids[k], fixed, urgency);
	return 0;
}

/* The one-shot feed's OSV sink: the release's ECOSYSTEM ranges. */
static int feed_keep_osv(void *ctx, const struct detect_osv_advisory *a, struct pl_err *err)
{
	struct detect_feed *f = ctx;
	const char *eco = debian_ecosystem(f->release);
	size_t total = a->naliases + a->nupstream;
	PL_AUTOFREE const char **ids = pl_calloc(total + 2, sizeof(char *));
	size_t n = osv_ids(a->id, (const char *const *)a->aliases, total, ids);
	int urgency = osv_urgency(a);

	for (size_t i = 0; eco && !a->withdrawn && i < a->naffected; i++) {
		const struct detect_osv_affected *af = &a->affected[i];

		if (strcmp(af->ecosystem, eco) != 0)
			continue;
		for (size_t r = 0; r < af->nranges; r++)
			if (strcmp(af->ranges[r].type, "ECOSYSTEM") == 0 &&
			    osv_push_range(f, eco, af->package, af->ranges[r].fixed, ids, n, urgency,
			                   err) < 0)
				return err->code;
	}
	return 0;
}

/* osv_urgency() of a stored advisory's severity array ([{type, score}]). */
static int osv_urgency_stored(const char *severity)
{
	PL_AUTOJSON json_t *a = json_loads(severity, 0, NULL);
	int best = -1;
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
	{
		const char *type = json_string_value(json_object_get(v, "type"));
		const char *score = json_string_value(json_object_get(v, "score"));
		struct risk_cvss c;

		if (type && score && strcmp(type, "CVSS_V3") == 0 &&
		    risk_cvss_parse(score, strlen(score), &c, NULL) == 0 && c.base > best)
			best = c.base;
	}
	return osv_urgency_of(best);
}

int detect_feed_add_osv_store(struct detect_feed *f, struct store *st, struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *q = NULL;
	const char *eco = debian_ecosystem(f->release);
	PL_AUTOFREE char *aliases = NULL, *osvid = NULL;
	PL_AUTOFREE const char **ids = NULL, **al = NULL;
	sqlite3_int64 cur = 0;
	size_t n = 0;
	int urgency = DETECT_URG_MEDIUM, rc;

	if (!eco)
		return 0;
	if (store_prepare(st,
	                  "SELECT o.id, o.osv_id, o.severity, a.package, r.fixed,"
	                  " (SELECT group_concat(x.alias, ' ') FROM feed_osv_aliases x"
	                  "  WHERE x.osv = o.id)"
	                  " FROM feed_osv_affected a JOIN feed_osv o ON o.id = a.osv"
	                  " JOIN feed_osv_ranges r ON r.affected = a.id"
	                  " WHERE a.ecosystem = ? AND o.withdrawn IS NULL AND r.type = 'ECOSYSTEM'"
	                  " ORDER BY o.id",
	                  &q, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(q, 1, eco, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *fixed = store_col_opt(q, 4);

		if (sqlite3_column_int64(q, 0) != cur) {
			size_t na = 0;
			char *save = NULL;

			cur = sqlite3_column_int64(q, 0);
			free(aliases);
			aliases = pl_strdup(store_col_text(q, 5));
			free(al);
			al = pl_calloc(strlen(aliases) / 2 + 2, sizeof(char *));
			for (char *t = strtok_r(aliases, " ", &save); t; t = strtok_r(NULL, " ", &save))
				al[na++] = t;
			free(ids);
			ids = pl_calloc(na + 2, sizeof(char *));
			/* ids point into osvid and aliases, which outlive the row */
			free(osvid);
			osvid = pl_strdup(store_col_text(q, 1));
			n = osv_ids(osvid, al, na, ids);
			urgency = osv_urgency_stored(store_col_text(q, 2));
		}
		if (osv_push_range(f, eco, store_col_text(q, 3), fixed, ids, n, urgency, err) < 0)
			return pl_error_prefix(err, "OSV advisory %s", osvid);
	}
	if (rc != SQLITE_DONE)
		return store_error(st, err, "reading OSV advisories");
	return 0;
}

/* 1 when doc looks like OSV: an advisory object or an array. */
static int looks_osv(json_t *doc)
{
	return json_is_array(doc) || (json_is_string(json_object_get(doc, "id")) &&
	                              json_is_string(json_object_get(doc, "modified")));
}

int detect_feed_load(struct detect_feed *f, const char *path, struct pl_err *err)
{
	struct detect_sink osv = {.osv = feed_keep_osv, .ctx = f};
	PL_AUTOJSON json_t *doc = NULL;
	PL_AUTOFREE char *text = NULL;
	PL_AUTOFREE char *head = NULL;
	struct stat st;
	size_t len;
	int rc;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		rc = detect_feed_read(DETECT_FEED_OSV, path, NULL, NULL, &osv, NULL, NULL, err);
	else if (pl_file_read(path, &head, &len, err) < 0)
		return err ? err->code : PL_EIO;
	else if (len >= 4 && memcmp(head, "PK\003\004", 4) == 0)
		rc = detect_feed_read(DETECT_FEED_OSV, path, NULL, NULL, &osv, NULL, NULL, err);
	else if ((rc = pkgdb_decompress(head, len, path, DETECT_FEED_MAX_BYTES, &text, &len, err)) <
	         0)
		return rc;
	else if ((rc = detect_json_parse(text, len, path, &doc, err)) < 0)
		return rc;
	else if (looks_osv(doc))
		rc = detect_osv_parse(doc, path, &osv, err);
	else
		return detect_feed_add_json(f, doc, path, err);
	detect_feed_sort(f);
	return rc;
}

char *detect_os_codename(const char *path)
{
	PL_AUTOFREE char *buf = NULL;
	const char *key = "VERSION_CODENAME=";
	char *line, *save = NULL;

	if (pl_file_read(path, &buf, NULL, NULL) < 0)
		return NULL;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t n;

		if (strncmp(line, key, strlen(key)) != 0)
			continue;
		line += strlen(key);
		n = strlen(line);
		if (n >= 2 && (line[0] == '"' || line[0] == '\'') && line[n - 1] == line[0]) {
			line++;
			n -= 2;
		}
		return n ? pl_strndup(line, n) : NULL;
	}
	return NULL;
}
