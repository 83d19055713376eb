/*
 * feed.c - the Debian Security Tracker's JSON (tracker/data/json):
 * {"SRC": {"CVE-ID": {"releases": {"REL": {"status", "fixed_version",
 * "urgency", ...}}, ...}}}. Only the chosen release is kept; its entries
 * are checked strictly (fail closed: an unknown status is an error, not a
 * CVE silently dropped), everything else only for its shape.
 */
#include "detect/detect-private.h"

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

static int bad(const char *file, const char *src, const char *cve, const char *what,
               struct pl_err *err, const char *fmt, const char *arg)
{
	PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;

	pl_buf_addf(&b, "%s: $", file);
	if (src)
		pl_buf_addf(&b, ".%s", src);
	if (cve)
		pl_buf_addf(&b, ".%s", cve);
	if (what)
		pl_buf_addf(&b, ".%s", what);
	pl_buf_adds(&b, ": ");
	pl_buf_addf(&b, fmt, arg);
	return pl_error(err, PL_EINVAL, "%s", pl_buf_str(&b));
}

/* Reads releases.REL of one CVE; *keep is 0 when the CVE has no entry. */
static int feed_release(struct detect_feed *f, const char *file, const char *src, const char *cve,
                        json_t *rel, struct pl_err *err)
{
	PL_AUTOFREE char *where = pl_strdupf("releases.%s", f->release);
	PL_AUTOFREE char *w_status = pl_strdupf("%s.status", where);
	PL_AUTOFREE char *w_fixed = pl_strdupf("%s.fixed_version", where);
	PL_AUTOFREE char *w_urg = pl_strdupf("%s.urgency", where);
	json_t *st = json_object_get(rel, "status"), *fv = json_object_get(rel, "fixed_version");
	json_t *ur = json_object_get(rel, "urgency");
	struct detect_cve c = {0};
	const char *status, *msg = NULL;
	struct version_deb d;

	if (!json_is_object(rel))
		return bad(file, src, cve, where, err, "expected an object%s", "");
	if (!json_is_string(st))
		return bad(file, src, cve, w_status, err, "expected a string%s", "");
	status = json_string_value(st);
	if (strcmp(status, "resolved") == 0)
		c.resolved = 1;
	else if (strcmp(status, "open") != 0 && strcmp(status, "undetermined") != 0)
		return bad(file, src, cve, w_status, err,
		           "unknown status '%s' (expected resolved, open or undetermined)", status);
	c.urgency = DETECT_URG_MEDIUM; /* absent: as "not yet assigned" */
	if (ur && !json_is_string(ur))
		return bad(file, src, cve, w_urg, err, "expected a string%s", "");
	if (ur && (c.urgency = detect_urgency_parse(json_string_value(ur))) < 0)
		return bad(file, src, cve, w_urg, err, "unknown urgency '%s'",
		           json_string_value(ur));
	if (c.resolved) {
		const char *v;

		if (!json_is_string(fv))
			return bad(file, src, cve, w_fixed, err, "a resolved CVE needs a string%s",
			           "");
		v = json_string_value(fv);
		if (strcmp(v, "0") != 0 && version_deb_parse(v, strlen(v), &d, &msg) < 0)
			return bad(file, src, cve, w_fixed, err, "invalid version '%s'", v);
		c.fixed = pl_strdup(v);
	}
	c.source = pl_strdup(src);
	c.id = pl_strdup(cve);
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->c = pl_realloc(f->c, f->cap * sizeof(f->c[0]));
	}
	f->c[f->n++] = c;
	return 0;
}

int detect_feed_add_json(struct detect_feed *f, json_t *doc, const char *source, struct pl_err *err)
{
	const char *src, *cve;
	json_t *cves, *entry;
	int rc = 0;

	if (!source)
		source = "<input>";
	if (!json_is_object(doc))
		return bad(source, NULL, NULL, NULL, err, "expected an object of source packages%s",
		           "");
	json_object_foreach(doc, src, cves)
	{
		if (!json_is_object(cves)) {
			rc = bad(source, src, NULL, NULL, err, "expected an object of CVEs%s", "");
			break;
		}
		json_object_foreach(cves, cve, entry)
		{
			json_t *rels = json_object_get(entry, "releases"), *rel;

			if (!json_is_object(entry))
				rc = bad(source, src, cve, NULL, err, "expected an object%s", "");
			else if (!json_is_object(rels))
				rc = bad(source, src, cve, "releases", err, "expected an object%s",
				         "");
			else if ((rel = json_object_get(rels, f->release)))
				rc = feed_release(f, source, src, cve, rel, err);
			if (rc < 0)
				break;
		}
		if (rc < 0)
			break;
	}
	if (f->n > 1)
		qsort(f->c, f->n, sizeof(f->c[0]), cve_cmp);
	return rc;
}

int detect_feed_load(struct detect_feed *f, const char *path, struct pl_err *err)
{
	PL_AUTOJSON json_t *doc = NULL;

	if (pl_json_load_file(path, &doc, err) < 0)
		return err ? err->code : PL_EINVAL;
	return detect_feed_add_json(f, doc, path, err);
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
