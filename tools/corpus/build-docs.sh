#!/usr/bin/env bash
# build-docs.sh - builds the document corpus v3 (benign workbooks/add-ins with VBA, maldocs of more sources)
# from the GitHub snapshots listed in sources/github-docs.tsv, outside the repository, next to the starter
# corpus and corpus v2 (files already in either are skipped as duplicates).
#
# Usage: tools/corpus/build-docs.sh [OUT]        (default OUT=/tmp/mamori-corpus3)
# Env:   MIRROR=/work/.mirror  snapshots brought by the search tool's `fetch` (<owner>+<name>/repo)
#        STARTER=/tmp/mamori-corpus/manifest.tsv  V2=/tmp/mamori-corpus2/manifest.tsv  (de-duplication)
#        GH_FILTER=<regex on source lines>  (only those sources are ingested into the existing OUT; a filter that
#        matches nothing just re-runs finalize, which rewrites the hash manifest from OUT/manifest.tsv)
# Idempotent: files already in OUT are skipped as `duplicate:<sha>:v2`, so a re-run or a filtered run adds only new
# files. A full rebuild into an empty OUT reproduces the committed hash manifest byte for byte (checked 2026-11-28:
# 764 files, 207 s wall / 53 CPU-s on the shared 2-core machine at load ~15, snapshots already fetched).
# Same guarantees as build.sh: nothing is executed, kept files are mode 0444, skips go to OUT/skipped.tsv.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-/tmp/mamori-corpus3}
WORK=${WORK:-/tmp/mamori-corpus3-work}
MIRROR=${MIRROR:-/work/.mirror}
STARTER=${STARTER:-/tmp/mamori-corpus/manifest.tsv}
V2=${V2:-/tmp/mamori-corpus2/manifest.tsv}
case "$OUT" in "$(cd "$HERE/../.." && pwd)"*) echo "OUT must be outside the repository" >&2; exit 1;; esac
mkdir -p "$OUT" "$WORK"
T0=$(date +%s)
SEEN=(--seen "$STARTER")
[ -f "$V2" ] && SEEN+=(--seen "$V2")
ING=(python3 "$HERE/ingest.py" --out "$OUT" "${SEEN[@]}" --tmp "$WORK")
grep -v '^\s*#' "$HERE/sources/github-docs.tsv" | sed '/^\s*$/d' | { grep -E -- "${GH_FILTER:-.}" || true; } |
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
python3 "$HERE/finalize.py" --out "$OUT" --starter "$STARTER" --hash-manifest "$HERE/manifest-docs-v3.tsv.gz"
rm -rf "$WORK"
echo "done in $(( $(date +%s) - T0 )) s: $(($(wc -l < "$OUT/manifest.tsv") - 1)) files in $OUT/manifest.tsv" >&2
