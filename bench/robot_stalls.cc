#include "bench/robot_stalls.h"

#include <algorithm>

namespace mivla::bench {

StallClock::StallClock(Clock::time_point window_start, Clock::time_point window_end)
    : window_start_(window_start), window_end_(window_end) {}

double StallClock::InWindowS(Clock::time_point from, Clock::time_point to) const {
  from = std::max(from, window_start_);
  to = std::min(to, window_end_);
  return to > from ? std::chrono::duration<double>(to - from).count() : 0.0;
}

void StallClock::OnChunk(Clock::time_point run_out, Clock::time_point arrived, Clock::time_point new_run_out) {
  const double stall = InWindowS(run_out, arrived);
  total_s_ += stall;
  current_s_ += stall;
  if (new_run_out > arrived) {  // steps ahead: the stall ends
    longest_s_ = std::max(longest_s_, current_s_);
    current_s_ = 0;
  }
}

void StallClock::Close(Clock::time_point run_out) {
  const double open = InWindowS(run_out, window_end_);
  total_s_ += open;
  longest_s_ = std::max(longest_s_, current_s_ + open);
  current_s_ = 0;
}

}  // namespace mivla::bench
