// File: service_test_util.h
// Integration-test fixture: an in-process PolicyServer on loopback (free ports) and blocking gRPC
// stubs talking to it over a real socket, plus a raw grpc.health.v1.Health/Check client and the count
// of answered Acts. The server runs the fake runtime (server/runtime_api/fake_policy_runtime.h) unless a
// test sets another ServerOptions::runtime_loader (the hot-reload test uses the LibTorch one).
#ifndef MIVLA_SERVER_SERVICE_SERVICE_TEST_UTIL_H_
#define MIVLA_SERVER_SERVICE_SERVICE_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "mivla/v1/policy.grpc.pb.h"
#include "server/runtime_api/fake_policy_runtime.h"
#include "server/service/policy_server.h"

namespace mivla::server::testing {

/// The fake runtime the loopback server uses by default: tiny-model shapes, 1 ms per encode batch and
/// 2 ms per decode batch.
FakeRuntimeOptions LoopbackFake();
/// Options for a quiet random-init "tiny" server on 127.0.0.1:0 with metrics on a free port, running
/// the fake runtime `fake`.
ServerOptions LoopbackOptions(FakeRuntimeOptions fake = LoopbackFake());

struct LoopbackServer {
  std::unique_ptr<PolicyServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<mivla::v1::PolicyService::Stub> stub;
};
absl::StatusOr<LoopbackServer> StartLoopback(ServerOptions options);

/// How many Acts `server` has answered OK (mivla_requests_total in its metrics text).
int64_t ActsAnswered(const PolicyServer& server);

/// Health status of `service` ("" = the whole server): 1 SERVING, 2 NOT_SERVING, -1 call failed.
int HealthStatus(grpc::Channel* channel, const std::string& service);

}  // namespace mivla::server::testing

#endif  // MIVLA_SERVER_SERVICE_SERVICE_TEST_UTIL_H_
