// File: policy_connection_test.cc
// What the connection checks before and without a server, and its backoff against a minimal in-process
// service (the end-to-end tests in tests/client run it against mivla-server).
#include "client/net/policy_connection.h"

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"

namespace mivla::client {
namespace {

TEST(PolicyConnectionTest, BadOptionsNameTheProblem) {
  ConnectionOptions o;
  o.target = "";
  EXPECT_EQ(PolicyConnection::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.target = "localhost";
  absl::Status s = PolicyConnection::Create(o).status();
  EXPECT_NE(s.message().find("HOST:PORT"), std::string::npos) << s;
  o.target = "127.0.0.1:1";
  o.backoff.max_ms = 1;
  o.backoff.initial_ms = 10;
  EXPECT_NE(PolicyConnection::Create(o).status().message().find("backoff"), std::string::npos);
}

TEST(PolicyConnectionTest, TlsFilesAreChecked) {
  ConnectionOptions o;
  o.target = "127.0.0.1:1";
  o.tls = true;
  o.root_cert_file = "/nonexistent/ca.pem";
  absl::Status s = PolicyConnection::Create(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/nonexistent/ca.pem"), std::string::npos);
  const std::string not_pem = ::testing::TempDir() + "/not_pem.txt";
  std::ofstream(not_pem) << "hello";
  o.root_cert_file = not_pem;
  s = PolicyConnection::Create(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not a PEM"), std::string::npos);
  o.root_cert_file.clear();
  o.client_cert_file = not_pem;  // without a key
  EXPECT_NE(PolicyConnection::Create(o).status().message().find("client key"), std::string::npos);
}

// Answers StartSession only.
class StartOnly final : public mivla::v1::PolicyService::Service {
  grpc::Status StartSession(grpc::ServerContext*, const mivla::v1::StartSessionRequest*,
                            mivla::v1::StartSessionResponse* resp) override {
    resp->set_session_id("s1");
    return grpc::Status::OK;
  }
};

TEST(PolicyConnectionTest, AStartedSessionResetsTheBackoff) {
  // Retries while the server came up grew the delay to its cap; once StartSession succeeds, the first
  // loss afterwards waits the initial delay again, not the cap.
  StartOnly service;
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = b.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ConnectionOptions o;
  o.target = "127.0.0.1:" + std::to_string(port);
  o.backoff = {50, 400, 2.0};
  absl::StatusOr<std::unique_ptr<PolicyConnection>> c = PolicyConnection::Create(o);
  ASSERT_TRUE(c.ok()) << c.status();
  for (int i = 0; i < 6; ++i) (*c)->NextBackoffMs();  // six failed tries
  EXPECT_EQ((*c)->NextBackoffMs(), 400);
  ASSERT_TRUE((*c)->StartSession(mivla::v1::StartSessionRequest()).ok());
  EXPECT_EQ((*c)->NextBackoffMs(), 50);
  server->Shutdown();
}

TEST(PolicyConnectionTest, UnreachableServerFailsWithinTheConnectTimeout) {
  ConnectionOptions o;
  o.target = "127.0.0.1:1";  // nothing listens on port 1
  o.connect_timeout_ms = 300;
  absl::StatusOr<std::unique_ptr<PolicyConnection>> c = PolicyConnection::Create(o);
  ASSERT_TRUE(c.ok()) << c.status();
  const auto t0 = std::chrono::steady_clock::now();
  absl::Status s = (*c)->StartSession(mivla::v1::StartSessionRequest()).status();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_LT(secs, 2.0);
  EXPECT_FALSE((*c)->ChannelReady());
  EXPECT_EQ((*c)->ObserveAndAct(mivla::v1::ObserveRequest(), 0).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE((*c)->Reconnect().ok());
  EXPECT_EQ((*c)->reconnects(), 0);
}

}  // namespace
}  // namespace mivla::client
