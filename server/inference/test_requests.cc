#include "server/inference/test_requests.h"

#include <array>
#include <cmath>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/kinematics/embodiment_loader.h"
#include "server/inference/observation_input.h"

namespace mivla::server::testing {
namespace {

std::vector<std::string> Cameras(action::Embodiment e) {
  if (e == action::Embodiment::kHuman) return {"ego_camera"};
  if (action::NumArms(e) == 2) return {"head_camera", "left_camera", "right_camera"};
  return {"head_camera", "right_camera"};
}

cv::Mat Pattern(int w, int h, uint64_t seed, int view) {
  cv::Mat rgb(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>((x + seed * 7) % 256),
                                          static_cast<uint8_t>((y * 2 + view * 40) % 256),
                                          static_cast<uint8_t>((x + y + seed) % 256));
    }
  }
  return rgb;
}

// The arm's home pose (inside its joint limits) from the embodiment description.
std::array<double, 6> Home(action::Embodiment e, int side) {
  std::array<double, 6> home{};
  absl::StatusOr<kinematics::EmbodimentDescription> d = kinematics::LoadEmbodiment(e);
  if (!d.ok()) return home;
  const kinematics::ArmDescription* arm = d->FindArm(side == 0 ? kinematics::Side::kLeft : kinematics::Side::kRight);
  if (arm == nullptr || arm->home.size() != 6) return home;
  for (int j = 0; j < 6; ++j) home[j] = arm->home[j];
  return home;
}

void Arm(action::Embodiment e, uint64_t seed, int side, mivla::v1::ArmState* arm) {
  using Homes = std::array<std::array<std::array<double, 6>, 2>, action::kNumEmbodiments>;
  static const Homes kHomes = [] {
    Homes h{};
    for (action::Embodiment x : action::kAllEmbodiments) {
      for (int sd = 0; sd < 2; ++sd) h[static_cast<int>(x)][sd] = Home(x, sd);
    }
    return h;
  }();
  const std::array<double, 6>& home = kHomes[static_cast<int>(e)][side];
  for (int j = 0; j < 6; ++j) arm->add_joint_positions(home[j] + 0.05 * std::sin(0.3 * seed + j + side));
  arm->set_gripper(0.04);
  auto* p = arm->mutable_end_effector();
  p->set_x(0.3);
  p->set_y(side == 0 ? 0.1 : -0.1);
  p->set_z(0.2);
  p->set_qw(1.0);
}

}  // namespace

SessionSpec SpecFor(action::Embodiment e, const std::string& instruction) {
  SessionSpec s;
  s.embodiment = e;
  for (const auto& c : Cameras(e)) s.cameras.push_back({c, 320, 240});
  s.instruction = instruction;
  s.control_period_s = 0.1;
  return s;
}

mivla::v1::StartSessionRequest StartRequest(action::Embodiment e, const std::string& instruction) {
  mivla::v1::StartSessionRequest r;
  r.set_embodiment(EmbodimentToProto(e));
  for (const auto& c : Cameras(e)) {
    auto* cam = r.add_cameras();
    cam->set_name(c);
    cam->set_width(320);
    cam->set_height(240);
  }
  r.set_instruction(instruction);
  r.set_robot_id("test-robot");
  r.set_task("press_bell");
  return r;
}

mivla::v1::ObserveRequest ObserveFor(action::Embodiment e, const std::string& session_id, uint64_t seed, bool raw) {
  mivla::v1::ObserveRequest r;
  r.set_session_id(session_id);
  r.set_timestamp_us(1000000 + static_cast<int64_t>(seed) * 100000);
  const auto cams = Cameras(e);
  for (size_t v = 0; v < cams.size(); ++v) {
    cv::Mat rgb = Pattern(320, 240, seed, static_cast<int>(v));
    auto* im = r.add_images();
    im->set_camera(cams[v]);
    im->set_capture_time_us(r.timestamp_us());
    if (raw) {
      im->set_encoding(mivla::v1::RAW_RGB8);
      im->set_width(320);
      im->set_height(240);
      im->set_data(std::string(reinterpret_cast<const char*>(rgb.data), rgb.total() * 3));
    } else {
      cv::Mat bgr;
      cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
      std::vector<uint8_t> buf;
      cv::imencode(".jpg", bgr, buf);
      im->set_encoding(mivla::v1::JPEG);
      im->set_data(std::string(buf.begin(), buf.end()));
    }
  }
  auto* p = r.mutable_proprioception();
  if (e == action::Embodiment::kHuman) {
    for (int i = 0; i < action::kActionDim; ++i) p->add_unified(i < 48 ? 0.01f * ((i + seed) % 17) : 0.0f);
  } else {
    Arm(e, seed, 1, p->mutable_right());
    if (action::NumArms(e) == 2) Arm(e, seed, 0, p->mutable_left());
  }
  return r;
}

std::string SolidJpeg(int width, int height, int r, int g, int b) {
  cv::Mat bgr(height, width, CV_8UC3, cv::Scalar(b, g, r));
  std::vector<uint8_t> buf;
  cv::imencode(".jpg", bgr, buf);
  return std::string(buf.begin(), buf.end());
}

}  // namespace mivla::server::testing
