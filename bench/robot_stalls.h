// File: robot_stalls.h
// StallClock: one simulated robot's time without actions inside a measured window, for the deadline rows
// of mivla-bench-server (server_bench_deadline.h). A stall runs from the robot's run-out (its last queued
// step's end) until a chunk with steps still ahead arrives; a chunk that comes after its own last step
// ends no stall. Only the part inside [window_start, window_end] counts.
//
//   StallClock stalls(window_start, window_end);
//   stalls.OnChunk(run_out, arrived, new_run_out);  // each chunk received
//   stalls.Close(run_out);                          // when the robot stops
//   stalls.total_s(), stalls.longest_s();
//
// Thread safety: none; one robot's thread owns it.
#ifndef MIVLA_BENCH_ROBOT_STALLS_H_
#define MIVLA_BENCH_ROBOT_STALLS_H_

#include <chrono>

namespace mivla::bench {

class StallClock {
 public:
  using Clock = std::chrono::steady_clock;
  StallClock(Clock::time_point window_start, Clock::time_point window_end);

  /// A chunk arrived at `arrived`; the robot had actions until `run_out` and now has them until
  /// `new_run_out` (== `arrived` when every step of the chunk has passed).
  void OnChunk(Clock::time_point run_out, Clock::time_point arrived, Clock::time_point new_run_out);
  /// The robot stops with actions until `run_out`: what it still lacks in the window counts.
  void Close(Clock::time_point run_out);

  double total_s() const { return total_s_; }      // all stalls inside the window
  double longest_s() const { return longest_s_; }  // the longest one stall inside the window

 private:
  double InWindowS(Clock::time_point from, Clock::time_point to) const;

  Clock::time_point window_start_;
  Clock::time_point window_end_;
  double total_s_ = 0;
  double current_s_ = 0;  // the stall in progress
  double longest_s_ = 0;
};

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_ROBOT_STALLS_H_
