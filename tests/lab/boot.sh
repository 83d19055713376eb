#!/usr/bin/env bash
# Integration: the real libvirtd in its namespace (scripts/libvirt-lab), a
# real Debian 12 image built by the project (cached outside the clone, by
# its manifest), booted by PXE, direct kernel and disk; a guest that never
# comes up; a run killed with SIGKILL mid-boot, after which 'lab gc' leaves
# nothing behind; and the daemon holding the same objects as before.
. "$(dirname "$0")/../lib.sh"
P=$PATCHLAB
URI=qemu:///system
export PATCHLAB_IMAGE_CACHE=${PATCHLAB_IMAGE_CACHE:-/var/cache/patchlab/images}
export PATCHLAB_ACCEL=${PATCHLAB_ACCEL:-auto}
[ "$(id -u)" -eq 0 ] || { echo "needs root: skipped"; exit 77; }
timeout 10 virsh -q -c $URI version >/dev/null 2>&1 || { echo "no libvirtd (scripts/libvirt-lab start): skipped"; exit 77; }
chmod 0711 "$T"

objects() {
  { virsh -q -c $URI list --all --name; virsh -q -c $URI net-list --all --name; } | sed '/^$/d' | sort
}
cleanup_pool() {
  for p in $(virsh -q -c $URI pool-list --all --name | grep '^patchlab-pool-'); do
    if virsh -q -c $URI pool-dumpxml "$p" | grep -q "<path>$T/"; then
      virsh -q -c $URI pool-destroy "$p" >/dev/null 2>&1
      virsh -q -c $URI pool-undefine "$p" >/dev/null 2>&1
    fi
  done
}
trap 'cleanup_pool; rm -rf "$T"' EXIT
before=$(objects)

expect "init" 0 -- $P init
expect "image build (cached by manifest)" 0 -- $P image build "$PL_SRC/images/debian-12.json"
expect "image build again reuses" 0 -- $P image build --format json "$PL_SRC/images/debian-12.json"
grep -q '"reused": true' <<<"$($P image build --format json "$PL_SRC/images/debian-12.json")" && ok || not_ok "second build reused the cache"
expect "image list" 0 -- $P image list
expect "image show json" 0 -- $P image show --format json debian-12
show=$($P image show --format json --packages debian-12)
for want in '"distro": "debian"' '"version": "12.' '"boot_marker": true' '"name": "openssh-server"' '"name": "linux-image-6.1'; do
  grep -qF "$want" <<<"$show" && ok || not_ok "image show has $want"
done
disk=$(sed -n 's/.*"path": "\(.*disk.qcow2\)".*/\1/p' <<<"$show")
[ -n "$disk" ] && [ ! -w "$disk" ] || [ "$(stat -c %a "$disk")" = 444 ] && ok || not_ok "golden image is read-only on disk"
sha_before=$(sha256sum "$disk" | cut -d' ' -f1)

# one boot per mode; each must come up and clean up after itself
for mode in kernel pxe disk; do
  expect "lab boot --boot $mode" 0 -- $P lab boot --image debian-12 --boot $mode --format json
  [ "$(objects)" = "$before" ] && ok || not_ok "after $mode boot the daemon holds other objects: $(objects | tr '\n' ' ')"
done
sha_after=$(sha256sum "$disk" | cut -d' ' -f1)
[ "$sha_before" = "$sha_after" ] && ok || not_ok "golden image unchanged by the boots"

# a guest that never comes up in time: exit 1, the console log named
printf '{"name": "impatient", "vms": [{"name": "vm1"}], "timeouts": {"boot": 10}}\n' >"$T/impatient.json"
expect "guest not up in time" 1 -- $P lab boot --image debian-12 --boot kernel --lab "$T/impatient.json"
stderr_has "names the console log" "console: $T/state/runs/"
[ "$(objects)" = "$before" ] && ok || not_ok "a failed boot cleans up too"

# input and environment errors
expect "missing image" 2 -- $P lab boot --image no-such-image
stderr_has "missing image named" "no image 'no-such-image'"
expect "bad lab file" 2 -- $P lab boot --image debian-12 --lab "$PL_TEST_DATA/lab/defs/bad-port.json"
stderr_has "bad lab file names path" '$.smoke.ports[1]'
expect "daemon down" 3 -- $P lab boot --image debian-12 --connect qemu+unix:///system?socket=/nonexistent

# SIGKILL mid-boot: the run's objects stay until 'lab gc' removes them all
$P lab boot --image debian-12 --boot pxe >"$T/killed.out" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  objects | grep -q '^patchlab-.*-vm1$' && break
  sleep 0.5
done
sleep 2
kill -KILL $pid; wait $pid 2>/dev/null
[ "$(objects)" != "$before" ] && ok || not_ok "the killed run left its domain and network (as expected before gc)"
gc=$($P lab gc --format json) && ok || not_ok "lab gc failed"
grep -q '"runs": 1' <<<"$gc" && ok || not_ok "lab gc collected the one dead run: $gc"
[ "$(objects)" = "$before" ] && ok || not_ok "after lab gc the daemon holds other objects: $(objects | tr '\n' ' ')"
leftover=$(ls "$T/state/pool" 2>/dev/null | grep -c '^patchlab-' || true)
[ "$leftover" = 0 ] && ok || not_ok "after lab gc no overlay volume is left ($leftover)"
state=$(sqlite3 "$T/state/patchlab.db" "SELECT group_concat(state) FROM lab_runs WHERE state NOT IN ('passed','failed')")
[ "$state" = "aborted" ] && ok || not_ok "the killed run is marked aborted (got '$state')"

finish
