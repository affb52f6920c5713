# lib-gh.sh - the fetch/ingest loop of the GitHub-snapshot corpus builders, to be sourced (`. "$HERE/lib-gh.sh"`).
# build-docs6.sh and build-docs8.sh (through gh_build) and build-pe7.sh use it; the older builders keep their own copy.
#
# gh_ingest SOURCES OUT [INGEST_ARGS...]
#   SOURCES: tab-separated lines `owner/repo  commit  label  ingest.py-options  note` ('#' lines and blank lines are
#   ignored; a `-` option field means none). Only lines matching $GH_FILTER (an ERE, default: all) are read.
#   Each repository is read from its snapshot $MIRROR/<owner>+<repo>/repo (brought by the search tool's `fetch`) at the
#   pinned commit, or at HEAD when the snapshot lacks it, and ingested into OUT by ingest.py with INGEST_ARGS (the
#   builder's common options: --seen, --tmp, ...) plus the line's own options; group `gh:<owner>+<repo>`, or
#   `gh:<owner>/<repo>` when $STARTER already spells that group so (one group per repository for group CV).
#   A missing snapshot is logged to OUT/skipped.tsv as `snapshot-missing` and skipped. Nothing is checked out or run.
gh_ingest() {
  local sources=$1 out=$2 here
  shift 2
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  grep -v '^\s*#' "$sources" | sed '/^\s*$/d' | { grep -E -- "${GH_FILTER:-.}" || true; } |
  while IFS=$'\t' read -r repo commit label opts comment; do
    local g="${MIRROR:-/work/.mirror}/${repo/\//+}/repo" group="gh:${repo/\//+}"
    [ -d "$g/.git" ] && g="$g/.git"
    if [ -n "${STARTER:-}" ] && [ -f "$STARTER" ] &&
       awk -F'\t' -v g="gh:$repo" '$7 == g { f = 1 } END { exit !f }' "$STARTER"; then
      group="gh:$repo"
    fi
    if [ ! -d "$g" ]; then
      printf '%s\t-\t-\t0\tsnapshot-missing(fetch it with the search tool)\n' "$group" >> "$out/skipped.tsv"
      continue
    fi
    git --git-dir="$g" cat-file -e "$commit^{commit}" 2>/dev/null || commit=$(git --git-dir="$g" rev-parse HEAD)
    [ "$opts" = "-" ] && opts=""
    eval "set -- $opts"
    python3 "$here/ingest.py" --out "$out" "${GH_INGEST_ARGS[@]}" --label "$label" --group "$group" \
      --archive "gh:$repo@${commit:0:12}" "$@" --git-dir "$g" "$commit" || true
  done
}

# gh_build OUT WORK SOURCES HASH_MANIFEST [SEEN_MANIFEST...]
#   A whole GitHub-snapshot corpus build: OUT must lie outside the repository; files already in any existing
#   SEEN_MANIFEST are skipped as duplicates; gh_ingest SOURCES into OUT, then finalize.py writes OUT/manifest.tsv and
#   the committed HASH_MANIFEST; WORK is scratch space, removed at the end. $STARTER names the starter manifest.
gh_build() {
  local out=$1 work=$2 sources=$3 hash=$4 here t0 m
  shift 4
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  case "$out" in "$(cd "$here/../.." && pwd)"*) echo "OUT must be outside the repository" >&2; return 1;; esac
  mkdir -p "$out" "$work"
  t0=$(date +%s)
  GH_INGEST_ARGS=(--tmp "$work")
  for m in "$@"; do
    if [ -f "$m" ]; then GH_INGEST_ARGS+=(--seen "$m"); fi
  done
  gh_ingest "$sources" "$out"
  python3 "$here/finalize.py" --out "$out" --starter "$STARTER" --hash-manifest "$hash"
  rm -rf "$work"
  echo "done in $(( $(date +%s) - t0 )) s: $(($(wc -l < "$out/manifest.tsv") - 1)) files in $out/manifest.tsv" >&2
}
