# tests/lib.sh - the helpers every shell suite sources.
# Environment from ctest: PATCHLAB (the binary), PL_SRC, PL_TEST_DATA.
set -u
: "${PATCHLAB:?run through ctest, or set PATCHLAB to the built binary}"
: "${PL_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${PL_TEST_DATA:=$PL_SRC/tests/data}"
pass=0
fail=0
T=$(mktemp -d /tmp/pl-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
export PATCHLAB_STATE="$T/state"

ok() { pass=$((pass + 1)); }
not_ok() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect NAME CODE [STDOUT] -- CMD... : runs CMD, checks its exit code and,
# when given, its exact standard output. Stderr is kept in $T/err.
expect() {
  local name=$1 code=$2 out=__any__
  shift 2
  if [ "$1" != "--" ]; then out=$1; shift; fi
  shift
  local got rc=0
  got=$("$@" 2>"$T/err") || rc=$?
  if [ "$rc" -ne "$code" ]; then
    not_ok "$name: exit $rc, expected $code; stderr: $(head -c 400 "$T/err")"
  elif [ "$out" != __any__ ] && [ "$got" != "$out" ]; then
    not_ok "$name: stdout '$got', expected '$out'"
  else
    ok
  fi
}

# stderr_has NAME TEXT: the last expect's stderr contains TEXT.
stderr_has() {
  if grep -qF -- "$2" "$T/err"; then ok; else not_ok "$1: stderr lacks '$2': $(head -c 400 "$T/err")"; fi
}

finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}

# ---- the lab's integration suites -------------------------------------------
LAB_URI=qemu:///system

# lab_require: skips (77) without root or without the lab's libvirtd.
lab_require() {
  [ "$(id -u)" -eq 0 ] || { echo "needs root: skipped"; exit 77; }
  timeout 10 virsh -q -c $LAB_URI version >/dev/null 2>&1 ||
    { echo "no libvirtd (scripts/libvirt-lab start): skipped"; exit 77; }
  # the lab's QEMU runs as its own user and must reach the test's state
  chmod 0711 "$T"
  trap 'lab_pool_cleanup; rm -rf "$T"' EXIT
}

# lab_objects: the daemon's domains and networks, sorted, one a line.
lab_objects() {
  { virsh -q -c $LAB_URI list --all --name; virsh -q -c $LAB_URI net-list --all --name; } |
    sed '/^$/d' | sort
}

# lab_pool_cleanup: undefine the storage pool patchlab defined for $T's state.
lab_pool_cleanup() {
  local p
  for p in $(virsh -q -c $LAB_URI pool-list --all --name | grep '^patchlab-pool-'); do
    if virsh -q -c $LAB_URI pool-dumpxml "$p" | grep -q "<path>$T/"; then
      virsh -q -c $LAB_URI pool-destroy "$p" >/dev/null 2>&1
      virsh -q -c $LAB_URI pool-undefine "$p" >/dev/null 2>&1
    fi
  done
}
