// File: encoded_observation.h
// One observation of one session after the encode stage: the parsed inputs (kept so that a newer model
// version can re-encode them without the robot re-sending images) and the opaque condition the serving
// PolicyRuntime made of them, tagged with that runtime's model version. Torch-free.
// Immutable once built; shared read-only between the session and in-flight Act calls.
#ifndef MIVLA_SERVER_SESSION_ENCODED_OBSERVATION_H_
#define MIVLA_SERVER_SESSION_ENCODED_OBSERVATION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "server/runtime_api/policy_runtime.h"

namespace mivla::server {

struct EncodedObservation {
  uint64_t id = 0;                                   // per session, increasing from 1
  int64_t timestamp_us = 0;                          // robot time of the observation
  absl::Time received = absl::InfinitePast();        // server time its Observe arrived (maps robot time)
  std::shared_ptr<const RuntimeObservation> inputs;  // images, instruction, raw state
  std::string model_version;                         // the version whose runtime made `cond`
  ConditionPtr cond;                                 // runtime_instance() names that runtime
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SESSION_ENCODED_OBSERVATION_H_
