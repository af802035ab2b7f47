#include "server/service/metrics_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::server {
namespace {

using ::testing::HasSubstr;

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// One GET; returns the whole response ("" on failure).
std::string Get(int port, const std::string& path) {
  const int fd = Connect(port);
  if (fd < 0) return "";
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)!send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

class MetricsEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = registry_.AddCounter("mivla_test_total", "A test counter.", {});
    ASSERT_TRUE(c.ok());
  }
  std::unique_ptr<MetricsEndpoint> Start(MetricsEndpoint::Options o) {
    o.registry = &registry_;
    auto ep = MetricsEndpoint::Start(o);
    EXPECT_TRUE(ep.ok()) << ep.status();
    return ep.ok() ? *std::move(ep) : nullptr;
  }
  metrics::Registry registry_;
};

TEST_F(MetricsEndpointTest, ServesMetricsAndHealth) {
  MetricsEndpoint::Options o;
  o.bind_address = "127.0.0.1";
  auto ep = Start(o);
  ASSERT_NE(ep, nullptr);
  const std::string r = Get(ep->port(), "/metrics");
  EXPECT_THAT(r, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(r, HasSubstr("Content-Type: text/plain; version=0.0.4; charset=utf-8"));
  EXPECT_THAT(r, HasSubstr("mivla_test_total"));
  EXPECT_THAT(Get(ep->port(), "/healthz"), HasSubstr("ok"));
  EXPECT_THAT(Get(ep->port(), "/nope"), HasSubstr("404"));
}

TEST_F(MetricsEndpointTest, SlowClientsDribblingHeadersDoNotBlockScrapes) {
  MetricsEndpoint::Options o;
  o.bind_address = "127.0.0.1";
  o.deadline = absl::Milliseconds(800);
  auto ep = Start(o);
  ASSERT_NE(ep, nullptr);
  // Eight clients dribble one header byte every 100 ms, forever.
  std::atomic<bool> stop{false};
  std::atomic<int> cut{0};
  std::vector<std::thread> slow;
  for (int i = 0; i < 8; ++i) {
    slow.emplace_back([&] {
      const int fd = Connect(ep->port());
      ASSERT_GE(fd, 0);
      const std::string head = "GET /metrics HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
      for (size_t k = 0; !stop.load(); k = (k + 1) % head.size()) {
        if (send(fd, head.data() + k, 1, MSG_NOSIGNAL) <= 0) {
          ++cut;  // the server closed it
          break;
        }
        absl::SleepFor(absl::Milliseconds(100));
      }
      close(fd);
    });
  }
  absl::SleepFor(absl::Milliseconds(200));
  // Scrapes meanwhile succeed, each quickly.
  for (int i = 0; i < 5; ++i) {
    const absl::Time t0 = absl::Now();
    EXPECT_THAT(Get(ep->port(), "/metrics"), HasSubstr("200 OK"));
    EXPECT_LT(absl::Now() - t0, absl::Seconds(2));
    absl::SleepFor(absl::Milliseconds(100));
  }
  absl::SleepFor(absl::Milliseconds(1500));  // past the deadline: every slow client has been cut off
  stop.store(true);
  for (auto& t : slow) t.join();
  EXPECT_EQ(cut.load(), 8);
  EXPECT_GE(ep->cut_off(), 8);
}

TEST_F(MetricsEndpointTest, ConnectionCapEvictsTheOldestSoAScrapeGetsIn) {
  MetricsEndpoint::Options o;
  o.bind_address = "127.0.0.1";
  o.max_connections = 4;
  o.deadline = absl::Seconds(30);
  auto ep = Start(o);
  ASSERT_NE(ep, nullptr);
  std::vector<int> idle;
  for (int i = 0; i < 20; ++i) idle.push_back(Connect(ep->port()));  // connect and say nothing
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_THAT(Get(ep->port(), "/metrics"), HasSubstr("200 OK"));
  EXPECT_GE(ep->cut_off(), 16);
  for (int fd : idle) close(fd);
  // Oversized request heads are refused.
  const int fd = Connect(ep->port());
  std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a');
  (void)!send(fd, big.data(), big.size(), MSG_NOSIGNAL);
  char buf[256] = {};
  ASSERT_GT(recv(fd, buf, sizeof(buf) - 1, 0), 0);
  EXPECT_THAT(std::string(buf), HasSubstr("431"));
  close(fd);
}

TEST_F(MetricsEndpointTest, BindAddressIsChecked) {
  metrics::Registry r;
  MetricsEndpoint::Options o;
  o.registry = &r;
  o.bind_address = "not-an-address";
  auto ep = MetricsEndpoint::Start(o);
  EXPECT_EQ(ep.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ep.status().message(), HasSubstr("--metrics-address: 'not-an-address'"));
  o.bind_address = "::1";
  ep = MetricsEndpoint::Start(o);
  if (ep.ok()) {
    EXPECT_GT((*ep)->port(), 0);
  } else {  // hosts without IPv6 loopback fail to bind
    EXPECT_EQ(ep.status().code(), absl::StatusCode::kUnavailable);
  }
}

}  // namespace
}  // namespace mivla::server
