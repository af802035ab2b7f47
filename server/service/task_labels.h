// File: task_labels.h
// TaskLabels: bounds the `task` label values of the episode metrics. Each embodiment keeps the first
// `max_per_embodiment` distinct task names it reports (plus any names configured up front, which are
// always kept); every further name is counted under `other`, so a client reporting 20,000 task
// names adds at most `max_per_embodiment` series, not 20,000.
//
//   TaskLabels labels({.max_per_embodiment = 32});
//   std::string label = labels.Label("PIPER", req.task());  // the name itself, or "other"
//
// Thread-safety: Label may be called from any thread.
#ifndef MIVLA_SERVER_SERVICE_TASK_LABELS_H_
#define MIVLA_SERVER_SERVICE_TASK_LABELS_H_

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace mivla::server {

class TaskLabels {
 public:
  static constexpr const char* kOther = "other";
  struct Options {
    size_t max_per_embodiment = 32;     // learned names per embodiment; 0 = every task is "other"
    std::vector<std::string> preset;    // always kept, for every embodiment (not counted in the cap)
  };
  explicit TaskLabels(Options options);

  std::string Label(const std::string& embodiment, const std::string& task);

 private:
  const Options options_;
  const std::set<std::string> preset_;
  absl::Mutex mu_;
  std::map<std::string, std::set<std::string>> learned_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_TASK_LABELS_H_
