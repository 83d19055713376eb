#!/usr/bin/env bash
# Integration: the real libvirtd in its namespace (scripts/libvirt-lab), a
# real Debian 12 image built by the project (cached outside the clone, by
# its manifest), booted by PXE, direct kernel and disk; a guest that never
# comes up; a run killed with SIGKILL mid-boot, after which 'lab gc' leaves
# nothing behind; and the daemon holding the same objects as before.
. "$(dirname "$0")/../lib.sh"
P=$PATCHLAB
export PATCHLAB_IMAGE_CACHE=${PATCHLAB_IMAGE_CACHE:-/var/cache/patchlab/images}
export PATCHLAB_ACCEL=${PATCHLAB_ACCEL:-auto}
lab_require
before=$(lab_objects)

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
[ -n "$disk" ] && [ "$(stat -c %a "$disk")" = 444 ] && ok || not_ok "golden image is read-only on disk (0444): '$disk'"
sha_before=$(sha256sum "$disk" | cut -d' ' -f1)

# one boot per mode; each must come up and clean up after itself
for mode in kernel pxe disk; do
  expect "lab boot --boot $mode" 0 -- $P lab boot --image debian-12 --boot $mode --format json
  [ "$(lab_objects)" = "$before" ] && ok || not_ok "after $mode boot the daemon holds other objects: $(lab_objects | tr '\n' ' ')"
done
sha_after=$(sha256sum "$disk" | cut -d' ' -f1)
[ "$sha_before" = "$sha_after" ] && ok || not_ok "golden image unchanged by the boots"

# an existing image registered read-only: inspected, never modified
expect "image import" 0 -- $P image import "$disk" --name prod-web
[ "$(sha256sum "$disk" | cut -d' ' -f1)" = "$sha_before" ] && ok || not_ok "import left the disk unchanged"
grep -q '"origin": "imported"' <<<"$($P image show --format json prod-web)" && ok || not_ok "registered as imported"
expect "import under a taken name" 2 -- $P image import "$disk" --name prod-web
expect "import of a missing file" 2 -- $P image import "$T/nope.qcow2" --name x
expect "image inspect" 0 -- $P image inspect --format json prod-web
grep -q '"distro": "debian"' <<<"$($P image inspect --format json prod-web)" && ok || not_ok "inspect finds debian"

# a guest that never comes up in time: exit 1, the console log named
printf '{"name": "impatient", "vms": [{"name": "vm1"}], "timeouts": {"boot": 10}}\n' >"$T/impatient.json"
expect "guest not up in time" 1 -- $P lab boot --image debian-12 --boot kernel --lab "$T/impatient.json"
stderr_has "names the console log" "console: $T/state/runs/"
[ "$(lab_objects)" = "$before" ] && ok || not_ok "a failed boot cleans up too"

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
  lab_objects | grep -q '^patchlab-.*-vm1$' && break
  sleep 0.5
done
sleep 2
kill -KILL $pid; wait $pid 2>/dev/null
[ "$(lab_objects)" != "$before" ] && ok || not_ok "the killed run left its domain and network (as expected before gc)"
gc=$($P lab gc --format json) && ok || not_ok "lab gc failed"
grep -q '"runs": 1' <<<"$gc" && ok || not_ok "lab gc collected the one dead run: $gc"
[ "$(lab_objects)" = "$before" ] && ok || not_ok "after lab gc the daemon holds other objects: $(lab_objects | tr '\n' ' ')"
leftover=$(ls "$T/state/pool" 2>/dev/null | grep -c '^patchlab-' || true)
[ "$leftover" = 0 ] && ok || not_ok "after lab gc no overlay volume is left ($leftover)"
state=$(sqlite3 "$T/state/patchlab.db" "SELECT group_concat(state) FROM lab_runs WHERE state NOT IN ('passed','failed')")
[ "$state" = "aborted" ] && ok || not_ok "the killed run is marked aborted (got '$state')"

finish
