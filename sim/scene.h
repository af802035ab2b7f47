// File: scene.h
// The tabletop scene: appearance (table height, colour and texture, lights, distractor objects), its
// seeded sampling for easy and hard mode, and assembly of the full MJCF document from a rig (rig.h)
// and a task's objects. Cameras: "head" (robots, above and behind the robot, looking down at the
// table, like RoboTwin's head camera), per-arm wrist cameras (in the rig), and "ego" (human: a
// head-mounted viewpoint, lower, off-centre and rolled, with ARKit-like field of view).
// Pure functions; thread-safe.
#ifndef MIVLA_SIM_SCENE_H_
#define MIVLA_SIM_SCENE_H_

#include <random>
#include <string>
#include <vector>

#include "Eigen/Core"
#include "sim/rig.h"

namespace mivla::sim {

enum class Mode { kEasy, kHard };
const char* ModeName(Mode mode);

inline constexpr int kImageWidth = 320;
inline constexpr int kImageHeight = 240;
inline constexpr double kNominalTableHeight = 0.75;
inline constexpr double kEgoFovyDeg = 72.5;   // vertical field of view of the egocentric camera
inline constexpr double kHeadFovyDeg = 58.0;

struct Appearance {
  double table_height_m = kNominalTableHeight;
  Eigen::Vector3d table_rgb{0.62, 0.47, 0.33};
  Eigen::Vector3d table_rgb2{0.55, 0.41, 0.28};
  enum class Texture { kNone, kChecker, kGradient, kNoise } texture = Texture::kNone;
  struct Light {
    Eigen::Vector3d pos;
    Eigen::Vector3d dir;
    double diffuse = 0.6;
  };
  std::vector<Light> lights;
  struct Distractor {
    int shape = 0;  // 0 box, 1 cylinder, 2 sphere
    Eigen::Vector3d half_size{0.02, 0.02, 0.02};
    Eigen::Vector2d xy{0.6, 0.3};  // on the table, away from the task area
    double yaw = 0.0;
    Eigen::Vector4d rgba{0.5, 0.5, 0.5, 1.0};
  };
  std::vector<Distractor> distractors;
};

/// Easy: nominal table, fixed lights, no distractors. Hard: table height +-3 cm, random colour and
/// texture, 1-3 lights with random position/intensity, 1-4 distractors at the table's far edge and
/// sides. Uses only `rng`, so the same seed gives the same appearance.
Appearance SampleAppearance(Mode mode, std::mt19937_64& rng);

/// Full MJCF: options (2 ms step, elliptic cones, impratio 10), visual (320x240 offscreen), floor,
/// table, lights, cameras, rig bodies and actuators, and `objects_xml` (bodies in <worldbody>).
std::string BuildSceneXml(const Rig& rig, const Appearance& appearance, const std::string& objects_xml);

}  // namespace mivla::sim

#endif  // MIVLA_SIM_SCENE_H_
