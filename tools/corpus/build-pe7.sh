#!/usr/bin/env bash
# build-pe7.sh - builds corpus v7: benign PE of the kinds that set the PE model's thresholds (compiled AutoHotkey
# interpreters and stubs, PyInstaller 6 / py2exe / distlib bootloaders and .pyd DLLs from committed virtualenvs,
# Sysinternals and other administration tools, old native tools) and malicious samples from new write-ups, from
# GitHub snapshots that no earlier corpus used. Kept apart from corpora v1-v5 so that a model trained with it can be
# compared with one trained without it (docs/MEASUREMENTS.md, "PE: m15, corpus v7 and Inno Setup held out").
#
# Usage: tools/corpus/build-pe7.sh [OUT]     (default OUT=/tmp/mamori-corpus7)
#        SET=holdout tools/corpus/build-pe7.sh /tmp/mamori-corpus7h   the evaluation-only set of the same kinds
#        (sources/github-pe7-holdout.tsv, hash manifest manifest-pe7-holdout.tsv.gz; no model trains on it)
# Env:   MIRROR=/work/.mirror  snapshots brought by the search tool's `fetch` (<owner>+<name>/repo)
#        STARTER, V2, V3, V4, V5 (and V7 for the holdout set) = the manifests of earlier corpora (de-duplication: a
#        file already in any of them is logged as `duplicate:<sha>:v1|v2` and not kept)
#        GH_FILTER=<regex on source lines>  GROUP_CAP=300 (files kept per source group)
# Every source also skips the binaries of reserved software that projects vendor (RESERVED.md: the Inno Setup
# compiler and its stubs, 7-Zip as in npm 7zip-bin, rcedit, Chocolatey, pandoc, Notepad++, x64dbg, mRemoteNG,
# WiX, Squirrel, esbuild).
# Same guarantees as build.sh: nothing is executed (git objects are read with `git cat-file`), kept files are mode
# 0444, skips go to OUT/skipped.tsv, the samples stay outside the repository; only the hash manifest
# manifest-pe7.tsv.gz is written into it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib-gh.sh"
OUT=${1:-/tmp/mamori-corpus7}
WORK=${WORK:-/tmp/mamori-corpus7-work}
MIRROR=${MIRROR:-/work/.mirror}
STARTER=${STARTER:-/tmp/mamori-corpus/manifest.tsv}
V2=${V2:-/tmp/mamori-corpus2/manifest.tsv}
V3=${V3:-/tmp/mamori-corpus3/manifest.tsv}
V4=${V4:-/tmp/mamori-corpus4/manifest.tsv}
V5=${V5:-/tmp/mamori-corpus5/manifest.tsv}
V7=${V7:-/tmp/mamori-corpus7/manifest.tsv}
SUFFIX=${SET:+-$SET}
CAP=${GROUP_CAP:-300}
# (--history names end in @<blob id>)
RESERVED_RX='(?i)((^|[/!])((iscc|compil32|ispp|iscmplr|islzma[0-9a-z]*|is7z[0-9a-z]*|isbunzip|isbzip|isunzlib|iszlib|isscint|7z|7za|7zr|7zg|7zfm|7zxa|7-zip[0-9a-z]*|rcedit(-x86|-x64)?|pandoc[a-z0-9-]*|notepad\+\+|x(32|64|96)dbg|mremoteng|candle|light|dark|heat|torch|pyro|lit|melt|smoke|wix[a-z0-9.]*|squirrel|esbuild)\.(exe|dll|e32)|(setup|setupldr)\.e32|7z[a-z0-9]*\.sfx)(@[0-9a-f]+)?$|(^|/)choco/)'
case "$OUT" in "$(cd "$HERE/../.." && pwd)"*) echo "OUT must be outside the repository" >&2; exit 1;; esac
mkdir -p "$OUT" "$WORK"
T0=$(date +%s)
SEEN=(--seen "$STARTER")
[ -n "${SET:-}" ] && V5="$V5 $V7"
for m in "$V2" "$V3" "$V4" $V5; do [ -f "$m" ] && SEEN+=(--seen "$m"); done
GH_INGEST_ARGS=("${SEEN[@]}" --tmp "$WORK" --max-per-group "$CAP" --exclude "$RESERVED_RX")
gh_ingest "$HERE/sources/github-pe7$SUFFIX.tsv" "$OUT"
# a source that shares archives with a collection whose held-out files are not in the starter may hold those too
python3 "$HERE/drop_overlap.py" --out "$OUT" --starter "$STARTER"
# no share cap (GROUP_CAP bounds each source): --share-cap 1
python3 "$HERE/finalize.py" --out "$OUT" --starter "$STARTER" --share-cap 1 --hash-manifest "$HERE/manifest-pe7$SUFFIX.tsv.gz"
rm -rf "$WORK"
echo "done in $(( $(date +%s) - T0 )) s: $(($(wc -l < "$OUT/manifest.tsv") - 1)) files in $OUT/manifest.tsv" >&2
