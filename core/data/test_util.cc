#include "core/data/test_util.h"

#include <cmath>
#include <cstdlib>

#include "Eigen/Geometry"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace mivla::data::testing {

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = ::testing::TempDir() + "/" + prefix + "_XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << tmpl;
  return tmpl;
}

RgbImage GradientImage(int width, int height, int frame) {
  RgbImage img = RgbImage::Solid(width, height, 0, 0, 0);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = img.at(x, y);
      p[0] = static_cast<uint8_t>(40 + 150 * x / std::max(1, width - 1));
      p[1] = static_cast<uint8_t>(40 + 150 * y / std::max(1, height - 1));
      p[2] = static_cast<uint8_t>((30 + 20 * frame) % 220);
    }
  }
  return img;
}

namespace {

Eigen::Matrix4d Pose(const Eigen::Vector3d& p, double yaw, double pitch) {
  Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
  m.topLeftCorner<3, 3>() = (Eigen::AngleAxisd(yaw, Eigen::Vector3d::UnitY()) *
                             Eigen::AngleAxisd(pitch, Eigen::Vector3d::UnitX())).toRotationMatrix();
  m.topRightCorner<3, 1>() = p;
  return m;
}

}  // namespace

HumanEpisode MakeHumanEpisode(int frames, int width, int height) {
  HumanEpisode e;
  e.fps = 30;
  e.intrinsic << 60, 0, width / 2.0, 0, 60, height / 2.0, 0, 0, 1;
  const char* tips[] = {"ThumbTip", "IndexFingerTip", "MiddleFingerTip", "RingFingerTip", "LittleFingerTip"};
  for (int t = 0; t < frames; ++t) {
    const double s = 0.01 * t;
    e.transforms["camera"].push_back(Pose({0.02 * t, 1.5, 0.3}, 0.05 * t, -0.6));
    for (int side = 0; side < 2; ++side) {
      const std::string p = side == 0 ? "left" : "right";
      const double sx = side == 0 ? -0.15 : 0.15;
      const Eigen::Vector3d wrist(sx + s, 1.0 + 0.5 * s, -0.2 - s);
      e.transforms[p + "Hand"].push_back(Pose(wrist, 0.1 * t + side, 0.2));
      e.transforms[p + "ThumbKnuckle"].push_back(Pose(wrist + Eigen::Vector3d(0.02, 0.01, -0.03), 0.3, 0));
      for (int f = 0; f < 5; ++f) {
        e.transforms[p + tips[f]].push_back(
            Pose(wrist + Eigen::Vector3d(0.02 * f - 0.04, -0.01, -0.12 - 0.002 * t), 0, 0));
      }
    }
  }
  for (const auto& [joint, track] : e.transforms) {
    if (joint == "camera") continue;
    for (int t = 0; t < frames; ++t) e.confidences[joint].push_back(0.5 + 0.4 * std::sin(t + joint.size()));
  }
  e.video.name = "camera";
  e.video.width = width;
  e.video.height = height;
  for (int t = 0; width > 0 && t < frames; ++t) e.video.frames.push_back(GradientImage(width, height, t));
  e.attributes = {{"llm_description", "pick up the red cup and place it on the plate"},
                  {"llm_description2", "take the cup off the plate"},
                  {"which_llm_description", "1"},
                  {"llm_type", "reversible"},
                  {"task", "cup_on_plate"},
                  {"environment", "sim_table"}};
  return e;
}

RobotEpisode MakeRobotEpisode(action::Embodiment embodiment, int frames, int width, int height) {
  RobotEpisode e;
  e.embodiment = embodiment;
  e.task = "move_bottle_pad";
  e.control_hz = 15;
  const bool two = action::NumArms(embodiment) == 2;
  for (int a = two ? 0 : 1; a < 2; ++a) {
    ArmTrack& arm = e.arms[a];
    arm.present = true;
    for (int t = 0; t < frames; ++t) {
      std::vector<double> q(6);
      for (int j = 0; j < 6; ++j) q[j] = 0.1 * j - 0.05 * t + 0.3 * a;
      arm.joints.push_back(q);
      arm.gripper.push_back(embodiment == action::Embodiment::kLocoman ? 0.1 + 0.05 * t : 0.001 + 0.004 * t);
      Eigen::Quaterniond quat(Eigen::AngleAxisd(0.1 * t + a, Eigen::Vector3d(1, 2, 3).normalized()));
      if (quat.w() < 0) quat.coeffs() *= -1;
      arm.endpose.push_back({0.3 + 0.01 * t, a == 0 ? 0.2 : -0.2, 0.9 - 0.005 * t, quat.w(), quat.x(), quat.y(),
                             quat.z()});
    }
  }
  std::vector<std::string> cams = {"head_camera"};
  if (two) cams = {"head_camera", "left_camera", "right_camera"};
  for (size_t c = 0; c < cams.size(); ++c) {
    CameraStream cam;
    cam.name = cams[c];
    cam.width = width;
    cam.height = height;
    cam.has_calibration = true;
    cam.intrinsic << 50 + c, 0, width / 2.0, 0, 50 + c, height / 2.0, 0, 0, 1;
    cam.cam2world.topRightCorner<3, 1>() = Eigen::Vector3d(0.1 * c, -0.5, 1.2);
    for (int t = 0; t < frames; ++t) cam.frames.push_back(GradientImage(width, height, t + 3 * c));
    e.cameras.push_back(cam);
  }
  e.instructions_seen = {"move the bottle onto the pad", "put the bottle on the blue pad"};
  e.instructions_unseen = {"place the bottle on top of the pad"};
  return e;
}

}  // namespace mivla::data::testing
