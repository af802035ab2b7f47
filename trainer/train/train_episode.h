// File: train_episode.h
// An episode as the data loader keeps it in memory: the unified episode resampled to the control rate
// (resample.h) without its images, and for each kept camera view and each kept frame the image
// downsized to the model's image size (area filter, squashed, as the server does) and JPEG-encoded
// (or raw RGB when jpeg_quality is 0). A 56 px view costs ~1.5-3 kB per frame as JPEG (9.4 kB raw), so
// thousands of episodes fit, and the worker threads decode frames per sample.
//
// Thread-safety: immutable after MakeTrainEpisode; const methods may be called concurrently.
#ifndef MIVLA_TRAINER_TRAIN_TRAIN_EPISODE_H_
#define MIVLA_TRAINER_TRAIN_TRAIN_EPISODE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/data/image.h"
#include "core/data/unified_episode.h"

namespace mivla::trainer {

struct TrainEpisodeOptions {
  double control_rate_hz = 10;
  int image_size = 56;
  int max_views = 3;
  std::vector<std::string> cameras;  // these views first, in this order; then the others in file order
  int jpeg_quality = 95;             // 0 = keep raw RGB
};

struct TrainEpisode {
  data::UnifiedEpisode episode;         // resampled; camera streams keep name and size, no frames
  std::vector<std::string> view_names;  // the kept views, in model order
  std::vector<std::vector<std::string>> frames;  // [view][frame]: encoded image, "" when absent
  int image_size = 0;
  bool raw = false;                     // frames hold raw RGB bytes instead of JPEG
  int raw_frames = 0;                   // frames before resampling
  std::vector<int> source_frames;       // [frame]: the file's frame index each kept frame came from

  int num_frames() const { return episode.num_frames(); }
  int64_t bytes() const;
  /// The views present at `frame`, decoded, in model order (name, image).
  absl::StatusOr<std::vector<std::pair<std::string, data::RgbImage>>> DecodeViews(int frame) const;
};

/// Resamples `episode` and compresses its frames. Errors name episode.source.
/// Streaming video: when `video_path` is set, the view named `video_camera`, loaded without frames
/// (LoadOptions::load_images = false), takes its frames from that video (EgoDex's mp4) in one
/// sequential pass; only the kept frames are converted and downsized, so a long high-resolution video
/// never sits in memory whole. The result equals loading the frames and passing them in. The video's
/// frame rate replaces episode.fps (EgoDex files store none; the reader assumes 30 Hz).
absl::StatusOr<TrainEpisode> MakeTrainEpisode(data::UnifiedEpisode episode, const TrainEpisodeOptions& options,
                                              const std::string& video_path = "",
                                              const std::string& video_camera = "camera");

/// The kept frames (`frames`: non-decreasing frame indices of the video) of a video file, downsized and
/// encoded as MakeTrainEpisode keeps them. DataLoss (naming the file) when the video has too few frames.
absl::StatusOr<std::vector<std::string>> EncodeVideoFrames(const std::string& path, const std::vector<int>& frames,
                                                           const TrainEpisodeOptions& options);

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_TRAIN_EPISODE_H_
