// Checks the wire contract's invariants that other code relies on.
#include "gtest/gtest.h"
#include "core/action/action_space.h"
#include "mivla/v1/policy.grpc.pb.h"
#include "mivla/v1/policy.pb.h"

namespace mivla {
namespace {

TEST(PolicyProtoTest, EmbodimentEnumMatchesModelIndices) {
  using action::Embodiment;
  EXPECT_EQ(v1::HUMAN, static_cast<int>(Embodiment::kHuman) + 1);
  EXPECT_EQ(v1::ALOHA_AGILEX, static_cast<int>(Embodiment::kAlohaAgilex) + 1);
  EXPECT_EQ(v1::PIPER, static_cast<int>(Embodiment::kPiper) + 1);
  EXPECT_EQ(v1::ARX5, static_cast<int>(Embodiment::kArx5) + 1);
  EXPECT_EQ(v1::LOCOMAN, static_cast<int>(Embodiment::kLocoman) + 1);
  for (Embodiment e : action::kAllEmbodiments) {
    EXPECT_EQ(v1::Embodiment_Name(static_cast<v1::Embodiment>(static_cast<int>(e) + 1)),
              action::EmbodimentName(e));
  }
}

TEST(PolicyProtoTest, ActResponseRoundTripsThroughBytes) {
  v1::ActResponse r;
  r.set_model_version("v3");
  auto* chunk = r.mutable_chunk();
  chunk->set_embodiment(v1::PIPER);
  chunk->set_control_period_s(0.02);
  for (int i = 0; i < action::kActionDim; ++i) chunk->add_valid_mask(i >= 55 && i < 62);
  for (int h = 0; h < 16; ++h) {
    auto* step = chunk->add_steps();
    step->set_timestamp_us(1000 + h * 20000);
    for (int j = 0; j < 6; ++j) step->mutable_right()->add_joint_positions(0.1 * j);
    step->mutable_right()->set_gripper(0.035);
    step->mutable_right()->mutable_end_effector()->set_qw(1.0);
  }
  r.mutable_timing()->set_decode_us(1234);
  std::string bytes;
  ASSERT_TRUE(r.SerializeToString(&bytes));
  v1::ActResponse back;
  ASSERT_TRUE(back.ParseFromString(bytes));
  EXPECT_EQ(back.chunk().steps_size(), 16);
  EXPECT_EQ(back.chunk().steps(15).timestamp_us(), 1000 + 15 * 20000);
  EXPECT_DOUBLE_EQ(back.chunk().steps(3).right().joint_positions(5), 0.5);
  EXPECT_EQ(back.chunk().valid_mask_size(), action::kActionDim);
  EXPECT_EQ(back.timing().decode_us(), 1234);
}

TEST(PolicyProtoTest, ServiceHasTheContractRpcs) {
  const auto* svc = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("mivla.v1.PolicyService");
  ASSERT_NE(svc, nullptr);
  for (const char* m : {"StartSession", "EndSession", "Observe", "Act", "StreamAct", "GetPolicyInfo",
                        "ReportEpisode"}) {
    EXPECT_NE(svc->FindMethodByName(m), nullptr) << m;
  }
  const auto* stream = svc->FindMethodByName("StreamAct");
  EXPECT_TRUE(stream->client_streaming());
  EXPECT_TRUE(stream->server_streaming());
}

}  // namespace
}  // namespace mivla
