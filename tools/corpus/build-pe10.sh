#!/usr/bin/env bash
# build-pe10.sh - builds corpus v10 (eleventh session, pe-data11): PE files from GitHub sources no earlier corpus used,
# aimed at the file types the PE model m18 detects worst (64-bit EXE/DLL, .NET DLLs, 32-bit DLLs of unseen sources):
# payload-hosting repositories (payload/beacon/stealer DLLs, RAT and stealer builds), RAT/ransomware projects with
# committed builds, and, as benign data of the same types, game mods with the games' managed (.NET) assemblies, mod
# loaders, and native programs with their 32/64-bit runtime DLLs. The holdout set is for evaluation only.
#
# Usage: tools/corpus/build-pe10.sh [OUT]     (default OUT=/tmp/mamori-corpus10p)
#        SET=holdout tools/corpus/build-pe10.sh /tmp/mamori-corpus10ph   the evaluation-only set: other sources (and
#        owners) of the same kinds (sources/github-pe10-holdout.tsv, hash manifest manifest-pe10-holdout.tsv.gz)
# Env:   MIRROR=/work/.mirror  snapshots brought by the search tool's `fetch` (<owner>+<name>/repo)
#        SEEN_MANIFESTS="<manifest> ..."  every earlier corpus (default: the starter, v2-v9, v7h, v9h, PDF, docs v10);
#        a file already in any of them is logged as a duplicate and not kept. The holdout build also reads
#        V10P (default /tmp/mamori-corpus10p/manifest.tsv), so build the training set first.
#        GH_FILTER=<regex on source lines>  GROUP_CAP=300 (files kept per source group)
# Every source also skips the binaries of reserved software that projects vendor (RESERVED.md; as build-pe9.sh).
# Same guarantees as build.sh: nothing is executed (git objects are read with `git cat-file`), kept files are mode
# 0444, skips go to OUT/skipped.tsv, the samples stay outside the repository; only the hash manifest is written into it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib-gh.sh"
OUT=${1:-/tmp/mamori-corpus10p}
SUFFIX=${SET:+-$SET}
WORK=${WORK:-/tmp/mamori-corpus10p$SUFFIX-work}
MIRROR=${MIRROR:-/work/.mirror}
STARTER=${STARTER:-/tmp/mamori-corpus/manifest.tsv}
SEEN_MANIFESTS=${SEEN_MANIFESTS:-$(printf '/tmp/mamori-corpus%s/manifest.tsv ' 2 3 4 5 6 7 7h 8 9 9h -pdf 10)}
V10P=${V10P:-/tmp/mamori-corpus10p/manifest.tsv}
CAP=${GROUP_CAP:-300}
# (--history names end in @<blob id>)
RESERVED_RX='(?i)((^|[/!])((iscc|compil32|ispp|iscmplr|islzma[0-9a-z]*|is7z[0-9a-z]*|isbunzip|isbzip|isunzlib|iszlib|isscint|7z|7za|7zr|7zg|7zfm|7zxa|7-zip[0-9a-z]*|rcedit(-x86|-x64)?|pandoc[a-z0-9-]*|notepad\+\+|x(32|64|96)dbg|mremoteng|candle|light|dark|heat|torch|pyro|lit|melt|smoke|wix[a-z0-9.]*|squirrel|esbuild|nunit[a-z0-9.-]*|keepass[a-z0-9.]*)\.(exe|dll|e32)|(setup|setupldr)\.e32|7z[a-z0-9]*\.sfx)(@[0-9a-f]+)?$|(^|/)choco/)'
case "$OUT" in "$(cd "$HERE/../.." && pwd)"*) echo "OUT must be outside the repository" >&2; exit 1;; esac
mkdir -p "$OUT" "$WORK"
T0=$(date +%s)
SEEN=(--seen "$STARTER")
EXTRA=""
[ -n "${SET:-}" ] && EXTRA="$V10P"
for m in $SEEN_MANIFESTS $EXTRA; do
  if [ -f "$m" ]; then SEEN+=(--seen "$m"); else echo "warning: no manifest $m (not de-duplicated against it)" >&2; fi
done
GH_INGEST_ARGS=("${SEEN[@]}" --tmp "$WORK" --max-per-group "$CAP" --exclude "$RESERVED_RX")
gh_ingest "$HERE/sources/github-pe10$SUFFIX.tsv" "$OUT"
# a source that shares archives with a collection whose held-out files are not in the starter may hold those too
python3 "$HERE/drop_overlap.py" --out "$OUT" --starter "$STARTER"
python3 "$HERE/finalize.py" --out "$OUT" --starter "$STARTER" --share-cap 1 --hash-manifest "$HERE/manifest-pe10$SUFFIX.tsv.gz"
rm -rf "$WORK"
echo "done in $(( $(date +%s) - T0 )) s: $(($(wc -l < "$OUT/manifest.tsv") - 1)) files in $OUT/manifest.tsv" >&2
