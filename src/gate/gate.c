/* gate.c - policies and the fail-closed verdict. */
#include "gate-private.h"

#include "policy_default.h" /* generated from policies/default.json by CMake */

static const char *const policy_keys[] = {"name", "description", "required_checks",
					  "allowed_failed_units", "max_boot_seconds",
					  "min_free_mb", "promotion", NULL};

void gate_policy_free(struct gate_policy *p)
{
	free(p->file);
	free(p->name);
	gate_strv_free(p->required);
	gate_strv_free(p->allowed_failed_units);
	gate_promotion_free(p->promotion);
	memset(p, 0, sizeof(*p));
}

static int unit_ok(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.@\\") ==
			     strlen(s);
}

static int policy_strings(const struct pl_jdoc *d, json_t *root, const char *key, int required,
			  int (*ok)(const char *), const char *what, char ***out)
{
	json_t *arr = NULL, *v;
	size_t i;

	if (pl_json_get_array(d, root, "$", key, required, &arr) < 0)
		return PL_EINVAL;
	*out = pl_calloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach(arr, i, v) {
		char path[64];

		snprintf(path, sizeof(path), "$.%s[%zu]", key, i);
		if (!json_is_string(v) || !ok(json_string_value(v)))
			return pl_json_error(d, path, NULL, "expected %s", what);
		(*out)[i] = pl_strdup(json_string_value(v));
	}
	return 0;
}

static int policy_from_json(json_t *root, const char *file, struct gate_policy *out,
			    struct pl_err *err)
{
	struct pl_jdoc d = {file, err};
	const char *name = NULL, *desc = NULL;

	memset(out, 0, sizeof(*out));
	out->file = pl_strdup(file);
	out->max_boot_seconds = 600;
	out->min_free_mb = 200;
	if (pl_json_check_keys(&d, root, "$", policy_keys) < 0 ||
	    pl_json_get_str(&d, root, "$", "name", PL_J_REQUIRED, &name) < 0 ||
	    pl_json_get_str(&d, root, "$", "description", PL_J_OPTIONAL, &desc) < 0 ||
	    policy_strings(&d, root, "required_checks", PL_J_REQUIRED, gate_check_name_ok,
			   "a check name such as \"boot/services\"", &out->required) < 0 ||
	    policy_strings(&d, root, "allowed_failed_units", PL_J_OPTIONAL, unit_ok,
			   "a systemd unit name", &out->allowed_failed_units) < 0 ||
	    pl_json_get_int(&d, root, "$", "max_boot_seconds", PL_J_OPTIONAL, 1, 86400,
			    &out->max_boot_seconds) < 0 ||
	    pl_json_get_int(&d, root, "$", "min_free_mb", PL_J_OPTIONAL, 0, 1 << 30,
			    &out->min_free_mb) < 0 ||
	    gate_promotion_parse(&d, root, &out->promotion) < 0) {
		gate_policy_free(out);
		return err->code ? err->code : PL_EINVAL;
	}
	if (!out->required[0]) {
		gate_policy_free(out);
		return pl_error(err, PL_EINVAL, "%s: $.required_checks: a gate must require something",
				file);
	}
	out->name = pl_strdup(name);
	return 0;
}

int gate_policy_load(const char *path, struct gate_policy *out, struct pl_err *err)
{
	PL_AUTOJSON json_t *root = NULL;

	if (pl_json_load_file(path, &root, err) < 0)
		return err->code;
	return policy_from_json(root, path, out, err);
}

int gate_policy_default(struct gate_policy *out, struct pl_err *err)
{
	json_error_t je;
	PL_AUTOJSON json_t *root = json_loads(policy_default_json, JSON_REJECT_DUPLICATES, &je);

	if (!root)
		return pl_error(err, PL_EINTERNAL, "built-in policy: %s", je.text);
	return policy_from_json(root, "(built-in policies/default.json)", out, err);
}

int gate_unit_allowed(const struct gate_policy *p, const char *unit)
{
	for (size_t i = 0; p->allowed_failed_units && p->allowed_failed_units[i]; i++)
		if (strcmp(p->allowed_failed_units[i], unit) == 0)
			return 1;
	return 0;
}

int gate_verdict(const struct gate_policy *p, json_t *checks, json_t **reasons)
{
	json_t *r = json_array(), *c;
	size_t i;

	if (!json_is_array(checks) || json_array_size(checks) == 0)
		json_array_append_new(r, json_string("no check results at all"));
	json_array_foreach(checks, i, c) {
		const char *st = json_string_value(json_object_get(c, "status"));

		if (st && (strcmp(st, "pass") == 0 || strcmp(st, "skip") == 0))
			continue;
		json_array_append_new(
			r, json_sprintf("%s/%s %s: %s",
					json_string_value(json_object_get(c, "stage")) ?: "?",
					json_string_value(json_object_get(c, "name")) ?: "?",
					st ? st : "has no status",
					json_string_value(json_object_get(c, "detail")) ?: ""));
	}
	for (size_t k = 0; p->required[k]; k++) {
		int passed = 0, failed = 0;

		json_array_foreach(checks, i, c) {
			PL_AUTOFREE char *full = pl_strdupf(
				"%s/%s", json_string_value(json_object_get(c, "stage")) ?: "",
				json_string_value(json_object_get(c, "name")) ?: "");
			const char *st = json_string_value(json_object_get(c, "status"));

			if (strcmp(full, p->required[k]) != 0)
				continue;
			passed |= st && strcmp(st, "pass") == 0;
			failed |= !st || (strcmp(st, "pass") != 0 && strcmp(st, "skip") != 0);
		}
		/* a failed check has its reason already; a missing or skipped one not */
		if (!passed && !failed)
			json_array_append_new(r, json_sprintf("%s: required by policy '%s' but %s",
							      p->required[k], p->name,
							      "missing or skipped"));
	}
	*reasons = r;
	return json_array_size(r) == 0;
}
