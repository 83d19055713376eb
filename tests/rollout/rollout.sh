#!/usr/bin/env bash
# patchlab schedule and rollout status|list|halt|resume|run-due without a VM:
# hosts linked to libvirt's built-in test driver (test:///default, a
# hypervisor simulated inside libvirt itself, no daemon) for libvirt waves,
# and real pull executors (a signed apt repository made with a key made
# here, an Ansible export) for hosts outside libvirt. Approval goes
# through 'patchlab approve' after the test-only shortcut of the gate's own
# tests (the rows of a passed lab run, put in with sqlite3). The clock is
# pinned with PATCHLAB_NOW; the built-in policy's calendar is the real one.
. "$(dirname "$0")/../lib.sh"
P=$PATCHLAB
for t in sqlite3 dpkg-deb jq gpg gpgv gpgconf; do
  command -v $t >/dev/null || { echo "no $t: skipped"; exit 77; }
done
sh "$PL_SRC/tests/lab/make-debs.sh" "$T/debs" >/dev/null
DB=$PATCHLAB_STATE/patchlab.db
D=$PL_TEST_DATA/rollout
export PATCHLAB_ACTOR=rollout-test
export GNUPGHOME=$T/gnupg
mkdir -m 0700 "$GNUPGHOME"
trap 'gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null; rm -rf "$T"' EXIT

# passed CAND: the rows of a passed lab run, as candrun.c records them
passed() {
  sqlite3 "$DB" "BEGIN;
    INSERT OR IGNORE INTO images(name, origin, path, format, sha256, size_bytes, inspection,
      created_at) VALUES ('img', 'imported', '/nonexistent.qcow2', 'qcow2', '$(printf '%064d' 0)', 0,
      '{}', '2026-11-30T00:00:00Z');
    INSERT INTO lab_runs(id, kind, image_id, uri, pid, pid_start, state, started_at, ended_at,
      result, candidate_id, verdict) VALUES ('run-$1', 'candidate', (SELECT id FROM images WHERE
      name = 'img'), 'qemu:///system', 1, 1, 'passed', '2026-11-30T00:00:00Z',
      '2026-11-30T00:20:00Z', '{}', (SELECT id FROM candidates WHERE name = '$1'), 'pass');
    INSERT INTO checks(run_id, vm, stage, name, status, detail) VALUES ('run-$1', 'vm1', 'apply',
      'dpkg', 'pass', 'test');
    UPDATE candidates SET state = 'passed' WHERE name = '$1';
    COMMIT;"
}
rows() { sqlite3 "$DB" "SELECT (SELECT count(*) FROM rollouts) || ' ' || (SELECT count(*) FROM waves)
  || ' ' || (SELECT count(*) FROM wave_targets) || ' ' || (SELECT state FROM candidates WHERE name = '$1')"; }

expect "init" 0 -- $P init
expect "candidate" 0 -- $P candidate create c1 --deb "$T/debs/pl-good_1.0_all.deb"
cat >"$T/hosts.csv" <<'EOF'
name,role,environment,tags,libvirt_uri,libvirt_domain
stg-a,web,staging,,test:///default,test
stg-b,web,staging,,test:///default,test
prod-a,web,production,,test:///default,test
prod-b,db,production,,test:///default,test
repo-1,web,test,pull,,
repo-2,web,test,pull,,
ans-1,web,test,ansible,,
EOF
expect "inventory" 0 -- $P inventory import "$T/hosts.csv"
export PATCHLAB_NOW=2026-12-01T00:00:00Z

# ---- schedule refuses what is not approved, and bad input -------------------------------
expect "schedule unknown" 2 -- $P schedule nosuch
expect "schedule new" 2 -- $P schedule c1 --policy "$PL_SRC/policies/rollout-default.json"
stderr_has "not approved" "candidate 'c1' is new, not approved: only an approved candidate is scheduled"
passed c1
expect "schedule passed" 2 -- $P schedule c1
stderr_has "still not approved" "is passed, not approved"
[ "$(rows c1)" = "0 0 0 passed" ] && ok || not_ok "refusals wrote nothing: $(rows c1)"
expect "approve" 0 -- $P approve c1 --as carol --note "rollout test" --policy "$D/fleet/cab.json"
expect "bad policy" 2 -- $P schedule c1 --policy "$D/bad/wave-share-and-count.json"
stderr_has "bad policy names the path" 'wave-share-and-count.json: $.waves[0]: give "share" or "count", not both'
expect "policy without waves" 2 -- $P schedule c1 --policy "$D/windows/utc.json"
stderr_has "no waves" "has no \"waves\""
expect "bad lab file" 2 -- $P schedule c1 --lab "$D/fleet/policy.json"
expect "missing gate file" 2 -- $P schedule c1 --gate-policy "$T/nonexistent.json"
[ "$(rows c1)" = "0 0 0 approved" ] && ok || not_ok "bad input wrote nothing: $(rows c1)"

# ---- schedule with the policy from policies/, status ----------------------------------
expect "schedule" 0 -- $P schedule c1 --policy "$PL_SRC/policies/rollout-default.json" --format json
$P rollout status c1 --format json >"$T/s.json"
[ "$(jq -r '[.waves[] | "\(.name):\([.targets[].host] | join(","))@\(.window.name // "-")"] | join(" ")' "$T/s.json")" = \
  "canary:stg-a@patch-tuesday+2 staging:stg-b@weekly-sat pilot:prod-a@weekly-sat broad:prod-b@weekly-sat" ] &&
  ok || not_ok "status lists the waves: $(jq -c '[.waves[] | [.name, [.targets[].host], .window.name]]' "$T/s.json")"
# libvirt waves take only hosts linked to a domain: the others are listed
[ "$(jq -r '.unassigned | join(" ")' "$T/s.json")" = "ans-1 repo-1 repo-2" ] && ok ||
  not_ok "unassigned: $(jq -c .unassigned "$T/s.json")"
jq -e '.state == "scheduled" and .candidate_state == "scheduled" and .policy.name == "rollout-default" and
  .waves[0].window.start_utc == "2026-12-10T22:00:00Z" and .waves[0].window.start_local == "2026-12-10T22:00:00+00:00" and
  .waves[0].window.tz == "UTC" and .waves[0].min_soak_seconds == 86400 and .waves[3].success_threshold == 0.95 and
  .waves[3].halt_failure_rate == 0.05 and .waves[2].share == 0.1 and (.waves[0].targets[0] | .state == "pending" and
  .libvirt_uri == "test:///default")' "$T/s.json" >/dev/null && ok || not_ok "status fields: $(jq -c '.waves[0]' "$T/s.json")"
expect "status text" 0 -- $P rollout status c1
grep -q "^wave 1 canary \[pending\] libvirt, 1 target(s), soak 86400s$" <<<"$($P rollout status c1)" && ok ||
  not_ok "status text: $($P rollout status c1 | head -5)"
expect "schedule twice" 2 -- $P schedule c1
stderr_has "once" "is scheduled, not approved"
expect "list" 0 "c1 scheduled canary" -- bash -c "$P rollout list --format json | jq -r '.[] | \"\\(.name) \\(.state) \\(.current_wave)\"'"
expect "status unknown" 2 -- $P rollout status nosuch

# ---- halt and resume ------------------------------------------------------------------
expect "halt" 0 -- $P rollout halt c1 --reason "change freeze" --as dave
expect "halted" 0 "halted halted halted by dave: change freeze" -- \
  bash -c "$P rollout status c1 --format json | jq -r '\"\\(.state) \\(.candidate_state) \\(.reason)\"'"
expect "halt twice" 2 -- $P rollout halt c1
expect "run-due leaves a halted rollout" 0 -- env PATCHLAB_NOW=2026-12-10T22:30:00Z $P rollout run-due
expect "resume" 0 -- $P rollout resume c1 --as dave
expect "resumed" 0 "scheduled scheduled" -- \
  bash -c "$P rollout status c1 --format json | jq -r '\"\\(.state) \\(.candidate_state)\"'"
expect "resume twice" 2 -- $P rollout resume c1
$P audit list --format json | jq -r '[.[] | select(.kind == "rollout" and .object == "c1") | .action] | join(" ")' >"$T/acts"
[ "$(cat "$T/acts")" = "schedule set-state set-state" ] && ok || not_ok "rollout audit entries: $(cat "$T/acts")"

# ---- run-due: not yet, then a failing libvirt target halts --------------------------------
expect "run-due before the window" 0 -- env PATCHLAB_NOW=2026-12-05T00:00:00Z $P rollout run-due
grep -q "wave canary is due at 2026-12-10T22:00:00Z (window patch-tuesday+2)" <<<"$(PATCHLAB_NOW=2026-12-05T00:00:00Z $P rollout run-due)" &&
  ok || not_ok "run-due says when the wave is due"
expect "run-due --rollout unknown" 2 -- $P rollout run-due --rollout nosuch
expect "run-due --jobs 0" 2 -- $P rollout run-due --jobs 0
rc=0
PATCHLAB_NOW=2026-12-10T22:30:00Z $P rollout run-due --format json >"$T/r.json" 2>"$T/r.err" || rc=$?
[ $rc -eq 1 ] && ok || not_ok "run-due with a failing target exits 1, not $rc: $(tail -3 "$T/r.err")"
grep -q "rollout 'c1' halted: wave canary: 1 of 1 target(s) failed (100%), above the wave's halt rate of 0%" "$T/r.err" &&
  ok || not_ok "the halt is said: $(tail -2 "$T/r.err")"
jq -e '.halted == 1 and .rollouts[0].targets[0].host == "stg-a" and .rollouts[0].targets[0].state == "failed"' "$T/r.json" >/dev/null &&
  ok || not_ok "report: $(jq -c . "$T/r.json")"
$P rollout status c1 --format json >"$T/s.json"
[ "$(jq -r '"\(.state) \(.candidate_state) \([.waves[].state] | join(",")) \(.waves[0].targets[0].state) \(.waves[0].targets[0].snapshot_state)"' "$T/s.json")" = \
  "halted halted failed,pending,pending,pending failed none" ] && ok || not_ok "halted state: $(jq -c '[.state, .candidate_state, [.waves[].state]]' "$T/s.json")"
jq -r '.waves[0].targets[0].detail' "$T/s.json" | grep -q "^nothing changed: domain 'test': disk vda" &&
  ok || not_ok "the target's detail: $(jq -r '.waves[0].targets[0].detail' "$T/s.json")"
# resume: the failed target is pending again, the wave with it; the next window
expect "resume after the halt" 0 -- env PATCHLAB_NOW=2026-12-11T02:00:00Z $P rollout resume c1
[ "$(jq -r '"\(.state) \(.candidate_state) \(.waves[0].state) \(.waves[0].targets[0].state)"' <<<"$($P rollout status c1 --format json)")" = \
  "running rolling-out pending pending" ] && ok || not_ok "resumed: $($P rollout status c1 --format json | jq -c '[.state, .waves[0].state]')"
expect "run-due moves the missed window" 0 -- env PATCHLAB_NOW=2026-12-11T02:00:00Z $P rollout run-due
[ "$($P rollout status c1 --format json | jq -r '[.waves[] | .window.start_utc] | join(" ")')" = \
  "2027-01-14T22:00:00Z 2027-01-16T02:00:00Z 2027-01-23T02:00:00Z 2027-01-30T02:00:00Z" ] &&
  ok || not_ok "rescheduled: $($P rollout status c1 --format json | jq -c '[.waves[].window.start_utc]')"

# ---- pull targets: a signed apt repository, then an Ansible export, to completion ----------
gpg -q --batch --passphrase '' --quick-gen-key 'patchlab rollout test <r@patchlab.invalid>' \
  default default never 2>/dev/null
KEY=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
[ -n "$KEY" ] && ok || not_ok "a signing key"
sed -e "s|REPO|$T/repo|" -e "s|\"KEY\"|\"$KEY\"|" -e "s|GNUPGHOME|$GNUPGHOME|" -e "s|OUTDIR|$T/export|" \
  "$D/pull/policy.json" >"$T/pull.json"
expect "candidate 2" 0 -- $P candidate create c2 --deb "$T/debs/pl-good_1.0_all.deb" --deb "$T/debs/pl-needs-good_1.0_all.deb"
passed c2
expect "approve 2" 0 -- $P approve c2 --as carol --note "pull test" --policy "$D/fleet/cab.json"
# libvirt hosts match no wave of this policy: they stay out
expect "schedule pull" 0 -- $P schedule c2 --policy "$T/pull.json"
expect "unassigned" 0 "prod-a prod-b stg-a stg-b" -- bash -c "$P rollout status c2 --format json | jq -r '.unassigned | join(\" \")'"
expect "pull plan" 0 "repo:repo-1,repo-2@2026-12-06T03:00:00Z export:ans-1@2026-12-13T03:00:00Z" -- \
  bash -c "$P rollout status c2 --format json | jq -r '[.waves[] | \"\\(.name):\\([.targets[].host] | join(\",\"))@\\(.window.start_utc)\"] | join(\" \")'"
expect "repo wave" 0 -- env PATCHLAB_NOW=2026-12-06T03:10:00Z $P rollout run-due --rollout c2
[ -e "$T/repo/dists/wave-repo/InRelease" ] && gpgv --keyring "$T/repo/keyring.gpg" "$T/repo/dists/wave-repo/InRelease" 2>/dev/null &&
  ok || not_ok "the wave's repository is published and signed"
$P rollout status c2 --format json >"$T/s2.json"
[ "$(jq -r '"\(.state) \(.candidate_state) \([.waves[].state] | join(",")) \([.waves[0].targets[].state] | join(","))"' "$T/s2.json")" = \
  "running rolling-out succeeded,pending succeeded,succeeded" ] && ok || not_ok "repo wave: $(jq -c '[.state, [.waves[].state]]' "$T/s2.json")"
jq -r '.waves[0].targets[0].detail' "$T/s2.json" | grep -q "^published in $T/repo (generation 1)" &&
  ok || not_ok "repo target detail: $(jq -r '.waves[0].targets[0].detail' "$T/s2.json")"
# the same night again: nothing applied twice, the next wave waits
n=$(sqlite3 "$DB" "SELECT count(*) FROM audit_log")
expect "again" 0 -- env PATCHLAB_NOW=2026-12-06T04:00:00Z $P rollout run-due --rollout c2
[ "$(sqlite3 "$DB" "SELECT count(*) FROM audit_log")" = "$n" ] && [ ! -e "$T/repo/generations/000002" ] &&
  ok || not_ok "a second run-due changed something"
grep -q "wave export waits for wave repo's soak\|wave export is due at" <<<"$(PATCHLAB_NOW=2026-12-06T04:00:00Z $P rollout run-due)" &&
  ok || not_ok "the next wave waits"
expect "export wave" 0 -- env PATCHLAB_NOW=2026-12-13T03:10:00Z $P rollout run-due
[ -s "$T/export/playbook.yml" ] && [ -s "$T/export/inventory.yml" ] && grep -q ans-1 "$T/export/inventory.yml" &&
  ok || not_ok "the Ansible export is written: $(ls "$T/export" 2>&1)"
expect "completed" 0 "completed deployed succeeded,succeeded" -- \
  bash -c "$P rollout status c2 --format json | jq -r '\"\\(.state) \\(.candidate_state) \\([.waves[].state] | join(\",\"))\"'"
expect "completed is left alone" 0 "0" -- \
  bash -c "PATCHLAB_NOW=2026-12-20T00:00:00Z $P rollout run-due --format json | jq '[.rollouts[] | select(.rollout == \"c2\")] | length'"
expect "audit verify" 0 -- $P audit verify

# ---- the systemd unit and timer that run run-due ---------------------------------------
for f in patchlab-rollout.service patchlab-rollout.timer; do
  [ -s "$PL_SRC/scripts/systemd/$f" ] && ok || not_ok "scripts/systemd/$f"
done
grep -q "^ExecStart=.*patchlab rollout run-due$" "$PL_SRC/scripts/systemd/patchlab-rollout.service" &&
  ok || not_ok "the service runs run-due"
if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir -p "$T/units" && cp "$PL_SRC"/scripts/systemd/patchlab-rollout.* "$T/units/"
  sed -i "s|^ExecStart=[^ ]*|ExecStart=$P|" "$T/units/patchlab-rollout.service"
  expect "systemd-analyze verify" 0 -- systemd-analyze verify "$T/units/patchlab-rollout.service" "$T/units/patchlab-rollout.timer"
fi
finish
