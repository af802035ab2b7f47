// File: torch_condition.h
// The LibTorch runtime's ConditionHandle: one observation's condition tokens (batch dimension 1, on the
// model's device), tagged with the runtime instance that encoded them. Immutable.
#ifndef MIVLA_SERVER_RUNTIME_TORCH_CONDITION_H_
#define MIVLA_SERVER_RUNTIME_TORCH_CONDITION_H_

#include <cstdint>
#include <utility>

#include "core/model/dit_decoder.h"
#include "server/runtime_api/policy_runtime.h"

namespace mivla::server {

class TorchCondition : public ConditionHandle {
 public:
  TorchCondition(uint64_t instance, action::Embodiment e, model::ConditionTokens cond)
      : instance_(instance), embodiment_(e), cond_(std::move(cond)) {}
  uint64_t runtime_instance() const override { return instance_; }
  action::Embodiment embodiment() const override { return embodiment_; }
  const model::ConditionTokens& tokens() const { return cond_; }

 private:
  const uint64_t instance_;
  const action::Embodiment embodiment_;
  const model::ConditionTokens cond_;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_RUNTIME_TORCH_CONDITION_H_
