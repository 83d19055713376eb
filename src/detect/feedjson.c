/*
 * feedjson.c - what every feed parser needs: messages naming the file and
 * the JSON path, bounded typed string reads, identifiers, dates, loading a
 * possibly compressed file. Feeds come from outside: every string is
 * checked for its length and shape before it reaches the database.
 */
#include "detect/detect-private.h"

#include <sys/stat.h>

int detect_bad(const char *file, const char *path, const char *key, struct pl_err *err,
               const char *fmt, ...)
{
	PL_AUTOBUF struct pl_buf b = PL_BUF_INIT;
	va_list ap;

	pl_buf_addf(&b, "%s: %s", file ? file : "<input>", path ? path : "$");
	if (key)
		pl_buf_addf(&b, ".%s", key);
	pl_buf_adds(&b, ": ");
	va_start(ap, fmt);
	pl_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return pl_error(err, PL_EINVAL, "%s", pl_buf_str(&b));
}

const char *detect_id_problem(const char *s, size_t len)
{
	if (len == 0)
		return "is empty";
	if (len > DETECT_MAX_ID)
		return "is too long for an identifier";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return "must be printable ASCII without blanks";
	return NULL;
}

int detect_is_cve(const char *s)
{
	size_t n = 0;

	if (strncmp(s, "CVE-", 4) != 0)
		return 0;
	for (int i = 4; i < 8; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if (s[8] != '-')
		return 0;
	for (s += 9; *s >= '0' && *s <= '9'; s++)
		n++;
	return *s == '\0' && n >= 4 && n <= 19;
}

const char *detect_json_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static int digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* YYYY-MM-DD with a plausible month and day. */
static int is_date(const char *s)
{
	int m, d;

	if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
		return 0;
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

int detect_get_str(const char *file, json_t *obj, const char *path, const char *key, unsigned flags,
                   size_t max, const char **out, struct pl_err *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s, *why;
	size_t n;

	if (!v || json_is_null(v)) {
		if (flags & DETECT_STR_REQUIRED)
			return detect_bad(file, path, key, err, "is required");
		return 0;
	}
	if (!json_is_string(v))
		return detect_bad(file, path, key, err, "expected a string, got %s",
		                  detect_json_type(v));
	s = json_string_value(v);
	n = json_string_length(v);
	if (n > max)
		return detect_bad(file, path, key, err, "longer than %zu bytes (%zu)", max, n);
	if (strlen(s) != n)
		return detect_bad(file, path, key, err, "contains a NUL character");
	if (n == 0 && !(flags & DETECT_STR_EMPTY_OK))
		return detect_bad(file, path, key, err, "must not be empty");
	if ((flags & DETECT_STR_ID) && (why = detect_id_problem(s, n)))
		return detect_bad(file, path, key, err, "'%.*s' %s", n > 64 ? 64 : (int)n, s, why);
	if ((flags & DETECT_STR_DATE) && (n != 10 || !is_date(s)))
		return detect_bad(file, path, key, err, "'%.*s' is not a date (YYYY-MM-DD)",
		                  n > 64 ? 64 : (int)n, s);
	if ((flags & DETECT_STR_TIME) &&
	    (n < 19 || !is_date(s) || s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' ||
	     !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2)))
		return detect_bad(file, path, key, err,
		                  "'%.*s' is not an RFC 3339 time (YYYY-MM-DDTHH:MM:SSZ)",
		                  n > 64 ? 64 : (int)n, s);
	*out = s;
	return 0;
}

int detect_json_parse(const char *buf, size_t len, const char *file, json_t **out,
                      struct pl_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		return pl_error(err, PL_EINVAL, "%s:%d:%d: %s", file, je.line, je.column, je.text);
	*out = j;
	return 0;
}

int detect_file_load(const char *path, char **out, size_t *len, char sha256[65], struct pl_err *err)
{
	PL_AUTOFREE char *raw = NULL;
	struct stat st;
	size_t n;

	*out = NULL;
	if (stat(path, &st) < 0)
		return pl_error(err, errno == ENOENT ? PL_ENOTFOUND : PL_EIO, "%s: %s", path,
		                strerror(errno));
	if (S_ISDIR(st.st_mode))
		return pl_error(err, PL_EINVAL, "%s: is a directory", path);
	/* a compressed file is never larger than what it holds (less a header) */
	if ((uint64_t)st.st_size > (uint64_t)DETECT_FEED_MAX_BYTES)
		return pl_error(err, PL_EINVAL, "%s: larger than %zu bytes", path,
		                DETECT_FEED_MAX_BYTES);
	if (pl_file_read(path, &raw, &n, err) < 0)
		return err ? err->code : PL_EIO;
	if (sha256) {
		struct pl_sha256 c;

		pl_sha256_init(&c);
		pl_sha256_update(&c, raw, n);
		pl_sha256_hex(&c, sha256);
	}
	return pkgdb_decompress(raw, n, path, DETECT_FEED_MAX_BYTES, out, len, err);
}
