#!/usr/bin/env bash
# bench/feed-sync.sh - 'patchlab feed sync' on feeds of the real ones' size
# (bench/feed-gen.py: a 70 MB tracker JSON, a 60,000-advisory OSV zip, a
# 250,000-row EPSS CSV, a 1,300-entry KEV catalogue): wall and CPU time and
# peak memory of a first sync, a forced re-sync (delete and insert again)
# and an unchanged one (same SHA-256: nothing re-read).
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PATCHLAB:-$PWD/$(./scripts/build)/patchlab}
T=$(mktemp -d /tmp/pl-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
export PATCHLAB_STATE=$T/state

/usr/bin/python3 bench/feed-gen.py "$T/feeds"
ls -l "$T/feeds"
"$P" init >/dev/null
"$P" feed add trk --kind debian-tracker --url "$T/feeds/tracker.json" >/dev/null
"$P" feed add osv --kind osv --url "$T/feeds/osv-debian.zip" >/dev/null
"$P" feed add epss --kind epss --url "$T/feeds/epss.csv.gz" >/dev/null
"$P" feed add kev --kind kev --url "$T/feeds/kev.json" >/dev/null
run() {
  /usr/bin/time -f "  %e s wall, %U s user, %S s sys, %M KiB peak" "$P" -q feed sync "$@"
}
for f in trk osv epss kev; do
  echo "first sync:"; run "$f"
  echo "forced re-sync:"; run --force "$f"
  echo "unchanged:"; run "$f"
done
ls -l "$PATCHLAB_STATE/patchlab.db"
