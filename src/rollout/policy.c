/* policy.c - rollout policies: loading and validating policies/rollout-*.json. */
#include "rollout-private.h"

#include "rollout_policy_default.h" /* generated from policies/rollout-default.json */

static const char *const rollout_policy_keys[] = {"name", "description", "windows", "waves", NULL};

void rollout_policy_free(struct rollout_policy *p)
{
	for (size_t i = 0; i < p->nwindows; i++)
		rollout_window_rule_clear(&p->windows[i]);
	free(p->windows);
	for (size_t i = 0; i < p->nwaves; i++)
		rollout_wave_rule_clear(&p->waves[i]);
	free(p->waves);
	free(p->text);
	free(p->file);
	free(p->name);
	free(p->description);
	memset(p, 0, sizeof(*p));
}

const struct rollout_window_rule *rollout_policy_window(const struct rollout_policy *p,
                                                        const char *name)
{
	for (size_t i = 0; i < p->nwindows; i++)
		if (strcmp(p->windows[i].name, name) == 0)
			return &p->windows[i];
	return NULL;
}

static int policy_windows(const struct pl_jdoc *d, json_t *root, struct rollout_policy *out)
{
	json_t *arr = NULL;

	if (pl_json_get_array(d, root, "$", "windows", PL_J_REQUIRED, &arr) < 0)
		return PL_EINVAL;
	out->windows = pl_calloc(json_array_size(arr) + 1, sizeof(*out->windows));
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *w = json_array_get(arr, i);
		char path[48];

		snprintf(path, sizeof(path), "$.windows[%zu]", i);
		/* counted first, so a half-parsed rule is freed with the rest */
		out->nwindows++;
		if (rollout_window_parse(d, w, path, &out->windows[i]) < 0)
			return PL_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(out->windows[j].name, out->windows[i].name) == 0)
				return pl_json_error(d, path, "name",
				                     "'%s' names $.windows[%zu] already",
				                     out->windows[i].name, j);
	}
	return 0;
}

int rollout_policy_from_json(json_t *root, const char *file, struct rollout_policy *out,
                             struct pl_err *err)
{
	struct pl_jdoc d = {file, err};
	const char *name = NULL, *desc = NULL;

	memset(out, 0, sizeof(*out));
	out->file = pl_strdup(file);
	if (pl_json_check_keys(&d, root, "$", rollout_policy_keys) < 0 ||
	    pl_json_get_str(&d, root, "$", "name", PL_J_REQUIRED, &name) < 0 ||
	    pl_json_get_str(&d, root, "$", "description", PL_J_OPTIONAL, &desc) < 0 ||
	    policy_windows(&d, root, out) < 0 || rollout_waves_parse(&d, root, out) < 0) {
		rollout_policy_free(out);
		return err->code ? err->code : PL_EINVAL;
	}
	out->name = pl_strdup(name);
	out->description = desc ? pl_strdup(desc) : NULL;
	out->text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (!out->text) {
		rollout_policy_free(out);
		return pl_error(err, PL_ENOMEM, "%s: cannot serialise the policy", file);
	}
	return 0;
}

int rollout_policy_load(const char *path, struct rollout_policy *out, struct pl_err *err)
{
	PL_AUTOJSON json_t *root = NULL;

	if (pl_json_load_file(path, &root, err) < 0)
		return err->code;
	return rollout_policy_from_json(root, path, out, err);
}

int rollout_policy_default(struct rollout_policy *out, struct pl_err *err)
{
	json_error_t je;
	PL_AUTOJSON json_t *root =
	    json_loads(rollout_policy_default_json, JSON_REJECT_DUPLICATES, &je);

	if (!root)
		return pl_error(err, PL_EINTERNAL, "built-in rollout policy: %s", je.text);
	return rollout_policy_from_json(root, "(built-in policies/rollout-default.json)", out, err);
}
