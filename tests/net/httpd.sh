# tests/net/httpd.sh - start tests/net/httpd.py from a shell suite.
# Source it after tests/lib.sh; then:
#   httpd_start ROOT [CONTROL]   serves ROOT on 127.0.0.1; sets HTTPD_URL
#                                (http://127.0.0.1:PORT), HTTPD_PID and
#                                HTTPD_LOG (one "METHOD PATH STATUS" a line)
#   httpd_control JSON           writes the hooks file (see httpd.py)
#   httpd_count PATTERN          how many log lines match the grep -E PATTERN
#   httpd_stop                   stops it (also done when the suite exits)
# Skips the suite (77) when /usr/bin/python3 is missing.

HTTPD_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/httpd.py"
HTTPD_PID=
HTTPD_URL=
HTTPD_LOG=
HTTPD_CONTROL=

httpd_stop() {
  if [ -n "$HTTPD_PID" ]; then
    kill "$HTTPD_PID" 2>/dev/null
    wait "$HTTPD_PID" 2>/dev/null
    HTTPD_PID=
  fi
}

httpd_start() {
  local root=$1 i
  [ -x /usr/bin/python3 ] || { echo "no /usr/bin/python3: skipped"; exit 77; }
  HTTPD_CONTROL=${2:-$T/httpd-control.json}
  HTTPD_LOG=$T/httpd.log
  rm -f "$T/httpd.port"
  /usr/bin/python3 "$HTTPD_PY" "$root" --port-file "$T/httpd.port" \
    --control "$HTTPD_CONTROL" --log "$HTTPD_LOG" >/dev/null &
  HTTPD_PID=$!
  trap 'httpd_stop; rm -rf "$T"' EXIT
  for i in $(seq 100); do
    [ -s "$T/httpd.port" ] && break
    sleep 0.1
  done
  [ -s "$T/httpd.port" ] || { echo "httpd.py did not start" >&2; exit 1; }
  HTTPD_URL="http://127.0.0.1:$(cat "$T/httpd.port")"
}

httpd_control() {
  printf '%s\n' "$1" >"$HTTPD_CONTROL.tmp" && mv "$HTTPD_CONTROL.tmp" "$HTTPD_CONTROL"
}

httpd_count() {
  grep -cE -- "$1" "$HTTPD_LOG" 2>/dev/null || true
}
