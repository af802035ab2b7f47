#include "server/service/service_test_util.h"

#include <grpcpp/generic/generic_stub.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "core/util/log.h"

namespace mivla::server::testing {

FakeRuntimeOptions LoopbackFake() {
  FakeRuntimeOptions f;
  f.encode_latency = absl::Milliseconds(1);
  f.decode_latency = absl::Milliseconds(2);
  return f;
}

ServerOptions LoopbackOptions(FakeRuntimeOptions fake) {
  SetLogQuiet(true);
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.metrics_port = 0;
  o.metrics_host = "127.0.0.1";
  o.random_init = true;
  o.config = "tiny";
  o.runtime_loader = std::make_shared<FakeRuntimeLoader>(std::move(fake));
  o.encode.max_batch_size = 8;
  o.decode.max_batch_size = 8;
  o.poll_interval = absl::Milliseconds(100);
  o.settle_time = absl::ZeroDuration();
  return o;
}

absl::StatusOr<LoopbackServer> StartLoopback(ServerOptions options) {
  LoopbackServer s;
  auto server = PolicyServer::Create(std::move(options));
  if (!server.ok()) return server.status();
  s.server = *std::move(server);
  if (absl::Status st = s.server->Start(); !st.ok()) return st;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  s.channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", s.server->port()),
                                        grpc::InsecureChannelCredentials(), args);
  s.stub = mivla::v1::PolicyService::NewStub(s.channel);
  return s;
}

int64_t ActsAnswered(const PolicyServer& server) {
  const std::string text = server.registry().Expose();
  const std::string key = "mivla_requests_total{rpc=\"Act\",code=\"OK\"} ";
  const size_t at = text.find(key);
  return at == std::string::npos ? 0 : std::stoll(text.substr(at + key.size()));
}

int HealthStatus(grpc::Channel* channel, const std::string& service) {
  // HealthCheckRequest { string service = 1; } ; HealthCheckResponse { ServingStatus status = 1; }
  std::string req;
  if (!service.empty()) {
    req.push_back(0x0a);
    req.push_back(static_cast<char>(service.size()));
    req += service;
  }
  grpc::Slice slice(req);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::GenericStub stub(channel->shared_from_this());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = s;
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  if (bytes.empty()) return 0;  // UNKNOWN (the default value is not encoded)
  if (bytes.size() < 2 || bytes[0] != 0x08) return -1;
  return bytes[1];
}

}  // namespace mivla::server::testing
