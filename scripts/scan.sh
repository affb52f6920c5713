#!/usr/bin/env bash
# The main job: install dependencies, build (Release) and run `mamori scan` with the given arguments.
#   scripts/scan.sh PATH...            e.g. scripts/scan.sh --explain ~/Downloads
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/install-deps.sh"
"$here/build.sh" release >&2
exec "$here/../build-release/mamori" scan "$@"
