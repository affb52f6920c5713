#!/usr/bin/env python3
"""rule_diff.py BEFORE.jsonl AFTER.jsonl: two `mamori scan --json` runs over the documents (kinds office, rtf, pdf) of
the starter corpus and corpora v2, v3, PDF, 6, 8 and 10, joined on path with the manifests' labels: verdict counts per
label, top-level scores that changed, every file whose verdict or rules changed (with the rules it gained, from its
own and its members' context; an altChunk member shows as "(altchunk member)"), and the files with an altChunk part
or named by `eps-oversized-string`. Stdlib only."""
import json, sys, os, collections
lab = {}
for c in ["/tmp/mamori-corpus","/tmp/mamori-corpus2","/tmp/mamori-corpus3","/tmp/mamori-corpus-pdf","/tmp/mamori-corpus6","/tmp/mamori-corpus8","/tmp/mamori-corpus10"]:
    for i,l in enumerate(open(c+"/manifest.tsv", errors="replace")):
        f=l.rstrip("\n").split("\t")
        if i==0 or len(f)<10 or f[2] not in ("office","rtf","pdf"): continue
        p=f[9] if f[9].startswith("/") else c+"/"+f[9]
        lab[p]=(f[1],f[6],os.path.basename(c),f[4])
def load(fn):
    r={}
    for l in open(fn):
        d=json.loads(l); r[d["path"]]=d
    return r
def rules(d):
    out=set()
    def walk(x):
        ctx=x.get("context") or {}
        items = ctx.items() if isinstance(ctx,dict) else ctx
        for k,v in items:
            if k=="rule": out.add(v)
            if k.startswith("altchunk"): out.add("(altchunk member)")
        for m in x.get("members") or []: walk(m)
    walk(d); return out
b,a=load(sys.argv[1]),load(sys.argv[2])
cnt={"before":collections.Counter(),"after":collections.Counter()}
for name,res in (("before",b),("after",a)):
    for p,(l,g,c,fam) in lab.items():
        d=res.get(p)
        cnt[name][(l,d["verdict"] if d else "missing")]+=1
for name in cnt: print(name, dict(sorted(cnt[name].items())))
sc=0; changed=[]
for p,(l,g,c,fam) in lab.items():
    x,y=b.get(p),a.get(p)
    if not x or not y: continue
    if x.get("score")!=y.get("score"): sc+=1
    if x["verdict"]!=y["verdict"] or rules(x)!=rules(y):
        changed.append((l,c,g,fam,x["verdict"],round(x.get("score") or 0,3),y["verdict"],sorted(rules(y)-rules(x)),p[-16:]))
print("top-level scores changed:",sc)
for r in changed: print(*r)
alt=collections.Counter(); eps=collections.Counter()
for p,(l,g,c,fam) in lab.items():
    y=a.get(p)
    if not y: continue
    ctx=y.get("context") or {}
    keys=list(ctx.keys()) if isinstance(ctx,dict) else [k for k,v in ctx]
    if any(k.startswith("altchunk") for k in keys): alt[(l,c,g)]+=1
    if "eps-oversized-string" in rules(y): eps[(l,c,g)]+=1
print("altchunk parts scanned:",dict(alt)); print("eps-oversized-string:",dict(eps))
