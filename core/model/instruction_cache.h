// File: instruction_cache.h
// Caches encoded instructions by text: robots repeat the same instruction at every observation, so the
// T5 encoder runs once per distinct instruction (per model version) instead of once per request.
// Bounded LRU; entries are [L, W] tensors (already projected to the decoder width) plus their [L] mask.
//
//   InstructionCache cache({.capacity = 1024});
//   auto hit = cache.Lookup(text);
//   if (!hit) cache.Insert(text, Encode(text));
//
// Thread-safe: all methods may be called concurrently.
#ifndef MIVLA_CORE_MODEL_INSTRUCTION_CACHE_H_
#define MIVLA_CORE_MODEL_INSTRUCTION_CACHE_H_

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include <ATen/core/Tensor.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace mivla::model {

struct EncodedInstruction {
  at::Tensor tokens;  // [L, W]
  at::Tensor mask;    // [L] bool
};

class InstructionCache {
 public:
  struct Options {
    size_t capacity = 1024;  // distinct instructions kept; least recently used evicted first
  };
  explicit InstructionCache(Options options);

  std::optional<EncodedInstruction> Lookup(const std::string& text);
  void Insert(const std::string& text, EncodedInstruction value);
  void Clear();

  size_t size() const;
  int64_t hits() const;
  int64_t misses() const;

 private:
  using Entry = std::pair<std::string, EncodedInstruction>;
  const Options options_;
  mutable absl::Mutex mu_;
  std::list<Entry> lru_ ABSL_GUARDED_BY(mu_);  // front = most recent
  std::unordered_map<std::string, std::list<Entry>::iterator> index_ ABSL_GUARDED_BY(mu_);
  int64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mivla::model

#endif  // MIVLA_CORE_MODEL_INSTRUCTION_CACHE_H_
