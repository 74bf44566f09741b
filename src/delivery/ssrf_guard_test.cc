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

#include <condition_variable>
#include <mutex>

#include "delivery/http_transport.h"

namespace ulak::delivery {
namespace {

// The guard on the real transport, with names that resolve (via CURLOPT_RESOLVE, no DNS)
// into every blocked range: the check runs on the resolved address, so a friendly name or
// a DNS answer that rebinds to a private address cannot get through.
TEST(SsrfGuard, TransportBlocksNamesResolvingIntoEveryPrivateRange) {
  const std::vector<std::pair<std::string, std::string>> names = {
      {"loopback.test", "127.0.0.1"},      {"ten.test", "10.0.0.1"},          {"172.test", "172.16.5.4"},
      {"192.test", "192.168.0.10"},        {"metadata.test", "169.254.169.254"}, {"cgnat.test", "100.64.1.1"},
      {"zero.test", "0.0.0.0"},            {"multicast.test", "224.0.0.5"},     {"v6loop.test", "[::1]"},
      {"ula.test", "[fd00::1]"},           {"v6link.test", "[fe80::1]"}};
  auto guard = std::make_shared<SsrfGuard>(std::vector<Network>{});
  CurlTransportOptions options;
  options.address_filter = [guard](const sockaddr* a, socklen_t l) { return guard->Check(a, l); };
  for (const auto& [name, address] : names) options.resolve_for_test.push_back(name + ":80:" + address);
  std::unique_ptr<HttpTransport> transport = MakeCurlTransport(options);

  for (const auto& [name, address] : names) {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<TransportResult> result;
    OutgoingRequest request;
    request.url = "http://" + name + "/hook";
    request.body = "{}";
    request.timeout = std::chrono::seconds(5);
    transport->Send(std::move(request), [&](TransportResult&& r) {
      std::lock_guard lock(mu);
      result = std::move(r);
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return result.has_value(); })) << name;
    EXPECT_EQ(result->error, TransportError::kBlocked) << name << ": " << result->error_message;
    std::string bare = address;
    if (bare.front() == '[') bare = bare.substr(1, bare.size() - 2);
    EXPECT_EQ(result->error_message.rfind("blocked: " + bare + " is a private address", 0), 0u)
        << name << ": " << result->error_message;
  }
  transport->Stop();
}

}  // namespace
}  // namespace ulak::delivery
