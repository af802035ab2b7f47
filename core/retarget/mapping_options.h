// File: mapping_options.h
// Options shared by the human -> robot and robot -> human mappings (docs/action-space.md, eq. 2 and 3).
#ifndef MIVLA_CORE_RETARGET_MAPPING_OPTIONS_H_
#define MIVLA_CORE_RETARGET_MAPPING_OPTIONS_H_

namespace mivla::retarget {

/// The human point whose pose drives the end effector (K_t): the paper uses the thumb knuckle; the
/// wrist can stand in (it is what the 48-D human slice carries).
enum class ReferencePoint { kWrist, kThumbKnuckle };

/// kRelative: motion since the episode start, composed onto the other side's initial pose (eq. 2 and
/// its inverse). kAbsolute: frame-to-frame mapping, R(E) = C R(K) ee_in_hand, p(E) = s C p(K) (eq. 3
/// and its inverse).
enum class MappingMode { kRelative, kAbsolute };

/// The defaults are the paper's: relative motion of the thumb knuckle (eq. 2). Both mappers use the same
/// defaults, so with default options RobotToHumanMapper inverts HumanToRobotMapper's pose map.
struct MappingOptions {
  double position_scale = 1.0;  // s: robot motion = s * human motion
  ReferencePoint reference = ReferencePoint::kThumbKnuckle;
  MappingMode mode = MappingMode::kRelative;
};

}  // namespace mivla::retarget

#endif  // MIVLA_CORE_RETARGET_MAPPING_OPTIONS_H_
