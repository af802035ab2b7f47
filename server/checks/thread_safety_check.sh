#!/usr/bin/env bash
# The server's checked thread-safety annotations (issue 12): compiles every .cc under server/ except
# server/runtime/ (the LibTorch runtime) and server/checks/ with Debian's clang,
#   -fsyntax-only -Wthread-safety -Werror=thread-safety   (every other warning off: gcc builds the code)
# so an access to an ABSL_GUARDED_BY field without its mutex, a call missing an
# ABSL_EXCLUSIVE_LOCKS_REQUIRED lock or a lock not released fails. The same compile writes each file's
# header list (-MD), which must hold no LibTorch (torch/, ATen/, c10/) and no core/model or
# core/checkpoint header: those sources build without LibTorch.
#
#   thread_safety_check.sh CLANGXX FLAGS_FILE REPO OUT_DIR                 # the server's code; 0 = clean
#   thread_safety_check.sh CLANGXX FLAGS_FILE REPO OUT_DIR --planted FILE  # 0 only if FILE is rejected
#                                                                          # for thread safety (the check's test)
# FLAGS_FILE: one compiler argument per line (-I..., -isystem..., -D...), written by server/CMakeLists.txt.
set -u
clangxx=$1 flags_file=$2 repo=$3 out=$4
shift 4
planted=""
if [ "${1:-}" = "--planted" ]; then planted=$2; fi
command -v "$clangxx" >/dev/null || { echo "thread-safety check: $clangxx not found (bash scripts/install-deps.sh)"; exit 2; }
rm -rf "$out" && mkdir -p "$out"

compile() {  # SOURCE (absolute) -> 0 when clean; its log and header list under $out
  local src=$1 name flags
  name=$(echo "${src#"$repo"/}" | tr '/' '_')
  mapfile -t flags < "$flags_file"
  "$clangxx" -std=c++17 -fsyntax-only -pthread -Wno-everything -Wthread-safety -Werror=thread-safety \
    "${flags[@]}" -MD -MF "$out/$name.d" "$src" >"$out/$name.log" 2>&1
}
export -f compile
export clangxx flags_file repo out

if [ -n "$planted" ]; then
  if compile "$planted"; then
    echo "thread-safety check: the planted violation $planted compiled cleanly: the check does not work"
    exit 1
  fi
  log="$out/$(echo "${planted#"$repo"/}" | tr '/' '_').log"
  if grep -q "Wthread-safety" "$log"; then
    echo "thread-safety check rejects the planted violation:"
    grep "error:" "$log"
    exit 0
  fi
  echo "thread-safety check: $planted failed, but not for thread safety:"
  cat "$log"
  exit 1
fi

mapfile -t sources < <(cd "$repo" && find server -name '*.cc' -not -path 'server/runtime/*' -not -path 'server/checks/*' | sort)
[ "${#sources[@]}" -ge 40 ] || { echo "thread-safety check: only ${#sources[@]} sources found under $repo/server"; exit 1; }
failed=0
# Two at a time (CI has two cores).
printf '%s\n' "${sources[@]}" | xargs -P 2 -I{} bash -c 'compile "$repo/$1" || echo "$1" >>"$out/failed.txt"' _ {}
if [ -s "$out/failed.txt" ]; then
  echo "thread-safety check FAILED in $(wc -l <"$out/failed.txt") of ${#sources[@]} files:"
  for f in $(sort "$out/failed.txt"); do
    echo "== $f"
    cat "$out/$(echo "$f" | tr '/' '_').log"
  done
  failed=1
fi
# Header lists: no LibTorch, no model or checkpoint headers.
bad=$(grep -lE '(/include/(torch|ATen|c10)/|/core/model/|/core/checkpoint/)' "$out"/*.d 2>/dev/null)
if [ -n "$bad" ]; then
  echo "torch-free check FAILED: these sources pull in LibTorch or core/model / core/checkpoint headers:"
  for d in $bad; do
    echo "== $(basename "$d" .cc.d)"
    tr ' \\' '\n\n' <"$d" | grep -E '(/include/(torch|ATen|c10)/|/core/model/|/core/checkpoint/)' | head -5
  done
  failed=1
fi
deps=$(ls "$out"/*.d 2>/dev/null | wc -l)
if [ "$failed" = 0 ] && [ "$deps" -ne "${#sources[@]}" ]; then
  echo "thread-safety check: $deps header lists for ${#sources[@]} sources"
  failed=1
fi
[ "$failed" = 0 ] && echo "thread-safety check: ${#sources[@]} server sources clean under clang -Wthread-safety; none includes LibTorch or core/model"
exit "$failed"
