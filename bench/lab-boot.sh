#!/usr/bin/env bash
# bench/lab-boot.sh [RUNS] - time from domain start to the guest's boot
# marker (systemd settled) per boot mode, with patchlab lab boot. Needs the
# lab daemon and a built debian-12 image. Prints min/median per mode.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PATCHLAB:-$PWD/$(./scripts/build)/patchlab}
RUNS=${1:-3}
for mode in kernel pxe disk; do
  times=()
  for _ in $(seq 1 "$RUNS"); do
    t=$("$P" -q lab boot --image debian-12 --boot "$mode" --format json |
        python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.1f %s" % (r["boot_seconds"], r.get("marker","")))')
    times+=("${t%% *}")
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  printf '%-6s runs %d  min %6.1f s  median %6.1f s  (%s)\n' "$mode" "$RUNS" "${sorted[0]}" \
    "${sorted[$(( RUNS / 2 ))]}" "${times[*]}"
done
