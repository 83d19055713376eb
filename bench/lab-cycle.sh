#!/usr/bin/env bash
# bench/lab-cycle.sh - one candidate's lab cycle by stage (patchlab lab run)
# next to the equivalent shell pipeline of libguestfs tools on the same
# image and the same .debs: virt-clone (full copy), virt-customize
# (copy the .debs in, dpkg -i), boot with virsh until the login prompt,
# virt-inspector. Needs the lab daemon, a built debian-12 image and a
# candidate (default: the newer openssl, libssl3, tzdata of the apt sources).
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PATCHLAB:-$PWD/$(./scripts/build)/patchlab}
URI=qemu:///system
export LIBGUESTFS_BACKEND=direct
[ "$("$P" lab accel | cut -d' ' -f1)" = kvm ] || export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
T=$(mktemp -d /var/tmp/pl-bench-cycle.XXXXXX)
chmod 0711 "$T"
. bench/lib.sh
bench_pools_mark
trap 'bench_pools_drop; virsh -q -c $URI destroy plbench-cycle >/dev/null 2>&1 || true; virsh -q -c $URI undefine plbench-cycle-src >/dev/null 2>&1 || true; virsh -q -c $URI undefine plbench-cycle >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l; }

# the same .debs for both
mkdir -p "$T/debs"
for name in openssl libssl3 tzdata; do
  cand=$(apt-cache policy "$name" | sed -n 's/^  Candidate: //p')
  (cd "$T/debs" && apt-get download -qq "$name=$cand" 2>/dev/null)
done
args=(); for f in "$T"/debs/*.deb; do args+=(--deb "$f"); done
name=bench-$$
"$P" candidate create "$name" "${args[@]}" >/dev/null

echo "== patchlab lab run"
t0=$(now)
"$P" -q lab run "$name" --image debian-12 --format json >"$T/run.json" || true
ours=$(since "$t0")
python3 - "$T/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for s in r["stages"]:
    print("  %-8s %6.1f s" % (s["stage"], s["seconds"]))
print("  verdict  %s (%d checks)" % (r["verdict"], len(r["checks"])))
PY
printf '  total    %6.1f s\n' "$ours"

echo "== shell pipeline: virt-clone, virt-customize, virsh, virt-inspector"
golden=$("$P" image show --format json debian-12 | sed -n 's/.*"path": "\(.*\)",/\1/p')
virsh -q -c $URI define /dev/stdin >/dev/null <<XML
<domain type='qemu'><name>plbench-cycle-src</name><memory unit='MiB'>1024</memory><vcpu>2</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/></features>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$golden'/>
<target dev='vda' bus='virtio'/></disk>
<serial type='file'><source path='$T/console.log' append='off'/><target port='0'/></serial></devices></domain>
XML
t0=$(now); tt=$t0
virt-clone -q --connect $URI --original plbench-cycle-src --name plbench-cycle --file "$T/clone.qcow2" >/dev/null
printf '  %-15s %6.1f s\n' virt-clone "$(since "$tt")"; tt=$(now)
virt-customize -q -a "$T/clone.qcow2" --copy-in "$T/debs:/tmp" \
  --run-command 'dpkg -i /tmp/debs/*.deb' >/dev/null
printf '  %-15s %6.1f s\n' virt-customize "$(since "$tt")"; tt=$(now)
virsh -q -c $URI start plbench-cycle >/dev/null
until grep -q ' login:' "$T/console.log" 2>/dev/null; do sleep 0.25; done
virsh -q -c $URI destroy plbench-cycle >/dev/null
printf '  %-15s %6.1f s\n' "boot (virsh)" "$(since "$tt")"; tt=$(now)
virt-inspector -a "$T/clone.qcow2" >"$T/inspector.xml"
printf '  %-15s %6.1f s\n' virt-inspector "$(since "$tt")"
shell=$(since "$t0")
printf '  total          %6.1f s\n' "$shell"
printf 'ratio shell/patchlab: %.2f\n' "$(echo "$shell / $ours" | bc -l)"
