// File: stage_store.h
// What the ablation remembers between calls, under <output_dir>/stages/:
//   <stage>.done.json     the done marker: {"stage", "spec_hash", "seconds", "finished_at", "result"}
//   <stage>.partial.json  an unfinished stage's seconds so far (a stopped training), same spec hash
// Both are written atomically (temporary dot-file in the same folder, fsync, rename), so a killed
// pipeline never leaves a half-written marker. A marker whose spec hash differs from the plan's is
// stale: the stage is redone (its inputs changed).
// Thread-compatible.
#ifndef MIVLA_TRAINER_ABLATION_STAGE_STORE_H_
#define MIVLA_TRAINER_ABLATION_STAGE_STORE_H_

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

namespace mivla::trainer::ablation {

struct StageRecord {
  std::string stage;
  std::string spec_hash;
  double seconds = 0;             // wall time over every call that worked on it
  std::string finished_at;        // UTC, ISO 8601 (done markers)
  nlohmann::json result = nlohmann::json::object();
};

class StageStore {
 public:
  explicit StageStore(std::string output_dir) : dir_(std::move(output_dir)) {}

  /// The done marker, if present and readable (a damaged one counts as absent).
  std::optional<StageRecord> Done(const std::string& stage) const;
  absl::Status MarkDone(const StageRecord& record) const;
  /// Seconds spent on an unfinished stage under this spec hash (0 if none).
  double PartialSeconds(const std::string& stage, const std::string& spec_hash) const;
  absl::Status SavePartial(const std::string& stage, const std::string& spec_hash, double seconds) const;
  void ClearPartial(const std::string& stage) const;

  std::string DonePath(const std::string& stage) const;

 private:
  std::string dir_;
};

/// Writes `contents` to `path` through a temporary dot-file in the same folder (fsync, rename, folder
/// fsync); creates the folder. INTERNAL naming the path on failure.
absl::Status WriteFileAtomic(const std::string& path, const std::string& contents);

/// Now as "2026-12-01T13:50:45Z".
std::string UtcNow();

}  // namespace mivla::trainer::ablation

#endif  // MIVLA_TRAINER_ABLATION_STAGE_STORE_H_
