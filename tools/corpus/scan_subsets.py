#!/usr/bin/env python3
"""scan_subsets.py MANIFEST SCAN_JSONL [FAMILY_REGEX]: engine verdicts (`mamori scan --json`) joined with the manifest on
sha256, counted for documents (kinds office, rtf, pdf) and for the other kinds apart, and with FAMILY_REGEX for the rows
whose family matches it and the rows whose family does not, each overall and per manifest subkind (stdlib only).
Corpus 10 reports its Exploit-DB set (family Exploit:EDB) apart this way."""
import collections, json, re, sys
man, scan = sys.argv[1], sys.argv[2]
fam = re.compile(sys.argv[3]) if len(sys.argv) > 3 else None
rows = {}
for i, l in enumerate(open(man)):
    if i: f = l.rstrip("\n").split("\t"); rows[f[0]] = f
c = collections.defaultdict(collections.Counter)
for l in open(scan):
    j = json.loads(l); r = rows.get(j["sha256"])
    if not r: continue
    what = "documents" if r[2] in ("office", "rtf", "pdf") else r[2]
    parts = ["all"] if fam is None else ["all", "family~" if fam.search(r[4]) else "family!~"]
    for p in parts:
        c[(r[1], what, p, "")][j["verdict"]] += 1
        c[(r[1], what, p, r[3])][j["verdict"]] += 1
for (lab, what, p, sub), v in sorted(c.items()):
    n = sum(v.values())
    print("%-9s %-9s %-8s %-28s n %4d  malicious %4d (%5.1f%%)  suspicious %4d  clean %4d" % (
        lab, what, p, sub or "(all)", n, v["malicious"], 100 * v["malicious"] / n, v["suspicious"], v["clean"]))
