#!/usr/bin/env python3
"""type_table.py SCORES [MODEL_DIR] - malicious TPR and benign files flagged at the model's two thresholds, per file type
(stdlib only).

SCORES is what `mamori eval --scores` writes (sha256 label group family type score rule); the type is the model's own
bucket (32/64, exe/dll, -dotnet). The rows 32-exe, 32-dll, 64-exe, 64-dll count .NET files too; the -dotnet rows are
the .NET part of them. A file a rule names counts as flagged (score 1), as in at_threshold.py. Thresholds are
`threshold` and `suspicious_threshold` of MODEL_DIR/meta.json (default models/pe): nothing is re-chosen here.
Prints a markdown table.
"""
import collections, json, os, sys


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    model = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../models/pe")
    with open(os.path.join(model, "meta.json")) as f:
        meta = json.load(f)
    thr, sus = meta["threshold"], meta["suspicious_threshold"]
    c = collections.defaultdict(lambda: [0, 0, 0])
    with open(sys.argv[1]) as f:
        f.readline()
        for line in f:
            r = line.rstrip("\n").split("\t")
            if len(r) < 7:
                continue
            lab, typ, score, rule = r[1], r[4], float(r[5]), r[6]
            s = 1.0 if rule not in ("", "-") else score
            base = ("64" if typ.startswith("64") else "32") + ("-dll" if "-dll" in typ else "-exe")
            for k in {base, typ, "all"}:
                x = c[(lab, k)]
                x[0] += 1
                x[1] += s >= thr
                x[2] += s >= sus
    pct = lambda x, i: "%.1f %% (%d)" % (100.0 * x[i] / x[0], x[i]) if x[0] else "-"
    print("| type | malicious | TPR at %.5f | TPR at %.5f | benign | flagged at %.5f | at %.5f |" % (thr, sus, thr, sus))
    print("|---|---|---|---|---|---|---|")
    for k in ["32-exe", "32-dll", "64-exe", "64-dll", "32-exe-dotnet", "32-dll-dotnet", "64-exe-dotnet", "64-dll-dotnet", "all"]:
        m, b = c[("malicious", k)], c[("benign", k)]
        print("| %s | %d | %s | %s | %d | %s | %s |" % (k, m[0], pct(m, 1), pct(m, 2), b[0], pct(b, 1), pct(b, 2)))


if __name__ == "__main__":
    main()
