/* cmd_calendar.c - 'patchlab calendar': Patch Tuesday and the maintenance windows. */
#include "cli.h"

#include <getopt.h>

#include "rollout/rollout.h"

static const char *const cal_wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

static void cal_date_str(struct rollout_date d, char out[static 16])
{
	snprintf(out, 16, "%04d-%02d-%02d", d.year % 10000, d.month % 100, d.day % 100);
}

static json_t *cal_window_json(const struct rollout_window *w)
{
	char sl[32], el[32], su[21], eu[21], date[16];

	rollout_time_local(w->start, w->start_offset, sl);
	rollout_time_local(w->end, w->end_offset, el);
	pl_time_iso(w->start, su);
	pl_time_iso(w->end, eu);
	cal_date_str(w->date, date);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "name",
	                 w->rule->name, "tz", w->rule->tz_name, "date", date, "start_local", sl,
	                 "end_local", el, "start_abbr", w->start_abbr, "end_abbr", w->end_abbr,
	                 "start_utc", su, "end_utc", eu, "duration_seconds",
	                 (json_int_t)w->rule->duration, "shifted", w->shifted);
}

/* "Sat 2026-12-05 02:00 +01:00 CET": local time, offset and abbreviation. */
static void cal_local_text(int64_t t, int offset, const char *abbr, char out[static 64])
{
	char iso[32];

	rollout_time_local(t, offset, iso);
	snprintf(out, 64, "%s %.10s %.5s %s %s",
	         cal_wday[rollout_weekday(rollout_day_of(t + offset))], iso, iso + 11, iso + 19,
	         abbr);
}

static void cal_window_text(const struct rollout_window *w)
{
	char ls[64], le[64], su[21], eu[21];

	cal_local_text(w->start, w->start_offset, w->start_abbr, ls);
	cal_local_text(w->end, w->end_offset, w->end_abbr, le);
	pl_time_iso(w->start, su);
	pl_time_iso(w->end, eu);
	printf("  %-18s %-32s %-32s %s .. %s  %s%s\n", w->rule->name, ls, le, su, eu,
	       w->rule->tz_name, w->shifted ? "  (start moved out of a DST gap)" : "");
}

static int cal_month(struct cli *cli, const struct rollout_policy *p, int y, int m, int fmt)
{
	struct rollout_windows ws;
	struct rollout_date pt = rollout_patch_tuesday(y, m);
	char ptd[16], month[16];

	if (rollout_windows_month(p, y, m, &ws, &cli->err) < 0)
		return cli->err.code;
	cal_date_str(pt, ptd);
	snprintf(month, sizeof(month), "%04d-%02d", y % 10000, m % 100);
	if (fmt == CLI_FMT_JSON) {
		json_t *arr = json_array();

		for (size_t i = 0; i < ws.n; i++)
			json_array_append_new(arr, cal_window_json(&ws.v[i]));
		rollout_windows_free(&ws);
		return cli_print_json(json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "month", month,
		                                "patch_tuesday", ptd, "policy", "name", p->name,
		                                "file", p->file, "windows", arr));
	}
	printf("%s: Patch Tuesday %s\n", month, ptd);
	printf("policy %s from %s: %zu window occurrence(s)\n", p->name, p->file, ws.n);
	if (ws.n)
		printf("  %-18s %-32s %-32s %s\n", "WINDOW", "OPENS (LOCAL)", "CLOSES (LOCAL)",
		       "UTC, TIME ZONE");
	for (size_t i = 0; i < ws.n; i++)
		cal_window_text(&ws.v[i]);
	rollout_windows_free(&ws);
	return 0;
}

static int cal_next(struct cli *cli, const struct rollout_policy *p, int64_t after, int fmt)
{
	struct rollout_window w;
	char now[21];
	int open;

	if (rollout_next_window(p, after, &w, &cli->err) < 0)
		return cli->err.code;
	open = w.start <= after;
	pl_time_iso(after, now);
	if (fmt == CLI_FMT_JSON)
		return cli_print_json(
		    json_pack("{s:s, s:b, s:I, s:o}", "now", now, "open", open, "seconds",
		              (json_int_t)(open ? w.end - after : w.start - after), "window",
		              cal_window_json(&w)));
	{
		int64_t s = open ? w.end - after : w.start - after;

		printf("at %s: %s %s in %lldd %02lldh %02lldm\n", now, w.rule->name,
		       open ? "is open, closes" : "opens", (long long)(s / 86400),
		       (long long)(s / 3600 % 24), (long long)(s / 60 % 60));
		cal_window_text(&w);
	}
	return 0;
}

static int cal_parse_month(const char *s, int *y, int *m)
{
	struct pl_err e = PL_ERR_INIT;
	char year[5];

	if (strlen(s) != 7 || s[4] != '-')
		return -1;
	memcpy(year, s, 4);
	year[4] = '\0';
	if (strspn(year, "0123456789") != 4 || strspn(s + 5, "0123456789") != 2)
		return -1;
	if (pl_parse_int(year, 1900, 9999, y, "--month", &e) < 0 ||
	    pl_parse_int(s + 5, 1, 12, m, "--month", &e) < 0)
		return -1;
	return 0;
}

int cmd_calendar(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"month", required_argument, NULL, 'm'},  {"next", no_argument, NULL, 'n'},
	    {"after", required_argument, NULL, 'a'},  {"policy", required_argument, NULL, 'p'},
	    {"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
	const char *month = NULL, *after_s = NULL, *policy = NULL;
	struct rollout_policy p;
	int64_t now = pl_clock_now(NULL), after = now;
	int fmt = CLI_FMT_TEXT, next = 0, ch, rc, y, m;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			month = optarg;
			break;
		case 'n':
			next = 1;
			break;
		case 'a':
			after_s = optarg;
			break;
		case 'p':
			policy = optarg;
			break;
		case 'f':
			if (cli_parse_format(cli, optarg, CLI_FMT_TEXT | CLI_FMT_JSON, &fmt) < 0)
				return PL_EUSAGE;
			break;
		default:
			return cli_usage_error(cli, cmd, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error(cli, cmd, "unexpected argument '%s'", argv[optind]);
	if (month && next)
		return cli_usage_error(cli, cmd, "--month and --next exclude each other");
	if (after_s && !next)
		return cli_usage_error(cli, cmd, "--after goes with --next");
	if (month && cal_parse_month(month, &y, &m) < 0)
		return cli_usage_error(cli, cmd, "--month '%s': expected YYYY-MM", month);
	if (after_s && pl_time_parse(after_s, &after, &cli->err) < 0)
		return cli_usage_error(cli, cmd, "--after: %s", cli->err.msg);
	if (!month) {
		struct rollout_date d = rollout_civil_from_days(rollout_day_of(now));

		y = d.year;
		m = d.month;
	}
	rc = policy ? rollout_policy_load(policy, &p, &cli->err)
	            : rollout_policy_default(&p, &cli->err);
	if (rc < 0)
		return rc;
	rc = next ? cal_next(cli, &p, after, fmt) : cal_month(cli, &p, y, m, fmt);
	rollout_policy_free(&p);
	return rc;
}
