#!/bin/sh
# patchlab-agent - the smoke agent that runs inside a patched guest.
#
# Installed by the controller as /usr/local/sbin/patchlab-agent (mode 0755)
# and started at boot by this unit, written by the controller as
# /etc/systemd/system/patchlab-agent.service and enabled offline with the
# symlink /etc/systemd/system/multi-user.target.wants/patchlab-agent.service
# -> /etc/systemd/system/patchlab-agent.service (same text as
# src/guest/agent.service):
#
# --- unit begin ---
# [Unit]
# Description=patchlab smoke agent: record post-boot checks, then power off
# After=multi-user.target
#
# [Service]
# Type=exec
# ExecStart=/usr/local/sbin/patchlab-agent
# StandardOutput=journal
# StandardError=journal
#
# [Install]
# WantedBy=multi-user.target
# --- unit end ---
#
# Type=exec, not oneshot: a oneshot's start job stays queued while the agent
# runs, and the manager is "starting" as long as any job is queued, so
# "systemctl is-system-running --wait" would wait for the agent itself (and
# so would the image's patchlab-ready marker). With Type=exec the job ends
# once the agent is exec'd and the state is systemd's own word. The agent
# still copes with Type=oneshot: it polls, and when the state is "starting"
# with no job left but its own, it derives the state as systemd would
# ("degraded" if a unit failed, else "running"); "system_state_raw" keeps
# the word systemd gave.
#
# Configuration: $ROOT/etc/patchlab-agent/config, one directive a line;
# blank lines and lines whose first word starts with '#' are ignored; words
# are separated by blanks; a trailing CR is dropped:
#   settle_timeout SECONDS          bound of the settle wait (default 300)
#   service UNIT                    record the unit's load/active/sub/enabled
#   port NUMBER                     is a TCP socket listening on it (1-65535)
#   file PATH                       does PATH exist (test -e; one word)
#   command NAME TIMEOUT EXPECT_EXIT SHELL-COMMAND...
#                                   NAME one word; TIMEOUT whole seconds > 0;
#                                   EXPECT_EXIT 0-255; the rest of the line,
#                                   leading/trailing blanks removed, runs as
#                                   timeout -k 10 TIMEOUT sh -c 'REST' with
#                                   stdin /dev/null, cwd /, stdout+stderr to
#                                   one file, of which the last 2000 bytes
#                                   are kept. Exit 124 (or 137 at/after the
#                                   timeout) counts as timed out.
#   remove_after_run                once the checks are done, remove the
#                                   agent (script, unit, its enabling
#                                   symlink, the config directory) before
#                                   the result is written: the next boot is
#                                   a plain one (a production target after a
#                                   rollout). "self_removed" says if it
#                                   worked (null when not asked).
# Directive problems go to "errors"; the result is written regardless.
#
# Result: $ROOT/var/lib/patchlab-agent/result.json (removed at start; the
# new one is written to result.json.tmp, synced and renamed).
#
# JSON strings: every string goes through od + awk, byte by byte: '"' and
# '\' are escaped, \n \t \r as such, other bytes < 0x20 and 0x7f as \u00XX;
# well-formed UTF-8 sequences (no overlongs, no surrogates, <= U+10FFFF) are
# kept; every other byte >= 0x80 becomes '?'. NUL bytes become \u0000.
#
# Environment (tests only):
#   PATCHLAB_AGENT_ROOT=DIR       prefix of the config and result paths
#   PATCHLAB_AGENT_NO_SYSTEMD=1   no settle wait, no systemctl, no poweroff
#   PATCHLAB_AGENT_CONSOLE=FILE   instead of /dev/ttyS0
#
# POSIX sh for a Debian minbase system: dash, coreutils, mawk, grep, sed;
# ss, systemctl are used when present.

LC_ALL=C
export LC_ALL
PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022
cd / || exit 1

AGENT_VERSION=1
ROOT=${PATCHLAB_AGENT_ROOT:-}
CONF=$ROOT/etc/patchlab-agent/config
OUTDIR=$ROOT/var/lib/patchlab-agent
RESULT=$OUTDIR/result.json
CONSOLE=${PATCHLAB_AGENT_CONSOLE:-/dev/ttyS0}
EXCERPT_BYTES=2000
CR=$(printf '\r')

# --- helpers ---------------------------------------------------------------

# console MSG: to stdout (the journal) and the serial console; a missing or
# blocked console is ignored.
console() {
	printf '%s\n' "$1"
	# shellcheck disable=SC2016
	(timeout 5 sh -c 'printf "%s\n" "$1" >>"$2"' sh "$1" "$CONSOLE") >/dev/null 2>&1
}

# The JSON string escaper (see the header). Input: od -An -v -tu1 output.
# shellcheck disable=SC2016
JSON_AWK='
BEGIN { for (i = 1; i < 256; i++) chr[i] = sprintf("%c", i); n = 0 }
{ for (i = 1; i <= NF; i++) b[++n] = $i + 0 }
END {
	out = "\""
	i = 1
	while (i <= n) {
		c = b[i]
		if (c < 128) {
			if (c == 34) out = out "\\\""
			else if (c == 92) out = out "\\\\"
			else if (c == 10) out = out "\\n"
			else if (c == 9) out = out "\\t"
			else if (c == 13) out = out "\\r"
			else if (c < 32 || c == 127) out = out sprintf("\\u%04x", c)
			else out = out chr[c]
			i++
			continue
		}
		len = 0; lo = 128; hi = 191
		if (c >= 194 && c <= 223) len = 2
		else if (c == 224) { len = 3; lo = 160 }
		else if (c >= 225 && c <= 236) len = 3
		else if (c == 237) { len = 3; hi = 159 }
		else if (c >= 238 && c <= 239) len = 3
		else if (c == 240) { len = 4; lo = 144 }
		else if (c >= 241 && c <= 243) len = 4
		else if (c == 244) { len = 4; hi = 143 }
		good = (len > 0 && i + len - 1 <= n)
		if (good && (b[i + 1] < lo || b[i + 1] > hi)) good = 0
		for (k = 2; good && k < len; k++)
			if (b[i + k] < 128 || b[i + k] > 191) good = 0
		if (!good) { out = out "?"; i++; continue }
		for (k = 0; k < len; k++) out = out chr[b[i + k]]
		i += len
	}
	printf "%s", out "\""
}'

# json_file FILE: FILE's bytes as one JSON string (no newline).
json_file() {
	od -An -v -tu1 <"$1" | awk "$JSON_AWK"
}

# json_str STRING: STRING as a JSON string (no newline).
json_str() {
	printf '%s' "$1" | od -An -v -tu1 | awk "$JSON_AWK"
}

# json_num VALUE: VALUE if it is a plain decimal number, else null.
json_num() {
	case $1 in
	'' | *[!0-9.]* | .* | *. | *.*.*) printf 'null' ;;
	*) printf '%s' "$1" ;;
	esac
}

# join FILE: FILE's lines joined with ", " (no newline); nothing if empty.
join() {
	[ -s "$1" ] || return 0
	awk 'NR > 1 { printf ", " } { printf "%s", $0 }' "$1"
}

# err MSG: one entry for "errors".
err() {
	json_str "$1" >>"$W/errors"
	echo >>"$W/errors"
	printf 'patchlab-agent: %s\n' "$1" >&2
}

is_uint() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	return 0
}

# dec DIGITS: without leading zeros ($((...)) would read 010 as octal).
dec() {
	v=$1
	while :; do
		case $v in 0?*) v=${v#0} ;; *) break ;; esac
	done
	printf '%s' "$v"
}

# sc ARGS: systemctl, bounded so that a wedged manager cannot hang us.
sc() {
	timeout 30 systemctl --no-pager "$@"
}

uptime_now() {
	u=
	[ -r /proc/uptime ] && read -r u _rest </proc/uptime
	printf '%s' "${u:-}"
}

now_s() { date +%s.%N; }

# --- start -----------------------------------------------------------------

console "patchlab-agent: start"

W=$(mktemp -d "${TMPDIR:-/tmp}/patchlab-agent.XXXXXX" 2>/dev/null) || W=
if [ -z "$W" ]; then
	W=$OUTDIR/.work
	rm -rf "$W"
	mkdir -p "$W" || { console "patchlab-agent: no work directory"; exit 1; }
fi
trap 'rm -rf "$W"' EXIT
trap 'exit 1' HUP INT TERM
: >"$W/errors"
: >"$W/services"
: >"$W/ports"
: >"$W/files"
: >"$W/commands"

mkdir -p "$OUTDIR" 2>/dev/null || err "cannot create $OUTDIR"
rm -f "$RESULT" "$RESULT.tmp"

HAVE_SYSTEMD=1
if [ "${PATCHLAB_AGENT_NO_SYSTEMD:-}" = 1 ]; then
	HAVE_SYSTEMD=0
elif [ ! -d /run/systemd/system ]; then
	HAVE_SYSTEMD=0
	err "systemd is not running (no /run/systemd/system): no settle wait, no unit checks, no poweroff"
elif ! command -v systemctl >/dev/null 2>&1; then
	HAVE_SYSTEMD=0
	err "systemctl not found: no settle wait, no unit checks, no poweroff"
fi

# Our own unit (for the failed-unit list and the job check).
SELF_UNIT=patchlab-agent.service
if [ -r /proc/self/cgroup ]; then
	u=$(sed -n 's|^0::.*/\([^/]*\.service\)$|\1|p' /proc/self/cgroup)
	[ -n "$u" ] && SELF_UNIT=$u
fi

# --- configuration ---------------------------------------------------------

SETTLE=300
REMOVE=0
if [ ! -e "$CONF" ]; then
	err "no configuration file $CONF"
elif [ ! -r "$CONF" ] || ! cat "$CONF" >"$W/config" 2>/dev/null; then
	err "cannot read configuration file $CONF"
else
	n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%"$CR"}
		kw=
		read -r kw a1 a2 a3 rest <<EOF
$line
EOF
		case $kw in
		'' | '#'*) continue ;;
		settle_timeout)
			is_uint "$a1" && a1=$(dec "$a1")
			if is_uint "$a1" && [ -z "$a2" ] && [ "${#a1}" -le 6 ]; then
				SETTLE=$a1
			else
				err "config line $n: settle_timeout wants one number of seconds (0-999999)"
			fi
			;;
		service)
			if [ -n "$a1" ] && [ -z "$a2" ]; then
				printf '%s\n' "$a1" >>"$W/services"
			else
				err "config line $n: service wants one unit name"
			fi
			;;
		port)
			is_uint "$a1" && a1=$(dec "$a1")
			if is_uint "$a1" && [ -z "$a2" ] && [ "${#a1}" -le 5 ] &&
				[ "$a1" -ge 1 ] && [ "$a1" -le 65535 ]; then
				printf '%s\n' "$a1" >>"$W/ports"
			else
				err "config line $n: port wants one number 1-65535"
			fi
			;;
		file)
			if [ -n "$a1" ] && [ -z "$a2" ]; then
				printf '%s\n' "$a1" >>"$W/files"
			else
				err "config line $n: file wants one path (no blanks)"
			fi
			;;
		command)
			is_uint "$a2" && a2=$(dec "$a2")
			is_uint "$a3" && a3=$(dec "$a3")
			if [ -z "$a1" ] || [ -z "$a2" ] || [ -z "$a3" ] || [ -z "$rest" ]; then
				err "config line $n: command wants NAME TIMEOUT EXPECT_EXIT SHELL-COMMAND"
			elif ! is_uint "$a2" || [ "${#a2}" -gt 6 ] || [ "$a2" -lt 1 ]; then
				err "config line $n: command $a1: TIMEOUT must be whole seconds (1-999999)"
			elif ! is_uint "$a3" || [ "${#a3}" -gt 3 ] || [ "$a3" -gt 255 ]; then
				err "config line $n: command $a1: EXPECT_EXIT must be 0-255"
			else
				printf '%s %s %s %s %s\n' command "$a1" "$a2" "$a3" "$rest" >>"$W/commands"
			fi
			;;
		remove_after_run)
			if [ -z "$a1" ]; then
				REMOVE=1
			else
				err "config line $n: remove_after_run takes no argument"
			fi
			;;
		*)
			err "config line $n: unknown directive '$kw'"
			;;
		esac
	done <"$W/config"
fi

# --- settle ----------------------------------------------------------------

failed_units() {
	# unit names only: the first word that looks like a unit (the list may
	# carry a status mark in front).
	sc list-units --failed --plain --no-legend 2>/dev/null |
		awk -v self="$SELF_UNIT" '{
			for (i = 1; i <= NF; i++) if ($i ~ /\./) { if ($i != self) print $i; break }
		}' | sort -u
}

STATE=skipped
STATE_RAW=
if [ "$HAVE_SYSTEMD" = 1 ]; then
	deadline=$(($(date +%s) + SETTLE))
	while :; do
		STATE_RAW=$(sc is-system-running 2>/dev/null | head -n 1)
		case $STATE_RAW in
		initializing | starting)
			# Done when no job but ours is left (see the header).
			if jobs=$(sc list-jobs --plain --no-legend 2>/dev/null); then
				others=$(printf '%s\n' "$jobs" |
					awk -v self="$SELF_UNIT" '$1 ~ /^[0-9]+$/ && $2 != self' | wc -l)
				if [ "$others" -eq 0 ] && [ "$STATE_RAW" = starting ]; then
					if [ -n "$(failed_units)" ]; then STATE=degraded; else STATE=running; fi
					break
				fi
			fi
			;;
		'')
			;;
		*)
			STATE=$STATE_RAW
			break
			;;
		esac
		if [ "$(date +%s)" -ge "$deadline" ]; then
			STATE=timeout
			[ -n "$STATE_RAW" ] || err "systemctl is-system-running gave no answer"
			break
		fi
		sleep 0.5 2>/dev/null || sleep 1
	done
fi
SETTLED_AT=$(uptime_now)
console "patchlab-agent: settled ($STATE)"

# --- checks ----------------------------------------------------------------

# failed units
: >"$W/failed.json"
if [ "$HAVE_SYSTEMD" = 1 ]; then
	if sc list-units --failed --plain --no-legend >/dev/null 2>&1; then
		failed_units >"$W/failed"
		while IFS= read -r u; do
			json_str "$u" >>"$W/failed.json"
			echo >>"$W/failed.json"
		done <"$W/failed"
	else
		err "systemctl list-units --failed failed"
	fi
fi

# services
: >"$W/services.json"
while IFS= read -r u; do
	load=unknown active=unknown sub=unknown enabled=unknown
	if [ "$HAVE_SYSTEMD" = 1 ]; then
		if props=$(sc show -p LoadState -p ActiveState -p SubState -p UnitFileState -- "$u" 2>"$W/sc.err"); then
			load=$(printf '%s\n' "$props" | sed -n 's/^LoadState=//p')
			active=$(printf '%s\n' "$props" | sed -n 's/^ActiveState=//p')
			sub=$(printf '%s\n' "$props" | sed -n 's/^SubState=//p')
			enabled=$(printf '%s\n' "$props" | sed -n 's/^UnitFileState=//p')
			if [ "$load" = not-found ]; then
				enabled=not-found
			fi
		else
			err "service $u: $(head -c 300 "$W/sc.err" | tr '\n' ' ')"
		fi
	fi
	printf '{"unit": %s, "load": %s, "active": %s, "sub": %s, "enabled": %s}\n' \
		"$(json_str "$u")" "$(json_str "$load")" "$(json_str "$active")" \
		"$(json_str "$sub")" "$(json_str "$enabled")" >>"$W/services.json"
done <"$W/services"

# listening TCP ports (IPv4 and IPv6): ss, or /proc/net/tcp{,6} without it
PORTS_KNOWN=0
if command -v ss >/dev/null 2>&1 && ss -Hltn >"$W/ss" 2>/dev/null; then
	awk '{ p = $4; sub(/.*:/, "", p); if (p ~ /^[0-9]+$/) print p + 0 }' "$W/ss" |
		sort -n -u >"$W/listening"
	PORTS_KNOWN=1
elif [ -r /proc/net/tcp ]; then
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk 'BEGIN { h = "0123456789ABCDEF" }
		$4 == "0A" {
			a = $2; sub(/.*:/, "", a); a = toupper(a); p = 0
			for (i = 1; i <= length(a); i++) p = p * 16 + index(h, substr(a, i, 1)) - 1
			print p
		}' | sort -n -u >"$W/listening"
	PORTS_KNOWN=1
else
	err "cannot list listening TCP ports (no ss, no /proc/net/tcp)"
	: >"$W/listening"
fi
awk '{ print $1 }' "$W/listening" >"$W/listening.json"

: >"$W/ports.json"
while IFS= read -r p; do
	if [ "$PORTS_KNOWN" = 0 ]; then
		l=null
	elif grep -qx -- "$p" "$W/listening"; then
		l=true
	else
		l=false
	fi
	printf '{"port": %s, "listening": %s}\n' "$p" "$l" >>"$W/ports.json"
done <"$W/ports"

# files
: >"$W/files.json"
while IFS= read -r f; do
	if [ -e "$f" ]; then e=true; else e=false; fi
	printf '{"path": %s, "exists": %s}\n' "$(json_str "$f")" "$e" >>"$W/files.json"
done <"$W/files"

# commands
: >"$W/commands.json"
while IFS= read -r line; do
	read -r _kw name to expect cmd <<EOF
$line
EOF
	console "patchlab-agent: command $name"
	t0=$(now_s)
	timeout -k 10 "$to" sh -c "$cmd" >"$W/out" 2>&1 </dev/null
	rc=$?
	t1=$(now_s)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	to_flag=false
	if [ "$rc" -eq 124 ]; then
		to_flag=true
	elif [ "$rc" -eq 137 ] && awk -v s="$secs" -v t="$to" 'BEGIN { exit !(s >= t) }'; then
		to_flag=true
	fi
	ok=false
	[ "$to_flag" = false ] && [ "$rc" -eq "$expect" ] && ok=true
	size=$(wc -c <"$W/out" | tr -d ' ')
	trunc=false
	[ "$size" -gt "$EXCERPT_BYTES" ] && trunc=true
	tail -c "$EXCERPT_BYTES" "$W/out" >"$W/excerpt"
	printf '{"name": %s, "command": %s, "exit": %s, "expect_exit": %s, "ok": %s, "timed_out": %s, "seconds": %s, "output_bytes": %s, "output_truncated": %s, "output": %s}\n' \
		"$(json_str "$name")" "$(json_str "$cmd")" "$rc" "$expect" "$ok" "$to_flag" \
		"$(json_num "$secs")" "$size" "$trunc" "$(json_file "$W/excerpt")" >>"$W/commands.json"
done <"$W/commands"

# boot timing from the manager (seconds since the kernel started)
BOOT=null
if [ "$HAVE_SYSTEMD" = 1 ]; then
	us=$(sc show -p UserspaceTimestampMonotonic --value 2>/dev/null)
	fin=$(sc show -p FinishTimestampMonotonic --value 2>/dev/null)
	mu=$(sc show -p ActiveEnterTimestampMonotonic --value multi-user.target 2>/dev/null)
	sec() {
		if is_uint "$1" && [ "$1" -gt 0 ]; then
			awk -v u="$1" 'BEGIN { printf "%.3f", u / 1000000 }'
		else
			printf null
		fi
	}
	# the slowest units, for whoever debugs a slow or failed boot (seconds
	# of emulated CPU, so only when the boot was not clean and quick)
	: >"$W/blame"
	if command -v systemd-analyze >/dev/null 2>&1 &&
		{ [ "$STATE" != running ] || awk -v s="$SETTLED_AT" 'BEGIN { exit !(s > 120) }'; }; then
		timeout 20 systemd-analyze blame --no-pager 2>/dev/null | head -n 12 >"$W/blame"
	fi
	BOOT=$(printf '{"userspace_at": %s, "multi_user_at": %s, "finished_at": %s, "slowest_units": %s}' \
		"$(sec "$us")" "$(sec "$mu")" "$(sec "$fin")" "$(json_file "$W/blame")")
fi

BOOT_ID=
[ -r /proc/sys/kernel/random/boot_id ] && read -r BOOT_ID </proc/sys/kernel/random/boot_id
UPTIME=$(uptime_now)

# --- self removal (remove_after_run) ---------------------------------------

SELF_REMOVED=null
if [ "$REMOVE" = 1 ]; then
	SELF_REMOVED=true
	for f in "$ROOT/etc/systemd/system/multi-user.target.wants/patchlab-agent.service" \
		"$ROOT/etc/systemd/system/patchlab-agent.service" "$ROOT/usr/local/sbin/patchlab-agent"; do
		rm -f "$f" 2>/dev/null
		if [ -e "$f" ] || [ -L "$f" ]; then
			SELF_REMOVED=false
			err "cannot remove $f"
		fi
	done
	rm -rf "$ROOT/etc/patchlab-agent" 2>/dev/null
	if [ -e "$ROOT/etc/patchlab-agent" ]; then
		SELF_REMOVED=false
		err "cannot remove $ROOT/etc/patchlab-agent"
	fi
	console "patchlab-agent: removed itself ($SELF_REMOVED)"
fi

# --- result ----------------------------------------------------------------

{
	printf '{"agent_version": %s,\n' "$AGENT_VERSION"
	printf ' "system_state": %s,\n' "$(json_str "$STATE")"
	if [ -n "$STATE_RAW" ]; then
		printf ' "system_state_raw": %s,\n' "$(json_str "$STATE_RAW")"
	else
		printf ' "system_state_raw": null,\n'
	fi
	printf ' "settled_at_uptime": %s,\n' "$(json_num "$SETTLED_AT")"
	printf ' "uptime": %s,\n' "$(json_num "$UPTIME")"
	printf ' "kernel": %s,\n' "$(json_str "$(uname -r)")"
	if [ -n "$BOOT_ID" ]; then
		printf ' "boot_id": %s,\n' "$(json_str "$BOOT_ID")"
	else
		printf ' "boot_id": null,\n'
	fi
	printf ' "boot": %s,\n' "$BOOT"
	printf ' "failed_units": [%s],\n' "$(join "$W/failed.json")"
	printf ' "services": [%s],\n' "$(join "$W/services.json")"
	printf ' "listening_ports": [%s],\n' "$(join "$W/listening.json")"
	printf ' "ports": [%s],\n' "$(join "$W/ports.json")"
	printf ' "files": [%s],\n' "$(join "$W/files.json")"
	printf ' "commands": [%s],\n' "$(join "$W/commands.json")"
	printf ' "self_removed": %s,\n' "$SELF_REMOVED"
	printf ' "errors": [%s]}\n' "$(join "$W/errors")"
} >"$RESULT.tmp"
written=$?
if [ "$written" -eq 0 ]; then
	sync "$RESULT.tmp" 2>/dev/null || sync
	mv -f "$RESULT.tmp" "$RESULT"
	written=$?
fi
[ "$written" -eq 0 ] || console "patchlab-agent: could not write $RESULT"
if [ "$HAVE_SYSTEMD" = 1 ] && command -v journalctl >/dev/null 2>&1; then
	journalctl --sync 2>/dev/null || :
fi
sync

console "patchlab-agent: done"

# The result and the journal are on disk now (the journal's errors are read
# from it after the guest stops), so the guest powers off without stopping
# its units one by one: --force kills every process, unmounts the file
# systems and powers off, seconds instead of the ordered shutdown's many
# under emulation. A shutdown that hangs is not what the lab tests.
if [ "$HAVE_SYSTEMD" = 1 ]; then
	sc poweroff --force || sc poweroff --no-block ||
		console "patchlab-agent: systemctl poweroff failed"
fi
exit "$written"
