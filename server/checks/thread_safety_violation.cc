// A planted thread-safety violation: the test of the check itself (ServerThreadSafety.planted_violation
// runs server/checks/thread_safety_check.sh on this file and passes only when clang rejects it for
// thread safety). Not part of any build target.
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace mivla::server {

class Counter {
 public:
  void Add(int n) { value_ += n; }  // writes value_ without holding mu_
  int value() const {
    absl::MutexLock lock(&mu_);
    return value_;
  }

 private:
  mutable absl::Mutex mu_;
  int value_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mivla::server
