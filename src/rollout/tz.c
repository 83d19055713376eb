/*
 * tz.c - time zones from the system's tz database, as pure functions.
 *
 * Reads TZif files (RFC 8536): the version 2+ 64-bit section when present
 * (the 32-bit one of a version 1 file otherwise) and the POSIX TZ footer
 * that says what happens after the last transition (slim tzdata files stop
 * at 2007 for Europe/Berlin and rely on it). Leap-second zones (right/...)
 * are refused: their "UTC" is not Unix time.
 */
#include "rollout.h"

#include <ctype.h>

#define TZ_FILE_MAX (1 << 20)
#define TZ_ABBR_MAX 16

struct tz_type {
	int32_t off; /* seconds east of UTC */
	int isdst;
	char abbr[TZ_ABBR_MAX];
};

/* A POSIX TZ rule date: Jn, n or Mm.w.d, and the local time of the change. */
struct tz_rule_date {
	char kind; /* 'J', 'D' (zero-based n) or 'M' */
	int a, b, c;
	int32_t time;
};

struct tz_posix {
	int valid, has_dst;
	int32_t std_off, dst_off; /* east of UTC */
	char std_abbr[TZ_ABBR_MAX], dst_abbr[TZ_ABBR_MAX];
	struct tz_rule_date start, end;
};

struct rollout_tz {
	char *name;
	int64_t *trans;
	uint8_t *idx;
	size_t ntrans;
	struct tz_type *types;
	size_t ntypes;
	struct tz_posix posix;
};

const char *rollout_tz_name(const struct rollout_tz *tz)
{
	return tz->name;
}

void rollout_tz_free(struct rollout_tz *tz)
{
	if (!tz)
		return;
	free(tz->name);
	free(tz->trans);
	free(tz->idx);
	free(tz->types);
	free(tz);
}

/* ---- the POSIX TZ string (the footer) ---------------------------------- */

static int posix_name(const char **s, char out[TZ_ABBR_MAX])
{
	const char *p = *s;
	size_t n;

	if (*p == '<') {
		n = strcspn(p + 1, ">");
		if (p[1 + n] != '>' || n < 1 || n >= TZ_ABBR_MAX)
			return -1;
		memcpy(out, p + 1, n);
		out[n] = '\0';
		*s = p + n + 2;
		return 0;
	}
	for (n = 0; isalpha((unsigned char)p[n]); n++)
		;
	if (n < 3 || n >= TZ_ABBR_MAX)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	*s = p + n;
	return 0;
}

/* [+-]hh[:mm[:ss]] with hh up to max_hours; the value as written (POSIX
 * offsets are west-positive: the caller negates them). */
static int posix_hms(const char **s, int max_hours, int32_t *out)
{
	const char *p = *s;
	int sign = 1, part[3] = {0, 0, 0}, np = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	while (np < 3 && isdigit((unsigned char)*p)) {
		int v = 0, digits = 0;

		while (isdigit((unsigned char)*p) && digits < 3) {
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		part[np++] = v;
		if (*p != ':' || np == 3)
			break;
		p++;
	}
	if (np == 0 || part[0] > max_hours || part[1] > 59 || part[2] > 59)
		return -1;
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	*s = p;
	return 0;
}

static int posix_int(const char **s, int min, int max, int *out)
{
	const char *p = *s;
	int v = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p) && v <= max)
		v = v * 10 + (*p++ - '0');
	if (v < min || v > max)
		return -1;
	*out = v;
	*s = p;
	return 0;
}

static int posix_rule_date(const char **s, struct tz_rule_date *d)
{
	const char *p = *s;

	d->time = 7200; /* 02:00:00 by default */
	if (*p == 'J') {
		p++;
		d->kind = 'J';
		if (posix_int(&p, 1, 365, &d->a) < 0)
			return -1;
	} else if (*p == 'M') {
		p++;
		d->kind = 'M';
		if (posix_int(&p, 1, 12, &d->a) < 0 || *p++ != '.' ||
		    posix_int(&p, 1, 5, &d->b) < 0 || *p++ != '.' || posix_int(&p, 0, 6, &d->c) < 0)
			return -1;
	} else {
		d->kind = 'D';
		if (posix_int(&p, 0, 365, &d->a) < 0)
			return -1;
	}
	/* RFC 8536 extends the time to -167..167 hours */
	if (*p == '/' && (p++, posix_hms(&p, 167, &d->time) < 0))
		return -1;
	*s = p;
	return 0;
}

static int posix_parse(const char *s, struct tz_posix *out)
{
	int32_t v;

	memset(out, 0, sizeof(*out));
	if (!*s)
		return 0; /* an empty footer: no rule after the last transition */
	if (posix_name(&s, out->std_abbr) < 0 || posix_hms(&s, 24, &v) < 0)
		return -1;
	out->std_off = -v;
	out->valid = 1;
	if (!*s)
		return 0;
	if (posix_name(&s, out->dst_abbr) < 0)
		return -1;
	out->has_dst = 1;
	out->dst_off = out->std_off + 3600;
	if (*s && *s != ',') {
		if (posix_hms(&s, 24, &v) < 0)
			return -1;
		out->dst_off = -v;
	}
	if (!*s) {
		/* no rule given: the US rules, as glibc assumes */
		out->start = (struct tz_rule_date){'M', 3, 2, 0, 7200};
		out->end = (struct tz_rule_date){'M', 11, 1, 0, 7200};
		return 0;
	}
	if (*s++ != ',' || posix_rule_date(&s, &out->start) < 0 || *s++ != ',' ||
	    posix_rule_date(&s, &out->end) < 0 || *s)
		return -1;
	return 0;
}

/* The local day number on which a rule date falls in year. */
static int64_t posix_rule_day(const struct tz_rule_date *d, int year)
{
	int64_t jan1 = rollout_days_from_civil(year, 1, 1);
	int leap = rollout_month_days(year, 2) == 29;

	if (d->kind == 'J')
		return jan1 + d->a - 1 + (leap && d->a >= 60 ? 1 : 0);
	if (d->kind == 'D')
		return jan1 + d->a;
	{
		int64_t first = rollout_days_from_civil(year, d->a, 1);
		int64_t day = first + (d->c - rollout_weekday(first) + 7) % 7 + (d->b - 1) * 7;

		while (day >= first + rollout_month_days(year, d->a))
			day -= 7; /* week 5 means the last */
		return day;
	}
}

static int posix_is_dst(const struct tz_posix *p, int64_t t)
{
	int year = rollout_civil_from_days(rollout_day_of(t + p->std_off)).year;
	/* the start is given in standard time, the end in daylight time */
	int64_t start = posix_rule_day(&p->start, year) * 86400 + p->start.time - p->std_off;
	int64_t end = posix_rule_day(&p->end, year) * 86400 + p->end.time - p->dst_off;

	if (start < end)
		return t >= start && t < end;
	return !(t >= end && t < start); /* southern hemisphere: DST spans new year */
}

/* ---- TZif ---------------------------------------------------------------- */

struct tzif_reader {
	const unsigned char *p;
	size_t len, pos;
};

static int tzif_need(struct tzif_reader *r, size_t n)
{
	return r->len - r->pos >= n ? 0 : -1;
}

static uint32_t tzif_u32(struct tzif_reader *r)
{
	const unsigned char *b = r->p + r->pos;

	r->pos += 4;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int64_t tzif_i64(struct tzif_reader *r)
{
	uint64_t hi = tzif_u32(r);

	return (int64_t)(hi << 32 | tzif_u32(r));
}

struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chars;
};

static int tzif_header(struct tzif_reader *r, int *version, struct tzif_counts *c)
{
	if (tzif_need(r, 44) < 0 || memcmp(r->p + r->pos, "TZif", 4) != 0)
		return -1;
	*version = r->p[r->pos + 4] ? r->p[r->pos + 4] - '0' : 1;
	r->pos += 20;
	c->isut = tzif_u32(r);
	c->isstd = tzif_u32(r);
	c->leap = tzif_u32(r);
	c->time = tzif_u32(r);
	c->type = tzif_u32(r);
	c->chars = tzif_u32(r);
	if (c->type < 1 || c->type > 255 || c->time > 100000 || c->chars > 4096 ||
	    (c->isut && c->isut != c->type) || (c->isstd && c->isstd != c->type))
		return -1;
	return 0;
}

static size_t tzif_block_len(const struct tzif_counts *c, size_t tsize)
{
	return c->time * tsize + c->time + c->type * 6 + c->chars + c->leap * (tsize + 4) +
	       c->isstd + c->isut;
}

/* Reads one data block (tsize 4 or 8 bytes per time) into tz. */
static int tzif_block(struct tzif_reader *r, const struct tzif_counts *c, size_t tsize,
                      struct rollout_tz *tz, const char **why)
{
	const char *chars;

	if (tzif_need(r, tzif_block_len(c, tsize)) < 0)
		return *why = "truncated", -1;
	if (c->leap)
		return *why = "leap-second zones (right/...) are not supported", -1;
	tz->ntrans = c->time;
	tz->trans = pl_calloc(c->time + 1, sizeof(*tz->trans));
	tz->idx = pl_calloc(c->time + 1, 1);
	for (size_t i = 0; i < c->time; i++) {
		tz->trans[i] = tsize == 8 ? tzif_i64(r) : (int32_t)tzif_u32(r);
		if (i && tz->trans[i] <= tz->trans[i - 1])
			return *why = "transitions out of order", -1;
	}
	for (size_t i = 0; i < c->time; i++) {
		tz->idx[i] = r->p[r->pos++];
		if (tz->idx[i] >= c->type)
			return *why = "bad type index", -1;
	}
	tz->ntypes = c->type;
	tz->types = pl_calloc(c->type, sizeof(*tz->types));
	chars = (const char *)r->p + r->pos + c->type * 6;
	for (size_t i = 0; i < c->type; i++) {
		struct tz_type *t = &tz->types[i];
		uint8_t ai;

		t->off = (int32_t)tzif_u32(r);
		t->isdst = r->p[r->pos++];
		ai = r->p[r->pos++];
		if (t->off < -25 * 3600 || t->off > 26 * 3600 || ai >= c->chars)
			return *why = "bad local time type", -1;
		snprintf(t->abbr, sizeof(t->abbr), "%.*s", (int)strnlen(chars + ai, c->chars - ai),
		         chars + ai);
	}
	r->pos += c->chars + c->isstd + c->isut;
	return 0;
}

static int tzif_parse(const unsigned char *data, size_t len, struct rollout_tz *tz,
                      const char **why)
{
	struct tzif_reader r = {data, len, 0};
	struct tzif_counts c;
	int version;

	*why = "not a TZif file";
	if (tzif_header(&r, &version, &c) < 0)
		return -1;
	if (version < 2)
		return tzif_block(&r, &c, 4, tz, why);
	if (tzif_need(&r, tzif_block_len(&c, 4)) < 0)
		return *why = "truncated", -1;
	r.pos += tzif_block_len(&c, 4); /* skip the 32-bit data */
	if (tzif_header(&r, &version, &c) < 0 || tzif_block(&r, &c, 8, tz, why) < 0)
		return -1;
	if (r.pos < len && data[r.pos] == '\n') {
		const char *foot = (const char *)data + r.pos + 1;
		size_t n = strnlen(foot, len - r.pos - 1);
		const char *nl = memchr(foot, '\n', n);
		PL_AUTOFREE char *rule = NULL;

		if (!nl)
			return *why = "footer without its final newline", -1;
		rule = pl_strndup(foot, (size_t)(nl - foot));
		if (posix_parse(rule, &tz->posix) < 0)
			return *why = "bad POSIX TZ footer", -1;
	}
	return 0;
}

static int tz_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128 || s[0] == '/' ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-.") != n)
		return 0;
	/* no empty, "." or ".." component, nothing hidden */
	for (const char *c = s; *c; c = strchr(c, '/') ? strchr(c, '/') + 1 : c + strlen(c))
		if (*c == '/' || *c == '.' || *c == '\0')
			return 0;
	return s[n - 1] != '/';
}

static struct rollout_tz *tz_utc(const char *name)
{
	struct rollout_tz *tz = pl_calloc(1, sizeof(*tz));

	tz->name = pl_strdup(name);
	tz->ntypes = 1;
	tz->types = pl_calloc(1, sizeof(*tz->types));
	snprintf(tz->types[0].abbr, sizeof(tz->types[0].abbr), "UTC");
	return tz;
}

int rollout_tz_load(const char *name, struct rollout_tz **out, struct pl_err *err)
{
	const char *dir = getenv("TZDIR");
	PL_AUTOFREE char *path = NULL;
	PL_AUTOFREE char *data = NULL;
	struct rollout_tz *tz;
	const char *why;
	size_t len;

	if (!tz_name_ok(name))
		return pl_error(err, PL_EINVAL,
		                "'%s' is not a time zone name (such as Europe/Berlin)", name);
	path = pl_path_join(dir && *dir ? dir : "/usr/share/zoneinfo", name);
	if (!pl_path_exists(path)) {
		if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
			*out = tz_utc(name);
			return 0;
		}
		return pl_error(err, PL_EINVAL, "unknown time zone '%s' (no %s)", name, path);
	}
	if (pl_file_read(path, &data, &len, err) < 0)
		return pl_error_prefix(err, "time zone '%s'", name);
	if (len > TZ_FILE_MAX)
		return pl_error(err, PL_EINVAL, "time zone '%s': %s is too large", name, path);
	tz = pl_calloc(1, sizeof(*tz));
	tz->name = pl_strdup(name);
	if (tzif_parse((const unsigned char *)data, len, tz, &why) < 0) {
		rollout_tz_free(tz);
		return pl_error(err, PL_EINVAL, "time zone '%s': %s: %s", name, path, why);
	}
	*out = tz;
	return 0;
}

/* ---- conversions --------------------------------------------------------- */

int rollout_tz_offset(const struct rollout_tz *tz, int64_t t, const char **abbr)
{
	const struct tz_type *ty;
	size_t lo = 0, hi = tz->ntrans;

	if ((tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1]) && tz->posix.valid) {
		int dst = tz->posix.has_dst && posix_is_dst(&tz->posix, t);

		if (abbr)
			*abbr = dst ? tz->posix.dst_abbr : tz->posix.std_abbr;
		return dst ? tz->posix.dst_off : tz->posix.std_off;
	}
	if (tz->ntrans == 0 || t < tz->trans[0]) {
		ty = &tz->types[0]; /* RFC 8536: type 0 before the first transition */
	} else {
		while (hi - lo > 1) { /* the last transition at or before t */
			size_t mid = lo + (hi - lo) / 2;

			if (tz->trans[mid] <= t)
				lo = mid;
			else
				hi = mid;
		}
		ty = &tz->types[tz->idx[lo]];
	}
	if (abbr)
		*abbr = ty->abbr;
	return ty->off;
}

int rollout_tz_to_utc(const struct rollout_tz *tz, int64_t local, int64_t *utc)
{
	/* The instant lies within 10..38 hours of local - 1 day and local + 1
	 * day, so the offsets there are the ones on either side of any change
	 * near it (transitions are never that close together). */
	int before = rollout_tz_offset(tz, local - 86400, NULL);
	int after = rollout_tz_offset(tz, local + 86400, NULL);
	int cand[4] = {before, after, rollout_tz_offset(tz, local - before, NULL),
	               rollout_tz_offset(tz, local - after, NULL)};
	int found = 0;
	int64_t best = 0;

	for (int i = 0; i < 4; i++) {
		int64_t u = local - cand[i];

		if (rollout_tz_offset(tz, u, NULL) == cand[i] && (!found || u < best)) {
			best = u; /* in a fold, the first instant */
			found = 1;
		}
	}
	if (found) {
		*utc = best;
		return 0;
	}
	*utc = local - before; /* in a gap: the offset before it, so later */
	return 1;
}

void rollout_time_local(int64_t t, int offset, char out[static 32])
{
	int64_t l = t + offset;
	int64_t day = rollout_day_of(l), sec = l - day * 86400;
	struct rollout_date d = rollout_civil_from_days(day);
	int a = offset < 0 ? -offset : offset;

	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", d.year % 10000, d.month,
	         d.day, (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60),
	         offset < 0 ? '-' : '+', a / 3600 % 100, a / 60 % 60);
}
