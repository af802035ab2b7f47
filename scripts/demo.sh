#!/usr/bin/env bash
# `make demo`: the main job on the embedded default (see README). Grows as the server and sim land.
set -euo pipefail
build=${1:-build}
"$build/bin/mivla-demo" --out "$build/demo.json"
echo
echo "model benchmark (tiny, CPU):"
"$build/bin/mivla-bench-model" --config tiny --json --out "$build/bench-model.json" >/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [print("  batch %2d: encode %6.1f ms, decode %6.1f ms, %5.1f GFLOP/s" % (r["batch"], r["encode_ms"], r["decode_ms"], r["achieved_gflops"])) for r in d["rows"]]; print("  GEMM peak %.0f GFLOP/s; JSON in %s" % (d["matmul_peak_gflops"], sys.argv[1]))' "$build/bench-model.json"
