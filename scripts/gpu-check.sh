#!/usr/bin/env bash
# The GPU checks of issue 12, as one run on an x86-64 machine with an NVIDIA GPU, a CUDA toolkit, CMake
# and a python3 whose PyTorch is a CUDA build (its LibTorch is what the model library is built against;
# it must use the C++11 ABI, as PyTorch's wheels have since 2.7). Abseil, Eigen, nlohmann-json,
# GoogleTest and OpenCV's headers come from Debian bookworm's .debs, unpacked with dpkg -x into
# /tmp/mivla-debs (replaced on every run): fetch them on a Debian bookworm machine with
#   apt-get download libabsl-dev libabsl20220623 libeigen3-dev nlohmann-json3-dev libgtest-dev libgmock-dev \
#     libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
#
#   scripts/gpu-check.sh DEBS_DIR OUT_DIR
#
# It builds the model-only tree (top-level README, "Configuration") into build-cuda/ with the CUDA graph
# code, type-checks the nvJPEG decoder against this toolkit's nvjpeg.h, runs the model tests that touch
# the device (the capture and replay in GraphedSamplerTest, the device choice in RuntimeTest; a skipped
# test counts as a failure here), and runs mivla-bench-model with --cuda-graphs on `base` (fp32 and
# bf16) and `tiny` (fp32), batches 1 and 32, about 4 minutes on an H200. When the build with the CUDA
# graph code fails, it builds again without it (MIVLA_CUDA_GRAPHS=OFF) so the eager CUDA figures are
# still measured. Where python3 has `transformers`, it also writes the HuggingFace reference fixtures
# (tools/hf_reference/; /tmp/hf_reference is replaced).
# OUT_DIR receives log.txt (environment, build, tests), bench_<config>_<precision>.json and, where made,
# hf_reference.tar; the build logs stay in /tmp/build-cuda*.log. Each step's failure is logged and the
# next step still runs; the exit status counts the failed steps.
set -u
if [ $# -ne 2 ] || [ ! -d "$1" ]; then
  echo "usage: scripts/gpu-check.sh DEBS_DIR OUT_DIR   (DEBS_DIR: a folder of Debian .debs, see the header)" >&2
  exit 2
fi
debs=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
cd "$(dirname "$0")/.." || exit 2
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
if ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  fail "python3 has no PyTorch that sees a CUDA device ($(command -v python3))"
  exit "$failed"
fi
ls "$debs"/*.deb >/dev/null 2>&1 || { fail "no .deb files in $debs"; exit "$failed"; }

if python3 -c 'import transformers' 2>/dev/null; then
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
# The project has no .cu files; this only quiets LibTorch's CMake, which otherwise probes the GPUs.
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
targets=(mivla-bench-model mivla_graphed_sampler_test mivla_decoder_test)
build() {  # build DIR [CMAKE ARGS...]
  local dir=$1 blog=/tmp/$1.log
  shift
  rm -f "$blog"
  # MIVLA_MALLOC=system: the .debs above carry no tcmalloc, so the GPU figures come from a glibc build
  # (the device's own memory goes through LibTorch's CUDA allocator either way).
  if ! cmake -S . -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DMIVLA_MODEL_ONLY=ON -DMIVLA_WERROR=OFF \
    -DMIVLA_MALLOC=system -DCMAKE_PREFIX_PATH="$torch_prefix;$root/usr" "$@" >>"$log" 2>&1; then
    echo "cmake configure failed (above)" >>"$log"
    return 1
  fi
  cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}" >"$blog" 2>&1
  local rc=$?
  grep -E 'error:|warning: ' "$blog" | head -60 >>"$log"
  tail -5 "$blog" >>"$log"
  return $rc
}
step "build (model only, CUDA LibTorch, CUDA graphs)"
bin=build-cuda/bin
if ! build build-cuda; then
  fail "build with CUDA graphs (/tmp/build-cuda.log); building again without the CUDA graph code"
  step "build without CUDA graphs"
  bin=build-cuda-eager/bin
  build build-cuda-eager -DMIVLA_CUDA_GRAPHS=OFF || fail "build without CUDA graphs (/tmp/build-cuda-eager.log)"
fi

# nvJPEG's decoder belongs to the server's runtime, which this build leaves out (it needs OpenCV's
# libraries): it is type-checked against this toolkit's nvjpeg.h with OpenCV's and Abseil's headers from
# the .debs, as on CPU machines (the include folders after LibTorch's only extend the search path).
step "CUDA compile check (graphed_sampler.cc, nvjpeg_decoder.cc)"
# At the build's C++ standard (cmake/Dependencies.cmake picks it from LibTorch's version).
cxx_std=$(grep -o -m1 -- '-std=[a-z+]*[0-9]*' "${bin%/bin}/compile_commands.json" 2>/dev/null | grep -o '[0-9]*$')
mapfile -t torch_includes < <(python3 -c 'from torch.utils import cpp_extension; print("\n".join(cpp_extension.include_paths()))')
CXX_STD=${cxx_std:-17} OPENCV_INCLUDE_DIR=$root/usr/include/opencv4 CUDA_HOME=${CUDA_HOME:-/usr/local/cuda} \
  bash core/model/cuda_compile_check.sh c++ "$PWD" /tmp/mivla-cuda-compile-check "${torch_includes[@]}" \
  "$root/usr/include" "$root/usr/include/x86_64-linux-gnu/opencv4" >>"$log" 2>&1
case $? in
  0) ;;
  77) fail "CUDA compile check skipped (no CUDA toolkit headers or no ATen/cuda headers)" ;;
  *) fail "CUDA compile check" ;;
esac

step "tests on the device"
for t in mivla_graphed_sampler_test mivla_decoder_test; do
  if [ -x "$bin/tests/$t" ]; then
    "$bin/tests/$t" --gtest_brief=1 >"/tmp/$t.log" 2>&1 || fail "$t"
    cat "/tmp/$t.log" >>"$log"
    if grep -q '^\[  SKIPPED \]' "/tmp/$t.log"; then fail "$t skipped a test on the GPU machine"; fi
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
  bench base fp32 1,32 100
  bench base bf16 1,32 100
  bench tiny fp32 1,32 100
else
  fail "mivla-bench-model was not built"
fi
step "done: $failed failed step(s)"
exit "$failed"
