#include "core/data/native_format.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/data/hdf5_file.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"

namespace mivla::data {

absl::Status WriteNativeEpisode(const std::string& path, const UnifiedEpisode& episode, int jpeg_quality) {
  const int n = episode.num_frames();
  if (n == 0 || static_cast<int>(episode.masks.size()) != n) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": episode has ", n, " states and ", episode.masks.size(), " masks"));
  }
  ASSIGN_OR_RETURN(auto f, Hdf5File::Create(path));
  std::vector<double> states, mask;
  states.reserve(static_cast<size_t>(n) * action::kActionDim);
  for (int t = 0; t < n; ++t) {
    states.insert(states.end(), episode.states[t].begin(), episode.states[t].end());
    for (int i = 0; i < action::kActionDim; ++i) mask.push_back(episode.masks[t][i] ? 1.0 : 0.0);
  }
  RETURN_IF_ERROR(f->WriteNumeric("unified/states", {n, action::kActionDim}, states, Hdf5Type::kFloat32));
  RETURN_IF_ERROR(f->WriteNumeric("unified/mask", {n, action::kActionDim}, mask, Hdf5Type::kUint8));
  for (const CameraStream& cam : episode.cameras) {
    if (cam.frames.empty()) continue;
    if (static_cast<int>(cam.frames.size()) != n) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": camera '", cam.name, "' has ", cam.frames.size(),
                                                     " frames for ", n, " states"));
    }
    std::vector<std::string> jpegs;
    for (const RgbImage& img : cam.frames) {
      ASSIGN_OR_RETURN(std::string bytes, EncodeJpeg(img, JpegChannelOrder::kStandard, jpeg_quality));
      jpegs.push_back(std::move(bytes));
    }
    RETURN_IF_ERROR(f->WriteFixedBytes("observation/" + cam.name + "/rgb", jpegs));
  }
  RETURN_IF_ERROR(f->WriteStringAttribute("/", "mivla_format", kNativeFormatTag));
  RETURN_IF_ERROR(f->WriteStringAttribute("/", "embodiment", std::string(action::EmbodimentName(episode.embodiment))));
  RETURN_IF_ERROR(f->WriteStringAttribute("/", "instruction", episode.instruction));
  RETURN_IF_ERROR(f->WriteStringAttribute("/", "instructions", nlohmann::json(episode.instructions).dump()));
  return f->WriteStringAttribute("/", "fps", absl::StrCat(episode.fps));
}

absl::StatusOr<UnifiedEpisode> ReadNativeEpisode(const std::string& path, const NativeReadOptions& options) {
  ASSIGN_OR_RETURN(auto f, Hdf5File::Open(path));
  auto tag = f->ReadStringAttribute("/", "mivla_format");
  if (!tag.ok() || (*tag != kNativeFormatTag && *tag != kNativeFormatTagV1)) {
    return absl::DataLossError(absl::StrCat(path, ": attribute 'mivla_format' is not '", kNativeFormatTag, "' (or '",
                                            kNativeFormatTagV1, "')"));
  }
  const bool version1 = *tag == kNativeFormatTagV1;
  UnifiedEpisode e;
  e.source = path;
  ASSIGN_OR_RETURN(std::string emb, f->ReadStringAttribute("/", "embodiment"));
  auto parsed = action::ParseEmbodiment(emb);
  if (!parsed.ok()) return absl::DataLossError(absl::StrCat(path, ": attribute 'embodiment': ", parsed.status().message()));
  e.embodiment = *parsed;
  if (auto s = f->ReadStringAttribute("/", "instruction"); s.ok()) e.instruction = *s;
  if (auto s = f->ReadStringAttribute("/", "instructions"); s.ok()) {
    auto j = nlohmann::json::parse(*s, nullptr, false);
    if (!j.is_array()) return absl::DataLossError(absl::StrCat(path, ": attribute 'instructions' is not a JSON list"));
    for (const auto& item : j) {
      if (item.is_string()) e.instructions.push_back(item.get<std::string>());
    }
  }
  if (auto s = f->ReadStringAttribute("/", "fps"); s.ok()) e.fps = std::atof(s->c_str());
  ASSIGN_OR_RETURN(Hdf5Array states, f->ReadNumeric("unified/states"));
  ASSIGN_OR_RETURN(Hdf5Array mask, f->ReadNumeric("unified/mask"));
  if (states.shape.size() != 2 || states.shape[1] != action::kActionDim) {
    return absl::DataLossError(absl::StrCat(path, ": 'unified/states' is not (T, 76)"));
  }
  if (mask.shape != states.shape) return absl::DataLossError(absl::StrCat(path, ": 'unified/mask' shape differs from 'unified/states'"));
  const int n = static_cast<int>(states.shape[0]);
  e.states.resize(n);
  e.masks.resize(n);
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i < action::kActionDim; ++i) {
      e.states[t][i] = states.values[t * action::kActionDim + i];
      e.masks[t][i] = mask.values[t * action::kActionDim + i] != 0.0;
    }
  }
  if (version1) {
    absl::Status ee = FillEndEffectorsFromJoints(&e, options.embodiment_dir);
    if (!ee.ok()) return absl::DataLossError(absl::StrCat(path, ": version 1 end effectors: ", ee.message()));
  }
  if (f->IsGroup("observation")) {
    ASSIGN_OR_RETURN(std::vector<std::string> cams, f->List("observation"));
    for (const std::string& name : cams) {
      CameraStream cam;
      cam.name = name;
      const std::string key = "observation/" + name + "/rgb";
      ASSIGN_OR_RETURN(std::vector<int64_t> shape, f->Shape(key));
      if (shape != std::vector<int64_t>{n}) return absl::DataLossError(absl::StrCat(path, ": '", key, "' is not (", n, ")"));
      const int want = !options.load_images ? std::min(n, 1)
                       : options.max_image_frames < 0 ? n : std::min(n, options.max_image_frames);
      for (int t = 0; t < want; ++t) {
        ASSIGN_OR_RETURN(std::string bytes, f->ReadBytesAt(key, t, true));
        auto img = DecodeJpeg(bytes, JpegChannelOrder::kStandard);
        if (!img.ok()) return absl::DataLossError(absl::StrCat(path, ": '", key, "'[", t, "]: ", img.status().message()));
        cam.width = img->width;
        cam.height = img->height;
        if (options.load_images) cam.frames.push_back(std::move(*img));
      }
      e.cameras.push_back(std::move(cam));
    }
  }
  return e;
}

}  // namespace mivla::data
