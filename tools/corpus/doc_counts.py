#!/usr/bin/env python3
"""doc_counts.py - documents by label x type, before and after a corpus change (stdlib only).

    python3 tools/corpus/doc_counts.py BEFORE.tsv AFTER.tsv

Both files are `mamori eval --kind office --scores` outputs (sha256, label, group, family, type, score, rule); the
type is the one the feature vector gives (features::office_bucket), grouped as tools/corpus/doc_scores.py groups it.
Prints a Markdown table (files, and source groups after), the totals, and the benign documents with macros.
"""
import collections, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from doc_scores import TYPE_NAMES  # noqa: E402


def load(path):
    with open(path) as f:
        next(f)
        return [(p[1], p[4], p[2]) for p in (l.rstrip("\n").split("\t") for l in f) if len(p) > 4]


def bucket(t):
    return next((n for n, f in TYPE_NAMES if f(t)), "other (%s)" % t)


def table(rows):
    files, groups = collections.Counter(), collections.defaultdict(set)
    for label, t, g in rows:
        files[(bucket(t), label)] += 1
        groups[(bucket(t), label)].add(g)
    return files, groups


def with_macros(rows):
    return [r for r in rows if r[0] == "benign" and r[1].endswith(("-vba", "-xlm"))]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    before, after = load(sys.argv[1]), load(sys.argv[2])
    fb, _ = table(before)
    fa, ga = table(after)
    names = [n for n, _ in TYPE_NAMES]
    names += sorted({k[0] for k in list(fa) + list(fb)} - set(names))
    print("| type | malicious before | after (sources) | benign before | after (sources) |")
    print("|---|---|---|---|---|")
    for n in names:
        m, b = (n, "malicious"), (n, "benign")
        print("| %s | %d | %d (%d) | %d | %d (%d) |" % (n, fb[m], fa[m], len(ga[m]), fb[b], fa[b], len(ga[b])))
    for label in ("malicious", "benign"):
        print("%s: %d files from %d sources -> %d from %d" % (
            label, sum(1 for r in before if r[0] == label), len({r[2] for r in before if r[0] == label}),
            sum(1 for r in after if r[0] == label), len({r[2] for r in after if r[0] == label})))
    mb, ma = with_macros(before), with_macros(after)
    print("benign with macros (VBA or XLM): %d from %d sources -> %d from %d" % (
        len(mb), len({r[2] for r in mb}), len(ma), len({r[2] for r in ma})))


if __name__ == "__main__":
    main()
