/* clock.c - the injectable wall clock and monotonic timings. */
#include "core.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

static int64_t clock_env_or_real(const struct pl_clock *c)
{
	const char *env = getenv("PATCHLAB_NOW");
	int64_t t;

	(void)c;
	if (env && *env && pl_time_parse(env, &t, NULL) == 0)
		return t;
	return (int64_t)time(NULL);
}

static int64_t clock_fixed_now(const struct pl_clock *c)
{
	return c->fixed;
}

const struct pl_clock *pl_clock_system(void)
{
	static const struct pl_clock sys = {clock_env_or_real, 0};

	return &sys;
}

struct pl_clock pl_clock_fixed(int64_t unix_seconds)
{
	struct pl_clock c = {clock_fixed_now, unix_seconds};

	return c;
}

int64_t pl_clock_now(const struct pl_clock *c)
{
	return (c ? c : pl_clock_system())->now(c ? c : pl_clock_system());
}

double pl_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void pl_time_iso(int64_t t, char out[static 21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int pl_time_parse(const char *s, int64_t *out, struct pl_err *err)
{
	struct tm tm;
	const char *end;
	size_t n = strlen(s);

	if (n > 0 && strspn(s, "0123456789") == n) {
		uint64_t v;

		if (pl_parse_u64(s, INT64_MAX, &v, "time", err) < 0)
			return PL_EINVAL;
		*out = (int64_t)v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end && (*end == 'T' || *end == ' ')) {
		const char *e2 = strptime(end + 1, "%H:%M:%S", &tm);

		end = e2 ? e2 : strptime(end + 1, "%H:%M", &tm);
	}
	if (end && *end == 'Z')
		end++;
	if (!end || *end)
		return pl_error(err, PL_EINVAL,
				"time '%s': expected YYYY-MM-DD[THH:MM[:SS]Z] or Unix seconds", s);
	*out = (int64_t)timegm(&tm);
	return 0;
}
