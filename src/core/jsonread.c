/* jsonread.c - typed reads from JSON documents with file and path in errors. */
#include "core.h"

static const char *jr_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

int pl_json_error(const struct pl_jdoc *d, const char *path, const char *key, const char *fmt,
		  ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key)
		return pl_error(d->err, PL_EINVAL, "%s: %s.%s: %s", d->file, path, key, msg);
	return pl_error(d->err, PL_EINVAL, "%s: %s: %s", d->file, path, msg);
}

/* Looks key up; 1 when present, 0 when optional and absent, <0 on error. */
static int jr_lookup(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		     int flags, json_t **v)
{
	if (!json_is_object(obj))
		return pl_json_error(d, path, NULL, "expected an object, got %s", jr_type(obj));
	*v = json_object_get(obj, key);
	if (*v && !json_is_null(*v))
		return 1;
	if (flags & PL_J_REQUIRED)
		return pl_json_error(d, path, key, "is required");
	return 0;
}

int pl_json_check_keys(const struct pl_jdoc *d, json_t *obj, const char *path,
		       const char *const *allowed)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return pl_json_error(d, path, NULL, "expected an object, got %s", jr_type(obj));
	json_object_foreach(obj, key, v) {
		const char *const *a = allowed;

		while (*a && strcmp(*a, key) != 0)
			a++;
		if (!*a)
			return pl_json_error(d, path, key, "unknown field");
	}
	return 0;
}

int pl_json_get_str(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		    int flags, const char **out)
{
	json_t *v;
	int rc = jr_lookup(d, obj, path, key, flags, &v);

	if (rc <= 0)
		return rc;
	if (!json_is_string(v))
		return pl_json_error(d, path, key, "expected a string, got %s", jr_type(v));
	if (json_string_length(v) == 0)
		return pl_json_error(d, path, key, "must not be empty");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return pl_json_error(d, path, key, "contains a NUL character");
	*out = json_string_value(v);
	return 0;
}

int pl_json_get_int(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		    int flags, long min, long max, long *out)
{
	json_t *v;
	int rc = jr_lookup(d, obj, path, key, flags, &v);
	json_int_t i;

	if (rc <= 0)
		return rc;
	if (!json_is_integer(v))
		return pl_json_error(d, path, key, "expected an integer from %ld to %ld, got %s",
				     min, max, jr_type(v));
	i = json_integer_value(v);
	if (i < min || i > max)
		return pl_json_error(d, path, key, "%lld is out of range [%ld, %ld]", (long long)i,
				     min, max);
	*out = (long)i;
	return 0;
}

int pl_json_get_bool(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		     int flags, int *out)
{
	json_t *v;
	int rc = jr_lookup(d, obj, path, key, flags, &v);

	if (rc <= 0)
		return rc;
	if (!json_is_boolean(v))
		return pl_json_error(d, path, key, "expected true or false, got %s", jr_type(v));
	*out = json_is_true(v);
	return 0;
}

static int jr_get_typed(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
			int flags, json_type want, json_t **out)
{
	json_t *v;
	int rc = jr_lookup(d, obj, path, key, flags, &v);

	if (rc <= 0)
		return rc;
	if (json_typeof(v) != want)
		return pl_json_error(d, path, key, "expected %s, got %s",
				     want == JSON_ARRAY ? "an array" : "an object", jr_type(v));
	*out = v;
	return 0;
}

int pl_json_get_array(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		      int flags, json_t **out)
{
	return jr_get_typed(d, obj, path, key, flags, JSON_ARRAY, out);
}

int pl_json_get_object(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		       int flags, json_t **out)
{
	return jr_get_typed(d, obj, path, key, flags, JSON_OBJECT, out);
}

int pl_json_get_enum(const struct pl_jdoc *d, json_t *obj, const char *path, const char *key,
		     int flags, const char *const *choices, int *out)
{
	const char *s = NULL;
	struct pl_buf all = PL_BUF_INIT;
	int rc = pl_json_get_str(d, obj, path, key, flags, &s);

	if (rc < 0 || !s)
		return rc;
	for (int i = 0; choices[i]; i++) {
		if (strcmp(choices[i], s) == 0) {
			*out = i;
			pl_buf_release(&all);
			return 0;
		}
		pl_buf_addf(&all, "%s%s", i ? ", " : "", choices[i]);
	}
	rc = pl_json_error(d, path, key, "'%s' is not one of %s", s, pl_buf_str(&all));
	pl_buf_release(&all);
	return rc;
}
