#!/usr/bin/env python3
"""vba_link_candidates.py FEATS.tsv [PATH...]: benign / malicious counts of project-wide rule candidates for VBA
droppers whose auto-exec -> write/download -> execute chain is split across modules (corpus 10's misses), over
documents with macros (macro.code_lines > 0 or xlm.macro_sheets > 0, as in feature_counts.py). PATHs (optional) are
misses to report by name. Stdlib only; FEATS.tsv is label, path and `mamori features --kind office` JSON per line:

    while IFS=$'\\t' read -r lab p; do printf '%s\\t%s\\t' "$lab" "$p"; mamori features --kind office "$p" | tr -d '\\n'; echo; done < office.list > feats.tsv

with office.list the label and path of every kind-office row of the manifests."""
import collections, json, sys

rows = []
for line in open(sys.argv[1], errors="replace"):
    lab, path, js = line.rstrip("\n").split("\t", 2)
    try:
        rows.append((lab, path, json.loads(js)))
    except ValueError:
        pass
misses = set(sys.argv[2:])


def g(x, k):
    return x.get(k) or 0


def word_open(x):  # Word's own open triggers (AutoOpen, Document_Open)
    return g(x, "macro_kw.autoopen") + g(x, "macro_kw.document_open") > 0


CANDIDATES = {
    "word open + names an executable from the trigger": lambda x: word_open(x) and g(x, "chain.trigger_executable_string") > 0,
    "word open + writes + executes (anywhere) + names an executable from the trigger":
        lambda x: word_open(x) and g(x, "macro.cat_write") > 0 and g(x, "macro.cat_execute") > 0 and g(x, "chain.trigger_executable_string") > 0,
    "any auto-exec + writes + executes + names an executable from the trigger":
        lambda x: g(x, "macro.autoexec") > 0 and g(x, "macro.cat_write") > 0 and g(x, "macro.cat_execute") > 0 and g(x, "chain.trigger_executable_string") > 0,
    "word open + writes + executes (anywhere)": lambda x: word_open(x) and g(x, "macro.cat_write") > 0 and g(x, "macro.cat_execute") > 0,
}
macro = [(lab, p, x) for lab, p, x in rows if g(x, "macro.code_lines") > 0 or g(x, "xlm.macro_sheets") > 0]
n = collections.Counter(lab for lab, _, _ in macro)
print("documents with macros: %s; benign with a Word open trigger: %d" % (dict(n), sum(1 for lab, _, x in macro if lab == "benign" and word_open(x))))
for name, f in CANDIDATES.items():
    hit = collections.Counter(lab for lab, _, x in macro if f(x))
    named = [p.rsplit("/", 1)[-1][:12] for lab, p, x in macro if p in misses and f(x)]
    print("%-85s benign %4d  malicious %4d  misses named %s" % (name, hit["benign"], hit["malicious"], named))
