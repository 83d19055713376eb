#!/bin/bash
# The real thing: the security suite from this machine's own apt sources,
# synced from its mirror and verified with Debian's archive keyring; a
# second sync is all "not modified"; the synced index feeds 'scan'; one
# .deb it lists is downloaded and verified. Skips (77) when the mirror
# does not answer within 10 s or the system has no such source.
. "$(dirname "$0")/../lib.sh"
SUITE=${PL_MIRROR_SUITE:-bookworm-security}
command -v gpgv >/dev/null || { echo "no gpgv: skipped"; exit 77; }
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || { echo "no Debian keyring: skipped"; exit 77; }

expect init 0 -- "$PATCHLAB" init
"$PATCHLAB" repo add debian-security --from-apt-sources --suite "$SUITE" >"$T/add" 2>"$T/err" || {
  echo "no apt source for $SUITE here: skipped ($(cat "$T/err"))"
  exit 77
}
URI=$("$PATCHLAB" repo show debian-security --format json |
  /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["uri"])')
/usr/bin/python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10).read()' \
  "$URI/dists/$SUITE/InRelease" 2>/dev/null ||
  { echo "mirror $URI does not answer within 10 s: skipped"; exit 77; }

expect sync 0 -- timeout 900 "$PATCHLAB" repo sync debian-security --format json
"$PATCHLAB" repo show debian-security --format json >"$T/show.json"
"$PATCHLAB" repo sync debian-security --format json >"$T/again.json" 2>"$T/err" || not_ok "second sync"
/usr/bin/python3 - "$T/show.json" "$T/again.json" <<'EOF' >"$T/pick" && ok || not_ok "synced state: $(cat "$T/pick")"
import json, sys
show, again = (json.load(open(p)) for p in sys.argv[1:3])
rel = show["releases"][0]
assert rel["file"] == "InRelease" and rel["signers"] and rel["valid_until"], rel
ix = show["indexes"]
assert ix and all(x["name"].endswith("/Packages.xz") for x in ix), ix
r = again["repos"][0]
assert r["fetched"] == 0 and r["not_modified"] == 1 + len(ix), r
print(ix[0]["path"])
EOF
PKGS=$(head -1 "$T/pick")
# the verified index is what 'scan' reads
expect scan 0 -- "$PATCHLAB" scan --dpkg-status /var/lib/dpkg/status --packages "$PKGS" --format json

# one .deb of the index, downloaded and checked
read -r name version arch < <(xz -dc "$PKGS" | awk '/^Package: /{p=$2} /^Version: /{v=$2}
  /^Architecture: /{a=$2} /^Size: /{if ($2 < 200000 && p != "") {print p, v, a; exit}}')
if [ -n "$name" ]; then
  mkdir "$T/dl"
  expect download 0 -- "$PATCHLAB" repo download "$name" "$version" --arch "$arch" --dest "$T/dl"
  dpkg-deb -f "$T/dl/"*.deb Package | grep -qx "$name" && ok || not_ok "downloaded .deb is not $name"
else
  not_ok "no small package in $PKGS"
fi
finish
