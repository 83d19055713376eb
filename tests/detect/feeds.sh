#!/bin/bash
# 'patchlab feed': every kind added and synced from a path, from file:// and
# from http://127.0.0.1 (tests/net/httpd.py); a re-sync replaces a feed's
# rows; a 304 changes nothing; a broken re-sync (bad data, a truncated or
# missing download) exits 2 or 3 and leaves the feed tables exactly as they
# were (sqlite3 .dump before and after); archives written by zip(1) and by
# Python's zipfile are read; usage errors exit 2.
. "$(dirname "$0")/../lib.sh"
. "$PL_SRC/tests/net/httpd.sh"
F=$PL_TEST_DATA/detect/feeds
P=$PATCHLAB
command -v sqlite3 >/dev/null || { echo "no sqlite3: skipped"; exit 77; }
DB=$PATCHLAB_STATE/patchlab.db
# the feed tables, as SQL text
dump() { sqlite3 "$DB" ".dump feed%"; }
# the same but for the feeds' checked_at (a 304 records when it was asked)
dump_rows() {
  sqlite3 "$DB" ".dump feed_tracker% feed_osv% feed_cvss feed_epss feed_kev"
  sqlite3 "$DB" "SELECT name, etag, last_modified, sha256, bytes, synced_at, counts, info FROM feeds ORDER BY name"
}
same_dump() {
  if [ "$(dump)" = "$(cat "$T/before.sql")" ]; then ok; else
    not_ok "$1: the feed tables changed"
    diff <(cat "$T/before.sql") <(dump) | head -20 >&2
  fi
}
rows() { sqlite3 "$DB" "SELECT count(*) FROM $1 WHERE feed_id = (SELECT id FROM feeds WHERE name = '$2')"; }

expect init 0 -- "$P" init

# ---- the files, served and on disk -------------------------------------------
W=$T/www
mkdir -p "$W"
cp "$F/tracker/good-releases.json" "$W/tracker.json"
cp "$F/epss/good-gzip.csv.gz" "$W/epss.csv.gz"
cp "$F/kev/good-log4j-curl.json" "$W/kev.json"
cp "$F/zip/good-osv.zip" "$W/osv.zip"
cp -r "$F/osv-tree" "$W/osv-tree"
httpd_start "$W"
H=$HTTPD_URL

# ---- usage -------------------------------------------------------------------
expect add-no-kind 2 -- "$P" feed add x --url "$W/kev.json"
stderr_has add-no-kind "expected --kind KIND and --url URL|PATH"
expect add-bad-kind 2 -- "$P" feed add x --kind nvd --url "$W/kev.json"
stderr_has add-bad-kind "--kind 'nvd': expected debian-tracker, osv, epss or kev"
expect add-release-kev 2 -- "$P" feed add x --kind kev --url "$W/kev.json" --release bookworm
stderr_has add-release-kev "a release is for debian-tracker feeds only"
expect add-bad-name 2 -- "$P" feed add 'a b' --kind kev --url "$W/kev.json"
stderr_has add-bad-name "feed name 'a b'"
expect add-no-name 2 -- "$P" feed add --kind kev --url "$W/kev.json"
expect sync-unknown 2 -- "$P" feed sync nope
stderr_has sync-unknown "no feed 'nope'"
expect show-unknown 2 -- "$P" feed show nope
expect remove-unknown 2 -- "$P" feed remove nope
expect cve-no-arg 2 -- "$P" feed cve
expect cve-unknown 2 -- "$P" feed cve CVE-2024-0001
stderr_has cve-unknown "no feed mentions 'CVE-2024-0001'"

# ---- every kind from a path, file:// and http:// -----------------------------
expect add-trk-path 0 "added feed 'trk-path' (debian-tracker)" -- \
  "$P" feed add trk-path --kind debian-tracker --url "$W/tracker.json"
expect add-trk-file 0 -- "$P" feed add trk-file --kind debian-tracker --url "file://$W/tracker.json"
expect add-trk-http 0 -- "$P" feed add trk-http --kind debian-tracker --url "$H/tracker.json" \
  --release bookworm
expect add-osv-dir 0 -- "$P" feed add osv-dir --kind osv --url "$W/osv-tree"
expect add-osv-dirurl 0 -- "$P" feed add osv-dirurl --kind osv --url "file://$W/osv-tree"
expect add-osv-file 0 -- "$P" feed add osv-file --kind osv --url "file://$W/osv.zip"
expect add-osv-http 0 -- "$P" feed add osv-http --kind osv --url "$H/osv.zip"
expect add-epss-path 0 -- "$P" feed add epss-path --kind epss --url "$W/epss.csv.gz"
expect add-epss-http 0 -- "$P" feed add epss-http --kind epss --url "$H/epss.csv.gz"
expect add-kev-file 0 -- "$P" feed add kev-file --kind kev --url "file://$W/kev.json"
expect add-kev-http 0 -- "$P" feed add kev-http --kind kev --url "$H/kev.json"
expect add-twice 2 -- "$P" feed add kev-http --kind kev --url "$H/kev.json"
stderr_has add-twice "feed 'kev-http' exists already"
(cd "$W" && "$P" feed add kev-rel --kind kev --url kev.json >/dev/null)
[ "$(sqlite3 "$DB" "SELECT url FROM feeds WHERE name = 'kev-rel'")" = "$W/kev.json" ] && ok ||
  not_ok "a relative path is not stored absolute"
expect remove-rel 0 "removed feed 'kev-rel'" -- "$P" feed remove kev-rel

expect sync-all 0 -- "$P" feed sync
out=$(cat "$T/err")
for want in "trk-path: 15 rows (tracker 10, tracker_cves 5)" \
  "trk-file: 15 rows (tracker 10, tracker_cves 5)" "trk-http: 10 rows (tracker 5, tracker_cves 5)" \
  "osv-dir: 24 rows (osv 4, osv_aliases 4, osv_affected 5, osv_ranges 8, cvss 3)" \
  "osv-dirurl: 24 rows" "osv-file: 14 rows (osv 2," "osv-http: 14 rows" \
  "epss-path: 5 rows (epss 5)" "epss-http: 5 rows" "kev-file: 2 rows (kev 2)" "kev-http: 2 rows"; do
  "$P" feed sync --force "${want%%:*}" 2>/dev/null | grep -qF "$want" && ok || not_ok "sync: no '$want'"
done
grep -q "==> read" <<<"$out" && ok || not_ok "sync showed no progress"
[ "$(rows feed_tracker trk-http)" = 5 ] && ok || not_ok "trk-http kept other releases"
[ "$(sqlite3 "$DB" "SELECT DISTINCT release FROM feed_tracker WHERE feed_id = (SELECT id FROM feeds WHERE name = 'trk-http')")" = bookworm ] && ok ||
  not_ok "trk-http holds another release"

# ---- what the feeds say ------------------------------------------------------
expect cve-text 0 -- "$P" feed cve CVE-2023-38545
cve=$("$P" feed cve CVE-2023-38545)
grep -qF "tracker      curl bookworm resolved 7.88.1-10+deb12u4 (high) [trk-http]" <<<"$cve" && ok ||
  not_ok "cve: no tracker line: $cve"
grep -qF "epss         0.16253 (percentile 0.95770, 2024-03-05T00:00:00+0000) [epss-http]" <<<"$cve" &&
  ok || not_ok "cve: no epss line"
grep -qF "kev          added 2024-01-15, due 2024-02-05, ransomware Unknown" <<<"$cve" && ok ||
  not_ok "cve: no kev line"
"$P" feed cve CVE-2023-32681 --format json >"$T/cve.json" && ok || not_ok "cve json"
/usr/bin/python3 - "$T/cve.json" <<'EOF' && ok || not_ok "cve json content"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["cve"] == "CVE-2023-32681"
assert {a["feed"] for a in j["osv"]} == {"osv-dir", "osv-dirurl", "osv-file", "osv-http"}, j["osv"]
assert max(c["base_score"] for c in j["cvss"]) == 6.1
assert j["osv"][0]["packages"][0]["ranges"][0] == {"type": "ECOSYSTEM", "repo": None,
    "introduced": "2.3.0", "fixed": "2.31.0", "last_affected": None}
EOF
expect list-json 0 -- "$P" feed list --format json
"$P" feed list --format json | /usr/bin/python3 -c '
import json, sys
l = json.load(sys.stdin)
assert [f["name"] for f in l] == sorted(f["name"] for f in l)
h = [f for f in l if f["name"] == "trk-http"][0]
assert h["etag"] and h["last_modified"] and h["release"] == "bookworm", h
assert h["counts"] == {"tracker": 5, "tracker_cves": 5}, h' && ok || not_ok "list json"
expect show-text 0 -- "$P" feed show kev-http
"$P" feed show kev-http | grep -q "^catalogVersion 2024.03.05$" && ok || not_ok "show: no info"

# ---- 304 and unchanged -------------------------------------------------------
: >"$HTTPD_LOG"
expect resync-304 0 "trk-http: not modified (the server answered 304)" -- "$P" feed sync trk-http
[ "$(httpd_count '^GET /tracker.json 304 inm=1')" = 1 ] && ok || not_ok "no conditional 304"
expect resync-same 0 "trk-path: unchanged (same SHA-256 as the last sync)" -- "$P" feed sync trk-path
dump_rows >"$T/before.sql"
: >"$HTTPD_LOG"
expect resync-304-all 0 -- "$P" feed sync trk-http osv-http epss-http kev-http
[ "$(dump_rows)" = "$(cat "$T/before.sql")" ] && ok || not_ok "a 304 changed rows"
[ "$(httpd_count ' 304 inm=1')" = 4 ] && ok || not_ok "not every feed was asked conditionally"

# ---- a re-sync replaces --------------------------------------------------------
/usr/bin/python3 - "$W/tracker.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
del d["linux"]
d["openssl"]["CVE-2023-5678"]["releases"]["bookworm"]["fixed_version"] = "3.0.13-1~deb12u9"
json.dump(d, open(sys.argv[1], "w"), indent=1)
EOF
expect resync-path 0 -- "$P" feed sync trk-path
grep -qF "trk-path: 12 rows (tracker 8, tracker_cves 4)" <<<"$("$P" feed sync --force trk-path 2>/dev/null)" &&
  ok || not_ok "re-sync did not replace"
[ "$(sqlite3 "$DB" "SELECT fixed_version FROM feed_tracker WHERE cve = 'CVE-2023-5678' AND release = 'bookworm' AND feed_id = (SELECT id FROM feeds WHERE name = 'trk-path')")" = "3.0.13-1~deb12u9" ] &&
  ok || not_ok "the new fixed version is not there"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM feed_tracker WHERE source = 'linux' AND feed_id = (SELECT id FROM feeds WHERE name = 'trk-path')")" = 0 ] &&
  ok || not_ok "rows of the old copy stayed"
: >"$HTTPD_LOG"
"$P" feed sync trk-http 2>/dev/null | grep -qF "trk-http: 8 rows (tracker 4, tracker_cves 4)" && ok ||
  not_ok "http re-sync did not replace"
[ "$(httpd_count '^GET /tracker.json 200 inm=1')" = 1 ] && ok || not_ok "changed file not fetched"

# ---- broken re-syncs change nothing -------------------------------------------
dump >"$T/before.sql"
cp "$W/tracker.json" "$T/tracker.good"
head -c 300 "$T/tracker.good" >"$W/tracker.json"
expect broken-path 2 -- "$P" feed sync trk-path
stderr_has broken-path "patchlab: error: feed 'trk-path': $W/tracker.json:"
same_dump broken-path
expect broken-http 2 -- "$P" feed sync trk-http
stderr_has broken-http "feed 'trk-http': $H/tracker.json:"
same_dump broken-http
printf '{"openssl": {"CVE-2024-1": {"releases": {"bookworm": {"status": "fixed"}}}}}' >"$W/tracker.json"
expect broken-field 2 -- "$P" feed sync trk-file
stderr_has broken-field "file://$W/tracker.json: \$.openssl.CVE-2024-1.releases.bookworm.status: unknown status 'fixed'"
same_dump broken-field
cp "$T/tracker.good" "$W/tracker.json"
head -c 2000 "$F/zip/good-osv.zip" >"$W/osv.zip"
expect broken-zip 2 -- "$P" feed sync osv-http
stderr_has broken-zip "feed 'osv-http': $H/osv.zip: no end of central directory"
same_dump broken-zip
cp "$F/zip/bad-bomb.zip" "$W/osv.zip"
expect broken-bomb 2 -- "$P" feed sync osv-file
stderr_has broken-bomb "b.json: the entries add up to more than"
same_dump broken-bomb
cp "$F/zip/good-osv.zip" "$W/osv.zip"
printf '{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}]}' \
  >"$W/osv-tree/debian/zz.json"
expect broken-dir 2 -- "$P" feed sync osv-dir
stderr_has broken-dir "$W/osv-tree/debian/zz.json: \$.severity[0].score: CVSS vector 'CVSS:3.1/AV:N': AC: missing"
same_dump broken-dir
rm "$W/osv-tree/debian/zz.json"
cp "$W/epss.csv.gz" "$T/epss.good"
{ gzip -dc "$T/epss.good"; printf 'CVE-2024-0001,0.5,0.5\nCVE-2024-0001,0.5,0.5\n'; } | gzip -n >"$W/epss.csv.gz"
expect broken-epss 2 -- "$P" feed sync epss-path
stderr_has broken-epss "$W/epss.csv.gz:9: CVE-2024-0001 listed twice"
same_dump broken-epss
zstd -q -c <(gzip -dc "$T/epss.good") >"$W/epss.csv.gz" 2>/dev/null
expect broken-zstd 2 -- "$P" feed sync epss-http
stderr_has broken-zstd "$H/epss.csv.gz: zstd-compressed data is not supported"
same_dump broken-zstd
cp "$T/epss.good" "$W/epss.csv.gz"
printf '\xff\xfe{"vulnerabilities": []}' >"$W/kev.json"
expect broken-utf8 2 -- "$P" feed sync kev-file
stderr_has broken-utf8 "file://$W/kev.json:1:"
same_dump broken-utf8
cp "$F/kev/good-log4j-curl.json" "$W/kev.json"
mv "$W/kev.json" "$W/kev.moved"
expect broken-404 2 -- "$P" feed sync kev-http
stderr_has broken-404 "404"
same_dump broken-404
mv "$W/kev.moved" "$W/kev.json"
echo >>"$W/kev.json" # new bytes, new ETag: no 304
httpd_control '{"/kev.json": {"truncate": 100}}'
expect broken-truncated 3 -- "$P" feed sync kev-http
same_dump broken-truncated
httpd_control '{}'
expect sync-first-fails 2 -- "$P" feed sync nope kev-http
same_dump sync-first-fails
# after the failures, the same feeds sync again
expect healed 0 -- "$P" feed sync trk-path trk-http osv-http osv-file osv-dir epss-path epss-http kev-file kev-http

# ---- archives written by other tools ------------------------------------------
if command -v zip >/dev/null; then
  (cd "$W" && zip -q -r "$T/osv-zip1.zip" osv-tree)
  expect zip1-add 0 -- "$P" feed add osv-zip1 --kind osv --url "$T/osv-zip1.zip"
  "$P" feed sync osv-zip1 2>/dev/null | grep -qF "osv-zip1: 24 rows (osv 4," && ok || not_ok "zip(1) archive"
fi
/usr/bin/python3 - "$W/osv-tree" "$T/osv-py.zip" <<'EOF'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    for d, _, files in os.walk(sys.argv[1]):
        for f in sorted(files):
            z.write(os.path.join(d, f), os.path.relpath(os.path.join(d, f), sys.argv[1]))
EOF
expect zippy-add 0 -- "$P" feed add osv-py --kind osv --url "$T/osv-py.zip"
"$P" feed sync osv-py 2>/dev/null | grep -qF "osv-py: 24 rows (osv 4," && ok || not_ok "zipfile archive"

# ---- the one-shot scan reads OSV too ----------------------------------------------
D=$PL_TEST_DATA/detect
want=$(printf 'package\tarch\tinstalled\tcandidate\tcves\tseverity\tpriority
apparmor\tamd64\t2.10-1\t3.0.8-3\tCVE-2017-6507\tmedium\tmedium
libapparmor1\tamd64\t2.10-1+b1\t3.0.8-3+b2\tCVE-2017-6507\tmedium\tmedium
mimetex\tamd64\t1.50-1\t1.50-1.1\tCVE-2023-90001\thigh\thigh')
expect scan-osv 0 "$want" -- "$P" scan --dpkg-status "$D/status" --packages "$D/Packages" \
  --feed "$D/tracker_vulnerablecode.json" --feed "$D/tracker_osvdev.json" \
  --feed "$D/osv-scan.json" --release bookworm
mkdir -p "$T/osv-scan/a"
/usr/bin/python3 - "$D/osv-scan.json" "$T/osv-scan" <<'PY'
import json, sys, zipfile
advs = json.load(open(sys.argv[1]))
for a in advs:
    json.dump(a, open("%s/a/%s.json" % (sys.argv[2], a["id"]), "w"))
with zipfile.ZipFile(sys.argv[2] + ".zip", "w", zipfile.ZIP_DEFLATED) as z:
    for a in advs:
        z.writestr(a["id"] + ".json", json.dumps(a))
PY
gzip -nc "$D/osv-scan.json" >"$T/osv-scan.json.gz"
for src in "$T/osv-scan" "$T/osv-scan.zip" "$T/osv-scan.json.gz"; do
  expect "scan-osv-$(basename "$src")" 0 "$want" -- "$P" scan --dpkg-status "$D/status" \
    --packages "$D/Packages" --feed "$D/tracker_vulnerablecode.json" \
    --feed "$D/tracker_osvdev.json" --feed "$src" --release bookworm
done
"$P" scan --format json --dpkg-status "$D/status" --packages "$D/Packages" --feed "$D/osv-scan.json" \
  --release bookworm | grep -q '"cve": "CVE-2023-90002"' && ok || not_ok "scan: open OSV range not unfixed"
"$P" scan --format json --dpkg-status "$D/status" --packages "$D/Packages" --feed "$D/osv-scan.json" \
  --release bullseye | grep -q '"cve": "CVE-2023-90002"' && not_ok "scan: Debian:11 range fixed" || ok
sed 's/"fixed": "1.50-1.1"/"fixed": "1.50 beta"/' "$D/osv-scan.json" >"$T/osv-bad.json"
expect scan-osv-bad 2 -- "$P" scan --dpkg-status "$D/status" --packages "$D/Packages" \
  --feed "$T/osv-bad.json" --release bookworm
stderr_has scan-osv-bad "$T/osv-bad.json: \$[0] (DSA-9001-1): mimetex: fixed version '1.50 beta' of Debian:12"

# ---- json output, remove -----------------------------------------------------
"$P" feed sync --force --format json kev-file 2>/dev/null | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r[0]["name"] == "kev-file" and r[0]["result"] == "synced" and r[0]["counts"] == {"kev": 2}, r' &&
  ok || not_ok "sync json"
expect remove 0 "removed feed 'kev-file'" -- "$P" feed remove kev-file
[ "$(sqlite3 "$DB" "SELECT count(*) FROM feed_kev k LEFT JOIN feeds f ON f.id = k.feed_id WHERE f.id IS NULL")" = 0 ] &&
  ok || not_ok "rows of a removed feed stayed"
expect remove-osv 0 -- "$P" feed remove osv-http
[ "$(sqlite3 "$DB" "SELECT count(*) FROM feed_osv_ranges r LEFT JOIN feed_osv_affected a ON a.id = r.affected WHERE a.id IS NULL")" = 0 ] &&
  ok || not_ok "OSV ranges of a removed feed stayed"

finish
