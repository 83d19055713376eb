#!/bin/bash
# 'patchlab repo' against a signed Debian repository made here: a gpg key
# made inside the test, a tree with dists/S/{InRelease,Release,Release.gpg}
# and main/binary-amd64/Packages{,.gz,.xz}, .debs built with dpkg-deb,
# served by tests/net/httpd.py on 127.0.0.1. Checks add (and its bad
# input), sync, the 304 second sync, and that every refused sync (bad
# signature, wrong key, expired, replayed, other suite, hash or size
# mismatch, truncated, wrong compression, bad syntax, lock) leaves the
# previous files and rows exactly as they were; the detached-signature
# fallback, armored keyrings, the apt sources, verified .deb downloads.
. "$(dirname "$0")/../lib.sh"
. "$PL_SRC/tests/net/httpd.sh"
for p in gpg gpgv dpkg-deb xz gzip sqlite3 flock; do
  command -v $p >/dev/null || { echo "no $p: skipped"; exit 77; }
done
export LC_ALL=C
DB=$PATCHLAB_STATE/patchlab.db
W=$T/www/debian
S=pltest

# ---- keys ---------------------------------------------------------------------
export GNUPGHOME=$T/gnupg
mkdir -m 700 "$GNUPGHOME" "$T/gnupg2"
gpg -q --batch --passphrase '' --quick-gen-key 'patchlab test archive <a@patchlab.invalid>' \
  ed25519 sign never 2>/dev/null
gpg -q --batch --export >"$T/archive.gpg"
gpg -q --batch --armor --export >"$T/archive.asc"
GNUPGHOME=$T/gnupg2 gpg -q --batch --passphrase '' \
  --quick-gen-key 'someone else <b@patchlab.invalid>' ed25519 sign never 2>/dev/null
GNUPGHOME=$T/gnupg2 gpg -q --batch --export >"$T/other.gpg"

# ---- the repository -----------------------------------------------------------------
BASE=$(( $(date +%s) - 3 * 86400 ))
STEP=0
rfc2822() { date -u -d "@$1" '+%a, %d %b %Y %H:%M:%S UTC'; }

mkdeb() { # NAME VERSION
  local d=$T/build/$1-$2
  mkdir -p "$d/DEBIAN" "$d/usr/share/doc/$1" "$W/pool/main/${1:0:1}/$1"
  printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: t <t@patchlab.invalid>\nDescription: test package %s\n' \
    "$1" "$2" "$1" >"$d/DEBIAN/control"
  echo "$1 $2" >"$d/usr/share/doc/$1/README"
  dpkg-deb --root-owner-group -Zxz --build "$d" "$W/pool/main/${1:0:1}/$1/${1}_${2}_amd64.deb" \
    >/dev/null || { echo "dpkg-deb failed" >&2; exit 1; }
}

packages() { # writes Packages, .gz and .xz from the pool
  local dir=$W/dists/$S/main/binary-amd64 f
  mkdir -p "$dir"
  : >"$dir/Packages"
  for f in $(cd "$W" && find pool -name '*.deb' | sort); do
    dpkg-deb -f "$W/$f" Package Version Architecture Maintainer >>"$dir/Packages"
    printf 'Filename: %s\nSize: %s\nSHA256: %s\nDescription: test\n\n' "$f" \
      "$(stat -c %s "$W/$f")" "$(sha256sum <"$W/$f" | cut -d' ' -f1)" >>"$dir/Packages"
  done
  gzip -9nc "$dir/Packages" >"$dir/Packages.gz"
  xz -c "$dir/Packages" >"$dir/Packages.xz"
}

# release [DATE [VALID_UNTIL [SUITE]]]: Release listing what is there, signed
# both ways; by default each call is a minute newer than the last.
release() {
  STEP=$((STEP + 60))
  local date=${1:-$((BASE + STEP))} until=${2:-$((BASE + STEP + 7 * 86400))} suite=${3:-$S}
  local d=$W/dists/$S f
  {
    printf 'Origin: patchlab\nLabel: test\nSuite: %s\nCodename: %s\n' "$suite" "$suite"
    printf 'Date: %s\nValid-Until: %s\n' "$(rfc2822 "$date")" "$(rfc2822 "$until")"
    printf 'Architectures: amd64\nComponents: main\nDescription: test archive\nSHA256:\n'
    for f in $(cd "$d" && find main -type f | sort); do
      printf ' %s %8s %s\n' "$(sha256sum <"$d/$f" | cut -d' ' -f1)" "$(stat -c %s "$d/$f")" "$f"
    done
  } >"$d/Release"
  rm -f "$d/InRelease" "$d/Release.gpg"
  gpg -q --batch --yes --clearsign -o "$d/InRelease" "$d/Release"
  gpg -q --batch --yes --armor --detach-sign -o "$d/Release.gpg" "$d/Release"
}

mkdeb hello 1.0-1
mkdeb world 2.0-1
packages
release
httpd_start "$T/www"
URL=$HTTPD_URL/debian
PX=$W/dists/$S/main/binary-amd64/Packages.xz

snapshot() { # the repo rows and files, for "nothing changed"
  sqlite3 "$DB" "SELECT * FROM repo_releases ORDER BY 1, 2; SELECT * FROM repo_indexes ORDER BY 1, 2, 3, 4; SELECT count(*) FROM repo_syncs; SELECT * FROM repos ORDER BY 1;"
  (cd "$PATCHLAB_STATE/repos" && find . -type f ! -name .lock | sort | xargs -r sha256sum)
}
unchanged() { # NAME: the state equals $T/snap
  if snapshot | cmp -s - "$T/snap"; then ok; else not_ok "$1: the repository state changed"; fi
}
flip() { # FILE OFFSET: one byte changed, same size
  /usr/bin/python3 -c 'import sys; p, o = sys.argv[1], int(sys.argv[2]); b = bytearray(open(p, "rb").read()); b[o] ^= 0x55; open(p, "wb").write(b)' "$1" "$2"
}

# ---- add: bad input is exit 2 and writes nothing -----------------------------------------
expect init 0 -- "$PATCHLAB" init
A=(--suite $S --component main --arch amd64 --keyring "$T/archive.gpg")
expect add-ftp 2 -- "$PATCHLAB" repo add x --url ftp://127.0.0.1/debian "${A[@]}"
stderr_has add-ftp "--url: URL 'ftp://127.0.0.1/debian': only http, https and file"
expect add-no-host 2 -- "$PATCHLAB" repo add x --url http:///debian "${A[@]}"
stderr_has add-no-host "no host"
expect add-dotdot 2 -- "$PATCHLAB" repo add x --url "$URL" --suite ../etc --component main
stderr_has add-dotdot "--suite '../etc'"
expect add-flat 2 -- "$PATCHLAB" repo add x --url "$URL" --suite ./ --component main
stderr_has add-flat "flat repositories"
expect add-name 2 -- "$PATCHLAB" repo add 'Bad Name' --url "$URL" "${A[@]}"
stderr_has add-name "repository name 'Bad Name'"
expect add-no-comp 2 -- "$PATCHLAB" repo add x --url "$URL" --suite $S
stderr_has add-no-comp "at least one --component"
expect add-no-suite 2 -- "$PATCHLAB" repo add x --url "$URL" --component main
stderr_has add-no-suite "at least one --suite"
expect add-keyring 2 -- "$PATCHLAB" repo add x --url "$URL" --suite $S --component main \
  --keyring "$T/none.gpg"
stderr_has add-keyring "$T/none.gpg"
expect add-arch 2 -- "$PATCHLAB" repo add x --url "$URL" --suite $S --component main --arch 'AMD 64'
expect add-both 2 -- "$PATCHLAB" repo add x --from-apt-sources --url "$URL"
expect add-dup-suite 2 -- "$PATCHLAB" repo add x --url "$URL" --suite $S --suite $S --component main
stderr_has add-dup-suite "given twice"
if [ "$(sqlite3 "$DB" 'SELECT count(*) FROM repos')" = 0 ]; then ok; else not_ok "bad adds wrote rows"; fi

expect add 0 -- "$PATCHLAB" repo add test --url "$URL/" "${A[@]}"
expect add-again 2 -- "$PATCHLAB" repo add test --url "$URL" "${A[@]}"
stderr_has add-again "exists already"
expect list 0 -- "$PATCHLAB" repo list
"$PATCHLAB" repo list | grep -q "^test  *$URL  *$S " && ok || not_ok "list lacks test"

# ---- sync, then again: 304 ------------------------------------------------------------------
expect sync 0 -- "$PATCHLAB" repo sync test
"$PATCHLAB" repo sync test --format json >"$T/s2.json" 2>"$T/err" || not_ok "sync json failed"
/usr/bin/python3 - "$T/s2.json" <<'EOF' && ok || not_ok "second sync is not all 'not modified'"
import json, sys
j = json.load(open(sys.argv[1]))
r = j["repos"][0]
assert j["failed"] == [] and r["fetched"] == 0 and r["not_modified"] == 2, j
assert r["suites"][0]["release"] == "not-modified", r
assert r["suites"][0]["indexes"][0]["name"] == "main/binary-amd64/Packages.xz", r
EOF
[ "$(httpd_count "^GET /debian/dists/$S/InRelease 304 inm=1")" = 1 ] && ok || not_ok "no conditional 304"
[ "$(httpd_count 'Packages')" = 1 ] && ok || not_ok "Packages fetched more than once"
"$PATCHLAB" repo show test --format json >"$T/show.json"
/usr/bin/python3 - "$T/show.json" "$PATCHLAB_STATE" <<'EOF' && ok || not_ok "show"
import json, sys, hashlib
j = json.load(open(sys.argv[1]))
ix = j["indexes"]
assert len(ix) == 1 and ix[0]["arch"] == "amd64" and ix[0]["component"] == "main", ix
assert ix[0]["path"].startswith(sys.argv[2] + "/repos/test/by-hash/"), ix
assert hashlib.sha256(open(ix[0]["path"], "rb").read()).hexdigest() == ix[0]["sha256"]
rel = j["releases"][0]
assert rel["file"] == "InRelease" and rel["codename"] == "pltest" and rel["signers"], rel
assert len(j["syncs"]) == 2, j["syncs"]
EOF
expect show-text 0 -- "$PATCHLAB" repo show test
snapshot >"$T/snap"
cp -a "$W" "$T/good"
restore() { rm -rf "$W" && cp -a "$T/good" "$W"; }

# ---- refused syncs: nothing changes ---------------------------------------------------------------
sed -i 's/^Label: test/Label: evil/' "$W/dists/$S/InRelease"
expect bad-signature 2 -- "$PATCHLAB" repo sync test
stderr_has bad-signature "InRelease: BAD signature"
unchanged bad-signature
restore

expect add-wrongkey 0 -- "$PATCHLAB" repo add wrongkey --url "$URL" --suite $S --component main \
  --arch amd64 --keyring "$T/other.gpg"
expect wrong-key 2 -- "$PATCHLAB" repo sync wrongkey
stderr_has wrong-key "which is not in keyring $T/other.gpg"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM repo_releases r JOIN repos p ON p.id = r.repo_id WHERE p.name = 'wrongkey'")" = 0 ] &&
  ok || not_ok "wrong key wrote rows"
expect remove-wrongkey 0 -- "$PATCHLAB" repo remove wrongkey
snapshot >"$T/snap"

release $((BASE + 86400)) $((BASE + 86400 + 3600))
expect expired 2 -- "$PATCHLAB" repo sync test
stderr_has expired "Valid-Until: "
stderr_has expired "the Release expired"
unchanged expired
restore

# the stored Release expires too: a 304 is no excuse
PATCHLAB_NOW=$((BASE + 30 * 86400)) expect expired-304 2 -- "$PATCHLAB" repo sync test
stderr_has expired-304 "the Release expired"
unchanged expired-304

release $((BASE - 86400))
expect replay 2 -- "$PATCHLAB" repo sync test
stderr_has replay "is older than the synced Release"
unchanged replay
restore

release "" "" bookworm
expect other-suite 2 -- "$PATCHLAB" repo sync test
stderr_has other-suite "are not '$S': the Release of another suite"
unchanged other-suite
restore

mkdeb extra 3.0-1
packages
release
flip "$PX" 40
expect hash-mismatch 2 -- "$PATCHLAB" repo sync test
stderr_has hash-mismatch "Packages.xz: SHA-256 "
stderr_has hash-mismatch "is not the"
unchanged hash-mismatch

release
truncate -s -12 "$PX"
expect truncated-file 2 -- "$PATCHLAB" repo sync test
stderr_has truncated-file "bytes, the verified Release says"
unchanged truncated-file

release
echo junk >>"$PX"
expect larger-file 2 -- "$PATCHLAB" repo sync test
stderr_has larger-file "the size the verified Release lists"
unchanged larger-file

packages
release
httpd_control "{\"/debian/dists/$S/main/binary-amd64/Packages.xz\": {\"truncate\": 20}}"
expect truncated-transfer 3 -- "$PATCHLAB" repo sync test --retries 1
stderr_has truncated-transfer "truncated"
stderr_has truncated-transfer "(2 attempts)"
unchanged truncated-transfer
httpd_control '{}'

gzip -9nc "$W/dists/$S/main/binary-amd64/Packages" >"$PX"
release
expect wrong-compression 2 -- "$PATCHLAB" repo sync test
stderr_has wrong-compression "Packages.xz: the name says xz, the content is gzip"
unchanged wrong-compression

printf 'Package: broken\nArchitecture: amd64\n\n' >"$W/dists/$S/main/binary-amd64/Packages"
xz -c "$W/dists/$S/main/binary-amd64/Packages" >"$PX"
gzip -9nc "$W/dists/$S/main/binary-amd64/Packages" >"$W/dists/$S/main/binary-amd64/Packages.gz"
release
expect bad-syntax 2 -- "$PATCHLAB" repo sync test
stderr_has bad-syntax "Packages.xz:1: a stanza without Version"
unchanged bad-syntax

printf '\xff\xfe\n' >"$W/dists/$S/main/binary-amd64/Packages"
xz -c "$W/dists/$S/main/binary-amd64/Packages" >"$PX"
rm -f "$W/dists/$S/main/binary-amd64/Packages.gz"
release
expect not-utf8 2 -- "$PATCHLAB" repo sync test
stderr_has not-utf8 "invalid UTF-8"
unchanged not-utf8

mv "$W/dists/$S/main/binary-amd64" "$W/dists/$S/main/binary-i386"
release
expect no-index 2 -- "$PATCHLAB" repo sync test
stderr_has no-index "lists no main/binary-amd64/Packages index"
unchanged no-index
restore

expect locked 2 -- flock "$PATCHLAB_STATE/repos/test/.lock" "$PATCHLAB" repo sync test
stderr_has locked "is being synced by another process"
unchanged locked

# ---- changes that are accepted ----------------------------------------------------------------------
httpd_control "{\"/debian/dists/$S/InRelease\": {\"fail\": 2, \"status\": 503}}"
packages
release
expect retried 0 -- "$PATCHLAB" repo sync test
[ "$(httpd_count "^GET /debian/dists/$S/InRelease 503")" = 2 ] && ok || not_ok "no 503 retries"
httpd_control '{}'
[ "$(ls "$PATCHLAB_STATE/repos/test/by-hash" | wc -l)" = 2 ] && ok ||
  not_ok "by-hash keeps files no row names: $(ls "$PATCHLAB_STATE/repos/test/by-hash")"
ls "$PATCHLAB_STATE/repos/test" | grep -q staging && not_ok "staging left" || ok

# Release + Release.gpg when there is no InRelease
release
rm "$W/dists/$S/InRelease"
expect detached 0 -- "$PATCHLAB" repo sync test
[ "$("$PATCHLAB" repo show test --format json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["releases"][0]["file"])')" = Release ] &&
  ok || not_ok "not synced from Release"
snapshot >"$T/snap"
sed -i 's/^Label: test/Label: evil/' "$W/dists/$S/Release"
expect detached-bad 2 -- "$PATCHLAB" repo sync test
stderr_has detached-bad "Release.gpg: BAD signature"
unchanged detached-bad
release

# an ASCII-armored keyring
expect add-asc 0 -- "$PATCHLAB" repo add asc --url "$URL" --suite $S --component main --arch amd64 \
  --keyring "$T/archive.asc"
expect sync-asc 0 -- "$PATCHLAB" repo sync asc

# from the apt sources under $PATCHLAB_APT_ROOT
mkdir -p "$T/apt/etc/apt/sources.list.d"
printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' "$URL" "$S" \
  "$T/archive.gpg" >"$T/apt/etc/apt/sources.list.d/test.sources"
PATCHLAB_APT_ROOT=$T/apt expect add-apt 0 -- "$PATCHLAB" repo add fromapt --from-apt-sources \
  --suite $S --arch amd64
PATCHLAB_APT_ROOT=$T/apt expect add-apt-nosuite 2 -- "$PATCHLAB" repo add x --from-apt-sources \
  --suite sid
stderr_has add-apt-nosuite "no enabled 'deb' source for suite 'sid'"
# bad apt sources: the file and line, exit 2, nothing written
mkdir -p "$T/apt-bad/etc/apt/sources.list.d"
printf 'deb %s\n' "$URL" >"$T/apt-bad/etc/apt/sources.list"
PATCHLAB_APT_ROOT=$T/apt-bad expect apt-bad-line 2 -- "$PATCHLAB" repo add y --from-apt-sources
stderr_has apt-bad-line "$T/apt-bad/etc/apt/sources.list:1: expected a URI and a suite"
printf 'Types: deb\nURIs: %s\nSuites: caf\xe9\n' "$URL" >"$T/apt-bad/etc/apt/sources.list.d/x.sources"
printf 'deb %s %s main\n' "$URL" $S >"$T/apt-bad/etc/apt/sources.list"
PATCHLAB_APT_ROOT=$T/apt-bad expect apt-bad-utf8 2 -- "$PATCHLAB" repo add y --from-apt-sources
stderr_has apt-bad-utf8 "x.sources:3: invalid UTF-8"
printf 'Types: deb\nURIs: ftp://%s\nSuites: %s\nComponents: main\n' "${URL#http://}" $S \
  >"$T/apt-bad/etc/apt/sources.list.d/x.sources"
rm "$T/apt-bad/etc/apt/sources.list"
PATCHLAB_APT_ROOT=$T/apt-bad expect apt-bad-uri 2 -- "$PATCHLAB" repo add y --from-apt-sources
stderr_has apt-bad-uri "x.sources:1: URL 'ftp://"
printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n xx\n' \
  "$URL" $S >"$T/apt-bad/etc/apt/sources.list.d/x.sources"
PATCHLAB_APT_ROOT=$T/apt-bad expect apt-inline-key 2 -- "$PATCHLAB" repo add y --from-apt-sources
stderr_has apt-inline-key "x.sources:1: Signed-By is not one keyring path"
PATCHLAB_APT_ROOT=$T/apt-bad expect apt-inline-key-override 0 -- "$PATCHLAB" repo add y \
  --from-apt-sources --keyring "$T/archive.gpg" --arch amd64
expect remove-y 0 -- "$PATCHLAB" repo remove y
[ "$(sqlite3 "$DB" "SELECT count(*) FROM repos WHERE name = 'y'")" = 0 ] && ok || not_ok "y left"
[ "$("$PATCHLAB" repo show fromapt --format json | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["origin"], j["keyring"], j["components"][0])')" = "apt-sources $T/archive.gpg main" ] &&
  ok || not_ok "apt source not taken"
expect sync-all 0 -- "$PATCHLAB" repo sync
expect sync-unknown 2 -- "$PATCHLAB" repo sync nope
stderr_has sync-unknown "no repository named 'nope'"

# ---- .deb downloads, verified ----------------------------------------------------------------------------
mkdir "$T/dl" "$T/dl2"
DEB=$W/pool/main/h/hello/hello_1.0-1_amd64.deb
expect download 0 -- "$PATCHLAB" repo download hello 1.0-1 --arch amd64 --repo test --dest "$T/dl"
cmp -s "$DEB" "$T/dl/hello_1.0-1_amd64.deb" && ok || not_ok "downloaded .deb differs"
n=$(httpd_count 'hello_1.0-1')
expect download-cached 0 -- "$PATCHLAB" repo download hello 0:1.0-1 --arch amd64 --dest "$T/dl"
[ "$(httpd_count 'hello_1.0-1')" = "$n" ] && ok || not_ok "a verified .deb was fetched again"
expect download-unknown 2 -- "$PATCHLAB" repo download hello 9.9 --arch amd64 --dest "$T/dl2"
stderr_has download-unknown "hello 9.9 (amd64) is in no synced index"
cp "$DEB" "$T/hello.orig"
flip "$DEB" 200
expect download-tampered 2 -- "$PATCHLAB" repo download hello 1.0-1 --arch amd64 --repo test --dest "$T/dl2"
stderr_has download-tampered "is not the"
stderr_has download-tampered "(not kept)"
[ -z "$(ls -A "$T/dl2")" ] && ok || not_ok "a tampered .deb was kept: $(ls -A "$T/dl2")"
cp "$T/hello.orig" "$DEB"
echo more >>"$DEB"
expect download-larger 2 -- "$PATCHLAB" repo download hello 1.0-1 --arch amd64 --repo test --dest "$T/dl2"
stderr_has download-larger "larger than the"
[ -z "$(ls -A "$T/dl2")" ] && ok || not_ok "a larger .deb was kept"

# ---- remove -------------------------------------------------------------------------------------------------
expect remove 0 -- "$PATCHLAB" repo remove fromapt
[ -e "$PATCHLAB_STATE/repos/fromapt" ] && not_ok "files of a removed repo left" || ok
[ "$(sqlite3 "$DB" 'SELECT count(*) FROM repo_indexes i JOIN repos r ON r.id = i.repo_id')" = 2 ] &&
  ok || not_ok "rows of a removed repo left"
expect remove-unknown 2 -- "$PATCHLAB" repo remove fromapt
finish
