#!/usr/bin/env python3
"""ooxml_parts.py REGEX MANIFEST...: how many OOXML documents (kind office, zip container) of each label have a part whose
name matches REGEX (case-insensitive), e.g. '\\.eps$' (EPS images: CVE-2015-2545, CVE-2017-0261/0262) or 'afchunk|\\.rtf$'
(altChunk RTF, CVE-2023-36884); a rule candidate is only worth writing when the benign count is 0. Manifest paths are taken
relative to the manifest's folder. Stdlib only; the archives are only listed, nothing is extracted or run."""
import collections, os, re, sys, zipfile
rx = re.compile(sys.argv[1], re.I)
n, hit, groups = collections.Counter(), collections.Counter(), collections.defaultdict(collections.Counter)
for man in sys.argv[2:]:
    base = os.path.dirname(os.path.abspath(man))
    for i, l in enumerate(open(man, errors="replace")):
        f = l.rstrip("\n").split("\t")
        if i == 0 or len(f) < 10 or f[2] != "office": continue
        p = f[9] if f[9].startswith("/") else os.path.join(base, f[9])
        try:
            with open(p, "rb") as fh:
                if fh.read(2) != b"PK": continue
            names = zipfile.ZipFile(p).namelist()
        except (OSError, zipfile.BadZipFile, ValueError):
            continue
        n[f[1]] += 1
        if any(rx.search(x) for x in names):
            hit[f[1]] += 1; groups[f[1]][f[6]] += 1
for lab in sorted(n):
    print("%-9s OOXML %5d  with a part matching %s: %d  %s" % (lab, n[lab], sys.argv[1], hit[lab], dict(groups[lab])))
