#!/bin/bash
# Latency of open(2) on files protected by mamorid's on-access (OnAccessPrevention yes): without the daemon, at the
# first open (each file scanned), at the second (answered from the clean-verdict cache). Needs root and fanotify.
# Usage: bench/onaccess_open.sh BUILD_DIR [FILE_TO_ADD...]   (writes 200 text files of 6 KB into a temp folder)
set -euo pipefail
B=${1:?usage: $0 BUILD_DIR [FILE...]}; shift
T=$(mktemp -d /tmp/oa-bench.XXXXXX)
PID=
cleanup() {
  set +e
  if [ -n "$PID" ]; then kill "$PID"; wait "$PID"; fi
  rm -rf "$T"
}
trap cleanup EXIT
mkdir "$T/g"
python3 -c "
for i in range(200): open('$T/g/f%03d.txt' % i, 'w').write(('line %d of a plain text file\\n' % i) * 200)"
for f in "$@"; do cp "$f" "$T/g/"; done
cat > "$T/open.py" <<PY
import os, sys, time, glob
files = sorted(glob.glob("$T/g/*"))
for label in sys.argv[1:]:
    t = []
    for f in files:
        a = time.perf_counter(); fd = os.open(f, os.O_RDONLY); t.append(time.perf_counter() - a); os.close(fd)
    t.sort()
    print(f"{label}: {len(t)} opens, median {t[len(t)//2]*1e3:.3f} ms, p99 {t[int(len(t)*0.99)-1]*1e3:.3f} ms, "
          f"max {t[-1]*1e3:.2f} ms, total {sum(t)*1e3:.1f} ms")
PY
python3 "$T/open.py" "no daemon"
printf 'LocalSocket %s/d.ctl\nForeground yes\nLogFile %s/log\nMaxThreads 2\nOnAccessIncludePath %s/g\nOnAccessPrevention yes\n' \
  "$T" "$T" "$T" > "$T/conf"
"$B/mamorid" --config "$T/conf" & PID=$!
for i in $(seq 100); do grep -q "On-access: protecting [0-9]" "$T/log" 2>/dev/null && break; sleep 0.2; done
python3 "$T/open.py" "first open (scanned)" "second open (cached)"
python3 - "$T/d.ctl" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"nSTATS\n"); d = b""
while (b := s.recv(4096)): d += b
print([l for l in d.decode().splitlines() if l.startswith("ONACCESS")][0])
PY
