// File: render_guard_test.cc
// A renderer reused across scenes (the guard reset in between) draws each scene as a fresh renderer
// does, including hard-mode table textures.
#include "trainer/datagen/render_guard.h"

#include "core/data/image.h"
#include "gtest/gtest.h"
#include "sim/rollout.h"

namespace mivla::datagen {
namespace {

data::RgbImage HeadImage(uint64_t seed, sim::Renderer* renderer) {
  sim::EpisodeOptions o;
  o.task = "press_bell";
  o.embodiment = action::Embodiment::kPiper;
  o.mode = sim::Mode::kHard;
  o.seed = seed;
  absl::StatusOr<sim::EpisodeScene> scene = sim::MakeEpisodeScene(o);
  EXPECT_TRUE(scene.ok()) << scene.status();
  if (!scene.ok()) return {};
  absl::StatusOr<sim::Image> img =
      renderer->Render(scene->env->model(), const_cast<mjData*>(scene->env->data()), "head");
  EXPECT_TRUE(img.ok()) << img.status();
  if (!img.ok()) return {};
  return data::RgbImage{img->width, img->height, img->rgb};
}

TEST(RenderGuard, ReusedRendererDrawsEachSceneAsAFreshOneDoes) {
  absl::StatusOr<std::unique_ptr<sim::Renderer>> shared = sim::Renderer::Create();
  ASSERT_TRUE(shared.ok()) << shared.status();
  absl::StatusOr<std::unique_ptr<RenderGuard>> guard = RenderGuard::Create();
  ASSERT_TRUE(guard.ok()) << guard.status();
  std::vector<data::RgbImage> reused;
  for (uint64_t seed : {1, 2, 3}) {
    ASSERT_TRUE((*guard)->Reset(shared->get()).ok());
    reused.push_back(HeadImage(seed, shared->get()));
  }
  // Hard mode draws different tables for different seeds...
  EXPECT_GT(data::MeanAbsDiff(reused[0], reused[1]), 5.0);
  EXPECT_GT(data::MeanAbsDiff(reused[1], reused[2]), 5.0);
  // ...and each matches what a renderer that never drew anything else makes of it.
  for (uint64_t seed : {1, 2, 3}) {
    absl::StatusOr<std::unique_ptr<sim::Renderer>> fresh = sim::Renderer::Create();
    ASSERT_TRUE(fresh.ok()) << fresh.status();
    const data::RgbImage expected = HeadImage(seed, fresh->get());
    EXPECT_LT(data::MeanAbsDiff(reused[seed - 1], expected), 0.5) << "seed " << seed;
    fresh->release();  // its destructor would terminate the shared EGL display under `shared`
  }
}

}  // namespace
}  // namespace mivla::datagen
