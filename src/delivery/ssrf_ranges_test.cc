// Issue 15, defect 2: a table over the SSRF guard with every blocked range and its edges
// (the first and last address inside, and the neighbours just outside), including each IPv6
// form that embeds an IPv4 address.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "delivery/ssrf_guard.h"

namespace ulak::delivery {
namespace {

std::string Check(const std::string& ip) {
  static const SsrfGuard guard({});
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

struct Row {
  const char* ip;
  const char* kind;  // nullptr: allowed (a global address)
};

TEST(SsrfRanges, EveryRangeAndItsEdges) {
  const Row rows[] = {
      // IPv4, RFC 6890 and multicast.
      {"0.0.0.0", "unspecified"}, {"0.255.255.255", "unspecified"}, {"1.0.0.0", nullptr},
      {"9.255.255.255", nullptr}, {"10.0.0.0", "private"}, {"10.255.255.255", "private"}, {"11.0.0.0", nullptr},
      {"100.63.255.255", nullptr}, {"100.64.0.0", "CGNAT"}, {"100.127.255.255", "CGNAT"}, {"100.128.0.0", nullptr},
      {"126.255.255.255", nullptr}, {"127.0.0.0", "loopback"}, {"127.255.255.255", "loopback"},
      {"128.0.0.0", nullptr}, {"169.253.255.255", nullptr}, {"169.254.0.0", "link-local"},
      {"169.254.169.254", "link-local"}, {"169.254.255.255", "link-local"}, {"169.255.0.0", nullptr},
      {"172.15.255.255", nullptr}, {"172.16.0.0", "private"}, {"172.31.255.255", "private"}, {"172.32.0.0", nullptr},
      {"191.255.255.255", nullptr}, {"192.0.0.0", "IETF protocol"}, {"192.0.0.255", "IETF protocol"},
      {"192.0.1.255", nullptr}, {"192.0.2.0", "documentation"}, {"192.0.2.255", "documentation"},
      {"192.0.3.0", nullptr}, {"192.88.98.255", nullptr}, {"192.88.99.0", "6to4 relay"},
      {"192.88.99.255", "6to4 relay"}, {"192.88.100.0", nullptr}, {"192.167.255.255", nullptr},
      {"192.168.0.0", "private"}, {"192.168.255.255", "private"}, {"192.169.0.0", nullptr},
      {"198.17.255.255", nullptr}, {"198.18.0.0", "benchmarking"}, {"198.19.255.255", "benchmarking"},
      {"198.20.0.0", nullptr}, {"198.51.99.255", nullptr}, {"198.51.100.0", "documentation"},
      {"198.51.100.255", "documentation"}, {"198.51.101.0", nullptr}, {"203.0.112.255", nullptr},
      {"203.0.113.0", "documentation"}, {"203.0.113.255", "documentation"}, {"203.0.114.0", nullptr},
      {"223.255.255.255", nullptr}, {"224.0.0.0", "multicast"}, {"239.255.255.255", "multicast"},
      {"240.0.0.0", "reserved"}, {"255.255.255.255", "reserved"},
      // IPv6.
      {"::", "unspecified"}, {"::1", "loopback"}, {"::2", "IPv4-compatible"},
      {"::127.0.0.1", "IPv4-compatible"}, {"::169.254.169.254", "IPv4-compatible"}, {"::8.8.8.8", "IPv4-compatible"},
      {"::ffff:ffff", "IPv4-compatible"}, {"::1:0:0", nullptr},
      {"::ffff:0.0.0.0", "unspecified"}, {"::ffff:127.0.0.1", "loopback"}, {"::ffff:169.254.169.254", "link-local"},
      {"::ffff:8.8.8.8", nullptr},
      {"::ffff:0:0:0", "IPv4-translated"}, {"::ffff:0:127.0.0.1", "IPv4-translated"},
      {"::ffff:0:ffff:ffff", "IPv4-translated"},
      {"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", nullptr}, {"64:ff9b::", "NAT64"}, {"64:ff9b::7f00:1", "NAT64"},
      {"64:ff9b::ffff:ffff", "NAT64"}, {"64:ff9b::1:0:0", nullptr}, {"64:ff9b:1::", "NAT64"},
      {"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "NAT64"}, {"64:ff9b:2::", nullptr},
      {"100::", "discard-only"}, {"100::ffff:ffff:ffff:ffff", "discard-only"}, {"100:0:0:1::", nullptr},
      {"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nullptr}, {"2001::", "Teredo"},
      {"2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"}, {"2001:0:ffff:ffff:ffff:ffff:ffff:ffff", "Teredo"},
      {"2001:1::1", nullptr}, {"2001:2::", "benchmarking"}, {"2001:2:0:ffff:ffff:ffff:ffff:ffff", "benchmarking"},
      {"2001:2:1::", nullptr}, {"2001:10::", "ORCHID"}, {"2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", "ORCHID"},
      {"2001:20::1", nullptr}, {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", nullptr}, {"2001:db8::", "documentation"},
      {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "documentation"}, {"2001:db9::", nullptr},
      {"2002:a9fe:a9fe::", "6to4 of 169.254.169.254, link-local"}, {"2002:7f00:1::", "6to4 of 127.0.0.1, loopback"},
      {"2002:0a00:0001::1", "6to4 of 10.0.0.1, private"}, {"2002:c0a8:ffff:ffff:ffff:ffff:ffff:ffff", "6to4 of 192.168.255.255, private"},
      {"2002:0808:0808::1", nullptr}, {"2003::1", nullptr},
      {"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nullptr}, {"3fff::", "documentation"},
      {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", "documentation"}, {"3fff:1000::", nullptr},
      {"5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nullptr}, {"5f00::", "SRv6"},
      {"5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "SRv6"}, {"5f01::", nullptr},
      {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nullptr}, {"fc00::", "unique local"},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "unique local"}, {"fe00::", nullptr},
      {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nullptr}, {"fe80::", "link-local"},
      {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link-local"}, {"fec0::", "site-local"},
      {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "site-local"}, {"ff00::", "multicast"},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "multicast"}, {"2606:4700::1111", nullptr},
  };
  for (const Row& row : rows) {
    const std::string reason = Check(row.ip);
    if (row.kind == nullptr) {
      EXPECT_EQ(reason, "") << row.ip << " is global and must be allowed";
    } else {
      EXPECT_NE(reason.find(std::string("is a private address (") + row.kind + ")"), std::string::npos)
          << row.ip << " must be blocked as " << row.kind << "; got: " << reason;
    }
  }
}

}  // namespace
}  // namespace ulak::delivery
