#!/usr/bin/env bash
# patchlab report in its four formats, on the dashboard tests' state (three
# candidates: passed and approved, failed, never tested). Each document is
# checked by a parser of its own kind (jq, python3's csv, xmllint) and the
# CSV and JUnit outputs against golden files (PATCHLAB_TEST_REGENERATE=1
# rewrites them; the state directory's path reads STATE in them).
. "$(dirname "$0")/../lib.sh"
. "$PL_SRC/tests/server/fixture.sh"
for t in python3 xmllint; do
  command -v $t >/dev/null || { echo "no $t: skipped"; exit 77; }
done
P=$PATCHLAB
G=$PL_TEST_DATA/report
export PATCHLAB_NOW=2026-01-11T08:00:00Z
fixture_build
expect "approve sec-good" 0 -- $P approve sec-good --as carol --note 'looks <fine> & "safe"' --policy "$POLICY"
R="--policy $POLICY"

# golden FILE NAME: compares (or with PATCHLAB_TEST_REGENERATE=1 rewrites)
golden() {
  sed "s|$PATCHLAB_STATE|STATE|g" "$1" >"$1.norm"
  if [ "${PATCHLAB_TEST_REGENERATE:-}" = 1 ]; then
    cp "$1.norm" "$G/$2"
    ok
  elif diff -u "$G/$2" "$1.norm" >"$T/diff"; then
    ok
  else
    not_ok "$2 differs from the golden file: $(head -c 1500 "$T/diff")"
  fi
}

# ---- JSON --------------------------------------------------------------------
expect "json" 0 -- $P report --format json $R --output "$T/r.json"
jq -e . "$T/r.json" >/dev/null && ok || not_ok "json does not parse"
expect "json: candidates and states" 0 "sec-bad:failed:fail sec-good:approved:pass sec-new:new:null" -- \
  jq -r '[.candidates[] | "\(.name):\(.state):\(.verdict)"] | join(" ")' "$T/r.json"
expect "json: the run's stages and checks" 0 "r-good 1200 4 2 0" -- \
  jq -r '.candidates[1].lab_runs[0] | "\(.run) \(.seconds) \(.stages | length) \(.checks.pass) \(.checks.fail)"' "$T/r.json"
expect "json: a failed check with its evidence" 0 "boot/services $PATCHLAB_STATE/runs/r-bad/vm1.console.log" -- \
  jq -r '.candidates[0].lab_runs[0].failed_checks[0] | "\(.stage)/\(.name) \(.evidence)"' "$T/r.json"
expect "json: the approval" 0 'carol cab looks <fine> & "safe"' -- \
  jq -r '.candidates[1].approvals[0] | "\(.actor) \(.role) \(.note)"' "$T/r.json"
expect "json: unknown figures are null, not 0" 0 "null null" -- \
  jq -r '.compliance | "\(.share_fully_patched) \(.past_sla)"' "$T/r.json"
expect "json: every section present" 0 "candidates compliance filter findings generated_at hosts notes policy" -- \
  jq -r 'keys | join(" ")' "$T/r.json"

# ---- HTML ----------------------------------------------------------------------
expect "html" 0 -- $P report --format html $R --output "$T/r.html"
[ -s "$T/r.html" ] && ok || not_ok "html is empty"
for want in "<!DOCTYPE html>" "<svg" "Open findings by severity" "Mean time to patch" \
  "Lab run stages" "Rollout wave progress" "<style>" 'looks &lt;fine&gt; &amp; &quot;safe&quot;' \
  "sec-good" "r-good"; do
  grep -qF -- "$want" "$T/r.html" && ok || not_ok "html lacks '$want'"
done
grep -qE '<script|<link|src=|url\(' "$T/r.html" && not_ok "html is not self-contained" || ok
python3 - "$T/r.html" <<'PY' && ok || not_ok "html does not parse as balanced markup"
import sys
from html.parser import HTMLParser
void = {"meta", "br", "input", "link", "rect", "img"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []
    def handle_starttag(self, t, a):
        if t not in void: self.stack.append(t)
    def handle_startendtag(self, t, a): pass
    def handle_endtag(self, t):
        if t in void: return
        assert self.stack and self.stack[-1] == t, (t, self.stack[-5:])
        self.stack.pop()
p = P(); p.feed(open(sys.argv[1]).read()); p.close()
assert not p.stack, p.stack
PY
python3 - "$T/r.html" <<'PY' && ok || not_ok "the charts are not well-formed SVG"
import re, sys, xml.dom.minidom
for svg in re.findall(r"<svg.*?</svg>", open(sys.argv[1]).read(), re.S):
    xml.dom.minidom.parseString(svg)
PY

# ---- CSV ------------------------------------------------------------------------
expect "csv" 0 -- $P report --format csv $R --output "$T/r.csv"
python3 - "$T/r.csv" <<'PY' && ok || not_ok "csv does not parse as RFC 4180 with one width"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0][0] == "record" and len(rows) > 3
assert all(len(r) == len(rows[0]) for r in rows), [len(r) for r in rows]
kinds = {r[0] for r in rows[1:]}
assert {"candidate", "run", "host", "compliance"} <= kinds, kinds
web = [r for r in rows if r[0] == "host" and r[16] == "web1"][0]
assert web[18] == 'web, "front"', web
PY
grep -q $'\r$' "$T/r.csv" && ok || not_ok "csv lines end in CRLF (RFC 4180)"
golden "$T/r.csv" report.csv

# ---- JUnit ----------------------------------------------------------------------
expect "junit" 0 -- $P report --format junit $R --output "$T/r.xml"
xmllint --noout "$T/r.xml" && ok || not_ok "junit is not well-formed XML"
counts=
for x in testsuite testcase failure skipped; do
  counts="$counts $(xmllint --xpath "count(//$x)" "$T/r.xml")"
done
[ "$counts" = " 3 3 1 1" ] && ok || not_ok "junit: suites, testcases, failures, skipped:$counts"
expect "junit: the failure names the check and the evidence" 0 "boot/services: test detail" -- \
  xmllint --xpath 'string(//testsuite[@name="sec-bad"]//failure/@message)' "$T/r.xml"
grep -q "evidence: $PATCHLAB_STATE/runs/r-bad/vm1.console.log" "$T/r.xml" && ok || not_ok "junit: evidence path"
golden "$T/r.xml" report.junit.xml

# ---- filters and bad input ---------------------------------------------------------
expect "one candidate" 0 "sec-bad" -- bash -c "$P report --format json $R --candidate sec-bad | jq -r '[.candidates[].name] | join(\" \")'"
expect "since: nothing after" 0 "0" -- bash -c "$P report --format json $R --since 2026-02-01 | jq '.candidates | length'"
expect "since: everything before" 0 "3" -- bash -c "$P report --format json $R --since 2026-01-01 | jq '.candidates | length'"
expect "stdout by default" 0 -- bash -c "$P report $R | grep -q '<svg'"
cp "$T/r.json" "$T/keep.json"
expect "unknown candidate" 2 -- $P report --format json $R --candidate nope --output "$T/keep.json"
stderr_has "unknown candidate: says which" "nope"
cmp -s "$T/r.json" "$T/keep.json" && ok || not_ok "a failed report overwrote its output"
expect "bad format" 2 -- $P report --format pdf
stderr_has "bad format: names it" "'pdf' is not one of html, json, csv, junit"
expect "bad since" 2 -- $P report --since yesterday
stderr_has "bad since: names it" "--since"
expect "bad policy" 2 -- $P report --policy "$PL_TEST_DATA/gate/bad-empty.json"
expect "no state" 2 -- $P --state "$T/none" report
expect "before a scan: a note, no figures" 0 "null true" -- bash -c "$P report --format json $R |
  jq -r '\"\\(.compliance.hosts_fully_patched) \\([.notes[] | test(\"scan\")] | any)\"'"

# ---- with findings and a rollout (tests/data/report/extras.sql) ----------------------
sqlite3 "$DB" <"$G/extras.sql" && ok || not_ok "extras.sql"
expect "json with findings" 0 -- $P report --format json $R --output "$T/x.json"
expect "CVEs closed by sec-good" 0 "CVE-2026-0001:high CVE-2026-0002:medium" -- \
  jq -r '[.candidates[1].cves_closed[] | "\(.cve):\(.urgency)"] | join(" ")' "$T/x.json"
expect "open findings by severity" 0 '1 {"high":1}' -- \
  jq -c '"\(.findings.open) \(.findings.by_severity | tojson)"' -r "$T/x.json"
expect "compliance: hosts, fully patched, share, past SLA" 0 "2 1 0.5 1" -- \
  jq -r '.compliance | "\(.hosts) \(.hosts_fully_patched) \(.share_fully_patched) \(.past_sla)"' "$T/x.json"
expect "mean days to patch (resolved after 4 days)" 0 "4" -- \
  jq -r '.compliance.mean_days_to_patch.medium' "$T/x.json"
expect "hosts: open findings" 0 "db1:0 web1:1" -- \
  jq -r '[.hosts[] | "\(.name):\(.open_findings)"] | join(" ")' "$T/x.json"
expect "waves" 0 "canary:succeeded:1:0 pilot:failed:0:1" -- \
  jq -r '[.candidates[1].rollout.waves[] | "\(.name):\(.state):\(.succeeded):\(.rolled_back)"] | join(" ")' "$T/x.json"
expect "web1: deployed, with the time it took" 0 "pl-good 1.0 450 0" -- \
  jq -r '.hosts[] | select(.name == "web1") | "\(.deployed[0].package) \(.deployed[0].version) \(.deployed[0].seconds) \(.failures)"' "$T/x.json"
expect "db1: a failure and a rollback" 0 "0 1 1" -- \
  jq -r '.hosts[] | select(.name == "db1") | "\(.deployed | length) \(.failures) \(.rollbacks)"' "$T/x.json"
expect "html with findings" 0 -- $P report --format html $R --output "$T/x.html"
for want in '<title>high: 1</title>' '<title>medium: 4</title>' '<title>succeeded: 1</title>' \
  '<title>rolled back: 1</title>' 'CVE-2026-0001 (high)' '<b>50%</b>hosts fully patched'; do
  grep -qF -- "$want" "$T/x.html" && ok || not_ok "html with findings lacks '$want'"
done
# PATCHLAB_REPORT_KEEP=DIR keeps the HTML report to look at
[ -n "${PATCHLAB_REPORT_KEEP:-}" ] && cp "$T/x.html" "$PATCHLAB_REPORT_KEEP/"
expect "csv with findings" 0 -- $P report --format csv $R --output "$T/x.csv"
golden "$T/x.csv" report-extras.csv
finish
