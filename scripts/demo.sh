#!/usr/bin/env bash
# `make demo`: the main job (see README). Installs the Debian packages, configures and builds what the
# demo needs, one line per stage (the full output goes to build/logs/), then runs mivla-demo: mivla-server
# on the bundled checkpoint (models/) and simulated PiPER, ARX-5, LocoMan and ALOHA robots at once,
# with the figures printed and demo.md / demo.png / demo.json written to build/demo/.
#   scripts/demo.sh [BUILD_DIR] [JOBS] [mivla-demo flags...]
set -euo pipefail
build=${1:-build}
jobs=${2:-$(nproc)}
shift $(( $# < 2 ? $# : 2 ))
mkdir -p "$build/logs"

stage() {  # stage TITLE LOG COMMAND...: one line; the log's tail when it fails
  local title=$1 log=$2 t0=$SECONDS
  shift 2
  printf '%-58s' "$title"
  if "$@" >"$log" 2>&1; then
    echo "done ($((SECONDS - t0)) s)"
  else
    echo "FAILED (full output: $log)"
    tail -n 40 "$log" >&2
    exit 1
  fi
}

stage "[1/3] Debian packages (scripts/install-deps.sh)" "$build/logs/deps.log" scripts/install-deps.sh
stage "[2/3] configure and build mivla-server, mivla-demo" "$build/logs/build.log" \
  sh -c "cmake -S . -B '$build' -DCMAKE_BUILD_TYPE=Release ${CMAKE_ARGS:-} && cmake --build '$build' -j '$jobs' --target mivla-server mivla-demo"
echo "[3/3] mivla-demo (build/bin/mivla-demo --help lists its flags)"
exec "$build/bin/mivla-demo" --out "$build/demo" "$@"
