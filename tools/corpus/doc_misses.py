#!/usr/bin/env python3
"""doc_misses.py MANIFEST SCAN_JSONL [--all]: one line per malicious file the engine does not call malicious and per benign
file it flags (`mamori scan --json` joined with the manifest on sha256): label, verdict, score, subkind, group, name, the
rule or context keys, anomalies and the three largest model contributions, so misses can be grouped by shape (stdlib only).
With --all every file is listed."""
import json, sys
man, scan = sys.argv[1], sys.argv[2]
every = "--all" in sys.argv[3:]
rows = {}
for i, l in enumerate(open(man)):
    if i == 0: continue
    f = l.rstrip("\n").split("\t"); rows[f[0]] = f
for l in open(scan):
    j = json.loads(l); r = rows.get(j["sha256"])
    if not r: continue
    lab, v = r[1], j["verdict"]
    if not every and ((lab == "malicious" and v == "malicious") or (lab == "benign" and v == "clean")): continue
    ctx = j.get("context") or {}
    keys = sorted(set(k.split(" ")[0] if k.startswith("payload") else k for k in ctx))
    rule = ctx.get("rule", "")
    top = sorted(j.get("reasons") or [], key=lambda x: -abs(x.get("contribution", 0)))[:3]
    print("\t".join([lab, v, "%.3f" % (j.get("score") or 0), r[3], r[6], r[8][:70], "rule=" + rule,
                     "ctx=" + ",".join(keys)[:80], "anom=" + ",".join(j.get("anomalies") or [])[:120],
                     "top=" + ";".join("%s%+.2f" % (x["feature"], x["contribution"]) for x in top)]))
