#!/usr/bin/env bash
# bench/padded_documents.sh [BUILD_DIR] [MB] - peak RSS and wall time of `mamori scan` on documents padded with MB
# (default 600) megabytes of zeros, the trick that pushes an attachment past scanners' size caps. The documents are
# synthetic (a compound-file header, a tiny RTF with an object, a tiny PDF with an /OpenAction); each is written to
# a temporary folder, scanned and deleted before the next. The scanner maps the file and gives pages back as its
# passes move on, so its peak RSS should stay near that of a small file, far below the file's size.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-release}
mb=${2:-600}
[ -x "$build/mamori" ] || { echo "no $build/mamori (build it first: scripts/build.sh release)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pad() { head -c "$((mb * 1000000))" /dev/zero >> "$1"; }
one() {
  local f=$1
  pad "$f"
  printf '%-5s %s MB: ' "${f##*.}" "$(( $(stat -c %s "$f") / 1000000 ))"
  /usr/bin/time -f "peak RSS %M KiB, wall %e s" "$build/mamori" scan --no-summary "$f" 2>&1 >/dev/null | tail -1
  rm -f "$f"
}
printf '\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1' > "$tmp/p.doc"; head -c 504 /dev/zero >> "$tmp/p.doc"; one "$tmp/p.doc"
printf '{\\rtf1\\ansi{\\object\\objemb{\\*\\objclass Package}{\\*\\objdata 01050000020000000800000050616b6167650000}}}' \
  > "$tmp/p.rtf"; one "$tmp/p.rtf"
printf '%%PDF-1.4\n1 0 obj<</Type/Catalog/OpenAction 2 0 R>>endobj\n2 0 obj<</S/URI/URI(http://example.com/)>>endobj\ntrailer<</Root 1 0 R>>\n%%%%EOF\n' \
  > "$tmp/p.pdf"; one "$tmp/p.pdf"
