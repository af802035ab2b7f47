#include "core/model/instruction_cache.h"

namespace mivla::model {

InstructionCache::InstructionCache(Options options) : options_(options) {}

std::optional<EncodedInstruction> InstructionCache::Lookup(const std::string& text) {
  absl::MutexLock lock(&mu_);
  auto it = index_.find(text);
  if (it == index_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void InstructionCache::Insert(const std::string& text, EncodedInstruction value) {
  if (options_.capacity == 0) return;
  absl::MutexLock lock(&mu_);
  auto it = index_.find(text);
  if (it != index_.end()) {
    it->second->second = std::move(value);
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(text, std::move(value));
  index_[text] = lru_.begin();
  while (lru_.size() > options_.capacity) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

void InstructionCache::Clear() {
  absl::MutexLock lock(&mu_);
  lru_.clear();
  index_.clear();
}

size_t InstructionCache::size() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

int64_t InstructionCache::hits() const {
  absl::MutexLock lock(&mu_);
  return hits_;
}

int64_t InstructionCache::misses() const {
  absl::MutexLock lock(&mu_);
  return misses_;
}

}  // namespace mivla::model
