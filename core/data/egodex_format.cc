#include "core/data/egodex_format.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/data/hdf5_file.h"
#include "core/util/status_macros.h"
#include "opencv2/core.hpp"
#include "opencv2/imgproc.hpp"
#include "opencv2/videoio.hpp"

namespace mivla::data {
namespace {

std::vector<std::string> BuildJointNames() {
  std::vector<std::string> names = {"camera", "hip"};
  for (int i = 1; i <= 7; ++i) names.push_back(absl::StrCat("spine", i));
  for (int i = 1; i <= 4; ++i) names.push_back(absl::StrCat("neck", i));
  for (const char* side : {"left", "right"}) {
    for (const char* part : {"Shoulder", "Arm", "Forearm", "Hand"}) names.push_back(absl::StrCat(side, part));
  }
  for (const char* side : {"left", "right"}) {
    for (const char* part : {"Knuckle", "IntermediateBase", "IntermediateTip", "Tip"}) {
      names.push_back(absl::StrCat(side, "Thumb", part));
    }
    for (const char* finger : {"Index", "Middle", "Ring", "Little"}) {
      for (const char* part : {"Metacarpal", "Knuckle", "IntermediateBase", "IntermediateTip", "Tip"}) {
        names.push_back(absl::StrCat(side, finger, "Finger", part));
      }
    }
  }
  return names;
}

// Placeholder pose for a joint the episode lacks (written with confidence 0).
const std::vector<Eigen::Matrix4d>& Placeholder(const HumanEpisode& e, const std::string& joint) {
  for (const char* side : {"left", "right"}) {
    if (absl::StartsWith(joint, side) && !absl::StrContains(joint, "Shoulder")) {
      auto it = e.transforms.find(absl::StrCat(side, "Hand"));
      if (it != e.transforms.end()) return it->second;
    }
  }
  return e.transforms.at("camera");
}

std::vector<double> Flatten(const std::vector<Eigen::Matrix4d>& track) {
  std::vector<double> out;
  out.reserve(track.size() * 16);
  for (const Eigen::Matrix4d& m : track) {
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < 4; ++c) out.push_back(m(r, c));
    }
  }
  return out;
}

absl::Status WriteVideo(const std::string& path, const CameraStream& video, double fps) {
  const RgbImage& first = video.frames.front();
  cv::VideoWriter writer(path, cv::VideoWriter::fourcc('m', 'p', '4', 'v'), fps,
                         cv::Size(first.width, first.height), true);
  if (!writer.isOpened()) return absl::InternalError(absl::StrCat(path, ": cannot open mp4 writer (mp4v)"));
  cv::Mat bgr;
  for (const RgbImage& img : video.frames) {
    cv::Mat rgb(img.height, img.width, CV_8UC3, const_cast<uint8_t*>(img.rgb.data()));
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    writer.write(bgr);
  }
  writer.release();
  return absl::OkStatus();
}

// The poses carry no rate of their own: EgoDex records at 30 Hz, and the video's container rate, when it
// states one, is the episode's (mivla-datagen writes its simulated demonstrations at 25 Hz).
void TakeVideoRate(const cv::VideoCapture& cap, double* fps) {
  const double rate = cap.get(cv::CAP_PROP_FPS);
  if (std::isfinite(rate) && rate > 0.0 && rate <= 1000.0) *fps = rate;
}

absl::Status ReadVideo(const std::string& path, int want, CameraStream* video, double* fps) {
  cv::VideoCapture cap(path, cv::CAP_FFMPEG);
  if (!cap.isOpened()) return absl::DataLossError(absl::StrCat(path, ": cannot open video"));
  video->width = static_cast<int>(cap.get(cv::CAP_PROP_FRAME_WIDTH));
  video->height = static_cast<int>(cap.get(cv::CAP_PROP_FRAME_HEIGHT));
  TakeVideoRate(cap, fps);
  cv::Mat bgr, rgb;
  while (static_cast<int>(video->frames.size()) < want && cap.read(bgr)) {
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    RgbImage img;
    img.width = rgb.cols;
    img.height = rgb.rows;
    img.rgb.assign(rgb.data, rgb.data + rgb.total() * 3);
    video->frames.push_back(std::move(img));
  }
  if (static_cast<int>(video->frames.size()) < want) {
    return absl::DataLossError(absl::StrCat(path, ": video has ", video->frames.size(), " decodable frames, ",
                                            want, " expected (truncated or corrupt)"));
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& EgoDexJointNames() {
  static const std::vector<std::string>* names = new std::vector<std::string>(BuildJointNames());
  return *names;
}

const std::vector<std::string>& EgoDexAttributeNames() {
  static const std::vector<std::string>* names = new std::vector<std::string>{
      "llm_description", "llm_description2", "which_llm_description", "llm_type", "llm_verbs",
      "llm_objects",     "task",             "environment",           "object",   "session_name"};
  return *names;
}

std::string EgoDexVideoPath(const std::string& hdf5_path) {
  return std::filesystem::path(hdf5_path).replace_extension(".mp4").string();
}

absl::Status WriteEgoDexEpisode(const std::string& path, const HumanEpisode& episode,
                                const EgoDexWriteOptions& options) {
  if (auto s = ValidateEpisode(episode); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": episode is invalid: ", s.message()));
  }
  if (!episode.transforms.count("camera")) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": episode has no 'camera' transform"));
  }
  const int n = episode.num_frames();
  ASSIGN_OR_RETURN(auto file, Hdf5File::Create(path));
  std::set<std::string> written;
  auto write_joint = [&](const std::string& joint, const std::vector<Eigen::Matrix4d>& track,
                         const std::vector<double>* conf) -> absl::Status {
    RETURN_IF_ERROR(file->WriteNumeric("transforms/" + joint, {n, 4, 4}, Flatten(track), Hdf5Type::kFloat32));
    written.insert(joint);
    if (joint == "camera") return absl::OkStatus();
    std::vector<double> c = conf ? *conf : std::vector<double>(n, 0.0);
    return file->WriteNumeric("confidences/" + joint, {n}, c, Hdf5Type::kFloat32);
  };
  for (const auto& [joint, track] : episode.transforms) {
    auto it = episode.confidences.find(joint);
    const std::vector<double> ones(n, 1.0);
    RETURN_IF_ERROR(write_joint(joint, track, it != episode.confidences.end() ? &it->second : &ones));
  }
  if (options.complete_skeleton) {
    for (const std::string& joint : EgoDexJointNames()) {
      if (!written.count(joint)) RETURN_IF_ERROR(write_joint(joint, Placeholder(episode, joint), nullptr));
    }
  }
  std::vector<double> k(9);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) k[r * 3 + c] = episode.intrinsic(r, c);
  }
  RETURN_IF_ERROR(file->WriteNumeric("camera/intrinsic", {3, 3}, k, Hdf5Type::kFloat32));
  for (const auto& [name, value] : episode.attributes) RETURN_IF_ERROR(file->WriteStringAttribute("/", name, value));
  file.reset();
  if (options.write_video && !episode.video.frames.empty()) {
    RETURN_IF_ERROR(WriteVideo(EgoDexVideoPath(path), episode.video, episode.fps));
  }
  return absl::OkStatus();
}

absl::StatusOr<HumanEpisode> ReadEgoDexEpisode(const std::string& path, const EgoDexReadOptions& options) {
  ASSIGN_OR_RETURN(auto file, Hdf5File::Open(path));
  if (!file->IsGroup("transforms")) {
    return absl::DataLossError(absl::StrCat(path, ": 'transforms' group is missing (not an EgoDex file)"));
  }
  HumanEpisode e;
  ASSIGN_OR_RETURN(std::vector<std::string> joints, file->List("transforms"));
  if (joints.empty()) return absl::DataLossError(absl::StrCat(path, ": 'transforms' is empty"));
  int n = -1;
  for (const std::string& joint : joints) {
    ASSIGN_OR_RETURN(Hdf5Array a, file->ReadNumeric("transforms/" + joint));
    if (a.shape.size() != 3 || a.shape[1] != 4 || a.shape[2] != 4) {
      return absl::DataLossError(absl::StrCat(path, ": 'transforms/", joint, "' is not N x 4 x 4"));
    }
    if (n >= 0 && a.shape[0] != n) {
      return absl::DataLossError(absl::StrCat(path, ": 'transforms/", joint, "' has ", a.shape[0],
                                              " frames, other joints ", n));
    }
    n = static_cast<int>(a.shape[0]);
    std::vector<Eigen::Matrix4d>& track = e.transforms[joint];
    track.resize(n);
    for (int t = 0; t < n; ++t) {
      for (int i = 0; i < 16; ++i) track[t](i / 4, i % 4) = a.values[t * 16 + i];
    }
  }
  if (file->IsGroup("confidences")) {
    ASSIGN_OR_RETURN(std::vector<std::string> names, file->List("confidences"));
    for (const std::string& joint : names) {
      ASSIGN_OR_RETURN(Hdf5Array a, file->ReadNumeric("confidences/" + joint));
      if (a.values.size() != static_cast<size_t>(n)) {
        return absl::DataLossError(absl::StrCat(path, ": 'confidences/", joint, "' has ", a.values.size(),
                                                " values, expected ", n));
      }
      e.confidences[joint] = a.values;
    }
  }
  if (file->Exists("camera/intrinsic")) {
    ASSIGN_OR_RETURN(Hdf5Array k, file->ReadNumeric("camera/intrinsic"));
    if (k.values.size() != 9) return absl::DataLossError(absl::StrCat(path, ": 'camera/intrinsic' is not 3 x 3"));
    for (int i = 0; i < 9; ++i) e.intrinsic(i / 3, i % 3) = k.values[i];
  }
  ASSIGN_OR_RETURN(std::vector<std::string> attrs, file->ListAttributes("/"));
  for (const std::string& name : attrs) {
    auto v = file->ReadStringAttribute("/", name);
    if (v.ok()) e.attributes[name] = *v;
  }
  file.reset();
  e.video.name = "camera";
  e.video.has_calibration = true;
  e.video.intrinsic = e.intrinsic;
  const std::string video_path = EgoDexVideoPath(path);
  const bool have_video = std::filesystem::exists(video_path);
  if (options.require_video && !have_video) {
    return absl::NotFoundError(absl::StrCat(video_path, ": video is missing"));
  }
  if (have_video && options.load_video) {
    const int want = options.max_video_frames < 0 ? n : std::min(n, options.max_video_frames);
    RETURN_IF_ERROR(ReadVideo(video_path, want, &e.video, &e.fps));
  } else if (have_video) {
    cv::VideoCapture cap(video_path, cv::CAP_FFMPEG);
    e.video.width = static_cast<int>(cap.get(cv::CAP_PROP_FRAME_WIDTH));
    e.video.height = static_cast<int>(cap.get(cv::CAP_PROP_FRAME_HEIGHT));
    TakeVideoRate(cap, &e.fps);
  }
  return e;
}

absl::StatusOr<EgoDexLayoutReport> CheckEgoDexLayout(const std::string& path) {
  ASSIGN_OR_RETURN(auto file, Hdf5File::Open(path));
  EgoDexLayoutReport report;
  const std::set<std::string> known(EgoDexJointNames().begin(), EgoDexJointNames().end());
  int n = -1;
  for (const std::string& joint : EgoDexJointNames()) {
    const std::string key = "transforms/" + joint;
    auto shape = file->Shape(key);
    if (!shape.ok()) {
      report.problems.push_back(absl::StrCat(key, ": missing"));
      continue;
    }
    if (shape->size() != 3 || (*shape)[1] != 4 || (*shape)[2] != 4) {
      report.problems.push_back(absl::StrCat(key, ": shape is not N x 4 x 4"));
      continue;
    }
    if (n < 0) n = static_cast<int>((*shape)[0]);
    if ((*shape)[0] != n) report.problems.push_back(absl::StrCat(key, ": ", (*shape)[0], " frames, expected ", n));
  }
  report.num_frames = std::max(n, 0);
  auto k = file->Shape("camera/intrinsic");
  if (!k.ok()) {
    report.problems.push_back("camera/intrinsic: missing");
  } else if (*k != std::vector<int64_t>{3, 3}) {
    report.problems.push_back("camera/intrinsic: shape is not 3 x 3");
  }
  for (const char* group : {"transforms", "confidences"}) {
    if (!file->IsGroup(group)) continue;
    ASSIGN_OR_RETURN(std::vector<std::string> names, file->List(group));
    for (const std::string& joint : names) {
      const std::string key = absl::StrCat(group, "/", joint);
      if (!known.count(joint)) {
        report.extra_keys.push_back(key);
        continue;
      }
      if (std::string(group) != "confidences") continue;
      auto shape = file->Shape(key);
      if (!shape.ok() || *shape != std::vector<int64_t>{n}) {
        report.problems.push_back(absl::StrCat(key, ": shape is not (", n, ")"));
      }
    }
  }
  return report;
}

}  // namespace mivla::data
