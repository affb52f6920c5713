#!/usr/bin/env python3
"""drop_overlap.py - removes from a new corpus the files that are probably copies of a held-out source (stdlib only).

../shared/corpus/RESERVED.md keeps back, for evaluation, part of the files of the collections already in the starter
corpus (theZoo, Endermanch, Da2dalus, ...), and forbids training on copies of them. A new collection that shares
files with one of them may also hold its held-out files, which no sha256 comparison can find. So, per source group of
OUT/manifest.tsv:
  * every file that came out of the same top-level archive as a file already in one of those starter groups
    (OUT/skipped.tsv records the duplicates with their sha256) is dropped: the archive is taken as a copy;
  * in a group that is a copy in part (at least --min-copied such archives, e.g. EgeBalci/MalwareDB: 70 of its zips
    hold theZoo files), every file whose family label shares a distinctive name token with a family of those starter
    groups (e.g. `Email-Worm.Win32.Mydoom`, theZoo's `Mydoom`) is dropped too. Other groups keep their own builds
    of a family that theZoo also has (a njRAT build from a RAT source dump is not a theZoo copy).
Dropped rows go to OUT/skipped.tsv as `copy-of-held-out-source:<group>`, their files are deleted. Run finalize.py
afterwards to rewrite counts and the hash manifest.

    drop_overlap.py --out /tmp/mamori-corpus4 --starter /tmp/mamori-corpus/manifest.tsv
"""
import argparse, collections, os, re, sys

# The sources RESERVED.md lists as "already in this folder" (their held-out files are not in the starter).
HELD_OUT_GROUPS = ["gh:ytisf+theZoo", "gh:jstrosch+malware-samples", "gh:Endermanch+MalwareDatabase",
                   "gh:Da2dalus+The-MALWARE-Repo", "gh:mstfknn+malware-sample-library",
                   "gh:fabrimagic72+malware-samples", "gh:DissectMalware+XLMMacroDeobfuscator", "gh:PiratesRE+emoteted",
                   "gh:cecio+EMOTET-2020-Reversing", "gh:hnaah20+Emotet-Epoch4-CaseStudy", "gh:ulexec+EmotetCFU",
                   "gh:mrphrazer+obfuscation_detection"]
# Words of family labels that say nothing about the family itself.
GENERIC = {"win32", "win64", "msil", "multi", "linux", "macos", "android", "trojan", "backdoor", "ransomware", "virus",
           "worm", "email", "spyware", "banker", "downloader", "dropper", "stealer", "generic", "malware", "sample",
           "samples", "loader", "agent", "unknown", "unnamed", "exploit", "hacktool", "adware", "rootkit", "bootkit",
           "keylogger", "packed", "unpacked", "payload", "variant", "version", "2020", "2021", "2022", "2023", "2019",
           "2018", "2017", "2016", "wiper", "miner", "coinminer", "scareware", "fakeav", "epoch", "builder", "server",
           "client", "stub"}


def tokens(s):
    return {t for t in re.split(r"[^a-z0-9]+", s.lower()) if len(t) > 3 and t not in GENERIC and not t.isdigit()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--starter", default="/tmp/mamori-corpus/manifest.tsv")
    ap.add_argument("--min-copied", type=int, default=10)
    a = ap.parse_args()
    held = set(HELD_OUT_GROUPS)
    sha_group, fam_tokens = {}, set()
    with open(a.starter, errors="replace") as f:
        for line in f:
            r = line.rstrip("\n").split("\t")
            if len(r) > 6 and r[6] in held:
                sha_group[r[0]] = r[6]
                if r[4] not in ("", "-"):
                    fam_tokens |= tokens(r[4])
    # Top-level archives (per group) that hold a file of a held-out source.
    copied = {}
    skipped = os.path.join(a.out, "skipped.tsv")
    with open(skipped, errors="replace") as f:
        for line in f:
            r = line.rstrip("\n").split("\t")
            if len(r) > 4 and r[4].startswith("duplicate:"):
                sha = r[4].split(":")[1]
                if sha in sha_group:
                    copied[(r[0], r[2].split("!")[0])] = sha_group[sha]
    per_group = collections.Counter(g for g, _ in copied)
    partial_copy = {g for g, n in per_group.items() if n >= a.min_copied}
    man = os.path.join(a.out, "manifest.tsv")
    with open(man) as f:
        header = f.readline()
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    keep, drop = [], []
    for r in rows:
        why = copied.get((r[6], r[8].split("!")[0]))
        if not why and r[6] in partial_copy:
            hit = tokens(r[4]) & fam_tokens if r[4] not in ("", "-") else set()
            why = "family:" + ",".join(sorted(hit)) if hit else None
        (drop if why else keep).append((r, why))
    with open(man + ".new", "w") as f:
        f.write(header)
        for r, _ in keep:
            f.write("\t".join(r) + "\n")
    os.replace(man + ".new", man)
    kept = {r[0] for r, _ in keep}
    by = collections.Counter()
    with open(skipped, "a") as s:
        for r, why in drop:
            s.write("%s\t%s\t%s\t%s\tcopy-of-held-out-source:%s\n" % (r[6], r[7], r[8], r[5], why))
            by[r[6]] += 1
            p = r[9] if r[9].startswith("/") else os.path.join(a.out, r[9])
            if r[0] not in kept and os.path.exists(p):
                os.remove(p)
    print("drop_overlap: kept %d, dropped %d %s" % (len(keep), len(drop), dict(by)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
