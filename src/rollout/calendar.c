/*
 * calendar.c - civil dates, Patch Tuesday, window rules and their
 * occurrences.
 *
 * A window occurs on a local date (in its own time zone) when its rule
 * matches that date; it opens at the rule's local start time, converted to
 * UTC by the zone (RFC 5545's gap and fold rule, see rollout.h), and lasts
 * its duration in real time. Everything here is a pure function of the
 * policy and the instants asked about: "now" comes from the caller.
 */
#include "rollout-private.h"

#include <ctype.h>

/* How far rollout_next_window looks ahead. */
#define CAL_HORIZON_DAYS 3660
/* How far a COUNT may reach from its DTSTART. */
#define CAL_COUNT_HORIZON_DAYS (200 * 366)
#define CAL_DURATION_MAX       (14 * 86400)

/* ---- civil dates (Howard Hinnant's algorithms) -------------------------- */

int64_t rollout_days_from_civil(int year, int month, int day)
{
	int64_t y = (int64_t)year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

struct rollout_date rollout_civil_from_days(int64_t z)
{
	int64_t era, doe, yoe, doy, mp;
	struct rollout_date d;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d.day = (int)(doy - (153 * mp + 2) / 5 + 1);
	d.month = (int)(mp < 10 ? mp + 3 : mp - 9);
	d.year = (int)(yoe + era * 400 + (d.month <= 2));
	return d;
}

int rollout_weekday(int64_t days)
{
	return (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
}

int rollout_month_days(int year, int month)
{
	static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 ? 28 + leap : n[month - 1];
}

int64_t rollout_day_of(int64_t t)
{
	return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

struct rollout_date rollout_patch_tuesday(int year, int month)
{
	int64_t first = rollout_days_from_civil(year, month, 1);
	int first_tuesday = 1 + (2 - rollout_weekday(first) + 7) % 7;

	return (struct rollout_date){year, month, first_tuesday + 7};
}

/* ---- parsing the pieces of a window ---------------------------------------- */

static const char *const cal_days[] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

/* Exactly n digits at s as a number, or -1. */
static int cal_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int cal_date_ok(int y, int m, int d)
{
	return y >= 1900 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
	       d <= rollout_month_days(y, m);
}

/* "YYYY-MM-DD" into a day number. */
static int cal_parse_date(const char *s, int64_t *day)
{
	int y = cal_digits(s, 4), m, d;

	if (strlen(s) != 10 || y < 0 || s[4] != '-' || s[7] != '-')
		return -1;
	m = cal_digits(s + 5, 2);
	d = cal_digits(s + 8, 2);
	if (!cal_date_ok(y, m, d))
		return -1;
	*day = rollout_days_from_civil(y, m, d);
	return 0;
}

/* "HH:MM" or "HH:MM:SS" into seconds of the day. */
static int cal_parse_clock(const char *s, int *out)
{
	size_t n = strlen(s);
	int h = cal_digits(s, 2), m, sec = 0;

	if ((n != 5 && n != 8) || h < 0 || s[2] != ':')
		return -1;
	m = cal_digits(s + 3, 2);
	if (n == 8 && (s[5] != ':' || (sec = cal_digits(s + 6, 2)) < 0))
		return -1;
	if (h > 23 || m < 0 || m > 59 || sec > 59)
		return -1;
	*out = h * 3600 + m * 60 + sec;
	return 0;
}

/* "4h", "90m", "1h30m", "2d": units d, h, m, s in that order, each once. */
static int cal_parse_duration(const char *s, int64_t *out)
{
	static const struct {
		char unit;
		int64_t secs;
	} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	size_t next = 0;
	int64_t total = 0;

	if (!*s)
		return -1;
	while (*s) {
		int64_t v = 0;
		int digits = 0;

		while (isdigit((unsigned char)*s) && digits < 7) {
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if (!digits)
			return -1;
		while (next < 4 && units[next].unit != *s)
			next++;
		if (next == 4)
			return -1;
		total += v * units[next++].secs;
		s++;
	}
	*out = total;
	return 0;
}

int rollout_duration_parse(const char *s, int64_t *out)
{
	return cal_parse_duration(s, out);
}

static int cal_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && isalnum((unsigned char)s[0]) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") == n;
}

/* ---- the RRULE subset --------------------------------------------------------- */

struct rrule_ctx {
	const struct pl_jdoc *d;
	const char *path;
	struct rollout_window_rule *r;
	const char *value; /* the part's value, for messages */
};

#define RRULE_ERR(c, ...) pl_json_error((c)->d, (c)->path, "rrule", __VA_ARGS__)

static int rrule_int(struct rrule_ctx *c, const char *part, long min, long max, long *out)
{
	struct pl_err e = PL_ERR_INIT;

	if (pl_parse_long(c->value, min, max, out, part, &e) < 0)
		return RRULE_ERR(c, "%s=%s: expected an integer from %ld to %ld", part, c->value,
		                 min, max);
	return 0;
}

static int rrule_weekday(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (strcmp(s, cal_days[i]) == 0)
			return i;
	return -1;
}

static int rrule_byday(struct rrule_ctx *c)
{
	PL_AUTOFREE char *list = pl_strdup(c->value);
	char *save = NULL;

	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(tok);
		int ord = 0, wd = n >= 2 && n <= 4 ? rrule_weekday(tok + n - 2) : -1;

		if (wd >= 0 && n > 2) {
			PL_AUTOFREE char *num = pl_strndup(tok, n - 2);
			struct pl_err e = PL_ERR_INIT;

			if (pl_parse_int(num[0] == '+' ? num + 1 : num, -5, 5, &ord, "BYDAY", &e) <
			        0 ||
			    ord == 0)
				wd = -1;
		}
		if (wd < 0)
			return RRULE_ERR(c,
			                 "BYDAY: '%s' is not a weekday (MO TU WE TH FR SA SU, in "
			                 "MONTHLY with an ordinal such as 2TU or -1FR)",
			                 tok);
		if (c->r->nbyday == ROLLOUT_MAX_BYDAY)
			return RRULE_ERR(c, "BYDAY: more than %d values", ROLLOUT_MAX_BYDAY);
		c->r->byday[c->r->nbyday].wday = wd;
		c->r->byday[c->r->nbyday++].ordinal = ord;
	}
	if (!c->r->nbyday)
		return RRULE_ERR(c, "BYDAY is empty");
	return 0;
}

static int rrule_bymonthday(struct rrule_ctx *c)
{
	PL_AUTOFREE char *list = pl_strdup(c->value);
	char *save = NULL;

	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct pl_err e = PL_ERR_INIT;
		int v;

		if (pl_parse_int(tok[0] == '+' ? tok + 1 : tok, -31, 31, &v, "BYMONTHDAY", &e) <
		        0 ||
		    v == 0)
			return RRULE_ERR(c,
			                 "BYMONTHDAY: '%s' is not a day of the month (1 to 31, "
			                 "or -31 to -1 counting from the end)",
			                 tok);
		if (c->r->nbymonthday == sizeof(c->r->bymonthday) / sizeof(c->r->bymonthday[0]))
			return RRULE_ERR(c, "BYMONTHDAY: too many values");
		c->r->bymonthday[c->r->nbymonthday++] = v;
	}
	if (!c->r->nbymonthday)
		return RRULE_ERR(c, "BYMONTHDAY is empty");
	return 0;
}

static int rrule_bymonth(struct rrule_ctx *c)
{
	PL_AUTOFREE char *list = pl_strdup(c->value);
	char *save = NULL;

	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct pl_err e = PL_ERR_INIT;
		int v;

		if (pl_parse_int(tok, 1, 12, &v, "BYMONTH", &e) < 0)
			return RRULE_ERR(c, "BYMONTH: '%s' is not a month (1 to 12)", tok);
		c->r->bymonth |= 1u << v;
	}
	if (!c->r->bymonth)
		return RRULE_ERR(c, "BYMONTH is empty");
	return 0;
}

/* UNTIL=YYYYMMDD (a local date, inclusive) or YYYYMMDDTHHMMSSZ (UTC). */
static int rrule_until(struct rrule_ctx *c)
{
	const char *s = c->value;
	size_t n = strlen(s);
	int y = cal_digits(s, 4), m = n >= 8 ? cal_digits(s + 4, 2) : -1,
	    d = n >= 8 ? cal_digits(s + 6, 2) : -1, hh, mm, ss;

	if ((n != 8 && n != 16) || !cal_date_ok(y, m, d))
		goto bad;
	if (n == 8) {
		c->r->until_day = rollout_days_from_civil(y, m, d);
		return 0;
	}
	hh = cal_digits(s + 9, 2);
	mm = cal_digits(s + 11, 2);
	ss = cal_digits(s + 13, 2);
	if (s[8] != 'T' || s[15] != 'Z' || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 ||
	    ss > 59)
		goto bad;
	c->r->until_utc = rollout_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
	return 0;
bad:
	return RRULE_ERR(c, "UNTIL=%s: expected YYYYMMDD or YYYYMMDDTHHMMSSZ (UTC)", s);
}

static int rrule_part(struct rrule_ctx *c, const char *key, unsigned *seen)
{
	static const char *const parts[] = {"FREQ",  "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH",
	                                    "COUNT", "UNTIL",    "WKST",  NULL};
	struct rollout_window_rule *r = c->r;
	long v;
	int i;

	for (i = 0; parts[i] && strcmp(parts[i], key) != 0; i++)
		;
	if (!parts[i])
		return RRULE_ERR(c,
		                 "unknown RRULE part '%s' (this subset knows FREQ, INTERVAL, "
		                 "BYDAY, BYMONTHDAY, BYMONTH, COUNT, UNTIL, WKST)",
		                 key);
	if (*seen & (1u << i))
		return RRULE_ERR(c, "%s is given twice", key);
	*seen |= 1u << i;
	switch (i) {
	case 0:
		if (strcmp(c->value, "WEEKLY") == 0)
			r->freq = ROLLOUT_WEEKLY;
		else if (strcmp(c->value, "MONTHLY") == 0)
			r->freq = ROLLOUT_MONTHLY;
		else
			return RRULE_ERR(c, "FREQ=%s: this subset knows WEEKLY and MONTHLY",
			                 c->value);
		return 0;
	case 1:
		if (rrule_int(c, key, 1, 99, &v) < 0)
			return PL_EINVAL;
		r->interval = (int)v;
		return 0;
	case 2:
		return rrule_byday(c);
	case 3:
		return rrule_bymonthday(c);
	case 4:
		return rrule_bymonth(c);
	case 5:
		if (rrule_int(c, key, 1, 10000, &v) < 0)
			return PL_EINVAL;
		r->count = v;
		return 0;
	case 6:
		return rrule_until(c);
	default:
		if ((r->wkst = rrule_weekday(c->value)) < 0)
			return RRULE_ERR(c, "WKST=%s: expected MO TU WE TH FR SA or SU", c->value);
		return 0;
	}
}

/* The date of the COUNT-th occurrence from DTSTART becomes the last date. */
static int rrule_count_end(struct rrule_ctx *c)
{
	struct rollout_window_rule *r = c->r;
	long seen = 0;

	for (int64_t day = r->dtstart_day; day < r->dtstart_day + CAL_COUNT_HORIZON_DAYS; day++)
		if (rollout_rule_matches(r, day) && ++seen == r->count) {
			r->until_day = day;
			return 0;
		}
	return RRULE_ERR(c, "COUNT=%ld is not reached within 200 years of dtstart", r->count);
}

/* Rules of RFC 5545 this subset enforces, and what needs the anchor. */
static int rrule_check(struct rrule_ctx *c, unsigned seen)
{
	struct rollout_window_rule *r = c->r;
	int need_anchor = r->interval > 1 || r->count > 0 ||
	                  (r->freq == ROLLOUT_WEEKLY && !r->nbyday) ||
	                  (r->freq == ROLLOUT_MONTHLY && !r->nbyday && !r->nbymonthday);

	if (!r->freq)
		return RRULE_ERR(c, "FREQ is required (WEEKLY or MONTHLY)");
	if (r->count && (seen & (1u << 6)))
		return RRULE_ERR(c, "COUNT and UNTIL exclude each other");
	if (r->freq == ROLLOUT_WEEKLY && r->nbymonthday)
		return RRULE_ERR(c, "BYMONTHDAY cannot be used with FREQ=WEEKLY");
	for (size_t i = 0; r->freq == ROLLOUT_WEEKLY && i < r->nbyday; i++)
		if (r->byday[i].ordinal)
			return RRULE_ERR(c, "BYDAY: an ordinal (2TU, -1FR) needs FREQ=MONTHLY");
	if (need_anchor && !r->has_dtstart)
		return pl_json_error(c->d, c->path, "dtstart",
		                     "is required by this RRULE (INTERVAL, COUNT, or no BYDAY/"
		                     "BYMONTHDAY count from it)");
	return r->count ? rrule_count_end(c) : 0;
}

static int rrule_parse(struct rrule_ctx *c, const char *text)
{
	PL_AUTOFREE char *copy = pl_strdup(strncmp(text, "RRULE:", 6) == 0 ? text + 6 : text);
	char *save = NULL;
	unsigned seen = 0;

	c->r->interval = 1;
	c->r->wkst = 1;
	for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok || !eq[1])
			return RRULE_ERR(c, "'%s' is not a KEY=VALUE part", tok);
		*eq = '\0';
		c->value = eq + 1;
		if (rrule_part(c, tok, &seen) < 0)
			return PL_EINVAL;
	}
	return rrule_check(c, seen);
}

/* ---- a window object ------------------------------------------------------------- */

void rollout_window_rule_clear(struct rollout_window_rule *r)
{
	free(r->name);
	free(r->rrule);
	free(r->tz_name);
	rollout_tz_free(r->tz);
	memset(r, 0, sizeof(*r));
}

static int window_when(const struct pl_jdoc *d, json_t *obj, const char *path,
                       struct rollout_window_rule *r)
{
	const char *rrule = NULL, *dtstart = NULL;
	int has_pt = json_object_get(obj, "patch_tuesday_offset_days") != NULL;
	long off = 0;

	if (pl_json_get_str(d, obj, path, "rrule", PL_J_OPTIONAL, &rrule) < 0 ||
	    pl_json_get_str(d, obj, path, "dtstart", PL_J_OPTIONAL, &dtstart) < 0 ||
	    pl_json_get_int(d, obj, path, "patch_tuesday_offset_days", PL_J_OPTIONAL, -366, 366,
	                    &off) < 0)
		return PL_EINVAL;
	if (!rrule == !has_pt)
		return pl_json_error(
		    d, path, NULL,
		    "give exactly one of \"rrule\" and \"patch_tuesday_offset_days\"");
	if (has_pt) {
		if (dtstart)
			return pl_json_error(d, path, "dtstart", "only an rrule has an anchor");
		r->is_patch_tuesday = 1;
		r->pt_offset = (int)off;
		return 0;
	}
	r->rrule = pl_strdup(rrule);
	if (dtstart) {
		if (cal_parse_date(dtstart, &r->dtstart_day) < 0)
			return pl_json_error(d, path, "dtstart", "'%s' is not a date YYYY-MM-DD",
			                     dtstart);
		r->has_dtstart = 1;
	}
	{
		struct rrule_ctx c = {d, path, r, NULL};

		return rrule_parse(&c, rrule);
	}
}

int rollout_window_parse(const struct pl_jdoc *d, json_t *obj, const char *path,
                         struct rollout_window_rule *out)
{
	static const char *const keys[] = {
	    "name",  "description", "rrule", "dtstart", "patch_tuesday_offset_days",
	    "start", "duration",    "tz",    NULL};
	const char *name = NULL, *desc = NULL, *start = NULL, *dur = NULL, *tz = NULL;

	memset(out, 0, sizeof(*out));
	out->until_day = out->until_utc = INT64_MAX;
	if (pl_json_check_keys(d, obj, path, keys) < 0 ||
	    pl_json_get_str(d, obj, path, "name", PL_J_REQUIRED, &name) < 0 ||
	    pl_json_get_str(d, obj, path, "description", PL_J_OPTIONAL, &desc) < 0 ||
	    pl_json_get_str(d, obj, path, "start", PL_J_REQUIRED, &start) < 0 ||
	    pl_json_get_str(d, obj, path, "duration", PL_J_REQUIRED, &dur) < 0 ||
	    pl_json_get_str(d, obj, path, "tz", PL_J_REQUIRED, &tz) < 0)
		return PL_EINVAL;
	if (!cal_name_ok(name))
		return pl_json_error(d, path, "name",
		                     "'%s': use 1-64 of A-Z a-z 0-9 . _ + -, starting alphanumeric",
		                     name);
	out->name = pl_strdup(name);
	if (cal_parse_clock(start, &out->start_sec) < 0)
		return pl_json_error(d, path, "start", "'%s' is not a local time HH:MM[:SS]",
		                     start);
	if (cal_parse_duration(dur, &out->duration) < 0)
		return pl_json_error(d, path, "duration",
		                     "'%s' is not a duration such as 4h, 90m, 1h30m or 2d", dur);
	if (out->duration < 60 || out->duration > CAL_DURATION_MAX)
		return pl_json_error(d, path, "duration", "'%s' is not between 1m and 14d", dur);
	out->tz_name = pl_strdup(tz);
	if (rollout_tz_load(tz, &out->tz, d->err) < 0)
		return pl_json_error(d, path, "tz", "%s", d->err->msg);
	return window_when(d, obj, path, out);
}

/* ---- occurrences ------------------------------------------------------------------ */

static int match_monthly_byday(const struct rollout_window_rule *r, struct rollout_date dt, int wd)
{
	int dim = rollout_month_days(dt.year, dt.month);

	for (size_t i = 0; i < r->nbyday; i++) {
		int o = r->byday[i].ordinal;

		if (r->byday[i].wday != wd)
			continue;
		if (o == 0 || (o > 0 && (dt.day - 1) / 7 + 1 == o) ||
		    (o < 0 && (dim - dt.day) / 7 + 1 == -o))
			return 1;
	}
	return 0;
}

static int match_monthday(const struct rollout_window_rule *r, struct rollout_date dt)
{
	int dim = rollout_month_days(dt.year, dt.month);

	for (size_t i = 0; i < r->nbymonthday; i++) {
		int v = r->bymonthday[i];

		if ((v > 0 && v == dt.day) || (v < 0 && dim + 1 + v == dt.day))
			return 1;
	}
	return 0;
}

static int match_weekly(const struct rollout_window_rule *r, int64_t day, int wd)
{
	if (r->interval > 1) {
		int64_t w0 = r->dtstart_day - (rollout_weekday(r->dtstart_day) - r->wkst + 7) % 7;
		int64_t w = day - (wd - r->wkst + 7) % 7;

		if (((w - w0) / 7) % r->interval != 0)
			return 0;
	}
	if (!r->nbyday)
		return wd == rollout_weekday(r->dtstart_day);
	for (size_t i = 0; i < r->nbyday; i++)
		if (r->byday[i].wday == wd)
			return 1;
	return 0;
}

int rollout_rule_matches(const struct rollout_window_rule *r, int64_t day)
{
	struct rollout_date dt, pt;
	int wd = rollout_weekday(day);

	if (r->is_patch_tuesday) {
		pt = rollout_civil_from_days(day - r->pt_offset);
		return rollout_weekday(day - r->pt_offset) == 2 && pt.day >= 8 && pt.day <= 14;
	}
	if ((r->has_dtstart && day < r->dtstart_day) || day > r->until_day)
		return 0;
	dt = rollout_civil_from_days(day);
	if (r->bymonth && !(r->bymonth & (1u << dt.month)))
		return 0;
	if (r->freq == ROLLOUT_WEEKLY)
		return match_weekly(r, day, wd);
	if (r->interval > 1) {
		struct rollout_date a = rollout_civil_from_days(r->dtstart_day);

		if (((dt.year - a.year) * 12 + dt.month - a.month) % r->interval != 0)
			return 0;
	}
	if (!r->nbyday && !r->nbymonthday)
		return dt.day == rollout_civil_from_days(r->dtstart_day).day;
	if (r->nbymonthday && !match_monthday(r, dt))
		return 0;
	return !r->nbyday || match_monthly_byday(r, dt, wd);
}

void rollout_rule_occurrence(const struct rollout_window_rule *r, int64_t day,
                             struct rollout_window *out)
{
	const char *abbr;

	memset(out, 0, sizeof(*out));
	out->rule = r;
	out->date = rollout_civil_from_days(day);
	out->shifted = rollout_tz_to_utc(r->tz, day * 86400 + r->start_sec, &out->start);
	out->end = out->start + r->duration;
	out->start_offset = rollout_tz_offset(r->tz, out->start, &abbr);
	snprintf(out->start_abbr, sizeof(out->start_abbr), "%s", abbr);
	out->end_offset = rollout_tz_offset(r->tz, out->end, &abbr);
	snprintf(out->end_abbr, sizeof(out->end_abbr), "%s", abbr);
}

/* The occurrence on day, when there is one (UNTIL with a time included). */
static int rule_occurs(const struct rollout_window_rule *r, int64_t day, struct rollout_window *o)
{
	if (!rollout_rule_matches(r, day))
		return 0;
	rollout_rule_occurrence(r, day, o);
	return o->start <= r->until_utc;
}

void rollout_windows_free(struct rollout_windows *w)
{
	free(w->v);
	memset(w, 0, sizeof(*w));
}

static void windows_push(struct rollout_windows *w, const struct rollout_window *o)
{
	w->v = pl_realloc(w->v, (w->n + 1) * sizeof(*w->v));
	w->v[w->n++] = *o;
}

static int windows_cmp(const void *a, const void *b)
{
	const struct rollout_window *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	/* the rules lie in one array: their addresses are the policy's order */
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

int rollout_windows_between(const struct rollout_policy *p, int64_t from, int64_t to,
                            struct rollout_windows *out, struct pl_err *err)
{
	memset(out, 0, sizeof(*out));
	if (to < from)
		return pl_error(err, PL_EINVAL, "the end of a time range lies before its start");
	if (to - from > (int64_t)CAL_HORIZON_DAYS * 86400)
		return pl_error(err, PL_EINVAL, "a time range of more than %d days",
		                CAL_HORIZON_DAYS);
	for (size_t i = 0; i < p->nwindows; i++) {
		const struct rollout_window_rule *r = &p->windows[i];
		/* a local date lies within 26 h of the UTC one; a window may
		 * start up to its duration before from */
		int64_t d0 = rollout_day_of(from - r->duration) - 2, d1 = rollout_day_of(to) + 2;

		for (int64_t day = d0; day <= d1; day++) {
			struct rollout_window o;

			if (rule_occurs(r, day, &o) && o.start < to && o.end > from)
				windows_push(out, &o);
		}
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), windows_cmp);
	return 0;
}

int rollout_windows_month(const struct rollout_policy *p, int year, int month,
                          struct rollout_windows *out, struct pl_err *err)
{
	int64_t first;

	memset(out, 0, sizeof(*out));
	if (year < 1900 || year > 9999 || month < 1 || month > 12)
		return pl_error(err, PL_EINVAL, "%04d-%02d is not a month from 1900-01 to 9999-12",
		                year, month);
	first = rollout_days_from_civil(year, month, 1);
	for (size_t i = 0; i < p->nwindows; i++)
		for (int64_t day = first; day < first + rollout_month_days(year, month); day++) {
			struct rollout_window o;

			if (rule_occurs(&p->windows[i], day, &o))
				windows_push(out, &o);
		}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), windows_cmp);
	return 0;
}

int rollout_next_window(const struct rollout_policy *p, int64_t after, struct rollout_window *out,
                        struct pl_err *err)
{
	int found = 0;
	char iso[21];

	for (size_t i = 0; i < p->nwindows; i++) {
		const struct rollout_window_rule *r = &p->windows[i];
		int64_t d0 = rollout_day_of(after - r->duration) - 2;

		for (int64_t day = d0; day <= d0 + CAL_HORIZON_DAYS; day++) {
			struct rollout_window o;

			if (!rule_occurs(r, day, &o) || o.end <= after)
				continue;
			if (!found || windows_cmp(&o, out) < 0)
				*out = o;
			found = 1;
			break;
		}
	}
	if (found)
		return 0;
	pl_time_iso(after, iso);
	return pl_error(err, PL_ENOTFOUND, "policy '%s' has no maintenance window after %s%s",
	                p->name, iso, p->nwindows ? " within ten years" : " (it defines none)");
}
