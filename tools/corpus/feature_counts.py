#!/usr/bin/env python3
"""feature_counts.py - how many documents with macros have a feature > 0, split into malicious missed / malicious
detected (by a run's out-of-fold scores, model alone unless --rules) / benign, for the whole set and for OOXML documents with VBA (stdlib only).

    python3 tools/corpus/feature_counts.py --cache FEATURES.cache --scores SCORES.tsv --threshold T \
        [--features 'chain.*' ...] [--rules] [--mamori build/mamori] [--list NAME]

FEATURES.cache is a `mamori train/eval --kind office --cache` file written by the current schema (its names come
from `mamori features --kind office`); SCORES.tsv is `mamori eval --scores` output (sha256, label, group, family,
type, score, rule). "Missed" is a malicious file scored below T (and, with --rules, named by no rule). Documents with macros are
those with macro.code_lines > 0 or xlm.macro_sheets > 0, as in the training report's "benign with macros".
--list NAME prints the sha256 prefixes and sources of the benign files where NAME > 0.
"""
import argparse, fnmatch, re, struct, subprocess


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", required=True)
    ap.add_argument("--scores", required=True)
    ap.add_argument("--threshold", type=float, required=True)
    ap.add_argument("--features", action="append", default=[])
    ap.add_argument("--mamori", default="build/mamori")
    ap.add_argument("--rules", action="store_true")
    ap.add_argument("--list")
    a = ap.parse_args()
    md = subprocess.run([a.mamori, "features", "--kind", "office"], capture_output=True, text=True, check=True).stdout
    names = [m.group(1) for m in re.finditer(r"^\| \d+ \| (\S+) \|$", md, re.M)]
    idx = {n: i for i, n in enumerate(names)}
    vec = {}
    with open(a.cache, "rb") as f:
        head = f.readline().split()
        n = int(head[2])
        if n != len(names):
            raise SystemExit("cache has %d features, the schema of %s has %d" % (n, a.mamori, len(names)))
        while True:
            sha = f.read(64)
            if len(sha) < 64:
                break
            vec[sha.decode()] = struct.unpack("<%df" % n, f.read(4 * n))
    cols = {k: [] for k in ("missed", "detected", "benign", "ooxml_missed", "ooxml_detected", "ooxml_benign")}
    with open(a.scores) as f:
        for line in f:
            r = line.rstrip("\n").split("\t")
            if r[0] == "sha256" or r[0] not in vec:
                continue
            v = vec[r[0]]
            if not (v[idx["macro.code_lines"]] > 0 or v[idx["xlm.macro_sheets"]] > 0):
                continue
            if r[1] == "malicious":
                k = "detected" if float(r[5]) >= a.threshold or (a.rules and len(r) > 6 and r[6] not in ("", "-")) else "missed"
            else:
                k = "benign"
            cols[k].append((r, v))
            if r[4].startswith("ooxml:") and r[4].endswith("-vba"):
                cols["ooxml_" + k].append((r, v))
    print("| feature > 0 | missed malicious (%d) | detected malicious (%d) | benign (%d) | "
          "OOXML+VBA missed (%d) | detected (%d) | benign (%d) |" % tuple(len(c) for c in cols.values()))
    print("|---|---|---|---|---|---|---|")
    pats = a.features or ["chain.*"]
    for name in names:
        if any(fnmatch.fnmatch(name, p) for p in pats):
            i = idx[name]
            print("| %s | %s |" % (name, " | ".join(str(sum(1 for _, v in c if v[i] > 0)) for c in cols.values())))
    if a.list:
        i = idx[a.list]
        for r, v in cols["benign"]:
            if v[i] > 0:
                print(r[0][:16], r[2], r[4])


if __name__ == "__main__":
    main()
