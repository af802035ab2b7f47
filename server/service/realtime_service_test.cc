// Real-time chunking through the gRPC service on a loopback socket (fake runtime): GetPolicyInfo offers
// it (and not with --realtime-chunking=false), Act and StreamAct carry committed steps to the decode
// stage (the chunk starts with them), bad fields are INVALID_ARGUMENT naming the field, and /metrics
// counts guided Acts.
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/inference/test_requests.h"
#include "server/service/service_test_util.h"

namespace mivla::server {
namespace {

using action::Embodiment;
using ::testing::HasSubstr;
namespace t = ::mivla::server::testing;

class RealtimeServiceTest : public ::testing::Test {
 protected:
  void Start(bool realtime_chunking) {
    ServerOptions o = t::LoopbackOptions();
    o.realtime_chunking = realtime_chunking;
    auto s = t::StartLoopback(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status();
    s_ = *std::move(s);
    grpc::ClientContext ctx;
    mivla::v1::StartSessionResponse resp;
    ASSERT_TRUE(s_.stub->StartSession(&ctx, t::StartRequest(Embodiment::kPiper), &resp).ok());
    id_ = resp.session_id();
    grpc::ClientContext octx;
    mivla::v1::ObserveResponse o_resp;
    ASSERT_TRUE(s_.stub->Observe(&octx, t::ObserveFor(Embodiment::kPiper, id_, 2), &o_resp).ok());
  }
  grpc::Status Act(const mivla::v1::ActRequest& r, mivla::v1::ActResponse* resp) {
    grpc::ClientContext ctx;
    mivla::v1::ActRequest req = r;
    req.set_session_id(id_);
    return s_.stub->Act(&ctx, req, resp);
  }
  bool Offered() {
    grpc::ClientContext ctx;
    mivla::v1::GetPolicyInfoResponse info;
    EXPECT_TRUE(s_.stub->GetPolicyInfo(&ctx, {}, &info).ok());
    return info.realtime_chunking();
  }
  t::LoopbackServer s_;
  std::string id_;
};

// The first `delay` steps of `chunk` equal `req`'s committed steps on PiPER's slots.
void ExpectStartsWith(const mivla::v1::ActionChunk& chunk, const mivla::v1::ActRequest& req, int delay) {
  const action::ActionMask mask = action::EmbodimentMask(Embodiment::kPiper);
  for (int k = 0; k < delay; ++k) {
    for (int d = 0; d < action::kActionDim; ++d) {
      if (mask.test(d)) {
        EXPECT_FLOAT_EQ(chunk.steps(k).unified(d), req.committed_steps(k).unified(d)) << "step " << k << " slot " << d;
      }
    }
  }
}

TEST_F(RealtimeServiceTest, ActAndStreamActAreGuidedAndCounted) {
  Start(/*realtime_chunking=*/true);
  EXPECT_TRUE(Offered());
  mivla::v1::ActRequest first;
  first.set_seed(4);
  mivla::v1::ActResponse previous;
  ASSERT_TRUE(Act(first, &previous).ok());
  mivla::v1::ActRequest req;
  req.set_seed(5);
  req.set_inference_delay_steps(2);
  for (int k = 3; k < 9; ++k) *req.add_committed_steps() = previous.chunk().steps(k);
  mivla::v1::ActResponse guided;
  grpc::Status st = Act(req, &guided);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ExpectStartsWith(guided.chunk(), req, 2);

  // The stream carries the same fields.
  grpc::ClientContext sctx;
  auto stream = s_.stub->StreamAct(&sctx);
  mivla::v1::StreamActRequest sreq;
  *sreq.mutable_observation() = t::ObserveFor(Embodiment::kPiper, id_, 3);
  sreq.set_want_action(true);
  sreq.set_seed(6);
  sreq.set_inference_delay_steps(2);
  *sreq.mutable_committed_steps() = req.committed_steps();
  ASSERT_TRUE(stream->Write(sreq));
  mivla::v1::StreamActResponse sresp;
  ASSERT_TRUE(stream->Read(&sresp));
  ASSERT_TRUE(sresp.has_action());
  ExpectStartsWith(sresp.action().chunk(), req, 2);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  mivla::v1::ActRequest bad = req;
  bad.mutable_committed_steps(4)->mutable_unified()->Add(1.0f);
  mivla::v1::ActResponse r;
  st = Act(bad, &r);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("committed_steps[4].unified: 77 values"));
  const std::string metrics = s_.server->registry().Expose();
  EXPECT_THAT(metrics, HasSubstr("mivla_realtime_chunking_acts_total 2"));
}

TEST_F(RealtimeServiceTest, SwitchedOffItIsNotOfferedNorCounted) {
  Start(/*realtime_chunking=*/false);
  EXPECT_FALSE(Offered());
  mivla::v1::ActRequest first;
  first.set_seed(4);
  mivla::v1::ActResponse previous, plain;
  ASSERT_TRUE(Act(first, &previous).ok());
  mivla::v1::ActRequest req = first;
  req.set_inference_delay_steps(1);
  for (int k = 3; k < 9; ++k) *req.add_committed_steps() = previous.chunk().steps(k);
  ASSERT_TRUE(Act(req, &plain).ok());
  EXPECT_EQ(plain.chunk().steps(0).unified(55), previous.chunk().steps(0).unified(55)) << "same seed, plain sampling";
  EXPECT_THAT(s_.server->registry().Expose(), HasSubstr("mivla_realtime_chunking_acts_total 0"));
}

}  // namespace
}  // namespace mivla::server
