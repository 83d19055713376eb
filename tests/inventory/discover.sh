#!/usr/bin/env bash
# Integration: 'inventory discover' against the lab's real libvirtd and
# libguestfs. Two shut-off domains whose disks are qcow2 overlays of the
# project's Debian image, and one whose disk is a zero-filled file that
# claims to be qcow2: the two become hosts with the image's OS, hostname and
# packages, the broken one is reported by name with libguestfs's message and
# stops nothing; a second discover changes nothing; the daemon ends as it
# began.
. "$(dirname "$0")/../lib.sh"
P=$PATCHLAB
URI=$LAB_URI
export PATCHLAB_IMAGE_CACHE=${PATCHLAB_IMAGE_CACHE:-/var/cache/patchlab/images}
lab_require
before=$(lab_objects)
PFX=pl-disc-$$
trap 'for d in $PFX-a $PFX-b $PFX-broken; do virsh -q -c $URI undefine "$d" >/dev/null 2>&1; done; lab_pool_cleanup; rm -rf "$T"' EXIT

expect "init" 0 -- $P init
expect "image (cached by manifest)" 0 -- $P image build "$PL_SRC/images/debian-12.json"
img=$($P image show --format json --packages debian-12)
golden=$(jq -r .path <<<"$img")
want_version=$(jq -r .version <<<"$img")
want_hostname=$(jq -r .hostname <<<"$img")
want_packages=$(jq '.package_list | length' <<<"$img")
want_openssl=$(jq -r '.package_list[] | select(.name == "openssl") | .version' <<<"$img")
[ -n "$want_openssl" ] && [ "$want_packages" -gt 100 ] && ok ||
  not_ok "the image lists openssl and its packages ($want_packages)"

# domain NAME DISK FORMAT: a shut-off domain with that disk and an empty CD-ROM
domain() {
  cat >"$T/$1.xml" <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='$3'/>
      <source file='$2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
  </devices>
</domain>
EOF
  virsh -q -c $URI define "$T/$1.xml" >/dev/null
}
for v in a b; do
  qemu-img create -q -f qcow2 -b "$golden" -F qcow2 "$T/$v.qcow2" && ok || not_ok "overlay $v"
  domain $PFX-$v "$T/$v.qcow2" qcow2 && ok || not_ok "define $PFX-$v"
done
head -c 16M /dev/zero >"$T/broken.qcow2"
domain $PFX-broken "$T/broken.qcow2" qcow2 && ok || not_ok "define $PFX-broken"
chmod 0644 "$T"/*.qcow2
d=(--domain $PFX-a --domain $PFX-b --domain $PFX-broken)

# the dry run names what it would do and launches nothing
expect "dry run" 0 -- $P inventory discover --connect $URI "${d[@]}" --dry-run
$P inventory discover --connect $URI "${d[@]}" --dry-run >"$T/dry.txt" 2>/dev/null
grep -q "^$PFX-a  *would add  *host '$PFX-a', 1 disk$" "$T/dry.txt" &&
  ok || not_ok "dry run says 'would add' with one disk (the CD-ROM skipped): $(cat "$T/dry.txt")"
expect "dry run wrote nothing" 0 "0" -- bash -c "$P inventory list --format json | jq length"

t0=$(date +%s)
rc=0
$P inventory discover --connect $URI "${d[@]}" --format json >"$T/first.json" 2>"$T/err.first" || rc=$?
t1=$(date +%s)
[ $rc -eq 1 ] && ok || not_ok "discover with a broken domain exits 1, not $rc: $(tail -3 "$T/err.first")"
grep -qF "1 of 3 domains failed: '$PFX-broken'" "$T/err.first" && ok || not_ok "the failure is counted and named"
jq -e --arg d $PFX-broken '.[] | select(.domain == $d) | .result == "failed" and (.reason | test("qcow2|image|format"; "i"))' "$T/first.json" >/dev/null &&
  ok || not_ok "the broken disk's reason quotes libguestfs: $(jq -r '.[].reason' "$T/first.json")"
[ "$(jq -r '[.[].result] | join(" ")' "$T/first.json")" = "added added failed" ] && ok ||
  not_ok "results: $(jq -r '[.[].result] | join(" ")' "$T/first.json")"
grep -q "==> inspect: domain $PFX-a (1 of 3, 1 disk)" "$T/err.first" && ok || not_ok "a progress line per domain"

for v in a b; do
  h=$($P inventory show $PFX-$v --packages --format json)
  [ "$(jq -r .os <<<"$h")" = debian ] && ok || not_ok "$v: os $(jq -r .os <<<"$h")"
  [ "$(jq -r .os_version <<<"$h")" = "$want_version" ] && [[ $want_version == 12.* ]] && ok ||
    not_ok "$v: os_version $(jq -r .os_version <<<"$h"), image $want_version"
  [ "$(jq -r .hostname <<<"$h")" = "$want_hostname" ] && ok || not_ok "$v: hostname $(jq -r .hostname <<<"$h")"
  [ "$(jq -r .arch <<<"$h")" = x86_64 ] && ok || not_ok "$v: arch"
  [ "$(jq .packages <<<"$h")" = "$want_packages" ] && ok ||
    not_ok "$v: $(jq .packages <<<"$h") packages, the image has $want_packages"
  [ "$(jq -r '.package_list[] | select(.name == "openssl") | .version' <<<"$h")" = "$want_openssl" ] && ok ||
    not_ok "$v: openssl $want_openssl"
  [ "$(jq -r '"\(.libvirt_uri) \(.libvirt_domain) \(.discovered_from)"' <<<"$h")" = "$URI $PFX-$v libvirt" ] && ok ||
    not_ok "$v: linked to its domain"
done
expect "broken domain added no host" 2 -- $P inventory show $PFX-broken

# user-set fields survive; a second run changes nothing it need not
expect "set role" 0 -- $P inventory set $PFX-a --role web --environment staging --control firewall=on
$P inventory list --format json | jq -S '[.[] | del(.updated_at)]' >"$T/list1.json"
sqlite3 "$PATCHLAB_STATE/patchlab.db" "SELECT h.name, p.name, p.arch, p.version, p.status FROM host_packages p JOIN hosts h ON h.id = p.host_id ORDER BY 1, 2, 3" >"$T/pk1"
# b's package list replaced by hand: the next discover puts the real one back
expect "clobber b's packages" 0 -- $P inventory packages $PFX-b --rpm-qa "$PL_TEST_DATA/inventory/rpm-qa.txt"
rc=0
$P inventory discover --connect $URI "${d[@]}" >"$T/again.txt" 2>/dev/null || rc=$?
[ $rc -eq 1 ] && grep -q "^3 domains on $URI: 1 updated, 1 unchanged, 1 failed$" "$T/again.txt" &&
  grep -q "^$PFX-a  *unchanged " "$T/again.txt" && grep -q "^$PFX-b  *updated " "$T/again.txt" && ok ||
  not_ok "second run (exit $rc): $(cat "$T/again.txt")"
$P inventory list --format json | jq -S '[.[] | del(.updated_at)]' >"$T/list2.json"
sqlite3 "$PATCHLAB_STATE/patchlab.db" "SELECT h.name, p.name, p.arch, p.version, p.status FROM host_packages p JOIN hosts h ON h.id = p.host_id ORDER BY 1, 2, 3" >"$T/pk2"
# discovered_at moves on, nothing else does
diff <(jq 'map(del(.discovered_at))' "$T/list1.json") <(jq 'map(del(.discovered_at))' "$T/list2.json") >/dev/null &&
  ok || not_ok "hosts unchanged by a second discover"
cmp -s "$T/pk1" "$T/pk2" && ok || not_ok "packages unchanged by a second discover"
expect "role kept" 0 "web staging true" -- \
  bash -c "$P inventory show $PFX-a --format json | jq -r '\"\\(.role) \\(.environment) \\(.controls.firewall)\"'"
expect "two hosts" 0 "2" -- bash -c "$P inventory list --format json | jq length"

echo "discover: first run $((t1 - t0)) s"

for v in a b broken; do virsh -q -c $URI undefine $PFX-$v >/dev/null; done
[ "$(lab_objects)" = "$before" ] && ok || not_ok "the daemon holds other objects: $(lab_objects | tr '\n' ' ')"
finish
