#!/usr/bin/env bash
# build-docs11.sh - builds the document corpus 11d (eleventh session): benign Word documents and templates with macros,
# many started by AutoOpen/Document_Open (template installers, add-ins, form documents), from the GitHub snapshots
# listed in sources/github-docs11.tsv, outside the repository. Evaluation data for Word open-trigger rules; not trained
# on. Files already in any earlier corpus (starter, v2, v3, PDF, v4, v5, 6, 7, 7 holdout, 8, 9, 9 holdout, 10) are
# skipped as duplicates.
#
# Usage: tools/corpus/build-docs11.sh [OUT]      (default OUT=/tmp/mamori-corpus11d)
# Env:   MIRROR=/work/.mirror  snapshots brought by the search tool's `fetch` (<owner>+<name>/repo)
#        STARTER V2 V3 VPDF V4 V5 V6 V7 V7H V8 V9 V9H V10  the earlier manifests (defaults /tmp/mamori-corpus{,2,...,10}/manifest.tsv)
#        GH_FILTER=<regex on source lines>  (only those sources are ingested into the existing OUT)
# Writes OUT/manifest.tsv (the starter's columns), OUT/skipped.tsv, OUT/counts.tsv and the committed hash manifest
# manifest-docs11.tsv.gz. Idempotent like build-docs.sh. Nothing is executed; kept files are mode 0444.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib-gh.sh"
OUT=${1:-/tmp/mamori-corpus11d}
WORK=${WORK:-/tmp/mamori-corpus11d-work}
export MIRROR=${MIRROR:-/work/.mirror}
export STARTER=${STARTER:-/tmp/mamori-corpus/manifest.tsv}
gh_build "$OUT" "$WORK" "$HERE/sources/github-docs11.tsv" "$HERE/manifest-docs11.tsv.gz" \
  "$STARTER" "${V2:-/tmp/mamori-corpus2/manifest.tsv}" "${V3:-/tmp/mamori-corpus3/manifest.tsv}" \
  "${VPDF:-/tmp/mamori-corpus-pdf/manifest.tsv}" "${V4:-/tmp/mamori-corpus4/manifest.tsv}" \
  "${V5:-/tmp/mamori-corpus5/manifest.tsv}" "${V6:-/tmp/mamori-corpus6/manifest.tsv}" "${V7:-/tmp/mamori-corpus7/manifest.tsv}" \
  "${V7H:-/tmp/mamori-corpus7h/manifest.tsv}" "${V8:-/tmp/mamori-corpus8/manifest.tsv}" "${V9:-/tmp/mamori-corpus9/manifest.tsv}" \
  "${V9H:-/tmp/mamori-corpus9h/manifest.tsv}" "${V10:-/tmp/mamori-corpus10/manifest.tsv}"
