#!/usr/bin/env bash
# `make demo`: the main job on the embedded default (see README): the tiny model on sample observations,
# then mivla-server (in-process, the tiny model randomly initialised: no trained checkpoint is bundled
# yet) driven over gRPC by simulated robot sessions of every embodiment, with its figures printed.
set -euo pipefail
build=${1:-build}
"$build/bin/mivla-demo" --out "$build/demo.json"
echo
echo "model benchmark (tiny, CPU):"
"$build/bin/mivla-bench-model" --config tiny --json --out "$build/bench-model.json" >/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [print("  batch %2d: encode %6.1f ms, decode %6.1f ms, %5.1f GFLOP/s" % (r["batch"], r["encode_ms"], r["decode_ms"], r["achieved_gflops"])) for r in d["rows"]]; print("  GEMM peak %.0f GFLOP/s; JSON in %s" % (d["matmul_peak_gflops"], sys.argv[1]))' "$build/bench-model.json"
echo
echo "policy server: 1, 4 and 16 simulated robots (PiPER, ARX-5, ALOHA, LocoMan, human in turn) looping"
echo "Observe + Act over gRPC, dynamic batching on and off:"
mkdir -p "$build/bench"
"$build/bin/mivla-bench-server" --config tiny --json --duration-s 3 --warmup-s 1 \
  --out-dir "$build/bench" >"$build/bench/server_bench.stdout.json" 2>/dev/null || {
  echo "mivla-bench-server failed; rerun it by hand to see why" >&2
  exit 1
}
python3 - "$build/bench/server_bench.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("  bare model encode+decode, one sample: %.1f ms" % d["bare_decode_ms"])
for r in d["rows"]:
    print("  %2d sessions, batching %-3s: %5.1f chunks/s, p50 %6.1f ms, p99 %6.1f ms"
          % (r["sessions"], "on" if r["batching"] else "off", r["chunks_per_s"], r["p50_ms"], r["p99_ms"]))
for name, t in d["targets"].items():
    print("  target %-40s ratio %5.2f (limit %.2f): %s" % (t["what"][:40], t["ratio"], t["limit"], "pass" if t["pass"] else "MISS"))
print("  peak RSS %.0f MB; JSON and PNG plot in %s" % (d["peak_rss_mb"], sys.argv[1].rsplit("/", 1)[0]))
PY
