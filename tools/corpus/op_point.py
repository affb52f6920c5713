#!/usr/bin/env python3
"""op_point.py - office figures at one operating point, the way the trainer chooses it (stdlib only).

    python3 tools/corpus/op_point.py SCORES.tsv --exclude-groups-from models/office/threshold-exclude-groups.txt
        [--threshold T] [--fpr 0.005] [--subset NAME=MANIFEST ...]

The threshold (unless --threshold) is the out-of-fold model score (rules aside) at FPR <= --fpr over the benign files
outside the excluded groups, as `mamori train --threshold-exclude-groups-from` sets it. At that threshold, with the
office rules counted (a file a rule names is flagged), prints TPR and false positives overall, per --subset (rows whose
sha256 is in MANIFEST, e.g. the old corpora and corpus 6), per file type, for benign documents with macros and benign
PDFs, and per malicious source group of each subset.
"""
import argparse, collections, fnmatch, math, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_scores import TYPE_NAMES, threshold_at  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scores")
    ap.add_argument("--exclude-groups-from")
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--fpr", type=float, default=0.005)
    ap.add_argument("--subset", action="append", default=[], help="NAME=MANIFEST[,MANIFEST...]")
    ap.add_argument("--groups", action="store_true", help="also print every malicious source group of each subset")
    a = ap.parse_args()
    globs = []
    if a.exclude_groups_from:
        globs = [l.strip() for l in open(a.exclude_groups_from) if l.strip() and not l.startswith("#")]
    rows = []
    for i, l in enumerate(open(a.scores)):
        p = l.rstrip("\n").split("\t")
        if i == 0 or len(p) < 7 or p[5] in ("nan", ""):
            continue
        rows.append(dict(sha=p[0], y=p[1] == "malicious", group=p[2], family=p[3], type=p[4], s=float(p[5]),
                         rule=p[6] != "-"))
    pop_neg = [r["s"] for r in rows if not r["y"] and not any(fnmatch.fnmatchcase(r["group"], g) for g in globs)]
    thr = a.threshold if a.threshold is not None else threshold_at(pop_neg, a.fpr)
    flag = lambda r: r["rule"] or r["s"] >= thr
    print("threshold %.5f (%s); benign outside the excluded groups: %d, of which flagged by the model alone: %d" % (
        thr, "given" if a.threshold is not None else "model score at FPR <= %g over them" % a.fpr, len(pop_neg),
        sum(s >= thr for s in pop_neg)))
    subsets = [("all", None)]
    for s in a.subset:
        name, files = s.split("=", 1)
        shas = set()
        for m in files.split(","):
            with open(m) as f:
                next(f)
                shas.update(l.split("\t", 1)[0] for l in f)
        subsets.append((name, shas))

    def line(name, rs):
        pos = [r for r in rs if r["y"]]
        neg = [r for r in rs if not r["y"]]
        tp, fp = sum(map(flag, pos)), sum(map(flag, neg))
        return "  %-30s TPR %6.1f%% (%d/%d)   FP %d of %d" % (name, 100.0 * tp / len(pos) if pos else float("nan"),
                                                             tp, len(pos), fp, len(neg))

    for name, shas in subsets:
        rs = [r for r in rows if shas is None or r["sha"] in shas]
        print("\n%s (rules counted)" % name)
        print(line("all", rs))
        for tname, pred in TYPE_NAMES:
            sub = [r for r in rs if pred(r["type"])]
            if sub:
                print(line(tname, sub))
        mac = [r for r in rs if not r["y"] and r["type"].endswith(("-vba", "-xlm"))]
        print("  benign with macros: FP %d of %d;  benign in excluded groups: FP %d of %d" % (
            sum(map(flag, mac)), len(mac),
            sum(flag(r) for r in rs if not r["y"] and any(fnmatch.fnmatchcase(r["group"], g) for g in globs)),
            sum(1 for r in rs if not r["y"] and any(fnmatch.fnmatchcase(r["group"], g) for g in globs))))
        emo = [r for r in rs if r["y"] and r["family"] == "Emotet"]
        if emo:
            print("  Emotet TPR %.1f%% (%d/%d)" % (100.0 * sum(map(flag, emo)) / len(emo), sum(map(flag, emo)), len(emo)))
        if a.groups:
            by = collections.defaultdict(list)
            for r in rs:
                if r["y"]:
                    by[r["group"]].append(r)
            for g, v in sorted(by.items(), key=lambda kv: -len(kv[1])):
                print("    %-50s %5.1f%% (%d/%d)" % (g[:50], 100.0 * sum(map(flag, v)) / len(v), sum(map(flag, v)), len(v)))


if __name__ == "__main__":
    main()
