#!/usr/bin/env bash
# patchlab inventory end to end: import, add, list, show, remove, packages.
. "$(dirname "$0")/../lib.sh"
P=$PATCHLAB
D=$PL_TEST_DATA/inventory

expect "init" 0 -- $P init
expect "import csv" 0 "imported $D/hosts.csv: 3 added, 0 updated" -- $P inventory import "$D/hosts.csv"
expect "import json upserts" 0 "imported $D/hosts.json: 2 added, 1 updated" -- $P inventory import "$D/hosts.json"
expect "import again updates" 0 "imported $D/hosts.json: 0 added, 3 updated" -- $P inventory import "$D/hosts.json"
expect "list names" 0 "build1 db1 lab1 mail1 web1" -- \
  bash -c "$P inventory list --format json | jq -r '.[].name' | xargs"
expect "json update took" 0 "192.0.2.11" -- \
  bash -c "$P inventory show web1 --format json | jq -r .ip"
expect "csv quoting kept" 0 'DC "North"' -- \
  bash -c "$P inventory show db1 --format json | jq -r .location"
expect "controls are typed" 0 "true internal" -- \
  bash -c "$P inventory show db1 --format json | jq -r '\"\\(.controls.firewall) \\(.controls.exposure)\"'"

# a bad row anywhere imports nothing
expect "bad ip csv" 2 -- $P inventory import "$D/bad-ip.csv"
stderr_has "bad ip names file:line" "bad-ip.csv:3: field 'ip': '999.1.1.1' is not an IP address"
expect "bad env json" 2 -- $P inventory import "$D/bad-env.json"
stderr_has "bad env names the path" "bad-env.json: \$[2].environment: 'prod' is not one of production, staging, test, development"
expect "nothing half-imported" 0 "5" -- bash -c "$P inventory list --format json | jq length"
expect "missing file" 2 -- $P inventory import "$T/nope.csv"

# add, filters, remove
expect "add" 0 "added host 'app1'" -- $P inventory add app1 --ip 10.0.0.5 --role app \
  --environment staging --tag blue --tag green --control firewall=true --control exposure=internal \
  --libvirt qemu:///system --domain app1 --image debian-12
expect "add twice" 2 -- $P inventory add app1
stderr_has "add twice says so" "a host named 'app1' exists already"
expect "add bad env" 2 -- $P inventory add app2 --environment prod
stderr_has "add bad env message" "'prod' is not one of production, staging, test, development"
expect "add bad name" 2 -- $P inventory add "-x"
expect "add bad exposure" 2 -- $P inventory add app2 --control exposure=dmz
expect "add libvirt alone" 2 -- $P inventory add app2 --libvirt qemu:///system
expect "list by role" 0 "app1" -- bash -c "$P inventory list --role app --format json | jq -r '.[].name'"
expect "list by env" 0 "app1 mail1" -- \
  bash -c "$P inventory list --environment staging --format json | jq -r '.[].name' | xargs"
expect "tags stored" 0 "blue,green" -- \
  bash -c "$P inventory show app1 --format json | jq -r '.tags | join(\",\")'"
expect "list text" 0 -- $P inventory list
expect "show text" 0 -- $P inventory show app1
expect "show absent" 2 -- $P inventory show nope
expect "list bad format" 2 -- $P inventory list --format yaml
# controls: the vocabulary, shown in list and show, changed with set
expect "controls listed" 0 "firewall edr exposure backup mfa patch-agent disk-encryption" -- \
  bash -c "$P inventory controls --format json | jq -r '.[].control' | xargs"
expect "controls text" 0 -- $P inventory controls
expect "add unknown control" 2 -- $P inventory add app2 --control colour=red
stderr_has "unknown control named" "--control: colour: unknown control (one of firewall, edr,"
expect "add bad switch" 2 -- $P inventory add app2 --control firewall=maybe
stderr_has "bad switch value" "--control: firewall: 'maybe' is not one of on, off"
expect "list shows controls" 0 "app1 firewall=on,exposure=internal" -- \
  bash -c "$P inventory list --role app | awk 'NR > 1 {print \$1, \$NF}'"
expect "show shows controls" 0 "controls        firewall=on exposure=internal" -- \
  bash -c "$P inventory show app1 | grep '^controls'"
expect "set" 0 "updated host 'app1'" -- $P inventory set app1 --role api --control edr=crowdstrike \
  --control firewall= --control backup=on
expect "set merged" 0 "api staging 10.0.0.5 backup=on edr=crowdstrike exposure=internal blue,green" -- \
  bash -c "$P inventory show app1 --format json | jq -r '\"\\(.role) \\(.environment) \\(.ip) \\(.controls | to_entries | map(\"\\(.key)=\\(.value | if . == true then \"on\" else . end)\") | join(\" \")) \\(.tags | join(\",\"))\"'"
expect "set tags replace" 0 "red" -- \
  bash -c "$P inventory set app1 --tag red >/dev/null && $P inventory show app1 --format json | jq -r '.tags | join(\",\")'"
expect "set absent host" 2 -- $P inventory set nope --role x
stderr_has "set absent message" "no host named 'nope'"
expect "set bad env" 2 -- $P inventory set app1 --environment prod
expect "set bad control" 2 -- $P inventory set app1 --control exposure=dmz
expect "set libvirt alone" 2 -- $P inventory set app1 --domain x
expect "remove" 0 "removed host 'app1'" -- $P inventory remove app1
expect "remove absent" 2 -- $P inventory remove app1
stderr_has "remove absent message" "no host named 'app1'"

# packages from this machine's dpkg database
if [ -r /var/lib/dpkg/status ] && command -v dpkg-query >/dev/null; then
  n=$(dpkg-query -W -f='${db:Status-Status}\n' | grep -vc '^not-installed$')
  expect "dpkg packages" 0 "host 'web1': $n packages" -- \
    $P inventory packages web1 --dpkg-status /var/lib/dpkg/status
  [ "$n" -gt 100 ] && ok || not_ok "more than 100 packages ($n)"
  expect "count in show" 0 "$n" -- bash -c "$P inventory show web1 --format json | jq .packages"
  v=$(dpkg-query -W -f='${Version}' dpkg)
  expect "dpkg listed" 0 "dpkg $v" -- \
    bash -c "$P inventory show web1 --packages --format json | jq -r '.package_list[] | select(.name == \"dpkg\") | \"\\(.name) \\(.version)\"'"
  $P inventory show web1 --packages >"$T/show.txt" && grep -Eq "^  dpkg +$v " "$T/show.txt" &&
    ok || not_ok "show --packages text lists dpkg"
fi
expect "rpm packages" 0 "host 'db1': 3 packages" -- $P inventory packages db1 --rpm-qa "$D/rpm-qa.txt"
expect "rpm epoch dropped" 0 "5.1.8-6.el9" -- \
  bash -c "$P inventory show db1 --packages --format json | jq -r '.package_list[] | select(.name == \"bash\") | .version'"
expect "rpm bad line" 2 -- $P inventory packages db1 --rpm-qa "$D/rpm-qa-bad.txt"
stderr_has "rpm bad names file:line" "rpm-qa-bad.txt:2: "
expect "bad rpm kept the old list" 0 "3" -- bash -c "$P inventory show db1 --format json | jq .packages"
expect "packages of absent host" 2 -- $P inventory packages nope --rpm-qa "$D/rpm-qa.txt"
expect "packages needs a source" 2 -- $P inventory packages db1
expect "removing drops packages" 0 -- $P inventory remove db1
expect "cascade" 0 "0" -- sqlite3 "$PATCHLAB_STATE/patchlab.db" "SELECT count(*) FROM host_packages p WHERE NOT EXISTS (SELECT 1 FROM hosts h WHERE h.id = p.host_id)"
expect "self-test" 0 -- $P self-test

# every change above is in the audit log, as its actor; refused ones are not
# (db1: added by the CSV import, its rpm list, the refused bad list and
# the refused call without a source leave nothing, removed; mail1: added by
# the JSON import, updated by the same import again)
expect "audit of a host" 0 "host-add packages host-remove" -- \
  bash -c "$P audit list --kind host --object db1 --format json | jq -r '[.[].action] | join(\" \")'"
expect "audit of an import" 0 "host-add host-update" -- \
  bash -c "$P audit list --kind host --object mail1 --format json | jq -r '[.[].action][:2] | join(\" \")'"
expect "audit actor" 0 "qa-bot" -- bash -c \
  "PATCHLAB_ACTOR=qa-bot $P inventory set web1 --owner ops >/dev/null &&
   $P audit list --kind host --object web1 --format json | jq -r '.[-1].actor'"
expect "audit refused add" 0 "0" -- bash -c \
  "$P audit list --kind host --object app2 --format json | jq length"
expect "audit chain" 0 -- $P audit verify

finish
