#include "core/action/action_space.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace mivla::action {

std::string_view EmbodimentName(Embodiment e) {
  switch (e) {
    case Embodiment::kHuman: return "HUMAN";
    case Embodiment::kAlohaAgilex: return "ALOHA_AGILEX";
    case Embodiment::kPiper: return "PIPER";
    case Embodiment::kArx5: return "ARX5";
    case Embodiment::kLocoman: return "LOCOMAN";
  }
  return "UNKNOWN";
}

absl::StatusOr<Embodiment> ParseEmbodiment(std::string_view name) {
  std::string upper = absl::AsciiStrToUpper(absl::string_view(name.data(), name.size()));
  if (upper == "ALOHA") upper = "ALOHA_AGILEX";
  if (upper == "ARX-5" || upper == "ARX_5") upper = "ARX5";
  for (Embodiment e : kAllEmbodiments) {
    if (EmbodimentName(e) == upper) return e;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown embodiment '", std::string(name), "' (expected one of human, aloha, piper, arx5, locoman)"));
}

bool IsRobot(Embodiment e) { return e != Embodiment::kHuman; }

int NumArms(Embodiment e) {
  return (e == Embodiment::kPiper || e == Embodiment::kArx5) ? 1 : 2;
}

bool IsRotationDim(int index) {
  if (index < 0 || index >= kActionDim) return false;
  if (index < kHumanDim) {
    int o = index % 24;
    return o >= kHandWristRot6d && o < kHandWristRot6d + 6;
  }
  if (index >= kEndEffectorLeft.begin) {
    int o = (index - kEndEffectorLeft.begin) % 7;
    return o >= kEeQuat;
  }
  return false;
}

ActionMask SliceMask(const Slice& s) {
  ActionMask m;
  for (int i = s.begin; i < s.end(); ++i) m.set(i);
  return m;
}

ActionMask EmbodimentMask(Embodiment e) {
  switch (e) {
    case Embodiment::kHuman:
      return SliceMask(kHumanLeft) | SliceMask(kHumanRight);
    case Embodiment::kPiper:
    case Embodiment::kArx5:
      return SliceMask(kJointsRight) | SliceMask(kEndEffectorRight);
    case Embodiment::kAlohaAgilex:
    case Embodiment::kLocoman:
      return SliceMask(kJointsLeft) | SliceMask(kJointsRight) | SliceMask(kEndEffectorLeft) |
             SliceMask(kEndEffectorRight);
  }
  return {};
}

ActionMask ComplementMask(Embodiment e) {
  if (e == Embodiment::kHuman) {
    return SliceMask(kJointsLeft) | SliceMask(kJointsRight) | SliceMask(kEndEffectorLeft) |
           SliceMask(kEndEffectorRight);
  }
  if (NumArms(e) == 1) return SliceMask(kHumanRight);
  return SliceMask(kHumanLeft) | SliceMask(kHumanRight);
}

}  // namespace mivla::action
