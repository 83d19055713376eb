#!/usr/bin/python3
"""bench/feed-gen.py OUT - feeds of the real ones' size, for bench/feed-sync.sh.

Writes, from fixed seeds:
- OUT/tracker.json: a Security Tracker data/json of about the real size
  (about 70 MB): 12,000 source packages, 80,000 (source, CVE) pairs, the
  releases buster, bullseye, bookworm, trixie and sid on each, the real mix
  of statuses, urgencies, nodsa notes and descriptions;
- OUT/osv-debian.zip: 60,000 OSV advisories (DSA, DLA and DEBIAN-CVE ids)
  for the ecosystems Debian:11 and Debian:12, deflated one file each, as
  OSV's Debian all.zip;
- OUT/epss.csv.gz: 250,000 EPSS rows with the model line;
- OUT/kev.json: 1,300 KEV entries.
"""
import gzip
import json
import os
import random
import sys
import zipfile

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rnd = random.Random(20241128)
words = ("buffer overflow heap use-after-free remote attacker crafted request denial of "
         "service memory corruption integer truncation parser certificate validation "
         "privilege escalation in the function when handling").split()
RELS = ["buster", "bullseye", "bookworm", "trixie", "sid"]


def text(n):
    return " ".join(rnd.choice(words) for _ in range(n))


def version():
    return "%d.%d.%d-%d" % (rnd.randint(0, 9), rnd.randint(0, 40), rnd.randint(0, 20),
                            rnd.randint(1, 5))


def cve(i):
    return "CVE-%d-%05d" % (2014 + i % 11, i)


sources = ["src%05d" % i for i in range(12000)]
doc = {}
pair = 0
for s in sources:
    entries = {}
    for _ in range(rnd.randint(1, 25)):
        if pair >= 80000:
            break
        c = cve(pair)
        pair += 1
        rels = {}
        for r in RELS:
            st = rnd.choices(["resolved", "open", "undetermined"], [70, 25, 5])[0]
            e = {"status": st, "repositories": {r: version()},
                 "urgency": rnd.choice(["unimportant", "low", "medium", "high",
                                        "not yet assigned", "low*"])}
            if st == "resolved":
                e["fixed_version"] = rnd.choice(["0", version()])
            elif rnd.random() < 0.2:
                e["nodsa"] = "Minor issue"
                e["nodsa_reason"] = "postponed"
            rels[r] = e
        entries[c] = {"description": text(rnd.randint(10, 40)), "scope": "remote",
                      "releases": rels}
        if rnd.random() < 0.3:
            entries[c]["debianbug"] = rnd.randint(900000, 1090000)
    doc[s] = entries
with open(os.path.join(out, "tracker.json"), "w") as f:
    json.dump(doc, f)

with zipfile.ZipFile(os.path.join(out, "osv-debian.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    for i in range(60000):
        kind = rnd.choice(["DSA-%d-1", "DLA-%d-1", "DEBIAN-CVE-2024-%05d"])
        oid = kind % (1000 + i) if "%05d" not in kind else kind % i
        adv = {"id": oid, "modified": "2024-06-01T00:00:00Z",
               "published": "2024-05-01T00:00:00Z", "summary": text(6), "details": text(60),
               "upstream": [cve(rnd.randrange(80000))],
               "affected": [{"package": {"ecosystem": eco, "name": rnd.choice(sources)},
                             "ranges": [{"type": "ECOSYSTEM",
                                         "events": [{"introduced": "0"},
                                                    {"fixed": version()}]}]}
                            for eco in ("Debian:11", "Debian:12")]}
        if rnd.random() < 0.5:
            adv["severity"] = [{"type": "CVSS_V3", "score":
                                "CVSS:3.1/AV:N/AC:%s/PR:N/UI:N/S:U/C:H/I:%s/A:H" %
                                (rnd.choice("LH"), rnd.choice("HLN"))}]
        z.writestr(oid + ".json", json.dumps(adv, indent=2))

with gzip.open(os.path.join(out, "epss.csv.gz"), "wt") as f:
    f.write("#model_version:v2023.03.01,score_date:2024-11-28T00:00:00+0000\n")
    f.write("cve,epss,percentile\n")
    for i in range(250000):
        f.write("CVE-%d-%05d,%.5f,%.5f\n" % (1999 + i % 26, i, rnd.random(), rnd.random()))

kev = {"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2024.11.28",
       "dateReleased": "2024-11-28T00:00:00.000Z", "count": 1300, "vulnerabilities": [
           {"cveID": cve(i * 97), "vendorProject": "Vendor", "product": "Product",
            "vulnerabilityName": text(5), "dateAdded": "2023-01-01", "shortDescription": text(20),
            "requiredAction": text(10), "dueDate": "2023-01-22",
            "knownRansomwareCampaignUse": rnd.choice(["Known", "Unknown"]), "notes": "",
            "cwes": ["CWE-79"]} for i in range(1300)]}
with open(os.path.join(out, "kev.json"), "w") as f:
    json.dump(kev, f, indent=4)
