#!/usr/bin/env bash
# Property: version-compare agrees with `dpkg --compare-versions` on pairs of
# real version strings from this machine's apt lists (Packages indexes).
# Random pairs, pairs of the same package across suites, and neighbours in
# sorted order (where mistakes hide) are all checked. Skips without lists.
. "$(dirname "$0")/../lib.sh"
command -v dpkg >/dev/null || { echo "no dpkg: skipped"; exit 77; }
N=${PL_PROPERTY_PAIRS:-4000}
# apt keeps its lists compressed (lz4 here); apt-helper reads any form.
lists=$(ls /var/lib/apt/lists/*_Packages* 2>/dev/null || true)
[ -n "$lists" ] || { echo "no apt Packages lists here (run apt-get update): skipped"; exit 77; }

# package<TAB>version for every stanza, deduplicated
/usr/lib/apt/apt-helper cat-file $lists | awk '/^Package: /{p=$2} /^Version: /{print p "\t" $2}' | sort -u >"$T/pv"
cut -f2 "$T/pv" | sort -u >"$T/versions"
nv=$(wc -l <"$T/versions")
[ "$nv" -ge 1000 ] || { echo "only $nv versions in the apt lists: skipped"; exit 77; }

{
  # random pairs (fixed seed: a failure is reproducible)
  paste <(shuf -n "$N" --random-source=<(yes) "$T/versions") \
        <(shuf -n "$N" --random-source=<(yes 1) "$T/versions")
  # the same package's versions against each other (suites, security updates)
  awk -F'\t' 'prev == $1 { print pv "\t" $2 } { prev = $1; pv = $2 }' "$T/pv" | head -n "$N"
  # neighbours in byte order: long shared prefixes
  awk 'NR > 1 { print prev "\t" $0 } { prev = $0 }' "$T/versions" | shuf -n "$N" --random-source=<(yes 2)
} >"$T/pairs"
npairs=$(wc -l <"$T/pairs")

"$PATCHLAB" version-compare - <"$T/pairs" >"$T/ours" 2>"$T/warn" || { not_ok "version-compare failed: $(head -3 "$T/warn")"; finish; exit 1; }
[ "$(wc -l <"$T/ours")" -eq "$npairs" ] && ok || not_ok "one answer per pair"

# dpkg answers each pair: lt, then gt; neither means equal
while IFS=$'\t' read -r a b; do
  if dpkg --compare-versions "$a" lt "$b" 2>/dev/null; then echo "<"
  elif dpkg --compare-versions "$a" gt "$b" 2>/dev/null; then echo ">"
  else echo "="; fi
done <"$T/pairs" >"$T/dpkg"

bad=$(paste "$T/pairs" "$T/ours" "$T/dpkg" | awk -F'\t' '$3 != $4' | head -5)
if [ -z "$bad" ]; then ok; else not_ok "disagreements with dpkg (a, b, ours, dpkg): $bad"; fi
echo "checked $npairs pairs from $nv distinct versions against dpkg --compare-versions"
finish
