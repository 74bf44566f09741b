#include "delivery/ssrf_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace ulak::delivery {
namespace {

using Bytes = std::array<uint8_t, 16>;

Bytes MapV4(const uint8_t v4[4]) {
  Bytes b{};
  b[10] = b[11] = 0xff;
  std::memcpy(b.data() + 12, v4, 4);
  return b;
}

bool InNetwork(const Bytes& a, const Network& n) {
  int bits = n.prefix_bits;
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (n.address[i] & mask)) return false;
  }
  return true;
}

struct Blocked {
  const char* cidr;
  const char* kind;
};

// Networks no delivery may reach unless allowed: every range RFC 6890 (and its updates:
// RFC 8190, 8215, 9602, 9637) does not mark global, plus multicast. IPv4 ranges are matched
// in their IPv4-mapped form, which also catches ::ffff:10.0.0.1 written as IPv6. IPv6 forms
// that embed an IPv4 address are blocked whole (IPv4-compatible, IPv4-translated, Teredo,
// NAT64), except 6to4, whose embedded address is judged by this same table (Check).
constexpr Blocked kBlocked[] = {
    {"0.0.0.0/8", "unspecified"},       {"10.0.0.0/8", "private"},
    {"100.64.0.0/10", "CGNAT"},         {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"},   {"172.16.0.0/12", "private"},
    {"192.0.0.0/24", "IETF protocol"},  {"192.0.2.0/24", "documentation"},
    {"192.88.99.0/24", "6to4 relay"},   {"192.168.0.0/16", "private"},
    {"198.18.0.0/15", "benchmarking"},  {"198.51.100.0/24", "documentation"},
    {"203.0.113.0/24", "documentation"}, {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"},        {"::/128", "unspecified"},
    {"::1/128", "loopback"},            {"::/96", "IPv4-compatible"},
    {"::ffff:0:0:0/96", "IPv4-translated"}, {"64:ff9b::/96", "NAT64"},
    {"64:ff9b:1::/48", "NAT64"},        {"100::/64", "discard-only"},
    {"2001::/32", "Teredo"},            {"2001:2::/48", "benchmarking"},
    {"2001:10::/28", "ORCHID"},         {"2001:db8::/32", "documentation"},
    {"3fff::/20", "documentation"},     {"5f00::/16", "SRv6"},
    {"fc00::/7", "unique local"},       {"fe80::/10", "link-local"},
    {"fec0::/10", "site-local"},        {"ff00::/8", "multicast"},
};

const std::vector<std::pair<Network, const char*>>& BlockedNetworks() {
  static const std::vector<std::pair<Network, const char*>> kNetworks = [] {
    std::vector<std::pair<Network, const char*>> out;
    for (const Blocked& b : kBlocked) out.emplace_back(ParseNetwork(b.cidr).value(), b.kind);
    return out;
  }();
  return kNetworks;
}

}  // namespace

Result<Network> ParseNetwork(std::string_view cidr) {
  const size_t slash = cidr.find('/');
  const std::string host(cidr.substr(0, slash));
  Network n;
  int max_bits = 128;
  uint8_t v4[4];
  in6_addr v6{};
  if (inet_pton(AF_INET, host.c_str(), v4) == 1) {
    n.address = MapV4(v4);
    max_bits = 32;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    std::memcpy(n.address.data(), &v6, 16);
  } else {
    return InvalidArgument("'" + std::string(cidr) + "' is not an IP network such as 10.0.0.0/8");
  }
  int bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view b = cidr.substr(slash + 1);
    const auto [end, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
    if (ec != std::errc() || end != b.data() + b.size() || bits < 0 || bits > max_bits) {
      return InvalidArgument("'" + std::string(cidr) + "' has a bad prefix length");
    }
  }
  n.prefix_bits = max_bits == 32 ? bits + 96 : bits;
  return n;
}

std::string SsrfGuard::Check(const struct sockaddr* addr, socklen_t len) const {
  Bytes a{};
  char text[INET6_ADDRSTRLEN] = "?";
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    a = MapV4(reinterpret_cast<const uint8_t*>(&in->sin_addr));
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
  } else if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    std::memcpy(a.data(), &in6->sin6_addr, 16);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
  } else {
    return "blocked: only IPv4 and IPv6 destinations are allowed";
  }
  for (const Network& n : allowed_) {
    if (InNetwork(a, n)) return "";
  }
  for (const auto& [network, kind] : BlockedNetworks()) {
    if (InNetwork(a, network)) return std::string("blocked: ") + text + " is a private address (" + kind + ")";
  }
  // 6to4 (2002::/16) carries an IPv4 address in bits 16..47 and reaches it through a relay:
  // judged as that address.
  if (a[0] == 0x20 && a[1] == 0x02) {
    const Bytes embedded = MapV4(a.data() + 2);
    for (const auto& [network, kind] : BlockedNetworks()) {
      if (InNetwork(embedded, network)) {
        char v4[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, a.data() + 2, v4, sizeof v4);
        return std::string("blocked: ") + text + " is a private address (6to4 of " + v4 + ", " + kind + ")";
      }
    }
  }
  return "";
}

}  // namespace ulak::delivery
