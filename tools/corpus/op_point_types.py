#!/usr/bin/env python3
"""op_point_types.py - office figures with a separate operating point for PDFs, over every fold packing (stdlib only).

    python3 tools/corpus/op_point_types.py SCORES.tsv --exclude-groups-from models/office/threshold-exclude-groups.txt
        [--pdf-scores PDF_SCORES.tsv] [--single | --pdf-fpr 0.005] [--fpr 0.005] [--threshold T] [--pdf-threshold T]
        [--subset NAME=MANIFEST[,MANIFEST...] ...]

SCORES.tsv is `mamori train --scores` output (score of packing 1, then one score_packingN column per further
--threshold-repeats packing) or `eval --cv group --scores` output (one packing). With --pdf-scores, the rows of type
pdf take their scores (and rule column) from that file instead, matched by sha256 (a PDF-only model's out-of-fold
scores); PDF rows missing there are dropped.

Thresholds are chosen the way `mamori train --threshold-repeats` chooses them, on the out-of-fold scores of all
packings pooled:
  --single: one threshold, FPR <= --fpr over the benign files outside the excluded groups (the shipped rule);
  otherwise: the document threshold at FPR <= --fpr over the benign files that are not PDFs, and the PDF threshold
  at FPR <= --pdf-fpr over all benign PDFs (the excluded groups included: they are the PDFs the threshold must spare).
--threshold / --pdf-threshold give them instead. At those thresholds, with the office rules counted (a file a rule
names is flagged), prints for each packing and their mean: TPR and false positives per subset, benign PDFs flagged
and benign documents with macros flagged.
"""
import argparse, fnmatch, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_scores import threshold_at  # noqa: E402


def read_scores(path):
    """sha256 -> row dict with a list of per-packing scores (None where the file was not scored)."""
    out = {}
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        cols = [5] + [i for i, h in enumerate(header) if h.startswith("score_packing")]
        for l in f:
            p = l.rstrip("\n").split("\t")
            if len(p) < 7:
                continue
            ss = [None if p[i] in ("nan", "") else float(p[i]) for i in cols]
            out[p[0]] = dict(sha=p[0], y=p[1] == "malicious", group=p[2], family=p[3], type=p[4], ss=ss,
                             rule=p[6] != "-")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scores")
    ap.add_argument("--pdf-scores")
    ap.add_argument("--exclude-groups-from")
    ap.add_argument("--single", action="store_true", help="one threshold for every type (the shipped rule)")
    ap.add_argument("--fpr", type=float, default=0.005)
    ap.add_argument("--pdf-fpr", type=float, default=0.005)
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--pdf-threshold", type=float)
    ap.add_argument("--subset", action="append", default=[], help="NAME=MANIFEST[,MANIFEST...]")
    a = ap.parse_args()
    globs = []
    if a.exclude_groups_from:
        globs = [l.strip() for l in open(a.exclude_groups_from) if l.strip() and not l.startswith("#")]
    rows = read_scores(a.scores)
    if a.pdf_scores:
        pdf = read_scores(a.pdf_scores)
        rows = {k: v for k, v in rows.items() if v["type"] != "pdf"}
        rows.update({k: v for k, v in pdf.items() if v["type"] == "pdf"})
    rows = list(rows.values())
    k_all = min(len(r["ss"]) for r in rows)
    excluded = lambda r: any(fnmatch.fnmatchcase(r["group"], g) for g in globs)
    is_pdf = lambda r: r["type"] == "pdf"

    def pooled(pred, fpr):
        return threshold_at([r["ss"][k] for r in rows for k in range(k_all)
                             if not r["y"] and pred(r) and r["ss"][k] is not None], fpr)

    if a.single:
        t_doc = a.threshold if a.threshold is not None else pooled(lambda r: not excluded(r), a.fpr)
        t_pdf = a.pdf_threshold if a.pdf_threshold is not None else t_doc
    else:
        t_doc = a.threshold if a.threshold is not None else pooled(lambda r: not is_pdf(r), a.fpr)
        t_pdf = a.pdf_threshold if a.pdf_threshold is not None else pooled(is_pdf, a.pdf_fpr)
    print("packings %d; threshold documents %.5f, PDFs %.5f (%s)" % (
        k_all, t_doc, t_pdf, "one threshold" if a.single else "documents at FPR <= %g over the benign non-PDFs, PDFs "
        "at FPR <= %g over the benign PDFs, pooled over the packings" % (a.fpr, a.pdf_fpr)))
    subsets = [("all", None)]
    for s in a.subset:
        name, files = s.split("=", 1)
        shas = set()
        for m in files.split(","):
            with open(m) as f:
                next(f)
                shas.update(l.split("\t", 1)[0] for l in f)
        subsets.append((name, shas))
    mean = {}
    for k in range(k_all):
        flag = lambda r: r["rule"] or r["ss"][k] >= (t_pdf if is_pdf(r) else t_doc)
        parts = []
        for name, shas in subsets:
            rs = [r for r in rows if r["ss"][k] is not None and (shas is None or r["sha"] in shas)]
            pos = [r for r in rs if r["y"]]
            neg = [r for r in rs if not r["y"]]
            v = dict(tp=sum(map(flag, pos)), fp=sum(map(flag, neg)), pdf_fp=sum(flag(r) for r in neg if is_pdf(r)),
                     mac_fp=sum(flag(r) for r in neg if r["type"].endswith(("-vba", "-xlm"))))
            for key, x in v.items():
                mean[(name, key)] = mean.get((name, key), 0.0) + x / k_all
            mean[(name, "pos")], mean[(name, "neg")] = len(pos), len(neg)
            parts.append("%s TPR %d/%d, FP %d of %d (PDF %d, macro %d)" % (name, v["tp"], len(pos), v["fp"], len(neg),
                                                                         v["pdf_fp"], v["mac_fp"]))
        print("packing %d: %s" % (k + 1, "; ".join(parts)))
    print("mean of the packings:")
    for name, _ in subsets:
        pos, neg = mean[(name, "pos")], mean[(name, "neg")]
        print("  %-6s TPR %5.1f%% (%.1f/%d)  FP %.1f of %d (%.2f%%; benign PDFs %.1f, benign with macros %.1f)" % (
            name, 100.0 * mean[(name, "tp")] / pos if pos else float("nan"), mean[(name, "tp")], pos, mean[(name, "fp")],
            neg, 100.0 * mean[(name, "fp")] / neg if neg else float("nan"), mean[(name, "pdf_fp")], mean[(name, "mac_fp")]))


if __name__ == "__main__":
    main()
