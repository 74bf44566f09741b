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

// Networks no delivery may reach unless allowed. IPv4 ranges are matched in their
// IPv4-mapped form, which also catches ::ffff:10.0.0.1 written as IPv6.
constexpr Blocked kBlocked[] = {
    {"0.0.0.0/8", "unspecified"},       {"10.0.0.0/8", "private"},
    {"100.64.0.0/10", "CGNAT"},         {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"},   {"172.16.0.0/12", "private"},
    {"192.0.0.0/24", "IETF protocol"},  {"192.168.0.0/16", "private"},
    {"198.18.0.0/15", "benchmarking"},  {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"},        {"::/128", "unspecified"},
    {"::1/128", "loopback"},            {"fc00::/7", "unique local"},
    {"fe80::/10", "link-local"},        {"ff00::/8", "multicast"},
    {"64:ff9b::/96", "NAT64"},
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
  return "";
}

}  // namespace ulak::delivery
