#!/usr/bin/env bash
# patchlab audit: the log as candidates write it, verify on it, and verify
# after rows of patchlab.db were edited or removed by hand with sqlite3.
. "$(dirname "$0")/../lib.sh"
P=$PATCHLAB
command -v sqlite3 >/dev/null || { echo "no sqlite3: skipped"; exit 77; }
command -v dpkg-deb >/dev/null || { echo "no dpkg-deb: skipped"; exit 77; }
sh "$PL_SRC/tests/lab/make-debs.sh" "$T/debs" >/dev/null
DB=$PATCHLAB_STATE/patchlab.db
export PATCHLAB_ACTOR=qa-alice

expect "init" 0 -- $P init
expect "empty log verifies" 0 -- $P audit verify
for n in one two three; do
  expect "create $n" 0 -- $P candidate create "sec-$n" --deb "$T/debs/pl-good_1.0_all.deb"
done
expect "a failed create writes nothing" 2 -- $P candidate create sec-one --deb "$T/debs/pl-good_1.0_all.deb"
expect "list" 0 "1 create candidate sec-one qa-alice
2 create candidate sec-two qa-alice
3 create candidate sec-three qa-alice" -- \
  bash -c "$P audit list --format json | jq -r '.[] | \"\\(.seq) \\(.action) \\(.kind) \\(.object) \\(.actor)\"'"
expect "list by object" 0 "2" -- bash -c "$P audit list --object sec-two --format json | jq -r '.[].seq'"
expect "list detail" 0 "pl-good 1.0" -- \
  bash -c "$P audit list --object sec-two --format json | jq -r '.[0].detail.patches[0] | \"\\(.package) \\(.version)\"'"
expect "list since the future" 0 "0" -- bash -c "$P audit list --since 2999-01-01 --format json | jq length"
expect "list bad since" 2 -- $P audit list --since soon
expect "list text" 0 -- $P audit list
expect "verify as written" 0 -- $P audit verify
grep -q "^audit log intact: 3 entries, head [0-9a-f]\{64\}, anchored at seq 3$" <<<"$($P audit verify)" &&
  ok || not_ok "verify text names entries, head and anchor"
expect "verify json" 0 "true 3 3" -- \
  bash -c "$P audit verify --format json | jq -r '\"\\(.intact) \\(.entries) \\(.anchor.seq)\"'"

cp -a "$PATCHLAB_STATE" "$T/good"
restore() { rm -rf "$PATCHLAB_STATE"; cp -a "$T/good" "$PATCHLAB_STATE"; }

# the triggers refuse edits; then one row edited by hand
expect "trigger refuses update" 0 -- bash -c "! sqlite3 '$DB' \"UPDATE audit_log SET actor = 'eve' WHERE seq = 2\""
stderr_has "update refused" "audit_log is append-only"
expect "trigger refuses delete" 0 -- bash -c "! sqlite3 '$DB' 'DELETE FROM audit_log WHERE seq = 2'"
stderr_has "delete refused" "audit_log is append-only"
expect "edit one row" 0 -- sqlite3 "$DB" "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'eve' WHERE seq = 2"
expect "verify: edited" 1 -- $P audit verify
stderr_has "edited row named" "audit log broken at seq 2: hash mismatch"
expect "verify json: edited" 1 "false 2" -- \
  bash -c "$P audit verify --format json | jq -r '\"\\(.intact) \\(.first_bad_seq)\"'; exit \${PIPESTATUS[0]}"

restore
expect "edit the detail" 0 -- sqlite3 "$DB" "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = replace(detail, 'pl-good', 'pl-evil') WHERE seq = 3"
expect "verify: detail edited" 1 -- $P audit verify
stderr_has "detail edit named" "seq 3: hash mismatch"

restore
expect "delete a middle row" 0 -- sqlite3 "$DB" "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 2"
expect "verify: middle removed" 1 -- $P audit verify
stderr_has "gap named" "audit log broken at seq 2: row 2 is missing (gap in seq: 3 follows 1)"

restore
expect "delete the last row" 0 -- sqlite3 "$DB" "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 3"
expect "verify: tail removed" 1 -- $P audit verify
stderr_has "truncation named" "audit log broken at seq 3: tail truncated: the anchor names row 3, the log ends at 2"
expect "a new row does not hide it" 0 -- $P candidate create sec-four --deb "$T/debs/pl-good_1.0_all.deb"
expect "verify: tail rewritten" 1 -- $P audit verify
stderr_has "rewrite named" "seq 3: anchor mismatch"

restore
expect "anchor removed" 0 -- rm "$PATCHLAB_STATE/audit-anchor.json"
expect "verify: no anchor" 1 -- $P audit verify
stderr_has "missing anchor named" "audit-anchor.json is missing"

restore
expect "intact again" 0 -- $P audit verify
expect "verify bad option" 2 -- $P audit verify --all
expect "list bad format" 2 -- $P audit list --format tsv
expect "no state" 2 -- env PATCHLAB_STATE="$T/none" $P audit verify

finish
