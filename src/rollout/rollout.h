/*
 * rollout.h - production rollout: when it may happen (the maintenance
 * calendar) and, later, how (waves and their executors).
 *
 * Owns: rollout policies (policies/rollout-*.json; the built-in one is
 * policies/rollout-default.json), maintenance windows (an RRULE subset or an
 * offset from Patch Tuesday, a local start time, a duration, a time zone),
 * Patch Tuesday, civil-date arithmetic, and time zones read from the
 * system's tz database (TZif files parsed here, so every conversion is a
 * pure function of its arguments: no TZ environment, no localtime()).
 * Does not own: the candidate state machine and approvals (src/candidate/),
 * the audit log (src/audit/), what runs inside a window (waves, later).
 *
 * Local times that do not exist or exist twice (DST changes) follow
 * RFC 5545, 3.3.5: a start inside a gap (02:30 on a spring-forward night in
 * Europe/Berlin) is read with the offset before the gap, so it moves forward
 * by the gap's length (03:30 CEST); a start inside a fold (02:30 on a
 * fall-back night) is the first of the two instants (02:30 CEST). Durations
 * are real elapsed time: a 4h window is 4 hours long however the clocks
 * are changed during it, so its local end may read 3 or 5 hours later.
 */
#ifndef PL_ROLLOUT_H
#define PL_ROLLOUT_H

#include "core/core.h"

/* ---- civil dates (proleptic Gregorian, no time zone) ----------------- */

struct rollout_date {
	int year, month, day; /* month 1-12, day 1-31 */
};

/* Days since 1970-01-01 of a civil date (negative before). */
int64_t rollout_days_from_civil(int year, int month, int day);
/* The civil date of a day number. */
struct rollout_date rollout_civil_from_days(int64_t days);
/* Day of the week of a day number: 0 Sunday ... 6 Saturday. */
int rollout_weekday(int64_t days);
/* Number of days in month (1-12) of year. */
int rollout_month_days(int year, int month);
/* Floor division of a Unix time into its UTC day number. */
int64_t rollout_day_of(int64_t t);

/* ---- Patch Tuesday ---------------------------------------------------- */

/* The second Tuesday of the month (a date, the same in every time zone). */
struct rollout_date rollout_patch_tuesday(int year, int month);

/* ---- time zones -------------------------------------------------------- */

/* A loaded zone: transitions, local time types, the POSIX TZ rule for times
 * after the last transition. Immutable once loaded, safe to share. */
struct rollout_tz;

/* Loads zone name ("Europe/Berlin", "UTC") from $TZDIR or
 * /usr/share/zoneinfo. An unknown or malformed zone is PL_EINVAL naming it;
 * "UTC" works without the tz database. *out is the caller's: free it. */
int rollout_tz_load(const char *name, struct rollout_tz **out, struct pl_err *err);
void rollout_tz_free(struct rollout_tz *tz);
/* The name the zone was loaded by (borrowed). */
const char *rollout_tz_name(const struct rollout_tz *tz);

/* The offset east of UTC in seconds at instant t; *abbr (may be NULL) gets
 * the abbreviation in use ("CEST"), borrowed from tz. */
int rollout_tz_offset(const struct rollout_tz *tz, int64_t t, const char **abbr);

/* Converts local wall-clock seconds (the local civil time counted like a
 * Unix time) to UTC by RFC 5545's rule above. Returns 1 when the local time
 * fell into a gap and was moved forward, 0 otherwise. */
int rollout_tz_to_utc(const struct rollout_tz *tz, int64_t local, int64_t *utc);

/* Formats t at offset (seconds east) as "2026-12-05T02:00:00+01:00". */
void rollout_time_local(int64_t t, int offset, char out[static 32]);

/* ---- policies and maintenance windows ---------------------------------- */

enum rollout_freq { ROLLOUT_WEEKLY = 1, ROLLOUT_MONTHLY = 2 };

#define ROLLOUT_MAX_BYDAY 64

/* One window rule of a policy. Either an RRULE (freq set) or a Patch
 * Tuesday offset (is_patch_tuesday). Strings and tz owned. */
struct rollout_window_rule {
	char *name;
	char *rrule;   /* the RRULE as written; NULL for a Patch Tuesday rule */
	char *tz_name; /* as written */
	struct rollout_tz *tz;
	int start_sec;        /* local time of day the window opens, seconds */
	int64_t duration;     /* seconds of real elapsed time */
	int is_patch_tuesday; /* the window opens pt_offset days after Patch Tuesday */
	int pt_offset;
	/* the RRULE subset */
	enum rollout_freq freq;
	int interval; /* INTERVAL, 1 when absent */
	int wkst;     /* WKST as a weekday, Monday when absent */
	struct {
		int wday;    /* 0 Sunday ... 6 Saturday */
		int ordinal; /* MONTHLY: 2 for 2TU, -1 for -1FR; 0 for every */
	} byday[ROLLOUT_MAX_BYDAY];
	size_t nbyday;
	int bymonthday[62]; /* 1..31 or -31..-1 */
	size_t nbymonthday;
	unsigned bymonth; /* bit m set for month m; 0 for every month */
	int has_dtstart;
	int64_t dtstart_day; /* the anchor date (day number) */
	long count;          /* COUNT, 0 when absent */
	int64_t until_day;   /* last local date (UNTIL=date or COUNT); INT64_MAX */
	int64_t until_utc;   /* last start instant (UNTIL=...Z); INT64_MAX */
};

/* A rollout policy (policies/NAME.json). Owned strings and rules. */
struct rollout_policy {
	char *file, *name, *description;
	struct rollout_window_rule *windows;
	size_t nwindows;
};

/* Loads and validates a policy; errors name the file and JSON path
 * ("p.json: $.windows[1].rrule: BYDAY: 'XX' is not a weekday"). */
int rollout_policy_load(const char *path, struct rollout_policy *out, struct pl_err *err);
/* The built-in policy (policies/rollout-default.json, embedded at build time). */
int rollout_policy_default(struct rollout_policy *out, struct pl_err *err);
/* Validates an already parsed document; file names it in errors. */
int rollout_policy_from_json(json_t *root, const char *file, struct rollout_policy *out,
                             struct pl_err *err);
void rollout_policy_free(struct rollout_policy *p);
/* The rule named name, or NULL. */
const struct rollout_window_rule *rollout_policy_window(const struct rollout_policy *p,
                                                        const char *name);

/* One occurrence of a window. */
struct rollout_window {
	const struct rollout_window_rule *rule; /* borrowed from the policy */
	struct rollout_date date;               /* the local date it belongs to */
	int64_t start, end;                     /* UTC, end exclusive */
	int start_offset, end_offset;           /* seconds east of UTC */
	char start_abbr[16], end_abbr[16];
	int shifted; /* the start fell into a DST gap and was moved forward */
};

struct rollout_windows {
	struct rollout_window *v;
	size_t n;
};
void rollout_windows_free(struct rollout_windows *w);

/* 1 when rule r has an occurrence on local date day (a day number). */
int rollout_rule_matches(const struct rollout_window_rule *r, int64_t day);

/* The occurrence of rule r on local date day (r must match that day). */
void rollout_rule_occurrence(const struct rollout_window_rule *r, int64_t day,
                             struct rollout_window *out);

/* Every occurrence that overlaps [from, to) (UTC), sorted by start, then
 * by the policy's order. out is the caller's: rollout_windows_free(). */
int rollout_windows_between(const struct rollout_policy *p, int64_t from, int64_t to,
                            struct rollout_windows *out, struct pl_err *err);

/* Every occurrence whose local date (in its window's own time zone) lies in
 * year-month, sorted by start: what 'patchlab calendar --month' lists. */
int rollout_windows_month(const struct rollout_policy *p, int year, int month,
                          struct rollout_windows *out, struct pl_err *err);

/* The first occurrence that has not ended at after (an open window counts:
 * its start may lie before after). PL_ENOTFOUND when no window opens in
 * the next ten years. The scheduler calls this with its pl_clock's now. */
int rollout_next_window(const struct rollout_policy *p, int64_t after, struct rollout_window *out,
                        struct pl_err *err);

#endif
