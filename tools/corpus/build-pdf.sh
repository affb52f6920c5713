#!/usr/bin/env bash
# build-pdf.sh - builds the benign PDF corpus (issue 3: the starter and v3 corpora hold only 22 benign PDFs, too few to
# measure false positives) from the GitHub snapshots listed in sources/github-pdf.tsv, outside the repository. Files
# already in the starter corpus, corpus v2 or corpus v3 are skipped as duplicates.
#
# Usage: tools/corpus/build-pdf.sh [OUT]         (default OUT=/tmp/mamori-corpus-pdf)
# Env:   MIRROR=/work/.mirror  snapshots brought by the search tool's `fetch` (<owner>+<name>/repo)
#        STARTER=/tmp/mamori-corpus/manifest.tsv  V2=/tmp/mamori-corpus2/manifest.tsv  V3=/tmp/mamori-corpus3/manifest.tsv
#        GH_FILTER=<regex on source lines>  (only those sources are ingested into the existing OUT)
# Writes OUT/manifest.tsv (the starter's columns; kind pdf, group gh:<owner>+<repo>, or the starter's spelling of the
# group when the starter already has files of that repository, so group cross-validation keeps them together),
# OUT/skipped.tsv and the committed hash manifest manifest-pdf.tsv.gz. Idempotent like build-docs.sh. Nothing is executed,
# kept files are mode 0444. Paths naming an exploit, CVE, malware, crash, fuzzing or PoC file are never kept: the test
# suites of PDF parsers carry deliberately hostile files whose label is not "benign".
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-/tmp/mamori-corpus-pdf}
WORK=${WORK:-/tmp/mamori-corpus-pdf-work}
MIRROR=${MIRROR:-/work/.mirror}
STARTER=${STARTER:-/tmp/mamori-corpus/manifest.tsv}
V2=${V2:-/tmp/mamori-corpus2/manifest.tsv}
V3=${V3:-/tmp/mamori-corpus3/manifest.tsv}
HOSTILE='(?i)(exploit|cve[-_]?[0-9]|malware|malicious|virus|trojan|crash|fuzz|\bpoc\b|_poc|poc_|asan|ubsan|msan|\boom\b|attack|evil|payload|phish|\bhang|infinite|overflow|dos[-_])'
case "$OUT" in "$(cd "$HERE/../.." && pwd)"*) echo "OUT must be outside the repository" >&2; exit 1;; esac
mkdir -p "$OUT" "$WORK"
T0=$(date +%s)
SEEN=(--seen "$STARTER")
[ -f "$V2" ] && SEEN+=(--seen "$V2")
[ -f "$V3" ] && SEEN+=(--seen "$V3")
ING=(python3 "$HERE/ingest.py" --out "$OUT" "${SEEN[@]}" --tmp "$WORK" --kinds pdf --exclude "$HOSTILE")
grep -v '^\s*#' "$HERE/sources/github-pdf.tsv" | sed '/^\s*$/d' | { grep -E -- "${GH_FILTER:-.}" || true; } |
while IFS=$'\t' read -r repo commit label opts comment; do
  g="$MIRROR/${repo/\//+}/repo"
  [ -d "$g/.git" ] && g="$g/.git"
  group="gh:${repo/\//+}"
  # the starter spells a few groups gh:<owner>/<repo> (mozilla/pdf.js): keep one group per repository
  [ -f "$STARTER" ] && awk -F'\t' -v g="gh:$repo" '$7 == g { f = 1 } END { exit !f }' "$STARTER" && group="gh:$repo"
  if [ ! -d "$g" ]; then
    printf '%s\t-\t-\t0\tsnapshot-missing(fetch it with the search tool)\n' "$group" >> "$OUT/skipped.tsv"; continue
  fi
  git --git-dir="$g" cat-file -e "$commit^{commit}" 2>/dev/null || commit=$(git --git-dir="$g" rev-parse HEAD)
  [ "$opts" = "-" ] && opts=""
  eval "set -- $opts"
  "${ING[@]}" --label "$label" --group "$group" --archive "gh:$repo@${commit:0:12}" "$@" --git-dir "$g" "$commit" || true
done
python3 "$HERE/finalize.py" --out "$OUT" --starter "$STARTER" --hash-manifest "$HERE/manifest-pdf.tsv.gz"
rm -rf "$WORK"
echo "done in $(( $(date +%s) - T0 )) s: $(($(wc -l < "$OUT/manifest.tsv") - 1)) files in $OUT/manifest.tsv" >&2
