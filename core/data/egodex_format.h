// File: egodex_format.h
// The EgoDex layout (reference/model-and-data-formats.md section 4): one `<idx>.hdf5` with
//   transforms/<joint>   N x 4 x 4 float32, world (ARKit) poses; `camera` = camera-to-world
//   confidences/<joint>  N float32 in 0..1 (optional; the 68 skeleton joints, not `camera`)
//   camera/intrinsic     3 x 3 float32
//   root attributes      llm_description, llm_description2, which_llm_description, llm_type,
//                        llm_verbs, llm_objects, task, environment, object, session_name (strings)
// plus `<idx>.mp4` beside it (the egocentric RGB video, N frames; written with OpenCV's `mp4v`).
// The reader loads files written here and real EgoDex files (any float type, optional confidences,
// attributes as fixed or variable-length strings). Functions are thread-safe (HDF5 access is
// serialised process-wide by hdf5_file.h).
//
//   RETURN_IF_ERROR(WriteEgoDexEpisode("out/pick/0.hdf5", episode));   // also writes out/pick/0.mp4
//   ASSIGN_OR_RETURN(HumanEpisode e, ReadEgoDexEpisode("out/pick/0.hdf5"));
//   ASSIGN_OR_RETURN(EgoDexLayoutReport r, CheckEgoDexLayout("out/pick/0.hdf5"));  // r.ok()
#ifndef MIVLA_CORE_DATA_EGODEX_FORMAT_H_
#define MIVLA_CORE_DATA_EGODEX_FORMAT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/episode.h"

namespace mivla::data {

/// The 69 transform names of an EgoDex file: "camera" first, then the 68 ARKit skeleton joints
/// (body 20, thumbs 8, other fingers 40).
const std::vector<std::string>& EgoDexJointNames();
/// The description attributes EgoDex stores on the root.
const std::vector<std::string>& EgoDexAttributeNames();

/// Path of the video that belongs to an EgoDex HDF5 file (same stem, `.mp4`).
std::string EgoDexVideoPath(const std::string& hdf5_path);

struct EgoDexWriteOptions {
  /// Write every published joint: joints the episode lacks are written with confidence 0 and a
  /// placeholder pose (the same side's wrist for arm and finger joints, else the camera), so the file
  /// passes the layout check. When false, only the episode's joints are written.
  bool complete_skeleton = true;
  bool write_video = true;  // when the episode has video frames
};

/// Writes `<path>` and (frames present) `EgoDexVideoPath(path)`. The episode must pass
/// ValidateEpisode and contain `camera`. Existing files are replaced.
absl::Status WriteEgoDexEpisode(const std::string& path, const HumanEpisode& episode,
                                const EgoDexWriteOptions& options = {});

struct EgoDexReadOptions {
  bool load_video = true;
  int max_video_frames = -1;  // -1: all N frames; else the first min(N, this) frames
  bool require_video = false; // a missing .mp4 is an error (else: no frames, size 0)
};

/// Reads an EgoDex episode. Errors (DataLoss / NotFound) name the file and the key and say why:
/// a missing `transforms` group, a transform that is not N x 4 x 4, lengths that disagree, a video
/// with fewer frames than requested, a truncated file. The episode's `fps` is the video's frame rate
/// when the .mp4 states one (mivla-datagen writes 25 Hz), else EgoDex's 30 Hz.
absl::StatusOr<HumanEpisode> ReadEgoDexEpisode(const std::string& path, const EgoDexReadOptions& options = {});

struct EgoDexLayoutReport {
  int num_frames = 0;
  std::vector<std::string> problems;       // layout violations (each names the key)
  std::vector<std::string> extra_keys;     // keys the published layout does not have (not errors)
  bool ok() const { return problems.empty(); }
};

/// Checks a file against the published layout: all 69 `transforms/<joint>` present with shape
/// N x 4 x 4 and one N, `camera/intrinsic` 3 x 3, `confidences/<joint>` (when present) of shape N for
/// known joints. Errors only when the file cannot be opened; violations go to `problems`.
absl::StatusOr<EgoDexLayoutReport> CheckEgoDexLayout(const std::string& path);

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_EGODEX_FORMAT_H_
