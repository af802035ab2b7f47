#!/usr/bin/env bash
# The GPU checks of issue 12, as one run on a machine with an NVIDIA GPU, a CUDA toolkit, CMake and a
# python3 whose PyTorch is a CUDA build (its LibTorch is what the model library is built against).
# Abseil, Eigen, nlohmann-json and GoogleTest come from Debian's .debs, unpacked with dpkg -x: fetch them
# on a Debian machine with
#   apt-get download libabsl-dev libabsl20220623 libeigen3-dev nlohmann-json3-dev libgtest-dev libgmock-dev \
#     libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
#
#   scripts/gpu-check.sh DEBS_DIR OUT_DIR
#
# It builds the model-only tree (top-level README, "Configuration") into build-cuda/ with the CUDA graph
# code, runs the model tests that touch the device (the capture and replay in GraphedSamplerTest, the
# device choice in RuntimeTest), and runs mivla-bench-model on the `base` and `tiny` configurations with
# --cuda-graphs, fp32 and bf16. When the CUDA graph code does not compile, it builds again without it
# (MIVLA_CUDA_GRAPHS=OFF) so the eager CUDA figures are still measured. Where python3 has
# `transformers`, it also writes the HuggingFace reference fixtures (tools/hf_reference/).
# OUT_DIR receives log.txt (environment, build, tests), bench_<config>_<precision>.json and, where made,
# hf_reference.tar. Each step's failure is logged and the next step still runs; the exit status counts
# the failed steps.
set -u
debs=$(cd "$1" && pwd) out=$2
mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$out/log.txt
: >"$log"
failed=0
step() { echo "== $* ($(date -u +%H:%M:%S))" | tee -a "$log"; }
fail() { echo "FAILED: $*" | tee -a "$log"; failed=$((failed + 1)); }

step environment
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))'
  nvcc --version | tail -2
  c++ --version | head -1
  cmake --version | head -1
  nproc
} >>"$log" 2>&1

if python3 -c 'import transformers' 2>/dev/null && [ -f tools/hf_reference/make_hf_reference.py ]; then
  step HuggingFace reference fixtures
  rm -rf /tmp/hf_reference
  if python3 tools/hf_reference/make_hf_reference.py /tmp/hf_reference >>"$log" 2>&1; then
    tar -C /tmp -cf "$out/hf_reference.tar" hf_reference
  else
    fail "tools/hf_reference/make_hf_reference.py"
  fi
fi

step "Debian packages from $debs"
root=/tmp/mivla-debs
rm -rf "$root" && mkdir -p "$root"
for f in "$debs"/*.deb; do dpkg -x "$f" "$root" || fail "dpkg -x $f"; done
# Abseil's own libraries need each other, which the executables' RUNPATH does not cover.
export LD_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
targets=(mivla-bench-model mivla_graphed_sampler_test mivla_decoder_test)
build() {  # build DIR [CMAKE ARGS...]
  local dir=$1
  shift
  cmake -S . -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DMIVLA_MODEL_ONLY=ON -DMIVLA_WERROR=OFF \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$root/usr" "$@" >>"$log" 2>&1 &&
    cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}" >"$dir.build.log" 2>&1
  local rc=$?
  grep -E 'error|warning: ' "$dir.build.log" | head -60 >>"$log"
  tail -5 "$dir.build.log" >>"$log"
  return $rc
}
step "build (model only, CUDA LibTorch, CUDA graphs)"
bin=build-cuda/bin
if ! build build-cuda; then
  fail "build with CUDA graphs"
  step "build without CUDA graphs"
  bin=build-cuda-eager/bin
  build build-cuda-eager -DMIVLA_CUDA_GRAPHS=OFF || fail "build without CUDA graphs"
fi

# nvJPEG's decoder is part of the server's runtime, which needs more than this build has (gRPC is not
# needed, but OpenCV's libraries are): here it is type-checked against this toolkit's nvjpeg.h with
# OpenCV's and Abseil's headers from the .debs (libopencv-{core,imgproc,imgcodecs}-dev), as on CPU
# machines (the check's include folders after LibTorch's are only added to the search path).
step "CUDA compile check (graphed_sampler.cc, nvjpeg_decoder.cc)"
mapfile -t torch_includes < <(python3 -c 'from torch.utils import cpp_extension; print("\n".join(cpp_extension.include_paths()))')
OPENCV_INCLUDE_DIR=$root/usr/include/opencv4 CUDA_HOME=${CUDA_HOME:-/usr/local/cuda} \
  bash core/model/cuda_compile_check.sh c++ "$PWD" /tmp/mivla-cuda-compile-check "${torch_includes[@]}" \
  "$root/usr/include" "$root/usr/include/x86_64-linux-gnu/opencv4" >>"$log" 2>&1 ||
  fail "CUDA compile check"

step "tests on the device"
for t in mivla_graphed_sampler_test mivla_decoder_test; do
  if [ -x "$bin/tests/$t" ]; then
    "$bin/tests/$t" --gtest_brief=1 >>"$log" 2>&1 || fail "$t"
  else
    fail "$t was not built"
  fi
done

graphs=()
[ "$bin" = build-cuda/bin ] && graphs=(--cuda-graphs)
bench() {  # bench CONFIG PRECISION BATCHES REPEATS
  step "mivla-bench-model --config $1 --precision $2 --batches $3"
  timeout 300 "$bin/mivla-bench-model" --config "$1" --device cuda --precision "$2" --batches "$3" \
    --repeats "$4" "${graphs[@]}" --json --out "$out/bench_$1_$2.json" >/dev/null 2>>"$log" ||
    fail "mivla-bench-model $1 $2"
}
if [ -x "$bin/mivla-bench-model" ]; then
  # About 4 minutes on an H200 for the two base runs (each repeat times encode, decode, eager, graph).
  bench base fp32 1,32 100
  bench base bf16 1,32 100
  bench tiny fp32 1,32 100
else
  fail "mivla-bench-model was not built"
fi
step "done: $failed failed step(s)"
exit "$failed"
