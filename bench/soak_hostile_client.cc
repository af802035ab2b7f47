#include "bench/soak_hostile_client.h"

#include <grpcpp/generic/generic_stub.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "bench/server_bench_load.h"
#include "server/inference/hostile_images.h"
#include "server/inference/test_requests.h"

namespace mivla::bench {

using action::Embodiment;
namespace t = ::mivla::server::testing;

const HostileClient::Case HostileClient::kCases[] = {
    &HostileClient::JpegBomb,      &HostileClient::PngBomb,     &HostileClient::HugeJoint,
    &HostileClient::Int64Time,     &HostileClient::BadStart,    &HostileClient::NotUtf8,
    &HostileClient::HugeSessionId, &HostileClient::NewTaskName, &HostileClient::FloodObserves,
    &HostileClient::TakeSessions,  &HostileClient::WellFormed,
};

HostileClient::HostileClient(int port, std::string token)
    : token_(std::move(token)),
      channel_(RobotChannel(port)),
      stub_(mivla::v1::PolicyService::NewStub(channel_)),
      png_bomb_(t::ZeroPng(30000, 30000)),
      jpeg_bomb_(t::JpegClaiming(30000, 30000)) {}

void HostileClient::Run(const std::atomic<bool>& stop, const std::function<void()>& after_first_round) {
  Round round;
  round.session_id = Start(t::StartRequest(Embodiment::kPiper));
  for (; !stop.load(); ++round.index) {
    for (size_t c = 0; c < std::size(kCases) && !stop.load(); ++c) {
      (this->*kCases[c])(round, t::ObserveFor(Embodiment::kPiper, round.session_id, 1 + round.index % 4));
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (round.index == 0) after_first_round();
  }
}

nlohmann::json HostileClient::Counts() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [code, n] : codes_) j[code] = n;
  return j;
}

void HostileClient::Prepare(grpc::ClientContext* ctx) const {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!token_.empty()) ctx->AddMetadata("authorization", "Bearer " + token_);
}

void HostileClient::Count(const grpc::Status& s) {
  ++calls_;
  ++codes_[absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code()))];
}

template <typename F>
grpc::Status HostileClient::Call(F f) {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  grpc::Status s = f(&ctx);
  Count(s);
  return s;
}

std::string HostileClient::Start(const mivla::v1::StartSessionRequest& r) {
  mivla::v1::StartSessionResponse resp;
  Call([&](grpc::ClientContext* ctx) { return stub_->StartSession(ctx, r, &resp); });
  return resp.session_id();
}

grpc::Status HostileClient::Observe(const mivla::v1::ObserveRequest& r) {
  mivla::v1::ObserveResponse resp;
  return Call([&](grpc::ClientContext* ctx) { return stub_->Observe(ctx, r, &resp); });
}

void HostileClient::JpegBomb(const Round&, mivla::v1::ObserveRequest o) {
  o.mutable_images(0)->set_data(jpeg_bomb_);
  Observe(o);
}

void HostileClient::PngBomb(const Round&, mivla::v1::ObserveRequest o) {
  o.mutable_images(1)->set_encoding(mivla::v1::PNG);
  o.mutable_images(1)->set_data(png_bomb_);
  Observe(o);
}

void HostileClient::HugeJoint(const Round&, mivla::v1::ObserveRequest o) {
  o.mutable_proprioception()->mutable_right()->set_joint_positions(0, 1e300);
  Observe(o);
}

void HostileClient::Int64Time(const Round&, mivla::v1::ObserveRequest o) {
  o.set_timestamp_us(std::numeric_limits<int64_t>::max() - 10);
  Observe(o);
}

void HostileClient::BadStart(const Round&, mivla::v1::ObserveRequest) {
  mivla::v1::StartSessionRequest s = t::StartRequest(Embodiment::kPiper);
  s.set_control_rate_hz(1e-300);
  Start(s);
  s.set_control_rate_hz(0);
  s.set_robot_id(std::string(15 << 20, 'r'));
  Start(s);
}

void HostileClient::NotUtf8(const Round&, mivla::v1::ObserveRequest) {
  // StartSessionRequest with field 5 (robot_id) = 0xFF 0xFE: bytes no generated stub would send.
  grpc::Slice slice(std::string("\x2a\x02\xff\xfe", 4));
  grpc::ByteBuffer req(&slice, 1), resp;
  grpc::GenericStub generic(channel_);
  Call([&](grpc::ClientContext* ctx) {
    absl::Notification done;
    grpc::Status st;
    generic.UnaryCall(ctx, "/mivla.v1.PolicyService/StartSession", grpc::StubOptions(), &req, &resp,
                      [&](grpc::Status s) {
                        st = s;
                        done.Notify();
                      });
    done.WaitForNotification();
    return st;
  });
}

void HostileClient::HugeSessionId(const Round&, mivla::v1::ObserveRequest o) {
  o.set_session_id(std::string(1 << 20, 'x'));
  Observe(o);
}

void HostileClient::NewTaskName(const Round& r, mivla::v1::ObserveRequest) {
  mivla::v1::ReportEpisodeRequest rep;
  rep.set_session_id(r.session_id);
  rep.set_task(absl::StrCat("hostile_task_", r.index));
  rep.set_completeness(0.5);
  mivla::v1::ReportEpisodeResponse resp;
  Call([&](grpc::ClientContext* ctx) { return stub_->ReportEpisode(ctx, rep, &resp); });
}

void HostileClient::FloodObserves(const Round&, mivla::v1::ObserveRequest o) {
  struct One {
    grpc::ClientContext ctx;
    mivla::v1::ObserveResponse resp;
    grpc::Status status;
  };
  constexpr int kInFlight = 64;
  std::vector<std::unique_ptr<One>> calls;
  std::atomic<int> left{kInFlight};
  absl::Notification done;
  for (int i = 0; i < kInFlight; ++i) {
    calls.push_back(std::make_unique<One>());
    One* one = calls.back().get();
    Prepare(&one->ctx);
    stub_->async()->Observe(&one->ctx, &o, &one->resp, [one, &left, &done](grpc::Status s) {
      one->status = s;
      if (--left == 0) done.Notify();
    });
  }
  done.WaitForNotification();
  for (const auto& one : calls) Count(one->status);
}

void HostileClient::TakeSessions(const Round&, mivla::v1::ObserveRequest) {
  std::vector<std::string> taken;
  for (int i = 0; i < 300; ++i) {
    std::string s = Start(t::StartRequest(Embodiment::kArx5));
    if (s.empty()) break;
    taken.push_back(s);
  }
  most_sessions_taken_ = std::max<int64_t>(most_sessions_taken_, static_cast<int64_t>(taken.size()));
  for (const std::string& s : taken) {
    mivla::v1::EndSessionRequest end;
    end.set_session_id(s);
    mivla::v1::EndSessionResponse resp;
    Call([&](grpc::ClientContext* ctx) { return stub_->EndSession(ctx, end, &resp); });
  }
}

void HostileClient::WellFormed(const Round&, mivla::v1::ObserveRequest o) { Observe(o); }

}  // namespace mivla::bench
