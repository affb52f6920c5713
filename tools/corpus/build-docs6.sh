#!/usr/bin/env bash
# build-docs6.sh - builds the document corpus 6 (issue 3: documents from sources no office model has seen, to estimate
# the hidden-set figure before training on them) from the GitHub snapshots listed in sources/github-docs6.tsv, outside
# the repository. Files already in any earlier corpus (starter, v2, v3, PDF, v4, v5) are skipped as duplicates.
#
# Usage: tools/corpus/build-docs6.sh [OUT]       (default OUT=/tmp/mamori-corpus6)
# Env:   MIRROR=/work/.mirror  snapshots brought by the search tool's `fetch` (<owner>+<name>/repo)
#        STARTER V2 V3 VPDF V4 V5  the earlier manifests (defaults /tmp/mamori-corpus{,2,3,-pdf,4,5}/manifest.tsv)
#        GH_FILTER=<regex on source lines>  (only those sources are ingested into the existing OUT)
# Writes OUT/manifest.tsv (the starter's columns), OUT/skipped.tsv, OUT/counts.tsv and the committed hash manifest
# manifest-docs6.tsv.gz. Idempotent like build-docs.sh. Nothing is executed; kept files are mode 0444.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib-gh.sh"
OUT=${1:-/tmp/mamori-corpus6}
WORK=${WORK:-/tmp/mamori-corpus6-work}
export MIRROR=${MIRROR:-/work/.mirror}
export STARTER=${STARTER:-/tmp/mamori-corpus/manifest.tsv}
gh_build "$OUT" "$WORK" "$HERE/sources/github-docs6.tsv" "$HERE/manifest-docs6.tsv.gz" \
  "$STARTER" "${V2:-/tmp/mamori-corpus2/manifest.tsv}" "${V3:-/tmp/mamori-corpus3/manifest.tsv}" \
  "${VPDF:-/tmp/mamori-corpus-pdf/manifest.tsv}" "${V4:-/tmp/mamori-corpus4/manifest.tsv}" \
  "${V5:-/tmp/mamori-corpus5/manifest.tsv}"
