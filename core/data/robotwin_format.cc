#include "core/data/robotwin_format.h"

#include <filesystem>
#include <fstream>

#include "Eigen/LU"
#include "absl/strings/str_cat.h"
#include "core/data/hdf5_file.h"
#include "core/kinematics/embodiment_loader.h"
#include "core/util/read_file.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"

namespace mivla::data {
namespace {

namespace fs = std::filesystem;
constexpr const char* kSides[2] = {"left", "right"};

struct GripperRange {
  double min = 0, max = 1;
};

absl::StatusOr<std::array<GripperRange, 2>> GripperRanges(action::Embodiment tag, const std::string& dir) {
  ASSIGN_OR_RETURN(kinematics::EmbodimentDescription desc, kinematics::LoadEmbodiment(tag, dir));
  std::array<GripperRange, 2> out;
  for (int s = 0; s < 2; ++s) {
    const kinematics::ArmDescription* arm = desc.FindArm(static_cast<kinematics::Side>(s));
    if (arm != nullptr && arm->gripper.max_m > arm->gripper.min_m) out[s] = {arm->gripper.min_m, arm->gripper.max_m};
  }
  return out;
}

Eigen::Matrix4d GlFlip() { return Eigen::Vector4d(1, -1, -1, 1).asDiagonal(); }

std::vector<double> Repeat(const double* values, int size, int times) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(size) * times);
  for (int t = 0; t < times; ++t) out.insert(out.end(), values, values + size);
  return out;
}

absl::Status WriteCamera(Hdf5File* f, const CameraStream& cam, int n, int quality) {
  const std::string base = "observation/" + cam.name + "/";
  std::vector<std::string> jpegs;
  for (size_t t = 0; t < cam.frames.size(); ++t) {
    auto bytes = EncodeJpeg(cam.frames[t], JpegChannelOrder::kRoboTwin, quality);
    if (!bytes.ok()) return absl::InvalidArgumentError(absl::StrCat(base, "rgb[", t, "]: ", bytes.status().message()));
    jpegs.push_back(std::move(*bytes));
  }
  if (!jpegs.empty()) RETURN_IF_ERROR(f->WriteFixedBytes(base + "rgb", jpegs));
  if (!cam.has_calibration) return absl::OkStatus();
  Eigen::Matrix<double, 3, 3, Eigen::RowMajor> k = cam.intrinsic;
  RETURN_IF_ERROR(f->WriteNumeric(base + "intrinsic_cv", {n, 3, 3}, Repeat(k.data(), 9, n), Hdf5Type::kFloat32));
  Eigen::Matrix<double, 4, 4, Eigen::RowMajor> world2cam = cam.cam2world.inverse();
  RETURN_IF_ERROR(f->WriteNumeric(base + "extrinsic_cv", {n, 3, 4}, Repeat(world2cam.data(), 12, n), Hdf5Type::kFloat32));
  Eigen::Matrix<double, 4, 4, Eigen::RowMajor> gl = cam.cam2world * GlFlip();
  return f->WriteNumeric(base + "cam2world_gl", {n, 4, 4}, Repeat(gl.data(), 16, n), Hdf5Type::kFloat32);
}

absl::Status ReadInstructions(const std::string& hdf5_path, RobotEpisode* e) {
  const std::string path = RoboTwinInstructionPath(hdf5_path);
  absl::StatusOr<std::string> text = ReadFile(path);
  if (absl::IsNotFound(text.status())) return absl::OkStatus();  // the episode has no instruction file
  if (!text.ok()) return text.status();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError(absl::StrCat(path, ": instruction file is not a JSON object"));
  }
  for (const char* key : {"seen", "unseen"}) {
    if (!j.contains(key)) continue;
    if (!j[key].is_array()) return absl::DataLossError(absl::StrCat(path, ": '", key, "' is not a list"));
    auto& list = std::string(key) == "seen" ? e->instructions_seen : e->instructions_unseen;
    for (const auto& s : j[key]) {
      if (!s.is_string()) return absl::DataLossError(absl::StrCat(path, ": '", key, "' holds a non-string"));
      list.push_back(s.get<std::string>());
    }
  }
  return absl::OkStatus();
}

absl::Status ReadCamera(const Hdf5File& f, const std::string& name, int n, const RoboTwinReadOptions& options,
                        CameraStream* cam) {
  cam->name = name;
  const std::string base = "observation/" + name + "/";
  auto where = [&](const std::string& key) { return absl::StrCat(f.path(), ": '", base, key, "'"); };
  if (f.Exists(base + "rgb")) {
    ASSIGN_OR_RETURN(std::vector<int64_t> shape, f.Shape(base + "rgb"));
    if (shape.size() != 1 || shape[0] != n) {
      return absl::DataLossError(absl::StrCat(where("rgb"), ": ", shape.empty() ? 0 : shape[0], " images, expected ", n));
    }
    const int want = !options.load_images ? std::min(n, 1)
                     : options.max_image_frames < 0 ? n : std::min(n, options.max_image_frames);
    for (int t = 0; t < want; ++t) {
      ASSIGN_OR_RETURN(std::string bytes, f.ReadBytesAt(base + "rgb", t, /*strip_nulls=*/true));
      auto img = DecodeJpeg(bytes, JpegChannelOrder::kRoboTwin);
      if (!img.ok()) return absl::DataLossError(absl::StrCat(where("rgb"), "[", t, "]: ", img.status().message()));
      if (t > 0 && (img->width != cam->width || img->height != cam->height)) {
        return absl::DataLossError(absl::StrCat(where("rgb"), "[", t, "]: size differs from frame 0"));
      }
      cam->width = img->width;
      cam->height = img->height;
      if (options.load_images) cam->frames.push_back(std::move(*img));
    }
  }
  if (f.Exists(base + "intrinsic_cv")) {
    ASSIGN_OR_RETURN(Hdf5Array k, f.ReadNumeric(base + "intrinsic_cv"));
    if (k.values.size() < 9 || k.values.size() % 9 != 0) return absl::DataLossError(where("intrinsic_cv") + ": not (T,3,3)");
    for (int i = 0; i < 9; ++i) cam->intrinsic(i / 3, i % 3) = k.values[i];
    cam->has_calibration = true;
  }
  if (f.Exists(base + "extrinsic_cv")) {
    ASSIGN_OR_RETURN(Hdf5Array x, f.ReadNumeric(base + "extrinsic_cv"));
    if (x.values.size() < 12 || x.values.size() % 12 != 0) return absl::DataLossError(where("extrinsic_cv") + ": not (T,3,4)");
    Eigen::Matrix4d w2c = Eigen::Matrix4d::Identity();
    for (int i = 0; i < 12; ++i) w2c(i / 4, i % 4) = x.values[i];
    cam->cam2world = w2c.inverse();
  }
  return absl::OkStatus();
}

}  // namespace

std::string RoboTwinEpisodePath(const std::string& config_dir, int index) {
  return (fs::path(config_dir) / "data" / absl::StrCat("episode", index, ".hdf5")).string();
}

std::string RoboTwinInstructionPath(const std::string& hdf5_path) {
  const fs::path p(hdf5_path);
  return (p.parent_path().parent_path() / "instructions" / (p.stem().string() + ".json")).string();
}

absl::Status WriteRoboTwinEpisode(const std::string& config_dir, int index, const RobotEpisode& episode,
                                  const RoboTwinWriteOptions& options) {
  const std::string path = RoboTwinEpisodePath(config_dir, index);
  if (auto s = ValidateEpisode(episode); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": episode is invalid: ", s.message()));
  }
  ASSIGN_OR_RETURN(auto ranges, GripperRanges(episode.embodiment, options.embodiment_dir));
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  fs::create_directories(fs::path(RoboTwinInstructionPath(path)).parent_path(), ec);
  if (ec) return absl::InternalError(absl::StrCat(config_dir, ": cannot create directories: ", ec.message()));
  const int n = episode.num_frames();
  {
    ASSIGN_OR_RETURN(auto f, Hdf5File::Create(path));
    std::vector<std::vector<double>> vector_rows(n);
    for (int s = 0; s < 2; ++s) {
      const ArmTrack& arm = episode.arms[s];
      if (!arm.present) continue;
      const int dof = static_cast<int>(arm.joints[0].size());
      std::vector<double> joints, grip, pose;
      for (int t = 0; t < n; ++t) {
        joints.insert(joints.end(), arm.joints[t].begin(), arm.joints[t].end());
        const double g = (arm.gripper[t] - ranges[s].min) / (ranges[s].max - ranges[s].min);
        grip.push_back(g);
        pose.insert(pose.end(), arm.endpose[t].begin(), arm.endpose[t].end());
        vector_rows[t].insert(vector_rows[t].end(), arm.joints[t].begin(), arm.joints[t].end());
        vector_rows[t].push_back(g);
      }
      const std::string side = kSides[s];
      RETURN_IF_ERROR(f->WriteNumeric("joint_action/" + side + "_arm", {n, dof}, joints, Hdf5Type::kFloat64));
      RETURN_IF_ERROR(f->WriteNumeric("joint_action/" + side + "_gripper", {n}, grip, Hdf5Type::kFloat64));
      RETURN_IF_ERROR(f->WriteNumeric("endpose/" + side + "_endpose", {n, 7}, pose, Hdf5Type::kFloat64));
      RETURN_IF_ERROR(f->WriteNumeric("endpose/" + side + "_gripper", {n}, grip, Hdf5Type::kFloat64));
    }
    std::vector<double> flat;
    for (const auto& row : vector_rows) flat.insert(flat.end(), row.begin(), row.end());
    RETURN_IF_ERROR(f->WriteNumeric("joint_action/vector", {n, static_cast<int64_t>(vector_rows[0].size())}, flat,
                                    Hdf5Type::kFloat64));
    for (const CameraStream& cam : episode.cameras) RETURN_IF_ERROR(WriteCamera(f.get(), cam, n, options.jpeg_quality));
    RETURN_IF_ERROR(f->WriteStringAttribute("/", "embodiment", std::string(action::EmbodimentName(episode.embodiment))));
    RETURN_IF_ERROR(f->WriteStringAttribute("/", "task", episode.task));
    RETURN_IF_ERROR(f->WriteStringAttribute("/", "control_hz", absl::StrCat(episode.control_hz)));
  }
  nlohmann::json j = {{"seen", episode.instructions_seen}, {"unseen", episode.instructions_unseen}};
  const std::string ipath = RoboTwinInstructionPath(path);
  std::ofstream out(ipath);
  out << j.dump(2) << "\n";
  if (!out) return absl::InternalError(absl::StrCat(ipath, ": cannot write instructions"));
  return absl::OkStatus();
}

absl::StatusOr<RobotEpisode> ReadRoboTwinEpisode(const std::string& hdf5_path, const RoboTwinReadOptions& options) {
  ASSIGN_OR_RETURN(auto f, Hdf5File::Open(hdf5_path));
  if (!f->IsGroup("joint_action")) {
    return absl::DataLossError(absl::StrCat(hdf5_path, ": 'joint_action' group is missing (not a RoboTwin file)"));
  }
  RobotEpisode e;
  e.embodiment = options.default_embodiment;
  if (auto tag = f->ReadStringAttribute("/", "embodiment"); tag.ok()) {
    auto parsed = action::ParseEmbodiment(*tag);
    if (!parsed.ok()) return absl::DataLossError(absl::StrCat(hdf5_path, ": attribute 'embodiment': ", parsed.status().message()));
    e.embodiment = *parsed;
  }
  if (auto task = f->ReadStringAttribute("/", "task"); task.ok()) e.task = *task;
  if (auto hz = f->ReadStringAttribute("/", "control_hz"); hz.ok()) e.control_hz = std::atof(hz->c_str());
  ASSIGN_OR_RETURN(auto ranges, GripperRanges(e.embodiment, options.embodiment_dir));
  int n = -1;
  auto bad = [&](const std::string& key, const std::string& why) {
    return absl::DataLossError(absl::StrCat(hdf5_path, ": '", key, "': ", why));
  };
  for (int s = 0; s < 2; ++s) {
    const std::string side = kSides[s];
    const std::string arm_key = "joint_action/" + side + "_arm";
    if (!f->Exists(arm_key)) continue;
    ArmTrack& arm = e.arms[s];
    arm.present = true;
    ASSIGN_OR_RETURN(Hdf5Array q, f->ReadNumeric(arm_key));
    if (q.shape.size() != 2 || q.shape[1] < 1) return bad(arm_key, "is not (T, dof)");
    if (n >= 0 && q.shape[0] != n) return bad(arm_key, absl::StrCat(q.shape[0], " frames, other arm ", n));
    n = static_cast<int>(q.shape[0]);
    const int dof = static_cast<int>(q.shape[1]);
    for (int t = 0; t < n; ++t) arm.joints.emplace_back(q.values.begin() + t * dof, q.values.begin() + (t + 1) * dof);
    const std::string grip_key = "joint_action/" + side + "_gripper";
    ASSIGN_OR_RETURN(Hdf5Array g, f->ReadNumeric(grip_key));
    if (g.values.size() != static_cast<size_t>(n)) return bad(grip_key, absl::StrCat(g.values.size(), " values, expected ", n));
    for (double v : g.values) arm.gripper.push_back(ranges[s].min + v * (ranges[s].max - ranges[s].min));
    const std::string pose_key = "endpose/" + side + "_endpose";
    if (f->Exists(pose_key)) {
      ASSIGN_OR_RETURN(Hdf5Array p, f->ReadNumeric(pose_key));
      if (p.shape != std::vector<int64_t>{n, 7}) return bad(pose_key, absl::StrCat("is not (", n, ", 7)"));
      for (int t = 0; t < n; ++t) {
        std::array<double, 7> row;
        std::copy(p.values.begin() + t * 7, p.values.begin() + (t + 1) * 7, row.begin());
        arm.endpose.push_back(row);
      }
    }
  }
  if (n < 0) return absl::DataLossError(absl::StrCat(hdf5_path, ": 'joint_action' has neither left_arm nor right_arm"));
  if (f->IsGroup("observation")) {
    ASSIGN_OR_RETURN(std::vector<std::string> cams, f->List("observation"));
    for (const std::string& name : cams) {
      CameraStream cam;
      RETURN_IF_ERROR(ReadCamera(*f, name, n, options, &cam));
      e.cameras.push_back(std::move(cam));
    }
  }
  f.reset();
  RETURN_IF_ERROR(ReadInstructions(hdf5_path, &e));
  return e;
}

}  // namespace mivla::data
