#include "server/service/in_flight_limiter.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace mivla::server {
namespace {

TEST(InFlightLimiterTest, PerSessionAndPerClientCapsRefuseAtOnce) {
  InFlightLimiter::Options o;
  o.per_session = 2;
  o.per_client = 3;
  InFlightLimiter l(o);
  auto a1 = l.Acquire("a", "token#1");
  auto a2 = l.Acquire("a", "token#1");
  ASSERT_TRUE(a1.ok() && a2.ok());
  absl::Status s = l.Acquire("a", "token#1").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("--max-in-flight-per-session"), std::string::npos);
  EXPECT_NE(s.message().find("retry in 50 ms"), std::string::npos);
  auto b1 = l.Acquire("b", "token#1");
  ASSERT_TRUE(b1.ok());
  s = l.Acquire("b", "token#1").status();  // the client's third slot is taken
  EXPECT_NE(s.message().find("--max-in-flight-per-client"), std::string::npos);
  EXPECT_TRUE(l.Acquire("c", "token#2").ok());  // another client is unaffected
  EXPECT_TRUE(l.Acquire("c", "").ok());         // no client: only the session cap
  EXPECT_EQ(l.InFlight("a"), 2);
  a1->Release();
  EXPECT_EQ(l.InFlight("a"), 1);
  EXPECT_TRUE(l.Acquire("b", "token#1").ok());  // a freed client slot
  { InFlightLimiter::Ticket moved = *std::move(a2); }
  EXPECT_EQ(l.InFlight("a"), 0);
}

TEST(InFlightLimiterTest, ConcurrentAcquireReleaseBalances) {
  InFlightLimiter l({});
  std::vector<std::thread> ts;
  for (int i = 0; i < 8; ++i) {
    ts.emplace_back([&] {
      for (int k = 0; k < 2000; ++k) {
        auto t = l.Acquire("s", "c");
        if (t.ok()) t->Release();
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(l.InFlight("s"), 0);
}

}  // namespace
}  // namespace mivla::server
