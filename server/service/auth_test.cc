// File: auth_test.cc
// ClientAddress: gRPC peer strings to the client name used by --clients-by-address.
#include "server/service/auth.h"

#include <gtest/gtest.h>

namespace mivla::server {
namespace {

TEST(ClientAddressTest, DropsThePortAndKeepsTheAddress) {
  EXPECT_EQ(ClientAddress("ipv4:10.0.0.7:5123"), "addr:10.0.0.7");
  EXPECT_EQ(ClientAddress("ipv4:127.0.0.1:1"), "addr:127.0.0.1");
  EXPECT_EQ(ClientAddress("ipv6:[::1]:5123"), "addr:[::1]");
  EXPECT_EQ(ClientAddress("ipv6:%5B::1%5D:5123"), "addr:[::1]");  // newer gRPC escapes the brackets
  EXPECT_EQ(ClientAddress("ipv6:%5Bfe80::1:2%5D:40000"), "addr:[fe80::1:2]");
  EXPECT_EQ(ClientAddress("ipv6:[fe80::1:2]"), "addr:[fe80::1:2]") << "no port: the colons inside stay";
  EXPECT_EQ(ClientAddress("unix:/tmp/mivla.sock"), "addr:unix");
  EXPECT_EQ(ClientAddress("unix-abstract:mivla"), "addr:unix");
  EXPECT_EQ(ClientAddress("vsock:3:50051"), "addr:vsock:3:50051");
  // Two connections from one host are one client; two hosts are two.
  EXPECT_EQ(ClientAddress("ipv4:10.0.0.7:1000"), ClientAddress("ipv4:10.0.0.7:2000"));
  EXPECT_NE(ClientAddress("ipv4:10.0.0.7:1000"), ClientAddress("ipv4:10.0.0.8:1000"));
}

}  // namespace
}  // namespace mivla::server
