#!/usr/bin/env bash
# The smoke agent (src/guest/agent.sh) run on the host, unprivileged, in a
# temporary root: PATCHLAB_AGENT_NO_SYSTEMD=1 (no settle wait, no systemctl,
# no poweroff), PATCHLAB_AGENT_ROOT for its config and result. Nasty command
# output (quotes, backslashes, control bytes, NUL, invalid and cut UTF-8,
# long output), timeouts, exit codes and bad directives must all give valid
# JSON (RFC 8259, UTF-8) with the right values, with every awk and POSIX sh
# at hand (mawk is what the guest has).
. "$(dirname "$0")/../lib.sh"
AGENT=$PL_SRC/src/guest/agent.sh
command -v python3 >/dev/null 2>&1 || { echo "no python3 to check the JSON: skipped"; exit 77; }
# the interpreter itself: version-manager shims cost half a second a call
PY=$(python3 -c 'import sys; print(sys.executable)') && [ -x "$PY" ] || PY=python3
command -v timeout >/dev/null 2>&1 || { echo "no timeout(1): skipped"; exit 77; }
export TMPDIR=$T

# Checks are queued (check NAME EXPR WANT) and evaluated by one Python run
# per result (run_checks): the file is loaded as strict UTF-8 JSON without
# NaN/Infinity, d is the document, cmd(NAME), svc(UNIT), port(N), path(P)
# pick entries; str() of EXPR must equal WANT.
check() {
  printf '%s\0%s\0%s\0' "$1" "$2" "$3" >>"$T/checks"
}

run_checks() {
  local line
  while IFS= read -r line; do
    case $line in
      "PASS "*) ok ;;
      *) not_ok "$SUITE: ${line#FAIL }" ;;
    esac
  done < <("$PY" - "$RES" "$T/checks" <<'PY' 2>&1
import json, sys
try:
    raw = open(sys.argv[1], 'rb').read()
    def bad(x):
        raise ValueError('not RFC 8259: ' + x)
    d = json.loads(raw.decode('utf-8'), parse_constant=bad)
except Exception as e:
    print('FAIL result unreadable: %r' % e)
    d = None
def pick(key, field, value):
    return next(e for e in d[key] if e[field] == value)
cmd = lambda n: pick('commands', 'name', n)
svc = lambda u: pick('services', 'unit', u)
port = lambda n: pick('ports', 'port', n)
path = lambda p: pick('files', 'path', p)
f = open(sys.argv[2], 'rb').read().decode().split('\0')[:-1]
for i in range(0, len(f), 3):
    name, expr, want = f[i:i + 3]
    try:
        got = str(eval(expr))
    except Exception as e:
        got = 'exception %r' % e
    print(('PASS %s' % name) if got == want else 'FAIL %s: got %r, want %r' % (name, got, want))
PY
)
  rm -f "$T/checks"
}

# A listening TCP socket (IPv4, and IPv6 when the host has it) on ports the
# agent must report; the listener is ours to stop.
"$PY" - "$T/lport" <<'PY' &
import socket, sys, time
socks = []
s = socket.socket(socket.AF_INET); s.bind(('127.0.0.1', 0)); s.listen(); socks.append(s)
ports = [str(s.getsockname()[1])]
try:
    s6 = socket.socket(socket.AF_INET6); s6.bind(('::1', 0)); s6.listen(); socks.append(s6)
    ports.append(str(s6.getsockname()[1]))
except OSError:
    ports.append('')
open(sys.argv[1] + '.tmp', 'w').write(' '.join(ports) + '\n')
import os; os.rename(sys.argv[1] + '.tmp', sys.argv[1])
time.sleep(120)
PY
LISTENER=$!
trap 'kill "$LISTENER" 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do [ -s "$T/lport" ] && break; sleep 0.1; done
read -r LPORT4 LPORT6 <"$T/lport" || { echo "listener did not start"; exit 1; }

# The nasty configuration. CR at the end of the crlf line; the listener's
# ports are filled in below.
write_config() {
  mkdir -p "$1/etc/patchlab-agent"
  {
    cat <<'EOF'
# comment
   # indented comment

settle_timeout 5
service ssh.service
port 1
port 00022
file /etc/passwd
file /no/such/file
command quotes 5 0 printf '%s\n' 'say "hi" \ back\slash'; printf 'tab\there\r\n'
command ctl 5 0 printf 'a\001b\033c\177d\000e'
command badutf 5 0 printf 'a\377b\303\251c\355\240\200d\360\237\230\200e\300\257f\342\202'
command long 10 0 i=0; while [ $i -lt 5000 ]; do echo "line $i"; i=$((i+1)); done
command cut 5 0 i=0; while [ $i -lt 1500 ]; do printf '\303\251'; i=$((i+1)); done; printf x
command slow 1 0 sleep 30
command wrongexit 5 0 exit 3
command wantthree 5 3 echo to stderr >&2; exit 3
command spaces   5   0   echo   a    b
command zero 5 007 exit 7
command stdin 5 0 cat
command bg 5 0 sleep 3 & echo started
bogus directive
port 70000
port abc
command short 5
command badtimeout x 0 true
command badexit 5 256 true
settle_timeout soon
service
file
EOF
    printf 'command crlf 5 0 echo crlf\r\n'
    printf 'port %s\n' "$LPORT4"
    [ -z "$LPORT6" ] || printf 'port %s\n' "$LPORT6"
  } >"$1/etc/patchlab-agent/config"
}

# run_agent ROOT SHELL: the agent in ROOT with SHELL; $RES is the result.
run_agent() {
  RES=$1/var/lib/patchlab-agent/result.json
  expect "$SUITE: agent exits 0" 0 -- env PATCHLAB_AGENT_ROOT="$1" PATCHLAB_AGENT_NO_SYSTEMD=1 \
    PATCHLAB_AGENT_CONSOLE="$1/console" "$2" "$AGENT"
  expect "$SUITE: json.tool accepts the result" 0 -- "$PY" -m json.tool "$RES"
  [ ! -e "$RES.tmp" ] && ok || not_ok "$SUITE: result.json.tmp left behind"
}

nasty_suite() {
  local root=$T/root-$SUITE
  write_config "$root"
  mkdir -p "$root/var/lib/patchlab-agent"
  echo 'stale {' >"$root/var/lib/patchlab-agent/result.json"
  run_agent "$root" "$1"
  check "valid UTF-8, version" "d['agent_version']" "1"
  check "state skipped" "d['system_state'], d['system_state_raw']" "('skipped', None)"
  check "kernel" "d['kernel']" "$(uname -r)"
  check "uptime a number" "type(d['uptime']) in (int, float) and d['uptime'] >= d['settled_at_uptime'] > 0" "True"
  check "no boot times" "d['boot'], d['failed_units']" "(None, [])"
  check "service unknown" "svc('ssh.service')" \
    "{'unit': 'ssh.service', 'load': 'unknown', 'active': 'unknown', 'sub': 'unknown', 'enabled': 'unknown'}"
  check "port 1 closed" "port(1)['listening']" "False"
  check "leading zeros are decimal" "[p['port'] for p in d['ports']][:2]" "[1, 22]"
  check "IPv4 listener seen" "port($LPORT4)['listening'], $LPORT4 in d['listening_ports']" "(True, True)"
  if [ -n "$LPORT6" ]; then
    check "IPv6 listener seen" "port($LPORT6)['listening'], $LPORT6 in d['listening_ports']" "(True, True)"
  fi
  check "listening ports sorted, unique ints" \
    "d['listening_ports'] == sorted(set(d['listening_ports'])) and all(type(p) is int for p in d['listening_ports'])" "True"
  check "file present" "path('/etc/passwd')['exists']" "True"
  check "file missing" "path('/no/such/file')['exists']" "False"
  check "quotes and backslashes" "cmd('quotes')['output'] == 'say \"hi\" \\\\ back\\\\slash\\ntab\\there\\r\\n'" "True"
  check "control bytes and NUL" "cmd('ctl')['output'] == 'a\\x01b\\x1bc\\x7fd\\x00e'" "True"
  check "invalid UTF-8 is ?" "cmd('badutf')['output'] == 'a?b\\u00e9c???d\\U0001F600e??f??'" "True"
  check "escapes as \\u00XX" "b'\\\\u0001' in open('$root/var/lib/patchlab-agent/result.json', 'rb').read()" "True"
  check "long output: the last 2000 bytes" \
    "(len(cmd('long')['output']), cmd('long')['output_truncated'], cmd('long')['output'].endswith('line 4999\\n'), cmd('long')['output_bytes'] > 30000)" \
    "(2000, True, True, True)"
  check "excerpt cut inside a UTF-8 sequence" \
    "cmd('cut')['output'] == '?' + '\\u00e9' * 999 + 'x' and cmd('cut')['output_bytes'] == 3001" "True"
  check "timeout" "(cmd('slow')['exit'], cmd('slow')['timed_out'], cmd('slow')['ok'], 0.9 < cmd('slow')['seconds'] < 15)" \
    "(124, True, False, True)"
  check "wrong exit" "(cmd('wrongexit')['exit'], cmd('wrongexit')['expect_exit'], cmd('wrongexit')['ok'], cmd('wrongexit')['timed_out'])" \
    "(3, 0, False, False)"
  check "expected nonzero exit, stderr kept" "(cmd('wantthree')['ok'], cmd('wantthree')['output'])" "(True, 'to stderr\\n')"
  check "command keeps inner blanks" "(cmd('spaces')['command'], cmd('spaces')['output'])" "('echo   a    b', 'a b\\n')"
  check "expect_exit 007 is 7" "(cmd('zero')['expect_exit'], cmd('zero')['ok'])" "(7, True)"
  check "stdin is /dev/null" "(cmd('stdin')['exit'], cmd('stdin')['seconds'] < 4)" "(0, True)"
  check "background child does not hold the agent" "(cmd('bg')['output'], cmd('bg')['seconds'] < 2.5)" "('started\\n', True)"
  check "CRLF config line" "(cmd('crlf')['command'], cmd('crlf')['output'])" "('echo crlf', 'crlf\\n')"
  check "every command ran, in order" "[c['name'] for c in d['commands']]" \
    "['quotes', 'ctl', 'badutf', 'long', 'cut', 'slow', 'wrongexit', 'wantthree', 'spaces', 'zero', 'stdin', 'bg', 'crlf']"
  check "bad directives are errors" "len(d['errors'])" "9"
  check "error names line and directive" "[e for e in d['errors'] if \"unknown directive 'bogus'\" in e][0][:12]" "config line "
  run_checks
  grep -qx 'patchlab-agent: start' "$root/console" && grep -qx 'patchlab-agent: done' "$root/console" &&
    ok || not_ok "$SUITE: console has start and done: $(head -c 300 "$root/console")"
}

# The shells and awks to try: dash (the guest's /bin/sh) and sh; every awk
# found (mawk is the guest's), put first in PATH as "awk".
shells=()
for s in dash sh; do command -v $s >/dev/null 2>&1 && shells+=("$(command -v $s)"); done
awks=()
for a in mawk gawk original-awk "busybox awk"; do
  set -- $a
  if command -v "$1" >/dev/null 2>&1 && echo | $a '{ exit 0 }' 2>/dev/null; then awks+=("$a"); fi
done
[ ${#awks[@]} -gt 0 ] || awks=(awk)
for a in "${awks[@]}"; do
  bin=$T/bin-${a// /-}
  mkdir -p "$bin"
  printf '#!/bin/sh\nexec %s "$@"\n' "$a" >"$bin/awk"
  chmod +x "$bin/awk"
  for s in "${shells[@]}"; do
    SUITE="$(basename "$s")+${a// /-}"
    PATH=$bin:$PATH nasty_suite "$s"
  done
done

# No configuration: errors, empty lists, JSON all the same.
SUITE=no-config
mkdir -p "$T/empty"
run_agent "$T/empty" sh
check "error says so" "d['errors']" "['no configuration file $T/empty/etc/patchlab-agent/config']"
check "empty lists" "[d[k] for k in ('services', 'ports', 'files', 'commands', 'failed_units')]" "[[], [], [], [], []]"
run_checks

# An unreadable configuration (a directory: unreadable as root too).
SUITE=unreadable-config
mkdir -p "$T/unread/etc/patchlab-agent/config"
run_agent "$T/unread" sh
check "error says so" "d['errors']" "['cannot read configuration file $T/unread/etc/patchlab-agent/config']"
run_checks

# A configuration without a final newline, and an empty command output.
SUITE=no-final-newline
mkdir -p "$T/nonl/etc/patchlab-agent"
printf 'command last 5 0 true' >"$T/nonl/etc/patchlab-agent/config"
run_agent "$T/nonl" sh
check "last line read" "(cmd('last')['exit'], cmd('last')['output'], cmd('last')['output_bytes'], d['errors'])" "(0, '', 0, [])"
run_checks

# remove_after_run: the agent, its unit, symlink and config are gone, the
# result is still written and says so; other files stay.
SUITE=remove-after-run
R=$T/rm
mkdir -p "$R/etc/patchlab-agent" "$R/etc/systemd/system/multi-user.target.wants" "$R/usr/local/sbin"
printf 'remove_after_run\ncommand ok 5 0 true\n' >"$R/etc/patchlab-agent/config"
cp "$AGENT" "$R/usr/local/sbin/patchlab-agent"
cp "$PL_SRC/src/guest/agent.service" "$R/etc/systemd/system/patchlab-agent.service"
ln -s /etc/systemd/system/patchlab-agent.service \
  "$R/etc/systemd/system/multi-user.target.wants/patchlab-agent.service"
touch "$R/etc/systemd/system/other.service"
run_agent "$R" sh
check "self_removed" "(d['self_removed'], d['errors'], cmd('ok')['ok'])" "(True, [], True)"
run_checks
[ ! -e "$R/usr/local/sbin/patchlab-agent" ] && [ ! -e "$R/etc/systemd/system/patchlab-agent.service" ] &&
  [ ! -L "$R/etc/systemd/system/multi-user.target.wants/patchlab-agent.service" ] &&
  [ ! -e "$R/etc/patchlab-agent" ] && [ -e "$R/etc/systemd/system/other.service" ] &&
  ok || not_ok "$SUITE: the agent's files are gone, the others stay: $(find "$R" | sort | tr '\n' ' ')"
SUITE=no-removal
run_agent "$T/nonl" sh
check "self_removed is null when not asked" "d['self_removed']" "None"
run_checks
SUITE=remove-bad
mkdir -p "$T/rmbad/etc/patchlab-agent"
printf 'remove_after_run now\n' >"$T/rmbad/etc/patchlab-agent/config"
run_agent "$T/rmbad" sh
check "an argument is an error" "(d['self_removed'], d['errors'])" \
  "(None, ['config line 1: remove_after_run takes no argument'])"
run_checks

# Static checks of the script itself, when the tools are here.
expect "dash -n" 0 -- sh -n "$AGENT"
if command -v shellcheck >/dev/null 2>&1; then
  expect "shellcheck -s sh" 0 -- shellcheck -s sh "$AGENT"
fi
if command -v checkbashisms >/dev/null 2>&1; then
  expect "checkbashisms" 0 -- checkbashisms "$AGENT"
fi
# the unit text in the script's header is the one shipped as agent.service
expect "agent.service matches the header" 0 -- cmp -s "$PL_SRC/src/guest/agent.service" \
  <(sed -n '/--- unit begin ---/,/--- unit end ---/p' "$AGENT" | sed '1d;$d' | sed 's/^# \{0,1\}//')

finish
