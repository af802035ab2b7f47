// File: robotwin_format.h
// RoboTwin 2.0's older episode layout (reference/model-and-data-formats.md section 5):
//   <config_dir>/data/episode<i>.hdf5
//     joint_action/{left_arm (T,dof), left_gripper (T), right_arm, right_gripper, vector (T,sum)}
//     endpose/{left_endpose (T,7) x,y,z,qw,qx,qy,qz world, left_gripper (T), right_endpose, right_gripper}
//     observation/<camera>/rgb           (T) JPEG bytes padded to a fixed `S{max_len}`
//     observation/<camera>/intrinsic_cv  (T,3,3), extrinsic_cv (T,3,4) world->camera (OpenCV axes),
//                          cam2world_gl  (T,4,4) camera->world (OpenGL axes)
//   <config_dir>/instructions/episode<i>.json   {"seen": [...], "unseen": [...]}
// Grippers are stored as RoboTwin does, normalised to 0..1 (0 closed, 1 open) over the embodiment's
// gripper range (core/kinematics); the reader maps them back to native units. JPEGs use RoboTwin's
// channel order (image.h, JpegChannelOrder::kRoboTwin): real RoboTwin files decode to the right colours.
// Additions of ours (ignored by RoboTwin's tools): root attributes `embodiment` (e.g. "PIPER"), `task`,
// `control_hz`. A one-armed robot writes the right arm only (no left_* keys; `vector` is (T, dof+1)).
// A real file without `embodiment` is read as RoboTwinReadOptions::default_embodiment.
// Functions are thread-safe (HDF5 access is serialised process-wide by hdf5_file.h).
//
//   RETURN_IF_ERROR(WriteRoboTwinEpisode("out/move_bottle_pad/demo_clean", 0, episode));
//   ASSIGN_OR_RETURN(RobotEpisode e,
//                    ReadRoboTwinEpisode("out/move_bottle_pad/demo_clean/data/episode0.hdf5"));
#ifndef MIVLA_CORE_DATA_ROBOTWIN_FORMAT_H_
#define MIVLA_CORE_DATA_ROBOTWIN_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/action/action_space.h"
#include "core/data/episode.h"

namespace mivla::data {

/// <config_dir>/data/episode<index>.hdf5
std::string RoboTwinEpisodePath(const std::string& config_dir, int index);
/// The instruction file that belongs to an episode file: <config_dir>/instructions/episode<i>.json
/// (found from the episode path: ../instructions/<stem>.json).
std::string RoboTwinInstructionPath(const std::string& hdf5_path);

struct RoboTwinWriteOptions {
  int jpeg_quality = 90;
  std::string embodiment_dir;  // core/kinematics embodiment files; "" = the default directory
};

/// Writes the HDF5 episode and its instruction JSON (directories are created). The episode must pass
/// ValidateEpisode; every arm must have 6 joints or more.
absl::Status WriteRoboTwinEpisode(const std::string& config_dir, int index, const RobotEpisode& episode,
                                  const RoboTwinWriteOptions& options = {});

struct RoboTwinReadOptions {
  action::Embodiment default_embodiment = action::Embodiment::kAlohaAgilex;
  bool load_images = true;      // false: only each camera's size (from frame 0)
  int max_image_frames = -1;    // -1: all frames; else the first min(T, this)
  std::string embodiment_dir;   // as in RoboTwinWriteOptions
};

/// Reads an episode (ours or a real RoboTwin file). Errors name the file and key and say why: no
/// `joint_action`, lengths that disagree, a JPEG that does not decode, malformed instruction JSON.
/// A missing instruction file is not an error (no instructions).
absl::StatusOr<RobotEpisode> ReadRoboTwinEpisode(const std::string& hdf5_path,
                                                 const RoboTwinReadOptions& options = {});

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_ROBOTWIN_FORMAT_H_
