#include "trainer/train/resample.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::trainer {
namespace {

using ::testing::ElementsAre;

TEST(ResampleIndicesTest, ThirtyHertzAtTenTakesEveryThirdFrame) {
  auto idx = ResampleIndices(31, 30, 10);
  ASSERT_TRUE(idx.ok());
  EXPECT_THAT(*idx, ElementsAre(0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30));
  // A frame that does not reach the next grid time is dropped: 0..29 spans 0.967 s.
  EXPECT_EQ(ResampleIndices(30, 30, 10)->size(), 10u);
}

TEST(ResampleIndicesTest, NonIntegerRatioTakesTheNearestFrame) {
  auto idx = ResampleIndices(13, 25, 10);  // 2.5 source frames per kept frame
  ASSERT_TRUE(idx.ok());
  EXPECT_THAT(*idx, ElementsAre(0, 3, 5, 8, 10));
}

TEST(ResampleIndicesTest, SameRateKeepsEveryFrameSlowerSourceRepeats) {
  EXPECT_THAT(*ResampleIndices(4, 10, 10), ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(*ResampleIndices(3, 5, 10), ElementsAre(0, 1, 1, 2, 2));
  EXPECT_THAT(*ResampleIndices(1, 30, 10), ElementsAre(0));
}

TEST(ResampleIndicesTest, BadRatesAreErrors) {
  EXPECT_FALSE(ResampleIndices(10, 0, 10).ok());
  EXPECT_FALSE(ResampleIndices(10, 30, -1).ok());
  EXPECT_FALSE(ResampleIndices(0, 30, 10).ok());
  // A rate far below the control rate is taken for a wrong one (a period stored as a rate), not
  // expanded into millions of repeated frames.
  const absl::StatusOr<std::vector<int>> tiny = ResampleIndices(300, 0.04, 25);
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.status().message().find("frame rate 0.04 Hz"), std::string::npos) << tiny.status();
  EXPECT_FALSE(ResampleIndices(1000, 1e-6, 10).ok());
  EXPECT_EQ(ResampleIndices(3, 0.1, 10)->size(), 201u);  // 100 copies a frame is still taken
}

data::UnifiedEpisode Episode(int frames, double fps) {
  data::UnifiedEpisode e;
  e.source = "test.hdf5";
  e.fps = fps;
  data::CameraStream cam;
  cam.name = "head_camera";
  cam.width = 2;
  cam.height = 1;
  for (int t = 0; t < frames; ++t) {
    data::UnifiedVector v{};
    v[0] = t;
    e.states.push_back(v);
    action::ActionMask m;
    m.set(t % 76);
    e.masks.push_back(m);
    e.complement_masks.push_back(action::ActionMask().set((t + 1) % 76));
    cam.frames.push_back(data::RgbImage::Solid(2, 1, static_cast<uint8_t>(t), 0, 0));
  }
  e.cameras.push_back(cam);
  return e;
}

TEST(ResampleEpisodeTest, StatesMasksAndFramesFollowTheIndices) {
  auto r = ResampleEpisode(Episode(31, 30), 10);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->num_frames(), 11);
  EXPECT_EQ(r->fps, 10);
  for (int j = 0; j < 11; ++j) {
    EXPECT_EQ(r->states[j][0], 3 * j);
    EXPECT_TRUE(r->masks[j].test(3 * j % 76));
    EXPECT_TRUE(r->complement_masks[j].test((3 * j + 1) % 76));
    EXPECT_EQ(r->cameras[0].frames[j].rgb[0], 3 * j);
  }
  // Repeated frames (a slower source) are copies, not moved-from husks.
  auto slow = ResampleEpisode(Episode(3, 5), 10);
  ASSERT_TRUE(slow.ok());
  for (int j = 0; j < 5; ++j) EXPECT_TRUE(slow->cameras[0].frames[j].valid()) << j;
  EXPECT_EQ(slow->cameras[0].frames[2].rgb[0], 1);
}

TEST(ResampleEpisodeTest, ErrorsNameTheEpisode) {
  data::UnifiedEpisode e = Episode(5, 0);
  auto r = ResampleEpisode(e, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("test.hdf5"), std::string::npos);
  e = Episode(5, 30);
  e.complement_masks.pop_back();
  EXPECT_FALSE(ResampleEpisode(e, 10).ok());
}

}  // namespace
}  // namespace mivla::trainer
