#!/usr/bin/env bash
# Integration: a rollout over a small fleet of libvirt VM targets in the lab
# daemon, where the candidate breaks one target.
#
# Three persistent domains (qcow2 overlays of the project's Debian image in
# $T, on an isolated network of their own with DHCP), each with its own
# SMBIOS serial number: fleet-a (the canary, running when the rollout
# starts), fleet-b and fleet-c (shut off). The candidate is pl-fleet 1.0,
# built here with dpkg-deb: it enables a unit that fails at boot on the
# machine whose serial is fleet-c only (dpkg succeeds everywhere: the
# failure is seen by the smoke boot, as a real regression would be). Approval goes through 'patchlab approve' after the one
# test-only shortcut the gate's own tests use: the rows of a passed lab run
# put in with sqlite3 (tests/gate/approve.sh). Then, with PATCHLAB_NOW in
# the policy's windows:
#   run-due in the canary's window: fleet-a is shut down, snapshotted,
#     patched, smoke-booted, started again, re-inspected; a second run-due
#     changes nothing;
#   run-due in the next window: fleet-a's snapshot is merged (the soak is
#     over) while it runs; fleet-b and fleet-c in parallel: fleet-b keeps
#     the patch, fleet-c fails its smoke boot and is rolled back; one of two
#     failed is above the wave's halt rate: the rollout and the candidate
#     halt, the Ansible wave after it is never written.
# Checked from outside patchlab: the domains' disks, running states, the
# packages on each disk (guestfish, read-only), the agent gone, the audit
# chain. The daemon ends holding none of the test's objects.
. "$(dirname "$0")/../lib.sh"
P=$PATCHLAB
URI=$LAB_URI
export PATCHLAB_IMAGE_CACHE=${PATCHLAB_IMAGE_CACHE:-/var/cache/patchlab/images}
lab_require
for t in qemu-img dpkg-deb jq sqlite3 guestfish; do
  command -v $t >/dev/null || { echo "no $t: skipped"; exit 77; }
done
export LIBGUESTFS_BACKEND=direct
[ "${PATCHLAB_ACCEL:-}" = kvm ] || export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
PFX=pl-fleet-$$
NET=$PFX-net
DB=$PATCHLAB_STATE/patchlab.db
cleanup() {
  for v in a b c; do
    virsh -q -c $URI destroy $PFX-$v >/dev/null 2>&1
    virsh -q -c $URI undefine $PFX-$v >/dev/null 2>&1
  done
  virsh -q -c $URI net-destroy $NET >/dev/null 2>&1
  virsh -q -c $URI net-undefine $NET >/dev/null 2>&1
  lab_pool_cleanup
  rm -rf "$T"
}
trap cleanup EXIT
t_start=$(date +%s)
export PATCHLAB_ACTOR=fleet-test
T0=2027-03-01T12:00:00Z # a Monday: the plan is made
T1=2027-03-01T22:30:00Z # inside the canary's window
T2=2027-03-02T22:30:00Z # the next night: the canary has soaked, the rest is due

expect "init" 0 -- $P init
expect "image (cached by manifest)" 0 -- $P image build "$PL_SRC/images/debian-12.json"
golden=$($P image show --format json debian-12 | jq -r .path)

# ---- the fleet ------------------------------------------------------------------
# an isolated network with DHCP (the image's networkd waits for a lease), on a
# /24 no other network of the daemon uses
used=$(for n in $(virsh -q -c $URI net-list --all --name); do
  virsh -q -c $URI net-dumpxml "$n" | sed -n "s/.*<ip address='\([0-9.]*\)'.*/\1/p"
done)
sub=
for i in $(seq 100 199); do
  grep -q "^10\.238\.$i\." <<<"$used" || { sub=10.238.$i; break; }
done
[ -n "$sub" ] || { echo "no free 10.238.x.0/24: skipped"; exit 77; }
cat >"$T/net.xml" <<EOF
<network>
  <name>$NET</name>
  <ip address='$sub.1' netmask='255.255.255.0'>
    <dhcp><range start='$sub.10' end='$sub.99'/></dhcp>
  </ip>
</network>
EOF
expect "network" 0 -- virsh -q -c $URI net-define "$T/net.xml"
expect "network up" 0 -- virsh -q -c $URI net-start $NET

for v in a b c; do
  qemu-img create -q -f qcow2 -b "$golden" -F qcow2 "$T/$v.qcow2" && ok || not_ok "overlay $v"
done
chmod 0644 "$T"/*.qcow2
for v in a b c; do
  cat >"$T/$v.xml" <<EOF
<domain type='qemu'>
  <name>$PFX-$v</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <sysinfo type='smbios'><system><entry name='serial'>fleet-$v</entry></system></sysinfo>
  <os><type arch='x86_64'>hvm</type><boot dev='hd'/><smbios mode='sysinfo'/></os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$T/$v.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'><source network='$NET'/><model type='virtio'/></interface>
    <serial type='file'><source path='$T/$v.console.log'/><target port='0'/></serial>
  </devices>
</domain>
EOF
  expect "define $v" 0 -- virsh -q -c $URI define "$T/$v.xml"
done
expect "start the canary" 0 -- virsh -q -c $URI start $PFX-a
disk_of() { virsh -q -c $URI dumpxml --inactive "$PFX-$1" | sed -n "s/.*<source file='\([^']*\)'.*/\1/p" | head -1; }
state_of() { virsh -q -c $URI domstate "$PFX-$1"; }

# ---- the candidate: pl-fleet 1.0, fatal at boot on fleet-c only -----------------
# (the machine's SMBIOS serial number, which each domain's definition sets)
mkdir -p "$T/pkg/DEBIAN" "$T/pkg/lib/systemd/system"
cat >"$T/pkg/DEBIAN/control" <<'EOF'
Package: pl-fleet
Version: 1.0
Architecture: all
Maintainer: patchlab tests <tests@patchlab.invalid>
Description: patchlab fleet test package
 Enables pl-fleet-check.service, which fails on the machine with serial fleet-c.
EOF
cat >"$T/pkg/lib/systemd/system/pl-fleet-check.service" <<'EOF'
[Unit]
Description=pl-fleet: fails on fleet-c only

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c '! grep -qx fleet-c /sys/class/dmi/id/product_serial'

[Install]
WantedBy=multi-user.target
EOF
cat >"$T/pkg/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	mkdir -p /etc/systemd/system/multi-user.target.wants
	ln -sf /lib/systemd/system/pl-fleet-check.service \
		/etc/systemd/system/multi-user.target.wants/pl-fleet-check.service
fi
EOF
chmod 0755 "$T/pkg/DEBIAN/postinst"
expect "build pl-fleet" 0 -- dpkg-deb --root-owner-group --build "$T/pkg" "$T/pl-fleet_1.0_all.deb"
expect "candidate" 0 -- $P candidate create fleet --deb "$T/pl-fleet_1.0_all.deb"

cat >"$T/hosts.csv" <<EOF
name,role,environment,tags,libvirt_uri,libvirt_domain
fleet-a,web,production,canary,$URI,$PFX-a
fleet-b,web,production,,$URI,$PFX-b
fleet-c,web,production,,$URI,$PFX-c
ext-1,web,staging,external,,
EOF
expect "inventory" 0 -- $P inventory import "$T/hosts.csv"

# the test-only shortcut: a passed lab run of the candidate, as candrun.c records it
sqlite3 "$DB" "BEGIN;
  INSERT INTO images(name, origin, path, format, sha256, size_bytes, inspection, created_at)
    VALUES ('fleet-img', 'imported', '/nonexistent.qcow2', 'qcow2', '$(printf '%064d' 0)', 0, '{}', '$T0');
  INSERT INTO lab_runs(id, kind, image_id, uri, pid, pid_start, state, started_at, ended_at, result,
    candidate_id, verdict) VALUES ('fleetrun', 'candidate', (SELECT id FROM images WHERE name = 'fleet-img'),
    '$URI', 1, 1, 'passed', '$T0', '$T0', '{}', (SELECT id FROM candidates WHERE name = 'fleet'), 'pass');
  INSERT INTO checks(run_id, vm, stage, name, status, detail) VALUES ('fleetrun', 'vm1', 'apply', 'dpkg', 'pass', 'test');
  UPDATE candidates SET state = 'passed' WHERE name = 'fleet';
  COMMIT;" && ok || not_ok "lab run rows"
export PATCHLAB_NOW=$T0
expect "approve" 0 -- $P approve fleet --as carol --note "fleet test" --policy "$PL_TEST_DATA/rollout/fleet/cab.json"
sed "s|OUTDIR|$T/external|" "$PL_TEST_DATA/rollout/fleet/policy.json" >"$T/policy.json"
expect "schedule" 0 -- $P schedule fleet --policy "$T/policy.json"
$P rollout status fleet --format json >"$T/s0.json"
[ "$(jq -r '[.waves[] | "\(.name)=\([.targets[].host] | join(","))@\(.window.start_utc)"] | join(" ")' "$T/s0.json")" = \
  "canary=fleet-a@2027-03-01T22:00:00Z rest=fleet-b,fleet-c@2027-03-02T22:00:00Z external=ext-1@2027-03-03T22:00:00Z" ] &&
  ok || not_ok "the plan: $(jq -c '[.waves[] | [.name, [.targets[].host], .window.start_utc]]' "$T/s0.json")"

# the canary must be up before its rollout shuts it down
for _ in $(seq 600); do grep -aq "login:" "$T/a.console.log" 2>/dev/null && break; sleep 1; done
grep -aq "login:" "$T/a.console.log" && ok || not_ok "fleet-a never came up: $(tail -c 300 "$T/a.console.log")"

# ---- wave 1: the canary ------------------------------------------------------------
export PATCHLAB_NOW=$T1
t1=$(date +%s)
rc=0
$P rollout run-due --format json >"$T/r1.json" 2>"$T/r1.err" || rc=$?
echo "wave canary: $(($(date +%s) - t1)) s"
[ $rc -eq 0 ] && ok || not_ok "run-due (canary) exit $rc: $(tail -5 "$T/r1.err") $(jq -c '.rollouts[].events' "$T/r1.json")"
$P rollout status fleet --format json >"$T/s1.json"
jq -e '.waves[0].state == "succeeded" and .waves[0].targets[0].state == "succeeded" and
  .waves[0].targets[0].verified == "confirmed" and .waves[0].targets[0].snapshot_state == "active" and
  .state == "running" and .candidate_state == "rolling-out"' "$T/s1.json" >/dev/null &&
  ok || not_ok "canary: $(jq -c '{state, w: .waves[0] | {state, t: .targets[0] | {state, verified, snapshot_state, detail}}}' "$T/s1.json")"
[ "$(state_of a)" = running ] && ok || not_ok "fleet-a runs again: $(state_of a)"
[ "$(disk_of a)" = "$T/a.qcow2.patchlab-r1-t1.qcow2" ] && ok || not_ok "fleet-a on its snapshot overlay: $(disk_of a)"
[ "$(jq -r '.waves[0].targets[0].result.checks | map(select(.status != "pass")) | length' "$T/s1.json")" = 0 ] &&
  ok || not_ok "every check of the canary passed: $(jq -c '.waves[0].targets[0].result.checks | map(select(.status != "pass"))' "$T/s1.json")"
n_a=$($P audit list --format json | jq '[.[] | select(.kind == "target" and .object == "fleet/fleet-a")] | length')

rc=0
$P rollout run-due --format json >"$T/r1b.json" 2>/dev/null || rc=$?
[ $rc -eq 0 ] && jq -e '.rollouts[0].events | map(select(test("waits for wave canary"))) | length == 1' "$T/r1b.json" >/dev/null &&
  ok || not_ok "a second run-due in the same night waits for the soak: $(jq -c .rollouts "$T/r1b.json")"
[ "$($P audit list --format json | jq '[.[] | select(.kind == "target" and .object == "fleet/fleet-a")] | length')" = "$n_a" ] &&
  ok || not_ok "nothing was applied to fleet-a twice"

# ---- wave 2: the rest, one of them broken -----------------------------------------------
export PATCHLAB_NOW=$T2
t2=$(date +%s)
rc=0
$P rollout run-due --format json >"$T/r2.json" 2>"$T/r2.err" || rc=$?
echo "wave rest: $(($(date +%s) - t2)) s"
[ $rc -eq 1 ] && ok || not_ok "run-due (rest) exits 1 (halted), not $rc: $(tail -5 "$T/r2.err")"
grep -q "rollout 'fleet' halted: wave rest: 1 of 2 target(s) failed (50%), above the wave's halt rate of 30%" "$T/r2.err" &&
  ok || not_ok "the halt is said: $(tail -3 "$T/r2.err")"
$P rollout status fleet --format json >"$T/s2.json"
tgt() { jq -r --arg h "$1" "[.waves[].targets[] | select(.host == \$h)][0] | $2" "$T/s2.json"; }
[ "$(jq -r '"\(.state) \(.candidate_state) \([.waves[].state] | join(","))"' "$T/s2.json")" = "halted halted succeeded,failed,pending" ] &&
  ok || not_ok "halted: $(jq -r '"\(.state) \(.candidate_state) \([.waves[].state] | join(","))"' "$T/s2.json")"
[ "$(tgt fleet-a '"\(.state) \(.snapshot_state)"')" = "succeeded committed" ] && ok ||
  not_ok "fleet-a's snapshot dropped after the soak: $(tgt fleet-a '"\(.state) \(.snapshot_state)"')"
[ "$(tgt fleet-b '"\(.state) \(.verified) \(.snapshot_state)"')" = "succeeded confirmed active" ] && ok ||
  not_ok "fleet-b patched: $(tgt fleet-b '"\(.state) \(.verified) \(.snapshot_state) \(.detail)"')"
[ "$(tgt fleet-c '"\(.state) \(.verified) \(.snapshot_state)"')" = "rolled-back confirmed discarded" ] && ok ||
  not_ok "fleet-c rolled back: $(tgt fleet-c '"\(.state) \(.verified) \(.snapshot_state) \(.detail)"')"
tgt fleet-c .detail | grep -q "pl-fleet-check.service" && ok || not_ok "fleet-c's reason names the failed unit: $(tgt fleet-c .detail)"
[ "$(tgt ext-1 .state)" = pending ] && [ ! -e "$T/external" ] && ok || not_ok "the Ansible wave was never executed"

# from outside patchlab: the domains' disks and states
[ "$(disk_of a) $(state_of a)" = "$T/a.qcow2 running" ] && [ ! -e "$T/a.qcow2.patchlab-r1-t1.qcow2" ] &&
  ok || not_ok "fleet-a: back on its disk, merged, running: $(disk_of a) $(state_of a)"
[ "$(disk_of b)" = "$T/b.qcow2.patchlab-r1-t2.qcow2" ] && [ "$(state_of b)" = "shut off" ] &&
  ok || not_ok "fleet-b: on its overlay until its soak ends, shut off as before: $(disk_of b) $(state_of b)"
[ "$(disk_of c) $(state_of c)" = "$T/c.qcow2 shut off" ] && [ ! -e "$T/c.qcow2.patchlab-r1-t3.qcow2" ] &&
  ok || not_ok "fleet-c: on its own disk again, overlay gone: $(disk_of c) $(state_of c)"
# the packages on each disk, read-only (fleet-a is running: a live read)
pkg() {
  printf 'mount-ro /dev/%s1 /\n' "$1"
  cat <<'EOF'
-sh 'v=$(dpkg-query -W pl-fleet 2>/dev/null | cut -f2); echo "pkg=${v:-none}"'
exists /etc/systemd/system/patchlab-agent.service
exists /usr/local/sbin/patchlab-agent
umount /
EOF
}
{ echo run; pkg sda; pkg sdb; pkg sdc; } | guestfish --ro -a "$(disk_of a)" -a "$(disk_of b)" -a "$(disk_of c)" >"$T/pk.out" 2>"$T/pk.err"
[ "$(grep -v '^$' "$T/pk.out" | tr '\n' ' ')" = "pkg=1.0 false false pkg=1.0 false false pkg=none false false " ] &&
  ok || not_ok "on disk: pl-fleet 1.0 and no agent on fleet-a and fleet-b, nothing on fleet-c: '$(tr '\n' ' ' <"$T/pk.out")' $(tail -2 "$T/pk.err")"

# halted: nothing more happens
rc=0
$P rollout run-due --format json >"$T/r3.json" 2>/dev/null || rc=$?
[ $rc -eq 0 ] && [ "$(jq '.rollouts | length' "$T/r3.json")" = 0 ] && ok || not_ok "a halted rollout is left alone (exit $rc)"
expect "audit verify" 0 -- $P audit verify
$P audit list --format json | jq -r '[.[] | select(.kind == "target" and .object == "fleet/fleet-c") | .action] | join(" ")' >"$T/ac"
grep -q "set-state.*set-state.*post-deploy-audit" "$T/ac" && ok || not_ok "fleet-c's changes are audited: $(cat "$T/ac")"

echo "fleet: $(($(date +%s) - t_start)) s in all"
cleanup
trap 'rm -rf "$T"' EXIT
# none of ours is left (other suites and benches add and remove their own
# meanwhile: the daemon is shared, so only our names are checked)
left=$(lab_objects | grep "^$PFX")
[ -z "$left" ] && ok || not_ok "the daemon still holds: $(tr '\n' ' ' <<<"$left")"
finish
