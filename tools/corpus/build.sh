#!/usr/bin/env bash
# build.sh - builds the additional (v2) training corpus outside the repository.
#
# Usage: tools/corpus/build.sh [OUT]            (default OUT=/tmp/mamori-corpus2)
# Env:   STAGES="deb npm gh"  which stages to run (default all three, then finalize)
#        MIRROR=/work/.mirror  where the GitHub snapshots brought by the search tool's `fetch` live
#                              (one bare git dir per repo: $MIRROR/<owner>+<name>/repo)
#        WORK=/tmp/mamori-corpus2-work  scratch (downloads; deleted at the end unless KEEP_WORK=1)
#        STARTER=/tmp/mamori-corpus/manifest.tsv  starter manifest, for de-duplication
#        SHARE_CAP=0.15      no benign source group may exceed this share of benign PE files
#
# Nothing downloaded is ever executed: .deb files are opened with `dpkg-deb -x`, npm tarballs
# with python's tarfile, git snapshots with `git archive | tar -x`, encrypted zip/7z with
# python/7z (password "infected" and the ones listed in sources/github.tsv).  Every kept file is
# mode 0444.  Everything skipped is listed in OUT/skipped.tsv with the reason.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-/tmp/mamori-corpus2}
WORK=${WORK:-/tmp/mamori-corpus2-work}
MIRROR=${MIRROR:-/work/.mirror}
STARTER=${STARTER:-/tmp/mamori-corpus/manifest.tsv}
STAGES=${STAGES:-deb npm gh}
case "$OUT" in "$(cd "$HERE/../.." && pwd)"*) echo "OUT must be outside the repository" >&2; exit 1;; esac
mkdir -p "$OUT" "$WORK"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
T0=$(date +%s)
ING=(python3 "$HERE/ingest.py" --out "$OUT" --seen "$STARTER" --tmp "$WORK")
for t in python3 git tar 7z; do command -v $t >/dev/null || { echo "missing $t (apt-get install p7zip-full git python3)"; exit 1; }; done

# ------------------------------------------------------------------ Debian
if [[ " $STAGES " == *" deb "* ]]; then
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || { echo "deb stage needs apt-get and dpkg-deb"; exit 1; }
  mkdir -p "$WORK/deb"
  grep -v '^\s*#' "$HERE/sources/deb.txt" | sed '/^\s*$/d' | while read -r p; do
    if [[ $p == *'>' ]]; then   # meta package: take its linux-image-<version> dependency
      p=$(apt-cache depends "${p%>}" 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
      [ -n "$p" ] || continue
    fi
    ( cd "$WORK/deb" && apt-get download "$p" >/dev/null 2>&1 ) || { printf 'deb:%s\t-\t-\t0\tapt-download-failed\n' "$p" >> "$OUT/skipped.tsv"; log "deb $p: download failed"; continue; }
    f=$(ls -t "$WORK"/deb/"${p%%:*}"_*.deb 2>/dev/null | head -1)
    [ -n "$f" ] || continue
    x="$WORK/deb/x"; rm -rf "$x"; mkdir -p "$x"; dpkg-deb -x "$f" "$x"
    "${ING[@]}" --label benign --group "deb:${p%%:*}" --archive "$(basename "$f")" --max-per-group "${DEB_CAP:-800}" "$x" || true
    rm -rf "$x" "$f"
  done
fi

# ------------------------------------------------------------------ npm
if [[ " $STAGES " == *" npm "* ]]; then
  command -v npm >/dev/null || { echo "npm stage needs npm"; exit 1; }
  mkdir -p "$WORK/npm"
  grep -v '^\s*#' "${NPM_LIST:-$HERE/sources/npm.txt}" | sed '/^\s*$/d' | while read -r spec; do
    name=${spec%@*}
    # one group per software: the platform packages of one project (foo-win32-x64, foo-win32-arm64) share it
    grp=$(printf '%s' "$name" | sed -E 's/[-_.](win32|windows|win|win64|win-x64|win-x86)([-_.].*)?$//')
    d="$WORK/npm/pack"; rm -rf "$d"; mkdir -p "$d"
    if ! ( cd "$d" && npm pack --silent --ignore-scripts "$spec" >/dev/null 2>>"$WORK/npm-pack.log" ); then
      printf 'npm:%s\t-\t-\t0\tnpm-pack-failed\n' "$name" >> "$OUT/skipped.tsv"; log "npm $spec: pack failed"; continue
    fi
    for t in "$d"/*.tgz; do
      "${ING[@]}" --label benign --group "npm:$grp" --archive "$spec" --max-per-group "${NPM_CAP:-400}" "$t" || true
    done
    rm -rf "$d"
  done
fi

# ------------------------------------------------------------------ GitHub snapshots
# sources/github.tsv: repo  commit  label  options(ingest.py flags, or -)  comment
if [[ " $STAGES " == *" gh "* ]]; then
  grep -v '^\s*#' "$HERE/sources/github.tsv" | sed '/^\s*$/d' | { grep -E -- "${GH_FILTER:-.}" || true; } | while IFS=$'\t' read -r repo commit label opts comment; do
    g="$MIRROR/${repo/\//+}/repo"
    [ -d "$g/.git" ] && g="$g/.git"
    if [ ! -d "$g" ]; then
      printf 'gh:%s\t-\t-\t0\tsnapshot-missing(fetch it with the search tool)\n' "${repo/\//+}" >> "$OUT/skipped.tsv"; log "gh $repo: no snapshot at $g"; continue
    fi
    [ "$commit" = "-" ] && commit=$(git --git-dir="$g" rev-parse HEAD)
    git --git-dir="$g" cat-file -e "$commit^{commit}" 2>/dev/null || { log "gh $repo: commit $commit missing, using HEAD"; commit=$(git --git-dir="$g" rev-parse HEAD); }
    [ "$opts" = "-" ] && opts=""
    # shellcheck disable=SC2086
    eval "set -- $opts"
    "${ING[@]}" --label "$label" --group "gh:${repo/\//+}" --archive "gh:$repo@${commit:0:12}" --kinds "${KINDS:-pe}" "$@" --git-dir "$g" "$commit" || true
  done
fi

python3 "$HERE/finalize.py" --out "$OUT" --starter "$STARTER" --share-cap "${SHARE_CAP:-0.15}" --hash-manifest "$HERE/manifest-v2.tsv.gz"
[ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"
log "done in $(( $(date +%s) - T0 )) s: $(($(wc -l < "$OUT/manifest.tsv") - 1)) files in $OUT/manifest.tsv"
