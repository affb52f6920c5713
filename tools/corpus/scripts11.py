#!/usr/bin/env python3
"""Builds the script corpus of the eleventh session (build-scripts11.sh): script files read straight from bare git
snapshots (git ls-tree + git cat-file, nothing checked out or run) and from npm tarballs (read with tarfile).

usage: scripts11.py --out OUT --mirror MIRROR --sources sources/scripts11.tsv --npm-dir DIR --seen MANIFEST...

Files are written as OUT/<label>/<sha256>.<ext> (the extension is kept: Windows picks the script engine by it, and so
does the scanner for text without a telltale start), mode 0444, with OUT/manifest.tsv in the starter's columns
(sha256 label kind subkind family size group archive name path); `archive` holds the set: benign, unseen.
Sampling is deterministic: when a source holds more files than its cap, the ones whose sha1(path) sorts first."""
import argparse, hashlib, io, os, re, subprocess, sys, tarfile

EXTS = ('js', 'jse', 'mjs', 'cjs', 'vbs', 'vbe', 'wsf', 'wsc', 'hta', 'sct', 'ps1', 'psm1', 'bat', 'cmd')
MAX_BYTES = 4 << 20

def gitdir(mirror, repo):
    base = os.path.join(mirror, repo.replace('/', '+'), 'repo')
    return os.path.join(base, '.git') if os.path.isdir(os.path.join(base, '.git')) else base

def ext_of(path):
    e = path.rsplit('.', 1)[-1].lower() if '.' in path else ''
    return e if e in EXTS else None

class Out:
    def __init__(self, out, seen):
        self.out, self.seen, self.rows = out, set(seen), []
        self.skipped = open(os.path.join(out, 'skipped.tsv'), 'w')
    def add(self, data, label, subkind, family, group, setname, name):
        if len(data) < 16 or len(data) > MAX_BYTES:
            self.skipped.write('%s\t%s\tsize\t%d\n' % (group, name, len(data))); return
        sha = hashlib.sha256(data).hexdigest()
        if sha in self.seen:
            self.skipped.write('%s\t%s\tduplicate\t%s\n' % (group, name, sha)); return
        self.seen.add(sha)
        d = os.path.join(self.out, label)
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, sha + '.' + subkind)
        with open(p, 'wb') as f: f.write(data)
        os.chmod(p, 0o444)
        self.rows.append((sha, label, 'script', subkind, family, str(len(data)), group, setname,
                          os.path.basename(name).replace('\t', ' '), p))

def sample(paths, cap):
    if cap is None or len(paths) <= cap: return sorted(paths)
    return sorted(paths, key=lambda p: hashlib.sha1(p.encode('utf-8', 'replace')).hexdigest())[:cap]

def gh_source(o, mirror, repo, label, setname, regex, cap, note):
    gd = gitdir(mirror, repo)
    if not os.path.isdir(gd):
        print('snapshot missing: %s' % repo, file=sys.stderr); return
    ls = subprocess.run(['git', '--git-dir', gd, 'ls-tree', '-r', '-z', 'HEAD'], capture_output=True, check=True).stdout
    entries = []
    for rec in ls.split(b'\0'):
        if not rec: continue
        meta, path = rec.split(b'\t', 1)
        mode, typ, sha = meta.split()
        path = path.decode('utf-8', 'replace')
        if typ != b'blob' or not ext_of(path) or not re.search(regex, path, re.I): continue
        entries.append((path, sha.decode()))
    per_dir = cap.endswith('/dir')
    n = int(cap.split('/')[0]) if cap != 'all' else None
    chosen = []
    if per_dir:
        dirs = {}
        for p, s in entries: dirs.setdefault('/'.join(p.split('/')[:2]), []).append(p)
        for d in sorted(dirs): chosen += sample(dirs[d], n)
    else:
        chosen = sample([p for p, _ in entries], n)
    shas = dict(entries)
    proc = subprocess.Popen(['git', '--git-dir', gd, 'cat-file', '--batch'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    group = 'gh:' + repo.replace('/', '+')
    for p in chosen:
        proc.stdin.write((shas[p] + '\n').encode()); proc.stdin.flush()
        head = proc.stdout.readline().split()
        if len(head) < 3 or head[1] == b'missing':
            o.skipped.write('%s\t%s\tblob-missing\n' % (group, p)); continue
        size = int(head[2]); data = proc.stdout.read(size); proc.stdout.read(1)
        family = '/'.join(p.split('/')[:2]) if per_dir else repo
        o.add(data, label, ext_of(p), family, group, setname, p)
    proc.stdin.close(); proc.wait()

def npm_source(o, npm_dir, cap):
    for tgz in sorted(os.listdir(npm_dir)):
        if not tgz.endswith('.tgz'): continue
        name = re.sub(r'-\d[^-]*\.tgz$', '', tgz)
        try:
            tf = tarfile.open(os.path.join(npm_dir, tgz))
            members = [m for m in tf.getmembers() if m.isfile() and ext_of(m.name)]
        except Exception as e:
            o.skipped.write('npm:%s\t%s\tunreadable\t%s\n' % (name, tgz, e)); continue
        by = {m.name: m for m in members}
        for p in sample(list(by), cap):
            data = tf.extractfile(by[p]).read(MAX_BYTES + 1)
            e = ext_of(p)
            o.add(data, 'benign', 'js' if e in ('mjs', 'cjs') else e, 'npm', 'npm:' + name, 'benign', p)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True); ap.add_argument('--mirror', required=True)
    ap.add_argument('--sources', required=True); ap.add_argument('--npm-dir')
    ap.add_argument('--npm-cap', type=int, default=25); ap.add_argument('--seen', action='append', default=[])
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    seen = []
    for m in a.seen:
        if os.path.exists(m):
            with open(m) as f:
                next(f)
                seen += [l.split('\t', 1)[0] for l in f]
    o = Out(a.out, seen)
    for line in open(a.sources):
        if not line.strip() or line.startswith('#'): continue
        src, label, setname, regex, cap, note = line.rstrip('\n').split('\t')
        gh_source(o, a.mirror, src[3:], label, setname, regex, cap, note)
    if a.npm_dir: npm_source(o, a.npm_dir, a.npm_cap)
    with open(os.path.join(a.out, 'manifest.tsv'), 'w') as f:
        f.write('sha256\tlabel\tkind\tsubkind\tfamily\tsize\tgroup\tarchive\tname\tpath\n')
        for r in o.rows: f.write('\t'.join(r) + '\n')
    print('%d files' % len(o.rows), file=sys.stderr)

main()
