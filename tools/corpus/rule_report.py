#!/usr/bin/env python3
"""What a change to the structural rules did, from two `mamori scan --json` runs over the same documents.

    rule_report.py --manifest M [--manifest M ...] --before before.jsonl --after after.jsonl \
        [--oof scores.tsv --threshold T [--type pdf]] [--rule-prefix pdf-]

Prints, per label and kind, the verdict counts before and after; every file whose verdict or score changed that is
benign (there should be none); for each rule name that appears after (and not before on that file), the files it
names by label and source and how many it raised from clean or suspicious. With --oof (the out-of-fold scores of
`mamori eval --cv group --scores`, columns sha256 label group family type score rule) it also gives, per type and
corpus folder, the files at or above T or named by a vector rule, then the same with the files the structural rules
of the after run name (a structural rule needs no model, so it holds out of fold as it does in the scan).
"""
import argparse
import collections
import json
import os


def read_manifests(paths):
    meta = {}
    for m in paths:
        base = os.path.dirname(m)
        with open(m) as fh:
            head = fh.readline().rstrip("\n").split("\t")
            col = {n: i for i, n in enumerate(head)}
            for line in fh:
                f = line.rstrip("\n").split("\t")
                p = f[col["path"]]
                if not p.startswith("/"):
                    p = os.path.join(base, p)
                meta[p] = dict(sha=f[col["sha256"]], label=f[col["label"]], kind=f[col["kind"]], group=f[col["group"]],
                               corpus=os.path.basename(base))
    return meta


def read_scan(path):
    out = {}
    with open(path) as fh:
        for line in fh:
            if not line.startswith("{"):
                continue
            try:
                j = json.loads(line)
            except ValueError:
                continue
            if "path" in j:
                out[j["path"]] = (j.get("verdict"), j.get("score"), (j.get("context") or {}).get("rule", ""))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", action="append", required=True)
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--oof")
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--rule-prefix", default="")
    ap.add_argument("--type", help="only this type in the out-of-fold table (e.g. pdf)")
    a = ap.parse_args()
    meta = read_manifests(a.manifest)
    before, after = read_scan(a.before), read_scan(a.after)
    common = [p for p in after if p in before and p in meta]
    print(f"files in both runs and the manifests: {len(common)}")
    counts = collections.Counter()
    for p in common:
        m = meta[p]
        counts[(m["label"], m["kind"], "before", before[p][0])] += 1
        counts[(m["label"], m["kind"], "after", after[p][0])] += 1
    for k in sorted(counts):
        print("  verdicts", *k, counts[k])
    named = collections.Counter()
    raised = collections.Counter()
    for p in common:
        m = meta[p]
        b, x = before[p], after[p]
        if m["label"] == "benign" and b[:2] != x[:2]:
            print("  BENIGN CHANGED", p, b, x)
        if x[2] and x[2] != b[2] and x[2].startswith(a.rule_prefix):
            named[(x[2], m["label"], m["group"])] += 1
            if b[0] != "malicious":
                raised[(x[2], m["label"], m["group"], b[0])] += 1
    for k in sorted(named):
        print("  named", *k, named[k])
    for k in sorted(raised):
        print("  raised", *k, raised[k])
    if not a.oof:
        return
    structural = {meta[p]["sha"] for p in common if after[p][2] and after[p][2] != before[p][2]
                  and after[p][2].startswith(a.rule_prefix)}
    corpus_of = {m["sha"]: m["corpus"] for m in meta.values()}
    oof = collections.Counter()
    with open(a.oof) as fh:
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if f[0] == "sha256" or len(f) < 7:
                continue
            sha, label, typ, score, rule = f[0], f[1], f[4], float(f[5]), f[6]
            if a.type and typ != a.type:
                continue
            key = (typ, corpus_of.get(sha, "?"), label)
            base = score >= a.threshold or rule != "-"
            oof[key + ("n",)] += 1
            oof[key + ("model+rules",)] += base
            oof[key + ("+structural",)] += base or sha in structural
    for k in sorted(oof):
        print("  out of fold", *k, oof[k])


if __name__ == "__main__":
    main()
