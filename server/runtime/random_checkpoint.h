// File: random_checkpoint.h
// Writes a checkpoint file of a named configuration with random weights, for tests and tools that need
// real checkpoints on disk (e.g. the hot-reload integration test) without compiling LibTorch headers.
// Thread-compatible (seeds LibTorch's global generator).
#ifndef MIVLA_SERVER_RUNTIME_RANDOM_CHECKPOINT_H_
#define MIVLA_SERVER_RUNTIME_RANDOM_CHECKPOINT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace mivla::server {

/// `config` "tiny" or "base"; `tokenizer_model` serialized SentencePiece bytes ("" = none). Atomic write
/// (core/checkpoint); errors name the path.
absl::Status WriteRandomCheckpoint(const std::string& path, const std::string& version, const std::string& config,
                                   uint64_t seed, const std::string& tokenizer_model);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_RUNTIME_RANDOM_CHECKPOINT_H_
