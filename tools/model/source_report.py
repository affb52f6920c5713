#!/usr/bin/env python3
"""Per-source figures from a `mamori eval --scores` file.

Issue 7 asks for the number that matters on unseen sources: not the pooled TPR, which the largest sources
dominate, but the TPR of each source the model never saw, its mean and its worst value. The scores file of a
group cross-validation holds one out-of-fold score per file; this script joins it with the manifests (so that
sources merged into one CV group, e.g. the CIS*6530 course repositories, are still reported one by one) and
prints, at the thresholds where the pooled out-of-fold FPR is 0.1% and 1% (and at --threshold if given):
pooled TPR/FPR, the mean TPR over malicious sources with at least --min-files files, the worst sources, the
benign sources with the highest FPR, TPR and FPR by file type, and the FPR on benign installers (manifest subkind
naming an installer: NSIS, Inno Setup, SFX, MSI stubs...), the false positives issue 7 was filed about.

    tools/model/source_report.py --scores S.tsv --manifest M1.tsv --manifest M2.tsv [--threshold T] [--json OUT]
"""
import argparse
import csv
import json
import sys
from collections import defaultdict


def threshold_at_fpr(benign_scores, fpr):
    # The lowest threshold whose FPR (score >= threshold) stays <= fpr; ties move the threshold up.
    s = sorted(benign_scores, reverse=True)
    allowed = int(fpr * len(s))
    if allowed >= len(s):
        return 0.0
    t = s[allowed]
    return t + 1e-12


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scores", required=True)
    ap.add_argument("--manifest", action="append", default=[], help="for the original source group of each file")
    ap.add_argument("--threshold", type=float, action="append", default=[], help="also report at this score")
    ap.add_argument("--min-files", type=int, default=20)
    ap.add_argument("--worst", type=int, default=8)
    ap.add_argument("--json")
    ap.add_argument("--common-with", help="another scores file: also print the mean source TPR over the malicious "
                    "sources both files hold (>= --min-files each), to compare two models trained on different sets")
    a = ap.parse_args()

    origin, subkind = {}, {}
    for m in a.manifest:
        with open(m, newline="") as f:
            for r in csv.DictReader(f, delimiter="\t"):
                origin.setdefault(r["sha256"], r["group"])
                subkind.setdefault(r["sha256"], r.get("subkind") or "")

    rows, installer_scores = [], []
    with open(a.scores, newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if r["score"] in ("", "nan"):
                continue
            rows.append((origin.get(r["sha256"], r["group"]), r["label"] == "malicious", float(r["score"]), r["type"]))
            if r["label"] != "malicious" and "install" in subkind.get(r["sha256"], "").lower():
                installer_scores.append((subkind[r["sha256"]], float(r["score"])))
    ben = [s for _, y, s, _ in rows if not y]
    points = [("fpr0.1%", threshold_at_fpr(ben, 0.001)), ("fpr1%", threshold_at_fpr(ben, 0.01))]
    points += [("thr%.5f" % t, t) for t in a.threshold]

    other = set()
    if a.common_with:
        cnt = defaultdict(int)
        with open(a.common_with, newline="") as f:
            for r in csv.DictReader(f, delimiter="\t"):
                if r["label"] == "malicious" and r["score"] not in ("", "nan"):
                    cnt[origin.get(r["sha256"], r["group"])] += 1
        other = {g for g, n in cnt.items() if n >= a.min_files}

    by_src = defaultdict(list)
    for g, y, s, _ in rows:
        by_src[(g, y)].append(s)
    out = {"files": len(rows), "malicious": sum(1 for r in rows if r[1]), "benign": len(ben), "points": {}}
    for name, t in points:
        tp = sum(1 for _, y, s, _ in rows if y and s >= t)
        fp = sum(1 for s in ben if s >= t)
        src = []
        for (g, y), ss in by_src.items():
            if y and len(ss) >= a.min_files:
                src.append((sum(1 for s in ss if s >= t) / len(ss), len(ss), g))
        src.sort()
        bsrc = []
        for (g, y), ss in by_src.items():
            if not y and len(ss) >= a.min_files:
                bsrc.append((sum(1 for s in ss if s >= t) / len(ss), len(ss), g))
        bsrc.sort(reverse=True)
        types = defaultdict(lambda: [0, 0, 0, 0])
        for _, y, s, ty in rows:
            c = types[ty]
            if y:
                c[0] += 1
                c[1] += s >= t
            else:
                c[2] += 1
                c[3] += s >= t
        p = {
            "threshold": t,
            "tpr": tp / max(1, out["malicious"]),
            "fp": fp,
            "fpr": fp / max(1, len(ben)),
            "sources": len(src),
            "mean_source_tpr": sum(x[0] for x in src) / max(1, len(src)),
            "worst_sources": [{"group": g, "files": n, "tpr": v} for v, n, g in src[: a.worst]],
            "worst_benign_sources": [{"group": g, "files": n, "fpr": v} for v, n, g in bsrc[:5] if v > 0],
            "by_type": {k: {"malicious": c[0], "tpr": c[1] / c[0] if c[0] else None, "benign": c[2],
                            "fpr": c[3] / c[2] if c[2] else None} for k, c in sorted(types.items())},
        }
        inst_fp = [k for k, sc in installer_scores if sc >= t]
        p["installers"] = {"benign": len(installer_scores), "fp": len(inst_fp),
                           "fpr": len(inst_fp) / len(installer_scores) if installer_scores else None,
                           "fp_subkinds": sorted(inst_fp)}
        out["points"][name] = p
        print(f"{name:12s} threshold {t:.5f}  TPR {100 * p['tpr']:5.1f}%  FP {fp} of {len(ben)} "
              f"({100 * p['fpr']:.2f}%)  mean TPR over {len(src)} malicious sources (>= {a.min_files} files) "
              f"{100 * p['mean_source_tpr']:5.1f}%")
        if a.common_with:
            common = [x for x in src if x[2] in other]
            p["common_sources"] = len(common)
            p["mean_common_source_tpr"] = sum(x[0] for x in common) / max(1, len(common))
            print(f"  mean TPR over the {len(common)} sources also in --common-with: "
                  f"{100 * p['mean_common_source_tpr']:.1f}%")
        print("  worst: " + ", ".join(f"{g} {100 * v:.1f}% of {n}" for v, n, g in src[: a.worst]))
        print("  by type (TPR / FPR): " + ", ".join(
            f"{k} {100 * v['tpr']:.1f}% / {100 * v['fpr']:.2f}%" if v["fpr"] is not None else f"{k} {100 * v['tpr']:.1f}% / -"
            for k, v in p["by_type"].items() if v["tpr"] is not None and v["malicious"] >= 20))
        i = p["installers"]
        if i["benign"]:
            print(f"  benign installers: FP {i['fp']} of {i['benign']} ({100 * i['fpr']:.1f}%)"
                  + (" [" + ", ".join(i["fp_subkinds"]) + "]" if i["fp_subkinds"] else ""))
        if p["worst_benign_sources"]:
            print("  benign: " + ", ".join(f"{b['group']} {100 * b['fpr']:.1f}% of {b['files']}"
                                           for b in p["worst_benign_sources"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
