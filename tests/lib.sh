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
