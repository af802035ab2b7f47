// File: realtime_scope.cc
#include "client/robot/realtime_scope.h"

#include <pthread.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/util/log.h"

namespace mivla::client {

RealtimeScope::RealtimeScope(int priority) {
  if (priority <= 0) return;
  pthread_getschedparam(pthread_self(), &old_policy_, &old_param_);
  sched_param p{};
  p.sched_priority = std::min(priority, sched_get_priority_max(SCHED_FIFO));
  const int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &p);
  if (rc != 0) {
    LogWarning("robot_client", absl::StrCat("real-time priority ", priority, " refused (", std::strerror(rc),
                                            "); the control loop runs with normal scheduling"));
    return;
  }
  raised_ = true;
}

RealtimeScope::~RealtimeScope() {
  if (raised_) pthread_setschedparam(pthread_self(), old_policy_, &old_param_);
}

}  // namespace mivla::client
