// File: native_format.h
// MiVLA's own episode file: a UnifiedEpisode stored as HDF5 (e.g. a retargeted or converted dataset
// cache). Layout:
//   root attributes  mivla_format = "mivla-native-2", embodiment ("PIPER", ...), instruction,
//                    instructions (JSON list of strings), fps
//   unified/states   (T, 76) float32      the 76-value vectors (docs/action-space.md)
//   unified/mask     (T, 76) uint8        1 where the slot is valid
//   observation/<camera>/rgb   (T) standard JPEG bytes (JpegChannelOrder::kStandard), fixed width
// A file is detected as native by its `mivla_format` attribute. Version 2: the end-effector slots are in the
// arm's base frame (unified_episode.h). Version 1 files (whose end-effector slots could be world-frame poses)
// are still read: their end-effector slots are recomputed from the joint slots (FillEndEffectorsFromJoints).
// Thread-safe functions.
#ifndef MIVLA_CORE_DATA_NATIVE_FORMAT_H_
#define MIVLA_CORE_DATA_NATIVE_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/data/unified_episode.h"

namespace mivla::data {

inline constexpr char kNativeFormatTag[] = "mivla-native-2";
inline constexpr char kNativeFormatTagV1[] = "mivla-native-1";

absl::Status WriteNativeEpisode(const std::string& path, const UnifiedEpisode& episode, int jpeg_quality = 90);

struct NativeReadOptions {
  bool load_images = true;    // false: only each camera's size (from frame 0)
  int max_image_frames = -1;  // -1: all
  std::string embodiment_dir;  // kinematics for version 1 files ("" = core/kinematics default)
};
absl::StatusOr<UnifiedEpisode> ReadNativeEpisode(const std::string& path, const NativeReadOptions& options = {});

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_NATIVE_FORMAT_H_
