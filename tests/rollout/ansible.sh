#!/bin/bash
# 'patchlab export ansible', data-driven: each directory under
# tests/data/rollout/ansible/cases/ holds "args" (one argument a line; @T@ is
# the test's directory, @DATA@ tests/data/rollout/ansible) and either the
# expected inventory.yml, playbook.yml and files.txt (the names and SHA-256
# of files/), or "exit" and "stderr" (a text the error must contain) for a
# refusal, which must leave --out as it was. PATCHLAB_TEST_REGENERATE=1
# rewrites the expected files. Every export is also loaded as YAML (python3-
# yaml, !unsafe kept as its text) and its values compared with the inputs,
# and checked with ansible-playbook --syntax-check and ansible-inventory
# when ansible-core is installed (skipped with a note otherwise).
. "$(dirname "$0")/../lib.sh"
for p in dpkg-deb sqlite3; do
  command -v $p >/dev/null || { echo "no $p: skipped"; exit 77; }
done
/usr/bin/python3 -c 'import yaml' 2>/dev/null || { echo "no python3-yaml: skipped"; exit 77; }
export LC_ALL=C
DATA=$PL_TEST_DATA/rollout/ansible
DB=$PATCHLAB_STATE/patchlab.db

# reproducible .debs: the same bytes, so the same SHA-256, on every run
export SOURCE_DATE_EPOCH=1767225600
mkdeb() { # NAME VERSION ARCH
  local d=$T/build/$1-$2
  mkdir -p "$d/DEBIAN" "$d/usr/share/doc/$1"
  printf 'Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: t <t@patchlab.invalid>\nDescription: test package %s\n' \
    "$1" "$2" "$3" "$1" >"$d/DEBIAN/control"
  echo "$1 $2" >"$d/usr/share/doc/$1/README"
  touch -d "@$SOURCE_DATE_EPOCH" "$d/DEBIAN/control" "$d/usr/share/doc/$1/README"
  dpkg-deb --root-owner-group -Zxz --build "$d" "$T/${1}_${2}_$3.deb" >/dev/null ||
    { echo "dpkg-deb failed" >&2; exit 1; }
}
mkdeb hello 1:1.0-1+deb12u1 amd64
mkdeb world 2.0-1 all
expect init 0 -- "$PATCHLAB" init
expect hosts 0 -- "$PATCHLAB" inventory import "$DATA/hosts.json"
expect c0 0 -- "$PATCHLAB" candidate create c0 --deb "$T/world_2.0-1_all.deb"
expect c1 0 -- "$PATCHLAB" candidate create c1 --deb "$T/hello_1:1.0-1+deb12u1_amd64.deb" \
  --deb "$T/world_2.0-1_all.deb"
# the test helper for a candidate the CAB approved (no lab run here)
sqlite3 "$DB" "UPDATE candidates SET state = 'approved' WHERE name = 'c1'"
printf 'not a real keyring, copied as it is\n' >"$T/keyring.gpg"
mkdir "$T/notexport" && echo keep >"$T/notexport/mine"

have_ansible=0
if command -v ansible-playbook >/dev/null && command -v ansible-inventory >/dev/null; then
  have_ansible=1
else
  echo "note: ansible-core is not installed: --syntax-check skipped (scripts/setup installs it)"
fi

# check_yaml DIR ARGS_FILE: the documents load, and hold exactly the inputs
check_yaml() {
  /usr/bin/python3 - "$1" "$DATA" "$DB" <<'EOF'
import json, os, sqlite3, sys, yaml
out, data, db = sys.argv[1:4]
class L(yaml.SafeLoader):
    pass
L.add_constructor("!unsafe", lambda l, n: ("UNSAFE", l.construct_scalar(n)))
def raw(v):
    assert isinstance(v, tuple) and v[0] == "UNSAFE", ("not tagged !unsafe", v)
    return v[1]
inv = yaml.load(open(os.path.join(out, "inventory.yml")), Loader=L)
play = yaml.load(open(os.path.join(out, "playbook.yml")), Loader=L)
groups = inv["all"]["children"]
assert len(groups) == 1, groups
group, g = next(iter(groups.items()))
con = sqlite3.connect(db)
for name, hv in g["hosts"].items():
    ip = con.execute("SELECT ip FROM hosts WHERE name = ?", (name,)).fetchone()
    assert ip is not None, name
    if ip[0]:
        assert raw(hv["ansible_host"]) == ip[0], (name, hv)
    else:
        assert not hv, (name, hv)
assert len(play) == 1 and play[0]["hosts"] == group, play
v = play[0]["vars"]
pk = {(raw(p["name"]), raw(p["version"]), raw(p["arch"])) for p in v["pl_packages"]}
want = set(con.execute("SELECT p.package, p.version, p.arch FROM patches p JOIN candidate_patches cp ON cp.patch_id = p.id JOIN candidates c ON c.id = cp.candidate_id WHERE c.name = ?", (raw(v["pl_rollout"]),)))
assert pk == want, (pk, want)
for p in v["pl_packages"]:
    assert raw(p["spec"]) == raw(p["name"]) + "=" + raw(p["version"]), p
    if "deb" in p:
        import hashlib
        f = os.path.join(out, "files", raw(p["deb"]))
        assert hashlib.sha256(open(f, "rb").read()).hexdigest() == raw(p["sha256"]), p
lab = os.environ.get("PL_CASE_LAB")
if lab:
    s = json.load(open(lab))["smoke"]
    assert [raw(x) for x in v["pl_services"]] == s.get("services", []), v["pl_services"]
    assert v["pl_ports"] == s.get("ports", []), v["pl_ports"]
    assert [raw(x) for x in v["pl_files"]] == s.get("files", []), v["pl_files"]
    got = [(raw(c["name"]), raw(c["run"]), c["expect_exit"], c["timeout"]) for c in v["pl_commands"]]
    exp = [(c["name"], c["run"], c["expect_exit"], c["timeout"]) for c in s.get("commands", [])]
    assert got == exp, (got, exp)
EOF
}

listing() { (cd "$1/files" && for f in $(ls | sort); do printf '%s %s\n' "$f" "$(sha256sum <"$f" | cut -d' ' -f1)"; done); }

for c in "$DATA"/cases/*/; do
  c=${c%/}
  name=$(basename "$c")
  out=$T/out-$name
  mapfile -t args < <(sed -e "s|@T@|$T|g" -e "s|@DATA@|$DATA|g" "$c/args")
  has_out=0
  for a in "${args[@]}"; do [ "$a" = --out ] && has_out=1; done
  [ $has_out = 1 ] || args+=(--out "$out")
  lab=
  for i in "${!args[@]}"; do [ "${args[$i]}" = --lab ] && lab=${args[$((i + 1))]}; done
  if [ -f "$c/exit" ]; then
    before=$(cd "$T" && find notexport -type f | sort | xargs sha256sum)
    expect "$name" "$(cat "$c/exit")" -- "$PATCHLAB" export ansible "${args[@]}"
    stderr_has "$name" "$(cat "$c/stderr")"
    [ ! -e "$out" ] && ok || not_ok "$name: a refused export wrote $out"
    [ "$(cd "$T" && find notexport -type f | sort | xargs sha256sum)" = "$before" ] && ok ||
      not_ok "$name: $T/notexport changed"
    continue
  fi
  expect "$name" 0 -- "$PATCHLAB" export ansible "${args[@]}"
  [ -d "$out" ] || { not_ok "$name: no $out"; continue; }
  listing "$out" >"$T/files.txt"
  for f in inventory.yml playbook.yml files.txt; do
    got=$out/$f
    [ $f = files.txt ] && got=$T/files.txt
    if [ "${PATCHLAB_TEST_REGENERATE:-}" = 1 ]; then
      sed "s|$T|@T@|g" "$got" >"$c/$f"
    fi
    if sed "s|$T|@T@|g" "$got" | cmp -s - "$c/$f"; then ok; else
      not_ok "$name: $f differs: $(sed "s|$T|@T@|g" "$got" | diff "$c/$f" - | head -20)"
    fi
  done
  PL_CASE_LAB=$lab check_yaml "$out" 2>"$T/py.err" && ok || not_ok "$name: YAML: $(tail -5 "$T/py.err")"
  if [ $have_ansible = 1 ]; then
    (cd "$out" && LC_ALL=C.UTF-8 HOME=$T ANSIBLE_LOCAL_TEMP=$T/ansible-tmp ANSIBLE_NOCOLOR=1 \
      ansible-playbook -i inventory.yml --syntax-check playbook.yml >"$T/ans.out" 2>&1) &&
      ok || not_ok "$name: ansible-playbook --syntax-check: $(tail -20 "$T/ans.out")"
    (cd "$out" && LC_ALL=C.UTF-8 HOME=$T ANSIBLE_LOCAL_TEMP=$T/ansible-tmp ansible-inventory -i inventory.yml \
      --list >"$T/inv.json" 2>"$T/ans.out") || not_ok "$name: ansible-inventory: $(cat "$T/ans.out")"
    /usr/bin/python3 - "$T/inv.json" "$out/inventory.yml" <<'EOF' && ok || not_ok "$name: ansible-inventory disagrees"
import json, sys, re
j = json.load(open(sys.argv[1]))
hosts = set(j["_meta"]["hostvars"]) | {h for g, v in j.items() if g != "_meta" for h in v.get("hosts", [])}
want = set(re.findall(r'^        "([^"]+)"', open(sys.argv[2]).read(), re.M))
assert hosts == want, (hosts, want)
EOF
  fi
done

# a second export into the same --out replaces the previous one
expect again 0 -- "$PATCHLAB" export ansible --candidate c1 --wave canary --host web2 --out "$T/out-copy-hosts"
grep -q '"web2"' "$T/out-copy-hosts/inventory.yml" && ! grep -q '"web1"' "$T/out-copy-hosts/inventory.yml" &&
  ok || not_ok "the second export did not replace the first"
[ -z "$(ls -d "$T"/out-copy-hosts.* 2>/dev/null)" ] && ok || not_ok "temporary directories left"

finish
