#include "server/service/task_labels.h"

namespace mivla::server {

TaskLabels::TaskLabels(Options options)
    : options_(std::move(options)), preset_(options_.preset.begin(), options_.preset.end()) {}

std::string TaskLabels::Label(const std::string& embodiment, const std::string& task) {
  if (preset_.count(task) > 0) return task;
  absl::MutexLock lock(&mu_);
  std::set<std::string>& known = learned_[embodiment];
  if (known.count(task) > 0) return task;
  if (known.size() >= options_.max_per_embodiment) return kOther;
  known.insert(task);
  return task;
}

}  // namespace mivla::server
