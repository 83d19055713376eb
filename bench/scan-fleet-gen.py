#!/usr/bin/python3
"""bench/scan-fleet-gen.py - a synthetic fleet for bench/scan-fleet.sh.

  scan-fleet-gen.py files OUT [--hosts N] [--packages N] [--feed N]
      writes OUT/hosts.csv, the Packages indexes of two suites (bookworm and
      bookworm-security, under OUT/www/debian/dists/), the feeds in their
      real formats (OUT/tracker.json, OUT/epss.csv, OUT/kev.json, OUT/osv.json)
      and OUT/truth.json (what the fleet was made of)
  scan-fleet-gen.py status OUT --first K [--start S] [--hosts N] [--packages N]
      writes dpkg status files OUT/HOST.status for K hosts from the S-th
      (default 0), for 'patchlab inventory packages --dir'

Everything is drawn from fixed seeds: the same arguments give the same
fleet. The shape (a realistic spread, not uniform noise):
- a pool of ~1,800 source packages building ~3,000 binary packages (a
  quarter Architecture: all), each source with four versions
  (V-R, V-R+deb12u1, +deb12u2, +deb12u3), some arch-dependent binaries as
  binNMUs (+b1, "Source: name (version)");
- the archive: bookworm carries every binary at the fleet's usual version,
  bookworm-security the newest version of the ~6% of sources that have a
  pending security update;
- each host: a core of 900 binaries every host has, plus 600 of the 800 of
  its role (10 roles): 1,500 packages; versions: for a pending source 35% of
  hosts are up to date, the others one or two updates behind; for the other
  sources 1% of hosts lag one update;
- the tracker feed: N (source, CVE) entries for bookworm over the sources,
  Zipf-like (a few sources with many CVEs): open, undetermined, never
  affected ("0"), fixed long ago, and fixed by the pending updates; EPSS for
  every CVE, KEV for 1%, a CVSS v3.1 vector (OSV) for 60%;
- host context: environment, exposure, firewall, EDR, a 'critical' tag.
"""
import json
import os
import random
import sys

SEED = 20261128
NSRC = 1800
NROLES = 10
CORE = 900
ROLE_SET = 800
ROLE_TAKE = 600


def parse_args(argv):
    opts = {"hosts": 10000, "packages": 1500, "feed": 50000, "first": 0, "start": 0}
    pos = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and a[2:] in opts:
            opts[a[2:]] = int(argv[i + 1])
            i += 2
        else:
            pos.append(a)
            i += 1
    return pos, opts


class Pool:
    """The package pool and the archive's versions."""

    def __init__(self):
        rng = random.Random(SEED)
        self.sources = []  # (name, [v0..v3], pending)
        self.binaries = []  # (name, arch, source index, binnmu)
        for i in range(NSRC):
            name = "src%04d" % i
            up = "%d.%d.%d" % (1 + i % 9, i % 23, i % 7)
            rev = "-%d" % (1 + i % 4)
            vs = [up + rev] + [up + rev + "+deb12u%d" % k for k in (1, 2, 3)]
            pending = rng.random() < 0.06
            self.sources.append((name, vs, pending))
            nbin = 1 + int(rng.random() ** 2 * 3.5)  # 1..4, mostly 1-2
            binnmu = i % 37 == 0
            names = [name, "lib%s-%d" % (name, 1 + i % 3), name + "-common", name + "-doc"]
            for k in range(nbin):
                arch = "all" if k >= 2 or (k == 0 and rng.random() < 0.12) else "amd64"
                self.binaries.append((names[k], arch, i, binnmu and arch != "all"))
        order = list(range(len(self.binaries)))
        rng.shuffle(order)
        self.core = order[:CORE]
        rest = order[CORE:]
        self.roles = []
        for r in range(NROLES):
            rr = random.Random(SEED + 7 * r)
            self.roles.append(rr.sample(rest, ROLE_SET))

    def index_versions(self, b):
        """The binary in the archive: [(suite, version, source version)]:
        bookworm has every binary at the fleet's usual version, and
        bookworm-security the pending update's."""
        name, arch, si, binnmu = self.binaries[b]
        src, vs, pending = self.sources[si]
        out = []
        for suite, v in [("bookworm", vs[2])] + ([("bookworm-security", vs[3])] if pending else []):
            out.append((suite, v + "+b1" if binnmu else v, v))
        return out

    def host_version(self, b, rng):
        name, arch, si, binnmu = self.binaries[b]
        src, vs, pending = self.sources[si]
        r = rng.random()
        if pending:
            v = vs[3] if r < 0.35 else vs[2] if r < 0.75 else vs[1]
        else:
            v = vs[1] if r < 0.01 else vs[2]
        return (v + "+b1" if binnmu else v), v

    def host_packages(self, h, npkg):
        """[(name, arch, version, source, source_version)] of host h, sorted."""
        rng = random.Random(SEED * 1000003 + h)
        role = h % NROLES
        take = max(0, npkg - CORE)
        chosen = self.core[:min(CORE, npkg)] + rng.sample(self.roles[role], min(take, ROLE_SET))
        out = []
        for b in chosen:
            name, arch, si, binnmu = self.binaries[b]
            v, sv = self.host_version(b, rng)
            out.append((name, arch, v, self.sources[si][0], sv))
        out.sort()
        return out


def host_names(n):
    return ["h%05d" % h for h in range(n)]


def write_hosts(out, n):
    rng = random.Random(SEED + 1)
    envs = ["production"] * 6 + ["staging"] * 2 + ["test", "development"]
    with open(os.path.join(out, "hosts.csv"), "w") as f:
        f.write("name,os,os_version,role,environment,tags,controls\n")
        for h, name in enumerate(host_names(n)):
            r = rng.random()
            exposure = "internet" if r < 0.15 else "isolated" if r > 0.9 else "internal"
            controls = ["exposure=" + exposure]
            controls.append("firewall=" + ("on" if rng.random() < 0.7 else "off"))
            if rng.random() < 0.5:
                controls.append("edr=on")
            tags = "critical" if rng.random() < 0.05 else ""
            f.write("%s,debian,12,role%d,%s,%s,%s\n" % (name, h % NROLES, rng.choice(envs),
                                                      tags, ";".join(controls)))


def write_packages(out, pool):
    by_suite = {"bookworm": [], "bookworm-security": []}
    for b in range(len(pool.binaries)):
        name, arch, si, binnmu = pool.binaries[b]
        src = pool.sources[si][0]
        for suite, v, sv in pool.index_versions(b):
            stanza = ["Package: " + name]
            if v != sv:
                stanza.append("Source: %s (%s)" % (src, sv))
            elif src != name:
                stanza.append("Source: " + src)
            stanza += ["Version: " + v, "Architecture: " + arch,
                       "Maintainer: bench <bench@patchlab.invalid>",
                       "Installed-Size: %d" % (100 + b % 5000),
                       "Filename: pool/main/%s/%s/%s_%s_%s.deb" % (src[0], src, name, v, arch),
                       "Size: %d" % (2000 + b * 7 % 90000),
                       "SHA256: %064x" % (b * 2654435761 % (1 << 256)),
                       "Description: synthetic package %s" % name]
            by_suite[suite].append("\n".join(stanza) + "\n")
    for suite, stanzas in by_suite.items():
        d = os.path.join(out, "www/debian/dists", suite, "main/binary-amd64")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "Packages"), "w") as f:
            f.write("\n".join(stanzas))


VECTORS = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # 9.8
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",  # 7.5
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",  # 8.1
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",  # 7.8
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",  # 6.1
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H",  # 5.5
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H",  # 5.9
    "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:N/A:N",  # 2.5
]
URGENCIES = (["unimportant"] * 15 + ["low"] * 30 + ["medium"] * 35 + ["high"] * 10 +
             ["not yet assigned"] * 10)


def write_feeds(out, pool, nfeed):
    rng = random.Random(SEED + 2)
    weights = [1.0 / (1 + r) ** 0.8 for r in range(NSRC)]
    tracker = {}
    cves = []
    seen = set()
    n = 0
    year = 2020
    serial = 1000
    while n < nfeed:
        si = rng.choices(range(NSRC), weights)[0]
        src, vs, pending = pool.sources[si]
        # a CVE shared by two sources now and then, else a new one
        if cves and rng.random() < 0.05:
            cve = rng.choice(cves)
        else:
            serial += 1 + int(rng.random() * 3)
            if serial > 60000:
                year, serial = year + 1, 1000
            cve = "CVE-%d-%d" % (year, serial)
            cves.append(cve)
        if (src, cve) in seen:
            continue
        seen.add((src, cve))
        r = rng.random()
        rel = {"urgency": rng.choice(URGENCIES)}
        if r < 0.12:
            rel["status"] = "open"
        elif r < 0.16:
            rel["status"] = "undetermined"
        elif r < 0.21:
            rel.update(status="resolved", fixed_version="0")
        elif pending and r < 0.51:
            rel.update(status="resolved", fixed_version=vs[3])
        elif pending and r < 0.61:
            rel.update(status="resolved", fixed_version=vs[2])
        elif not pending and r < 0.29:
            rel.update(status="resolved", fixed_version=vs[2])
        else:
            rel.update(status="resolved", fixed_version="0.%d-1" % (1 + int(r * 9)))
        tracker.setdefault(src, {})[cve] = {"releases": {"bookworm": rel}}
        n += 1
    with open(os.path.join(out, "tracker.json"), "w") as f:
        json.dump(tracker, f, separators=(",", ":"))
    scores = sorted(((rng.random() ** 6, c) for c in cves), reverse=False)
    with open(os.path.join(out, "epss.csv"), "w") as f:
        f.write("#model_version:v2023.03.01,score_date:2026-11-27T00:00:00+0000\n")
        f.write("cve,epss,percentile\n")
        for rank, (e, c) in enumerate(scores):
            f.write("%s,%.5f,%.5f\n" % (c, e, rank / max(1, len(scores) - 1)))
    kev = [c for c in cves if rng.random() < 0.01]
    with open(os.path.join(out, "kev.json"), "w") as f:
        json.dump({"title": "synthetic KEV", "catalogVersion": "2026.11.27",
                   "dateReleased": "2026-11-27T00:00:00.000Z", "count": len(kev),
                   "vulnerabilities": [{"cveID": c, "vendorProject": "bench", "product": "bench",
                                        "vulnerabilityName": c, "dateAdded": "2026-01-02",
                                        "dueDate": "2026-01-23",
                                        "knownRansomwareCampaignUse": "Unknown"}
                                       for c in kev]}, f)
    osv = [{"id": c, "modified": "2026-11-27T00:00:00Z",
            "severity": [{"type": "CVSS_V3", "score": rng.choice(VECTORS)}]}
           for c in cves if rng.random() < 0.6]
    with open(os.path.join(out, "osv.json"), "w") as f:
        json.dump(osv, f, separators=(",", ":"))
    return {"tracker_entries": n, "cves": len(cves), "kev": len(kev), "cvss": len(osv)}


def cmd_files(out, o):
    pool = Pool()
    os.makedirs(out, exist_ok=True)
    write_hosts(out, o["hosts"])
    write_packages(out, pool)
    truth = write_feeds(out, pool, o["feed"])
    truth.update(hosts=o["hosts"], packages_per_host=o["packages"], sources=NSRC,
                 binaries=len(pool.binaries),
                 pending_sources=sum(1 for s in pool.sources if s[2]))
    with open(os.path.join(out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")


def cmd_status(out, o):
    pool = Pool()
    os.makedirs(out, exist_ok=True)
    names = host_names(o["hosts"])
    for h in range(o["start"], min(o["start"] + o["first"], len(names))):
        name = names[h]
        with open(os.path.join(out, name + ".status"), "w") as f:
            for (pkg, arch, v, src, sv) in pool.host_packages(h, o["packages"]):
                f.write("Package: %s\nStatus: install ok installed\nArchitecture: %s\n" %
                        (pkg, arch))
                if sv != v:
                    f.write("Source: %s (%s)\n" % (src, sv))
                elif src != pkg:
                    f.write("Source: %s\n" % src)
                f.write("Version: %s\nDescription: synthetic\n\n" % v)


def main():
    pos, o = parse_args(sys.argv[1:])
    if len(pos) != 2 or pos[0] not in ("files", "status"):
        sys.stderr.write(__doc__)
        return 2
    {"files": cmd_files, "status": cmd_status}[pos[0]](pos[1], o)
    return 0


if __name__ == "__main__":
    sys.exit(main())
