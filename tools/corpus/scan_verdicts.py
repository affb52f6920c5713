#!/usr/bin/env python3
"""scan_verdicts.py MANIFEST SCAN_JSONL: engine verdicts (`mamori scan --json`) by label, overall, per manifest subkind and
per source group: the share of files the engine calls malicious, suspicious or clean (stdlib only)."""
import json, sys, collections
man, scan = sys.argv[1], sys.argv[2]
rows = {}
for i, l in enumerate(open(man)):
    if i == 0: continue
    f = l.rstrip("\n").split("\t"); rows[f[0]] = f
by = collections.defaultdict(collections.Counter)
for l in open(scan):
    j = json.loads(l); r = rows.get(j["sha256"])
    if not r: continue
    v = j["verdict"]
    for key in ("all", "subkind " + r[2] + ":" + r[3], "group " + r[6]):
        by[(r[1], key)][v] += 1
for (lab, key), c in sorted(by.items(), key=lambda x: (x[0][0], x[0][1] != "all", x[0][1])):
    n = sum(c.values())
    print("%-9s %-62s n %5d  malicious %5.1f%%  suspicious %5.1f%%  clean %5.1f%%  %s" % (lab, key[:62], n,
          100 * c["malicious"] / n, 100 * c["suspicious"] / n, 100 * c["clean"] / n,
          "" if set(c) <= {"malicious", "suspicious", "clean"} else dict(c)))
