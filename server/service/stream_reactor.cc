// PolicyService::StreamAct: a bidirectional stream handled one request at a time, so responses come in
// request order. Each request is an observation (encode stage) and optionally an Act on it (decode
// stage); a bad request ends the stream with its status. The reactor deletes itself once gRPC is done
// with it and no engine callback is outstanding.
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/service/policy_service.h"

namespace mivla::server {
namespace {

using mivla::v1::StreamActRequest;
using mivla::v1::StreamActResponse;

class StreamReactor : public grpc::ServerBidiReactor<StreamActRequest, StreamActResponse> {
 public:
  StreamReactor(PolicyService* service, grpc::CallbackServerContext* ctx) : service_(service), ctx_(ctx) {
    if (absl::Status s = service_->Admit(*ctx_); !s.ok()) {
      End(s);
      return;
    }
    Read();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return End(absl::OkStatus());  // client half-closed
    start_ = absl::Now();
    auto session = service_->parts().sessions->Get(request_.observation().session_id());
    if (!session.ok()) {
      service_->Record("StreamAct", session.status(), start_);
      return End(session.status());
    }
    session_ = *std::move(session);
    Hold();
    service_->parts().engine->Observe(session_, &request_.observation(), &observe_, CallDeadline(*ctx_),
                                      [this](absl::Status s) {
                                        OnObserved(s);
                                        Release();
                                      });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return End(absl::CancelledError("stream write failed"));
    Read();
  }

  void OnDone() override {
    bool last;
    {
      absl::MutexLock lock(&mu_);
      grpc_done_ = true;
      last = outstanding_ == 0;
    }
    if (last) delete this;
  }

 private:
  void Read() {
    request_.Clear();
    response_.Clear();
    observe_.Clear();
    StartRead(&request_);
  }

  void OnObserved(absl::Status s) {
    if (!s.ok() || !request_.want_action()) return Respond(s);
    act_request_.set_session_id(session_->id());
    act_request_.set_observation_id(observe_.observation_id());
    act_request_.set_seed(request_.seed());
    Hold();
    service_->parts().engine->Act(session_, &act_request_, response_.mutable_action(), CallDeadline(*ctx_),
                                  [this](absl::Status st) {
                                    Respond(st);
                                    Release();
                                  });
  }

  void Respond(const absl::Status& s) {
    service_->Record("StreamAct", s, start_);
    if (!s.ok()) return End(s);
    response_.set_observation_id(observe_.observation_id());
    *response_.mutable_timing() = observe_.timing();
    if (service_->parts().metrics) {
      service_->parts().metrics->RecordTiming(observe_.timing());
      if (response_.has_action()) service_->parts().metrics->RecordTiming(response_.action().timing());
    }
    StartWrite(&response_);
  }

  void End(const absl::Status& s) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    Finish(ToGrpcStatus(s));
  }

  // An engine callback still to come keeps the reactor alive past OnDone.
  void Hold() {
    absl::MutexLock lock(&mu_);
    ++outstanding_;
  }
  void Release() {
    bool last;
    {
      absl::MutexLock lock(&mu_);
      last = --outstanding_ == 0 && grpc_done_;
    }
    if (last) delete this;
  }

  PolicyService* service_;
  grpc::CallbackServerContext* ctx_;
  std::shared_ptr<Session> session_;
  StreamActRequest request_;
  StreamActResponse response_;
  mivla::v1::ObserveResponse observe_;
  mivla::v1::ActRequest act_request_;
  absl::Time start_;
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool grpc_done_ ABSL_GUARDED_BY(mu_) = false;
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

grpc::ServerBidiReactor<StreamActRequest, StreamActResponse>* PolicyService::StreamAct(grpc::CallbackServerContext* ctx) {
  return new StreamReactor(this, ctx);
}

}  // namespace mivla::server
