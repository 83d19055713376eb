/*
 * osv.c - OSV advisories (OSV schema 1.x, https://ossf.github.io/osv-schema/).
 *
 * Every field patchlab keeps is type- and length-checked; fields it does
 * not keep are checked for their JSON type where the schema fixes it, and
 * unknown fields are accepted (the schema grows). Ranges become intervals:
 * events are read in their order (the schema's records list them sorted),
 * an "introduced" opens an interval (a second one while it is open adds
 * nothing), the next "fixed" or "last_affected" closes it; closing what
 * was never opened is an error. "limit" bounds GIT walks and is not kept.
 */
#include "detect/detect-private.h"

#include "risk/risk.h"

#define OSV_MAX_DETAILS ((size_t)1 << 20)
#define OSV_MAX_LIST    100000 /* entries in one array: far above any real record */

/* What one advisory is built into; freed after the sink saw it. */
struct osv_build {
	const char *file;
	struct detect_osv_advisory a;
	size_t cap_aliases, cap_aff, cap_sev;
};

static void osv_build_free(struct osv_build *b)
{
	for (size_t i = 0; i < b->a.naffected; i++)
		free(b->a.affected[i].ranges);
	free(b->a.affected);
	free(b->a.aliases);
	free(b->a.severity);
	memset(&b->a, 0, sizeof(b->a));
}

static int osv_array(const char *file, json_t *obj, const char *path, const char *key, json_t **out,
                     struct pl_err *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return detect_bad(file, path, key, err, "expected an array, got %s",
		                  detect_json_type(v));
	if (json_array_size(v) > OSV_MAX_LIST)
		return detect_bad(file, path, key, err, "more than %d entries", OSV_MAX_LIST);
	*out = v;
	return 0;
}

/* Appends the identifiers of obj[key] (an array of strings) to the aliases. */
static int osv_ids(struct osv_build *b, json_t *obj, const char *path, const char *key,
                   size_t *count, struct pl_err *err)
{
	json_t *arr, *v;
	size_t i;

	if (osv_array(b->file, obj, path, key, &arr, err) < 0)
		return PL_EINVAL;
	json_array_foreach (arr, i, v) {
		const char *why = NULL;

		if (!json_is_string(v) ||
		    (why = detect_id_problem(json_string_value(v), json_string_length(v)))) {
			PL_AUTOFREE char *k = pl_strdupf("%s[%zu]", key, i);

			return detect_bad(b->file, path, k, err, "expected an identifier%s%s",
			                  json_is_string(v) ? ": it " : "",
			                  json_is_string(v) ? why : "");
		}
		if (b->a.naliases == b->cap_aliases) {
			b->cap_aliases = b->cap_aliases ? b->cap_aliases * 2 : 8;
			b->a.aliases = pl_realloc(b->a.aliases, b->cap_aliases * sizeof(char *));
		}
		b->a.aliases[b->a.naliases++] = json_string_value(v);
		(*count)++;
	}
	return 0;
}

/* severity[]: {type, score}; a CVSS_V3 score must be a valid vector. */
static int osv_severity(struct osv_build *b, json_t *obj, const char *path, struct pl_err *err)
{
	json_t *arr, *v;
	size_t i;

	if (osv_array(b->file, obj, path, "severity", &arr, err) < 0)
		return PL_EINVAL;
	json_array_foreach (arr, i, v) {
		PL_AUTOFREE char *p = pl_strdupf("%s.severity[%zu]", path, i);
		struct detect_osv_severity sev = {NULL, NULL, -1};
		struct risk_cvss c;

		if (!json_is_object(v))
			return detect_bad(b->file, p, NULL, err, "expected an object, got %s",
			                  detect_json_type(v));
		if (detect_get_str(b->file, v, p, "type", DETECT_STR_REQUIRED | DETECT_STR_ID,
		                   DETECT_MAX_ID, &sev.type, err) < 0 ||
		    detect_get_str(b->file, v, p, "score", DETECT_STR_REQUIRED, RISK_CVSS_MAX_LEN,
		                   &sev.score, err) < 0)
			return PL_EINVAL;
		if (strcmp(sev.type, "CVSS_V3") == 0) {
			if (risk_cvss_parse(sev.score, strlen(sev.score), &c, err) < 0)
				return pl_error_prefix(err, "%s: %s.score", b->file, p);
			sev.score10 = c.base;
		}
		if (b->a.nseverity == b->cap_sev) {
			b->cap_sev = b->cap_sev ? b->cap_sev * 2 : 4;
			b->a.severity = pl_realloc(b->a.severity, b->cap_sev * sizeof(sev));
		}
		b->a.severity[b->a.nseverity++] = sev;
	}
	return 0;
}

static void range_push(struct detect_osv_affected *af, size_t *cap,
                       const struct detect_osv_range *r)
{
	if (af->nranges == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		af->ranges = pl_realloc(af->ranges, *cap * sizeof(*r));
	}
	af->ranges[af->nranges++] = *r;
}

/* One event {introduced|fixed|last_affected|limit: VERSION}: *kind is its
 * key, *value its version. */
static int osv_event(const char *file, json_t *ev, const char *p, const char **kind,
                     const char **value, struct pl_err *err)
{
	static const char *const keys[] = {"introduced", "fixed", "last_affected", "limit"};
	const char *key;
	json_t *v;

	if (!json_is_object(ev))
		return detect_bad(file, p, NULL, err, "expected an object, got %s",
		                  detect_json_type(ev));
	if (json_object_size(ev) != 1)
		return detect_bad(
		    file, p, NULL, err,
		    "expected exactly one of introduced, fixed, last_affected, limit");
	json_object_foreach (ev, key, v) {
		size_t k;

		for (k = 0; k < 4 && strcmp(key, keys[k]) != 0; k++)
			;
		if (k == 4)
			return detect_bad(file, p, key, err,
			                  "unknown event (expected introduced, "
			                  "fixed, last_affected or limit)");
		*kind = keys[k];
	}
	return detect_get_str(file, ev, p, *kind, DETECT_STR_REQUIRED, DETECT_MAX_VERSION, value,
	                      err);
}

/* ranges[i]: its events paired into intervals, appended to af. */
static int osv_range(const char *file, json_t *rg, const char *p, struct detect_osv_affected *af,
                     size_t *cap, struct pl_err *err)
{
	static const char *const types[] = {"ECOSYSTEM", "SEMVER", "GIT"};
	struct detect_osv_range r = {0};
	int open = 0, ranges_before = (int)af->nranges;
	json_t *events, *ev;
	size_t i;

	if (!json_is_object(rg))
		return detect_bad(file, p, NULL, err, "expected an object, got %s",
		                  detect_json_type(rg));
	if (detect_get_str(file, rg, p, "type", DETECT_STR_REQUIRED, DETECT_MAX_ID, &r.type, err) <
	    0)
		return PL_EINVAL;
	for (i = 0; i < 3 && strcmp(r.type, types[i]) != 0; i++)
		;
	if (i == 3)
		return detect_bad(file, p, "type", err,
		                  "unknown range type '%s' (expected ECOSYSTEM, SEMVER or GIT)",
		                  r.type);
	if (detect_get_str(file, rg, p, "repo",
	                   strcmp(r.type, "GIT") == 0 ? DETECT_STR_REQUIRED : 0, DETECT_MAX_TEXT,
	                   &r.repo, err) < 0 ||
	    osv_array(file, rg, p, "events", &events, err) < 0)
		return PL_EINVAL;
	if (!events || json_array_size(events) == 0)
		return detect_bad(file, p, "events", err, "expected a non-empty array");
	json_array_foreach (events, i, ev) {
		PL_AUTOFREE char *pe = pl_strdupf("%s.events[%zu]", p, i);
		const char *kind = NULL, *value = NULL;

		if (osv_event(file, ev, pe, &kind, &value, err) < 0)
			return PL_EINVAL;
		if (strcmp(kind, "introduced") == 0) {
			if (!open) {
				r.introduced = value;
				r.fixed = r.last_affected = NULL;
				open = 1;
			}
		} else if (strcmp(kind, "limit") != 0) {
			if (!open)
				return detect_bad(file, pe, kind, err,
				                  "closes an interval that no 'introduced' opened");
			if (strcmp(kind, "fixed") == 0)
				r.fixed = value;
			else
				r.last_affected = value;
			range_push(af, cap, &r);
			open = 0;
		}
	}
	if (open)
		range_push(af, cap, &r);
	if ((int)af->nranges == ranges_before)
		return detect_bad(file, p, "events", err, "no 'introduced' event");
	return 0;
}

/* affected[i]: package, ranges, versions, its own severity. */
static int osv_affected(struct osv_build *b, json_t *v, const char *p, struct pl_err *err)
{
	struct detect_osv_affected af = {0};
	json_t *pkg = json_object_get(v, "package"), *ranges, *versions, *rg, *x;
	PL_AUTOFREE char *pp = pl_strdupf("%s.package", p);
	size_t i, cap = 0;

	if (!json_is_object(v))
		return detect_bad(b->file, p, NULL, err, "expected an object, got %s",
		                  detect_json_type(v));
	if (pkg && !json_is_null(pkg) && !json_is_object(pkg))
		return detect_bad(b->file, p, "package", err, "expected an object, got %s",
		                  detect_json_type(pkg));
	if (json_is_object(pkg) &&
	    (detect_get_str(b->file, pkg, pp, "ecosystem", DETECT_STR_REQUIRED, DETECT_MAX_ID,
	                    &af.ecosystem, err) < 0 ||
	     detect_get_str(b->file, pkg, pp, "name", DETECT_STR_REQUIRED, DETECT_MAX_VERSION,
	                    &af.package, err) < 0))
		return PL_EINVAL;
	if (osv_array(b->file, v, p, "ranges", &ranges, err) < 0 ||
	    osv_array(b->file, v, p, "versions", &versions, err) < 0 ||
	    osv_severity(b, v, p, err) < 0)
		return PL_EINVAL;
	json_array_foreach (versions, i, x) {
		if (!json_is_string(x) || json_string_length(x) == 0 ||
		    json_string_length(x) > DETECT_MAX_VERSION ||
		    strlen(json_string_value(x)) != json_string_length(x)) {
			PL_AUTOFREE char *k = pl_strdupf("versions[%zu]", i);

			return detect_bad(b->file, p, k, err,
			                  "expected a version string of 1 to %d bytes",
			                  DETECT_MAX_VERSION);
		}
	}
	af.versions = versions;
	json_array_foreach (ranges, i, rg) {
		PL_AUTOFREE char *pr = pl_strdupf("%s.ranges[%zu]", p, i);

		if (osv_range(b->file, rg, pr, &af, &cap, err) < 0) {
			free(af.ranges);
			return PL_EINVAL;
		}
	}
	if (!af.ecosystem) { /* GIT-only: checked, nothing to look up by */
		free(af.ranges);
		return 0;
	}
	if (b->a.naffected == b->cap_aff) {
		b->cap_aff = b->cap_aff ? b->cap_aff * 2 : 4;
		b->a.affected = pl_realloc(b->a.affected, b->cap_aff * sizeof(af));
	}
	b->a.affected[b->a.naffected++] = af;
	return 0;
}

static int osv_fields(struct osv_build *b, json_t *adv, const char *p, struct pl_err *err)
{
	struct detect_osv_advisory *a = &b->a;
	const char *ignored = NULL;
	json_t *aff, *v;
	size_t i, dummy = 0;

	if (detect_get_str(b->file, adv, p, "id", DETECT_STR_REQUIRED | DETECT_STR_ID,
	                   DETECT_MAX_ID, &a->id, err) < 0 ||
	    detect_get_str(b->file, adv, p, "modified", DETECT_STR_REQUIRED | DETECT_STR_TIME, 64,
	                   &a->modified, err) < 0 ||
	    detect_get_str(b->file, adv, p, "published", DETECT_STR_TIME, 64, &a->published, err) <
	        0 ||
	    detect_get_str(b->file, adv, p, "withdrawn", DETECT_STR_TIME, 64, &a->withdrawn, err) <
	        0 ||
	    detect_get_str(b->file, adv, p, "schema_version", 0, 32, &ignored, err) < 0 ||
	    detect_get_str(b->file, adv, p, "summary", DETECT_STR_EMPTY_OK, DETECT_MAX_TEXT,
	                   &a->summary, err) < 0 ||
	    detect_get_str(b->file, adv, p, "details", DETECT_STR_EMPTY_OK, OSV_MAX_DETAILS,
	                   &ignored, err) < 0)
		return PL_EINVAL;
	if (osv_ids(b, adv, p, "aliases", &dummy, err) < 0 ||
	    osv_ids(b, adv, p, "upstream", &a->nupstream, err) < 0)
		return PL_EINVAL;
	a->naliases -= a->nupstream; /* naliases counts "aliases" only */
	if (osv_array(b->file, adv, p, "related", &v, err) < 0 ||
	    osv_array(b->file, adv, p, "references", &v, err) < 0 ||
	    osv_array(b->file, adv, p, "credits", &v, err) < 0 ||
	    osv_severity(b, adv, p, err) < 0 ||
	    osv_array(b->file, adv, p, "affected", &aff, err) < 0)
		return PL_EINVAL;
	json_array_foreach (aff, i, v) {
		PL_AUTOFREE char *pa = pl_strdupf("%s.affected[%zu]", p, i);

		if (osv_affected(b, v, pa, err) < 0)
			return PL_EINVAL;
	}
	return 0;
}

static int osv_one(const char *file, json_t *adv, const char *p, const struct detect_sink *sink,
                   struct pl_err *err)
{
	struct osv_build b = {.file = file};
	int rc;

	if (!json_is_object(adv))
		return detect_bad(file, p, NULL, err,
		                  "expected an OSV advisory (an object), got %s",
		                  detect_json_type(adv));
	rc = osv_fields(&b, adv, p, err);
	if (rc == 0 && sink->osv && (rc = sink->osv(sink->ctx, &b.a, err)) < 0)
		pl_error_prefix(err, "%s: %s (%s)", file, p, b.a.id);
	osv_build_free(&b);
	return rc;
}

int detect_osv_parse(json_t *doc, const char *file, const struct detect_sink *sink,
                     struct pl_err *err)
{
	json_t *v;
	size_t i;

	if (!file)
		file = "<input>";
	if (!json_is_array(doc))
		return osv_one(file, doc, "$", sink, err);
	json_array_foreach (doc, i, v) {
		char p[32];

		snprintf(p, sizeof(p), "$[%zu]", i);
		int rc = osv_one(file, v, p, sink, err);

		if (rc < 0)
			return rc;
	}
	return 0;
}
