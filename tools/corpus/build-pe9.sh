#!/usr/bin/env bash
# build-pe9.sh - builds corpus v9 (tenth session): PE files from GitHub sources no earlier corpus used, for diversity:
# malware samples of analysis and course repositories (many small sources, many families and years) and ordinary
# Windows software of many vendors (game fixes and mod loaders with their proxy DLLs, hobby programs and their
# runtime DLLs, administration tools, drivers). Kept apart from corpora v1-v8 so that the lead can train with it and
# measure what it adds; the holdout set is for evaluation only.
#
# Usage: tools/corpus/build-pe9.sh [OUT]     (default OUT=/tmp/mamori-corpus9)
#        SET=holdout tools/corpus/build-pe9.sh /tmp/mamori-corpus9h   the evaluation-only set: other sources of the same
#        kinds (sources/github-pe9-holdout.tsv, hash manifest manifest-pe9-holdout.tsv.gz; no model trains on it)
# Env:   MIRROR=/work/.mirror  snapshots brought by the search tool's `fetch` (<owner>+<name>/repo)
#        STARTER, V2, V3, V4, V5, V6, V7, V7H, V8, PDF (and V9 for the holdout set) = the manifests of every earlier
#        corpus, PE and document ones alike (de-duplication: a file already in any of them is logged as
#        `duplicate:<sha>:v1|v2` and not kept)
#        GH_FILTER=<regex on source lines>  GROUP_CAP=300 (files kept per source group)
# Every source also skips the binaries of reserved software that projects vendor (RESERVED.md; the same pattern as
# build-pe7.sh).
# Same guarantees as build.sh: nothing is executed (git objects are read with `git cat-file`), kept files are mode
# 0444, skips go to OUT/skipped.tsv, the samples stay outside the repository; only the hash manifest is written into it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib-gh.sh"
OUT=${1:-/tmp/mamori-corpus9}
SUFFIX=${SET:+-$SET}
WORK=${WORK:-/tmp/mamori-corpus9$SUFFIX-work}
MIRROR=${MIRROR:-/work/.mirror}
STARTER=${STARTER:-/tmp/mamori-corpus/manifest.tsv}
V2=${V2:-/tmp/mamori-corpus2/manifest.tsv}
V3=${V3:-/tmp/mamori-corpus3/manifest.tsv}
V4=${V4:-/tmp/mamori-corpus4/manifest.tsv}
V5=${V5:-/tmp/mamori-corpus5/manifest.tsv}
V6=${V6:-/tmp/mamori-corpus6/manifest.tsv}
V7=${V7:-/tmp/mamori-corpus7/manifest.tsv}
V7H=${V7H:-/tmp/mamori-corpus7h/manifest.tsv}
V8=${V8:-/tmp/mamori-corpus8/manifest.tsv}
PDF=${PDF:-/tmp/mamori-corpus-pdf/manifest.tsv}
V9=${V9:-/tmp/mamori-corpus9/manifest.tsv}
CAP=${GROUP_CAP:-300}
# (--history names end in @<blob id>)
RESERVED_RX='(?i)((^|[/!])((iscc|compil32|ispp|iscmplr|islzma[0-9a-z]*|is7z[0-9a-z]*|isbunzip|isbzip|isunzlib|iszlib|isscint|7z|7za|7zr|7zg|7zfm|7zxa|7-zip[0-9a-z]*|rcedit(-x86|-x64)?|pandoc[a-z0-9-]*|notepad\+\+|x(32|64|96)dbg|mremoteng|candle|light|dark|heat|torch|pyro|lit|melt|smoke|wix[a-z0-9.]*|squirrel|esbuild|nunit[a-z0-9.-]*|keepass[a-z0-9.]*)\.(exe|dll|e32)|(setup|setupldr)\.e32|7z[a-z0-9]*\.sfx)(@[0-9a-f]+)?$|(^|/)choco/)'
case "$OUT" in "$(cd "$HERE/../.." && pwd)"*) echo "OUT must be outside the repository" >&2; exit 1;; esac
mkdir -p "$OUT" "$WORK"
T0=$(date +%s)
SEEN=(--seen "$STARTER")
EXTRA=""
[ -n "${SET:-}" ] && EXTRA="$V9"
for m in "$V2" "$V3" "$V4" "$V5" "$V6" "$V7" "$V7H" "$V8" "$PDF" $EXTRA; do [ -f "$m" ] && SEEN+=(--seen "$m"); done
GH_INGEST_ARGS=("${SEEN[@]}" --tmp "$WORK" --max-per-group "$CAP" --exclude "$RESERVED_RX")
gh_ingest "$HERE/sources/github-pe9$SUFFIX.tsv" "$OUT"
# a source that shares archives with a collection whose held-out files are not in the starter may hold those too
python3 "$HERE/drop_overlap.py" --out "$OUT" --starter "$STARTER"
# no share cap (GROUP_CAP bounds each source): --share-cap 1
python3 "$HERE/finalize.py" --out "$OUT" --starter "$STARTER" --share-cap 1 --hash-manifest "$HERE/manifest-pe9$SUFFIX.tsv.gz"
rm -rf "$WORK"
echo "done in $(( $(date +%s) - T0 )) s: $(($(wc -l < "$OUT/manifest.tsv") - 1)) files in $OUT/manifest.tsv" >&2
