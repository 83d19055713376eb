/* promotion.c - the "promotion" object of a gate policy. */
#include "gate-private.h"

#include <ctype.h>

static const char *const promotion_keys[] = {"description",    "images",  "roles", "approvals",
                                             "min_soak_hours", "waivers", NULL};
static const char *const approval_keys[] = {"role", "count", NULL};
static const char *const waiver_keys[] = {"allowed", "checks", NULL};

void gate_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int gate_strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

int gate_check_name_ok(const char *s)
{
	const char *slash = strchr(s, '/');

	return slash && slash > s && slash[1] &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-/") == strlen(s);
}

static int role_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 32 && islower((unsigned char)s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* Image names as the registry takes them (src/image's manifest rule). */
static int image_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 48 && isalnum((unsigned char)s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int waivable_ok(const char *s)
{
	return strcmp(s, "soak") == 0 || gate_check_name_ok(s);
}

void gate_promotion_free(struct gate_promotion *p)
{
	if (!p)
		return;
	gate_strv_free(p->images);
	gate_strv_free(p->roles);
	gate_strv_free(p->waivable);
	for (size_t i = 0; i < p->napprovals; i++)
		free(p->approvals[i].role);
	free(p->approvals);
	free(p);
}

/* A list of unique strings at path.key, each passing ok. */
static int promo_strings(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
                         int flags, int (*ok)(const char *), const char *what, char ***out)
{
	json_t *arr = NULL, *v;
	size_t i;

	if (pl_json_get_array(d, obj, path, key, flags, &arr) < 0)
		return PL_EINVAL;
	*out = pl_calloc(json_array_size(arr) + 1, sizeof(char *));
	json_array_foreach (arr, i, v) {
		PL_AUTOFREE char *at = pl_strdupf("%s.%s[%zu]", path, key, i);

		if (!json_is_string(v) || !ok(json_string_value(v)))
			return pl_json_error(d, at, NULL, "expected %s", what);
		if (gate_strv_has(*out, json_string_value(v)))
			return pl_json_error(d, at, NULL, "'%s' is listed twice",
			                     json_string_value(v));
		(*out)[i] = pl_strdup(json_string_value(v));
	}
	return 0;
}

static int promo_approvals(const struct pl_jdoc *d, json_t *obj, struct gate_promotion *p)
{
	json_t *arr = NULL, *v;
	size_t i;

	if (pl_json_get_array(d, obj, "$.promotion", "approvals", PL_J_REQUIRED, &arr) < 0)
		return PL_EINVAL;
	if (json_array_size(arr) == 0)
		return pl_json_error(d, "$.promotion", "approvals",
		                     "a promotion must require at least one approval");
	p->approvals = pl_calloc(json_array_size(arr), sizeof(*p->approvals));
	json_array_foreach (arr, i, v) {
		PL_AUTOFREE char *at = pl_strdupf("$.promotion.approvals[%zu]", i);
		struct gate_approval_rule *r = &p->approvals[i];
		const char *role = NULL;

		if (pl_json_check_keys(d, v, at, approval_keys) < 0 ||
		    pl_json_get_str(d, v, at, "role", PL_J_REQUIRED, &role) < 0 ||
		    pl_json_get_int(d, v, at, "count", PL_J_REQUIRED, 1, 20, &r->count) < 0)
			return PL_EINVAL;
		if (!gate_strv_has(p->roles, role))
			return pl_json_error(d, at, "role", "'%s' is not in $.promotion.roles",
			                     role);
		for (size_t k = 0; k < i; k++)
			if (strcmp(p->approvals[k].role, role) == 0)
				return pl_json_error(d, at, "role", "'%s' has a rule already",
				                     role);
		r->role = pl_strdup(role);
		p->napprovals = i + 1;
	}
	return 0;
}

static int promo_waivers(const struct pl_jdoc *d, json_t *obj, struct gate_promotion *p)
{
	json_t *w = NULL;

	if (pl_json_get_object(d, obj, "$.promotion", "waivers", PL_J_OPTIONAL, &w) < 0)
		return PL_EINVAL;
	if (!w) {
		p->waivable = pl_calloc(1, sizeof(char *));
		return 0;
	}
	if (pl_json_check_keys(d, w, "$.promotion.waivers", waiver_keys) < 0 ||
	    pl_json_get_bool(d, w, "$.promotion.waivers", "allowed", PL_J_REQUIRED,
	                     &p->waivers_allowed) < 0)
		return PL_EINVAL;
	return promo_strings(d, w, "$.promotion.waivers", "checks", PL_J_OPTIONAL, waivable_ok,
	                     "a lab check (\"boot/ports\") or \"soak\"", &p->waivable);
}

int gate_promotion_parse(const struct pl_jdoc *d, json_t *root, struct gate_promotion **out)
{
	struct gate_promotion *p;
	json_t *obj = NULL;
	const char *desc = NULL;

	*out = NULL;
	if (pl_json_get_object(d, root, "$", "promotion", PL_J_OPTIONAL, &obj) < 0)
		return PL_EINVAL;
	if (!obj)
		return 0;
	p = pl_calloc(1, sizeof(*p));
	if (pl_json_check_keys(d, obj, "$.promotion", promotion_keys) < 0 ||
	    pl_json_get_str(d, obj, "$.promotion", "description", PL_J_OPTIONAL, &desc) < 0 ||
	    promo_strings(d, obj, "$.promotion", "images", PL_J_OPTIONAL, image_ok, "an image name",
	                  &p->images) < 0 ||
	    promo_strings(d, obj, "$.promotion", "roles", PL_J_REQUIRED, role_ok,
	                  "a role name (a-z 0-9 -, at most 32)", &p->roles) < 0) {
		gate_promotion_free(p);
		return PL_EINVAL;
	}
	if (!p->roles[0]) {
		gate_promotion_free(p);
		return pl_json_error(d, "$.promotion", "roles", "name at least one role");
	}
	if (promo_approvals(d, obj, p) < 0 || promo_waivers(d, obj, p) < 0 ||
	    pl_json_get_int(d, obj, "$.promotion", "min_soak_hours", PL_J_OPTIONAL, 0, 8760,
	                    &p->min_soak_hours) < 0) {
		gate_promotion_free(p);
		return PL_EINVAL;
	}
	*out = p;
	return 0;
}

int gate_waivable(const struct gate_policy *p, const char *check)
{
	return p->promotion && p->promotion->waivers_allowed &&
	       gate_strv_has(p->promotion->waivable, check);
}

int gate_role_known(const struct gate_policy *p, const char *role)
{
	return p->promotion && gate_strv_has(p->promotion->roles, role);
}

int gate_text_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 2000)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return 0;
	return 1;
}
