#!/usr/bin/env python3
"""finalize.py - last pass over the v2 corpus (stdlib only).

 * drops rows whose sha256 is already in the starter manifest (it may have been incomplete while
   ingest ran), and any repeated sha256;
 * caps every benign PE source group at SHARE_CAP of the benign PE files (drops the excess,
   deterministically by sha256 order), so that no single source dominates;
 * rewrites OUT/manifest.tsv, appends the drops to OUT/skipped.tsv, deletes dropped files;
 * writes OUT/counts.tsv (label kind subkind-base group count) and the hash manifest
   (manifest columns without `path`, gzipped, sorted) to --hash-manifest for committing.
"""
import argparse, collections, gzip, os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--starter", default="/tmp/mamori-corpus/manifest.tsv")
    ap.add_argument("--share-cap", type=float, default=0.15)
    ap.add_argument("--hash-manifest")
    a = ap.parse_args()
    man = os.path.join(a.out, "manifest.tsv")
    with open(man) as f:
        header = f.readline()
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    starter = set()
    if os.path.exists(a.starter):
        with open(a.starter, errors="replace") as f:
            for l in f:
                starter.add(l.split("\t", 1)[0])
    keep, drop, seen = [], [], set()
    for r in rows:
        if r[0] in starter:
            drop.append((r, "duplicate:%s:v1" % r[0]))
        elif r[0] in seen:
            drop.append((r, "duplicate:%s:v2" % r[0]))
        else:
            seen.add(r[0])
            keep.append(r)
    # share cap on benign PE groups
    while True:
        bpe = [r for r in keep if r[1] == "benign" and r[2] == "pe"]
        total = len(bpe)
        by = collections.defaultdict(list)
        for r in bpe:
            by[r[6]].append(r)
        big = {g: v for g, v in by.items() if len(v) > a.share_cap * total}
        if not big or total < 50:
            break
        # largest allowed n for a group: n <= cap * (rest + n)  =>  n <= cap*rest/(1-cap)
        g, v = max(big.items(), key=lambda kv: len(kv[1]))
        rest = total - len(v)
        n = max(1, int(a.share_cap * rest / (1 - a.share_cap)))
        v.sort(key=lambda r: r[0])
        gone = set(r[0] for r in v[n:])
        for r in v[n:]:
            drop.append((r, "share-cap-%d%%" % round(a.share_cap * 100)))
        keep = [r for r in keep if not (r[6] == g and r[0] in gone and r[1] == "benign" and r[2] == "pe")]
    with open(man + ".new", "w") as f:
        f.write(header)
        for r in keep:
            f.write("\t".join(r) + "\n")
    os.replace(man + ".new", man)
    with open(os.path.join(a.out, "skipped.tsv"), "a") as f:
        for r, why in drop:
            f.write("%s\t%s\t%s\t%s\t%s\n" % (r[6], r[7], r[8], r[5], why))
            if len(r) > 9 and r[9].startswith(os.path.abspath(a.out)) and os.path.exists(r[9]):
                os.unlink(r[9])
    cnt = collections.Counter((r[1], r[2], r[3].split(",")[0], r[6]) for r in keep)
    with open(os.path.join(a.out, "counts.tsv"), "w") as f:
        f.write("label\tkind\tsubkind\tgroup\tcount\n")
        for k, n in sorted(cnt.items()):
            f.write("\t".join(k) + "\t%d\n" % n)
    if a.hash_manifest:
        with gzip.open(a.hash_manifest, "wt", compresslevel=9) as f:
            f.write("\t".join(header.rstrip("\n").split("\t")[:9]) + "\n")
            for r in sorted(keep, key=lambda r: (r[6], r[0])):
                f.write("\t".join(r[:9]) + "\n")
    print("finalize: kept %d, dropped %d" % (len(keep), len(drop)))


if __name__ == "__main__":
    main()
