#!/usr/bin/env python3
"""Writes the rollout fixtures from implementations independent of patchlab's.

  patch-tuesdays.txt   the second Tuesday of every month 2000-2040 (calendar)
  local-to-utc.tsv     local wall-clock times in gaps, folds and ordinary
                       hours of several zones, read by PEP 495's fold=0 rule
                       (zoneinfo), which is RFC 5545's: a time in a gap takes
                       the offset before it, one in a fold the first instant
  windows/NAME.out     every occurrence of windows/NAME.json's windows whose
                       local date lies in 2025-01..2027-12 (dateutil.rrule,
                       RFC 5545, for the RRULEs; zoneinfo for the zones)

Needs python3 >= 3.9 with dateutil; reads the system's tz database. Run it
from anywhere; review the diff. patchlab's tests only read the output.
"""
import calendar
import datetime as dt
import glob
import json
import os
import re
from zoneinfo import ZoneInfo

from dateutil import rrule as du

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = dt.timezone.utc
FIRST = dt.date(2025, 1, 1)
LAST = dt.date(2027, 12, 31)


def patch_tuesday(y, m):
    tuesdays = [d for d in calendar.Calendar().itermonthdates(y, m)
                if d.month == m and d.weekday() == calendar.TUESDAY]
    return tuesdays[1]


def write_patch_tuesdays():
    with open(os.path.join(HERE, "patch-tuesdays.txt"), "w") as f:
        f.write("# YYYY-MM  second Tuesday (python calendar); 2000-2040\n")
        for y in range(2000, 2041):
            for m in range(1, 13):
                f.write(f"{y:04d}-{m:02d} {patch_tuesday(y, m).isoformat()}\n")


def to_utc(local, zone):
    """(utc, shifted) for a naive local datetime, by fold=0."""
    z = ZoneInfo(zone)
    aware = local.replace(tzinfo=z, fold=0)
    utc = aware.astimezone(UTC)
    back = utc.astimezone(z).replace(tzinfo=None)
    return utc, back != local


def iso_local(t, zone):
    s = t.astimezone(ZoneInfo(zone)).isoformat()
    return s if s[-6] in "+-" else s  # always has an offset for aware datetimes


def iso_utc(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_local_to_utc():
    zones = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC",
             "Pacific/Chatham", "America/St_Johns", "Europe/London", "America/Sao_Paulo",
             "Africa/Casablanca", "Asia/Tehran"]
    rows = []
    for zone in zones:
        z = ZoneInfo(zone)
        for year in (1996, 2007, 2019, 2026, 2038, 2045):
            # each change of offset in the year, found hour by hour
            t = dt.datetime(year, 1, 1, tzinfo=UTC)
            prev = t.astimezone(z).utcoffset()
            marks = [dt.datetime(year, 1, 15, 12, 0)]
            while t.year == year:
                t2 = t + dt.timedelta(hours=1)
                off = t2.astimezone(z).utcoffset()
                if off != prev:
                    # the local wall clock around the change, both sides
                    before = (t2 + prev).replace(tzinfo=None)
                    for mins in (-61, -30, -1, 0, 1, 15, 30, 59, 60, 61, 90):
                        marks.append(before + dt.timedelta(minutes=mins))
                    prev = off
                t = t2
            for local in marks:
                utc, shifted = to_utc(local, zone)
                rows.append(f"{zone}\t{local.strftime('%Y-%m-%dT%H:%M:%S')}\t{iso_utc(utc)}\t{int(shifted)}\n")
    with open(os.path.join(HERE, "local-to-utc.tsv"), "w") as f:
        f.write("# zone\tlocal wall clock\tUTC by fold=0 (zoneinfo)\tshifted out of a gap\n")
        f.writelines(rows)


WEEKDAYS = {"MO": du.MO, "TU": du.TU, "WE": du.WE, "TH": du.TH, "FR": du.FR, "SA": du.SA,
            "SU": du.SU}


def parse_duration(s):
    secs = 0
    for n, unit in re.findall(r"(\d+)([dhms])", s):
        secs += int(n) * {"d": 86400, "h": 3600, "m": 60, "s": 1}[unit]
    return dt.timedelta(seconds=secs)


def rule_dates(w):
    """Local dates of the window's occurrences in FIRST..LAST, and an UNTIL instant."""
    if "patch_tuesday_offset_days" in w:
        off = dt.timedelta(days=w["patch_tuesday_offset_days"])
        dates = set()
        for y in range(FIRST.year - 1, LAST.year + 2):
            for m in range(1, 13):
                d = patch_tuesday(y, m) + off
                if FIRST <= d <= LAST:
                    dates.add(d)
        return sorted(dates), None
    parts = dict(p.split("=", 1) for p in w["rrule"].split(";"))
    kw = {}
    until_instant = None
    if "INTERVAL" in parts:
        kw["interval"] = int(parts["INTERVAL"])
    if "WKST" in parts:
        kw["wkst"] = WEEKDAYS[parts["WKST"]]
    if "COUNT" in parts:
        kw["count"] = int(parts["COUNT"])
    if "BYMONTH" in parts:
        kw["bymonth"] = [int(v) for v in parts["BYMONTH"].split(",")]
    if "BYMONTHDAY" in parts:
        kw["bymonthday"] = [int(v) for v in parts["BYMONTHDAY"].split(",")]
    if "BYDAY" in parts:
        days = []
        for v in parts["BYDAY"].split(","):
            n = v[:-2]
            days.append(WEEKDAYS[v[-2:]](int(n)) if n else WEEKDAYS[v[-2:]])
        kw["byweekday"] = days
    if "UNTIL" in parts:
        u = parts["UNTIL"]
        if len(u) == 8:
            kw["until"] = dt.datetime.strptime(u, "%Y%m%d").replace(hour=23, minute=59, second=59)
        else:
            until_instant = dt.datetime.strptime(u, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    freq = {"WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY}[parts["FREQ"]]
    if "dtstart" in w:
        start = dt.datetime.strptime(w["dtstart"], "%Y-%m-%d")
    else:
        start = dt.datetime.combine(FIRST - dt.timedelta(days=40), dt.time())
    dates = [d.date() for d in du.rrule(freq, dtstart=start, **kw).between(
        start, dt.datetime.combine(LAST, dt.time(23, 59, 59)), inc=True)]
    return [d for d in dates if FIRST <= d <= LAST], until_instant


def write_windows():
    for path in sorted(glob.glob(os.path.join(HERE, "windows", "*.json"))):
        with open(path) as f:
            policy = json.load(f)
        occ = []
        for idx, w in enumerate(policy["windows"]):
            zone = w["tz"]
            hh, mm = (int(x) for x in w["start"].split(":")[:2])
            dates, until_instant = rule_dates(w)
            for d in dates:
                local = dt.datetime(d.year, d.month, d.day, hh, mm)
                start, shifted = to_utc(local, zone)
                if until_instant and start > until_instant:
                    continue
                end = start + parse_duration(w["duration"])
                occ.append((start, idx, f"{w['name']} {d.isoformat()} {iso_local(start, zone)} "
                            f"{iso_local(end, zone)} {iso_utc(start)} {iso_utc(end)} "
                            f"{int(shifted)}\n"))
        occ.sort(key=lambda o: (o[0], o[1]))
        with open(path[:-5] + ".out", "w") as f:
            f.write("# name date start-local end-local start-utc end-utc shifted; "
                    "local dates 2025-01..2027-12; from gen-fixtures.py\n")
            f.writelines(o[2] for o in occ)


if __name__ == "__main__":
    write_patch_tuesdays()
    write_local_to_utc()
    write_windows()
