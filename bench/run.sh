#!/usr/bin/env bash
# bench/run.sh [MANIFEST] - the performance figures quoted in docs/MEASUREMENTS.md, on a Release build, one thread.
#   1. mamori_corpus_bench over the manifest's PE rows: MB/s, files/s, p50/p99 latency, inference time, peak RSS
#   2. peak RSS and wall time of `mamori scan` (one thread) over the same files
#   3. the 547 MB zero-padded Emotet DLL, when the corpus has it, and synthetic documents padded to 600 MB
#   4. micro benchmarks (byte pass, inference, SHAP explanation) on synthetic data
#   5. mamorid under load: 64 concurrent INSTREAM clients for 60 s over the manifest's PE and document files
#      (requests/s, latency percentiles, bad replies, daemon RSS/fds at start, every 10 s and at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
manifest=${1:-/tmp/mamori-corpus/manifest.tsv}
scripts/build.sh release >/dev/null
[ -f "$manifest" ] || { echo "no manifest at $manifest (lay the corpus out with ../shared/corpus/unpack.sh)" >&2; exit 2; }
echo "== corpus bench (PE rows of $manifest, one thread)"
build-release/bench/mamori_corpus_bench "$manifest"
echo "== mamori scan, one thread, same files: peak RSS and wall time"
list=$(mktemp)
awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) c[$i]=i; next} $c["kind"]=="pe"{print $c["path"]}' "$manifest" > "$list"
/usr/bin/time -f "peak RSS %M KiB, wall %e s" build-release/mamori scan -j 1 --no-summary -i --files-from "$list" >/dev/null || true
rm -f "$list"
padded=$(awk -F'\t' 'NR>1 && $8=="emotet-padded.7z"{print $10}' "$manifest")
if [ -n "$padded" ] && [ -f "$padded" ]; then
  echo "== 547 MB zero-padded Emotet DLL"
  /usr/bin/time -f "peak RSS %M KiB, wall %e s" build-release/mamori scan --no-summary "$padded" || true
fi
echo "== documents padded with 600 MB of zeros (bench/padded_documents.sh)"
bench/padded_documents.sh build-release 600
echo "== micro benchmarks"
build-release/bench/mamori_microbench --benchmark_min_time=0.2
echo "== mamorid: 64 INSTREAM clients for 60 s (PE + documents of $manifest), MaxThreads 2"
tmp=$(mktemp -d)
printf 'LocalSocket %s/mamorid.ctl\nForeground yes\nMaxThreads 2\nMaxQueue 100\nLogFile %s/log\n' "$tmp" "$tmp" > "$tmp/mamorid.conf"
build-release/mamorid --config "$tmp/mamorid.conf" & pid=$!
for _ in $(seq 300); do [ -S "$tmp/mamorid.ctl" ] && break; sleep 0.1; done
build-release/bench/mamorid_bench "$tmp/mamorid.ctl" --manifest "$manifest" --kinds pe,office,pdf,rtf --max-files 400 \
  --clients 64 --duration 60 --pid "$pid" || true
kill "$pid"; wait "$pid" || true
rm -rf "$tmp"
