#!/usr/bin/env bash
# patchlab inventory drift, data-driven: the hosts and package lists of
# tests/data/inventory/drift go in through import and packages; each
# cases/NAME.args is one drift command line whose output must equal
# cases/NAME.out (PATCHLAB_TEST_REGENERATE=1 rewrites them: review the diff).
. "$(dirname "$0")/../lib.sh"
P=$PATCHLAB
D=$PL_TEST_DATA/inventory/drift

expect "init" 0 -- $P init
expect "import" 0 -- $P inventory import "$D/hosts.csv"
for f in "$D"/*.status; do
  h=$(basename "$f" .status)
  expect "packages $h" 0 -- $P inventory packages "$h" --dpkg-status "$f"
done
for f in "$D"/*.rpm; do
  h=$(basename "$f" .rpm)
  expect "packages $h" 0 -- $P inventory packages "$h" --rpm-qa "$f"
done

for args in "$D"/cases/*.args; do
  name=$(basename "$args" .args)
  want=${args%.args}.out
  read -r -a a <"$args" || true
  rc=0
  $P inventory drift "${a[@]}" >"$T/got" 2>"$T/err" || rc=$?
  if [ $rc -ne 0 ]; then
    not_ok "drift $name: exit $rc: $(cat "$T/err")"
  elif [ "${PATCHLAB_TEST_REGENERATE:-0}" = 1 ]; then
    cp "$T/got" "$want" && ok
  elif diff -u "$want" "$T/got" >"$T/diff"; then
    ok
  else
    not_ok "drift $name differs from $want:"
    cat "$T/diff" >&2
  fi
done

expect "--check with drift" 1 -- $P inventory drift --check --role web
stderr_has "--check says where" "drift in 1 group"
expect "--check without drift" 0 -- $P inventory drift --check --role web --environment staging
expect "no such role" 0 "" -- $P inventory drift --role nope
expect "bad format" 2 -- $P inventory drift --format csv
expect "stray argument" 2 -- $P inventory drift web

finish
