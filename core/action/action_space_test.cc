#include "core/action/action_space.h"

#include "gtest/gtest.h"

namespace mivla::action {
namespace {

TEST(ActionSpaceTest, SlicesTileTheSpaceInOrder) {
  int next = 0;
  for (const Slice& s : kAllSlices) {
    EXPECT_EQ(s.begin, next) << s.name;
    next = s.end();
  }
  EXPECT_EQ(next, kActionDim);
  EXPECT_EQ(kHumanGroup.size + kRobotJointsGroup.size + kEndEffectorGroup.size, kActionDim);
}

TEST(ActionSpaceTest, EmbodimentMasks) {
  EXPECT_EQ(EmbodimentMask(Embodiment::kHuman).count(), 48u);
  EXPECT_EQ(EmbodimentMask(Embodiment::kPiper), SliceMask(kJointsRight) | SliceMask(kEndEffectorRight));
  EXPECT_EQ(EmbodimentMask(Embodiment::kArx5).count(), 14u);
  EXPECT_FALSE(EmbodimentMask(Embodiment::kPiper).test(kJointsLeft.begin));
  EXPECT_EQ(EmbodimentMask(Embodiment::kAlohaAgilex).count(), 28u);
  EXPECT_EQ(EmbodimentMask(Embodiment::kLocoman), EmbodimentMask(Embodiment::kAlohaAgilex));
}

TEST(ActionSpaceTest, ComplementIsDisjointFromLabelledSlice) {
  for (Embodiment e : kAllEmbodiments) {
    EXPECT_TRUE((EmbodimentMask(e) & ComplementMask(e)).none()) << EmbodimentName(e);
    EXPECT_TRUE(ComplementMask(e).any());
  }
  EXPECT_EQ(ComplementMask(Embodiment::kPiper), SliceMask(kHumanRight));
  EXPECT_EQ(ComplementMask(Embodiment::kHuman).count(), 28u);
}

TEST(ActionSpaceTest, RotationDims) {
  int count = 0;
  for (int i = 0; i < kActionDim; ++i) count += IsRotationDim(i);
  EXPECT_EQ(count, 2 * 6 + 2 * 4);
  EXPECT_TRUE(IsRotationDim(3));
  EXPECT_TRUE(IsRotationDim(24 + 8));
  EXPECT_FALSE(IsRotationDim(9));
  EXPECT_TRUE(IsRotationDim(65));  // left quaternion w
  EXPECT_FALSE(IsRotationDim(69));  // right position x
  EXPECT_FALSE(IsRotationDim(54));
}

TEST(ActionSpaceTest, ParseEmbodimentNames) {
  EXPECT_EQ(*ParseEmbodiment("piper"), Embodiment::kPiper);
  EXPECT_EQ(*ParseEmbodiment("ALOHA_AGILEX"), Embodiment::kAlohaAgilex);
  EXPECT_EQ(*ParseEmbodiment("aloha"), Embodiment::kAlohaAgilex);
  EXPECT_EQ(*ParseEmbodiment("LocoMan"), Embodiment::kLocoman);
  absl::StatusOr<Embodiment> bad = ParseEmbodiment("franka");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("franka"), std::string_view::npos);
  for (Embodiment e : kAllEmbodiments) EXPECT_EQ(*ParseEmbodiment(EmbodimentName(e)), e);
}

}  // namespace
}  // namespace mivla::action
