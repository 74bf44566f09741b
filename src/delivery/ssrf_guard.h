// SSRF guard: deliveries never connect to loopback, private, link-local (incl. the cloud
// metadata address), CGNAT, multicast, unspecified, documentation or any other address RFC
// 6890 does not mark global, nor to an IPv6 form embedding an IPv4 address (IPv4-mapped,
// -compatible, -translated, 6to4 of a blocked address, Teredo, NAT64), unless the address is
// inside an explicitly allowed network. It judges the *resolved* address at connect time (the
// transport's AddressFilter), so DNS rebinding cannot get around it.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ulak::delivery {

struct Network {
  std::array<uint8_t, 16> address{};  // IPv4 as IPv4-mapped IPv6
  int prefix_bits = 0;                // over the 128-bit form
};

// "10.0.0.0/8", "::1/128", "127.0.0.1" (a single host).
Result<Network> ParseNetwork(std::string_view cidr);

class SsrfGuard {
 public:
  explicit SsrfGuard(std::vector<Network> allowed) : allowed_(std::move(allowed)) {}
  // Empty when the address may be connected to; otherwise the reason,
  // "blocked: <address> is a private address (<kind>)".
  std::string Check(const struct sockaddr* addr, socklen_t len) const;

 private:
  std::vector<Network> allowed_;
};

}  // namespace ulak::delivery
