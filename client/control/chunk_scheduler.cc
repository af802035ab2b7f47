// File: chunk_scheduler.cc
#include "client/control/chunk_scheduler.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace mivla::client {
namespace {

constexpr int64_t kNone = std::numeric_limits<int64_t>::min();

bool SameShape(const RobotCommand& a, const RobotCommand& b) {
  if (a.arms.size() != b.arms.size()) return false;
  for (size_t i = 0; i < a.arms.size(); ++i) {
    if (a.arms[i].joints.size() != b.arms[i].joints.size()) return false;
  }
  return true;
}

}  // namespace

const char* BlendModeName(BlendMode mode) {
  switch (mode) {
    case BlendMode::kLatestOnly:
      return "latest_only";
    case BlendMode::kWeighted:
      return "weighted";
  }
  return "unknown";
}

ChunkScheduler::ChunkScheduler(ChunkSchedulerOptions options)
    : options_(options), last_executed_us_(kNone) {
  options_.period_us = std::max<int64_t>(options_.period_us, 1);
  if (options_.tolerance_us < 0) options_.tolerance_us = options_.period_us / 2;
  options_.new_weight = std::clamp(options_.new_weight, 0.0, 1.0);
  options_.refill_threshold = std::clamp(options_.refill_threshold, 0.0, 1.0);
}

void ChunkScheduler::Blend(const TimedAction& incoming, TimedAction* queued) const {
  if (options_.blend == BlendMode::kLatestOnly || !SameShape(incoming.command, queued->command)) {
    queued->command = incoming.command;
    queued->has_unified = incoming.has_unified;
    queued->unified = incoming.unified;
  } else {
    const double w = options_.new_weight;
    for (size_t i = 0; i < queued->command.arms.size(); ++i) {
      ArmTarget& old_arm = queued->command.arms[i];
      const ArmTarget& new_arm = incoming.command.arms[i];
      old_arm.joints = w * new_arm.joints + (1.0 - w) * old_arm.joints;
      old_arm.gripper = w * new_arm.gripper + (1.0 - w) * old_arm.gripper;
    }
    if (queued->has_unified && incoming.has_unified) {
      for (size_t d = 0; d < queued->unified.size(); ++d) {
        queued->unified[d] = static_cast<float>(w * incoming.unified[d] + (1.0 - w) * queued->unified[d]);
      }
    } else {
      queued->has_unified = false;
    }
  }
  queued->chunk_id = incoming.chunk_id;
}

void ChunkScheduler::AddChunk(int64_t now_us, uint64_t chunk_id,
                              const std::vector<TimedAction>& steps) {
  ++stats_.chunks;
  stats_.steps_added += static_cast<int64_t>(steps.size());
  last_chunk_length_ = static_cast<int>(steps.size());
  const int64_t tol = options_.tolerance_us;
  const int64_t earliest = now_us - tol;
  for (const TimedAction& step : steps) {
    if ((last_executed_us_ != kNone && step.time_us <= last_executed_us_) ||
        step.time_us < earliest) {
      ++stats_.dropped_late;
      continue;
    }
    TimedAction incoming = step;
    incoming.chunk_id = chunk_id;
    // First queued action not earlier than step - tol; the nearest overlap is it or the next one.
    auto it = std::lower_bound(queue_.begin(), queue_.end(), step.time_us - tol,
                               [](const TimedAction& a, int64_t t) { return a.time_us < t; });
    auto best = queue_.end();
    for (auto c = it; c != queue_.end() && c->time_us <= step.time_us + tol; ++c) {
      if (best == queue_.end() ||
          std::llabs(c->time_us - step.time_us) < std::llabs(best->time_us - step.time_us)) {
        best = c;
      }
    }
    if (best != queue_.end()) {
      Blend(incoming, &*best);
      ++stats_.blended;
      continue;
    }
    auto pos = std::upper_bound(queue_.begin(), queue_.end(), step.time_us,
                                [](int64_t t, const TimedAction& a) { return t < a.time_us; });
    queue_.insert(pos, std::move(incoming));
  }
}

std::optional<TimedAction> ChunkScheduler::Pop(int64_t now_us) {
  const int64_t tol = options_.tolerance_us;
  while (!queue_.empty() && queue_.front().time_us < now_us - tol) {
    queue_.pop_front();
    ++stats_.skipped;
  }
  // Candidates within +-tol; take the one nearest to now, skipping the earlier ones.
  size_t best = queue_.size();
  for (size_t i = 0; i < queue_.size() && queue_[i].time_us <= now_us + tol; ++i) {
    if (best == queue_.size() ||
        std::llabs(queue_[i].time_us - now_us) < std::llabs(queue_[best].time_us - now_us)) {
      best = i;
    }
  }
  if (best == queue_.size()) return std::nullopt;
  for (size_t i = 0; i < best; ++i) {
    queue_.pop_front();
    ++stats_.skipped;
  }
  TimedAction out = std::move(queue_.front());
  queue_.pop_front();
  last_executed_us_ = out.time_us;
  last_executed_ = out;
  ++stats_.popped;
  return out;
}

bool ChunkScheduler::NeedsRefill(int64_t now_us) const {
  if (last_chunk_length_ <= 0) return true;
  const int64_t earliest = now_us - options_.tolerance_us;
  int left = 0;
  for (auto it = queue_.rbegin(); it != queue_.rend() && it->time_us >= earliest; ++it) ++left;
  return static_cast<double>(left) / last_chunk_length_ <= options_.refill_threshold;
}

int64_t ChunkScheduler::last_queued_time_us() const {
  return queue_.empty() ? kNone : queue_.back().time_us;
}

void ChunkScheduler::SpliceChunk(int64_t now_us, uint64_t chunk_id, const std::vector<TimedAction>& steps,
                                 int64_t splice_from_us) {
  ++stats_.chunks;
  ++stats_.spliced;
  stats_.steps_added += static_cast<int64_t>(steps.size());
  last_chunk_length_ = static_cast<int>(steps.size());
  const int64_t tol = options_.tolerance_us;
  const int64_t cut = splice_from_us - tol;
  while (!queue_.empty() && queue_.back().time_us >= cut) queue_.pop_back();
  for (const TimedAction& step : steps) {
    if (step.time_us < cut) {
      ++stats_.spliced_out;
      continue;
    }
    if ((last_executed_us_ != kNone && step.time_us <= last_executed_us_) || step.time_us < now_us - tol) {
      ++stats_.dropped_late;
      continue;
    }
    TimedAction incoming = step;
    incoming.chunk_id = chunk_id;
    auto pos = std::upper_bound(queue_.begin(), queue_.end(), step.time_us,
                                [](int64_t t, const TimedAction& a) { return t < a.time_us; });
    queue_.insert(pos, std::move(incoming));
  }
}

std::vector<TimedAction> ChunkScheduler::Plan(int64_t from_us, int max_steps) const {
  std::vector<TimedAction> out;
  const int64_t tol = options_.tolerance_us;
  if (max_steps <= 0) return out;
  if (last_executed_.has_value() && std::llabs(last_executed_->time_us - from_us) <= tol) out.push_back(*last_executed_);
  for (const TimedAction& a : queue_) {
    if (static_cast<int>(out.size()) >= max_steps) break;
    if (a.time_us >= from_us - tol && (out.empty() || a.time_us > out.back().time_us)) out.push_back(a);
  }
  return out;
}

void ChunkScheduler::Clear() {
  queue_.clear();
  last_executed_.reset();
  last_executed_us_ = kNone;
  last_chunk_length_ = 0;
}

}  // namespace mivla::client
