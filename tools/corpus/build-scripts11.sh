#!/usr/bin/env bash
# build-scripts11.sh - builds the script corpus of the eleventh session (benign and malicious JScript, VBScript,
# PowerShell, batch, HTA/WSF) outside the repository, for measuring the script rules (analysis/script.hpp).
#
# Usage: tools/corpus/build-scripts11.sh [OUT]      (default OUT=/tmp/mamori-corpus-scripts)
# Env:   MIRROR=/work/.mirror   snapshots brought by the search tool's `fetch` (<owner>+<name>/repo) for every
#                               repository of sources/scripts11.tsv
#        WORK=/tmp/mamori-corpus-scripts-work  npm tarballs (npm pack --ignore-scripts of sources/scripts11-npm.txt)
#        STARTER=/tmp/mamori-corpus/manifest.tsv  files already in the starter corpus are skipped as duplicates
#        NPM=0                  skip the npm downloads (use the tarballs already in WORK/npm)
# Writes OUT/manifest.tsv (the starter's columns; `archive` holds the set: benign / unseen), OUT/skipped.tsv and the
# committed hash manifest tools/corpus/manifest-scripts11.tsv.gz. Files are OUT/<label>/<sha256>.<ext>, mode 0444.
# Nothing is executed: npm pack runs no package scripts, git objects are read with cat-file, tarballs with tarfile.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-/tmp/mamori-corpus-scripts}
WORK=${WORK:-/tmp/mamori-corpus-scripts-work}
MIRROR=${MIRROR:-/work/.mirror}
STARTER=${STARTER:-/tmp/mamori-corpus/manifest.tsv}
mkdir -p "$WORK/npm"
if [ "${NPM:-1}" != 0 ]; then
  while read -r p; do
    [ -z "$p" ] && continue
    f="$WORK/npm/$(echo "$p" | sed 's|^@||; s|/|-|; s|@|-|').tgz"
    ls "$WORK/npm/" | grep -q "^$(echo "${p%@*}" | sed 's|^@||; s|/|-|')-${p##*@}.tgz$" && continue
    (cd "$WORK/npm" && timeout 120 npm pack --ignore-scripts --silent "$p" >/dev/null) || echo "npm pack failed: $p" >&2
  done < "$HERE/sources/scripts11-npm.txt"
fi
rm -rf "$OUT"
python3 "$HERE/scripts11.py" --out "$OUT" --mirror "$MIRROR" --sources "$HERE/sources/scripts11.tsv" \
  --npm-dir "$WORK/npm" --seen "$STARTER"
# The committed manifest: hashes and labels only (no paths on this machine).
cut -f1-9 "$OUT/manifest.tsv" | gzip -n -9 > "$HERE/manifest-scripts11.tsv.gz"
awk -F'\t' 'NR>1{print $2, $8, $4}' "$OUT/manifest.tsv" | sort | uniq -c
