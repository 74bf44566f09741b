// How many HTTP connections a server may hold open: what the descriptor limit (ulimit -n)
// leaves once the store and the deliveries have their share (issue 15, defect 8). Without a
// bound, enough held connections take every descriptor and the process can no longer open
// its database, connect to a receiver or accept /healthz.
#pragma once

#include <cstdint>

namespace ulak {

// The soft RLIMIT_NOFILE of this process (1024 when it cannot be read; capped at 1 << 20).
uint64_t OpenFileLimit();

// Leaves kReservedDescriptors for the store (pooled SQLite connections with their WAL and
// shared-memory files, or PostgreSQL sockets), logs, the listener and the curl multi handle,
// and a quarter of the rest for outgoing deliveries; at least kMinConnections.
uint64_t DefaultMaxConnections(uint64_t open_file_limit);

inline constexpr uint64_t kReservedDescriptors = 64;
inline constexpr uint64_t kMinConnections = 16;

}  // namespace ulak
