#!/usr/bin/env python3
"""Summarises `mamori scan --json` over script files by label, subkind and group (tools/corpus/build-scripts11.sh).

usage: script_report.py MANIFEST.tsv SCAN.jsonl [--by subkind|group] [--list VERDICT]
MANIFEST rows: sha256 label kind subkind family size group archive name path (the starter's columns).
Prints, per label and key: files, malicious, suspicious, clean/other, and the rules (signatures) seen."""
import collections, json, sys

def main():
    man, scan = sys.argv[1], sys.argv[2]
    by = 'subkind'
    lst = None
    if '--by' in sys.argv: by = sys.argv[sys.argv.index('--by') + 1]
    if '--list' in sys.argv: lst = sys.argv[sys.argv.index('--list') + 1]
    rows = {}
    with open(man) as f:
        head = f.readline().rstrip('\n').split('\t')
        for line in f:
            r = dict(zip(head, line.rstrip('\n').split('\t')))
            rows[r['path']] = r
    res = {}
    with open(scan) as f:
        for line in f:
            line = line.strip()
            if not line.startswith('{'): continue
            j = json.loads(line)
            res[j['path']] = j
    tab = collections.defaultdict(collections.Counter)
    sigs = collections.defaultdict(collections.Counter)
    for p, r in rows.items():
        j = res.get(p)
        v = j['verdict'] if j else 'missing'
        k = (r['label'], r[by])
        tab[k]['files'] += 1
        tab[k][v] += 1
        if j and j.get('signature'): sigs[k][j['signature']] += 1
        if lst and v == lst: print('LIST', r['label'], r[by], p, j.get('signature') if j else '')
    tot = collections.defaultdict(collections.Counter)
    print('label\t%s\tfiles\tmalicious\tsuspicious\tdetected%%\tother' % by)
    for k in sorted(tab):
        c = tab[k]
        det = c['malicious'] + c['suspicious']
        other = c['files'] - det
        print('%s\t%s\t%d\t%d\t%d\t%.1f\t%d\t%s' % (k[0], k[1], c['files'], c['malicious'], c['suspicious'],
              100.0 * det / c['files'], other, ', '.join('%s:%d' % x for x in sigs[k].most_common(4))))
        for x in ('files', 'malicious', 'suspicious'): tot[k[0]][x] += c[x]
    for l, c in sorted(tot.items()):
        print('TOTAL\t%s\t%d\t%d\t%d\t%.2f%%' % (l, c['files'], c['malicious'], c['suspicious'],
              100.0 * (c['malicious'] + c['suspicious']) / max(1, c['files'])))

main()
