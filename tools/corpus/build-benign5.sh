#!/usr/bin/env bash
# build-benign5.sh - builds corpus v5: benign PE files of the kinds that set the PE model's thresholds or that malware
# imitates (NSIS toolchains, stubs and plugins, AutoIt, PuTTY, Delphi/C++Builder programs), from GitHub snapshots
# that no earlier corpus used. Kept apart from corpora v1-v4 so that a model trained with it can be compared with one
# trained without it (docs/MEASUREMENTS.md, "PE: which benign files set the thresholds, and benign data for them").
#
# Usage: tools/corpus/build-benign5.sh [OUT]     (default OUT=/tmp/mamori-corpus5)
# Env:   MIRROR=/work/.mirror  snapshots brought by the search tool's `fetch` (<owner>+<name>/repo)
#        STARTER, V2, V3, V4 = the manifests of corpora v1-v4 (de-duplication: a file already in any of them is
#        logged as `duplicate:<sha>:v1|v2` and not kept)
#        GH_FILTER=<regex on source lines>  GROUP_CAP=300 (files kept per source group)
# Same guarantees as build.sh: nothing is executed (git objects are read with `git cat-file`), kept files are mode
# 0444, skips go to OUT/skipped.tsv, the samples stay outside the repository; only the hash manifest
# manifest-benign5.tsv.gz is written into it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-/tmp/mamori-corpus5}
WORK=${WORK:-/tmp/mamori-corpus5-work}
MIRROR=${MIRROR:-/work/.mirror}
STARTER=${STARTER:-/tmp/mamori-corpus/manifest.tsv}
V2=${V2:-/tmp/mamori-corpus2/manifest.tsv}
V3=${V3:-/tmp/mamori-corpus3/manifest.tsv}
V4=${V4:-/tmp/mamori-corpus4/manifest.tsv}
CAP=${GROUP_CAP:-300}
case "$OUT" in "$(cd "$HERE/../.." && pwd)"*) echo "OUT must be outside the repository" >&2; exit 1;; esac
mkdir -p "$OUT" "$WORK"
T0=$(date +%s)
SEEN=(--seen "$STARTER")
for m in "$V2" "$V3" "$V4"; do [ -f "$m" ] && SEEN+=(--seen "$m"); done
ING=(python3 "$HERE/ingest.py" --out "$OUT" "${SEEN[@]}" --tmp "$WORK" --max-per-group "$CAP")
grep -v '^\s*#' "$HERE/sources/github-benign5.tsv" | sed '/^\s*$/d' | { grep -E -- "${GH_FILTER:-.}" || true; } |
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
# no share cap here (the corpus is small; GROUP_CAP bounds each source): --share-cap 1
python3 "$HERE/finalize.py" --out "$OUT" --starter "$STARTER" --share-cap 1 --hash-manifest "$HERE/manifest-benign5.tsv.gz"
rm -rf "$WORK"
echo "done in $(( $(date +%s) - T0 )) s: $(($(wc -l < "$OUT/manifest.tsv") - 1)) files in $OUT/manifest.tsv" >&2
