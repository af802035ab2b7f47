// File: rollout_info.h
// Success-gated rollout in GetPolicyInfo: ModelManager::rollout_status() as mivla.v1.RolloutInfo
// (GetPolicyInfoResponse.rollout, field 14). Pure conversion; thread-safe.
#ifndef MIVLA_SERVER_SERVICE_ROLLOUT_INFO_H_
#define MIVLA_SERVER_SERVICE_ROLLOUT_INFO_H_

#include "mivla/v1/policy.pb.h"
#include "server/model_manager/rollout_status.h"

namespace mivla::server {

void FillRolloutInfo(const RolloutStatus& status, mivla::v1::RolloutInfo* out);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_ROLLOUT_INFO_H_
