#!/usr/bin/env python3
"""summary.py MANIFEST... - counts of a corpus manifest against the issue-7 targets (stdlib only).

Prints label x kind x subkind(base type, plus dotnet/installer flags) totals, the per-group counts,
and the target checks (malicious PE >= 5000 from >= 15 sources, >= 1000 DLLs, >= 500 64-bit;
benign PE >= 8000 from >= 300 sources, >= 2000 EXEs, no source above 15 %; benign VBA docs >= 500).
"""
import collections, sys


def load(paths):
    rows = []
    for p in paths:
        with open(p, errors="replace") as f:
            f.readline()
            rows += [l.rstrip("\n").split("\t") for l in f if l.strip()]
    return rows


def base(sub):
    parts = sub.replace("-dotnet", ",dotnet").split(",")
    b = parts[0]
    if b in ("pe32", "pe32+"):   # starter benign-PE tags: pe32+,amd64,dll,gui,...
        b = {"pe32": "PE32", "pe32+": "PE32+"}[b] + ("-dll" if "dll" in parts else "-exe")
    extra = [t for t in parts[1:] if t == "dotnet" or t.startswith("installer")]
    return b + ("," + ",".join(sorted(set(extra))) if extra else "")


def main():
    rows = load(sys.argv[1:])
    c = collections.Counter((r[1], r[2], base(r[3])) for r in rows)
    print("label\tkind\tsubkind\tfiles\tgroups")
    groups = collections.defaultdict(set)
    for r in rows:
        groups[(r[1], r[2], base(r[3]))].add(r[6])
    for k in sorted(c):
        print("%s\t%s\t%s\t%d\t%d" % (k + (c[k], len(groups[k]))))
    print()
    g = collections.Counter((r[1], r[2], r[6]) for r in rows)
    print("label\tkind\tgroup\tfiles")
    for k, n in sorted(g.items(), key=lambda kv: (kv[0][0], kv[0][1], -kv[1])):
        print("%s\t%s\t%s\t%d" % (k + (n,)))
    print()
    mpe = [r for r in rows if r[1] == "malicious" and r[2] == "pe"]
    bpe = [r for r in rows if r[1] == "benign" and r[2] == "pe"]
    bvba = [r for r in rows if r[1] == "benign" and r[2] == "office" and "vba" in r[3]]
    bg = collections.Counter(r[6] for r in bpe)
    top = bg.most_common(1)[0] if bg else ("-", 0)
    print("targets:")
    print("  malicious PE %d (>=5000) from %d sources (>=15); DLL %d (>=1000); 64-bit %d (>=500)" % (
        len(mpe), len(set(r[6] for r in mpe)), sum("-dll" in base(r[3]) for r in mpe), sum(base(r[3]).startswith("PE32+") for r in mpe)))
    print("  benign PE %d (>=8000) from %d sources (>=300); EXE %d (>=2000); largest source %s %.1f%% (<=15%%)" % (
        len(bpe), len(bg), sum("-exe" in base(r[3]) for r in bpe), top[0], 100.0 * top[1] / max(1, len(bpe))))
    print("  benign documents with VBA %d (>=500) from %d sources" % (len(bvba), len(set(r[6] for r in bvba))))


if __name__ == "__main__":
    main()
