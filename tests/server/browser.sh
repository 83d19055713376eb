#!/usr/bin/env bash
# A CAB member in a real browser: Debian's headless Chromium, driven through
# the Chrome DevTools Protocol by playwright-core (npm, installed into a
# cache outside the repository from tests/server/package-lock.json), logs in
# to 'patchlab serve', opens a candidate, approves it and checks the page;
# screenshots go to the test's temporary directory (PATCHLAB_SCREENSHOTS=DIR
# keeps a copy). Skipped (77) without chromium, node or the npm registry.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fixture.sh"
[ -x /usr/bin/chromium ] || { echo "no /usr/bin/chromium (scripts/setup): skipped"; exit 77; }
for t in node npm; do
  command -v $t >/dev/null || { echo "no $t: skipped"; exit 77; }
done
CACHE=${PATCHLAB_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/patchlab/browser-test}
mkdir -p "$CACHE"
if ! cmp -s "$PL_SRC/tests/server/package-lock.json" "$CACHE/package-lock.json" ||
  [ ! -f "$CACHE/node_modules/playwright-core/package.json" ]; then
  cp "$PL_SRC/tests/server/package.json" "$PL_SRC/tests/server/package-lock.json" "$CACHE/"
  (cd "$CACHE" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$T/npm.log" 2>&1 ||
    { echo "npm ci of playwright-core failed: skipped"; tail -5 "$T/npm.log"; exit 77; }
fi
export PLAYWRIGHT_CORE=$CACHE/node_modules/playwright-core

fixture_build
server_start
mkdir -p "$T/shots"
rc=0
timeout 240 node "$PL_SRC/tests/server/browser.js" "$URL" carol "$CAB_PW" sec-good "$T/shots" \
  >"$T/browser.out" 2>&1 || rc=$?
cat "$T/browser.out"
case $rc in
  0) ok ;;
  77) exit 77 ;;
  *) not_ok "the browser checks (exit $rc)" ;;
esac
pass=$((pass + $(grep -c '^ok - ' "$T/browser.out")))
for s in 1-login 2-candidate 3-approved 4-dashboard; do
  [ -s "$T/shots/$s.png" ] && ok || not_ok "no screenshot $s.png"
done
expect "the database says approved" 0 approved -- sqlite3 "$DB" "SELECT state FROM candidates WHERE name = 'sec-good'"
expect "one approval, by carol" 0 "carol" -- sqlite3 "$DB" "SELECT group_concat(actor) FROM approvals"
expect "audit verify" 0 -- $PATCHLAB audit verify
server_stop
expect "the server exits 0 on SIGTERM" 0 "0" -- echo "$SERVER_RC"
if [ -n "${PATCHLAB_SCREENSHOTS:-}" ]; then
  mkdir -p "$PATCHLAB_SCREENSHOTS" && cp "$T"/shots/*.png "$PATCHLAB_SCREENSHOTS/"
fi
finish
