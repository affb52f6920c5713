#!/usr/bin/env python3
"""doc_scores.py - per-type and per-source figures from `mamori eval --kind office --scores FILE` (stdlib only).

    python3 tools/corpus/doc_scores.py SCORES.tsv [--top-benign N]

Prints ROC AUC, TPR at FPR 0.5% and 1% (thresholds set on all the benign files of the run), the TPR of every file
type and source group at those two thresholds, the false positives among benign files with macros, and the
highest-scoring benign files (where the thresholds come from).
"""
import argparse, collections, math


def auc(pos, neg):
    if not pos or not neg:
        return float("nan")
    allv = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    rank, i, rsum = 1, 0, 0.0
    while i < len(allv):
        j = i
        while j < len(allv) and allv[j][0] == allv[i][0]:
            j += 1
        r = (rank + rank + (j - i) - 1) / 2.0
        rsum += r * sum(1 for k in range(i, j) if allv[k][1] == 1)
        rank += j - i
        i = j
    return (rsum - len(pos) * (len(pos) + 1) / 2.0) / (len(pos) * len(neg))


def threshold_at(neg, fpr):
    """Smallest threshold t with (#neg >= t) <= fpr * len(neg); files at or above t are flagged."""
    s = sorted(neg, reverse=True)
    allowed = int(math.floor(fpr * len(s) + 1e-9))
    if allowed >= len(s):
        return -1.0
    return math.nextafter(s[allowed], 2.0)


TYPE_NAMES = [
    ("VBA doc (OLE2 Word)", lambda t: t == "ole2:word-vba"),
    ("VBA xls (OLE2 Excel)", lambda t: t == "ole2:excel-vba"),
    ("XLM OLE (xls macro sheets)", lambda t: t == "ole2:excel-xlm"),
    ("XLM OOXML", lambda t: t == "ooxml:excel-xlm"),
    ("OOXML with VBA", lambda t: t.startswith("ooxml:") and t.endswith("-vba")),
    ("OOXML without macros", lambda t: t.startswith("ooxml:") and not t.endswith(("-vba", "-xlm"))),
    ("OLE2 without macros", lambda t: t.startswith("ole2:") and not t.endswith(("-vba", "-xlm"))),
    ("RTF", lambda t: t == "rtf"),
    ("PDF", lambda t: t == "pdf"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scores")
    ap.add_argument("--top-benign", type=int, default=12)
    ap.add_argument("--rules", action="store_true",
                    help="combine with the office rules (scores column 'rule'): a file a rule names scores 1")
    ap.add_argument("--remote-template", help="manifest(s) whose subkind marks remote templates, comma-separated")
    a = ap.parse_args()
    rows = []
    with open(a.scores) as f:
        next(f)
        for l in f:
            p = l.rstrip("\n").split("\t")
            if len(p) < 6 or p[5] in ("nan", ""):
                continue
            rule = p[6] if len(p) > 6 else "-"
            s = float(p[5])
            rows.append(dict(sha=p[0], y=1 if p[1] == "malicious" else 0, group=p[2], family=p[3], type=p[4],
                             s=1.0 if (a.rules and rule != "-") else s, rule=rule))
    remote = set()
    if a.remote_template:
        for m in a.remote_template.split(","):
            with open(m, errors="replace") as f:
                for l in f:
                    p = l.split("\t")
                    if len(p) > 3 and "remote_template" in p[3] or "remote-template" in p[3]:
                        remote.add(p[0])
    pos = [r["s"] for r in rows if r["y"]]
    neg = [r["s"] for r in rows if not r["y"]]
    t05, t1 = threshold_at(neg, 0.005), threshold_at(neg, 0.01)
    tpr = lambda rs, t: (sum(1 for r in rs if r["y"] and r["s"] >= t), sum(1 for r in rs if r["y"]))
    fp = lambda rs, t: (sum(1 for r in rs if not r["y"] and r["s"] >= t), sum(1 for r in rs if not r["y"]))
    pct = lambda a_b: "%5.1f%% (%d/%d)" % (100.0 * a_b[0] / a_b[1], a_b[0], a_b[1]) if a_b[1] else "n/a"
    print("files %d: malicious %d, benign %d%s" % (len(rows), len(pos), len(neg),
                                                  " (model score, or 1 when a rule names the file)" if a.rules else ""))
    rc = collections.Counter((r["rule"], "malicious" if r["y"] else "benign") for r in rows if r["rule"] != "-")
    if rc:
        print("rule hits: " + ", ".join("%s %s %d" % (k[0], k[1], n) for k, n in sorted(rc.items())))
    print("ROC AUC %.4f" % auc(pos, neg))
    print("TPR at FPR 0.5%%: %s  threshold %.5f  FP %s" % (pct(tpr(rows, t05)), t05, fp(rows, t05)[0]))
    print("TPR at FPR 1%%:   %s  threshold %.5f  FP %s" % (pct(tpr(rows, t1)), t1, fp(rows, t1)[0]))
    print("\nby file type          TPR@0.5%              TPR@1%                benign FP@0.5% / FP@1%")
    types = list(TYPE_NAMES)
    if remote:
        types.insert(4, ("remote template", None))
    for name, pred in types:
        rs = [r for r in rows if (r["sha"] in remote if pred is None else pred(r["type"]))]
        print("  %-28s %-20s %-20s %d / %d of %d" % (name, pct(tpr(rs, t05)), pct(tpr(rs, t1)), fp(rs, t05)[0],
                                                    fp(rs, t1)[0], fp(rs, t05)[1]))
    mac = [r for r in rows if not r["y"] and (r["type"].endswith("-vba") or r["type"].endswith("-xlm"))]
    print("\nbenign with macros: %d files, FP %d at FPR 0.5%%, %d at FPR 1%%" %
          (len(mac), sum(r["s"] >= t05 for r in mac), sum(r["s"] >= t1 for r in mac)))
    emo = [r for r in rows if r["family"] == "Emotet"]
    print("family Emotet: TPR %s at FPR 0.5%%, %s at 1%%" % (pct(tpr(emo, t05)), pct(tpr(emo, t1))))
    print("\nby source group (malicious: TPR@0.5%% / @1%%; benign: FP@0.5%% / @1%%)")
    by = collections.defaultdict(list)
    for r in rows:
        by[r["group"]].append(r)
    worst = None
    for g, rs in sorted(by.items(), key=lambda kv: -len(kv[1])):
        m = tpr(rs, t05)
        if m[1]:
            print("  %-60s mal %-20s %-20s" % (g[:60], pct(m), pct(tpr(rs, t1))))
            if m[1] >= 5 and (worst is None or m[0] / m[1] < worst[1]):
                worst = (g, m[0] / m[1])
        b = fp(rs, t05)
        if b[1] and (b[0] or fp(rs, t1)[0]):
            print("  %-60s ben FP %d / %d of %d" % (g[:60], b[0], fp(rs, t1)[0], b[1]))
    if worst:
        print("worst malicious source (>= 5 files): %s, TPR %.1f%% at FPR 0.5%%" % (worst[0], 100 * worst[1]))
    print("\nhighest-scoring benign files")
    for r in sorted([r for r in rows if not r["y"]], key=lambda r: -r["s"])[:a.top_benign]:
        print("  %.5f %-14s %s %s" % (r["s"], r["type"], r["group"], r["sha"][:16]))


if __name__ == "__main__":
    main()
