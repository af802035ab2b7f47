// PolicyService::StreamAct: a bidirectional stream handled one request at a time, so responses come in
// request order. Each request is parsed here (a malformed one ends the stream INVALID_ARGUMENT with a
// message), is an observation (encode stage) and optionally an Act on it (decode stage); a bad request
// ends the stream with its status. Each request takes an in-flight slot of its session, and only a
// successful one refreshes the session's idle clock. With --stream-idle-timeout-s a stream that sends
// nothing for that long is ended DEADLINE_EXCEEDED (stream_idle_watch.h); its clock stops while a request
// is in the engine. The reactor deletes itself once gRPC is done with it and no engine callback or
// idle-watch hold is outstanding.
//
// Ending the stream (End) can race the engine's answer: the idle watch ends a stream from its own thread.
// Once Finish is called and no read or write is pending, gRPC runs OnDone and frees the call's context,
// while an engine callback may still be on its way. So `finished_` is read and the next gRPC operation
// (Finish, StartRead, StartWrite) started under `mu_`, and nothing touches `ctx_` once the stream is
// finished: the call's deadline and peer are read at the start. None of those operations runs a reaction
// on the calling thread (gRPC schedules OnReadDone, OnWriteDone and a bidi stream's OnDone), so holding
// `mu_` across them cannot deadlock.
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
      : service_(service),
        ctx_(ctx),
        watch_(service->parts().stream_watch),
        deadline_(CallDeadline(*ctx)),
        peer_(ctx->peer()) {
    state_.rpc = "StreamAct";
    state_.start = absl::Now();
    if (absl::Status s = service_->Admit(*ctx_, &state_); !s.ok()) {
      Fail(s);
      return;
    }
    client_ = state_.client;
    if (watch_ != nullptr) watch_->Add(this);
    Read();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return End(absl::OkStatus());  // client half-closed (or cancelled)
    if (watch_ != nullptr) watch_->Pause(this);  // until the answer: not idle, however long the engine takes
    state_ = PolicyService::CallState();
    state_.rpc = "StreamAct";
    state_.start = absl::Now();
    state_.client = client_;
    state_.peer = peer_;
    absl::Status s = ParseRequest(raw_request_, &request_);
    if (s.ok()) s = service_->OpenSession(request_.observation().session_id(), /*take_slot=*/true, &state_);
    if (!s.ok()) return Fail(s);
    Hold();
    service_->parts().engine->Observe(state_.session, &request_.observation(), &observe_, deadline_,
                                      [this](absl::Status st) {
                                        OnObserved(st);
                                        Release();
                                      });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return End(absl::CancelledError("stream write failed"));
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
  // The next request, unless the stream has ended meanwhile.
  void Read() {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    request_.Clear();
    response_.Clear();
    observe_.Clear();
    raw_request_.Clear();
    StartRead(&raw_request_);
  }

  void OnObserved(absl::Status s) {
    if (!s.ok() || !request_.want_action() || Finished()) return Respond(s);
    act_request_.set_session_id(state_.session->id());
    act_request_.set_observation_id(observe_.observation_id());
    act_request_.set_seed(request_.seed());
    act_request_.set_deadline_us(request_.deadline_us());
    act_request_.set_inference_delay_steps(request_.inference_delay_steps());
    *act_request_.mutable_committed_steps() = request_.committed_steps();
    Hold();
    service_->parts().engine->Act(state_.session, &act_request_, response_.mutable_action(), deadline_,
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
    if (watch_ != nullptr) watch_->Touch(this);  // answered: the idle clock runs again
    absl::MutexLock lock(&mu_);
    // A stream that ended meanwhile (its context may be gone) is only booked: nothing is written.
    service_->Close(finished_ ? nullptr : ctx_, s, &state_);
    if (finished_) return;
    if (!s.ok()) return EndLocked(s);
    if (service_->parts().metrics) {
      service_->parts().metrics->RecordTiming(observe_.timing());
      if (response_.has_action()) service_->parts().metrics->RecordTiming(response_.action().timing());
    }
    StartWrite(&raw_response_);
  }

  // A request refused before it reached the engine: booked, and the stream ends with its status.
  void Fail(const absl::Status& s) {
    absl::MutexLock lock(&mu_);
    service_->Close(finished_ ? nullptr : ctx_, s, &state_);
    EndLocked(s);
  }

  bool Finished() {
    absl::MutexLock lock(&mu_);
    return finished_;
  }

  void End(const absl::Status& s) {
    absl::MutexLock lock(&mu_);
    EndLocked(s);
  }

  void EndLocked(const absl::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    finished_ = true;
    Finish(ToGrpcStatus(s));
  }

  PolicyService* service_;
  grpc::CallbackServerContext* ctx_;  // only while the stream is not finished (see the file's comment)
  StreamIdleWatch* watch_;
  const absl::Time deadline_;  // the call's gRPC deadline
  const std::string peer_;
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
