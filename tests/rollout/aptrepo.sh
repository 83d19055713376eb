#!/bin/bash
# 'patchlab publish' against real apt: a gpg key made here, .debs built with
# dpkg-deb, an approved candidate published into a wave repository served by
# tests/net/httpd.py on 127.0.0.1, and apt-get itself (in a private root made
# of -o options: the system's lists, caches, keys and sources are never read
# or written) runs 'update' with the repository's Signed-By keyring: it must
# succeed, and FAIL when the InRelease is tampered with or signed by another
# key. Then a second generation, a rollback (the previous version is the
# candidate again), patchlab's own 'repo sync' against the same repository,
# and the refusals (not approved, wrong key, bad options, a pool file of the
# same name with other content, the lock) that leave everything as it was.
. "$(dirname "$0")/../lib.sh"
. "$PL_SRC/tests/net/httpd.sh"
for p in gpg gpgv gpgconf dpkg-deb apt-get apt-cache sqlite3 flock; do
  command -v $p >/dev/null || { echo "no $p: skipped"; exit 77; }
done
export LC_ALL=C
DB=$PATCHLAB_STATE/patchlab.db
R=$T/www/wave   # the repository the wave's hosts point at
S=pl-canary
ARCH=$(dpkg --print-architecture)

# ---- keys ----------------------------------------------------------------------------
export GNUPGHOME=$T/gnupg
G2=$T/gnupg2
mkdir -m 700 "$GNUPGHOME" "$G2"
gpg -q --batch --passphrase '' --quick-gen-key 'patchlab wave key <w@patchlab.invalid>' \
  ed25519 sign never 2>/dev/null
KEY=$(gpg --batch --with-colons --list-secret-keys | awk -F: '/^fpr/ {print $10; exit}')
GNUPGHOME=$G2 gpg -q --batch --passphrase '' --quick-gen-key 'someone else <x@patchlab.invalid>' \
  ed25519 sign never 2>/dev/null
GNUPGHOME=$G2 gpg -q --batch --export >"$T/other.gpg"
trap 'httpd_stop; gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null;
  gpgconf --homedir "$G2" --kill gpg-agent 2>/dev/null; rm -rf "$T"' EXIT

# ---- packages --------------------------------------------------------------------------
mkdeb() { # NAME VERSION [ARCH]
  local d=$T/build/$1-$2 a=${3:-$ARCH}
  mkdir -p "$d/DEBIAN" "$d/usr/share/doc/$1"
  printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: t <t@patchlab.invalid>\nDescription: test package %s\n multi-line description\n .\n second paragraph\n' \
    "$1" "$2" "$a" "$1" >"$d/DEBIAN/control"
  echo "$1 $2" >"$d/usr/share/doc/$1/README"
  dpkg-deb --root-owner-group -Zxz --build "$d" "$T/${1}_${2}_$a.deb" >/dev/null ||
    { echo "dpkg-deb failed" >&2; exit 1; }
}
mkdeb hello 1.0-1
mkdeb world 2.0-1 all
mkdeb hello 1.1-1
approve() { # NAME: the test helper for a candidate the CAB approved (the lab is not run here)
  sqlite3 "$DB" "UPDATE candidates SET state = 'approved' WHERE name = '$1'"
}
expect init 0 -- "$PATCHLAB" init
expect cand1 0 -- "$PATCHLAB" candidate create c1 --deb "$T/hello_1.0-1_$ARCH.deb" \
  --deb "$T/world_2.0-1_all.deb"
expect cand2 0 -- "$PATCHLAB" candidate create c2 --deb "$T/hello_1.1-1_$ARCH.deb" \
  --deb "$T/world_2.0-1_all.deb"

P=(--dir "$R" --suite $S --key "$KEY")
snapshot() { (cd "$T/www" 2>/dev/null && find . -printf '%p %y %l\n' | sort && find . -type f | sort | xargs -r sha256sum); }

# ---- refused before anything is written ---------------------------------------------------
expect not-approved 2 -- "$PATCHLAB" publish wave --candidate c1 "${P[@]}"
stderr_has not-approved "candidate 'c1' is new, not approved"
[ ! -e "$R/dists" ] && ok || not_ok "a refused publish wrote dists"
approve c1
approve c2
expect no-key 2 -- "$PATCHLAB" publish wave --candidate c1 --dir "$R" --suite $S
stderr_has no-key "--key"
expect bad-suite 2 -- "$PATCHLAB" publish wave --candidate c1 --dir "$R" --suite 'a/b' --key "$KEY"
stderr_has bad-suite "--suite 'a/b'"
expect bad-arch 2 -- "$PATCHLAB" publish wave --candidate c1 "${P[@]}" --arch all
expect bad-keep 2 -- "$PATCHLAB" publish wave --candidate c1 "${P[@]}" --keep 1
expect unknown-cand 2 -- "$PATCHLAB" publish wave --candidate nope "${P[@]}"
expect wrong-key 2 -- "$PATCHLAB" publish wave --candidate c1 "${P[@]}" --gnupghome "$G2"
stderr_has wrong-key "no secret key"
[ ! -e "$R/dists" ] && [ -z "$(ls "$R/generations" 2>/dev/null)" ] && [ -z "$(ls "$R/pool" 2>/dev/null)" ] &&
  ok || not_ok "a refused publish left files: $(cd "$R" && find . | head)"
expect rollback-nothing 2 -- "$PATCHLAB" publish rollback --dir "$R"

# ---- generation 1 ---------------------------------------------------------------------------
expect publish1 0 -- "$PATCHLAB" publish wave --candidate c1 --wave canary "${P[@]}" --valid-days 7
[ "$(readlink "$R/dists")" = generations/000001/dists ] && ok || not_ok "dists -> $(readlink "$R/dists")"
D=$R/dists/$S
for f in InRelease Release Release.gpg main/binary-$ARCH/Packages main/binary-$ARCH/Packages.gz \
  main/binary-$ARCH/Packages.xz; do
  [ -s "$D/$f" ] && ok || not_ok "no $f"
done
grep -q "^Valid-Until: " "$D/Release" && grep -q "^Acquire-By-Hash: yes" "$D/Release" &&
  grep -q "^Architectures: $ARCH\$" "$D/Release" && ok || not_ok "Release fields: $(cat "$D/Release")"
gpgv --keyring "$R/keyring.gpg" "$D/InRelease" 2>/dev/null && ok || not_ok "gpgv refuses InRelease"
cmp -s <(zcat "$D/main/binary-$ARCH/Packages.gz") "$D/main/binary-$ARCH/Packages" &&
  cmp -s <(xz -dc "$D/main/binary-$ARCH/Packages.xz") "$D/main/binary-$ARCH/Packages" &&
  ok || not_ok "compressed indexes differ"
# the stanza: control fields as they were, ours, Description last with its paragraphs
/usr/bin/python3 - "$D/main/binary-$ARCH/Packages" "$R" <<'EOF' && ok || not_ok "Packages stanzas"
import hashlib, os, sys
text = open(sys.argv[1]).read()
st = [dict() for _ in text.strip().split("\n\n")]
for i, blk in enumerate(text.strip().split("\n\n")):
    key = None
    for line in blk.split("\n"):
        if line[0] in " \t":
            st[i][key] += "\n" + line
        else:
            key, _, v = line.partition(": ")
            st[i][key] = v
    assert list(st[i])[-1] == "Description", st[i]
names = [s["Package"] for s in st]
assert names == ["hello", "world"], names
for s in st:
    f = os.path.join(sys.argv[2], s["Filename"])
    assert s["Filename"].startswith("pool/main/"), s
    assert hashlib.sha256(open(f, "rb").read()).hexdigest() == s["SHA256"], s
    assert os.path.getsize(f) == int(s["Size"]), s
    assert s["Description"].endswith("\n .\n second paragraph"), repr(s["Description"])
EOF

# ---- real apt against it -----------------------------------------------------------------------
httpd_start "$T/www"
URL=$HTTPD_URL/wave
A=$T/apt
mkdir -p "$A/state/lists/partial" "$A/cache/archives/partial" "$A/etc/sources.list.d" \
  "$A/etc/trusted.gpg.d" "$A/etc/preferences.d" "$A/etc/apt.conf.d" "$A/dl"
: >"$A/status"
cat >"$A/apt.conf" <<EOF
Dir "$A/";
Dir::State "$A/state/";
Dir::State::status "$A/status";
Dir::Cache "$A/cache/";
Dir::Etc "$A/etc/";
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$A/etc/sources.list.d/";
Dir::Etc::Trusted "/dev/null";
Dir::Etc::TrustedParts "$A/etc/trusted.gpg.d/";
Dir::Etc::Parts "$A/etc/apt.conf.d/";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$A/etc/preferences.d/";
Dir::Log "$A/";
APT::Architecture "$ARCH";
APT::Sandbox::User "root";
Debug::NoLocking "true";
Acquire::Languages "none";
Acquire::http::Proxy "DIRECT";
EOF
export APT_CONFIG=$A/apt.conf
printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
  "$URL" $S "$R/keyring.gpg" >"$A/etc/sources.list.d/wave.sources"
candidate() { apt-cache policy "$1" | awk '/Candidate:/ {print $2}'; }
# --error-on=any: a refused signature is a warning otherwise (apt keeps the
# lists it had and says so), and the test wants to see the refusal
aptup() { apt-get -q update --error-on=any >"$T/apt.out" 2>&1; }

if aptup && ! grep -q '^[WE]:' "$T/apt.out"; then ok; else not_ok "apt-get update: $(cat "$T/apt.out")"; fi
[ "$(candidate hello)" = 1.0-1 ] && ok || not_ok "candidate hello '$(candidate hello)', expected 1.0-1"
[ "$(candidate world)" = 2.0-1 ] && ok || not_ok "candidate world '$(candidate world)'"
(cd "$A/dl" && apt-get -q download hello=1.0-1 >/dev/null 2>"$T/dl.err") &&
  cmp -s "$A/dl/hello_1.0-1_$ARCH.deb" "$T/hello_1.0-1_$ARCH.deb" && ok ||
  not_ok "apt-get download: $(cat "$T/dl.err")"

# tampered with: one hash in the signed text changed -> apt refuses, keeps what it had
cp -p "$D/InRelease" "$T/InRelease.good"
d0=$(stat -c %Y "$D/InRelease")
/usr/bin/python3 - "$D/InRelease" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"^ ([0-9a-f])", t, re.M)
t = t[:m.start(1)] + ("0" if m.group(1) != "0" else "1") + t[m.end(1):]
open(sys.argv[1], "w").write(t)
EOF
cmp -s "$D/InRelease" "$T/InRelease.good" && not_ok "the tamper changed nothing"
# newer than what apt has (Last-Modified is the Release Date): no 304
newer() { touch -d "@$((d0 + $1))" "$D/InRelease"; }
newer 1
if aptup; then not_ok "apt-get update accepted a tampered InRelease"; else ok; fi
grep -q 'BADSIG' "$T/apt.out" && ok || not_ok "apt's message: $(cat "$T/apt.out")"
[ "$(candidate hello)" = 1.0-1 ] && ok || not_ok "after the refused update: '$(candidate hello)'"
# signed by another key -> refused as well
GNUPGHOME=$G2 gpg -q --batch --yes --clearsign -o "$D/InRelease" "$D/Release"
newer 2
if aptup; then not_ok "apt-get update accepted another key's signature"; else ok; fi
grep -q 'NO_PUBKEY' "$T/apt.out" && ok || not_ok "apt's message: $(cat "$T/apt.out")"
cp -p "$T/InRelease.good" "$D/InRelease"
aptup && ok || not_ok "apt-get update after the restore: $(cat "$T/apt.out")"

# ---- generation 2: the next candidate; 3: rollback ------------------------------------------------
expect publish2 0 -- "$PATCHLAB" publish wave --candidate c2 --wave canary "${P[@]}" --format json
[ "$(readlink "$R/dists")" = generations/000002/dists ] && ok || not_ok "dists -> $(readlink "$R/dists")"
# the previous generation's indexes stay reachable by hash
for h in $(sha256sum "$R/generations/000001/dists/$S/main/binary-$ARCH/Packages"* | cut -d' ' -f1); do
  [ -e "$D/main/binary-$ARCH/by-hash/SHA256/$h" ] && ok || not_ok "generation 1's index $h not in by-hash"
done
aptup && ok || not_ok "apt-get update (2): $(cat "$T/apt.out")"
[ "$(candidate hello)" = 1.1-1 ] && ok || not_ok "candidate hello '$(candidate hello)', expected 1.1-1"

expect rollback 0 -- "$PATCHLAB" publish rollback --dir "$R"
[ "$(readlink "$R/dists")" = generations/000003/dists ] && ok || not_ok "dists -> $(readlink "$R/dists")"
cmp -s "$R/generations/000001/dists/$S/main/binary-$ARCH/Packages.xz" "$D/main/binary-$ARCH/Packages.xz" &&
  ok || not_ok "the rollback's index is not generation 1's"
d1=$(sed -n 's/^Date: //p' "$R/generations/000002/dists/$S/Release")
d3=$(sed -n 's/^Date: //p' "$D/Release")
[ "$(date -d "$d3" +%s)" -gt "$(date -d "$d1" +%s)" ] && ok || not_ok "rollback Date $d3 not after $d1"
aptup && ok || not_ok "apt-get update (rollback): $(cat "$T/apt.out")"
[ "$(candidate hello)" = 1.0-1 ] && ok || not_ok "after rollback: candidate hello '$(candidate hello)', expected 1.0-1: $(cat "$T/apt.out"; apt-cache policy hello; cat $D/Release)"
"$PATCHLAB" publish show --dir "$R" --format json >"$T/show.json" 2>"$T/err" || not_ok "show"
/usr/bin/python3 - "$T/show.json" <<'EOF' && ok || not_ok "show json: $(cat "$T/show.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["current"] == 3 and j["stack"] == [1], j
assert [g["kind"] for g in j["generations"]] == ["publish", "publish", "rollback"], j
assert {(p["package"], p["version"]) for p in j["packages"]} == {("hello", "1.0-1"), ("world", "2.0-1")}, j
EOF
sqlite3 "$DB" "SELECT action || ' ' || object_kind FROM audit_log WHERE action LIKE 'publish%' ORDER BY seq" >"$T/audit"
[ "$(cat "$T/audit")" = "$(printf 'publish candidate\npublish candidate\npublish-rollback apt-repo')" ] &&
  ok || not_ok "audit entries: $(cat "$T/audit")"
expect audit-verify 0 -- "$PATCHLAB" audit verify

# rolling back the first publish: the empty state; then nothing is left
expect rollback-empty 0 -- "$PATCHLAB" publish rollback --dir "$R"
[ ! -s "$D/main/binary-$ARCH/Packages" ] && ok || not_ok "the empty state has packages"
aptup && ok || not_ok "apt-get update (empty): $(cat "$T/apt.out")"
[ -z "$(candidate hello)" ] && ok || not_ok "empty: candidate hello '$(candidate hello)'"
snapshot >"$T/snap"
expect rollback-none 2 -- "$PATCHLAB" publish rollback --dir "$R"
stderr_has rollback-none "nothing to roll back"
snapshot | cmp -s - "$T/snap" && ok || not_ok "a refused rollback changed the repository"

# ---- patchlab's own signed sync against it (cross-check of src/repo) ------------------------------
expect publish5 0 -- "$PATCHLAB" publish wave --candidate c2 "${P[@]}"
expect repo-add 0 -- "$PATCHLAB" repo add wave --url "$URL" --suite $S --component main \
  --arch "$ARCH" --keyring "$R/keyring.gpg"
expect repo-sync 0 -- "$PATCHLAB" repo sync wave
expect repo-download 0 -- "$PATCHLAB" repo download hello 1.1-1 --repo wave --dest "$T"
expect repo-add-other 0 -- "$PATCHLAB" repo add other --url "$URL" --suite $S --component main \
  --arch "$ARCH" --keyring "$T/other.gpg"
expect repo-sync-other 2 -- "$PATCHLAB" repo sync other
stderr_has repo-sync-other "not in keyring"

# ---- refusals that leave the repository as it was -------------------------------------------------
snapshot >"$T/snap"
# a pool file of the same name with other content
mkdir -p "$T/evil" && cp -r "$T/build/hello-1.1-1" "$T/evil/h" && echo changed >>"$T/evil/h/usr/share/doc/hello/README"
dpkg-deb --root-owner-group -Zxz --build "$T/evil/h" "$T/evil/hello_1.1-1_$ARCH.deb" >/dev/null
expect cand3 0 -- "$PATCHLAB" candidate create c3 --deb "$T/evil/hello_1.1-1_$ARCH.deb"
approve c3
expect pool-clash 2 -- "$PATCHLAB" publish wave --candidate c3 "${P[@]}"
stderr_has pool-clash "is published already with other content"
snapshot | cmp -s - "$T/snap" && ok || not_ok "a refused publish changed the repository (1): $(snapshot | diff - "$T/snap" | head -5)"
# another suite for the same directory
expect other-suite 2 -- "$PATCHLAB" publish wave --candidate c2 --dir "$R" --suite other --key "$KEY"
stderr_has other-suite "is published as suite '$S'"
# a publish in progress elsewhere holds the lock
flock "$R/.lock" sleep 3 &
fl=$!
sleep 0.5
expect locked 2 -- "$PATCHLAB" publish wave --candidate c2 "${P[@]}"
stderr_has locked "another publish holds the lock"
wait $fl
snapshot | cmp -s - "$T/snap" && ok || not_ok "refused publishes changed the repository"
# a patch store file changed behind patchlab's back: its SHA-256 no longer matches
f=$(sqlite3 "$DB" "SELECT p.path FROM patches p JOIN candidate_patches cp ON cp.patch_id = p.id JOIN candidates c ON c.id = cp.candidate_id WHERE c.name = 'c1' AND p.package = 'hello'")
chmod u+w "$f" && cp "$T/evil/hello_1.1-1_$ARCH.deb" "$f"
expect store-tampered 2 -- "$PATCHLAB" publish wave --candidate c1 "${P[@]}"
stderr_has store-tampered "was expected"
snapshot | cmp -s - "$T/snap" && ok || not_ok "a refused publish changed the repository (2): $(snapshot | diff - "$T/snap" | head -5)"

# ---- keep: old generations and unreferenced pool files are pruned ----------------------------------
for i in 1 2 3; do
  expect "keep-$i" 0 -- "$PATCHLAB" publish wave --candidate c2 "${P[@]}" --keep 2
done
n=$(ls "$R/generations" | wc -l)
[ "$n" -le 3 ] && ok || not_ok "--keep 2 left $n generations: $(ls "$R/generations")"
[ ! -e "$R/pool/main/h/hello/hello_1.0-1_$ARCH.deb" ] && ok || not_ok "hello 1.0-1 still in the pool"
aptup && [ "$(candidate hello)" = 1.1-1 ] && ok || not_ok "apt after pruning: $(cat "$T/apt.out")"

finish
