# bench/lib.sh - helpers the lab benchmarks share; source after cd to the repo.

# virt-clone defines a storage pool for every directory it reads or writes:
# bench_pools_mark remembers the pools there are, bench_pools_drop removes
# every pool defined since.
bench_pools_mark() {
  BENCH_POOLS_BEFORE=$(virsh -q -c qemu:///system pool-list --all --name)
}
bench_pools_drop() {
  local p
  for p in $(virsh -q -c qemu:///system pool-list --all --name); do
    if ! grep -qx "$p" <<<"$BENCH_POOLS_BEFORE"; then
      virsh -q -c qemu:///system pool-destroy "$p" >/dev/null 2>&1 || true
      virsh -q -c qemu:///system pool-undefine "$p" >/dev/null 2>&1 || true
    fi
  done
}
