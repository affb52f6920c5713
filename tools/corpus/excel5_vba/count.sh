#!/bin/sh
# Counts Excel 5/95 workbooks (root _VBA_PROJECT storage, list from find.py) whose `mamori extract` listing has at
# least one recovered code line (a line of a p-code module that is not a ' comment), per label.
BIN=${1:-build/mamori}
while IFS='	' read -r sha label sub grp path kids; do
  n=$("$BIN" extract "$path" 2>/dev/null | awk '/^=== module /{m=($0 !~ /\(identifier table\)/); next} m && NF && $0 !~ /^'"'"'/ {c++} END{print c+0}')
  printf '%s\t%s\t%s\n' "$sha" "$label" "$n"
done < /tmp/vba5/list.tsv
