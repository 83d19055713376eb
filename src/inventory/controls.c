/*
 * controls.c - the vocabulary of security controls and a host's context
 * for the risk score.
 *
 * Controls live in hosts.controls as one JSON object, checked against this
 * vocabulary wherever they enter (import, add, set), so the risk score can
 * rely on the keys and values it reads.
 */
#include "inventory-private.h"

static const char *const exposures[] = {"internet", "internal", "isolated", NULL};

static const struct inv_control_def controls[] = {
    {"firewall", INV_CONTROL_ONOFF, NULL, "a host firewall filters inbound traffic"},
    {"edr", INV_CONTROL_ONOFF_NAME, NULL,
     "an endpoint detection and response agent runs (or its product name)"},
    {"exposure", INV_CONTROL_CHOICE, exposures,
     "reachable from the internet, from internal networks only, or isolated"},
    {"backup", INV_CONTROL_ONOFF, NULL, "the host is backed up and can be restored"},
    {"mfa", INV_CONTROL_ONOFF, NULL, "administrative logins need a second factor"},
    {"patch-agent", INV_CONTROL_ONOFF_NAME, NULL,
     "an agent applies patches on a schedule (or its product name)"},
    {"disk-encryption", INV_CONTROL_ONOFF, NULL, "the host's disks are encrypted at rest"},
};
#define NCONTROLS (sizeof(controls) / sizeof(controls[0]))

const struct inv_control_def *inv_controls(size_t *n)
{
	*n = NCONTROLS;
	return controls;
}

static const struct inv_control_def *control_find(const char *key)
{
	for (size_t i = 0; i < NCONTROLS; i++)
		if (strcmp(controls[i].key, key) == 0)
			return &controls[i];
	return NULL;
}

/* "on"/"true" -> 1, "off"/"false" -> 0, else -1. */
static int onoff_word(const char *s)
{
	if (strcmp(s, "on") == 0 || strcmp(s, "true") == 0)
		return 1;
	if (strcmp(s, "off") == 0 || strcmp(s, "false") == 0)
		return 0;
	return -1;
}

static json_t *choice_value(const struct inv_control_def *d, const char *s, char *msg, size_t size)
{
	struct pl_buf b = PL_BUF_INIT;

	for (int i = 0; d->choices[i]; i++)
		if (strcmp(s, d->choices[i]) == 0)
			return json_string(s);
	for (int i = 0; d->choices[i]; i++)
		pl_buf_addf(&b, "%s%s", i ? ", " : "", d->choices[i]);
	snprintf(msg, size, "'%s' is not one of %s", s, pl_buf_str(&b));
	pl_buf_release(&b);
	return NULL;
}

json_t *inv_control_value(const char *key, json_t *v, char *msg, size_t size)
{
	const struct inv_control_def *d = control_find(key);
	const char *s = json_string_value(v);
	int w;

	if (!d) {
		struct pl_buf b = PL_BUF_INIT;

		for (size_t i = 0; i < NCONTROLS; i++)
			pl_buf_addf(&b, "%s%s", i ? ", " : "", controls[i].key);
		snprintf(msg, size, "unknown control (one of %s)", pl_buf_str(&b));
		pl_buf_release(&b);
		return NULL;
	}
	if (d->kind == INV_CONTROL_CHOICE) {
		if (!s) {
			snprintf(msg, size, "expected a string");
			return NULL;
		}
		return choice_value(d, s, msg, size);
	}
	if (json_is_boolean(v))
		return json_incref(v);
	w = s ? onoff_word(s) : -1;
	if (w >= 0)
		return json_boolean(w);
	if (d->kind == INV_CONTROL_ONOFF_NAME && s && inv_tag_ok(s))
		return json_string(s);
	if (d->kind == INV_CONTROL_ONOFF_NAME)
		snprintf(msg, size,
		         "%s%s%s is not on, off or a product name (1-64 of a-z 0-9 . _ -)",
		         s ? "'" : "", s ? s : "a non-string value", s ? "'" : "");
	else if (s)
		snprintf(msg, size, "'%s' is not one of on, off", s);
	else
		snprintf(msg, size, "expected on or off");
	return NULL;
}

const char *inv_control_text(json_t *v)
{
	if (json_is_boolean(v))
		return json_is_true(v) ? "on" : "off";
	return json_is_string(v) ? json_string_value(v) : "?";
}

int inv_control_add(json_t *controls_obj, const char *kv, int allow_unset, char *msg, size_t size)
{
	const char *eq = strchr(kv, '=');
	PL_AUTOFREE char *key = NULL;
	PL_AUTOJSON json_t *raw = NULL;
	json_t *v;
	char why[384];

	if (!eq || eq == kv) {
		snprintf(msg, size, "'%s' is not KEY=VALUE", kv);
		return -1;
	}
	key = pl_strndup(kv, (size_t)(eq - kv));
	if (!eq[1] && allow_unset && control_find(key)) {
		json_object_set_new(controls_obj, key, json_null());
		return 0;
	}
	raw = json_string(eq + 1);
	if (!raw) {
		snprintf(msg, size, "'%s' is not UTF-8", kv);
		return -1;
	}
	v = inv_control_value(key, raw, why, sizeof(why));
	if (!v) {
		snprintf(msg, size, "%s: %s", key, why);
		return -1;
	}
	json_object_set_new(controls_obj, key, v);
	return 0;
}

/* ---- a host's context for the risk score --------------------------------- */

void inv_host_context_clear(struct inv_host_context *c)
{
	free(c->name);
	free(c->role);
	free(c->environment);
	free(c->edr_product);
	free(c->patch_agent_product);
	json_decref(c->controls);
	memset(c, 0, sizeof(*c));
}

/* A switch: INV_ON/INV_OFF, or INV_ON with the product named in *product. */
static int context_switch(json_t *controls_obj, const char *key, char **product)
{
	json_t *v = json_object_get(controls_obj, key);

	if (json_is_boolean(v))
		return json_is_true(v) ? INV_ON : INV_OFF;
	if (json_is_string(v) && product) {
		*product = pl_strdup(json_string_value(v));
		return INV_ON;
	}
	return INV_UNKNOWN;
}

static enum inv_exposure context_exposure(json_t *controls_obj)
{
	const char *s = json_string_value(json_object_get(controls_obj, "exposure"));

	static const enum inv_exposure map[] = {INV_EXPOSURE_INTERNET, INV_EXPOSURE_INTERNAL,
	                                        INV_EXPOSURE_ISOLATED};

	for (int i = 0; s && exposures[i]; i++)
		if (strcmp(s, exposures[i]) == 0)
			return map[i];
	return INV_EXPOSURE_UNKNOWN;
}

int inv_host_context(struct store *st, const char *name, struct inv_host_context *out,
                     struct pl_err *err)
{
	PL_AUTOSTMT sqlite3_stmt *s = NULL;
	json_t *c;
	int rc;

	memset(out, 0, sizeof(*out));
	if (store_prepare(st, "SELECT name, role, environment, controls FROM hosts WHERE name = ?",
	                  &s, err) < 0)
		return PL_EDB;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return pl_error(err, PL_ENOTFOUND, "no host named '%s'", name);
	if (rc != SQLITE_ROW)
		return store_error(st, err, "reading a host");
	c = json_loads(store_col_text(s, 3), 0, NULL);
	if (!json_is_object(c)) {
		json_decref(c);
		return pl_error(err, PL_EDB, "host '%s': its controls are not a JSON object", name);
	}
	out->name = store_col_dup(s, 0);
	out->role = store_col_dup(s, 1);
	out->environment = store_col_dup(s, 2);
	out->controls = c;
	out->exposure = context_exposure(c);
	out->firewall = context_switch(c, "firewall", NULL);
	out->edr = context_switch(c, "edr", &out->edr_product);
	out->backup = context_switch(c, "backup", NULL);
	out->mfa = context_switch(c, "mfa", NULL);
	out->patch_agent = context_switch(c, "patch-agent", &out->patch_agent_product);
	out->disk_encryption = context_switch(c, "disk-encryption", NULL);
	return 0;
}
