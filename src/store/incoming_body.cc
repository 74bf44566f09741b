#include "store/incoming_body.h"

#include <cstdint>

namespace ulak::store {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint64_t kEnd = 3;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

bool GetVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

void PutInsertion(std::string& out, std::string_view ws) {
  const size_t spaces = ws.find_first_not_of(' ', ws.front() == '\n' ? 1 : 0);
  if (spaces == std::string_view::npos) {  // "\n" + k spaces, or k spaces
    if (ws.front() == '\n') {
      PutVarint(out, (static_cast<uint64_t>(ws.size() - 1) << 2) | 1);
    } else {
      PutVarint(out, (static_cast<uint64_t>(ws.size()) << 2) | 2);
    }
    return;
  }
  PutVarint(out, static_cast<uint64_t>(ws.size()) << 2);
  out += ws;
}

}  // namespace

std::optional<std::string> EncodeBodyDelta(std::string_view body, std::string_view payload) {
  // The payload is {"event":…,"timestamp":…,"organization_id":…,"data":DATA,…}: `,"data":`
  // cannot occur inside a JSON string (its quote would be escaped), so the first one is it.
  static constexpr std::string_view kData = R"(,"data":)";
  const size_t found = payload.find(kData);
  if (found == std::string_view::npos || body.empty()) return std::nullopt;
  const size_t offset = found + kData.size();
  std::string out;
  out += static_cast<char>(kVersion);
  PutVarint(out, offset);
  size_t i = 0, j = offset, copy = 0;
  while (i < body.size()) {
    if (j < payload.size() && body[i] == payload[j]) {
      ++i, ++j, ++copy;
      continue;
    }
    if (!IsSpace(body[i])) return std::nullopt;
    size_t end = i;
    while (end < body.size() && IsSpace(body[end])) ++end;
    PutVarint(out, copy);
    PutInsertion(out, body.substr(i, end - i));
    copy = 0;
    i = end;
  }
  PutVarint(out, copy);
  PutVarint(out, kEnd);
  // Smaller than the body, or not worth it; and checked by rebuilding it.
  if (out.size() >= body.size()) return std::nullopt;
  Result<std::string> rebuilt = ApplyBodyDelta(out, payload);
  if (!rebuilt.ok() || *rebuilt != body) return std::nullopt;
  return out;
}

Result<std::string> ApplyBodyDelta(std::string_view delta, std::string_view payload) {
  auto damaged = [] { return Internal("An incoming request's stored body does not match its event."); };
  if (delta.empty() || static_cast<uint8_t>(delta.front()) != kVersion) return damaged();
  delta.remove_prefix(1);
  uint64_t at = 0;
  if (!GetVarint(delta, at) || at > payload.size()) return damaged();
  std::string out;
  for (;;) {
    uint64_t copy = 0, tag = 0;
    if (!GetVarint(delta, copy) || copy > payload.size() - at || !GetVarint(delta, tag)) return damaged();
    out.append(payload.substr(at, copy));
    at += copy;
    if (tag == kEnd) break;
    const uint64_t n = tag >> 2;
    switch (tag & 3) {
      case 1:
        out += '\n';
        out.append(n, ' ');
        break;
      case 2:
        out.append(n, ' ');
        break;
      case 3:
        return damaged();
      default:
        if (n > delta.size()) return damaged();
        out.append(delta.substr(0, n));
        delta.remove_prefix(n);
        break;
    }
  }
  if (!delta.empty()) return damaged();
  return out;
}

}  // namespace ulak::store
