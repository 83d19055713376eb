#!/usr/bin/python3
"""bench/scan-baseline.py DB - the baseline for bench/scan-fleet.sh.

The straightforward way to do what 'patchlab scan' does, over the same
patchlab database: load the synced Packages indexes of bookworm and
bookworm-security and the feeds once (as debsecan loads its whole
vulnerability list once), then one pass per host: read its packages, look
each up in the index, compare versions with apt_pkg (python3-apt, dpkg's
order in C), collect the CVEs each upgrade fixes, score the finding with the
same priority formula, and write the findings to a table of its own. No
caching across hosts beyond the loaded indexes and feeds.
"""
import gzip
import json
import lzma
import math
import sqlite3
import sys
import time

import apt_pkg

apt_pkg.init_system()
vc = apt_pkg.version_compare

URG = {"unimportant": 0, "low": 1, "medium": 2, "high": 3, "not yet assigned": 2,
       "end-of-life": 0}
URG_BASE = [10, 30, 55, 80]
EXPOSURE = {"isolated": 0.60, "internal": 0.85, "internet": 1.0}
ENV = {"development": 0.65, "test": 0.70, "staging": 0.80, "production": 0.90}


def load_index(con):
    best = {}
    paths = [r[0] for r in con.execute(
        "SELECT i.path FROM repo_indexes i WHERE i.suite IN ('bookworm', 'bookworm-security')")]
    state = con.execute("PRAGMA database_list").fetchone()[2].rsplit("/", 1)[0]
    for p in paths:
        stanza = {}
        raw = open(state + "/" + p, "rb").read()
        if raw.startswith(b"\xfd7zXZ"):
            raw = lzma.decompress(raw)
        elif raw.startswith(b"\x1f\x8b"):
            raw = gzip.decompress(raw)
        for line in raw.decode("utf-8").split("\n"):
            line = line.rstrip("\n")
            if not line:
                if stanza:
                    add(best, stanza)
                stanza = {}
                continue
            k, _, v = line.partition(": ")
            stanza[k] = v
        if stanza:
            add(best, stanza)
    return best


def add(best, st):
    key = (st["Package"], st["Architecture"])
    v = st["Version"]
    sv = v
    src = st.get("Source", "")
    if "(" in src:
        sv = src[src.index("(") + 1:src.index(")")]
    old = best.get(key)
    if old is None or vc(v, old[0]) > 0:
        best[key] = (v, sv)


def priority(cvss, urg, epss, kev, ctx):
    ub = URG_BASE[urg] if urg is not None else 0
    base = cvss if cvss is not None and cvss >= ub else ub
    t = 1.0 if kev else 0.85 if epss is None else 0.80 if epss <= 0.001 else \
        0.80 + 0.20 * min(1, max(0, (math.log10(min(1, epss)) + 3) / 3))
    exp, env, crit, fw, edr = ctx
    e = min(1.0, ENV.get(env, 0.80) + (0.1 if crit else 0))
    c = (0.95 if fw else 1) * (0.95 if edr else 1)
    s = min(100, int(math.floor(base * t * (1.25 if kev else 1) * EXPOSURE.get(exp, 0.85) *
                                e * c + 0.5)))
    return max(s, 70) if kev else s


def main():
    db = sys.argv[1]
    t0 = time.time()
    con = sqlite3.connect(db)
    index = load_index(con)
    tracker = {}
    for src, cve, status, fixed, urg in con.execute(
            "SELECT source, cve, status, fixed_version, urgency FROM feed_tracker"
            " WHERE release = 'bookworm'"):
        tracker.setdefault(src, []).append((cve, status, fixed, URG.get(urg or "", 2)))
    cvss = dict(con.execute("SELECT cve, max(base_score) * 10 FROM feed_cvss GROUP BY cve"))
    epss = dict(con.execute("SELECT cve, max(epss) FROM feed_epss GROUP BY cve"))
    kev = set(r[0] for r in con.execute("SELECT cve FROM feed_kev"))
    con.execute("DROP TABLE IF EXISTS baseline_findings")
    con.execute("CREATE TABLE baseline_findings (host_id INTEGER, package TEXT, arch TEXT,"
                " installed TEXT, candidate TEXT, cves TEXT, priority INTEGER)")
    hosts = con.execute("SELECT id, controls, environment, tags FROM hosts ORDER BY name").fetchall()
    nfind = 0
    for hid, controls, env, tags in hosts:
        c = json.loads(controls)
        ctx = (c.get("exposure"), env, "critical" in json.loads(tags),
               c.get("firewall") is True, c.get("edr") not in (None, False))
        rows = []
        for name, arch, ver, src, sv, status in con.execute(
                "SELECT name, arch, version, source, source_version, status FROM host_packages"
                " WHERE host_id = ?", (hid,)):
            if not status.endswith("installed") or status.endswith("-installed"):
                continue
            cand = index.get((name, arch))
            if cand is None or vc(cand[0], ver) <= 0:
                continue
            src = src or name
            sv = sv or ver
            fixed = []
            for cve, st, fv, u in tracker.get(src, ()):
                if st == "resolved" and fv != "0" and vc(sv, fv) < 0 and vc(fv, cand[1]) <= 0:
                    fixed.append((cve, u))
            cv = [cvss[x] for x, _ in fixed if x in cvss]
            nov = [u for x, u in fixed if x not in cvss]
            ep = [epss[x] for x, _ in fixed if x in epss]
            p = priority(max(cv) if cv else None, max(nov) if nov else None,
                         max(ep) if ep else None, any(x in kev for x, _ in fixed), ctx) \
                if fixed else 0
            rows.append((hid, name, arch, ver, cand[0], json.dumps(sorted(x for x, _ in fixed), separators=(",", ":")),
                         p))
        con.executemany("INSERT INTO baseline_findings VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        nfind += len(rows)
    con.commit()
    print("baseline: %d hosts, %d findings in %.1f s" % (len(hosts), nfind, time.time() - t0))


if __name__ == "__main__":
    main()
