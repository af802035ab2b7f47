// File: session.h
// One robot's session: its embodiment, camera layout, instruction, control period and task, a short
// history of its encoded observations (the latest N, so Act can name a recent one), when the last
// chunk sent to it runs out (the Act deadline's default) and, in canary mode, its model version. Created and expired
// by SessionManager; shared (std::shared_ptr) with the calls that run on it.
//
// Thread-safety: the immutable fields are set at creation; the rest is guarded by the session's mutex.
#ifndef MIVLA_SERVER_SESSION_SESSION_H_
#define MIVLA_SERVER_SESSION_SESSION_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/action/action_space.h"
#include "server/session/encoded_observation.h"

namespace mivla::server {

struct CameraLayoutEntry {
  std::string name;
  int width = 0;   // expected pixels
  int height = 0;
};

struct SessionSpec {
  action::Embodiment embodiment = action::Embodiment::kPiper;
  std::vector<CameraLayoutEntry> cameras;  // view order
  std::string instruction;
  double control_period_s = 0.1;
  std::string robot_id;
  std::string task;
  std::string client;  // who started it ("token#N" with bearer tokens, else ""): per-client limits
};

/// What the server remembers of the last chunk it sent a session (the Act deadline's default).
struct SentChunk {
  uint64_t observation_id = 0;
  int64_t end_us = 0;                 // robot time the chunk runs out: last step's timestamp + one period
  int64_t observation_time_us = 0;    // robot time of the observation it answered
  absl::Time observation_received = absl::InfinitePast();  // server time its Observe arrived
};

class Session {
 public:
  Session(std::string id, SessionSpec spec, size_t history);

  const std::string& id() const { return id_; }
  const SessionSpec& spec() const { return spec_; }

  /// The instruction in force (StartSession's, or that of the newest observation that carried one).
  std::string instruction() const;
  /// `text` came with observation `observation_id`: it replaces the instruction unless a newer
  /// observation's already did (encodes may finish out of order).
  void set_instruction(std::string text, uint64_t observation_id);

  /// Reserves the next observation id (1, 2, ...).
  uint64_t NextObservationId();
  /// Adds an encoded observation; the oldest beyond the history length is forgotten.
  void AddObservation(std::shared_ptr<const EncodedObservation> obs);
  /// `id` 0 = the latest. NOT_FOUND for an id never seen or no longer kept; FAILED_PRECONDITION when
  /// the session has no observation yet.
  absl::StatusOr<std::shared_ptr<const EncodedObservation>> Observation(uint64_t id) const;
  /// Replaces a kept observation (same id) by a re-encoded copy; no-op if it was forgotten meanwhile.
  void ReplaceObservation(std::shared_ptr<const EncodedObservation> obs);

  /// Remembers a chunk sent (kept only when no chunk on a newer observation was recorded).
  void RecordChunk(const SentChunk& chunk);
  /// The last chunk sent (see RecordChunk); nullopt before the first.
  std::optional<SentChunk> last_chunk() const;

  /// The model version this session keeps (success-gated rollout: ModelManager::ForNewSession gives
  /// sticky versions in canary mode, EpisodeEnded may move it at an episode's end); holding it keeps
  /// that version loaded. Null: the session follows whatever version is current.
  std::shared_ptr<const PolicyRuntime> runtime() const;
  void set_runtime(std::shared_ptr<const PolicyRuntime> runtime);

  /// Refreshes the idle clock; the service calls it when a call on the session succeeded (failing
  /// calls do not keep a session alive).
  void Touch(absl::Time now);
  absl::Time last_used() const;

 private:
  const std::string id_;
  const SessionSpec spec_;
  const size_t history_;
  mutable absl::Mutex mu_;
  std::string instruction_ ABSL_GUARDED_BY(mu_);
  uint64_t instruction_from_ ABSL_GUARDED_BY(mu_) = 0;  // the observation that set it (0: StartSession)
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::shared_ptr<const EncodedObservation>> observations_ ABSL_GUARDED_BY(mu_);
  absl::Time last_used_ ABSL_GUARDED_BY(mu_);
  std::optional<SentChunk> last_chunk_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const PolicyRuntime> runtime_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SESSION_SESSION_H_
