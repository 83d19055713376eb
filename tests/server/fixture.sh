# tests/server/fixture.sh - sourced after tests/lib.sh: a state with users and
# candidates to show, built without booting a VM. Candidates come from small
# .debs (tests/lab/make-debs.sh); their lab runs are the rows src/lab writes
# (lab_runs, checks, the candidate's state after the run) put in with
# sqlite3, as tests/gate/approve.sh does, plus evidence files in STATE/runs.
# Defines: DB, POLICY, CAB_PW, server_start, server_stop, PORT, URL.
: "${T:?source tests/lib.sh first}" "${PATCHLAB_STATE:?source tests/lib.sh first}"
for t in sqlite3 dpkg-deb jq curl; do
  command -v $t >/dev/null || { echo "no $t: skipped"; exit 77; }
done
DB=$PATCHLAB_STATE/patchlab.db
POLICY=$PL_TEST_DATA/server/policy.json
CAB_PW='cab-password-1'
export PATCHLAB_ACTOR=server-test

fixture_build() {
  sh "$PL_SRC/tests/lab/make-debs.sh" "$T/debs" >/dev/null
  $PATCHLAB init >/dev/null
  printf '%s\n' "$CAB_PW" | $PATCHLAB user add carol --role cab --password-stdin >/dev/null
  printf 'viewer-password\n' | $PATCHLAB user add vera --role viewer --password-stdin >/dev/null
  printf 'qa-password-12\n' | $PATCHLAB user add quinn --role qa --password-stdin >/dev/null
  printf '%s\n' '[{"name": "web1", "role": "web, \"front\"", "environment": "production",' \
    '  "os": "debian", "os_version": "12", "image": "debian-12"},' \
    ' {"name": "db1", "role": "db", "environment": "staging", "os": "debian", "os_version": "12"}]' \
    >"$T/hosts.json"
  $PATCHLAB inventory import "$T/hosts.json" >/dev/null
  for c in sec-good sec-bad sec-new; do
    $PATCHLAB candidate create $c --deb "$T/debs/pl-good_1.0_all.deb" >/dev/null
  done
  sqlite3 "$DB" "INSERT INTO images(name, origin, path, format, sha256, size_bytes, inspection,
    created_at) VALUES ('debian-12', 'imported', '/nonexistent/d.qcow2', 'qcow2',
    '$(printf '%064d' 0)', 0, '{}', '2026-01-10T09:00:00Z')"
  fixture_run r-good sec-good pass "apply/dpkg=pass boot/services=pass"
  fixture_run r-bad sec-bad fail "apply/dpkg=pass boot/services=fail"
}

# fixture_run ID CANDIDATE VERDICT "CHECK=STATUS ...": a finished lab run
# with stage timings and evidence files, as candrun.c records it.
fixture_run() {
  local id=$1 cand=$2 verdict=$3 sql c dir=$PATCHLAB_STATE/runs/$1
  mkdir -p "$dir"
  printf 'Booting Debian\n[  OK  ] Reached target multi-user.target\n<script>alert(1)</script>\n' >"$dir/vm1.console.log"
  printf 'Jan 10 10:05:00 lab sshd[1]: error: & <b>bad</b>\n' >"$dir/journal-errors.txt"
  printf 'Unpacking pl-good (1.0) ...\nSetting up pl-good (1.0) ...\n' >"$dir/dpkg.log"
  sql="INSERT INTO lab_runs(id, kind, image_id, uri, pid, pid_start, state, started_at, ended_at,
    result, candidate_id, verdict) VALUES ('$id', 'candidate', (SELECT id FROM images WHERE
    name = 'debian-12'), 'qemu:///system', 1, 1, '$([ $verdict = pass ] && echo passed || echo failed)',
    '2026-01-10T10:00:00Z', '2026-01-10T10:20:00Z',
    '{\"evidence_dir\": \"$dir\", \"stages\": [{\"stage\": \"clone\", \"seconds\": 2.5, \"ok\": true},
      {\"stage\": \"apply\", \"seconds\": 31.0, \"ok\": true}, {\"stage\": \"boot\", \"seconds\": 64.2,
      \"ok\": true}, {\"stage\": \"inspect\", \"seconds\": 22.1, \"ok\": true}]}',
    (SELECT id FROM candidates WHERE name = '$cand'), '$verdict');"
  for c in $4; do
    sql="$sql INSERT INTO checks(run_id, vm, stage, name, status, detail, evidence) VALUES ('$id',
      'vm1', '${c%%/*}', '$(echo "${c#*/}" | cut -d= -f1)', '${c#*=}', 'test detail', '$dir/vm1.console.log');"
  done
  sql="$sql UPDATE candidates SET state = '$([ $verdict = pass ] && echo passed || echo failed)'
    WHERE name = '$cand';"
  sqlite3 "$DB" "BEGIN; $sql COMMIT;"
}

# server_start [ARGS...]: patchlab serve on a free port of 127.0.0.1 (port 0:
# the kernel picks one; the first line says which), in the background.
server_start() {
  "$PATCHLAB" serve --listen 127.0.0.1:0 --policy "$POLICY" "$@" >"$T/serve.out" 2>"$T/serve.err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's|^patchlab: serving the dashboard on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/serve.out")
    [ -n "$PORT" ] && break
    kill -0 $SERVER_PID 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$PORT" ] || { echo "the server did not start: $(cat "$T/serve.err")" >&2; exit 1; }
  URL=http://127.0.0.1:$PORT
}

# server_stop: SIGTERM to the pid we started, and wait for it (its exit
# status in SERVER_RC).
server_stop() {
  if [ -n "${SERVER_PID:-}" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    SERVER_RC=0
    wait "$SERVER_PID" 2>/dev/null || SERVER_RC=$?
    SERVER_PID=
  fi
}
trap 'server_stop; rm -rf "$T"' EXIT

# login USER PASSWORD: a browser's login (GET the form and its CSRF cookie,
# POST it); sets SESSION and CSRF (read from a page's form). Cookies are
# read from the headers: they are Secure, and curl keeps those for https only.
login() {
  local tok cookie
  tok=$(curl -s -D "$T/form.h" "$URL/login" | sed -n 's/.*name="login_csrf" value="\([0-9a-f]*\)".*/\1/p')
  cookie=$(sed -n 's/^Set-Cookie: pl_login=\([0-9a-f]*\);.*/\1/p' "$T/form.h" | tr -d '\r')
  curl -s -o /dev/null -D "$T/login.h" -b "pl_login=$cookie" \
    --data-urlencode "user=$1" --data-urlencode "password=$2" --data-urlencode "login_csrf=$tok" \
    --data-urlencode "next=/" "$URL/login"
  SESSION=$(sed -n 's/^Set-Cookie: pl_session=\([0-9a-f]*\);.*/\1/p' "$T/login.h" | tr -d '\r')
  CSRF=$(curl -s -b "pl_session=$SESSION" "$URL/candidates" |
    sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
}
