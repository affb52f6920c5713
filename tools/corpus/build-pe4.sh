#!/usr/bin/env bash
# build-pe4.sh - builds corpus v4: malicious PE files from GitHub sources that no earlier corpus used, kept apart
# so that they can be measured as data the shipped PE model never saw (and trained on later, by a new model).
#
# Usage: tools/corpus/build-pe4.sh [OUT]        (default OUT=/tmp/mamori-corpus4)
# Env:   MIRROR=/work/.mirror  snapshots brought by the search tool's `fetch` (<owner>+<name>/repo)
#        STARTER=/tmp/mamori-corpus/manifest.tsv  V2=/tmp/mamori-corpus2/manifest.tsv  V3=/tmp/mamori-corpus3/manifest.tsv
#        (de-duplication: a file already in any of them is logged as `duplicate:<sha>:v1|v2` and not kept)
#        GH_FILTER=<regex on source lines>  (only those sources are ingested into the existing OUT)
# Same guarantees as build.sh: nothing is executed, kept files are mode 0444, skips go to OUT/skipped.tsv, the
# samples stay outside the repository; only the hash manifest manifest-pe4.tsv.gz is written into it.
# Before finalize, drop_overlap.py removes files that are probably copies of held-out files (see its header).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-/tmp/mamori-corpus4}
WORK=${WORK:-/tmp/mamori-corpus4-work}
MIRROR=${MIRROR:-/work/.mirror}
STARTER=${STARTER:-/tmp/mamori-corpus/manifest.tsv}
V2=${V2:-/tmp/mamori-corpus2/manifest.tsv}
V3=${V3:-/tmp/mamori-corpus3/manifest.tsv}
case "$OUT" in "$(cd "$HERE/../.." && pwd)"*) echo "OUT must be outside the repository" >&2; exit 1;; esac
mkdir -p "$OUT" "$WORK"
T0=$(date +%s)
SEEN=(--seen "$STARTER")
for m in "$V2" "$V3"; do [ -f "$m" ] && SEEN+=(--seen "$m"); done
ING=(python3 "$HERE/ingest.py" --out "$OUT" "${SEEN[@]}" --tmp "$WORK")
grep -v '^\s*#' "$HERE/sources/github-pe4.tsv" | sed '/^\s*$/d' | { grep -E -- "${GH_FILTER:-.}" || true; } |
while IFS=$'\t' read -r repo commit label opts comment; do
  g="$MIRROR/${repo/\//+}/repo"
  [ -d "$g/.git" ] && g="$g/.git"
  if [ ! -d "$g" ]; then
    printf 'gh:%s\t-\t-\t0\tsnapshot-missing(fetch it with the search tool)\n' "${repo/\//+}" >> "$OUT/skipped.tsv"; continue
  fi
  git --git-dir="$g" cat-file -e "$commit^{commit}" 2>/dev/null || commit=$(git --git-dir="$g" rev-parse HEAD)
  [ "$opts" = "-" ] && opts=""
  eval "set -- $opts"
  "${ING[@]}" --label "$label" --group "gh:${repo/\//+}" --archive "gh:$repo@${commit:0:12}" "$@" --git-dir "$g" "$commit" || true
done
# a source that shares archives with a collection whose held-out files are not in the starter may hold those too
python3 "$HERE/drop_overlap.py" --out "$OUT" --starter "$STARTER"
python3 "$HERE/finalize.py" --out "$OUT" --starter "$STARTER" --hash-manifest "$HERE/manifest-pe4.tsv.gz"
rm -rf "$WORK"
echo "done in $(( $(date +%s) - T0 )) s: $(($(wc -l < "$OUT/manifest.tsv") - 1)) files in $OUT/manifest.tsv" >&2
