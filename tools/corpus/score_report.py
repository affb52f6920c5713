#!/usr/bin/env python3
"""score_report.py - detection rates of malicious files at fixed score thresholds (stdlib only).

    score_report.py SCORES.tsv [--threshold T]... [--model-dir models/pe] [--markdown]

SCORES.tsv is what `mamori eval --scores` writes (sha256 label group family type score rule). The thresholds
default to the model's own `threshold` (the malicious verdict) and `suspicious_threshold` from
MODEL_DIR/meta.json. Prints, for the malicious rows, the share at or above each threshold overall, per source
group, per file type (the model's own bucket: 32/64, exe/dll, dotnet) and per family (families with 5+ files).
The benign rows, if any, are counted as false positives at the same thresholds.

Used for the "files the shipped model never saw" measurements: no training, no threshold is re-chosen here.
"""
import argparse, collections, json, os, sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scores")
    ap.add_argument("--threshold", type=float, action="append")
    ap.add_argument("--model-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../models/pe"))
    ap.add_argument("--min-family", type=int, default=5)
    ap.add_argument("--markdown", action="store_true", help="markdown tables instead of aligned text")
    a = ap.parse_args()
    thr = a.threshold
    if not thr:
        with open(os.path.join(a.model_dir, "meta.json")) as f:
            meta = json.load(f)
        thr = [meta["threshold"], meta["suspicious_threshold"]]
    mal, ben = [], []
    with open(a.scores) as f:
        head = f.readline().rstrip("\n").split("\t")
        col = {n: i for i, n in enumerate(head)}
        for line in f:
            r = line.rstrip("\n").split("\t")
            if len(r) < len(head):
                continue
            row = (r[col["group"]], r[col["family"]], r[col["type"]], float(r[col["score"]]))
            (mal if r[col["label"]] == "malicious" else ben).append(row)

    def rates(rows):
        return [sum(1 for x in rows if x[3] >= t) for t in thr]

    def table(title, key, rows, min_n=1):
        by = collections.defaultdict(list)
        for x in rows:
            by[key(x)].append(x)
        items = sorted(((k, v) for k, v in by.items() if len(v) >= min_n), key=lambda kv: (-len(kv[1]), kv[0]))
        hdr = [title, "files"] + ["TPR at %.5f" % t for t in thr]
        out = []
        for k, v in items:
            hit = rates(v)
            out.append([k, str(len(v))] + ["%.1f%% (%d)" % (100.0 * h / len(v), h) for h in hit])
        hit = rates(rows)
        out.append(["all", str(len(rows))] + ["%.1f%% (%d)" % (100.0 * h / max(1, len(rows)), h) for h in hit])
        if a.markdown:
            print("| " + " | ".join(hdr) + " |")
            print("|" + "---|" * len(hdr))
            for o in out:
                print("| " + " | ".join(o) + " |")
        else:
            w = [max(len(str(x[i])) for x in out + [hdr]) for i in range(len(hdr))]
            for o in [hdr] + out:
                print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(o)))
        print()

    if not mal:
        print("no malicious rows in %s" % a.scores, file=sys.stderr)
        return 1
    table("source group", lambda x: x[0], mal)
    table("file type", lambda x: x[2], mal)
    table("family (%d+ files)" % a.min_family, lambda x: x[1], mal, a.min_family)
    if ben:
        fp = rates(ben)
        print("benign rows: %d; at or above each threshold: %s" % (len(ben), ", ".join(str(x) for x in fp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
