/*
 * wave.c - the "waves" of a rollout policy: parsing and validating them,
 * host selection, and the decision a wave's results lead to.
 */
#include "rollout-private.h"

#include <ctype.h>
#include <math.h>

#include "inventory/inventory.h"

static const char *const wave_executors[] = {"libvirt", "apt-repo", "ansible", NULL};

const char *rollout_executor_name(enum rollout_executor e)
{
	return (unsigned)e < 3 ? wave_executors[e] : "?";
}

int rollout_executor_parse(const char *s, enum rollout_executor *out)
{
	for (int i = 0; wave_executors[i]; i++)
		if (strcmp(s, wave_executors[i]) == 0) {
			*out = (enum rollout_executor)i;
			return 0;
		}
	return -1;
}

static void wave_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void rollout_wave_rule_clear(struct rollout_wave_rule *r)
{
	free(r->name);
	free(r->description);
	free(r->select.role);
	free(r->select.environment);
	wave_strv_free(r->select.tags);
	wave_strv_free(r->windows);
	json_decref(r->options);
	json_decref(r->doc);
	memset(r, 0, sizeof(*r));
}

const struct rollout_wave_rule *rollout_policy_wave(const struct rollout_policy *p,
                                                    const char *name)
{
	for (size_t i = 0; i < p->nwaves; i++)
		if (strcmp(p->waves[i].name, name) == 0)
			return &p->waves[i];
	return NULL;
}

/* Wave names: lower case, digits and '-', as they appear in paths. */
static int wave_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 32 && islower((unsigned char)s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* obj[key] as a number in [0, 1] (an integer 0 or 1 counts). */
static int wave_get_share(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
                          double *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_number(v))
		return pl_json_error(d, path, key, "expected a number from 0 to 1");
	*out = json_number_value(v);
	if (!(*out >= 0 && *out <= 1))
		return pl_json_error(d, path, key, "%g is not between 0 and 1", *out);
	return 0;
}

/* A list of unique non-empty strings at path.key; *out NULL when absent. */
static int wave_strings(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
                        char ***out)
{
	json_t *arr = NULL, *v;
	size_t i;

	if (pl_json_get_array(d, obj, path, key, PL_J_OPTIONAL, &arr) < 0)
		return PL_EINVAL;
	if (!arr)
		return 0;
	if (!json_array_size(arr))
		return pl_json_error(d, path, key, "an empty list matches nothing: leave it out");
	*out = pl_calloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach (arr, i, v) {
		PL_AUTOFREE char *at = pl_strdupf("%s.%s[%zu]", path, key, i);

		if (!json_is_string(v) || !json_string_length(v))
			return pl_json_error(d, at, NULL, "expected a non-empty string");
		for (size_t j = 0; j < i; j++)
			if (strcmp((*out)[j], json_string_value(v)) == 0)
				return pl_json_error(d, at, NULL, "'%s' is listed twice",
				                     json_string_value(v));
		(*out)[i] = pl_strdup(json_string_value(v));
	}
	return 0;
}

static int wave_select(const struct pl_jdoc *d, json_t *obj, const char *path,
                       struct rollout_select *s)
{
	static const char *const keys[] = {"role", "environment", "tags", NULL};
	const char *role = NULL, *env = NULL;
	json_t *sel = NULL;
	char msg[256];
	PL_AUTOFREE char *at = pl_strdupf("%s.select", path);

	if (pl_json_get_object(d, obj, path, "select", PL_J_OPTIONAL, &sel) < 0)
		return PL_EINVAL;
	if (!sel)
		return 0;
	if (pl_json_check_keys(d, sel, at, keys) < 0 ||
	    pl_json_get_str(d, sel, at, "role", PL_J_OPTIONAL, &role) < 0 ||
	    pl_json_get_str(d, sel, at, "environment", PL_J_OPTIONAL, &env) < 0)
		return PL_EINVAL;
	if (role && inv_field_check("role", role, msg, sizeof(msg)) < 0)
		return pl_json_error(d, at, "role", "%s", msg);
	if (env && inv_field_check("environment", env, msg, sizeof(msg)) < 0)
		return pl_json_error(d, at, "environment", "%s", msg);
	s->role = role ? pl_strdup(role) : NULL;
	s->environment = env ? pl_strdup(env) : NULL;
	return wave_strings(d, sel, at, "tags", &s->tags);
}

/* share or count (not both), min_soak and the two rates. */
static int wave_sizes(const struct pl_jdoc *d, json_t *obj, const char *path,
                      struct rollout_wave_rule *r)
{
	const char *soak = NULL;

	if (json_object_get(obj, "share") && json_object_get(obj, "count"))
		return pl_json_error(d, path, NULL, "give \"share\" or \"count\", not both");
	if (wave_get_share(d, obj, path, "share", &r->share) < 0 ||
	    pl_json_get_int(d, obj, path, "count", PL_J_OPTIONAL, 1, 1000000, &r->count) < 0)
		return PL_EINVAL;
	if (json_object_get(obj, "share") && r->share <= 0)
		return pl_json_error(d, path, "share", "a share of 0 takes no host");
	if (pl_json_get_str(d, obj, path, "min_soak", PL_J_REQUIRED, &soak) < 0)
		return PL_EINVAL;
	if (rollout_duration_parse(soak, &r->min_soak) < 0 || r->min_soak > 366 * 86400)
		return pl_json_error(d, path, "min_soak",
		                     "'%s' is not a duration such as 0s, 90m, 24h or 7d (at most "
		                     "366d)",
		                     soak);
	r->success_threshold = 1;
	r->halt_failure_rate = 0;
	if (wave_get_share(d, obj, path, "success_threshold", &r->success_threshold) < 0 ||
	    wave_get_share(d, obj, path, "halt_failure_rate", &r->halt_failure_rate) < 0)
		return PL_EINVAL;
	if (r->success_threshold <= 0)
		return pl_json_error(d, path, "success_threshold",
		                     "0 would let a wave where nothing succeeded go on");
	return 0;
}

/* The key of each executor's own settings object, by enum. */
static const char *const wave_option_keys[] = {"libvirt", "apt_repo", "ansible", NULL};

const char *rollout_executor_options_key(enum rollout_executor e)
{
	return (unsigned)e < 3 ? wave_option_keys[e] : "?";
}

/* The Ansible export's settings: where to write it and how. */
static int wave_ansible_check(const struct pl_jdoc *d, json_t *o, const char *path)
{
	static const char *const keys[] = {
	    "outdir", "serial", "repo_url", "repo_suite", "repo_component", "repo_keyring", NULL};
	const char *v = NULL;

	if (pl_json_check_keys(d, o, path, keys) < 0 ||
	    pl_json_get_str(d, o, path, "outdir", PL_J_REQUIRED, &v) < 0)
		return PL_EINVAL;
	for (size_t i = 1; keys[i]; i++)
		if (pl_json_get_str(d, o, path, keys[i], PL_J_OPTIONAL, &v) < 0)
			return PL_EINVAL;
	return 0;
}

/* The executor and its own settings object: "apt_repo" (required for an
 * apt-repo wave, checked by aptrepo.c's parser) or "ansible" (required for
 * an ansible wave); a libvirt wave has none. */
static int wave_executor(const struct pl_jdoc *d, json_t *obj, const char *path,
                         struct rollout_wave_rule *r)
{
	int e = 0;
	PL_AUTOFREE char *at = NULL;

	if (pl_json_get_enum(d, obj, path, "executor", PL_J_REQUIRED, wave_executors, &e) < 0)
		return PL_EINVAL;
	r->executor = (enum rollout_executor)e;
	for (int i = 1; wave_option_keys[i]; i++) {
		json_t *o = json_object_get(obj, wave_option_keys[i]);

		if (o && i != e)
			return pl_json_error(d, path, wave_option_keys[i],
			                     "settings of the %s executor in a %s wave",
			                     wave_executors[i], wave_executors[e]);
		if (!o && i == e)
			return pl_json_error(d, path, wave_option_keys[i],
			                     "an %s wave needs its settings here",
			                     wave_executors[i]);
	}
	if (e == ROLLOUT_EXEC_LIBVIRT)
		return 0;
	r->options = json_incref(json_object_get(obj, wave_option_keys[e]));
	at = pl_strdupf("%s.%s", path, wave_option_keys[e]);
	if (!json_is_object(r->options))
		return pl_json_error(d, at, NULL, "expected an object");
	if (e == ROLLOUT_EXEC_APT_REPO) {
		struct rollout_aptrepo repo;

		if (rollout_aptrepo_parse(d, r->options, at, &repo) < 0)
			return PL_EINVAL;
		rollout_aptrepo_clear(&repo);
		return 0;
	}
	return wave_ansible_check(d, r->options, at);
}

static int wave_parse(const struct pl_jdoc *d, const struct rollout_policy *p, json_t *obj,
                      const char *path, struct rollout_wave_rule *r)
{
	static const char *const keys[] = {"name",
	                                   "description",
	                                   "select",
	                                   "share",
	                                   "count",
	                                   "min_soak",
	                                   "success_threshold",
	                                   "halt_failure_rate",
	                                   "executor",
	                                   "windows",
	                                   "apt_repo",
	                                   "ansible",
	                                   NULL};
	const char *name = NULL, *desc = NULL;

	if (!json_is_object(obj))
		return pl_json_error(d, path, NULL, "expected an object");
	r->doc = json_incref(obj);
	if (pl_json_check_keys(d, obj, path, keys) < 0 ||
	    pl_json_get_str(d, obj, path, "name", PL_J_REQUIRED, &name) < 0 ||
	    pl_json_get_str(d, obj, path, "description", PL_J_OPTIONAL, &desc) < 0)
		return PL_EINVAL;
	if (!wave_name_ok(name))
		return pl_json_error(d, path, "name",
		                     "'%s': use 1-32 of a-z 0-9 -, starting with a letter", name);
	r->name = pl_strdup(name);
	r->description = desc ? pl_strdup(desc) : NULL;
	if (wave_select(d, obj, path, &r->select) < 0 || wave_sizes(d, obj, path, r) < 0 ||
	    wave_executor(d, obj, path, r) < 0 ||
	    wave_strings(d, obj, path, "windows", &r->windows) < 0)
		return PL_EINVAL;
	for (size_t i = 0; r->windows && r->windows[i]; i++)
		if (!rollout_policy_window(p, r->windows[i])) {
			PL_AUTOFREE char *at = pl_strdupf("%s.windows[%zu]", path, i);

			return pl_json_error(d, at, NULL, "no window of the policy is named '%s'",
			                     r->windows[i]);
		}
	return 0;
}

int rollout_waves_parse(const struct pl_jdoc *d, json_t *root, struct rollout_policy *p)
{
	json_t *arr = NULL;

	if (pl_json_get_array(d, root, "$", "waves", PL_J_OPTIONAL, &arr) < 0)
		return PL_EINVAL;
	if (!arr)
		return 0;
	if (!json_array_size(arr))
		return pl_json_error(d, "$", "waves", "no wave: leave \"waves\" out, or give one");
	p->waves = pl_calloc(json_array_size(arr), sizeof(*p->waves));
	for (size_t i = 0; i < json_array_size(arr); i++) {
		char path[48];

		snprintf(path, sizeof(path), "$.waves[%zu]", i);
		p->nwaves++; /* counted first, so a half-parsed wave is freed with the rest */
		if (wave_parse(d, p, json_array_get(arr, i), path, &p->waves[i]) < 0)
			return PL_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->waves[j].name, p->waves[i].name) == 0)
				return pl_json_error(d, path, "name",
				                     "'%s' names $.waves[%zu] already",
				                     p->waves[i].name, j);
	}
	return 0;
}

/* ---- selection and decisions --------------------------------------------------- */

static int host_has_tag(json_t *tags, const char *tag)
{
	json_t *v;
	size_t i;

	json_array_foreach (tags, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), tag) == 0)
			return 1;
	return 0;
}

int rollout_select_matches(const struct rollout_select *s, const struct rollout_host *h)
{
	if (s->role && (!h->role || strcmp(s->role, h->role) != 0))
		return 0;
	if (s->environment && (!h->environment || strcmp(s->environment, h->environment) != 0))
		return 0;
	for (size_t i = 0; s->tags && s->tags[i]; i++)
		if (!h->tags || !host_has_tag(h->tags, s->tags[i]))
			return 0;
	return 1;
}

enum rollout_verdict rollout_wave_decide(const struct rollout_wave_rule *r, size_t total,
                                         size_t done, size_t succeeded, size_t failed, char *why,
                                         size_t whysize)
{
	char dummy[8];

	if (!why) {
		why = dummy;
		whysize = sizeof(dummy);
	}
	/* compared as integers scaled by total, so 1 of 3 against 1/3 is exact */
	if (total && (double)failed > r->halt_failure_rate * (double)total + 1e-9) {
		snprintf(
		    why, whysize,
		    "%zu of %zu target(s) failed (%.0f%%), above the wave's halt rate of %.0f%%",
		    failed, total, 100.0 * (double)failed / (double)total,
		    100.0 * r->halt_failure_rate);
		return ROLLOUT_HALT;
	}
	if (done < total) {
		snprintf(why, whysize, "%zu of %zu target(s) done", done, total);
		return ROLLOUT_GO_ON;
	}
	if (total && (double)succeeded + 1e-9 >= r->success_threshold * (double)total) {
		snprintf(why, whysize, "%zu of %zu target(s) succeeded (threshold %.0f%%)",
		         succeeded, total, 100.0 * r->success_threshold);
		return ROLLOUT_WAVE_SUCCEEDED;
	}
	snprintf(why, whysize,
	         "only %zu of %zu target(s) succeeded, below the wave's threshold of %.0f%%",
	         succeeded, total, 100.0 * r->success_threshold);
	return ROLLOUT_HALT;
}

/* ceil(share * n) without floating-point surprises at exact products. */
size_t rollout_share_count(double share, size_t n)
{
	double v = share * (double)n;
	size_t c = (size_t)ceil(v - 1e-9);

	return c > n ? n : c;
}
