#!/usr/bin/env python3
"""at_threshold.py SCORES MANIFEST THR [SUSP]: TPR/FP at a fixed operating point, rules counted (a file a rule names scores 1),
from `mamori eval --scores` output, overall, per manifest subkind and per source group (stdlib only)."""
import sys, collections
sc, man, thr = sys.argv[1], sys.argv[2], float(sys.argv[3]); sus = float(sys.argv[4]) if len(sys.argv) > 4 else None
sub = {}
for i, l in enumerate(open(man)):
    if i: f = l.rstrip("\n").split("\t"); sub[f[0]] = f[2] + ":" + f[3]
t = collections.defaultdict(lambda: [0, 0, 0])
for i, l in enumerate(open(sc)):
    if not i: continue
    h, lab, grp, fam, typ, s, rule = l.rstrip("\n").split("\t")[:7]
    s = 1.0 if rule not in ("", "-") else float(s)
    for k in ("all", "subkind " + sub.get(h, "?"), "group " + grp):
        x = t[(lab, k)]; x[0] += 1; x[1] += s >= thr; x[2] += sus is not None and s >= sus
for (lab, k), (n, a, b) in sorted(t.items(), key=lambda z: (z[0][0], z[0][1] != "all", z[0][1])):
    if lab == "benign" and k.startswith("group") and a == 0 and b == 0: continue
    print("%-9s %-55s n %5d  >=thr %5d (%5.1f%%)%s" % (lab, k[:55], n, a, 100 * a / n,
          "  >=susp %5d (%5.1f%%)" % (b, 100 * b / n) if sus is not None else ""))
