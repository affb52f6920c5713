#!/usr/bin/env python3
"""pdf_lure_candidates.py FEATS.tsv [FEATS.tsv ...]: benign / malicious / Emotet counts of rule candidates for link-lure
PDFs (a few pages pointing at one web address), over the PDFs of the starter corpus and corpora v2, v3, PDF, 6, 8 and 10
(labels and families from their manifests). Stdlib only. FEATS.tsv is label, path and `mamori features --kind office`
JSON per line:

    while IFS=$'\\t' read -r lab p; do printf '%s\\t%s\\t' "$lab" "$p"; mamori features --kind office "$p" | tr -d '\\n'; echo; done < pdfs.tsv > feats.tsv

with pdfs.tsv the label and path of every kind-pdf row of those manifests. Also prints the shape of the Emotet PDFs."""
import collections, json, sys

fam = {}
for c in ["/tmp/mamori-corpus", "/tmp/mamori-corpus2", "/tmp/mamori-corpus3", "/tmp/mamori-corpus-pdf",
          "/tmp/mamori-corpus6", "/tmp/mamori-corpus8", "/tmp/mamori-corpus10"]:
    for i, l in enumerate(open(c + "/manifest.tsv", errors="replace")):
        f = l.rstrip("\n").split("\t")
        if i == 0 or len(f) < 10:
            continue
        fam[f[9] if f[9].startswith("/") else c + "/" + f[9]] = (f[4], f[6])
rows = []
for fn in sys.argv[1:]:
    for l in open(fn, errors="replace"):
        try:
            lab, p, js = l.rstrip("\n").split("\t", 2)
            rows.append((lab, p, json.loads(js)))
        except ValueError:
            pass


def g(x, k):
    return x.get(k) or 0


emotet = [(p, x) for lab, p, x in rows if "emotet" in fam.get(p, ("", ""))[0].lower()]
keys = ["pdf.Page", "pdf_shape.uri_links", "pdf_shape.uri_distinct", "pdf_shape.max_uri_link_fraction",
        "pdf_shape.text_ops_per_page", "pdf_shape.images", "pdf.JS"]
print("Emotet PDFs:", " ".join(keys))
for p, x in emotet:
    print("  %s %s" % (p.rsplit("/", 1)[-1][:12], [round(g(x, k), 2) for k in keys]))
CANDIDATES = {
    "one page, one distinct http URI, <= 20 text operators":
        lambda x: g(x, "pdf.Page") == 1 and g(x, "pdf_shape.uri_distinct") == 1 and g(x, "pdf_shape.uri_plain_http") > 0
        and g(x, "pdf_shape.text_ops_per_page") <= 20,
    "one page, a link over >= 25% of it, http":
        lambda x: g(x, "pdf.Page") == 1 and g(x, "pdf_shape.max_uri_link_fraction") >= 0.25 and g(x, "pdf_shape.uri_plain_http") > 0,
    "<= 3 pages, one distinct URI, >= 2 URI links, http":
        lambda x: g(x, "pdf.Page") <= 3 and g(x, "pdf_shape.uri_distinct") == 1 and g(x, "pdf_shape.uri_links") >= 2
        and g(x, "pdf_shape.uri_plain_http") > 0,
    "<= 3 pages, one distinct URI, >= 2 URI links, no image, links < 5% of the page":
        lambda x: g(x, "pdf.Page") <= 3 and g(x, "pdf_shape.uri_distinct") == 1 and g(x, "pdf_shape.uri_links") >= 2
        and g(x, "pdf_shape.images") == 0 and g(x, "pdf_shape.max_uri_link_fraction") < 0.05,
}
print("PDFs: %s" % dict(collections.Counter(lab for lab, _, _ in rows)))
for name, f in CANDIDATES.items():
    hit = collections.Counter(lab for lab, _, x in rows if f(x))
    groups = collections.Counter(fam.get(p, ("", ""))[1] for lab, p, x in rows if lab == "benign" and f(x))
    print("%-80s benign %3d  malicious %3d  Emotet %d/%d  %s" % (name, hit["benign"], hit["malicious"],
          sum(1 for _, x in emotet if f(x)), len(emotet), dict(groups.most_common(4))))
