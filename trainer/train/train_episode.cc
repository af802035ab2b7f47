#include "trainer/train/train_episode.h"

#include <algorithm>
#include <utility>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "absl/strings/str_cat.h"
#include "trainer/train/augment.h"
#include "trainer/train/resample.h"

namespace mivla::trainer {
namespace {

// Downsizes one frame and encodes it as the episode keeps it (JPEG, or raw RGB for quality 0).
absl::StatusOr<std::string> EncodeFrame(const data::RgbImage& image, const TrainEpisodeOptions& options) {
  const data::RgbImage small = ResizeSquare(image, options.image_size);
  std::string out;
  if (options.jpeg_quality == 0) {
    out.assign(small.rgb.begin(), small.rgb.end());
  } else {
    auto jpeg = data::EncodeJpeg(small, data::JpegChannelOrder::kStandard, options.jpeg_quality);
    if (!jpeg.ok()) return jpeg.status();
    out = std::move(*jpeg);
  }
  out.shrink_to_fit();
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> EncodeVideoFrames(const std::string& path, const std::vector<int>& frames,
                                                           const TrainEpisodeOptions& options) {
  cv::VideoCapture cap(path, cv::CAP_FFMPEG);
  if (!cap.isOpened()) return absl::DataLossError(absl::StrCat(path, ": cannot open video"));
  std::vector<std::string> out;
  out.reserve(frames.size());
  cv::Mat bgr, rgb;
  int t = 0;
  for (size_t j = 0; j < frames.size(); ++t) {
    if (!cap.grab()) {
      return absl::DataLossError(absl::StrCat(path, ": video has ", t, " decodable frames, ", frames.back() + 1,
                                              " needed (truncated or corrupt)"));
    }
    if (frames[j] != t) continue;  // decoded (the codec needs it) but not converted or kept
    if (!cap.retrieve(bgr) || bgr.empty() || bgr.type() != CV_8UC3) {
      return absl::DataLossError(absl::StrCat(path, ": video frame ", t, " does not decode"));
    }
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    data::RgbImage img;
    img.width = rgb.cols;
    img.height = rgb.rows;
    img.rgb.assign(rgb.data, rgb.data + rgb.total() * 3);
    auto encoded = EncodeFrame(img, options);
    if (!encoded.ok()) return absl::InternalError(absl::StrCat(path, ": frame ", t, ": ", encoded.status().message()));
    for (; j < frames.size() && frames[j] == t; ++j) out.push_back(*encoded);  // repeated when upsampling
  }
  return out;
}

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

absl::StatusOr<TrainEpisode> MakeTrainEpisode(data::UnifiedEpisode episode, const TrainEpisodeOptions& options,
                                              const std::string& video_path, const std::string& video_camera) {
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

  // Views in model order: the named cameras the episode has, in the named order, then its other cameras
  // in its own order (so an EgoDex episode's single "camera" is kept under a robot camera list).
  std::vector<data::CameraStream*> views;
  for (const std::string& name : options.cameras) {
    for (data::CameraStream& c : out.episode.cameras) {
      if (c.name == name && std::find(views.begin(), views.end(), &c) == views.end()) views.push_back(&c);
    }
  }
  for (data::CameraStream& c : out.episode.cameras) {
    if (std::find(views.begin(), views.end(), &c) == views.end()) views.push_back(&c);
  }
  if (static_cast<int>(views.size()) > options.max_views) views.resize(std::max(0, options.max_views));

  for (data::CameraStream* cam : views) {
    std::vector<std::string> encoded;
    if (cam->frames.empty() && !video_path.empty() && cam->name == video_camera) {
      auto streamed = EncodeVideoFrames(video_path, out.source_frames, options);
      if (!streamed.ok()) return streamed.status();
      encoded = std::move(*streamed);
    }
    encoded.reserve(cam->frames.size());
    for (size_t t = 0; t < cam->frames.size(); ++t) {
      const data::RgbImage& img = cam->frames[t];
      if (!img.valid()) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": camera ", cam->name, " frame ", t, " is not a valid image"));
      }
      auto frame = EncodeFrame(img, options);
      if (!frame.ok()) return absl::InternalError(absl::StrCat(source, ": camera ", cam->name, ": ", frame.status().message()));
      encoded.push_back(std::move(*frame));
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
