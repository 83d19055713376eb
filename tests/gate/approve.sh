#!/usr/bin/env bash
# patchlab approve, reject, waive, gate status|promote and the change record
# in 'candidate show', on state built without booting a VM: candidates from
# small .debs (dpkg-deb), inventory hosts from a dpkg status file, and, as
# the one test-only shortcut, the rows a lab run writes (images, lab_runs,
# checks, and the candidate's state after the run) put in with sqlite3 the
# way src/lab/run.c and candrun.c record them.
. "$(dirname "$0")/../lib.sh"
P=$PATCHLAB
for t in sqlite3 dpkg-deb jq; do
  command -v $t >/dev/null || { echo "no $t: skipped"; exit 77; }
done
sh "$PL_SRC/tests/lab/make-debs.sh" "$T/debs" >/dev/null
DB=$PATCHLAB_STATE/patchlab.db
POL=$PL_TEST_DATA/gate/promotion
LAB="--policy $POL/lab.json"
export PATCHLAB_ACTOR=qa-test
unset PATCHLAB_NOW
T0=2026-01-10T10:00:00Z    # the lab runs start here and end 20 minutes later
LATER=2026-01-12T09:00:00Z # 46 h on: the 24 h soak is over
SOON=2026-01-10T12:20:00Z  # 2 h on: still soaking

# image NAME: a registered image row (what 'image import' leaves).
image() {
  sqlite3 "$DB" "INSERT INTO images(name, origin, path, format, sha256, size_bytes, inspection,
    created_at) VALUES ('$1', 'imported', '/nonexistent/$1.qcow2', 'qcow2', '$(printf '%064d' 0)',
    0, '{}', '$T0')"
}
# run ID CANDIDATE IMAGE STATE VERDICT START END CHECK=STATUS...: a finished
# (or, STATE running, unfinished) candidate lab run with its checks, and the
# candidate's state after it, as candrun.c records them.
run() {
  local id=$1 cand=$2 img=$3 state=$4 verdict=$5 start=$6 end=$7 sql c
  shift 7
  sql="INSERT INTO lab_runs(id, kind, image_id, uri, pid, pid_start, state, started_at, ended_at,
    result, candidate_id, verdict) VALUES ('$id', 'candidate', (SELECT id FROM images WHERE
    name = '$img'), 'qemu:///system', 1, 1, '$state', '$start', $([ "$end" = - ] && echo NULL || echo "'$end'"),
    '{\"evidence_dir\": \"/state/runs/$id\", \"console_log\": \"/state/runs/$id/console.log\"}',
    (SELECT id FROM candidates WHERE name = '$cand'), $([ "$verdict" = - ] && echo NULL || echo "'$verdict'"));"
  for c in "$@"; do
    sql="$sql INSERT INTO checks(run_id, vm, stage, name, status, detail) VALUES ('$id', 'vm1',
      '${c%%/*}', '$(echo "${c#*/}" | cut -d= -f1)', '${c#*=}', 'test');"
  done
  case $state in
    running) sql="$sql UPDATE candidates SET state = 'testing' WHERE name = '$cand';" ;;
    *) sql="$sql UPDATE candidates SET state = '$([ "$verdict" = pass ] && echo passed || echo failed)'
         WHERE name = '$cand';" ;;
  esac
  sqlite3 "$DB" "BEGIN; $sql COMMIT;"
}
PASS="apply/dpkg=pass apply/free-space=pass boot/services=pass boot/ports=pass"
# snapshot: every row the gate could write, to prove a refusal changed nothing.
snapshot() {
  sqlite3 "$DB" "SELECT * FROM approvals; SELECT * FROM waivers;
    SELECT name, state, updated_at FROM candidates ORDER BY name; SELECT seq, hash FROM audit_log"
}
state_of() { $P candidate show "$1" --format json | jq -r .state; }

expect "init" 0 -- $P init
for c in untested bad good soaky flaky rejectme busy targeted retest; do
  deb=pl-good_1.0_all.deb
  [ $c = targeted ] && deb=pl-needs-good_1.0_all.deb
  expect "create $c" 0 -- $P candidate create $c --deb "$T/debs/$deb"
done
image debian-12
run r-bad bad debian-12 failed fail $T0 2026-01-10T10:20:00Z apply/dpkg=pass \
  apply/free-space=pass boot/services=fail boot/ports=pass
run r-good good debian-12 passed pass $T0 2026-01-10T10:20:00Z $PASS
run r-soaky soaky debian-12 passed pass $T0 2026-01-10T10:20:00Z $PASS
run r-flaky flaky debian-12 failed fail $T0 2026-01-10T10:20:00Z apply/dpkg=pass \
  apply/free-space=pass boot/services=pass boot/ports=fail
run r-rej rejectme debian-12 passed pass $T0 2026-01-10T10:20:00Z $PASS
run r-busy busy debian-12 running - $T0 - apply/dpkg=pass
run r-tgt targeted debian-12 passed pass $T0 2026-01-10T10:20:00Z $PASS
run r-old retest debian-12 passed pass $T0 2026-01-10T10:20:00Z $PASS
export PATCHLAB_NOW=$LATER

# ---- approve refuses: never tested, failed, in progress ------------------------
before=$(snapshot)
expect "approve untested" 2 -- $P approve untested --as alice --note "looks fine" $LAB
stderr_has "untested: why" "cannot approve 'untested': it was never tested (no lab run"
expect "approve failed" 2 -- $P approve bad --as alice --note "ship it" $LAB
stderr_has "failed: why" "cannot approve 'bad': its lab verdict is a fail: lab run r-bad failed on 'debian-12': boot/services fail"
stderr_has "failed: the way out" "policy 'lab-cab' allows waiving boot/ports, apply/free-space, soak"
expect "approve while testing" 2 -- $P approve busy --as alice --note "x" $LAB
stderr_has "testing: why" "cannot approve 'busy': it is being tested"
expect "approve: the built-in policy refuses the untested too" 2 -- $P approve untested --as alice --note x
stderr_has "built-in: why" "never tested"
[ "$(snapshot)" = "$before" ] && ok || not_ok "refused approvals changed the database"
expect "the failed one stays failed" 0 "failed" -- state_of bad

# ---- a passed candidate: approved once the policy's approvals are in -----------
out=$($P approve good --as alice --role cab --note "evidence reviewed" $LAB) && ok || not_ok "approve 1"
grep -q "^'good' stays passed; still needed:$" <<<"$out" && ok || not_ok "approve 1 stays passed: $out"
expect "status after 1" 1 -- $P gate status good $LAB
stderr_has "status: not promotable" "'good' may not be promoted: 2 of 5 requirements not met"
grep -q "^  missing   approvals:cab        1 of 2 cab approvals: alice$" <<<"$($P gate status good $LAB)" &&
  ok || not_ok "status names the missing approvals"
expect "duplicate approval refused" 2 -- $P approve good --as alice --role security --note "again" $LAB
stderr_has "duplicate: why" "cannot approve 'good': alice approved it already (as cab"
out=$($P approve good --as bob --note "fine by me" $LAB) && ok || not_ok "approve 2 (cab, the default role)"
grep -q "^  missing   approvals:security   0 of 1 security approval$" <<<"$out" &&
  ok || not_ok "approve 2 says what is still needed: $out"
expect "approve 2 leaves it passed" 0 "passed" -- state_of good
out=$($P approve good --as carol --role security --note "no new exposure" $LAB) && ok || not_ok "approve 3"
grep -q "^'good' is now approved: every requirement is met$" <<<"$out" &&
  ok || not_ok "approve 3 approves: $out"
expect "approved" 0 "approved" -- state_of good
expect "gate status: promotable" 0 "true" -- bash -c "$P gate status good $LAB --format json | jq .promotable"
expect "status json: every requirement" 0 "state:satisfied lab:debian-12:satisfied soak:satisfied approvals:cab:satisfied approvals:security:satisfied" -- \
  bash -c "$P gate status good $LAB --format json | jq -r '[.requirements[] | \"\\(.name):\\(.state)\"] | join(\" \")'"
expect "approve once approved" 2 -- $P approve good --as dave --note "late" $LAB
stderr_has "approved: why" "cannot approve 'good': it is approved already"
expect "show json: the change record" 0 "3 0 0 true r-good 4" -- bash -c "$P candidate show good $LAB --format json |
  jq -r '.change_record | \"\\(.approvals | length) \\(.waivers | length) \\(.rejections | length) \\(.promotable) \\(.lab_evidence[0].run) \\(.lab_evidence[0].checks.pass)\"'"
out=$($P candidate show good $LAB)
for want in "state:     approved" "lab evidence (latest run per image):" \
  "  debian-12      run r-good pass  2026-01-10T10:20:00Z  checks: 4 passed, 0 failed" \
  "evidence /state/runs/r-good" "promotion (policy lab-cab): may be promoted" \
  "  satisfied approvals:cab        2 of 2 cab approvals: alice, bob" "approvals:" \
  "alice (cab): evidence reviewed" "lab runs: 1 (the last: r-good pass)"; do
  grep -qF -- "$want" <<<"$out" && ok || not_ok "show text lacks '$want': $out"
done
[ "$(wc -l <<<"$out")" -le 40 ] && ok || not_ok "show text is over a page: $(wc -l <<<"$out") lines"

# ---- soak: the approvals are in but the soak time is not over ------------------
export PATCHLAB_NOW=$SOON
for who in "alice cab" "bob cab" "carol security"; do
  set -- $who
  expect "soaky: approve $1" 0 -- $P approve soaky --as $1 --role $2 --note ok $LAB
done
expect "soaky stays passed" 0 "passed" -- state_of soaky
expect "soaky: status waits for the soak" 0 "waiting" -- \
  bash -c "$P gate status soaky $LAB --format json | jq -r '.requirements[] | select(.name == \"soak\") | .state'"
expect "soaky: promote too early" 1 -- $P gate promote soaky $LAB
stderr_has "too early: why" "soak waiting: 2h00m of 24 h since the newest lab run ended; over at 2026-01-11T10:20:00Z"
expect "soaky: still passed" 0 "passed" -- state_of soaky
PATCHLAB_NOW=$LATER expect "soaky: promote after the soak" 0 -- $P gate promote soaky --as cab-bot $LAB
expect "soaky approved" 0 "approved" -- state_of soaky
export PATCHLAB_NOW=$LATER

# ---- waivers: only what the policy allows, only what failed --------------------
before=$(snapshot)
expect "waive a check the policy does not allow" 2 -- $P waive flaky --check boot/services --as qa --reason "known" $LAB
stderr_has "not waivable: why" "cannot waive 'boot/services': policy 'lab-cab' allows waiving boot/ports, apply/free-space, soak"
expect "waive with a policy that allows none" 2 -- $P waive flaky --check boot/ports --as qa --reason "known" --policy $POL/nowaivers.json
stderr_has "no waivers: why" "policy 'strict' allows no waivers"
expect "waive a check that passed" 2 -- $P waive flaky --check apply/free-space --as qa --reason "x" $LAB
stderr_has "passed: why" "it neither failed nor is missing in the latest lab run of any image"
expect "waive a bad check name" 2 -- $P waive flaky --check "boot ports" --as qa --reason "x" $LAB
stderr_has "bad check: why" "--check 'boot ports': expected a lab check"
expect "waive the soak when it is over" 2 -- $P waive targeted --check soak --as qa --reason "x" $LAB
stderr_has "soak over: why" "cannot waive 'soak' for 'targeted': the soak time is not pending"
expect "waive an untested candidate" 2 -- $P waive untested --check boot/ports --as qa --reason "x" $LAB
stderr_has "untested waive: why" "never tested"
[ "$(snapshot)" = "$before" ] && ok || not_ok "refused waivers changed the database"
expect "waive the failed port check" 0 -- $P waive flaky --check boot/ports --as qa-lead --reason "port 8080 moves to 8443 in this update" $LAB
expect "waived twice" 2 -- $P waive flaky --check boot/ports --as qa-lead --reason "again" $LAB
stderr_has "twice: why" "cannot waive 'boot/ports' for 'flaky': it is waived already"
expect "flaky: the lab requirement is waived" 0 "waived" -- \
  bash -c "$P gate status flaky $LAB --format json | jq -r '.requirements[] | select(.name == \"lab:debian-12\") | .state'"
expect "flaky: the waiver needs the policy" 0 "failed" -- \
  bash -c "$P gate status flaky --policy $POL/nowaivers.json --format json | jq -r '.requirements[] | select(.name == \"lab:debian-12\") | .state'"
for who in "alice cab" "bob cab"; do
  set -- $who
  expect "flaky: approve $1" 0 -- $P approve flaky --as $1 --role $2 --note "ports change is expected" $LAB
done
expect "flaky still failed" 0 "failed" -- state_of flaky
out=$($P approve flaky --as carol --role security --note ok $LAB)
grep -q "'flaky' is now approved" <<<"$out" && ok || not_ok "flaky approved through its waiver: $out"
expect "show lists the waiver" 0 "boot/ports qa-lead true" -- bash -c "$P candidate show flaky $LAB --format json |
  jq -r '.change_record.waivers[0] | \"\\(.check) \\(.actor) \\(.honoured)\"'"
grep -qF "qa-lead waived boot/ports: port 8080 moves to 8443 in this update" <<<"$($P candidate show flaky $LAB)" &&
  ok || not_ok "show text lists the waiver"
# the soak itself, waived in an emergency
PATCHLAB_NOW=$SOON expect "waive a pending soak" 0 -- $P waive rejectme --check soak --as cab-chair --reason "emergency: exploited in the wild" $LAB
expect "soak waived" 0 "waived" -- \
  bash -c "PATCHLAB_NOW=$SOON $P gate status rejectme $LAB --format json | jq -r '.requirements[] | select(.name == \"soak\") | .state'"

# ---- reject ---------------------------------------------------------------------
expect "reject" 0 -- $P reject rejectme --as bob --role cab --note "breaks the billing batch" $LAB
expect "rejected" 0 "rejected" -- state_of rejectme
expect "approve a rejected one" 2 -- $P approve rejectme --as alice --note x $LAB
stderr_has "rejected: why" "cannot approve 'rejectme': it was rejected by bob (cab)"
expect "reject twice" 2 -- $P reject rejectme --as bob --note again $LAB
stderr_has "reject twice: why" "it is rejected already"
expect "reject a new candidate" 2 -- $P reject untested --as bob --note no $LAB
expect "show lists the rejection" 0 "bob breaks the billing batch failed" -- bash -c "$P candidate show rejectme $LAB --format json |
  jq -r '.change_record | \"\\(.rejections[0].actor) \\(.rejections[0].note) \\(.requirements[0].state)\"'"

# ---- approvals count on the evidence they were given on ------------------------
expect "retest: approve" 0 -- $P approve retest --as alice --note "r-old is fine" $LAB
run r-new retest debian-12 passed pass 2026-01-11T10:00:00Z 2026-01-11T10:20:00Z $PASS
expect "retest: the old approval does not count" 0 "0 1" -- bash -c "$P gate status retest $LAB --format json |
  jq -r '.requirements[] | select(.name == \"approvals:cab\") | \"\\(.by | length) \\(.stale)\"'"
expect "retest: alice approves the new evidence" 0 -- $P approve retest --as alice --note "r-new is fine" $LAB
expect "retest: show marks the old one" 0 "false true" -- bash -c "$P candidate show retest $LAB --format json |
  jq -r '[.change_record.approvals[].current] | join(\" \")'"

# ---- target hosts: every image they use needs a lab run ------------------------
cat >"$T/status" <<'EOF'
Package: pl-needs-good
Status: install ok installed
Architecture: all
Version: 0.9

Package: pl-good
Status: install ok installed
Architecture: all
Version: 0.9
EOF
expect "host web1" 0 -- $P inventory add web1 --image debian-11
expect "host web2" 0 -- $P inventory add web2 --image debian-11
expect "host bare" 0 -- $P inventory add bare
for h in web1 web2 bare; do
  expect "packages $h" 0 -- $P inventory packages $h --dpkg-status "$T/status"
done
expect "targeted: refused, an image of its hosts is unknown" 2 -- $P approve targeted --as alice --note x $LAB
stderr_has "unregistered: why" "cannot approve 'targeted': image 'debian-11' (used by 2 target hosts) is not registered"
image debian-11
expect "targeted: refused, never tested there" 2 -- $P approve targeted --as alice --note x $LAB
stderr_has "untested image: why" "cannot approve 'targeted': never tested on image 'debian-11' (used by 2 target hosts)"
expect "targeted: the targets" 0 "bare,web1,web2 bare" -- bash -c "$P gate status targeted $LAB --format json |
  jq -r '\"\\(.targets.hosts | join(\",\")) \\(.targets.hosts_without_image | join(\",\"))\"'"
run r-tgt11 targeted debian-11 passed pass $T0 2026-01-10T10:30:00Z $PASS
expect "targeted: approvable now" 0 -- $P approve targeted --as alice --note x $LAB

# ---- bad input: exit 2, nothing written ----------------------------------------
before=$(snapshot)
expect "no such candidate" 2 -- $P approve nosuch --as alice --note x $LAB
stderr_has "no such: why" "no candidate 'nosuch'"
expect "unknown role" 2 -- $P approve untested --as alice --role janitor --note x $LAB
stderr_has "role: why" "--role 'janitor': policy 'lab-cab' knows the roles cab, security"
expect "no --note" 2 -- $P approve good --as alice $LAB
stderr_has "usage: why" "approve needs --as USER, --note TEXT"
expect "no --as" 2 -- $P reject good --note x $LAB
expect "blank note" 2 -- $P approve targeted --as erin --note "   " $LAB
stderr_has "blank: why" "--note: say why"
expect "control character in the note" 2 -- $P approve targeted --as erin --note "$(printf 'a\033[2Jb')" $LAB
expect "control character in --as" 2 -- $P approve targeted --as "$(printf 'e\nrin')" --note x $LAB
expect "--reason on approve" 2 -- $P approve targeted --as erin --reason x $LAB
expect "--note twice" 2 -- $P approve targeted --as erin --note x --note y $LAB
expect "two names" 2 -- $P approve targeted good --as erin --note x $LAB
expect "bad candidate name" 2 -- $P approve "a b" --as erin --note x $LAB
expect "policy without promotion" 2 -- $P approve targeted --as erin --note x --policy $POL/no-promotion.json
stderr_has "no promotion: why" "policy 'lab-only'"
stderr_has "no promotion: which" "has no \"promotion\" object"
expect "policy with a typo" 2 -- $P approve targeted --as erin --note x --policy $POL/bad-unknown-key.json
stderr_has "typo: path" "bad-unknown-key.json: \$.promotion.min_soak_hour: unknown field"
expect "missing policy file" 2 -- $P approve targeted --as erin --note x --policy $T/none.json
expect "show with a bad policy" 2 -- $P candidate show good --policy $POL/bad-role.json
expect "gate status of nothing" 2 -- $P gate status nosuch $LAB
[ "$(snapshot)" = "$before" ] && ok || not_ok "bad input changed the database"

# ---- the audit log holds every decision and verifies ---------------------------
expect "audit verify" 0 -- $P audit verify
expect "audit: decisions with their actors" 0 "approve alice good
approve bob good
approve carol security good" -- bash -c "$P audit list --object good --format json |
  jq -r '.[] | select(.action == \"approve\") | \"\\(.action) \\(.actor) \\(if .detail.role == \"security\" then \"security \" else \"\" end)\\(.object)\"'"
expect "audit: the approval's state change is by the approver" 0 "carol passed approved" -- bash -c "$P audit list --object good --format json |
  jq -r '.[] | select(.action == \"set-state\") | \"\\(.actor) \\(.detail.from) \\(.detail.to)\"'"
expect "audit: waiver and rejection" 0 "waive qa-lead boot/ports
reject bob" -- bash -c "$P audit list --format json |
  jq -r '.[] | select(.action == \"waive\" or .action == \"reject\") | select(.object != \"rejectme\" or .action == \"reject\") | \"\\(.action) \\(.actor)\\(if .detail.check then \" \" + .detail.check else \"\" end)\"'"
expect "help lists the commands" 0 -- bash -c "$P help | grep -q '^   approve ' && $P help | grep -q '^   gate '"

finish
