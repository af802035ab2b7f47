#include "core/metrics/metrics_http_server.h"

#include "gtest/gtest.h"
#include "httplib.h"

namespace mivla::metrics {
namespace {

TEST(MetricsHttpServerTest, ServesMetricsAndHealthOnLoopback) {
  Registry registry;
  registry.AddCounter("mivla_hits_total", "Hits.", {}).value()->WithLabels({}).value()->Inc(7);
  MetricsHttpServer::Options options;
  options.bind_address = "127.0.0.1";
  options.registry = &registry;
  auto server = MetricsHttpServer::Create(options);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Start().ok());
  const int port = (*server)->port();
  ASSERT_GT(port, 0);
  EXPECT_EQ((*server)->Start().code(), absl::StatusCode::kFailedPrecondition);

  httplib::Client client("127.0.0.1", port);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(metrics->body, registry.Expose());
  EXPECT_NE(metrics->body.find("mivla_hits_total 7\n"), std::string::npos);

  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  EXPECT_EQ(client.Get("/nope")->status, 404);

  (*server)->Stop();
  (*server)->Stop();  // idempotent
  EXPECT_FALSE(httplib::Client("127.0.0.1", port).Get("/healthz"));
}

TEST(MetricsHttpServerTest, BusyPortAndBadOptionsAreErrors) {
  Registry registry;
  MetricsHttpServer::Options options;
  EXPECT_EQ(MetricsHttpServer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.registry = &registry;
  options.port = 70000;
  EXPECT_EQ(MetricsHttpServer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);

  options.port = 0;
  options.bind_address = "127.0.0.1";
  auto first = MetricsHttpServer::Create(options).value();
  ASSERT_TRUE(first->Start().ok());
  options.port = first->port();
  auto second = MetricsHttpServer::Create(options).value();
  EXPECT_EQ(second->Start().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace mivla::metrics
