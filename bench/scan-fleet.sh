#!/usr/bin/env bash
# bench/scan-fleet.sh [HOSTS [PACKAGES [FEED]]] - 'patchlab scan' over a
# synthetic fleet (default 10,000 hosts x 1,500 packages, a 50,000-entry
# tracker feed; bench/scan-fleet-gen.py says how it is drawn), next to the
# straightforward per-host pass of bench/scan-baseline.py over the same
# database. Prints wall time and peak RSS of:
#   cold    the first scan of a fresh copy of the imported fleet (the
#           import wrote every host's packed set; every finding is new)
#   rows    the same, with the packed sets dropped: every host's 1,500
#           rows are read back from host_packages (lists written without
#           patchlab)
#   rescan  the same scan again, nothing changed (the daily case)
#   changed a rescan after 1% of the hosts got a new package list
#           (written with SQLite: those hosts' rows are read back)
#   baseline  bench/scan-baseline.py (once; it takes minutes)
# and how long loading the package lists through 'inventory packages'
# takes per host (measured on 100 hosts).
# The fleet (files and a database loaded with 'inventory packages --dir',
# 1,000 status files a transaction) is built once under $SCAN_BENCH_DIR
# (default /var/tmp/pl-scan-bench) and reused: the import of 15 M rows
# takes minutes. RUNS (default 3) runs of each kind.
set -euo pipefail
cd "$(dirname "$0")/.."
H=${1:-10000}
N=${2:-1500}
F=${3:-50000}
RUNS=${RUNS:-3}
P=${PATCHLAB:-$PWD/$(./scripts/build)/patchlab}
PY=/usr/bin/python3
GEN=$PWD/bench/scan-fleet-gen.py
BASE=${SCAN_BENCH_DIR:-/var/tmp/pl-scan-bench}/$H-$N-$F-dir
[ -x /usr/bin/time ] || { echo "no /usr/bin/time (apt-get install time)" >&2; exit 3; }
for p in gpg xz sqlite3; do
  command -v $p >/dev/null || { echo "no $p" >&2; exit 3; }
done
$PY -c 'import apt_pkg' 2>/dev/null || { echo "no python3-apt (for the baseline)" >&2; exit 3; }
T=$(mktemp -d /var/tmp/pl-scan-run.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

rfc2822() { date -u -d "@$1" '+%a, %d %b %Y %H:%M:%S UTC'; }

# ---- the fleet, built once ---------------------------------------------------------
build_fleet() {
  local D=$BASE.tmp W S now
  rm -rf "$D"
  mkdir -p "$D"
  echo "generating the fleet files in $D" >&2
  $PY "$GEN" files "$D/files" --hosts "$H" --packages "$N" --feed "$F"
  export GNUPGHOME=$D/gnupg
  mkdir -m 700 "$GNUPGHOME"
  gpg -q --batch --passphrase '' --quick-gen-key 'patchlab bench archive <b@patchlab.invalid>' \
    ed25519 sign never 2>/dev/null
  gpg -q --batch --export >"$D/archive.gpg"
  W=$D/files/www/debian
  now=$(date +%s)
  for S in bookworm bookworm-security; do
    xz -T1 -k "$W/dists/$S/main/binary-amd64/Packages"
    {
      printf 'Origin: Debian\nLabel: bench\nSuite: %s\nCodename: %s\n' "$S" "$S"
      printf 'Date: %s\nValid-Until: %s\n' "$(rfc2822 $((now - 60)))" "$(rfc2822 $((now + 30 * 86400)))"
      printf 'Architectures: amd64\nComponents: main\nDescription: bench\nSHA256:\n'
      for f in main/binary-amd64/Packages main/binary-amd64/Packages.xz; do
        printf ' %s %8s %s\n' "$(sha256sum <"$W/dists/$S/$f" | cut -d' ' -f1)" \
          "$(stat -c %s "$W/dists/$S/$f")" "$f"
      done
    } >"$W/dists/$S/Release"
    gpg -q --batch --yes --clearsign -o "$W/dists/$S/InRelease" "$W/dists/$S/Release"
  done
  export PATCHLAB_STATE=$D/state
  "$P" -q init >/dev/null
  "$P" -q repo add bench --url "file://$W" --suite bookworm --suite bookworm-security \
    --component main --arch amd64 --keyring "$D/archive.gpg" >/dev/null
  "$P" -q repo sync bench >/dev/null
  "$P" -q feed add tracker --kind debian-tracker --url "$D/files/tracker.json" --release bookworm
  "$P" -q feed add epss --kind epss --url "$D/files/epss.csv"
  "$P" -q feed add kev --kind kev --url "$D/files/kev.json"
  "$P" -q feed add osv --kind osv --url "$D/files/osv.json"
  "$P" -q feed sync >/dev/null
  "$P" -q inventory import "$D/files/hosts.csv" >/dev/null
  # the package lists as dpkg status files, imported 1,000 hosts a time
  # (one transaction each) with 'inventory packages --dir'
  echo "importing $H x $N packages (minutes)" >&2
  local c=1000 s=0 secs=0 t0 t1
  while [ "$s" -lt "$H" ]; do
    rm -rf "$D/lists"
    $PY "$GEN" status "$D/lists" --start "$s" --first "$c" --hosts "$H" --packages "$N"
    t0=$(date +%s.%N)
    "$P" -q inventory packages --dir "$D/lists" >/dev/null
    t1=$(date +%s.%N)
    secs=$(echo "$secs + $t1 - $t0" | bc -l)
    s=$((s + c))
  done
  rm -rf "$D/lists"
  printf '%.0f\n' "$secs" >"$D/load.seconds"
  mv "$D" "$BASE"
}
[ -f "$BASE/state/patchlab.db" ] || build_fleet

# ---- runs ------------------------------------------------------------------------------
fresh() { # a scratch copy of the loaded state
  rm -rf "$T/state"
  cp -a "$BASE/state" "$T/state"
  sync
}
timed() { # LABEL CMD...: one line "LABEL seconds peak-kB"
  local label=$1
  shift
  /usr/bin/time -f '%e %M' -o "$T/time" "$@" >"$T/out" 2>"$T/err" || {
    local rc=$?
    # exit 1 is a scan that skipped hosts; anything else is a failure
    [ $rc -eq 1 ] || { echo "$label failed ($rc): $(tail -3 "$T/err")" >&2; exit 1; }
  }
  echo "$label $(tail -n 1 "$T/time")"
}
export PATCHLAB_STATE=$T/state
for r in $(seq "$RUNS"); do
  fresh
  timed cold "$P" -q scan
  cp "$T/out" "$T/cold.out"
  for k in $(seq "$RUNS"); do timed rescan "$P" -q scan; done
  # 1% of the hosts change: one package each moves to the archive's version
  sqlite3 "$T/state/patchlab.db" "
    UPDATE host_packages SET version = version || '.1', source_version = source_version || '.1'
    WHERE rowid IN (SELECT min(rowid) FROM host_packages WHERE host_id % 100 = 7 GROUP BY host_id)"
  timed changed "$P" -q scan
  fresh
  sqlite3 "$T/state/patchlab.db" "DELETE FROM scan_pkgsets"
  timed rows "$P" -q scan
done >"$T/runs"
cat "$T/cold.out" >&2

# ---- loading through the CLI, 100 hosts -------------------------------------------------
K=$((H < 100 ? H : 100))
$PY "$GEN" status "$T/status" --first "$K" --hosts "$H" --packages "$N"
s=$(date +%s.%N)
for f in "$T"/status/*.status; do
  h=$(basename "$f" .status)
  "$P" -q inventory packages "$h" --dpkg-status "$f" >/dev/null
done
e=$(date +%s.%N)
cli_per_host=$(echo "($e - $s) / $K" | bc -l)

# ---- the baseline, once, on a copy patchlab scanned too: same answers? ---------------------
fresh
"$P" -q scan >/dev/null || [ $? -eq 1 ]
/usr/bin/time -f '%e %M' -o "$T/btime" $PY bench/scan-baseline.py "$T/state/patchlab.db" \
  >"$T/bout" 2>"$T/berr" || { echo "baseline failed: $(tail -3 "$T/berr")" >&2; exit 1; }
cat "$T/bout" >&2
diff=$(sqlite3 "$T/state/patchlab.db" "
  WITH p AS (SELECT f.host_id, u.package, u.arch, u.installed, u.candidate, u.cves, f.priority
             FROM findings f JOIN upgrades u ON u.id = f.upgrade_id WHERE f.resolved_at IS NULL),
       b AS (SELECT host_id, package, arch, installed, candidate, cves, priority
             FROM baseline_findings)
  SELECT (SELECT count(*) FROM (SELECT * FROM p EXCEPT SELECT * FROM b)) +
         (SELECT count(*) FROM (SELECT * FROM b EXCEPT SELECT * FROM p))")
[ "$diff" = 0 ] || { echo "patchlab and the baseline disagree on $diff finding(s)" >&2; exit 1; }
echo "patchlab scan and the baseline agree on every finding, its CVEs and priority" >&2

stats() { # KIND: best, median (seconds) and max peak RSS (MB)
  awk -v k="$1" '$1 == k { print $2, $3 }' "$T/runs" | sort -n | awk '
    { t[NR] = $1; if ($2 > m) m = $2 }
    END { printf "%.2f %.2f %.0f", t[1], t[int((NR + 1) / 2)], m / 1024 }'
}
read -r bt bm <"$T/btime"
echo "machine: $(nproc) vCPU, $(lscpu | sed -n 's/^Model name: *//p'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fleet: $H hosts x $N packages, $F tracker entries; inventory packages --dir $(cat "$BASE/load.seconds") s"
printf '%-9s %8s %8s %8s\n' kind best median peakMB
for k in cold rows rescan changed; do
  read -r b m r <<<"$(stats $k)"
  printf '%-9s %8s %8s %8s\n' "$k" "$b" "$m" "$r"
done
printf '%-9s %8.2f %8s %8.0f\n' baseline "$bt" - "$(echo "$bm / 1024" | bc -l)"
printf 'ratio baseline / rescan (median): %.0fx; baseline / cold (median): %.1fx\n' \
  "$(echo "$bt / $(stats rescan | cut -d' ' -f2)" | bc -l)" \
  "$(echo "$bt / $(stats cold | cut -d' ' -f2)" | bc -l)"
printf "inventory packages through the CLI: %.3f s per host (%.0f s for %d hosts)\n" \
  "$cli_per_host" "$(echo "$cli_per_host * $H" | bc -l)" "$H"
