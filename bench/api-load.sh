#!/usr/bin/env bash
# bench/api-load.sh [SECONDS] - load on the dashboard's JSON API: wrk with 50
# connections for SECONDS (default 20) against GET /api/candidates of
# 'patchlab serve' on 127.0.0.1 (a free port), authenticated with a viewer's
# API token, on a state of 30 candidates with a lab run each. Prints wrk's
# report; exits 1 when under 2,000 requests/s or with any error (socket
# errors, non-2xx answers). Only loopback traffic; bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CONNS=${BENCH_CONNECTIONS:-50}
GOAL=2000
P=${PATCHLAB:-$PWD/$(./scripts/build)/patchlab}
command -v wrk >/dev/null || { echo "no wrk (scripts/setup installs it)" >&2; exit 3; }
T=$(mktemp -d /tmp/pl-bench.XXXXXX)
SERVER=
trap '[ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; rm -rf "$T"' EXIT
export PATCHLAB_STATE=$T/state PATCHLAB_ACTOR=bench

sh tests/lab/make-debs.sh "$T/debs" >/dev/null
"$P" init >/dev/null
printf 'bench-viewer-pw\n' | "$P" user add bench --role viewer --password-stdin >/dev/null
TOKEN=$("$P" user token bench --label api-load)
sqlite3 "$PATCHLAB_STATE/patchlab.db" "INSERT INTO images(name, origin, path, format, sha256,
  size_bytes, inspection, created_at) VALUES ('debian-12', 'imported', '/nonexistent', 'qcow2',
  '$(printf '%064d' 0)', 0, '{}', '2026-01-10T09:00:00Z')"
for i in $(seq -w 1 30); do
  "$P" candidate create "sec-2026-$i" --deb "$T/debs/pl-good_1.0_all.deb" \
    --deb "$T/debs/pl-needs-good_1.0_all.deb" >/dev/null
  sqlite3 "$PATCHLAB_STATE/patchlab.db" "INSERT INTO lab_runs(id, kind, image_id, uri, pid,
    pid_start, state, started_at, ended_at, result, candidate_id, verdict) VALUES ('r$i',
    'candidate', 1, 'qemu:///system', 1, 1, 'passed', '2026-01-10T10:00:00Z',
    '2026-01-10T10:20:00Z', '{}', (SELECT id FROM candidates WHERE name = 'sec-2026-$i'), 'pass');
    UPDATE candidates SET state = 'passed' WHERE name = 'sec-2026-$i'"
done

"$P" serve --listen 127.0.0.1:0 >"$T/serve.out" 2>"$T/serve.err" &
SERVER=$!
for _ in $(seq 1 100); do
  PORT=$(sed -n 's|^patchlab: serving the dashboard on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/serve.out")
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "${PORT:-}" ] || { echo "the server did not start: $(cat "$T/serve.err")" >&2; exit 1; }
URL=http://127.0.0.1:$PORT/api/candidates
[ "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL" | jq length)" = 30 ] ||
  { echo "GET /api/candidates does not list the 30 candidates" >&2; exit 1; }

# baseline: the same list the way a script gets it without the server, one
# 'patchlab candidate list --format json' process per answer, 200 in a row
s=$(date +%s.%N)
for _ in $(seq 1 200); do "$P" candidate list --format json >/dev/null; done
cli_rps=$(echo "200 / ($(date +%s.%N) - $s)" | bc -l)

wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "Authorization: Bearer $TOKEN" "$URL" | tee "$T/wrk"
rps=$(awk '/^Requests\/sec:/ {print $2}' "$T/wrk")
errors=$(awk '/Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10} /Non-2xx or 3xx/ {n += $5} END {print n + 0}' "$T/wrk")
echo "api-load: GET /api/candidates (30 candidates), $CONNS connections, ${SECS} s:" \
  "$rps requests/s, $errors errors (goal: >= $GOAL, 0 errors); $(nproc) CPUs"
printf 'api-load: baseline, one CLI process per answer: %.0f answers/s (ratio %.0fx)\n' \
  "$cli_rps" "$(echo "$rps / $cli_rps" | bc -l)"
awk -v r="$rps" -v g="$GOAL" -v e="$errors" 'BEGIN {exit !(r >= g && e == 0)}'
