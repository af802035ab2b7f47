// File: renderer_test.cc
// Headless EGL rendering produces a non-trivial 320x240 image of the scene (works on llvmpipe): the
// table's colour fills the lower middle of the head camera's view, hard mode's table colour shows up
// there instead, and an unknown camera is a NotFound error. Set MIVLA_SIM_DUMP_DIR to write the
// images as PPM files for a look.
#include "sim/renderer.h"

#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/mjcf_load.h"
#include "sim/rig.h"
#include "sim/scene.h"
#include "sim/sim_env.h"

namespace mivla::sim {
namespace {

void MaybeDump(const Image& img, const std::string& name) {
  const char* dir = std::getenv("MIVLA_SIM_DUMP_DIR");
  if (dir == nullptr) return;
  std::ofstream f(std::string(dir) + "/" + name + ".ppm", std::ios::binary);
  f << "P6\n" << img.width << " " << img.height << "\n255\n";
  f.write(reinterpret_cast<const char*>(img.rgb.data()), img.rgb.size());
}

// Mean colour of a pixel block.
Eigen::Vector3d MeanBlock(const Image& img, int x0, int y0, int x1, int y1) {
  Eigen::Vector3d sum = Eigen::Vector3d::Zero();
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x)
      for (int c = 0; c < 3; ++c) sum[c] += img.at(x, y)[c];
  return sum / ((x1 - x0) * (y1 - y0));
}

absl::StatusOr<Image> RenderScene(Renderer& r, const Appearance& a, action::Embodiment e, const std::string& cam) {
  absl::StatusOr<Rig> rig = BuildRig(e, a.table_height_m);
  if (!rig.ok()) return rig.status();
  absl::StatusOr<std::unique_ptr<SimEnv>> env = SimEnv::Create(BuildSceneXml(*rig, a, ""), *rig);
  if (!env.ok()) return env.status();
  return r.Render((*env)->model(), const_cast<mjData*>((*env)->data()), cam);
}

TEST(RendererTest, TableColourAppearsBelowTheRobot) {
  absl::StatusOr<std::unique_ptr<Renderer>> r = Renderer::Create();
  ASSERT_TRUE(r.ok()) << r.status();
  std::mt19937_64 rng(3);
  Appearance easy = SampleAppearance(Mode::kEasy, rng);
  absl::StatusOr<Image> img = RenderScene(**r, easy, action::Embodiment::kPiper, "head");
  ASSERT_TRUE(img.ok()) << img.status();
  MaybeDump(*img, "piper_head_easy");
  ASSERT_EQ(img->width, kImageWidth);
  ASSERT_EQ(img->height, kImageHeight);
  // Lower-left of the view is table top: brown-ish, red > green > blue, and well lit.
  const Eigen::Vector3d table = MeanBlock(*img, 20, 190, 80, 230);
  EXPECT_GT(table[0], table[1] + 10) << table.transpose();
  EXPECT_GT(table[1], table[2] + 10) << table.transpose();
  EXPECT_GT(table[0], 80) << table.transpose();
  // A hard-mode table (a different colour) changes that block.
  Appearance hard = easy;
  hard.table_rgb = Eigen::Vector3d(0.1, 0.3, 0.9);
  absl::StatusOr<Image> blue = RenderScene(**r, hard, action::Embodiment::kPiper, "head");
  ASSERT_TRUE(blue.ok()) << blue.status();
  MaybeDump(*blue, "piper_head_blue");
  const Eigen::Vector3d t2 = MeanBlock(*blue, 20, 190, 80, 230);
  EXPECT_GT(t2[2], t2[0] + 30) << t2.transpose();
  // Wrist and egocentric cameras render too, and differ from the head view.
  absl::StatusOr<Image> wrist = RenderScene(**r, easy, action::Embodiment::kPiper, "r_wrist");
  ASSERT_TRUE(wrist.ok()) << wrist.status();
  MaybeDump(*wrist, "piper_wrist");
  absl::StatusOr<Image> ego = RenderScene(**r, easy, action::Embodiment::kHuman, "ego");
  ASSERT_TRUE(ego.ok()) << ego.status();
  MaybeDump(*ego, "human_ego");
  EXPECT_NE(ego->rgb, img->rgb);
}

TEST(RendererTest, NewTexturesAtTheSameModelAddressAreRedrawn) {
  // A model allocated where a freed one lived has the same address; the renderer must not keep the
  // old scene's textures. Rewriting a model's texture pixels in place reproduces that exactly.
  absl::StatusOr<std::unique_ptr<Renderer>> r = Renderer::Create();
  ASSERT_TRUE(r.ok()) << r.status();
  std::mt19937_64 rng(3);
  Appearance a = SampleAppearance(Mode::kEasy, rng);
  a.table_rgb = Eigen::Vector3d(1, 1, 1);
  a.texture = Appearance::Texture::kChecker;
  absl::StatusOr<Rig> rig = BuildRig(action::Embodiment::kPiper, a.table_height_m);
  ASSERT_TRUE(rig.ok());
  absl::StatusOr<std::unique_ptr<SimEnv>> env = SimEnv::Create(BuildSceneXml(*rig, a, ""), *rig);
  ASSERT_TRUE(env.ok()) << env.status();
  mjModel* m = const_cast<mjModel*>((*env)->model());
  ASSERT_GT(m->ntexdata, 0) << "a checker table needs a texture";
  mjData* d = const_cast<mjData*>((*env)->data());
  absl::StatusOr<Image> before = (*r)->Render(m, d, "head");
  ASSERT_TRUE(before.ok()) << before.status();
  for (int i = 0; i < m->ntexdata; i += 3) {  // every texture pure green
    m->tex_rgb[i] = 0;
    m->tex_rgb[i + 1] = 255;
    m->tex_rgb[i + 2] = 0;
  }
  absl::StatusOr<Image> after = (*r)->Render(m, d, "head");
  ASSERT_TRUE(after.ok()) << after.status();
  const Eigen::Vector3d t0 = MeanBlock(*before, 20, 190, 80, 230), t1 = MeanBlock(*after, 20, 190, 80, 230);
  EXPECT_GT(t1[1], t1[0] + 30) << "before " << t0.transpose() << ", after " << t1.transpose();
}

TEST(RendererTest, UnknownCameraIsNotFound) {
  absl::StatusOr<std::unique_ptr<Renderer>> r = Renderer::Create();
  ASSERT_TRUE(r.ok()) << r.status();
  std::mt19937_64 rng(3);
  absl::StatusOr<Image> img = RenderScene(**r, SampleAppearance(Mode::kEasy, rng), action::Embodiment::kPiper, "nope");
  EXPECT_EQ(img.status().code(), absl::StatusCode::kNotFound);
}

// Workers of mivla-datagen each own a Renderer and rebuild its MuJoCo render context for every
// model (mjr_makeContext reloads the GL entry points, which is process-wide state). Creating renderers
// and switching models on several threads at once must neither crash nor mix up the images: each
// thread's two-colour alternation must come back as drawn.
TEST(RendererTest, RenderersOnSeveralThreadsSwitchModelsSafely) {
  auto make = [](const char* rgb) {
    return LoadMjcfFromString(
        std::string("<mujoco><visual><global offwidth=\"32\" offheight=\"32\"/></visual><worldbody>"
                    "<light pos=\"0 0 3\" dir=\"0 0 -1\"/><camera name=\"c\" pos=\"0 0 1\"/>"
                    "<geom type=\"box\" size=\"2 2 0.1\" rgba=\"") + rgb + " 1\"/></worldbody></mujoco>",
        "renderer_test");
  };
  constexpr int kThreads = 4, kRounds = 12;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<std::unique_ptr<Renderer>> r = Renderer::Create();
      if (!r.ok()) {
        failures[t] = r.status().ToString();
        return;
      }
      absl::StatusOr<MjModelPtr> red_model = make("1 0 0"), green_model = make("0 1 0");
      if (!red_model.ok() || !green_model.ok()) {
        failures[t] = (red_model.ok() ? green_model : red_model).status().ToString();
        return;
      }
      mjModel* red = red_model->get();
      mjModel* green = green_model->get();
      mjData* dr = mj_makeData(red);
      mjData* dg = mj_makeData(green);
      mj_forward(red, dr);
      mj_forward(green, dg);
      for (int i = 0; i < kRounds && failures[t].empty(); ++i) {
        const bool is_red = (i + t) % 2 == 0;
        absl::StatusOr<Image> img = (*r)->Render(is_red ? red : green, is_red ? dr : dg, "c");
        if (!img.ok()) {
          failures[t] = img.status().ToString();
          break;
        }
        const uint8_t* p = img->at(16, 16);
        const bool looks_red = p[0] > p[1] + 30, looks_green = p[1] > p[0] + 30;
        if (is_red ? !looks_red : !looks_green) {
          failures[t] = absl::StrCat("round ", i, ": drew ", int{p[0]}, ",", int{p[1]}, ",", int{p[2]}, " for ",
                                     is_red ? "red" : "green");
        }
      }
      mj_deleteData(dr);
      mj_deleteData(dg);
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
}

TEST(IntrinsicsTest, FocalLengthFromFovy) {
  const Intrinsics k = CameraIntrinsics(90.0, 320, 240);
  EXPECT_NEAR(k.fy, 120.0, 1e-9);
  EXPECT_NEAR(k.cx, 160.0, 1e-9);
}

}  // namespace
}  // namespace mivla::sim
