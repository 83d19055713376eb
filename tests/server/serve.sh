#!/usr/bin/env bash
# patchlab serve over HTTP on 127.0.0.1 (a free port): pages, the JSON API,
# logins, roles, CSRF, refusals that change nothing, escaping, limits.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fixture.sh"
# code METHOD PATH [CURL ARGS...]: the HTTP status only
code() {
  local m=$1 p=$2
  shift 2
  curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' -X "$m" "$@" "$URL$p"
}
is() { if [ "$2" = "$3" ]; then ok; else not_ok "$1: got '$2', expected '$3'"; fi; }
has() { if grep -qF -- "$2" "$3"; then ok; else not_ok "$1: '$3' lacks '$2': $(head -c 300 "$3")"; fi; }
lacks() { if grep -qF -- "$2" "$3"; then not_ok "$1: '$3' has '$2'"; else ok; fi; }
# snapshot: every row a decision could change, and the audit chain's length
snapshot() {
  sqlite3 "$DB" "SELECT name, state, updated_at FROM candidates ORDER BY name;
    SELECT count(*) FROM approvals; SELECT count(*) FROM audit_log"
}
state_of() { sqlite3 "$DB" "SELECT state FROM candidates WHERE name = '$1'"; }

fixture_build

# ---- the user commands ----------------------------------------------------------
users() { sqlite3 "$DB" "SELECT name || ':' || role FROM users ORDER BY name" | tr '\n' ' '; }
before=$(users)
expect "user add: a bad role" 2 -- bash -c "echo password-123 | $PATCHLAB user add dan --role admin --password-stdin"
stderr_has "bad role: names the roles" "'admin' is not one of viewer, qa, cab"
expect "user add: a taken name" 2 -- bash -c "echo password-123 | $PATCHLAB user add carol --role qa --password-stdin"
stderr_has "taken: says so" "user 'carol' exists already"
expect "user add: a bad name" 2 -- bash -c "echo password-123 | $PATCHLAB user add 'da n' --role qa --password-stdin"
expect "user add: a short password" 2 -- bash -c "echo short | $PATCHLAB user add dan --role qa --password-stdin"
stderr_has "short: says how long" "8-1024 characters"
expect "user add: no password on stdin" 2 -- bash -c "$PATCHLAB user add dan --role qa --password-stdin </dev/null"
expect "user add: no terminal" 2 -- bash -c "setsid $PATCHLAB user add dan --role qa </dev/null"
stderr_has "no terminal: the way out" "--password-stdin"
expect "user remove: unknown" 2 -- $PATCHLAB user remove nobody
expect "user token: unknown" 2 -- $PATCHLAB user token nobody
expect "user token: bad days" 2 -- $PATCHLAB user token carol --days 0
is "refused user commands changed nothing" "$(users)" "$before"
expect "user list" 0 -- $PATCHLAB user list
$PATCHLAB user list --format json | jq -e 'all(.[]; has("password_hash") | not) and length == 3' >/dev/null &&
  ok || not_ok "user list json: three users, no hashes"
is "the hashes are yescrypt" "$(sqlite3 "$DB" "SELECT count(*) FROM users WHERE password_hash LIKE '\$y\$%'")" 3
is "user add is audited" "$(sqlite3 "$DB" "SELECT count(*) FROM audit_log WHERE action = 'user-add'")" 3
server_start


# ---- without a user -----------------------------------------------------------
is "health" "$(code GET /healthz)" 200
is "dashboard needs a login" "$(code GET /)" 303
has "redirect to the login" "Location: /login?next=%2F" "$T/head"
is "api needs a login" "$(code GET /api/candidates)" 401
has "api 401 is JSON" '"status":401' "$T/body"
has "api 401 challenges" "WWW-Authenticate: Bearer" "$T/head"
before=$(snapshot)
is "unauthenticated approve" "$(code POST /api/candidates/sec-good/approve -H 'Content-Type: application/json' -d '{"note":"x"}')" 401
is "unauthenticated form approve" "$(code POST /candidates/sec-good/approve -d note=x)" 401
is "a forged cookie" "$(code POST /api/candidates/sec-good/approve -b "pl_session=$(printf '%064d' 7)" -H 'Content-Type: application/json' -d '{"note":"x"}')" 401
is "refusals changed nothing" "$(snapshot)" "$before"

# ---- the login page ------------------------------------------------------------
is "login form" "$(code GET /login)" 200
has "login form has its CSRF token" 'name="login_csrf"' "$T/body"
has "login cookie is HttpOnly, Secure, SameSite=Strict" "HttpOnly; Secure; SameSite=Strict" "$T/head"
is "login without the form's token" "$(code POST /login -d user=carol -d "password=$CAB_PW")" 403
login carol wrong-password
is "a wrong password gives no session" "$SESSION" ""
is "the failed login is audited" "$(sqlite3 "$DB" "SELECT count(*) FROM audit_log WHERE action = 'login-failed' AND object = 'carol'")" 1
login carol "$CAB_PW"
[ ${#SESSION} -eq 64 ] && ok || not_ok "cab login: no session cookie: $(cat "$T/login.h")"
[ ${#CSRF} -eq 64 ] && ok || not_ok "cab login: no CSRF token in the page"
has "session cookie attributes" "HttpOnly; Secure; SameSite=Strict" "$T/login.h"
has "login redirects" "Location: /" "$T/login.h"
CAB="-b pl_session=$SESSION"
CCSRF=$CSRF
is "the login is audited" "$(sqlite3 "$DB" "SELECT actor FROM audit_log WHERE action = 'login' ORDER BY seq DESC LIMIT 1")" carol

# ---- pages and headers ------------------------------------------------------------
is "dashboard" "$(code GET / $CAB)" 200
has "dashboard chart" "<svg" "$T/body"
has "dashboard lists a candidate" 'href="/candidates/sec-good"' "$T/body"
has "CSP" "Content-Security-Policy: default-src 'none'; style-src 'self'" "$T/head"
has "CSP frame-ancestors" "frame-ancestors 'none'" "$T/head"
has "nosniff" "X-Content-Type-Options: nosniff" "$T/head"
lacks "no inline script" "<script" "$T/body"
is "stylesheet" "$(code GET /static/style.css)" 200
has "stylesheet type" "Content-Type: text/css" "$T/head"
for p in /candidates /findings /inventory /rollouts /audit /report; do
  is "page $p" "$(code GET $p $CAB)" 200
done
has "the report page has a chart" "<svg" "$T/body"
is "candidate page" "$(code GET /candidates/sec-good $CAB)" 200
has "candidate page: state" '<span id="state" class="state s-passed">passed</span>' "$T/body"
has "candidate page: run" "run r-good on debian-12" "$T/body"
has "candidate page: stage timings" "boot 64.2 s" "$T/body"
has "candidate page: console excerpt, escaped" "&lt;script&gt;alert(1)&lt;/script&gt;" "$T/body"
has "candidate page: journal excerpt, escaped" "error: &amp; &lt;b&gt;bad&lt;/b&gt;" "$T/body"
has "candidate page: dpkg output" "Setting up pl-good (1.0)" "$T/body"
has "candidate page: evidence link" 'href="/candidates/sec-good/runs/r-good/dpkg.log"' "$T/body"
has "candidate page: the cab's forms" 'action="/candidates/sec-good/approve"' "$T/body"
lacks "candidate page: no raw script" "<script>" "$T/body"
is "evidence file" "$(code GET /candidates/sec-good/runs/r-good/vm1.console.log $CAB)" 200
has "evidence is plain text" "Content-Type: text/plain" "$T/head"
has "evidence is sandboxed" "sandbox" "$T/head"
is "evidence of another candidate's run" "$(code GET /candidates/sec-bad/runs/r-good/dpkg.log $CAB)" 404
is "evidence path traversal" "$(code GET /candidates/sec-good/runs/r-good/..%2f..%2fpatchlab.db $CAB)" 404
is "evidence dot file" "$(code GET /candidates/sec-good/runs/r-good/.hidden $CAB)" 404
is "unknown candidate page" "$(code GET /candidates/nope $CAB)" 404
is "unknown path" "$(code GET /nope $CAB)" 404
is "unknown api path" "$(code GET /api/nope $CAB)" 404
has "api 404 is JSON" '"status":404' "$T/body"
is "wrong method" "$(code DELETE /api/candidates $CAB)" 405
has "405 names the methods" "Allow: GET, HEAD" "$T/head"
is "GET on a POST route" "$(code GET /api/candidates/sec-good/approve $CAB)" 405
has "405 allows POST" "Allow: POST" "$T/head"

# ---- the JSON API ----------------------------------------------------------------
is "api candidates" "$(code GET /api/candidates $CAB)" 200
is "api candidates: names" "$(jq -r '[.[].name] | join(" ")' "$T/body")" "sec-bad sec-good sec-new"
is "api candidate" "$(code GET /api/candidates/sec-good $CAB)" 200
is "api candidate: state and runs" "$(jq -r '"\(.state) \(.lab_runs | length) \(.change_record.policy)"' "$T/body")" "passed 1 dashboard-test"
is "api hosts" "$(code GET /api/hosts $CAB)" 200
is "api calendar" "$(code GET /api/calendar $CAB)" 200
jq -e '.patch_tuesday | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")' "$T/body" >/dev/null && ok || not_ok "calendar: patch tuesday"
is "api report" "$(code GET /api/report $CAB)" 200
is "api report: candidates" "$(jq '.candidates | length' "$T/body")" 3
is "api whoami" "$(code GET /api/whoami $CAB)" 200
is "whoami" "$(jq -r '"\(.user) \(.role) \(.auth)"' "$T/body")" "carol cab session"

# ---- writes refused: nothing changes ------------------------------------------------
VTOK=$($PATCHLAB user token vera --label test)
QTOK=$($PATCHLAB user token quinn)
login vera viewer-password
VIEWER="-b pl_session=$SESSION"
VCSRF=$CSRF
login quinn qa-password-12
QA="-b pl_session=$SESSION"
QCSRF=$CSRF
CSRF=$CCSRF
J=(-H 'Content-Type: application/json')
before=$(snapshot)
is "viewer token reads" "$(code GET /api/candidates -H "Authorization: Bearer $VTOK")" 200
is "viewer token approve" "$(code POST /api/candidates/sec-good/approve -H "Authorization: Bearer $VTOK" "${J[@]}" -d '{"note":"x"}')" 403
has "403 says why" "needs the cab role" "$T/body"
is "viewer session approve" "$(code POST /api/candidates/sec-good/approve $VIEWER -H "X-CSRF-Token: $VCSRF" "${J[@]}" -d '{"note":"x"}')" 403
is "viewer form approve" "$(code POST /candidates/sec-good/approve $VIEWER -d "csrf=$VCSRF" -d note=x)" 403
is "qa token approve" "$(code POST /api/candidates/sec-good/approve -H "Authorization: Bearer $QTOK" "${J[@]}" -d '{"note":"x"}')" 403
is "qa session reject" "$(code POST /api/candidates/sec-good/reject $QA -H "X-CSRF-Token: $QCSRF" "${J[@]}" -d '{"note":"x"}')" 403
is "cab without a CSRF token" "$(code POST /api/candidates/sec-good/approve $CAB "${J[@]}" -d '{"note":"x"}')" 403
is "cab with a wrong CSRF token" "$(code POST /api/candidates/sec-good/approve $CAB -H "X-CSRF-Token: $VCSRF" "${J[@]}" -d '{"note":"x"}')" 403
has "403 names CSRF" "CSRF" "$T/body"
is "cab form with a wrong CSRF token" "$(code POST /candidates/sec-good/approve $CAB -d "csrf=$QCSRF" -d note=x)" 403
is "cross-origin POST" "$(code POST /api/candidates/sec-good/approve $CAB -H "X-CSRF-Token: $CSRF" -H 'Origin: http://evil.invalid' "${J[@]}" -d '{"note":"x"}')" 403
is "a session secret as a bearer token" "$(code POST /api/candidates/sec-good/approve -H "Authorization: Bearer ${CAB#-b pl_session=}" "${J[@]}" -d '{"note":"x"}')" 401
is "a token as the cookie" "$(code GET /api/candidates -b "pl_session=$VTOK")" 401
head -c 70000 /dev/zero | tr '\0' a >"$T/big"
is "oversized body" "$(code POST /api/candidates/sec-good/approve $CAB -H "X-CSRF-Token: $CSRF" "${J[@]}" --data-binary @"$T/big")" 413
is "oversized form" "$(code POST /candidates/sec-good/approve $CAB --data-binary @"$T/big")" 413
is "cab: wrong media type" "$(code POST /api/candidates/sec-good/approve $CAB -H "X-CSRF-Token: $CSRF" -d 'note=x')" 415
is "cab: bad JSON" "$(code POST /api/candidates/sec-good/approve $CAB -H "X-CSRF-Token: $CSRF" "${J[@]}" -d '{"note":')" 400
is "cab: no note" "$(code POST /api/candidates/sec-good/approve $CAB -H "X-CSRF-Token: $CSRF" "${J[@]}" -d '{}')" 400
is "cab approves a failed candidate" "$(code POST /api/candidates/sec-bad/approve $CAB -H "X-CSRF-Token: $CSRF" "${J[@]}" -d '{"note":"x"}')" 409
has "409 says why (the gate's words)" "its lab verdict is a fail" "$T/body"
is "cab approves an untested candidate" "$(code POST /api/candidates/sec-new/approve $CAB -H "X-CSRF-Token: $CSRF" "${J[@]}" -d '{"note":"x"}')" 409
is "cab approves a missing candidate" "$(code POST /api/candidates/nope/approve $CAB -H "X-CSRF-Token: $CSRF" "${J[@]}" -d '{"note":"x"}')" 404
is "every refusal changed nothing" "$(snapshot)" "$before"
expect "audit verify after the refusals" 0 -- $PATCHLAB audit verify

# ---- writes that work ------------------------------------------------------------------
NOTE='evidence <b>reviewed</b> & "fine"'
is "cab approves (session + X-CSRF-Token)" "$(code POST /api/candidates/sec-good/approve $CAB -H "X-CSRF-Token: $CSRF" "${J[@]}" -d "$(jq -n --arg n "$NOTE" '{note: $n}')")" 200
is "the answer says approved" "$(jq -r '"\(.action) \(.from) \(.to) \(.moved)"' "$T/body")" "approve passed approved true"
is "approved in the database" "$(state_of sec-good)" approved
is "the approval's actor is the user" "$(sqlite3 "$DB" "SELECT actor || ' ' || role FROM approvals")" "carol cab"
is "the approval is audited as carol" "$(sqlite3 "$DB" "SELECT count(*) FROM audit_log WHERE actor = 'carol' AND object = 'sec-good'")" 2
is "candidate page after the approval" "$(code GET /candidates/sec-good $CAB)" 200
has "the page shows the new state" '<span id="state" class="state s-approved">approved</span>' "$T/body"
has "the note, escaped" 'evidence &lt;b&gt;reviewed&lt;/b&gt; &amp; &quot;fine&quot;' "$T/body"
lacks "the note, never raw" '<b>reviewed</b>' "$T/body"
is "cab rejects with the form" "$(code POST /candidates/sec-bad/reject $CAB -d "csrf=$CSRF" --data-urlencode "note=dpkg fails")" 303
has "post, redirect, get" "Location: /candidates/sec-bad?done=reject" "$T/head"
is "rejected in the database" "$(state_of sec-bad)" rejected
is "the page after the redirect" "$(code GET '/candidates/sec-bad?done=reject' $CAB)" 200
has "the flash" "your rejection is recorded" "$T/body"
CTOK=$($PATCHLAB user token carol)
is "a cab token needs no CSRF token" "$(code POST /api/candidates/sec-bad/approve -H "Authorization: Bearer $CTOK" "${J[@]}" -d '{"note":"x"}')" 409
has "(refused by the gate, not by the server)" "rejected" "$T/body"
expect "audit verify after the decisions" 0 -- $PATCHLAB audit verify

# ---- findings and rollouts (the rows tests/data/report/extras.sql puts in) -----------
sqlite3 "$DB" <"$PL_TEST_DATA/report/extras.sql" && ok || not_ok "extras.sql"
is "api findings" "$(code GET /api/findings $CAB)" 200
is "api findings: open, by severity, the top one" "$(jq -r '"\(.open) \(.by_severity.high) \(.top[0].host) \(.top[0].package) \(.top[0].level)"' "$T/body")" "1 1 web1 pl-good P1"
is "findings page" "$(code GET /findings $CAB)" 200
has "findings page: the finding" "<td>web1</td><td>pl-good</td><td>0.9</td><td>1.0</td><td>high</td>" "$T/body"
is "rollouts page" "$(code GET /rollouts $CAB)" 200
has "rollouts page: a wave" "<td>sec-good</td><td>canary</td><td>succeeded</td>" "$T/body"
is "dashboard with findings" "$(code GET / $CAB)" 200
has "dashboard: the findings chart" "<title>high: 1</title>" "$T/body"

# ---- logout ------------------------------------------------------------------------------
is "logout needs the CSRF token" "$(code POST /logout $CAB)" 403
is "logout" "$(code POST /logout $CAB -d "csrf=$CSRF")" 303
has "logout clears the cookie" "pl_session=; Max-Age=0" "$T/head"
is "the session is gone" "$(code GET /api/candidates $CAB)" 401
is "users list counts live sessions and tokens" "$($PATCHLAB user list --format json | jq -r '.[] | select(.name == "carol") | "\(.sessions) \(.tokens)"')" "0 1"
expect "remove a user" 0 -- $PATCHLAB user remove vera
is "its token is gone" "$(code GET /api/candidates -H "Authorization: Bearer $VTOK")" 401
expect "audit verify at the end" 0 -- $PATCHLAB audit verify

pid=$SERVER_PID
server_stop
kill -0 "$pid" 2>/dev/null && not_ok "the server still runs after SIGTERM" || ok
is "the server exits 0 on SIGTERM" "$SERVER_RC" 0
grep -q Sanitizer "$T/serve.err" && not_ok "sanitizer: $(grep -m3 -A5 Sanitizer "$T/serve.err")" || ok

# ---- --run-due: the rollouts' loop runs beside the server -------------------------
server_start --run-due 10 --access-log
for _ in $(seq 1 50); do grep -q '^run-due ' "$T/serve.err" && break; sleep 0.1; done
has "a run-due pass at start" "run-due ok 0 rollouts" "$T/serve.err"
is "still serving" "$(code GET /healthz)" 200
has "the access log" "GET /healthz 200 -" "$T/serve.err"
expect "a port in use" 3 -- $PATCHLAB serve --listen 127.0.0.1:$PORT
stderr_has "a port in use: says so" "cannot listen on '127.0.0.1:$PORT'"
server_stop
is "the server with its loop stops on SIGTERM" "$SERVER_RC" 0
expect "--run-due out of range" 2 -- $PATCHLAB serve --run-due 1
stderr_has "--run-due: says the range" "--run-due"
expect "--listen without a port" 2 -- $PATCHLAB serve --listen 127.0.0.1
expect "--listen on a name" 2 -- $PATCHLAB serve --listen example.org:80
finish
