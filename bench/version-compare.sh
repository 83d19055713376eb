#!/usr/bin/env bash
# bench/version-compare.sh [PAIRS] - batch version-compare throughput beside
# dpkg --compare-versions run once per pair, on real versions from this
# machine's apt lists. Prints pairs/s for both and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
DPKG_N=${DPKG_PAIRS:-2000}
P=${PATCHLAB:-$PWD/$(./scripts/build)/patchlab}
T=$(mktemp -d /tmp/pl-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT

lists=$(ls /var/lib/apt/lists/*_Packages* 2>/dev/null) || { echo "no apt lists: run apt-get update" >&2; exit 3; }
/usr/lib/apt/apt-helper cat-file $lists | awk '/^Version: /{print $2}' | sort -u >"$T/v"
# N pairs drawn with replacement from the real versions (fixed seeds)
paste <(shuf -r -n "$N" --random-source=<(yes) "$T/v") \
      <(shuf -r -n "$N" --random-source=<(yes 1) "$T/v") >"$T/pairs"

best=""
for run in 1 2 3; do
  s=$(date +%s.%N)
  "$P" version-compare - <"$T/pairs" >"$T/out"
  e=$(date +%s.%N)
  t=$(echo "$e - $s" | bc -l)
  if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
done
[ "$(wc -l <"$T/out")" -eq "$N" ] || { echo "wrong answer count" >&2; exit 1; }
ours=$(echo "$N / $best" | bc -l)

head -n "$DPKG_N" "$T/pairs" >"$T/dpairs"
s=$(date +%s.%N)
while IFS=$'\t' read -r a b; do dpkg --compare-versions "$a" lt "$b" 2>/dev/null || true; done <"$T/dpairs"
e=$(date +%s.%N)
dpkg_rate=$(echo "$DPKG_N / ($e - $s)" | bc -l)

printf 'versions: %d distinct, from %s\n' "$(wc -l <"$T/v")" "the apt lists"
printf 'patchlab version-compare -: %d pairs in %.3f s (best of 3) = %.0f pairs/s\n' "$N" "$best" "$ours"
printf 'dpkg --compare-versions per pair: %d pairs = %.0f pairs/s\n' "$DPKG_N" "$dpkg_rate"
printf 'ratio: %.0fx\n' "$(echo "$ours / $dpkg_rate" | bc -l)"
