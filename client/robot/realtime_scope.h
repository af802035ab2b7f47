// File: realtime_scope.h
// Runs the calling thread under SCHED_FIFO at a priority for the scope's lifetime (as real-time robot
// controllers do), restoring its previous policy afterwards. Without CAP_SYS_NICE the request is refused:
// a warning is logged and the thread keeps normal scheduling. Priority <= 0: does nothing.
// Not copyable; use on the thread it was made on.
#ifndef MIVLA_CLIENT_ROBOT_REALTIME_SCOPE_H_
#define MIVLA_CLIENT_ROBOT_REALTIME_SCOPE_H_

#include <sched.h>

namespace mivla::client {

class RealtimeScope {
 public:
  explicit RealtimeScope(int priority);
  ~RealtimeScope();
  RealtimeScope(const RealtimeScope&) = delete;
  RealtimeScope& operator=(const RealtimeScope&) = delete;

  bool raised() const { return raised_; }

 private:
  bool raised_ = false;
  int old_policy_ = SCHED_OTHER;
  sched_param old_param_{};
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_ROBOT_REALTIME_SCOPE_H_
