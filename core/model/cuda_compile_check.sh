#!/usr/bin/env bash
# The CUDA graph code of core/model/graphed_sampler.cc compiles only in a build against a CUDA LibTorch
# (MIVLA_WITH_CUDA), the nvJPEG decoder server/runtime/nvjpeg_decoder.cc only where nvJPEG was found too.
# This check type-checks them on a CPU machine that has a CUDA toolkit's headers (nvjpeg_decoder.cc only
# when the toolkit has nvjpeg.h):
#   CXX -std=c++$CXX_STD -fsyntax-only -DMIVLA_WITH_CUDA=1  against this machine's LibTorch headers
# so a misspelt CUDA graph, stream or event call fails `make test` here rather than on the first GPU
# machine. Nothing is linked or run. Exits 77 (ctest: skipped) when there are no CUDA toolkit headers
# (cuda_runtime_api.h under $CUDA_HOME/include, /usr/local/cuda/include or /usr/include) or LibTorch
# has no ATen/cuda headers. Debian's LibTorch (a CPU build) ships ATen/cuda but not the configure-time
# c10/cuda/impl/cuda_cmake_macros.h; the check writes that one-line header into OUT_DIR when missing.
# OPENCV_INCLUDE_DIR (default: pkg-config's opencv4, else /usr/include/opencv4) points at OpenCV's headers;
# CXX_STD (default 17) is the C++ standard, the build's (LibTorch 2.13 and later need 20).
#
#   cuda_compile_check.sh CXX REPO OUT_DIR TORCH_INCLUDE_DIR...      # 0 = compiles
set -u
cxx=$1 repo=$2 out=$3
shift 3
torch_dirs=("$@")
cuda_inc=""
for d in "${CUDA_HOME:-/nonexistent}/include" /usr/local/cuda/include /usr/include; do
  if [ -f "$d/cuda_runtime_api.h" ]; then cuda_inc=$d; break; fi
done
[ -n "$cuda_inc" ] || { echo "CUDA compile check skipped: no CUDA toolkit headers (cuda_runtime_api.h)"; exit 77; }
have_graph="" have_macros=""
for d in "${torch_dirs[@]}"; do
  [ -f "$d/ATen/cuda/CUDAGraph.h" ] && have_graph=1
  [ -f "$d/c10/cuda/impl/cuda_cmake_macros.h" ] && have_macros=1
done
[ -n "$have_graph" ] || { echo "CUDA compile check skipped: LibTorch has no ATen/cuda headers"; exit 77; }
rm -rf "$out" && mkdir -p "$out/c10/cuda/impl"
flags=(-std=c++"${CXX_STD:-17}" -fsyntax-only -pthread -I"$repo")
if [ -z "$have_macros" ]; then
  printf '#pragma once\n#define C10_CUDA_BUILD_SHARED_LIBS\n' >"$out/c10/cuda/impl/cuda_cmake_macros.h"
  flags+=(-isystem "$out")
fi
# The compiler's own folders stay out of -isystem (it would break libstdc++'s #include_next).
for d in "${torch_dirs[@]}" "$cuda_inc"; do
  case "$d" in /usr/include | /usr/local/include) ;; *) flags+=(-isystem "$d") ;; esac
done
status=0
check() {  # check SRC DEFINE
  if "$cxx" "${flags[@]}" -D"$2"=1 "$1" >"$out/compile.log" 2>&1; then
    echo "CUDA compile check: $1 compiles with $2=1 (CUDA headers: $cuda_inc)"
  else
    echo "CUDA compile check FAILED: $1 with $2=1 (CUDA headers: $cuda_inc):"
    cat "$out/compile.log"
    status=1
  fi
}
check "$repo/core/model/graphed_sampler.cc" MIVLA_WITH_CUDA
# The nvJPEG decoder (--gpu-image-decode) where the toolkit ships nvJPEG's header.
if [ -f "$cuda_inc/nvjpeg.h" ]; then
  flags+=(-isystem "${OPENCV_INCLUDE_DIR:-$(pkg-config --variable=includedir opencv4 2>/dev/null || echo /usr/include/opencv4)}")
  check "$repo/server/runtime/nvjpeg_decoder.cc" MIVLA_WITH_NVJPEG
else
  echo "CUDA compile check: server/runtime/nvjpeg_decoder.cc skipped (no nvjpeg.h under $cuda_inc)"
fi
exit $status
