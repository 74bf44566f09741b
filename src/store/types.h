// The records the store keeps. Plain values: no behaviour, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace ulak::store {

struct Organization {
  std::string id;
  std::string name;
  TimePoint created_at;
};

// An API key as stored: only the SHA-256 of the key, never the key itself.
struct ApiKey {
  std::string id;
  std::string organization_id;
  std::string key_hash;  // lowercase hex SHA-256 of the full key string
  std::string prefix;    // the first characters of the key, to tell keys apart in lists
  TimePoint created_at;
};

// Cursor pagination: items sorted by id (UUIDv7, so by creation time); `after` is the last
// id of the previous page.
struct PageRequest {
  int limit = 50;
  std::string after;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;  // empty when this is the last page
};

}  // namespace ulak::store
