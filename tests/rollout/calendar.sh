#!/usr/bin/env bash
# patchlab calendar: Patch Tuesday and the maintenance windows, with a pinned clock.
. "$(dirname "$0")/../lib.sh"
P=$PATCHLAB
D=$PL_TEST_DATA/rollout

# the built-in policy needs no state directory and no tz database (UTC)
expect "december 2026" 0 -- $P calendar --month 2026-12
grep -q '^2026-12: Patch Tuesday 2026-12-08$' <<<"$($P calendar --month 2026-12)" &&
  ok || not_ok "calendar --month 2026-12 shows Patch Tuesday 2026-12-08"
expect "json patch tuesday" 0 "2026-12-08" -- \
  bash -c "$P calendar --month 2026-12 --format json | jq -r .patch_tuesday"
expect "json windows" 0 "5 patch-tuesday+2 2026-12-10T22:00:00Z 2026-12-11T01:00:00Z" -- \
  bash -c "$P calendar --month 2026-12 --format json |
    jq -r '\"\\(.windows | length) \\(.windows[1].name) \\(.windows[1].start_utc) \\(.windows[1].end_utc)\"'"
expect "january 2024" 0 "2024-01-09" -- \
  bash -c "$P calendar --month 2024-01 --format json | jq -r .patch_tuesday"
expect "this month by the clock" 0 "2027-02 2027-02-09" -- \
  bash -c "PATCHLAB_NOW=2027-02-20T12:00:00Z $P calendar --format json | jq -r '\"\\(.month) \\(.patch_tuesday)\"'"

# --next with an injected clock: an open window, then the next one
expect "next: open" 0 "true patch-tuesday+2 3600" -- \
  bash -c "PATCHLAB_NOW=2026-12-11T00:00:00Z $P calendar --next --format json |
    jq -r '\"\\(.open) \\(.window.name) \\(.seconds)\"'"
expect "next: after" 0 "false weekly-sat 2026-12-12T02:00:00Z" -- \
  bash -c "$P calendar --next --after 2026-12-11T01:00:00Z --format json |
    jq -r '\"\\(.open) \\(.window.name) \\(.window.start_utc)\"'"
expect "next text" 0 -- env PATCHLAB_NOW=2026-12-11T00:00:00Z $P calendar --next
grep -q "patch-tuesday+2 is open, closes in 0d 01h 00m" <<<"$(PATCHLAB_NOW=2026-12-11T00:00:00Z $P calendar --next)" &&
  ok || not_ok "next text says the window is open"

# a policy with time zones: the spring-forward gap in Berlin
if [ -e /usr/share/zoneinfo/Europe/Berlin ]; then
  expect "berlin gap" 0 "2026-03-29T03:30:00+02:00 2026-03-29T01:30:00Z true" -- \
    bash -c "$P calendar --month 2026-03 --policy $D/windows/berlin.json --format json |
      jq -r '.windows[] | select(.name == \"sunday-0230\" and .date == \"2026-03-29\") |
        \"\\(.start_local) \\(.start_utc) \\(.shifted)\"'"
  expect "berlin text" 0 -- $P calendar --month 2026-10 --policy "$D/windows/berlin.json"
  grep -q "Sun 2026-10-25 02:30 +02:00 CEST Sun 2026-10-25 05:30 +01:00 CET" \
    <<<"$($P calendar --month 2026-10 --policy "$D/windows/berlin.json")" &&
    ok || not_ok "the fold: 02:30 CEST for 4 real hours ends 05:30 CET"
fi

# bad input: exit 2, naming the file and the JSON path
expect "bad rrule" 2 -- $P calendar --month 2026-12 --policy "$D/bad/bad-byday.json"
stderr_has "bad rrule path" "bad-byday.json: \$.windows[0].rrule: BYDAY: '2XX' is not a weekday"
expect "bad tz" 2 -- $P calendar --policy "$D/bad/bad-tz.json"
stderr_has "bad tz path" "\$.windows[0].tz: unknown time zone 'Mars/Olympus_Mons'"
expect "unknown key" 2 -- $P calendar --policy "$D/bad/unknown-key.json"
stderr_has "unknown key path" "unknown-key.json: \$.window: unknown field"
expect "missing policy" 2 -- $P calendar --policy "$T/nope.json"
expect "bad month" 2 -- $P calendar --month 2026-13
stderr_has "bad month says so" "--month '2026-13': expected YYYY-MM"
expect "bad month form" 2 -- $P calendar --month 26-12
expect "month and next" 2 -- $P calendar --month 2026-12 --next
expect "after without next" 2 -- $P calendar --after 2026-12-01
expect "bad after" 2 -- $P calendar --next --after tomorrow
expect "bad format" 2 -- $P calendar --format yaml
expect "stray argument" 2 -- $P calendar 2026-12
expect "help" 0 -- $P calendar --help

finish
