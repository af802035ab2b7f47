#include "server/runtime_api/policy_runtime.h"

#include <atomic>

namespace mivla::server {
namespace {

uint64_t NextInstance() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

}  // namespace

PolicyRuntime::PolicyRuntime() : instance_(NextInstance()) {}

}  // namespace mivla::server
