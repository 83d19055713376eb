#!/usr/bin/env bash
# The command line as a user meets it: help, exit codes, init, version-compare.
. "$(dirname "$0")/../lib.sh"
P=$PATCHLAB

expect "version" 0 -- $P --version
expect "help lists commands" 0 -- $P help
expect "no command is usage" 2 -- $P
expect "unknown command" 2 -- $P frobnicate
stderr_has "unknown command names it" "'frobnicate' is not a patchlab command"
expect "help of one command" 0 -- $P help version-compare
expect "--help on a command" 0 -- $P version-compare --help
expect "help of unknown" 2 -- $P help nope
expect "self-test" 0 "self-test: command table ok" -- $P self-test

# state: status before init is an input error that says what to do
expect "status before init" 2 -- $P status
stderr_has "status says run init" "run 'patchlab init' first"
expect "init" 0 -- $P init
expect "init again is safe" 0 -- $P init
expect "init json" 0 -- $P init --format json
grep -q '"schema_version"' <<<"$($P init --format json)" && ok || not_ok "init json has schema_version"
expect "bad format" 2 -- $P init --format yaml
stderr_has "bad format names the option" "--format: 'yaml' is not one of text, json"
expect "status" 0 -- $P status
expect "status json" 0 -- $P status --format json
expect "--state elsewhere" 0 -- $P --state "$T/other" init
[ -f "$T/other/patchlab.db" ] && ok || not_ok "--state creates patchlab.db there"

# a database from a newer patchlab is refused, not touched
sqlite3 "$T/other/patchlab.db" "INSERT INTO schema_version(version) VALUES (9999)"
expect "newer schema refused" 2 -- $P --state "$T/other" status
stderr_has "newer schema message" "newer than this patchlab knows"
# an unwritable state directory is an environment error
expect "state is a file" 3 -- $P --state /dev/null/x init

# version-compare, single pair
expect "lt" 0 "<" -- $P version-compare 1.0-1 2.0-2
expect "gt" 0 ">" -- $P version-compare 2:1 1:9
expect "eq" 0 "=" -- $P version-compare 1.0000-1 1.0-1
expect "tilde" 0 "<" -- $P version-compare 1.0~rc1 1.0
expect "rpm caret" 0 ">" -- $P version-compare --rpm 1.0^git1 1.0
expect "rpm caret before" 0 "<" -- $P version-compare --rpm 1.0^git1 1.0.1
expect "rpm tilde" 0 "<" -- $P version-compare --rpm 1.0~rc1 1.0
expect "json" 0 -- $P version-compare --format json 1 2
grep -q '"result": "<"' <<<"$($P version-compare --format json 1 2)" && ok || not_ok "json result"
expect "invalid version" 2 -- $P version-compare 1:2:3- 1
stderr_has "invalid names dpkg's reason" "revision number is empty"
expect "invalid epoch" 2 -- $P version-compare a:1 1
stderr_has "epoch message" "epoch in version is empty"
expect "epoch not number" 2 -- $P version-compare 1a:1 1
stderr_has "epoch not number message" "epoch in version is not number"
expect "lenient like dpkg" 0 ">" -- $P version-compare abc 1
stderr_has "lenient warns" "version number does not start with digit"
expect "blank like dpkg" 0 "<" -- $P version-compare "" "~"
expect "blank equals blank" 0 "=" -- $P version-compare "" "<unknown>"
expect "one argument" 2 -- $P version-compare 1
expect "rpm invalid" 2 -- $P --quiet version-compare --rpm "1.0-" 1

# batch mode
printf '1.0\t2.0\n2.0\t1.0\n1\t1\n1:0\t2\n' >"$T/pairs"
expect "batch" 0 "$(printf '<\n>\n=\n>')" -- $P version-compare - <"$T/pairs"
printf '1.0\t2.0' >"$T/noeol"
expect "batch without final newline" 0 "<" -- $P version-compare - <"$T/noeol"
printf '1.0\t2.0\r\n' >"$T/crlf"
expect "batch crlf" 0 "<" -- $P version-compare - <"$T/crlf"
printf '' >"$T/empty"
expect "batch empty" 0 "" -- $P version-compare - <"$T/empty"
printf '1.0\t2.0\n1.0 2.0\n' >"$T/notab"
expect "batch missing tab" 2 -- $P version-compare - <"$T/notab"
stderr_has "batch names the line" "line 2: expected two versions separated by one TAB"
printf '1\t2\n1\t2\n1\t0:\n' >"$T/badver"
expect "batch bad version" 2 -- $P version-compare - <"$T/badver"
stderr_has "batch bad version line" "line 3: version '0:' has bad syntax: nothing after colon"
printf '1.0\t1.0^a\n' >"$T/rpmpairs"
expect "batch rpm" 0 "<" -- $P version-compare --rpm - <"$T/rpmpairs"
# a long input crosses the reader's chunk boundary
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "%d.%d-1\t%d.%d-1\n", i, i % 7, i, (i + 1) % 7 }' >"$T/many"
got=$($P version-compare - <"$T/many" | sort | uniq -c | awk '{printf "%s%s ", $2, $1}')
want=$(awk -F'\t' '{ split($1, a, /[.-]/); split($2, b, /[.-]/); print (a[2] < b[2]) ? "<" : ">" }' "$T/many" | sort | uniq -c | awk '{printf "%s%s ", $2, $1}')
[ "$got" = "$want" ] && ok || not_ok "batch 200000 lines: $got vs $want"

finish
