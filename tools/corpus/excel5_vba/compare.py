# Compares the office vectors of two builds (dumpfeat.sh output in /tmp/vba5/feat-base and /tmp/vba5/feat-new): changed files, and the spread features of the Excel 5/95 workbooks of /tmp/vba5/list.tsv.
import json, csv, sys
x5 = {l.split('\t')[4].rsplit('/',1)[1]: l.split('\t')[1] for l in open('/tmp/vba5/list.tsv')}
base = dict(l.rstrip('\n').split('\t') for l in open('/tmp/vba5/feat-base/sums.tsv'))
new = dict(l.rstrip('\n').split('\t') for l in open('/tmp/vba5/feat-new/sums.tsv'))
changed = [h for h in new if base.get(h) != new[h]]
print('files', len(new), 'changed', len(changed), 'changed Excel5', sum(h in x5 for h in changed), 'changed other', [h for h in changed if h not in x5][:10])
def load(d, h): return json.load(open('/tmp/vba5/%s/json/%s.json' % (d, h)))
keys = ['spread.kinds', 'spread.event_hook_lines', 'spread.save_to_startup_lines', 'spread.sheet_copy_lines', 'spread.inject_lines', 'spread.self_read_lines', 'rule.macro_replication']
for lab in ['malicious', 'benign']:
    hs = [h for h in x5 if x5[h] == lab and h in new]
    for k in keys:
        b = sum(1 for h in hs if load('feat-base', h).get(k, 0) > 0)
        n = sum(1 for h in hs if load('feat-new', h).get(k, 0) > 0)
        print(lab, len(hs), k, '>0: base', b, 'new', n)
    b = sum(1 for h in hs if load('feat-base', h).get('spread.kinds', 0) >= 2)
    n = sum(1 for h in hs if load('feat-new', h).get('spread.kinds', 0) >= 2)
    print(lab, 'spread.kinds>=2 base', b, 'new', n)
# which feature names changed for Excel5 files
import collections
cnt = collections.Counter()
for h in x5:
    if h not in new: continue
    a, b = load('feat-base', h), load('feat-new', h)
    for k in b:
        if a.get(k) != b[k]: cnt[k.split('.')[0]] += 1
print(cnt.most_common(20))
