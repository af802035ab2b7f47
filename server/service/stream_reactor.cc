// PolicyService::StreamAct: a bidirectional stream handled one request at a time, so responses come in
// request order. Each request is parsed here (a malformed one ends the stream INVALID_ARGUMENT with a
// message), is an observation (encode stage) and optionally an Act on it (decode stage); a bad request
// ends the stream with its status. Each request takes an in-flight slot of its session, and only a
// successful one refreshes the session's idle clock. With --stream-idle-timeout-s a stream that sends
// nothing for that long is ended DEADLINE_EXCEEDED (stream_idle_watch.h). The reactor deletes itself
// once gRPC is done with it and no engine callback or idle-watch hold is outstanding.
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/service/policy_service.h"
#include "server/service/request_parse.h"

namespace mivla::server {
namespace {

using mivla::v1::StreamActRequest;
using mivla::v1::StreamActResponse;

class StreamReactor : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>, public IdleStream {
 public:
  StreamReactor(PolicyService* service, grpc::CallbackServerContext* ctx)
      : service_(service), ctx_(ctx), watch_(service->parts().stream_watch) {
    state_.rpc = "StreamAct";
    state_.start = absl::Now();
    if (absl::Status s = service_->Admit(*ctx_, &state_); !s.ok()) {
      service_->Close(ctx_, s, &state_);
      End(s);
      return;
    }
    client_ = state_.client;
    if (watch_ != nullptr) watch_->Add(this);
    Read();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return End(absl::OkStatus());  // client half-closed (or cancelled)
    if (watch_ != nullptr) watch_->Touch(this);
    state_ = PolicyService::CallState();
    state_.rpc = "StreamAct";
    state_.start = absl::Now();
    state_.client = client_;
    absl::Status s = ParseRequest(raw_request_, &request_);
    if (s.ok()) s = service_->OpenSession(request_.observation().session_id(), /*take_slot=*/true, &state_);
    if (!s.ok()) {
      service_->Close(ctx_, s, &state_);
      return End(s);
    }
    Hold();
    service_->parts().engine->Observe(state_.session, &request_.observation(), &observe_, CallDeadline(*ctx_),
                                      [this](absl::Status st) {
                                        OnObserved(st);
                                        Release();
                                      });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return End(absl::CancelledError("stream write failed"));
    if (Finished()) return;
    if (watch_ != nullptr) watch_->Touch(this);
    Read();
  }

  void OnDone() override {
    if (watch_ != nullptr) watch_->Remove(this);  // before any lock of ours (lock order: watch, then stream)
    bool last;
    {
      absl::MutexLock lock(&mu_);
      grpc_done_ = true;
      last = outstanding_ == 0;
    }
    if (last) delete this;
  }

  // IdleStream.
  void Hold() override {
    absl::MutexLock lock(&mu_);
    ++outstanding_;
  }
  void Release() override {
    bool last;
    {
      absl::MutexLock lock(&mu_);
      last = --outstanding_ == 0 && grpc_done_;
    }
    if (last) delete this;
  }
  void EndIdle() override {
    End(absl::DeadlineExceededError(absl::StrCat("stream idle for longer than ",
                                                 absl::FormatDuration(watch_->idle_timeout()),
                                                 " (--stream-idle-timeout-s)")));
  }

 private:
  void Read() {
    request_.Clear();
    response_.Clear();
    observe_.Clear();
    raw_request_.Clear();
    StartRead(&raw_request_);
  }

  void OnObserved(absl::Status s) {
    if (!s.ok() || !request_.want_action()) return Respond(s);
    act_request_.set_session_id(state_.session->id());
    act_request_.set_observation_id(observe_.observation_id());
    act_request_.set_seed(request_.seed());
    act_request_.set_deadline_us(request_.deadline_us());
    act_request_.set_inference_delay_steps(request_.inference_delay_steps());
    *act_request_.mutable_committed_steps() = request_.committed_steps();
    Hold();
    service_->parts().engine->Act(state_.session, &act_request_, response_.mutable_action(), CallDeadline(*ctx_),
                                  [this](absl::Status st) {
                                    Respond(st);
                                    Release();
                                  });
  }

  void Respond(absl::Status s) {
    if (s.ok()) {
      response_.set_observation_id(observe_.observation_id());
      *response_.mutable_timing() = observe_.timing();
      s = SerializeResponse(response_, &raw_response_);
    }
    service_->Close(ctx_, s, &state_);
    if (!s.ok()) return End(s);
    if (service_->parts().metrics) {
      service_->parts().metrics->RecordTiming(observe_.timing());
      if (response_.has_action()) service_->parts().metrics->RecordTiming(response_.action().timing());
    }
    if (!Finished()) StartWrite(&raw_response_);  // an idle timeout may have ended the stream meanwhile
  }

  bool Finished() {
    absl::MutexLock lock(&mu_);
    return finished_;
  }

  void End(const absl::Status& s) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    Finish(ToGrpcStatus(s));
  }

  PolicyService* service_;
  grpc::CallbackServerContext* ctx_;
  StreamIdleWatch* watch_;
  std::string client_;
  PolicyService::CallState state_;
  grpc::ByteBuffer raw_request_, raw_response_;
  StreamActRequest request_;
  StreamActResponse response_;
  mivla::v1::ObserveResponse observe_;
  mivla::v1::ActRequest act_request_;
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool grpc_done_ ABSL_GUARDED_BY(mu_) = false;
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* PolicyService::StreamAct(grpc::CallbackServerContext* ctx) {
  return new StreamReactor(this, ctx);
}

}  // namespace mivla::server
