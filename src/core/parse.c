/* parse.c - integer and size parsing that rejects what strtol lets through. */
#include "core.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

int pl_parse_long(const char *s, long min, long max, long *out, const char *what,
		  struct pl_err *err)
{
	char *end = NULL;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return pl_error(err, PL_EINVAL, "%s: expected an integer, got '%s'", what,
				s ? s : "");
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end)
		return pl_error(err, PL_EINVAL, "%s: '%s' is not an integer", what, s);
	if (errno == ERANGE || v < min || v > max)
		return pl_error(err, PL_EINVAL, "%s: %s is out of range [%ld, %ld]", what, s, min,
				max);
	*out = v;
	return 0;
}

int pl_parse_int(const char *s, int min, int max, int *out, const char *what, struct pl_err *err)
{
	long v;
	int rc = pl_parse_long(s, min, max, &v, what, err);

	if (rc == 0)
		*out = (int)v;
	return rc;
}

int pl_parse_u64(const char *s, uint64_t max, uint64_t *out, const char *what, struct pl_err *err)
{
	char *end = NULL;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return pl_error(err, PL_EINVAL, "%s: expected a non-negative integer, got '%s'",
				what, s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return pl_error(err, PL_EINVAL, "%s: '%s' is not an integer", what, s);
	if (errno == ERANGE || v > max)
		return pl_error(err, PL_EINVAL, "%s: %s is too large (max %llu)", what, s,
				(unsigned long long)max);
	*out = v;
	return 0;
}

int pl_parse_size(const char *s, uint64_t *out, const char *what, struct pl_err *err)
{
	static const char units[] = "KMGT";
	char digits[32];
	size_t n = s ? strlen(s) : 0;
	unsigned shift = 0;
	uint64_t v;
	const char *u;

	if (n > 0 && (u = strchr(units, toupper((unsigned char)s[n - 1]))) && s[n - 1] != '\0') {
		shift = 10 * (unsigned)(u - units + 1);
		n--;
	}
	if (n == 0 || n >= sizeof(digits))
		return pl_error(err, PL_EINVAL, "%s: '%s' is not a size", what, s ? s : "");
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (pl_parse_u64(digits, UINT64_MAX >> shift, &v, what, err) < 0)
		return err ? err->code : PL_EINVAL;
	*out = v << shift;
	return 0;
}
