// File: soak_hostile_client.h
// The soak benchmark's hostile client (issue 11, `mivla-bench-server --soak`): one client with its own
// channel and bearer token that cycles through the bad inputs against a running server until
// told to stop, counting the answers by status code. Each round sends every case once, 10 ms apart:
//   JpegBomb          an Observe whose JPEG claims 30000 x 30000
//   PngBomb           an Observe with a 2.7 MB PNG of 30000 x 30000 zeros
//   HugeJoint         joint positions of 1e300
//   Int64Time         an observation time near the int64 limit
//   BadStart          StartSession with control_rate_hz 1e-300, then one with a 15 MB robot_id
//   NotUtf8           StartSession whose robot_id is the bytes 0xFF 0xFE (hand-encoded, past the stub)
//   HugeSessionId     an Observe naming a 1 MB session id
//   NewTaskName       ReportEpisode with a new task name every round
//   FloodObserves     64 Observes in flight on one session
//   TakeSessions      StartSession until refused, then EndSession for each
//   WellFormed        a well-formed Observe on its own session
// Thread safety: one thread runs Run; the counters are read after it returns.
#ifndef MIVLA_BENCH_SOAK_HOSTILE_CLIENT_H_
#define MIVLA_BENCH_SOAK_HOSTILE_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "mivla/v1/policy.grpc.pb.h"
#include "nlohmann/json.hpp"

namespace mivla::bench {

class HostileClient {
 public:
  /// A client of the server on localhost:`port`; `token` empty: anonymous calls.
  HostileClient(int port, std::string token);

  /// Sends rounds of every case until `stop`; `after_first_round` runs once, when every case has been
  /// sent once.
  void Run(const std::atomic<bool>& stop, const std::function<void()>& after_first_round);

  /// {"OK": n, "INVALID_ARGUMENT": n, ...}: every call's answer by status code.
  nlohmann::json Counts() const;
  int64_t calls() const { return calls_; }
  /// The most sessions one TakeSessions case held at once.
  int64_t most_sessions_taken() const { return most_sessions_taken_; }

 private:
  struct Round {             // what one round's cases share
    std::string session_id;  // the client's own session
    uint64_t index = 0;
  };
  // Every case gets a fresh well-formed observation on the client's session to spoil (or ignore).
  using Case = void (HostileClient::*)(const Round&, mivla::v1::ObserveRequest);
  static const Case kCases[];

  void Prepare(grpc::ClientContext* ctx) const;
  void Count(const grpc::Status& s);
  template <typename F>
  grpc::Status Call(F f);
  std::string Start(const mivla::v1::StartSessionRequest& r);
  grpc::Status Observe(const mivla::v1::ObserveRequest& r);

  void JpegBomb(const Round& r, mivla::v1::ObserveRequest o);
  void PngBomb(const Round& r, mivla::v1::ObserveRequest o);
  void HugeJoint(const Round& r, mivla::v1::ObserveRequest o);
  void Int64Time(const Round& r, mivla::v1::ObserveRequest o);
  void BadStart(const Round& r, mivla::v1::ObserveRequest o);
  void NotUtf8(const Round& r, mivla::v1::ObserveRequest o);
  void HugeSessionId(const Round& r, mivla::v1::ObserveRequest o);
  void NewTaskName(const Round& r, mivla::v1::ObserveRequest o);
  void FloodObserves(const Round& r, mivla::v1::ObserveRequest o);
  void TakeSessions(const Round& r, mivla::v1::ObserveRequest o);
  void WellFormed(const Round& r, mivla::v1::ObserveRequest o);

  const std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<mivla::v1::PolicyService::Stub> stub_;
  std::string png_bomb_, jpeg_bomb_;
  std::map<std::string, int64_t> codes_;
  int64_t calls_ = 0;
  int64_t most_sessions_taken_ = 0;
};

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SOAK_HOSTILE_CLIENT_H_
