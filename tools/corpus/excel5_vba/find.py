# Lists the Excel 5/95 workbooks (a root _VBA_PROJECT storage) of the three corpus manifests into /tmp/vba5/list.tsv
# (sha256, label, subkind, group, path, streams of the storage). Read-only on the corpus. Run: mkdir -p /tmp/vba5 && python3 find.py
import sys, csv
sys.path.insert(0, __import__('os').path.dirname(__file__))
from cfb import CFB
out = open('/tmp/vba5/list.tsv','w')
for m in ['/tmp/mamori-corpus/manifest.tsv','/tmp/mamori-corpus2/manifest.tsv','/tmp/mamori-corpus3/manifest.tsv']:
    for row in csv.DictReader(open(m), delimiter='\t'):
        if row['kind'] != 'office': continue
        try:
            d = open(row['path'],'rb').read()
            if d[:8] != bytes.fromhex('d0cf11e0a1b11ae1'): continue
            c = CFB(d)
        except Exception as ex:
            continue
        if any(p.lower() == '_vba_project' and c.entries[i]['type']==1 for p,i in c.paths.items()):
            kids = [p for p in c.paths if p.lower().startswith('_vba_project/')]
            out.write('\t'.join([row['sha256'], row['label'], row['subkind'], row['group'], row['path'], ','.join(kids)])+'\n')
