#!/bin/bash
# The database scan, findings and candidate propose, end to end: a signed
# repository made here (bookworm and bookworm-security, .debs built with
# dpkg-deb, a test gpg key) served by tests/net/httpd.py on 127.0.0.1, the
# feed fixtures of tests/data/detect/dbscan (tracker, EPSS, KEV, OSV with a
# CVSS vector) synced through 'patchlab feed', hosts imported with dpkg
# status fixtures. Checks: the findings equal the expected file; a rescan
# keeps first_seen; a package update resolves its finding; findings --top,
# --host, --unfixed and JSON factors; propose downloads verified .debs into
# the patch store and records the findings; a tampered .deb in the served
# repository makes propose fail with nothing added; bad input exits 2 and
# leaves the database as it was. PATCHLAB_TEST_REGENERATE=1 rewrites the
# expected files.
. "$(dirname "$0")/../lib.sh"
. "$PL_SRC/tests/net/httpd.sh"
for p in gpg gpgv dpkg-deb xz sqlite3; do
  command -v $p >/dev/null || { echo "no $p: skipped"; exit 77; }
done
export LC_ALL=C
D=$PL_TEST_DATA/detect/dbscan
P=$PATCHLAB
DB=$PATCHLAB_STATE/patchlab.db
W=$T/www/debian

# ---- a signed repository: bookworm and bookworm-security ------------------------
export GNUPGHOME=$T/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg -q --batch --passphrase '' --quick-gen-key 'patchlab test archive <a@patchlab.invalid>' \
  ed25519 sign never 2>/dev/null
gpg -q --batch --export >"$T/archive.gpg"
rfc2822() { date -u -d "@$1" '+%a, %d %b %Y %H:%M:%S UTC'; }

mkdeb() { # SUITE NAME VERSION ARCH [SOURCE]
  local d=$T/build/$2-$3 pool=$W/pool/$1
  mkdir -p "$d/DEBIAN" "$d/usr/share/doc/$2" "$pool"
  {
    printf 'Package: %s\nVersion: %s\nArchitecture: %s\n' "$2" "$3" "$4"
    [ -n "${5:-}" ] && printf 'Source: %s\n' "$5"
    printf 'Maintainer: t <t@patchlab.invalid>\nDescription: test package %s\n' "$2"
  } >"$d/DEBIAN/control"
  echo "$2 $3" >"$d/usr/share/doc/$2/README"
  dpkg-deb --root-owner-group -Zxz --build "$d" "$pool/${2}_${3}_$4.deb" >/dev/null ||
    { echo "dpkg-deb failed" >&2; exit 1; }
}
index() { # SUITE: Packages(.xz) from its pool, Release signed
  local s=$1 dir=$W/dists/$1/main/binary-amd64 f now
  mkdir -p "$dir"
  : >"$dir/Packages"
  for f in $(cd "$W" && find "pool/$s" -name '*.deb' | sort); do
    dpkg-deb -f "$W/$f" Package Source Version Architecture Maintainer >>"$dir/Packages"
    printf 'Filename: %s\nSize: %s\nSHA256: %s\nDescription: test\n\n' "$f" \
      "$(stat -c %s "$W/$f")" "$(sha256sum <"$W/$f" | cut -d' ' -f1)" >>"$dir/Packages"
  done
  xz -c "$dir/Packages" >"$dir/Packages.xz"
  now=$(date +%s)
  {
    printf 'Origin: Debian\nLabel: test\nSuite: %s\nCodename: %s\n' "$s" "$s"
    printf 'Date: %s\nValid-Until: %s\n' "$(rfc2822 $((now - 60)))" "$(rfc2822 $((now + 86400)))"
    printf 'Architectures: amd64\nComponents: main\nSHA256:\n'
    for f in Packages Packages.xz; do
      printf ' %s %8s main/binary-amd64/%s\n' "$(sha256sum <"$dir/$f" | cut -d' ' -f1)" \
        "$(stat -c %s "$dir/$f")" "$f"
    done
  } >"$W/dists/$s/Release"
  gpg -q --batch --yes --clearsign -o "$W/dists/$s/InRelease" "$W/dists/$s/Release"
}
mkdeb bookworm hello 1.0-1 amd64
mkdeb bookworm libfoo1 2.0-1 amd64 foo
mkdeb bookworm foo-doc 2.0-1 all foo
mkdeb bookworm world 1.0-1 amd64
mkdeb bookworm-security hello 1.0-1+deb12u1 amd64
mkdeb bookworm-security libfoo1 2.0-1+deb12u1 amd64 foo
mkdeb bookworm-security foo-doc 2.0-1+deb12u1 all foo
index bookworm
index bookworm-security
httpd_start "$T/www"

# ---- the state: repository, feeds, hosts ----------------------------------------------
expect init 0 -- "$P" init
expect repo-add 0 -- "$P" repo add deb --url "$HTTPD_URL/debian" --suite bookworm \
  --suite bookworm-security --component main --arch amd64 --keyring "$T/archive.gpg"
expect repo-sync 0 -- "$P" repo sync deb
expect feed-tracker 0 -- "$P" feed add tracker --kind debian-tracker --url "$D/tracker.json"
expect feed-epss 0 -- "$P" feed add epss --kind epss --url "$D/epss.csv"
expect feed-kev 0 -- "$P" feed add kev --kind kev --url "$D/kev.json"
expect feed-osv 0 -- "$P" feed add osv --kind osv --url "$D/osv.json"
expect feed-sync 0 -- "$P" feed sync
expect import 0 -- "$P" inventory import "$D/hosts.json"
cp -a "$PATCHLAB_STATE" "$T/state-hosts" # for the bulk import below
for h in web1 db1 dev1 old1; do
  expect "packages-$h" 0 -- "$P" inventory packages $h --dpkg-status "$D/status-$h"
done

# the scan's tables as text, for "nothing changed"; not its package cache
# (scan_pkgs, scan_pkgsets, scan_dirty), which a scan refreshes in short
# transactions of its own before the one that writes findings: derived
# from host_packages, consistent with it after each
snapshot() {
  sqlite3 "$DB" ".dump scans host_scans upgrades upgrade_cves findings candidate_findings
    candidates candidate_patches patches"
}
unchanged() { # NAME
  if [ "$(snapshot)" = "$(cat "$T/snap")" ]; then ok; else
    not_ok "$1: the database changed"
    diff <(cat "$T/snap") <(snapshot) | head -10 >&2
  fi
}
# golden NAME FILE: stdout of the last command ($T/out) equals $D/FILE
golden() {
  if [ -n "${PATCHLAB_TEST_REGENERATE:-}" ]; then cp "$T/out" "$D/$2"; fi
  if cmp -s "$T/out" "$D/$2"; then ok; else
    not_ok "$1: output differs from $2"
    diff "$D/$2" "$T/out" | head -20 >&2
  fi
}
run() { # NAME CODE CMD...: stdout into $T/out
  local name=$1 code=$2 rc=0
  shift 2
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -eq "$code" ]; then ok; else not_ok "$name: exit $rc, expected $code: $(head -c 300 "$T/err")"; fi
}

# 'inventory packages' wrote each host's packed set for the scan with its rows
cache() { sqlite3 "$DB" ".dump scan_pkgs scan_pkgsets scan_dirty"; }
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM scan_pkgsets')" = 4 ] &&
  [ "$(sqlite3 "$DB" 'SELECT count(*) FROM scan_dirty')" = 0 ] && ok ||
  not_ok "inventory packages did not write the scan's package sets"

# ---- bad input: exit 2, nothing written --------------------------------------------------
snapshot >"$T/snap"
cache >"$T/cache"
expect unknown-host 2 -- "$P" scan --host web1 --host nope
stderr_has unknown-host "no host named 'nope'"
unchanged unknown-host
[ "$(cache)" = "$(cat "$T/cache")" ] && ok || not_ok "a refused scan changed the package cache"
expect scan-feed-option 2 -- "$P" scan --feed "$D/tracker.json"
stderr_has scan-feed-option "--feed and --release belong to the one-shot scan"
expect scan-host-oneshot 2 -- "$P" scan --host web1 --dpkg-status "$D/status-web1" \
  --packages "$W/dists/bookworm/main/binary-amd64/Packages"
expect scan-format 2 -- "$P" scan --format tsv
expect findings-priority 2 -- "$P" findings --min-priority P9
stderr_has findings-priority "--min-priority: 'P9' is not P1, P2, P3, P4"
expect findings-top 2 -- "$P" findings --top 0
stderr_has findings-top "--top"
expect findings-host 2 -- "$P" findings --host nope
stderr_has findings-host "no host named 'nope'"
expect findings-unfixed 2 -- "$P" findings --unfixed
expect unfixed-never 2 -- "$P" findings --unfixed --host web1
stderr_has unfixed-never "host 'web1' was never scanned"
expect propose-nomin 2 -- "$P" candidate propose c1
expect propose-both 2 -- "$P" candidate propose c1 --min-priority P2 --host web1 --role web
expect propose-name 2 -- "$P" candidate propose 'bad name' --min-priority P2
stderr_has propose-name "candidate name 'bad name'"
# a synced index changed on disk since the sync: refused, naming the file
IX=$(sqlite3 "$DB" "SELECT path FROM repo_indexes WHERE suite = 'bookworm-security'")
cp "$PATCHLAB_STATE/$IX" "$T/ix.orig"
printf 'Package: hello\nVersion: 9.9\nArchitecture: amd64\n' | xz -c >"$PATCHLAB_STATE/$IX"
expect index-changed 2 -- "$P" scan
stderr_has index-changed "$PATCHLAB_STATE/$IX: SHA-256"
stderr_has index-changed "run 'patchlab repo sync'"
unchanged index-changed
cp "$T/ix.orig" "$PATCHLAB_STATE/$IX"
unchanged bad-input

# ---- the first scan ------------------------------------------------------------------------
export PATCHLAB_NOW=2026-11-01T08:00:00Z
run scan-1 1 "$P" scan
sed -i 's/ in [0-9.]* s:/ in S s:/' "$T/out"
golden scan-1 scan-1.txt
stderr_has scan-1 "2 of 5 host(s) not scanned"
run findings-1 0 "$P" findings --all --format json
golden findings-1 findings-1.json
# the scan writes with foreign key checks off (its own rows point to rows
# of its own transaction): none may dangle
[ -z "$(sqlite3 "$DB" 'PRAGMA foreign_key_check')" ] && ok || not_ok "the scan left dangling keys"
run findings-top 0 "$P" findings --top 2
golden findings-top findings-top2.txt
/usr/bin/python3 - "$T/out" <<'EOF' && ok || not_ok "findings --top 2 is not the two highest"
import sys
rows = open(sys.argv[1]).read().splitlines()
assert rows[0].split()[0] == "PRIO" and len(rows) == 3, rows
assert [r.split()[0] for r in rows[1:]] == ["91", "70"], rows
assert rows[2].split()[2] == "db1", rows  # ties: host, then package
EOF
run findings-host 0 "$P" findings --host web1 --min-priority P2 --format json
/usr/bin/python3 - "$T/out" <<'EOF' && ok || not_ok "findings --host web1 --min-priority P2"
import json, sys
j = json.load(open(sys.argv[1]))
assert [f["package"] for f in j] == ["hello", "foo-doc", "libfoo1"], j
f = j[0]["factors"]
assert f["score"] == 91 and f["level"] == "P1", f
assert f["base"] == {"value": 9.8, "from": "cvss", "cvss": 9.8, "cves": 1}, f["base"]
assert f["exposure"] == {"value": "internet", "factor": 1.0}, f
assert f["environment"]["critical"] is True and f["environment"]["factor"] == 1.0, f
assert f["controls"]["firewall"] == "on" and f["controls"]["factor"] == 0.95, f
k = j[2]["factors"]["kev"]
assert k == {"listed": True, "factor": 1.25, "floor": True}, k
assert j[2]["cves"] == ["CVE-2024-2000"] and j[2]["kev"] is True, j[2]
EOF
run unfixed 0 "$P" findings --unfixed --host web1
golden unfixed unfixed-web1.txt
run role 0 "$P" findings --role db --format json
[ "$(grep -c '"host": "db1"' "$T/out")" = 1 ] && ok || not_ok "findings --role db"

# ---- a rescan keeps first_seen; an update resolves a finding --------------------------------
export PATCHLAB_NOW=2026-11-02T08:00:00Z
run scan-2 1 "$P" scan --format json
/usr/bin/python3 - "$T/out" <<'EOF' && ok || not_ok "the second scan changed findings"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["opened"] == 0 and j["resolved"] == 0 and j["unchanged"] == 5, j
assert j["rebuilt"] == 0 and j["findings"] == 5 and j["scanned"] == 3, j
EOF
expect update-web1 0 -- "$P" inventory packages web1 --dpkg-status "$D/status-web1-updated"
export PATCHLAB_NOW=2026-11-03T08:00:00Z
run scan-3 0 "$P" scan --host web1 --host db1 --host dev1
grep -q "^scanned 3 of 3 host(s) .*: 4 open finding(s); 0 new, 0 changed, 1 resolved$" "$T/out" &&
  ok || not_ok "scan-3: $(head -1 "$T/out")"
# the import wrote web1's new set: nothing to read again
grep -q "(0 package list(s) read again)" "$T/out" && ok || not_ok "scan-3 read package lists again"
run resolved 0 "$P" findings --resolved --format json
golden resolved findings-resolved.json
/usr/bin/python3 - "$T/out" <<'EOF' && ok || not_ok "the resolved finding's history"
import json, sys
j = json.load(open(sys.argv[1]))
assert len(j) == 1 and j[0]["host"] == "web1" and j[0]["package"] == "hello", j
assert j[0]["first_seen"] == "2026-11-01T08:00:00Z", j
assert j[0]["last_seen"] == "2026-11-02T08:00:00Z", j
assert j[0]["resolved_at"] == "2026-11-03T08:00:00Z", j
EOF
[ "$(sqlite3 "$DB" "SELECT count(*) FROM findings WHERE resolved_at IS NULL AND first_seen = '2026-11-01T08:00:00Z'")" = 4 ] &&
  ok || not_ok "persisting findings lost their first_seen"

# ---- candidate propose ----------------------------------------------------------------------
expect propose-p1 2 -- "$P" candidate propose c1 --min-priority P1
stderr_has propose-p1 "no open finding of the inventory has priority 80 or more (the highest is 70, P2)"
expect propose-none 2 -- "$P" candidate propose c1 --min-priority P4 --host old1
stderr_has propose-none "host 'old1' has no open findings"
snapshot >"$T/snap"
run propose-dry 0 "$P" candidate propose sec1 --min-priority P2 --dry-run
[ "$(head -n 1 "$T/out")" = "would create candidate 'sec1': 2 patch(es) for 3 finding(s) on 2 host(s), priority 60 (P2) or more" ] &&
  ok || not_ok "propose --dry-run: $(head -n 1 "$T/out")"
grep -q '^  libfoo1  *2.0-1+deb12u1  *amd64  *2 finding(s)' "$T/out" && ok || not_ok "dry-run lacks libfoo1"
unchanged propose-dry
n=$(httpd_count 'pool/')
run propose 0 "$P" candidate propose sec1 --min-priority P2 --format json
/usr/bin/python3 - "$T/out" "$W" <<'EOF' && ok || not_ok "propose sec1"
import json, sys, hashlib
j = json.load(open(sys.argv[1]))
assert j["candidate"] == "sec1" and j["state"] == "new" and j["findings"] == 3, j
assert j["hosts"] == 2 and j["min_level"] == "P2", j
p = {(x["package"], x["version"], x["arch"]): x for x in j["patches"]}
assert set(p) == {("libfoo1", "2.0-1+deb12u1", "amd64"), ("foo-doc", "2.0-1+deb12u1", "all")}, p
for (pkg, ver, arch), x in p.items():
    f = "%s/pool/bookworm-security/%s_%s_%s.deb" % (sys.argv[2], pkg, ver, arch)
    assert hashlib.sha256(open(f, "rb").read()).hexdigest() == x["sha256"], x
assert p[("libfoo1", "2.0-1+deb12u1", "amd64")]["findings"] == 2, p
EOF
[ "$(httpd_count 'pool/')" -gt "$n" ] && ok || not_ok "propose downloaded nothing"
for sha in $(sqlite3 "$DB" "SELECT p.sha256 FROM patches p JOIN candidate_patches cp ON cp.patch_id = p.id JOIN candidates c ON c.id = cp.candidate_id WHERE c.name = 'sec1'"); do
  f=$PATCHLAB_STATE/patches/${sha:0:2}/$sha.deb
  [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$sha" ] && ok || not_ok "patch store: $f"
done
[ "$(sqlite3 "$DB" "SELECT count(*) FROM candidate_findings cf JOIN candidates c ON c.id = cf.candidate_id WHERE c.name = 'sec1'")" = 3 ] &&
  ok || not_ok "candidate_findings of sec1"
[ "$(sqlite3 "$DB" "SELECT origin FROM patches WHERE package = 'foo-doc'")" = \
  "$HTTPD_URL/debian/pool/bookworm-security/foo-doc_2.0-1+deb12u1_all.deb" ] && ok || not_ok "origin URL"
expect propose-again 2 -- "$P" candidate propose sec1 --min-priority P2
stderr_has propose-again "a candidate named 'sec1' exists already"
ls "$PATCHLAB_STATE/tmp" 2>/dev/null | grep -q . && not_ok "propose left its download directory" || ok

# a tampered .deb in the served repository: refused, nothing added
snapshot >"$T/snap"
HD=$W/pool/bookworm-security/hello_1.0-1+deb12u1_amd64.deb
/usr/bin/python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[300] ^= 0x55; open(p, "wb").write(b)' "$HD"
expect propose-tampered 2 -- "$P" candidate propose sec2 --min-priority P4 --host dev1
stderr_has propose-tampered "hello_1.0-1+deb12u1_amd64.deb: SHA-256"
stderr_has propose-tampered "(not kept)"
unchanged propose-tampered
expect no-sec2 2 -- "$P" candidate show sec2
ls "$PATCHLAB_STATE/tmp" 2>/dev/null | grep -q . && not_ok "a failed propose left files" || ok

# ---- host_packages written without patchlab: the scan reads the rows again -------------------
# (the triggers mark the host; the rebuilt set must give what the import's did)
export PATCHLAB_NOW=2026-11-04T08:00:00Z
run scan-4 0 "$P" scan --host web1 --host db1 --host dev1 --format json
cp "$T/out" "$T/scan-4.json"
sqlite3 "$DB" "UPDATE host_packages SET status = status WHERE host_id = (SELECT id FROM hosts WHERE name = 'db1')"
run scan-5 0 "$P" scan --host web1 --host db1 --host dev1 --format json
/usr/bin/python3 - "$T/scan-4.json" "$T/out" <<'EOF' && ok || not_ok "the rebuilt set scans differently"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a["rebuilt"] == 0 and b["rebuilt"] == 1, (a["rebuilt"], b["rebuilt"])
assert b["unchanged"] == a["findings"] == b["findings"] and b["opened"] == b["resolved"] == 0, b
EOF

# ---- inventory packages --dir: many lists in one transaction -------------------------------
export PATCHLAB_STATE=$T/state-hosts
DB=$PATCHLAB_STATE/patchlab.db
mkdir "$T/lists"
for h in web1 db1 dev1 old1; do cp "$D/status-$h" "$T/lists/$h.status"; done
hp() { sqlite3 "$DB" "SELECT count(*) FROM host_packages"; }
# bad input: an unknown host, a stray file, a bad list: nothing imported
cp "$D/status-web1" "$T/lists/nope.status"
expect dir-unknown-host 2 -- "$P" inventory packages --dir "$T/lists"
stderr_has dir-unknown-host "$T/lists/nope.status: no host named 'nope'"
rm "$T/lists/nope.status"
echo x >"$T/lists/README"
expect dir-stray 2 -- "$P" inventory packages --dir "$T/lists"
stderr_has dir-stray "$T/lists/README: expected HOST.status"
rm "$T/lists/README"
printf 'web1\t1.0\n' >"$T/lists/rh1.rpmqa"
expect dir-bad-list 2 -- "$P" inventory packages --dir "$T/lists"
stderr_has dir-bad-list "$T/lists/rh1.rpmqa:1"
rm "$T/lists/rh1.rpmqa"
expect dir-host-too 2 -- "$P" inventory packages web1 --dir "$T/lists"
[ "$(hp)" = 0 ] && ok || not_ok "a refused --dir import wrote packages"
n=$(cat "$T"/lists/*.status | grep -c '^Package:')
expect dir-import 0 "4 hosts, $n packages" -- "$P" inventory packages --dir "$T/lists"
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM scan_pkgsets')" = 4 ] &&
  [ "$(sqlite3 "$DB" 'SELECT count(*) FROM scan_dirty')" = 0 ] && ok ||
  not_ok "--dir did not write the scan's package sets"
# the first scan after a bulk import: the same answer as after one import a host
export PATCHLAB_NOW=2026-11-01T08:00:00Z
run dir-scan 1 "$P" scan
# one list read: rh1's, which has none (the other path's refused scans read it)
grep -q "(1 package list(s) read again)" "$T/out" && ok || not_ok "dir-scan read lists again"
sed -i 's/ in [0-9.]* s:/ in S s:/; s/(1 package list(s) read again)/(0 package list(s) read again)/' "$T/out"
golden dir-scan scan-1.txt
run dir-findings 0 "$P" findings --all --format json
golden dir-findings findings-1.json
# ---- OSV advisories count in the database scan as in the one-shot scan --------------------
# (a Debian:12 range fixed by hello's security update, an advisory id with
# a CVE alias and a CVSS vector; the one-shot scan reads the same file)
cat >"$T/osv-debian.json" <<'EOF'
[{"id": "DSA-9999-1", "modified": "2026-10-01T00:00:00Z", "aliases": ["CVE-2024-9999"],
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "hello"},
                "ranges": [{"type": "ECOSYSTEM",
                            "events": [{"introduced": "0"}, {"fixed": "1.0-1+deb12u1"}]}]},
               {"package": {"ecosystem": "Debian:11", "name": "world"},
                "ranges": [{"type": "ECOSYSTEM",
                            "events": [{"introduced": "0"}, {"fixed": "9.9"}]}]}],
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]},
 {"id": "DSA-9998-1", "modified": "2026-10-01T00:00:00Z", "aliases": ["CVE-2024-9998"],
  "withdrawn": "2026-10-02T00:00:00Z",
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "hello"},
                "ranges": [{"type": "ECOSYSTEM",
                            "events": [{"introduced": "0"}, {"fixed": "1.0-1+deb12u1"}]}]}]}]
EOF
expect osv-debian-add 0 -- "$P" feed add osv-debian --kind osv --url "$T/osv-debian.json"
expect osv-debian-sync 0 -- "$P" feed sync osv-debian
export PATCHLAB_NOW=2026-11-05T08:00:00Z
run osv-scan 0 "$P" scan --host web1
run osv-findings 0 "$P" findings --host web1 --format json
/usr/bin/python3 - "$T/out" <<'EOF' && ok || not_ok "the database scan did not take the OSV advisory"
import json, sys
j = {f["package"]: f for f in json.load(open(sys.argv[1]))}
h = j["hello"]
assert "CVE-2024-9999" in h["cves"] and "CVE-2024-9998" not in h["cves"], h["cves"]
assert "world" not in j, j.keys()  # Debian:11 is not bookworm's
EOF
cp "$T/out" "$T/db.json"
run osv-oneshot 0 "$P" scan --dpkg-status "$D/status-web1" --release bookworm \
  --packages "$W/dists/bookworm/main/binary-amd64/Packages.xz" \
  --packages "$W/dists/bookworm-security/main/binary-amd64/Packages.xz" \
  --feed "$D/tracker.json" --feed "$T/osv-debian.json" --format json
/usr/bin/python3 - "$T/db.json" "$T/out" <<'EOF' && ok || not_ok "database and one-shot scans differ on CVEs"
import json, sys
db = {f["package"]: sorted(f["cves"]) for f in json.load(open(sys.argv[1]))}
one = json.load(open(sys.argv[2]))
rows = one["upgradable"]
oneshot = {r["package"]: sorted(r["cves"]) for r in rows}
assert db == oneshot, (db, oneshot)
EOF
finish
