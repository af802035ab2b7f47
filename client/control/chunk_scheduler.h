// File: chunk_scheduler.h
// Client-side chunk aggregation (after LeRobot's RobotClient._aggregate_action_queues): a queue of
// timed actions fed by the server's chunks and drained one action per control tick.
//
//   ChunkSchedulerOptions o;
//   o.blend = BlendMode::kWeighted;
//   ChunkScheduler s(o);
//   s.AddChunk(now, chunk_id, steps);            // steps carry absolute robot-clock times
//   std::optional<TimedAction> a = s.Pop(now);   // once per control tick
//   if (s.NeedsRefill(now)) { /* ask the server for the next chunk */ }
//
// Rules:
//  - An action is "for" the tick at `now` when |time - now| <= tolerance (default period / 2).
//  - AddChunk drops steps at or before the last executed (popped) action's time, and steps earlier
//    than now - tolerance (Stats::dropped_late). A step within tolerance of a queued action blends
//    with it (kLatestOnly: the new action replaces the old one; kWeighted: joints and gripper
//    become new_weight * new + (1 - new_weight) * old; the blend keeps the queued action's time and
//    takes the new chunk id; Stats::blended). Other steps are inserted in time order.
//  - Pop discards queued actions older than now - tolerance (Stats::skipped), then returns and
//  removes
//    the action nearest to now within +-tolerance (earlier candidates are skipped too). So no
//    action is returned twice, and none whose time has passed by more than the tolerance.
//  - NeedsRefill: (queued actions with time >= now - tolerance, i.e. not yet expired) divided by
//  the
//    length of the last chunk received <= refill_threshold; true before any chunk.
//  - Real-time chunking (issue 14): Plan(from, n) lists the actions for the ticks from `from` on (the
//    last executed one if it is for that tick, then the queue), which the robot sends as committed
//    steps; SpliceChunk then puts the server's new chunk in after the first d of them: queued actions
//    from splice_from on are replaced by the new chunk's steps, the new chunk's steps before it are
//    dropped (the robot executes its own), nothing is blended, so no step is replayed or skipped.
// When the old and new action have different shapes (arm count or joint count) the new one wins.
//
// No clock inside: every time is passed in (tests use a fake clock). Not thread-safe: the
// control-loop thread owns it.
#ifndef MIVLA_CLIENT_CONTROL_CHUNK_SCHEDULER_H_
#define MIVLA_CLIENT_CONTROL_CHUNK_SCHEDULER_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "client/control/timed_action.h"

namespace mivla::client {

enum class BlendMode { kLatestOnly, kWeighted };
const char* BlendModeName(BlendMode mode);  // "latest_only", "weighted"

struct ChunkSchedulerOptions {
  int64_t period_us = 40000;  // control period
  BlendMode blend = BlendMode::kWeighted;
  double new_weight = 0.7;        // kWeighted: overlap = new_weight*new + (1-new_weight)*old
  double refill_threshold = 0.7;  // NeedsRefill when (actions left) / chunk_length <= threshold
  bool realtime_chunking = true;  // the robot client: send committed steps and splice when the server offers it
  int64_t tolerance_us = -1;  // an action counts for a tick within +-tolerance; -1 = period_us / 2
};

class ChunkScheduler {
 public:
  /// Out-of-range options are brought into range (period >= 1 us, new_weight in [0, 1],
  /// tolerance -1 -> period / 2, threshold in [0, 1]).
  explicit ChunkScheduler(ChunkSchedulerOptions options);

  /// Merges a chunk whose steps carry absolute times on the robot clock (increasing).
  void AddChunk(int64_t now_us, uint64_t chunk_id, const std::vector<TimedAction>& steps);
  /// Real-time chunking: the new chunk replaces the queue from splice_from_us (within tolerance) on; its
  /// earlier steps are dropped (Stats::spliced_out), as are late ones (as AddChunk).
  void SpliceChunk(int64_t now_us, uint64_t chunk_id, const std::vector<TimedAction>& steps, int64_t splice_from_us);
  /// The actions for the ticks from from_us on, at most max_steps: the last executed action when its time
  /// is within tolerance of from_us, then the queued ones not before from_us - tolerance.
  std::vector<TimedAction> Plan(int64_t from_us, int max_steps) const;
  /// The action for the control tick at now_us, or nullopt when there is none.
  std::optional<TimedAction> Pop(int64_t now_us);
  bool NeedsRefill(int64_t now_us) const;

  int queued() const { return static_cast<int>(queue_.size()); }
  int64_t last_queued_time_us() const;  // INT64_MIN when empty
  /// Time of the last action Pop returned; INT64_MIN when none since construction or Clear.
  int64_t last_executed_time_us() const { return last_executed_us_; }
  /// Drops every queued action and forgets the last executed time and chunk length (after a hold or
  /// a reconnect). Stats are kept.
  void Clear();

  const ChunkSchedulerOptions& options() const { return options_; }

  // steps_added counts every step given to AddChunk (dropped_late and blended ones included);
  // skipped counts queued actions discarded by Pop without being returned.
  struct Stats {
    int64_t chunks = 0, steps_added = 0, dropped_late = 0, blended = 0, popped = 0, skipped = 0;
    int64_t spliced = 0, spliced_out = 0;  // SpliceChunk calls; their steps before splice_from
  };
  const Stats& stats() const { return stats_; }

 private:
  void Blend(const TimedAction& incoming, TimedAction* queued) const;

  ChunkSchedulerOptions options_;
  std::deque<TimedAction> queue_;  // increasing time
  int64_t last_executed_us_;
  std::optional<TimedAction> last_executed_;
  int last_chunk_length_ = 0;
  Stats stats_;
};

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_CONTROL_CHUNK_SCHEDULER_H_
