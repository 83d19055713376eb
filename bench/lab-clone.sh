#!/usr/bin/env bash
# bench/lab-clone.sh - the cost of one lab clone: patchlab's qcow2 overlay
# volume (libvirt storage volume backed by the golden image) next to a full
# copy as virt-clone makes it; for the golden image and for a 4x larger
# one. Needs the lab daemon (scripts/libvirt-lab start) and a built image.
# Prints per-clone time and disk use and their ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PATCHLAB:-$PWD/$(./scripts/build)/patchlab}
URI=qemu:///system
N=${CLONES:-10}
command -v virt-clone >/dev/null || apt-get install -y -qq --no-install-recommends virtinst >/dev/null
T=$(mktemp -d /var/tmp/pl-bench-clone.XXXXXX)
chmod 0711 "$T"
POOL=plbench-$$
. bench/lib.sh
bench_pools_mark
cleanup() {
  bench_pools_drop
  for d in $(virsh -q -c $URI list --all --name | grep "^plbench-" || true); do virsh -q -c $URI undefine "$d" >/dev/null 2>&1 || true; done
  virsh -q -c $URI pool-destroy $POOL >/dev/null 2>&1 || true
  virsh -q -c $URI pool-undefine $POOL >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT

golden=$("$P" image show --format json debian-12 | sed -n 's/.*"path": "\(.*\)",/\1/p')
[ -f "$golden" ] || { echo "build the image first: patchlab image build images/debian-12.json" >&2; exit 3; }

# a 4x larger golden image: the same disk with 3x its allocation in extra data
big="$T/big.qcow2"
alloc=$(du -B1 "$golden" | cut -f1)
qemu-img convert -O qcow2 "$golden" "$big"
nchunks=$(( (3 * alloc + 256 * 1048576 - 1) / (256 * 1048576) ))
qemu-img resize -q "$big" $(( 4 * 1024 * 1024 * 1024 + nchunks * 256 * 1048576 ))
chunks=()
for ((off = 0; off < 3 * alloc; off += 256 * 1048576)); do
  chunks+=(-c "write -P 0x5a $(( 4 * 1024 * 1024 * 1024 + off )) 256M")
done
qemu-io -f qcow2 "${chunks[@]}" "$big" >/dev/null

mkdir -p "$T/pool"
virsh -q -c $URI pool-create-as $POOL dir --target "$T/pool" >/dev/null

now() { date +%s.%N; }

bench_one() { # bench_one LABEL BASE
  local label=$1 base=$2 vsize t0 t1 i overlay_t copy_t overlay_du copy_du
  vsize=$(qemu-img info --output=json "$base" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
  t0=$(now)
  for i in $(seq 1 "$N"); do
    virsh -q -c $URI vol-create $POOL /dev/stdin >/dev/null <<XML
<volume><name>ov-$label-$i.qcow2</name><capacity unit='bytes'>$vsize</capacity>
<target><format type='qcow2'/></target>
<backingStore><path>$base</path><format type='qcow2'/></backingStore></volume>
XML
  done
  t1=$(now)
  overlay_t=$(echo "($t1 - $t0) / $N" | bc -l)
  overlay_du=$(du -B1 "$T/pool/ov-$label-1.qcow2" | cut -f1)
  # virt-clone: a domain on the image, cloned with a full copy of its disk
  virsh -q -c $URI define /dev/stdin >/dev/null <<XML
<domain type='qemu'><name>plbench-src-$label</name><memory unit='MiB'>256</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$base'/>
<target dev='vda' bus='virtio'/></disk></devices></domain>
XML
  t0=$(now)
  virt-clone -q --connect $URI --original plbench-src-$label --name plbench-copy-$label \
    --file "$T/pool/copy-$label.qcow2" >/dev/null
  t1=$(now)
  copy_t=$(echo "$t1 - $t0" | bc -l)
  copy_du=$(du -B1 "$T/pool/copy-$label.qcow2" | cut -f1)
  printf '%-8s image %6.0f MiB | overlay %7.3f s %8.0f KiB | virt-clone %7.2f s %8.0f MiB | time x%.0f, disk x%.0f\n' \
    "$label" "$(echo "$(du -B1 "$base" | cut -f1) / 1048576" | bc -l)" \
    "$overlay_t" "$(echo "$overlay_du / 1024" | bc -l)" "$copy_t" "$(echo "$copy_du / 1048576" | bc -l)" \
    "$(echo "$copy_t / $overlay_t" | bc -l)" "$(echo "$copy_du / $overlay_du" | bc -l)"
}

echo "clones per size: $N (overlay figures are the mean per clone)"
bench_one golden "$golden"
bench_one 4x "$big"
