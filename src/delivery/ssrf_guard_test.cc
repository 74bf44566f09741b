#include "delivery/ssrf_guard.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace ulak::delivery {
namespace {

std::string CheckAddress(const SsrfGuard& guard, const std::string& ip) {
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET, ip.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return guard.Check(reinterpret_cast<sockaddr*>(&v4), sizeof v4);
  }
  EXPECT_EQ(inet_pton(AF_INET6, ip.c_str(), &v6.sin6_addr), 1) << ip;
  v6.sin6_family = AF_INET6;
  return guard.Check(reinterpret_cast<sockaddr*>(&v6), sizeof v6);
}

TEST(SsrfGuard, BlocksEveryPrivateRange) {
  SsrfGuard guard({});
  for (const char* ip : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                         "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "::", "fc00::1", "fd12::1", "fe80::1",
                         "ff02::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1"}) {
    const std::string reason = CheckAddress(guard, ip);
    EXPECT_EQ(reason.rfind("blocked: ", 0), 0u) << ip;
    EXPECT_NE(reason.find("is a private address"), std::string::npos) << ip;
  }
  EXPECT_EQ(CheckAddress(guard, "169.254.169.254"), "blocked: 169.254.169.254 is a private address (link-local)");
}

TEST(SsrfGuard, AllowsPublicAddresses) {
  SsrfGuard guard({});
  for (const char* ip : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"}) {
    EXPECT_EQ(CheckAddress(guard, ip), "") << ip;
  }
}

TEST(SsrfGuard, AllowedNetworksOverrideTheBlockList) {
  SsrfGuard guard({ParseNetwork("127.0.0.0/8").value(), ParseNetwork("10.1.0.0/16").value()});
  EXPECT_EQ(CheckAddress(guard, "127.0.0.1"), "");
  EXPECT_EQ(CheckAddress(guard, "10.1.200.1"), "");
  EXPECT_NE(CheckAddress(guard, "10.2.0.1"), "");
  EXPECT_NE(CheckAddress(guard, "::1"), "");
}

TEST(SsrfGuard, ParsesNetworks) {
  EXPECT_TRUE(ParseNetwork("192.168.0.0/16").ok());
  EXPECT_TRUE(ParseNetwork("::1").ok());
  EXPECT_FALSE(ParseNetwork("192.168.0.0/33").ok());
  EXPECT_FALSE(ParseNetwork("not-a-network").ok());
}

}  // namespace
}  // namespace ulak::delivery
