/*
 * kev.c - CISA's Known Exploited Vulnerabilities catalogue
 * (known_exploited_vulnerabilities.json, schema at cisa.gov/sites/default/
 * files/feeds/known_exploited_vulnerabilities_schema.json). count is the
 * catalogue's own and not checked against the list: excerpts keep it.
 */
#include "detect/detect-private.h"

static int kev_entry(const char *file, json_t *v, const char *p, const struct detect_sink *sink,
                     struct pl_err *err)
{
	struct detect_kev_entry e = {0};
	const char *ignored = NULL;
	json_t *cwes;

	if (!json_is_object(v))
		return detect_bad(file, p, NULL, err, "expected an object, got %s",
		                  detect_json_type(v));
	if (detect_get_str(file, v, p, "cveID", DETECT_STR_REQUIRED | DETECT_STR_ID, DETECT_MAX_ID,
	                   &e.cve, err) < 0)
		return PL_EINVAL;
	if (!detect_is_cve(e.cve))
		return detect_bad(file, p, "cveID", err, "'%s' is not a CVE id", e.cve);
	if (detect_get_str(file, v, p, "vendorProject", DETECT_STR_EMPTY_OK, DETECT_MAX_TEXT,
	                   &e.vendor, err) < 0 ||
	    detect_get_str(file, v, p, "product", DETECT_STR_EMPTY_OK, DETECT_MAX_TEXT, &e.product,
	                   err) < 0 ||
	    detect_get_str(file, v, p, "vulnerabilityName", DETECT_STR_EMPTY_OK, DETECT_MAX_TEXT,
	                   &e.name, err) < 0 ||
	    detect_get_str(file, v, p, "dateAdded", DETECT_STR_REQUIRED | DETECT_STR_DATE, 10,
	                   &e.date_added, err) < 0 ||
	    detect_get_str(file, v, p, "dueDate", DETECT_STR_DATE, 10, &e.due_date, err) < 0 ||
	    detect_get_str(file, v, p, "knownRansomwareCampaignUse", 0, 16, &e.ransomware, err) <
	        0 ||
	    detect_get_str(file, v, p, "shortDescription", DETECT_STR_EMPTY_OK, DETECT_MAX_TEXT,
	                   &ignored, err) < 0 ||
	    detect_get_str(file, v, p, "requiredAction", DETECT_STR_EMPTY_OK, DETECT_MAX_TEXT,
	                   &ignored, err) < 0 ||
	    detect_get_str(file, v, p, "notes", DETECT_STR_EMPTY_OK, DETECT_MAX_TEXT, &ignored,
	                   err) < 0)
		return PL_EINVAL;
	if (e.ransomware && strcmp(e.ransomware, "Known") != 0 &&
	    strcmp(e.ransomware, "Unknown") != 0)
		return detect_bad(file, p, "knownRansomwareCampaignUse", err,
		                  "'%s' (expected Known or Unknown)", e.ransomware);
	cwes = json_object_get(v, "cwes");
	if (cwes && !json_is_array(cwes))
		return detect_bad(file, p, "cwes", err, "expected an array, got %s",
		                  detect_json_type(cwes));
	if (sink->kev && sink->kev(sink->ctx, &e, err) < 0)
		return pl_error_prefix(err, "%s: %s (%s)", file, p, e.cve);
	return 0;
}

int detect_kev_parse(json_t *doc, const char *file, const struct detect_sink *sink,
                     struct pl_err *err)
{
	const char *version = NULL, *released = NULL, *title = NULL;
	json_t *list, *v, *count;
	size_t i;

	if (!file)
		file = "<input>";
	if (!json_is_object(doc))
		return detect_bad(file, "$", NULL, err,
		                  "expected the KEV catalogue (an object), got %s",
		                  detect_json_type(doc));
	if (detect_get_str(file, doc, "$", "title", DETECT_STR_EMPTY_OK, DETECT_MAX_TEXT, &title,
	                   err) < 0 ||
	    detect_get_str(file, doc, "$", "catalogVersion", 0, 64, &version, err) < 0 ||
	    detect_get_str(file, doc, "$", "dateReleased", DETECT_STR_TIME, 64, &released, err) < 0)
		return PL_EINVAL;
	count = json_object_get(doc, "count");
	if (count && (!json_is_integer(count) || json_integer_value(count) < 0))
		return detect_bad(file, "$", "count", err, "expected a count, got %s",
		                  detect_json_type(count));
	list = json_object_get(doc, "vulnerabilities");
	if (!json_is_array(list))
		return detect_bad(file, "$", "vulnerabilities", err, "expected an array, got %s",
		                  list ? detect_json_type(list) : "nothing");
	json_array_foreach (list, i, v) {
		char p[48];

		snprintf(p, sizeof(p), "$.vulnerabilities[%zu]", i);
		if (kev_entry(file, v, p, sink, err) < 0)
			return err ? err->code : PL_EINVAL;
	}
	if (sink->info) {
		if (version)
			json_object_set_new(sink->info, "catalogVersion", json_string(version));
		if (released)
			json_object_set_new(sink->info, "dateReleased", json_string(released));
		if (count)
			json_object_set_new(sink->info, "count", json_incref(count));
		json_object_set_new(sink->info, "rows",
		                    json_integer((json_int_t)json_array_size(list)));
	}
	return 0;
}
