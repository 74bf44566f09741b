#include "common/fd_limit.h"

#include <sys/resource.h>

#include <algorithm>

namespace ulak {

uint64_t OpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1024;
  return std::min<uint64_t>(limit.rlim_cur, uint64_t{1} << 20);
}

uint64_t DefaultMaxConnections(uint64_t open_file_limit) {
  if (open_file_limit <= kReservedDescriptors) return kMinConnections;
  const uint64_t rest = open_file_limit - kReservedDescriptors;
  return std::max(kMinConnections, rest - rest / 4);
}

}  // namespace ulak
