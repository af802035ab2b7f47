#include "server/inference/chunk_builder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "server/inference/observation_input.h"

namespace mivla::server {
namespace {

void FillArm(const float* v, const action::Slice& joints, const action::Slice& ee, mivla::v1::ArmState* arm) {
  for (int i = 0; i < 6; ++i) arm->add_joint_positions(v[joints.begin + action::kArmJoints + i]);
  arm->set_gripper(v[joints.begin + action::kArmGripper]);
  const float* p = v + ee.begin;
  double qw = p[3], qx = p[4], qy = p[5], qz = p[6];
  const double n = std::sqrt(qw * qw + qx * qx + qy * qy + qz * qz);
  if (n > 1e-9 && std::isfinite(n)) {
    qw /= n, qx /= n, qy /= n, qz /= n;
  } else {
    qw = 1, qx = qy = qz = 0;
  }
  if (qw < 0) qw = -qw, qx = -qx, qy = -qy, qz = -qz;  // one hemisphere, for clients that compare poses
  mivla::v1::Pose* pose = arm->mutable_end_effector();
  pose->set_x(p[0]);
  pose->set_y(p[1]);
  pose->set_z(p[2]);
  pose->set_qw(qw);
  pose->set_qx(qx);
  pose->set_qy(qy);
  pose->set_qz(qz);
}

bool ArmIsFinite(const mivla::v1::ArmState& a) {
  for (double q : a.joint_positions()) {
    if (!std::isfinite(q)) return false;
  }
  const mivla::v1::Pose& p = a.end_effector();
  return std::isfinite(a.gripper()) && std::isfinite(p.x()) && std::isfinite(p.y()) && std::isfinite(p.z()) &&
         std::isfinite(p.qw()) && std::isfinite(p.qx()) && std::isfinite(p.qy()) && std::isfinite(p.qz());
}

// (1 - w) a + w b for every value; each end-effector quaternion (w, x, y, z after the position) takes b's
// sign that is nearer a first, so the blend goes the shorter way (FillArm normalises it).
void InterpolateStep(const std::array<float, action::kActionDim>& a, const std::array<float, action::kActionDim>& b,
                     float w, std::array<float, action::kActionDim>* out) {
  for (int d = 0; d < action::kActionDim; ++d) (*out)[d] = (1 - w) * a[d] + w * b[d];
  for (const action::Slice& ee : {action::kEndEffectorLeft, action::kEndEffectorRight}) {
    const int q = ee.begin + 3;
    float dot = 0;
    for (int i = 0; i < 4; ++i) dot += a[q + i] * b[q + i];
    if (dot < 0) {
      for (int i = 0; i < 4; ++i) (*out)[q + i] = (1 - w) * a[q + i] - w * b[q + i];
    }
  }
}

}  // namespace

bool ChunkIsFinite(const mivla::v1::ActionChunk& chunk) {
  if (!std::isfinite(chunk.control_period_s())) return false;
  for (const mivla::v1::ActionStep& s : chunk.steps()) {
    for (float v : s.unified()) {
      if (!std::isfinite(v)) return false;
    }
    if (!ArmIsFinite(s.left()) || !ArmIsFinite(s.right())) return false;
  }
  return true;
}

int64_t StepTimestampUs(int64_t t0, int step, double period_s) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  const double offset = std::round(static_cast<double>(step) * period_s * 1e6);
  if (std::isnan(offset)) return t0;
  if (offset >= 9.2e18) return kMax;
  if (offset <= -9.2e18) return kMin;
  const int64_t o = static_cast<int64_t>(offset);
  if (o > 0 && t0 > kMax - o) return kMax;
  if (o < 0 && t0 < kMin - o) return kMin;
  return t0 + o;
}

int ChunkSteps(int horizon, double model_period_s, double control_period_s) {
  const bool usable = model_period_s > 0 && std::isfinite(model_period_s) && control_period_s > 0 &&
                      std::isfinite(control_period_s);
  if (!usable || model_period_s == control_period_s || horizon <= 0) return horizon;
  const double steps = std::floor(horizon * model_period_s / control_period_s + 1e-9);
  return static_cast<int>(std::clamp(steps, 1.0, 1e6));
}

void BuildActionChunk(const float* values, int horizon, const ChunkMeta& meta, mivla::v1::ActionChunk* chunk) {
  const action::ActionMask mask = action::EmbodimentMask(meta.embodiment);
  chunk->set_embodiment(EmbodimentToProto(meta.embodiment));
  chunk->set_control_period_s(meta.control_period_s);
  chunk->set_observation_id(meta.observation_id);
  chunk->mutable_valid_mask()->Reserve(action::kActionDim);
  for (int d = 0; d < action::kActionDim; ++d) chunk->add_valid_mask(mask.test(d));
  if (horizon <= 0) return;
  // The model steps (masked slots 0).
  std::vector<std::array<float, action::kActionDim>> model_steps(horizon);
  for (int h = 0; h < horizon; ++h) {
    const float* src = values + static_cast<size_t>(h) * action::kActionDim;
    std::array<float, action::kActionDim>& v = model_steps[h];
    for (int d = 0; d < action::kActionDim; ++d) v[d] = mask.test(d) ? src[d] : 0.0f;
  }
  const int steps = ChunkSteps(horizon, meta.model_period_s, meta.control_period_s);
  const bool resample = steps != horizon || (meta.model_period_s > 0 && std::isfinite(meta.model_period_s) &&
                                              meta.model_period_s != meta.control_period_s &&
                                              meta.control_period_s > 0 && std::isfinite(meta.control_period_s));
  chunk->mutable_steps()->Reserve(steps);
  std::array<float, action::kActionDim> v;
  for (int k = 0; k < steps; ++k) {
    if (!resample) {
      v = model_steps[k];
    } else {
      // Model step index u of the time (k+1) x control period: step h sits at (h+1) x model period.
      const double u = std::clamp((k + 1) * meta.control_period_s / meta.model_period_s - 1.0, 0.0,
                                  static_cast<double>(horizon - 1));
      const int h0 = static_cast<int>(std::floor(u));
      const int h1 = std::min(h0 + 1, horizon - 1);
      InterpolateStep(model_steps[h0], model_steps[h1], static_cast<float>(u - h0), &v);
    }
    mivla::v1::ActionStep* step = chunk->add_steps();
    step->set_timestamp_us(StepTimestampUs(meta.observation_time_us, k, meta.control_period_s));
    step->mutable_unified()->Add(v.begin(), v.end());
    if (action::IsRobot(meta.embodiment)) {
      FillArm(v.data(), action::kJointsRight, action::kEndEffectorRight, step->mutable_right());
      if (action::NumArms(meta.embodiment) == 2) {
        FillArm(v.data(), action::kJointsLeft, action::kEndEffectorLeft, step->mutable_left());
      }
    }
  }
}

}  // namespace mivla::server
