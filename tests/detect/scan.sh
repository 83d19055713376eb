#!/bin/bash
# 'patchlab scan' against apt itself: this machine's real dpkg status and its
# real Debian indexes (from /var/lib/apt/lists) must give exactly the set of
# (package, arch, candidate) that 'apt list --upgradable' gives for the same
# indexes, served as flat file: repositories through a private apt
# configuration (no system lists, no preferences). Plus the fixture feeds
# and the input errors.
. "$(dirname "$0")/../lib.sh"
D=$PL_TEST_DATA/detect

# ---- fixtures (no apt needed) ------------------------------------------------
expect fixture-tsv 0 "$(cat "$D/scan.tsv")" -- "$PATCHLAB" scan --dpkg-status "$D/status" \
  --packages "$D/Packages" --feed "$D/tracker_vulnerablecode.json" \
  --feed "$D/tracker_osvdev.json" --release bookworm
expect fixture-json 0 "$(cat "$D/scan-buster.json")" -- "$PATCHLAB" scan --format json \
  --dpkg-status "$D/status" --packages "$D/Packages" \
  --feed "$D/tracker_vulnerablecode.json" --feed "$D/tracker_osvdev.json" --release buster
expect no-packages 2 -- "$PATCHLAB" scan --dpkg-status "$D/status"
stderr_has no-packages "expected --dpkg-status FILE and --packages FILE"
expect bad-format 2 -- "$PATCHLAB" scan --dpkg-status "$D/status" --packages "$D/Packages" \
  --format text
expect missing-status 2 -- "$PATCHLAB" scan --dpkg-status "$T/nope" --packages "$D/Packages"
stderr_has missing-status "$T/nope"
expect missing-packages 2 -- "$PATCHLAB" scan --dpkg-status "$D/status" --packages "$T/nope.xz"
stderr_has missing-packages "$T/nope.xz"
printf 'Package: a\nVersion: 1\nArchitecture: all\n\nPackage: b\nArchitecture: all\n' >"$T/P1"
expect no-version 2 -- "$PATCHLAB" scan --dpkg-status "$D/status" --packages "$T/P1"
stderr_has no-version "$T/P1:5: stanza without Version"
printf 'Package: a\nArchitecture: all\nVersion: 1.0 beta\n' >"$T/P2"
expect bad-version 2 -- "$PATCHLAB" scan --dpkg-status "$D/status" --packages "$T/P2"
stderr_has bad-version "$T/P2:3: invalid version"
printf '{"a": {"CVE-1": {"releases": {"bookworm": {"status": "fixed"}}}}}' >"$T/f1.json"
expect bad-feed-path 2 -- "$PATCHLAB" scan --dpkg-status "$D/status" --packages "$D/Packages" \
  --feed "$T/f1.json" --release bookworm
stderr_has bad-feed-path "$T/f1.json: \$.a.CVE-1.releases.bookworm.status: unknown status"
printf '{"a": {"CVE-1": ' >"$T/f2.json"
expect bad-feed-syntax 2 -- "$PATCHLAB" scan --dpkg-status "$D/status" --packages "$D/Packages" \
  --feed "$T/f2.json"
stderr_has bad-feed-syntax "$T/f2.json:1:"

# ---- the real system against apt ---------------------------------------------
L=/var/lib/apt/lists
HELPER=/usr/lib/apt/apt-helper
sec=$(ls $L/*debian-security*_Packages.lz4 2>/dev/null | head -n 1)
if [ -z "$sec" ] || [ ! -x $HELPER ] || ! command -v apt >/dev/null || ! command -v xz >/dev/null ||
  [ ! -r /var/lib/dpkg/status ]; then
  echo "no apt lists (or apt, xz) here: apt comparison skipped"
  finish
  exit 77
fi

# apt's answer for the indexes in dirs "$@" (each a flat repository):
# "package arch candidate" lines, sorted.
apt_upgradable() {
  local name=$1 d
  shift
  local A="$T/apt-$name"
  mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/parts" "$A/prefs"
  for d in "$@"; do echo "deb [trusted=yes] file:$d ./"; done >"$A/sources.list"
  local O=(-o "Dir::Etc::sourcelist=$A/sources.list" -o "Dir::Etc::sourceparts=$A/parts"
    -o "Dir::Etc::preferences=/dev/null" -o "Dir::Etc::preferencesparts=$A/prefs"
    -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache" -o "APT::Default-Release=")
  apt-get -q "${O[@]}" update >"$A/update.log" 2>&1 || { cat "$A/update.log" >&2; return 1; }
  # "name/suite version arch [upgradable from: old]"
  apt "${O[@]}" list --upgradable 2>/dev/null |
    sed -n 's#^\([^/]*\)/[^ ]* \([^ ]*\) \([^ ]*\) \[upgradable from: .*\]$#\1 \3 \2#p' | sort
}

# ours: the same triple from the TSV, header checked and dropped
ours() {
  local out
  out=$("$PATCHLAB" scan --dpkg-status /var/lib/dpkg/status "$@") || return 1
  [ "$(head -n 1 <<<"$out")" = "$(printf 'package\tarch\tinstalled\tcandidate\tcves\tseverity\tpriority')" ] ||
    { echo "bad header" >&2; return 1; }
  tail -n +2 <<<"$out" | awk -F'\t' '{print $1, $2, $4}' | sort
}

compare() {
  local name=$1 ref=$2 got=$3
  if [ "$(wc -l <"$ref")" -eq 0 ]; then
    not_ok "$name: apt lists nothing upgradable: the comparison would prove nothing"
  elif diff -u "$ref" "$got" >"$T/diff-$name"; then
    ok
    echo "$name: $(wc -l <"$ref") upgradable rows, identical to apt's"
  else
    not_ok "$name: differs from apt list --upgradable: $(head -c 2000 "$T/diff-$name")"
  fi
}

mkdir -p "$T/sec"
$HELPER cat-file "$sec" >"$T/sec/Packages"
xz -k -T1 "$T/sec/Packages"
apt_upgradable sec "$T/sec" >"$T/ref-sec" || not_ok "apt-get update (security) failed"
ours --packages "$T/sec/Packages.xz" >"$T/got-sec" || not_ok "scan of Packages.xz failed"
compare security "$T/ref-sec" "$T/got-sec"

# a truncated real Packages.xz is an input error naming the file
size=$(stat -c %s "$T/sec/Packages.xz")
head -c $((size / 2)) "$T/sec/Packages.xz" >"$T/trunc.xz"
expect truncated-xz 2 -- "$PATCHLAB" scan --dpkg-status /var/lib/dpkg/status \
  --packages "$T/trunc.xz"
stderr_has truncated-xz "$T/trunc.xz: truncated xz data"
gzip -c "$T/sec/Packages" | head -c 100000 >"$T/trunc.gz"
expect truncated-gz 2 -- "$PATCHLAB" scan --dpkg-status /var/lib/dpkg/status \
  --packages "$T/trunc.gz"
stderr_has truncated-gz "$T/trunc.gz: truncated gzip data"

# every index apt has (main, updates, security): main plain (xz of 90 MiB
# takes half a minute), updates gzip, security xz
dirs=()
args=()
i=0
for f in $L/*_Packages.lz4; do
  i=$((i + 1))
  mkdir -p "$T/all$i"
  $HELPER cat-file "$f" >"$T/all$i/Packages"
  dirs+=("$T/all$i")
  if [ "$f" = "$sec" ]; then
    args+=(--packages "$T/sec/Packages.xz")
  elif [ "$(stat -c %s "$T/all$i/Packages")" -lt 20000000 ]; then
    gzip -k "$T/all$i/Packages"
    args+=(--packages "$T/all$i/Packages.gz")
  else
    args+=(--packages "$T/all$i/Packages")
  fi
done
apt_upgradable all "${dirs[@]}" >"$T/ref-all" || not_ok "apt-get update (all) failed"
ours "${args[@]}" >"$T/got-all" || not_ok "scan of all indexes failed"
compare all-indexes "$T/ref-all" "$T/got-all"

finish
