#include "trainer/train/train_episode.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "trainer/train/augment.h"
#include "trainer/train/resample.h"

namespace mivla::trainer {

int64_t TrainEpisode::bytes() const {
  int64_t n = 0;
  for (const auto& view : frames) {
    for (const std::string& f : view) n += static_cast<int64_t>(f.capacity());
  }
  n += static_cast<int64_t>(episode.states.size() * sizeof(data::UnifiedVector));
  return n;
}

absl::StatusOr<std::vector<std::pair<std::string, data::RgbImage>>> TrainEpisode::DecodeViews(int frame) const {
  std::vector<std::pair<std::string, data::RgbImage>> out;
  for (size_t v = 0; v < frames.size(); ++v) {
    if (frame < 0 || frame >= static_cast<int>(frames[v].size()) || frames[v][frame].empty()) continue;
    const std::string& bytes = frames[v][frame];
    data::RgbImage img;
    if (raw) {
      img.width = image_size;
      img.height = image_size;
      img.rgb.assign(bytes.begin(), bytes.end());
    } else {
      auto decoded = data::DecodeJpeg(bytes, data::JpegChannelOrder::kStandard);
      if (!decoded.ok()) {
        return absl::DataLossError(absl::StrCat(episode.source, ": camera ", view_names[v], " frame ", frame,
                                                ": ", decoded.status().message()));
      }
      img = std::move(*decoded);
    }
    out.emplace_back(view_names[v], std::move(img));
  }
  return out;
}

absl::StatusOr<TrainEpisode> MakeTrainEpisode(data::UnifiedEpisode episode, const TrainEpisodeOptions& options) {
  if (options.image_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("image_size ", options.image_size, " < 1"));
  }
  if (options.jpeg_quality < 0 || options.jpeg_quality > 100) {
    return absl::InvalidArgumentError(absl::StrCat("frame jpeg quality ", options.jpeg_quality, " outside 0..100"));
  }
  const std::string source = episode.source;
  TrainEpisode out;
  out.raw_frames = episode.num_frames();
  out.image_size = options.image_size;
  out.raw = options.jpeg_quality == 0;
  auto idx = ResampleIndices(episode.num_frames(), episode.fps, options.control_rate_hz);
  if (!idx.ok()) return absl::InvalidArgumentError(absl::StrCat(source, ": ", idx.status().message()));
  out.source_frames = std::move(*idx);
  auto resampled = ResampleEpisode(std::move(episode), options.control_rate_hz);
  if (!resampled.ok()) return resampled.status();
  out.episode = std::move(*resampled);

  // Views in model order: the named cameras the episode has, else the episode's own order.
  std::vector<data::CameraStream*> views;
  if (options.cameras.empty()) {
    for (data::CameraStream& c : out.episode.cameras) views.push_back(&c);
  } else {
    for (const std::string& name : options.cameras) {
      for (data::CameraStream& c : out.episode.cameras) {
        if (c.name == name) views.push_back(&c);
      }
    }
  }
  if (static_cast<int>(views.size()) > options.max_views) views.resize(std::max(0, options.max_views));

  for (data::CameraStream* cam : views) {
    std::vector<std::string> encoded;
    encoded.reserve(cam->frames.size());
    for (size_t t = 0; t < cam->frames.size(); ++t) {
      const data::RgbImage& img = cam->frames[t];
      if (!img.valid()) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": camera ", cam->name, " frame ", t, " is not a valid image"));
      }
      data::RgbImage small = ResizeSquare(img, options.image_size);
      if (out.raw) {
        encoded.emplace_back(small.rgb.begin(), small.rgb.end());
      } else {
        auto jpeg = data::EncodeJpeg(small, data::JpegChannelOrder::kStandard, options.jpeg_quality);
        if (!jpeg.ok()) return absl::InternalError(absl::StrCat(source, ": camera ", cam->name, ": ", jpeg.status().message()));
        encoded.push_back(std::move(*jpeg));
      }
      encoded.back().shrink_to_fit();
    }
    out.view_names.push_back(cam->name);
    out.frames.push_back(std::move(encoded));
  }
  for (data::CameraStream& c : out.episode.cameras) {
    c.frames.clear();
    c.frames.shrink_to_fit();
  }
  return out;
}

}  // namespace mivla::trainer
