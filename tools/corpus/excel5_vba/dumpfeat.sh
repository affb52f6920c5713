#!/bin/sh
# dumpfeat.sh BIN OUT: the office vector (mamori features --kind office) of every office file of the manifests listed in
# /tmp/vba5/office-files.txt (awk -F'\t' 'FNR>1 && $3=="office" {print $10}' /tmp/mamori-corpus*/manifest.tsv | sort -u), one
# "file <tab> md5 of its JSON" line in OUT/sums.tsv and the JSON in OUT/json.
BIN=$1; OUT=$2; mkdir -p $OUT/json
while read -r f; do
  h=$(basename "$f")
  "$BIN" features --kind office "$f" > $OUT/json/$h.json 2>/dev/null
  printf '%s\t%s\n' "$h" "$(md5sum < $OUT/json/$h.json | cut -c1-32)"
done < /tmp/vba5/office-files.txt > $OUT/sums.tsv
