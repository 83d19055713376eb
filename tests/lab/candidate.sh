#!/usr/bin/env bash
# Integration: candidates through the real lab. Real Debian updates of the
# image's packages (newer versions in the system's apt sources, fetched with
# apt-get download) must pass; each package of the broken corpus must fail
# at the check that names its cause; verdicts repeat; bisect finds the one
# broken package among 8 in at most 4 lab runs.
. "$(dirname "$0")/../lib.sh"
P=$PATCHLAB
export PATCHLAB_IMAGE_CACHE=${PATCHLAB_IMAGE_CACHE:-/var/cache/patchlab/images}
lab_require
before=$(lab_objects)

expect "init" 0 -- $P init
expect "image (cached by manifest)" 0 -- $P image build "$PL_SRC/images/debian-12.json"

# failed_check RUN_JSON: "stage/name" of every failed or errored check
failed_checks() {
  python3 -c 'import json,sys; r=json.load(sys.stdin); print(" ".join(c["stage"]+"/"+c["name"] for c in r["checks"] if c["status"] in ("fail","error")))'
}

# --- real updates: newer versions in the apt sources of the image's packages
mkdir -p "$T/real"
pkgs=$($P image show --format json --packages debian-12 | python3 -c '
import json, sys
want = {"openssl", "libssl3", "tzdata", "openssh-server", "openssh-client", "openssh-sftp-server"}
for p in json.load(sys.stdin)["package_list"]:
    if p["name"] in want and p["status"] == "installed":
        print(p["name"], p["version"])')
args=()
while read -r name have; do
  [ -n "$name" ] || continue
  cand=$(apt-cache policy "$name" | sed -n 's/^  Candidate: //p')
  if [ -n "$cand" ] && dpkg --compare-versions "$cand" gt "$have"; then
    (cd "$T/real" && apt-get download -qq "$name=$cand" >/dev/null 2>&1) || continue
    f=$(ls "$T/real/${name}"_*.deb 2>/dev/null | head -1)
    [ -n "$f" ] && args+=(--deb "$f") && echo "real update: $name $have -> $cand"
  fi
done <<<"$pkgs"
if [ ${#args[@]} -ge 2 ]; then
  expect "create real-updates" 0 -- $P candidate create real-updates "${args[@]}"
  # PXE: the kernel and initrd extracted from the patched clone must netboot
  expect "lab run real-updates passes (PXE)" 0 -- $P lab run real-updates --image debian-12 --boot pxe
  st=$($P candidate show --format json real-updates)
  grep -q '"state": "passed"' <<<"$st" && ok || not_ok "real-updates is passed: $(head -c 300 <<<"$st")"
  grep -q '"name": "agent-result"' <<<"$st" && ok || not_ok "the run recorded the agent's result"
else
  echo "no newer versions of the image's packages in the apt sources: real-update run not possible"
  not_ok "real updates available"
fi

# --- the broken corpus: each fails at the check that names its cause
bash "$PL_SRC/tests/lab/make-debs.sh" "$T/corpus" >/dev/null
C=$T/corpus
run_broken() { # NAME EXPECTED_CHECK DEBS...
  local name=$1 want=$2; shift 2
  local debs=() out
  for d in "$@"; do debs+=(--deb "$C/$d"); done
  expect "create $name" 0 -- $P candidate create "$name" "${debs[@]}"
  out=$($P lab run "$name" --image debian-12 --format json 2>"$T/err"); rc=$?
  [ $rc -eq 1 ] && ok || not_ok "$name: exit $rc, expected 1: $(tail -3 "$T/err")"
  got=$(failed_checks <<<"$out")
  [[ " $got " == *" $want "* ]] && ok || not_ok "$name: failed checks '$got' lack $want"
  echo "$name: failed at $got"
}
run_broken broken-postinst apply/dpkg pl-broken-postinst_1.0_all.deb
run_broken missing-mount apply/fstab pl-missing-mount_1.0_all.deb
# with its dependency satisfied from within the candidate (pl-needs-good)
run_broken broken-unit boot/failed-units pl-broken-unit_1.0_all.deb pl-needs-good_1.0_all.deb pl-good_1.0_all.deb
$P candidate show --format json broken-unit | python3 -c 'import json,sys; r=json.load(sys.stdin)["lab_runs"][-1]; sys.exit(0 if any(c["stage"]=="apply" and c["name"]=="dpkg" and c["status"]=="pass" for c in r["checks"]) else 1)' && ok || not_ok "broken-unit: dpkg satisfied the dependency from the candidate"
run_broken broken-sshd boot/services pl-broken-sshd_1.0_all.deb
run_broken unbootable boot/agent-result pl-unbootable_1.0_all.deb

# --- the same verdict when repeated
for name in broken-postinst missing-mount; do
  out=$($P lab run "$name" --image debian-12 --format json 2>/dev/null); rc=$?
  [ $rc -eq 1 ] && ok || not_ok "$name again: exit $rc"
  runs=$($P candidate show --format json "$name" | python3 -c 'import json,sys; r=json.load(sys.stdin)["lab_runs"]; print(" ".join(x["verdict"] for x in r))')
  [ "$runs" = "fail fail" ] && ok || not_ok "$name: two runs, two fails: '$runs'"
done

# --- two candidates at once
out=$($P lab run broken-postinst missing-mount --image debian-12 --jobs 2 2>"$T/err"); rc=$?
[ $rc -eq 1 ] && ok || not_ok "--jobs 2: exit $rc, expected 1: $(tail -3 "$T/err")"
[ "$(grep -c ': fail ' <<<"$out")" = 2 ] && ok || not_ok "--jobs 2: both failed: $out"

# --- bisect: one broken package among 8
for i in 1 2 3 4 5 6 7; do
  mkdir -p "$T/f$i/DEBIAN" "$T/f$i/usr/share/doc/pl-filler-$i"
  printf 'Package: pl-filler-%s\nVersion: 1.0\nArchitecture: all\nMaintainer: patchlab tests <tests@patchlab.invalid>\nDescription: harmless filler %s for bisect\n' "$i" "$i" >"$T/f$i/DEBIAN/control"
  echo "filler $i" >"$T/f$i/usr/share/doc/pl-filler-$i/README"
  dpkg-deb --root-owner-group -b "$T/f$i" "$C/pl-filler-$i.deb" >/dev/null
done
debs=(--deb "$C/pl-broken-postinst_1.0_all.deb")
for i in 1 2 3 4 5 6 7; do debs+=(--deb "$C/pl-filler-$i.deb"); done
expect "create eight" 0 -- $P candidate create eight "${debs[@]}"
expect "eight fails" 1 -- $P lab run eight --image debian-12
out=$($P bisect eight --format json 2>"$T/err"); rc=$?
[ $rc -eq 0 ] && ok || not_ok "bisect exit $rc: $(tail -3 "$T/err")"
culprits=$(python3 -c 'import json,sys; r=json.load(sys.stdin); print(",".join(r["culprits"]), r["lab_runs"])' <<<"$out")
[ "${culprits% *}" = "pl-broken-postinst" ] && ok || not_ok "bisect culprit: $culprits"
[ "${culprits#* }" -le 4 ] && ok || not_ok "bisect took ${culprits#* } lab runs (at most 4)"
echo "bisect: $culprits"

# --- bad input and state
expect "unknown candidate" 2 -- $P lab run nope --image debian-12
expect "bisect of a passed candidate" 2 -- $P bisect real-updates
expect "create with a non-deb" 2 -- $P candidate create junk --deb /etc/hostname
stderr_has "names the bad file" "/etc/hostname"
expect "duplicate name" 2 -- $P candidate create eight --deb "$C/pl-good_1.0_all.deb"
[ "$(sqlite3 "$T/state/patchlab.db" "SELECT count(*) FROM candidates WHERE name='junk'")" = 0 ] && ok || not_ok "a failed create leaves nothing"
[ "$(lab_objects)" = "$before" ] && ok || not_ok "the daemon holds other objects afterwards: $(lab_objects | tr '\n' ' ')"

finish
