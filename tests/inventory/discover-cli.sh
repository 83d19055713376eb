#!/usr/bin/env bash
# patchlab inventory discover without a daemon or an appliance: libvirt's
# test driver reads a node file (tests/data/inventory/discover/node.xml.in)
# and --dry-run resolves every domain's disks and target host, launching
# nothing. The real inspection is tests/inventory/discover.sh (integration).
. "$(dirname "$0")/../lib.sh"
P=$PATCHLAB
D=$PL_TEST_DATA/inventory/discover
if ! virsh -q -c test:///default version >/dev/null 2>&1; then
  echo "libvirt's test driver is not available: skipped"
  exit 77
fi
sed "s|@DIR@|$T|g" "$D/node.xml.in" >"$T/node.xml"
mkdir "$T/pool1"
touch "$T/web-a.qcow2" "$T/web-b.img" "$T/web-c.qcow2" "$T/install.iso" "$T/pool1/data.img"
U=test://$T/node.xml

expect "init" 0 -- $P init
expect "unlinked host of the same name" 0 -- $P inventory add web-b
expect "linked host" 0 -- $P inventory add frontend1 --libvirt "$U" --domain linked
rc=0
$P inventory discover --connect "$U" --dry-run --format json >"$T/dry.json" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && ok || not_ok "dry run with failures exits 1, not $rc: $(cat "$T/err")"
stderr_has "failures counted and named" "5 of 8 domains failed: 'bad name', 'empty1', 'gone1', 'net1', 'web-b'"

r() { jq -r --arg d "$1" ".[] | select(.domain == \$d) | $2" "$T/dry.json"; }
[ "$(jq -r '[.[].domain] | join(",")' "$T/dry.json")" = "bad name,empty1,gone1,linked,net1,web-a,web-b,web-c" ] &&
  ok || not_ok "domains in name order: $(jq -r '[.[].domain] | join(",")' "$T/dry.json")"
[ "$(r web-a '"\(.result) \(.host)"')" = "would add web-a" ] && ok || not_ok "web-a would be added"
[ "$(r web-a '[.disks[] | "\(.path)=\(.format)"] | join(" ")')" = \
  "$T/web-a.qcow2=qcow2 /dev/null=raw $T/pool1/data.img=raw" ] && ok ||
  not_ok "web-a: file, block and volume disks, the CD-ROM left out: $(r web-a '.disks')"
[ "$(r web-b '.disks[0].format')" = raw ] && ok || not_ok "no driver type reads as raw"
[ "$(r linked '"\(.result) \(.host)"')" = "would update frontend1" ] && ok ||
  not_ok "a host linked to uri+domain is the one updated: $(r linked .)"
[ "$(r web-b .result)" = failed ] && [[ "$(r web-b .reason)" == "host 'web-b' exists and is not linked to this domain"* ]] &&
  ok || not_ok "an unlinked host of the same name is not taken over: $(r web-b .reason)"
[[ "$(r 'bad name' .reason)" == "'bad name' is not a host name"* ]] && ok || not_ok "bad name: $(r 'bad name' .reason)"
[ "$(r net1 .reason)" = "disk vda: a network disk cannot be read from here (file, block and volume disks can)" ] &&
  ok || not_ok "network disk: $(r net1 .reason)"
[[ "$(r gone1 .reason)" == "disk $T/gone1.img: No such file or directory"* ]] && ok || not_ok "missing disk: $(r gone1 .reason)"
[ "$(r empty1 .reason)" = "no file, block or volume disk to inspect" ] && ok || not_ok "empty: $(r empty1 .reason)"
[ "$(r web-c '"\(.result) \(.running)"')" = "skipped true" ] && ok || not_ok "running domain skipped: $(r web-c .)"
expect "--live takes a running domain" 0 "would add" -- \
  bash -c "$P inventory discover --connect '$U' --dry-run --live --domain web-c --format json | jq -r '.[0].result'"
expect "text summary" 0 "1 domain on $U: 1 would add" -- \
  bash -c "$P inventory discover --connect '$U' --dry-run --domain web-a | tail -1"
expect "dry run wrote nothing" 0 "frontend1 web-b" -- \
  bash -c "$P inventory list --format json | jq -r '.[].name' | xargs"

# what is not discover's to guess
expect "unknown domain" 2 -- $P inventory discover --connect "$U" --domain nope
stderr_has "unknown domain named" "no domain 'nope' on $U"
expect "no --connect" 2 -- $P inventory discover
expect "stray argument" 2 -- $P inventory discover --connect "$U" extra
expect "bad accel" 2 -- $P inventory discover --connect "$U" --accel fast
expect "unreachable daemon" 3 -- $P inventory discover --connect 'qemu+unix:///system?socket=/nonexistent'
expect "test:///default has no real disk" 1 -- $P inventory discover --connect test:///default
stderr_has "and says which" "1 of 1 domain failed: 'test'"

finish
