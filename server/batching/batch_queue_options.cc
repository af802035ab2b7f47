#include "server/batching/batch_queue_options.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace mivla::server {

const char* BatchPolicyName(BatchPolicy policy) { return policy == BatchPolicy::kEdf ? "edf" : "fifo"; }

absl::Status ParseBatchPolicy(const std::string& text, const std::string& field, BatchPolicy* policy) {
  if (text == "fifo") {
    *policy = BatchPolicy::kFifo;
  } else if (text == "edf") {
    *policy = BatchPolicy::kEdf;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", text.substr(0, 64),
                                                   "' is not a batch policy (fifo or edf)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateBatchQueueOptions(const BatchQueueOptions& options) {
  const std::string prefix = absl::StrCat("batch queue '", options.name, "': ");
  if (options.max_batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "max_batch_size must be >= 1"));
  }
  if (options.max_queue_delay < absl::ZeroDuration() ||
      options.max_queue_delay == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "max_queue_delay must be finite and >= 0, got ",
                     absl::FormatDuration(options.max_queue_delay)));
  }
  if (options.max_queue_depth < 1) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "max_queue_depth must be >= 1"));
  }
  if (options.num_workers < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "num_workers must be >= 1, got ", options.num_workers));
  }
  return absl::OkStatus();
}

absl::Duration EstimateRetryAfter(const BatchQueueOptions& options,
                                  absl::Duration avg_batch_latency) {
  if (avg_batch_latency <= absl::ZeroDuration()) {
    return std::max(options.max_queue_delay, absl::Milliseconds(1));
  }
  // Batches needed to empty a full queue, shared among the workers.
  const double batches = std::ceil(static_cast<double>(options.max_queue_depth) /
                                   static_cast<double>(options.max_batch_size));
  const double rounds = std::ceil(batches / static_cast<double>(options.num_workers));
  return std::max(avg_batch_latency * rounds, absl::Milliseconds(1));
}

absl::Status QueueFullError(const BatchQueueOptions& options, absl::Duration retry_after) {
  const int64_t ms = static_cast<int64_t>(std::ceil(absl::ToDoubleMilliseconds(retry_after)));
  return absl::ResourceExhaustedError(absl::StrCat(options.name, " queue full (depth ",
                                                   options.max_queue_depth, "); retry after ~",
                                                   ms, " ms"));
}

}  // namespace mivla::server
