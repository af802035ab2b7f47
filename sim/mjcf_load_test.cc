// File: mjcf_load_test.cc
// LoadMjcfFromString compiles inline MJCF into an owned model, and bad MJCF is an InvalidArgument
// error that names the caller and carries MuJoCo's own message.
#include "sim/mjcf_load.h"

#include "gtest/gtest.h"

namespace mivla::sim {
namespace {

TEST(MjcfLoadTest, LoadsInlineMjcf) {
  absl::StatusOr<MjModelPtr> m = LoadMjcfFromString(
      "<mujoco><worldbody><body name=\"b\"><freejoint/><geom type=\"sphere\" size=\"0.1\"/></body>"
      "<geom type=\"plane\" size=\"1 1 0.1\"/></worldbody></mujoco>",
      "test");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->ngeom, 2);
  EXPECT_EQ((*m)->nbody, 2);
  EXPECT_EQ((*m)->nq, 7);
}

TEST(MjcfLoadTest, BadMjcfCarriesMujocosMessage) {
  absl::StatusOr<MjModelPtr> m =
      LoadMjcfFromString("<mujoco><worldbody><geom type=\"nosuchtype\"/></worldbody></mujoco>", "SceneX");
  ASSERT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << m.status();
  const std::string msg(m.status().message());
  EXPECT_EQ(msg.rfind("SceneX: MJCF does not load: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("nosuchtype"), std::string::npos) << msg;
}

}  // namespace
}  // namespace mivla::sim
